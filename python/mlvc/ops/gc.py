"""`gc`: delete cache (and local-remote) objects that no kept revision uses.

The set of objects to keep is computed first, from every `.dvc` file and
`dvc.lock` of the kept revisions, with `.dir` manifests expanded. Only then is
anything deleted, and only objects outside that set: a kept revision never
loses data it references.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlvc
from mlvc import yamlio
from mlvc.config import ConfigError
from mlvc.exceptions import MlvcError
from mlvc.objects import LEGACY_PREFIX, bare, is_legacy, object_id
from mlvc.ops.diff import BadRevisionError, NoGitError, UnknownRevisionError
from mlvc.output import is_md5_name
from mlvc.remote.base import RemoteError
from mlvc.repo import DVC_DIR, Repo
from mlvc.revs import RevScope, git_files_at, outs_at, stage_outs_at

if TYPE_CHECKING:
    from mlvc.remote import Remote

# Temp files younger than this may belong to a write still in progress elsewhere.
TEMP_GRACE_SECONDS = 3600.0
TEMP_SUFFIX = ".mlvc-tmp"
LOCK_NAME = "dvc.lock"
_LS_FILES = ("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--")
_HEX2 = re.compile(r"^[0-9a-f]{2}$")


class GcScopeError(MlvcError):
    """`gc` was called without saying (clearly) which revisions to keep."""

    # DVC-compat: `dvc gc` without a scope flag exits 255.
    exit_code = 255
    hint = "pass `-w` to keep only what the workspace uses, or add `-a`, `-T`, `--all-commits`"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class GcError(MlvcError):
    """`gc` cannot tell safely what to keep, so it deletes nothing."""

    hint: str | None = None

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class RevCollectionError(GcError):
    """A kept revision's files cannot be read, so what it uses is unknown."""

    # DVC-compat: exit 255, as DVC's `RevCollectionError`.
    exit_code = 255


def check_scope(
    scope: RevScope, *, num: int | None = None, cloud: bool = False, not_in_remote: bool = False
) -> None:
    """Refuses what DVC refuses: `--not-in-remote` with `-c`, an empty scope, a stray `-n`."""
    if not_in_remote and cloud:
        raise GcScopeError(
            "`--not-in-remote` and `--cloud` are mutually exclusive",
            hint="drop `-c` to delete only local copies, or `--not-in-remote` to clean the remote",
        )
    if not (scope.workspace or scope.has_commits):
        # DVC-compat: DVC's message, word for word.
        raise GcScopeError(
            "Either of `-w|--workspace`, `-a|--all-branches`, `-T|--all-tags` "
            "`--all-experiments`, `--all-commits`, `--date` or `--rev` needs to be set."
        )
    if num and not (scope.revs or scope.all_branches):
        raise GcScopeError(
            "`--num` can only be used alongside `--rev` or `--all-branches`",
            hint="add `--rev COMMIT` or `-a`, or drop `-n`",
        )


def describe(
    scope: RevScope,
    *,
    num: int | None = None,
    not_in_remote: bool = False,
    projects: Iterable[Path] = (),
) -> str:
    """DVC's wording of what is kept, for the warning before deleting (`num`: `-n` as given)."""
    text = "the workspace"
    if scope.all_commits:
        text += " and all git commits"
    else:
        # DVC-compat: "last N commits" whenever `-n` was given, or `--rev` was.
        shown = scope.num if (num or scope.revs) else None
        last = f"last {shown} commits from all git branches" if shown else ""
        if scope.all_branches and scope.all_tags:
            text += f" and {last} and all git tags" if last else " and all git branches and tags"
        elif scope.all_branches:
            text += f" and {last}" if last else " and all git branches"
        elif scope.all_tags:
            text += " and all git tags"
        if scope.commit_date:
            # DVC-compat: DVC says "before" although it keeps the commits from that date on.
            text += f" and all git commits before date {scope.commit_date}"
        for rev in scope.revs:
            text += f" and last {scope.num} commits from {rev}"
    if scope.all_experiments:
        text += " and all experiments"
    if not_in_remote:
        text += " that are not present in the DVC remote"
    paths = [os.path.abspath(p) for p in projects]
    if paths:
        text += " of the current and the following repos:" + "".join(f"\n  - {p}" for p in paths)
    else:
        text += " of the current repo."
    return text


