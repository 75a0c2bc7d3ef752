"""Deterministic benchmark datasets, generated on demand under ``benches/data/``.

Each dataset lives in ``<base>/<name>-x<scale>/``: the files in ``data/`` and a
``complete.json`` marker beside it, written last, so an interrupted generation
is redone and a finished one is reused. Content comes from one pseudo-random
pool (fixed seed) sliced at random offsets, with a per-file header so that no
two files are equal; this writes several GB/s instead of the ~200 MB/s that
drawing every byte from the PRNG would give.

Datasets (at ``scale=1``):

* ``many-small``: 50,000 files of 1-8 KiB in 500 directories (~220 MiB);
* ``few-large``: 4 files of 1 GiB;
* ``mixed``: 5,000 files, sizes log-uniform between 1 KiB and 20 MiB (~10 GB).

``scale`` shrinks the file counts (many-small, mixed) or the file size
(few-large) proportionally, for quick runs.

Run as a script to generate datasets ahead of a benchmark::

    python benches/datasets.py --scale 0.1 many-small mixed
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCHES = Path(__file__).resolve().parent
DATA_DIR = BENCHES / "data"

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

SEED = 20240611
# Bump when the generators change, so that old data is regenerated.
GENERATOR_VERSION = 1

# The pool every file's content is sliced from; larger than any chunk so that
# offsets vary, small enough to be drawn in a fraction of a second.
_POOL_SIZE = 16 * MiB
_CHUNK = 1 * MiB
_HEADER = struct.Struct("<QQ")  # file id, chunk index


@dataclass(frozen=True)
class Dataset:
    """A generated dataset: where its files are and what they add up to."""

    name: str
    scale: float
    root: Path
    nfiles: int
    nbytes: int

    @property
    def data(self) -> Path:
        """The directory holding the files (what gets hashed)."""
        return self.root / "data"


class _Writer:
    """Writes files whose content is pool slices behind a unique header."""

    def __init__(self, seed: int) -> None:
        self._pool = memoryview(random.Random(seed).randbytes(_POOL_SIZE + _CHUNK))
        # Offsets come from their own stream so sizes stay independent of them.
        self._offsets = random.Random(seed + 1)
        self._next_id = 0

    def write(self, path: Path, size: int) -> None:
        """Writes `size` bytes to `path`, distinct from every other file written."""
        file_id = self._next_id
        self._next_id += 1
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            written = 0
            chunk_index = 0
            while written < size:
                header = _HEADER.pack(file_id, chunk_index)
                n = min(_CHUNK, size - written)
                off = self._offsets.randrange(_POOL_SIZE)
                parts: list[bytes | memoryview]
                if n <= len(header):
                    parts = [header[:n]]
                else:
                    parts = [header, self._pool[off : off + n - len(header)]]
                # writev avoids joining the header and the slice into a new buffer.
                done = os.writev(fd, parts)
                if done != n:  # a short write on a regular file: finish it plainly
                    os.write(fd, b"".join(bytes(p) for p in parts)[done:])
                written += n
                chunk_index += 1
        finally:
            os.close(fd)


def _leaf_dir(data: Path, index: int, fanout: int = 25) -> Path:
    """Two-level directory names, `fanout` leaves per top directory."""
    return data / f"d{index // fanout:03d}" / f"e{index % fanout:02d}"


def write_many_small(data: Path, scale: float, seed: int = SEED) -> None:
    """50,000 x scale files of 1-8 KiB spread over 500 x scale directories."""
    nfiles = max(1, round(50_000 * scale))
    ndirs = max(1, round(500 * scale))
    sizes = random.Random(seed).choices(range(1 * KiB, 8 * KiB + 1), k=nfiles)
    dirs = [_leaf_dir(data, d) for d in range(ndirs)]
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True)
    writer = _Writer(seed)
    for i, size in enumerate(sizes):
        writer.write(dirs[i % ndirs] / f"f{i:06d}.bin", size)


def write_few_large(data: Path, scale: float, seed: int = SEED) -> None:
    """4 files of 1 GiB x scale (the count stays 4 so that two cores both have work)."""
    size = max(1 * MiB, round(1 * GiB * scale))
    data.mkdir(parents=True, exist_ok=True)
    writer = _Writer(seed)
    for i in range(4):
        writer.write(data / f"large{i}.bin", size)


def mixed_sizes(nfiles: int, seed: int = SEED) -> list[int]:
    """Sizes log-uniform between 1 KiB and 20 MiB."""
    rng = random.Random(seed)
    lo, hi = math.log(1 * KiB), math.log(20 * MiB)
    return [round(math.exp(rng.uniform(lo, hi))) for _ in range(nfiles)]


def write_mixed(data: Path, scale: float, seed: int = SEED) -> None:
    """5,000 x scale files, log-uniform 1 KiB-20 MiB, over 50 x scale directories."""
    nfiles = max(1, round(5_000 * scale))
    ndirs = max(1, round(50 * scale))
    sizes = mixed_sizes(nfiles, seed)
    dirs = [data / f"g{d:03d}" for d in range(ndirs)]
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True)
    writer = _Writer(seed)
    for i, size in enumerate(sizes):
        writer.write(dirs[i % ndirs] / f"m{i:05d}.bin", size)


WRITERS: dict[str, Callable[[Path, float, int], None]] = {
    "many-small": write_many_small,
    "few-large": write_few_large,
    "mixed": write_mixed,
}


def write_file(path: Path, size: int, seed: int = SEED) -> None:
    """One file of `size` pseudo-random bytes (for ad-hoc datasets such as the demo's)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _Writer(seed).write(path, size)


def _count(data: Path) -> tuple[int, int]:
    nfiles = nbytes = 0
    for dirpath, _dirnames, filenames in os.walk(data):
        for name in filenames:
            nfiles += 1
            nbytes += os.lstat(os.path.join(dirpath, name)).st_size
    return nfiles, nbytes


def materialize(
    root: Path,
    params: dict[str, Any],
    build: Callable[[Path], None],
    log: Callable[[str], None] | None = None,
) -> tuple[int, int, bool]:
    """Makes `root/data` with `build` unless `root/complete.json` records the same `params`.

    Returns the file count, the byte count and whether anything was generated.
    """
    marker = root / "complete.json"
    data = root / "data"
    params = {**params, "generator_version": GENERATOR_VERSION}
    if marker.is_file() and data.is_dir():
        try:
            recorded = json.loads(marker.read_text())
        except ValueError:
            recorded = {}
        if recorded.get("params") == params:
            return int(recorded["nfiles"]), int(recorded["nbytes"]), False
    # Anything else (absent, partial, other parameters) is rebuilt from scratch.
    marker.unlink(missing_ok=True)
    if data.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True)
    started = time.perf_counter()
    build(data)
    nfiles, nbytes = _count(data)
    elapsed = time.perf_counter() - started
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(
        json.dumps({"params": params, "nfiles": nfiles, "nbytes": nbytes}, indent=2) + "\n"
    )
    tmp.replace(marker)
    if log is not None:
        log(f"generated {root.name}: {nfiles:,} files, {nbytes / MiB:,.1f} MiB in {elapsed:.1f} s")
    return nfiles, nbytes, True


