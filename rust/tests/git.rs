//! Checks `mlvc::git` against the `git` CLI on throwaway repositories.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, Once};

use mlvc::git::{GitError, GitRepo, RefExpect, Signature, TreeEdit};

/// Serialises tests that change identity variables, which gitoxide reads when opening.
static ENV_LOCK: Mutex<()> = Mutex::new(());

const IDENTITY_VARS: [&str; 7] = [
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_COMMITTER_DATE",
    "EMAIL",
];

/// Keeps the machine's git configuration and any inherited repository away from gitoxide.
fn isolate_process_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::env::set_var("GIT_CONFIG_NOSYSTEM", "1");
        std::env::set_var("GIT_CONFIG_GLOBAL", "/dev/null");
        for var in IDENTITY_VARS.iter().chain(&[
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_OBJECT_DIRECTORY",
        ]) {
            std::env::remove_var(var);
        }
    });
}

fn env_lock() -> MutexGuard<'static, ()> {
    ENV_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A temporary directory holding a private `HOME` and a repository.
struct Fixture {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    repo: PathBuf,
}

impl Fixture {
    /// Creates `repo/` with `git init` and the given extra init arguments.
    fn new(init_args: &[&str]) -> Self {
        isolate_process_env();
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        let repo = tmp.path().join("repo");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&repo).unwrap();
        let fixture = Fixture {
            _tmp: tmp,
            home,
            repo,
        };
        let mut args = vec!["init", "-q", "-b", "main"];
        args.extend_from_slice(init_args);
        fixture.git(&args);
        fixture
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        cmd.args(["-c", "user.name=t", "-c", "user.email=t@e"])
            .args(args)
            .current_dir(&self.repo)
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE");
        for var in IDENTITY_VARS {
            cmd.env_remove(var);
        }
        cmd
    }

    /// Runs git, asserts success and returns stdout without the trailing newline.
    fn git(&self, args: &[&str]) -> String {
        let out = self.command(args).output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .trim_end_matches('\n')
            .to_owned()
    }

    fn git_bytes(&self, args: &[&str]) -> Vec<u8> {
        let out = self.command(args).output().unwrap();
        assert!(out.status.success(), "git {args:?} failed");
        out.stdout
    }

    fn git_ok(&self, args: &[&str]) -> bool {
        self.command(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
    }

    fn git_stdin(&self, args: &[&str], input: &[u8]) -> String {
        use std::io::Write;
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "git {args:?} failed");
        String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
    }

    fn write(&self, path: &str, data: &[u8]) {
        let full = self.repo.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, data).unwrap();
    }

    /// Writes the files, commits everything and returns the new commit id.
    fn commit(&self, files: &[(&str, &[u8])], message: &str) -> String {
        for (path, data) in files {
            self.write(path, data);
        }
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.rev("HEAD")
    }

    fn rev(&self, rev: &str) -> String {
        self.git(&["rev-parse", "--verify", "-q", rev])
    }

    fn open(&self) -> GitRepo {
        GitRepo::open(&self.repo).unwrap()
    }
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap()
}

fn sig(name: &str, seconds: i64, offset: i32) -> Signature {
    Signature {
        name: name.to_owned(),
        email: format!("{name}@example.com"),
        time_seconds: seconds,
        offset_seconds: offset,
    }
}

/// `git ls-tree -r` of a tree-ish as `(path, mode, id)` in git's own order.
fn ls_tree(fx: &Fixture, treeish: &str) -> Vec<(String, u32, String)> {
    let out = fx.git(&[
        "ls-tree",
        "-r",
        "--format=%(objectmode) %(objectname) %(path)",
        treeish,
    ]);
    out.lines()
        .filter(|line| !line.is_empty())
        .map(|line| {
            let mut parts = line.splitn(3, ' ');
            let mode = u32::from_str_radix(parts.next().unwrap(), 8).unwrap();
            let id = parts.next().unwrap().to_owned();
            (parts.next().unwrap().to_owned(), mode, id)
        })
        .collect()
}

