//! The content-addressed object cache, in DVC 3.x's layout:
//! `<cache>/files/md5/<h[0:2]>/<h[2:]>` (and `.dir` objects beside them).

use std::collections::HashMap;
use std::fs::Permissions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;

use crate::copy::{copy_into_new, copy_over_itself, fix_mode};
use crate::error::{Error, IoContext, Result};
use crate::hash::{hash_bytes, hash_file, is_valid_md5_name, HashAlgorithm, DEFAULT_BUFFER_SIZE};
use crate::link::EMPTY_MD5;
use crate::newfile;
use crate::progress::Progress;
use crate::staged::StagedDir;
use crate::tree::{self, TreeEntry};

/// DVC-compat: cache objects are read-only for everyone.
pub const OBJECT_MODE: u32 = 0o444;

/// Whether permission bits are a cache object's: [`OBJECT_MODE`], with or
/// without the owner's execute bit, which a hardlink or symlink checkout of
/// an executable file gives the object (DVC-compat: 0544). A file with such a
/// mode is protected as an object must be and needs no `chmod` to become one.
pub fn is_object_mode(mode: u32) -> bool {
    mode & 0o7777 & !0o100 == OBJECT_MODE
}

/// DVC-compat: with `cache.shared = group`, directories are group-writable and setgid.
const SHARED_DIR_MODE: u32 = 0o2775;
/// Suffix of in-flight objects; they never carry an object's final name.
pub const TEMP_SUFFIX: &str = ".mlvc-tmp";

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Returns a unique temporary file name for the final name `name`.
pub fn temp_name(name: &str) -> String {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    static PID: OnceLock<u32> = OnceLock::new();
    let pid = *PID.get_or_init(std::process::id);
    let host = crate::walk::host_tag();
    format!(".{name}.{pid}-{host:08x}.{n}{TEMP_SUFFIX}")
}

/// Creates `path` (which must not exist) read-only with `data` in it; `sync`
/// flushes the data to disk before returning.
fn write_new_read_only(path: &Path, data: &[u8], sync: bool) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(OBJECT_MODE)
        .open(path)
        .at(path)?;
    fix_mode(&f, OBJECT_MODE).at(path)?;
    f.write_all(data).at(path)?;
    if sync {
        f.sync_data().at(path)?;
    }
    Ok(())
}

/// Returns a unique temporary name next to `final_path`.
pub fn temp_path_for(final_path: &Path) -> PathBuf {
    let name = final_path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    final_path.with_file_name(temp_name(&name))
}

/// How a file enters the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertMode {
    /// Copy (or reflink) the file; the source stays as it is.
    Copy,
    /// Rename the file into the cache (same filesystem); the source disappears.
    Move,
    /// Hard-link the file into the cache, so the workspace file becomes the
    /// (read-only) object; falls back to a copy across filesystems. Unlike
    /// `Move`, the workspace file never disappears, even if the process dies.
    Link,
}

/// How an inserted file's object got into the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// The object was there already; the file was left as it was.
    Present,
    /// The object was written from the file (copied, cloned or renamed).
    Stored,
    /// The file itself became the object (hard link): they share an inode.
    Linked,
}

/// What inserting a tree did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TreeInsert {
    /// Objects that were not in the cache before.
    pub new: u64,
    /// Files that became their object by a hard link (see [`Inserted::Linked`]).
    pub linked: u64,
}

/// What to do with the workspace file after inserting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    /// Leave it exactly as it is.
    Leave,
    /// Make it what `dvc add` leaves: symlinks become copies, a file tracked on its
    /// own gets mode 0644/0744.
    Normalize,
}

/// Result of verifying one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Content matches the name.
    Ok,
    /// No such object.
    Missing,
    /// Content hashes to something else.
    Corrupt {
        /// The hash of the content.
        actual: String,
    },
}

/// A DVC-layout object cache rooted at a directory such as `.dvc/cache`.
#[derive(Debug, Clone)]
pub struct ObjectCache {
    root: PathBuf,
    shared_group: bool,
    /// Set for a batch of inserts that fills new object directories privately.
    staging: Option<Arc<StagedPrefixes>>,
}

/// The object directories a batch of inserts found missing, each filled in a
/// private directory ([`crate::staged`]) until the batch publishes them.
#[derive(Debug, Default)]
struct StagedPrefixes {
    slots: Mutex<PrefixSlots>,
}

