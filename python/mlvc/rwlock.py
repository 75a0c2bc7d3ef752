"""Per-path read/write locks of running stages, shared with DVC in `.dvc/tmp/rwlock`.

DVC releases the repository lock while a stage's command runs and protects the
stage with these entries instead; mlvc takes and honours them the same way, so
neither tool runs or rewrites a stage the other is running.

DVC-compat (`dvc/rwlock.py`): the file is JSON, `{"write": {path: info},
"read": {path: [info, ...]}}` with `info = {"pid": int, "cmd": str}` (the
`cmd` is the process's argv joined by spaces) and absolute paths. It is read
and rewritten only while `rwlock.lock` beside it is locked, as the repository
lock is. A stage read-locks its deps and write-locks its outs: a path is busy
when another process write-locks a path overlapping (equal to, inside or
containing) one of the stage's paths, or read-locks one overlapping an out.
Entries of processes that no longer exist are dropped with a warning. A key
emptied by a release is removed.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlvc.exceptions import MlvcError
from mlvc.fsutil import atomic_write_bytes
from mlvc.lock import RETRIES, TIMEOUT_S, write_owner

if TYPE_CHECKING:
    from mlvc.pipeline.model import Stage

RWLOCK_FILE = "rwlock"
RWLOCK_LOCK = "rwlock.lock"

# {"pid": int, "cmd": str}
Info = dict[str, Any]
Entries = dict[str, Any]


class RWLockError(MlvcError):
    """The rwlock file cannot be used, or a path is busy."""

    # DVC-compat: a DvcException, exit 255.
    exit_code = 255
    hint: str | None = None

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class PathBusyError(RWLockError):
    """Another process holds a conflicting lock on one of a stage's paths."""

    def __init__(self, shown: str, blockers: list[Info], rwlock_file: str) -> None:
        self.path = shown
        self.blockers = blockers
        by = ", ".join(f"PID {b['pid']} (`{b['cmd']}`)" for b in blockers)
        super().__init__(
            f"`{shown}` is busy: it is being used by {by}",
            f"wait for it to end; if no process has that PID, remove `{rwlock_file}` and retry",
        )


def pid_exists(pid: int) -> bool:
    """DVC-compat: `psutil.pid_exists` on Linux, where a thread id is not a process."""
    if pid <= 0:
        # psutil: pid 0 is looked up among /proc's entries, where it never is.
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"Tgid:"):
                    return int(line.split()[1]) == pid
    except (OSError, ValueError):
        pass
    return os.path.exists(f"/proc/{pid}")


def _overlaps(left: str, right: str) -> bool:
    """DVC-compat: `localfs.overlaps`: equal, or one inside the other."""
    if left == right:
        return True
    longer, shorter = (left, right) if len(left) > len(right) else (right, left)
    return longer.startswith(shorter.rstrip("/") + "/")


def _valid_info(info: Any) -> bool:
    return (
        isinstance(info, dict)
        and set(info) == {"pid", "cmd"}
        and isinstance(info["pid"], int)
        and isinstance(info["cmd"], str)
    )


def _valid(data: Any) -> bool:
    """DVC-compat: the voluptuous schema DVC checks the file against (no other keys)."""
    if not isinstance(data, dict) or not set(data) <= {"read", "write"}:
        return False
    write = data.get("write", {})
    read = data.get("read", {})
    return (
        isinstance(write, dict)
        and all(_valid_info(i) for i in write.values())
        and isinstance(read, dict)
        and all(isinstance(v, list) and all(_valid_info(i) for i in v) for v in read.values())
    )


# A write(2) within one page is never torn by a signal: the file then holds the
# old bytes or the new ones.
_PAGE = 4096


