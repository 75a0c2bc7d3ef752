"""Git access through the core, checked against the git CLI itself."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import mlvc
from mlvc.exceptions import GitError, RefConflictError

ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "T",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "T",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, env=ENV, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "params.yaml").write_text("lr: 0.1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "m.json").write_text('{"acc": 0.5}')
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "one")
    (tmp_path / "params.yaml").write_text("lr: 0.2\n")
    git(tmp_path, "commit", "-q", "-am", "two")
    return tmp_path


def test_resolve_and_read_at_revisions(repo: Path) -> None:
    g = mlvc.Git(repo / "sub")
    assert Path(g.workdir or "").resolve() == repo.resolve()
    assert g.resolve("HEAD") == git(repo, "rev-parse", "HEAD")
    assert g.resolve("HEAD~1") == git(repo, "rev-parse", "HEAD~1")
    assert g.head_branch() == "main"
    assert g.read_file("HEAD~1", "params.yaml") == b"lr: 0.1\n"
    assert g.read_file("HEAD", "params.yaml") == b"lr: 0.2\n"
    assert g.read_file("HEAD", "missing.txt") is None
    assert [p for p, _m, _i in g.list_files("HEAD")] == ["params.yaml", "sub/m.json"]
    with pytest.raises(GitError, match="no-such-rev"):
        g.resolve("no-such-rev")


def test_write_objects_commit_and_refs(repo: Path) -> None:
    g = mlvc.Git(repo)
    blob = g.write_blob(b"lr: 0.3\n")
    assert git(repo, "cat-file", "-p", blob) == "lr: 0.3"
    head = g.resolve("HEAD")
    tree = g.edit_tree(head, [("params.yaml", 0o100644, blob), ("new/dir/f.txt", 0o100644, blob)])
    listing = git(repo, "ls-tree", "-r", "--name-only", tree).splitlines()
    assert listing == ["new/dir/f.txt", "params.yaml", "sub/m.json"]
    commit = g.write_commit(tree, [head], "mlvc: experiment")
    assert git(repo, "log", "-1", "--format=%s %P", commit) == f"mlvc: experiment {head}"
    ref = "refs/exps/ab/cdef/exp-1"
    g.update_ref(ref, commit, expected="absent", message="mlvc: new experiment")
    assert git(repo, "rev-parse", ref) == commit
    assert "mlvc: new experiment" in git(repo, "reflog", "show", ref)
    assert g.list_refs("refs/exps/") == [(ref, commit)]
    with pytest.raises(RefConflictError):
        g.update_ref(ref, head, expected="absent")
    with pytest.raises(RefConflictError):
        g.update_ref(ref, head, expected=head)
    assert git(repo, "rev-parse", ref) == commit
    g.update_ref(ref, head, expected=commit, message="move")
    g.delete_ref(ref, expected=head)
    assert g.list_refs("refs/exps/") == []
    git(repo, "fsck", "--no-progress")


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(GitError):
        mlvc.Git(tmp_path)
