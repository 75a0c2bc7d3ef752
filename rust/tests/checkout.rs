use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use mlvc::cache::{InsertMode, ObjectCache, Settle};
use mlvc::checkout::{
    checkout_files, checkout_tree, checkout_tree_within, CheckoutItem, CheckoutOptions,
};
use mlvc::digest::{hash_tree, record_private_copies, DigestOptions};
use mlvc::link::{LinkType, Linker};
use mlvc::progress::Progress;
use mlvc::state::StateDb;

use crate::common::{md5_hex, write};

struct Fixture {
    _t: tempfile::TempDir,
    root: std::path::PathBuf,
    cache: ObjectCache,
    hash: String,
}

fn fixture() -> Fixture {
    fixture_of(&[("a", b"alpha"), ("sub/b", b"beta")])
}

/// A tree of `files` (paths relative to `data/`) hashed into a new cache.
fn fixture_of(files: &[(&str, &[u8])]) -> Fixture {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().to_path_buf();
    for (name, data) in files {
        write(&root, &format!("data/{name}"), data);
    }
    let p = Progress::new();
    let tree = hash_tree(&root.join("data"), &DigestOptions::default(), None, &p).unwrap();
    let cache = ObjectCache::new(root.join("cache"));
    cache
        .insert_tree(&tree, InsertMode::Copy, Settle::Leave, 2, &p)
        .unwrap();
    Fixture {
        _t: t,
        root,
        cache,
        hash: tree.hash,
    }
}

impl Fixture {
    /// Checks the tree out into `dest` with the link `types`, limited to the
    /// paths `within` (the whole tree when empty, as `checkout_tree` does).
    fn checkout(
        &self,
        dest: &Path,
        types: &[LinkType],
        opts: &CheckoutOptions,
        within: &[&str],
    ) -> mlvc::checkout::CheckoutReport {
        let within: Vec<Vec<u8>> = within.iter().map(|w| w.as_bytes().to_vec()).collect();
        checkout_tree_within(
            &self.cache,
            &Linker::new(types.to_vec()),
            &self.hash,
            dest,
            &within,
            opts,
            None,
            &Progress::new(),
        )
        .unwrap()
    }
}

