"""Shared fixtures: paths to the reference material and small file builders."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """The `shared/` folder beside the checkout (spec and conformance corpus)."""
    env = os.environ.get("MLVC_SHARED_DIR")
    return Path(env) if env else REPO_ROOT.parent / "shared"


@pytest.fixture
def make_tree(tmp_path: Path) -> Callable[[dict[str, bytes]], Path]:
    """Returns a function that writes `{relpath: bytes}` under a fresh directory."""

    def build(files: dict[str, bytes], root: Path | None = None) -> Path:
        base = root or tmp_path / "tree"
        base.mkdir(parents=True, exist_ok=True)
        for rel, data in files.items():
            p = base / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        return base

    return build


def dvc_python() -> Path:
    """The interpreter of the pinned real DVC (the oracle), installed by `make test`."""
    env = os.environ.get("MLVC_DVC_PYTHON")
    return Path(env) if env else REPO_ROOT / ".venv-dvc" / "bin" / "python"


def dvc_executable() -> Path:
    """The `dvc` command of the pinned real DVC."""
    return dvc_python().parent / "dvc"


@pytest.fixture(scope="session")
def real_dvc() -> Path:
    """Path to real DVC's `dvc`; the interop tests fail loudly without it."""
    exe = dvc_executable()
    assert exe.exists(), f"real DVC not found at {exe}; run `make test` (it installs dvc==3.67.1)"
    return exe
