use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use mlvc::cache::{InsertMode, ObjectCache, Settle, TreeInsert, Verdict, TEMP_SUFFIX};
use mlvc::digest::{hash_files, hash_tree, DigestOptions};
use mlvc::error::Error;
use mlvc::progress::Progress;

use crate::common::{md5_hex, write};

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn insert_uses_dvc_layout_and_read_only_mode() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "f", b"hello\n");
    let cache = ObjectCache::new(t.path().join("cache"));
    let h = md5_hex(b"hello\n");
    assert!(cache
        .insert_file(&t.path().join("f"), &h, InsertMode::Copy)
        .unwrap());
    let obj = t
        .path()
        .join("cache/files/md5/b1/946ac92492d2347c6235b4d2611184");
    assert_eq!(cache.object_path(&h).unwrap(), obj);
    assert_eq!(std::fs::read(&obj).unwrap(), b"hello\n");
    assert_eq!(mode(&obj), 0o444);
    assert!(t.path().join("f").exists(), "copy mode keeps the source");
    assert!(
        !cache
            .insert_file(&t.path().join("f"), &h, InsertMode::Copy)
            .unwrap(),
        "second insert is a no-op"
    );
    assert_eq!(cache.list().unwrap(), vec![h.clone()]);
    assert!(cache.remove(&h).unwrap());
    assert!(!cache.contains(&h).unwrap());
}

#[test]
fn move_mode_renames_the_source() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "f", b"x");
    let cache = ObjectCache::new(t.path().join("cache"));
    cache
        .insert_file(&t.path().join("f"), &md5_hex(b"x"), InsertMode::Move)
        .unwrap();
    assert!(!t.path().join("f").exists());
    assert!(cache.contains(&md5_hex(b"x")).unwrap());
}

#[test]
fn tree_insert_writes_files_then_manifest() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    write(&data, "a", b"1");
    write(&data, "b/c", b"2");
    let p = Progress::new();
    let tree = hash_tree(&data, &DigestOptions::default(), None, &p).unwrap();
    let cache = ObjectCache::new(t.path().join("cache"));
    assert_eq!(
        cache
            .insert_tree(&tree, InsertMode::Copy, Settle::Leave, 2, &p)
            .unwrap(),
        TreeInsert { new: 2, linked: 0 }
    );
    let mut listed = cache.list().unwrap();
    listed.sort();
    let mut want = vec![md5_hex(b"1"), md5_hex(b"2"), tree.hash.clone()];
    want.sort();
    assert_eq!(listed, want);
    assert_eq!(cache.read_manifest(&tree.hash).unwrap().len(), 2);
}

#[test]
fn threads_creating_the_same_object_directory_all_succeed() {
    // Object directories are made on demand by whichever thread needs one first;
    // 2,000 objects in 256 directories on 8 threads make them race for it.
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    for i in 0..2000 {
        write(&data, &format!("f{i}"), format!("{i}").as_bytes());
    }
    let p = Progress::new();
    let tree = hash_tree(&data, &DigestOptions::default(), None, &p).unwrap();
    for (round, mode) in [InsertMode::Copy, InsertMode::Link].into_iter().enumerate() {
        let cache = ObjectCache::new(t.path().join(format!("cache{round}")));
        let inserted = cache
            .insert_tree(&tree, mode, Settle::Leave, 8, &p)
            .unwrap();
        assert_eq!(inserted.new, 2000);
        let linked = if mode == InsertMode::Link { 2000 } else { 0 };
        assert_eq!(inserted.linked, linked);
        assert_eq!(cache.list().unwrap().len(), 2001);
    }
}

#[test]
fn verify_reports_a_corrupt_object() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "f", b"good");
    let cache = ObjectCache::new(t.path().join("cache"));
    let h = md5_hex(b"good");
    cache
        .insert_file(&t.path().join("f"), &h, InsertMode::Copy)
        .unwrap();
    assert_eq!(cache.verify(&h, None).unwrap(), Verdict::Ok);
    let obj = cache.object_path(&h).unwrap();
    std::fs::set_permissions(&obj, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&obj, b"evil").unwrap();
    assert_eq!(
        cache.verify(&h, None).unwrap(),
        Verdict::Corrupt {
            actual: md5_hex(b"evil")
        }
    );
    let bad = cache
        .verify_many(std::slice::from_ref(&h), 1, &Progress::new())
        .unwrap();
    assert_eq!(bad, vec![(h, md5_hex(b"evil"))]);
    assert_eq!(
        cache.verify(&md5_hex(b"absent"), None).unwrap(),
        Verdict::Missing
    );
}