#[test]
fn open_and_discover_find_the_repository() {
    let fx = Fixture::new(&[]);
    fx.commit(&[("sub/dir/f.txt", b"x")], "one");

    let repo = fx.open();
    assert_eq!(canonical(&repo.workdir().unwrap()), canonical(&fx.repo));
    assert_eq!(canonical(&repo.git_dir()), canonical(&fx.repo.join(".git")));

    let via_git_dir = GitRepo::open(&fx.repo.join(".git")).unwrap();
    assert_eq!(
        canonical(&via_git_dir.git_dir()),
        canonical(&repo.git_dir())
    );

    let discovered = GitRepo::discover(&fx.repo.join("sub/dir")).unwrap();
    assert_eq!(
        canonical(&discovered.workdir().unwrap()),
        canonical(&fx.repo)
    );

    let err = GitRepo::open(&fx.repo.join("sub")).unwrap_err();
    assert!(matches!(err, GitError::NotARepository { .. }), "{err}");
    assert!(err.to_string().contains("/repo/sub`"), "{err}");

    let err = GitRepo::discover(&fx.home).unwrap_err();
    assert!(matches!(err, GitError::NotARepository { .. }), "{err}");
}

#[test]
fn bare_repository_has_no_workdir() {
    let fx = Fixture::new(&["--bare"]);
    let repo = fx.open();
    assert_eq!(repo.workdir(), None);
    assert_eq!(canonical(&repo.git_dir()), canonical(&fx.repo));
    assert_eq!(repo.head_commit().unwrap(), None);
}

#[test]
fn resolve_matches_git_rev_parse() {
    let fx = Fixture::new(&[]);
    let first = fx.commit(&[("a.txt", b"1")], "first");
    let second = fx.commit(&[("a.txt", b"2")], "second");
    fx.git(&["tag", "-a", "-m", "release", "v1", &first]);
    fx.git(&["tag", "light", &second]);
    fx.git(&["branch", "side", &first]);
    fx.git(&["update-ref", "refs/exps/e1", &first]);
    let repo = fx.open();

    for rev in [
        "HEAD",
        "HEAD~1",
        "HEAD^",
        "main",
        "side",
        "refs/heads/side",
        "v1",
        "light",
        "refs/exps/e1",
        &second[..7],
        &first,
    ] {
        let expected = fx.rev(&format!("{rev}^{{commit}}"));
        assert_eq!(repo.resolve(rev).unwrap(), expected, "rev {rev}");
    }
    assert_eq!(repo.resolve("v1").unwrap(), first);
    assert_ne!(fx.rev("v1"), first, "v1 is an annotated tag object");

    for missing in ["nope", "HEAD~5", "refs/exps/missing", "0123456789abcdef"] {
        let err = repo.resolve(missing).unwrap_err();
        assert!(
            matches!(&err, GitError::RevisionNotFound { rev, .. } if rev == missing),
            "{missing}: {err:?}"
        );
        assert!(err
            .to_string()
            .starts_with(&format!("revision `{missing}` not found in `")));
    }

    let err = repo.resolve("HEAD:a.txt").unwrap_err();
    assert!(
        matches!(&err, GitError::WrongObjectKind { actual, .. } if actual == "blob"),
        "{err:?}"
    );
}

#[test]
fn head_on_unborn_and_detached_head() {
    let fx = Fixture::new(&[]);
    let repo = fx.open();
    assert_eq!(repo.head_commit().unwrap(), None);
    assert_eq!(repo.head_branch().unwrap().as_deref(), Some("main"));
    assert!(matches!(
        repo.resolve("HEAD"),
        Err(GitError::RevisionNotFound { .. })
    ));
    assert_eq!(repo.list_files("HEAD", "").ok(), None);

    let first = fx.commit(&[("a", b"a")], "first");
    assert_eq!(repo.head_commit().unwrap().as_deref(), Some(first.as_str()));
    assert_eq!(repo.head_branch().unwrap().as_deref(), Some("main"));

    fx.git(&["checkout", "-q", "-b", "feature/x"]);
    assert_eq!(repo.head_branch().unwrap().as_deref(), Some("feature/x"));

    fx.git(&["checkout", "-q", "--detach"]);
    assert_eq!(repo.head_branch().unwrap(), None);
    assert_eq!(repo.head_commit().unwrap(), Some(first));
}

