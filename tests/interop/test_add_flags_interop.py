"""`add --no-relink`, run by real DVC and by mlvc with each `cache.type`: what each leaves
in the workspace and the cache compared."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.func.layout import fresh, objects, shapes
from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]


@pytest.mark.parametrize("cache_type", ["hardlink", "symlink", "copy"])
def test_add_no_relink_like_dvc(tools: Tools, cache_type: str) -> None:
    mlvc, dvc, _git, repo = tools
    files = ["f", "d/1", "d/2", "g"]
    found = []
    for tool in (dvc, mlvc):
        fresh(tool, repo, cache_type)
        for rel in files:
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            (repo / rel).write_text(rel + "\n")
            (repo / rel).chmod(0o600)
        tool("add", "-q", "--no-relink", "f", "d")
        tool("add", "-q", "g")
        added = (shapes(repo, files), objects(repo), tool("status").stdout)
        # A later checkout leaves the unlinked files alone too.
        tool("checkout", "-q")
        found.append((added, shapes(repo, files)))
    assert found[0] == found[1]
