//! Materialising cache objects in the workspace with the configured link types.
//!
//! The fallback is an explicit state machine: try the `cache.type` list in order;
//! a failure before the first success moves on to the next type; once one type
//! has worked, it is used for every file and a failure is an error.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Mutex, OnceLock};

use crate::cache::temp_path_for;
use crate::copy::{copy_into_new, copy_into_private, copy_new, copy_over_itself};
use crate::error::{Error, IoContext, Result};
use crate::newfile::swap_in;

/// A way to make a workspace file out of a cache object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// Copy-on-write clone (btrfs, XFS, APFS): instant, independent file.
    Reflink,
    /// A second name for the object: instant, read-only.
    Hardlink,
    /// A symlink with an absolute target in the cache.
    Symlink,
    /// A plain copy.
    Copy,
}

impl LinkType {
    /// Returns the `cache.type` spelling.
    pub fn name(self) -> &'static str {
        match self {
            LinkType::Reflink => "reflink",
            LinkType::Hardlink => "hardlink",
            LinkType::Symlink => "symlink",
            LinkType::Copy => "copy",
        }
    }
}

impl FromStr for LinkType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "reflink" => Ok(LinkType::Reflink),
            "hardlink" => Ok(LinkType::Hardlink),
            "symlink" => Ok(LinkType::Symlink),
            "copy" => Ok(LinkType::Copy),
            other => Err(Error::InvalidArgument(format!(
                "unknown cache type `{other}`; expected reflink, hardlink, symlink or copy"
            ))),
        }
    }
}

/// DVC-compat: the default `cache.type`.
pub const DEFAULT_LINK_TYPES: [LinkType; 2] = [LinkType::Reflink, LinkType::Copy];

/// Parses a `cache.type` value such as `"reflink,copy"`.
pub fn parse_link_types(spec: &str) -> Result<Vec<LinkType>> {
    let types: Vec<LinkType> = spec
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(LinkType::from_str)
        .collect::<Result<_>>()?;
    if types.is_empty() {
        return Err(Error::InvalidArgument("empty cache type list".into()));
    }
    Ok(types)
}

/// The process umask, read once (without changing it, where /proc allows).
pub fn umask() -> u32 {
    static UMASK: OnceLock<u32> = OnceLock::new();
    *UMASK.get_or_init(|| {
        if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
            if let Some(v) = status
                .lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
            {
                return v;
            }
        }
        // SAFETY: umask only swaps an integer in the process; it is set back at once.
        unsafe {
            let old = libc::umask(0o022);
            libc::umask(old);
            old as u32
        }
    })
}

/// The mode of a writable workspace copy: 0644 under umask 022, plus owner x if executable.
pub fn workspace_mode(isexec: bool) -> u32 {
    let base = 0o666 & !umask();
    if isexec {
        base | 0o100
    } else {
        base
    }
}

/// What stands where a link is to be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Nothing (something appearing meanwhile is replaced).
    Absent,
    /// A file or link, replaced by a rename.
    Occupied,
    /// Nothing, in a private directory that no reader sees yet.
    Private,
}

#[derive(Debug, Clone, Copy)]
enum State {
    /// No type has worked yet; the next to try is at this index.
    Probing(usize),
    /// This type worked and is now the only one used.
    Settled(LinkType),
}

/// Links files with the first configured type that works on this filesystem.
#[derive(Debug)]
pub struct Linker {
    types: Vec<LinkType>,
    state: Mutex<State>,
}

impl Linker {
    /// Creates a linker for a `cache.type` list.
    pub fn new(types: Vec<LinkType>) -> Self {
        Linker {
            types,
            state: Mutex::new(State::Probing(0)),
        }
    }

    /// The first configured type: what a link would be made with if it works.
    pub fn preferred(&self) -> LinkType {
        self.types[0]
    }

    /// Returns the type in use once one has worked.
    pub fn settled(&self) -> Option<LinkType> {
        match *self
            .state
            .lock()
            .expect("linker state lock is never poisoned: no panics inside")
        {
            State::Settled(t) => Some(t),
            State::Probing(_) => None,
        }
    }

