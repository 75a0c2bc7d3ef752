"""Rewriting an existing `.dvc` file (`add` of changed data, `commit`): comments, layout
and key order stay, as DVC's round-trip rewrite keeps them; without git, no `.gitignore`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]

ANNOTATED = (
    "# what this file tracks\n"
    "outs:\n"
    "- path: {path}\n"
    "  desc: the data  # keep me\n"
    "  labels: [a, b]\n"
    "  meta:\n"
    "    owner: someone\n"
)


def _twins(tools: Tools, *, scm: bool = True) -> tuple[Path, Path]:
    _mlvc, dvc, git, root = tools
    repos = []
    for name in ("theirs", "ours"):
        repo = root / name
        repo.mkdir()
        if scm:
            git("init", "-q", cwd=repo)
            dvc("init", "-q", cwd=repo)
        else:
            dvc("init", "-q", "--no-scm", cwd=repo)
        repos.append(repo)
    return repos[0], repos[1]


def _both(tools: Tools, theirs: Path, ours: Path, *args: str) -> None:
    tools[1](*args, cwd=theirs)
    tools[0](*args, cwd=ours)


def _same(theirs: Path, ours: Path, *names: str) -> None:
    for name in names:
        assert (ours / name).read_bytes() == (theirs / name).read_bytes(), name


def test_commit_of_a_hand_written_dvc_file_keeps_it_like_dvc(tools: Tools) -> None:
    theirs, ours = _twins(tools)
    for repo in (theirs, ours):
        (repo / "x.txt").write_text("x\n")
        (repo / "x.txt.dvc").write_text(ANNOTATED.format(path="x.txt"))
    _both(tools, theirs, ours, "commit", "-q", "-f")
    _same(theirs, ours, "x.txt.dvc", ".gitignore")
    assert "# keep me" in (ours / "x.txt.dvc").read_text()


def test_add_of_changed_data_edits_the_dvc_file_in_place_like_dvc(tools: Tools) -> None:
    theirs, ours = _twins(tools)
    for repo in (theirs, ours):
        (repo / "x.txt").write_text("x\n")
    _both(tools, theirs, ours, "add", "-q", "x.txt")
    for repo in (theirs, ours):
        text = (repo / "x.txt.dvc").read_text().replace("outs:\n", "# a note\nouts:\n")
        (repo / "x.txt.dvc").write_text(text + "  desc: mine  # why\n")
        (repo / "x.txt").write_text("changed\n")
        os.chmod(repo / "x.txt", 0o755)  # becomes executable: `isexec` is added
    _both(tools, theirs, ours, "add", "-q", "x.txt")
    _same(theirs, ours, "x.txt.dvc")
    for repo in (theirs, ours):
        os.chmod(repo / "x.txt", 0o644)  # and dropped again
        (repo / "x.txt").write_text("again\n")
    _both(tools, theirs, ours, "add", "-q", "x.txt")
    _same(theirs, ours, "x.txt.dvc")
    # A file that becomes a directory gains `nfiles`.
    for repo in (theirs, ours):
        (repo / "x.txt").unlink()
        (repo / "x.txt").mkdir()
        (repo / "x.txt/f").write_text("f\n")
    _both(tools, theirs, ours, "add", "-q", "x.txt")
    _same(theirs, ours, "x.txt.dvc")
    assert "# a note\n" in (ours / "x.txt.dvc").read_text()


def test_without_git_no_gitignore_is_written_like_dvc(tools: Tools) -> None:
    theirs, ours = _twins(tools, scm=False)
    for repo in (theirs, ours):
        (repo / "x").write_text("x\n")
        (repo / "dvc.yaml").write_text(
            "stages:\n  a:\n    cmd: echo a > a.txt\n    outs: [a.txt]\n"
        )
    _both(tools, theirs, ours, "add", "-q", "x")
    _both(tools, theirs, ours, "repro", "-q")
    _both(tools, theirs, ours, "stage", "add", "-q", "-n", "b", "-o", "b.txt", "echo b > b.txt")
    _both(tools, theirs, ours, "move", "x", "y")
    for repo in (theirs, ours):
        assert not (repo / ".gitignore").exists(), repo.name
    _same(theirs, ours, "y.dvc", "dvc.lock")
    shutil.rmtree(theirs)


def test_init_without_git_writes_what_dvc_writes(tools: Tools) -> None:
    mlvc, dvc, _git, root = tools
    found = []
    for name, tool in (("dvc", dvc), ("mlvc", mlvc)):
        repo = root / f"init-{name}"
        repo.mkdir()
        out = tool("init", "--no-scm", cwd=repo).stdout
        assert "git" not in out.split("What's next")[0], name
        found.append(sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*")))
        assert (repo / ".dvc/config").read_text() == "[core]\n    no_scm = True\n"
    assert found[0] == found[1]