#[test]
fn copy_checkout_restores_a_deleted_tree_with_writable_files() {
    let f = fixture();
    let dest = f.root.join("data");
    std::fs::remove_dir_all(&dest).unwrap();
    let r = f.checkout(
        &dest,
        &[LinkType::Reflink, LinkType::Copy],
        &CheckoutOptions::default(),
        &[],
    );
    assert_eq!(r.linked.len(), 2);
    assert!(matches!(
        r.link_type,
        Some(LinkType::Copy) | Some(LinkType::Reflink)
    ));
    assert_eq!(std::fs::read(dest.join("sub/b")).unwrap(), b"beta");
    let mode = std::fs::metadata(dest.join("a"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o666 & !mlvc::link::umask());
}

#[test]
fn hardlink_checkout_shares_the_inode() {
    let f = fixture();
    let dest = f.root.join("out");
    let r = f.checkout(
        &dest,
        &[LinkType::Hardlink],
        &CheckoutOptions::default(),
        &[],
    );
    assert_eq!(r.link_type, Some(LinkType::Hardlink));
    let obj = f.cache.object_path(&md5_hex(b"alpha")).unwrap();
    assert_eq!(
        std::fs::metadata(dest.join("a")).unwrap().ino(),
        std::fs::metadata(obj).unwrap().ino()
    );
    // A second checkout finds everything in place.
    let again = f.checkout(
        &dest,
        &[LinkType::Hardlink],
        &CheckoutOptions::default(),
        &[],
    );
    assert_eq!(again.linked.len(), 0);
    assert_eq!(again.unchanged, 2);
}

#[test]
fn data_written_through_a_hardlink_is_not_taken_as_in_place() {
    let f = fixture();
    let dest = f.root.join("out");
    let opts = CheckoutOptions::default();
    f.checkout(&dest, &[LinkType::Hardlink], &opts, &[]);
    // The write changes the object too: the link still shares its inode, but
    // its content is no longer what the record names.
    let link = dest.join("a");
    std::fs::set_permissions(&link, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&link, b"written through the link").unwrap();
    let r = f.checkout(&dest, &[LinkType::Hardlink], &opts, &[]);
    assert_eq!(r.conflicts, vec![link.clone()]);
    assert_eq!(r.unchanged, 1, "`sub/b` stays in place");
    assert_eq!(
        std::fs::read(&link).unwrap(),
        b"written through the link",
        "a refused checkout changes nothing"
    );
}

#[test]
fn hardlink_checkout_gives_empty_files_their_own_inode() {
    let f = fixture_of(&[("e1", b""), ("sub/e2", b""), ("x", b"x")]);
    let cache = &f.cache;
    let dest = f.root.join("out");
    let opts = CheckoutOptions::default();
    let r = f.checkout(&dest, &[LinkType::Hardlink], &opts, &[]);
    assert_eq!(r.link_type, Some(LinkType::Hardlink));
    let ino = |p: &Path| std::fs::metadata(p).unwrap().ino();
    let empty = cache.object_path(&md5_hex(b"")).unwrap();
    // All empty files as links of one inode could pass ext4's limit of 65,000 links.
    for e in ["e1", "sub/e2"] {
        assert_ne!(ino(&dest.join(e)), ino(&empty), "{e}");
        let mode = std::fs::metadata(dest.join(e))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o666 & !mlvc::link::umask(), "{e}");
    }
    assert_eq!(
        ino(&dest.join("x")),
        ino(&cache.object_path(&md5_hex(b"x")).unwrap())
    );
    let again = f.checkout(&dest, &[LinkType::Hardlink], &opts, &[]);
    assert_eq!((again.linked.len(), again.unchanged), (0, 3));
}

#[test]
fn symlink_checkout_points_at_the_absolute_object() {
    let f = fixture();
    let dest = f.root.join("out");
    f.checkout(
        &dest,
        &[LinkType::Symlink],
        &CheckoutOptions::default(),
        &[],
    );
    let target = std::fs::read_link(dest.join("a")).unwrap();
    assert!(target.is_absolute());
    assert_eq!(std::fs::read(dest.join("a")).unwrap(), b"alpha");
}

#[test]
fn fallback_moves_past_a_type_that_fails() {
    // Reflink is unsupported on most test filesystems (ext4, overlay, tmpfs);
    // where it works, it settles first, which is right too.
    let f = fixture();
    let linker = Linker::new(vec![LinkType::Reflink, LinkType::Hardlink]);
    let dest = f.root.join("out");
    checkout_tree(
        &f.cache,
        &linker,
        &f.hash,
        &dest,
        &CheckoutOptions::default(),
        None,
        &Progress::new(),
    )
    .unwrap();
    assert!(matches!(
        linker.settled(),
        Some(LinkType::Reflink) | Some(LinkType::Hardlink)
    ));
}

#[test]
fn checkout_keeps_modified_file_without_force() {
    let f = fixture();
    let dest = f.root.join("data");
    std::fs::write(dest.join("a"), b"precious edits").unwrap();
    let r = f.checkout(&dest, &[LinkType::Copy], &CheckoutOptions::default(), &[]);
    assert_eq!(r.conflicts, vec![dest.join("a")]);
    assert!(r.linked.is_empty());
    assert_eq!(std::fs::read(dest.join("a")).unwrap(), b"precious edits");
    let forced = f.checkout(
        &dest,
        &[LinkType::Copy],
        &CheckoutOptions {
            force: true,
            ..Default::default()
        },
        &[],
    );
    assert_eq!(forced.linked, vec![dest.join("a")]);
    assert_eq!(std::fs::read(dest.join("a")).unwrap(), b"alpha");
}

