//! Checkout: making workspace files match cache objects, in parallel, one
//! atomic rename per file, never destroying content that exists nowhere else.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::cache::ObjectCache;
use crate::digest::{hash_entries, pool, DigestOptions};
use crate::error::{Error, IoContext, Result};
use crate::link::{is_linked_to, LinkType, Linker};
use crate::progress::Progress;
use crate::state::StateDb;
use crate::tree::TreeEntry;
use crate::walk::{walk_files, FileMeta, WalkEntry, WalkOptions};

/// One file to materialise.
#[derive(Debug, Clone)]
pub struct CheckoutItem {
    /// Workspace path to write.
    pub dest: PathBuf,
    /// The object's md5.
    pub hash: String,
    /// Whether to give the owner the execute bit (copies and reflinks only).
    pub isexec: bool,
}

/// Options that change what checkout may do.
#[derive(Debug, Clone, Default)]
pub struct CheckoutOptions {
    /// Replace workspace content even when no copy of it exists in the cache.
    pub force: bool,
    /// Re-link files whose content is already right (e.g. after changing `cache.type`).
    pub relink: bool,
    /// Worker threads; 0 picks the number of cores.
    pub jobs: usize,
    /// `.dvcignore` root for walking existing directories.
    pub ignore_root: Option<PathBuf>,
}

/// What a checkout did, or would have refused to do.
#[derive(Debug, Clone, Default)]
pub struct CheckoutReport {
    /// Files (re)linked from the cache.
    pub linked: Vec<PathBuf>,
    /// Files already right, left alone.
    pub unchanged: u64,
    /// Workspace files not in the tree that were deleted.
    pub removed: Vec<PathBuf>,
    /// Files whose current content would be lost; nothing was changed when any exist.
    pub conflicts: Vec<PathBuf>,
    /// Files whose object is not in the cache (skipped).
    pub missing: Vec<(PathBuf, String)>,
    /// The link type used, when anything was linked.
    pub link_type: Option<LinkType>,
}

enum Plan {
    Keep,
    Link,
    Conflict,
    Missing,
}

/// The current content hash of existing regular files, via the state cache.
fn current_hashes(
    paths: &[&Path],
    state: Option<&StateDb>,
    jobs: usize,
    progress: &Progress,
) -> Result<Vec<Option<String>>> {
    let mut entries = Vec::new();
    let mut index = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        if let Ok(m) = std::fs::metadata(p) {
            if m.is_file() {
                entries.push(WalkEntry {
                    relpath: Vec::new(),
                    path: p.to_path_buf(),
                    meta: FileMeta::from_metadata(&m),
                    is_symlink: false,
                });
                index.push(i);
            }
        }
    }
    let opts = DigestOptions {
        jobs,
        ..DigestOptions::default()
    };
    let hashed = hash_entries(entries, &opts, state, progress)?;
    let mut out = vec![None; paths.len()];
    for (i, r) in index.into_iter().zip(hashed) {
        out[i] = Some(r.hash);
    }
    Ok(out)
}

/// Materialises `items` from the cache.
///
/// A destination holding other content is replaced only when that content is in
/// the cache (so nothing is lost) or `force` is set; otherwise it is reported in
/// `conflicts` and the checkout changes nothing at all.
pub fn checkout_files(
    cache: &ObjectCache,
    linker: &Linker,
    items: &[CheckoutItem],
    opts: &CheckoutOptions,
    state: Option<&StateDb>,
    progress: &Progress,
) -> Result<CheckoutReport> {
    checkout_with_removals(cache, linker, items, &[], opts, state, progress)
}

