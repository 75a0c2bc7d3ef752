"""Running a stage's commands the way DVC does: `$SHELL -c`, one line after another."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

from mlvc.exceptions import PipelineError
from mlvc.pipeline.model import Stage


class StageFailedError(PipelineError):
    """A stage's command exited with a non-zero status."""

    exit_code = 255

    def __init__(self, stage: str, cmd: str, returncode: int) -> None:
        self.stage = stage
        self.returncode = returncode
        # DVC-compat: "failed to reproduce 'x': failed to run: <cmd>, exited with N"
        super().__init__(
            f"failed to reproduce `{stage}`: command `{cmd}` exited with {returncode}",
            "fix the command (outputs were not saved and `dvc.lock` keeps the last good run)",
        )


def shell_argv(cmd: str) -> list[str]:
    """DVC-compat: `$SHELL` (or /bin/sh) with bash/zsh told to skip their rc files."""
    executable = os.environ.get("SHELL") or "/bin/sh"
    name = os.path.basename(executable).lower()
    opts = {"bash": ["--noprofile", "--norc"], "zsh": ["--no-rcs"]}.get(name, [])
    return [executable, *opts, "-c", cmd]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the command's process group, SIGKILL if it lingers."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


class Processes:
    """The process groups of running commands, so Ctrl-C can stop every one of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()
        self.stopping = False
        # Copied once: a thousand stages need not copy the environment a thousand times.
        self.environ = dict(os.environ)

    def add(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._running.add(proc)

    def discard(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._running.discard(proc)

    def kill_all(self) -> None:
        """Sends SIGTERM to every running group, then SIGKILL to those still alive."""
        self.stopping = True
        with self._lock:
            procs = list(self._running)
        for proc in procs:
            _stop(proc)


def run_commands(
    stage: Stage,
    root: Path,
    *,
    processes: Processes,
    out: IO[bytes] | None = None,
    echo: Callable[[str], None] | None = None,
    shown: str | None = None,
) -> None:
    """Runs each command line in `wdir`; raises StageFailedError at the first failure.

    `shown` is the stage's name as the user sees it (DVC's, relative to their directory).

    Output goes to `out` (a buffer, for parallel runs) or to the terminal. Each
    command runs in its own process group, which Ctrl-C handling kills.
    """
    # DVC-compat: DVC_ROOT (unless already set) and DVC_STAGE for every command.
    shown = shown or stage.addressing
    env = {"DVC_ROOT": str(root), **processes.environ, "DVC_STAGE": shown}
    cwd = root / stage.wdir
    for cmd in stage.commands:
        if echo is not None:
            echo(f"> {cmd}\n")
        if processes.stopping:
            raise KeyboardInterrupt
        proc = subprocess.Popen(
            shell_argv(cmd),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL if out is not None else None,
            stdout=subprocess.PIPE if out is not None else None,
            stderr=subprocess.STDOUT if out is not None else None,
            close_fds=True,
            start_new_session=True,
        )
        processes.add(proc)
        try:
            stream = proc.stdout
            if out is not None and stream is not None:
                while chunk := os.read(stream.fileno(), 65536):
                    out.write(chunk)
            returncode = proc.wait()
        except BaseException:
            # Ctrl-C reaches only mlvc (the command has its own session): stop the command.
            _stop(proc)
            raise
        finally:
            processes.discard(proc)
        if processes.stopping:
            raise KeyboardInterrupt
        if returncode != 0:
            raise StageFailedError(shown, cmd, returncode)