#[test]
fn invalid_hash_names_are_rejected() {
    let cache = ObjectCache::new("/nonexistent");
    for bad in [
        "../../etc/passwd",
        "abc",
        "zz41d8cd98f00b204e9800998ecf8427e",
        "",
    ] {
        assert!(
            matches!(cache.object_path(bad), Err(Error::InvalidHash(_))),
            "{bad}"
        );
    }
}

#[test]
fn failed_insert_leaves_no_temp_or_final_object() {
    let t = tempfile::tempdir().unwrap();
    let cache = ObjectCache::new(t.path().join("cache"));
    let h = md5_hex(b"x");
    // The source does not exist: the copy fails after the temp name was chosen.
    assert!(cache
        .insert_file(&t.path().join("missing"), &h, InsertMode::Copy)
        .is_err());
    assert!(!cache.contains(&h).unwrap());
    let leftovers: Vec<_> = walkdir(&t.path().join("cache"));
    assert!(
        leftovers.iter().all(|p| !p.ends_with(TEMP_SUFFIX)),
        "{leftovers:?}"
    );
}

fn walkdir(p: &std::path::Path) -> Vec<String> {
    let mut out = vec![];
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            let path = e.path();
            if path.is_dir() {
                out.extend(walkdir(&path));
            } else {
                out.push(path.to_string_lossy().into_owned());
            }
        }
    }
    out
}

#[test]
fn transfer_copies_only_what_the_destination_lacks() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    write(&data, "a", b"1");
    write(&data, "b", b"2");
    let p = Progress::new();
    let tree = hash_tree(&data, &DigestOptions::default(), None, &p).unwrap();
    let local = ObjectCache::new(t.path().join("cache"));
    local
        .insert_tree(&tree, InsertMode::Copy, Settle::Leave, 2, &p)
        .unwrap();
    let remote = ObjectCache::new(t.path().join("remote"));
    remote.insert_bytes(&md5_hex(b"1"), b"1").unwrap();
    let wanted = vec![
        tree.hash.clone(),
        md5_hex(b"1"),
        md5_hex(b"2"),
        md5_hex(b"absent"),
    ];
    let r = local.transfer_to(&remote, &wanted, 2, &p).unwrap();
    let mut copied = r.copied.clone();
    copied.sort();
    let mut want_copied = vec![tree.hash.clone(), md5_hex(b"2")];
    want_copied.sort();
    assert_eq!(copied, want_copied);
    assert_eq!(r.skipped, 1);
    assert_eq!(r.missing, vec![md5_hex(b"absent")]);
    assert_eq!(
        remote.verify_many(&remote.list().unwrap(), 1, &p).unwrap(),
        vec![]
    );
    let again = local.transfer_to(&remote, &wanted, 2, &p).unwrap();
    assert!(again.copied.is_empty());
    assert_eq!(again.skipped, 3);
}

#[test]
fn link_mode_keeps_the_workspace_file_and_shares_its_inode() {
    use std::os::unix::fs::MetadataExt;
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "f", b"linked");
    let cache = ObjectCache::new(t.path().join("cache"));
    let h = md5_hex(b"linked");
    assert!(cache
        .insert_file(&t.path().join("f"), &h, InsertMode::Link)
        .unwrap());
    let ws = std::fs::metadata(t.path().join("f")).unwrap();
    let obj = std::fs::metadata(cache.object_path(&h).unwrap()).unwrap();
    assert_eq!(ws.ino(), obj.ino());
    assert_eq!(
        mode(&t.path().join("f")),
        0o444,
        "the shared inode is read-only, as in DVC"
    );
}

