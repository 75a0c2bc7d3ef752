//! PyO3 bindings: the `mlvc._core` extension module.
//!
//! Coarse calls only: lists of paths in, small frozen records out. Every call
//! that touches many files goes through [`run::run_long`].

mod errors;
mod git;
mod run;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::cache::{InsertMode, ObjectCache, Settle};
use crate::checkout::{
    checkout_files, checkout_tree_within, CheckoutItem, CheckoutOptions, CheckoutReport,
};
use crate::digest::{self, DigestOptions, FileResult, TreeResult};
use crate::hash::{HashAlgorithm, DEFAULT_BUFFER_SIZE};
use crate::link::{parse_link_types, supported_link_types as probe_link_types, Linker};
use crate::state::StateDb;
use crate::tree::{self, TreeEntry};
use crate::walk::{walk_files, walk_files_and_dirs, DirsWanted, WalkOptions};
use errors::to_py;
use run::{is_small_work, run_long, run_small_or_long};

fn os(bytes: &[u8]) -> OsString {
    OsString::from_vec(bytes.to_vec())
}

/// Parses `"copy"`, `"link"` or `"move"`.
fn insert_mode(name: &str) -> PyResult<InsertMode> {
    match name {
        "copy" => Ok(InsertMode::Copy),
        "link" => Ok(InsertMode::Link),
        "move" => Ok(InsertMode::Move),
        other => Err(pyo3::exceptions::PyValueError::new_err(format!(
            "unknown insert mode `{other}`; expected copy, link or move"
        ))),
    }
}

fn settle(normalize: bool) -> Settle {
    if normalize {
        Settle::Normalize
    } else {
        Settle::Leave
    }
}

fn algorithm(name: &str) -> PyResult<HashAlgorithm> {
    HashAlgorithm::from_str(name).map_err(to_py)
}

/// A hashed file.
#[pyclass(frozen, get_all, module = "mlvc._core")]
pub struct FileHash {
    /// The path as given, or the full path for files of a tree.
    path: OsString,
    /// Path relative to the tree root (`""` for single files).
    relpath: OsString,
    /// Hex digest.
    hash: String,
    /// Size in bytes.
    size: u64,
    /// Whether the owner execute bit is set.
    isexec: bool,
    /// Whether the hash came from the state cache instead of reading the file.
    from_state: bool,
}

#[pymethods]
impl FileHash {
    fn __repr__(&self) -> String {
        format!(
            "FileHash(path={:?}, hash={:?}, size={})",
            self.path, self.hash, self.size
        )
    }
}

impl From<&FileResult> for FileHash {
    fn from(f: &FileResult) -> Self {
        FileHash {
            path: f.path.clone().into_os_string(),
            relpath: os(&f.relpath),
            hash: f.hash.clone(),
            size: f.meta.size,
            isexec: f.meta.is_exec(),
            from_state: f.from_state,
        }
    }
}

/// A hashed directory: DVC's directory object and its files.
#[pyclass(frozen, module = "mlvc._core")]
pub struct TreeHash {
    #[pyo3(get)]
    path: OsString,
    #[pyo3(get)]
    hash: String,
    #[pyo3(get)]
    size: u64,
    #[pyo3(get)]
    nfiles: usize,
    #[pyo3(get)]
    hashed_files: usize,
    /// Files that became their cache object by a hard link (`Cache.add_tree`
    /// with `mode="link"`); they need no checkout to be linked.
    #[pyo3(get)]
    linked_in_place: u64,
    result: Arc<TreeResult>,
}

#[pymethods]
impl TreeHash {
    /// The manifest bytes (`.dir` object content).
    #[getter]
    fn manifest<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.result.manifest())
    }

    /// Every file, in manifest order.
    #[getter]
    fn files(&self) -> Vec<FileHash> {
        self.result.files.iter().map(FileHash::from).collect()
    }

    /// `(path, md5)` of each regular file that had other hard links when it was
    /// hashed (to its cache object, or to any other file).
    #[getter]
    fn hardlinked(&self) -> Vec<(OsString, String)> {
        self.result
            .files
            .iter()
            .filter(|f| f.is_hardlinked())
            .map(|f| (f.path.clone().into_os_string(), f.hash.clone()))
            .collect()
    }

    /// Records the tree in `state` again once its [`hardlinked`] files were
    /// replaced by private copies, so the next look need not read them.
    ///
    /// [`hardlinked`]: TreeHash::hardlinked
    #[pyo3(signature = (state, jobs=0))]
    fn record_private_copies(
        &self,
        py: Python<'_>,
        state: &Bound<'_, State>,
        jobs: usize,
    ) -> PyResult<()> {
        let db = state.get().inner.clone();
        let opts = DigestOptions {
            jobs,
            ..DigestOptions::default()
        };
        let path = PathBuf::from(&self.path);
        py.detach(|| digest::record_private_copies(&path, &self.result, &opts, &db))
            .map_err(to_py)
    }

    fn __repr__(&self) -> String {
        format!(
            "TreeHash(path={:?}, hash={:?}, size={}, nfiles={})",
            self.path, self.hash, self.size, self.nfiles
        )
    }
}

