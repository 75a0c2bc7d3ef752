"""With `copy` (or `reflink`) first in `cache.type`, saving a directory replaces each of
its files that shares an inode (a hardlink into the cache, or to any other file) by a
private, writable copy, as DVC does; plain copies stay as they are and every cache
object stays read-only. Each case runs on twin repositories, one where DVC does every
step and one where mlvc does."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.interop.conftest import Pair, write
from tests.interop.test_link_types_random_interop import run_both, statuses

FILES = {"d/x": "x\n", "d/y": "y\n", "d/sub/z": "z\n"}


def modes(root: Path, under: str) -> dict[str, tuple[int, int]]:
    """Permission bits and link count of each regular file below `root / under`."""
    found = {}
    for dirpath, _dirs, files in os.walk(root / under):
        for name in files:
            st = (Path(dirpath) / name).lstat()
            rel = (Path(dirpath) / name).relative_to(root).as_posix()
            found[rel] = (stat.S_IMODE(st.st_mode), st.st_nlink)
    return found


def hardlinked_dir(pair: Pair, files: dict[str, str] = FILES) -> None:
    """`d` added in both repositories with hardlinks, then `cache.type copy`."""
    _tools, ours, theirs = pair
    for root in (ours, theirs):
        write(root, files)
    run_both(pair, "config", "cache.type", "hardlink")
    run_both(pair, "add", "-q", "d")
    run_both(pair, "config", "cache.type", "copy")


def assert_same_end(pair: Pair) -> None:
    """Both tools report the same status in their repository; the cache is read-only."""
    (mlvc, dvc, _git, _), ours, theirs = pair
    assert statuses(mlvc, ours) == statuses(dvc, theirs)
    objects = modes(ours, ".dvc/cache")
    assert objects and all(m == (0o444, 1) for m in objects.values()), objects


def replace_by_copy(path: Path, mode: int) -> None:
    """Puts a plain copy of `path` (with `mode`) where it stands, breaking its link."""
    data = path.read_bytes()
    path.unlink()
    path.write_bytes(data)
    path.chmod(mode)


@pytest.mark.parametrize(
    "command",
    [("commit", "-q", "-f", "d.dvc"), ("commit", "-q", "d.dvc"), ("add", "-q", "d")],
    ids=["commit-f", "commit", "add"],
)
def test_saving_makes_a_hardlinked_directory_private_copies(
    pair: Pair, command: tuple[str, ...]
) -> None:
    """`commit -f`, `commit` and `add` again of a directory whose files are hardlinks
    into the cache leave writable copies (0644 under umask 022) with one link each."""
    _tools, ours, _theirs = pair
    hardlinked_dir(pair)
    assert modes(ours, "d")["d/x"] == (0o444, 2)
    run_both(pair, *command)
    assert_same_end(pair)
    want = 0o666 & ~_umask()
    assert set(modes(ours, "d").values()) == {(want, 1)}


@pytest.mark.parametrize("link_types", ["copy", "reflink,copy", "reflink,symlink"])
def test_commit_relinks_only_the_files_sharing_an_inode(pair: Pair, link_types: str) -> None:
    """In a directory partly modified, where only some files are still hardlinks,
    only those are relinked as `cache.type` says: a read-only plain copy stays so."""
    _tools, ours, theirs = pair
    hardlinked_dir(pair, {**FILES, "d/w": "w\n"})
    run_both(pair, "config", "cache.type", link_types)
    for root in (ours, theirs):
        replace_by_copy(root / "d" / "x", 0o644)
        replace_by_copy(root / "d" / "w", 0o444)
        (root / "d" / "y").unlink()
        write(root, {"d/y": "changed\n"})
    run_both(pair, "commit", "-q", "-f", "d.dvc")
    assert_same_end(pair)
    assert modes(ours, "d")["d/w"] == (0o444, 1)


def test_commit_after_a_hardlink_checkout(pair: Pair) -> None:
    """Files linked by `checkout --relink` with hardlinks become private copies too."""
    _tools, ours, theirs = pair
    for root in (ours, theirs):
        write(root, FILES)
    run_both(pair, "add", "-q", "d")
    run_both(pair, "config", "cache.type", "hardlink")
    run_both(pair, "checkout", "-q", "--relink", "d.dvc")
    assert modes(ours, "d")["d/y"] == (0o444, 2)
    run_both(pair, "config", "cache.type", "copy")
    run_both(pair, "commit", "-q", "-f", "d.dvc")
    assert_same_end(pair)


def test_add_breaks_hardlinks_between_files_and_to_outside(pair: Pair, tmp_path: Path) -> None:
    """`add` (default `cache.type`) of a directory holding two hardlinks of one file
    and a hardlink to a file outside the repository copies all three: the outside
    file keeps its data and mode."""
    _tools, ours, theirs = pair
    for root, outside in ((ours, tmp_path / "ours-o"), (theirs, tmp_path / "theirs-o")):
        write(root, {"d/a": "a\n", "d/p": "p\n"})
        os.link(root / "d" / "a", root / "d" / "b")
        outside.write_text("o\n")
        outside.chmod(0o600)
        os.link(outside, root / "d" / "o")
    run_both(pair, "add", "-q", "d")
    assert_same_end(pair)
    for outside in (tmp_path / "ours-o", tmp_path / "theirs-o"):
        st = outside.stat()
        assert (stat.S_IMODE(st.st_mode), st.st_nlink, outside.read_text()) == (0o600, 1, "o\n")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
