//! Parallel directory walking with `.dvcignore` applied the way DVC applies it.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use rayon::prelude::*;

use crate::error::{Error, IoContext, Result};
use crate::hash::special_kind;
use crate::progress::Progress;

/// The ignore file DVC reads; gitignore syntax, anchored at its own directory.
pub const IGNORE_FILENAME: &str = ".dvcignore";

/// DVC-compat: these names are never part of a tracked tree, at any depth.
const ALWAYS_IGNORED: [&str; 3] = [".git", ".hg", ".dvc"];

/// The parts of a file's status the state cache keys on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMeta {
    /// Inode number.
    pub ino: u64,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i64,
    /// Status-change time, nanoseconds since the epoch.
    pub ctime_ns: i64,
    /// Permission bits.
    pub mode: u32,
}

impl FileMeta {
    /// Extracts the fields from `std::fs::Metadata`.
    pub fn from_metadata(m: &std::fs::Metadata) -> Self {
        FileMeta {
            ino: m.ino(),
            size: m.size(),
            mtime_ns: m.mtime() * 1_000_000_000 + m.mtime_nsec(),
            ctime_ns: m.ctime() * 1_000_000_000 + m.ctime_nsec(),
            mode: m.mode() & 0o7777,
        }
    }

    /// Tells whether the owner may execute the file (DVC's `isexec`).
    pub fn is_exec(&self) -> bool {
        self.mode & 0o100 != 0
    }
}

/// A regular file (or a symlink to one) found by a walk.
#[derive(Debug, Clone)]
pub struct WalkEntry {
    /// Path relative to the walk root, `/`-separated, as raw bytes.
    pub relpath: Vec<u8>,
    /// Full path (the walk root joined with `relpath`).
    pub path: PathBuf,
    /// Status of the file (of the target, for a symlink).
    pub meta: FileMeta,
    /// Whether the entry is a symlink that was followed.
    pub is_symlink: bool,
}

/// How to walk.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// The repository root: `.dvcignore` files from here down to the walk root
    /// apply too. `None` applies only those inside the walked tree.
    pub ignore_root: Option<PathBuf>,
    /// Worker threads; 0 picks the number of cores.
    pub threads: usize,
    /// Delete temp files left by mlvc processes that died (they are never
    /// reported either way).
    pub remove_stale_temps: bool,
}

/// Tells whether a file name is one of mlvc's in-flight temp names
/// (`.<name>.<pid>.<n>.mlvc-tmp`); returns the writer's pid if so.
pub fn temp_name_pid(name: &[u8]) -> Option<i32> {
    let stem = name.strip_suffix(crate::cache::TEMP_SUFFIX.as_bytes())?;
    if !name.starts_with(b".") {
        return None;
    }
    let mut parts = stem.rsplitn(3, |&b| b == b'.');
    let _counter = parts.next()?;
    let pid = parts.next()?;
    std::str::from_utf8(pid).ok()?.parse().ok()
}

