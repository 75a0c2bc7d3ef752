//! Parallel directory walking with `.dvcignore` applied the way DVC applies it.

use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use rayon::prelude::*;

use crate::error::{Error, IoContext, Result};
use crate::hash::special_kind_of_mode;
use crate::progress::Progress;

/// The ignore file DVC reads; gitignore syntax, anchored at its own directory.
pub const IGNORE_FILENAME: &str = ".dvcignore";

/// DVC-compat: these names are never part of a tracked tree, at any depth.
const ALWAYS_IGNORED: [&str; 3] = [".git", ".hg", DVC_DIR_NAME];

/// What makes a directory a DVC repository (whether a directory or not, as DVC checks).
const DVC_DIR_NAME: &str = ".dvc";

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

    /// Tells whether anyone may execute the file (DVC's `isexec`).
    ///
    /// DVC-compat: any of the three execute bits counts, not only the owner's.
    pub fn is_exec(&self) -> bool {
        self.mode & 0o111 != 0
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
    /// Hard links to the file (to the target, for a symlink).
    pub nlink: u64,
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

/// The writer of an in-flight temp name: a process on this host or another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TempWriter {
    pub pid: i32,
    /// [`host_tag`] of the writer's host; `None` in names from before hosts were
    /// recorded, which are taken as this host's.
    pub host: Option<u32>,
}

impl TempWriter {
    /// Whether the writer is known to be gone, so its temp files are garbage.
    ///
    /// A pid says nothing about another host's processes (a cache shared over
    /// NFS): their files are left alone, and `gc` clears them once old.
    pub fn is_gone(self) -> bool {
        self.host.is_none_or(|h| h == host_tag()) && process_is_gone(self.pid)
    }
}

/// A short tag of this host's name, written into temp names next to the pid.
pub fn host_tag() -> u32 {
    static TAG: OnceLock<u32> = OnceLock::new();
    *TAG.get_or_init(|| {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer's length is passed; the name is NUL-terminated or cut.
        let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        let name = if r == 0 {
            &buf[..buf.iter().position(|&b| b == 0).unwrap_or(buf.len())]
        } else {
            &[][..]
        };
        // FNV-1a: stable across builds, unlike the std hasher.
        name.iter().fold(0x811c_9dc5u32, |h, &b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        })
    })
}

