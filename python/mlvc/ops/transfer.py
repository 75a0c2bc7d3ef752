"""`push`, `fetch`, `pull` and `status --cloud`: moving cache objects to and from remotes."""

from __future__ import annotations

import os
import posixpath
import sys
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlvc import revs
from mlvc.dvcfile import DvcFile
from mlvc.exceptions import MlvcError
from mlvc.ops.checkout import (
    CheckoutFailedError,
    CheckoutSummary,
    checkout,
    checkout_within,
    conflict_error,
    files_under,
    make_parents,
    uncached_files,
)
from mlvc.ops.status import MODIFIED, current_hash, select_dvcfiles, workspace_state
from mlvc.ops.targets import TargetError, collect
from mlvc.pipeline.model import DVCFILE_SUFFIX, Stage
from mlvc.progress import Tally
from mlvc.remote import Progress, Remote, RemoteError, open_remote
from mlvc.repo import Repo

if TYPE_CHECKING:
    from mlvc.pipeline.revtree import Tree

# DVC-compat: the words `dvc status -c` uses.
NEW = "new"
DELETED = "deleted"
MISSING = "missing"


class NoRemoteError(RemoteError):
    """No `-r`, no `remote:` on the output and no `core.remote`."""

    hint = "use `mlvc remote add -d NAME URL` to set a default remote, or pass `-r NAME`"


@dataclass
class TransferSummary:
    """What push or fetch did, across all remotes used."""

    transferred: int = 0
    missing: list[str] = field(default_factory=list)  # object ids found nowhere
    # Files a fetched directory lists that the remote lacks: the directory is incomplete.
    failed: list[str] = field(default_factory=list)
    remotes: list[str] = field(default_factory=list)
    # Downloaded objects that did not match their ids (remote `verify`): not kept.
    corrupt: list[str] = field(default_factory=list)
    # No `-r` and no default remote: outputs naming no remote were not fetched.
    no_remote: bool = False


@dataclass
class PullSummary:
    """`fetch` followed by `checkout`."""

    fetch: TransferSummary
    checkout: CheckoutSummary
    failed: list[str] = field(default_factory=list)  # outputs that could not be restored
    # Missing outputs of stages that never ran (no hash): nothing to restore them from.
    unrecorded: list[str] = field(default_factory=list)


def remote_name(repo: Repo, explicit: str | None, out_remote: str | None) -> str:
    """DVC-compat: `-r NAME`, else the output's `remote:`, else `core.remote`.

    (With `-r`, push/fetch/pull skip outputs naming another remote: see `_group`.)
    """
    name = repo.config.chosen_remote(explicit or out_remote)
    if not name:
        raise NoRemoteError(f"no remote specified in `{repo.dvc_dir / 'config'}`")
    return name


@dataclass(frozen=True)
class Selection:
    """Which outputs a transfer command works on: DVC's targets and the flags that shape them.

    A target is a `.dvc` file, a `dvc.yaml` (all its stages), a stage name (`train`,
    `sub/dvc.yaml:train`), tracked data or a path inside a tracked directory (read as
    `mlvc.ops.targets.collect` reads them for every command).
    `with_deps`: stages named also bring their upstream stages' outputs (`-d`).
    `recursive`: a directory means every stage whose `.dvc`/`dvc.yaml` lies below it (`-R`);
    without it, a directory that only holds such files is no target.
    `glob`: targets are shell patterns matched against files (`--glob`).
    `max_size`: only outputs smaller than this many bytes; `types`: only outputs that are
    `metrics` or `plots` (`fetch --max-size`, `--type`).
    """

    targets: tuple[str, ...] = ()
    with_deps: bool = False
    recursive: bool = False
    glob: bool = False
    max_size: int | None = None
    types: tuple[str, ...] = ()


def _named(oids: list[str]) -> tuple[int, str]:
    """How many distinct objects `oids` name, and the first by name (`abc...` and N more)."""
    from mlvc.objects import bare

    names = sorted({bare(oid) for oid in oids})
    n = len(names)
    return n, f"`{names[0]}`" + (f" and {n - 1} more" if n > 1 else "")


class FetchFailedError(MlvcError):
    """Files of a directory that neither the cache nor the remote holds (DVC exits 1)."""

    hint = "push them from a repository that has them, or check the remote's url"

    def __init__(self, oids: list[str]) -> None:
        n, shown = _named(oids)
        super().__init__(
            f"failed to fetch data from the cloud: {n} file{'s' if n > 1 else ''} of tracked"
            f" directories {'are' if n > 1 else 'is'} on neither the cache nor the remote"
            f" ({shown})"
        )


