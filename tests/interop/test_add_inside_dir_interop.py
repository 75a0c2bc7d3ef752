"""`add` of paths inside a directory a `.dvc` file tracks, run by real DVC and by mlvc:
only the targets' entries of the directory's record change (DVC's `Output.apply` and
`unstage`), the rest stays as recorded. What each tool leaves in `d.dvc` and the cache
(byte for byte), and what `status` and `checkout` make of it, compared."""

from __future__ import annotations

import hashlib
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.func.layout import shapes
from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]
Prepare = Callable[[Path], None]

# The tracked directory before each scenario: `d/x`, `d/y`, `d/sub/s` (6 bytes).
BASE = {"d/x": "x\n", "d/y": "y\n", "d/sub/s": "s\n"}


def _write(repo: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        # Never write through a link into the cache (running as root, 0444 stops nothing).
        (repo / rel).unlink(missing_ok=True)
        (repo / rel).write_text(text)


def _change_all(repo: Path) -> None:
    _write(repo, {"d/x": "x2\n", "d/y": "y2\n", "d/new": "n\n"})


def _new_subdir(repo: Path) -> None:
    _write(repo, {"d/s2/a": "a\n", "d/s2/deep/b": "b\n"})


def _change_subdir(repo: Path) -> None:
    _write(repo, {"d/sub/s": "s2\n", "d/sub/t": "t\n", "d/sub/deep/u": "u\n"})


def _delete_y(repo: Path) -> None:
    (repo / "d/y").unlink()


def _delete_sub(repo: Path) -> None:
    shutil.rmtree(repo / "d/sub")


def _mixed(repo: Path) -> None:
    _write(repo, {"d/x": "x2\n", "d/new": "n\n"})
    (repo / "d/y").unlink()


def _empty_subdir(repo: Path) -> None:
    (repo / "d/empty").mkdir()


def _nothing(repo: Path) -> None:
    pass


# (prepare the workspace, `add` arguments, `add` run from this directory)
SCENARIOS: dict[str, tuple[Prepare, list[str], str]] = {
    "changed-file": (_change_all, ["d/x"], "."),
    "new-file": (_change_all, ["d/new"], "."),
    "from-inside": (_change_all, ["x", "new"], "d"),
    "new-subdir": (_new_subdir, ["d/s2"], "."),
    "changed-subdir": (_change_subdir, ["d/sub"], "."),
    "nested-new-file": (_change_subdir, ["d/sub/deep/u", "d/x"], "."),
    "deleted-file": (_delete_y, ["d/y"], "."),
    "deleted-subdir": (_delete_sub, ["d/sub"], "."),
    "deleted-inside-subdir": (_delete_sub, ["d/sub/s"], "."),
    "several": (_mixed, ["d/x", "d/new", "d/y"], "."),
    "unchanged": (_nothing, ["d/x"], "."),
    "empty-subdir": (_empty_subdir, ["d/empty"], "."),
    "no-commit": (_change_all, ["--no-commit", "d/x"], "."),
    "then-whole": (_change_all, ["d/x", "d"], "."),
    "whole-then": (_change_all, ["d", "d/x"], "."),
    "no-such-path": (_change_all, ["d/nosuch"], "."),
    "dir-gone": (_delete_sub, ["d/sub/nosuch"], "."),
}


def _cache(repo: Path) -> dict[str, tuple[str, int]]:
    """Every object of the cache: its content's md5 and its permission bits."""
    root = repo / ".dvc" / "cache"
    return {
        p.relative_to(root).as_posix(): (
            hashlib.md5(p.read_bytes()).hexdigest(),
            stat.S_IMODE(p.stat().st_mode),
        )
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _tree(repo: Path) -> dict[str, str]:
    """The files of `d` and their contents."""
    return {
        p.relative_to(repo).as_posix(): p.read_text()
        for p in sorted((repo / "d").rglob("*"))
        if p.is_file()
    }


def _new_repo(git: Runner, repo: Path) -> Path:
    repo.mkdir()
    git("init", "-q", cwd=repo)
    return repo


def _run(
    tool: Runner,
    git: Runner,
    repo: Path,
    cache_type: str,
    prepare: Prepare,
    args: list[str],
    cwd: str,
) -> dict[str, object]:
    tool("init", "-q", cwd=repo)
    tool("config", "cache.type", cache_type, cwd=repo)
    _write(repo, BASE)
    tool("add", "-q", "d", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "base", cwd=repo)
    prepare(repo)
    added = tool("add", "-q", *args, cwd=repo / cwd, check=False)
    found: dict[str, object] = {
        "add": added.returncode,
        "d.dvc": (repo / "d.dvc").read_bytes(),
        "cache": _cache(repo),
        "status": _status(tool, repo),
        "shapes": shapes(repo, sorted(_tree(repo))),
    }
    checked_out = tool("checkout", "-f", cwd=repo, check=False)
    found["checkout"] = (checked_out.returncode, _tree(repo))
    found["status after checkout"] = _status(tool, repo)
    return found


def _status(tool: Runner, repo: Path) -> tuple[int, str]:
    r = tool("status", cwd=repo, check=False)
    return r.returncode, r.stdout


def _both(
    tools: Tools, tmp_path: Path, cache_type: str, prepare: Prepare, args: list[str], cwd: str
) -> tuple[dict[str, object], dict[str, object]]:
    mlvc, dvc, git, _repo = tools
    theirs = _run(dvc, git, _new_repo(git, tmp_path / "theirs"), cache_type, prepare, args, cwd)
    ours = _run(mlvc, git, _new_repo(git, tmp_path / "ours"), cache_type, prepare, args, cwd)
    return theirs, ours


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_add_inside_a_tracked_directory_like_dvc(tools: Tools, tmp_path: Path, name: str) -> None:
    prepare, args, cwd = SCENARIOS[name]
    theirs, ours = _both(tools, tmp_path, "copy", prepare, args, cwd)
    assert ours == theirs


@pytest.mark.parametrize("cache_type", ["hardlink", "symlink"])
@pytest.mark.parametrize("name", ["changed-file", "changed-subdir", "several"])
def test_add_inside_links_only_the_targets_like_dvc(
    tools: Tools, tmp_path: Path, cache_type: str, name: str
) -> None:
    prepare, args, cwd = SCENARIOS[name]
    theirs, ours = _both(tools, tmp_path, cache_type, prepare, args, cwd)
    assert ours == theirs


def test_add_inside_records_only_the_target(tools: Tools, tmp_path: Path) -> None:
    """The issue's case, spelled out: only `d/x` is committed; `d/y` and `d/new`
    stay changes `status` reports."""
    theirs, ours = _both(tools, tmp_path, "copy", _change_all, ["d/x"], ".")
    assert (
        ours["d.dvc"]
        == theirs["d.dvc"]
        == (
            b"outs:\n- md5: 986536cd0119f9e98def3b32bd424a83.dir\n  nfiles: 3\n"
            b"  hash: md5\n  path: d\n"
        )
    )
    manifest = tmp_path / "ours/.dvc/cache/files/md5/98/6536cd0119f9e98def3b32bd424a83.dir"
    assert manifest.read_bytes() == (
        b'[{"md5": "f4d5d0c0671be202bc241807c243e80b", "relpath": "sub/s"}, '
        b'{"md5": "e2ee9ad17fdffb4d4085276497dfb647", "relpath": "x"}, '
        b'{"md5": "009520053b00386d1173f3988c55d192", "relpath": "y"}]'
    )
    assert (
        ours["status"]
        == theirs["status"]
        == (
            0,
            "d.dvc:\n\tchanged outs:\n\t\tmodified:           d\n",
        )
    )


def test_add_inside_refuses_what_neither_exists_nor_is_recorded(
    tools: Tools, tmp_path: Path
) -> None:
    mlvc, dvc, git, _repo = tools
    for name, tool in (("theirs", dvc), ("ours", mlvc)):
        repo = _new_repo(git, tmp_path / name)
        tool("init", "-q", cwd=repo)
        _write(repo, BASE)
        tool("add", "-q", "d", cwd=repo)
        before = (repo / "d.dvc").read_bytes()
        missing = tool("add", "d/nosuch", cwd=repo, check=False)
        shutil.rmtree(repo / "d")
        gone = tool("add", "d/x", cwd=repo, check=False)
        assert (missing.returncode, gone.returncode) == (1, 1)
        assert (repo / "d.dvc").read_bytes() == before
        if tool is mlvc:
            assert missing.stderr.startswith("error: `d/nosuch` does not exist\n")
            assert gone.stderr.startswith("error: output `d` does not exist\n")
        else:
            assert "No such file or directory" in missing.stderr
            assert "output 'd' does not exist" in gone.stderr
