"""Benchmarks `mlvc repro` against `dvc repro` on generated pipelines, in the same run.

Pipelines (each stage's command is a trivial `echo i > out_i`, so the tools' own
overhead is what is measured):

* ``chain``: stage i depends on out_{i-1} (stage 0 on in.txt);
* ``fan``: every stage depends on in.txt, so all can run at once;
* ``big-dep``: one stage whose dep is the many-small dataset (50,000 files);
* ``busy-fan``: a fan of 100 stages whose commands each compute for a while
  (an ``awk`` loop, ~50 ms on the machine of ``BENCHMARKS.md``), as real stages
  do: how close ``-j 2`` comes to halving a serial run when the commands, not
  the tool, take the time.

For chain and fan, at every size: the first run (``repro`` in a fresh repository)
and the no-op run (``repro`` again, nothing changed), for mlvc and dvc, plus mlvc's
first run with ``-j 2``. The reference for a first run is a plain shell loop that
starts the same N commands the same way (``$SHELL -c``), serially, or two at a time
with ``xargs -P2`` for the fan. For big-dep: the no-op run only. For busy-fan: mlvc's
first run serially and with ``-j 2``, against ``xargs -P1`` and ``xargs -P2``
starting the same commands (no dvc: it runs stages one at a time).

Every run is checked: the first run must leave every output with its expected
content and a lock entry per stage; a no-op run must say nothing changed and leave
every output and ``dvc.lock`` untouched (same mtime). Medians of the repeats go to
a table (stdout, plain and Markdown); every run to ``benches/results/pipelines.json``.

Usage::

    .venv/bin/python benches/pipelines.py                            # 100 and 1000 stages
    .venv/bin/python benches/pipelines.py --sizes 100 --repeat 3
    .venv/bin/python benches/pipelines.py --skip-dvc-above 100       # dvc only at 100
    .venv/bin/python benches/pipelines.py --only big-dep
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datasets  # siblings: run as a script, or through the line above
from data_ops import tool_env
from run import (
    BENCHES,
    DVC_INSTALL_HINT,
    EXT4_RECENT_DELETE_SECONDS,
    NCPU,
    BenchError,
    Series,
    find_dvc,
    fmt_seconds,
    log,
    machine_facts,
    mlvc_exe,
    mount_of,
    print_plain,
    rmtree,
)

SCENARIOS = ("chain", "fan", "big-dep", "busy-fan")
OUT = BENCHES / "results" / "pipelines.json"
# The shell both tools and the reference loop start each command with (DVC-compat: $SHELL).
SHELL = "/bin/sh"
JOBS = 2
UP_TO_DATE = "Data and pipelines are up to date."


@dataclass
class Row:
    """One line of the table: one pipeline, one kind of run, every tool's runs."""

    pipeline: str  # "chain 100"
    run: str  # "first run", "first run, -j 2", "no-op"
    mlvc: Series
    dvc: Series | None = None
    reference: Series | None = None
    target: str = ""
    passed: bool | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Every number of the row, individual runs included."""

        def side(s: Series | None) -> dict[str, Any] | None:
            return None if s is None else {**asdict(s), "median": s.median}

        return {
            "pipeline": self.pipeline,
            "run": self.run,
            "mlvc": side(self.mlvc),
            "dvc": side(self.dvc),
            "reference": side(self.reference),
            "target": self.target,
            "passed": self.passed,
            "notes": self.notes,
        }


@dataclass
class Tool:
    """mlvc or dvc: the executable and its private environment."""

    name: str
    exe: str
    env: dict[str, str]

    def run(self, *args: str, cwd: Path) -> tuple[float, str]:
        """Wall time and stdout+stderr of `tool args`; a failure stops the scenario."""
        started = time.perf_counter()
        proc = subprocess.run(
            [self.exe, *args], cwd=cwd, env=self.env, capture_output=True, text=True
        )
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            raise BenchError(
                f"`{self.name} {shlex.join(args)}` in {cwd} exited {proc.returncode}:\n"
                f"{(proc.stdout + proc.stderr)[-2000:]}"
            )
        return elapsed, proc.stdout + proc.stderr


# --- pipelines ----------------------------------------------------------------------------------


def stage_cmd(i: int, busy: int = 0) -> str:
    """Stage i's command: writes "i\\n" to out_i, after `busy` rounds of an awk loop."""
    if not busy:
        return f"echo {i} > out_{i}"
    return f"awk 'BEGIN {{ for (k = 0; k < {busy}; k++) s += k; print {i} }}' > out_{i}"