class CorruptDownloadError(MlvcError):
    """Objects whose downloaded content does not match their ids (remote `verify`)."""

    hint = "the remote holds damaged copies: push them again from a repository that has them"

    def __init__(self, oids: list[str]) -> None:
        n, shown = _named(oids)
        super().__init__(
            f"failed to fetch data from the cloud: {n} file{'s' if n > 1 else ''} on the remote"
            f" {'do' if n > 1 else 'does'} not match {'their' if n > 1 else 'its'} hash and"
            f" {'were' if n > 1 else 'was'} not kept ({shown})"
        )


class GlobError(MlvcError):
    """`--glob` patterns that match no file."""

    hint = "check the patterns, quoting them so that the shell does not expand them"


def _expand_globs(targets: list[str], cwd: Path) -> list[str]:
    """DVC-compat: `--glob` expands each target as a recursive shell pattern under `cwd`."""
    import glob

    found = [m for t in targets for m in sorted(glob.glob(t, root_dir=cwd, recursive=True))]
    if not found:
        shown = ", ".join(f"`{t}`" for t in targets) or "(no targets)"
        raise GlobError(f"glob {shown} has no matches")
    return found


def _stages_at(repo: Repo, tree: Tree, *, defer_errors: bool = False) -> list[Stage]:
    """Pipeline stages and `.dvc` files (as stages) of a revision, as DVC's graph holds them.

    With `defer_errors`, the stages that do not resolve are left out.
    """
    rev = tree.commit
    stages = (
        [s for f in tree.pipelines(defer_errors=defer_errors).files for s in f.stages.values()]
        if (tree.pipeline_files())
        else []
    )
    from mlvc.ops.repro import stage_of_dvcfile

    for dvcfile in revs.dvcfiles_at(repo, rev):
        stages.append(stage_of_dvcfile(repo.relpath(dvcfile.path), dvcfile))
    return stages


def _typed_paths(repo: Repo, rev: str | None, types: tuple[str, ...]) -> list[str]:
    """Repo paths of the metrics/plots a revision's `dvc.yaml` files declare at top level."""
    from mlvc.pipeline.revtree import Tree

    tree = Tree(repo, rev)
    if not tree.pipeline_files():
        return []
    found = []
    for file in tree.pipelines().files:
        base = posixpath.dirname(file.path)
        entries: list[Any] = []
        if "metrics" in types:
            entries += file.metrics
        if "plots" in types:
            for plot in file.plots:
                entries += list(plot) if isinstance(plot, dict) else [plot]
        found += [
            posixpath.normpath(posixpath.join(base, e)) for e in entries if isinstance(e, str)
        ]
    return found


def _of_type(t: revs.TrackedOut, types: tuple[str, ...], declared: list[str]) -> bool:
    """DVC-compat: a metrics/plots output, or one holding (or inside) a declared metric/plot."""
    if t.kind in types:
        return True
    path = t.path
    return any(d == path or d.startswith(path + "/") or path.startswith(d + "/") for d in declared)


def _warn_unrecorded(repo: Repo, unrecorded: list[tuple[str, str]], cwd: Path) -> None:
    """DVC-compat: a cached stage output without a hash in `dvc.lock` is named, not checked."""
    for stage, path in unrecorded:
        shown = repo.shown(path, cwd)
        sys.stderr.write(
            f"warning: output '{shown}'(stage: '{stage}') is missing version info. "
            "Cache for it will not be collected. "
            "Use `mlvc repro` to get your pipeline up to date.\n"
        )


def _targeted(
    repo: Repo,
    rev: str | None,
    outs: list[revs.TrackedOut],
    targets: list[str],
    cwd: Path,
    sel: Selection,
    unrecorded: list[tuple[str, str]],
) -> tuple[list[revs.TrackedOut], list[tuple[str, str]]]:
    """The outputs the targets name at one revision (DVC's `collect_granular`).

    Also the `(stage, path)` pairs of `unrecorded` (outputs of stages that never ran)
    the targets name: they are outputs too, with nothing to move.
    """
    from mlvc.pipeline.load import broken_target
    from mlvc.pipeline.revtree import Tree

    declared = [p for _s, p in unrecorded]
    tree = Tree(repo, rev)
    # DVC-compat: targets alone (no `-d`/`-R`) resolve only the stages they name, so a
    # stage elsewhere that does not resolve fails only the targets that need it.
    alone = not (sel.with_deps or sel.recursive)
    try:
        found_targets = collect(
            repo,
            targets,
            cwd,
            lambda: _stages_at(repo, tree, defer_errors=alone),
            lambda rel: _is_out(repo, outs, repo.root / rel, declared),
            with_deps=sel.with_deps,
            recursive=sel.recursive,
        )
    except TargetError:
        # A target not found may be an output of a stage that did not resolve.
        if alone and tree.pipeline_files():
            tree.pipelines()  # raises that stage's error, if any
        raise
    if alone and found_targets.stages:
        # Only targets that needed the stages loaded can name one that did not resolve.
        broken = broken_target(tree.pipelines(defer_errors=True), targets)
        if broken is not None:
            raise broken
    names = {found_targets.stages[i].addressing for i in found_targets.chosen}
    paths = set(found_targets.paths)
    found = []
    for t in outs:
        if t.stage_name in names or any(w in (t.dvcfile, t.path) for w in paths):
            found.append(t)
            continue
        # DVC-compat: a path inside a tracked directory moves its `.dir` object and the
        # files under that path (or the file it goes through) only; a path "inside" a
        # tracked file moves the file.
        inside = sorted(w for p in paths if (w := t.within_of(p)))
        found += [replace(t, within=w) for w in inside]
    return found, [(s, p) for s, p in unrecorded if s in names or p in paths]