impl TreeHash {
    fn new(path: PathBuf, r: TreeResult) -> Self {
        TreeHash {
            path: path.into_os_string(),
            hash: r.hash.clone(),
            size: r.size,
            nfiles: r.files.len(),
            hashed_files: r.files.iter().filter(|f| !f.from_state).count(),
            linked_in_place: 0,
            result: Arc::new(r),
        }
    }
}

/// A walked file.
#[pyclass(frozen, get_all, module = "mlvc._core")]
pub struct WalkedFile {
    relpath: OsString,
    size: u64,
    isexec: bool,
    mtime_ns: i64,
    is_symlink: bool,
}

impl WalkedFile {
    fn from_entry(e: crate::walk::WalkEntry) -> Self {
        WalkedFile {
            relpath: os(&e.relpath),
            size: e.meta.size,
            isexec: e.meta.is_exec(),
            mtime_ns: e.meta.mtime_ns,
            is_symlink: e.is_symlink,
        }
    }
}

/// The outcome of a checkout.
#[pyclass(frozen, get_all, module = "mlvc._core")]
pub struct CheckoutResult {
    /// Paths written from the cache, or given the owner's execute bit.
    linked: Vec<OsString>,
    /// How many of `linked` did not exist before.
    created: u64,
    /// Number of files already up to date.
    unchanged: u64,
    /// Paths deleted because they are not in the tree (files, then emptied directories).
    removed: Vec<OsString>,
    /// Paths whose content would be lost; when non-empty nothing was changed.
    conflicts: Vec<OsString>,
    /// `(path, hash)` of files whose object is missing from the cache.
    missing: Vec<(OsString, String)>,
    /// The link type used (`None` when nothing was linked).
    link_type: Option<&'static str>,
}

impl From<CheckoutReport> for CheckoutResult {
    fn from(r: CheckoutReport) -> Self {
        let os_list = |v: Vec<PathBuf>| v.into_iter().map(PathBuf::into_os_string).collect();
        CheckoutResult {
            linked: os_list(r.linked),
            created: r.created,
            unchanged: r.unchanged,
            removed: os_list(r.removed),
            conflicts: os_list(r.conflicts),
            missing: r
                .missing
                .into_iter()
                .map(|(p, h)| (p.into_os_string(), h))
                .collect(),
            link_type: r.link_type.map(|t| t.name()),
        }
    }
}

/// A state database (hash cache keyed by inode, size and timestamps).
#[pyclass(frozen, module = "mlvc._core")]
pub struct State {
    inner: Arc<StateDb>,
}

#[pymethods]
impl State {
    #[new]
    fn new(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let db = py.detach(|| StateDb::open(&path)).map_err(to_py)?;
        Ok(State {
            inner: Arc::new(db),
        })
    }

    /// The database file.
    #[getter]
    fn path(&self) -> OsString {
        self.inner.path().as_os_str().to_owned()
    }

    /// What a parser of `kind` made of `text` before, as recorded by `record_parsed`.
    fn parsed(&self, py: Python<'_>, kind: &str, text: &[u8]) -> PyResult<Option<String>> {
        py.detach(|| self.inner.parsed(kind, text)).map_err(to_py)
    }

    /// Remembers `data` (a serialised parse) for `text` read by a parser of `kind`.
    fn record_parsed(&self, py: Python<'_>, kind: &str, text: &[u8], data: &str) -> PyResult<()> {
        py.detach(|| self.inner.record_parsed(kind, text, data))
            .map_err(to_py)
    }