def dvc_yaml(kind: str, n: int, busy: int = 0) -> str:
    """A `dvc.yaml` of n stages: a chain, or a fan out of in.txt."""
    lines = ["stages:"]
    for i in range(n):
        dep = "in.txt" if kind == "fan" or i == 0 else f"out_{i - 1}"
        lines += [f"  s{i}:", f"    cmd: {stage_cmd(i, busy)}", f"    deps: [{dep}]"]
        lines += [f"    outs: [out_{i}]"]
    return "\n".join(lines) + "\n"


def make_repo(tool: Tool, root: Path, files: dict[str, str]) -> Path:
    """A fresh git repository initialised by `tool`, with `files` committed (untimed)."""
    root.mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True, env=tool.env)
    tool.run("init", "-q", cwd=root)
    for rel, text in files.items():
        (root / rel).write_text(text)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=tool.env)
    subprocess.run(["git", "commit", "-q", "-m", "pipeline"], cwd=root, check=True, env=tool.env)
    return root


def check_first(root: Path, n: int) -> list[str]:
    """Every output holds its stage's number, and dvc.lock has one entry per stage."""
    problems = []
    wrong = [i for i in range(n) if _read(root / f"out_{i}") != f"{i}\n"]
    if wrong:
        problems.append(f"{len(wrong)} outputs missing or wrong (first: out_{wrong[0]})")
    locked = _read(root / "dvc.lock").count("\n  s")
    if locked != n:
        problems.append(f"dvc.lock has {locked} stages, expected {n}")
    return problems


def snapshot(root: Path, paths: list[str]) -> dict[str, int]:
    """mtime_ns of each path (-1 when missing): a no-op run must not change any."""
    result = {}
    for rel in paths:
        try:
            result[rel] = (root / rel).stat().st_mtime_ns
        except FileNotFoundError:
            result[rel] = -1
    return result


def check_noop(output: str, before: dict[str, int], after: dict[str, int]) -> list[str]:
    """A no-op run says so and rewrites nothing."""
    problems = []
    if UP_TO_DATE not in output:
        problems.append(f"did not report `{UP_TO_DATE}`: {output[-300:]!r}")
    touched = [p for p in before if before[p] != after[p]]
    if touched:
        problems.append(f"{len(touched)} files rewritten (first: {touched[0]})")
    return problems


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


# --- the reference: the same commands, started by a shell --------------------------------------


def shell_reference(root: Path, kind: str, n: int, jobs: int) -> float:
    """Time for a shell to start the same n commands with `$SHELL -c` (serially or -P jobs)."""
    root.mkdir(parents=True)
    if jobs == 1:
        script = f'for i in $(seq 0 {n - 1}); do {SHELL} -c "echo $i > out_$i"; done'
    else:
        # Only a fan can run in parallel; a chain's reference stays the serial loop.
        script = f"seq 0 {n - 1} | xargs -P{jobs} -I@ {SHELL} -c 'echo @ > out_@'"
    started = time.perf_counter()
    subprocess.run(["bash", "-c", script], cwd=root, check=True)
    elapsed = time.perf_counter() - started
    if any(_read(root / f"out_{i}") != f"{i}\n" for i in range(n)):
        raise BenchError(f"the shell reference left wrong outputs in {root}")
    return elapsed


def xargs_reference(root: Path, n: int, busy: int, jobs: int) -> float:
    """Time for `xargs -P jobs` to start the n busy commands with `$SHELL -c`."""
    root.mkdir(parents=True)
    (root / "commands").write_text("".join(stage_cmd(i, busy) + "\n" for i in range(n)))
    started = time.perf_counter()
    subprocess.run(
        ["xargs", "-a", "commands", "-d", "\\n", "-n1", f"-P{jobs}", SHELL, "-c"],
        cwd=root,
        check=True,
    )
    elapsed = time.perf_counter() - started
    if any(_read(root / f"out_{i}") != f"{i}\n" for i in range(n)):
        raise BenchError(f"the xargs reference left wrong outputs in {root}")
    return elapsed