def _is_out(
    repo: Repo, outs: list[revs.TrackedOut], full: Path, declared: Collection[str] = ()
) -> bool:
    """Whether `full` is an output, its `.dvc` file, or a path inside an output.

    `declared`: outputs of stages that never ran, which count as outputs. DVC-compat: a
    directory that merely holds outputs is none of these (without `-R`, DVC reads it
    as a stage name and fails).
    """
    rel = repo.relpath(full).removesuffix("/")
    if rel in declared:
        return True
    return any(rel in (t.dvcfile, t.path) or rel.startswith(t.path + "/") for t in outs)


def _select(
    repo: Repo,
    targets: Iterable[str],
    cwd: Path,
    scope: revs.RevScope,
    sel: Selection | None = None,
    *,
    name_unrecorded: bool = False,
    unrecorded_named: list[tuple[str, str]] | None = None,
) -> list[revs.TrackedOut]:
    """Outputs of the chosen revisions, limited to the targets and filters of `sel`.

    DVC-compat: a revision where the targets cannot be resolved is skipped with a
    warning; the error is raised only when no revision could be. With
    `name_unrecorded` (`status -c`, as DVC), a cached stage output that has no hash
    in `dvc.lock` is named in a warning. Such outputs the targets name are added to
    `unrecorded_named`, if given, as `(stage, path)`.
    """
    sel = sel or Selection()
    targets = list(targets) or list(sel.targets)
    if sel.glob:
        targets = _expand_globs(targets, cwd)
    outs: list[revs.TrackedOut] = []
    failure: MlvcError | None = None
    resolved = 0
    alone = bool(targets) and not (sel.with_deps or sel.recursive)
    for rev in scope.revisions(repo):
        # DVC-compat: pipeline outputs (from `dvc.lock`) move with the `.dvc` files' data.
        unrecorded: list[tuple[str, str]] = []
        try:
            found = revs.outs_at(repo, rev) + revs.stage_outs_at(
                repo, rev, unrecorded=unrecorded, defer_errors=alone
            )
            if targets:
                found, named_here = _targeted(repo, rev, found, targets, cwd, sel, unrecorded)
        except MlvcError as exc:
            failure = exc
            sys.stderr.write(f"warning: failed to collect '{rev or 'workspace'}', skipping\n")
            continue
        if name_unrecorded:
            named = unrecorded
            if targets:
                # Only outputs the targets name directly, as DVC collects them.
                given = set(targets) | {repo.relpath((cwd / t).absolute()) for t in targets}
                named = [(s, p) for s, p in unrecorded if s in given or p in given]
            _warn_unrecorded(repo, named, cwd)
        if targets and unrecorded_named is not None:
            unrecorded_named += named_here
        resolved += 1
        if sel.max_size is not None:
            found = [t for t in found if not (t.out.size and t.out.size >= sel.max_size)]
        if sel.types:
            declared = _typed_paths(repo, rev, sel.types)
            found = [t for t in found if _of_type(t, sel.types, declared)]
        outs.extend(found)
    if failure is not None and not resolved:
        # DVC-compat: push, fetch, pull and `status -c` fail so with 1, whatever the cause.
        setattr(failure, "exit_code", 1)  # noqa: B010 - the core's errors declare none
        raise failure
    return outs


def _group(
    repo: Repo, outs: list[revs.TrackedOut], remote: str | None, *, unnamed_only: bool = False
) -> dict[str, list[revs.TrackedOut]]:
    """The outputs by the remote they go to or come from.

    DVC-compat: with `-r NAME`, push/fetch/pull leave out the outputs whose `remote:`
    names another remote; `status -c` (`unnamed_only`) leaves out every output that
    names one.
    """
    groups: dict[str, list[revs.TrackedOut]] = {}
    for t in outs:
        if t.out.remote and (unnamed_only or (remote and t.out.remote != remote)):
            continue
        groups.setdefault(remote_name(repo, remote, t.out.remote), []).append(t)
    return groups


