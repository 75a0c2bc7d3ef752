use std::path::Path;

use mlvc::digest::{hash_tree, DigestOptions};
use mlvc::progress::Progress;
use mlvc::state::StateDb;
use mlvc::walk::FileMeta;

use crate::common::write;

fn old_meta(path: &Path) -> FileMeta {
    FileMeta::from_metadata(&std::fs::metadata(path).unwrap())
}

#[test]
fn unchanged_files_come_from_the_state_after_they_age() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("d");
    // Modified "in 300 ms": however slow the machine is between here and the
    // first hash, the files stay racily clean for the next 400 ms.
    let soon = std::time::SystemTime::now() + std::time::Duration::from_millis(300);
    for i in 0..100 {
        write(&data, &format!("f{i}"), format!("{i}").as_bytes());
        let f = std::fs::File::options()
            .write(true)
            .open(data.join(format!("f{i}")))
            .unwrap();
        f.set_modified(soon).unwrap();
    }
    let db = StateDb::open(&t.path().join("state/db.sqlite")).unwrap();
    let hash = || {
        hash_tree(
            &data,
            &DigestOptions::default(),
            Some(&db),
            &Progress::new(),
        )
        .unwrap()
    };
    let first = hash();
    assert!(first.files.iter().all(|f| !f.from_state));
    // Racily clean: recorded within a tick of their timestamps, so rehashed...
    let second = hash();
    assert!(second.files.iter().all(|f| !f.from_state));
    // ...until a recording made after the tick has passed proves them.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let third = hash();
    assert!(third.files.iter().all(|f| !f.from_state));
    let fourth = hash();
    assert!(fourth.files.iter().all(|f| f.from_state));
    assert_eq!(fourth.hash, first.hash);
}

#[test]
fn a_changed_file_is_rehashed() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("f");
    std::fs::write(&f, b"one").unwrap();
    let db = StateDb::open(&t.path().join("db")).unwrap();
    let m = old_meta(&f);
    db.record_many("md5", &[(&f, m, "h1")], m.mtime_ns + 10_000_000_000)
        .unwrap();
    assert_eq!(
        db.lookup_many("md5", &[(&f, m)]).unwrap(),
        vec![Some("h1".to_string())]
    );
    let changed = FileMeta {
        size: m.size + 1,
        ..m
    };
    assert_eq!(db.lookup_many("md5", &[(&f, changed)]).unwrap(), vec![None]);
    let touched = FileMeta {
        mtime_ns: m.mtime_ns + 1,
        ..m
    };
    assert_eq!(db.lookup_many("md5", &[(&f, touched)]).unwrap(), vec![None]);
    let other_algo = db.lookup_many("blake3", &[(&f, m)]).unwrap();
    assert_eq!(other_algo, vec![None]);
}

#[test]
fn racily_clean_entries_are_not_trusted() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("f");
    std::fs::write(&f, b"one").unwrap();
    let db = StateDb::open(&t.path().join("db")).unwrap();
    let m = old_meta(&f);
    // Recorded in the same tick as the file's mtime.
    db.record_many("md5", &[(&f, m, "h1")], m.mtime_ns).unwrap();
    assert_eq!(db.lookup_many("md5", &[(&f, m)]).unwrap(), vec![None]);
}

#[test]
fn two_handles_share_one_database() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("db");
    let a = StateDb::open(&path).unwrap();
    let b = StateDb::open(&path).unwrap();
    let f = t.path().join("f");
    std::fs::write(&f, b"x").unwrap();
    let m = old_meta(&f);
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let path = path.clone();
            let f = f.clone();
            std::thread::spawn(move || {
                let db = StateDb::open(&path).unwrap();
                for _ in 0..50 {
                    db.record_many(
                        "md5",
                        &[(&f, m, &format!("h{i}"))],
                        m.mtime_ns + 10_000_000_000,
                    )
                    .unwrap();
                }
            })
        })
        .collect();
    for th in threads {
        th.join().unwrap();
    }
    a.record_many("md5", &[(&f, m, "final")], m.mtime_ns + 10_000_000_000)
        .unwrap();
    assert_eq!(
        b.lookup_many("md5", &[(&f, m)]).unwrap(),
        vec![Some("final".to_string())]
    );
    assert_eq!(b.forget(t.path()).unwrap(), 1);
}

