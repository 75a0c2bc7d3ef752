//! Creating a file that appears under its name complete or not at all.
//!
//! Where the system allows, the file is written without a name (`O_TMPFILE`)
//! and then linked under its final name: one directory entry is added, and a
//! crash leaves nothing behind. Elsewhere it is written under a temp name and
//! renamed, which costs two more directory operations (create and remove the
//! temp entry); on ext4 that doubles the kernel's time per small file.

use std::ffi::{CStr, CString};
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use crate::cache::temp_path_for;
use crate::copy::fix_mode;

/// Set once unnamed files failed for a reason that will not change (the
/// filesystem lacks them, or /proc is not mounted): later files use temp names.
static UNNAMED_UNSUPPORTED: AtomicBool = AtomicBool::new(false);

/// Creates `dest`, which must not exist, with `mode` and the contents `write`
/// puts in the open file. Returns `Ok(false)` without touching it when `dest`
/// exists. `write` may be called twice (if unnamed files turn out unsupported
/// after the first call); it always gets a new, empty file.
///
/// A missing parent directory is reported as `NotFound`, for the caller to
/// create and retry.
pub fn create_new<F>(dest: &Path, mode: u32, write: F) -> io::Result<bool>
where
    F: FnMut(&File) -> io::Result<()>,
{
    create_new_at(libc::AT_FDCWD, dest, mode, write)
}

/// [`create_new`] of `data`, creating `dest`'s missing parent directories.
pub fn write_new(dest: &Path, data: &[u8], mode: u32) -> io::Result<bool> {
    let write = || create_new(dest, mode, |mut f| f.write_all(data));
    match write() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            write()
        }
        done => done,
    }
}

/// [`create_new`] for `name` relative to the open directory `dir`.
pub fn create_new_in<F>(dir: &File, name: &Path, mode: u32, write: F) -> io::Result<bool>
where
    F: FnMut(&File) -> io::Result<()>,
{
    create_new_at(dir.as_raw_fd(), name, mode, write)
}

