"""`commit` with `-d`, `-R` and `--no-relink`: run by real DVC and by mlvc on one
repository layout (`tests.func.layout`), what each records and leaves in the workspace
compared."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.func.layout import (
    TARGETS,
    edit_everything,
    fail_like_dvc_on_bad_targets,
    fresh,
    layout,
    objects,
    shapes,
)
from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]


def test_commit_with_deps_and_recursive_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    layout(mlvc, git, repo)
    edit_everything(repo)
    for args in TARGETS:
        found = []
        for tool in (dvc, mlvc):
            git("checkout", "-q", "--", ".")
            tool("commit", "-f", *args)
            changed = git("diff", "--name-only").stdout.split()
            found.append({rel: (repo / rel).read_text() for rel in changed})
        assert found[0] == found[1], args
    git("checkout", "-q", "--", ".")
    fail_like_dvc_on_bad_targets(mlvc, dvc, "commit", "-f")
    assert git("diff", "--name-only").stdout == ""


@pytest.mark.parametrize("cache_type", ["hardlink", "symlink", "copy"])
def test_commit_no_relink_like_dvc(tools: Tools, cache_type: str) -> None:
    mlvc, dvc, _git, repo = tools
    files = ["f", "d/1", "o", "g"]
    found = []
    for tool in (dvc, mlvc):
        fresh(tool, repo, cache_type)
        for rel in ("f", "d/1", "g"):
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            (repo / rel).write_text(rel + "\n")
            (repo / rel).chmod(0o600)
        (repo / "dvc.yaml").write_text(
            "stages:\n  s:\n    cmd: echo o > o && chmod 600 o\n    outs: [o]\n"
        )
        tool("add", "-q", "--no-commit", "f", "d", "g")
        tool("repro", "-q", "--no-commit")
        tool("commit", "-q", "-f", "--no-relink", "f", "d", "s")
        no_relink = (shapes(repo, files), objects(repo))
        # DVC-compat: by default, commit links what it commits (a lone copy gets 0644).
        tool("commit", "-q", "-f", "g", "s")
        found.append((no_relink, shapes(repo, files), objects(repo), tool("status").stdout))
    assert found[0] == found[1]


def test_commit_without_force_asks_and_without_a_terminal_refuses_like_dvc(
    tools: Tools,
) -> None:
    mlvc, dvc, git, repo = tools
    layout(mlvc, git, repo)
    edit_everything(repo)
    for args in (["raw.txt.dvc"], ["train"], []):
        for tool in (dvc, mlvc):
            r = tool("commit", *args, check=False)
            assert r.returncode == 1, (args, r)
            assert git("diff", "--name-only").stdout == "", args
    # Nothing changed since the last commit: nothing to ask, and nothing refused.
    git("checkout", "-q", "--", ".")
    mlvc("commit", "-q", "-f")
    assert mlvc("commit").returncode == dvc("commit").returncode == 0


def test_commit_with_a_missing_output_changes_no_dvc_file_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, root = tools
    for name, tool in (("theirs", dvc), ("ours", mlvc)):
        repo = root / name
        repo.mkdir()
        git("init", "-q", cwd=repo)
        tool("init", "-q", cwd=repo)
        (repo / "a").write_text("a\n")
        (repo / "b").write_text("b\n")
        tool("add", "-q", "a", "b", cwd=repo)
        before = (repo / "a.dvc").read_bytes()
        (repo / "a").write_text("a2\n")
        (repo / "b").unlink()
        r = tool("commit", "-f", cwd=repo, check=False)
        assert r.returncode == 1, (name, r)
        assert (repo / "a.dvc").read_bytes() == before, name