/// Tells whether a file name is one of mlvc's in-flight temp names
/// (`.<name>.<pid>-<host>.<n>.mlvc-tmp`, or `.<name>.<pid>.<n>.mlvc-tmp` from
/// older versions); returns its writer if so.
pub fn temp_name_writer(name: &[u8]) -> Option<TempWriter> {
    let stem = name.strip_suffix(crate::cache::TEMP_SUFFIX.as_bytes())?;
    if !name.starts_with(b".") {
        return None;
    }
    let mut parts = stem.rsplitn(3, |&b| b == b'.');
    let _counter = parts.next()?;
    let writer = std::str::from_utf8(parts.next()?).ok()?;
    let (pid, host) = match writer.split_once('-') {
        Some((pid, host)) => (pid, Some(u32::from_str_radix(host, 16).ok()?)),
        None => (writer, None),
    };
    Some(TempWriter {
        pid: pid.parse().ok()?,
        host,
    })
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
/// The error without the file name the error message names already.
fn without_path(e: ignore::Error) -> ignore::Error {
    match e {
        ignore::Error::WithPath { err, .. } => without_path(*err),
        other => other,
    }
}

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
        let bad = |e: ignore::Error| Error::BadIgnoreFile {
            path: file.clone(),
            message: without_path(e).to_string(),
        };
        if let Some(e) = b.add(&file) {
            return Err(bad(e));
        }
        let m = b.build().map_err(bad)?;
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

/// The `.dvcignore` rule that hides `path` (below `ignore_root`), if one does:
/// `(the .dvcignore file, its line, the pattern)`; the line is 0 when not found.
///
/// A path below an ignored directory is ignored too (the walk never enters it), and
/// the rule named is the directory's.
pub fn ignored_by(ignore_root: &Path, path: &Path) -> Result<Option<(PathBuf, usize, String)>> {
    use ignore::Match;
    let root = absolute(ignore_root)?;
    let path = absolute(path)?;
    let Ok(below) = path.strip_prefix(&root) else {
        return Ok(None);
    };
    let components: Vec<_> = below.components().collect();
    let mut stack = IgnoreStack::default();
    let mut current = root.clone();
    for (i, c) in components.iter().enumerate() {
        if let Some(m) = IgnoreStack::load_file(&current)? {
            stack.matchers.push(Arc::new(m));
        }
        current.push(c);
        let is_dir = i + 1 < components.len() || current.is_dir();
        for m in stack.matchers.iter().rev() {
            match m.matched(&current, is_dir) {
                Match::Ignore(glob) => {
                    let file = glob.from().map(Path::to_path_buf).unwrap_or_default();
                    let pattern = glob.original().to_string();
                    let line = std::fs::read_to_string(&file)
                        .ok()
                        .and_then(|text| text.lines().position(|l| l.trim_end() == pattern))
                        .map_or(0, |n| n + 1);
                    return Ok(Some((file, line, pattern)));
                }
                Match::Whitelist(_) => break,
                Match::None => {}
            }
        }
    }
    Ok(None)
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

/// Which directories a walk records besides the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirsWanted {
    /// Those that hold no entry at all (not even an ignored one).
    Empty,
    /// Every directory the walk enters (kept by `.dvcignore`, not a repository).
    All,
}

/// [`walk_files`], and the directories below `root` that `wanted` names, in no
/// particular order.
pub fn walk_files_and_dirs(
    root: &Path,
    opts: &WalkOptions,
    progress: Option<&Progress>,
    wanted: DirsWanted,
) -> Result<(Vec<WalkEntry>, Vec<PathBuf>)> {
    let dirs = Mutex::new(Vec::new());
    let files = walk_with(root, opts, progress, Some((wanted, &dirs)), Ok)?;
    let dirs = dirs.into_inner().unwrap_or_else(|e| e.into_inner());
    Ok((files, dirs))
}

struct WalkContext<'a, F> {
    visit: &'a F,
    progress: Option<&'a Progress>,
    remove_stale_temps: bool,
    /// Which directories to record, and where, when asked.
    dirs: Option<(DirsWanted, &'a Mutex<Vec<PathBuf>>)>,
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
    walk_with(root, opts, progress, None, visit)
}

fn walk_with<T, F>(
    root: &Path,
    opts: &WalkOptions,
    progress: Option<&Progress>,
    dirs: Option<(DirsWanted, &Mutex<Vec<PathBuf>>)>,
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
        dirs,
    };
    let runs = crate::digest::pool(opts.threads)?.install(|| walk_dir(&ctx, &root, &[], &stack))?;
    // Each directory hands up its runs of results rather than one merged vector,
    // so every result is moved once here instead of once per level of depth.
    let mut out = Vec::with_capacity(runs.iter().map(Vec::len).sum());
    for run in runs {
        out.extend(run);
    }
    Ok(out)
}

/// An open directory read with readdir(3): entries come from libc's buffer,
/// so listing 50,000 names allocates nothing per name.
struct OpenDir(*mut libc::DIR);

impl OpenDir {
    fn open(path: &Path) -> std::io::Result<Self> {
        let c = std::ffi::CString::new(path.as_os_str().as_bytes())?;
        // SAFETY: `c` is a valid NUL-terminated string for the duration of the call.
        let fd = unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `fd` is an open directory descriptor that the DIR now owns.
        let dirp = unsafe { libc::fdopendir(fd) };
        if dirp.is_null() {
            let e = std::io::Error::last_os_error();
            // SAFETY: fdopendir failed, so `fd` is still ours to close.
            unsafe { libc::close(fd) };
            return Err(e);
        }
        Ok(OpenDir(dirp))
    }

    /// The descriptor, for `fstatat` relative to this directory.
    fn fd(&self) -> libc::c_int {
        // SAFETY: `self.0` is an open DIR until drop.
        unsafe { libc::dirfd(self.0) }
    }

