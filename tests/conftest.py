"""Shared fixtures: paths to the reference material and small file builders."""

from __future__ import annotations

import atexit
import os
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from tests.dvc_forkserver import DvcForkServer

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


_fork_server: DvcForkServer | None = None
_fork_server_lock = threading.Lock()


def run_captured(
    argv: Sequence[str], *, cwd: Path, env: dict[str, str], input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`subprocess.run(argv, capture_output=True, text=True)`; the `dvc` script's
    commands are run by `run_dvc`."""
    if argv and argv[0] == str(dvc_executable()):
        return run_dvc(argv[1:], cwd=cwd, env=env, input=input)
    return _started(argv, cwd=cwd, env=env, input=input)


def _started(
    argv: Sequence[str], *, cwd: Path, env: dict[str, str], input: str | None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True, input=input)


def run_dvc(
    args: Sequence[str], *, cwd: Path, env: dict[str, str], input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`dvc *args` with its output captured as text, as `subprocess.run` gives it.

    Run by this worker's DVC fork server (`tests/dvc_forkserver.py`), which
    skips the interpreter's start-up and DVC's imports, or, with
    `MLVC_DVC_FORKSERVER=0`, by the `dvc` script itself.
    """
    global _fork_server
    if os.environ.get("MLVC_DVC_FORKSERVER", "1") == "0":
        return _started([str(dvc_executable()), *args], cwd=cwd, env=env, input=input)
    with _fork_server_lock:  # tests run commands from several threads too
        if _fork_server is None:
            _fork_server = DvcForkServer(str(dvc_python()), str(dvc_executable()))
            atexit.register(_fork_server.close)
    return _fork_server.run(list(args), cwd=str(cwd), env=env, input=input)


@pytest.fixture(scope="session")
def real_dvc() -> Path:
    """Path to real DVC's `dvc`; the interop tests fail loudly without it."""
    exe = dvc_executable()
    assert exe.exists(), f"real DVC not found at {exe}; run `make test` (it installs dvc==3.67.1)"
    return exe
