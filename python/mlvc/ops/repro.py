"""`repro`: run the stages whose command, deps, params or outs changed, in graph order."""

from __future__ import annotations

import fnmatch
import heapq
import io
import os
import posixpath
import selectors
import shutil
import sys
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import mlvc
from mlvc import gitignore
from mlvc.dvcfile import DvcFile
from mlvc.exceptions import MlvcError, PipelineError
from mlvc.objects import LEGACY_ALGORITHM, LEGACY_PREFIX, is_legacy
from mlvc.ops.save import is_empty, save_output
from mlvc.ops.unprotect import unprotect_path
from mlvc.output import Output
from mlvc.pipeline.graph import Graph, build_graph, plan
from mlvc.pipeline.load import Warn, broken_target, load_pipelines
from mlvc.pipeline.lockfile import (
    LOCK_FILE,
    HashInfo,
    LockFile,
    entry_hashes,
    lock_path_for,
    recorded_hash,
    recorded_output,
    stage_entry,
)
from mlvc.pipeline.model import DVCFILE_SUFFIX, PROJECT_FILE, Out, Pipelines, Stage
from mlvc.pipeline.run import Processes, StageRun
from mlvc.pipeline.runcache import RunCache, can_cache, can_save
from mlvc.pipeline.status import (
    ALWAYS_CHANGED,
    CHANGED_COMMAND,
    DELETED,
    NOT_IN_CACHE,
    Workspace,
    outs_cached,
    param_values,
    stage_status,
)
from mlvc.repo import Repo, shown_from
from mlvc.rwlock import RWLock, RWLockError, refuse_busy, stage_paths

if TYPE_CHECKING:
    from mlvc.remote import Remote

Echo = Callable[[str], None]
# Asked before a stage is reproduced (`repro -i`); False aborts that stage.
Confirm = Callable[[str], bool]
# DVC-compat: what a failed stage does to the rest of the run (DVC's `on_error`).
OnError = Literal["fail", "keep-going", "ignore"]


class ReproError(PipelineError):
    """One or more stages could not be reproduced."""

    exit_code = 255


@dataclass
class ReproResult:
    """The stages `repro` ran, restored from the run cache or saw fail."""

    ran: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    # Files to `git add`: changed `.gitignore` files and lock files.
    to_stage: list[Path] = field(default_factory=list)


