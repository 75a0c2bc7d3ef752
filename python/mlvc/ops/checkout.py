"""`checkout`: make the workspace match the `.dvc` files, from the cache."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from mlvc import placed
from mlvc.dvcfile import DvcFile
from mlvc.exceptions import MlvcError
from mlvc.objects import LEGACY_ALGORITHM, LEGACY_PREFIX, bare, is_legacy
from mlvc.ops.status import is_dvcfile_target, select_dvcfiles
from mlvc.progress import Progress, Tally
from mlvc.repo import Repo

if TYPE_CHECKING:
    from mlvc._core import CheckoutResult
    from mlvc.output import Output
    from mlvc.revs import TrackedOut


class CheckoutConflictError(MlvcError):
    """Checkout would overwrite data that exists nowhere else."""

    hint = "commit or move the changes first, or rerun with `--force` to discard them"
    # DVC-compat: `pull` fails so with 1; `checkout` sets 255.
    exit_code = 1


class CheckoutFailedError(MlvcError):
    """Some outputs could not be restored (their objects are not in the cache).

    `summary`: what the checkout did change, when it went on with the other outputs.
    """

    hint = "fetch them from a remote with `mlvc fetch` (or `mlvc pull`)"
    # DVC-compat: `pull` fails so with 1; `checkout` sets 255.
    exit_code = 1

    def __init__(self, message: str, summary: CheckoutSummary | None = None) -> None:
        super().__init__(message)
        self.summary = summary


@dataclass
class CheckoutSummary:
    """What a checkout changed: outputs (repo paths, `/` after a directory) and files."""

    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    failed: list[str] = field(default_factory=list)
    # Cached outputs of stages that never ran: nothing to restore them from.
    unrecorded: list[str] = field(default_factory=list)
    link_types: set[str] = field(default_factory=set)
    # DVC-compat: files counted one by one, in DVC's order (`--summary`, `pull`):
    # a file whose execute bit alone was set counts as modified.
    files: dict[str, int] = field(default_factory=lambda: {"modified": 0, "added": 0, "deleted": 0})

    def record(
        self,
        path: str,
        existed: bool,
        res: CheckoutResult,
        *,
        changed: bool = False,
        as_recorded: bool = False,
    ) -> None:
        """Counts one output's checkout: `path` as added or modified when files changed.

        `as_recorded`: the data was already as recorded (only relinked): unchanged.
        """
        if res.link_type:
            self.link_types.add(res.link_type)
        if as_recorded:
            self.unchanged += 1
            return
        if changed or res.linked or res.removed:
            (self.modified if existed else self.added).append(path)
        else:
            self.unchanged += 1
        self.files["added"] += res.created
        self.files["modified"] += len(res.linked) - res.created
        self.files["deleted"] += len(res.removed)

    def lines(self, repo: Repo, cwd: Path | None = None) -> list[str]:
        """DVC's report lines: `M`, then `A`, then `D`, each with the output's path.

        DVC-compat: paths are relative to the current directory (`./` for itself),
        directories first and then alphabetically within each letter.
        """
        cwd = cwd or Path.cwd()
        found = []
        for letter, paths in (("M", self.modified), ("A", self.added), ("D", self.deleted)):
            shown = []
            for p in paths:
                rel = os.path.relpath(repo.root / p, cwd)
                shown.append(os.path.join(rel, "") if p.endswith("/") else rel)
            shown.sort(key=lambda p: (not p.endswith("/"), p))
            found += [f"{letter}       {p}" for p in shown]
        return found

    def merge(self, other: CheckoutSummary) -> None:
        """Adds another checkout's changes to this one."""
        self.added += other.added
        self.modified += other.modified
        self.deleted += other.deleted
        self.unchanged += other.unchanged
        self.failed += other.failed
        self.link_types |= other.link_types
        for word, n in other.files.items():
            self.files[word] += n