#[test]
fn files_the_state_knows_are_kept_and_an_edit_of_the_same_size_is_still_seen() {
    let f = fixture();
    let dest = f.root.join("data");
    let db = StateDb::open(&f.root.join("state.db")).unwrap();
    // Recorded once the files' timestamps are a tick old, so the records hold.
    std::thread::sleep(std::time::Duration::from_millis(250));
    hash_tree(
        &dest,
        &DigestOptions::default(),
        Some(&db),
        &Progress::new(),
    )
    .unwrap();
    let checkout = || {
        checkout_tree(
            &f.cache,
            &Linker::new(vec![LinkType::Copy]),
            &f.hash,
            &dest,
            &CheckoutOptions::default(),
            Some(&db),
            &Progress::new(),
        )
        .unwrap()
    };
    let r = checkout();
    assert_eq!((r.unchanged, r.linked.len(), r.conflicts.len()), (2, 0, 0));
    std::fs::write(dest.join("a"), b"ALPHA").unwrap();
    let r = checkout();
    assert_eq!(r.conflicts, vec![dest.join("a")]);
    assert_eq!(std::fs::read(dest.join("a")).unwrap(), b"ALPHA");
}

/// State-backed helpers for the recorded-checkout tests.
struct Recorded<'a> {
    f: &'a Fixture,
    dest: std::path::PathBuf,
    db: StateDb,
}

impl<'a> Recorded<'a> {
    /// The fixture's tree checked out at `data/`, with a state database beside it.
    fn new(f: &'a Fixture) -> Self {
        Recorded {
            f,
            dest: f.root.join("data"),
            db: StateDb::open(&f.root.join("state.db")).unwrap(),
        }
    }

    fn hash(&self) -> mlvc::digest::TreeResult {
        hash_tree(
            &self.dest,
            &DigestOptions::default(),
            Some(&self.db),
            &Progress::new(),
        )
        .unwrap()
    }

    fn checkout(&self, t: LinkType, record: bool) -> mlvc::checkout::CheckoutReport {
        let opts = CheckoutOptions {
            record,
            ..CheckoutOptions::default()
        };
        checkout_tree(
            &self.f.cache,
            &Linker::new(vec![t]),
            &self.f.hash,
            &self.dest,
            &opts,
            Some(&self.db),
            &Progress::new(),
        )
        .unwrap()
    }
}

/// The files a look had to read: those its state did not answer for.
fn read_again(tree: &mlvc::digest::TreeResult) -> Vec<&[u8]> {
    tree.files
        .iter()
        .filter(|x| !x.from_state)
        .map(|x| x.relpath.as_slice())
        .collect()
}

fn tick() {
    // Past the state's timestamp tick: what was proven before is not racily clean.
    std::thread::sleep(std::time::Duration::from_millis(250));
}

#[test]
fn a_recorded_checkout_leaves_the_next_look_nothing_to_read() {
    let f = fixture_of(&[("a", b"alpha"), ("sub/b", b"beta"), ("sub/c", b"gamma")]);
    let r = Recorded::new(&f);
    r.hash();
    std::fs::remove_dir_all(&r.dest).unwrap();
    // Copies just written are racily clean: the first look after reads them,
    // and records them.
    assert_eq!(r.checkout(LinkType::Copy, true).created, 3);
    tick();
    assert_eq!(r.checkout(LinkType::Copy, true).unchanged, 3);
    let again = r.hash();
    assert_eq!(again.hash, f.hash);
    assert!(again.files.iter().all(|x| x.from_state));
    // Without recording, the snapshot of the deleted files answers for nothing.
    std::fs::remove_dir_all(&r.dest).unwrap();
    r.checkout(LinkType::Copy, false);
    tick();
    r.checkout(LinkType::Copy, false);
    assert!(r.hash().files.iter().all(|x| !x.from_state));
}

