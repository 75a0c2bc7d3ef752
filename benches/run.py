"""Benchmarks mlvc against md5sum, cp and (optionally) DVC on generated datasets.

Every scenario reads a warm page cache (one untimed run first), times whole
commands with ``time.perf_counter`` around ``subprocess.run`` (or around the
call, for in-process rows), alternates mlvc and its reference run by run, and
reports the median of ``--repeat`` runs and the ratio mlvc / reference, both
measured in this invocation. Every individual run goes to the JSON file.

Usage::

    .venv/bin/python benches/run.py                       # full size, 5 repeats
    .venv/bin/python benches/run.py --scale 0.05 --repeat 3
    .venv/bin/python benches/run.py --only hash-large,checkout-small
    .venv/bin/python benches/run.py --with-dvc            # adds `dvc add`
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import mlvc

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datasets  # a sibling module: run as a script, or through the line above

BENCHES = Path(__file__).resolve().parent
PROJECT = BENCHES.parent
NCPU = len(os.sched_getaffinity(0))
SCENARIOS = (
    "hash-small",
    "state-small",
    "hash-large",
    "hash-mixed",
    "checkout-small",
    "dvc-add-small",
)
DVC_CANDIDATES = (PROJECT / ".venv-dvc" / "bin" / "dvc",)
DVC_INSTALL_HINT = "python3 -m venv .venv-dvc && .venv-dvc/bin/pip install dvc==3.67.1"


class BenchError(RuntimeError):
    """A command failed or a result was wrong; the scenario cannot be trusted."""


@dataclass
class Series:
    """The timed runs of one side of a comparison."""

    label: str
    command: str
    runs: list[float] = field(default_factory=list)

    @property
    def median(self) -> float | None:
        """The median of the runs, or None when nothing ran."""
        return statistics.median(self.runs) if self.runs else None


@dataclass
class Target:
    """What a row must achieve: a ratio ceiling or a time ceiling, in seconds."""

    kind: str  # "ratio<=" or "seconds<"
    value: float
    text: str

    def check(self, subject: float | None, ratio: float | None) -> bool | None:
        """Whether the measured numbers meet the target (None when not measured)."""
        if self.kind == "ratio<=":
            return None if ratio is None else ratio <= self.value
        return None if subject is None else subject < self.value


@dataclass
class Row:
    """One line of the results table."""

    scenario: str
    title: str
    subject: Series
    reference: Series | None = None
    target: Target | None = None
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None

    @property
    def ratio(self) -> float | None:
        """subject median / reference median."""
        if self.reference is None:
            return None
        s, r = self.subject.median, self.reference.median
        return None if s is None or r is None or r == 0 else s / r

    @property
    def passed(self) -> bool | None:
        """Whether the target is met; None without a target or numbers."""
        if self.target is None or self.skipped:
            return None
        return self.target.check(self.subject.median, self.ratio)

    def to_json(self) -> dict[str, Any]:
        """Every number of the row, individual runs included."""
        return {
            "scenario": self.scenario,
            "title": self.title,
            "skipped": self.skipped,
            "subject": {**asdict(self.subject), "median": self.subject.median},
            "reference": None
            if self.reference is None
            else {**asdict(self.reference), "median": self.reference.median},
            "ratio": self.ratio,
            "target": None if self.target is None else asdict(self.target),
            "passed": self.passed,
            "notes": self.notes,
        }


# --- running and timing -------------------------------------------------------------------------


def log(msg: str) -> None:
    """Progress goes to stderr so that stdout holds only the results."""
    print(msg, file=sys.stderr, flush=True)


def run(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    capture: bool = False,
) -> subprocess.CompletedProcess[bytes]:
    """Runs a command, raising BenchError with its stderr when it fails."""
    proc = subprocess.run(
        list(argv),
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-5:]
        raise BenchError(
            f"`{shlex.join(argv)}` exited {proc.returncode}" + "".join(f"\n  {t}" for t in tail)
        )
    return proc


def timed(
    argv: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> float:
    """Wall time of one whole command, output discarded."""
    started = time.perf_counter()
    run(argv, cwd=cwd, env=env)
    return time.perf_counter() - started


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Keeps Python's cycle collector out of in-process timings."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# When the runner (or a tool it ran) last deleted files, as time.monotonic().
_last_delete = float("-inf")
# ext4 without a journal skips inodes freed in the last 60 s (RECENTCY_MIN in
# fs/ext4/ialloc.c; 360 s while their inode table block is dirty, hence the sync
# in settle) when it allocates new ones, scanning past each of them: creating
# 50,000 files right after deleting 50,000 costs several times as much as it
# does a minute later.
EXT4_RECENT_DELETE_SECONDS = 61.0


def note_deletions() -> None:
    """Records that files were just deleted (by us, or by the command just timed)."""
    global _last_delete
    _last_delete = time.monotonic()


def rmtree(path: Path) -> None:
    """Removes a tree if present (never timed)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        # Cache objects are read-only; rm -rf does not care, shutil would.
        run(["rm", "-rf", str(path)])
        note_deletions()


