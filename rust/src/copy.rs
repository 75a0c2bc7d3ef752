//! Copying file contents between open files with as few syscalls as the
//! filesystem allows: a clone (`FICLONE`) where supported, else
//! `copy_file_range` (in-kernel, one call for a small file), else `read`/`write`.
//!
//! New files are created with their final permission bits at `open()`, so no
//! separate `chmod` is needed.

use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{IoContext, Result};
use crate::progress::Progress;

/// Whether cloning has failed once in this process: then every later copy
/// skips the clone attempt instead of failing one ioctl per file.
static CLONE_UNSUPPORTED: AtomicBool = AtomicBool::new(false);
/// Whether `copy_file_range` has been refused (old kernel, or a filesystem
/// pair it does not handle): then copies read and write.
static RANGE_UNSUPPORTED: AtomicBool = AtomicBool::new(false);

/// Large copies go in chunks of this size, so progress moves and Ctrl-C is
/// honoured within one chunk.
const CHUNK: u64 = 16 << 20;

/// How a failed clone or `copy_file_range` should be taken.
#[derive(PartialEq, Eq)]
enum Refusal {
    /// Not for these two files (different filesystems): fall back for this copy only.
    ThisPair,
    /// Not on this system or filesystem: stop trying in this process.
    Always,
    /// A real failure of this copy.
    No,
}

fn refusal(e: &io::Error) -> Refusal {
    match e.raw_os_error() {
        Some(libc::EXDEV) => Refusal::ThisPair,
        Some(libc::EOPNOTSUPP | libc::ENOTTY | libc::EINVAL | libc::ENOSYS) => Refusal::Always,
        _ => Refusal::No,
    }
}

/// Copies `size` bytes from the start of `src` into the empty file `dst`.
///
/// `clone` allows a copy-on-write clone. Fails with `UnexpectedEof` when `src`
/// holds fewer than `size` bytes, so a short copy is never taken for complete.
pub fn fill(
    src: &File,
    dst: &File,
    size: u64,
    clone: bool,
    progress: Option<&Progress>,
) -> io::Result<()> {
    if size == 0 {
        return Ok(());
    }
    if clone && !CLONE_UNSUPPORTED.load(Ordering::Relaxed) {
        // SAFETY: FICLONE takes the source descriptor as its argument; both fds are open.
        let r = unsafe { libc::ioctl(dst.as_raw_fd(), libc::FICLONE, src.as_raw_fd()) };
        if r == 0 {
            if let Some(p) = progress {
                p.add_bytes(size);
            }
            return Ok(());
        }
        let e = io::Error::last_os_error();
        match refusal(&e) {
            Refusal::No => return Err(e),
            Refusal::Always => CLONE_UNSUPPORTED.store(true, Ordering::Relaxed),
            Refusal::ThisPair => {}
        }
    }
    let mut done = 0u64;
    while done < size && !RANGE_UNSUPPORTED.load(Ordering::Relaxed) {
        if let Some(p) = progress {
            p.check()
                .map_err(|_| io::Error::from(io::ErrorKind::Interrupted))?;
        }
        let want = (size - done).min(CHUNK) as usize;
        // SAFETY: null offsets use (and advance) both files' positions; fds are open.
        let n = unsafe {
            libc::copy_file_range(
                src.as_raw_fd(),
                std::ptr::null_mut(),
                dst.as_raw_fd(),
                std::ptr::null_mut(),
                want,
                0,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            match refusal(&e) {
                Refusal::No => return Err(e),
                _ if done > 0 => return Err(e),
                Refusal::Always => RANGE_UNSUPPORTED.store(true, Ordering::Relaxed),
                Refusal::ThisPair => {}
            }
            break;
        }
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        done += n as u64;
        if let Some(p) = progress {
            p.add_bytes(n as u64);
        }
    }
    if done < size {
        read_write(src, dst, size - done, progress)?;
    }
    Ok(())
}

/// The portable fallback: copies `left` bytes from the files' current positions.
fn read_write(
    mut src: &File,
    mut dst: &File,
    mut left: u64,
    progress: Option<&Progress>,
) -> io::Result<()> {
    let mut buf = vec![0u8; left.min(1 << 20) as usize];
    while left > 0 {
        if let Some(p) = progress {
            p.check()
                .map_err(|_| io::Error::from(io::ErrorKind::Interrupted))?;
        }
        let want = left.min(buf.len() as u64) as usize;
        let n = match src.read(&mut buf[..want]) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        dst.write_all(&buf[..n])?;
        left -= n as u64;
        if let Some(p) = progress {
            p.add_bytes(n as u64);
        }
    }
    Ok(())
}

/// Filesystems known never to clone (`statfs` magic numbers): ext2/3/4, tmpfs,
/// f2fs, vfat, exfat. Any other may, so copies there keep trying `FICLONE`.
const NEVER_CLONE: [i64; 5] = [0xEF53, 0x0102_1994, 0xF2F5_2010, 0x4d44, 0x2011_BAB0];

/// Whether a copy from below `src` to below `dest` could be a clone: the two
/// are on one filesystem, and it is not one known to lack clones. Paths that
/// do not exist yet are judged by their nearest existing ancestor.
pub fn may_clone(src: &Path, dest: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    fn existing(p: &Path) -> Option<&Path> {
        p.ancestors().find(|a| a.exists())
    }
    let (Some(src), Some(dest)) = (existing(src), existing(dest)) else {
        return true;
    };
    let same_device = match (std::fs::metadata(src), std::fs::metadata(dest)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev(),
        _ => return true,
    };
    if !same_device || CLONE_UNSUPPORTED.load(Ordering::Relaxed) {
        return false;
    }
    let Ok(c) = std::ffi::CString::new(dest.as_os_str().as_encoded_bytes()) else {
        return true;
    };
    // SAFETY: `c` is NUL-terminated and `st` is a plain struct the call fills.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return true;
    }
    !NEVER_CLONE.contains(&(st.f_type as i64))
}