#[test]
fn link_mode_reports_how_each_object_got_there() {
    use mlvc::cache::Inserted;
    use std::os::unix::fs::MetadataExt;
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "a", b"same");
    write(t.path(), "b", b"same");
    let cache = ObjectCache::new(t.path().join("cache"));
    let h = md5_hex(b"same");
    let first = cache.insert_file_as(&t.path().join("a"), &h, InsertMode::Link);
    assert_eq!(first.unwrap(), Inserted::Linked);
    // The object exists: the second file is left as a file of its own.
    let second = cache.insert_file_as(&t.path().join("b"), &h, InsertMode::Link);
    assert_eq!(second.unwrap(), Inserted::Present);
    let obj = std::fs::metadata(cache.object_path(&h).unwrap()).unwrap();
    assert_ne!(
        std::fs::metadata(t.path().join("b")).unwrap().ino(),
        obj.ino()
    );
    assert_eq!(
        std::fs::read(cache.object_path(&h).unwrap()).unwrap(),
        b"same"
    );

    // Across filesystems (tmpfs against the temp dir's), hard links fail: copied.
    let shm = Path::new("/dev/shm");
    if shm.is_dir() && std::fs::metadata(shm).unwrap().dev() != obj.dev() {
        let other = tempfile::tempdir_in(shm).unwrap();
        let far = ObjectCache::new(other.path().join("cache"));
        write(t.path(), "c", b"far");
        let h = md5_hex(b"far");
        let done = far.insert_file_as(&t.path().join("c"), &h, InsertMode::Link);
        assert_eq!(done.unwrap(), Inserted::Stored);
        assert_eq!(std::fs::read(far.object_path(&h).unwrap()).unwrap(), b"far");
        assert_eq!(mode(&far.object_path(&h).unwrap()), 0o444);
    }
}

#[test]
fn adding_a_linked_tree_again_leaves_its_files_untouched() {
    use std::os::unix::fs::MetadataExt;
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    write(&data, "a", b"1");
    write(&data, "d/b", b"2");
    let p = Progress::new();
    let cache = ObjectCache::new(t.path().join("cache"));
    let first = hash_tree(&data, &DigestOptions::default(), None, &p).unwrap();
    let done = cache
        .insert_tree(&first, InsertMode::Link, Settle::Leave, 2, &p)
        .unwrap();
    assert_eq!(done, TreeInsert { new: 2, linked: 2 });
    let ctime = |rel: &str| std::fs::metadata(data.join(rel)).unwrap().ctime_nsec();
    let before = (ctime("a"), ctime("d/b"));
    std::thread::sleep(std::time::Duration::from_millis(20));
    // Already read-only objects: no chmod, so the state cache still trusts them.
    let again = hash_tree(&data, &DigestOptions::default(), None, &p).unwrap();
    let done = cache
        .insert_tree(&again, InsertMode::Link, Settle::Leave, 2, &p)
        .unwrap();
    assert_eq!(done, TreeInsert { new: 0, linked: 0 });
    assert_eq!((ctime("a"), ctime("d/b")), before);
}

#[test]
fn an_executable_linked_object_is_still_an_object() {
    use std::os::unix::fs::MetadataExt;
    // DVC-compat: a hardlink or symlink checkout of an executable file makes its
    // object 0544; it is protected like a 0444 one, other read-only modes are not.
    for m in [0o444, 0o544] {
        assert!(mlvc::cache::is_object_mode(m), "{m:o}");
    }
    for m in [0o644, 0o744, 0o555, 0o400, 0o440, 0o4444] {
        assert!(!mlvc::cache::is_object_mode(m), "{m:o}");
    }
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "run.sh", b"#!/bin/sh\n");
    let src = t.path().join("run.sh");
    let h = md5_hex(b"#!/bin/sh\n");
    let cache = ObjectCache::new(t.path().join("cache"));
    let p = Progress::new();
    let add = |path: &Path| {
        let hashed = hash_files(&[path.to_path_buf()], &DigestOptions::default(), None, &p);
        let f = hashed.unwrap().pop().unwrap();
        cache
            .insert_tracked(&f, InsertMode::Link, Settle::Leave, true)
            .unwrap()
    };
    add(&src);
    std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o544)).unwrap();
    let ctime = std::fs::metadata(&src).unwrap().ctime_nsec();
    std::thread::sleep(std::time::Duration::from_millis(20));
    // Added again: no chmod (the state cache still trusts it), the x bit stays.
    add(&src);
    assert_eq!(std::fs::metadata(&src).unwrap().ctime_nsec(), ctime);
    assert_eq!(mode(&cache.object_path(&h).unwrap()), 0o544);
    assert_eq!(cache.verify(&h, None).unwrap(), Verdict::Ok);
    // A read-only file of another mode becomes an object's mode.
    write(t.path(), "other", b"x");
    let other = t.path().join("other");
    std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o555)).unwrap();
    add(&other);
    assert_eq!(mode(&other), 0o444);
}

/// A pid no process has now, for temp files of a writer that was killed.
fn dead_pid() -> i32 {
    (100_000..4_000_000)
        .step_by(7919)
        .find(|&pid| {
            // SAFETY: signal 0 only checks whether the process exists.
            let gone = unsafe { libc::kill(pid, 0) } == -1;
            gone && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
        })
        .expect("some pid is free")
}

