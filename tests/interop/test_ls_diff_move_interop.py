"""`ls`, `diff`, `move` and `unprotect`: mlvc and real DVC side by side, from the root
and from subdirectories, compared on output, exit code and the files left behind."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from tests.interop.conftest import Runner, assert_same, snapshot, write

Tools = tuple[Runner, Runner, Runner, Path]

PIPELINE = """\
stages:
  gen:
    cmd: mkdir -p out && echo hi > out/o.txt && echo 1 > sub/metric.json
    outs:
    - out
    - sub/metric.json:
        cache: false
"""


def listing_repo(tools: Tools) -> Path:
    """Tracked files and directories, a pipeline, git files and untracked files."""
    _mlvc, dvc, git, repo = tools
    dvc("init", "-q")
    git("commit", "-qm", "init")
    write(
        repo,
        {
            "data/a.txt": "alpha\n",
            "data/sub/b.txt": "beta\n",
            "model.pkl": "weights\n",
            "sub/x.txt": "x\n",
            "sub/inner/y.txt": "yy\n",
            "sub/tracked.bin": "tb\n",
            "src/run.py": "print(1)\n",
            "dvc.yaml": PIPELINE,
        },
    )
    dvc("add", "-q", "data", "model.pkl", "sub/tracked.bin")
    dvc("repro", "-q")
    git("add", "-A")
    git("commit", "-qm", "v1")
    git("tag", "v1")
    write(repo, {"untracked.txt": "u\n", "sub/untr.txt": "u2\n"})
    return repo


# --- ls -----------------------------------------------------------------------


@pytest.mark.parametrize("where", ["sub", "sub/inner", "data"])
def test_ls_without_a_path_from_a_subdirectory_like_dvc(tools: Tools, where: str) -> None:
    # DVC-compat: the root is listed, every path shown from the current directory.
    repo = listing_repo(tools)
    cwd = repo / where
    out = assert_same(tools, "ls", ".", cwd=cwd)
    assert "../" in out
    for flags in (
        ["-R", "--json"],
        ["--dvc-only", "--size"],
        ["-R", "--dvc-only"],
        ["-R", "-L", "2"],
        ["-R", "-L", "3", "--dvc-only", "--json"],
        ["--size", "--show-hash"],
        ["-R", "-L", "0"],
        ["-T", "-L", "1"],
        ["-R", "--rev", "v1"],
    ):
        assert_same(tools, "ls", ".", *flags, cwd=cwd)
    # The URL only finds the repository: `..` and the absolute root list the same.
    assert_same(tools, "ls", "..", "-R", cwd=cwd)
    assert_same(tools, "ls", str(repo), cwd=cwd)


def test_ls_relative_paths_from_a_subdirectory_like_dvc(tools: Tools) -> None:
    repo = listing_repo(tools)
    for cwd, path in (
        ("sub", "."),
        ("sub", ".."),
        ("sub", "inner"),
        ("sub", "tracked.bin"),
        ("sub", "../data"),
        ("data", "sub"),
        ("data", "."),
    ):
        assert_same(tools, "ls", ".", path, "-R", cwd=repo / cwd)
        assert_same(tools, "ls", ".", path, "--json", cwd=repo / cwd)
    # A URL with `..` in it still reads the path from the current directory.
    assert assert_same(tools, "ls", "..", "sub", cwd=repo / "data") == "b.txt\n"
    assert_same(tools, "ls", ".", "nonexistent", cwd=repo / "sub")


def test_ls_paths_and_flags_at_the_root_like_dvc(tools: Tools) -> None:
    listing_repo(tools)
    for rev in ([], ["--rev", "v1"]):
        for path in (
            [],
            ["out"],
            ["out/o.txt"],
            ["sub/metric.json"],
            ["data/sub"],
            ["data/sub/b.txt"],
            ["untracked.txt"],
            ["data/"],
        ):
            for flags in (["--json"], ["-R", "--dvc-only"], ["-R", "-L", "2", "--size"]):
                assert_same(tools, "ls", ".", *path, *rev, *flags)
    assert_same(tools, "ls", ".", "-T", "--show-hash", "--size")


# --- diff ---------------------------------------------------------------------


def diff_repo(tools: Tools) -> Path:
    """v1 and v2 tags: a tracked directory with files added, changed, deleted and
    renamed; a file modified; one removed; one moved; then workspace changes."""
    _mlvc, dvc, git, repo = tools
    dvc("init", "-q")
    git("commit", "-qm", "init")
    write(
        repo,
        {
            "data/a.txt": "alpha\n",
            "data/b.txt": "beta\n",
            "data/sub/c.txt": "gamma\n",
            "data/del.txt": "del\n",
            "model.pkl": "weights\n",
            "other.bin": "other\n",
            "sub/f.txt": "f\n",
            "dd/x": "x\n",
        },
    )
    dvc("add", "-q", "data", "model.pkl", "other.bin", "sub/f.txt", "dd")
    git("add", "-A")
    git("commit", "-qm", "v1")
    git("tag", "v1")
    write(repo, {"data/a.txt": "ALPHA\n", "data/new.txt": "new\n", "model.pkl": "weights2\n"})
    (repo / "data" / "del.txt").unlink()
    (repo / "data" / "b.txt").rename(repo / "data" / "b_renamed.txt")
    dvc("add", "-q", "data", "model.pkl")
    dvc("remove", "-q", "other.bin.dvc")
    dvc("move", "dd", "dd2")
    git("add", "-A")
    git("commit", "-qm", "v2")
    git("tag", "v2")
    write(repo, {"data/sub/c.txt": "GAMMA\n", "sub/f.txt": "F\n"})
    (repo / "data" / "new.txt").rename(repo / "data" / "sub" / "new_moved.txt")
    return repo


def test_diff_between_tags_and_the_workspace_like_dvc(tools: Tools) -> None:
    repo = diff_repo(tools)
    for revs in ([], ["v1"], ["v1", "v2"], ["v2", "v1"]):
        for flags in ([], ["--json", "--show-hash"], ["--md", "--show-hash"]):
            assert_same(tools, "diff", *revs, *flags)
        for targets in (["data/sub"], ["data/a.txt"], ["data.dvc", "sub/f.txt"]):
            assert_same(tools, "diff", *revs, "--json", "--targets", *targets)
    assert_same(tools, "diff", "v1", "--hide-missing")
    assert_same(tools, "diff", "v2", "v2", "--json")
    # `dvc move` between the tags: each side names the directory by its own path.
    assert_same(tools, "diff", "v1", "v2", "--show-hash", "--targets", "dd", "dd2")
    for cwd, target in (("data", "sub"), ("data", "."), ("sub", "f.txt"), ("sub", "../model.pkl")):
        assert_same(tools, "diff", "v1", "--targets", target, cwd=repo / cwd)
    assert_same(tools, "diff", "--json", cwd=repo / "sub")


def test_diff_with_an_empty_cache_like_dvc(tools: Tools, tmp_path: Path) -> None:
    repo = diff_repo(tools)
    shutil.rmtree(repo / ".dvc" / "cache")
    # DVC also remembers directory listings in its site cache; a fresh clone has none.
    shutil.rmtree(tmp_path / "site-cache")
    for args in (
        ["diff"],
        ["diff", "--json", "--show-hash"],
        ["diff", "--hide-missing"],
        ["diff", "--targets", "data"],
        ["diff", "HEAD~1"],
        ["diff", "HEAD~1", "HEAD", "--json"],
    ):
        assert_same(tools, *args)


# --- move ---------------------------------------------------------------------


def move_repo(tools: Tools) -> Path:
    _mlvc, dvc, git, repo = tools
    dvc("init", "-q")
    git("commit", "-qm", "init")
    write(
        repo,
        {
            "f": "f\n",
            "gone": "gone\n",
            "dd/q": "q\n",
            "sub/g": "g\n",
            "existing/keep": "k\n",
            "o/data.csv": "1\n",
            "dvc.yaml": "stages:\n  gen:\n    cmd: echo hi > pout.txt\n    outs:\n    - pout.txt\n",
        },
    )
    dvc("add", "-q", "f", "gone", "dd", "sub/g")
    dvc("add", "-q", "o/data.csv", "-o", "odata.csv")
    dvc("repro", "-q")
    git("add", "-A")
    git("commit", "-qm", "v1")
    (repo / "gone").unlink()
    return repo


MOVES = [
    (["sub/g", "."], 0),  # into the root
    (["f", "."], 1),  # `f` is already there
    (["f", "existing/"], 0),
    (["dd", "dd2/"], 1),  # a trailing slash names a directory that must exist
    (["dd/", "dd2"], 0),
    (["odata.csv", "sub"], 0),  # added with `-o`
    (["gone", "gone2"], 0),  # data missing from the workspace: DVC warns, moves the rest
    (["pout.txt", "x.txt"], 1),  # a stage's output
    (["nonexistent", "x"], 1),
]


@pytest.mark.parametrize(("args", "code"), MOVES, ids=[" ".join(a) for a, _ in MOVES])
def test_move_like_dvc(tools: Tools, tmp_path: Path, args: list[str], code: int) -> None:
    mlvc, dvc, git, repo = tools
    move_repo(tools)
    theirs = tmp_path / "theirs"
    shutil.copytree(repo, theirs, symlinks=True)
    ours_run = mlvc("move", *args, check=False)
    theirs_run = dvc("move", *args, cwd=theirs, check=False)
    assert ours_run.returncode == theirs_run.returncode == code, ours_run.stderr
    assert snapshot(repo) == snapshot(theirs)
    assert git("status", "--porcelain").stdout == git("status", "--porcelain", cwd=theirs).stdout
    if args[0] == "gone":
        assert "`gone` is missing" in ours_run.stderr
    if args[0] == "pout.txt":
        assert "output of the stage `gen`" in ours_run.stderr


def test_move_from_a_subdirectory_like_dvc(tools: Tools, tmp_path: Path) -> None:
    mlvc, dvc, _git, repo = tools
    move_repo(tools)
    theirs = tmp_path / "theirs"
    shutil.copytree(repo, theirs, symlinks=True)
    for args in (["g", "../g2"], ["../f", "."], ["../dd", "dd3"]):
        assert mlvc("move", *args, cwd=repo / "sub").returncode == 0
        assert dvc("move", *args, cwd=theirs / "sub").returncode == 0
    assert snapshot(repo) == snapshot(theirs)


# --- unprotect ----------------------------------------------------------------


def test_unprotect_makes_a_read_only_copy_writable_like_dvc(tools: Tools, tmp_path: Path) -> None:
    mlvc, dvc, _git, repo = tools
    dvc("init", "-q")
    dvc("config", "cache.type", "hardlink")
    write(repo, {"f": "f\n", "dd/q": "q\n", "keep": "k\n"})
    dvc("add", "-q", "f", "dd", "keep")
    assert stat.S_IMODE(os.stat(repo / "f").st_mode) == 0o444
    # A copy of the checkout: no longer hardlinked, still read-only.
    theirs = tmp_path / "theirs"
    shutil.copytree(repo, theirs, symlinks=True)
    shutil.copytree(repo, tmp_path / "ours", symlinks=True)
    ours = tmp_path / "ours"
    assert os.stat(ours / "f").st_nlink == 1
    mlvc("unprotect", "f", "dd", cwd=ours)
    dvc("unprotect", "f", "dd", cwd=theirs)
    for rel in ("f", "dd/q", "keep"):
        mine, dvcs = os.stat(ours / rel), os.stat(theirs / rel)
        assert stat.S_IMODE(mine.st_mode) == stat.S_IMODE(dvcs.st_mode), rel
    assert stat.S_IMODE(os.stat(ours / "f").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(ours / "keep").st_mode) == 0o444
    assert snapshot(ours) == snapshot(theirs)