@dataclass
class Swept:
    """What was (or, with `dry`, would be) removed from one place."""

    location: str  # "repo", "legacy" or "remote"
    root: Path
    objects: list[Path] = field(default_factory=list)
    temp_files: list[Path] = field(default_factory=list)


# --- what the kept revisions reference ------------------------------------------


def _lock_files_at(repo: Repo, rev: str | None) -> Iterator[tuple[str, bytes]]:
    """`(name, bytes)` of every `dvc.lock` of a revision (`None`: the workspace)."""
    scm = repo.scm
    if rev is None:
        names: Iterable[str]
        if scm is not None:
            r = subprocess.run(
                [*_LS_FILES, LOCK_NAME, f":(glob)**/{LOCK_NAME}"],
                cwd=repo.root,
                capture_output=True,
                check=False,
            )
            names = [n for n in r.stdout.decode("utf-8", "surrogateescape").split("\0") if n]
        else:
            names = [
                f.relpath
                for f in mlvc.walk(repo.root, ignore_root=repo.root)
                if f.relpath.rsplit("/", 1)[-1] == LOCK_NAME
            ]
        for name in sorted(repo.outside_subrepos(set(names))):
            local = repo.root / name
            if local.is_file() and not name.startswith(DVC_DIR + "/"):
                yield name, local.read_bytes()
        return
    assert scm is not None  # revisions() yields commits only with git
    git_root = Path(scm.workdir or repo.root)
    sub = repo.root.relative_to(git_root).as_posix() if repo.root != git_root else ""
    sub = "" if sub == "." else sub
    for path in git_files_at(scm, rev, sub):
        if path.rsplit("/", 1)[-1] == LOCK_NAME and f"/{DVC_DIR}/" not in f"/{path}":
            data = scm.read_file(rev, path)
            if data is not None:
                yield f"{rev[:7]}:{path}", data


def _lock_hashes(name: str, data: bytes) -> set[str]:
    """Object ids (`mlvc.objects`) of every stage output recorded in one `dvc.lock`:
    entries without `hash: md5` are DVC 2's, legacy objects."""
    doc: Any = yamlio.loads(data.decode("utf-8"), name)
    found: set[str] = set()
    stages = doc.get("stages") if isinstance(doc, dict) else None
    if not isinstance(stages, dict):
        return found
    for stage in stages.values():
        outs = stage.get("outs") if isinstance(stage, dict) else None
        for out in outs if isinstance(outs, list) else []:
            md5 = out.get("md5") if isinstance(out, dict) else None
            if isinstance(md5, str) and is_md5_name(md5):
                found.add(object_id(md5, out.get("hash")))
    return found


def _rev_hashes(repo: Repo, rev: str | None, *, by_remote: bool) -> dict[str | None, set[str]]:
    """Top-level object ids a revision uses, under the `remote:` of the outputs using them.

    Without `by_remote` everything is under None, and no `dvc.yaml` is read.
    """
    found: dict[str | None, set[str]] = {}
    for t in outs_at(repo, rev):
        oid = t.out.oid
        if oid is not None and t.out.cache:
            found.setdefault(t.out.remote if by_remote else None, set()).add(oid)
    locked: set[str] = set()
    for name, data in _lock_files_at(repo, rev):
        locked |= _lock_hashes(name, data)
    if by_remote and locked:
        # A stage output's `remote:` is in `dvc.yaml`, not in the lock.
        elsewhere: set[str] = set()
        plain: set[str] = set()
        for t in stage_outs_at(repo, rev):
            oid = t.out.oid
            if oid is None or oid not in locked:
                continue
            if t.out.remote and t.out.cache:
                found.setdefault(t.out.remote, set()).add(oid)
                elsewhere.add(oid)
            else:
                plain.add(oid)
        locked -= elsewhere - plain
    if locked:
        found.setdefault(None, set()).update(locked)
    return found


