"""Demo: hash a generated dataset with mlvc and with md5sum, check they agree, compare speed.

The dataset (under ``benches/data/demo/``) is the many-small generator at scale
0.2 (10,000 files of 1-8 KiB) plus one 256 MiB file; it is generated once and
reused. The demo then

1. hashes it with ``mlvc hash -r --json`` and with ``find | xargs md5sum``,
2. checks that every file's hash agrees (exit status 1 and a list if not),
3. shows the directory's DVC hash, checked against one built from md5sum's output,
4. prints each tool's throughput and their ratio, then the time of a rerun
   answered from mlvc's state cache.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datasets  # a sibling module: run as a script, or through the line above

DEMO_ROOT = datasets.DATA_DIR / "demo"
NCPU = len(os.sched_getaffinity(0))


class DemoError(Exception):
    """Something the person running the demo must hear about; ends it with status 1."""


@dataclass
class Timing:
    """One timed run over the dataset."""

    label: str
    files: int
    nbytes: int
    seconds: float

    def cells(self) -> list[str]:
        """label, files, MiB, seconds, MB/s."""
        rate = self.nbytes / self.seconds / 1e6 if self.seconds > 0 else float("inf")
        return [
            self.label,
            f"{self.files:,}",
            f"{self.nbytes / 2**20:,.1f}",
            f"{self.seconds:.3f}",
            f"{rate:,.0f}",
        ]


def print_table(rows: list[list[str]]) -> None:
    """First column left-aligned, the others right-aligned, two spaces apart."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        print(("  " + "  ".join(cells)).rstrip())