    /// Forgets every entry at or below `path` (absolute).
    fn forget(&self, py: Python<'_>, path: PathBuf) -> PyResult<usize> {
        py.detach(|| self.inner.forget(&path)).map_err(to_py)
    }
}

fn state_of(state: Option<&Bound<'_, State>>) -> Option<Arc<StateDb>> {
    state.map(|s| Arc::clone(&s.get().inner))
}

fn digest_options(
    algorithm_name: &str,
    jobs: usize,
    ignore_root: Option<PathBuf>,
    buffer_size: usize,
) -> PyResult<DigestOptions> {
    Ok(DigestOptions {
        algorithm: algorithm(algorithm_name)?,
        jobs,
        buffer_size,
        ignore_root,
    })
}

/// Hashes one file (a symlink is followed) and returns its hex digest.
#[pyfunction]
#[pyo3(signature = (path, algorithm="md5", buffer_size=DEFAULT_BUFFER_SIZE))]
fn hash_file(
    py: Python<'_>,
    path: PathBuf,
    algorithm: &str,
    buffer_size: usize,
) -> PyResult<String> {
    let algo = self::algorithm(algorithm)?;
    let small = is_small_work(std::iter::once(path.as_path()));
    run_small_or_long(py, None, small, |p| {
        crate::hash::hash_file(&path, algo, buffer_size, Some(p)).map(|d| d.hash)
    })
}

/// Hashes many files in parallel.
#[pyfunction]
#[pyo3(signature = (paths, algorithm="md5", jobs=0, state=None, progress=None, buffer_size=DEFAULT_BUFFER_SIZE))]
fn hash_files(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    algorithm: &str,
    jobs: usize,
    state: Option<&Bound<'_, State>>,
    progress: Option<&Bound<'_, PyAny>>,
    buffer_size: usize,
) -> PyResult<Vec<FileHash>> {
    let opts = digest_options(algorithm, jobs, None, buffer_size)?;
    let db = state_of(state);
    let small = is_small_work(paths.iter().map(PathBuf::as_path));
    let results = run_small_or_long(py, progress, small, |p| {
        digest::hash_files(&paths, &opts, db.as_deref(), p)
    })?;
    Ok(results.iter().map(FileHash::from).collect())
}

/// Walks and hashes a directory into DVC's directory object.
#[pyfunction]
#[pyo3(signature = (path, algorithm="md5", jobs=0, ignore_root=None, state=None, progress=None, buffer_size=DEFAULT_BUFFER_SIZE))]
#[allow(clippy::too_many_arguments)]
fn hash_tree(
    py: Python<'_>,
    path: PathBuf,
    algorithm: &str,
    jobs: usize,
    ignore_root: Option<PathBuf>,
    state: Option<&Bound<'_, State>>,
    progress: Option<&Bound<'_, PyAny>>,
    buffer_size: usize,
) -> PyResult<TreeHash> {
    let opts = digest_options(algorithm, jobs, ignore_root, buffer_size)?;
    let db = state_of(state);
    let r = run_long(py, progress, |p| {
        digest::hash_tree(&path, &opts, db.as_deref(), p)
    })?;
    Ok(TreeHash::new(path, r))
}

/// Lists the files below a directory that DVC would track (`.dvcignore` applied).
#[pyfunction]
#[pyo3(signature = (path, ignore_root=None, jobs=0))]
fn walk(
    py: Python<'_>,
    path: PathBuf,
    ignore_root: Option<PathBuf>,
    jobs: usize,
) -> PyResult<Vec<WalkedFile>> {
    let opts = WalkOptions {
        ignore_root,
        threads: jobs,
        remove_stale_temps: false,
    };
    let mut entries = run_long(py, None, |p| walk_files(&path, &opts, Some(p)))?;
    entries.sort_unstable_by(|a, b| tree::compare_relpaths(&a.relpath, &b.relpath));
    Ok(entries.into_iter().map(WalkedFile::from_entry).collect())
}

