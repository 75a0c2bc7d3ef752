//! Moving objects between two stores of the cache layout: the local cache and
//! a local remote (`<root>/files/md5/<2>/<30>[.dir]`).
//!
//! Objects are handled per two-hex-digit directory. Each destination directory
//! is listed once instead of one `stat` per object (and cleared of temp files
//! that killed transfers left), created at most once, and used through an open
//! handle. A copied object then costs: open the source, `fstat`, create an
//! unnamed file already read-only, one `copy_file_range`, the link that gives it
//! its name (so a partial object never carries it) and two closes.

use std::collections::HashSet;
use std::ffi::{CString, OsString};
use std::fs::File;
use std::io::{self, Seek};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::cache::{ObjectCache, OBJECT_MODE};
use crate::copy::fill;
use crate::error::{Error, IoContext, Result};
use crate::hash::is_valid_md5_name;
use crate::newfile::open_at;
use crate::progress::Progress;
use crate::walk::temp_name_writer;

/// A group of at least this many objects lists its directory whatever its size.
const LIST_MIN_NAMES: usize = 8;
/// A directory this small (ext4: a few hundred entries) is listed even for one object.
const LIST_MAX_DIR_BYTES: u64 = 16 * 1024;

/// What a transfer between two stores did.
#[derive(Debug, Clone, Default)]
pub struct TransferReport {
    /// Objects copied.
    pub copied: Vec<String>,
    /// Objects the destination already had.
    pub skipped: usize,
    /// Objects the source does not have.
    pub missing: Vec<String>,
}

/// The objects of one two-hex-digit directory: their indexes in the caller's
/// list and their names inside the directory.
struct Group<'a> {
    prefix: &'a str,
    members: Vec<(usize, &'a str)>,
}

/// Validates `hashes` and groups them by directory.
fn groups<'a>(hashes: &[&'a str]) -> Result<Vec<Group<'a>>> {
    let mut keyed: Vec<(usize, &str)> = Vec::with_capacity(hashes.len());
    for (i, h) in hashes.iter().enumerate() {
        if !is_valid_md5_name(h) {
            return Err(Error::InvalidHash((*h).to_string()));
        }
        keyed.push((i, h));
    }
    keyed.sort_unstable_by(|a, b| a.1.cmp(b.1));
    let mut out: Vec<Group<'a>> = Vec::new();
    for (i, h) in keyed {
        let (prefix, name) = h.split_at(2);
        match out.last_mut() {
            Some(g) if g.prefix == prefix => g.members.push((i, name)),
            _ => out.push(Group {
                prefix,
                members: vec![(i, name)],
            }),
        }
    }
    Ok(out)
}

impl ObjectCache {
    fn prefix_dir(&self, prefix: &str) -> PathBuf {
        self.root().join("files").join("md5").join(prefix)
    }

    /// Tells, for each of `hashes`, whether the object is present: one listing
    /// per directory where that is cheaper than one `stat` per object.
    pub fn contains_many(&self, hashes: &[String], jobs: usize) -> Result<Vec<bool>> {
        let refs: Vec<&str> = hashes.iter().map(String::as_str).collect();
        let groups = groups(&refs)?;
        let found: Vec<Vec<(usize, bool)>> = crate::digest::pool(jobs)?.install(|| {
            groups
                .par_iter()
                .map(|g| {
                    let names: Vec<&str> = g.members.iter().map(|m| m.1).collect();
                    let present = present_in(&self.prefix_dir(g.prefix), &names, false)?;
                    Ok(g.members.iter().map(|m| m.0).zip(present).collect())
                })
                .collect::<Result<_>>()
        })?;
        let mut out = vec![false; hashes.len()];
        for (i, p) in found.into_iter().flatten() {
            out[i] = p;
        }
        Ok(out)
    }

    /// Copies objects into `dest` (another cache, or a local remote: same
    /// layout), in parallel, each atomically; objects `dest` has are not sent
    /// again, so an interrupted transfer resumes where it stopped.
    ///
    /// File objects go first and `.dir` objects after them, so a present `.dir`
    /// object always implies its files are present.
    pub fn transfer_to(
        &self,
        dest: &ObjectCache,
        hashes: &[String],
        jobs: usize,
        progress: &Progress,
    ) -> Result<TransferReport> {
        let (dirs, files): (Vec<&str>, Vec<&str>) = hashes
            .iter()
            .map(String::as_str)
            .partition(|h| h.ends_with(".dir"));
        let pool = crate::digest::pool(jobs)?;
        let mut report = TransferReport::default();
        let swept = AtomicBool::new(false);
        for batch in [files, dirs] {
            let groups = groups(&batch)?;
            let parts: Vec<TransferReport> = pool.install(|| {
                groups
                    .par_iter()
                    .map(|g| self.send_group(dest, g, &swept, progress))
                    .collect::<Result<_>>()
            })?;
            for p in parts {
                report.copied.extend(p.copied);
                report.skipped += p.skipped;
                report.missing.extend(p.missing);
            }
        }
        Ok(report)
    }

