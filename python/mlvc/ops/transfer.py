"""`push`, `fetch`, `pull` and `status --cloud`: moving cache objects to and from remotes."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from mlvc import revs
from mlvc.dvcfile import DvcFile
from mlvc.exceptions import MlvcError
from mlvc.ops.checkout import CheckoutSummary, checkout
from mlvc.ops.status import NOT_IN_CACHE, out_state, select_dvcfiles
from mlvc.remote import Progress, Remote, RemoteError, open_remote
from mlvc.repo import Repo

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
    remotes: list[str] = field(default_factory=list)


@dataclass
class PullSummary:
    """`fetch` followed by `checkout`."""

    fetch: TransferSummary
    checkout: CheckoutSummary
    failed: list[str] = field(default_factory=list)  # outputs that could not be restored


def remote_name(repo: Repo, explicit: str | None, out_remote: str | None) -> str:
    """DVC-compat: `-r NAME`, else the output's `remote:`, else `core.remote`."""
    name = explicit or out_remote or repo.config.get("core", "remote")
    if not name:
        raise NoRemoteError(f"no remote specified in `{repo.dvc_dir / 'config'}`")
    return name


def _select(
    repo: Repo,
    targets: Iterable[str],
    cwd: Path,
    scope: revs.RevScope,
) -> list[revs.TrackedOut]:
    """Outputs of the chosen revisions, limited to `targets` (a `.dvc` file or a tracked path)."""
    wanted = set()
    for target in targets:
        rel = repo.relpath((cwd / target).absolute())
        wanted.add(rel.removesuffix("/"))
    outs: list[revs.TrackedOut] = []
    for rev in scope.revisions(repo):
        # DVC-compat: pipeline outputs (from `dvc.lock`) move with the `.dvc` files' data.
        for t in revs.outs_at(repo, rev) + revs.stage_outs_at(repo, rev):
            if wanted and not any(
                w in (t.dvcfile, t.path) or t.path.startswith(w + "/") for w in wanted
            ):
                continue
            outs.append(t)
    if wanted and not outs:
        shown = ", ".join(f"`{w}`" for w in sorted(wanted))
        raise MlvcError(f"{shown}: not tracked by any `.dvc` file")
    return outs


def _group(
    repo: Repo, outs: list[revs.TrackedOut], remote: str | None
) -> dict[str, list[revs.TrackedOut]]:
    groups: dict[str, list[revs.TrackedOut]] = {}
    for t in outs:
        groups.setdefault(remote_name(repo, remote, t.out.remote), []).append(t)
    return groups


def _fetch_manifests(repo: Repo, backend: Remote, outs: list[revs.TrackedOut]) -> None:
    """Brings `.dir` objects missing locally from the remote so their files can be listed.

    DVC-compat: DVC also keeps such `.dir` objects in the local cache after `status -c`.
    """
    dirs = {t.out.md5 for t in outs if t.out.md5 and t.out.is_dir and t.out.cache}
    absent = {d for d in dirs if not repo.cache.contains(d)}
    if absent:
        backend.download(repo.cache, absent & backend.exists_many(absent))


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
        outs = _select(repo, targets, cwd, scope)
        outs = [t for t in outs if t.out.push]
        for name, group in _group(repo, outs, remote).items():
            backend = open_remote(repo.config, name)
            summary.remotes.append(name)
            objects, unexpanded = revs.objects_of(repo, group)
            on_remote = backend.exists_many(objects)
            # A `.dir` object that is only on the remote is fine; one found nowhere is missing.
            summary.missing.extend(sorted(unexpanded - on_remote))
            todo = objects - on_remote - unexpanded
            result = backend.upload(repo.cache, todo, jobs=jobs, progress=progress)
            summary.transferred += len(result.transferred)
            summary.missing.extend(result.missing)
    return summary