/// Tells whether the process `pid` is gone (so its temp files are garbage).
pub(crate) fn process_is_gone(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks for existence and permission.
    let r = unsafe { libc::kill(pid, 0) };
    r == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

/// The `.dvcignore` matchers that apply in one directory, shallowest first.
///
/// DVC-compat: gitignore semantics across files, so a deeper file's pattern
/// (including a `!` whitelist) overrides a shallower one's.
#[derive(Clone, Default)]
struct IgnoreStack {
    matchers: Vec<Arc<Gitignore>>,
}

impl IgnoreStack {
    fn load_file(dir: &Path) -> Result<Option<Gitignore>> {
        let file = dir.join(IGNORE_FILENAME);
        if !file.is_file() {
            return Ok(None);
        }
        let mut b = GitignoreBuilder::new(dir);
        if let Some(e) = b.add(&file) {
            return Err(Error::InvalidArgument(format!(
                "cannot parse `{}`: {e}",
                file.display()
            )));
        }
        let m = b.build().map_err(|e| {
            Error::InvalidArgument(format!("cannot parse `{}`: {e}", file.display()))
        })?;
        Ok(Some(m))
    }

    /// The matchers of every `.dvcignore` from `ignore_root` down to `walk_root`'s parent.
    fn for_ancestors(ignore_root: &Path, walk_root: &Path) -> Result<Self> {
        let mut stack = IgnoreStack::default();
        let Ok(below) = walk_root.strip_prefix(ignore_root) else {
            return Ok(stack);
        };
        let components: Vec<_> = below.components().collect();
        if components.is_empty() {
            return Ok(stack);
        }
        let mut dir = ignore_root.to_path_buf();
        let mut dirs = vec![dir.clone()];
        for c in &components[..components.len() - 1] {
            dir.push(c);
            dirs.push(dir.clone());
        }
        for d in dirs {
            if let Some(m) = Self::load_file(&d)? {
                stack.matchers.push(Arc::new(m));
            }
        }
        Ok(stack)
    }

    fn with(&self, m: Gitignore) -> Self {
        let mut next = self.clone();
        next.matchers.push(Arc::new(m));
        next
    }

    fn is_ignored(&self, path: &Path, is_dir: bool) -> bool {
        for m in self.matchers.iter().rev() {
            let r = m.matched(path, is_dir);
            if r.is_ignore() {
                return true;
            }
            if r.is_whitelist() {
                return false;
            }
        }
        false
    }
}

/// Returns an absolute version of `p` without resolving symlinks.
pub fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).at(p)
}

/// Classifies one directory entry: `Ok(Some)` for a file to track, `Ok(None)` to skip.
fn classify(
    entry: &std::fs::DirEntry,
    path: PathBuf,
    relpath: Vec<u8>,
) -> Result<Option<WalkEntry>> {
    let ft = entry.file_type().at(&path)?;
    let (meta, is_symlink) = if ft.is_symlink() {
        // DVC-compat: a link to a file is followed; a link to a directory is skipped;
        // a dangling link or a loop is an error.
        let m = std::fs::metadata(&path).at(&path)?;
        if m.is_dir() {
            return Ok(None);
        }
        (m, true)
    } else {
        // Relative to the open directory (fstatat): no path lookup from the root.
        (entry.metadata().at(&path)?, false)
    };
    if let Some(kind) = special_kind(&meta.file_type()) {
        return Err(Error::SpecialFile { path, kind });
    }
    Ok(Some(WalkEntry {
        relpath,
        path,
        meta: FileMeta::from_metadata(&meta),
        is_symlink,
    }))
}

/// Lists every tracked file below `root`, in no particular order.
///
/// Symlinks to directories are not followed, so link loops cannot trap the walk.
pub fn walk_files(
    root: &Path,
    opts: &WalkOptions,
    progress: Option<&Progress>,
) -> Result<Vec<WalkEntry>> {
    walk_map(root, opts, progress, Ok)
}

struct WalkContext<'a, F> {
    visit: &'a F,
    progress: Option<&'a Progress>,
    remove_stale_temps: bool,
}

/// Walks `root` in parallel and applies `visit` to every tracked file on the
/// walking threads themselves, so per-file work (hashing) overlaps the walk.
///
/// The first error stops the walk and is returned; results come in no particular order.
pub fn walk_map<T, F>(
    root: &Path,
    opts: &WalkOptions,
    progress: Option<&Progress>,
    visit: F,
) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(WalkEntry) -> Result<T> + Sync,
{
    let root = absolute(root)?;
    let root_meta = std::fs::metadata(&root).at(&root)?;
    if !root_meta.is_dir() {
        return Err(Error::io(
            &root,
            std::io::Error::from_raw_os_error(libc::ENOTDIR),
        ));
    }
    let stack = match &opts.ignore_root {
        Some(ir) => IgnoreStack::for_ancestors(&absolute(ir)?, &root)?,
        None => IgnoreStack::default(),
    };
    let ctx = WalkContext {
        visit: &visit,
        progress,
        remove_stale_temps: opts.remove_stale_temps,
    };
    crate::digest::pool(opts.threads)?.install(|| walk_dir(&ctx, &root, &[], &stack))
}