def _stderr(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


def _stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def ordered_stages(pipelines: Pipelines) -> list[Stage]:
    """Stages in DVC's collection order: a directory's `dvc.yaml` before its subdirectories'."""
    files = sorted(pipelines.files, key=lambda f: posixpath.dirname(f.path).split("/"))
    return [s for f in files for s in f.stages.values()]


def dvcfile_outputs(repo: Repo) -> list[tuple[str, str]]:
    """`(output path, .dvc file)` for every output tracked by a `.dvc` file."""
    found = []
    for path in repo.dvcfiles():
        dvcfile = DvcFile.load(path)
        for out in dvcfile.outs:
            found.append((repo.relpath(dvcfile.out_path(out)), repo.relpath(path)))
    return found


def data_stages(repo: Repo) -> list[Stage]:
    """Every `.dvc` file as a stage, as DVC sees them: its outputs (and import deps), no command."""
    return [stage_of_dvcfile(repo.relpath(path), DvcFile.load(path)) for path in repo.dvcfiles()]


def stage_of_dvcfile(rel: str, dvcfile: DvcFile) -> Stage:
    """A `.dvc` file (at repository path `rel`) as the stage DVC's graph makes of it."""
    wdir = posixpath.normpath(
        posixpath.join(posixpath.dirname(rel), str(dvcfile.raw.get("wdir", ".")))
    )
    deps = [
        d["path"]
        for d in dvcfile.raw.get("deps") or []
        if isinstance(d, dict) and isinstance(d.get("path"), str)
    ]
    return Stage(
        name=rel,
        dvcfile=rel,
        cmd="",
        wdir=wdir,
        deps=deps,
        outs=[Out(path=o.path, cache=o.cache, persist=o.persist) for o in dvcfile.outs],
        frozen=bool(dvcfile.raw.get("frozen", False)),
    )


def all_stages(
    repo: Repo, *, warn: Warn | None = None, only_for: Sequence[str] | None = None
) -> list[Stage]:
    """Pipeline stages and `.dvc` files (DVC's graph holds both), in DVC's order;
    `warn` gets the templating warnings.

    DVC-compat: directory by directory from the root; in a directory, the stages
    of its `dvc.yaml`, then its `.dvc` files. With `only_for` (a command on these
    targets alone, not their graph), a stage that does not resolve fails the command
    only when a target names it; otherwise it is left out, as DVC resolves only the
    stages it is asked for.
    """
    pipelines = load_pipelines(repo, warn=warn, defer_errors=only_for is not None)
    if only_for is not None:
        broken = broken_target(pipelines, only_for)
        if broken is not None:
            raise broken
    pipeline = ordered_stages(pipelines)
    data = sorted(data_stages(repo), key=lambda s: s.dvcfile)
    both = [(0, s) for s in pipeline] + [(1, s) for s in data]

    def key(item: tuple[int, Stage]) -> tuple[list[str], int]:
        return posixpath.dirname(item[1].dvcfile).split("/"), item[0]

    return [s for _, s in sorted(both, key=key)]


def select(
    repo: Repo,
    stages: list[Stage],
    targets: list[str],
    cwd: Path,
    *,
    recursive: bool = False,
    glob: bool = False,
) -> list[int]:
    """Indices of the stages named by targets.

    DVC-compat: a target is a stage name (or a foreach/matrix group) of `./dvc.yaml`,
    `path/dvc.yaml:name`, a `dvc.yaml` (all its stages) or a `.dvc` file; with
    `recursive`, a directory means every stage defined below it; with `glob`, the
    name is a shell pattern.
    """
    chosen: list[int] = []

    def add(hits: list[int]) -> None:
        chosen.extend(h for h in hits if h not in chosen)

    for target in targets:
        full = (cwd / target).absolute()
        if recursive and full.is_dir():
            rel = repo.relpath(full)
            prefix = "" if rel == "." else rel + "/"
            add([i for i, s in enumerate(stages) if s.dvcfile.startswith(prefix)])
            continue
        path, sep, name = target.rpartition(":")
        if not sep and posixpath.basename(target) == LOCK_FILE:
            raise ReproError(
                f"`{target}` is a lock file, not a stage",
                f"did you mean `{target[: -len(LOCK_FILE)]}{PROJECT_FILE}`?",
            )
        if not sep and target.endswith(DVCFILE_SUFFIX):
            rel = repo.relpath(full)
            hits = [i for i, s in enumerate(stages) if s.is_data_source and s.dvcfile == rel]
            if not hits:
                raise ReproError(
                    f"`{rel}` does not exist" if not full.exists() else f"`{rel}` is not loaded",
                    "name a `.dvc` file written by `mlvc add`, or a stage of `dvc.yaml`",
                )
            add(hits)
            continue
        if not sep:
            if target.endswith(PROJECT_FILE) or (full.is_dir() and not glob):
                if full.is_dir():
                    full = full / PROJECT_FILE
                rel = repo.relpath(full)
                hits = [i for i, s in enumerate(stages) if s.dvcfile == rel]
                if not hits and not full.is_file():
                    shown = Path(os.path.relpath(full, cwd)).as_posix()
                    raise ReproError(
                        f"`{shown}` does not exist", "run from the directory holding `dvc.yaml`"
                    )
                add(hits)
                continue
            path, name = PROJECT_FILE, target
        elif not path.endswith(PROJECT_FILE):
            path = posixpath.join(path, PROJECT_FILE)
        rel = repo.relpath((cwd / path).absolute())
        in_file = [(i, s) for i, s in enumerate(stages) if s.dvcfile == rel]
        groups = {s.generated_from for _, s in in_file if s.generated_from}
        if glob and name not in groups:
            add([i for i, s in in_file if fnmatch.fnmatchcase(s.name, name)])
            continue
        hits = [i for i, s in in_file if s.name == name or s.generated_from == name]
        if not hits:
            # DVC-compat: the file is named relative to the current directory.
            shown = repo.shown(rel, cwd)
            if not in_file and not (repo.root / rel).is_file():
                raise ReproError(
                    f"`{shown}` does not exist",
                    "run from the directory holding `dvc.yaml`, or name `path/dvc.yaml:stage`",
                )
            known = ", ".join(s.addressing for s in stages[:8]) or "none"
            raise ReproError(f"stage `{name}` not found in `{shown}`", f"stages are: {known}")
        add(hits)
    return chosen


def _put_object(dest: Path, *, src: Path | None = None, data: bytes | None = None) -> None:
    """Writes a read-only cache object atomically, unless it is already there."""
    if dest.is_file():
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    if src is not None:
        shutil.copyfile(src, tmp)
    else:
        tmp.write_bytes(data or b"")
    tmp.chmod(0o444)
    os.replace(tmp, dest)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


class _Runner:
    """Decides, runs and records stages one at a time (commands may run in parallel)."""

    def __init__(
        self,
        repo: Repo,
        graph: Graph,
        *,
        force: bool,
        dry: bool,
        allow_missing: bool,
        run_cache: bool,
        echo: Echo,
        result: ReproResult,
        warn: Echo = _stderr,
        no_commit: bool = False,
        confirm: Confirm | None = None,
        where: str = ".",
        relink: bool = True,
        pull: bool = False,
    ) -> None:
        self.repo = repo
        # `--pull`: an unchanged stage whose outputs are only missing is restored.
        self.pull = pull
        # `--pull`: the remote a recorded run's outputs are fetched from, if any.
        self.pull_remote: Remote | None = None
        # The user's directory, relative to the root: DVC names stages and files from it.
        self.where = where
        self.graph = graph
        self.force = force
        self.dry = dry
        self.no_commit = no_commit
        self.confirm = confirm
        self.allow_missing = allow_missing
        self.use_run_cache = run_cache
        self.echo = echo
        self.warn = warn
        self.result = result
        self.parallel = False
        # (lock file, stage name) -> position in the plan
        self.plan_pos: dict[tuple[str, str], int] = {}
        self._added: dict[str, list[str]] = {}
        self.ws = Workspace(repo)
        self.runs = RunCache(repo.cache_dir)
        self.processes = Processes()
        # Set by `repro`: lock files are then written at most every
        # LOCK_WRITE_INTERVAL, and what is pending when the run ends.
        self.defer_lock_writes = False
        self._lock_written_at: dict[str, float] = {}
        self._locks_pending: dict[str, LockFile] = {}
        # Run-cache entries of recorded stages, not written yet: (stage, entry).
        self._runs_pending: list[tuple[str, dict[str, Any]]] = []
        # `.gitignore` entries are written with the lock files, whose cadence they share.
        # Outputs git already ignores get none (asked of git once, for every output).
        self.ignores = gitignore.IgnoreBatch(
            gitignore.GitIgnores(
                repo.root,
                likely=[repo.root / s.repo_path(o.path) for s in graph.stages for o in s.outs],
            )
            if repo.scm is not None
            else None
        )
        # DVC-compat: a cached output git tracks is refused when it is recorded.
        self.git_index = gitignore.GitIndex(repo.root) if repo.scm is not None else None
        self.committing = False  # `commit` of stages (exit 1), not `repro` (255)
        # DVC-compat: outputs become links to the cache (hardlink/symlink first) unless
        # `commit --no-relink`, which leaves them as they are and copies them in.
        self._relink = relink
        # Set by `repro`: the per-path locks DVC takes around each stage.
        self.rwlock: RWLock | None = None

    def shown(self, stage: Stage) -> str:
        """The stage as DVC names it to the user (relative to their directory)."""
        return stage.addressing_from(self.where)

    def shown_path(self, rel: str) -> str:
        """A repository-relative path as DVC names it to the user."""
        return shown_from(self.where, rel)

    def shown_abs(self, path: str) -> str:
        """An absolute path as DVC names it to the user (relative, when in the repository)."""
        rel = self.repo.relpath(Path(path))
        return path if rel.startswith("../") else self.shown_path(rel)

    # -- the per-path locks -------------------------------------------------------
    def lock_paths(self, stage: Stage) -> tuple[list[str], list[str]]:
        """The absolute paths DVC locks for a stage (`mlvc.rwlock.stage_paths`)."""
        return stage_paths(self.repo.root, stage)

    def check_locks(self, stage: Stage) -> None:
        """DVC-compat: a stage another process is running (or reading what this one
        writes) is refused, changed or not."""
        if self.rwlock is None:
            return
        deps, outs = self.lock_paths(stage)
        try:
            self.rwlock.check(deps, outs)
        except RWLockError as exc:
            raise self._lock_error(stage, exc) from None

    def lock_stage(self, stage: Stage) -> list[tuple[str, str]]:
        """Records this process's locks on the stage's paths while its command runs."""
        if self.rwlock is None:
            return []
        deps, outs = self.lock_paths(stage)
        try:
            # DVC-compat: DVC's entries while a command runs: deps and outs read, outs written.
            return self.rwlock.acquire(deps + outs, outs)
        except RWLockError as exc:
            raise self._lock_error(stage, exc) from None

    def _lock_error(self, stage: Stage, exc: RWLockError) -> ReproError:
        return ReproError(f"failed to reproduce `{self.shown(stage)}`: {exc}", exc.hint)

    def unlock_stage(self, held: list[tuple[str, str]]) -> None:
        if self.rwlock is not None and held:
            self.rwlock.release(held)

    # -- deciding -----------------------------------------------------------------
    def needs_run(
        self, stage: Stage, *, force: bool = False, allow_missing: bool | None = None
    ) -> bool:
        """Whether the stage changed; with `allow_missing` (default: `--allow-missing`),
        missing deps and outputs alone do not count."""
        if force or self.force:
            return True
        if not (self.allow_missing if allow_missing is None else allow_missing):
            return stage_status(self.ws, stage, first_only=True).changed
        status = stage_status(self.ws, stage)
        for item in status.items:
            if item == ALWAYS_CHANGED and stage.frozen:
                continue  # DVC-compat: a frozen stage is not run for being always changed
            if isinstance(item, str):
                return True
            if "changed outs" in item:
                if any(s not in (DELETED, NOT_IN_CACHE) for s in item["changed outs"].values()):
                    return True
            elif any(s != DELETED for s in item["changed deps"].values()):
                return True
        return False

    def ask(self, stage: Stage) -> None:
        """`repro -i`: raises unless the user agrees to reproduce the stage.

        DVC-compat: asked once a stage is known to need reproducing (also for a
        restore from the run cache, a frozen stage's check and `--dry`).
        """
        if self.confirm is None:
            return
        question = f"Going to reproduce stage: '{self.shown(stage)}'."
        if not self.confirm(question + " Are you sure you want to continue?"):
            raise ReproError(
                f"failed to reproduce `{self.shown(stage)}`: reproduction aborted by the user",
                "answer `y` to run it; without a terminal on stdout nothing is asked "
                "and every stage is declined",
            )

    def _dep_infos(self, stage: Stage) -> list[tuple[str, HashInfo]]:
        self.ws.prefetch(stage.repo_path(d) for d in stage.deps)
        infos = []
        for dep in stage.deps:
            info = self.ws.hash(stage.repo_path(dep))
            if info is None:
                raise ReproError(
                    f"failed to reproduce `{self.shown(stage)}`: dependency "
                    f"`{stage.repo_path(dep)}` does not exist",
                    "create it, or add the stage that produces it to the pipeline",
                )
            infos.append((dep, self._kept_legacy(stage, "deps", dep) or info))
        return infos

    def _kept_legacy(self, stage: Stage, key: str, path: str) -> HashInfo | None:
        """The DVC 2 (md5-dos2unix) record of a dep/out whose content has not changed.

        DVC-compat: DVC 3 moves an entry to `hash: md5` only when its content
        changed; an unchanged 2.x entry is written back as it was.
        """
        item = entry_hashes(self.ws.lock(stage.dvcfile).get(stage.name), key).get(path)
        md5 = recorded_hash(item)
        rel = stage.repo_path(path)
        if md5 is None or not md5.startswith(LEGACY_PREFIX) or not self.ws.matches(rel, md5):
            return None
        info = self.ws.legacy_hash(rel)
        assert info is not None
        return (LEGACY_PREFIX + info[0], info[1], info[2], info[3])

    def _store_legacy(self, path: Path) -> None:
        """Puts an output into the 2.x part of the cache, as DVC does for a kept 2.x entry."""
        cache = self.repo.cache
        if path.is_dir():
            tree = mlvc.hash_tree(
                path, algorithm=LEGACY_ALGORITHM, ignore_root=self.repo.root, state=self.repo.state
            )
            _put_object(Path(cache.legacy_object_path(tree.hash)), data=tree.manifest)
            for fh in tree.files:
                _put_object(Path(cache.legacy_object_path(fh.hash)), src=path / fh.relpath)
        else:
            (fh,) = mlvc.hash_files([path], algorithm=LEGACY_ALGORITHM, state=self.repo.state)
            _put_object(Path(cache.legacy_object_path(fh.hash)), src=path)

    # -- restoring from the cache -------------------------------------------------
    def try_restore(self, stage: Stage, deps: list[tuple[str, HashInfo]], params: Any) -> bool:
        """Checks outputs out of the cache instead of running, when a recorded run matches."""
        if not can_cache(stage):
            return False
        lock_entry = self.ws.lock(stage.dvcfile).get(stage.name)
        current = stage_entry(stage.cmd, deps, params, [])
        cached: dict[str, Any] | None = None
        if lock_entry is not None and all(
            lock_entry.get(k) == current.get(k) for k in ("cmd", "deps", "params")
        ):
            outs = lock_entry.get("outs") or []
            recorded = {o.get("path") for o in outs if recorded_hash(o)}
            if all(o.path in recorded for o in stage.outs):
                # DVC-compat: an unchanged stage whose outputs are gone is restored
                # from its own lock entry, even with --no-run-cache.
                cached = dict(current, outs=outs)
        if cached is None and self.use_run_cache:
            keyed = dict(
                current, outs=[{"path": o.path} for o in sorted(stage.outs, key=lambda o: o.path)]
            )
            cached = self.runs.lookup(keyed)
        if cached is None:
            return False
        outs_by_path = {o["path"]: o for o in cached.get("outs", []) if isinstance(o, dict)}
        if set(outs_by_path) != {o.path for o in stage.outs}:
            return False
        wanted = [(p, str(recorded_hash(o))) for p, o in outs_by_path.items()]
        if not outs_cached(self.repo, wanted):
            # DVC-compat: with `--pull`, a recorded run's outputs are fetched first.
            if self.pull_remote is None or self.dry:
                return False
            objs = {h: h.endswith(".dir") for _p, h in wanted}
            download_objects(self.repo, self.pull_remote, objs)
            if not outs_cached(self.repo, wanted):
                return False
        self.echo(f"Stage '{self.shown(stage)}' is cached - skipping run, checking out outputs\n")
        if self.dry:
            return True
        # `_start` removed the outputs first, as before a run (files `.dvcignore`
        # hides inside an output directory too).
        self._checkout_outs(stage, outs_by_path)
        return True

    def pull_outputs(self, stage: Stage) -> bool:
        """`repro --pull`: restores an otherwise unchanged stage's missing outputs from
        the objects its `dvc.lock` entry names (fetched first, when the cache lacks
        them); False when they cannot be, and the stage must run.

        DVC-compat: "Pulling data for stage", or "Unable to pull data" before running.
        Only such a stage's outputs are fetched: not those of a stage that runs. Only
        cached outputs are pulled: a missing `cache: false` one stays missing.
        """
        shown = f"stage: '{self.shown(stage)}'"
        self.echo(f"Pulling data for {shown}\n")
        entry = self.ws.lock(stage.dvcfile).get(stage.name) or {}
        cached = {out.path for out in stage.outs if out.cache}
        outs_by_path = {
            o["path"]: o
            for o in entry.get("outs") or []
            if isinstance(o, dict) and o.get("path") in cached
        }
        wanted = [
            (out.path, str(recorded_hash(outs_by_path[out.path])))
            for out in stage.outs
            if out.path in outs_by_path and recorded_hash(outs_by_path[out.path])
        ]
        if self.pull_remote is not None:
            objs = {h: h.endswith(".dir") for _p, h in wanted}
            download_objects(self.repo, self.pull_remote, objs)
        missing = [(path, md5) for path, md5 in wanted if not outs_cached(self.repo, [(path, md5)])]
        if missing:
            # DVC-compat: DVC's warning for data found on neither side.
            self.warn(
                "warning: Some of the cache files do not exist neither locally nor on remote."
                " Missing cache files:\n"
                + "".join(f"name: {path}, md5: {md5}\n" for path, md5 in missing)
            )
        if len(wanted) != len(cached) or missing:
            self.echo(f"Unable to pull data for {shown}\n")
            return False
        if not self.dry:
            self._checkout_outs(stage, outs_by_path)
        return True

    def _checkout_outs(self, stage: Stage, outs_by_path: dict[str, dict[str, Any]]) -> None:
        """Checks the stage's outputs out of the cache as `outs_by_path` records them
        (those it does not name are left as they are)."""
        for out in stage.outs:
            item = outs_by_path.get(out.path)
            if item is None:
                continue
            # A DVC 2 record names an object of the cache's old layout (`mlvc.objects`).
            oid = str(recorded_hash(item))
            cache, md5 = self.repo.objects.locate(oid)
            dest = self.repo.root / stage.repo_path(out.path)
            # DVC-compat: uncached outputs are restored as plain copies (git tracks them).
            link_types = self.repo.link_types if out.cache else "copy"
            if md5.endswith(".dir"):
                cache.checkout_tree(
                    md5,
                    dest,
                    link_types=link_types,
                    force=True,
                    ignore_root=self.repo.root,
                    state=self.repo.state,
                    record=not is_legacy(oid),
                )
            else:
                if dest.is_dir():
                    shutil.rmtree(dest)
                dest.parent.mkdir(parents=True, exist_ok=True)
                cache.checkout_files(
                    [(dest, md5, bool(item.get("isexec")))],
                    link_types=link_types,
                    force=True,
                    state=self.repo.state,
                    record=not is_legacy(oid),
                )
            self.ws.invalidate(stage.repo_path(out.path))

    # -- running ------------------------------------------------------------------
    def prepare_run(self, stage: Stage) -> None:
        """DVC-compat: outputs are deleted before the command runs, unless persistent."""
        if self.ignores.ignores is not None:
            self.ignores.ignores.ask_now()
        for out in stage.outs:
            path = self.repo.root / stage.repo_path(out.path)
            if out.persist:
                if path.exists():
                    unprotect_path(self.repo, path)
                continue
            _remove(path)
            self.ws.invalidate(stage.repo_path(out.path))

    def commit(self, stage: Stage, params: Any, *, save_run: bool) -> None:
        """Hashes and caches the outputs, records the run and updates `dvc.lock`."""
        self.write_locks([(stage, self.record(stage, params, save_run=save_run))])

    def record(self, stage: Stage, params: Any, *, save_run: bool) -> dict[str, Any]:
        """Hashes and caches the outputs, records the run; returns the lock entry."""
        for dep in stage.deps:
            self.ws.invalidate(stage.repo_path(dep))
        deps = self._dep_infos(stage)
        # DVC-compat: no output goes to the cache unless all of them exist (`commit`
        # ignores in git those before a missing one).
        self.outputs_present(stage, ignore=self.committing)
        outs: list[tuple[str, HashInfo]] = []
        # DVC-compat: `--no-commit` hashes outputs for `dvc.lock` but stores
        # nothing in the cache, and records no run.
        store = not self.no_commit
        # DVC-compat: `commit` records the run even with an uncached plain output
        # (storing that output too); `repro` records none then.
        savable = can_cache(stage) if self.committing else can_save(stage)
        cache_uncached = store and save_run and savable
        for out in stage.outs:
            rel = stage.repo_path(out.path)
            path = self.repo.root / rel
            self.ws.invalidate(rel)
            if not os.path.lexists(path):
                raise ReproError(
                    f"stage `{self.shown(stage)}`: output `{rel}` does not exist",
                    "make the command write it, or remove it from the stage's outputs",
                )
            if out.cache and self.git_index is not None and self.git_index.holds(rel):
                if self.committing:
                    raise gitignore.GitTrackedOutputError(self.repo.root, rel)
                raise gitignore.GitTrackedOutputError(
                    self.repo.root,
                    rel,
                    prefix=f"failed to reproduce `{self.shown(stage)}`: ",
                    exit_code=255,
                )
            kept = self._kept_legacy(stage, "outs", out.path)
            if kept is not None:
                if (out.cache and store) or cache_uncached:
                    self._store_legacy(path)
                info = kept
            else:
                keep = (out.cache and store) or cache_uncached
                info = save_output(self.repo, path, store=keep, relink=self._relink).info
                self.ws.put(rel, info)
            if is_empty(info):
                self.warn(
                    f"warning: '{self.repo.shown(rel, self.repo.root / self.where)}' is empty\n"
                )
            outs.append((out.path, info))
            if out.cache and self.repo.scm is not None:
                changed = self.ignores.add(path)
                if changed is not None and changed not in self.result.to_stage:
                    self.result.to_stage.append(changed)
        entry = stage_entry(stage.cmd, deps, params, outs)
        if cache_uncached:
            # Written by `chores`, while the next command runs.
            self._runs_pending.append((self.shown(stage), entry))
        return entry

    def outputs_present(self, stage: Stage, *, ignore: bool = False) -> None:
        """Raises for a stage's first missing output, nothing stored yet.

        DVC-compat: `commit` saves (hashes and, with `ignore`, ignores in git) every
        output of a stage before any goes to the cache: a missing one, or one git
        tracks, stops the stage with the outputs before it ignored, none of them cached.
        """
        for out in stage.outs:
            rel = stage.repo_path(out.path)
            path = self.repo.root / rel
            if not os.path.lexists(path):
                raise ReproError(
                    f"stage `{self.shown(stage)}`: output `{rel}` does not exist",
                    "make the command write it, or remove it from the stage's outputs",
                )
            if ignore and out.cache and self.git_index is not None and self.git_index.holds(rel):
                raise gitignore.GitTrackedOutputError(self.repo.root, rel)
            if ignore and out.cache and self.repo.scm is not None:
                changed = self.ignores.add(path)
                if changed is not None and changed not in self.result.to_stage:
                    self.result.to_stage.append(changed)

    def _place_new(self, lock_path: str, stages: dict[str, Any], name: str) -> None:
        """Keeps entries this run adds in plan order, whatever order parallel runs end in.

        DVC-compat: new stages are appended in the order DVC (serial) writes them.
        """
        added = self._added.setdefault(lock_path, [])
        last = len(self.plan_pos)

        def pos(n: str) -> int:
            return self.plan_pos.get((lock_path, n), last)

        # `added` is kept in plan order. A stage that ends after every earlier one in
        # the plan (the usual case, and always in a chain) is already in place at the
        # end: only one that overtook another costs a reordering.
        in_order = not added or pos(added[-1]) <= pos(name)
        added.append(name)
        if in_order:
            return
        fresh = {n: stages[n] for n in added}
        kept = [(k, v) for k, v in stages.items() if k not in fresh]
        order = sorted(added, key=pos)
        added[:] = order
        stages.clear()
        stages.update(kept)
        stages.update((n, fresh[n]) for n in order)

    def write_locks(self, entries: list[tuple[Stage, dict[str, Any]]]) -> None:
        """Records entries in their lock files, each file written once (atomically)."""
        by_file: dict[str, list[tuple[Stage, dict[str, Any]]]] = {}
        for stage, entry in entries:
            by_file.setdefault(lock_path_for(stage.dvcfile), []).append((stage, entry))
        for shown, group in by_file.items():
            lock = self.ws.lock(group[0][0].dvcfile)
            if not lock.exists:
                self.echo(f"Generating lock file '{self.shown_path(shown)}'\n")
            modified = False
            for stage, entry in group:
                new = stage.name not in lock.stages
                modified = lock.set(stage.name, entry) or modified
                if new and self.parallel:
                    self._place_new(shown, lock.stages, stage.name)
            if modified or not lock.exists:
                # DVC-compat: said once per file and write, only when an entry changed.
                if modified:
                    self.echo(f"Updating lock file '{self.shown_path(shown)}'\n")
                self._save_lock(shown, lock)
                path = self.repo.root / shown
                if path not in self.result.to_stage:
                    self.result.to_stage.append(path)

    def _save_lock(self, shown: str, lock: LockFile) -> None:
        # A lock file is rewritten whole: after each of a thousand quick stages,
        # that is quadratic in bytes written. In `repro`, `chores` writes it at
        # most every LOCK_WRITE_INTERVAL, while a command runs; `flush_locks`
        # writes the rest when the run ends, failed or interrupted.
        if self.defer_lock_writes:
            self._locks_pending[shown] = lock
            lock.exists = True  # written by the flush at the latest
            return
        self._write_lock(shown, lock)

    def _write_lock(self, shown: str, lock: LockFile) -> None:
        self.ignores.flush()
        lock.save()
        # Only once saved: a Ctrl-C during the save leaves it to `flush_locks`.
        self._locks_pending.pop(shown, None)
        self._lock_written_at[shown] = time.monotonic()

    def chores(self) -> None:
        """Writes what recorded stages left: run-cache entries, and lock files due again.

        `repro` calls it once a command is started, so that the writing overlaps it.
        """
        self._save_runs()
        now = time.monotonic()
        for shown, lock in list(self._locks_pending.items()):
            last = self._lock_written_at.get(shown)
            if last is None or now - last >= LOCK_WRITE_INTERVAL:
                self._write_lock(shown, lock)

    def _save_runs(self) -> None:
        pending, self._runs_pending = self._runs_pending, []
        for shown, entry in pending:
            try:
                self.runs.save(entry)
            except OSError as exc:
                # The lock entry is the record; the run cache only saves reruns.
                self.warn(
                    f"warning: the run of stage '{shown}' was not saved in the run cache: {exc}\n"
                )

    def flush_locks(self) -> None:
        """Writes the lock files, `.gitignore` entries and run-cache entries not written yet."""
        self._save_runs()
        self.ignores.flush()
        while self._locks_pending:
            shown, lock = self._locks_pending.popitem()
            self._write_lock(shown, lock)


def repro(
    repo: Repo,
    targets: list[str] | None = None,
    *,
    cwd: Path | None = None,
    force: bool = False,
    single_item: bool = False,
    downstream: bool = False,
    all_pipelines: bool = False,
    whole_pipeline: bool = False,
    recursive: bool = False,
    glob: bool = False,
    dry: bool = False,
    keep_going: bool = False,
    ignore_errors: bool = False,
    force_downstream: bool = False,
    no_commit: bool = False,
    allow_missing: bool = False,
    run_cache: bool = True,
    jobs: int = 1,
    echo: Echo = _stdout,
    warn: Echo = _stderr,
    confirm: Confirm | None = None,
    pull: bool = False,
) -> ReproResult:
    """Reproduces the targets' pipelines; see DVC's `repro` for the options' meaning.

    `pull` first pulls the remote's run cache and the planned stages' missing deps
    (`pull_missing`), then fetches what each stage restored needs;
    `ignore_errors` goes on after a failure, with every later stage (dependents
    too), and raises nothing; `force_downstream` runs every stage downstream of
    one that ran; `no_commit` records outputs in `dvc.lock` without caching
    them; `confirm` is asked before each stage that needs reproducing.
    """
    cwd = (cwd or Path.cwd()).absolute()
    if all_pipelines or whole_pipeline:
        # DVC-compat: `-P` and `-p` drop `-s` and `--downstream` altogether, so the
        # stages downstream of a failed one are still skipped with `-k`.
        single_item = downstream = False
    # DVC-compat: `-s` with targets resolves only them.
    alone = targets if single_item and targets else None
    stages = all_stages(repo, warn=warn, only_for=alone)
    graph = build_graph(stages)
    steps = planned_steps(
        repo,
        graph,
        targets or [],
        cwd,
        single_item=single_item,
        downstream=downstream,
        all_pipelines=all_pipelines,
        whole_pipeline=whole_pipeline,
        recursive=recursive,
        glob=glob,
    )
    remote = pull_remote(repo) if pull else None
    if pull and run_cache:
        pull_run_cache(repo, remote, warn)
    if pull:
        pull_missing(repo, graph, steps)
    result = ReproResult()
    runner = _Runner(
        repo,
        graph,
        force=force,
        dry=dry,
        allow_missing=allow_missing,
        run_cache=run_cache,
        echo=echo,
        warn=warn,
        pull=pull,
        result=result,
        no_commit=no_commit,
        confirm=confirm,
        where=repo.user_dir(cwd),
    )
    runner.pull_remote = remote
    runner.parallel = jobs > 1
    runner.plan_pos = {
        (lock_path_for(stages[i].dvcfile), stages[i].name): k for k, i in enumerate(steps)
    }
    runner.defer_lock_writes = True
    with repo.lock():
        runner.rwlock = RWLock(repo.tmp_dir, warn=runner.warn, shown=runner.shown_abs)
        failed = False
        try:
            _execute(
                runner,
                steps,
                single_item,
                "ignore" if ignore_errors else "keep-going" if keep_going else "fail",
                max(1, jobs),
                force_downstream=force_downstream,
            )
        except BaseException as exc:
            # Ctrl-C, or an error while commands run (a lock file that cannot be
            # written): no command is left running behind the user's back.
            runner.processes.kill_all()
            # DVC-compat: a failed repro (not an interrupted one) takes back the
            # `.gitignore` entries it added, even those of stages that succeeded.
            failed = isinstance(exc, Exception)
            raise
        finally:
            try:
                runner.flush_locks()
                if failed:
                    runner.ignores.undo()
            finally:
                runner.rwlock.close()
    return result


# How long a lock file change may wait for the next stage's, to be written together.
LOCK_WRITE_INTERVAL = 0.05


@dataclass
class _Job:
    """A stage whose commands were started; `buffer` holds their output with -j."""

    index: int
    params: Any
    run: StageRun
    buffer: io.BytesIO | None
    header: str
    # This process's entries in `.dvc/tmp/rwlock` for the stage, dropped when it ends.
    held: list[tuple[str, str]] = field(default_factory=list)


def _execute(
    runner: _Runner,
    steps: list[int],
    single_item: bool,
    on_error: OnError,
    jobs: int,
    *,
    force_downstream: bool = False,
) -> None:
    """Runs the plan in order, stopping, skipping or going on after failures per `on_error`."""
    keep_going = on_error != "fail"
    graph = runner.graph
    stages = graph.stages
    result = runner.result
    in_plan = set(steps)
    # One batch for every path the plan reads: per-stage hashing calls add up.
    runner.ws.prefetch(
        stages[i].repo_path(p)
        for i in steps
        for p in [*stages[i].deps, *(o.path for o in stages[i].outs)]
    )
    pending_ups = {
        i: {u for u in ([] if stages[i].frozen else graph.upstream[i]) if u in in_plan}
        for i in steps
    }
    if single_item:
        pending_ups = {i: set() for i in steps}
    downstream: dict[int, list[int]] = {i: [] for i in steps}
    for i, ups in pending_ups.items():
        for u in ups:
            downstream[u].append(i)
    # Stages whose upstream stages are all done, by plan position: the next to start.
    position = {i: k for k, i in enumerate(steps)}
    ready = [(position[i], i) for i in steps if not pending_ups[i]]
    left = len(steps)  # neither started nor skipped yet
    skipped: set[int] = set()
    failures: list[tuple[int, BaseException]] = []
    # With -j: the running stages, by what to wait on for each (its current
    # command's output pipe, or its process once that closed its output).
    # One thread starts, waits on and records them all: the commands run on the
    # other cores while it does the bookkeeping, and no lock is handed over.
    running: dict[int, _Job] = {}
    selector = selectors.DefaultSelector() if jobs > 1 else None
    last_ran = False
    ran_before = False
    forced: set[int] = set()

    def finish(i: int) -> None:
        for d in downstream[i]:
            pending_ups[d].discard(i)
            if not pending_ups[d]:
                heapq.heappush(ready, (position[d], d))

    def alone() -> bool:
        """Whether the stage about to start is the only one that can run until it ends.

        Then it runs as in a serial run, its output straight to the terminal.
        """
        return not running and not ended and all(j in skipped for _, j in ready)

    def reproduced(i: int) -> None:
        """DVC-compat (`--force-downstream`): what follows a reproduced stage is forced."""
        if force_downstream:
            forced.update(downstream[i])

    def fail(i: int, exc: BaseException) -> None:
        nonlocal last_ran
        # DVC-compat: a failed stage leaves the blank-line state as it found it.
        last_ran = ran_before
        result.failed.append(stages[i].addressing)
        if on_error == "ignore":
            # DVC-compat: no stage is skipped, and the run ends without an error.
            runner.warn(f"warning: {exc} (ignored)\n")
            return
        failures.append((i, exc))
        todo = list(downstream[i])
        while todo:
            d = todo.pop()
            if d not in skipped:
                skipped.add(d)
                todo.extend(downstream[d])
        if keep_going:
            runner.warn(f"warning: {exc}\n")
            names = [runner.shown(stages[d]) for d in steps if d in skipped]
            if names:
                runner.warn(
                    f"warning: {'stages' if len(names) > 1 else 'stage'} "
                    f"{', '.join(repr(n) for n in names)} will be skipped due to this failure\n"
                )

    def complete(job: _Job, error: BaseException | None) -> None:
        nonlocal last_ran
        stage = stages[job.index]
        if job.buffer is not None:
            runner.echo(job.header + job.buffer.getvalue().decode("utf-8", "replace"))
        try:
            if error is not None:
                raise error
            params = param_values(runner.ws, stage) if job.params is None else job.params
            runner.commit(stage, params, save_run=True)
            result.ran.append(stage.addressing)
            last_ran = True
            reproduced(job.index)
        except (MlvcError, OSError) as exc:
            fail(job.index, exc)
        finally:
            runner.unlock_stage(job.held)
        finish(job.index)

    def watch(job: _Job) -> None:
        assert selector is not None
        fd = job.run.fileno()
        selector.register(fd, selectors.EVENT_READ, job)
        running[fd] = job

    def take_output(fd: int) -> None:
        """Serves a ready pipe or pidfd; a stage whose last command ended goes to `ended`."""
        assert selector is not None
        job = running[fd]
        line = job.run.lines_started
        error: BaseException | None = None
        try:
            done = job.run.read()
        except (MlvcError, OSError) as exc:
            done, error = True, exc
        if done or job.run.lines_started != line or job.run.fileno() != fd:
            # Ended; or its next command line writes to a new pipe (which may
            # have the closed one's number, but is not watched yet); or the
            # command closed its output and its exit is what to wait for.
            selector.unregister(fd)
            del running[fd]
            if done:
                ended.append((job, error))
            else:
                watch(job)

    # Stages whose commands ended, recorded only after the freed slots got new
    # commands: with -j, those commands then run during this bookkeeping.
    ended: list[tuple[_Job, BaseException | None]] = []
    try:
        while left or running or ended:
            if any(error is not None for _, error in ended):
                # A command failed: record that before deciding what else may start.
                for ended_job, error in ended:
                    complete(ended_job, error)
                ended.clear()
            stop = bool(failures) and not keep_going
            while ready and not stop:
                if selector is not None and len(running) >= jobs:
                    break
                _, i = heapq.heappop(ready)
                left -= 1
                if i in skipped:
                    continue
                if last_ran:
                    runner.echo("\n")
                ran_before, last_ran = last_ran, False
                force = runner.force or i in forced
                parallel = selector is not None and not alone()
                try:
                    job = _start(runner, i, parallel=parallel, force=force)
                except (MlvcError, OSError) as exc:
                    fail(i, exc)
                    finish(i)
                    stop = not keep_going
                    continue
                if job is None:
                    finish(i)
                    continue
                if isinstance(job, _Job):
                    if parallel:
                        watch(job)
                        continue
                    # What the last stage left to write is written while this
                    # one's command runs.
                    runner.chores()
                    try:
                        job.run.wait()
                    except (MlvcError, OSError) as exc:
                        complete(job, exc)
                    else:
                        complete(job, None)
                    stop = bool(failures) and not keep_going
                    continue
                # restored from the cache or verified: already recorded
                last_ran = True
                reproduced(i)
                finish(i)
                if not running:
                    runner.chores()
            if ended:
                for ended_job, error in ended:
                    complete(ended_job, error)
                ended.clear()
                continue
            if stop and not running:
                break
            if running:
                assert selector is not None
                runner.chores()
                for key, _ in selector.select():
                    take_output(key.fd)
            elif not ready:
                # Nothing runs and nothing can start: what is left waits on failed stages.
                break
    finally:
        if selector is not None:
            selector.close()
    if failures:
        if len(failures) == 1:
            raise failures[0][1]
        names = ", ".join(f"`{runner.shown(stages[i])}`" for i, _ in failures)
        raise ReproError(
            f"failed to reproduce stages {names}",
            "see the warnings above; the stages that succeeded were recorded in `dvc.lock`",
        )


def _start(
    runner: _Runner, i: int, *, parallel: bool = False, force: bool = False
) -> _Job | bool | None:
    """Decides stage `i`: None = unchanged, True = restored/verified, a started job = running.

    `parallel` (-j) sends the commands' output to a buffer, shown when the stage ends.
    """
    stage = runner.graph.stages[i]
    runner.check_locks(stage)
    if stage.is_data_source:
        return _verify_data_source(runner, stage, force=force)
    if stage.frozen:
        # DVC-compat: DVC's warning for every frozen stage in the plan.
        runner.warn(
            f"warning: stage '{runner.shown(stage)}' is frozen: "
            "its dependencies are not going to be reproduced\n"
        )
    if not runner.needs_run(stage, force=force):
        runner.echo(f"Stage '{runner.shown(stage)}' didn't change, skipping\n")
        return None
    if (
        runner.pull
        and not (force or runner.force)
        and not runner.needs_run(stage, allow_missing=True)
        and runner.pull_outputs(stage)
    ):
        return None  # DVC-compat: not reproduced, so no lock write
    runner.ask(stage)
    if stage.frozen:
        # DVC-compat: a changed frozen stage is not run; its outputs are checked and saved.
        runner.echo(f"Verifying outputs in frozen stage: '{runner.shown(stage)}'\n")
        if not runner.dry:
            # DVC-compat: every output must be there before any is hashed or cached.
            runner.outputs_present(stage)
            # DVC-compat: the check is recorded in the run cache, as a run would be.
            runner.commit(stage, param_values(runner.ws, stage), save_run=True)
        runner.result.restored.append(stage.addressing)
        return True
    force = force or runner.force
    if not stage.commands:
        # Refused before anything is shown or removed: the outputs stay as they are.
        raise ReproError(f"stage `{runner.shown(stage)}` has no command to run", "give it a `cmd`")
    # DVC-compat: the stage's per-path locks are held from before its outputs go until
    # it is recorded, whether it runs or comes from the run cache.
    held = [] if runner.dry else runner.lock_stage(stage)
    try:
        if not runner.dry:
            # DVC-compat: the outputs go before the deps and params are read, so a stage
            # failing on a missing one has lost them.
            runner.prepare_run(stage)
        params: dict[str, dict[str, Any]] | None = None
        if not force:
            params = param_values(runner.ws, stage)
            # DVC-compat: deps are hashed first only to look the run up in the run cache;
            # a dry run of a stage that cannot use it names the command even if a dep is
            # missing.
            deps = [] if runner.dry and not can_cache(stage) else runner._dep_infos(stage)
            if runner.try_restore(stage, deps, params):
                if not runner.dry:
                    runner.commit(stage, params, save_run=True)
                runner.result.restored.append(stage.addressing)
                runner.unlock_stage(held)
                return True
        # DVC-compat: else a forced stage's deps and params are read only once it ran, so
        # a missing one fails it after its command.
        header = f"Running stage '{runner.shown(stage)}':\n"
        if runner.dry:
            runner.echo(header + "".join(f"> {c}\n" for c in stage.commands))
            runner.result.ran.append(stage.addressing)
            return True
        return _launch(runner, i, stage, params, header, parallel=parallel, held=held)
    except BaseException:
        runner.unlock_stage(held)
        raise


def _launch(
    runner: _Runner,
    i: int,
    stage: Stage,
    params: Any,
    header: str,
    *,
    parallel: bool,
    held: list[tuple[str, str]],
) -> _Job:
    """Starts the stage's commands (`_start` removed its outputs)."""
    shown = runner.shown(stage)
    buffer: io.BytesIO | None = None
    echo = runner.echo
    if parallel:
        buffer = out = io.BytesIO()

        def echo(text: str) -> None:
            out.write(text.encode())

    else:
        runner.echo(header)
    run = StageRun(
        stage, runner.repo.root, processes=runner.processes, out=buffer, echo=echo, shown=shown
    )
    job = _Job(i, params, run, buffer, header if parallel else "", held)
    run.start()
    return job


def _verify_data_source(runner: _Runner, stage: Stage, *, force: bool = False) -> bool | None:
    """DVC-compat: a `.dvc` file in the plan is checked, and committed when its data changed."""
    from mlvc.ops.commit import commit_dvcfile
    from mlvc.ops.status import out_state

    repo = runner.repo
    path = repo.root / stage.dvcfile
    dvcfile = DvcFile.load(path)
    changed = force or any(
        out_state(repo, dvcfile, out, workspace=runner.ws) is not None for out in dvcfile.outs
    )
    if not changed:
        runner.echo(f"'{runner.shown(stage)}' didn't change, skipping\n")
        return None
    runner.ask(stage)
    runner.result.ran.append(stage.addressing)
    if runner.dry:
        return True
    runner.echo(f"Verifying data sources in stage: '{runner.shown(stage)}'\n")
    for out in dvcfile.outs:
        if not os.path.lexists(dvcfile.out_path(out)):
            raise ReproError(
                f"failed to reproduce `{runner.shown(stage)}`: missing data source "
                f"`{repo.relpath(dvcfile.out_path(out))}`",
                f"restore it (`mlvc checkout {runner.shown(stage)}`) or stop tracking it",
            )
    stored = not runner.no_commit
    if commit_dvcfile(repo, path, store=stored) and path not in runner.result.to_stage:
        runner.result.to_stage.append(path)
    for out in dvcfile.outs:
        runner.ws.invalidate(stage.repo_path(out.path))
        if out.cache:
            touched = runner.ignores.add(dvcfile.out_path(out))
            if touched is not None and touched not in runner.result.to_stage:
                runner.result.to_stage.append(touched)
    return True


def planned_steps(
    repo: Repo,
    graph: Graph,
    targets: list[str],
    cwd: Path,
    *,
    single_item: bool = False,
    downstream: bool = False,
    all_pipelines: bool = False,
    whole_pipeline: bool = False,
    recursive: bool = False,
    glob: bool = False,
) -> list[int]:
    """The stages `repro` checks for these targets and options, in its order."""
    if all_pipelines:
        chosen: list[int] | None = None
        single_item = downstream = False
    else:
        chosen = select(
            repo, graph.stages, targets or [PROJECT_FILE], cwd, recursive=recursive, glob=glob
        )
        if not chosen:
            # DVC-compat: patterns that match nothing leave no targets, which
            # DVC's planner reads as "the whole graph".
            chosen = None
    if whole_pipeline:
        single_item = downstream = False
    return plan(
        graph,
        chosen,
        downstream=downstream,
        single_item=single_item,
        whole_pipelines=whole_pipeline,
    )


def pull_missing(repo: Repo, graph: Graph, steps: list[int]) -> None:
    """`repro --pull`: pulls the missing deps tracked by `.dvc` files of the planned
    stages (called by `repro` once it has planned them: the targets' upstream stages
    are checked too). Stage outputs are fetched as each stage is reached (`_Runner`).
    """
    from mlvc.ops import transfer

    tracked = {path for path, _ in dvcfile_outputs(repo)}
    missing_deps: list[str] = []
    for i in steps:
        stage = graph.stages[i]
        if stage.is_data_source:
            continue  # its output is a dep of the stages below: pulled with them
        for dep in stage.deps:
            rel = stage.repo_path(dep)
            if rel in tracked and not (repo.root / rel).exists():
                missing_deps.append(rel)
    if missing_deps:
        transfer.pull(repo, [str(repo.root / p) for p in missing_deps], cwd=repo.root)


def pull_remote(repo: Repo) -> Remote | None:
    """`repro --pull`: the default remote; None without one.

    DVC-compat: no remote fails nothing; what the cache holds is still restored.
    """
    from mlvc.ops import transfer
    from mlvc.remote import open_remote

    try:
        return open_remote(repo.config, transfer.remote_name(repo, None, None))
    except transfer.NoRemoteError:
        return None


def download_objects(repo: Repo, backend: Remote, wanted: dict[str, bool]) -> int:
    """Downloads what the cache lacks of the objects `wanted` (id: whether it is a
    `.dir` object, whose files are wanted too) that the remote holds; returns how many."""
    objects = repo.objects
    dirs = {h for h, is_dir in wanted.items() if is_dir and not objects.contains(h)}
    got = len(backend.download(objects, dirs & backend.exists_many(dirs)).transferred)
    files = {h for h, is_dir in wanted.items() if not is_dir}
    for d in wanted:
        if wanted[d] and objects.contains(d):
            files.update(h for _, h in objects.read_manifest(d))
    files = {h for h in files if not objects.contains(h)}
    got += len(backend.download(repo.objects, files & backend.exists_many(files)).transferred)
    return got


def pull_run_cache(repo: Repo, backend: Remote | None, warn: Echo) -> None:
    """`repro --pull`: copies the remote's run cache into the local one.

    DVC-compat: done before anything runs, unless `--no-run-cache`; without a remote
    DVC only warns.
    """
    if backend is None:
        config = repo.dvc_dir / "config"
        warn(f"warning: failed to pull run cache: no remote specified in `{config}`\n")
        return
    with repo.lock():
        backend.download_runs(repo.cache_dir)


def locked_outputs(
    repo: Repo,
    targets: list[str] | None = None,
    *,
    cwd: Path | None = None,
    stages: list[Stage] | None = None,
    hashless: list[Path] | None = None,
) -> list[tuple[Path, Output]]:
    """`(workspace path, recorded output)` of the stages' cached outputs, from `dvc.lock`.

    No targets means every stage (or every one of `stages`, when given); a stage
    without a lock entry has nothing recorded. The workspace paths of cached outputs
    with no hash at all (their stage never ran) go to `hashless`, if given.
    """
    if stages is None:
        if not repo.pipeline_files():
            return []
        cwd = (cwd or Path.cwd()).absolute()
        every = ordered_stages(load_pipelines(repo))
        chosen = select(repo, every, targets, cwd) if targets else range(len(every))
        stages = [every[i] for i in chosen]
    ws = Workspace(repo)
    found = []
    for stage in stages:
        recorded = entry_hashes(ws.lock(stage.dvcfile).get(stage.name), "outs")
        for out in stage.outs:
            item = recorded.get(out.path)
            record = recorded_output(item, out.path) if out.cache else None
            if record is None:
                if hashless is not None and out.cache and recorded_hash(item) is None:
                    hashless.append(repo.root / stage.repo_path(out.path))
                continue
            found.append((repo.root / stage.repo_path(out.path), record))
    return found


def commit_stages(
    repo: Repo,
    targets: list[str] | None = None,
    *,
    cwd: Path | None = None,
    echo: Echo = _stdout,
    warn: Echo = _stderr,
    only: Collection[str] | None = None,
    relink: bool = True,
    ask: Callable[[str], bool] | None = None,
) -> ReproResult:
    """`commit` for pipeline stages: records current deps and outputs in `dvc.lock`.

    `ask`: asked about each changed stage first (see `mlvc.ops.commit.commit`).

    Outputs are stored in the cache; the stages do not run. `only`: the stages to
    commit, by their addressing (instead of `targets`). Without `relink`, outputs are
    left as they are (see `add`).
    """
    cwd = (cwd or Path.cwd()).absolute()
    result = ReproResult()
    if not repo.pipeline_files():
        return result
    # `only` was resolved by the caller: other stages' errors are not this command's.
    stages = ordered_stages(load_pipelines(repo, defer_errors=only is not None))
    if only is not None:
        chosen = [i for i, s in enumerate(stages) if s.addressing in only]
    else:
        chosen = select(repo, stages, targets, cwd) if targets else list(range(len(stages)))
    graph = Graph(stages)
    runner = _Runner(
        repo,
        graph,
        force=False,
        dry=False,
        allow_missing=False,
        run_cache=True,
        echo=echo,
        warn=warn,
        result=result,
        where=repo.user_dir(cwd),
        relink=relink,
    )
    runner.committing = True
    # DVC-compat: committing reads a stage's deps and writes its outputs.
    paths = [runner.lock_paths(stages[i]) for i in chosen]
    refuse_busy(
        repo.tmp_dir,
        read=[p for deps, _outs in paths for p in deps],
        write=[p for _deps, outs in paths for p in outs],
        warn=runner.warn,
        shown=runner.shown_abs,
    )
    # DVC-compat: with `-f` every stage is saved (recording its run); without, only
    # the changed ones are, and the others just have their outputs cached.
    changed = (
        None if ask is None else _confirm_stages(runner, [stages[i] for i in chosen], cwd, ask)
    )
    entries: list[tuple[Stage, dict[str, Any]]] = []
    try:
        for i in chosen:
            stage = stages[i]
            save_run = changed is None or stage.addressing in changed
            entries.append(
                (stage, runner.record(stage, param_values(runner.ws, stage), save_run=save_run))
            )
    except BaseException:
        # DVC-compat: DVC commits stage by stage and writes each lock file once its
        # stages (consecutive ones of one `dvc.yaml`) are done: what a failure
        # interrupts keeps the runs, cached outputs and `.gitignore` entries of the
        # stages before it, and the lock files of their finished files.
        failed = stages[chosen[len(entries)]].dvcfile if len(entries) < len(chosen) else None
        runner.write_locks([(s, e) for s, e in entries if s.dvcfile != failed])
        runner.flush_locks()
        raise
    runner.write_locks(entries)
    runner.flush_locks()
    return result


def _confirm_stages(
    runner: _Runner, stages: list[Stage], cwd: Path, ask: Callable[[str], bool]
) -> set[str]:
    """DVC-compat: a stage whose deps, outputs (not merely uncached ones) or command
    changed since its `dvc.lock` record is committed only once confirmed.

    Returns the addressings of the changed stages."""
    from mlvc.ops.commit import CommitDeclinedError, changes_message

    changed: set[str] = set()
    for stage in stages:
        deps: list[str] = []
        outs: list[str] = []
        command = None
        for item in stage_status(runner.ws, stage, cwd=cwd, check_cache=False).items:
            if item == CHANGED_COMMAND:
                command = f"'cmd' of stage: '{runner.shown(stage)}' has changed."
            elif isinstance(item, dict):
                deps += list(item.get("changed deps", {}))
                outs += [p for p, v in item.get("changed outs", {}).items() if v != NOT_IN_CACHE]
        if deps or outs or command:
            changed.add(stage.addressing)
            question = changes_message(deps, outs, command)
            if not ask(question.format(stage=f"stage: '{runner.shown(stage)}'")):
                raise CommitDeclinedError(f"unable to commit changed stage `{runner.shown(stage)}`")
    return changed