#[derive(Debug, Default)]
struct PrefixSlots {
    /// Published: later inserts go to the object directories themselves.
    closed: bool,
    /// Stale private directories of dead writers were removed.
    swept: bool,
    /// Per two-hex-digit prefix: its private directory, or `None` when the
    /// object directory existed.
    dirs: HashMap<String, Option<StagedDir>>,
}

/// Where an object is written.
struct InsertDest {
    path: PathBuf,
    /// In a private directory: no atomic creation needed, nothing to check first.
    private: bool,
}

impl ObjectCache {
    /// Opens the cache at `root` (created lazily on the first insert).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ObjectCache {
            root: root.into(),
            shared_group: false,
            staging: None,
        }
    }

    /// The same cache for a batch of inserts: objects whose directory does not
    /// exist yet are written straight under their names in a private directory,
    /// which [`ObjectCache::publish_staged`] renames into place. Until then
    /// they are not in the cache; files written before a failure are
    /// published like the rest.
    pub fn staging(&self) -> ObjectCache {
        ObjectCache {
            staging: Some(Arc::default()),
            ..self.clone()
        }
    }

    /// Gives the batch's new object directories their names; later inserts
    /// go straight to the object directories.
    pub fn publish_staged(&self) -> Result<()> {
        let Some(staging) = &self.staging else {
            return Ok(());
        };
        let dirs = {
            let mut slots = staging.slots.lock().expect("no panics while held");
            slots.closed = true;
            std::mem::take(&mut slots.dirs)
        };
        let mut first_error = None;
        for staged in dirs.into_values().flatten() {
            let dest = staged.dest().to_path_buf();
            if let Err(e) = staged.publish() {
                first_error.get_or_insert(Error::io(dest, e));
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Where the object `hash` is written by this cache (see [`ObjectCache::staging`]).
    fn insert_dest(&self, hash: &str) -> Result<InsertDest> {
        let path = self.object_path(hash)?;
        let public = |path| InsertDest {
            path,
            private: false,
        };
        let Some(staging) = &self.staging else {
            return Ok(public(path));
        };
        let mut slots = staging.slots.lock().expect("no panics while held");
        if slots.closed {
            return Ok(public(path));
        }
        let prefix = &hash[..2];
        if !slots.dirs.contains_key(prefix) {
            let dir = path.parent().expect("object paths have a parent");
            let sweep = !std::mem::replace(&mut slots.swept, true);
            let staged = self.stage_object_dir(dir, sweep)?;
            slots.dirs.insert(prefix.to_string(), staged);
        }
        Ok(match &slots.dirs[prefix] {
            Some(staged) => InsertDest {
                path: staged.path().join(&hash[2..]),
                private: true,
            },
            None => public(path),
        })
    }

    /// Makes new directories group-writable (`cache.shared = group`).
    pub fn with_shared_group(mut self, shared: bool) -> Self {
        self.shared_group = shared;
        self
    }

    /// Returns the cache root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Returns the path of an object (DVC 3.x layout), validating the hash.
    pub fn object_path(&self, hash: &str) -> Result<PathBuf> {
        if !is_valid_md5_name(hash) {
            return Err(Error::InvalidHash(hash.to_string()));
        }
        Ok(self
            .root
            .join("files")
            .join("md5")
            .join(&hash[..2])
            .join(&hash[2..]))
    }

    /// Returns the path of an object in the DVC 2.x layout (`<cache>/xx/yyyy`).
    pub fn legacy_object_path(&self, hash: &str) -> Result<PathBuf> {
        if !is_valid_md5_name(hash) {
            return Err(Error::InvalidHash(hash.to_string()));
        }
        Ok(self.root.join(&hash[..2]).join(&hash[2..]))
    }

    /// Tells whether the object is present.
    pub fn contains(&self, hash: &str) -> Result<bool> {
        Ok(self.object_path(hash)?.is_file())
    }

    /// Starts filling the object directory `dir` (`files/md5/xx`) privately
    /// ([`crate::staged`]), with this cache's directory mode; `None` when it
    /// exists. With `sweep`, first removes what dead writers left beside it.
    pub(crate) fn stage_object_dir(&self, dir: &Path, sweep: bool) -> Result<Option<StagedDir>> {
        let objects = dir.parent().expect("object directories have a parent");
        self.ensure_dir(objects)?;
        if sweep {
            crate::staged::sweep_stale(objects);
        }
        let staged = StagedDir::begin(dir, crate::staged::DIR_MODE).at(dir)?;
        if let Some(s) = staged.as_ref().filter(|_| self.shared_group) {
            std::fs::set_permissions(s.path(), Permissions::from_mode(SHARED_DIR_MODE))
                .at(s.path())?;
        }
        Ok(staged)
    }

    pub(crate) fn ensure_dir(&self, dir: &Path) -> Result<()> {
        if dir.is_dir() {
            return Ok(());
        }
        // DVC-compat: with a shared cache, every directory made here (the cache's
        // root too, when it is new) gets the shared mode; existing ones are left.
        let mut created = Vec::new();
        if self.shared_group {
            let mut d = dir.to_path_buf();
            while d.starts_with(&self.root) && !d.is_dir() {
                created.push(d.clone());
                if !d.pop() {
                    break;
                }
            }
        }
        std::fs::create_dir_all(dir).at(dir)?;
        for d in created {
            std::fs::set_permissions(&d, Permissions::from_mode(SHARED_DIR_MODE)).at(&d)?;
        }
        Ok(())
    }

    /// Puts `src` (whose content hashes to `hash`) into the cache.
    ///
    /// The object appears under its final name only once complete and read-only.
    /// Returns `false` when the object was already present (in `Move` mode the
    /// source is then left in place).
    pub fn insert_file(&self, src: &Path, hash: &str, mode: InsertMode) -> Result<bool> {
        Ok(self.insert_file_as(src, hash, mode)? != Inserted::Present)
    }

    /// [`ObjectCache::insert_file`], saying how the object got there.
    pub fn insert_file_as(&self, src: &Path, hash: &str, mode: InsertMode) -> Result<Inserted> {
        self.insert_known(src, None, hash, mode)
    }

    /// [`ObjectCache::insert_file_as`] for a file whose permission bits are known.
    fn insert_known(
        &self,
        src: &Path,
        src_mode: Option<u32>,
        hash: &str,
        mode: InsertMode,
    ) -> Result<Inserted> {
        let InsertDest {
            path: dest,
            private,
        } = self.insert_dest(hash)?;
        let mut mode = mode;
        // DVC-compat: the empty object is never a link of a workspace file (see
        // `crate::link`: empty files are not hard-linked).
        if mode == InsertMode::Link && hash == EMPTY_MD5 {
            mode = InsertMode::Copy;
        }
        if mode == InsertMode::Link {
            if let Some(done) = self.link_in_place(src, src_mode, &dest)? {
                return Ok(done);
            }
            // Hard links cannot join the two filesystems: store a copy.
            mode = InsertMode::Copy;
        }
        if private {
            return self.insert_private(src, &dest, mode);
        }
        if dest.is_file() {
            return Ok(Inserted::Present);
        }
        let parent = dest.parent().expect("object paths have a parent");
        // The object's directory usually exists: make it only when a first try
        // says so, instead of a `stat` per object. (Another thread may have made
        // it since: retry whenever the first try found something missing.)
        if mode != InsertMode::Move {
            // Link went to `link_in_place` above, or fell back to a copy.
            let copy = || copy_into_new(src, &dest, OBJECT_MODE);
            let mut copied = copy();
            if copied.as_ref().is_err_and(Error::is_not_found) {
                self.ensure_dir(parent)?;
                copied = copy();
            }
            return Ok(if copied? {
                Inserted::Stored
            } else {
                Inserted::Present
            });
        }
        let tmp = temp_path_for(&dest);
        let stage = || std::fs::rename(src, &tmp).at(src);
        let mut staged = stage();
        if staged.as_ref().is_err_and(Error::is_not_found) {
            self.ensure_dir(parent)?;
            staged = stage();
        }
        match staged {
            // A moved file still needs its mode set.
            Ok(()) => self.finish_object(&tmp, &dest, true)?,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        }
        Ok(Inserted::Stored)
    }

    /// Copies or moves `src` to `dest` in a private directory (see
    /// [`ObjectCache::staging`]).
    fn insert_private(&self, src: &Path, dest: &Path, mode: InsertMode) -> Result<Inserted> {
        let stored = if mode == InsertMode::Move {
            // Not published before its mode is set.
            match newfile::rename_noreplace(src, dest) {
                Ok(()) => {
                    std::fs::set_permissions(dest, Permissions::from_mode(OBJECT_MODE)).at(dest)?;
                    true
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
                Err(e) => return Err(Error::io(src, e)),
            }
        } else {
            crate::copy::copy_into_private(src, dest, OBJECT_MODE)?
        };
        Ok(if stored {
            Inserted::Stored
        } else {
            Inserted::Present
        })
    }

    /// Makes `src` itself the object: read-only first, then hard-linked under
    /// the object's name, which appears complete and read-only at once (no temp
    /// file, no rename). `None` when hard links cannot join the two (another
    /// filesystem): the caller copies instead.
    fn link_in_place(
        &self,
        src: &Path,
        src_mode: Option<u32>,
        dest: &Path,
    ) -> Result<Option<Inserted>> {
        // A file linked before is read-only already: leave its ctime alone, or
        // the state cache would take it for changed.
        if !src_mode.is_some_and(is_object_mode) {
            std::fs::set_permissions(src, Permissions::from_mode(OBJECT_MODE)).at(src)?;
        }
        let mut linked = std::fs::hard_link(src, dest);
        if linked
            .as_ref()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
        {
            // The object's directory is made on first need (see `insert_file_as`).
            self.ensure_dir(dest.parent().expect("object paths have a parent"))?;
            linked = std::fs::hard_link(src, dest);
        }
        match linked {
            Ok(()) => Ok(Some(Inserted::Linked)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(Some(Inserted::Present)),
            Err(e)
                if e.raw_os_error() == Some(libc::EXDEV)
                    || e.raw_os_error() == Some(libc::EPERM) =>
            {
                Ok(None)
            }
            Err(e) => Err(Error::io(src, e)),
        }
    }

    /// Stores bytes (e.g. a `.dir` manifest) under `hash`.
    pub fn insert_bytes(&self, hash: &str, data: &[u8]) -> Result<bool> {
        let dest = self.object_path(hash)?;
        if dest.is_file() {
            return Ok(false);
        }
        let parent = dest.parent().expect("object paths have a parent");
        self.ensure_dir(parent)?;
        let tmp = temp_path_for(&dest);
        let written = write_new_read_only(&tmp, data, true);
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        self.finish_object(&tmp, &dest, false)?;
        Ok(true)
    }

    /// Stores `data` (content hashing to `hash`) as a new object, unless one is
    /// there: created read-only and given its name only once complete, never
    /// replacing, so no existence check is needed first. Returns whether the
    /// object is new.
    pub fn store_new_bytes(&self, hash: &str, data: &[u8]) -> Result<bool> {
        let InsertDest {
            path: dest,
            private,
        } = self.insert_dest(hash)?;
        if private {
            return crate::staged::create_private(&dest, OBJECT_MODE, |mut f| f.write_all(data))
                .at(&dest);
        }
        let write = || newfile::create_new(&dest, OBJECT_MODE, |mut f| f.write_all(data));
        let mut written = write();
        if written
            .as_ref()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
        {
            self.ensure_dir(dest.parent().expect("object paths have a parent"))?;
            written = write();
        }
        written.at(&dest)
    }

    /// Gives a complete temp file its final name (read-only first, if `chmod`).
    fn finish_object(&self, tmp: &Path, dest: &Path, chmod: bool) -> Result<()> {
        let done = if chmod {
            std::fs::set_permissions(tmp, Permissions::from_mode(OBJECT_MODE)).at(tmp)
        } else {
            Ok(())
        }
        .and_then(|_| std::fs::rename(tmp, dest).at(dest));
        if done.is_err() {
            let _ = std::fs::remove_file(tmp);
        }
        done
    }

    /// Reads and parses a `.dir` object.
    pub fn read_manifest(&self, hash: &str) -> Result<Vec<TreeEntry>> {
        if !hash.ends_with(".dir") {
            return Err(Error::InvalidHash(hash.to_string()));
        }
        let path = self.object_path(hash)?;
        let bytes = std::fs::read(&path).at(&path)?;
        tree::parse(&bytes, &path)
    }

    /// Rehashes one object and compares it with its name.
    pub fn verify(&self, hash: &str, progress: Option<&Progress>) -> Result<Verdict> {
        let path = self.object_path(hash)?;
        if !path.is_file() {
            return Ok(Verdict::Missing);
        }
        let hex = hash.strip_suffix(".dir").unwrap_or(hash);
        let actual = if hash.ends_with(".dir") {
            let bytes = std::fs::read(&path).at(&path)?;
            hash_bytes(&bytes, HashAlgorithm::Md5)
        } else {
            hash_file(&path, HashAlgorithm::Md5, DEFAULT_BUFFER_SIZE, progress)?.hash
        };
        Ok(if actual == hex {
            Verdict::Ok
        } else {
            Verdict::Corrupt { actual }
        })
    }

    /// Verifies many objects in parallel; returns the corrupt ones with their actual hash.
    pub fn verify_many(
        &self,
        hashes: &[String],
        jobs: usize,
        progress: &Progress,
    ) -> Result<Vec<(String, String)>> {
        let verdicts: Vec<(String, Verdict)> = crate::digest::pool(jobs)?.install(|| {
            hashes
                .par_iter()
                .map(|h| {
                    progress.check()?;
                    let v = self.verify(h, Some(progress))?;
                    progress.add_file(0);
                    Ok((h.clone(), v))
                })
                .collect::<Result<Vec<_>>>()
        })?;
        Ok(verdicts
            .into_iter()
            .filter_map(|(h, v)| match v {
                Verdict::Corrupt { actual } => Some((h, actual)),
                _ => None,
            })
            .collect())
    }

    /// Lists every object id in the DVC 3.x part of the cache (temp files excluded).
    pub fn list(&self) -> Result<Vec<String>> {
        let base = self.root.join("files").join("md5");
        let mut out = Vec::new();
        let Ok(dirs) = std::fs::read_dir(&base) else {
            return Ok(out);
        };
        for d in dirs {
            let d = d.at(&base)?;
            let prefix = d.file_name().to_string_lossy().into_owned();
            if prefix.len() != 2 || !d.path().is_dir() {
                continue;
            }
            for f in std::fs::read_dir(d.path()).at(d.path())? {
                let f = f.at(d.path())?;
                let name = format!("{prefix}{}", f.file_name().to_string_lossy());
                if is_valid_md5_name(&name) {
                    out.push(name);
                }
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    /// Deletes an object; returns whether it existed.
    pub fn remove(&self, hash: &str) -> Result<bool> {
        let path = self.object_path(hash)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Inserts every file of a hashed tree and its manifest, in parallel.
    ///
    /// The manifest goes in last, so a present `.dir` object implies its files are present.
    /// `progress` is polled for interrupts only.
    pub fn insert_tree(
        &self,
        tree: &crate::digest::TreeResult,
        mode: InsertMode,
        settle: Settle,
        jobs: usize,
        progress: &Progress,
    ) -> Result<TreeInsert> {
        let outcomes: Result<Vec<Inserted>> = crate::digest::pool(jobs)?.install(|| {
            tree.files
                .par_iter()
                .map(|f| {
                    progress.check()?;
                    // Not counted: hashing the tree counted each file and its bytes once.
                    self.insert_tracked(f, mode, settle, false)
                })
                .collect()
        });
        // Objects stored before a failure are kept, so a rerun need not store them.
        let published = self.publish_staged();
        let outcomes = outcomes?;
        published?;
        self.insert_bytes(&tree.hash, tree.manifest())?;
        let count = |what: Inserted| outcomes.iter().filter(|&&o| o == what).count() as u64;
        let linked = count(Inserted::Linked);
        Ok(TreeInsert {
            new: linked + count(Inserted::Stored),
            linked,
        })
    }

    /// Inserts one hashed workspace file as `add` does.
    ///
    /// DVC-compat: a symlink is never moved into the cache (that would store the
    /// link); its target's content is copied in and, with [`Settle::Normalize`],
    /// the link is replaced by a regular copy. With `Normalize`, a file tracked on
    /// its own (`alone`) left in place gets DVC's checkout mode (0644, or 0744 when
    /// executable); the files of a directory keep theirs.
    pub fn insert_tracked(
        &self,
        f: &crate::digest::FileResult,
        mode: InsertMode,
        settle: Settle,
        alone: bool,
    ) -> Result<Inserted> {
        let effective = if f.is_symlink { InsertMode::Copy } else { mode };
        let new = match f.stored {
            // Stored while it was hashed.
            Some(true) => Inserted::Stored,
            Some(false) => Inserted::Present,
            None => self.insert_known(&f.path, Some(f.meta.mode), &f.hash, effective)?,
        };
        if settle == Settle::Normalize {
            // DVC-compat: a directory's files are never made executable on checkout.
            let exec = alone && f.meta.is_exec();
            if f.is_symlink {
                if mode != InsertMode::Copy {
                    // The caller links everything back from the cache.
                    std::fs::remove_file(&f.path).at(&f.path)?;
                } else {
                    // Copied from the link's target, not from the object: in a batch
                    // another thread may still be writing that object (same content,
                    // another file), where no reader is expected before it is published.
                    copy_over_itself(&f.path, crate::link::workspace_mode(exec))?;
                }
            } else if mode == InsertMode::Copy && alone {
                // DVC-compat: `dvc add DIR` leaves its files' modes as they are.
                let want = crate::link::workspace_mode(exec);
                if f.meta.mode & 0o7777 != want {
                    std::fs::set_permissions(&f.path, Permissions::from_mode(want)).at(&f.path)?;
                }
            }
        }
        Ok(new)
    }
}