def _fetch_manifests(repo: Repo, backend: Remote, outs: list[revs.TrackedOut]) -> None:
    """Brings `.dir` objects missing locally from the remote so their files can be listed.

    DVC-compat: DVC also keeps such `.dir` objects in the local cache after `status -c`.
    """
    dirs = {t.out.oid for t in outs if t.out.oid and t.out.is_dir and t.out.cache}
    absent = {d for d in dirs if not repo.objects.contains(d)}
    if absent:
        backend.download(repo.objects, absent & backend.exists_many(absent))


def _listed_by(repo: Repo, backend: Remote, dir_ids: Iterable[str]) -> set[str]:
    """The file objects that the `.dir` objects `dir_ids` list (read from the cache, else
    from the remote).

    DVC-compat: DVC takes a `.dir` object on the remote as proof that the remote holds
    every file it lists: `push` sends none of them and `status -c` counts them as on the
    remote, without asking the remote about each file.
    """
    files: set[str] = set()
    for dir_id in dir_ids:
        if repo.objects.contains(dir_id):
            entries = list(repo.objects.read_manifest(dir_id))
        else:
            entries = backend.read_manifest(dir_id) or []
        files.update(h for _rel, h in entries)
    return files


def _withheld_manifests(repo: Repo, dir_ids: Iterable[str], absent: set[str]) -> set[str]:
    """The `.dir` objects among `dir_ids` (all cached) listing a file of `absent`."""
    return {
        dir_id
        for dir_id in dir_ids
        if any(h in absent for _rel, h in repo.objects.read_manifest(dir_id))
    }


def _fetch_own_remote_manifests(repo: Repo, outs: list[revs.TrackedOut]) -> None:
    """Brings the missing `.dir` objects of outputs that name their own remote from it.

    DVC-compat: `status -c` leaves such outputs out of its report, but DVC still loads
    their `.dir` objects (from that remote, whatever `-r` says) into the cache; a remote
    that cannot be used is passed over quietly.
    """
    by_remote: dict[str, list[revs.TrackedOut]] = {}
    for t in outs:
        if t.out.remote and t.out.is_dir:
            by_remote.setdefault(t.out.remote, []).append(t)
    for name, group in by_remote.items():
        try:
            _fetch_manifests(repo, open_remote(repo.config, name), group)
        except MlvcError:
            continue


def _run_cache_remote(repo: Repo, remote: str | None) -> Remote | None:
    """The remote for `--run-cache`: `-r NAME` or `core.remote`.

    DVC-compat: with no remote at all, DVC skips the run cache quietly (and the data
    transfer then fails or not on its own).
    """
    try:
        return open_remote(repo.config, remote_name(repo, remote, None))
    except NoRemoteError:
        return None


def push(
    repo: Repo,
    targets: Iterable[str] = (),
    *,
    remote: str | None = None,
    jobs: int = 0,
    scope: revs.RevScope = revs.WORKSPACE_ONLY,
    selection: Selection | None = None,
    run_cache: bool = False,
    cwd: Path | None = None,
    progress: Progress | None = None,
) -> TransferSummary:
    """Uploads the objects of the selected outputs that the remote lacks.

    DVC-compat: outputs with `cache: false` or `push: false` are skipped; objects
    missing locally are reported, not fatal. With `run_cache`, every run-cache entry
    is copied to the remote's `runs/` too, and counted.
    """
    cwd = (cwd or Path.cwd()).absolute()
    summary = TransferSummary()
    with repo.lock():
        if run_cache and (runs_remote := _run_cache_remote(repo, remote)) is not None:
            summary.transferred += len(runs_remote.upload_runs(repo.cache_dir))
        outs = _select(repo, targets, cwd, scope, selection)
        outs = [t for t in outs if t.out.push]
        if not outs:
            # DVC-compat: push needs a remote even with nothing to send (fetch does not).
            remote_name(repo, remote, None)
        # DVC-compat: with no remote to use, the outputs naming their own remote are
        # still pushed; the others then fail the push.
        no_remote = remote is None and repo.config.chosen_remote(None) is None
        sent = [t for t in outs if t.out.remote or not no_remote]
        tally = Tally(progress)  # one count over every remote
        for name, group in _group(repo, sent, remote).items():
            backend = open_remote(repo.config, name)
            summary.remotes.append(name)
            objects, unexpanded = revs.objects_of(repo, group)
            on_remote = backend.exists_many(objects)
            # A `.dir` object that is only on the remote is fine; one found nowhere is missing.
            summary.missing.extend(sorted(unexpanded - on_remote))
            dirs = {t.out.oid for t in group if t.out.oid and t.out.is_dir}
            present = on_remote | _listed_by(repo, backend, dirs & on_remote)
            todo = objects - present - unexpanded
            # DVC-compat: a directory some of whose files are in neither the cache nor the
            # remote has its other files pushed, but not its `.dir` object (DVC still
            # counts that object as pushed).
            absent = todo - set(repo.objects.contains_many(todo, jobs=jobs))
            withheld = _withheld_manifests(repo, todo & dirs, absent)
            result = backend.upload(repo.objects, todo - withheld, jobs=jobs, progress=tally.part())
            repo.known_objects.learn(
                name, on_remote | set(result.transferred), unexpanded - on_remote
            )
            summary.transferred += len(result.transferred) + len(withheld)
            summary.missing.extend(result.missing)
        if len(sent) < len(outs):
            remote_name(repo, remote, None)  # raises NoRemoteError
    return summary


