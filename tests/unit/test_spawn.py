"""Running git for its output without the subprocess module."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from mlvc.spawn import Spawned, SpawnError


def test_output_and_exit_code_in_another_directory(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "a b.txt").write_text("x")
    code, out = Spawned(["git", "ls-files", "-z", "--others"], cwd=tmp_path).output()
    assert (code, out) == (0, b"a b.txt\0")


def test_a_failure_keeps_stdout_and_drops_stderr(tmp_path: Path) -> None:
    # Not a repository: git exits 128 and complains on stderr only.
    proc = Spawned(["git", "rev-parse", "HEAD"], cwd=tmp_path)
    with pytest.raises(SpawnError) as caught:
        proc.checked_output()
    assert caught.value.returncode == 128 and caught.value.stdout == b""
    assert proc.returncode == 128


def test_a_missing_program_is_file_not_found() -> None:
    with pytest.raises(FileNotFoundError):
        Spawned(["mlvc-no-such-program-here"])


def test_kill_stops_and_reaps_a_running_command() -> None:
    proc = Spawned(["sleep", "30"])
    proc.kill()
    assert proc.returncode == -9
    with pytest.raises(ChildProcessError):
        os.waitpid(proc.pid, os.WNOHANG)
    proc.kill()  # a second call has nothing left to do


def test_only_git_takes_a_directory() -> None:
    with pytest.raises(ValueError, match="only git"):
        Spawned(["ls"], cwd="/")