#[test]
fn a_recorded_checkout_trusts_a_linked_object_only_as_far_as_it_was_proven() {
    let f = fixture_of(&[("a", b"alpha"), ("sub/b", b"beta"), ("sub/c", b"gamma")]);
    let r = Recorded::new(&f);
    std::fs::remove_dir_all(&r.dest).unwrap();
    r.checkout(LinkType::Symlink, true);
    tick();
    // The objects, hashed through the links: proven.
    assert_eq!(r.hash().hash, f.hash);
    // Bytes written through a link change its object.
    let object = std::fs::read_link(r.dest.join("sub/b")).unwrap();
    std::fs::set_permissions(&object, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&object, b"BETA").unwrap();
    tick();
    std::fs::remove_dir_all(&r.dest).unwrap();
    assert_eq!(r.checkout(LinkType::Symlink, true).created, 3);
    let again = r.hash();
    assert_ne!(again.hash, f.hash);
    let read = read_again(&again);
    assert_eq!(read, vec![b"sub/b".as_slice()]);
}

#[test]
fn private_copies_of_hardlinked_files_are_recorded_so_the_next_look_reads_nothing() {
    let f = fixture_of(&[("a", b"alpha"), ("sub/b", b"beta"), ("sub/c", b"gamma")]);
    let r = Recorded::new(&f);
    let opts = DigestOptions::default();
    let private = |tree: &mlvc::digest::TreeResult| {
        // As `commit` does with copies first: the files sharing an inode are relinked.
        let items: Vec<CheckoutItem> = tree
            .files
            .iter()
            .filter(|x| x.nlink > 1)
            .map(|x| CheckoutItem {
                dest: x.path.clone(),
                hash: x.hash.clone(),
                isexec: false,
                rewrite: false,
            })
            .collect();
        let relink = CheckoutOptions {
            relink: true,
            ..CheckoutOptions::default()
        };
        let linker = Linker::new(vec![LinkType::Copy]);
        checkout_files(&f.cache, &linker, &items, &relink, None, &Progress::new()).unwrap();
        items.len()
    };
    for record in [false, true] {
        std::fs::remove_dir_all(&r.dest).unwrap();
        r.checkout(LinkType::Hardlink, false);
        // Two of the three are links to their objects.
        std::fs::remove_file(r.dest.join("a")).unwrap();
        std::fs::write(r.dest.join("a"), b"alpha").unwrap();
        tick();
        let tree = r.hash();
        assert_eq!(private(&tree), 2);
        tick();
        if record {
            record_private_copies(&r.dest, &tree, &opts, &r.db).unwrap();
        }
        let again = r.hash();
        assert_eq!(again.hash, f.hash);
        let read = read_again(&again);
        let expected: &[&[u8]] = if record { &[] } else { &[b"sub/b", b"sub/c"] };
        assert_eq!(read, expected, "recorded: {record}");
        assert!(again.files.iter().all(|x| x.nlink == 1));
    }
}

#[test]
fn plan_only_reports_what_would_change_and_changes_nothing() {
    let f = fixture();
    let dest = f.root.join("data");
    std::fs::remove_file(dest.join("a")).unwrap();
    std::fs::write(dest.join("extra"), b"beta").unwrap(); // cached: may go
    std::fs::create_dir(dest.join("empty")).unwrap();
    let plan = CheckoutOptions {
        plan_only: true,
        ..Default::default()
    };
    let r = f.checkout(&dest, &[LinkType::Copy], &plan, &[]);
    assert!(r.conflicts.is_empty());
    assert_eq!((r.linked, r.created), (vec![dest.join("a")], 1));
    assert_eq!(r.removed, vec![dest.join("extra"), dest.join("empty")]);
    assert!(!dest.join("a").exists() && dest.join("extra").exists());
    assert!(dest.join("empty").is_dir());
    // Unsaved data: the conflict, and still nothing changed.
    std::fs::write(dest.join("extra"), b"unsaved").unwrap();
    let r = f.checkout(&dest, &[LinkType::Copy], &plan, &[]);
    assert_eq!(r.conflicts, vec![dest.join("extra")]);
    assert!(r.linked.is_empty() && r.removed.is_empty());
    // A destination where nothing stands is planned whole, and left absent.
    let other = f.root.join("other");
    let r = f.checkout(&other, &[LinkType::Copy], &plan, &[]);
    assert_eq!((r.linked.len(), r.created), (2, 2));
    assert!(!other.exists());
}

