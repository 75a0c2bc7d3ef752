//! Checkout: making workspace files match cache objects, in parallel, one
//! atomic rename per file, never destroying content that exists nowhere else.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::cache::ObjectCache;
use crate::digest::{hash_entries, pool, snapshot_prefix, DigestOptions};
use crate::error::{Error, IoContext, Result};
use crate::hash::HashAlgorithm;
use crate::link::{add_owner_exec, LinkType, Linker, Target};
use crate::progress::Progress;
use crate::staged::{sweep_stale, StagedDir};
use crate::state::{now_ns, StateDb, TreeRow};
use crate::tree::{self, TreeEntry};
use crate::walk::{absolute, walk_files_and_dirs, DirsWanted, FileMeta, WalkEntry, WalkOptions};

/// One file to materialise.
#[derive(Debug, Clone)]
pub struct CheckoutItem {
    /// Workspace path to write.
    pub dest: PathBuf,
    /// The object's md5.
    pub hash: String,
    /// Whether the file is recorded executable: new copies and reflinks get the
    /// owner's execute bit.
    pub isexec: bool,
    /// Write it from the cache whatever stands there (but a directory, which
    /// only `force` replaces): even when it is right, or holds unsaved changes.
    ///
    /// DVC-compat: so DVC restores a file that a target path goes through
    /// (`dvc checkout data/a.txt/x` of a tracked `data/a.txt`).
    pub rewrite: bool,
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
    /// Leave empty directories inside a tree's destination (a relink after saving
    /// it, which DVC does so); otherwise they go, as the tree has none.
    pub keep_empty_dirs: bool,
    /// Decide and report without changing anything: `linked` and `removed` list
    /// what would be written and deleted. Lets a caller check several outputs
    /// for conflicts before changing any of them.
    pub plan_only: bool,
    /// Remember in the state database what a complete checkout placed (by md5),
    /// so the next `status` or checkout trusts the files without reading them.
    /// Off for objects named by another hash (DVC 2's md5-dos2unix).
    pub record: bool,
}

/// What a checkout did, or would have refused to do.
#[derive(Debug, Clone, Default)]
pub struct CheckoutReport {
    /// Files (re)linked from the cache, or given the owner's execute bit.
    pub linked: Vec<PathBuf>,
    /// How many of `linked` did not exist before.
    pub created: u64,
    /// Files already right, left alone.
    pub unchanged: u64,
    /// Workspace files not in the tree that were deleted, then the directories
    /// that left empty (DVC counts both as deleted).
    pub removed: Vec<PathBuf>,
    /// Files whose current content would be lost; nothing was changed when any exist.
    pub conflicts: Vec<PathBuf>,
    /// Files whose object is not in the cache (skipped).
    pub missing: Vec<(PathBuf, String)>,
    /// The link type used, when anything was linked.
    pub link_type: Option<LinkType>,
    /// With [`CheckoutOptions::record`]: for each of `linked`, its index among the
    /// items checked out, and its status as read right after it was written (none
    /// if that read failed).
    pub placed: Vec<(usize, Option<FileMeta>)>,
}

/// What to do with one item, decided before anything is changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Already right.
    Keep,
    /// (Re)create from the cache; `existing` says what stands there now.
    Link { existing: Existing },
    /// Its content is right; its execute bit is not (it gets the owner's).
    Chmod,
    /// Its content would be lost.
    Conflict,
    /// The object is not in the cache (and what stands there, if anything, may go).
    Missing,
    /// Something else stands there, or a link to the object whose content the
    /// state does not vouch for; its content decides (after hashing).
    /// `cached`: whether the object is in the cache; `linked`: how it links to it.
    Check {
        mode: u32,
        cached: bool,
        linked: Linked,
    },
}

/// Whether a file found in place is a link to its object, and of which type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Linked {
    No,
    /// Of the preferred type: a relink would make this very link again.
    AsPreferred,
    /// Of another type: a relink replaces it (also when its execute bit is wrong).
    Otherwise,
}

