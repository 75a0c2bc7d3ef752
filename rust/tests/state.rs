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
    for i in 0..100 {
        write(&data, &format!("f{i}"), format!("{i}").as_bytes());
    }
    let db = StateDb::open(&t.path().join("state/db.sqlite")).unwrap();
    let first = hash_tree(
        &data,
        &DigestOptions::default(),
        Some(&db),
        &Progress::new(),
    )
    .unwrap();
    assert!(first.files.iter().all(|f| !f.from_state));
    // Just written: racily clean, so the next run rehashes and re-records...
    std::thread::sleep(std::time::Duration::from_millis(250));
    let second = hash_tree(
        &data,
        &DigestOptions::default(),
        Some(&db),
        &Progress::new(),
    )
    .unwrap();
    assert!(second.files.iter().all(|f| !f.from_state));
    // ...after which they are old enough to trust.
    let third = hash_tree(
        &data,
        &DigestOptions::default(),
        Some(&db),
        &Progress::new(),
    )
    .unwrap();
    assert!(third.files.iter().all(|f| f.from_state));
    assert_eq!(third.hash, first.hash);
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
