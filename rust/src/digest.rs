//! Hashing many files and whole trees in parallel, consulting the state cache.

use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;

use crate::error::{Error, IoContext, Result};
use crate::hash::{
    hash_regular_file, special_kind, with_small_file, HashAlgorithm, DEFAULT_BUFFER_SIZE,
    SMALL_FILE_LIMIT,
};
use crate::progress::Progress;
use crate::state::{is_racily_clean, now_ns, trusted_from, StateDb, StateSnapshot, TreeRow};
use crate::tree;
use crate::walk::{absolute, walk_map, FileMeta, WalkEntry, WalkOptions, IGNORE_FILENAME};

/// How to hash.
#[derive(Debug, Clone)]
pub struct DigestOptions {
    /// The hash function.
    pub algorithm: HashAlgorithm,
    /// Worker threads; 0 picks the number of cores.
    pub jobs: usize,
    /// Read-buffer size in bytes.
    pub buffer_size: usize,
    /// `.dvcignore` files from this directory down apply (normally the repo root).
    pub ignore_root: Option<PathBuf>,
}

impl Default for DigestOptions {
    fn default() -> Self {
        DigestOptions {
            algorithm: HashAlgorithm::Md5,
            jobs: 0,
            buffer_size: DEFAULT_BUFFER_SIZE,
            ignore_root: None,
        }
    }
}

/// A hashed file.
#[derive(Debug, Clone)]
pub struct FileResult {
    /// The path as given (for trees: the full path of the file).
    pub path: PathBuf,
    /// Path relative to the tree root (empty for single files).
    pub relpath: Vec<u8>,
    /// Hex digest.
    pub hash: String,
    /// Status at hashing time.
    pub meta: FileMeta,
    /// Whether the hash came from the state cache.
    pub from_state: bool,
    /// For a hash from the state cache of a tree: when it was recorded.
    pub recorded_ns: Option<i64>,
    /// Whether the path is a symlink whose target was hashed.
    pub is_symlink: bool,
    /// Hard links to the file at hashing time (to the target, for a symlink).
    pub nlink: u64,
    /// Set when the content went into the cache while it was hashed (see
    /// [`hash_tree_storing`]): whether that made a new object.
    pub stored: Option<bool>,
}

impl FileResult {
    /// Whether it is a regular file that had other hard links when it was hashed
    /// (to its cache object, or to any other file).
    pub fn is_hardlinked(&self) -> bool {
        !self.is_symlink && self.nlink > 1
    }
}

/// A hashed directory.
#[derive(Debug, Clone)]
pub struct TreeResult {
    /// The directory's object id (`<hash>.dir`).
    pub hash: String,
    /// Total bytes of all files.
    pub size: u64,
    /// Files, in manifest order.
    pub files: Vec<FileResult>,
    /// When hashing began (nanoseconds since the epoch): the recording time of
    /// every file hashed rather than remembered.
    pub hashed_at: i64,
    /// The manifest key (`md5`, `blake3`).
    key: &'static str,
    /// Built on first use: an unchanged tree's id comes from the state cache.
    manifest: OnceLock<Vec<u8>>,
}

impl TreeResult {
    /// The manifest bytes (the `.dir` object) the id is the hash of.
    pub fn manifest(&self) -> &[u8] {
        self.manifest
            .get_or_init(|| manifest_of(&self.files, self.key))
    }
}

/// Serialises sorted files into manifest bytes.
fn manifest_of(files: &[FileResult], key: &str) -> Vec<u8> {
    tree::serialize_pairs(
        files
            .iter()
            .map(|f| (f.relpath.as_slice(), f.hash.as_str())),
        key,
    )
}

/// The worker pool with `jobs` threads (0 = cores), started once per process.
///
/// Starting threads on every call costs little on an idle machine but a
/// scheduling round-trip each on a busy one, and a pipeline hashes a few
/// files per stage, many times over.
pub fn pool(jobs: usize) -> Result<Arc<rayon::ThreadPool>> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let mut pools = POOLS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(p) = pools.get(&jobs) {
        return Ok(Arc::clone(p));
    }
    let p = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .thread_name(|i| format!("mlvc-worker-{i}"))
        .build()
        .map_err(|e| Error::InvalidArgument(format!("cannot start worker threads: {e}")))?;
    let p = Arc::new(p);
    pools.insert(jobs, Arc::clone(&p));
    Ok(p)
}