def settle(ctx: Context) -> None:
    """Before a timed run that creates many files: flush, and outwait recent deletions.

    Only on ext4 without a journal (see EXT4_RECENT_DELETE_SECONDS); elsewhere a flush.
    """
    os.sync()  # writeback of earlier runs must not land inside this timing
    if not ctx.fs_no_journal:
        return
    wait = _last_delete + EXT4_RECENT_DELETE_SECONDS - time.monotonic()
    if wait > 0:
        log(f"  waiting {wait:.0f} s: ext4 without a journal is slow to reuse freed inodes")
        time.sleep(wait)


def mlvc_exe() -> str:
    """The `mlvc` script of the interpreter running this file, else the one on PATH."""
    beside = Path(sys.executable).parent / "mlvc"
    if beside.exists():
        return str(beside)
    found = shutil.which("mlvc")
    if found is None:
        raise SystemExit("error: no `mlvc` executable beside this Python or on PATH")
    return found


def md5sum_argv(data: Path, nfiles: int, jobs: int = NCPU) -> list[str]:
    """`find | xargs -P md5sum`, with batches small enough that every core gets work.

    Without `-n`, xargs packs as many names as fit on one command line, so four
    large files would go to a single md5sum and use one core.
    """
    batch = max(1, -(-nfiles // (jobs * 16)))
    script = (
        f"set -o pipefail; find {shlex.quote(str(data))} -type f -print0 "
        f"| xargs -0 -P{jobs} -n{batch} md5sum"
    )
    return ["bash", "-c", script]


def dir_hash_from_md5sum(output: bytes, data: Path) -> str:
    """DVC's `.dir` hash computed from md5sum's lines (an independent check of mlvc)."""
    prefix = str(data).rstrip("/") + "/"
    entries = []
    for line in output.decode().splitlines():
        digest, _, name = line.partition("  ")
        if not name.startswith(prefix):
            raise BenchError(f"unexpected md5sum line: {line!r}")
        entries.append({"md5": digest, "relpath": name[len(prefix) :]})
    entries.sort(key=lambda e: e["relpath"])
    return hashlib.md5(json.dumps(entries, sort_keys=True).encode()).hexdigest() + ".dir"


def mlvc_dir_hash(output: bytes) -> str:
    """The hash in `mlvc hash DIR`'s single output line."""
    return output.decode().split()[0]


def check_dir_hash(exe: str, ds: datasets.Dataset) -> None:
    """Runs both tools once (this is also the page-cache warm-up) and compares the results."""
    ref = run(md5sum_argv(ds.data, ds.nfiles), capture=True)
    mine = run([exe, "hash", "--no-state", "-q", str(ds.data)], capture=True)
    expected = dir_hash_from_md5sum(ref.stdout, ds.data)
    got = mlvc_dir_hash(mine.stdout)
    if got != expected:
        raise BenchError(
            f"MLVC PROBLEM: `mlvc hash {ds.data}` gives {got}, "
            f"but md5sum's per-file hashes give {expected}"
        )


# --- scenarios ----------------------------------------------------------------------------------


@dataclass
class Context:
    """What every scenario needs."""

    scale: float
    repeat: int
    dvc_repeat: int
    data_dir: Path
    mlvc: str
    dvc: str | None
    fs_no_journal: bool


def dataset(ctx: Context, name: str) -> datasets.Dataset:
    """The dataset at the run's scale, generated if needed."""
    ds = datasets.ensure(name, ctx.scale, ctx.data_dir, log=log)
    os.sync()  # freshly generated data must not be written back during a timing
    log(f"  dataset {name}: {ds.nfiles:,} files, {ds.nbytes / datasets.MiB:,.1f} MiB")
    return ds


def describe(ds: datasets.Dataset) -> str:
    """A short size note for the table."""
    return f"{ds.nfiles:,} files, {ds.nbytes / datasets.MiB:,.1f} MiB"


def unrepo(ds: datasets.Dataset) -> None:
    """Makes sure the dataset is not inside a repository of its own (no state cache)."""
    rmtree(ds.root / ".dvc")


def bench_hash_small(ctx: Context) -> list[Row]:
    """many-small, md5, nothing cached: `mlvc hash --no-state` vs md5sum."""
    ds = dataset(ctx, "many-small")
    unrepo(ds)
    check_dir_hash(ctx.mlvc, ds)
    subject = Series("mlvc hash --no-state", f"mlvc hash --no-state -q {ds.data}")
    ref_argv = md5sum_argv(ds.data, ds.nfiles)
    reference = Series(f"md5sum (xargs -P{NCPU})", ref_argv[-1])
    for _ in range(ctx.repeat):
        subject.runs.append(timed([ctx.mlvc, "hash", "--no-state", "-q", str(ds.data)]))
        reference.runs.append(timed(ref_argv))
    target = Target("ratio<=", 1.2, "ratio <= 1.2")
    return [
        Row("hash-small", "many-small md5, first hash", subject, reference, target, [describe(ds)])
    ]


def bench_state_small(ctx: Context) -> list[Row]:
    """many-small with nothing changed: every hash from the state cache."""
    ds = dataset(ctx, "many-small")
    unrepo(ds)
    state_db = ds.root / ".dvc" / "tmp" / "mlvc" / "state.db"
    (ds.root / ".dvc" / "tmp").mkdir(parents=True)
    data = str(ds.data)
    try:
        run([ctx.mlvc, "hash", "-q", data])  # fills the state
        # Entries recorded within ~100 ms of a file's mtime are not trusted; the
        # second run, after the pause, records those again.
        time.sleep(1.5)
        run([ctx.mlvc, "hash", "-q", data])
        full = Series("mlvc hash --no-state", f"mlvc hash --no-state -q {data}")
        cli = Series("mlvc hash (state hit)", f"mlvc hash -q {data}")
        for _ in range(ctx.repeat):
            cli.runs.append(timed([ctx.mlvc, "hash", "-q", data]))
            full.runs.append(timed([ctx.mlvc, "hash", "--no-state", "-q", data]))
        inproc = Series(
            "mlvc.hash_tree(state=...)", "mlvc.hash_tree(data, ignore_root=root, state=State(db))"
        )
        rehashed: list[int] = []
        for _ in range(ctx.repeat):
            with no_gc():
                started = time.perf_counter()
                state = mlvc.State(state_db)
                tree = mlvc.hash_tree(ds.data, ignore_root=ds.root, state=state)
                inproc.runs.append(time.perf_counter() - started)
            rehashed.append(tree.hashed_files)
            del state, tree
        notes = [describe(ds)]
        if any(rehashed):
            notes.append(
                f"MLVC PROBLEM: files reread despite a warm state cache: {rehashed} "
                f"of {ds.nfiles} per run"
            )
    finally:
        unrepo(ds)
    return [
        Row(
            "state-small",
            "many-small, unchanged, state hit (CLI)",
            cli,
            full,
            Target("seconds<", 0.2, "< 0.2 s"),
            notes,
        ),
        Row(
            "state-small",
            "many-small, unchanged, state hit (in-process)",
            inproc,
            full,
            None,
            ["CLI start-up = CLI row minus this row"],
        ),
    ]


def bench_hash_large(ctx: Context) -> list[Row]:
    """few-large: mlvc md5 vs md5sum, and mlvc blake3 vs mlvc md5."""
    ds = dataset(ctx, "few-large")
    unrepo(ds)
    check_dir_hash(ctx.mlvc, ds)
    run([ctx.mlvc, "hash", "--no-state", "-q", "-a", "blake3", str(ds.data)])
    md5 = Series("mlvc hash (md5)", f"mlvc hash --no-state -q {ds.data}")
    b3 = Series("mlvc hash (blake3)", f"mlvc hash --no-state -q --algorithm blake3 {ds.data}")
    ref_argv = md5sum_argv(ds.data, ds.nfiles)
    reference = Series(f"md5sum (xargs -P{NCPU})", ref_argv[-1])
    for _ in range(ctx.repeat):
        md5.runs.append(timed([ctx.mlvc, "hash", "--no-state", "-q", str(ds.data)]))
        reference.runs.append(timed(ref_argv))
        b3.runs.append(
            timed([ctx.mlvc, "hash", "--no-state", "-q", "--algorithm", "blake3", str(ds.data)])
        )
    notes = [describe(ds)]
    return [
        Row(
            "hash-large",
            "few-large md5",
            md5,
            reference,
            Target("ratio<=", 1.1, "ratio <= 1.1"),
            notes,
        ),
        Row(
            "hash-large",
            "few-large blake3 vs mlvc md5",
            b3,
            md5,
            Target("ratio<=", 1 / 3, "ratio <= 0.33 (3x)"),
            notes,
        ),
    ]


def bench_hash_mixed(ctx: Context) -> list[Row]:
    """mixed sizes, md5: mlvc vs md5sum."""
    ds = dataset(ctx, "mixed")
    unrepo(ds)
    check_dir_hash(ctx.mlvc, ds)
    subject = Series("mlvc hash --no-state", f"mlvc hash --no-state -q {ds.data}")
    ref_argv = md5sum_argv(ds.data, ds.nfiles)
    reference = Series(f"md5sum (xargs -P{NCPU})", ref_argv[-1])
    for _ in range(ctx.repeat):
        subject.runs.append(timed([ctx.mlvc, "hash", "--no-state", "-q", str(ds.data)]))
        reference.runs.append(timed(ref_argv))
    return [Row("hash-mixed", "mixed md5, first hash", subject, reference, None, [describe(ds)])]


def bench_checkout_small(ctx: Context) -> list[Row]:
    """Checkout of many-small from the cache with each link type, vs `cp -r`."""
    ds = dataset(ctx, "many-small")
    unrepo(ds)
    work = ctx.data_dir / f"checkout-x{ctx.scale:g}"
    rmtree(work)
    cache_dir = work / "cache"
    work.mkdir(parents=True)
    cache = mlvc.Cache(cache_dir)
    settle(ctx)
    started = time.perf_counter()
    tree = cache.add_tree(ds.data)
    add_seconds = time.perf_counter() - started
    note_deletions()  # the cache writes through temporary files
    supported = list(mlvc.supported_link_types(cache_dir, work))
    log(f"  cache filled in {add_seconds:.2f} s; link types here: {', '.join(supported)}")

    types = ["hardlink", "reflink", "copy"]
    series = {
        t: Series(f"checkout_tree({t})", f"cache.checkout_tree(h, dest, link_types={t!r})")
        for t in types
        if t in supported
    }
    cp = Series("cp -r", f"cp -r {ds.data} DEST")
    problems: list[str] = []
    # Every run gets a new destination and all are deleted at the end: deleting
    # between runs would time the filesystem's handling of freed inodes too.
    dests: dict[str, Path] = {}

    def checkout(link: str, n: int) -> float:
        dest = dests[link] = work / f"{link}-{n}"
        with no_gc():
            started = time.perf_counter()
            res = cache.checkout_tree(tree.hash, dest, link_types=link)
            elapsed = time.perf_counter() - started
        if res.link_type != link or len(res.linked) != ds.nfiles or res.conflicts or res.missing:
            problems.append(
                f"MLVC PROBLEM: checkout_tree({link}) gave link_type={res.link_type}, "
                f"{len(res.linked)} linked of {ds.nfiles}, {len(res.conflicts)} conflicts, "
                f"{len(res.missing)} missing"
            )
        return elapsed

    settle(ctx)
    for link in series:  # warm-up
        checkout(link, 0)
    run(["cp", "-r", str(ds.data), str(work / "cp-0")])
    for n in range(1, ctx.repeat + 1):
        for link, s in series.items():
            settle(ctx)
            s.runs.append(checkout(link, n))
        settle(ctx)
        cp.runs.append(timed(["cp", "-r", str(ds.data), str(work / f"cp-{n}")]))

    # The checked-out trees must be the tree that was added.
    if "copy" in dests:
        got = mlvc.hash_tree(dests["copy"]).hash
        if got != tree.hash:
            problems.append(f"MLVC PROBLEM: copy checkout hashes to {got}, not {tree.hash}")
    if "hardlink" in dests:
        first = tree.files[0]
        if not os.path.samefile(dests["hardlink"] / first.relpath, cache.object_path(first.hash)):
            problems.append("MLVC PROBLEM: hardlink checkout did not link to the cache object")
    log("  removing the checkouts (not timed)")
    rmtree(work)

    notes = [describe(ds), "a new destination per run; rm -rf afterwards, not timed"]
    rows: list[Row] = []
    for link in types:
        title = f"many-small checkout, {link}"
        if link not in series:
            reason = f"{link} not supported on this filesystem"
            rows.append(Row("checkout-small", title, Series(link, ""), skipped=reason))
            continue
        target = (
            Target("ratio<=", 2.0, "ratio <= 2")
            if link == "copy"
            else Target("seconds<", 1.0, "< 1 s")
        )
        rows.append(Row("checkout-small", title, series[link], cp, target, notes + problems))
    rows.append(
        Row(
            "checkout-small",
            "many-small Cache.add_tree, empty cache (1 run)",
            Series("Cache.add_tree", "cache.add_tree(data)", [add_seconds]),
            None,
            None,
            ["untimed set-up of the checkouts, shown for information"],
        )
    )
    return rows


def find_dvc(explicit: str | None) -> str | None:
    """The dvc executable: --dvc, then the project's .venv-dvc, then PATH."""
    if explicit:
        return explicit if Path(explicit).exists() or shutil.which(explicit) else None
    for candidate in DVC_CANDIDATES:
        if candidate.exists():
            return str(candidate)
    return shutil.which("dvc")


def bench_dvc_add_small(ctx: Context) -> list[Row]:
    """`dvc add` of many-small in a fresh git + dvc repository, vs md5sum, beside mlvc."""
    title = "many-small dvc add (fresh repo)"
    if ctx.dvc is None:
        where = ", ".join(str(c) for c in DVC_CANDIDATES)
        msg = f"no dvc executable ({where} or PATH); install: {DVC_INSTALL_HINT}"
        log(f"  SKIPPED: {msg}")
        return [Row("dvc-add-small", title, Series("dvc add", ""), skipped=msg)]
    dvc = ctx.dvc
    ds = dataset(ctx, "many-small")
    unrepo(ds)
    version = run([dvc, "--version"], capture=True).stdout.decode().strip()
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "DVC_NO_UPDATER": "1"}
    work = ctx.data_dir / f"dvc-add-x{ctx.scale:g}"
    rmtree(work)
    ref_argv = md5sum_argv(ds.data, ds.nfiles)
    run(ref_argv)  # warm-up
    subject = Series(f"dvc add ({version})", "dvc add -q data")
    reference = Series(f"md5sum (xargs -P{NCPU})", ref_argv[-1])
    mine = Series("Cache.add_tree", "mlvc.Cache('.dvc/cache').add_tree('data')")

    def fresh_repo(name: str) -> Path:
        repo = work / name
        repo.mkdir(parents=True)
        run(["git", "init", "-q"], cwd=repo)
        run([dvc, "init", "-q"], cwd=repo, env=env)
        run(["cp", "-r", str(ds.data), str(repo / "data")])
        settle(ctx)
        return repo

    for n in range(ctx.dvc_repeat):
        repo = fresh_repo(f"dvc-{n}")
        subject.runs.append(timed([dvc, "add", "-q", "data"], cwd=repo, env=env))
        note_deletions()  # dvc moves files into its cache and may delete on the way
        if not (repo / "data.dvc").is_file():
            raise BenchError("dvc add left no data.dvc")
        repo = fresh_repo(f"mlvc-{n}")
        with no_gc():
            started = time.perf_counter()
            mlvc.Cache(repo / ".dvc" / "cache").add_tree(repo / "data", ignore_root=repo)
            mine.runs.append(time.perf_counter() - started)
        note_deletions()
    for _ in range(ctx.repeat):
        reference.runs.append(timed(ref_argv))
    log("  removing the repositories (not timed)")
    rmtree(work)
    notes = [
        describe(ds),
        f"{ctx.dvc_repeat} run(s) each; repository creation and copy-in not timed",
    ]
    return [
        Row("dvc-add-small", title, subject, reference, None, notes),
        Row(
            "dvc-add-small",
            "many-small mlvc Cache.add_tree, same set-up (in-process)",
            mine,
            reference,
            None,
            ["hash + copy into .dvc/cache, like dvc add; no CLI start-up"],
        ),
    ]


BENCHES_BY_NAME: dict[str, Callable[[Context], list[Row]]] = {
    "hash-small": bench_hash_small,
    "state-small": bench_state_small,
    "hash-large": bench_hash_large,
    "hash-mixed": bench_hash_mixed,
    "checkout-small": bench_checkout_small,
    "dvc-add-small": bench_dvc_add_small,
}


# --- machine facts and reporting ----------------------------------------------------------------


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _output(argv: Sequence[str]) -> str:
    """A command's stdout, or "" when it cannot run or fails."""
    try:
        proc = subprocess.run(list(argv), capture_output=True, check=False, text=True)
    except OSError:
        return ""
    return proc.stdout.strip() if proc.returncode == 0 else ""


@dataclass
class Mount:
    """The filesystem a path is on, from /proc/mounts."""

    device: str
    point: str
    fstype: str
    options: str

    @property
    def ext4_without_journal(self) -> bool:
        """ext4 mounted without a journal (jbd2 lists every journal it runs)."""
        if self.fstype != "ext4":
            return False
        jbd2 = Path("/proc/fs/jbd2")
        name = Path(self.device).name
        return jbd2.is_dir() and not any(jbd2.glob(f"{name}-*"))


def mount_of(path: Path) -> Mount | None:
    """The mount holding `path` (the longest mount point above it)."""
    best: Mount | None = None
    target = str(path.resolve())
    for line in _read("/proc/mounts").splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= len(best.point)):
            best = Mount(fields[0], point, fields[2], fields[3])
    return best


