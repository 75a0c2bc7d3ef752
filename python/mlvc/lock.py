"""The repository lock, taken exactly as DVC takes it, so both tools exclude each other.

DVC-compat: `.dvc/tmp/lock`, opened without truncation, `flock(LOCK_EX |
LOCK_NB)`, then the pid written as ` <pid>\\n`; a busy lock is retried six
times over three seconds before giving up.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from mlvc.exceptions import MlvcError

RETRIES = 6
TIMEOUT_S = 3.0
# Set by the global `--wait-for-lock`: every lock this process takes waits for its turn.
WAIT_FOR_LOCK = False


class LockError(MlvcError):
    """Another DVC or mlvc process holds the repository lock."""

    hint = (
        "another `dvc` or `mlvc` command is running in this repository; wait for it, "
        "or if none is, check that no process was left behind"
    )


class RepoLock:
    """An exclusive, process-wide lock on one repository."""

    def __init__(self, path: Path, *, wait: bool = False) -> None:
        self.path = path
        self.wait = wait or WAIT_FOR_LOCK
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        delay = TIMEOUT_S / RETRIES
        attempt = 0
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                attempt += 1
                if not self.wait and attempt > RETRIES:
                    raise LockError(
                        f"cannot lock `{self.path}`: the repository is locked by another process"
                    ) from None
                time.sleep(delay)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, f" {os.getpid()}\n".encode())
            self._fd = fd
            return

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RepoLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