    /// Calls `f(name, d_type)` for every entry but `.` and `..`.
    fn for_each(
        &mut self,
        mut f: impl FnMut(&[u8], u8) -> Result<()>,
    ) -> Result<Option<std::io::Error>> {
        loop {
            // SAFETY: errno is thread-local; readdir reports errors only through it.
            unsafe { *libc::__errno_location() = 0 };
            // SAFETY: `self.0` is open and only this thread reads from it.
            let ent = unsafe { libc::readdir64(self.0) };
            if ent.is_null() {
                let e = std::io::Error::last_os_error();
                return Ok((e.raw_os_error() != Some(0)).then_some(e));
            }
            // SAFETY: `ent` points at a valid entry until the next readdir call.
            let (name, d_type) = unsafe {
                let ent = &*ent;
                (
                    std::ffi::CStr::from_ptr(ent.d_name.as_ptr()).to_bytes(),
                    ent.d_type,
                )
            };
            if name != b"." && name != b".." {
                f(name, d_type)?;
            }
        }
    }
}

impl Drop for OpenDir {
    fn drop(&mut self) {
        // SAFETY: `self.0` is open and is closed exactly once, here.
        unsafe { libc::closedir(self.0) };
    }
}

/// `fstatat` of `name` in the directory `dir_fd`; follows a symlink when `follow`.
fn stat_at(dir_fd: libc::c_int, name: &[u8], follow: bool) -> std::io::Result<libc::stat64> {
    let mut cname = [0u8; 256];
    if name.len() >= cname.len() {
        return Err(std::io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    cname[..name.len()].copy_from_slice(name);
    let flags = if follow { 0 } else { libc::AT_SYMLINK_NOFOLLOW };
    let mut st = std::mem::MaybeUninit::<libc::stat64>::uninit();
    // SAFETY: `cname` is NUL-terminated and `st` is large enough for the result.
    let r = unsafe { libc::fstatat64(dir_fd, cname.as_ptr().cast(), st.as_mut_ptr(), flags) };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fstatat succeeded, so it filled `st`.
    Ok(unsafe { st.assume_init() })
}

fn meta_of(st: &libc::stat64) -> FileMeta {
    FileMeta {
        ino: st.st_ino,
        size: st.st_size as u64,
        mtime_ns: st.st_mtime * 1_000_000_000 + st.st_mtime_nsec,
        ctime_ns: st.st_ctime * 1_000_000_000 + st.st_ctime_nsec,
        mode: st.st_mode & 0o7777,
    }
}

/// `dir/name` as one allocation.
fn child_path(dir: &Path, name: &[u8]) -> PathBuf {
    let d = dir.as_os_str().as_bytes();
    let mut v = Vec::with_capacity(d.len() + 1 + name.len());
    v.extend_from_slice(d);
    if d.last() != Some(&b'/') {
        v.push(b'/');
    }
    v.extend_from_slice(name);
    PathBuf::from(std::ffi::OsString::from_vec(v))
}

/// One entry of a directory being walked.
struct Child {
    /// Path relative to the walk root; the name is `relpath[name_at..]`.
    relpath: Vec<u8>,
    name_at: usize,
    is_symlink: bool,
}

impl Child {
    fn name(&self) -> &[u8] {
        &self.relpath[self.name_at..]
    }
}

/// Stats one file of an open directory and visits it; `Ok(None)` to skip it.
fn visit_file<T, F>(
    ctx: &WalkContext<'_, F>,
    dir: &Path,
    dir_fd: libc::c_int,
    c: Child,
) -> Result<Option<T>>
where
    F: Fn(WalkEntry) -> Result<T> + Sync,
{
    // DVC-compat: a link to a file is followed; a link to a directory is skipped;
    // a dangling link or a loop is an error.
    let st = match stat_at(dir_fd, c.name(), c.is_symlink) {
        Ok(st) => st,
        Err(e) => return Err(Error::io(child_path(dir, c.name()), e)),
    };
    let kind = st.st_mode & libc::S_IFMT;
    if kind == libc::S_IFDIR {
        return Ok(None);
    }
    if let Some(kind) = special_kind_of_mode(kind) {
        return Err(Error::SpecialFile {
            path: child_path(dir, c.name()),
            kind,
        });
    }
    let path = child_path(dir, c.name());
    (ctx.visit)(WalkEntry {
        relpath: c.relpath,
        path,
        meta: meta_of(&st),
        is_symlink: c.is_symlink,
        nlink: st.st_nlink,
    })
    .map(Some)
}

fn walk_dir<T, F>(
    ctx: &WalkContext<'_, F>,
    dir: &Path,
    rel: &[u8],
    parent: &IgnoreStack,
) -> Result<Vec<Vec<T>>>
where
    T: Send,
    F: Fn(WalkEntry) -> Result<T> + Sync,
{
    if let Some(p) = ctx.progress {
        p.check()?;
    }
    let mut handle = OpenDir::open(dir).at(dir)?;
    let dir_fd = handle.fd();
    let mut children: Vec<(Child, bool)> = Vec::new();
    let mut has_ignore_file = false;
    let mut is_repository = false;
    let mut any_entry = false;
    let read_error = handle.for_each(|name, d_type| {
        any_entry = true;
        if ALWAYS_IGNORED.iter().any(|n| name == n.as_bytes()) {
            is_repository |= name == DVC_DIR_NAME.as_bytes();
            return Ok(());
        }
        has_ignore_file |= name == IGNORE_FILENAME.as_bytes();
        let (is_dir, is_symlink) = match d_type {
            libc::DT_DIR => (true, false),
            libc::DT_LNK => (false, true),
            libc::DT_UNKNOWN => {
                // Some filesystems do not say: ask.
                let st = stat_at(dir_fd, name, false).at(child_path(dir, name))?;
                let kind = st.st_mode & libc::S_IFMT;
                (kind == libc::S_IFDIR, kind == libc::S_IFLNK)
            }
            _ => (false, false),
        };
        if let Some(writer) = temp_name_writer(name) {
            // Never data: an interrupted write's leftover, or one in flight
            // (a directory: one being filled, see `crate::staged`).
            if ctx.remove_stale_temps && writer.is_gone() {
                let path = child_path(dir, name);
                let _ = if is_dir {
                    std::fs::remove_dir_all(path)
                } else {
                    std::fs::remove_file(path)
                };
            }
            return Ok(());
        }
        let mut relpath = Vec::with_capacity(rel.len() + 1 + name.len());
        if !rel.is_empty() {
            relpath.extend_from_slice(rel);
            relpath.push(b'/');
        }
        let name_at = relpath.len();
        relpath.extend_from_slice(name);
        children.push((
            Child {
                relpath,
                name_at,
                is_symlink,
            },
            is_dir,
        ));
        Ok(())
    })?;
    if let Some(e) = read_error {
        return Err(Error::io(dir, e));
    }
    if !any_entry && !rel.is_empty() {
        if let Some((_, dirs)) = ctx.dirs {
            record_dir(dirs, dir);
        }
        return Ok(Vec::new());
    }
    if is_repository && !rel.is_empty() {
        // DVC-compat: a directory below the walk's root holding `.dvc` is a
        // repository of its own (`dvc init --subdir`), never part of this tree.
        return Ok(Vec::new());
    }
    if let Some((DirsWanted::All, dirs)) = ctx.dirs {
        if !rel.is_empty() {
            record_dir(dirs, dir);
        }
    }
    let own;
    let stack = match has_ignore_file
        .then(|| IgnoreStack::load_file(dir))
        .transpose()?
        .flatten()
    {
        Some(m) => {
            own = parent.with(m);
            &own
        }
        None => parent,
    };
    if !stack.matchers.is_empty() {
        children.retain(|(c, is_dir)| !stack.is_ignored(&child_path(dir, c.name()), *is_dir));
    }
    // Children in byte order of their relpaths (a directory's entries follow
    // `name/`), so the whole walk comes out sorted, as manifests and the state
    // snapshot are: callers need no global sort.
    children.sort_unstable_by(|(a, a_dir), (b, b_dir)| {
        child_key(&a.relpath, *a_dir).cmp(child_key(&b.relpath, *b_dir))
    });
    let order: Vec<bool> = children.iter().map(|(_, is_dir)| *is_dir).collect();
    let (subdirs, files): (Vec<_>, Vec<_>) = children.into_iter().partition(|(_, is_dir)| *is_dir);
    // Files of one directory fan out too: a few large files must not share one core.
    let visited: Vec<Option<T>> = files
        .into_par_iter()
        .map(|(c, _)| visit_file(ctx, dir, dir_fd, c))
        .collect::<Result<_>>()?;
    drop(handle);
    let walk_sub = |c: &Child| walk_dir(ctx, &child_path(dir, c.name()), &c.relpath, stack);
    let nested: Vec<Vec<Vec<T>>> = if subdirs.len() == 1 {
        vec![walk_sub(&subdirs[0].0)?]
    } else {
        subdirs
            .par_iter()
            .map(|(c, _)| walk_sub(c))
            .collect::<Result<_>>()?
    };
    // Runs in walk order: this directory's files between its subdirectories' runs.
    let mut runs: Vec<Vec<T>> = Vec::new();
    let mut files_run: Vec<T> = Vec::with_capacity(visited.len());
    let mut visited = visited.into_iter();
    let mut nested = nested.into_iter();
    for is_dir in order {
        if is_dir {
            if !files_run.is_empty() {
                let rest = visited.len();
                runs.push(std::mem::replace(&mut files_run, Vec::with_capacity(rest)));
            }
            runs.extend(nested.next().into_iter().flatten());
        } else if let Some(Some(v)) = visited.next() {
            files_run.push(v);
        }
    }
    if !files_run.is_empty() {
        runs.push(files_run);
    }
    Ok(runs)
}

fn record_dir(dirs: &Mutex<Vec<PathBuf>>, dir: &Path) {
    dirs.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(dir.to_path_buf());
}

/// A child's sort key: its relpath, followed by `/` for a directory.
fn child_key(rel: &[u8], is_dir: bool) -> impl Iterator<Item = u8> + '_ {
    rel.iter().copied().chain(is_dir.then_some(b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_name_their_writer_and_host() {
        let ours = crate::cache::temp_name("abc");
        let writer = temp_name_writer(ours.as_bytes()).unwrap();
        assert_eq!(writer.pid, std::process::id() as i32);
        assert_eq!(writer.host, Some(host_tag()));
        assert!(!writer.is_gone());
        // Names from before hosts were recorded are this host's.
        let old = temp_name_writer(b".abc.2147483646.0.mlvc-tmp").unwrap();
        assert_eq!(old.host, None);
        assert!(old.is_gone());
        // Another host's writer is never taken for gone, whatever its pid.
        let other = format!(".abc.2147483646-{:08x}.0.mlvc-tmp", host_tag() ^ 1);
        let writer = temp_name_writer(other.as_bytes()).unwrap();
        assert!(!writer.is_gone());
        assert_eq!(temp_name_writer(b".abc.12x-zz.0.mlvc-tmp"), None);
        assert_eq!(temp_name_writer(b"abc.1.0.mlvc-tmp"), None);
    }

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

    #[test]
    fn a_nested_repository_is_left_out_but_a_repository_root_is_walked() {
        let t = std::env::temp_dir().join(format!("mlvc-walk-nested-{}", std::process::id()));
        std::fs::create_dir_all(t.join("inner/.dvc")).unwrap();
        std::fs::create_dir_all(t.join("plain")).unwrap();
        std::fs::write(t.join("inner/b"), b"b").unwrap();
        std::fs::write(t.join("plain/a"), b"a").unwrap();
        let opts = WalkOptions {
            ignore_root: None,
            threads: 1,
            remove_stale_temps: false,
        };
        let names = |root: &Path| -> Vec<Vec<u8>> {
            let mut n: Vec<_> = walk_files(root, &opts, None)
                .unwrap()
                .into_iter()
                .map(|e| e.relpath)
                .collect();
            n.sort();
            n
        };
        assert_eq!(names(&t), vec![b"plain/a".to_vec()]);
        assert_eq!(names(&t.join("inner")), vec![b"b".to_vec()]);
        std::fs::remove_dir_all(&t).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let p = std::env::temp_dir().join(format!("mlvc-walk-test-{}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        p
    }
}