def referenced_hashes(
    repo: Repo,
    revs: Iterable[str | None],
    *,
    on_skip: Callable[[str], None] | None = None,
    by_remote: bool = False,
) -> dict[str | None, set[str]]:
    """Top-level object ids (files and `.dir` ids, `mlvc.objects`) the revisions' outputs use.

    With `by_remote`, grouped by the `remote:` of the outputs that use them (None:
    outputs that name no remote); without it, all under None.
    Outputs with `cache: false` are not counted (DVC-compat: they live in git).
    Pipeline outputs from `dvc.lock` are always counted: the lock does not say
    whether they are cached, and keeping too much is the safe mistake.

    A revision whose files cannot be read stops gc (`GcError`), unless `on_skip` is
    given (`--skip-failed`): then it is called with the revision, which is skipped.
    """
    found: dict[str | None, set[str]] = {}
    for rev in revs:
        try:
            for remote, hashes in _rev_hashes(repo, rev, by_remote=by_remote).items():
                found.setdefault(remote, set()).update(hashes)
        except (MlvcError, ValueError, UnicodeDecodeError) as exc:
            name = rev or "workspace"
            if on_skip is None:
                # DVC-compat: DVC's wording.
                raise RevCollectionError(
                    f"Failed to collect '{name}': {exc}",
                    hint="fix the files of that revision, or pass `--skip-failed` to skip it",
                ) from exc
            on_skip(name)
    return found


def _legacy_path(root: Path, hash_id: str) -> Path:
    return root / hash_id[:2] / hash_id[2:]


def _read_manifest(stores: list[Path], dir_id: str) -> list[tuple[str, str]] | None:
    """A `.dir` manifest (its entries as object ids) from the first store holding it.

    DVC-compat: a DVC 2 (legacy) tree is read from the 2.x layout only and lists legacy
    objects; a DVC 3 tree from the 3.x layout only.
    """
    for root in stores:
        if is_legacy(dir_id):
            legacy = _legacy_path(root, bare(dir_id))
            if legacy.is_file():
                entries = mlvc.parse_manifest(legacy.read_bytes())
                return [(rel, LEGACY_PREFIX + h) for rel, h in entries]
            continue
        cache = mlvc.Cache(root)
        if cache.contains(dir_id):
            return cache.read_manifest(dir_id)
    return None


def expand(
    hashes: set[str],
    stores: list[Path],
    on_missing: Callable[[list[str]], None] | None = None,
    required: frozenset[str] = frozenset(),
) -> set[str]:
    """Adds the files of every `.dir` object, whose manifest comes from the first store
    holding it.

    DVC-compat: a directory whose manifest no store holds is skipped, and its files
    count as unused: without the manifest they cannot be checked out anyway.
    `on_missing` is told which manifests were missing (DVC says nothing).
    Unlike DVC, a missing manifest in `required` (the workspace's) stops gc: the
    workspace may be links to the very files that would go.
    """
    keep = set(hashes)
    missing = []
    for dir_id in sorted(h for h in hashes if h.endswith(".dir")):
        manifest = _read_manifest(stores, dir_id)
        if manifest is None:
            missing.append(dir_id)
            continue
        keep.update(md5 for _rel, md5 in manifest)
    needed = [d for d in missing if d in required]
    if needed:
        more = f" and {len(needed) - 1} more" if len(needed) > 1 else ""
        raise GcError(
            f"the manifest of directory object `{bare(needed[0])}`{more}, which the workspace"
            " uses, is not in the cache, so gc cannot tell which files it needs",
            hint="fetch it first (`mlvc fetch`), or re-add the directory (`mlvc commit -f`)",
        )
    if missing and on_missing is not None:
        on_missing([bare(d) for d in missing])
    return keep


# --- what is stored -----------------------------------------------------------


def _legacy_objects(root: Path) -> dict[str, Path]:
    """DVC 2.x objects at `<root>/<2 hex>/<30 hex>[.dir]`."""
    found: dict[str, Path] = {}
    try:
        prefixes = [e for e in os.scandir(root) if _HEX2.match(e.name) and e.is_dir()]
    except FileNotFoundError:
        return found
    for d in prefixes:
        for f in os.scandir(d.path):
            hash_id = d.name + f.name
            if is_md5_name(hash_id) and f.is_file(follow_symlinks=False):
                found[hash_id] = Path(f.path)
    return found


