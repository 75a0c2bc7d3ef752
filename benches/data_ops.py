"""Benchmarks mlvc's data-versioning commands against DVC on the generated datasets.

For each dataset, mlvc and dvc run the same commands in fresh `git init` + `init`
repositories under ``benches/data/data-ops-x<scale>/`` (never inside the mlvc checkout),
alternating run by run, every run starting from the same state. Set-up (fresh
repositories, copies of the data, deletions) is never timed. The table shows medians
and the speed-up ``dvc / mlvc``, checked against the project's targets; every run goes
to ``benches/results/data_ops.json``.

Usage::

    .venv/bin/python benches/data_ops.py                    # full size (slow: dvc)
    .venv/bin/python benches/data_ops.py --scale 0.05 --repeat 2 --dvc-repeat 1
    .venv/bin/python benches/data_ops.py --only status,checkout --datasets many-small
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datasets  # siblings: run as a script, or through the line above
from run import (
    BENCHES,
    DVC_INSTALL_HINT,
    BenchError,
    Context,
    Row,
    Series,
    Target,
    dataset,
    describe,
    dir_hash_from_md5sum,
    find_dvc,
    log,
    machine_facts,
    markdown,
    md5sum_argv,
    mlvc_exe,
    mount_of,
    note_deletions,
    print_plain,
    rmtree,
    run,
    settle,
    table,
)

SCENARIOS = (
    "add",
    "add-hardlink",
    "status",
    "data-status",
    "status-touched",
    "checkout",
    "checkout-noop",
    "checkout-switch",
    "push",
    "pull",
    "startup",
)
DATASETS = tuple(datasets.WRITERS)
REMOTE = "bench"
# The fraction of files whose mtime `status-touched` changes.
TOUCH_EVERY = 100
OUT = BENCHES / "results" / "data_ops.json"


class ToolFailed(BenchError):
    """One tool's command failed: its side of the scenario is not available."""

    def __init__(self, tool: str, message: str) -> None:
        super().__init__(message)
        self.tool = tool


@dataclass
class Goal(Target):
    """A target that also knows speed-ups: ``speedup>=`` checks dvc / mlvc."""

    def check(self, subject: float | None, ratio: float | None) -> bool | None:
        """Whether the measured numbers meet the goal (None when not measured)."""
        if self.kind == "speedup>=":
            return None if ratio is None else ratio >= self.value
        return super().check(subject, ratio)


def speedup(value: float) -> Goal:
    """At least `value` times faster than dvc."""
    return Goal("speedup>=", value, f">= {value:g}x")


@dataclass
class OpsRow(Row):
    """A row whose ratio is the speed-up dvc / mlvc, and which knows failed tools."""

    unavailable: dict[str, str] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """dvc median / mlvc median: how many times faster mlvc is."""
        if self.reference is None:
            return None
        s, r = self.subject.median, self.reference.median
        return None if s is None or r is None or s == 0 else r / s

    @property
    def problems(self) -> bool:
        """Whether a check found mlvc's results wrong."""
        return any(n.startswith("MLVC PROBLEM") for n in self.notes)

    def to_json(self) -> dict[str, Any]:
        """Every number of the row, individual runs included."""
        return {**super().to_json(), "ratio_is": "dvc / mlvc", "unavailable": self.unavailable}


@dataclass
class Tool:
    """mlvc or dvc, with the environment every one of its commands runs in."""

    name: str
    exe: str
    repeat: int
    env: dict[str, str]

    def run(
        self, *args: str, cwd: Path, capture: bool = False
    ) -> subprocess.CompletedProcess[bytes]:
        """Runs `tool args` untimed; a failure is this tool's, not the benchmark's."""
        try:
            return run([self.exe, *args], cwd=cwd, env=self.env, capture=capture)
        except BenchError as exc:
            raise ToolFailed(self.name, str(exc).replace(self.exe, self.name)) from exc

    def timed(self, *args: str, cwd: Path) -> tuple[float, bytes]:
        """Wall time of `tool args` and its stdout (status output is checked)."""
        started = time.perf_counter()
        proc = self.run(*args, cwd=cwd, capture=True)
        return time.perf_counter() - started, proc.stdout