#[test]
fn checkout_replaces_content_that_the_cache_holds() {
    let f = fixture();
    let dest = f.root.join("data");
    // "beta" is in the cache, so overwriting a with it loses nothing.
    std::fs::write(dest.join("a"), b"beta").unwrap();
    let r = f.checkout(&dest, &[LinkType::Copy], &CheckoutOptions::default(), &[]);
    assert!(r.conflicts.is_empty());
    assert_eq!(std::fs::read(dest.join("a")).unwrap(), b"alpha");
}

#[test]
fn untracked_extra_files_block_checkout_but_cached_ones_are_removed() {
    let f = fixture();
    let dest = f.root.join("data");
    std::fs::write(dest.join("extra"), b"new work").unwrap();
    let r = f.checkout(&dest, &[LinkType::Copy], &CheckoutOptions::default(), &[]);
    assert_eq!(r.conflicts, vec![dest.join("extra")]);
    assert!(dest.join("extra").exists());
    std::fs::write(dest.join("extra"), b"alpha").unwrap();
    std::fs::create_dir_all(dest.join("deep/er")).unwrap();
    std::fs::write(dest.join("deep/er/x"), b"beta").unwrap();
    let r = f.checkout(&dest, &[LinkType::Copy], &CheckoutOptions::default(), &[]);
    assert_eq!(
        r.removed.len(),
        4,
        "two files and the two directories emptied"
    );
    assert!(!dest.join("extra").exists());
    assert!(
        !dest.join("deep").exists(),
        "emptied directories are pruned"
    );
}

#[test]
fn missing_objects_are_reported_not_fatal() {
    let f = fixture();
    f.cache.remove(&md5_hex(b"beta")).unwrap();
    let dest = f.root.join("out");
    let r = f.checkout(&dest, &[LinkType::Copy], &CheckoutOptions::default(), &[]);
    assert_eq!(r.missing.len(), 1);
    assert_eq!(r.linked.len(), 1);
}

#[test]
fn a_file_without_its_object_is_kept_when_right_and_guarded_when_unsaved() {
    let f = fixture();
    f.cache.remove(&md5_hex(b"beta")).unwrap();
    let dest = f.root.join("data");
    // Right content: nothing to do, nothing missing.
    let r = f.checkout(&dest, &[LinkType::Copy], &CheckoutOptions::default(), &[]);
    assert!(r.missing.is_empty() && r.conflicts.is_empty(), "{r:?}");
    assert_eq!(r.unchanged, 2);
    // Other content, in no cache: a conflict unless forced.
    write(&f.root, "data/sub/b", b"edited");
    let r = f.checkout(&dest, &[LinkType::Copy], &CheckoutOptions::default(), &[]);
    assert_eq!(r.conflicts, vec![dest.join("sub/b")]);
    assert!(r.missing.is_empty());
    let force = CheckoutOptions {
        force: true,
        ..CheckoutOptions::default()
    };
    let r = f.checkout(&dest, &[LinkType::Copy], &force, &[]);
    assert!(r.conflicts.is_empty());
    assert_eq!(r.missing.len(), 1);
    // Missing: the file is left for the caller to deal with.
    assert_eq!(std::fs::read(dest.join("sub/b")).unwrap(), b"edited");
}

#[test]
fn exec_bit_on_single_file_checkout() {
    let f = fixture();
    let dest = f.root.join("run.sh");
    let items = [CheckoutItem {
        dest: dest.clone(),
        hash: md5_hex(b"alpha"),
        isexec: true,
        rewrite: false,
    }];
    checkout_files(
        &f.cache,
        &Linker::new(vec![LinkType::Copy]),
        &items,
        &CheckoutOptions::default(),
        None,
        &Progress::new(),
    )
    .unwrap();
    assert_eq!(
        std::fs::metadata(&dest).unwrap().permissions().mode() & 0o100,
        0o100
    );
}