#[test]
fn list_refs_includes_packed_and_loose_refs() {
    let fx = Fixture::new(&[]);
    let c1 = fx.commit(&[("a", b"1")], "one");
    let c2 = fx.commit(&[("a", b"2")], "two");
    fx.git(&["update-ref", "refs/exps/aa/run1", &c1]);
    fx.git(&["update-ref", "refs/exps/bb", &c2]);
    fx.git(&["update-ref", "refs/exps-other/x", &c1]);
    fx.git(&["tag", "-a", "-m", "t", "v1", &c1]);
    fx.git(&["pack-refs", "--all"]);
    assert!(!fx.repo.join(".git/refs/exps/bb").exists(), "bb is packed");
    // One loose ref shadowing a packed one, one only loose.
    fx.git(&["update-ref", "refs/exps/bb", &c1]);
    fx.git(&["update-ref", "refs/exps/cc", &c2]);

    let repo = fx.open();
    let for_each_ref = |prefix: &str| -> Vec<(String, String)> {
        fx.git(&["for-each-ref", "--format=%(refname) %(objectname)", prefix])
            .lines()
            .map(|line| {
                let (name, id) = line.split_once(' ').unwrap();
                (name.to_owned(), id.to_owned())
            })
            .collect()
    };

    let exps = repo.list_refs("refs/exps/").unwrap();
    assert_eq!(exps, for_each_ref("refs/exps/"));
    assert_eq!(
        exps.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["refs/exps/aa/run1", "refs/exps/bb", "refs/exps/cc"]
    );
    assert_eq!(exps[1].1, c1, "the loose value wins over the packed one");

    let tags = repo.list_refs("refs/tags/").unwrap();
    assert_eq!(tags, for_each_ref("refs/tags/"));
    assert_eq!(tags[0].1, fx.rev("v1"), "tags are not peeled");

    assert_eq!(repo.list_refs("").unwrap(), for_each_ref("refs/"));
    assert!(repo.list_refs("refs/nothing/").unwrap().is_empty());
    // The prefix is a plain string prefix, not a directory.
    assert_eq!(
        repo.list_refs("refs/exps").unwrap().len(),
        for_each_ref("refs/exps/").len() + for_each_ref("refs/exps-other/").len()
    );
}

#[test]
fn read_file_present_absent_nested_binary_and_old() {
    let fx = Fixture::new(&[]);
    let binary: Vec<u8> = (0..=255u8).cycle().take(2000).collect();
    let old = fx.commit(
        &[
            ("params.yaml", b"lr: 0.1\n"),
            ("dir/sub/deep.txt", b"deep"),
            ("bin.dat", &binary),
        ],
        "one",
    );
    fx.commit(&[("params.yaml", b"lr: 0.2\n")], "two");
    let repo = fx.open();

    assert_eq!(
        repo.read_file("HEAD", "params.yaml").unwrap().as_deref(),
        Some(&b"lr: 0.2\n"[..])
    );
    assert_eq!(
        repo.read_file(&old, "params.yaml").unwrap().as_deref(),
        Some(&b"lr: 0.1\n"[..])
    );
    assert_eq!(
        repo.read_file("HEAD~1", "params.yaml").unwrap(),
        Some(fx.git_bytes(&["cat-file", "blob", "HEAD~1:params.yaml"]))
    );
    assert_eq!(
        repo.read_file("HEAD", "dir/sub/deep.txt")
            .unwrap()
            .as_deref(),
        Some(&b"deep"[..])
    );
    assert_eq!(repo.read_file("HEAD", "bin.dat").unwrap(), Some(binary));
    // A tree id works as well as a commit.
    let tree = fx.rev("HEAD^{tree}");
    assert_eq!(
        repo.read_file(&tree, "dir/sub/deep.txt")
            .unwrap()
            .as_deref(),
        Some(&b"deep"[..])
    );

    for absent in [
        "missing.txt",
        "dir/missing",
        "dir/sub/deep.txt/x",
        "nodir/x",
    ] {
        assert_eq!(repo.read_file("HEAD", absent).unwrap(), None, "{absent}");
    }

    let err = repo.read_file("HEAD", "dir/sub").unwrap_err();
    assert!(
        matches!(&err, GitError::WrongObjectKind { actual, .. } if actual == "tree"),
        "{err:?}"
    );
    let err = repo.read_file("no-such-rev", "params.yaml").unwrap_err();
    assert!(matches!(err, GitError::RevisionNotFound { .. }), "{err:?}");
}

