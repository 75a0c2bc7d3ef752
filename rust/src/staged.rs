//! Filling a directory that does not exist yet: in a private directory beside
//! it, which takes the final name once its files are complete.
//!
//! A file created where no reader looks needs no atomic creation of its own:
//! it is created straight under its name, which costs about a quarter less
//! kernel time per small file than an unnamed file linked into place
//! (`benches/file_creation.py`). The private directory carries a temp name
//! (`.<name>.<pid>-<host>.<n>.mlvc-tmp`) that readers skip, so a crash leaves no
//! partial file under a name a reader (mlvc or DVC) takes for data; the next
//! writer beside it removes it once its process is gone.
//!
//! Used where many files go into a directory that is new: a cache or remote
//! object directory (`files/md5/xx`) that does not exist yet, and a tracked
//! directory checked out where nothing stands.

use std::ffi::CString;
use std::fs::{DirBuilder, File};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::cache::temp_path_for;
use crate::copy::fix_mode;
use crate::newfile::{open_at, rename_noreplace};
use crate::walk::temp_name_writer;

/// A new directory's permission bits, before the umask.
pub const DIR_MODE: u32 = 0o777;

/// A directory being filled under a temp name, to be renamed to `dest`.
#[derive(Debug)]
pub struct StagedDir {
    dest: PathBuf,
    staging: PathBuf,
}

impl StagedDir {
    /// Starts filling `dest` (whose parent exists) in a new private directory
    /// with permission bits `mode`. `Ok(None)` when `dest` exists, or when its
    /// name is too long to take a temp name's additions: the caller then
    /// fills `dest` itself.
    pub fn begin(dest: &Path, mode: u32) -> io::Result<Option<StagedDir>> {
        match std::fs::symlink_metadata(dest) {
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let staging = temp_path_for(dest);
        match DirBuilder::new().mode(mode).create(&staging) {
            Ok(()) => Ok(Some(StagedDir {
                dest: dest.to_path_buf(),
                staging,
            })),
            Err(e) if e.raw_os_error() == Some(libc::ENAMETOOLONG) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The private directory, where the files go.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// The name the directory gets.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Gives the directory its final name. When something took that name
    /// meanwhile, the files are moved into it one by one, never replacing
    /// what stands there (in a cache, a present object has the same content).
    pub fn publish(self) -> io::Result<()> {
        match rename_noreplace(&self.staging, &self.dest) {
            Ok(()) => Ok(()),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EEXIST | libc::ENOTEMPTY)) => {
                merge_into(&self.staging, &self.dest)?;
                std::fs::remove_dir_all(&self.staging)
            }
            Err(e) => Err(e),
        }
    }
}

/// Moves what `from` holds into the directory `to`, keeping whatever `to` holds.
fn merge_into(from: &Path, to: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        match rename_noreplace(&entry.path(), &target) {
            Ok(()) => {}
            Err(e) if matches!(e.raw_os_error(), Some(libc::EEXIST | libc::ENOTEMPTY)) => {
                if entry.file_type()?.is_dir() && target.is_dir() {
                    merge_into(&entry.path(), &target)?;
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Creates `dest` in a private directory: straight under its name, with
/// `mode`, holding what `write` puts in it; removed again when `write` fails.
/// `Ok(false)` when `dest` exists.
pub fn create_private<F>(dest: &Path, mode: u32, write: F) -> io::Result<bool>
where
    F: FnOnce(&File) -> io::Result<()>,
{
    create_private_at(libc::AT_FDCWD, dest, mode, write)
}

/// [`create_private`] for `name` in the open private directory `dir`.
pub fn create_private_in<F>(dir: &File, name: &Path, mode: u32, write: F) -> io::Result<bool>
where
    F: FnOnce(&File) -> io::Result<()>,
{
    create_private_at(dir.as_raw_fd(), name, mode, write)
}

fn create_private_at<F>(dirfd: RawFd, dest: &Path, mode: u32, write: F) -> io::Result<bool>
where
    F: FnOnce(&File) -> io::Result<()>,
{
    let name = CString::new(dest.as_os_str().as_bytes())?;
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL;
    let file = match open_at(dirfd, &name, flags, mode) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(e),
    };
    match write(&file).and_then(|_| fix_mode(&file, mode)) {
        Ok(()) => Ok(true),
        Err(e) => {
            drop(file);
            // SAFETY: a NUL-terminated name relative to `dirfd`.
            unsafe { libc::unlinkat(dirfd, name.as_ptr(), 0) };
            Err(e)
        }
    }
}

/// Removes the private directories in `parent` whose writers are gone.
pub fn sweep_stale(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(writer) = temp_name_writer(name.as_bytes()) else {
            continue;
        };
        if entry.file_type().is_ok_and(|t| t.is_dir()) && writer.is_gone() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("mlvc-staged-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn names(d: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn the_directory_appears_once_filled() {
        let d = scratch("publish");
        let dest = d.join("objs");
        let staged = StagedDir::begin(&dest, 0o755).unwrap().unwrap();
        assert!(
            create_private(&staged.path().join("a"), 0o444, |mut f| f.write_all(b"1")).unwrap()
        );
        assert!(
            !create_private(&staged.path().join("a"), 0o444, |mut f| f.write_all(b"2")).unwrap()
        );
        assert!(
            !dest.exists(),
            "nothing under the final name before publishing"
        );
        staged.publish().unwrap();
        assert_eq!(std::fs::read(dest.join("a")).unwrap(), b"1");
        assert_eq!(names(&d), vec!["objs"]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn an_existing_directory_is_not_staged() {
        let d = scratch("exists");
        assert!(StagedDir::begin(&d, 0o755).unwrap().is_none());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_name_too_long_for_a_temp_name_is_not_staged() {
        let d = scratch("long");
        let dest = d.join("x".repeat(250));
        assert!(StagedDir::begin(&dest, 0o755).unwrap().is_none());
        assert_eq!(names(&d), Vec::<String>::new());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_directory_made_meanwhile_keeps_its_files() {
        let d = scratch("merge");
        let dest = d.join("objs");
        let staged = StagedDir::begin(&dest, 0o755).unwrap().unwrap();
        std::fs::create_dir_all(staged.path().join("sub")).unwrap();
        std::fs::write(staged.path().join("sub/new"), b"ours").unwrap();
        std::fs::write(staged.path().join("same"), b"ours").unwrap();
        std::fs::create_dir_all(dest.join("sub")).unwrap();
        std::fs::write(dest.join("same"), b"theirs").unwrap();
        staged.publish().unwrap();
        assert_eq!(std::fs::read(dest.join("same")).unwrap(), b"theirs");
        assert_eq!(std::fs::read(dest.join("sub/new")).unwrap(), b"ours");
        assert_eq!(names(&d), vec!["objs"]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_failed_write_leaves_no_file() {
        let d = scratch("fail");
        let f = d.join("f");
        let err = create_private(&f, 0o644, |_| Err(io::Error::other("disk full"))).unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert!(!f.exists());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn stale_private_directories_are_swept() {
        let d = scratch("sweep");
        // A pid that cannot be running, and this process's own.
        let dead = d.join(".objs.2147483646.0.mlvc-tmp");
        let live = d.join(format!(".objs.{}.0.mlvc-tmp", std::process::id()));
        for p in [&dead, &live] {
            std::fs::create_dir_all(p).unwrap();
            std::fs::write(p.join("partial"), b"x").unwrap();
        }
        sweep_stale(&d);
        assert!(!dead.exists());
        assert!(live.exists());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