#[test]
fn a_linked_executable_makes_its_object_executable() {
    let f = fixture();
    let obj = f.cache.object_path(&md5_hex(b"alpha")).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for t in [LinkType::Hardlink, LinkType::Symlink] {
        std::fs::set_permissions(&obj, std::fs::Permissions::from_mode(0o444)).unwrap();
        let dest = f.root.join(format!("run-{}", t.name()));
        let items = [CheckoutItem {
            dest: dest.clone(),
            hash: md5_hex(b"alpha"),
            isexec: true,
            rewrite: false,
        }];
        let go = || {
            checkout_files(
                &f.cache,
                &Linker::new(vec![t]),
                &items,
                &CheckoutOptions::default(),
                None,
                &Progress::new(),
            )
            .unwrap()
        };
        // DVC-compat: the owner's x goes on the object, through the link.
        let r = go();
        assert_eq!((r.linked.len(), r.created), (1, 1));
        assert_eq!(mode(&obj), 0o544);
        assert_eq!(go().unchanged, 1);
        // A link to an object without it (as older checkouts left) gains it,
        // counted as a change, the link kept.
        std::fs::set_permissions(&obj, std::fs::Permissions::from_mode(0o444)).unwrap();
        let r = go();
        assert_eq!((r.linked.len(), r.created, r.link_type), (1, 0, None));
        assert_eq!(mode(&obj), 0o544);
    }
}

#[test]
fn relink_switches_link_type() {
    let f = fixture();
    let dest = f.root.join("out");
    f.checkout(&dest, &[LinkType::Copy], &CheckoutOptions::default(), &[]);
    let r = f.checkout(
        &dest,
        &[LinkType::Hardlink],
        &CheckoutOptions {
            relink: true,
            ..Default::default()
        },
        &[],
    );
    assert_eq!(r.linked.len(), 2);
    assert_eq!(std::fs::metadata(dest.join("a")).unwrap().nlink(), 2);
}

#[test]
fn malicious_manifest_is_rejected_before_writing() {
    let f = fixture();
    let evil = br#"[{"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "../escaped"}]"#;
    let h = format!("{}.dir", md5_hex(evil));
    f.cache.insert_bytes(&h, evil).unwrap();
    let dest = f.root.join("out");
    let r = checkout_tree(
        &f.cache,
        &Linker::new(vec![LinkType::Copy]),
        &h,
        &dest,
        &CheckoutOptions::default(),
        None,
        &Progress::new(),
    );
    assert!(
        matches!(r, Err(mlvc::Error::InvalidManifest { .. })),
        "{r:?}"
    );
    assert!(!f.root.join("escaped").exists());
}

#[test]
fn checkout_within_a_path_touches_nothing_else() {
    let f = fixture();
    let plain = CheckoutOptions::default();
    let forced = CheckoutOptions {
        force: true,
        ..Default::default()
    };
    let dest = f.root.join("data");
    std::fs::remove_file(dest.join("a")).unwrap();
    std::fs::remove_file(dest.join("sub/b")).unwrap();
    write(&dest, "sub/extra", b"alpha");
    write(&dest, "sub/x/y/z", b"beta");
    write(&dest, "other", b"mine");
    let r = f.checkout(&dest, &[LinkType::Copy], &plain, &["sub"]);
    assert_eq!(r.linked, vec![dest.join("sub/b")]);
    assert_eq!(r.created, 1);
    // Files under the path not in the tree go, then the directories they leave empty.
    assert_eq!(r.removed.len(), 4);
    assert!(
        !dest.join("a").exists(),
        "files outside the path stay missing"
    );
    assert_eq!(std::fs::read(dest.join("other")).unwrap(), b"mine");
    assert!(
        !dest.join("sub/x").exists(),
        "emptied directories are pruned"
    );
    // Unsaved data under the path stops it; a path the tree does not hold is cleared.
    write(&dest, "new/deep/z", b"unsaved");
    let r = f.checkout(&dest, &[LinkType::Copy], &plain, &["new/deep/z"]);
    assert_eq!(r.conflicts, vec![dest.join("new/deep/z")]);
    let r = f.checkout(&dest, &[LinkType::Copy], &forced, &["new/deep/z"]);
    let gone = ["new/deep/z", "new/deep", "new"];
    assert_eq!(r.removed, gone.map(|p| dest.join(p)));
    assert!(!dest.join("new").exists());
    // The tree's own directories stay, even when emptied.
    std::fs::remove_file(dest.join("sub/b")).unwrap();
    write(&dest, "sub/gone", b"beta");
    f.checkout(&dest, &[LinkType::Copy], &plain, &["sub/gone"]);
    assert!(dest.join("sub").is_dir());
}