def fetch(
    repo: Repo,
    targets: Iterable[str] = (),
    *,
    remote: str | None = None,
    jobs: int = 0,
    scope: revs.RevScope = revs.WORKSPACE_ONLY,
    selection: Selection | None = None,
    run_cache: bool = False,
    cwd: Path | None = None,
    progress: Progress | None = None,
) -> TransferSummary:
    """Downloads into the cache the objects of the selected outputs that it lacks.

    DVC-compat: `push: false` does not stop a fetch; `cache: false` outputs are skipped.
    With `run_cache`, the remote's `runs/` entries are copied into the local run cache
    first; they are not counted as fetched files.
    """
    cwd = (cwd or Path.cwd()).absolute()
    summary = TransferSummary()
    with repo.lock():
        if run_cache and (runs_remote := _run_cache_remote(repo, remote)) is not None:
            runs_remote.download_runs(repo.cache_dir)
        outs = _select(repo, targets, cwd, scope, selection)
        if remote is None and repo.config.chosen_remote(None) is None:
            # DVC-compat: a warning, not an error; what the checkout then lacks fails it.
            summary.no_remote = True
            outs = [t for t in outs if t.out.remote]
        tally = Tally(progress)  # one count over every remote
        for name, group in _group(repo, outs, remote).items():
            backend = open_remote(repo.config, name)
            summary.remotes.append(name)
            # `.dir` objects first: their manifests say which files to fetch.
            dirs = {t.out.oid for t in group if t.out.oid and t.out.is_dir and t.out.cache}
            first = backend.download(
                repo.objects, {d for d in dirs if not repo.objects.contains(d)}, jobs=jobs
            )
            summary.transferred += len(first.transferred)
            objects, unexpanded = revs.objects_of(repo, group)
            summary.missing.extend(sorted(unexpanded))
            wanted = objects - unexpanded
            todo = wanted - set(repo.objects.contains_many(wanted, jobs=jobs))
            result = backend.download(repo.objects, todo, jobs=jobs, progress=tally.part())
            repo.known_objects.learn(
                name,
                [*first.transferred, *result.transferred],
                [*first.missing, *result.missing],
            )
            summary.transferred += len(result.transferred)
            summary.corrupt += first.corrupt + result.corrupt
            # DVC-compat: an object found nowhere is a warning, but a file that a `.dir`
            # object on the remote lists fails the fetch (DVC: "N files failed to
            # download"): DVC takes that `.dir` object as proof the remote holds it.
            vouched = (
                _listed_by(repo, backend, backend.exists_many(dirs)) if result.missing else set()
            )
            failed = [oid for oid in result.missing if oid in vouched]
            summary.missing += [oid for oid in result.missing if oid not in vouched]
            summary.failed += failed
            if failed:
                # DVC-compat: DVC keeps a directory's `.dir` object only once all its
                # files are fetched; one brought here just to list them goes again.
                dropped = _withheld_manifests(repo, first.transferred, set(failed))
                for dir_id in dropped:
                    repo.objects.remove(dir_id)
                summary.transferred -= len(dropped)
    return summary