/// [`walk`], and the relative paths of every directory it entered (kept by
/// `.dvcignore`, not a repository of its own), sorted.
#[pyfunction]
#[pyo3(signature = (path, ignore_root=None, jobs=0))]
fn walk_with_dirs(
    py: Python<'_>,
    path: PathBuf,
    ignore_root: Option<PathBuf>,
    jobs: usize,
) -> PyResult<(Vec<WalkedFile>, Vec<OsString>)> {
    let opts = WalkOptions {
        ignore_root,
        threads: jobs,
        remove_stale_temps: false,
    };
    let root = crate::walk::absolute(&path).map_err(to_py)?;
    let (mut entries, dirs) = run_long(py, None, |p| {
        walk_files_and_dirs(&root, &opts, Some(p), DirsWanted::All)
    })?;
    entries.sort_unstable_by(|a, b| tree::compare_relpaths(&a.relpath, &b.relpath));
    let mut dirs: Vec<OsString> = dirs
        .iter()
        .filter_map(|d| d.strip_prefix(&root).ok())
        .map(|d| d.as_os_str().to_os_string())
        .collect();
    dirs.sort_unstable();
    let files = entries.into_iter().map(WalkedFile::from_entry).collect();
    Ok((files, dirs))
}

/// Writes `data` as the new file `path` with `mode` (parents created as needed),
/// complete or not at all. Returns False, writing nothing, when `path` exists.
#[pyfunction]
#[pyo3(signature = (path, data, mode=0o644))]
fn write_new_file(py: Python<'_>, path: PathBuf, data: &[u8], mode: u32) -> PyResult<bool> {
    py.detach(|| crate::newfile::write_new(&path, data, mode))
        .map_err(|e| to_py(crate::Error::io(&path, e)))
}

/// Makes each of `paths` a private file its owner can write, in parallel
/// (`unprotect`: links replaced by copies of their data); returns for each
/// whether it changed.
#[pyfunction]
#[pyo3(signature = (paths, jobs=0))]
fn make_private(py: Python<'_>, paths: Vec<PathBuf>, jobs: usize) -> PyResult<Vec<bool>> {
    py.detach(|| crate::link::make_private_all(&paths, jobs))
        .map_err(to_py)
}

/// The `.dvcignore` rule hiding `path`, as `(file, line, pattern)`, or None.
#[pyfunction]
fn ignored_by(ignore_root: PathBuf, path: PathBuf) -> PyResult<Option<(OsString, usize, String)>> {
    let found = crate::walk::ignored_by(&ignore_root, &path).map_err(to_py)?;
    Ok(found.map(|(file, line, pattern)| (file.into_os_string(), line, pattern)))
}

/// Builds manifest bytes and the `<md5>.dir` id from `(relpath, md5)` pairs (any order).
#[pyfunction]
fn build_manifest<'py>(
    py: Python<'py>,
    entries: Vec<(OsString, String)>,
) -> PyResult<(Bound<'py, PyBytes>, String)> {
    use std::os::unix::ffi::OsStrExt;
    let mut es: Vec<TreeEntry> = entries
        .into_iter()
        .map(|(r, h)| TreeEntry {
            relpath: r.as_bytes().to_vec(),
            hash: h,
        })
        .collect();
    tree::sort_entries(&mut es);
    let bytes = tree::serialize(&es, "md5");
    let id = tree::dir_hash(&bytes);
    Ok((PyBytes::new(py, &bytes), id))
}

/// Parses manifest bytes into `(relpath, md5)` pairs, rejecting unsafe paths.
#[pyfunction]
fn parse_manifest(data: &[u8]) -> PyResult<Vec<(OsString, String)>> {
    let entries = tree::parse(data, std::path::Path::new("<bytes>")).map_err(to_py)?;
    Ok(entries
        .into_iter()
        .map(|e| (os(&e.relpath), e.hash))
        .collect())
}

/// Returns the link types that work between two directories, best first.
#[pyfunction]
fn supported_link_types(
    py: Python<'_>,
    cache_dir: PathBuf,
    workspace_dir: PathBuf,
) -> PyResult<Vec<&'static str>> {
    let types = py
        .detach(|| probe_link_types(&cache_dir, &workspace_dir))
        .map_err(to_py)?;
    Ok(types.into_iter().map(|t| t.name()).collect())
}

/// The object cache in DVC 3.x layout (`<root>/files/md5/xx/...`).
#[pyclass(frozen, module = "mlvc._core")]
pub struct Cache {
    inner: ObjectCache,
}

#[pymethods]
impl Cache {
    #[new]
    #[pyo3(signature = (root, shared_group=false))]
    fn new(root: PathBuf, shared_group: bool) -> Self {
        Cache {
            inner: ObjectCache::new(root).with_shared_group(shared_group),
        }
    }