#[test]
fn list_files_matches_ls_tree() {
    let fx = Fixture::new(&[]);
    fx.write("a.txt", b"a");
    fx.write("a-b", b"ab");
    fx.write("dir/x.txt", b"x");
    fx.write("dir/y/z.txt", b"z");
    fx.write("dir0", b"0");
    fx.write("run.sh", b"#!/bin/sh\n");
    std::fs::set_permissions(
        fx.repo.join("run.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    std::os::unix::fs::symlink("a.txt", fx.repo.join("link")).unwrap();
    fx.commit(&[], "files");
    let repo = fx.open();

    let all = repo.list_files("HEAD", "").unwrap();
    assert_eq!(all, ls_tree(&fx, "HEAD"));
    assert!(all.contains(&("run.sh".to_owned(), 0o100755, fx.rev("HEAD:run.sh"))));
    assert!(all.contains(&("link".to_owned(), 0o120000, fx.rev("HEAD:link"))));

    let expected_dir: Vec<_> = all
        .iter()
        .filter(|(path, _, _)| path.starts_with("dir/"))
        .cloned()
        .collect();
    assert_eq!(expected_dir.len(), 2);
    assert_eq!(repo.list_files("HEAD", "dir").unwrap(), expected_dir);
    assert_eq!(repo.list_files("HEAD", "dir/").unwrap(), expected_dir);
    assert_eq!(
        repo.list_files("HEAD", "dir/y").unwrap(),
        vec![(
            "dir/y/z.txt".to_owned(),
            0o100644,
            fx.rev("HEAD:dir/y/z.txt")
        )]
    );
    assert_eq!(
        repo.list_files("HEAD", "a.txt").unwrap(),
        vec![("a.txt".to_owned(), 0o100644, fx.rev("HEAD:a.txt"))]
    );
    assert!(repo.list_files("HEAD", "nope").unwrap().is_empty());
}

#[test]
fn write_blob_matches_hash_object() {
    let fx = Fixture::new(&[]);
    let repo = fx.open();
    for data in [&b""[..], b"hello\n", &[0u8, 159, 146, 150, 255]] {
        let id = repo.write_blob(data).unwrap();
        assert_eq!(id, fx.git_stdin(&["hash-object", "--stdin"], data));
        assert_eq!(fx.git_bytes(&["cat-file", "blob", &id]), data);
    }
}

#[test]
fn edit_tree_adds_replaces_and_deletes() {
    let fx = Fixture::new(&[]);
    let repo = fx.open();
    let one = repo.write_blob(b"one").unwrap();
    let two = repo.write_blob(b"two").unwrap();

    let tree = repo
        .edit_tree(
            None,
            &[
                TreeEdit::upsert("a/b/c.txt", 0o100644, one.clone()),
                TreeEdit::upsert("top.txt", 0o100644, one.clone()),
                TreeEdit::upsert("a/x.sh", 0o100755, two.clone()),
            ],
        )
        .unwrap();
    assert_eq!(fx.git(&["cat-file", "-t", &tree]), "tree");
    assert_eq!(
        ls_tree(&fx, &tree),
        vec![
            ("a/b/c.txt".to_owned(), 0o100644, one.clone()),
            ("a/x.sh".to_owned(), 0o100755, two.clone()),
            ("top.txt".to_owned(), 0o100644, one.clone()),
        ]
    );

    // Replace one file, delete the only file of a/b so the directory goes too.
    let edited = repo
        .edit_tree(
            Some(&tree),
            &[
                TreeEdit::upsert("top.txt", 0o100644, two.clone()),
                TreeEdit::delete("a/b/c.txt"),
                TreeEdit::delete("not/there"),
            ],
        )
        .unwrap();
    assert_eq!(
        ls_tree(&fx, &edited),
        vec![
            ("a/x.sh".to_owned(), 0o100755, two.clone()),
            ("top.txt".to_owned(), 0o100644, two.clone()),
        ]
    );
    assert!(!fx.git(&["ls-tree", &edited, "a/"]).contains("\tb"));

    // A file standing where a directory is needed gets replaced by it.
    let through = repo
        .edit_tree(
            Some(&edited),
            &[TreeEdit::upsert("top.txt/inner", 0o100644, one.clone())],
        )
        .unwrap();
    assert_eq!(
        ls_tree(&fx, &through),
        vec![
            ("a/x.sh".to_owned(), 0o100755, two.clone()),
            ("top.txt/inner".to_owned(), 0o100644, one.clone()),
        ]
    );

    // Based on a commit; deleting a directory removes everything below it.
    fx.commit(
        &[("keep.txt", b"k"), ("gone/1", b"1"), ("gone/2/3", b"3")],
        "c",
    );
    let from_commit = repo
        .edit_tree(
            Some("HEAD"),
            &[
                TreeEdit::delete("gone"),
                TreeEdit::upsert("new/n", 0o100644, one.clone()),
            ],
        )
        .unwrap();
    assert_eq!(
        ls_tree(&fx, &from_commit),
        vec![
            ("keep.txt".to_owned(), 0o100644, fx.rev("HEAD:keep.txt")),
            ("new/n".to_owned(), 0o100644, one.clone()),
        ]
    );
    assert!(fx.git_ok(&["fsck", "--strict", "--no-dangling"]));

    assert_eq!(
        repo.edit_tree(None, &[]).unwrap(),
        fx.git_stdin(&["mktree"], b"")
    );
}

#[test]
fn edit_tree_rejects_bad_input() {
    let fx = Fixture::new(&[]);
    let repo = fx.open();
    let blob = repo.write_blob(b"x").unwrap();
    let missing = "1234567890123456789012345678901234567890";

    let err = repo
        .edit_tree(None, &[TreeEdit::upsert("a//b", 0o100644, blob.clone())])
        .unwrap_err();
    assert!(matches!(err, GitError::InvalidPath { .. }), "{err:?}");
    let err = repo
        .edit_tree(
            None,
            &[TreeEdit::upsert(".git/config", 0o100644, blob.clone())],
        )
        .unwrap_err();
    assert!(matches!(err, GitError::InvalidPath { .. }), "{err:?}");
    let err = repo
        .edit_tree(None, &[TreeEdit::upsert("a", 0o100600, blob.clone())])
        .unwrap_err();
    assert!(
        matches!(err, GitError::InvalidMode { mode: 0o100600, .. }),
        "{err:?}"
    );
    let err = repo
        .edit_tree(None, &[TreeEdit::upsert("a", 0o100644, "abc")])
        .unwrap_err();
    assert!(matches!(err, GitError::InvalidObjectId { .. }), "{err:?}");
    let err = repo
        .edit_tree(None, &[TreeEdit::upsert("a", 0o100644, missing)])
        .unwrap_err();
    assert!(matches!(err, GitError::ObjectNotFound { .. }), "{err:?}");
    let tree = repo
        .edit_tree(None, &[TreeEdit::upsert("a", 0o100644, blob)])
        .unwrap();
    let err = repo
        .edit_tree(None, &[TreeEdit::upsert("b", 0o100644, tree)])
        .unwrap_err();
    assert!(
        matches!(&err, GitError::WrongObjectKind { actual, .. } if actual == "tree"),
        "{err:?}"
    );
    let err = repo.edit_tree(Some("nope"), &[]).unwrap_err();
    assert!(matches!(err, GitError::RevisionNotFound { .. }), "{err:?}");
}

#[test]
fn write_commit_is_accepted_by_git() {
    let fx = Fixture::new(&[]);
    let parent = fx.commit(&[("a.txt", b"a")], "base");
    let repo = fx.open();
    let blob = repo.write_blob(b"new").unwrap();
    let tree = repo
        .edit_tree(
            Some("HEAD"),
            &[TreeEdit::upsert("exp/b.txt", 0o100644, blob)],
        )
        .unwrap();

    let author = sig("alice", 1_700_000_000, 3600);
    let committer = sig("bob", 1_700_000_100, -5 * 3600 - 1800);
    let commit = repo
        .write_commit(
            &tree,
            std::slice::from_ref(&parent),
            "exp: try lr 0.2",
            Some(&author),
            Some(&committer),
        )
        .unwrap();

    let raw = fx.git(&["cat-file", "-p", &commit]);
    let expected = format!(
        "tree {tree}\nparent {parent}\n\
         author alice <alice@example.com> 1700000000 +0100\n\
         committer bob <bob@example.com> 1700000100 -0530\n\nexp: try lr 0.2"
    );
    assert_eq!(raw, expected);
    assert_eq!(
        fx.git_bytes(&["cat-file", "commit", &commit]).last(),
        Some(&b'\n')
    );

    repo.update_ref(
        "refs/heads/main",
        &commit,
        RefExpect::MustExistAndMatch(parent.clone()),
        "exp",
    )
    .unwrap();
    assert_eq!(
        fx.git(&["log", "--format=%s|%an|%cn", "main"]),
        "exp: try lr 0.2|alice|bob\nbase|t|t"
    );
    assert!(fx.git_ok(&["fsck", "--strict", "--no-dangling"]));

    // A root commit with two files, and a merge of it with main.
    let root = repo
        .write_commit(&tree, &[], "root\n", Some(&author), Some(&author))
        .unwrap();
    assert!(!fx.git(&["cat-file", "-p", &root]).contains("parent "));
    let merge = repo
        .write_commit(
            &tree,
            &[commit.clone(), root.clone()],
            "merge",
            Some(&author),
            Some(&author),
        )
        .unwrap();
    assert_eq!(fx.rev(&format!("{merge}^2")), root);

    let err = repo
        .write_commit(
            &tree,
            &["nope".to_owned()],
            "x",
            Some(&author),
            Some(&author),
        )
        .unwrap_err();
    assert!(matches!(err, GitError::RevisionNotFound { .. }), "{err:?}");
    let blob_id = fx.rev("HEAD:a.txt");
    let err = repo
        .write_commit(&blob_id, &[], "x", Some(&author), Some(&author))
        .unwrap_err();
    assert!(matches!(err, GitError::WrongObjectKind { .. }), "{err:?}");
}

#[test]
fn write_commit_identity_from_environment_and_config() {
    let _guard = env_lock();
    let fx = Fixture::new(&[]);
    let tree = fx.git_stdin(&["mktree"], b"");

    // Nothing configured: like git, refuse to invent an author.
    let repo = fx.open();
    let err = repo.write_commit(&tree, &[], "m", None, None).unwrap_err();
    assert!(
        matches!(err, GitError::MissingIdentity { role: "author" }),
        "{err:?}"
    );

    // Repository config supplies names; the time is the current one.
    fx.git(&["config", "user.name", "Conf User"]);
    fx.git(&["config", "user.email", "conf@example.com"]);
    let repo = fx.open();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let commit = repo.write_commit(&tree, &[], "m", None, None).unwrap();
    let stamp: u64 = fx
        .git(&["log", "-1", "--format=%at", &commit])
        .parse()
        .unwrap();
    assert!(
        stamp >= before && stamp <= before + 5,
        "{stamp} vs {before}"
    );
    assert_eq!(
        fx.git(&["log", "-1", "--format=%an <%ae>|%cn <%ce>", &commit]),
        "Conf User <conf@example.com>|Conf User <conf@example.com>"
    );

    // Environment variables win over config, including the dates.
    let vars = [
        ("GIT_AUTHOR_NAME", "Env Author"),
        ("GIT_AUTHOR_EMAIL", "author@env"),
        ("GIT_AUTHOR_DATE", "1234567890 +0200"),
        ("GIT_COMMITTER_NAME", "Env Committer"),
        ("GIT_COMMITTER_EMAIL", "committer@env"),
        ("GIT_COMMITTER_DATE", "@1300000000 -0100"),
    ];
    for (key, value) in vars {
        std::env::set_var(key, value);
    }
    let opened = GitRepo::open(&fx.repo);
    for (key, _) in vars {
        std::env::remove_var(key);
    }
    let repo = opened.unwrap();
    let commit = repo.write_commit(&tree, &[], "m", None, None).unwrap();
    let raw = fx.git(&["cat-file", "-p", &commit]);
    assert!(
        raw.contains("\nauthor Env Author <author@env> 1234567890 +0200\n"),
        "{raw}"
    );
    assert!(
        raw.contains("\ncommitter Env Committer <committer@env> 1300000000 -0100\n"),
        "{raw}"
    );

    std::env::set_var("GIT_AUTHOR_DATE", "not a date");
    let opened = GitRepo::open(&fx.repo);
    std::env::remove_var("GIT_AUTHOR_DATE");
    let err = opened
        .unwrap()
        .write_commit(&tree, &[], "m", None, None)
        .unwrap_err();
    assert!(err.to_string().contains("not a date"), "{err}");
}

#[test]
fn update_ref_honours_expectations_and_writes_reflog() {
    let fx = Fixture::new(&[]);
    let c1 = fx.commit(&[("a", b"1")], "one");
    let c2 = fx.commit(&[("a", b"2")], "two");
    let repo = fx.open();
    let name = "refs/exps/ab/run-1";
    let reflog = |name: &str| fx.git(&["reflog", "show", "--format=%H %gs", name]);

    repo.update_ref(name, &c1, RefExpect::MustNotExist, "exp: create run-1")
        .unwrap();
    assert_eq!(fx.rev(name), c1);
    assert_eq!(reflog(name), format!("{c1} exp: create run-1"));

    let err = repo
        .update_ref(name, &c2, RefExpect::MustNotExist, "x")
        .unwrap_err();
    match &err {
        GitError::RefPrecondition {
            name: n,
            expected,
            actual,
        } => {
            assert_eq!(
                (n.as_str(), expected.as_str(), actual.as_str()),
                (name, "absent", c1.as_str())
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(fx.rev(name), c1);
    // Unlike plain gitoxide, an existing ref already at the new value still fails.
    let err = repo
        .update_ref(name, &c1, RefExpect::MustNotExist, "x")
        .unwrap_err();
    assert!(matches!(err, GitError::RefPrecondition { .. }), "{err:?}");

    let err = repo
        .update_ref(name, &c2, RefExpect::MustExistAndMatch(c2.clone()), "x")
        .unwrap_err();
    assert!(
        matches!(&err, GitError::RefPrecondition { expected, actual, .. } if *expected == c2 && *actual == c1),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("ref `{name}` is `{c1}`")),
        "{err}"
    );
    assert_eq!(fx.rev(name), c1);

    repo.update_ref(
        name,
        &c2,
        RefExpect::MustExistAndMatch(c1.clone()),
        "exp: advance",
    )
    .unwrap();
    assert_eq!(fx.rev(name), c2);
    repo.update_ref(name, "HEAD~1", RefExpect::MustExist, "exp: back")
        .unwrap();
    assert_eq!(fx.rev(name), c1);
    repo.update_ref(name, &c2, RefExpect::Any, "exp: any")
        .unwrap();
    assert_eq!(fx.rev(name), c2);
    assert_eq!(
        reflog(name),
        format!("{c2} exp: any\n{c1} exp: back\n{c2} exp: advance\n{c1} exp: create run-1")
    );

    let missing = "refs/exps/missing";
    for expect in [
        RefExpect::MustExist,
        RefExpect::MustExistAndMatch(c1.clone()),
    ] {
        let err = repo.update_ref(missing, &c1, expect, "x").unwrap_err();
        assert!(
            matches!(&err, GitError::RefPrecondition { actual, .. } if actual == "absent"),
            "{err:?}"
        );
        assert!(!fx.git_ok(&["rev-parse", "--verify", "-q", missing]));
    }

    // Packed refs are checked and updated too.
    fx.git(&["update-ref", "refs/exps/packed", &c1]);
    fx.git(&["pack-refs", "--all"]);
    let err = repo
        .update_ref(
            "refs/exps/packed",
            &c2,
            RefExpect::MustExistAndMatch(c2.clone()),
            "x",
        )
        .unwrap_err();
    assert!(matches!(err, GitError::RefPrecondition { .. }), "{err:?}");
    repo.update_ref(
        "refs/exps/packed",
        &c2,
        RefExpect::MustExistAndMatch(c1.clone()),
        "p",
    )
    .unwrap();
    assert_eq!(fx.rev("refs/exps/packed"), c2);

    let err = repo
        .update_ref("refs/exps/bad..name", &c1, RefExpect::Any, "x")
        .unwrap_err();
    assert!(matches!(err, GitError::InvalidRefName { .. }), "{err:?}");
    let err = repo
        .update_ref(
            name,
            &c1,
            RefExpect::MustExistAndMatch("xyz".to_owned()),
            "x",
        )
        .unwrap_err();
    assert!(matches!(err, GitError::InvalidObjectId { .. }), "{err:?}");
    let err = repo
        .update_ref(name, "no-such-rev", RefExpect::Any, "x")
        .unwrap_err();
    assert!(matches!(err, GitError::RevisionNotFound { .. }), "{err:?}");
    assert!(fx.git_ok(&["fsck", "--strict", "--no-dangling"]));

    repo.delete_ref(name, RefExpect::MustExistAndMatch(c2))
        .unwrap();
    assert!(!fx.git_ok(&["rev-parse", "--verify", "-q", name]));
    assert!(
        !fx.repo.join(".git/logs").join(name).exists(),
        "reflog removed"
    );
}

#[test]
fn update_ref_through_head_moves_the_branch() {
    let fx = Fixture::new(&[]);
    let c1 = fx.commit(&[("a", b"1")], "one");
    let c2 = fx.commit(&[("a", b"2")], "two");
    let repo = fx.open();
    repo.update_ref("HEAD", &c1, RefExpect::MustExistAndMatch(c2), "reset: back")
        .unwrap();
    assert_eq!(fx.rev("refs/heads/main"), c1);
    assert_eq!(fx.git(&["symbolic-ref", "HEAD"]), "refs/heads/main");
    assert_eq!(
        fx.git(&["reflog", "show", "-1", "--format=%gs", "main"]),
        "reset: back"
    );
}

#[test]
fn delete_ref_honours_expectations() {
    let fx = Fixture::new(&[]);
    let c1 = fx.commit(&[("a", b"1")], "one");
    let c2 = fx.commit(&[("a", b"2")], "two");
    let repo = fx.open();
    fx.git(&["update-ref", "refs/exps/loose", &c1]);
    fx.git(&["update-ref", "refs/exps/packed", &c2]);
    fx.git(&["update-ref", "refs/exps/other", &c2]);
    fx.git(&["pack-refs", "--all"]);
    fx.git(&["update-ref", "refs/exps/loose", &c1]);

    let err = repo
        .delete_ref("refs/exps/loose", RefExpect::MustExistAndMatch(c2.clone()))
        .unwrap_err();
    assert!(matches!(err, GitError::RefPrecondition { .. }), "{err:?}");
    assert_eq!(fx.rev("refs/exps/loose"), c1);
    let err = repo
        .delete_ref("refs/exps/loose", RefExpect::MustNotExist)
        .unwrap_err();
    assert!(matches!(err, GitError::RefPrecondition { .. }), "{err:?}");
    assert_eq!(fx.rev("refs/exps/loose"), c1);

    repo.delete_ref("refs/exps/loose", RefExpect::MustExistAndMatch(c1.clone()))
        .unwrap();
    repo.delete_ref("refs/exps/packed", RefExpect::MustExist)
        .unwrap();
    assert_eq!(
        fx.git(&["for-each-ref", "--format=%(refname)", "refs/exps/"]),
        "refs/exps/other"
    );
    let packed = std::fs::read_to_string(fx.repo.join(".git/packed-refs")).unwrap();
    assert!(!packed.contains("refs/exps/packed"), "{packed}");
    assert!(!packed.contains("refs/exps/loose"), "{packed}");

    let err = repo
        .delete_ref("refs/exps/packed", RefExpect::MustExist)
        .unwrap_err();
    assert!(
        matches!(&err, GitError::RefPrecondition { actual, .. } if actual == "absent"),
        "{err:?}"
    );
    repo.delete_ref("refs/exps/packed", RefExpect::Any).unwrap();
    repo.delete_ref("refs/exps/packed", RefExpect::MustNotExist)
        .unwrap();
    repo.delete_ref("refs/exps/other", RefExpect::Any).unwrap();
    assert_eq!(repo.list_refs("refs/exps/").unwrap(), vec![]);
    assert!(fx.git_ok(&["fsck", "--strict", "--no-dangling"]));
}

#[test]
fn sees_objects_and_refs_written_by_git_after_opening() {
    let fx = Fixture::new(&[]);
    fx.commit(&[("a", b"1")], "one");
    let repo = fx.open();
    assert_eq!(repo.read_file("HEAD", "b").unwrap(), None);
    let c2 = fx.commit(&[("b", b"2")], "two");
    fx.git(&["gc", "-q"]);
    assert_eq!(repo.resolve("HEAD").unwrap(), c2);
    assert_eq!(
        repo.read_file("HEAD", "b").unwrap().as_deref(),
        Some(&b"2"[..])
    );
    fx.git(&["update-ref", "refs/exps/late", &c2]);
    assert_eq!(
        repo.list_refs("refs/exps/").unwrap(),
        vec![("refs/exps/late".to_owned(), c2)]
    );
}

#[test]
fn shared_between_threads() {
    let fx = Fixture::new(&[]);
    let commits: Vec<String> = (0..20)
        .map(|i| fx.commit(&[("params.yaml", format!("i: {i}\n").as_bytes())], "c"))
        .collect();
    let repo = fx.open();
    std::thread::scope(|scope| {
        for t in 0..4 {
            let repo = &repo;
            let commits = &commits;
            scope.spawn(move || {
                for (i, commit) in commits.iter().enumerate().skip(t) {
                    let data = repo.read_file(commit, "params.yaml").unwrap().unwrap();
                    assert_eq!(data, format!("i: {i}\n").into_bytes());
                }
            });
        }
    });
}