def plural(n: int, word: str = "file") -> str:
    """`1 file`, `2 files`."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def humanize_join(parts: list[str]) -> str:
    """DVC-compat: `a`, `a and b`, `a, b and c`."""
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} and {parts[-1]}"


def conflict_error(conflicts: list[str]) -> CheckoutConflictError:
    """The error for repo paths a checkout would overwrite without `--force`."""
    shown = ", ".join(f"`{c}`" for c in conflicts[:5])
    more = f" and {len(conflicts) - 5} more" if len(conflicts) > 5 else ""
    return CheckoutConflictError(
        f"checkout would overwrite changes that are not in the cache: {shown}{more}"
    )


def restore(
    repo: Repo,
    oid: str,
    dest: Path,
    *,
    isexec: bool = False,
    force: bool = False,
    relink: bool = False,
    jobs: int = 0,
    rewrite: bool = False,
    within: list[str] | None = None,
    progress: Progress | None = None,
    plan_only: bool = False,
) -> CheckoutResult:
    """Checks out one output's object (any id, `mlvc.objects`) at `dest`; with
    `plan_only`, changes nothing and reports what it would do.

    The core compares what it finds at `dest` by md5, which is not a DVC 2 object's
    name for a text file with CRLF line endings: such a file that the (legacy) cache
    holds would be taken for unsaved data. So a DVC 2 output's conflicts are checked
    again by md5-dos2unix, and the checkout forced when every one of them is cached
    (DVC-compat: DVC compares a legacy output's files by md5-dos2unix).
    """
    cache, name = repo.objects.locate(oid)
    # The core remembers what it placed by md5, which names only current objects.
    record = not is_legacy(oid)

    def run(force: bool) -> CheckoutResult:
        if oid.endswith(".dir"):
            return cache.checkout_tree(
                name,
                dest,
                link_types=repo.link_types,
                force=force,
                relink=relink,
                jobs=jobs,
                ignore_root=repo.root,
                state=repo.state,
                within=within,
                progress=progress,
                plan_only=plan_only,
                record=record,
            )
        return cache.checkout_files(
            [(dest, name, isexec)],
            link_types=repo.link_types,
            force=force,
            relink=relink,
            jobs=jobs,
            state=repo.state,
            rewrite=rewrite,
            progress=progress,
            plan_only=plan_only,
            record=record,
        )

    res = run(force)
    if res.conflicts and not force and is_legacy(oid):
        conflicts = [Path(c) for c in res.conflicts]
        hashes = repo.hash_files(conflicts, jobs=jobs, algorithm=LEGACY_ALGORITHM)
        ids = {LEGACY_PREFIX + fh.hash for fh in hashes}
        if len(hashes) == len(conflicts) and ids <= set(repo.objects.contains_many(ids)):
            res = run(True)
    return res


def legacy_unchanged(repo: Repo, out: Output, dest: Path, jobs: int = 0) -> bool:
    """Whether a DVC 2 output's workspace data is what it records (by md5-dos2unix).

    The core would find such a file with CRLF line endings changed and write it again.
    """
    from mlvc.ops.status import current_hash

    if not out.is_legacy or not os.path.lexists(dest):
        return False
    current = current_hash(repo, dest, jobs=jobs, legacy=True)
    return current is not None and current[0] == out.md5


def _tracked_at(repo: Repo, paths: list[str]) -> list[TrackedOut]:
    """The cached outputs at (or holding) repository paths, each limited to its path.

    DVC-compat: `checkout DIR/PATH` restores only what is under `PATH` of `DIR` (or the
    file of `DIR` that `PATH` goes through), `checkout FILE/PATH` the `FILE`.
    """
    if not paths:
        return []
    from mlvc import revs

    outs = [
        t
        for t in revs.outs_at(repo, None) + revs.stage_outs_at(repo, None)
        if t.out.cache and t.out.md5
    ]
    return [
        replace(t, within=t.within_of(rel))
        for rel in paths
        for t in outs
        if t.path == rel or t.within_of(rel)
    ]


def _plans(
    repo: Repo,
    targets: list[str],
    cwd: Path,
    *,
    with_deps: bool,
    recursive: bool,
    hashless: list[Path],
) -> tuple[list[tuple[Path, Output]], list[TrackedOut]]:
    """`(workspace path, record)` of the whole outputs the targets name, and the
    outputs named by a path inside them (see `checkout_within`). Outputs of stages
    that never ran (no hash to restore) go to `hashless`.

    DVC-compat: targets are read as `mlvc.ops.targets.collect` says; none means every
    output of the `.dvc` files and of `dvc.lock`.
    """

    def of_dvcfiles(paths: list[Path]) -> list[tuple[Path, Output]]:
        found = []
        for path in paths:
            dvcfile = DvcFile.load(path)
            found += [
                (dvcfile.out_path(out), out)
                for out in dvcfile.outs
                if out.md5 is not None and out.cache
            ]
        return found

    if not targets:
        # Checking out writes data, never a `.dvc` or `dvc.yaml` file: one listing serves.
        with repo.read_only_listing():
            tracked = of_dvcfiles(repo.dvcfiles())
            if not repo.pipeline_files():
                # No pipeline: the pipeline engine is not even imported.
                return tracked, []
            from mlvc.ops.repro import locked_outputs

            return tracked + locked_outputs(repo, hashless=hashless), []
    if not (with_deps or recursive) and all(is_dvcfile_target(cwd, t) for t in targets):
        return of_dvcfiles(select_dvcfiles(repo, targets, cwd)), []
    from mlvc.ops.repro import locked_outputs
    from mlvc.ops.targets import collect_workspace

    found = collect_workspace(repo, targets, cwd, with_deps=with_deps, recursive=recursive)
    chosen = [found.stages[i] for i in found.chosen]
    plans = of_dvcfiles([repo.root / s.dvcfile for s in chosen if s.is_data_source])
    plans += locked_outputs(
        repo, stages=[s for s in chosen if not s.is_data_source], hashless=hashless
    )
    named = _tracked_at(repo, found.paths)
    plans += [(repo.root / t.path, t.out) for t in named if not t.within]
    whole = {t.path for t in named if not t.within}
    # An output named twice is checked out once.
    unique = list({dest: (dest, out) for dest, out in plans}.values())
    return unique, [t for t in named if t.within and t.path not in whole]


def checkout_within(
    repo: Repo,
    outs: list[TrackedOut],
    summary: CheckoutSummary,
    *,
    force: bool = False,
    relink: bool = False,
    jobs: int = 0,
    progress: Progress | None = None,
) -> list[str]:
    """Checks out only what is under each output's `within`; returns those failed.

    DVC-compat: `checkout DIR/PATH` (and `pull DIR/PATH`) of a tracked `DIR` restores
    the files under `PATH` and deletes the files there that `DIR` does not hold (with
    the same care for unsaved data as a whole checkout); the rest of `DIR` is left
    alone. `DIR` is created even when nothing is to be written into it. A `PATH` that
    goes through a file of `DIR` (or `FILE/PATH` of a tracked file) writes that file
    from the cache even when it is right or holds unsaved changes (DVC builds its
    workspace entry as a directory without a hash, so always sees it changed and
    nothing to save), and counts it as modified (added when it was missing).
    """
    tally = Tally(progress)
    withins: dict[str, list[TrackedOut]] = {}
    for t in outs:
        withins.setdefault(t.path, []).append(t)
    failed: list[str] = []
    conflicts: list[str] = []
    for path, group in withins.items():
        out = group[0].out
        oid = out.oid or ""
        dest = repo.root / path
        if not out.is_dir:
            existed = dest.exists()
            res = restore(
                repo,
                oid,
                dest,
                isexec=out.isexec,
                force=force,
                jobs=jobs,
                rewrite=True,
                progress=tally.part(),
            )
            if res.conflicts:
                conflicts.extend(repo.relpath(Path(c)) for c in res.conflicts)
            elif res.missing:
                failed.append(path)
            else:
                summary.record(path, existed, res)
            continue
        if not repo.objects.contains(oid):
            failed.append(path)
            continue
        existed = dest.exists()
        res = restore(
            repo,
            oid,
            dest,
            force=force,
            relink=relink,
            jobs=jobs,
            within=sorted({t.within for t in group}),
            progress=tally.part(),
        )
        if res.conflicts:
            conflicts.extend(repo.relpath(Path(c)) for c in res.conflicts)
            continue
        if res.missing:
            failed.append(path)
        if not existed:
            dest.mkdir(parents=True, exist_ok=True)
        summary.record(path + "/", existed, res, changed=not existed)
    if conflicts:
        raise conflict_error(conflicts)
    return failed


def checkout(
    repo: Repo,
    targets: list[str] | None = None,
    *,
    cwd: Path | None = None,
    force: bool = False,
    relink: bool = False,
    jobs: int = 0,
    with_deps: bool = False,
    recursive: bool = False,
    allow_missing: bool = False,
    progress: Progress | None = None,
) -> CheckoutSummary:
    """Restores every selected output; refuses (changing nothing) where data would be lost.

    `with_deps` (`-d`) and `recursive` (`-R`) read the targets as
    `mlvc.ops.targets.collect` says. An output whose data is not all in the cache is
    not restored: it is listed in the summary's `failed` and removed from the workspace
    (DVC-compat), except for files the cache does not hold (unless `force`). Failures
    raise `CheckoutFailedError` after everything else is done, unless `allow_missing`.
    """
    cwd = (cwd or Path.cwd()).absolute()
    summary = CheckoutSummary()
    tally = Tally(progress)
    with repo.lock():
        hashless: list[Path] = []
        plans, inside = _plans(
            repo, targets or [], cwd, with_deps=with_deps, recursive=recursive, hashless=hashless
        )
        # DVC-compat: an output whose stage never ran cannot be restored; one in the
        # workspace exists nowhere else, so only `--force` removes it (before anything
        # else changes).
        unsaved = [repo.relpath(d) for d in hashless if os.path.lexists(d)]
        if unsaved and not force:
            raise conflict_error(unsaved)
        summary.unrecorded = [repo.relpath(d) for d in hashless]
        if relink and not force:
            unsaved = _unsaved_before_relink(repo, plans, jobs)
            if unsaved:
                raise conflict_error(unsaved)
        if not targets:
            # DVC-compat: before the workspace is compared with the records, as a
            # removed path may lie inside an output (added there on its own before).
            used = {repo.relpath(d) for d, _ in plans} | set(summary.unrecorded)
            _remove_unused(repo, used, summary)
        if not force and not relink:
            # (A relink's check above covered these directories already.)
            unsaved = _unsaved_in_lost_dirs(repo, plans, jobs)
            if unsaved:
                raise conflict_error(unsaved)
        settled: set[Path] = set()
        if not force and not relink and len(plans) + len(inside) > 1:
            settled = _settled_or_refuse(repo, plans, jobs)
        if inside:
            summary.failed += checkout_within(
                repo, inside, summary, force=force, relink=relink, jobs=jobs, progress=tally.part()
            )
        conflicts: list[str] = []
        failed: list[Path] = []
        for dest, out in plans:
            existed = dest.exists()
            oid = out.oid or ""
            if dest in settled:
                summary.unchanged += 1
                placed.remember(repo.tmp_dir, repo.relpath(dest), oid)
                continue
            if out.is_dir and not repo.objects.contains(oid):
                failed.append(dest)
                continue
            if not relink and legacy_unchanged(repo, out, dest, jobs):
                summary.unchanged += 1
                continue
            # DVC-compat: relinking data that is as recorded changes nothing to report.
            as_recorded = (
                relink and existed and _holds(repo, dest, out.md5, legacy=out.is_legacy, jobs=jobs)
            )
            res = restore(
                repo,
                oid,
                dest,
                isexec=out.isexec,
                force=force,
                relink=relink,
                jobs=jobs,
                progress=tally.part(),
            )
            if res.conflicts:
                conflicts.extend(repo.relpath(Path(c)) for c in res.conflicts)
                continue
            if res.missing:
                failed.append(dest)
                continue
            shown = repo.relpath(dest) + ("/" if out.is_dir else "")
            summary.record(shown, existed, res, as_recorded=as_recorded)
            placed.remember(repo.tmp_dir, repo.relpath(dest), oid)
        if conflicts:
            raise conflict_error(conflicts)
        for dest in failed:
            _discard(repo, dest, force=force, jobs=jobs)
        for dest in hashless:
            _discard(repo, dest, force=True, jobs=jobs)
        make_parents(failed + hashless)
        summary.failed += [repo.relpath(d) for d in failed]
    if (summary.failed or summary.unrecorded) and not allow_missing:
        raise _failure(repo, summary, cwd)
    return summary


def _settled_or_refuse(repo: Repo, plans: list[tuple[Path, Output]], jobs: int) -> set[Path]:
    """Plans the checkout of every output already in the workspace, changing nothing:
    raises the conflicts if any would lose unsaved data, and returns the outputs with
    nothing to do.

    DVC-compat: a checkout that would overwrite unsaved data changes nothing at all,
    not even the outputs that come before it. An output with nothing to do is not
    planned a second time.
    """
    conflicts: list[str] = []
    settled: set[Path] = set()
    for dest, out in plans:
        oid = out.oid or ""
        if not os.path.lexists(dest) or (out.is_dir and not repo.objects.contains(oid)):
            continue
        if legacy_unchanged(repo, out, dest, jobs):
            continue
        res = restore(repo, oid, dest, isexec=out.isexec, jobs=jobs, plan_only=True)
        conflicts += [repo.relpath(Path(c)) for c in res.conflicts]
        if not (res.conflicts or res.linked or res.removed or res.missing):
            settled.add(dest)
    if conflicts:
        raise conflict_error(conflicts)
    return settled


def _unsaved_in_lost_dirs(repo: Repo, plans: list[tuple[Path, Output]], jobs: int) -> list[str]:
    """Workspace files the cache lacks in directory outputs whose `.dir` object it lacks.

    DVC-compat: such a directory cannot be restored, so DVC would remove it; it refuses
    up front, changing nothing, when that would lose files that exist nowhere else.
    """
    files: list[Path] = []
    for dest, out in plans:
        lost = out.is_dir and not repo.objects.contains(out.oid or "")
        if lost and dest.is_dir() and not dest.is_symlink():
            files += files_under(dest)
    return uncached_files(repo, files, jobs=jobs)


def files_under(directory: Path) -> list[Path]:
    """The files (and symlinks) below a workspace directory, sorted."""
    return sorted(p for p in directory.rglob("*") if p.is_file() or p.is_symlink())


def _unsaved_before_relink(repo: Repo, plans: list[tuple[Path, Output]], jobs: int) -> list[str]:
    """Workspace files of outputs the cache does not fully hold, whose data it lacks.

    DVC-compat: a relink removes each file before linking it again, and DVC refuses
    (without `--force`) to remove one the cache does not hold, as data added with
    `--no-commit`. With `--force` DVC deletes them and then fails; mlvc keeps them.
    """
    files: list[Path] = []
    for dest, out in plans:
        oid = out.oid or ""
        if out.is_dir:
            if repo.objects.contains(oid):
                hashes = {h for _rel, h in repo.objects.read_manifest(oid)}
                if set(repo.objects.contains_many(hashes, jobs)) >= hashes:
                    continue
            if dest.is_dir() and not dest.is_symlink():
                files += files_under(dest)
        elif not repo.objects.contains(oid) and os.path.lexists(dest):
            files.append(dest)
    return uncached_files(repo, files, jobs=jobs)


def uncached_files(
    repo: Repo, files: list[Path], *, jobs: int = 0, recorded: list[str | None] | None = None
) -> list[str]:
    """Repo paths of the `files` whose content the cache does not hold, in their order;
    with `recorded` (a hash per file, or None), a file whose content is its recorded
    hash counts as held."""
    if not files:
        return []
    hashed = repo.hash_files(files, jobs=jobs)
    cached = set(repo.objects.contains_many({fh.hash for fh in hashed}, jobs))
    was = recorded if recorded is not None else [None] * len(files)
    return [
        repo.relpath(p)
        for p, fh, h in zip(files, hashed, was, strict=True)
        if fh.hash != h and fh.hash not in cached
    ]


def _remove_unused(repo: Repo, used: set[str], summary: CheckoutSummary) -> None:
    """Removes the outputs mlvc placed that nothing tracks any more, when they still
    hold what was placed (`mlvc.placed`); they are reported as deleted.

    DVC-compat: DVC does this with the outputs it placed, on a checkout without targets.
    """
    records = placed.load(repo.tmp_dir)
    candidates = {rel: oid for rel, oid in records.items() if rel not in used}
    if candidates:
        # Outputs not in the cache (`cache: false`) are in use too.
        from mlvc.ops.repro import all_stages

        for stage in all_stages(repo):
            for out in stage.outs:
                candidates.pop(stage.repo_path(out.path), None)
    removed = []
    for rel, oid in sorted(candidates.items()):
        path = repo.root / rel
        if not os.path.lexists(path):
            removed.append(rel)
            continue
        is_dir = path.is_dir() and not path.is_symlink()
        if not _holds(repo, path, bare(oid), legacy=is_legacy(oid)):
            continue  # changed since: it exists nowhere else
        shutil.rmtree(path) if is_dir else path.unlink()
        repo.state.forget(path)
        removed.append(rel)
        summary.deleted.append(rel + ("/" if is_dir else ""))
        summary.files["deleted"] += 1
    if removed:
        placed.forget(repo.tmp_dir, removed)


def _holds(repo: Repo, dest: Path, md5: str | None, *, legacy: bool, jobs: int = 0) -> bool:
    """Whether the workspace at `dest` holds the data of hash `md5` (from the state)."""
    from mlvc.ops.status import current_hash

    current = current_hash(repo, dest, jobs=jobs, legacy=legacy)
    return current is not None and md5 is not None and current[0] == md5


def warn_unrecorded(repo: Repo, unrecorded: list[str], cwd: Path) -> None:
    """One warning per output of a stage that never ran (checkout and pull).

    DVC-compat: said even with `--allow-missing`, which only spares the failure.
    """
    for rel in unrecorded:
        shown = repo.shown(rel, cwd)
        sys.stderr.write(f"warning: `{shown}` has no hash recorded (its stage never ran)\n")


def _failure(repo: Repo, summary: CheckoutSummary, cwd: Path) -> CheckoutFailedError:
    def shown(paths: list[str]) -> str:
        return ", ".join(f"`{repo.shown(f, cwd)}`" for f in sorted(paths))

    reasons = []
    if summary.failed:
        reasons.append(
            f"checkout failed for {shown(summary.failed)}: objects missing from the cache"
        )
    if summary.unrecorded:
        never = "its stage never ran" if len(summary.unrecorded) == 1 else "their stages never ran"
        reasons.append(f"no hash recorded for {shown(summary.unrecorded)}: {never}")
    error = CheckoutFailedError("; ".join(reasons), summary)
    if not summary.failed:
        error.hint = "run the stages that make them with `mlvc repro`"
    return error


def make_parents(dests: list[Path]) -> None:
    """Makes the directories holding outputs that could not be restored.

    DVC-compat: DVC's checkout makes the parent directories of every output it is to
    restore, also of one it then cannot (no hash recorded, data not in the cache).
    """
    for dest in dests:
        # A file in the way: nothing to make.
        with contextlib.suppress(OSError):
            dest.parent.mkdir(parents=True, exist_ok=True)


def _discard(repo: Repo, dest: Path, *, force: bool, jobs: int = 0) -> None:
    """Removes an output that could not be restored, so none is left half made.

    DVC-compat: DVC removes such an output whole. Without `force`, a file whose content
    the cache does not hold (one already right whose object is gone) is kept: it exists
    nowhere else.
    """
    if not os.path.lexists(dest):
        return
    is_dir = dest.is_dir() and not dest.is_symlink()
    files = [p for p in dest.rglob("*") if not p.is_dir() or p.is_symlink()] if is_dir else [dest]
    keep: set[Path] = set()
    if not force:
        readable = [p for p in files if p.is_file()]
        hashes = [h.hash for h in repo.hash_files(readable, jobs=jobs)]
        cached = set(repo.cache.contains_many(sorted(set(hashes)), jobs=jobs))
        keep = {p for p, h in zip(readable, hashes, strict=True) if h not in cached}
    for p in files:
        if p not in keep:
            p.unlink()
    if is_dir:
        for d in sorted((p for p in dest.rglob("*") if p.is_dir()), reverse=True):
            if not any(d.iterdir()):
                d.rmdir()
        if not any(dest.iterdir()):
            dest.rmdir()