# --- scenarios ----------------------------------------------------------------------------------


@dataclass
class Context:
    """What every scenario needs."""

    work: Path
    mlvc: Tool
    dvc: Tool | None
    repeat: int
    dvc_repeat: int
    dvc_once_above: int
    skip_dvc_above: int | None
    dvc_first_up_to: int
    cross_check_up_to: int
    counter: int = 0

    def fresh(self, label: str) -> Path:
        """A new directory for every run.

        Nothing is deleted until the end: on ext4 without a journal, creating files
        soon after deleting many is slow, which would skew the next first run.
        """
        self.counter += 1
        return self.work / f"{label}-{self.counter}"

    def dvc_runs(self, n: int) -> int:
        """How many times dvc runs at this size (0: skipped)."""
        if self.dvc is None or (self.skip_dvc_above is not None and n > self.skip_dvc_above):
            return 0
        return 1 if n > self.dvc_once_above else self.dvc_repeat


def bench_graph(ctx: Context, kind: str, n: int) -> list[Row]:
    """First run, first run with -j 2 (mlvc), and no-op run of an n-stage chain or fan."""
    name = f"{kind} {n}"
    files = {"in.txt": "in\n", "dvc.yaml": dvc_yaml(kind, n)}
    watched = ["dvc.lock", *(f"out_{i}" for i in range(n))]
    tools = [ctx.mlvc] + ([ctx.dvc] if ctx.dvc else [])
    first = {t.name: Series(t.name, f"{t.name} repro") for t in tools}
    first_j = Series("mlvc -j 2", f"mlvc repro -j {JOBS}")
    noop = {t.name: Series(t.name, f"{t.name} repro (again)") for t in tools}
    ref = Series("shell loop", f"for ...; do {SHELL} -c 'echo i > out_i'; done")
    ref_j = Series(
        "xargs -P2" if kind == "fan" else "shell loop",
        f"xargs -P{JOBS} {SHELL} -c" if kind == "fan" else ref.command,
    )
    problems: list[str] = []
    dvc_runs = ctx.dvc_runs(n)

    def note(tool: str, found: list[str]) -> None:
        for p in found:
            line = f"{tool.upper()} PROBLEM: {p}"
            if line not in problems:
                problems.append(line)
                log(f"  {line}")

    for r in range(max(ctx.repeat, dvc_runs)):
        active = [ctx.mlvc] if r < ctx.repeat else []
        if r < dvc_runs and ctx.dvc is not None:
            active.append(ctx.dvc)
        if r < ctx.repeat:
            ref.runs.append(shell_reference(ctx.fresh(f"{kind}{n}-sh"), kind, n, 1))
            if kind == "fan":
                ref_j.runs.append(shell_reference(ctx.fresh(f"{kind}{n}-xargs"), kind, n, JOBS))
            else:
                ref_j.runs.append(ref.runs[-1])
        mlvc_root = None
        for tool in active:
            if tool is ctx.dvc and n > ctx.dvc_first_up_to and mlvc_root is not None:
                # DVC's first run takes too long here; its no-op is timed on the
                # repository mlvc just ran (the same lock and cache, DVC-compatible).
                root = mlvc_root
            else:
                root = make_repo(tool, ctx.fresh(f"{kind}{n}-{tool.name}"), files)
                os.sync()  # set-up writes must not be flushed inside the timing
                elapsed, _ = tool.run("repro", "-q", cwd=root)
                first[tool.name].runs.append(elapsed)
                note(tool.name, check_first(root, n))
                log(f"  {tool.name} first run {elapsed:.3f} s")
                if tool is ctx.mlvc:
                    mlvc_root = root
            # No-op: warm once (dvc builds its indexes), then time.
            tool.run("repro", cwd=root)
            before = snapshot(root, watched)
            os.sync()
            elapsed, out = tool.run("repro", cwd=root)
            noop[tool.name].runs.append(elapsed)
            note(tool.name, check_noop(out, before, snapshot(root, watched)))
            log(f"  {tool.name} no-op {elapsed:.3f} s")
            if tool is ctx.mlvc and r == 0 and ctx.dvc is not None and n <= ctx.cross_check_up_to:
                # The other tool must agree that mlvc's run left everything up to date.
                _, out = ctx.dvc.run("status", "--json", cwd=root)
                if json.loads(out or "null") != {}:
                    note("mlvc", [f"dvc status after mlvc repro: {out[:300]!r}"])
        if r < ctx.repeat:
            root = make_repo(ctx.mlvc, ctx.fresh(f"{kind}{n}-mlvc-j"), files)
            os.sync()
            elapsed, _ = ctx.mlvc.run("repro", "-q", "-j", str(JOBS), cwd=root)
            first_j.runs.append(elapsed)
            note("mlvc", check_first(root, n))
            log(f"  mlvc -j {JOBS} first run {elapsed:.3f} s")

    skipped_dvc = [] if dvc_runs else ["dvc skipped at this size (--skip-dvc-above)"]
    once = ["dvc measured once (no repeats)"] if dvc_runs == 1 and ctx.repeat > 1 else []
    with_dvc = ctx.dvc is not None and dvc_runs > 0
    dvc_first = with_dvc and n <= ctx.dvc_first_up_to
    rows = [
        Row(name, "first run", first["mlvc"], first["dvc"] if dvc_first else None, ref),
        Row(name, f"first run, -j {JOBS}", first_j, None, ref_j),
        Row(name, "no-op", noop["mlvc"], noop["dvc"] if with_dvc else None),
    ]
    for row in rows:
        row.notes = [*problems, *skipped_dvc, *(once if row.dvc else [])]
    if with_dvc and not dvc_first:
        rows[0].notes.append(f"dvc first run not measured above {ctx.dvc_first_up_to} stages")
        rows[2].notes.append("dvc no-op timed in the repository mlvc ran")
    if n >= 1000:
        rows[2].target = "< 1 s"
        median = rows[2].mlvc.median
        rows[2].passed = None if median is None else median < 1.0
    return rows


