use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use mlvc::error::Error;
use mlvc::progress::Progress;
use mlvc::walk::{ignored_by, walk_files, WalkOptions};

use crate::common::write;

fn relpaths(root: &Path, opts: &WalkOptions) -> Vec<String> {
    let mut v: Vec<String> = walk_files(root, opts, None)
        .expect("walk")
        .into_iter()
        .map(|e| String::from_utf8_lossy(&e.relpath).into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn applies_dvcignore_like_the_conformance_case() {
    let t = tempfile::tempdir().unwrap();
    let repo = t.path();
    std::fs::create_dir(repo.join(".dvc")).unwrap();
    write(
        repo,
        ".dvcignore",
        b"# comment\n*.log\n!keep.log\ntmp/\n.DS_Store\n/ds/notes.md\n",
    );
    for f in [
        "ds/keep.csv",
        "ds/drop.log",
        "ds/keep.log",
        "ds/tmp/scratch.bin",
        "ds/nested/tmp/deep.txt",
        "ds/nested/ok.txt",
        "ds/.DS_Store",
        "ds/notes.md",
    ] {
        write(repo, f, b"x");
    }
    let opts = WalkOptions {
        ignore_root: Some(repo.to_path_buf()),
        threads: 2,
        remove_stale_temps: false,
    };
    assert_eq!(
        relpaths(&repo.join("ds"), &opts),
        ["keep.csv", "keep.log", "nested/ok.txt"]
    );
}

#[test]
fn nested_dvcignore_applies_below_its_directory() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("d");
    write(&root, "a.txt", b"1");
    write(&root, "sub/.dvcignore", b"*.txt\n");
    write(&root, "sub/b.txt", b"2");
    write(&root, "sub/c.bin", b"3");
    let got = relpaths(&root, &WalkOptions::default());
    assert_eq!(got, ["a.txt", "sub/.dvcignore", "sub/c.bin"]);
}

#[test]
fn skips_vcs_and_dvc_directories_and_empty_dirs() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    write(root, ".git/HEAD", b"x");
    write(root, "x/.dvc/config", b"x");
    write(root, ".hidden", b"h");
    std::fs::create_dir_all(root.join("empty/also")).unwrap();
    assert_eq!(relpaths(root, &WalkOptions::default()), [".hidden"]);
}

#[test]
fn follows_file_symlinks_and_skips_dir_symlinks() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    write(root, "real/file.txt", b"real\n");
    std::os::unix::fs::symlink("file.txt", root.join("real/link_to_file")).unwrap();
    std::os::unix::fs::symlink("real", root.join("link_to_dir")).unwrap();
    let entries = walk_files(root, &WalkOptions::default(), None).unwrap();
    let mut names: Vec<_> = entries
        .iter()
        .map(|e| {
            (
                String::from_utf8_lossy(&e.relpath).into_owned(),
                e.is_symlink,
                e.meta.size,
            )
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ("real/file.txt".to_string(), false, 5),
            ("real/link_to_file".to_string(), true, 5)
        ]
    );
}

#[test]
fn self_referencing_dir_symlink_does_not_loop() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    write(root, "a/f", b"1");
    std::os::unix::fs::symlink("..", root.join("a/up")).unwrap();
    assert_eq!(relpaths(root, &WalkOptions::default()), ["a/f"]);
}

#[test]
fn broken_symlink_is_an_error_naming_it() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    std::os::unix::fs::symlink("nowhere", root.join("dangling")).unwrap();
    match walk_files(root, &WalkOptions::default(), None) {
        Err(Error::Io { path, source }) => {
            assert!(path.ends_with("dangling"));
            assert_eq!(source.raw_os_error(), Some(libc::ENOENT));
        }
        other => panic!("expected ENOENT, got {other:?}"),
    }
}

#[test]
fn symlink_loop_is_an_error() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    std::os::unix::fs::symlink("b", root.join("a")).unwrap();
    std::os::unix::fs::symlink("a", root.join("b")).unwrap();
    match walk_files(root, &WalkOptions::default(), None) {
        Err(Error::Io { source, .. }) => assert_eq!(source.raw_os_error(), Some(libc::ELOOP)),
        other => panic!("expected ELOOP, got {other:?}"),
    }
}

