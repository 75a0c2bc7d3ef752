"""Helpers to run mlvc and real DVC side by side in temporary git repositories."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import dvc_executable, run_captured

Runner = Callable[..., subprocess.CompletedProcess[str]]


def base_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "DVC_"))}
    env.update(
        {
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": str(tmp / "gitconfig"),
            "GIT_AUTHOR_NAME": "T",
            "GIT_AUTHOR_EMAIL": "t@example.invalid",
            "GIT_COMMITTER_NAME": "T",
            "GIT_COMMITTER_EMAIL": "t@example.invalid",
            "DVC_NO_ANALYTICS": "1",
            "DVC_SITE_CACHE_DIR": str(tmp / "site-cache"),
            "DVC_GLOBAL_CONFIG_DIR": str(tmp / "dvc-global"),
            "DVC_SYSTEM_CONFIG_DIR": str(tmp / "dvc-system"),
        }
    )
    (tmp / "gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
    return env


@pytest.fixture
def tools(tmp_path: Path, real_dvc: Path) -> tuple[Runner, Runner, Runner, Path]:
    """(mlvc, dvc, shell) runners sharing one environment, and a fresh git repo."""
    env = base_env(tmp_path)
    repo = tmp_path / "repo"
    repo.mkdir()

    def runner(argv0: list[str]) -> Runner:
        def run(
            *args: str, cwd: Path | None = None, check: bool = True, input: str | None = None
        ) -> subprocess.CompletedProcess[str]:
            # `input`: what stdin holds (None: the test's own stdin).
            r = run_captured([*argv0, *args], cwd=cwd or repo, env=env, input=input)
            if check and r.returncode != 0:
                raise AssertionError(
                    f"{argv0[-1]} {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}"
                )
            return r

        return run

    mlvc = runner([sys.executable, "-m", "mlvc"])
    dvc = runner([str(dvc_executable())])
    git = runner(["git"])
    git("init", "-q")
    return mlvc, dvc, git, repo


Tools = tuple[Runner, Runner, Runner, Path]
# The tools, then mlvc's repository and DVC's.
Pair = tuple[Tools, Path, Path]


@pytest.fixture
def pair(tools: Tools, tmp_path: Path) -> Pair:
    """Two empty repositories (mlvc's first, DVC's second), initialised by mlvc."""
    mlvc, _dvc, git, ours = tools
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    git("init", "-q", cwd=theirs)
    for root in (ours, theirs):
        mlvc("init", "-q", cwd=root)
    return tools, ours, theirs


def snapshot(root: Path) -> dict[str, tuple[str, bytes | str]]:
    """Every path under `root` (not `.git/`, `.dvc/tmp/`) with its kind and content."""
    found: dict[str, tuple[str, bytes | str]] = {}
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [
            d
            for d in dirs
            if (Path(dirpath) / d).relative_to(root).as_posix() not in (".git", ".dvc/tmp")
        ]
        for name in dirs + files:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                found[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                found[rel] = ("dir", "")
            else:
                found[rel] = ("file", p.read_bytes())
    return found


def fill(pair: Pair, files: dict[str, str]) -> None:
    """Writes `files` into both repositories of `pair` and commits them there."""
    (_mlvc, _dvc, git, _), ours, theirs = pair
    for root in (ours, theirs):
        write(root, files)
        git("add", "-A", cwd=root)
        git("commit", "-qm", "init", cwd=root)


def same_status(pair: Pair) -> None:
    """`status --json` agrees: each tool, in each repository of `pair`."""
    (mlvc, dvc, _git, _), ours, theirs = pair
    found = [
        json.loads(tool("status", "--json", cwd=root).stdout)
        for tool in (mlvc, dvc)
        for root in (ours, theirs)
    ]
    assert all(s == found[0] for s in found), found


def ran_names(output: str) -> list[str]:
    """Stages a repro ran or restored, from its (DVC-format) messages, in order."""
    found = re.findall(r"^(?:Running stage '([^']+)'|Stage '([^']+)' is cached)", output, re.M)
    return [a or b for a, b in found]


Result = subprocess.CompletedProcess[str]


def both(pair: Pair, *args: str, cwd: str = ".") -> tuple[Result, Result]:
    """One command by mlvc in its repository and by DVC in the other: exit codes, the
    stages a repro runs (as a set: DVC orders independent stages by a hash seed) and
    the files left behind must agree."""
    (mlvc, dvc, _git, _), ours, theirs = pair
    a = mlvc(*args, cwd=ours / cwd, check=False)
    b = dvc(*args, cwd=theirs / cwd, check=False)
    assert a.returncode == b.returncode, (a, b)
    if args[0] == "repro":
        assert sorted(ran_names(a.stdout)) == sorted(ran_names(b.stdout)), (a, b)
    assert snapshot(ours) == snapshot(theirs)
    return a, b


def edit_both(pair: Pair, files: dict[str, str]) -> None:
    """Writes `files` into both repositories of `pair`, committing nothing."""
    _, ours, theirs = pair
    for root in (ours, theirs):
        write(root, files)


def assert_same(tools: Tools, *args: str, cwd: Path | None = None) -> str:
    """Runs one command with both tools; stdout and exit code must match."""
    mlvc, dvc, _git, _repo = tools
    ours = mlvc(*args, cwd=cwd, check=False)
    theirs = dvc(*args, cwd=cwd, check=False)
    where = f"({cwd.name if cwd else '.'}) {' '.join(args)}"
    assert ours.returncode == theirs.returncode, f"{where}\n{ours.stderr}\n{theirs.stderr}"
    assert ours.stdout == theirs.stdout, f"{where}\nmlvc:\n{ours.stdout}\ndvc:\n{theirs.stdout}"
    return ours.stdout


def write(root: Path, files: dict[str, str]) -> None:
    """Writes each file (repository path: text), making its directories."""
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def committed_repo(tools: Tools, files: dict[str, str]) -> Path:
    """The shared repository, initialised by DVC, holding `files` in one commit."""
    _mlvc, dvc, git, root = tools
    dvc("init", "-q")
    write(root, files)
    git("add", "-A")
    git("commit", "-qm", "one")
    return root


def assert_same_report(
    tools: Tools, *args: str, cwd: Path | None = None, succeeds: bool = False
) -> str:
    """Runs a `metrics`/`params` report with both tools: the same exit code (0 with
    `succeeds`), JSON equal as data, tables equal row by row (DVC lists a diff's files
    in a set's order) with the same header. Returns mlvc's stdout."""
    mlvc, dvc, _git, _root = tools
    mine = mlvc(*args, cwd=cwd, check=False)
    theirs = dvc(*args, cwd=cwd, check=False)
    assert mine.returncode == theirs.returncode, (mine.stderr, theirs.stderr)
    if succeeds:
        assert mine.returncode == 0, (mine.stderr, theirs.stderr)
    if "--json" in args:
        assert json.loads(mine.stdout) == json.loads(theirs.stdout)
    else:
        lines, their_lines = mine.stdout.splitlines(), theirs.stdout.splitlines()
        head = 2 if "--md" in args else 1
        assert lines[:head] == their_lines[:head], (mine.stdout, theirs.stdout)
        assert sorted(lines) == sorted(their_lines), (mine.stdout, theirs.stdout)
    return mine.stdout