    /// Copies the objects of one directory that `dest` lacks. A directory
    /// `dest` does not have yet is filled privately ([`crate::staged`]), once
    /// per transfer removing what dead writers left (`swept`).
    fn send_group(
        &self,
        dest: &ObjectCache,
        g: &Group<'_>,
        swept: &AtomicBool,
        progress: &Progress,
    ) -> Result<TransferReport> {
        progress.check()?;
        let mut report = TransferReport::default();
        let dest_dir = dest.prefix_dir(g.prefix);
        let names: Vec<&str> = g.members.iter().map(|m| m.1).collect();
        let present = present_in(&dest_dir, &names, true)?;
        let todo: Vec<&str> = names
            .iter()
            .zip(&present)
            .filter(|(_, &p)| !p)
            .map(|(n, _)| *n)
            .collect();
        report.skipped = names.len() - todo.len();
        if todo.is_empty() {
            return Ok(report);
        }
        let src_dir = self.prefix_dir(g.prefix);
        let from_dir = match File::open(&src_dir) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                report.missing = todo.iter().map(|n| format!("{}{n}", g.prefix)).collect();
                return Ok(report);
            }
            Err(e) => return Err(Error::io(&src_dir, e)),
        };
        let staged = dest.stage_object_dir(&dest_dir, !swept.swap(true, Ordering::Relaxed))?;
        let fill_dir = match &staged {
            Some(s) => s.path().to_path_buf(),
            None => {
                dest.ensure_dir(&dest_dir)?;
                dest_dir.clone()
            }
        };
        let to_dir = File::open(&fill_dir).at(&fill_dir)?;
        let private = staged.is_some();
        let outcomes: Result<Vec<(&str, bool)>> = todo
            .par_iter()
            .map(|name| {
                progress.check()?;
                let copied = copy_object(
                    &from_dir, &src_dir, &to_dir, &fill_dir, name, private, progress,
                )?;
                progress.add_file(0);
                Ok((*name, copied))
            })
            .collect();
        if let Some(staged) = staged {
            // Objects copied before a failure are kept: a rerun does not send them again.
            let published = staged.publish().at(&dest_dir);
            if outcomes.is_ok() {
                published?;
            }
        }
        let outcomes = outcomes?;
        for (name, copied) in outcomes {
            let id = format!("{}{name}", g.prefix);
            if copied {
                report.copied.push(id);
            } else {
                report.missing.push(id);
            }
        }
        Ok(report)
    }
}

/// Copies object `name` between two open directories; `false` when the source
/// lacks it. In a `private` directory the object is written under its name.
fn copy_object(
    from_dir: &File,
    src_dir: &Path,
    to_dir: &File,
    dest_dir: &Path,
    name: &str,
    private: bool,
    progress: &Progress,
) -> Result<bool> {
    let cname = CString::new(name).expect("hex object names hold no NUL");
    let from = match open_at(from_dir.as_raw_fd(), &cname, libc::O_RDONLY, 0) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io(src_dir.join(name), e)),
    };
    let meta = from.metadata().at(src_dir.join(name))?;
    if !meta.is_file() {
        return Ok(false);
    }
    let size = meta.len();
    let mut first = true;
    let created = if private {
        crate::staged::create_private_in(to_dir, Path::new(name), OBJECT_MODE, |to| {
            fill(&from, to, size, true, Some(progress))
        })
    } else {
        crate::newfile::create_new_in(to_dir, Path::new(name), OBJECT_MODE, |to| {
            if !first {
                // A second, new file: read the source from its start again.
                (&from).rewind()?;
            }
            first = false;
            fill(&from, to, size, true, Some(progress))
        })
    };
    // An object that appeared meanwhile (another transfer) is as good as ours.
    if let Err(e) = created {
        return Err(if progress.is_interrupted() {
            Error::Interrupted
        } else {
            Error::io(dest_dir.join(name), e)
        });
    }
    Ok(true)
}

/// Tells which of `names` `dir` holds (as files, or links to them).
///
/// One listing when the group is large or the directory small, else one `stat`
/// per name (a big remote with a few objects to check). With `sweep`, the
/// listing also deletes temp files whose writer is gone.
fn present_in(dir: &Path, names: &[&str], sweep: bool) -> Result<Vec<bool>> {
    let meta = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(vec![false; names.len()]),
        Err(e) => return Err(Error::io(dir, e)),
    };
    if names.len() < LIST_MIN_NAMES && meta.len() > LIST_MAX_DIR_BYTES {
        return Ok(names
            .iter()
            .map(|n| std::fs::metadata(dir.join(n)).is_ok_and(|m| m.is_file()))
            .collect());
    }
    let mut found: HashSet<OsString> = HashSet::new();
    for entry in std::fs::read_dir(dir).at(dir)? {
        let entry = entry.at(dir)?;
        let name = entry.file_name();
        if let Some(writer) = temp_name_writer(name.as_bytes()) {
            if sweep && writer.is_gone() {
                let _ = std::fs::remove_file(entry.path());
            }
            continue;
        }
        // The entry's type comes with the listing; only a link needs a stat.
        let is_file = match entry.file_type() {
            Ok(t) if t.is_file() => true,
            Ok(t) if t.is_dir() => false,
            _ => std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file()),
        };
        if is_file {
            found.insert(name);
        }
    }
    Ok(names
        .iter()
        .map(|n| found.contains(std::ffi::OsStr::new(n)))
        .collect())
}
