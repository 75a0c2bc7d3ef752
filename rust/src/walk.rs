//! Parallel directory walking with `.dvcignore` applied the way DVC applies it.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::{WalkBuilder, WalkState};

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
}

/// Matchers built from the `.dvcignore` files above the walk root.
struct AncestorIgnores {
    /// Deepest first: a deeper file overrides a shallower one.
    matchers: Vec<Gitignore>,
}

impl AncestorIgnores {
    fn load(ignore_root: &Path, walk_root: &Path) -> Result<Self> {
        let mut matchers = Vec::new();
        let Ok(below) = walk_root.strip_prefix(ignore_root) else {
            return Ok(AncestorIgnores { matchers });
        };
        let mut dir = ignore_root.to_path_buf();
        let mut dirs = vec![dir.clone()];
        let components: Vec<_> = below.components().collect();
        // The walk root's own .dvcignore is read by the walker itself.
        for c in components.iter().take(components.len().saturating_sub(1)) {
            dir.push(c);
            dirs.push(dir.clone());
        }
        if components.is_empty() {
            dirs.clear();
        }
        for d in dirs.iter().rev() {
            let file = d.join(IGNORE_FILENAME);
            if file.is_file() {
                let mut b = GitignoreBuilder::new(d);
                if let Some(e) = b.add(&file) {
                    return Err(Error::InvalidArgument(format!(
                        "cannot parse `{}`: {e}",
                        file.display()
                    )));
                }
                let m = b.build().map_err(|e| {
                    Error::InvalidArgument(format!("cannot parse `{}`: {e}", file.display()))
                })?;
                matchers.push(m);
            }
        }
        Ok(AncestorIgnores { matchers })
    }

    fn is_ignored(&self, path: &Path, is_dir: bool) -> bool {
        for m in &self.matchers {
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

fn relpath_bytes(root: &Path, path: &Path) -> Vec<u8> {
    // Paths come from the walker below `root`, so the prefix always strips.
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.as_os_str().as_bytes().to_vec()
}

/// Collects results per worker and hands them over once, when the worker ends.
struct Collector<T> {
    local: Vec<T>,
    shared: Arc<Mutex<Vec<T>>>,
}

impl<T> Drop for Collector<T> {
    fn drop(&mut self) {
        if let Ok(mut s) = self.shared.lock() {
            s.append(&mut self.local);
        }
    }
}

/// Classifies one walked path: `Ok(Some)` for a file to track, `Ok(None)` to skip.
fn classify(path: &Path, ft: std::fs::FileType, root: &Path) -> Result<Option<WalkEntry>> {
    if ft.is_dir() {
        return Ok(None);
    }
    let (meta, is_symlink) = if ft.is_symlink() {
        // DVC-compat: a link to a file is followed; a link to a directory is skipped;
        // a dangling link or a loop is an error.
        let m = std::fs::metadata(path).at(path)?;
        if m.is_dir() {
            return Ok(None);
        }
        (m, true)
    } else {
        (std::fs::symlink_metadata(path).at(path)?, false)
    };
    if let Some(kind) = special_kind(&meta.file_type()) {
        return Err(Error::SpecialFile {
            path: path.to_path_buf(),
            kind,
        });
    }
    Ok(Some(WalkEntry {
        relpath: relpath_bytes(root, path),
        path: path.to_path_buf(),
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
    let ancestors = match &opts.ignore_root {
        Some(ir) => AncestorIgnores::load(&absolute(ir)?, &root)?,
        None => AncestorIgnores { matchers: vec![] },
    };
    let ancestors = Arc::new(ancestors);
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        opts.threads
    };

    let mut builder = WalkBuilder::new(&root);
    builder
        .standard_filters(false)
        .hidden(false)
        .parents(false)
        .follow_links(false)
        .require_git(false)
        .add_custom_ignore_filename(IGNORE_FILENAME)
        .threads(threads);
    let anc = Arc::clone(&ancestors);
    builder.filter_entry(move |entry| {
        let name = entry.file_name();
        if entry.depth() > 0 && ALWAYS_IGNORED.iter().any(|n| name == OsStr::new(n)) {
            return false;
        }
        let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
        !anc.is_ignored(entry.path(), is_dir)
    });

    let shared: Arc<Mutex<Vec<T>>> = Arc::new(Mutex::new(Vec::new()));
    let first_error: Arc<Mutex<Option<Error>>> = Arc::new(Mutex::new(None));
    let visit = &visit;
    builder.build_parallel().run(|| {
        let mut collector = Collector {
            local: Vec::new(),
            shared: Arc::clone(&shared),
        };
        let first_error = Arc::clone(&first_error);
        let root = root.clone();
        Box::new(move |res| {
            let fail = |e: Error| {
                if let Ok(mut slot) = first_error.lock() {
                    slot.get_or_insert(e);
                }
                WalkState::Quit
            };
            if progress.is_some_and(|p| p.is_interrupted()) {
                return fail(Error::Interrupted);
            }
            let entry = match res {
                Ok(e) => e,
                Err(e) => {
                    let path = ignore_error_path(&e).unwrap_or_else(|| root.clone());
                    let io = e
                        .into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("walk failed"));
                    return fail(Error::io(path, io));
                }
            };
            if entry.depth() == 0 {
                return WalkState::Continue;
            }
            let Some(ft) = entry.file_type() else {
                return WalkState::Continue;
            };
            match classify(entry.path(), ft, &root).and_then(|w| w.map(visit).transpose()) {
                Ok(Some(v)) => collector.local.push(v),
                Ok(None) => {}
                Err(e) => return fail(e),
            }
            WalkState::Continue
        })
    });
    if let Some(e) = first_error.lock().ok().and_then(|mut s| s.take()) {
        return Err(e);
    }
    let out = std::mem::take(
        &mut *shared
            .lock()
            .map_err(|_| Error::InvalidArgument("walk worker panicked".into()))?,
    );
    Ok(out)
}

fn ignore_error_path(e: &ignore::Error) -> Option<PathBuf> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            ignore_error_path(err)
        }
        ignore::Error::Partial(errs) => errs.iter().find_map(ignore_error_path),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relpath_strips_root() {
        assert_eq!(
            relpath_bytes(Path::new("/a/b"), Path::new("/a/b/c/d")),
            b"c/d".to_vec()
        );
    }
}
