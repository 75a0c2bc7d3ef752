"""Cases found by running random sequences of `cache.type` changes, data commands and
edits (also through links into the cache) on twin repositories, one where DVC does
every step and one where mlvc does."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.interop.conftest import Pair, Runner, write


def layout(root: Path) -> dict[str, tuple[object, ...]]:
    """The workspace and cache below `root` (not `.git/`, `.dvc/tmp/`): each file's
    content, permission bits and link count, each symlink's target (relative to root)."""
    found: dict[str, tuple[object, ...]] = {}
    for dirpath, dirs, files in os.walk(root):
        here = Path(dirpath)
        dirs[:] = [
            d for d in dirs if (here / d).relative_to(root).as_posix() not in (".git", ".dvc/tmp")
        ]
        for name in files + [d for d in dirs if (here / d).is_symlink()]:
            path = here / name
            rel = path.relative_to(root).as_posix()
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                found[rel] = ("link", os.path.relpath(os.readlink(path), root))
            else:
                found[rel] = ("file", path.read_bytes(), stat.S_IMODE(st.st_mode), st.st_nlink)
    return found


def run_both(pair: Pair, *args: str) -> int:
    """One command by each tool in its repository: the same exit code and layout."""
    (mlvc, dvc, _git, _), ours, theirs = pair
    mine = mlvc(*args, cwd=ours, check=False)
    their = dvc(*args, cwd=theirs, check=False)
    assert mine.returncode == their.returncode, (args, mine.stderr, their.stderr)
    assert layout(ours) == layout(theirs), args
    return mine.returncode


def statuses(tool: Runner, root: Path) -> tuple[object, object]:
    """`status --json` and `data status --json` (its lists sorted: DVC's order varies)."""
    status = json.loads(tool("status", "--json", cwd=root).stdout)
    data = json.loads(tool("data", "status", "--json", cwd=root).stdout)
    return status, {kind: {k: sorted(v) for k, v in d.items()} for kind, d in data.items()}


def write_through(path: Path, text: str) -> None:
    """Rewrites a file in place, following a link: a linked file's object changes."""
    with open(path, "r+") as f:
        f.truncate(0)
        f.write(text)


@pytest.mark.parametrize("link_type", ["hardlink", "symlink"])
def test_checkout_refuses_data_written_through_a_link(pair: Pair, link_type: str) -> None:
    """Data written through a link into the cache is unsaved: `checkout` (also
    `--relink`, of a file or of a directory) refuses to replace it without `--force`,
    as DVC does, and both tools report the output modified until then."""
    (mlvc, dvc, _git, _), ours, theirs = pair
    for root in (ours, theirs):
        write(root, {"a": "a\n", "d/x": "x\n", "d/y": "y\n"})
    run_both(pair, "config", "cache.type", link_type)
    run_both(pair, "add", "-q", "a", "d")
    for root in (ours, theirs):
        write_through(root / "a", "written through\n")
        write_through(root / "d" / "x", "also\n")
    assert statuses(mlvc, ours) == statuses(dvc, theirs)
    assert run_both(pair, "checkout", "a.dvc") != 0
    assert run_both(pair, "checkout", "d") != 0
    assert run_both(pair, "checkout", "--relink") != 0
    assert statuses(mlvc, ours) == statuses(dvc, theirs)
    assert run_both(pair, "checkout", "--force") == 0
    assert (ours / "a").read_text() == "written through\n"


@pytest.mark.parametrize("link_types", ["reflink,hardlink,copy", "reflink,symlink"])
def test_add_with_reflink_first_links_a_lone_file_as_the_next_type(
    pair: Pair, link_types: str
) -> None:
    """Where reflinks fail, `add` and `commit` link a lone file to the cache with the
    next type, as DVC does; a directory's files stay copies."""
    _tools, ours, theirs = pair
    for root in (ours, theirs):
        write(root, {"b": "b\n", "d/x": "x\n"})
    run_both(pair, "config", "cache.type", link_types)
    run_both(pair, "add", "-q", "b", "d")
    for root in (ours, theirs):
        (root / "b").unlink()
        write(root, {"b": "changed\n"})
    run_both(pair, "commit", "-f", "b.dvc")


def test_commit_with_copy_first_makes_a_hardlinked_file_a_private_copy(pair: Pair) -> None:
    """With `copy` first, `commit` replaces a file hard-linked into the cache by a
    private copy, as DVC does: its cache object stays read-only."""
    _tools, ours, theirs = pair
    for root in (ours, theirs):
        write(root, {"b": "b\n"})
    run_both(pair, "config", "cache.type", "hardlink")
    run_both(pair, "add", "-q", "b")
    run_both(pair, "config", "cache.type", "copy")
    run_both(pair, "commit", "-f", "b.dvc")
    objects = [p for p in (ours / ".dvc" / "cache").rglob("*") if p.is_file()]
    assert [stat.S_IMODE(p.stat().st_mode) for p in objects] == [0o444]