def bench_busy_fan(ctx: Context, n: int, busy: int) -> list[Row]:
    """A fan of n stages that compute for a while: serial and -j 2, against xargs."""
    name = f"busy fan {n}"
    files = {"in.txt": "in\n", "dvc.yaml": dvc_yaml("fan", n, busy)}
    serial = Series("mlvc", "mlvc repro")
    parallel = Series(f"mlvc -j {JOBS}", f"mlvc repro -j {JOBS}")
    ref = Series("xargs -P1", f"xargs -P1 {SHELL} -c")
    ref_j = Series(f"xargs -P{JOBS}", f"xargs -P{JOBS} {SHELL} -c")
    problems: list[str] = []
    for _ in range(ctx.repeat):
        ref.runs.append(xargs_reference(ctx.fresh("busy-x1"), n, busy, 1))
        ref_j.runs.append(xargs_reference(ctx.fresh(f"busy-x{JOBS}"), n, busy, JOBS))
        for series, extra in ((serial, []), (parallel, ["-j", str(JOBS)])):
            root = make_repo(ctx.mlvc, ctx.fresh(f"busy-mlvc{len(extra)}"), files)
            os.sync()
            elapsed, _ = ctx.mlvc.run("repro", "-q", *extra, cwd=root)
            series.runs.append(elapsed)
            problems += [p for p in check_first(root, n) if p not in problems]
            log(f"  mlvc {shlex.join(extra) or 'serial'} first run {elapsed:.3f} s")
    rows = [
        Row(name, "first run", serial, None, ref),
        Row(name, f"first run, -j {JOBS}", parallel, None, ref_j),
    ]
    s, p = serial.median, parallel.median
    speedup = [f"-j {JOBS} takes {p / s:.2f} of the serial run"] if s and p else []
    for row in rows:
        row.notes = [f"MLVC PROBLEM: {x}" for x in problems]
    rows[1].notes += speedup
    return rows