#[test]
fn checkout_within_a_path_through_a_file_rewrites_the_file() {
    let f = fixture();
    let plain = CheckoutOptions::default();
    let forced = CheckoutOptions {
        force: true,
        ..Default::default()
    };
    let dest = f.root.join("data");
    // DVC-compat: `dvc checkout data/sub/b/x` writes `data/sub/b` whatever it holds,
    // without `--force`, and leaves the rest alone.
    std::fs::write(dest.join("sub/b"), b"unsaved").unwrap();
    std::fs::write(dest.join("a"), b"mine").unwrap();
    let r = f.checkout(&dest, &[LinkType::Copy], &plain, &["sub/b/x/y"]);
    assert_eq!(r.linked, vec![dest.join("sub/b")]);
    assert_eq!((r.created, r.conflicts.len()), (0, 0));
    assert_eq!(std::fs::read(dest.join("sub/b")).unwrap(), b"beta");
    assert_eq!(std::fs::read(dest.join("a")).unwrap(), b"mine");
    // Even when right; and restored when missing.
    let r = f.checkout(&dest, &[LinkType::Copy], &plain, &["sub/b/x"]);
    assert_eq!(r.linked, vec![dest.join("sub/b")]);
    std::fs::remove_file(dest.join("sub/b")).unwrap();
    let r = f.checkout(&dest, &[LinkType::Copy], &plain, &["sub/b/x"]);
    assert_eq!(r.created, 1);
    // A directory standing there is replaced only with `force`.
    std::fs::remove_file(dest.join("sub/b")).unwrap();
    write(&dest, "sub/b/x", b"unsaved");
    let r = f.checkout(&dest, &[LinkType::Copy], &plain, &["sub/b/x"]);
    assert_eq!(r.conflicts.len(), 2, "{:?}", r.conflicts);
    assert_eq!(std::fs::read(dest.join("sub/b/x")).unwrap(), b"unsaved");
    f.checkout(&dest, &[LinkType::Copy], &forced, &["sub/b/x"]);
    assert_eq!(std::fs::read(dest.join("sub/b")).unwrap(), b"beta");
}

#[test]
fn checkout_within_refuses_paths_leaving_the_directory() {
    let f = fixture();
    let within = vec![b"../x".to_vec()];
    let r = checkout_tree_within(
        &f.cache,
        &Linker::new(vec![LinkType::Copy]),
        &f.hash,
        &f.root.join("data"),
        &within,
        &CheckoutOptions::default(),
        None,
        &Progress::new(),
    );
    assert!(matches!(r, Err(mlvc::Error::InvalidArgument(_))), "{r:?}");
}