    /// The cache directory.
    #[getter]
    fn root(&self) -> OsString {
        self.inner.root().as_os_str().to_owned()
    }

    /// The path where an object lives (whether or not it exists).
    fn object_path(&self, hash: &str) -> PyResult<OsString> {
        Ok(self
            .inner
            .object_path(hash)
            .map_err(to_py)?
            .into_os_string())
    }

    /// The DVC 2.x path of an object.
    fn legacy_object_path(&self, hash: &str) -> PyResult<OsString> {
        Ok(self
            .inner
            .legacy_object_path(hash)
            .map_err(to_py)?
            .into_os_string())
    }

    /// Tells whether an object is present.
    fn contains(&self, hash: &str) -> PyResult<bool> {
        self.inner.contains(hash).map_err(to_py)
    }

    /// Copies (or with `move=True` renames) a file into the cache under `hash`.
    #[pyo3(signature = (path, hash, mode="copy"))]
    fn insert_file(&self, py: Python<'_>, path: PathBuf, hash: &str, mode: &str) -> PyResult<bool> {
        let mode = insert_mode(mode)?;
        py.detach(|| self.inner.insert_file(&path, hash, mode))
            .map_err(to_py)
    }

    /// Stores bytes under `hash` (e.g. a manifest).
    fn insert_bytes(&self, py: Python<'_>, hash: &str, data: &[u8]) -> PyResult<bool> {
        py.detach(|| self.inner.insert_bytes(hash, data))
            .map_err(to_py)
    }

    /// Hashes a file and stores it; returns its hash record.
    ///
    /// With `normalize`, the workspace file ends as a DVC checkout leaves it:
    /// a symlink becomes a regular copy, the mode becomes 0644 (0744 if executable).
    #[pyo3(signature = (path, mode="copy", state=None, normalize=false))]
    fn add_file(
        &self,
        py: Python<'_>,
        path: PathBuf,
        mode: &str,
        state: Option<&Bound<'_, State>>,
        normalize: bool,
    ) -> PyResult<FileHash> {
        let db = state_of(state);
        let mode = insert_mode(mode)?;
        let small = is_small_work(std::iter::once(path.as_path()));
        let r = run_small_or_long(py, None, small, |p| {
            let mut rs = digest::hash_files(
                std::slice::from_ref(&path),
                &DigestOptions::default(),
                db.as_deref(),
                p,
            )?;
            let r = rs.pop().expect("one path in, one result out");
            self.inner
                .insert_tracked(&r, mode, settle(normalize), true)?;
            Ok(r)
        })?;
        Ok(FileHash::from(&r))
    }

