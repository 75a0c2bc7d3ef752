"""How fast this filesystem creates small files, three ways the core could create them.

* ``direct``: `open(O_CREAT|O_EXCL)` at the final name, write (not atomic: a
  crash can leave a partial file under the final name);
* ``unnamed``: `open(O_TMPFILE)` in the directory, write, `linkat` of the
  `/proc/self/fd` entry to the final name (atomic; what the core does);
* ``rename``: create under a temp name, write, `rename` (atomic; the fallback);
* ``emptypath``: as ``unnamed``, linked by descriptor (`AT_EMPTY_PATH`), which
  needs `CAP_DAC_READ_SEARCH`;
* ``staged``: as ``direct``, in private directories of 200 files (the size of a
  cache object directory of a 50,000-file dataset) renamed into place when
  full (atomic per directory; what the core does where a directory is new).

Each way writes N files into a new directory, in turns, and reports the median
wall time and the median kernel CPU time (`os.times().system`), which is less
disturbed by other processes. Nothing is deleted: on ext4 without a journal,
deletions slow the next minute of file creation.

Usage::

    .venv/bin/python benches/file_creation.py --files 20000 --repeat 3 --dir /some/scratch
"""

from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

_libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
AT_SYMLINK_FOLLOW = 0x400
AT_EMPTY_PATH = 0x1000
DATA = b"a small file of a dataset\n"


def _direct(directory: str, n: int) -> None:
    for i in range(n):
        fd = os.open(f"{directory}/f{i}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, DATA)
        os.close(fd)


def _unnamed(directory: str, n: int) -> None:
    for i in range(n):
        fd = os.open(directory, os.O_WRONLY | os.O_TMPFILE, 0o644)
        os.write(fd, DATA)
        src, dst = f"/proc/self/fd/{fd}".encode(), f"{directory}/f{i}".encode()
        if _libc.linkat(AT_FDCWD, src, AT_FDCWD, dst, AT_SYMLINK_FOLLOW) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), dst.decode())
        os.close(fd)


def _empty_path(directory: str, n: int) -> None:
    for i in range(n):
        fd = os.open(directory, os.O_WRONLY | os.O_TMPFILE, 0o644)
        os.write(fd, DATA)
        dst = f"{directory}/f{i}".encode()
        if _libc.linkat(fd, b"", AT_FDCWD, dst, AT_EMPTY_PATH) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), dst.decode())
        os.close(fd)


def _staged(directory: str, n: int) -> None:
    per_dir = 200
    stage = f"{directory}.stage"
    os.mkdir(stage)
    for start in range(0, n, per_dir):
        sub = f"{stage}/d{start}"
        os.mkdir(sub)
        for i in range(start, min(n, start + per_dir)):
            fd = os.open(f"{sub}/f{i}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, DATA)
            os.close(fd)
    for start in range(0, n, per_dir):
        os.rename(f"{stage}/d{start}", f"{directory}/d{start}")


def _rename(directory: str, n: int) -> None:
    for i in range(n):
        tmp = f"{directory}/.f{i}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, DATA)
        os.close(fd)
        os.rename(tmp, f"{directory}/f{i}")


WAYS: dict[str, Callable[[str, int], None]] = {
    "direct": _direct,
    "unnamed": _unnamed,
    "rename": _rename,
    "emptypath": _empty_path,
    "staged": _staged,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20000, help="files per run (default 20000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per way (default 3)")
    parser.add_argument("--dir", type=Path, default=None, help="scratch directory (kept)")
    args = parser.parse_args(argv)
    scratch = args.dir or Path(tempfile.mkdtemp(prefix="mlvc-file-creation-"))
    scratch.mkdir(parents=True, exist_ok=True)
    wall: dict[str, list[float]] = {w: [] for w in WAYS}
    kernel: dict[str, list[float]] = {w: [] for w in WAYS}
    for r in range(args.repeat):
        for name, way in WAYS.items():
            directory = scratch / f"{name}-{r}-{time.time_ns()}"
            directory.mkdir()
            os.sync()
            started, cpu = time.perf_counter(), os.times()
            way(str(directory), args.files)
            wall[name].append(time.perf_counter() - started)
            kernel[name].append(os.times().system - cpu.system)
    print(f"{args.files} files per run, median of {args.repeat}, in {scratch}")
    for name in WAYS:
        print(
            f"  {name:8} wall {statistics.median(wall[name]):.3f} s"
            f" ({min(wall[name]):.3f}-{max(wall[name]):.3f})"
            f"  kernel {statistics.median(kernel[name]):.3f} s"
            f" ({min(kernel[name]):.3f}-{max(kernel[name]):.3f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