fn walk_dir<T, F>(
    ctx: &WalkContext<'_, F>,
    dir: &Path,
    rel: &[u8],
    parent: &IgnoreStack,
) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(WalkEntry) -> Result<T> + Sync,
{
    if let Some(p) = ctx.progress {
        p.check()?;
    }
    let entries: Vec<std::fs::DirEntry> = std::fs::read_dir(dir)
        .at(dir)?
        .collect::<std::io::Result<_>>()
        .at(dir)?;
    let own;
    let stack = if entries.iter().any(|e| e.file_name() == IGNORE_FILENAME) {
        match IgnoreStack::load_file(dir)? {
            Some(m) => {
                own = parent.with(m);
                &own
            }
            None => parent,
        }
    } else {
        parent
    };
    let mut files = Vec::new();
    let mut subdirs = Vec::new();
    for entry in entries {
        let name = entry.file_name();
        if ALWAYS_IGNORED.iter().any(|n| name == OsStr::new(n)) {
            continue;
        }
        let path = dir.join(&name);
        let is_dir = entry.file_type().at(&path)?.is_dir();
        if !is_dir {
            if let Some(pid) = temp_name_pid(name.as_bytes()) {
                // Never data: an interrupted write's leftover, or one in flight.
                if ctx.remove_stale_temps && process_is_gone(pid) {
                    let _ = std::fs::remove_file(&path);
                }
                continue;
            }
        }
        if !stack.matchers.is_empty() && stack.is_ignored(&path, is_dir) {
            continue;
        }
        let mut relpath = Vec::with_capacity(rel.len() + 1 + name.len());
        if !rel.is_empty() {
            relpath.extend_from_slice(rel);
            relpath.push(b'/');
        }
        relpath.extend_from_slice(name.as_bytes());
        if is_dir {
            subdirs.push((path, relpath));
        } else {
            files.push((entry, path, relpath));
        }
    }
    // Files of one directory fan out too: a few large files must not share one core.
    let visited: Vec<Option<T>> = files
        .into_par_iter()
        .map(|(entry, path, relpath)| classify(&entry, path, relpath)?.map(ctx.visit).transpose())
        .collect::<Result<_>>()?;
    let mut out: Vec<T> = visited.into_iter().flatten().collect();
    if subdirs.len() == 1 {
        let (p, r) = &subdirs[0];
        out.extend(walk_dir(ctx, p, r, stack)?);
    } else if !subdirs.is_empty() {
        let nested: Vec<Vec<T>> = subdirs
            .par_iter()
            .map(|(p, r)| walk_dir(ctx, p, r, stack))
            .collect::<Result<_>>()?;
        for v in nested {
            out.extend(v);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitelist_in_deeper_file_overrides_ancestor() {
        let t = tempfile_dir();
        std::fs::write(t.join(IGNORE_FILENAME), "*.log\n").unwrap();
        std::fs::create_dir_all(t.join("d")).unwrap();
        std::fs::write(t.join("d").join(IGNORE_FILENAME), "!keep.log\n").unwrap();
        std::fs::write(t.join("d/keep.log"), b"k").unwrap();
        std::fs::write(t.join("d/drop.log"), b"d").unwrap();
        let opts = WalkOptions {
            ignore_root: Some(t.clone()),
            threads: 1,
            remove_stale_temps: false,
        };
        let mut names: Vec<_> = walk_files(&t.join("d"), &opts, None)
            .unwrap()
            .into_iter()
            .map(|e| e.relpath)
            .collect();
        names.sort();
        assert_eq!(
            names,
            vec![IGNORE_FILENAME.as_bytes().to_vec(), b"keep.log".to_vec()]
        );
        std::fs::remove_dir_all(&t).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let p = std::env::temp_dir().join(format!("mlvc-walk-test-{}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        p
    }
}
