"""The progress line: on stderr only when it is a terminal, after a short delay, and
never in the command's stdout."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from mlvc.cli import _progress


def read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode(errors="replace")


def test_meter_draws_on_a_terminal_stderr_after_the_delay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    master, slave = pty.openpty()
    term = os.fdopen(slave, "w", buffering=1)
    monkeypatch.setattr(sys, "stderr", term)
    monkeypatch.setattr(_progress, "SHOW_AFTER_S", 3600.0)
    with _progress.Meter("checking") as meter:
        meter(1, 0)  # too early: nothing drawn, rich not even started
        assert meter._progress is None
        monkeypatch.setattr(_progress, "SHOW_AFTER_S", 0.0)
        meter(5, 2**20)
        meter.then("checking out")(7, 3 * 2**20)
    term.close()
    shown = read_all(master)
    os.close(master)
    assert "checking out 7 files, 3.0 MiB" in shown


def test_meter_is_silent_when_stderr_is_no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_progress, "SHOW_AFTER_S", 0.0)
    with _progress.Meter("checking") as meter:
        meter(5, 2**20)
        assert meter._progress is None


def test_status_output_stays_on_stdout_while_the_line_is_drawn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    for i in range(200):
        (repo / "data" / f"f{i}").write_text(str(i))
    run = [sys.executable, "-m", "mlvc"]
    subprocess.run([*run, "init", "-q", "--no-scm"], cwd=repo, check=True)
    subprocess.run([*run, "add", "-q", "data"], cwd=repo, check=True)
    (repo / "data" / "f0").write_text("changed")
    master, slave = pty.openpty()
    term = os.fdopen(slave, "w", buffering=1)
    monkeypatch.setattr(sys, "stderr", term)
    monkeypatch.setattr(_progress, "SHOW_AFTER_S", 0.0)
    monkeypatch.chdir(repo)
    from mlvc.cli._status import show_status

    flags = dict.fromkeys(
        ["as_json", "cloud", "all_branches", "all_tags", "all_commits", "with_deps"], False
    )
    show_status(
        targets=None, remote=None, jobs=None, recursive=False, quiet=False, verbose=False, **flags
    )
    term.close()
    shown = read_all(master)
    os.close(master)
    assert "checking 200 files" in shown
    assert capsys.readouterr().out == "data.dvc:\n\tchanged outs:\n\t\tmodified:           data\n"