def bench_big_dep(ctx: Context, data: Path, nfiles: int) -> list[Row]:
    """No-op repro of one stage whose dep is a directory of `nfiles` files."""
    files = {
        "dvc.yaml": "stages:\n  count:\n    cmd: ls data | wc -l > count.txt\n"
        "    deps: [data]\n    outs: [count.txt]\n"
    }
    tools = [ctx.mlvc] + ([ctx.dvc] if ctx.dvc else [])
    series = {t.name: Series(t.name, f"{t.name} repro (again)") for t in tools}
    problems: list[str] = []
    roots = {}
    for tool in tools:
        root = make_repo(tool, ctx.fresh(f"bigdep-{tool.name}"), files)
        log(f"  copying {nfiles} files for {tool.name}")
        subprocess.run(["cp", "-r", str(data), str(root / "data")], check=True)
        # The data stays out of git, as a big dep would be.
        (root / ".gitignore").write_text("/data\n")
        tool.run("repro", "-q", cwd=root)  # hashes the dep once, writes the lock
        tool.run("repro", cwd=root)  # warm: state cache, page cache, indexes
        roots[tool.name] = root
    for r in range(max(ctx.repeat, ctx.dvc_repeat)):
        for tool in tools:
            if r >= (ctx.repeat if tool is ctx.mlvc else ctx.dvc_repeat):
                continue
            root = roots[tool.name]
            before = snapshot(root, ["dvc.lock", "count.txt"])
            os.sync()
            elapsed, out = tool.run("repro", cwd=root)
            series[tool.name].runs.append(elapsed)
            log(f"  {tool.name} no-op {elapsed:.3f} s")
            for p in check_noop(out, before, snapshot(root, ["dvc.lock", "count.txt"])):
                line = f"{tool.name.upper()} PROBLEM: {p}"
                if line not in problems:
                    problems.append(line)
                    log(f"  {line}")
    row = Row(f"one stage, dep of {nfiles:,} files", "no-op", series["mlvc"], series.get("dvc"))
    row.target = ">= 10x faster than dvc"
    m, d = row.mlvc.median, row.dvc.median if row.dvc else None
    row.passed = None if m is None or d is None else d / m >= 10
    row.notes = problems
    return [row]


# --- output -------------------------------------------------------------------------------------


def table(rows: list[Row]) -> list[list[str]]:
    """The results as cells, header first."""
    cells = [
        [
            "pipeline",
            "run",
            "mlvc",
            "dvc",
            "dvc / mlvc",
            "reference",
            "mlvc / reference",
            "target",
            "result",
        ]
    ]
    for r in rows:
        m = r.mlvc.median
        d = r.dvc.median if r.dvc else None
        ref = r.reference.median if r.reference else None
        dvc_cell = fmt_seconds(d) + (" (1 run)" if r.dvc and len(r.dvc.runs) == 1 else "")
        cells.append(
            [
                r.pipeline,
                r.run,
                fmt_seconds(m),
                dvc_cell if r.dvc else "-",
                f"{d / m:.1f}x" if m and d else "-",
                f"{fmt_seconds(ref)} {r.reference.label}" if r.reference and ref else "-",
                f"{m / ref:.2f}" if m and ref else "-",
                r.target or "-",
                {True: "pass", False: "FAIL", None: "-"}[r.passed],
            ]
        )
    return cells


def markdown(cells: list[list[str]]) -> str:
    """The table in Markdown, for BENCHMARKS.md."""
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "|".join("---" for _ in cells[0]) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in cells[1:]]
    return "\n".join(lines)


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages: other work on this machine skews times."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (on {NCPU} cores)"


