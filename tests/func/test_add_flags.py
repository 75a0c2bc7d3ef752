"""`add --no-relink`: the workspace is left as it is, whatever `cache.type` says."""

from __future__ import annotations

from pathlib import Path

from tests.func.layout import object_of, shape
from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]


def test_add_no_relink_leaves_the_workspace_as_it_is(tools: Tools) -> None:
    mlvc, _dvc, _git, repo = tools
    mlvc("init", "-q")
    mlvc("config", "cache.type", "hardlink,symlink")
    for rel in ("f", "d/1", "d/2"):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(rel + "\n")
    (repo / "f").chmod(0o600)
    inode = (repo / "f").stat().st_ino
    mlvc("add", "-q", "--no-relink", "f", "d")
    assert shape(repo / "f") == ("file", 1, 0o600)
    assert (repo / "f").stat().st_ino == inode
    assert shape(repo / "d" / "1")[:2] == ("file", 1)
    # The cache holds its own copy.
    assert object_of(repo, "f").read_text() == "f\n"
    assert object_of(repo, "f").stat().st_nlink == 1
    assert mlvc("status").stdout == "Data and pipelines are up to date.\n"
    mlvc("checkout", "-q")
    assert shape(repo / "f") == ("file", 1, 0o600)
    # Without it, the workspace is linked to the cache.
    (repo / "g").write_text("g\n")
    mlvc("add", "-q", "g")
    assert shape(repo / "g") == ("file", 2, 0o444)