def _store(path: Path, data: bytes) -> None:
    """Writes the rwlock's entries, padded with spaces to the old length (JSON ignores
    them), in one write over the file's bytes: no truncation or rename, each of which
    ext4 follows with a flush. Longer than a page, the file is renamed into place
    instead, so that a process killed while writing cannot leave a torn file that
    blocks every later command."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        size = os.fstat(fd).st_size
        if max(size, len(data)) <= _PAGE:
            os.pwrite(fd, data.ljust(size), 0)
            return
    finally:
        os.close(fd)
    atomic_write_bytes(path, data)


class RWLock:
    """This process's side of `.dvc/tmp/rwlock` during one run.

    Every DVC or mlvc process takes its entries while holding the repository
    lock, which mlvc holds for the whole run: while it runs, other processes'
    entries can only go away (their command ended), never appear. So the file
    is read once, and `check` (DVC checks every stage it considers) costs
    nothing unless a stage's paths overlap an entry seen then. `acquire` edits
    the file before each stage's command runs, as DVC does; the entries of the
    stages that ended leave it with that same edit (see `release`).
    """

    def __init__(
        self,
        tmp_dir: Path,
        *,
        warn: Callable[[str], None],
        shown: Callable[[str], str] = str,
        cmd: str | None = None,
    ) -> None:
        self.path = tmp_dir / RWLOCK_FILE
        self._guard = tmp_dir / RWLOCK_LOCK
        self._warn = warn
        self._shown = shown
        self.info: Info = {"pid": os.getpid(), "cmd": cmd if cmd is not None else _argv()}
        # Other processes' entries as last read: (mode, path) pairs; None before the first read.
        self._seen: list[tuple[str, str]] | None = None
        # How many of this process's stages hold each entry (with -j, several may).
        self._held: Counter[tuple[str, str]] = Counter()
        # Entries no stage holds any more, still in the file until the next edit.
        self._pending: list[tuple[str, str]] = []

    # -- the file -------------------------------------------------------------------
    @contextmanager
    def _guarded(self) -> Iterator[None]:
        """DVC-compat: `rwlock.lock` taken as the repository lock is (`zc.lockfile`:
        `flock`, then ` <pid>` written; six tries over three seconds). Inlined
        rather than a `RepoLock`: this is taken for every stage that runs."""
        delay = TIMEOUT_S / RETRIES
        for attempt in range(RETRIES + 1):
            try:
                fd = os.open(self._guard, os.O_RDWR | os.O_CREAT, 0o644)
            except FileNotFoundError:
                self._guard.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self._guard, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                if attempt == RETRIES:
                    shown = self._shown(str(self._guard))
                    raise RWLockError(
                        f"cannot lock `{shown}`: another process holds it",
                        "another `dvc` or `mlvc` command is running in this repository; "
                        "wait for it",
                    ) from None
                time.sleep(delay)
                continue
            try:
                write_owner(fd)
                yield
            finally:
                os.close(fd)  # which unlocks it
            return

    def _load(self) -> Entries:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return {"read": {}, "write": {}}
        try:
            text = b"".join(iter(lambda: os.read(fd, 1 << 20), b""))
        finally:
            os.close(fd)
        try:
            data = json.loads(text)
        except ValueError:
            raise self._unreadable("it is not valid JSON") from None
        if not _valid(data):
            raise self._unreadable("unexpected format")
        # DVC-compat: voluptuous fills in the missing keys, `read` before `write`.
        data.setdefault("read", {})
        data.setdefault("write", {})
        entries: Entries = data
        return entries

    def _unreadable(self, why: str) -> RWLockError:
        shown = self._shown(str(self.path))
        return RWLockError(
            f"cannot read `{shown}`: {why}",
            f"if no `dvc` or `mlvc` command is running here, remove `{shown}`",
        )

    @contextmanager
    def _edit(self) -> Iterator[Entries]:
        """The file's entries, written back unless the block raises (as DVC's `_edit_rwlock`)."""
        with self._guarded():
            lock = self._load()
            pending = self._pending
            for mode in ("write", "read"):
                _release(lock, mode, self.info, [p for m, p in pending if m == mode])
            yield lock
            # DVC-compat: `json.dump` with its default separators (`dumps` is the same text).
            _store(self.path, json.dumps(lock).encode())
            self._remember(lock)
            del pending[:]

    def _remember(self, lock: Entries) -> None:
        mine = self.info
        self._seen = [("write", p) for p, i in lock.get("write", {}).items() if i != mine] + [
            ("read", p)
            for p, infos in lock.get("read", {}).items()
            if any(i != mine for i in infos)
        ]

    # -- DVC's algorithm ------------------------------------------------------------
    def _check_blockers(self, lock: Entries, mode: str, waiters: list[str]) -> None:
        """DVC-compat: `_check_blockers`, its message naming the same waiting path."""
        gone: set[int] = set()
        blockers: list[Info] = []
        to_release: dict[str, list[str]] = {}
        waiter = ""
        for path, infos in list(lock.get(mode, {}).items()):
            for waiter in waiters:
                if _overlaps(waiter, path):
                    break
            else:
                continue
            for blocker in infos if isinstance(infos, list) else [infos]:
                if blocker == self.info:
                    continue
                pid = int(blocker["pid"])
                if pid not in gone:
                    if pid_exists(pid):
                        blockers.append(blocker)
                        continue
                    gone.add(pid)
                    self._warn(
                        f"warning: process `{blocker['cmd']}` (PID {pid}) that locked "
                        f"`{self._shown(path)}` no longer runs; removed its entry from "
                        f"`{self._shown(str(self.path))}`\n"
                    )
                to_release.setdefault(json.dumps(blocker, sort_keys=True), []).append(path)
        for key, paths in to_release.items():
            _release(lock, mode, json.loads(key), paths)
        if blockers:
            raise PathBusyError(self._shown(waiter), blockers, self._shown(str(self.path)))

    def _check_all(self, lock: Entries, read: list[str], write: list[str]) -> None:
        self._check_blockers(lock, "write", read + write)
        self._check_blockers(lock, "read", write)

    # -- the API --------------------------------------------------------------------
    def check(self, read: Iterable[str], write: Iterable[str]) -> None:
        """Raises PathBusyError if another process holds a conflicting lock on these paths.

        DVC-compat: DVC takes the lock on every stage it considers, changed or not.
        """
        read, write = list(read), list(write)
        if self._seen is None:
            with self._guarded():
                self._remember(self._load())
        assert self._seen is not None
        if not any(
            _overlaps(w, p)
            for mode, p in self._seen
            for w in (read + write if mode == "write" else write)
        ):
            return
        with self._edit() as lock:
            self._check_all(lock, read, write)

    def acquire(self, read: Iterable[str], write: Iterable[str]) -> list[tuple[str, str]]:
        """Checks as `check`, then records this process's entries; returns them for `release`."""
        read, write = list(dict.fromkeys(read)), list(dict.fromkeys(write))
        taken = [("read", p) for p in read] + [("write", p) for p in write]
        with self._edit() as lock:
            self._check_all(lock, read, write)
            for mode, path in taken:
                _add(lock, mode, self.info, path)
        self._held.update(taken)
        return taken

    def release(self, taken: list[tuple[str, str]]) -> None:
        """Gives up the entries `acquire` returned (those no other running stage still holds).

        They leave the file with the next edit (the next stage's `acquire`, or
        `close`): one edit per stage instead of two. No other process can look
        at the file before then, as it would need the repository lock.
        """
        self._held.subtract(taken)
        for key in dict.fromkeys(taken):
            if self._held[key] <= 0:
                del self._held[key]
                self._pending.append(key)

    def close(self) -> None:
        """Removes every entry this process still has in the file (at the end of a run,
        also one stopped by an error or Ctrl-C)."""
        self._pending.extend(self._held)
        self._held.clear()
        if self._pending:
            with self._edit():
                pass