/// Turns a walked entry into a result: the remembered hash when `known`, else
/// the hash of its content.
fn digest_entry(
    e: WalkEntry,
    known: Option<(String, Option<i64>)>,
    opts: &DigestOptions,
    progress: &Progress,
) -> Result<FileResult> {
    let from_state = known.is_some();
    let (hash, recorded_ns) = match known {
        Some(k) => {
            progress.add_bytes(e.meta.size);
            k
        }
        None => {
            let hashed = hash_regular_file(
                &e.path,
                opts.algorithm,
                opts.buffer_size,
                Some(progress),
                Some(e.meta.size),
            )?;
            (hashed.hash, None)
        }
    };
    progress.add_file(0);
    Ok(FileResult {
        path: e.path,
        relpath: e.relpath,
        hash,
        meta: e.meta,
        from_state,
        recorded_ns,
        is_symlink: e.is_symlink,
        nlink: e.nlink,
        stored: None,
    })
}

/// Hashing at most this many files, of at most this many bytes in all, stays
/// on the calling thread.
const FEW_FILES: usize = 8;
const FEW_FILES_BYTES: u64 = 8 << 20;

/// The state-cache rows of the results that were hashed rather than remembered.
fn fresh_rows(results: &[FileResult]) -> Vec<(&Path, FileMeta, &str)> {
    results
        .iter()
        .filter(|r| !r.from_state)
        .map(|r| (r.path.as_path(), r.meta, r.hash.as_str()))
        .collect()
}

/// Hashes walked entries, taking what it can from `state` and recording the rest.
pub fn hash_entries(
    entries: Vec<WalkEntry>,
    opts: &DigestOptions,
    state: Option<&StateDb>,
    progress: &Progress,
) -> Result<Vec<FileResult>> {
    let algo = opts.algorithm.name();
    let known: Vec<Option<String>> = match state {
        Some(db) => {
            let keys: Vec<(&Path, FileMeta)> =
                entries.iter().map(|e| (e.path.as_path(), e.meta)).collect();
            db.lookup_many(algo, &keys)?
        }
        None => vec![None; entries.len()],
    };
    let started = now_ns();
    let digest = |(e, known): (WalkEntry, Option<String>)| {
        progress.check()?;
        digest_entry(e, known.map(|h| (h, None)), opts, progress)
    };
    let few_small = entries.len() <= FEW_FILES
        && entries.iter().map(|e| e.meta.size).sum::<u64>() <= FEW_FILES_BYTES;
    let results: Vec<FileResult> = if few_small {
        // A stage's few files: no hand-off to the workers and back, which costs
        // more than hashing them on a busy machine.
        entries
            .into_iter()
            .zip(known)
            .map(digest)
            .collect::<Result<_>>()?
    } else {
        pool(opts.jobs)?.install(|| {
            entries
                .into_par_iter()
                .zip(known.into_par_iter())
                .map(digest)
                .collect::<Result<Vec<_>>>()
        })?
    };
    if let Some(db) = state {
        db.record_many(algo, &fresh_rows(&results), started)?;
    }
    Ok(results)
}

/// The key of a tree's snapshot in the state database: its absolute path, with `/`.
pub(crate) fn snapshot_prefix(abs_root: &Path) -> Vec<u8> {
    let mut prefix = abs_root.as_os_str().as_bytes().to_vec();
    if prefix.last() != Some(&b'/') {
        prefix.push(b'/');
    }
    prefix
}

/// Records a tree's files as one snapshot; files without a recording time of
/// their own were hashed at `started`.
fn record_snapshot(
    db: &StateDb,
    algo: &str,
    prefix: &[u8],
    files: &[FileResult],
    hash: &str,
    started: i64,
) -> Result<()> {
    let whole: Vec<TreeRow<'_>> = files
        .iter()
        .map(|r| {
            let rec = r.recorded_ns.unwrap_or(started);
            (r.relpath.as_slice(), r.meta, r.hash.as_str(), rec)
        })
        .collect();
    db.record_tree(algo, prefix, &whole, hash)
}