/// What occupies a destination path before checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Existing {
    Nothing,
    File,
    Dir,
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
                    nlink: std::os::unix::fs::MetadataExt::nlink(&m),
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

/// At most this many items are checked out on the calling thread.
const FEW_ITEMS: usize = 8;

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
    let env = Env {
        cache,
        linker,
        opts,
        state,
        progress,
    };
    let report = checkout_with_removals(&env, items, &[], &[], false, false)?;
    let copied = matches!(report.link_type, Some(LinkType::Copy | LinkType::Reflink));
    if let Some(db) = state.filter(|_| opts.record && !opts.plan_only && copied) {
        // As for a tree (`record_checked_out`): what was copied is remembered. A
        // link is its object, which only a record made before can vouch for.
        let linked_at = now_ns();
        let mut rows = Vec::new();
        for &(n, meta) in &report.placed {
            if let Some(meta) = meta {
                rows.push((absolute(&items[n].dest)?, meta, items[n].hash.as_str()));
            }
        }
        let rows: Vec<(&Path, FileMeta, &str)> =
            rows.iter().map(|(p, m, h)| (p.as_path(), *m, *h)).collect();
        db.record_many(HashAlgorithm::Md5.name(), &rows, linked_at)?;
    }
    Ok(report)
}

/// Decides an item's plan from one `lstat` of the destination (none when
/// the destination directory was just found absent).
fn first_look(
    item: &CheckoutItem,
    obj: &Path,
    dest_dir_absent: bool,
    opts: &CheckoutOptions,
    preferred: LinkType,
) -> Result<Plan> {
    use std::os::unix::fs::MetadataExt;
    let obj_meta = match std::fs::symlink_metadata(obj) {
        Ok(m) if m.is_file() => Some(m),
        Ok(_) => None,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(obj, e)),
    };
    let absent = match &obj_meta {
        Some(_) => Plan::Link {
            existing: Existing::Nothing,
        },
        None => Plan::Missing,
    };
    if dest_dir_absent {
        return Ok(absent);
    }
    let m = match std::fs::symlink_metadata(&item.dest) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(absent),
        Err(e) => return Err(Error::io(&item.dest, e)),
    };
    let relink = Plan::Link {
        existing: Existing::File,
    };
    if m.is_dir() {
        return Ok(match (opts.force, &obj_meta) {
            (false, _) => Plan::Conflict,
            (true, Some(_)) => Plan::Link {
                existing: Existing::Dir,
            },
            (true, None) => Plan::Missing,
        });
    }
    // DVC-compat: without its object, a file that already holds the recorded
    // content is no failure; one that does not is a conflict when unsaved.
    let Some(obj_meta) = obj_meta else {
        return Ok(if item.rewrite {
            Plan::Missing
        } else {
            Plan::Check {
                mode: m.mode(),
                cached: false,
                linked: Linked::No,
            }
        });
    };
    if item.rewrite {
        return Ok(relink);
    }
    let (linked, linked_as) = if m.file_type().is_symlink() {
        (
            std::fs::read_link(&item.dest).is_ok_and(|t| t == obj),
            LinkType::Symlink,
        )
    } else {
        (
            m.dev() == obj_meta.dev() && m.ino() == obj_meta.ino(),
            LinkType::Hardlink,
        )
    };
    // DVC-compat: a link's content is hashed too (the state answers for an
    // unchanged one): data written through it changed the object itself, and DVC
    // refuses to replace such a file without `--force`. Its execute bit is its
    // object's. Relinking would make a link of the preferred type again (`add`
    // with hardlinks leaves every file so): it is kept.
    Ok(Plan::Check {
        mode: if linked { obj_meta.mode() } else { m.mode() },
        cached: true,
        linked: match (linked, linked_as == preferred) {
            (false, _) => Linked::No,
            (true, true) => Linked::AsPreferred,
            (true, false) => Linked::Otherwise,
        },
    })
}

/// What every step of one checkout shares.
struct Env<'a> {
    cache: &'a ObjectCache,
    linker: &'a Linker,
    opts: &'a CheckoutOptions,
    state: Option<&'a StateDb>,
    progress: &'a Progress,
}

