"""What a revision tracks: its `.dvc` files, their outputs and the objects they use.

Revisions are read straight from git objects (no checkout). `None` stands for
the workspace.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mlvc.dvcfile import SUFFIX, DvcFile
from mlvc.exceptions import GitError, MlvcError
from mlvc.output import Output
from mlvc.repo import DVC_DIR, Repo


@dataclass(frozen=True)
class TrackedOut:
    """One output as a revision records it."""

    rev: str | None
    dvcfile: str  # repo-relative path of the `.dvc` file
    path: str  # repo-relative path of the output, `/`-separated
    out: Output


def dvcfiles_at(repo: Repo, rev: str | None) -> list[DvcFile]:
    """The `.dvc` files of a revision (`None`: the workspace)."""
    if rev is None:
        return [DvcFile.load(p, repo.state) for p in repo.dvcfiles()]
    scm = repo.scm
    if scm is None:
        raise ValueError("revisions need a git repository (this one is `--no-scm`)")
    prefix = repo.relpath(repo.root)  # "." unless the DVC repo is a git subdirectory
    git_root = Path(scm.workdir or repo.root)
    sub = "" if prefix == "." else Path(repo.root).relative_to(git_root).as_posix()
    found = []
    for path, _mode, _blob in scm.list_files(rev, sub):
        if not path.endswith(SUFFIX) or f"/{DVC_DIR}/" in f"/{path}":
            continue
        data = scm.read_file(rev, path)
        if data is None:
            continue
        found.append(DvcFile.loads(data.decode("utf-8"), git_root / path, repo.state))
    return found


def outs_at(repo: Repo, rev: str | None) -> list[TrackedOut]:
    """Every output recorded at a revision."""
    outs = []
    for dvcfile in dvcfiles_at(repo, rev):
        for out in dvcfile.outs:
            outs.append(
                TrackedOut(
                    rev, repo.relpath(dvcfile.path), repo.relpath(dvcfile.out_path(out)), out
                )
            )
    return outs


def stage_outs_at(repo: Repo, rev: str | None) -> list[TrackedOut]:
    """Every cached stage output a revision's `dvc.lock` files record.

    `dvcfile` is the lock file's path. The output's `cache`, `push` and `remote` come
    from `dvc.yaml`, its hash from `dvc.lock`; a stage without a lock entry has none.
    """
    from mlvc.pipeline.lockfile import LockFile, entry_hashes, lock_path_for, recorded_hash
    from mlvc.pipeline.revtree import Tree

    tree = Tree(repo, rev)
    if not tree.pipeline_files():
        return []
    found = []
    for file in tree.pipelines().files:
        lock_rel = lock_path_for(file.path)
        try:
            lock = LockFile.loads(tree.read(lock_rel).decode("utf-8"), lock_rel)
        except FileNotFoundError:
            continue
        for name, stage in file.stages.items():
            recorded = entry_hashes(lock.get(name), "outs")
            for out in stage.outs:
                item = recorded.get(out.path)
                md5 = recorded_hash(item)
                if item is None or md5 is None or md5.startswith("legacy:"):
                    continue
                record = Output(
                    path=out.path,
                    md5=md5,
                    size=item.get("size"),
                    nfiles=item.get("nfiles"),
                    isexec=bool(item.get("isexec")),
                    cache=out.cache,
                    push=out.push,
                    remote=out.remote,
                )
                found.append(TrackedOut(rev, lock_rel, stage.repo_path(out.path), record))
    return found


def objects_of(
    repo: Repo, outs: Iterable[TrackedOut], *, cache_only: bool = True
) -> tuple[set[str], set[str]]:
    """Object ids the outputs need (`.dir` objects expanded through the local cache).

    Returns `(objects, unexpanded)`: `unexpanded` holds `.dir` ids whose manifest
    is not in the local cache, so their files could not be listed.
    """
    objects: set[str] = set()
    unexpanded: set[str] = set()
    for t in outs:
        out = t.out
        if out.md5 is None or (cache_only and not out.cache):
            continue
        objects.add(out.md5)
        if out.is_dir:
            if repo.cache.contains(out.md5):
                objects.update(md5 for _rel, md5 in repo.cache.read_manifest(out.md5))
            else:
                unexpanded.add(out.md5)
    return objects, unexpanded


class ScopeError(MlvcError):
    """Revision-scope flags a command cannot use as given (DVC exits 1)."""

    hint: str | None = None

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


@dataclass(frozen=True)
class RevScope:
    """Which revisions a command visits: DVC's `-a`, `-T`, `-A`, `--rev`, `-n` (plus the workspace).

    One value shared by push, fetch, pull, `status -c`, gc and `metrics show`, so the
    flags mean the same everywhere. DVC-compat: follows DVC's brancher: branch tips
    (with `num`, their `num - 1` first-parent ancestors too), tags, every commit, and
    each `--rev` with its ancestors; a commit reached several ways is visited once,
    named by every name that reached it.
    """

    workspace: bool = True
    all_branches: bool = False
    all_tags: bool = False
    all_commits: bool = False
    revs: tuple[str, ...] = ()
    num: int = 1

    @property
    def has_commits(self) -> bool:
        """Whether any git revision is asked for (not just the workspace)."""
        return bool(self.all_branches or self.all_tags or self.all_commits or self.revs)

    def named_commits(self, repo: Repo) -> dict[str, list[str]]:
        """`{commit id: [names]}` in DVC's order (`--rev`, branches, tags; or every commit)."""
        scm = repo.scm
        if scm is None or not self.has_commits:
            return {}
        from mlvc.ops.diff import resolve_rev

        found: list[tuple[str, str]] = []  # (name, commit id)

        def with_ancestors(names: Iterable[str]) -> None:
            for name in names:
                found.append((name, resolve_rev(repo, name)))
                for n in range(1, self.num):
                    try:
                        found.append((f"{name}~{n}", scm.resolve(f"{name}~{n}")))
                    except GitError:  # no such ancestor: the history ends there
                        break

        if self.num > 0:
            with_ancestors(self.revs)
        if self.all_commits:
            r = subprocess.run(
                ["git", "rev-list", "--all"],
                cwd=repo.root,
                capture_output=True,
                text=True,
                check=True,
            )
            found += [(sha, sha) for sha in r.stdout.split()]
        else:
            if self.all_branches and self.num > 0:
                with_ancestors(
                    name.removeprefix("refs/heads/") for name, _ in scm.list_refs("refs/heads/")
                )
            if self.all_tags:
                for name, _ in scm.list_refs("refs/tags/"):
                    short = name.removeprefix("refs/tags/")
                    found.append((short, scm.resolve(short)))
        grouped: dict[str, list[str]] = {}
        for name, sha in found:
            names = grouped.setdefault(sha, [])
            if name not in names:
                names.append(name)
        return grouped

    def revisions(self, repo: Repo) -> list[str | None]:
        """The revisions to visit: `None` for the workspace, then commit ids."""
        head: list[str | None] = [None] if self.workspace else []
        return head + list(self.named_commits(repo))


# The default scope: the workspace alone.
WORKSPACE_ONLY = RevScope()