def fetch(
    repo: Repo,
    targets: Iterable[str] = (),
    *,
    remote: str | None = None,
    jobs: int = 0,
    scope: revs.RevScope = revs.WORKSPACE_ONLY,
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
        outs = _select(repo, targets, cwd, scope)
        for name, group in _group(repo, outs, remote).items():
            backend = open_remote(repo.config, name)
            summary.remotes.append(name)
            # `.dir` objects first: their manifests say which files to fetch.
            dirs = {t.out.md5 for t in group if t.out.md5 and t.out.is_dir and t.out.cache}
            first = backend.download(
                repo.cache, {d for d in dirs if not repo.cache.contains(d)}, jobs=jobs
            )
            summary.transferred += len(first.transferred)
            objects, unexpanded = revs.objects_of(repo, group)
            summary.missing.extend(sorted(unexpanded))
            wanted = objects - unexpanded
            todo = wanted - set(repo.cache.contains_many(sorted(wanted), jobs=jobs))
            result = backend.download(repo.cache, todo, jobs=jobs, progress=progress)
            summary.transferred += len(result.transferred)
            summary.missing.extend(result.missing)
    return summary


def pull(
    repo: Repo,
    targets: Iterable[str] = (),
    *,
    remote: str | None = None,
    jobs: int = 0,
    force: bool = False,
    scope: revs.RevScope = revs.WORKSPACE_ONLY,
    run_cache: bool = False,
    cwd: Path | None = None,
    progress: Progress | None = None,
) -> PullSummary:
    """`fetch`, then `checkout` of the workspace's outputs."""
    targets = list(targets)
    fetched = fetch(
        repo,
        targets,
        remote=remote,
        jobs=jobs,
        scope=scope,
        run_cache=run_cache,
        cwd=cwd,
        progress=progress,
    )
    ready, failed = _checkout_plan(repo, targets, (cwd or Path.cwd()).absolute(), jobs=jobs)
    done = checkout(repo, ready, cwd=cwd, force=force, jobs=jobs) if ready else CheckoutSummary()
    if not targets:
        stages, stage_failed = _stage_checkout_plan(repo, jobs=jobs)
        failed += stage_failed
        if stages:
            more = checkout(repo, stages, cwd=repo.root, force=force, jobs=jobs)
            done.added += more.added
            done.modified += more.modified
    return PullSummary(fetched, done, failed)


def _stage_checkout_plan(repo: Repo, *, jobs: int = 0) -> tuple[list[str], list[str]]:
    """Stages whose recorded outputs are all cached, and outputs that cannot be restored.

    DVC-compat: `pull` without targets checks out pipeline outputs too.
    """
    if not repo.pipeline_files():
        return [], []
    from mlvc.ops.repro import locked_outputs, ordered_stages
    from mlvc.pipeline.load import load_pipelines

    ready: list[str] = []
    failed: list[str] = []
    for stage in ordered_stages(load_pipelines(repo)):
        plans = locked_outputs(repo, [stage.addressing], cwd=repo.root)
        if not plans:
            continue
        bad = _incomplete(repo, [(o.md5 or "", o.is_dir) for _dest, o in plans], jobs)
        if not bad:
            ready.append(stage.addressing)
            continue
        failed += [repo.relpath(d) for d, o in plans if o.md5 in bad and not d.exists()]
    return ready, failed


def _incomplete(repo: Repo, outs: list[tuple[str, bool]], jobs: int) -> set[str]:
    """The `(md5, is_dir)` outputs whose object, or one of whose files, is not cached.

    One core call checks every object (a directory listing per prefix, not a stat each).
    """
    manifests: dict[str, list[str]] = {}
    for md5, is_dir in outs:
        if is_dir and md5 not in manifests and repo.cache.contains(md5):
            manifests[md5] = [h for _r, h in repo.cache.read_manifest(md5)]
    needed = {md5 for md5, _ in outs}.union(*manifests.values())
    present = set(repo.cache.contains_many(sorted(needed), jobs=jobs))
    return {
        md5
        for md5, is_dir in outs
        if md5 not in present or (is_dir and not present.issuperset(manifests.get(md5, ())))
    }


def _checkout_plan(
    repo: Repo, targets: list[str], cwd: Path, *, jobs: int = 0
) -> tuple[list[str], list[str]]:
    """`.dvc` files whose objects are all cached, and outputs that cannot be restored.

    DVC-compat: an output missing from the cache is no error when the workspace already
    holds its data (e.g. a `push: false` output on the machine that made it).
    """
    ready: list[str] = []
    failed: list[str] = []
    dvcfiles = [DvcFile.load(path, repo.state) for path in select_dvcfiles(repo, targets, cwd)]
    incomplete = _incomplete(
        repo,
        [(o.md5, o.is_dir) for d in dvcfiles for o in d.outs if o.cache and o.md5 is not None],
        jobs,
    )
    for dvcfile in dvcfiles:
        complete = True
        for out in dvcfile.outs:
            if not out.cache or out.md5 is None or out.md5 not in incomplete:
                continue
            complete = False
            if out_state(repo, dvcfile, out) != NOT_IN_CACHE:
                failed.append(repo.relpath(dvcfile.out_path(out)))
        if complete:
            ready.append(str(dvcfile.path))
    return ready, failed


def cloud_status(
    repo: Repo,
    targets: Iterable[str] = (),
    *,
    remote: str | None = None,
    scope: revs.RevScope = revs.WORKSPACE_ONLY,
    cwd: Path | None = None,
) -> dict[str, str]:
    """DVC's `status -c` map: `{path: "new" | "deleted" | "missing"}` for the scope's revisions.

    `new`: only in the local cache; `deleted`: only on the remote; `missing`: in neither.
    A directory output appears under its own path and under each of its files.
    DVC-compat: entries are keyed by path, so when revisions record different data at
    one path, the later state in the order deleted, new, missing wins, and data that
    is in sync adds nothing.
    """
    cwd = (cwd or Path.cwd()).absolute()
    found: dict[str, str] = {}
    with repo.lock():
        outs = _select(repo, targets, cwd, scope)
        outs = [t for t in outs if t.out.push and t.out.cache and t.out.md5]
        for name, group in _group(repo, outs, remote).items():
            backend = open_remote(repo.config, name)
            _fetch_manifests(repo, backend, group)
            entries: list[tuple[str, str]] = []
            for t in group:
                md5 = t.out.md5 or ""
                entries.append((t.path, md5))
                if t.out.is_dir and repo.cache.contains(md5):
                    entries.extend(
                        (f"{t.path}/{rel}", h) for rel, h in repo.cache.read_manifest(md5)
                    )
            on_remote = backend.exists_many({h for _p, h in entries})
            cached = set(repo.cache.contains_many(sorted({h for _p, h in entries})))
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
                    found[path] = state
    return found


def cloud_status_text(found: dict[str, str]) -> str:
    """DVC's text form: `\\t<state>:` padded to 20 characters, then the path."""
    return "".join(f"\t{(state + ':').ljust(20)}{path}\n" for path, state in found.items())


def plural(n: int, word: str = "file") -> str:
    """`1 file`, `2 files`."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def humanize_join(parts: list[str]) -> str:
    """DVC-compat: `a`, `a and b`, `a, b and c`."""
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} and {parts[-1]}"


def relative_to_cwd(repo: Repo, path: str, cwd: Path | None = None) -> str:
    """A repo-relative path shown relative to the current directory."""
    return os.path.relpath(repo.root / path, cwd or Path.cwd())