/// Checks `items` out, deleting `extra` (files not in the tree). Items marked in
/// `known_right` (when not empty) are known to hold their content already. With
/// `dest_dir_absent` nothing stands at any destination; with `private` the
/// destinations are in a private directory ([`crate::staged`]) as well.
fn checkout_with_removals(
    env: &Env<'_>,
    items: &[CheckoutItem],
    extra: &[PathBuf],
    known_right: &[Option<i64>],
    dest_dir_absent: bool,
    private: bool,
) -> Result<CheckoutReport> {
    let Env {
        cache,
        linker,
        opts,
        state,
        progress,
    } = *env;
    let mut report = CheckoutReport::default();
    let workers = pool(opts.jobs)?;
    // A few files (one stage's outputs) are quicker done here than handed to
    // the workers and waited for.
    let serial = items.len() <= FEW_ITEMS;
    let objects: Vec<PathBuf> = items
        .iter()
        .map(|i| cache.object_path(&i.hash))
        .collect::<Result<_>>()?;

    // Plan: decide for every file before touching any.
    let look = |(i, (item, obj)): (usize, (&CheckoutItem, &PathBuf))| {
        if known_right.get(i).is_some_and(Option::is_some) {
            return Ok(Plan::Keep);
        }
        first_look(item, obj, dest_dir_absent, opts, linker.preferred())
    };
    let mut plans: Vec<Plan> = if serial {
        items
            .iter()
            .zip(&objects)
            .enumerate()
            .map(look)
            .collect::<Result<_>>()?
    } else {
        workers.install(|| {
            items
                .par_iter()
                .zip(objects.par_iter())
                .enumerate()
                .map(look)
                .collect::<Result<_>>()
        })?
    };
    let unknown: Vec<usize> = (0..items.len())
        .filter(|&i| matches!(plans[i], Plan::Check { .. }))
        .collect();
    if !unknown.is_empty() {
        let paths: Vec<&Path> = unknown.iter().map(|&i| items[i].dest.as_path()).collect();
        let hashes = current_hashes(&paths, state, opts.jobs, progress)?;
        for (&i, h) in unknown.iter().zip(hashes) {
            let Plan::Check {
                mode,
                cached,
                linked,
            } = plans[i]
            else {
                continue;
            };
            let item = &items[i];
            // What replaces it: the object, or nothing when the object is missing.
            let relink = if cached {
                Plan::Link {
                    existing: Existing::File,
                }
            } else {
                Plan::Missing
            };
            plans[i] = match h {
                Some(h) if h == item.hash => {
                    if opts.relink && cached && linked == Linked::Otherwise {
                        relink
                    } else if (mode & 0o111 != 0) != item.isexec {
                        // DVC-compat: an execute bit that differs from the record is
                        // a change; DVC only ever adds the owner's bit (it never takes
                        // one away) and counts the file as modified, relinking or not.
                        Plan::Chmod
                    } else if opts.relink && cached && linked == Linked::No {
                        relink
                    } else {
                        Plan::Keep
                    }
                }
                Some(h) if opts.force || cache.contains(&h)? => relink,
                Some(_) => Plan::Conflict,
                // A dangling symlink or special entry: nothing to lose but the link.
                None => relink,
            };
        }
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
            Plan::Link { .. } | Plan::Check { .. } | Plan::Chmod => {}
        }
    }
    if !report.conflicts.is_empty() {
        report.conflicts.sort();
        return Ok(report);
    }
    if opts.plan_only {
        for (item, plan) in items.iter().zip(&plans) {
            if let Plan::Link { existing } = plan {
                report.linked.push(item.dest.clone());
                report.created += u64::from(*existing == Existing::Nothing);
            } else if *plan == Plan::Chmod {
                report.linked.push(item.dest.clone());
            }
        }
        report.removed = removals;
        return Ok(report);
    }

    // Apply: removals, parent directories (once each), one file serially to
    // settle the link type, then the rest in parallel.
    for p in &removals {
        match std::fs::remove_file(p) {
            Ok(()) => report.removed.push(p.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(p, e)),
        }
    }
    // With each item its index, for `placed`.
    let todo: Vec<(usize, &CheckoutItem, &PathBuf, Existing)> = items
        .iter()
        .zip(&objects)
        .zip(&plans)
        .enumerate()
        .filter_map(|(n, ((i, o), p))| match p {
            Plan::Link { existing } => Some((n, i, o, *existing)),
            _ => None,
        })
        .collect();
    let mut parents: Vec<&Path> = todo
        .iter()
        .filter_map(|(_, i, _, _)| i.dest.parent())
        .collect();
    parents.sort_unstable();
    parents.dedup();
    for parent in parents {
        std::fs::create_dir_all(parent).at(parent)?;
    }
    // Read at once, so a later write by someone else shows in the file's status.
    let status_of = |path: &Path| {
        opts.record
            .then(|| {
                std::fs::metadata(path)
                    .ok()
                    .map(|m| FileMeta::from_metadata(&m))
            })
            .flatten()
    };
    let link_one = |&(n, item, obj, existing): &(usize, &CheckoutItem, &PathBuf, Existing)| {
        progress.check()?;
        if existing == Existing::Dir {
            std::fs::remove_dir_all(&item.dest).at(&item.dest)?;
        }
        let target = match existing {
            Existing::Nothing if private => Target::Private,
            Existing::Nothing => Target::Absent,
            Existing::File | Existing::Dir => Target::Occupied,
        };
        linker.link(obj, &item.dest, item.isexec, target)?;
        progress.add_file(0);
        Ok((n, status_of(&item.dest)))
    };
    if let Some((first, rest)) = todo.split_first() {
        report.placed.push(link_one(first)?);
        let rest: Vec<(usize, Option<FileMeta>)> = if serial {
            rest.iter().map(link_one).collect::<Result<_>>()?
        } else {
            workers.install(|| rest.par_iter().map(link_one).collect::<Result<_>>())?
        };
        report.placed.extend(rest);
    }
    report.linked = todo.iter().map(|(_, i, _, _)| i.dest.clone()).collect();
    report.created = todo
        .iter()
        .filter(|(_, _, _, e)| *e == Existing::Nothing)
        .count() as u64;
    for (n, (item, plan)) in items.iter().zip(&plans).enumerate() {
        if *plan == Plan::Chmod {
            add_owner_exec(&item.dest).at(&item.dest)?;
            report.linked.push(item.dest.clone());
            report.placed.push((n, status_of(&item.dest)));
        }
    }
    report.link_type = linker.settled();
    Ok(report)
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
    checkout_tree_within(cache, linker, dir_hash, dest, &[], opts, state, progress)
}