/// Records a tree hashed with `record` off once its files were hard-linked into
/// the cache: linking changed their status (mode and link count move the
/// ctime), so each is looked at again, and the first `status` after `add`
/// finds them remembered.
///
/// A file whose inode, size and mtime are still those it was hashed with was
/// not written since (a write moves the mtime past the hashing time), so only
/// the ctime moved, by our own `chmod` and `link`: it is recorded as proven.
/// Anything else keeps its old status and is rehashed by the next look.
pub fn record_relinked(
    root: &Path,
    tree: &mut TreeResult,
    opts: &DigestOptions,
    state: &StateDb,
) -> Result<()> {
    let hashed_at = tree.hashed_at;
    pool(opts.jobs)?.install(|| {
        tree.files.par_iter_mut().for_each(|f| {
            let before = f.meta;
            let recorded = f.recorded_ns.unwrap_or(hashed_at);
            // A file gone meanwhile (a symlink replaced later by its checkout)
            // keeps its old status, which the next look will not trust.
            let Ok(m) = std::fs::metadata(&f.path) else {
                return;
            };
            let after = FileMeta::from_metadata(&m);
            let only_ctime_moved = after.ino == before.ino
                && after.size == before.size
                && after.mtime_ns == before.mtime_ns;
            if only_ctime_moved && !is_racily_clean(&before, recorded) {
                f.meta = after;
                f.recorded_ns = Some(trusted_from(&after));
            }
        })
    });
    let prefix = snapshot_prefix(&absolute(root)?);
    record_snapshot(
        state,
        opts.algorithm.name(),
        &prefix,
        &tree.files,
        &tree.hash,
        hashed_at,
    )
}

/// Records a hashed tree again once its files that had other hard links were
/// replaced by private copies of their objects (`commit` with copies first), so
/// the next look does not read them.
///
/// A file now on another inode was copied from its object after the tree was
/// hashed: it is recorded with the status read now and proven now, as a
/// checkout records what it places (files written within the last timestamp
/// tick are read again by the next look). Every other file keeps its record.
pub fn record_private_copies(
    root: &Path,
    tree: &TreeResult,
    opts: &DigestOptions,
    state: &StateDb,
) -> Result<()> {
    let proven_at = now_ns();
    let files: Option<Vec<FileResult>> = pool(opts.jobs)?.install(|| {
        tree.files
            .par_iter()
            .map(|f| {
                let mut f = f.clone();
                if f.is_hardlinked() {
                    // Gone meanwhile: the next look walks the tree anyway.
                    let after = FileMeta::from_metadata(&std::fs::metadata(&f.path).ok()?);
                    if after.ino != f.meta.ino {
                        f.meta = after;
                        f.recorded_ns = Some(proven_at);
                    }
                }
                Some(f)
            })
            .collect()
    });
    let Some(files) = files else {
        return Ok(());
    };
    let prefix = snapshot_prefix(&absolute(root)?);
    let algo = opts.algorithm.name();
    record_snapshot(state, algo, &prefix, &files, &tree.hash, tree.hashed_at)
}

/// Hashes a list of files (symlinks followed) in parallel.
pub fn hash_files(
    paths: &[PathBuf],
    opts: &DigestOptions,
    state: Option<&StateDb>,
    progress: &Progress,
) -> Result<Vec<FileResult>> {
    let mut entries = Vec::with_capacity(paths.len());
    for p in paths {
        let abs = absolute(p)?;
        let meta = std::fs::metadata(&abs).at(p)?;
        let is_symlink = std::fs::symlink_metadata(&abs)
            .at(p)?
            .file_type()
            .is_symlink();
        if meta.is_dir() {
            return Err(Error::io(
                p,
                std::io::Error::from_raw_os_error(libc::EISDIR),
            ));
        }
        if let Some(kind) = special_kind(&meta.file_type()) {
            return Err(Error::SpecialFile {
                path: p.clone(),
                kind,
            });
        }
        entries.push(WalkEntry {
            relpath: Vec::new(),
            path: abs,
            meta: FileMeta::from_metadata(&meta),
            is_symlink,
            nlink: std::os::unix::fs::MetadataExt::nlink(&meta),
        });
    }
    let mut out = hash_entries(entries, opts, state, progress)?;
    for (r, p) in out.iter_mut().zip(paths) {
        r.path = p.clone();
    }
    Ok(out)
}

/// Walks and hashes a directory into a DVC directory object.
///
/// The manifest key is `md5` for md5 trees (DVC's format) and the algorithm's
/// name otherwise.
pub fn hash_tree(
    root: &Path,
    opts: &DigestOptions,
    state: Option<&StateDb>,
    progress: &Progress,
) -> Result<TreeResult> {
    hash_tree_storing(root, opts, state, progress, None, true)
}