def pull(
    repo: Repo,
    targets: Iterable[str] = (),
    *,
    remote: str | None = None,
    jobs: int = 0,
    force: bool = False,
    scope: revs.RevScope = revs.WORKSPACE_ONLY,
    selection: Selection | None = None,
    run_cache: bool = False,
    cwd: Path | None = None,
    progress: Progress | None = None,
    checkout_progress: Progress | None = None,
) -> PullSummary:
    """`fetch`, then `checkout` of the workspace's outputs (those the targets select).

    `progress` hears the fetch, `checkout_progress` the checkout.
    """
    targets = list(targets)
    sel = selection or Selection()
    cwd = (cwd or Path.cwd()).absolute()
    fetched = fetch(
        repo,
        targets,
        remote=remote,
        jobs=jobs,
        scope=scope,
        selection=sel,
        run_cache=run_cache,
        cwd=cwd,
        progress=progress,
    )
    if fetched.failed:
        # DVC-compat: files a directory lists that the remote lacks fail the fetch, and
        # so the pull, before anything is checked out (even with `--allow-missing`).
        raise FetchFailedError(fetched.failed)
    wanted: set[str] | None = None  # stages to check out; None: all
    partial: list[revs.TrackedOut] = []  # paths inside outputs
    if targets or sel.glob:
        if sel.glob:
            targets = _expand_globs(targets, cwd)
            sel = Selection(with_deps=sel.with_deps, recursive=sel.recursive)
        never_ran: list[tuple[str, str]] = []
        chosen = _select(repo, targets, cwd, revs.WORKSPACE_ONLY, sel, unrecorded_named=never_ran)
        # DVC-compat: a named stage that never ran fails the checkout.
        wanted = {t.stage_name for t in chosen if not t.within} | {s for s, _p in never_ran}
        whole = {t.path for t in chosen if not t.within}
        partial = [t for t in chosen if t.within and t.path not in whole]
    dvc_paths = sorted(w for w in wanted or () if w.endswith(DVCFILE_SUFFIX))
    plan = (
        _CheckoutPlan()
        if wanted is not None and not dvc_paths
        else _checkout_plan(repo, dvc_paths, repo.root, jobs=jobs)
    )
    unrecorded: list[str] = []
    stage_plan = (
        _stage_checkout_plan(repo, wanted, unrecorded, jobs=jobs)
        if wanted is None or len(dvc_paths) < len(wanted)
        else _CheckoutPlan()
    )
    failed = plan.failed + stage_plan.failed
    replaced = plan.replaced + stage_plan.replaced
    for t in partial:
        inner = repo.root / t.path / t.within
        if _manifest_lost(repo, t.out.oid, is_dir=t.out.is_dir) and os.path.lexists(inner):
            replaced.append((inner, None))
    if replaced and not force:
        # DVC-compat: DVC refuses, before checking anything out (even with
        # `--allow-missing`), to remove or overwrite workspace files the cache lacks.
        unsaved = _uncached_files(repo, replaced, jobs=jobs)
        if unsaved:
            raise conflict_error(unsaved)
    tally = Tally(checkout_progress)
    done = CheckoutSummary()
    for ready in (plan.ready, stage_plan.ready):
        if ready:
            done.merge(
                _checkout_reporting(
                    repo, ready, failed, force=force, jobs=jobs, progress=tally.part()
                )
            )
    if partial:
        with repo.lock():
            failed += checkout_within(
                repo, partial, done, force=force, jobs=jobs, progress=tally.part()
            )
    failed = list(dict.fromkeys(failed))
    make_parents([repo.root / p for p in failed + unrecorded])
    return PullSummary(fetched, done, failed, unrecorded)


@dataclass
class _CheckoutPlan:
    """What a pull checks out, and what it cannot restore."""

    ready: list[str] = field(default_factory=list)  # `.dvc` files or stage names
    failed: list[str] = field(default_factory=list)  # repo paths of outputs
    # DVC-compat: outputs the workspace holds changed, and those that cannot be restored
    # (for a directory whose `.dir` object is lost, whatever the workspace holds): DVC's
    # checkout replaces or removes them, and refuses to, before changing anything and
    # unless `--force`, when the cache lacks the content. Each is `(path, its cached
    # .dir id or None)`.
    replaced: list[tuple[Path, str | None]] = field(default_factory=list)

    def add_unrestorable(
        self, repo: Repo, dest: Path, oid: str | None, is_dir: bool, *, modified: bool
    ) -> bool:
        """Records an output whose data is not all cached; True when it is to be replaced
        (the checkout must see it, to fail it and remove what the workspace holds)."""
        lost = _manifest_lost(repo, oid, is_dir=is_dir)
        exists = os.path.lexists(dest)
        if lost or modified or not exists:
            self.failed.append(repo.relpath(dest))
        if exists and (lost or modified):
            self.replaced.append((dest, None if lost or not is_dir else oid))
            return True
        return False


def _checkout_reporting(
    repo: Repo,
    targets: list[str],
    failed: list[str],
    *,
    force: bool,
    jobs: int,
    progress: Progress | None,
) -> CheckoutSummary:
    """`checkout` of `targets`; outputs it cannot restore are added to `failed` (the pull
    reports them once all is done) rather than failing it at once."""
    try:
        return checkout(repo, targets, cwd=repo.root, force=force, jobs=jobs, progress=progress)
    except CheckoutFailedError as exc:
        if exc.summary is None or exc.summary.unrecorded:
            raise
        failed += exc.summary.failed
        return exc.summary