def _stale_temp_files(root: Path, now: float, grace: float) -> list[Path]:
    """Temp files left by interrupted writes, in the object areas (never `runs/`)."""
    stale: list[Path] = []
    areas = [root / "files"]
    try:
        areas += [Path(e.path) for e in os.scandir(root) if _HEX2.match(e.name) and e.is_dir()]
    except FileNotFoundError:
        return stale
    for area in areas:
        for dirpath, dirs, files in os.walk(area):
            # A temp directory is an object directory being filled: never walked.
            temp_dirs = [name for name in dirs if name.endswith(TEMP_SUFFIX)]
            dirs[:] = [name for name in dirs if not name.endswith(TEMP_SUFFIX)]
            for name in temp_dirs + [f for f in files if f.endswith(TEMP_SUFFIX)]:
                p = Path(dirpath) / name
                try:
                    if now - p.lstat().st_mtime > grace:
                        stale.append(p)
                except FileNotFoundError:
                    continue  # finished and renamed meanwhile
    return sorted(stale)


def _sweep_store(
    root: Path, location: str, keep: set[str], *, now: float, grace: float
) -> list[Swept]:
    """Lists unused objects of one store: its 3.x part (plus temp files) and its 2.x part.

    DVC-compat: each part keeps what outputs of its own kind use; a DVC 2 copy of data
    that only DVC 3 outputs use goes (DVC's gc compares hash names too).
    """
    cache = mlvc.Cache(root)
    current = Swept("remote" if location == "remote" else "repo", root)
    current.objects = [Path(cache.object_path(h)) for h in cache.list() if h not in keep]
    current.temp_files = _stale_temp_files(root, now, grace)
    legacy = Swept("remote" if location == "remote" else "legacy", root)
    old = {bare(h) for h in keep if is_legacy(h)}
    legacy.objects = [p for h, p in sorted(_legacy_objects(root).items()) if h not in old]
    return [current, legacy]


def _delete(paths: list[Path], jobs: int) -> None:
    def rm(p: Path) -> None:
        # Already gone means another gc got there first: the goal is reached either way.
        with contextlib.suppress(FileNotFoundError):
            try:
                p.unlink()
            except IsADirectoryError:
                shutil.rmtree(p)  # a stale temp directory

    workers = jobs or min(32, (os.cpu_count() or 1) * 4)
    if workers <= 1 or len(paths) < 64:
        for p in paths:
            rm(p)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(rm, paths))


class NoGcRemoteError(ConfigError):
    """`gc -c` or `--not-in-remote` with neither `-r` nor `core.remote` (DVC exits 251)."""

    hint = "pass `-r NAME`, or set a default remote with `mlvc remote default NAME`"


def _default_remote(repo: Repo, remote: str | None) -> str:
    """`-r NAME`, else `core.remote`."""
    from mlvc.ops.transfer import NoRemoteError, remote_name

    try:
        return remote_name(repo, remote, None)
    except NoRemoteError as exc:
        raise NoGcRemoteError(str(exc)) from exc


def _default_store(repo: Repo) -> list[Path]:
    """The default remote's directory, if one is set and readable: it may still hold a
    manifest the cache has lost."""
    name = repo.config.chosen_remote()
    if name is None:
        return []
    try:
        return [_open_remote(repo, name)[0]]
    except RemoteError:
        return []


def _open_remote(repo: Repo, name: str) -> tuple[Path, Remote]:
    """A remote of `repo`'s config, and the directory that holds it (local remotes only)."""
    from mlvc.remote import open_remote

    backend = open_remote(repo.config, name)
    return Path(backend.url), backend