def machine_facts(data_dir: Path, mount: Mount | None) -> dict[str, str]:
    """CPU, cores, memory, filesystem, kernel and tool versions, as strings."""
    cpu = re.search(r"^model name\s*:\s*(.+)$", _read("/proc/cpuinfo"), re.M)
    mem = re.search(r"^MemTotal:\s*(\d+) kB", _read("/proc/meminfo"), re.M)
    head = _output(["git", "-C", str(PROJECT), "rev-parse", "--short", "HEAD"]) or "?"
    dirty = _output(["git", "-C", str(PROJECT), "status", "--porcelain", "--untracked=no"])
    if mount is None:
        fs = _output(["stat", "-f", "-c", "%T", str(data_dir)]) or "?"
    else:
        journal = ", no journal" if mount.ext4_without_journal else ""
        fs = f"{mount.fstype} on {mount.device} ({mount.options}{journal})"
    return {
        "cpu": cpu.group(1).strip() if cpu else platform.processor() or "?",
        "nproc": _output(["nproc"]) or str(NCPU),
        "memory": f"{int(mem.group(1)) / 2**20:.1f} GiB" if mem else "?",
        "filesystem": fs,
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "mlvc": f"{mlvc.__version__} (git {head}{', uncommitted changes' if dirty else ''})",
        "md5sum": (_output(["md5sum", "--version"]).splitlines() or ["?"])[0],
    }