def _stage_checkout_plan(
    repo: Repo, wanted: set[str] | None, unrecorded: list[str], *, jobs: int = 0
) -> _CheckoutPlan:
    """Stages to check out (those whose recorded outputs are all cached, and those
    holding an output to be replaced), and outputs that cannot be restored.

    DVC-compat: `pull` checks out pipeline outputs too. `wanted`: only these stages.
    Missing outputs of stages that never ran go to `unrecorded` (one in the workspace
    is left alone).
    """
    plan = _CheckoutPlan()
    if not repo.pipeline_files():
        return plan
    from mlvc.ops.repro import locked_outputs, ordered_stages
    from mlvc.pipeline.load import load_pipelines

    # `wanted` was resolved by the caller: other stages' errors are not this command's.
    for stage in ordered_stages(load_pipelines(repo, defer_errors=wanted is not None)):
        if wanted is not None and stage.addressing not in wanted:
            continue
        hashless: list[Path] = []
        plans = locked_outputs(repo, stages=[stage], hashless=hashless)
        unrecorded += [repo.relpath(d) for d in hashless if not os.path.lexists(d)]
        if not plans:
            continue
        bad = _incomplete(repo, [(o.oid or "", o.is_dir) for _dest, o in plans], jobs)
        replacing = False
        for dest, o in plans:
            current = (
                None
                if not os.path.lexists(dest)
                else current_hash(repo, dest, jobs=jobs, legacy=o.is_legacy)
            )
            modified = current is not None and current[0] != o.md5
            if o.oid in bad:
                replacing |= plan.add_unrestorable(repo, dest, o.oid, o.is_dir, modified=modified)
            elif modified and not o.is_legacy:
                plan.replaced.append((dest, o.oid if o.is_dir else None))
        if not bad or replacing:
            plan.ready.append(stage.addressing)
    return plan


def _manifest_lost(repo: Repo, oid: str | None, *, is_dir: bool) -> bool:
    """Whether a directory output's `.dir` object is missing from the cache.

    DVC-compat: without it the directory cannot be compared with the workspace, so a
    pull fails it even when the workspace holds the data: DVC removes the files it
    cannot account for (refusing to without `--force` when the cache lacks some).
    """
    return is_dir and not repo.objects.contains(oid or "")


def _uncached_files(
    repo: Repo, replaced: list[tuple[Path, str | None]], *, jobs: int = 0
) -> list[str]:
    """Repo paths of the workspace files a checkout of `replaced` would remove (all of an
    output's files, or for a directory with a cached `.dir` object those that differ
    from it) whose content the cache does not hold."""
    files: list[Path] = []
    recorded: list[str | None] = []  # each file's hash in its directory's `.dir` object
    for path, dir_id in replaced:
        if path.is_dir() and not path.is_symlink():
            listed = dict(repo.objects.read_manifest(dir_id)) if dir_id is not None else {}
            for p in files_under(path):
                files.append(p)
                recorded.append(listed.get(p.relative_to(path).as_posix()))
        elif os.path.lexists(path):
            files.append(path)
            recorded.append(None)
    return sorted(uncached_files(repo, files, jobs=jobs, recorded=recorded))


def _incomplete(repo: Repo, outs: list[tuple[str, bool]], jobs: int) -> set[str]:
    """The `(id, is_dir)` outputs whose object, or one of whose files, is not cached.

    One core call checks every object (a directory listing per prefix, not a stat each).
    """
    manifests: dict[str, list[str]] = {}
    for md5, is_dir in outs:
        if is_dir and md5 not in manifests and repo.objects.contains(md5):
            manifests[md5] = [h for _r, h in repo.objects.read_manifest(md5)]
    needed = {md5 for md5, _ in outs}.union(*manifests.values())
    present = set(repo.objects.contains_many(needed, jobs=jobs))
    return {
        md5
        for md5, is_dir in outs
        if md5 not in present or (is_dir and not present.issuperset(manifests.get(md5, ())))
    }