fn checkout_with_removals(
    cache: &ObjectCache,
    linker: &Linker,
    items: &[CheckoutItem],
    extra: &[PathBuf],
    opts: &CheckoutOptions,
    state: Option<&StateDb>,
    progress: &Progress,
) -> Result<CheckoutReport> {
    let mut report = CheckoutReport::default();
    let objects: Vec<PathBuf> = items
        .iter()
        .map(|i| cache.object_path(&i.hash))
        .collect::<Result<_>>()?;

    // Plan: decide for every file before touching any.
    let existing: Vec<&Path> = items.iter().map(|i| i.dest.as_path()).collect();
    let need_hash: Vec<&Path> = existing
        .iter()
        .zip(&objects)
        .filter(|(d, o)| !is_linked_to(o, d))
        .map(|(d, _)| *d)
        .collect();
    let hashed = current_hashes(&need_hash, state, opts.jobs, progress)?;
    let mut current = std::collections::HashMap::new();
    for (p, h) in need_hash.iter().zip(hashed) {
        current.insert(p.to_path_buf(), h);
    }
    let mut plans = Vec::with_capacity(items.len());
    for (item, obj) in items.iter().zip(&objects) {
        let plan = if !obj.is_file() {
            Plan::Missing
        } else {
            match std::fs::symlink_metadata(&item.dest) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Plan::Link,
                Err(e) => return Err(Error::io(&item.dest, e)),
                Ok(m) if m.is_dir() => {
                    if opts.force {
                        Plan::Link
                    } else {
                        Plan::Conflict
                    }
                }
                Ok(_) => match current.get(&item.dest) {
                    None => {
                        if opts.relink {
                            Plan::Link
                        } else {
                            Plan::Keep
                        }
                    }
                    Some(Some(h)) if *h == item.hash => {
                        if opts.relink || needs_mode_fix(&item.dest, item.isexec) {
                            Plan::Link
                        } else {
                            Plan::Keep
                        }
                    }
                    Some(Some(h)) if opts.force || cache.contains(h)? => Plan::Link,
                    // A dangling symlink or unreadable entry: nothing to lose but the link.
                    Some(None) => Plan::Link,
                    Some(Some(_)) => Plan::Conflict,
                },
            }
        };
        plans.push(plan);
    }
    let mut removals = Vec::new();
    if !extra.is_empty() {
        let hashes = current_hashes(
            &extra.iter().map(|p| p.as_path()).collect::<Vec<_>>(),
            state,
            opts.jobs,
            progress,
        )?;
        for (p, h) in extra.iter().zip(hashes) {
            let safe = match &h {
                Some(h) => opts.force || cache.contains(h)?,
                None => true,
            };
            if safe {
                removals.push(p.clone());
            } else {
                report.conflicts.push(p.clone());
            }
        }
    }
    for (item, plan) in items.iter().zip(&plans) {
        match plan {
            Plan::Conflict => report.conflicts.push(item.dest.clone()),
            Plan::Missing => report.missing.push((item.dest.clone(), item.hash.clone())),
            Plan::Keep => report.unchanged += 1,
            Plan::Link => {}
        }
    }
    if !report.conflicts.is_empty() {
        report.conflicts.sort();
        return Ok(report);
    }

    // Apply: removals first, then one file serially to settle the link type, then the rest in parallel.
    for p in &removals {
        match std::fs::remove_file(p) {
            Ok(()) => report.removed.push(p.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(p, e)),
        }
    }
    let todo: Vec<(&CheckoutItem, &PathBuf)> = items
        .iter()
        .zip(&objects)
        .zip(&plans)
        .filter(|(_, p)| matches!(p, Plan::Link))
        .map(|(io, _)| io)
        .collect();
    let link_one = |item: &CheckoutItem, obj: &PathBuf| -> Result<()> {
        progress.check()?;
        if let Some(parent) = item.dest.parent() {
            if !parent.is_dir() {
                std::fs::create_dir_all(parent).at(parent)?;
            }
        }
        if opts.force {
            if let Ok(m) = std::fs::symlink_metadata(&item.dest) {
                if m.is_dir() {
                    std::fs::remove_dir_all(&item.dest).at(&item.dest)?;
                }
            }
        }
        linker.link(obj, &item.dest, item.isexec)?;
        progress.add_file(0);
        Ok(())
    };
    if let Some((first, rest)) = todo.split_first() {
        link_one(first.0, first.1)?;
        pool(opts.jobs)?.install(|| rest.par_iter().try_for_each(|(i, o)| link_one(i, o)))?;
    }
    report.linked = todo.iter().map(|(i, _)| i.dest.clone()).collect();
    report.link_type = linker.settled();
    Ok(report)
}

fn needs_mode_fix(dest: &Path, isexec: bool) -> bool {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::symlink_metadata(dest) {
        Ok(m) if m.file_type().is_file() && m.permissions().mode() & 0o222 != 0 => {
            (m.permissions().mode() & 0o100 != 0) != isexec
        }
        _ => false,
    }
}

/// Makes the directory `dest` match the tree object `dir_hash`: missing and
/// changed files are linked, files not in the tree are deleted (subject to the
/// same rule as changed files), empty directories left behind are removed.
pub fn checkout_tree(
    cache: &ObjectCache,
    linker: &Linker,
    dir_hash: &str,
    dest: &Path,
    opts: &CheckoutOptions,
    state: Option<&StateDb>,
    progress: &Progress,
) -> Result<CheckoutReport> {
    let entries: Vec<TreeEntry> = cache.read_manifest(dir_hash)?;
    if let Ok(m) = std::fs::symlink_metadata(dest) {
        if !m.is_dir() && !opts.force {
            let mut r = CheckoutReport::default();
            r.conflicts.push(dest.to_path_buf());
            return Ok(r);
        }
        if !m.is_dir() {
            std::fs::remove_file(dest).at(dest)?;
        }
    }
    let items: Vec<CheckoutItem> = entries
        .iter()
        .map(|e| CheckoutItem {
            dest: dest.join(OsStr::from_bytes(&e.relpath)),
            hash: e.hash.clone(),
            isexec: false,
        })
        .collect();
    let wanted: HashSet<&[u8]> = entries.iter().map(|e| e.relpath.as_slice()).collect();
    let extra: Vec<PathBuf> = if dest.is_dir() {
        let walk_opts = WalkOptions {
            ignore_root: opts.ignore_root.clone(),
            threads: opts.jobs,
        };
        walk_files(dest, &walk_opts, Some(progress))?
            .into_iter()
            .filter(|w| !wanted.contains(w.relpath.as_slice()))
            .map(|w| w.path)
            .collect()
    } else {
        Vec::new()
    };
    let report = checkout_with_removals(cache, linker, &items, &extra, opts, state, progress)?;
    if report.conflicts.is_empty() {
        for p in &report.removed {
            prune_empty_parents(p, dest);
        }
    }
    Ok(report)
}

fn prune_empty_parents(removed: &Path, stop: &Path) {
    let mut dir = removed.parent();
    while let Some(d) = dir {
        if d == stop || !d.starts_with(stop) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}