#[test]
fn transfer_writes_read_only_objects_in_many_directories() {
    let t = tempfile::tempdir().unwrap();
    let local = ObjectCache::new(t.path().join("cache"));
    let mut ids = Vec::new();
    // Enough objects that some directories are listed and large ones are chunked.
    for i in 0..600u32 {
        let data = format!("object {i}").repeat(i as usize % 50 + 1);
        let h = md5_hex(data.as_bytes());
        local.insert_bytes(&h, data.as_bytes()).unwrap();
        ids.push(h);
    }
    let remote = ObjectCache::new(t.path().join("remote"));
    let p = Progress::new();
    let r = local.transfer_to(&remote, &ids, 2, &p).unwrap();
    assert_eq!(r.copied.len(), ids.len());
    assert_eq!(p.snapshot().0, ids.len() as u64);
    for h in &ids {
        let obj = remote.object_path(h).unwrap();
        assert_eq!(mode(&obj), 0o444, "{h}");
    }
    assert_eq!(
        remote.verify_many(&remote.list().unwrap(), 2, &p).unwrap(),
        vec![]
    );
    let present = remote.contains_many(&ids, 2).unwrap();
    assert!(present.iter().all(|&p| p));
    let mut probe = ids[..3].to_vec();
    probe.push(md5_hex(b"nowhere"));
    assert_eq!(
        remote.contains_many(&probe, 1).unwrap(),
        vec![true, true, true, false]
    );
    assert!(matches!(
        remote.contains_many(&["not-a-hash".to_string()], 1),
        Err(Error::InvalidHash(_))
    ));
}

#[test]
fn transfer_clears_a_dead_writers_temp_files_and_keeps_live_ones() {
    let t = tempfile::tempdir().unwrap();
    let local = ObjectCache::new(t.path().join("cache"));
    let h = md5_hex(b"payload");
    local.insert_bytes(&h, b"payload").unwrap();
    let remote = ObjectCache::new(t.path().join("remote"));
    let dir = remote
        .object_path(&h)
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    std::fs::create_dir_all(&dir).unwrap();
    let dead = dir.join(format!(".{}.{}.0{TEMP_SUFFIX}", &h[2..], dead_pid()));
    let live = dir.join(format!(
        ".{}.{}.0{TEMP_SUFFIX}",
        &h[2..],
        std::process::id()
    ));
    std::fs::write(&dead, b"pay").unwrap();
    std::fs::write(&live, b"pa").unwrap();
    let p = Progress::new();
    let r = local
        .transfer_to(&remote, std::slice::from_ref(&h), 1, &p)
        .unwrap();
    assert_eq!(r.copied, vec![h.clone()]);
    assert!(!dead.exists(), "a killed transfer's temp file is removed");
    assert!(live.exists(), "a running transfer's temp file is kept");
    assert_eq!(remote.list().unwrap(), vec![h]);
}

#[test]
fn interrupted_transfer_leaves_no_partial_object() {
    let t = tempfile::tempdir().unwrap();
    let local = ObjectCache::new(t.path().join("cache"));
    let ids: Vec<String> = (0..50u32)
        .map(|i| {
            let data = format!("x{i}");
            let h = md5_hex(data.as_bytes());
            local.insert_bytes(&h, data.as_bytes()).unwrap();
            h
        })
        .collect();
    let remote = ObjectCache::new(t.path().join("remote"));
    let p = Progress::new();
    p.interrupt();
    assert!(matches!(
        local.transfer_to(&remote, &ids, 2, &p),
        Err(Error::Interrupted)
    ));
    assert!(walkdir(&t.path().join("remote")).is_empty());
}