def _checkout_plan(repo: Repo, targets: list[str], cwd: Path, *, jobs: int = 0) -> _CheckoutPlan:
    """`.dvc` files to check out (those whose objects are all cached, and those holding an
    output to be replaced), and outputs that cannot be restored.

    DVC-compat: an output missing from the cache is no error when the workspace already
    holds its data (e.g. a `push: false` output on the machine that made it), unless it
    is a directory whose `.dir` object is lost.
    """
    plan = _CheckoutPlan()
    dvcfiles = [DvcFile.load(path) for path in select_dvcfiles(repo, targets, cwd)]
    incomplete = _incomplete(
        repo,
        [(o.oid, o.is_dir) for d in dvcfiles for o in d.outs if o.cache and o.oid is not None],
        jobs,
    )
    for dvcfile in dvcfiles:
        complete, replacing = True, False
        for out in dvcfile.outs:
            if not out.cache or out.oid is None:
                continue
            dest = dvcfile.out_path(out)
            modified = os.path.lexists(dest) and workspace_state(repo, dvcfile, out) == MODIFIED
            if out.oid not in incomplete:
                if modified and not out.is_legacy:
                    plan.replaced.append((dest, out.oid if out.is_dir else None))
                continue
            complete = False
            replacing |= plan.add_unrestorable(repo, dest, out.oid, out.is_dir, modified=modified)
        if complete or replacing:
            plan.ready.append(str(dvcfile.path))
    return plan


def cloud_status(
    repo: Repo,
    targets: Iterable[str] = (),
    *,
    remote: str | None = None,
    scope: revs.RevScope = revs.WORKSPACE_ONLY,
    selection: Selection | None = None,
    cwd: Path | None = None,
) -> dict[str, str]:
    """DVC's `status -c` map: `{path: "new" | "deleted" | "missing"}` for the scope's revisions.

    `selection`: how the targets are read (`-d`, `-R`), as for push.

    `new`: only in the local cache; `deleted`: only on the remote; `missing`: in neither.
    A directory output appears under its own path and under each of its files.
    DVC-compat: each object is named once, by the first path found holding it (a
    directory's files in sorted order), so identical files share one entry. Entries
    are keyed by path, so when revisions record different data at one path, the later
    state in the order deleted, new, missing wins, and data that is in sync adds nothing.
    """
    cwd = (cwd or Path.cwd()).absolute()
    found: dict[str, str] = {}
    with repo.lock():
        outs = _select(repo, targets, cwd, scope, selection, name_unrecorded=True)
        outs = [t for t in outs if t.out.push and t.out.cache and t.out.md5]
        _fetch_own_remote_manifests(repo, [t for t in outs if t.out.remote])
        if remote is None and repo.config.chosen_remote(None) is None:
            # DVC-compat: with no remote to fetch it from, a directory whose `.dir` object
            # is not cached has no objects to compare, and needs no remote.
            outs = [
                t
                for t in outs
                if t.out.remote or not _manifest_lost(repo, t.out.oid, is_dir=t.out.is_dir)
            ]
        for name, group in _group(repo, outs, remote, unnamed_only=True).items():
            backend = open_remote(repo.config, name)
            _fetch_manifests(repo, backend, group)
            named: dict[str, str] = {}  # hash -> the first path holding it
            # DVC-compat: DVC meets the `.dvc` files as it walks each revision, a
            # directory's files before its subdirectories.
            rev_rank = {rev: i for i, rev in reversed(list(enumerate(t.rev for t in group)))}
            group = sorted(group, key=lambda t: (rev_rank[t.rev], _walk_key(t.dvcfile)))
            for t in group:
                md5 = t.out.oid or ""
                named.setdefault(md5, t.path)
                if t.out.is_dir and repo.objects.contains(md5):
                    for rel, h in repo.objects.read_manifest(md5):
                        if t.covers(rel):
                            named.setdefault(h, f"{t.path}/{rel}")
            entries = [(path, h) for h, path in named.items()]
            asked = {h for _p, h in entries}
            on_remote = backend.exists_many(asked)
            repo.known_objects.learn(name, on_remote, asked - on_remote)
            dirs = {t.out.oid for t in group if t.out.oid and t.out.is_dir}
            on_remote |= _listed_by(repo, backend, dirs & on_remote) & asked
            cached = set(repo.objects.contains_many(asked))
            states: dict[str, set[tuple[str, str]]] = {DELETED: set(), NEW: set(), MISSING: set()}
            for path, h in entries:
                local = h in cached
                remote_has = h in on_remote
                if local and not remote_has:
                    states[NEW].add((path, h))
                elif remote_has and not local:
                    states[DELETED].add((path, h))
                elif not local and not remote_has:
                    states[MISSING].add((path, h))
            for state in (DELETED, NEW, MISSING):
                for path, _h in sorted(states[state]):
                    # DVC-compat: named relative to the user's directory.
                    found[repo.shown(path, cwd)] = state
    return found


def _walk_key(path: str) -> tuple[tuple[int, str], ...]:
    """Orders paths as a top-down walk meets them: a directory's files, then its subdirectories."""
    *dirs, name = path.split("/")
    return (*((1, d) for d in dirs), (0, name))


def cloud_status_text(found: dict[str, str]) -> str:
    """DVC's text form: `\\t<state>:` padded to 20 characters, then the path."""
    return "".join(f"\t{(state + ':').ljust(20)}{path}\n" for path, state in found.items())
