"""`add` and `checkout` list the workspace's `.dvc` and `dvc.yaml` files once.

Each listing is a `git ls-files` over the whole workspace, untracked data included:
on 50,000 files, tens of milliseconds a time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import mlvc.repo
from mlvc.ops.add import add
from mlvc.ops.checkout import checkout
from mlvc.repo import Repo
from mlvc.spawn import Spawned

PIPELINE = """stages:
  copy:
    cmd: cp raw.txt copied.txt
    deps: [raw.txt]
    outs: [copied.txt]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A git repository with a tracked directory and a reproduced one-stage pipeline."""
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    (root / "data" / "a.txt").write_text("a\n")
    (root / "raw.txt").write_text("raw\n")
    (root / "dvc.yaml").write_text(PIPELINE)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for args in (["init", "-q"], ["add", "-q", "data"], ["repro", "-q"]):
        subprocess.run([sys.executable, "-m", "mlvc", *args], cwd=root, check=True)
    return root


@pytest.fixture
def listings(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The `git ls-files` command lines the repository runs from now on."""
    seen: list[list[str]] = []

    class Counted(Spawned):
        def __init__(self, argv: list[str], **kwargs: Any) -> None:
            if "ls-files" in argv:
                seen.append(argv)
            super().__init__(argv, **kwargs)

    monkeypatch.setattr(mlvc.repo, "Spawned", Counted)
    return seen


def test_checkout_of_everything_lists_once(project: Path, listings: list[list[str]]) -> None:
    (project / "data" / "a.txt").unlink()
    (project / "copied.txt").unlink()
    summary = checkout(Repo.find(project))
    assert (project / "data" / "a.txt").read_text() == "a\n"
    assert (project / "copied.txt").read_text() == "raw\n"
    assert summary.added
    assert len(listings) == 1, listings


def test_add_lists_once(project: Path, listings: list[list[str]]) -> None:
    (project / "more").mkdir()
    (project / "more" / "b.txt").write_text("b\n")
    add(Repo.find(project), ["more"], cwd=project)
    assert (project / "more.dvc").is_file()
    assert len(listings) == 1, listings