    /// Hashes a directory and stores every file and the manifest.
    ///
    /// With `normalize`, workspace files end as `dvc add` leaves them
    /// (symlinks become copies; the modes of regular files are kept).
    #[pyo3(signature = (path, mode="copy", jobs=0, ignore_root=None, state=None, progress=None, normalize=false))]
    #[allow(clippy::too_many_arguments)]
    fn add_tree(
        &self,
        py: Python<'_>,
        path: PathBuf,
        mode: &str,
        jobs: usize,
        ignore_root: Option<PathBuf>,
        state: Option<&Bound<'_, State>>,
        progress: Option<&Bound<'_, PyAny>>,
        normalize: bool,
    ) -> PyResult<TreeHash> {
        let db = state_of(state);
        let opts = DigestOptions {
            jobs,
            ignore_root,
            ..DigestOptions::default()
        };
        let mode = insert_mode(mode)?;
        // Where copies cannot be clones, each small file is copied into the
        // cache from the buffer it was hashed from: one open and read, not two.
        let write_while_hashing =
            mode == InsertMode::Copy && !crate::copy::may_clone(&path, self.inner.root());
        // Linking changes every file's status: record it once, after.
        let linking = mode == InsertMode::Link;
        // New object directories are filled privately (see `ObjectCache::staging`).
        let cache = self.inner.staging();
        let (r, done) = run_long(py, progress, |p| {
            let store = |hash: &str, bytes: &[u8]| cache.store_new_bytes(hash, bytes);
            let hashed = digest::hash_tree_storing(
                &path,
                &opts,
                db.as_deref(),
                p,
                write_while_hashing.then_some(&store as digest::StoreSmall<'_>),
                !linking,
            );
            let mut tree = match hashed {
                Ok(tree) => tree,
                Err(e) => {
                    // Keep what was stored: a rerun goes on from there.
                    let _ = cache.publish_staged();
                    return Err(e);
                }
            };
            let done = cache.insert_tree(&tree, mode, settle(normalize), jobs, p)?;
            if let Some(db) = db.as_deref().filter(|_| linking) {
                digest::record_relinked(&path, &mut tree, &opts, db)?;
            }
            Ok((tree, done))
        })?;
        Ok(TreeHash {
            linked_in_place: done.linked,
            ..TreeHash::new(path, r)
        })
    }

    /// Reads a `.dir` object as `(relpath, md5)` pairs.
    fn read_manifest(&self, py: Python<'_>, hash: &str) -> PyResult<Vec<(OsString, String)>> {
        let entries = py
            .detach(|| self.inner.read_manifest(hash))
            .map_err(to_py)?;
        Ok(entries
            .into_iter()
            .map(|e| (os(&e.relpath), e.hash))
            .collect())
    }

    /// How many of a `.dir` object's file objects the cache lacks (each id
    /// counted once); fails when the `.dir` object is missing or unreadable.
    #[pyo3(signature = (hash, jobs=0))]
    fn tree_missing(&self, py: Python<'_>, hash: &str, jobs: usize) -> PyResult<usize> {
        py.detach(|| {
            let mut ids: Vec<String> = self
                .inner
                .read_manifest(hash)?
                .into_iter()
                .map(|e| e.hash)
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let present = self.inner.contains_many(&ids, jobs)?;
            Ok(present.iter().filter(|p| !**p).count())
        })
        .map_err(to_py)
    }

    /// Rehashes objects (all when `hashes` is None); returns `(hash, actual)` for corrupt ones.
    #[pyo3(signature = (hashes=None, jobs=0, progress=None))]
    fn verify(
        &self,
        py: Python<'_>,
        hashes: Option<Vec<String>>,
        jobs: usize,
        progress: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<(String, String)>> {
        run_long(py, progress, |p| {
            let hashes = match hashes {
                Some(h) => h,
                None => self.inner.list()?,
            };
            self.inner.verify_many(&hashes, jobs, p)
        })
    }

    /// Lists the object ids present.
    fn list(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        py.detach(|| self.inner.list()).map_err(to_py)
    }

    /// Deletes an object; returns whether it existed.
    fn remove(&self, hash: &str) -> PyResult<bool> {
        self.inner.remove(hash).map_err(to_py)
    }

    /// Tells which of `hashes` are present: returns those ids, in one call
    /// (one directory listing per prefix where that beats a stat per object).
    #[pyo3(signature = (hashes, jobs=0))]
    fn contains_many(
        &self,
        py: Python<'_>,
        hashes: Vec<String>,
        jobs: usize,
    ) -> PyResult<Vec<String>> {
        let present = py
            .detach(|| self.inner.contains_many(&hashes, jobs))
            .map_err(to_py)?;
        Ok(hashes
            .into_iter()
            .zip(present)
            .filter_map(|(h, p)| p.then_some(h))
            .collect())
    }

    /// Copies objects into `dest` (another cache, or a local remote in the
    /// cache layout); returns `(copied, skipped, missing)`: ids copied, how many
    /// `dest` already had, ids this cache lacks.
    #[pyo3(signature = (dest, hashes, jobs=0, progress=None))]
    fn transfer(
        &self,
        py: Python<'_>,
        dest: &Bound<'_, Cache>,
        hashes: Vec<String>,
        jobs: usize,
        progress: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(Vec<String>, usize, Vec<String>)> {
        let dest = &dest.get().inner;
        let r = run_long(py, progress, |p| {
            self.inner.transfer_to(dest, &hashes, jobs, p)
        })?;
        Ok((r.copied, r.skipped, r.missing))
    }

    /// Makes directory `dest` match the tree object `dir_hash`.
    ///
    /// `within`: only the paths under these (relative to `dest`, `/`-separated).
    /// `keep_empty_dirs`: leave empty directories below `dest` (a relink after saving it).
    /// `plan_only`: change nothing; `linked` and `removed` say what would change.
    /// `record`: remember a complete checkout's files in `state` (for md5 trees).
    #[pyo3(signature = (dir_hash, dest, link_types="reflink,copy", force=false, relink=false, jobs=0, ignore_root=None, state=None, progress=None, within=None, keep_empty_dirs=false, plan_only=false, record=false))]
    #[allow(clippy::too_many_arguments)]
    fn checkout_tree(
        &self,
        py: Python<'_>,
        dir_hash: &str,
        dest: PathBuf,
        link_types: &str,
        force: bool,
        relink: bool,
        jobs: usize,
        ignore_root: Option<PathBuf>,
        state: Option<&Bound<'_, State>>,
        progress: Option<&Bound<'_, PyAny>>,
        within: Option<Vec<PathBuf>>,
        keep_empty_dirs: bool,
        plan_only: bool,
        record: bool,
    ) -> PyResult<CheckoutResult> {
        let linker = Linker::new(parse_link_types(link_types).map_err(to_py)?);
        let opts = CheckoutOptions {
            force,
            relink,
            jobs,
            ignore_root,
            keep_empty_dirs,
            plan_only,
            record,
        };
        let within: Vec<Vec<u8>> = within
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.into_os_string().into_vec())
            .collect();
        let db = state_of(state);
        let r = run_long(py, progress, |p| {
            checkout_tree_within(
                &self.inner,
                &linker,
                dir_hash,
                &dest,
                &within,
                &opts,
                db.as_deref(),
                p,
            )
        })?;
        Ok(r.into())
    }

    /// Materialises `(dest, md5, isexec)` items from the cache.
    ///
    /// `rewrite`: write every item whatever stands there (a directory only with `force`).
    /// `plan_only`: change nothing; `linked` says what would be written.
    /// `record`: remember the files written in `state` (for md5 objects).
    #[pyo3(signature = (items, link_types="reflink,copy", force=false, relink=false, jobs=0, state=None, progress=None, rewrite=false, plan_only=false, record=false))]
    #[allow(clippy::too_many_arguments)]
    fn checkout_files(
        &self,
        py: Python<'_>,
        items: Vec<(PathBuf, String, bool)>,
        link_types: &str,
        force: bool,
        relink: bool,
        jobs: usize,
        state: Option<&Bound<'_, State>>,
        progress: Option<&Bound<'_, PyAny>>,
        rewrite: bool,
        plan_only: bool,
        record: bool,
    ) -> PyResult<CheckoutResult> {
        let linker = Linker::new(parse_link_types(link_types).map_err(to_py)?);
        let opts = CheckoutOptions {
            force,
            relink,
            jobs,
            ignore_root: None,
            plan_only,
            record,
            ..Default::default()
        };
        let items: Vec<CheckoutItem> = items
            .into_iter()
            .map(|(dest, hash, isexec)| CheckoutItem {
                dest,
                hash,
                isexec,
                rewrite,
            })
            .collect();
        let db = state_of(state);
        let objects: Vec<PathBuf> = items
            .iter()
            .filter_map(|i| self.inner.object_path(&i.hash).ok())
            .collect();
        let small =
            objects.len() == items.len() && is_small_work(objects.iter().map(PathBuf::as_path));
        let r = run_small_or_long(py, progress, small, |p| {
            checkout_files(&self.inner, &linker, &items, &opts, db.as_deref(), p)
        })?;
        Ok(r.into())
    }
}

/// The `mlvc._core` module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    m.add_class::<FileHash>()?;
    m.add_class::<TreeHash>()?;
    m.add_class::<WalkedFile>()?;
    m.add_class::<CheckoutResult>()?;
    m.add_class::<State>()?;
    m.add_class::<Cache>()?;
    m.add_function(wrap_pyfunction!(hash_file, m)?)?;
    m.add_function(wrap_pyfunction!(hash_files, m)?)?;
    m.add_function(wrap_pyfunction!(hash_tree, m)?)?;
    m.add_function(wrap_pyfunction!(walk, m)?)?;
    m.add_function(wrap_pyfunction!(walk_with_dirs, m)?)?;
    m.add_function(wrap_pyfunction!(ignored_by, m)?)?;
    m.add_function(wrap_pyfunction!(write_new_file, m)?)?;
    m.add_function(wrap_pyfunction!(make_private, m)?)?;
    m.add_function(wrap_pyfunction!(build_manifest, m)?)?;
    m.add_function(wrap_pyfunction!(parse_manifest, m)?)?;
    m.add_function(wrap_pyfunction!(supported_link_types, m)?)?;
    git::register(m)?;
    Ok(())
}