#[test]
fn range_scan_lookup_agrees_with_point_lookups() {
    let t = tempfile::tempdir().unwrap();
    let db = StateDb::open(&t.path().join("db")).unwrap();
    let mut rows = vec![];
    for i in 0..200 {
        let p = t.path().join(format!("d/f{i}"));
        write(t.path(), &format!("d/f{i}"), b"x");
        rows.push((p.clone(), old_meta(&p)));
    }
    let rec: Vec<_> = rows.iter().map(|(p, m)| (p.as_path(), *m, "h")).collect();
    db.record_many("md5", &rec, i64::MAX / 2).unwrap();
    // A file outside the range, with the same prefix bytes but not under d/.
    let keys: Vec<_> = rows.iter().map(|(p, m)| (p.as_path(), *m)).collect();
    assert!(db
        .lookup_many("md5", &keys)
        .unwrap()
        .iter()
        .all(|h| h.as_deref() == Some("h")));
    assert!(db
        .lookup_many("md5", &keys[..3])
        .unwrap()
        .iter()
        .all(|h| h.as_deref() == Some("h")));
}

fn aged_tree(root: &Path, n: usize) {
    for i in 0..n {
        write(root, &format!("d{}/f{i}", i % 7), format!("{i}").as_bytes());
    }
    // Older than the racy window, so the second hash trusts the state.
    std::thread::sleep(std::time::Duration::from_millis(250));
}

fn hash_with(db: &StateDb, root: &Path) -> mlvc::digest::TreeResult {
    hash_tree(root, &DigestOptions::default(), Some(db), &Progress::new()).unwrap()
}

#[test]
fn an_unchanged_tree_reuses_its_recorded_id_and_a_change_replaces_it() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("d");
    aged_tree(&data, 50);
    let db = StateDb::open(&t.path().join("db")).unwrap();
    let first = hash_with(&db, &data);
    let hit = hash_with(&db, &data);
    assert!(hit.files.iter().all(|f| f.from_state));
    assert_eq!(hit.hash, first.hash);
    // The manifest built on demand is the one the id names.
    assert_eq!(mlvc::tree::dir_hash(hit.manifest()), hit.hash);

    // A new file, a removed file and a changed file each change the id.
    write(&data, "d0/new", b"new");
    let added = hash_with(&db, &data);
    assert_ne!(added.hash, first.hash);
    assert_eq!(mlvc::tree::dir_hash(added.manifest()), added.hash);
    std::fs::remove_file(data.join("d0/new")).unwrap();
    assert_eq!(hash_with(&db, &data).hash, first.hash);
    std::fs::write(data.join("d1/f1"), b"changed").unwrap();
    let changed = hash_with(&db, &data);
    assert_ne!(changed.hash, first.hash);
    assert_eq!(mlvc::tree::dir_hash(changed.manifest()), changed.hash);
}

#[test]
fn names_that_are_not_utf8_are_remembered_too() {
    use std::os::unix::ffi::OsStrExt;
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("d");
    std::fs::create_dir_all(&data).unwrap();
    // Manifest order (Python's code points) and byte order differ for these.
    for name in [&b"a\xffz"[..], b"a\xc3\xa9", b"ab", b"a\xed\xa0\x80"] {
        std::fs::write(data.join(std::ffi::OsStr::from_bytes(name)), name).unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(250));
    let db = StateDb::open(&t.path().join("db")).unwrap();
    let first = hash_with(&db, &data);
    let hit = hash_with(&db, &data);
    assert!(hit.files.iter().all(|f| f.from_state));
    assert_eq!(hit.hash, first.hash);
    assert_eq!(mlvc::tree::dir_hash(hit.manifest()), hit.hash);
}
