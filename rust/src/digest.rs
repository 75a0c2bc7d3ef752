//! Hashing many files and whole trees in parallel, consulting the state cache.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Error, IoContext, Result};
use crate::hash::{hash_regular_file, special_kind, HashAlgorithm, DEFAULT_BUFFER_SIZE};
use crate::progress::Progress;
use crate::state::{now_ns, StateDb, StateSnapshot};
use crate::tree;
use crate::walk::{absolute, walk_map, FileMeta, WalkEntry, WalkOptions};

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
    /// Whether the path is a symlink whose target was hashed.
    pub is_symlink: bool,
}

/// A hashed directory.
#[derive(Debug, Clone)]
pub struct TreeResult {
    /// The directory's object id (`<hash>.dir`).
    pub hash: String,
    /// The manifest bytes the id is the hash of.
    pub manifest: Vec<u8>,
    /// Total bytes of all files.
    pub size: u64,
    /// Files, in manifest order.
    pub files: Vec<FileResult>,
}

/// Builds a rayon pool with `jobs` threads (0 = cores).
pub fn pool(jobs: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .thread_name(|i| format!("mlvc-worker-{i}"))
        .build()
        .map_err(|e| Error::InvalidArgument(format!("cannot start worker threads: {e}")))
}

/// Turns a walked entry into a result: the remembered hash when `known`, else
/// the hash of its content.
fn digest_entry(
    e: WalkEntry,
    known: Option<String>,
    opts: &DigestOptions,
    progress: &Progress,
) -> Result<FileResult> {
    let from_state = known.is_some();
    let hash = match known {
        Some(h) => {
            progress.add_bytes(e.meta.size);
            h
        }
        None => {
            hash_regular_file(
                &e.path,
                opts.algorithm,
                opts.buffer_size,
                Some(progress),
                Some(e.meta.size),
            )?
            .hash
        }
    };
    progress.add_file(0);
    Ok(FileResult {
        path: e.path,
        relpath: e.relpath,
        hash,
        meta: e.meta,
        from_state,
        is_symlink: e.is_symlink,
    })
}

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
    let results: Vec<FileResult> = pool(opts.jobs)?.install(|| {
        entries
            .into_par_iter()
            .zip(known.into_par_iter())
            .map(|(e, known)| {
                progress.check()?;
                digest_entry(e, known, opts, progress)
            })
            .collect::<Result<Vec<_>>>()
    })?;
    if let Some(db) = state {
        db.record_many(algo, &fresh_rows(&results), started)?;
    }
    Ok(results)
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
    let walk_opts = WalkOptions {
        ignore_root: opts.ignore_root.clone(),
        threads: opts.jobs,
        remove_stale_temps: false,
    };
    let algo = opts.algorithm.name();
    let abs_root = absolute(root)?;
    let mut prefix = abs_root.as_os_str().as_bytes().to_vec();
    if prefix.last() != Some(&b'/') {
        prefix.push(b'/');
    }
    let snapshot = match state {
        Some(db) => db.snapshot(algo, &prefix)?,
        None => StateSnapshot::default(),
    };
    let started = now_ns();
    // Hash on the walking threads: no second pass over 50k entries.
    let mut files = walk_map(&abs_root, &walk_opts, Some(progress), |e| {
        let known = snapshot.get(&e.relpath, &e.meta).map(str::to_string);
        digest_entry(e, known, opts, progress)
    })?;
    if let Some(db) = state {
        let fresh = fresh_rows(&files);
        // An unchanged tree leaves the database untouched: a no-op stays read-only.
        if !fresh.is_empty() || files.len() != snapshot.len() {
            db.record_many(algo, &fresh, started)?;
            let whole: Vec<(&[u8], FileMeta, &str, i64)> = files
                .iter()
                .map(|r| {
                    let rec = if r.from_state {
                        snapshot.recorded_ns(&r.relpath).unwrap_or(started)
                    } else {
                        started
                    };
                    (r.relpath.as_slice(), r.meta, r.hash.as_str(), rec)
                })
                .collect();
            db.record_tree(algo, &prefix, &whole)?;
        }
    }
    tree::sort_by_relpath(&mut files, |f| &f.relpath);
    let key = match opts.algorithm {
        HashAlgorithm::Md5 | HashAlgorithm::Md5Dos2Unix => "md5",
        HashAlgorithm::Blake3 => "blake3",
    };
    let manifest = tree::serialize_pairs(
        files
            .iter()
            .map(|f| (f.relpath.as_slice(), f.hash.as_str())),
        key,
    );
    let hash = match opts.algorithm {
        HashAlgorithm::Blake3 => format!(
            "{}.dir",
            crate::hash::hash_bytes(&manifest, HashAlgorithm::Blake3)
        ),
        _ => tree::dir_hash(&manifest),
    };
    let size = files.iter().map(|f| f.meta.size).sum();
    Ok(TreeResult {
        hash,
        manifest,
        size,
        files,
    })
}