fn create_new_at<F>(dirfd: RawFd, dest: &Path, mode: u32, mut write: F) -> io::Result<bool>
where
    F: FnMut(&File) -> io::Result<()>,
{
    let dest_c = cstring(dest)?;
    if !UNNAMED_UNSUPPORTED.load(Ordering::Relaxed) && proc_fd_available() {
        match open_unnamed(dirfd, dest, mode) {
            Ok(file) => {
                write(&file)?;
                fix_mode(&file, mode)?;
                match link_unnamed(&file, dirfd, &dest_c) {
                    Ok(()) => return Ok(true),
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(false),
                    // The file could be made in the directory, so the directory is
                    // writable: a refused link means the system refuses /proc links
                    // (a sandbox, another mount of /proc). Named temp files still work.
                    Err(e) if is_unsupported(&e) || is_link_refused(&e) => {
                        UNNAMED_UNSUPPORTED.store(true, Ordering::Relaxed)
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(e) if is_unsupported(&e) => UNNAMED_UNSUPPORTED.store(true, Ordering::Relaxed),
            Err(e) => return Err(e),
        }
    }
    create_new_by_rename(dirfd, dest, mode, write)
}

/// The portable way: a temp name beside `dest`, renamed without replacing.
fn create_new_by_rename<F>(dirfd: RawFd, dest: &Path, mode: u32, mut write: F) -> io::Result<bool>
where
    F: FnMut(&File) -> io::Result<()>,
{
    let tmp = cstring(&temp_path_for(dest))?;
    let dest = cstring(dest)?;
    let file = open_at(
        dirfd,
        &tmp,
        libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL,
        mode,
    )?;
    let placed = write(&file)
        .and_then(|_| fix_mode(&file, mode))
        .and_then(|_| rename_noreplace_at(dirfd, &tmp, &dest));
    drop(file);
    match placed {
        Ok(()) => Ok(true),
        Err(e) => {
            // SAFETY: a NUL-terminated name relative to `dirfd`.
            unsafe { libc::unlinkat(dirfd, tmp.as_ptr(), 0) };
            if e.kind() == io::ErrorKind::AlreadyExists {
                Ok(false)
            } else {
                Err(e)
            }
        }
    }
}

/// Set once swapping names failed for a reason that will not change (the
/// filesystem lacks `RENAME_EXCHANGE`): later files are renamed over.
static EXCHANGE_UNSUPPORTED: AtomicBool = AtomicBool::new(false);

/// Puts the complete file or link `tmp` at `dest`, in place of the file or link
/// there (or at an absent `dest`).
///
/// The two names are swapped (`RENAME_EXCHANGE`) and the old file, now under
/// `tmp`, removed: `dest` is never absent or partial. A rename over `dest` does
/// the same in one call, but ext4 then flushes the renamed file at once
/// (`auto_da_alloc`), which made replacing many small files two to three times
/// slower than creating them. Where names cannot be swapped, it is renamed.
pub fn swap_in(tmp: &Path, dest: &Path) -> io::Result<()> {
    if !EXCHANGE_UNSUPPORTED.load(Ordering::Relaxed) {
        let (tmp_c, dest_c) = (cstring(tmp)?, cstring(dest)?);
        match exchange_at(libc::AT_FDCWD, &tmp_c, &dest_c) {
            Ok(()) => {
                return match std::fs::remove_file(tmp) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => {
                        // A directory stood at `dest`: it goes back, as a rename
                        // over it would have failed.
                        let _ = exchange_at(libc::AT_FDCWD, &tmp_c, &dest_c);
                        Err(e)
                    }
                    _ => Ok(()),
                };
            }
            // Nothing at `dest` (any more): the rename below puts it there.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) if is_unsupported(&e) => EXCHANGE_UNSUPPORTED.store(true, Ordering::Relaxed),
            Err(e) => return Err(e),
        }
    }
    std::fs::rename(tmp, dest)
}

/// `renameat2(2)` swapping two existing names.
fn exchange_at(dirfd: RawFd, a: &CStr, b: &CStr) -> io::Result<()> {
    // SAFETY: both are NUL-terminated paths relative to `dirfd`.
    let r = unsafe { libc::renameat2(dirfd, a.as_ptr(), dirfd, b.as_ptr(), libc::RENAME_EXCHANGE) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Renames `from` to `to`, failing with `EEXIST` instead of replacing `to`.
pub(crate) fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    rename_noreplace_at(libc::AT_FDCWD, &cstring(from)?, &cstring(to)?)
}

/// `renameat2(2)` that fails with `EEXIST` instead of replacing `to`.
fn rename_noreplace_at(dirfd: RawFd, from: &CStr, to: &CStr) -> io::Result<()> {
    // SAFETY: both are NUL-terminated paths relative to `dirfd`.
    let r = unsafe {
        libc::renameat2(
            dirfd,
            from.as_ptr(),
            dirfd,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if r == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() != Some(libc::EINVAL) {
        return Err(e);
    }
    // A filesystem without RENAME_NOREPLACE: check, then rename.
    // SAFETY: `st` is a plain struct the call fills; the path is NUL-terminated.
    let mut st: libc::stat64 = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstatat64(dirfd, to.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) } == 0 {
        return Err(io::ErrorKind::AlreadyExists.into());
    }
    // SAFETY: as above.
    if unsafe { libc::renameat(dirfd, from.as_ptr(), dirfd, to.as_ptr()) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn cstring(p: &Path) -> io::Result<CString> {
    Ok(CString::new(p.as_os_str().as_bytes())?)
}

/// `openat(2)` with `O_CLOEXEC`, retried when a signal interrupts it.
pub(crate) fn open_at(
    dirfd: RawFd,
    path: &CStr,
    flags: libc::c_int,
    mode: u32,
) -> io::Result<File> {
    loop {
        // SAFETY: a NUL-terminated path; the returned descriptor is owned by the File.
        let fd = unsafe {
            libc::openat(
                dirfd,
                path.as_ptr(),
                flags | libc::O_CLOEXEC,
                mode as libc::c_uint,
            )
        };
        if fd >= 0 {
            // SAFETY: `fd` is a new descriptor nothing else owns.
            return Ok(unsafe { File::from_raw_fd(fd) });
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Errors that say unnamed files cannot work here at all.
fn is_unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EOPNOTSUPP | libc::EISDIR | libc::EINVAL | libc::ENOSYS)
    )
}

/// Errors of linking an unnamed file from /proc that a named temp file avoids.
fn is_link_refused(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EPERM | libc::EACCES | libc::EXDEV | libc::ENOENT)
    )
}

/// Linking an unnamed file needs its `/proc/self/fd` entry (the flag-free
/// `AT_EMPTY_PATH` way needs a capability).
fn proc_fd_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| Path::new("/proc/self/fd").is_dir())
}

/// An unnamed regular file in `dest`'s directory, opened for writing.
fn open_unnamed(dirfd: RawFd, dest: &Path, mode: u32) -> io::Result<File> {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    open_at(
        dirfd,
        &cstring(dir)?,
        libc::O_TMPFILE | libc::O_WRONLY,
        mode,
    )
}

/// Gives the unnamed `file` the name `dest`; `EEXIST` if something has it.
fn link_unnamed(file: &File, dirfd: RawFd, dest: &CStr) -> io::Result<()> {
    let from = CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))?;
    // SAFETY: NUL-terminated paths; AT_SYMLINK_FOLLOW resolves the /proc link to the file.
    let r = unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            from.as_ptr(),
            dirfd,
            dest.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("mlvc-newfile-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn creates_complete_files_and_never_replaces() {
        let d = scratch("create");
        let dest = d.join("f");
        assert!(create_new(&dest, 0o444, |mut f| f.write_all(b"one")).unwrap());
        assert_eq!(std::fs::read(&dest).unwrap(), b"one");
        let mode = std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o444);
        assert!(!create_new(&dest, 0o444, |mut f| f.write_all(b"two")).unwrap());
        assert_eq!(std::fs::read(&dest).unwrap(), b"one");
        // Nothing but the file itself is left in the directory.
        let names: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("f")]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn creates_in_an_open_directory() {
        let d = scratch("in");
        let dir = File::open(&d).unwrap();
        let name = Path::new("obj");
        assert!(create_new_in(&dir, name, 0o444, |mut f| f.write_all(b"1")).unwrap());
        assert!(!create_new_in(&dir, name, 0o444, |mut f| f.write_all(b"2")).unwrap());
        assert_eq!(std::fs::read(d.join("obj")).unwrap(), b"1");
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_failed_write_leaves_no_file() {
        let d = scratch("fail");
        let dest = d.join("f");
        let err = create_new(&dest, 0o644, |_| Err(io::Error::other("disk full"))).unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 0);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_missing_directory_is_not_found() {
        let d = scratch("missing");
        let err = create_new(&d.join("no/f"), 0o644, |_| Ok(())).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn the_rename_way_behaves_the_same() {
        let d = scratch("rename");
        let dest = d.join("f");
        let rename = |data: &'static [u8]| {
            create_new_by_rename(libc::AT_FDCWD, &dest, 0o600, |mut f| f.write_all(data))
        };
        assert!(rename(b"x").unwrap());
        assert!(!rename(b"y").unwrap());
        assert_eq!(std::fs::read(&dest).unwrap(), b"x");
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn swapping_in_replaces_a_file_or_link_and_leaves_what_it_pointed_at() {
        let d = scratch("swap");
        let (old, other) = (d.join("old"), d.join("other"));
        std::fs::write(&old, b"object").unwrap();
        std::fs::write(&other, b"kept").unwrap();
        for (i, how) in ["absent", "file", "hardlink", "symlink"].iter().enumerate() {
            let dest = d.join(format!("dest{i}"));
            match *how {
                "file" => std::fs::write(&dest, b"stale").unwrap(),
                "hardlink" => std::fs::hard_link(&old, &dest).unwrap(),
                "symlink" => std::os::unix::fs::symlink(&other, &dest).unwrap(),
                _ => {}
            }
            let tmp = d.join("tmp");
            std::fs::write(&tmp, how.as_bytes()).unwrap();
            swap_in(&tmp, &dest).unwrap();
            let meta = std::fs::symlink_metadata(&dest).unwrap();
            assert!(meta.file_type().is_file(), "{how}");
            assert_eq!(std::fs::read(&dest).unwrap(), how.as_bytes(), "{how}");
        }
        // Neither the linked file nor the symlink's target was written through,
        // and no temp name is left.
        assert_eq!(std::fs::read(&old).unwrap(), b"object");
        assert_eq!(std::fs::read(&other).unwrap(), b"kept");
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 6);
        // A directory in the way stays where it was, as with a rename.
        let (tmp, dir) = (d.join("tmp"), d.join("dir"));
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("inside"), b"x").unwrap();
        std::fs::write(&tmp, b"new").unwrap();
        assert!(swap_in(&tmp, &dir).is_err());
        assert_eq!(std::fs::read(dir.join("inside")).unwrap(), b"x");
        assert_eq!(std::fs::read(&tmp).unwrap(), b"new");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