    /// Makes `dest` a materialisation of the cache object `src`, atomically
    /// (but in a private directory, where it need not be); `target` says what
    /// stands at `dest` now. Returns the link type used.
    pub fn link(&self, src: &Path, dest: &Path, isexec: bool, target: Target) -> Result<LinkType> {
        let mut guard = self
            .state
            .lock()
            .expect("linker state lock is never poisoned: no panics inside");
        match *guard {
            State::Settled(t) => {
                drop(guard);
                link_as(t, src, dest, isexec, target).map_err(|e| Error::Link {
                    path: dest.to_path_buf(),
                    tried: t.name().to_string(),
                    source: e,
                })?;
                Ok(t)
            }
            State::Probing(start) => {
                // Probing holds the lock so that exactly one file settles the type.
                let mut last_err = None;
                for (i, &t) in self.types.iter().enumerate().skip(start) {
                    match link_as(t, src, dest, isexec, target) {
                        Ok(()) => {
                            // An empty object is copied, not linked: that proves nothing.
                            if !(t == LinkType::Hardlink && is_empty_object(src)) {
                                *guard = State::Settled(t);
                            }
                            return Ok(t);
                        }
                        Err(e) => {
                            *guard = State::Probing(i + 1);
                            last_err = Some(e);
                        }
                    }
                }
                Err(Error::Link {
                    path: dest.to_path_buf(),
                    tried: self
                        .types
                        .iter()
                        .map(|t| t.name())
                        .collect::<Vec<_>>()
                        .join(","),
                    source: last_err
                        .unwrap_or_else(|| std::io::Error::other("no link types left to try")),
                })
            }
        }
    }
}

/// Makes `dest` of type `t` from the object `src`; an executable file (`isexec`)
/// gets the owner's execute bit, through the link when it is one.
///
/// DVC-compat: a hardlink or symlink to an object makes the object itself
/// executable (0544), as DVC's `chmod` through the link does.
fn link_as(
    t: LinkType,
    src: &Path,
    dest: &Path,
    isexec: bool,
    target: Target,
) -> std::io::Result<()> {
    // DVC-compat: every empty file of a dataset is the same object, and ext4 allows
    // 65,000 links to one inode, so empty files get a fresh empty file instead.
    let t = if t == LinkType::Hardlink && is_empty_object(src) {
        LinkType::Copy
    } else {
        t
    };
    place(t, src, dest, isexec, target)?;
    if isexec && matches!(t, LinkType::Hardlink | LinkType::Symlink) {
        add_owner_exec(src)?;
    }
    Ok(())
}

/// The md5 of no bytes.
pub const EMPTY_MD5: &str = "d41d8cd98f00b204e9800998ecf8427e";

/// Whether `src` is the md5 cache's object for no bytes (`d4/1d8cd98f...`): known by
/// its name, without a `stat`.
fn is_empty_object(src: &Path) -> bool {
    let name = src.file_name().and_then(|n| n.to_str());
    let dir = src
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str());
    name == Some(&EMPTY_MD5[2..]) && dir == Some(&EMPTY_MD5[..2])
}

/// Adds the owner's execute bit to a file (following a symlink), unless it has it.
///
/// DVC-compat: as DVC, a file it cannot `chmod` (an object another user owns in
/// a shared cache) is left as it is.
pub(crate) fn add_owner_exec(path: &Path) -> std::io::Result<()> {
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o100 != 0 {
        return Ok(());
    }
    match std::fs::set_permissions(path, PermissionsExt::from_mode(mode | 0o100)) {
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Ok(()),
        done => done,
    }
}