def tool_env(name: str, work: Path) -> dict[str, str]:
    """A private environment: no analytics, no user config, a fixed git identity."""
    private = work / "env" / name
    dirs = {k: private / k.lower() for k in ("SITE_CACHE", "GLOBAL_CONFIG", "SYSTEM_CONFIG")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "DVC_NO_ANALYTICS": "1",
        "DVC_NO_UPDATER": "1",
        # Both tools read these: a user's or the machine's config must not change the
        # cache type, and dvc's site cache (its indexes) must start empty.
        "DVC_SITE_CACHE_DIR": str(dirs["SITE_CACHE"]),
        "DVC_GLOBAL_CONFIG_DIR": str(dirs["GLOBAL_CONFIG"]),
        "DVC_SYSTEM_CONFIG_DIR": str(dirs["SYSTEM_CONFIG"]),
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.invalid",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    }


# --- checks -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What every tool must produce for a dataset, from md5sum (independent of both)."""

    dir_hash: str
    objects: frozenset[str]  # cache paths "ab/cdef...", the .dir object included


def expected_for(ds: datasets.Dataset) -> Expected:
    """md5sum's view of the dataset; also warms the page cache."""
    out = run(md5sum_argv(ds.data, ds.nfiles), capture=True).stdout
    dir_hash = dir_hash_from_md5sum(out, ds.data)
    digests = {line.split()[0] for line in out.decode().splitlines()}
    objects = {f"{h[:2]}/{h[2:]}" for h in (*digests, dir_hash)}
    return Expected(dir_hash, frozenset(objects))


def tree_hash(path: Path) -> str:
    """The `.dir` hash of a restored tree, by md5sum."""
    nfiles = sum(len(files) for _, _, files in os.walk(path))
    return dir_hash_from_md5sum(run(md5sum_argv(path, nfiles), capture=True).stdout, path)


def objects_in(store: Path) -> set[str]:
    """The object paths in a DVC 3 cache or remote (``files/md5/ab/cdef...``)."""
    top = store / "files" / "md5"
    return {
        os.path.relpath(os.path.join(dirpath, name), top)
        for dirpath, _dirs, names in os.walk(top)
        for name in names
    }


def compare_objects(what: str, got: set[str], expected: Expected) -> list[str]:
    """A problem line when a cache or remote does not hold exactly the expected objects."""
    if got == expected.objects:
        return []
    missing, extra = len(expected.objects - got), len(got - expected.objects)
    return [f"{what}: {len(got)} objects, {missing} missing, {extra} unexpected"]


def dvcfile_fields(path: Path) -> dict[str, str]:
    """md5, size and nfiles of a single-output .dvc file (enough to compare, no YAML)."""
    text = path.read_text()
    return {
        k: m.group(1) for k in ("md5", "size", "nfiles") if (m := re.search(rf"{k}: (\S+)", text))
    }


def status_is_clean(out: bytes) -> list[str]:
    """`status --json` must print an empty object when nothing changed."""
    try:
        parsed = json.loads(out or b"null")
    except ValueError:
        return [f"status --json printed non-JSON: {out[:200]!r}"]
    return [] if parsed == {} else [f"status --json reports changes: {out[:300]!r}"]


# --- scenarios ----------------------------------------------------------------------------------


@dataclass
class Plan:
    """One scenario on one dataset: the timed command and how to set up and check each run."""

    scenario: str
    title: str
    args: list[str]  # after the executable
    target: Goal
    # Untimed: makes the state run `n` of `tool` starts from; returns the directory to run in.
    prepare: Callable[[Tool, int], Path]
    # Untimed: problems with what run `n` produced (its stdout is given).
    check: Callable[[Tool, int, Path, bytes], list[str]]
    creates_files: bool  # outwait recent deletions first (ext4 without a journal)
    # Tools whose run frees inodes, so the next timed run must outwait them (see settle).
    deletes_files: tuple[str, ...] = ()
    # Prepare both tools before timing either: right for preparations that only delete
    # (one ext4 wait per round), wrong for copies (the second copy could evict the first).
    batch_prepare: bool = False
    notes: list[str] = field(default_factory=list)
    # Notes known only after the runs (a reference measured during set-up).
    after: Callable[[], list[str]] | None = None


def measure(ctx: Context, plan: Plan, tools: list[Tool]) -> OpsRow:
    """Times the plan for every tool, alternating run by run; a failing tool is recorded."""
    series = {t.name: Series(t.name, shlex.join([t.name, *plan.args])) for t in tools}
    failed: dict[str, str] = {}
    problems: list[str] = []
    cwds: dict[str, Path] = {}

    def prepare(tool: Tool, n: int) -> None:
        try:
            cwds[tool.name] = plan.prepare(tool, n)
        except ToolFailed as exc:
            failed[tool.name] = f"set-up failed: {exc}"

    for n in range(max(t.repeat for t in tools)):
        active = [t for t in tools if n < t.repeat and t.name not in failed]
        if plan.batch_prepare:
            for tool in active:
                prepare(tool, n)
        for tool in active:
            if not plan.batch_prepare:
                prepare(tool, n)
            if tool.name in failed:
                continue
            if plan.creates_files:
                settle(ctx)
            else:
                os.sync()  # earlier writes must not be flushed inside this timing
            try:
                elapsed, out = tool.timed(*plan.args, cwd=cwds[tool.name])
            except ToolFailed as exc:
                failed[tool.name] = str(exc)
                continue
            finally:
                if tool.name in plan.deletes_files:
                    note_deletions()
            series[tool.name].runs.append(elapsed)
            for problem in plan.check(tool, n, cwds[tool.name], out):
                line = f"{tool.name.upper()} PROBLEM: {problem}"
                if line not in problems:
                    problems.append(line)
    for name, why in failed.items():
        log(f"  NOT AVAILABLE ({name}): {why}")
    for line in problems:
        log(f"  {line}")
    notes = [*plan.notes, *(plan.after() if plan.after else []), *problems]
    notes += [f"{name} not available: {why}" for name, why in failed.items()]
    return OpsRow(
        f"{plan.scenario}",
        plan.title,
        series["mlvc"],
        series["dvc"],
        plan.target,
        notes,
        unavailable=failed,
    )


class Bench:
    """The repositories of one dataset, shared by its scenarios, and their checks."""

    def __init__(self, ctx: Context, ds: datasets.Dataset, tools: list[Tool], work: Path) -> None:
        self.ctx = ctx
        self.ds = ds
        self.tools = tools
        self.work = work / ds.name
        rmtree(self.work)
        self.work.mkdir(parents=True)
        self.graveyard = self.work / "graveyard"
        self.graves = 0
        # Room for the next run's data copy, cache and remote copy, with a margin.
        self.reserve = 3 * ds.nbytes + 2 * datasets.GiB
        self.expected = expected_for(ds)
        self.tracked: dict[str, Path] = {}
        self.tracked_failed: dict[str, str] = {}
        self.switch: dict[str, tuple[Path, list[str], list[str]]] = {}
        # One remote for both tools: each push run starts from an empty one, pull only
        # reads it, and two 10 GiB remotes would not fit beside four full-size trees.
        self.remote = self.work / "remote"
        # Set-up copies of the data (seconds), for the reference note of `add`.
        self.copy_times: list[float] = []

    # Deleting between runs would make the next run wait out ext4's ~30 s window;
    # renaming is free, and the graveyard is emptied when space runs low or at the end.
    def discard(self, path: Path) -> None:
        """Moves a used tree out of the way (not timed)."""
        if not path.exists():
            return
        if not self.ctx.fs_no_journal:  # nothing to outwait; a tmpfs must not fill RAM
            rmtree(path)
            return
        self.graveyard.mkdir(exist_ok=True)
        self.graves += 1
        path.rename(self.graveyard / f"{self.graves}-{path.name}")
        if shutil.disk_usage(self.work).free < self.reserve:
            rmtree(self.graveyard)

    def cleanup(self) -> None:
        """Deletes everything this dataset's scenarios made."""
        log("  removing the repositories (not timed)")
        rmtree(self.work)

    def fresh_repo(self, tool: Tool, path: Path, cache_type: str | None = None) -> Path:
        """`git init` + `tool init` (+ cache type, + the data copied in), all untimed."""
        self.discard(path)
        path.mkdir(parents=True)
        run(["git", "init", "-q"], cwd=path, env=tool.env)
        tool.run("init", "-q", cwd=path)
        if cache_type is not None:
            tool.run("config", "cache.type", cache_type, cwd=path)
        # The same copy command for both tools; cp -r gives every file a new mtime,
        # so neither tool can reuse anything from the dataset's own directory.
        # Timed like a command (settled first): creating the dataset's files is
        # what `add` with copies and `checkout` cannot do faster than.
        settle(self.ctx)
        started = time.perf_counter()
        run(["cp", "-r", str(self.ds.data), str(path / "data")])
        self.copy_times.append(time.perf_counter() - started)
        return path

    def copy_note(self) -> list[str]:
        """The median time of the set-up's `cp -r` of the data, as a filesystem reference."""
        if not self.copy_times:
            return []
        times = sorted(self.copy_times)
        median = times[len(times) // 2]
        return [
            f"reference: `cp -r` of the data (each run's set-up, same filesystem, "
            f"settled first): median {median:.3f} s of {len(times)}"
        ]

    def check_add(self, tool: Tool, repo: Path, hardlink: bool) -> list[str]:
        """The .dvc file, the cache and the workspace links after `add`."""
        dvcfile = repo / "data.dvc"
        if not dvcfile.is_file():
            return ["add wrote no data.dvc"]
        want = {
            "md5": self.expected.dir_hash,
            "size": str(self.ds.nbytes),
            "nfiles": str(self.ds.nfiles),
        }
        got = dvcfile_fields(dvcfile)
        problems = [
            f"data.dvc has {k}: {got.get(k)}, expected {v}"
            for k, v in want.items()
            if got.get(k) != v
        ]
        problems += compare_objects(
            "cache after add", objects_in(repo / ".dvc" / "cache"), self.expected
        )
        sample = next(p for p in sorted((repo / "data").rglob("*")) if p.is_file())
        nlink = sample.stat().st_nlink
        if hardlink and nlink < 2:
            problems.append(f"cache.type hardlink, but {sample.name} is not linked (nlink {nlink})")
        if not hardlink and nlink != 1:
            problems.append(f"default cache type, but {sample.name} has nlink {nlink}")
        if "/data" not in (repo / ".gitignore").read_text().split():
            problems.append(".gitignore does not list /data")
        return problems

    def tracked_repo(self, tool: Tool) -> Path:
        """A repository whose data is added and committed to git (built once, untimed)."""
        if tool.name in self.tracked_failed:
            raise ToolFailed(tool.name, self.tracked_failed[tool.name])
        if tool.name in self.tracked:
            return self.tracked[tool.name]
        repo = self.work / f"tracked-{tool.name}" / "repo"
        try:
            self.fresh_repo(tool, repo)
            settle(self.ctx)
            tool.run("add", "-q", "data", cwd=repo)
            note_deletions()
            problems = self.check_add(tool, repo, hardlink=False)
            if problems:
                raise ToolFailed(tool.name, "add gave wrong results: " + "; ".join(problems))
            tool.run("remote", "add", "-d", REMOTE, str(self.remote), cwd=repo)
            # Only the small files: never let a missing .gitignore put the data in git.
            small = [
                p for p in ("data.dvc", ".gitignore", ".dvc", ".dvcignore") if (repo / p).exists()
            ]
            run(["git", "add", "--", *small], cwd=repo, env=tool.env)
            run(["git", "commit", "-q", "-m", "track data"], cwd=repo, env=tool.env)
            # State entries recorded within ~100 ms of a file's mtime are not trusted;
            # the pause keeps the warm-up runs from recording that.
            time.sleep(1.5)
        except ToolFailed as exc:
            self.tracked_failed[tool.name] = f"building the tracked repository: {exc}"
            raise ToolFailed(tool.name, self.tracked_failed[tool.name]) from exc
        self.tracked[tool.name] = repo
        return repo

    # --- the scenarios --------------------------------------------------------------------------

    def add(self, cache_type: str | None) -> Plan:
        """First `add` of the data in a fresh repository."""
        label = cache_type or "reflink,copy"
        key = cache_type or "default"

        def prepare(tool: Tool, n: int) -> Path:
            return self.fresh_repo(tool, self.work / f"add-{key}-{tool.name}-{n}", cache_type)

        def check(tool: Tool, n: int, repo: Path, out: bytes) -> list[str]:
            problems = self.check_add(tool, repo, hardlink=cache_type == "hardlink")
            self.discard(repo)
            return problems

        return Plan(
            "add-hardlink" if cache_type else "add",
            f"{self.ds.name}: add, cache.type {label}",
            ["add", "-q", "data"],
            speedup(10),
            prepare,
            check,
            creates_files=True,
            # dvc moves each file into the cache and copies it back, unlinking as many
            # files as it adds (strace); mlvc's add unlinks nothing.
            deletes_files=("dvc",),
            notes=[describe(self.ds), "fresh repo and `cp -r` of the data per run, untimed"],
            after=self.copy_note,
        )

    def status(self, args: list[str], scenario: str, title: str, goal: float) -> Plan:
        """A read-only status command with nothing changed, after one untimed warm-up."""
        dvc_out: list[Any] = []

        def prepare(tool: Tool, n: int) -> Path:
            repo = self.tracked_repo(tool)
            if n == 0:
                tool.run(*args, cwd=repo)  # warms the page cache and the state
            return repo

        def check(tool: Tool, n: int, repo: Path, out: bytes) -> list[str]:
            if args[0] == "status":
                return status_is_clean(out)
            # data status: mlvc must print what dvc prints.
            try:
                parsed = json.loads(out)
            except ValueError:
                return [f"`data status --json` printed non-JSON: {out[:200]!r}"]
            if tool.name == "dvc":
                return []
            if not dvc_out:  # mlvc runs first: ask dvc once, untimed
                dvc = next(t for t in self.tools if t.name == "dvc")
                proc = dvc.run(*args, cwd=self.tracked_repo(dvc), capture=True)
                dvc_out.append(json.loads(proc.stdout))
            if parsed != dvc_out[0]:
                return [f"`data status --json` gives {parsed!r}, dvc gives {dvc_out[0]!r}"]
            return []

        return Plan(
            scenario,
            title,
            args,
            speedup(goal),
            prepare,
            check,
            creates_files=False,
            notes=[describe(self.ds), "warm: one untimed run first"],
        )

    def status_touched(self) -> Plan:
        """`status` after new mtimes on 1% of the files, content unchanged."""

        def prepare(tool: Tool, n: int) -> Path:
            repo = self.tracked_repo(tool)
            if n == 0:
                tool.run("status", cwd=repo)  # every other file's state is recorded
            files = sorted(p for p in (repo / "data").rglob("*") if p.is_file())
            # A time neither tool has seen for these files, so each run rehashes them.
            now = time.time_ns()
            for path in files[::TOUCH_EVERY]:
                os.utime(path, ns=(now, now))
            return repo

        def check(tool: Tool, n: int, repo: Path, out: bytes) -> list[str]:
            return status_is_clean(out)

        touched = len(range(0, self.ds.nfiles, TOUCH_EVERY))
        return Plan(
            "status-touched",
            f"{self.ds.name}: status, 1% of mtimes touched",
            ["status", "--json"],
            speedup(10),
            prepare,
            check,
            creates_files=False,
            notes=[describe(self.ds), f"{touched} file(s) get a new mtime before every run"],
        )

    def restored_ok(self, what: str, repo: Path, n: int) -> list[str]:
        """The data (first run: every byte, by md5sum) and the cache after checkout/pull."""
        problems = compare_objects(
            f"cache after {what}", objects_in(repo / ".dvc" / "cache"), self.expected
        )
        data = repo / "data"
        if not data.is_dir():
            return [*problems, f"{what} left no data directory"]
        if n == 0 and (got := tree_hash(data)) != self.expected.dir_hash:
            problems.append(f"{what}: data hashes to {got}, expected {self.expected.dir_hash}")
        return problems

    def checkout(self) -> Plan:
        """`checkout` into a workspace whose data was deleted."""

        def prepare(tool: Tool, n: int) -> Path:
            repo = self.tracked_repo(tool)
            # Moved out of the workspace rather than deleted, as for pull: right after
            # an `rm -rf`, ext4 without a journal times its inode allocator, not the tool.
            self.discard(repo / "data")
            return repo

        def check(tool: Tool, n: int, repo: Path, out: bytes) -> list[str]:
            return self.restored_ok("checkout", repo, n)

        return Plan(
            "checkout",
            f"{self.ds.name}: checkout after the data is removed",
            ["checkout", "-q"],
            speedup(10),
            prepare,
            check,
            creates_files=True,
            batch_prepare=True,
            notes=[describe(self.ds), "default cache type; data moved aside, untimed"],
        )

    def checkout_noop(self) -> Plan:
        """`checkout` with nothing to do: the data is as recorded (after one untimed run)."""

        def prepare(tool: Tool, n: int) -> Path:
            repo = self.tracked_repo(tool)
            if n == 0:
                tool.run("checkout", "-q", cwd=repo)  # restores it if moved aside; warms up
            return repo

        def check(tool: Tool, n: int, repo: Path, out: bytes) -> list[str]:
            return self.restored_ok("checkout", repo, n)

        return Plan(
            "checkout-noop",
            f"{self.ds.name}: checkout, nothing changed",
            ["checkout", "-q"],
            speedup(10),
            prepare,
            check,
            creates_files=False,
            notes=[describe(self.ds), "default cache type; warm: one untimed run first"],
        )

    def switch_repo(self, tool: Tool) -> tuple[Path, list[str], list[str]]:
        """A repository with two versions of the data, every file changed (built once).

        Returns the repository and the `.dvc` text and `.dir` hash of each version,
        in the order a checkout goes from the second to the first. The workspace
        holds the second; both are in the cache.
        """
        if tool.name in self.switch:
            return self.switch[tool.name]
        repo = self.fresh_repo(tool, self.work / f"switch-{tool.name}" / "repo")
        texts, hashes = [], []
        for version in (1, 2):
            if version == 2:
                # One byte more in every file: every file must be replaced.
                for dirpath, _dirs, names in os.walk(repo / "data"):
                    for name in names:
                        with open(os.path.join(dirpath, name), "ab") as f:
                            f.write(b"\n")
            settle(self.ctx)
            tool.run("add", "-q", "data", cwd=repo)
            note_deletions()
            texts.append((repo / "data.dvc").read_text())
            hashes.append(dvcfile_fields(repo / "data.dvc").get("md5", ""))
        if hashes[0] == hashes[1] or not all(hashes):
            raise ToolFailed(tool.name, f"add recorded versions {hashes}")
        time.sleep(1.5)  # as in tracked_repo: no state recorded within ~100 ms of mtimes
        self.switch[tool.name] = (repo, texts, hashes)
        return self.switch[tool.name]

    def checkout_switch(self) -> Plan:
        """`checkout` of the other version of the data, with every file changed."""
        wanted: dict[str, str] = {}

        def prepare(tool: Tool, n: int) -> Path:
            repo, texts, hashes = self.switch_repo(tool)
            # Run 0 goes to the first version, run 1 back to the second, and so on.
            (repo / "data.dvc").write_text(texts[n % 2])
            wanted[tool.name] = hashes[n % 2]
            return repo

        def check(tool: Tool, n: int, repo: Path, out: bytes) -> list[str]:
            if n >= 2:  # both directions checked byte by byte; later runs repeat them
                return []
            got = tree_hash(repo / "data")
            want = wanted[tool.name]
            return [] if got == want else [f"checkout: data hashes to {got}, expected {want}"]

        return Plan(
            "checkout-switch",
            f"{self.ds.name}: checkout of another version, every file changed",
            ["checkout", "-q"],
            speedup(10),
            prepare,
            check,
            # Each run replaces every file, freeing as many inodes as it creates.
            creates_files=True,
            deletes_files=("mlvc", "dvc"),
            notes=[
                describe(self.ds),
                "default cache type; the .dvc file is switched between two versions "
                "(the second has one byte more in every file), untimed",
            ],
        )

    def push(self) -> Plan:
        """`push` of everything to an empty local remote."""

        def prepare(tool: Tool, n: int) -> Path:
            repo = self.tracked_repo(tool)
            self.discard(self.remote)
            return repo

        def check(tool: Tool, n: int, repo: Path, out: bytes) -> list[str]:
            return compare_objects("remote after push", objects_in(self.remote), self.expected)

        return Plan(
            "push",
            f"{self.ds.name}: push to a local remote",
            ["push", "-q", "-r", REMOTE],
            speedup(5),
            prepare,
            check,
            creates_files=True,
            notes=[describe(self.ds), "remote emptied before every run, untimed"],
        )

    def pull(self) -> Plan:
        """`pull` into a repository without cache and data."""

        def prepare(tool: Tool, n: int) -> Path:
            repo = self.tracked_repo(tool)
            if objects_in(self.remote) != self.expected.objects:
                # Without the push scenario (or after a bad push), fill it with dvc's.
                dvc = next(t for t in self.tools if t.name == "dvc")
                self.discard(self.remote)
                dvc.run("push", "-q", "-r", REMOTE, cwd=self.tracked_repo(dvc))
            # Moved aside, not deleted: ext4 without a journal avoids reusing inodes freed
            # in the last 60 s (360 s while their inode-table block is dirty), scanning
            # past each one, so a pull right after `rm -rf` times the allocator instead.
            self.discard(repo / ".dvc" / "cache")
            self.discard(repo / "data")
            return repo

        def check(tool: Tool, n: int, repo: Path, out: bytes) -> list[str]:
            return self.restored_ok("pull", repo, n)

        return Plan(
            "pull",
            f"{self.ds.name}: pull from a local remote",
            ["pull", "-q", "-r", REMOTE],
            speedup(5),
            prepare,
            check,
            creates_files=True,
            batch_prepare=True,
            notes=[describe(self.ds), "cache and data moved aside before every run, untimed"],
        )

    def plans(self, names: list[str]) -> list[Plan]:
        """The selected scenarios, in an order where each leaves the next a valid state."""
        name = self.ds.name
        makers: dict[str, Callable[[], Plan]] = {
            "add": lambda: self.add(None),
            "add-hardlink": lambda: self.add("hardlink"),
            "status": lambda: self.status(
                ["status", "--json"], "status", f"{name}: status, nothing changed", 15
            ),
            "data-status": lambda: self.status(
                ["data", "status", "--json"],
                "data-status",
                f"{name}: data status, nothing changed",
                15,
            ),
            "status-touched": self.status_touched,
            "checkout": self.checkout,
            "checkout-noop": self.checkout_noop,
            "checkout-switch": self.checkout_switch,
            "push": self.push,
            "pull": self.pull,
        }
        return [makers[n]() for n in SCENARIOS if n in names and n in makers]


def bench_startup(ctx: Context, tools: list[Tool], work: Path) -> list[OpsRow]:
    """`--help` and `version` in an empty repository: start-up cost."""
    repos: dict[str, Path] = {}

    def repo_for(tool: Tool) -> Path:
        if tool.name not in repos:
            repo = work / "startup" / tool.name
            rmtree(repo)
            repo.mkdir(parents=True)
            run(["git", "init", "-q"], cwd=repo, env=tool.env)
            tool.run("init", "-q", cwd=repo)
            repos[tool.name] = repo
        return repos[tool.name]

    def plan_for(args: list[str]) -> Plan:
        def prepare(tool: Tool, n: int) -> Path:
            repo = repo_for(tool)
            if n == 0:
                tool.run(*args, cwd=repo)  # warm-up: the interpreter's files into the page cache
            return repo

        return Plan(
            "startup",
            f"start-up: {' '.join(args)}",
            args,
            Goal("seconds<", 0.15, "mlvc < 0.15 s"),
            prepare,
            lambda tool, n, repo, out: [],
            creates_files=False,
            notes=["in an empty initialised repository"],
        )

    rows = [measure(ctx, plan_for(args), tools) for args in (["--help"], ["version"])]
    rmtree(work / "startup")
    return rows


# --- reporting ----------------------------------------------------------------------------------


def cells_for(rows: list[OpsRow]) -> list[list[str]]:
    """run.py's table, relabelled for dvc / mlvc, with failures and problems marked."""
    cells = table(list(rows))
    cells[0][1:4] = ["mlvc", "dvc", "dvc / mlvc"]
    for row, line in zip(rows, cells[1:], strict=True):
        if row.unavailable:
            line[5] = "NOT AVAILABLE: " + ", ".join(row.unavailable)
        elif row.problems:
            line[5] += ", MLVC PROBLEM"
    return cells


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="dataset size factor (default 1 = full size)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed mlvc runs (default 5)")
    parser.add_argument("--dvc-repeat", type=int, default=3, help="timed dvc runs (default 3)")
    parser.add_argument(
        "--only", metavar="NAME[,NAME]", help=f"scenarios, comma-separated: {', '.join(SCENARIOS)}"
    )
    parser.add_argument(
        "--datasets",
        metavar="NAME[,NAME]",
        help=f"datasets, comma-separated: {', '.join(DATASETS)}",
    )
    parser.add_argument(
        "--work",
        type=Path,
        help="where the repositories, copies and remotes go, e.g. a tmpfs to take the disk "
        "out of the measure (default benches/data/data-ops-x<scale>)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=OUT,
        help=f"JSON results file (default {OUT.relative_to(BENCHES.parent)})",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.dvc_repeat < 1:
        parser.error("--repeat and --dvc-repeat must be at least 1")
    if not args.scale > 0:
        parser.error("--scale must be positive")
    for option, known in (("only", SCENARIOS), ("datasets", DATASETS)):
        given = getattr(args, option)
        names = [n.strip() for n in given.split(",") if n.strip()] if given else list(known)
        unknown = [n for n in names if n not in known]
        if unknown:
            parser.error(f"unknown --{option} {', '.join(unknown)}; known: {', '.join(known)}")
        setattr(args, option, names)
    return args


def main(argv: list[str] | None = None) -> int:
    """Runs the selected scenarios on the selected datasets, prints and writes the results."""
    args = parse_args(argv)
    dvc = find_dvc(None)
    if dvc is None:
        raise SystemExit(f"error: no dvc at .venv-dvc/bin/dvc or on PATH; {DVC_INSTALL_HINT}")
    data_dir = datasets.DATA_DIR
    data_dir.mkdir(parents=True, exist_ok=True)
    work = args.work or data_dir / f"data-ops-x{args.scale:g}"
    work.mkdir(parents=True, exist_ok=True)
    mount = mount_of(work)  # the timed commands create their files there
    ctx = Context(
        scale=args.scale,
        repeat=args.repeat,
        dvc_repeat=args.dvc_repeat,
        data_dir=data_dir,
        mlvc=mlvc_exe(),
        dvc=dvc,
        fs_no_journal=mount is not None and mount.ext4_without_journal,
    )
    rmtree(work)
    tools = [
        Tool("mlvc", ctx.mlvc, args.repeat, tool_env("mlvc", work)),
        Tool("dvc", dvc, args.dvc_repeat, tool_env("dvc", work)),
    ]
    facts = machine_facts(work, mount)
    facts["dvc"] = run([dvc, "--version"], capture=True).stdout.decode().strip()
    started_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    rows: list[OpsRow] = []
    errors: list[str] = []
    per_dataset = [n for n in args.only if n != "startup"]
    for name in args.datasets if per_dataset else []:
        log(f"== {name}")
        ds = dataset(ctx, name)
        bench = Bench(ctx, ds, tools, work)
        try:
            for plan in bench.plans(per_dataset):
                log(f"-- {plan.title}")
                started = time.perf_counter()
                rows.append(measure(ctx, plan, tools))
                log(f"  ({time.perf_counter() - started:.1f} s)")
        except BenchError as exc:  # the benchmark itself broke (not a tool's failure)
            errors.append(f"{name}: {exc}")
            log(f"  ERROR: {exc}")
        finally:
            bench.cleanup()
    if "startup" in args.only:
        log("== start-up")
        rows.extend(bench_startup(ctx, tools, work))
    rmtree(work)
    # A failing dvc means the comparison is broken, not that mlvc is missing something.
    errors += [
        f"{r.title}: dvc {why}" for r in rows for t, why in r.unavailable.items() if t == "dvc"
    ]

    cells = cells_for(rows)
    settings = f"scale {args.scale:g}, median of {args.repeat} mlvc / {args.dvc_repeat} dvc runs"
    print()
    for key, value in facts.items():
        print(f"{key + ':':<12}{value}")
    print(f"{'settings:':<12}{settings}, warm page cache; ratio = dvc time / mlvc time")
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
    # run.markdown prints "median of {repeat} runs"; say both counts there.
    shown = argparse.Namespace(
        scale=args.scale, repeat=f"{args.repeat} mlvc / {args.dvc_repeat} dvc"
    )
    print(markdown(facts, cells, shown))

    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "machine": facts,
        "settings": {
            "scale": args.scale,
            "repeat": args.repeat,
            "dvc_repeat": args.dvc_repeat,
            "scenarios": args.only,
            "datasets": args.datasets,
            "started": started_at,
            "ratio": "dvc median / mlvc median",
        },
        "rows": [r.to_json() for r in rows],
        "errors": errors,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