def ensure(
    name: str,
    scale: float = 1.0,
    base: Path = DATA_DIR,
    seed: int = SEED,
    log: Callable[[str], None] | None = None,
) -> Dataset:
    """Returns the dataset `name` at `scale`, generating it first if needed."""
    if name not in WRITERS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(WRITERS)}")
    if not scale > 0:
        raise ValueError(f"scale must be positive, not {scale}")
    writer = WRITERS[name]
    root = base / f"{name}-x{scale:g}"
    nfiles, nbytes, _ = materialize(
        root,
        {"name": name, "scale": scale, "seed": seed},
        lambda data: writer(data, scale, seed),
        log,
    )
    return Dataset(name=name, scale=scale, root=root, nfiles=nfiles, nbytes=nbytes)


def main(argv: list[str] | None = None) -> int:
    """Generates the named datasets (all by default) and prints where they are."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of: {', '.join(WRITERS)}")
    parser.add_argument("--scale", type=float, default=1.0, help="size factor (default 1)")
    parser.add_argument("--base", type=Path, default=DATA_DIR, help="where datasets live")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in WRITERS]
    if unknown:
        parser.error(f"unknown dataset(s): {', '.join(unknown)}")
    for name in args.names or list(WRITERS):
        ds = ensure(name, args.scale, args.base, log=lambda msg: print(msg, file=sys.stderr))
        print(f"{ds.data}  {ds.nfiles:,} files  {ds.nbytes / MiB:,.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