/// Whether `path` lies below `dir` (`/`-separated, relative).
fn is_below(path: &[u8], dir: &[u8]) -> bool {
    path.starts_with(dir) && path.get(dir.len()) == Some(&b'/')
}

/// Whether `relpath` is one of `within` or lies below one (all when `within` is empty).
fn covered(relpath: &[u8], within: &[Vec<u8>]) -> bool {
    within.is_empty()
        || within
            .iter()
            .any(|w| relpath == w.as_slice() || is_below(relpath, w))
}

/// Whether one of `within` goes through the file `relpath` (`a.txt/x` goes through `a.txt`).
fn passed_through(relpath: &[u8], within: &[Vec<u8>]) -> bool {
    within.iter().any(|w| is_below(w, relpath))
}

/// [`checkout_tree`] limited to the paths `within` (relative to `dest`, `/`-separated):
/// only the tree's files under them are linked and only the files under them that
/// are not in the tree are deleted; the rest of `dest` is left as it is. A file of
/// the tree that one of `within` goes through is written whatever stands there
/// (see [`CheckoutItem::rewrite`]).
///
/// DVC-compat: `dvc checkout DIR/PATH` of a tracked `DIR` works so.
#[allow(clippy::too_many_arguments)]
pub fn checkout_tree_within(
    cache: &ObjectCache,
    linker: &Linker,
    dir_hash: &str,
    dest: &Path,
    within: &[Vec<u8>],
    opts: &CheckoutOptions,
    state: Option<&StateDb>,
    progress: &Progress,
) -> Result<CheckoutReport> {
    let started = now_ns();
    if let Some(bad) = within
        .iter()
        .find(|w| w.starts_with(b"/") || w.split(|&b| b == b'/').any(|c| c == b".." || c == b"."))
    {
        return Err(Error::InvalidArgument(format!(
            "`{}` is not a plain path inside the directory",
            String::from_utf8_lossy(bad)
        )));
    }
    let all: Vec<TreeEntry> = cache.read_manifest(dir_hash)?;
    let entries: Vec<(&TreeEntry, bool)> = all
        .iter()
        .filter_map(|e| {
            if passed_through(&e.relpath, within) {
                Some((e, true))
            } else {
                covered(&e.relpath, within).then_some((e, false))
            }
        })
        .collect();
    if let Ok(m) = std::fs::symlink_metadata(dest) {
        if !m.is_dir() && !opts.force {
            let mut r = CheckoutReport::default();
            r.conflicts.push(dest.to_path_buf());
            return Ok(r);
        }
        if !m.is_dir() && !opts.plan_only {
            std::fs::remove_file(dest).at(dest)?;
        }
    }
    let dest_dir_absent = !dest.is_dir();
    // A whole directory where nothing stands is filled in a private one,
    // renamed into place at the end: its files need no atomic creation each.
    let staged = if dest_dir_absent && within.is_empty() && !entries.is_empty() && !opts.plan_only {
        if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).at(parent)?;
            sweep_stale(parent);
        }
        StagedDir::begin(dest, crate::staged::DIR_MODE).at(dest)?
    } else {
        None
    };
    let fill_at = staged
        .as_ref()
        .map_or_else(|| dest.to_path_buf(), |s| s.path().to_path_buf());
    let items: Vec<CheckoutItem> = entries
        .iter()
        .map(|&(e, rewrite)| CheckoutItem {
            dest: fill_at.join(OsStr::from_bytes(&e.relpath)),
            hash: e.hash.clone(),
            isexec: false,
            rewrite,
        })
        .collect();
    let wanted: HashSet<&[u8]> = entries.iter().map(|(e, _)| e.relpath.as_slice()).collect();
    let mut extra: Vec<PathBuf> = Vec::new();
    // The tree's files found in place (not symlinks), with the status the walk read.
    let mut found: HashMap<Vec<u8>, FileMeta> = HashMap::new();
    // DVC-compat: a tree has no empty directories, so checkout removes them.
    let mut empty_dirs: Vec<PathBuf> = Vec::new();
    if !dest_dir_absent {
        let walk_opts = WalkOptions {
            ignore_root: opts.ignore_root.clone(),
            threads: opts.jobs,
            // Checkout owns this directory: clear what killed writers left.
            remove_stale_temps: !opts.plan_only,
        };
        let roots: Vec<Vec<u8>> = if within.is_empty() {
            vec![Vec::new()]
        } else {
            within.to_vec()
        };
        for root in roots {
            let top = dest.join(OsStr::from_bytes(&root));
            let prefix = |rel: &[u8]| -> Vec<u8> {
                if root.is_empty() {
                    rel.to_vec()
                } else {
                    [root.as_slice(), b"/", rel].concat()
                }
            };
            match std::fs::symlink_metadata(&top) {
                Ok(m) if m.is_dir() => {
                    let (files, empty) =
                        walk_files_and_dirs(&top, &walk_opts, Some(progress), DirsWanted::Empty)?;
                    for w in files {
                        let rel = prefix(&w.relpath);
                        if !wanted.contains(rel.as_slice()) {
                            extra.push(w.path);
                        } else if !w.is_symlink {
                            found.insert(rel, w.meta);
                        }
                    }
                    if !opts.keep_empty_dirs {
                        empty_dirs.extend(empty);
                    }
                }
                Ok(_) if !wanted.contains(root.as_slice()) => extra.push(top),
                _ => {}
            }
        }
        // Nested `within` paths walk some files twice.
        extra.sort_unstable();
        extra.dedup();
    }
    let env = Env {
        cache,
        linker,
        opts,
        state,
        progress,
    };
    let known_right = known_in_place(&entries, &found, dest, opts, state)?;
    let done = checkout_with_removals(
        &env,
        &items,
        &extra,
        &known_right,
        dest_dir_absent,
        staged.is_some(),
    );
    let mut report = match staged {
        Some(staged) => {
            // Files written before a failure stay, as elsewhere: a rerun goes on.
            let published = staged.publish().at(dest);
            let mut report = done?;
            published?;
            let moved = |p: &mut PathBuf| {
                if let Ok(rel) = p.strip_prefix(&fill_at) {
                    *p = dest.join(rel);
                }
            };
            report.linked.iter_mut().for_each(&moved);
            report.missing.iter_mut().for_each(|(p, _)| moved(p));
            report
        }
        None => done?,
    };
    if opts.plan_only {
        if report.conflicts.is_empty() {
            empty_dirs.sort_unstable();
            report.removed.extend(empty_dirs);
        }
        return Ok(report);
    }
    if report.conflicts.is_empty() && !(report.removed.is_empty() && empty_dirs.is_empty()) {
        // Directories of the tree stay when emptied (their files may be outside `within`).
        let mut tree_dirs: HashSet<PathBuf> = HashSet::new();
        for e in &all {
            let mut d = dest.join(OsStr::from_bytes(&e.relpath));
            while d.pop() && d != dest && tree_dirs.insert(d.clone()) {}
        }
        let mut pruned = Vec::new();
        for p in &report.removed {
            prune_empty_parents(p, dest, &tree_dirs, &mut pruned);
        }
        empty_dirs.sort_unstable();
        for d in empty_dirs {
            if !tree_dirs.contains(&d) && std::fs::remove_dir(&d).is_ok() {
                pruned.push(d.clone());
                prune_empty_parents(&d, dest, &tree_dirs, &mut pruned);
            }
        }
        report.removed.extend(pruned);
    }
    // Nothing placed and every file answered by the snapshot: it still holds.
    let snapshot_holds = report.linked.is_empty()
        && known_right.len() == all.len()
        && known_right.iter().all(Option::is_some);
    if let Some(db) = state.filter(|_| opts.record && within.is_empty() && !snapshot_holds) {
        if report.conflicts.is_empty() && report.missing.is_empty() {
            let workers = pool(opts.jobs)?;
            workers.install(|| {
                record_checked_out(db, &all, &known_right, &found, &report, dest, started)
            })?;
        }
    }
    Ok(report)
}

