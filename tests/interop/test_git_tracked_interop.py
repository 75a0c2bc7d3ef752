"""Outputs git already tracks: `add`, `commit` and `repro` refuse them, as DVC does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]

STAGE = "stages:\n  top:\n    cmd: echo top > t\n    outs: [t]\n"


def _files(repo: Path) -> dict[str, bytes]:
    """The workspace as git sees it: every file outside `.git` and `.dvc`."""
    return {
        p.relative_to(repo).as_posix(): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and not {".git", ".dvc"} & set(p.relative_to(repo).parts)
    }


def _tracked_file(git: Runner, repo: Path) -> None:
    (repo / "f").write_text("f\n")
    git("add", "f", cwd=repo)
    git("commit", "-qm", "f", cwd=repo)


def _tracked_in_dir(git: Runner, repo: Path) -> None:
    (repo / "dd").mkdir()
    (repo / "dd/a").write_text("a\n")
    (repo / "dd/b").write_text("b\n")
    git("add", "dd/a", cwd=repo)
    git("commit", "-qm", "dd/a", cwd=repo)


def _staged_only(git: Runner, repo: Path) -> None:
    (repo / "f").write_text("f\n")
    git("add", "f", cwd=repo)


def _dvc_file_output_staged(git: Runner, repo: Path, dvc: Runner) -> None:
    (repo / "f").write_text("f\n")
    dvc("add", "-q", "f", cwd=repo)
    (repo / "f").write_text("changed\n")
    git("add", "-f", "f", cwd=repo)


def _stage_output_committed(git: Runner, repo: Path) -> None:
    (repo / "dvc.yaml").write_text(STAGE)
    (repo / "t").write_text("old\n")
    git("add", "dvc.yaml", "t", cwd=repo)
    git("commit", "-qm", "stage", cwd=repo)


def _stage_output_staged_after_a_run(git: Runner, repo: Path, dvc: Runner) -> None:
    (repo / "dvc.yaml").write_text(STAGE)
    dvc("repro", "-q", cwd=repo)
    (repo / "t").write_text("edited\n")
    git("add", "-f", "t", cwd=repo)


Setup = Callable[[Runner, Path, Runner], None]

CASES: dict[str, tuple[Setup, list[str], int, str]] = {
    "add a committed file": (lambda g, r, d: _tracked_file(g, r), ["add", "f"], 1, "f"),
    "add a directory holding one": (lambda g, r, d: _tracked_in_dir(g, r), ["add", "dd"], 1, "dd"),
    "add a file inside it": (lambda g, r, d: _tracked_in_dir(g, r), ["add", "dd/a"], 1, "dd/a"),
    "add a staged file": (lambda g, r, d: _staged_only(g, r), ["add", "f"], 1, "f"),
    "commit a .dvc output": (_dvc_file_output_staged, ["commit", "-f", "f.dvc"], 1, "f"),
    "repro a stage": (lambda g, r, d: _stage_output_committed(g, r), ["repro"], 255, "t"),
    "commit a stage": (_stage_output_staged_after_a_run, ["commit", "-f"], 1, "t"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_outputs_git_tracks_are_refused_like_dvc(tools: Tools, case: str) -> None:
    mlvc, dvc, git, root = tools
    setup, args, code, output = CASES[case]
    results = {}
    for name, tool in (("mlvc", mlvc), ("dvc", dvc)):
        repo = root / name
        repo.mkdir()
        git("init", "-q", cwd=repo)
        dvc("init", "-q", cwd=repo)
        git("commit", "-qm", "init", cwd=repo)
        setup(git, repo, dvc)
        before = _files(repo)
        r = tool(*args, cwd=repo, check=False)
        results[name] = (r.returncode, _files(repo))
        if name == "mlvc":
            assert f"output `{output}` is already tracked by git" in r.stderr
            assert f"git rm -r --cached {output}" in r.stderr
            # Nothing recorded: no `.dvc` file, `.gitignore` entry or lock entry written.
            changed = {k for k in set(before) | set(results[name][1]) if k != "t"}
            assert {k: before.get(k) for k in changed} == {
                k: results[name][1].get(k) for k in changed
            }
    assert results["mlvc"] == results["dvc"]
    assert results["mlvc"][0] == code


def test_add_refuses_every_target_when_one_is_tracked(tools: Tools) -> None:
    """DVC adds the targets before the tracked one (leaving a `.dvc` file without its
    `.gitignore` entry); mlvc checks them all first and writes nothing."""
    mlvc, dvc, git, repo = tools
    dvc("init", "-q")
    _tracked_file(git, repo)
    (repo / "new.txt").write_text("n\n")
    r = mlvc("add", "new.txt", "f", check=False)
    assert r.returncode == 1
    assert "output `f` is already tracked by git" in r.stderr
    assert not (repo / "new.txt.dvc").exists()
    assert not (repo / ".gitignore").exists()
    assert not list((repo / ".dvc/cache").rglob("*"))