def _argv() -> str:
    return " ".join(sys.argv)


def _add(lock: Entries, mode: str, info: Info, path: str) -> None:
    if mode == "write":
        lock.setdefault("write", {})[path] = info
        return
    readers = lock.setdefault("read", {}).setdefault(path, [])
    if info not in readers:
        readers.append(info)


def _release(lock: Entries, mode: str, info: Info, paths: list[str]) -> None:
    """DVC-compat: `_release_read`/`_release_write`; an emptied key is removed.

    An entry already gone (the file was removed meanwhile) is passed over.
    """
    for path in paths:
        entries = lock.get(mode)
        if entries is None:
            return
        if mode == "write":
            if entries.get(path) == info:
                del entries[path]
        else:
            readers = entries.get(path)
            if readers is not None and info in readers:
                readers.remove(info)
                if not readers:
                    del entries[path]
        if not entries:
            del lock[mode]


def refuse_busy(
    tmp_dir: Path,
    *,
    read: Iterable[str] = (),
    write: Iterable[str] = (),
    warn: Callable[[str], None] = lambda _: None,
    shown: Callable[[str], str] = str,
) -> None:
    """Raises `PathBusyError` when another process's entries conflict with reading
    `read` or writing `write` (absolute paths), as a command that edits no entries
    of its own checks (DVC-compat: `status` reads, `commit` and `remove` write, and
    each reports the refusal with exit 1)."""
    read, write = list(read), list(write)
    if not (read or write) or not (tmp_dir / RWLOCK_FILE).exists():
        return
    try:
        RWLock(tmp_dir, warn=warn, shown=shown).check(read, write)
    except RWLockError as exc:
        exc.exit_code = 1
        raise


def stage_paths(root: Path, stage: Stage) -> tuple[list[str], list[str]]:
    """DVC-compat: the absolute paths DVC locks for a stage: its deps (params files
    included) and its outs; remote URLs are not locked."""
    deps = [stage.repo_path(d) for d in stage.deps] + stage.params_files
    outs = [stage.repo_path(o.path) for o in stage.outs]

    def absolute(paths: list[str]) -> list[str]:
        return list(
            dict.fromkeys(os.path.normpath(os.path.join(root, p)) for p in paths if "://" not in p)
        )

    return absolute(deps), absolute(outs)