/// Records a whole tree just checked out at `dest` as the state's snapshot of
/// it, as if it had been hashed: files known in place keep the proof they had
/// (and the status `found` in place); files linked now, with the status read
/// right after, count as proven when the linking ended; the others (kept after
/// hashing them) as proven when the checkout `started`. Only files last changed
/// a clock tick before their proof are trusted later, so a file placed in the
/// last tick is read again by the next look.
///
/// A file linked to its object is the object itself, whose bytes a write through
/// a link may have changed: it keeps only a proof from the record before, when
/// that still holds for the object's status (never after a hardlink, which
/// moves it), and is otherwise read again by the next look. As with git's
/// index, a write by another process into a file just placed, within the same
/// timestamp tick, would go unseen.
///
/// DVC-compat: DVC too records what it checks out, so `status` need not read it.
fn record_checked_out(
    db: &StateDb,
    all: &[TreeEntry],
    known_right: &[Option<i64>],
    found: &HashMap<Vec<u8>, FileMeta>,
    report: &CheckoutReport,
    dest: &Path,
    started: i64,
) -> Result<()> {
    let linked_at = now_ns();
    let prefix = snapshot_prefix(&absolute(dest)?);
    let before = match report.link_type {
        Some(LinkType::Hardlink | LinkType::Symlink) => {
            Some(db.snapshot(HashAlgorithm::Md5.name(), &prefix)?)
        }
        _ => None,
    };
    // The items checked out were `all`'s entries, in order.
    let mut placed: Vec<Option<Option<FileMeta>>> = vec![None; all.len()];
    for &(n, meta) in &report.placed {
        placed[n] = Some(meta);
    }
    // Each file with whether it is proven; none at all when one is gone
    // meanwhile (the walk of the next look decides).
    let rows: Option<Vec<(TreeRow<'_>, bool)>> = all
        .par_iter()
        .enumerate()
        .map(|(i, e)| {
            let (meta, proven) = match known_right.get(i).copied().flatten() {
                Some(at) => (*found.get(&e.relpath)?, Some(at)),
                None => {
                    match (placed[i], &before) {
                        (Some(meta), None) => (meta?, Some(linked_at)),
                        (Some(meta), Some(before)) => {
                            let meta = meta?;
                            let known = before.get(&e.relpath, &meta);
                            (
                                meta,
                                known.filter(|k| k.hash == e.hash).map(|k| k.recorded_ns),
                            )
                        }
                        // Followed, as a walk follows a link to the cache.
                        (None, _) => {
                            let path = dest.join(OsStr::from_bytes(&e.relpath));
                            let meta = FileMeta::from_metadata(&std::fs::metadata(&path).ok()?);
                            (meta, Some(started))
                        }
                    }
                }
            };
            let row = (
                e.relpath.as_slice(),
                meta,
                e.hash.as_str(),
                proven.unwrap_or(0),
            );
            Some((row, proven.is_some()))
        })
        .collect();
    let Some(mut rows) = rows else {
        return Ok(());
    };
    tree::sort_by_relpath(&mut rows, |r| r.0 .0);
    let manifest = tree::serialize_pairs(rows.iter().map(|(r, _)| (r.0, r.2)), "md5");
    let proven: Vec<TreeRow<'_>> = rows
        .into_iter()
        .filter_map(|(r, p)| p.then_some(r))
        .collect();
    db.record_tree(
        HashAlgorithm::Md5.name(),
        &prefix,
        &proven,
        &tree::dir_hash(&manifest),
    )
}

/// For each of a tree's `entries`, whether the file found in place (`found`, by
/// relpath, with the status the walk read) is known by the state database to hold
/// its recorded content with the recorded (absent) execute bit: such a file stays
/// as it is, decided without looking at it or its object again. Each known one
/// comes with the time its content was proven. Empty when no file qualifies, or
/// when each must be looked at anyway (relinking).
fn known_in_place(
    entries: &[(&TreeEntry, bool)],
    found: &HashMap<Vec<u8>, FileMeta>,
    dest: &Path,
    opts: &CheckoutOptions,
    state: Option<&StateDb>,
) -> Result<Vec<Option<i64>>> {
    let Some(db) = state.filter(|_| !found.is_empty() && !opts.relink) else {
        return Ok(Vec::new());
    };
    let snapshot = db.snapshot(
        HashAlgorithm::Md5.name(),
        &snapshot_prefix(&absolute(dest)?),
    )?;
    if snapshot.is_empty() {
        return Ok(Vec::new());
    }
    Ok(entries
        .iter()
        .map(|&(e, rewrite)| {
            let meta = found.get(&e.relpath).filter(|m| !rewrite && !m.is_exec())?;
            let known = snapshot.get(&e.relpath, meta)?;
            (known.hash == e.hash).then_some(known.recorded_ns)
        })
        .collect())
}

/// Removes the directories a removed file leaves empty (adding them to `pruned`),
/// up to `stop` and never one of the tree's own directories.
fn prune_empty_parents(
    removed: &Path,
    stop: &Path,
    keep: &HashSet<PathBuf>,
    pruned: &mut Vec<PathBuf>,
) {
    let mut dir = removed.parent();
    while let Some(d) = dir {
        if d == stop || !d.starts_with(stop) || keep.contains(d) || std::fs::remove_dir(d).is_err()
        {
            break;
        }
        pruned.push(d.to_path_buf());
        dir = d.parent();
    }
}