#[test]
fn storing_while_hashing_writes_each_small_file_once_and_keeps_objects() {
    // 600 files, 100 of them duplicates, one larger than the in-memory limit, and a
    // symlink: every object appears complete and read-only, no temp file is left,
    // and an object that was there already is neither replaced nor counted as new.
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    for i in 0..600 {
        write(
            &data,
            &format!("d{}/f{i}", i % 7),
            format!("{}", i % 500).as_bytes(),
        );
    }
    let big = vec![7u8; (mlvc::hash::SMALL_FILE_LIMIT + 10) as usize];
    write(&data, "big", &big);
    std::os::unix::fs::symlink(data.join("d0/f0"), data.join("link")).unwrap();
    let cache = ObjectCache::new(t.path().join("cache"));
    cache
        .insert_file(&data.join("d1/f1"), &md5_hex(b"1"), InsertMode::Copy)
        .unwrap();
    let before = std::fs::metadata(cache.object_path(&md5_hex(b"1")).unwrap()).unwrap();
    let p = Progress::new();
    let store = |hash: &str, bytes: &[u8]| cache.store_new_bytes(hash, bytes);
    let tree = mlvc::digest::hash_tree_storing(
        &data,
        &DigestOptions::default(),
        None,
        &p,
        Some(&store),
        true,
    )
    .unwrap();
    let reference = hash_tree(&data, &DigestOptions::default(), None, &p).unwrap();
    assert_eq!(tree.hash, reference.hash);
    let stored: Vec<_> = tree.files.iter().filter(|f| f.stored.is_some()).collect();
    assert_eq!(
        stored.len(),
        600,
        "the big file and the symlink take the copy path"
    );
    assert_eq!(
        stored.iter().filter(|f| f.stored == Some(true)).count(),
        499
    );
    let done = cache
        .insert_tree(&tree, InsertMode::Copy, Settle::Leave, 2, &p)
        .unwrap();
    assert_eq!(done.new, 500, "499 stored while hashing, and the big file");
    for f in &tree.files {
        let obj = cache.object_path(&f.hash).unwrap();
        assert_eq!(md5_hex(&std::fs::read(&obj).unwrap()), f.hash);
        assert_eq!(mode(&obj), 0o444);
    }
    let after = std::fs::metadata(cache.object_path(&md5_hex(b"1")).unwrap()).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        before.ino(),
        after.ino(),
        "an existing object is kept, not replaced"
    );
    assert!(walkdir(&t.path().join("cache"))
        .iter()
        .all(|n| !n.ends_with(TEMP_SUFFIX)));
}

#[test]
fn a_batch_fills_new_object_directories_privately_until_published() {
    let t = tempfile::tempdir().unwrap();
    let cache = ObjectCache::new(t.path().join("cache"));
    let old = md5_hex(b"old");
    cache.insert_bytes(&old, b"old").unwrap();
    let batch = cache.staging();
    // One object beside an existing one, and 40 in directories that do not exist.
    let same_dir = (0..100_000u32)
        .map(|i| format!("n{i}"))
        .find(|d| md5_hex(d.as_bytes())[..2] == old[..2])
        .unwrap();
    assert!(batch
        .store_new_bytes(&md5_hex(same_dir.as_bytes()), same_dir.as_bytes())
        .unwrap());
    let fresh: Vec<String> = (0..40u32).map(|i| format!("fresh {i}")).collect();
    for data in &fresh {
        assert!(batch
            .store_new_bytes(&md5_hex(data.as_bytes()), data.as_bytes())
            .unwrap());
        // The same content again in one batch is present, not new.
        assert!(!batch
            .store_new_bytes(&md5_hex(data.as_bytes()), data.as_bytes())
            .unwrap());
    }
    let unpublished = cache.list().unwrap();
    assert!(unpublished.contains(&md5_hex(same_dir.as_bytes())));
    let fresh_dirs = fresh
        .iter()
        .filter(|d| md5_hex(d.as_bytes())[..2] != old[..2])
        .count();
    assert!(fresh_dirs > 0);
    assert!(
        unpublished.len() < 2 + fresh.len(),
        "private until published"
    );
    batch.publish_staged().unwrap();
    assert_eq!(cache.list().unwrap().len(), 2 + fresh.len());
    let temps: Vec<String> = walkdir(&t.path().join("cache"))
        .into_iter()
        .filter(|p| p.contains(TEMP_SUFFIX))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
    let p = Progress::new();
    assert_eq!(
        cache.verify_many(&cache.list().unwrap(), 2, &p).unwrap(),
        vec![]
    );
    for h in cache.list().unwrap() {
        assert_eq!(mode(&cache.object_path(&h).unwrap()), 0o444, "{h}");
    }
    // After publishing, the batch writes where everyone reads.
    let late = md5_hex(b"late");
    assert!(batch.store_new_bytes(&late, b"late").unwrap());
    assert!(cache.contains(&late).unwrap());
}