#[test]
fn fifo_in_tree_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    write(root, "ok", b"1");
    let fifo = root.join("pipe");
    let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
    // SAFETY: c is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    match walk_files(root, &WalkOptions::default(), None) {
        Err(Error::SpecialFile { path, kind }) => {
            assert_eq!(kind, "fifo");
            assert!(path.ends_with("pipe"));
        }
        other => panic!("expected SpecialFile, got {other:?}"),
    }
}

#[test]
fn non_utf8_and_newline_names_are_walked() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let bad = std::ffi::OsStr::from_bytes(b"bad\xffname");
    std::fs::write(root.join(bad), b"1").unwrap();
    std::fs::write(root.join("new\nline"), b"2").unwrap();
    let mut names: Vec<Vec<u8>> = walk_files(root, &WalkOptions::default(), None)
        .unwrap()
        .into_iter()
        .map(|e| e.relpath)
        .collect();
    names.sort();
    assert_eq!(names, vec![b"bad\xffname".to_vec(), b"new\nline".to_vec()]);
}

#[test]
fn missing_root_is_enoent() {
    let t = tempfile::tempdir().unwrap();
    match walk_files(&t.path().join("nope"), &WalkOptions::default(), None) {
        Err(Error::Io { source, .. }) => assert_eq!(source.raw_os_error(), Some(libc::ENOENT)),
        other => panic!("expected ENOENT, got {other:?}"),
    }
}

#[test]
fn interrupt_stops_the_walk() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "a", b"1");
    let p = Progress::new();
    p.interrupt();
    assert!(matches!(
        walk_files(t.path(), &WalkOptions::default(), Some(&p)),
        Err(Error::Interrupted)
    ));
}

#[test]
fn temp_files_are_never_walked_and_stale_ones_can_be_cleared() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    write(root, "data.bin", b"1");
    // A dead writer's leftover (no process has pid i32::MAX) and a live one (ours).
    let stale = format!(".data.bin.{}.0.mlvc-tmp", i32::MAX);
    let live = format!(".data.bin.{}.0.mlvc-tmp", std::process::id());
    write(root, &stale, b"partial");
    write(root, &live, b"partial");
    assert_eq!(relpaths(root, &WalkOptions::default()), ["data.bin"]);
    assert!(root.join(&stale).exists(), "plain walks never delete");
    let opts = WalkOptions {
        remove_stale_temps: true,
        ..WalkOptions::default()
    };
    assert_eq!(relpaths(root, &opts), ["data.bin"]);
    assert!(!root.join(&stale).exists());
    assert!(
        root.join(&live).exists(),
        "a running writer's temp file is left alone"
    );
}

#[test]
fn ignored_by_names_the_rule_and_its_line() {
    let t = tempfile::tempdir().unwrap();
    let repo = t.path();
    write(repo, ".dvcignore", b"# comment\n*.log\ntmp/\n");
    write(repo, "sub/.dvcignore", b"!keep.log\nz\n");
    let rule = |p: &str| {
        ignored_by(repo, &repo.join(p))
            .unwrap()
            .map(|(f, line, pat)| (f.strip_prefix(repo).unwrap().to_path_buf(), line, pat))
    };
    let top = Path::new(".dvcignore").to_path_buf();
    assert_eq!(rule("a.log"), Some((top.clone(), 2, "*.log".into())));
    // Below an ignored directory (which need not exist), the directory's rule.
    assert_eq!(rule("tmp/x/y"), Some((top, 3, "tmp/".into())));
    assert_eq!(rule("sub/keep.log"), None, "a deeper `!` rule re-includes");
    let sub = Path::new("sub/.dvcignore").to_path_buf();
    assert_eq!(rule("sub/z/y"), Some((sub, 2, "z".into())));
    assert_eq!(rule("kept.txt"), None);
}