def fmt_seconds(value: float | None) -> str:
    """Seconds with a precision that suits the magnitude."""
    if value is None:
        return "-"
    if value < 0.1:
        return f"{value * 1000:.1f} ms"
    return f"{value:.3f} s"


def table(rows: list[Row]) -> list[list[str]]:
    """The results as cells: header first."""
    cells = [["scenario", "mlvc", "reference", "ratio", "target", "result"]]
    for row in rows:
        if row.skipped:
            cells.append([row.title, "-", "-", "-", "-", f"skipped: {row.skipped}"])
            continue
        ref = (
            "-"
            if row.reference is None
            else (f"{fmt_seconds(row.reference.median)} {row.reference.label}")
        )
        ratio = "-" if row.ratio is None else f"{row.ratio:.2f}"
        passed = {True: "pass", False: "FAIL", None: "-"}[row.passed]
        cells.append(
            [
                row.title,
                f"{fmt_seconds(row.subject.median)} {row.subject.label}",
                ref,
                ratio,
                "-" if row.target is None else row.target.text,
                passed,
            ]
        )
    return cells


def print_plain(cells: list[list[str]]) -> None:
    """An aligned text table."""
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    for n, r in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def markdown(facts: dict[str, str], cells: list[list[str]], args: argparse.Namespace) -> str:
    """The machine facts and the table in Markdown, for BENCHMARKS.md."""
    lines = [f"- **{k}**: {v}" for k, v in facts.items()]
    lines.append(f"- **settings**: scale {args.scale:g}, median of {args.repeat} runs, warm cache")
    lines.append("")
    lines.append("| " + " | ".join(cells[0]) + " |")
    lines.append("|" + "|".join("---" for _ in cells[0]) + "|")
    lines.extend("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in cells[1:])
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="dataset size factor (default 1 = full size)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per row (default 5)")
    parser.add_argument(
        "--only",
        metavar="NAME[,NAME]",
        help=f"scenarios to run, comma-separated: {', '.join(SCENARIOS)}",
    )
    parser.add_argument("--with-dvc", action="store_true", help="also time `dvc add`")
    parser.add_argument(
        "--dvc", metavar="PATH", help="dvc executable (default: .venv-dvc/bin/dvc, then PATH)"
    )
    parser.add_argument(
        "--dvc-repeat", type=int, default=2, help="timed `dvc add` runs (default 2; it is slow)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=datasets.DATA_DIR,
        help="where datasets are generated (default benches/data)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=BENCHES / "results" / "latest.json",
        help="JSON results file (default benches/results/latest.json)",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.dvc_repeat < 1:
        parser.error("--repeat and --dvc-repeat must be at least 1")
    if not args.scale > 0:
        parser.error("--scale must be positive")
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in SCENARIOS]
        if unknown:
            parser.error(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
        args.names = names
    else:
        args.names = [n for n in SCENARIOS if n != "dvc-add-small" or args.with_dvc]
    return args


def main(argv: list[str] | None = None) -> int:
    """Runs the selected scenarios, prints the tables and writes the JSON file."""
    args = parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    data_dir = args.data_dir.resolve()
    mount = mount_of(data_dir)
    ctx = Context(
        scale=args.scale,
        repeat=args.repeat,
        dvc_repeat=args.dvc_repeat,
        data_dir=data_dir,
        mlvc=mlvc_exe(),
        dvc=find_dvc(args.dvc) if "dvc-add-small" in args.names else None,
        fs_no_journal=mount is not None and mount.ext4_without_journal,
    )
    facts = machine_facts(data_dir, mount)
    started_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    rows: list[Row] = []
    errors: list[str] = []
    for name in args.names:
        log(f"== {name}")
        started = time.perf_counter()
        try:
            rows.extend(BENCHES_BY_NAME[name](ctx))
        except BenchError as exc:
            errors.append(f"{name}: {exc}")
            log(f"  ERROR: {exc}")
        log(f"  ({time.perf_counter() - started:.1f} s)")

    cells = table(rows)
    print()
    for key, value in facts.items():
        print(f"{key + ':':<12}{value}")
    print(f"{'settings:':<12}scale {args.scale:g}, median of {args.repeat} runs, warm page cache")
    print()
    print_plain(cells)
    notes = [(r.title, n) for r in rows for n in r.notes]
    if notes:
        print()
        for title, note in notes:
            print(f"  {title}: {note}")
    for err in errors:
        print(f"ERROR {err}")
    print("\nMarkdown:\n")
    print(markdown(facts, cells, args))

    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "machine": facts,
        "settings": {
            "scale": args.scale,
            "repeat": args.repeat,
            "dvc_repeat": args.dvc_repeat,
            "scenarios": args.names,
            "data_dir": str(ctx.data_dir),
            "started": started_at,
        },
        "rows": [r.to_json() for r in rows],
        "errors": errors,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