#[test]
fn a_killed_batch_leaves_nothing_a_reader_takes_for_an_object() {
    let t = tempfile::tempdir().unwrap();
    let cache = ObjectCache::new(t.path().join("cache"));
    let objects = t.path().join("cache/files/md5");
    // What a writer killed while filling `ab` leaves: a partial object.
    let left = objects.join(format!(".ab.{}.0{TEMP_SUFFIX}", dead_pid()));
    std::fs::create_dir_all(&left).unwrap();
    std::fs::write(left.join("c".repeat(30)), b"parti").unwrap();
    assert!(cache.list().unwrap().is_empty());
    let batch = cache.staging();
    batch.store_new_bytes(&md5_hex(b"x"), b"x").unwrap();
    batch.publish_staged().unwrap();
    assert!(!left.exists(), "the dead writer's directory is removed");
    assert_eq!(cache.list().unwrap(), vec![md5_hex(b"x")]);
}

#[test]
fn a_failed_batch_insert_keeps_the_objects_written_before() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("data");
    for i in 0..30 {
        write(&data, &format!("f{i}"), format!("{i}").as_bytes());
    }
    let p = Progress::new();
    let tree = hash_tree(&data, &DigestOptions::default(), None, &p).unwrap();
    // One file vanishes between hashing and storing: the insert fails.
    std::fs::remove_file(data.join("f7")).unwrap();
    let cache = ObjectCache::new(t.path().join("cache"));
    let batch = cache.staging();
    assert!(batch
        .insert_tree(&tree, InsertMode::Copy, Settle::Leave, 1, &p)
        .is_err());
    let listed = cache.list().unwrap();
    assert!(!listed.is_empty(), "objects stored before the failure stay");
    assert!(
        !listed.contains(&tree.hash),
        "no manifest without its files"
    );
    assert!(!listed.contains(&md5_hex(b"7")));
    assert_eq!(cache.verify_many(&listed, 1, &p).unwrap(), vec![]);
    assert!(walkdir(&t.path().join("cache"))
        .iter()
        .all(|p| !p.contains(TEMP_SUFFIX)));
}

#[test]
fn transfer_to_a_new_remote_leaves_no_private_directory() {
    let t = tempfile::tempdir().unwrap();
    let local = ObjectCache::new(t.path().join("cache"));
    let ids: Vec<String> = (0..300u32)
        .map(|i| {
            let data = format!("object {i}");
            let h = md5_hex(data.as_bytes());
            local.insert_bytes(&h, data.as_bytes()).unwrap();
            h
        })
        .collect();
    let remote = ObjectCache::new(t.path().join("remote"));
    let objects = t.path().join("remote/files/md5");
    std::fs::create_dir_all(&objects).unwrap();
    let left = objects.join(format!(".00.{}.0{TEMP_SUFFIX}", dead_pid()));
    std::fs::create_dir_all(&left).unwrap();
    let p = Progress::new();
    let r = local.transfer_to(&remote, &ids, 2, &p).unwrap();
    assert_eq!(r.copied.len(), ids.len());
    let mut listed = remote.list().unwrap();
    listed.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(listed, want);
    let names: Vec<String> = std::fs::read_dir(&objects)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| n.len() == 2), "{names:?}");
}

#[test]
fn a_batch_replaces_a_symlink_by_a_copy_of_its_new_object() {
    // DVC-compat: `add` of a directory holding a link to a file leaves a copy;
    // the copy is made from the object before its directory is published.
    // Links and their targets share objects, which threads write at the same time:
    // many rounds, so a copy taken from an object still being written would show.
    let t = tempfile::tempdir().unwrap();
    for round in 0..40 {
        let data = t.path().join(format!("data{round}"));
        let content = format!("real {round}\n").repeat(2000);
        write(&data, "real/file.txt", content.as_bytes());
        for i in 0..4 {
            std::os::unix::fs::symlink("file.txt", data.join(format!("real/link{i}"))).unwrap();
        }
        let p = Progress::new();
        let tree = hash_tree(&data, &DigestOptions::default(), None, &p).unwrap();
        let cache = ObjectCache::new(t.path().join(format!("cache{round}")));
        let batch = cache.staging();
        batch
            .insert_tree(&tree, InsertMode::Copy, Settle::Normalize, 4, &p)
            .unwrap();
        for i in 0..4 {
            let link = data.join(format!("real/link{i}"));
            assert!(std::fs::symlink_metadata(&link).unwrap().is_file());
            assert_eq!(std::fs::read(&link).unwrap(), content.as_bytes(), "{round}");
        }
        assert!(cache.contains(&md5_hex(content.as_bytes())).unwrap());
        assert!(cache.contains(&tree.hash).unwrap());
    }
}
