"""The repository lock, taken exactly as DVC takes it, so both tools exclude each other.

DVC-compat: `.dvc/tmp/lock`, opened without truncation, `flock(LOCK_EX |
LOCK_NB)`, then the pid written as ` <pid>\\n`; a busy lock is retried six
times over three seconds before giving up.

With `core.hardlink_lock` (for filesystems such as NFS where `flock` cannot be
trusted), DVC takes the lock another way, and so does mlvc: a claim file in
`.dvc/tmp` that names itself, hard-linked as `.dvc/tmp/lock`. Whoever makes the
link holds the lock; unlocking removes both. The claim's mtime is set a year
ahead, as DVC sets it, because a waiting DVC breaks a lock whose mtime has passed.
"""

from __future__ import annotations

import errno
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


def write_owner(fd: int) -> None:
    """Writes ` <pid>` into a lock file as `zc.lockfile` does, truncating only what the
    old content has beyond it: on ext4, a file truncated and rewritten is flushed at
    close (`auto_da_alloc`), which costs up to milliseconds."""
    owner = f" {os.getpid()}\n".encode()
    os.pwrite(fd, owner, 0)
    if os.fstat(fd).st_size > len(owner):
        os.ftruncate(fd, len(owner))


class LockError(MlvcError):
    """Another DVC or mlvc process holds the repository lock."""

    hint = (
        "another `dvc` or `mlvc` command is running in this repository; wait for it, "
        "or if none is, check that no process was left behind"
    )


# DVC-compat: how far ahead a hard-link lock's expiry is set (DVC: a year).
HARDLINK_LIFETIME_S = 365 * 24 * 3600


class RepoLock:
    """An exclusive, process-wide lock on one repository.

    `hardlink`: take it as DVC does with `core.hardlink_lock` (see the module).
    """

    def __init__(self, path: Path, *, wait: bool = False, hardlink: bool = False) -> None:
        self.path = path
        self.wait = wait or WAIT_FOR_LOCK
        self.hardlink = hardlink
        self._fd: int | None = None
        self._claim: Path | None = None

    def _busy(self) -> LockError:
        error = LockError(f"cannot lock `{self.path}`: the repository is locked by another process")
        if self.hardlink:
            error.hint = (
                "another `dvc` or `mlvc` command is running in this repository; wait for "
                f"it, or if none is, delete `{self.path}` (`core.hardlink_lock` is set, so "
                "a killed command leaves it behind)"
            )
        return error

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.hardlink:
            self._acquire_hardlink()
            return
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
                    raise self._busy() from None
                time.sleep(delay)
                continue
            write_owner(fd)
            self._fd = fd
            return

    def _acquire_hardlink(self) -> None:
        # Imported here: every command takes the lock, few take it this way.
        import hashlib
        import secrets
        import socket

        unique = "|".join(
            (str(self.path), socket.gethostname(), str(os.getpid()), secrets.token_hex(8))
        )
        claim = self.path.parent / (hashlib.md5(unique.encode()).hexdigest() + ".lock")
        claim.write_text(str(claim))
        expires = time.time() + HARDLINK_LIFETIME_S
        os.utime(claim, (expires, expires))
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            try:
                os.link(claim, self.path)
                self._claim = claim
                return
            except FileExistsError:
                self._clear_flock_leftover()
            except OSError as exc:
                if exc.errno not in (errno.ENOENT, errno.ESTALE):
                    claim.unlink(missing_ok=True)
                    raise
            if not self.wait and time.monotonic() > deadline:
                claim.unlink(missing_ok=True)
                raise self._busy()
            time.sleep(TIMEOUT_S / RETRIES / 5)

    def _clear_flock_leftover(self) -> None:
        """Removes a lock file left by the `flock` way, which no one holds.

        A hard-link lock always has two links; a file with one is what the other way
        leaves (it never deletes its file), and it would block this way for ever.
        """
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return
        try:
            if os.fstat(fd).st_nlink != 1:
                return
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return  # held the `flock` way right now
            try:
                # Only if it is still the same file under that name.
                if os.stat(self.path).st_ino == os.fstat(fd).st_ino:
                    os.unlink(self.path)
            except FileNotFoundError:
                pass
        finally:
            os.close(fd)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        if self._claim is not None:
            try:
                if os.stat(self.path).st_ino == os.stat(self._claim).st_ino:
                    os.unlink(self.path)
            except FileNotFoundError:
                pass
            self._claim.unlink(missing_ok=True)
            self._claim = None

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