# --- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])

    def ints(text: str) -> list[int]:
        return [int(x) for x in text.split(",") if x]

    parser.add_argument("--sizes", type=ints, default=[100, 1000], help="stage counts: 100,1000")
    parser.add_argument("--repeat", type=int, default=5, help="mlvc and shell runs (default 5)")
    parser.add_argument("--dvc-repeat", type=int, default=3, help="dvc runs (default 3)")
    parser.add_argument(
        "--dvc-once-above",
        type=int,
        default=100,
        metavar="N",
        help="above N stages, run dvc's chain and fan once (default 100: dvc takes minutes)",
    )
    parser.add_argument(
        "--skip-dvc-above", type=int, metavar="N", help="no dvc for pipelines above N stages"
    )
    parser.add_argument(
        "--dvc-first-up-to",
        type=int,
        default=10**9,
        metavar="N",
        help="time dvc's first run only up to N stages; above, time its no-op in mlvc's repo",
    )
    parser.add_argument("--no-dvc", action="store_true", help="mlvc and the references only")
    parser.add_argument(
        "--only",
        type=lambda s: s.split(","),
        default=list(SCENARIOS),
        help=f"comma-separated: {','.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--big-dep-scale",
        type=float,
        default=1.0,
        help="scale of the many-small dataset for big-dep (default 1: 50,000 files)",
    )
    parser.add_argument(
        "--busy",
        type=int,
        default=2_000_000,
        metavar="ROUNDS",
        help="busy-fan: rounds of each command's awk loop (default 2000000, ~50 ms here)",
    )
    parser.add_argument("--work", type=Path, default=datasets.DATA_DIR / "pipelines")
    args = parser.parse_args(argv)
    unknown = set(args.only) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Runs the scenarios, prints the table and writes every run to the JSON file."""
    args = parse_args(argv)
    dvc = None if args.no_dvc else find_dvc(None)
    if dvc is None and not args.no_dvc:
        raise SystemExit(f"error: no dvc at .venv-dvc/bin/dvc or on PATH; {DVC_INSTALL_HINT}")
    work: Path = args.work
    mount = mount_of(work.parent)
    if work.exists():
        rmtree(work)
        if mount is not None and mount.ext4_without_journal:
            log(
                f"waiting {EXT4_RECENT_DELETE_SECONDS:.0f} s: ext4 without a journal is slow "
                "to reuse inodes freed by the last run"
            )
            time.sleep(EXT4_RECENT_DELETE_SECONDS)
    work.mkdir(parents=True)

    def tool(name: str, exe: str) -> Tool:
        # Both tools start stage commands with $SHELL -c, as the reference loop does.
        return Tool(name, exe, {**tool_env(name, work), "SHELL": SHELL})

    ctx = Context(
        work=work,
        mlvc=tool("mlvc", mlvc_exe()),
        dvc=tool("dvc", dvc) if dvc else None,
        repeat=args.repeat,
        dvc_repeat=args.dvc_repeat,
        dvc_once_above=args.dvc_once_above,
        skip_dvc_above=args.skip_dvc_above,
        dvc_first_up_to=args.dvc_first_up_to,
        cross_check_up_to=100,
    )
    facts = machine_facts(work, mount)
    if ctx.dvc:
        facts["dvc"] = subprocess.run(
            [ctx.dvc.exe, "--version"], capture_output=True, text=True, check=True
        ).stdout.strip()
    facts["load before"] = load_average()
    started_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    rows: list[Row] = []
    jobs: list[tuple[str, Callable[[], list[Row]]]] = []
    for n in args.sizes:
        for kind in ("chain", "fan"):
            if kind in args.only:
                jobs.append((f"{kind} {n}", functools.partial(bench_graph, ctx, kind, n)))
    if "busy-fan" in args.only:
        jobs.append(("busy-fan", functools.partial(bench_busy_fan, ctx, 100, args.busy)))
    if "big-dep" in args.only:
        ds = datasets.ensure("many-small", args.big_dep_scale, log=log)
        jobs.append(("big-dep", functools.partial(bench_big_dep, ctx, ds.data, ds.nfiles)))
    try:
        for title, job in jobs:
            log(f"== {title}")
            t = time.perf_counter()
            rows.extend(job())
            log(f"  ({time.perf_counter() - t:.1f} s)")
    finally:
        rmtree(work)
    facts["load after"] = load_average()

    cells = table(rows)
    print()
    for key, value in facts.items():
        print(f"{key + ':':<13}{value}")
    print(
        f"{'settings:':<13}median of {args.repeat} mlvc / {args.dvc_repeat} dvc runs "
        f"(dvc once above {args.dvc_once_above} stages); ratio dvc / mlvc = speed-up"
    )
    print()
    print_plain(cells)
    print()
    print(markdown(cells))
    notes = [f"{r.pipeline}, {r.run}: {n}" for r in rows for n in r.notes]
    if notes:
        print("\nnotes:")
        for line in dict.fromkeys(notes):
            print(f"  {line}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "started_at": started_at,
                "facts": facts,
                "args": {k: str(v) for k, v in vars(args).items()},
                "rows": [r.to_json() for r in rows],
            },
            indent=2,
        )
        + "\n"
    )
    log(f"\nwrote {OUT.relative_to(BENCHES.parent)}")
    problems = any("PROBLEM" in n for r in rows for n in r.notes)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