/// Makes `dest` a link of type `t` to `src` (or a copy of it).
///
/// Links and copies to an absent `dest` are made in place: link(2) and
/// symlink(2) create the name atomically, and a copy is given its name only
/// once complete ([`crate::newfile`]), so a partial copy never carries it.
/// An existing `dest` is replaced by one made under a temp name and swapped in
/// ([`crate::newfile::swap_in`]), so it is never absent or partial. In a
/// private directory ([`crate::staged`]) a copy is written under its name.
fn place(
    t: LinkType,
    src: &Path,
    dest: &Path,
    isexec: bool,
    target: Target,
) -> std::io::Result<()> {
    if target != Target::Occupied {
        let copy = if target == Target::Private {
            copy_into_private
        } else {
            copy_into_new
        };
        let direct = match t {
            LinkType::Hardlink => Some(std::fs::hard_link(src, dest)),
            LinkType::Symlink => {
                Some(std::path::absolute(src).and_then(|abs| std::os::unix::fs::symlink(abs, dest)))
            }
            LinkType::Copy => match copy(src, dest, workspace_mode(isexec)) {
                Ok(true) => Some(Ok(())),
                Ok(false) => Some(Err(std::io::ErrorKind::AlreadyExists.into())),
                Err(Error::Io { source, .. }) => Some(Err(source)),
                Err(other) => Some(Err(std::io::Error::other(other.to_string()))),
            },
            LinkType::Reflink => None,
        };
        match direct {
            Some(Ok(())) => return Ok(()),
            // Something appeared meanwhile: replace it like any existing file.
            Some(Err(e)) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Some(Err(e)) => return Err(e),
            None => {}
        }
    }
    let tmp = temp_path_for(dest);
    let made = match t {
        LinkType::Reflink => reflink_copy::reflink(src, &tmp).and_then(|_| {
            std::fs::set_permissions(&tmp, PermissionsExt::from_mode(workspace_mode(isexec)))
        }),
        LinkType::Hardlink => std::fs::hard_link(src, &tmp),
        LinkType::Symlink => {
            let abs = std::path::absolute(src)?;
            std::os::unix::fs::symlink(abs, &tmp)
        }
        // Created with its final mode: no chmod.
        LinkType::Copy => copy_new(src, &tmp, workspace_mode(isexec))
            .map(|_| ())
            .map_err(|e| match e {
                Error::Io { source, .. } => source,
                other => std::io::Error::other(other.to_string()),
            }),
    };
    if let Err(e) = made {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    if let Err(e) = swap_in(&tmp, dest) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

/// The mode of a private copy: 0644, or 0744 when the data is executable.
///
/// Deliberately not DVC's behaviour: DVC gives every unprotected file 0644 and
/// so drops an executable's `x` bit, which its `checkout` then puts back.
fn private_mode(mode: u32) -> u32 {
    if mode & 0o100 != 0 {
        0o744
    } else {
        0o644
    }
}

/// Makes `path` a private file its owner can write (`unprotect`); returns
/// whether it changed it.
///
/// A file that shares its data (a symlink, or a file with other hard links,
/// such as a link into the cache) is replaced by a copy of the data, swapped in
/// whole. A plain copy the owner cannot write gets 0644 (0744 when executable),
/// as a hardlinked checkout copied with `cp -r` keeps the cache's 0444; one the
/// owner can write keeps the user's permissions.
pub fn make_private(path: &Path) -> Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let st = std::fs::symlink_metadata(path).at(path)?;
    let linked = st.file_type().is_symlink() || (st.is_file() && st.nlink() > 1);
    if !linked {
        if st.is_file() && st.mode() & 0o200 == 0 {
            let mode = PermissionsExt::from_mode(private_mode(st.mode()));
            std::fs::set_permissions(path, mode).at(path)?;
            return Ok(true);
        }
        return Ok(false);
    }
    // Through a symlink: the copy holds the object's bytes and mode.
    let mode = private_mode(std::fs::metadata(path).at(path)?.mode());
    copy_over_itself(path, mode)?;
    Ok(true)
}

/// [`make_private`] of each of `paths`, on `jobs` threads (0: one per core).
pub fn make_private_all(paths: &[std::path::PathBuf], jobs: usize) -> Result<Vec<bool>> {
    use rayon::prelude::*;
    crate::digest::pool(jobs)?.install(|| paths.par_iter().map(|p| make_private(p)).collect())
}

/// Probes which link types work between `cache_dir` and `workspace_dir`.
pub fn supported_link_types(cache_dir: &Path, workspace_dir: &Path) -> Result<Vec<LinkType>> {
    std::fs::create_dir_all(cache_dir).at(cache_dir)?;
    let src = temp_path_for(&cache_dir.join("probe"));
    std::fs::write(&src, b"probe").at(&src)?;
    let mut ok = Vec::new();
    for t in [
        LinkType::Reflink,
        LinkType::Hardlink,
        LinkType::Symlink,
        LinkType::Copy,
    ] {
        let dest = temp_path_for(&workspace_dir.join("probe"));
        if link_as(t, &src, &dest, false, Target::Absent).is_ok() {
            ok.push(t);
        }
        let _ = std::fs::remove_file(&dest);
    }
    let _ = std::fs::remove_file(&src);
    Ok(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_type_lists() {
        assert_eq!(
            parse_link_types("reflink,copy").unwrap(),
            DEFAULT_LINK_TYPES.to_vec()
        );
        assert_eq!(
            parse_link_types(" hardlink , symlink ").unwrap(),
            vec![LinkType::Hardlink, LinkType::Symlink]
        );
        assert!(parse_link_types("").is_err());
        assert!(parse_link_types("reflink,bogus").is_err());
    }

    #[test]
    fn every_type_replaces_what_stands_at_the_name_and_nothing_it_pointed_at() {
        let d = std::env::temp_dir().join(format!("mlvc-link-replace-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let (object, other, stale) = (d.join("object"), d.join("other"), d.join("stale"));
        std::fs::write(&object, b"object").unwrap();
        std::fs::write(&other, b"other").unwrap();
        for t in [LinkType::Copy, LinkType::Hardlink, LinkType::Symlink] {
            for before in ["file", "hardlink", "symlink", "same"] {
                let dest = d.join(format!("{}-{before}", t.name()));
                match before {
                    "file" => std::fs::write(&dest, b"stale").unwrap(),
                    "hardlink" => {
                        std::fs::write(&stale, b"stale").unwrap();
                        std::fs::hard_link(&stale, &dest).unwrap();
                    }
                    "symlink" => std::os::unix::fs::symlink(&other, &dest).unwrap(),
                    // Already the link this type makes.
                    _ => place(t, &object, &dest, false, Target::Absent).unwrap(),
                }
                place(t, &object, &dest, false, Target::Occupied).unwrap();
                let meta = std::fs::symlink_metadata(&dest).unwrap();
                let what = format!("{} over {before}", t.name());
                assert_eq!(
                    meta.file_type().is_symlink(),
                    t == LinkType::Symlink,
                    "{what}"
                );
                assert_eq!(std::fs::read(&dest).unwrap(), b"object", "{what}");
                if before == "hardlink" {
                    assert_eq!(std::fs::read(&stale).unwrap(), b"stale", "{what}");
                    std::fs::remove_file(&stale).unwrap();
                }
            }
        }
        assert_eq!(std::fs::read(&other).unwrap(), b"other");
        // The object and its four hardlinks, and no temp names left.
        let nlink = std::os::unix::fs::MetadataExt::nlink(&std::fs::metadata(&object).unwrap());
        assert_eq!(nlink, 5);
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 14);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn making_files_private_copies_links_and_opens_read_only_copies() {
        use std::os::unix::fs::MetadataExt;
        let d = std::env::temp_dir().join(format!("mlvc-link-private-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let object = d.join("object");
        std::fs::write(&object, b"data").unwrap();
        std::fs::set_permissions(&object, PermissionsExt::from_mode(0o544)).unwrap();
        let (hard, soft, locked, mine) = (d.join("h"), d.join("s"), d.join("r"), d.join("w"));
        std::fs::hard_link(&object, &hard).unwrap();
        std::os::unix::fs::symlink(&object, &soft).unwrap();
        std::fs::write(&locked, b"copy").unwrap();
        std::fs::set_permissions(&locked, PermissionsExt::from_mode(0o444)).unwrap();
        std::fs::write(&mine, b"mine").unwrap();
        std::fs::set_permissions(&mine, PermissionsExt::from_mode(0o600)).unwrap();
        let paths = [hard.clone(), soft.clone(), locked.clone(), mine.clone()];
        assert_eq!(
            make_private_all(&paths, 2).unwrap(),
            [true, true, true, false]
        );
        let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().mode() & 0o7777;
        // Copies of an executable object keep the owner's x; a plain copy gets 0644.
        assert_eq!(
            [mode(&hard), mode(&soft), mode(&locked)],
            [0o744, 0o744, 0o644]
        );
        assert_eq!(mode(&mine), 0o600);
        assert_eq!(std::fs::read(&soft).unwrap(), b"data");
        assert_eq!(std::fs::metadata(&object).unwrap().nlink(), 1);
        // Private already: nothing more to do.
        assert_eq!(make_private_all(&paths, 2).unwrap(), [false; 4]);
        assert!(make_private(&d.join("missing")).is_err());
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 5);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