#[test]
fn a_wrong_exec_bit_only_ever_gains_the_owners_bit() {
    let f = fixture();
    let dest = f.root.join("data");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let chmod =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    // DVC-compat: a directory's files are recorded not executable; an executable
    // one is counted as changed but keeps its bits, one with only others' x gains
    // the owner's.
    chmod(&dest.join("a"), 0o755);
    chmod(&dest.join("sub/b"), 0o645);
    let r = f.checkout(&dest, &[LinkType::Copy], &CheckoutOptions::default(), &[]);
    assert_eq!(r.linked.len(), 2);
    assert_eq!(r.created, 0);
    assert_eq!(mode(&dest.join("a")), 0o755);
    assert_eq!(mode(&dest.join("sub/b")), 0o745);
    // A single file recorded executable gets the owner's bit, content untouched.
    let single = dest.join("a");
    chmod(&single, 0o640);
    let items = [CheckoutItem {
        dest: single.clone(),
        hash: md5_hex(b"alpha"),
        isexec: true,
        rewrite: false,
    }];
    let ino = std::fs::metadata(&single).unwrap().ino();
    let r = checkout_files(
        &f.cache,
        &Linker::new(vec![LinkType::Copy]),
        &items,
        &CheckoutOptions::default(),
        None,
        &Progress::new(),
    )
    .unwrap();
    assert_eq!(r.linked, vec![single.clone()]);
    assert_eq!(mode(&single), 0o740);
    assert_eq!(std::fs::metadata(&single).unwrap().ino(), ino);
}

#[test]
fn a_tree_where_nothing_stands_appears_whole_with_its_final_paths() {
    let f = fixture();
    f.cache.remove(&md5_hex(b"beta")).unwrap();
    let dest = f.root.join("new/out");
    // What a checkout killed while filling `out` left.
    std::fs::create_dir_all(f.root.join("new")).unwrap();
    let dead = f.root.join("new/.out.2147483646.0.mlvc-tmp");
    std::fs::create_dir_all(&dead).unwrap();
    std::fs::write(dead.join("a"), b"alp").unwrap();
    let r = f.checkout(&dest, &[LinkType::Copy], &CheckoutOptions::default(), &[]);
    assert_eq!(r.linked, vec![dest.join("a")]);
    assert_eq!(r.missing, vec![(dest.join("sub/b"), md5_hex(b"beta"))]);
    assert_eq!(std::fs::read(dest.join("a")).unwrap(), b"alpha");
    let names: Vec<_> = std::fs::read_dir(f.root.join("new"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("out")]);
}

#[test]
fn a_tree_whose_name_leaves_no_room_for_a_temp_name_is_still_checked_out() {
    let f = fixture();
    let dest = f.root.join("d".repeat(250));
    let r = f.checkout(&dest, &[LinkType::Copy], &CheckoutOptions::default(), &[]);
    assert_eq!(r.linked.len(), 2);
    assert_eq!(std::fs::read(dest.join("sub/b")).unwrap(), b"beta");
}

#[test]
fn a_walk_tells_hardlinks_and_a_copy_first_relink_makes_them_private() {
    let f = fixture();
    let dest = f.root.join("out");
    f.checkout(
        &dest,
        &[LinkType::Hardlink],
        &CheckoutOptions::default(),
        &[],
    );
    // `sub/b` becomes a plain copy; `a` stays a hardlink to its object.
    let b = dest.join("sub/b");
    std::fs::remove_file(&b).unwrap();
    std::fs::write(&b, b"beta").unwrap();
    let p = Progress::new();
    let tree = hash_tree(&dest, &DigestOptions::default(), None, &p).unwrap();
    let nlinks: Vec<u64> = tree.files.iter().map(|f| f.nlink).collect();
    assert_eq!(nlinks, vec![2, 1]);
    let a = &tree.files[0];
    let items = [CheckoutItem {
        dest: a.path.clone(),
        hash: a.hash.clone(),
        isexec: false,
        rewrite: false,
    }];
    let opts = CheckoutOptions {
        relink: true,
        ..CheckoutOptions::default()
    };
    let linker = Linker::new(vec![LinkType::Copy]);
    let r = checkout_files(&f.cache, &linker, &items, &opts, None, &p).unwrap();
    assert_eq!(r.linked, vec![a.path.clone()]);
    let copy = std::fs::metadata(&a.path).unwrap();
    assert_eq!(copy.nlink(), 1);
    assert_ne!(copy.permissions().mode() & 0o200, 0, "the copy is writable");
    let obj = std::fs::metadata(f.cache.object_path(&a.hash).unwrap()).unwrap();
    assert_eq!((obj.nlink(), obj.permissions().mode() & 0o777), (1, 0o444));
}