/// Whether a relative path names a `.dvcignore` file.
fn is_ignore_file(relpath: &[u8]) -> bool {
    let name = IGNORE_FILENAME.as_bytes();
    relpath.ends_with(name)
        && (relpath.len() == name.len() || relpath[relpath.len() - name.len() - 1] == b'/')
}

/// Stores a small file's bytes under its hash; says whether that made a new object.
pub type StoreSmall<'a> = &'a (dyn Fn(&str, &[u8]) -> Result<bool> + Sync);

/// [`hash_tree`], also handing every small regular file that had to be read
/// (no state hit) to `store` with its bytes, so that a copy into the cache
/// needs no second open and read. Such files come back with `stored` set.
///
/// With `record` false, `state` is only read: a caller about to change the
/// files' status (linking them) records them afterwards ([`record_relinked`]).
pub fn hash_tree_storing(
    root: &Path,
    opts: &DigestOptions,
    state: Option<&StateDb>,
    progress: &Progress,
    store: Option<StoreSmall<'_>>,
    record: bool,
) -> Result<TreeResult> {
    let walk_opts = WalkOptions {
        ignore_root: opts.ignore_root.clone(),
        threads: opts.jobs,
        remove_stale_temps: false,
    };
    let algo = opts.algorithm.name();
    let abs_root = absolute(root)?;
    let prefix = snapshot_prefix(&abs_root);
    let snapshot = match state {
        Some(db) => db.snapshot(algo, &prefix)?,
        None => StateSnapshot::default(),
    };
    let started = now_ns();
    // Hash on the walking threads: no second pass over 50k entries.
    let mut files = walk_map(&abs_root, &walk_opts, Some(progress), |e| {
        if is_ignore_file(&e.relpath) {
            // DVC-compat: its rules would change what the tree holds depending on
            // where it is checked out, so DVC refuses to build such a tree.
            return Err(Error::IgnoreFileInTree { path: e.path });
        }
        let known = snapshot
            .get(&e.relpath, &e.meta)
            .map(|k| (k.hash.to_string(), Some(k.recorded_ns)));
        match store {
            Some(store) if known.is_none() && !e.is_symlink && e.meta.size <= SMALL_FILE_LIMIT => {
                let stored = with_small_file(
                    &e.path,
                    opts.algorithm,
                    e.meta.size,
                    Some(progress),
                    |d, bytes| Ok((d.hash.clone(), store(&d.hash, bytes)?)),
                )?;
                progress.add_file(0);
                Ok(FileResult {
                    path: e.path,
                    relpath: e.relpath,
                    hash: stored.0,
                    meta: e.meta,
                    from_state: false,
                    recorded_ns: None,
                    is_symlink: false,
                    nlink: e.nlink,
                    stored: Some(stored.1),
                })
            }
            _ => digest_entry(e, known, opts, progress),
        }
    })?;
    tree::sort_by_relpath(&mut files, |f| &f.relpath);
    let key = match opts.algorithm {
        HashAlgorithm::Md5 | HashAlgorithm::Md5Dos2Unix => "md5",
        HashAlgorithm::Blake3 => "blake3",
    };
    let manifest = OnceLock::new();
    // Same names, each still matching its record: the recorded id still holds.
    let unchanged = files.iter().all(|f| f.from_state) && files.len() == snapshot.len();
    let hash = match snapshot.dir_hash().filter(|_| unchanged) {
        Some(h) => h.to_string(),
        None => {
            let bytes = manifest.get_or_init(|| manifest_of(&files, key));
            match opts.algorithm {
                HashAlgorithm::Blake3 => format!(
                    "{}.dir",
                    crate::hash::hash_bytes(bytes, HashAlgorithm::Blake3)
                ),
                _ => tree::dir_hash(bytes),
            }
        }
    };
    if let Some(db) = state.filter(|_| record) {
        // An unchanged tree leaves the database untouched: a no-op stays read-only.
        // The tree's record holds every file: rows of their own (50,000 of them
        // took 170-250 ms to insert) would only serve lookups of single files.
        if !unchanged || snapshot.dir_hash() != Some(hash.as_str()) {
            record_snapshot(db, algo, &prefix, &files, &hash, started)?;
        }
    }
    let size = files.iter().map(|f| f.meta.size).sum();
    Ok(TreeResult {
        hash,
        size,
        files,
        hashed_at: started,
        key,
        manifest,
    })
}