def gc(
    repo: Repo,
    scope: RevScope,
    *,
    cloud: bool = False,
    remote: str | None = None,
    dry: bool = False,
    jobs: int = 0,
    temp_grace: float = TEMP_GRACE_SECONDS,
    not_in_remote: bool = False,
    projects: Iterable[Path] = (),
    on_skip: Callable[[str], None] | None = None,
    on_missing: Callable[[list[str]], None] | None = None,
) -> list[Swept]:
    """Deletes unused objects from the cache (and with `cloud`, the remotes).

    `not_in_remote`: objects already on their remote count as unused (local copies only).
    `projects`: other repositories sharing this cache; what they use (same scope) is kept.
    `on_skip`: skip revisions that cannot be read, telling it which (`--skip-failed`).
    `on_missing`: told the `.dir` objects found in no store (see `expand`).
    DVC-compat: an output's objects belong to its `remote:`, those of outputs naming
    none to `remote` (else `core.remote`); `cloud` cleans each of these remotes of what
    its own outputs do not use, and `not_in_remote` checks each object on its own.
    Returns what was removed per place; with `dry`, what would be, and nothing
    is deleted.
    """
    check_scope(scope, cloud=cloud, not_in_remote=not_in_remote)
    others = [o for o in (_open_project(p) for p in projects) if o.root != repo.root]
    by_remote = cloud or not_in_remote
    default = None
    if by_remote:
        try:
            default = _open_remote(repo, _default_remote(repo, remote))
        except RemoteError as exc:
            # DVC-compat: an unknown remote is a config error for gc (exit 251).
            error = NoGcRemoteError(str(exc))
            error.hint = exc.hint
            raise error from exc
    with contextlib.ExitStack() as locks:
        for other in others:
            locks.enter_context(other.lock())
        locks.enter_context(repo.lock())
        # DVC-compat: every scope keeps the workspace too.
        scope = replace(scope, workspace=True)
        used: set[str] = set()
        unnamed: set[str] = set()
        # Per remote directory (DVC's order: as outputs name them, the default last).
        remotes: dict[Path, tuple[Remote, set[str]]] = {}

        def collect(project: Repo, revs: list[str | None]) -> set[str]:
            """Adds what `revs` of `project` use to the sets above; returns it."""
            found: set[str] = set()
            groups = referenced_hashes(project, revs, on_skip=on_skip, by_remote=by_remote)
            for name, hashes in groups.items():
                found |= hashes
                if name is None:
                    unnamed.update(hashes)
                    continue
                root, backend = _open_remote(project, name)
                remotes.setdefault(root, (backend, set()))[1].update(hashes)
            used.update(found)
            return found

        for other in others:
            collect(other, _revisions(scope, other))
        revs = _revisions(scope, repo)  # the workspace (None) first, then the commits
        in_workspace = frozenset(collect(repo, revs[:1]))
        collect(repo, revs[1:])
        if default is not None:
            remotes.setdefault(default[0], (default[1], set()))[1].update(unnamed)
        # A manifest evicted from the cache but still pushed tells what to keep.
        stores = [repo.cache_dir, *(remotes or _default_store(repo))]
        keep = expand(used, stores, on_missing, required=in_workspace)
        if not_in_remote:
            for backend, hashes in remotes.values():
                ids = expand(hashes, stores)
                # DVC-compat: DVC asks both layouts of the remote for each md5 name, so
                # data pushed in either form counts as pushed.
                names = {bare(h) for h in ids}
                asked = names | {LEGACY_PREFIX + n for n in names}
                pushed = {bare(h) for h in backend.exists_many(asked)}
                keep -= {h for h in ids if bare(h) in pushed}
        now = time.time()
        swept = _sweep_store(repo.cache_dir, "repo", keep, now=now, grace=temp_grace)
        if cloud:
            for root, (_backend, hashes) in remotes.items():
                swept += _sweep_store(
                    root, "remote", expand(hashes, stores), now=now, grace=temp_grace
                )
        if not dry:
            for s in swept:
                _delete(s.objects + s.temp_files, jobs)
            if cloud and any(s.objects for s in swept):
                # What remotes were seen to hold is no longer known.
                repo.known_objects.forget_all()
    return swept


def _revisions(scope: RevScope, repo: Repo) -> list[str | None]:
    """The revisions `scope` keeps in `repo`.

    DVC-compat: `--rev` and `--all-experiments` without git fail gc with 255 (other
    scopes keep the workspace), as does an unknown `--rev`.
    """
    if repo.scm is None and (scope.revs or scope.all_experiments):
        flag = "--rev" if scope.revs else "--all-experiments"
        raise NoGitError(
            f"`{flag}`",
            exit_code=255,
            hint="run `git init`, then `mlvc config core.no_scm false`; or use `-w`",
        )
    try:
        return scope.revisions(repo)
    except UnknownRevisionError as exc:
        raise BadRevisionError(exc.rev) from exc


def _open_project(path: Path) -> Repo:
    """Another repository named by `-p`; DVC-compat: a missing one is exit 253."""
    from mlvc.repo import NotARepoError

    if not path.is_dir():
        error = NotARepoError(f"directory `{path}` does not exist")
        error.hint = "check the paths given to `-p/--projects`"
        raise error
    return Repo.find(path)
