"""Small filesystem helpers: atomic writes and relative paths."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def atomic_write_bytes(path: Path, data: bytes, mode: int | None = None) -> None:
    """Writes `data` to a temp file beside `path` and renames it into place.

    A reader (or a crash) sees the old content or the new, never a mix.
    """
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".mlvc-tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        if mode is None:
            try:
                mode = path.stat().st_mode & 0o7777
            except FileNotFoundError:
                mode = 0o666 & ~current_umask()
        os.chmod(tmp, mode)
        try:
            os.replace(tmp, path)
        except OSError as exc:
            # Name the file the user knows, not the temp name beside it.
            raise type(exc)(exc.errno, exc.strerror, str(path)) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Text version of :func:`atomic_write_bytes` (UTF-8, no newline translation)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def relpath(path: Path | str, start: Path | str) -> str:
    """A `/`-separated path of `path` relative to `start` (may climb with `..`)."""
    return Path(os.path.relpath(path, start)).as_posix()


def current_umask() -> int:
    """The process umask, read without changing it where /proc allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