/// Gives a freshly created file exactly `mode` when the umask took bits away.
pub fn fix_mode(f: &File, mode: u32) -> io::Result<()> {
    if mode & crate::link::umask() != 0 {
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// Creates `dest` (which must not exist) as a copy of `src` with permission
/// bits `mode`; a clone where the filesystem can. Returns the size copied.
///
/// On failure `dest` may exist partially written: callers write to a temp
/// name and remove it on error.
pub fn copy_new(src: &Path, dest: &Path, mode: u32) -> Result<u64> {
    let from = File::open(src).at(src)?;
    let size = from.metadata().at(src)?.len();
    let to = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(dest)
        .at(dest)?;
    fill(&from, &to, size, true, None).at(src)?;
    fix_mode(&to, mode).at(dest)?;
    Ok(size)
}

/// Replaces `path`, a symlink or a file sharing its inode, by a copy of the
/// data it leads to, with permission bits `mode`: written under a temp name and
/// swapped in whole ([`crate::newfile::swap_in`]).
pub fn copy_over_itself(path: &Path, mode: u32) -> Result<()> {
    let tmp = crate::cache::temp_path_for(path);
    let placed =
        copy_new(path, &tmp, mode).and_then(|_| crate::newfile::swap_in(&tmp, path).at(path));
    if placed.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    placed
}

/// Creates `dest` (which must not exist) as a copy of `src` with permission
/// bits `mode`, a clone where the filesystem can. `dest` appears complete or
/// not at all; `Ok(false)` when it exists already.
pub fn copy_into_new(src: &Path, dest: &Path, mode: u32) -> Result<bool> {
    let from = File::open(src).at(src)?;
    let size = from.metadata().at(src)?.len();
    let mut first = true;
    crate::newfile::create_new(dest, mode, |to| {
        if !first {
            // A second, new file: read the source from its start again.
            (&from).rewind()?;
        }
        first = false;
        fill(&from, to, size, true, None)
    })
    .at(dest)
}

/// [`copy_into_new`] in a private directory ([`crate::staged`]): written under
/// its name, and removed again if the copy fails.
pub fn copy_into_private(src: &Path, dest: &Path, mode: u32) -> Result<bool> {
    let from = File::open(src).at(src)?;
    let size = from.metadata().at(src)?.len();
    crate::staged::create_private(dest, mode, |to| fill(&from, to, size, true, None)).at(dest)
}
