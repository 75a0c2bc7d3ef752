"""Running a stage's commands the way DVC does: `$SHELL -c`, one line after another."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from mlvc.exceptions import PipelineError
from mlvc.pipeline.model import Stage

if TYPE_CHECKING:
    # Imported where a command starts: a no-op `repro` starts none.
    import subprocess


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
    import subprocess

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
        self._running: set[subprocess.Popen[bytes]] = set()
        self.stopping = False
        # Copied once: a thousand stages need not copy the environment a thousand times.
        self.environ = dict(os.environ)

    def add(self, proc: subprocess.Popen[bytes]) -> None:
        self._running.add(proc)

    def discard(self, proc: subprocess.Popen[bytes]) -> None:
        self._running.discard(proc)

    def kill_all(self) -> None:
        """Sends SIGTERM to every running group, then SIGKILL to those still alive."""
        self.stopping = True
        for proc in list(self._running):
            _stop(proc)


class StageRun:
    """A stage's command lines, run one after another without holding up the caller.

    `start` returns as soon as the first line's process exists, so the caller can
    do other work while it runs. With `out` (parallel runs) each line's output is
    piped into that buffer: the caller waits on `fileno()` (with `selectors`,
    beside other stages) and calls `read` when it is ready. Without, the command
    writes to the terminal and `wait` blocks until the stage ends.

    Each line runs in its own process group, which Ctrl-C handling kills.
    """

    def __init__(
        self,
        stage: Stage,
        root: Path,
        *,
        processes: Processes,
        out: IO[bytes] | None = None,
        echo: Callable[[str], None] | None = None,
        shown: str | None = None,
    ) -> None:
        # `shown` is the stage's name as the user sees it (DVC's, relative to their directory).
        self.shown = shown or stage.addressing
        # DVC-compat: DVC_ROOT (unless already set) and DVC_STAGE for every command.
        self._env = {"DVC_ROOT": str(root), **processes.environ, "DVC_STAGE": self.shown}
        self._cwd = root / stage.wdir
        self._lines = list(stage.commands)
        self.lines_started = 0
        self._processes = processes
        self._out = out
        self._echo = echo
        self._cmd = ""
        self._proc: subprocess.Popen[bytes] | None = None
        # Set once the running line closed its output but has not exited yet:
        # readable when it exits, so the caller need not block on it.
        self._pidfd: int | None = None

    def start(self) -> bool:
        """Starts the next line (the first, at first); False when none is left."""
        if self.lines_started >= len(self._lines):
            return False
        self._cmd = cmd = self._lines[self.lines_started]
        self.lines_started += 1
        if self._echo is not None:
            self._echo(f"> {cmd}\n")
        if self._processes.stopping:
            raise KeyboardInterrupt
        import subprocess

        piped = self._out is not None
        self._proc = subprocess.Popen(
            shell_argv(cmd),
            cwd=self._cwd,
            env=self._env,
            stdin=subprocess.DEVNULL if piped else None,
            stdout=subprocess.PIPE if piped else None,
            stderr=subprocess.STDOUT if piped else None,
            close_fds=True,
            start_new_session=True,
        )
        self._processes.add(self._proc)
        return True

    def fileno(self) -> int:
        """What to wait on (only with `out`): the running line's output pipe, or once
        that is closed, its process (a pidfd, readable when it exits)."""
        if self._pidfd is not None:
            return self._pidfd
        assert self._proc is not None and self._proc.stdout is not None
        return self._proc.stdout.fileno()

    def read(self) -> bool:
        """Takes what the running line wrote; True once the last line has ended.

        Raises StageFailedError when a line exits with a non-zero status.
        """
        assert self._out is not None and self._proc is not None
        if self._pidfd is not None:
            return self._line_ended()
        try:
            chunk = os.read(self.fileno(), 65536)
        except BaseException:
            self._abandon()
            raise
        if chunk:
            self._out.write(chunk)
            return False
        if self._proc.poll() is None:
            # The output is closed but the command still runs (`exec >&-`, a
            # daemon): wait for its exit beside the other stages, not here.
            try:
                self._pidfd = os.pidfd_open(self._proc.pid)
                return False
            except OSError:
                pass  # no pidfds on this system: wait for it here
        return self._line_ended()

    def wait(self) -> None:
        """Blocks until every line has run; raises StageFailedError at the first failure."""
        if self._out is not None:
            while not self.read():
                pass
            return
        while not self._line_ended():
            pass

    def _line_ended(self) -> bool:
        """Reaps the running line and starts the next; True when none is left."""
        proc = self._proc
        assert proc is not None
        try:
            returncode = proc.wait()
        except BaseException:
            self._abandon()
            raise
        self._release(proc)
        if self._processes.stopping:
            raise KeyboardInterrupt
        if returncode != 0:
            raise StageFailedError(self.shown, self._cmd, returncode)
        return not self.start()

    def _abandon(self) -> None:
        # Ctrl-C reaches only mlvc (the command has its own session): stop the command.
        if self._proc is not None:
            _stop(self._proc)
            self._release(self._proc)

    def _release(self, proc: subprocess.Popen[bytes]) -> None:
        self._processes.discard(proc)
        if proc.stdout is not None:
            proc.stdout.close()
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        self._proc = None