def run(argv: list[str], *, capture: bool = True) -> subprocess.CompletedProcess[bytes]:
    """Runs a command; a failure becomes a DemoError carrying its stderr."""
    proc = subprocess.run(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()
        raise DemoError(f"`{shlex.join(argv)}` failed with status {proc.returncode}:\n{err}")
    return proc


def mlvc_exe() -> str:
    """The `mlvc` script beside this Python, else the one on PATH."""
    beside = Path(sys.executable).parent / "mlvc"
    found = str(beside) if beside.exists() else shutil.which("mlvc")
    if found is None:
        raise DemoError("no `mlvc` executable found; run `make dev` first")
    return found


def generate(small_scale: float, large_mib: int) -> tuple[Path, int, int, bool]:
    """The demo dataset: `small/` (many-small generator) and `large/model.bin`."""

    def build(data: Path) -> None:
        datasets.write_many_small(data / "small", small_scale)
        datasets.write_file(data / "large" / "model.bin", large_mib * datasets.MiB)

    params = {"demo": True, "small_scale": small_scale, "large_mib": large_mib}
    nfiles, nbytes, made = datasets.materialize(DEMO_ROOT, params, build)
    return DEMO_ROOT / "data", nfiles, nbytes, made


def md5sum_hashes(data: Path, nfiles: int) -> tuple[dict[str, str], float]:
    """Per-file md5 by `find | xargs -P md5sum`, keyed by path relative to `data`."""
    batch = max(1, -(-nfiles // (NCPU * 16)))  # enough batches to keep every core busy
    script = (
        f"set -o pipefail; find {shlex.quote(str(data))} -type f -print0 "
        f"| xargs -0 -P{NCPU} -n{batch} md5sum"
    )
    started = time.perf_counter()
    proc = run(["bash", "-c", script])
    elapsed = time.perf_counter() - started
    hashes: dict[str, str] = {}
    for line in proc.stdout.decode().splitlines():
        digest, _, name = line.partition("  ")
        hashes[os.path.relpath(name, data)] = digest
    return hashes, elapsed


def mlvc_hashes(exe: str, data: Path) -> tuple[dict[str, str], str, float]:
    """Per-file md5 and the directory hash by `mlvc hash -r --json`."""
    started = time.perf_counter()
    proc = run([exe, "hash", "-r", "--json", "-q", str(data)])
    elapsed = time.perf_counter() - started
    hashes: dict[str, str] = {}
    dir_hash = ""
    for record in json.loads(proc.stdout):
        if record["nfiles"] is None:
            hashes[os.path.relpath(record["path"], data)] = record["hash"]
        else:
            dir_hash = record["hash"]
    return hashes, dir_hash, elapsed


def dvc_dir_hash(hashes: dict[str, str]) -> str:
    """DVC's directory hash: md5 of the sorted JSON list of `{md5, relpath}`."""
    entries = [{"md5": h, "relpath": p.replace(os.sep, "/")} for p, h in hashes.items()]
    entries.sort(key=lambda e: e["relpath"])
    return hashlib.md5(json.dumps(entries, sort_keys=True).encode()).hexdigest() + ".dir"


def compare(ref: dict[str, str], mine: dict[str, str]) -> list[str]:
    """Human-readable differences between two {path: hash} maps (empty when equal)."""
    problems = [f"only md5sum saw   {p}" for p in sorted(ref.keys() - mine.keys())]
    problems += [f"only mlvc saw     {p}" for p in sorted(mine.keys() - ref.keys())]
    problems += [
        f"hashes differ     {p}: md5sum {ref[p]}, mlvc {mine[p]}"
        for p in sorted(ref.keys() & mine.keys())
        if ref[p] != mine[p]
    ]
    return problems


def main(argv: list[str] | None = None) -> int:
    """Runs the demo; returns 1 when mlvc and md5sum disagree or a command fails."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small-scale", type=float, default=0.2, help="many-small scale")
    parser.add_argument("--large-mib", type=int, default=256, help="size of the large file")
    args = parser.parse_args(argv)
    try:
        return demo(args.small_scale, args.large_mib)
    except DemoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def demo(small_scale: float, large_mib: int) -> int:
    """The demo proper (see the module docstring)."""
    exe = mlvc_exe()
    started = time.perf_counter()
    data, nfiles, nbytes, made = generate(small_scale, large_mib)
    os.sync()  # fresh data's writeback must not run during the timings
    how = f"generated in {time.perf_counter() - started:.1f} s" if made else "already generated"
    shown = os.path.relpath(data)
    if shown.startswith(".."):
        shown = str(data)
    print(f"dataset    {shown}: {nfiles:,} files, {nbytes / 2**20:,.1f} MiB ({how})")

    # The dataset's parent becomes a repository so that mlvc keeps a state cache;
    # a fresh one each time, so the first run really reads every file.
    shutil.rmtree(DEMO_ROOT / ".dvc", ignore_errors=True)
    (DEMO_ROOT / ".dvc" / "tmp").mkdir(parents=True)

    # One untimed read first: both tools then find the files in the page cache.
    md5sum_hashes(data, nfiles)
    ref, ref_seconds = md5sum_hashes(data, nfiles)
    mine, dir_hash, mlvc_seconds = mlvc_hashes(exe, data)

    problems = compare(ref, mine)
    if problems:
        print(f"\nerror: mlvc and md5sum disagree on {len(problems)} file(s):", file=sys.stderr)
        for p in problems[:20]:
            print(f"  {p}", file=sys.stderr)
        if len(problems) > 20:
            print(f"  ... and {len(problems) - 20} more", file=sys.stderr)
        return 1
    expected_dir = dvc_dir_hash(ref)
    if dir_hash != expected_dir:
        print(
            f"\nerror: mlvc's directory hash is {dir_hash}, but md5sum's hashes give "
            f"{expected_dir}",
            file=sys.stderr,
        )
        return 1
    print(f"agreement  all {len(ref):,} per-file md5 hashes equal md5sum's")
    print(f"DVC hash   {dir_hash}  (equal to the one built from md5sum's output)")

    # The rerun: nothing changed, so every hash should come from the state cache.
    rerun_started = time.perf_counter()
    rerun = run([exe, "hash", str(data)])
    rerun_seconds = time.perf_counter() - rerun_started
    hits = re.search(r"(\d+) from the state cache", rerun.stderr.decode())
    if rerun.stdout.decode().split()[0] != dir_hash:
        print("\nerror: the state-cache rerun gave another directory hash", file=sys.stderr)
        return 1

    ratio = mlvc_seconds / ref_seconds
    rows = [
        ["", "files", "MiB", "seconds", "MB/s"],
        Timing(f"md5sum (find | xargs -P{NCPU})", len(ref), nbytes, ref_seconds).cells(),
        Timing("mlvc hash -r --json", len(mine), nbytes, mlvc_seconds).cells(),
        ["mlvc / md5sum", "", "", f"{ratio:.2f}x", ""],
    ]
    print("\nhashing, warm page cache, whole commands timed")
    print_table(rows)
    if hits is not None:
        from_state = int(hits.group(1))
    else:
        # The summary names the state cache only when it answered for some file.
        from_state = 0 if "hashed" in rerun.stderr.decode() else -1
    cached = "?" if from_state < 0 else f"{from_state:,} of {nfiles:,}"
    print(f"\nrerun, nothing changed: {rerun_seconds:.3f} s ({cached} files from the state cache)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
