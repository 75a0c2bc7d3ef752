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


def revisions(
    repo: Repo,
    *,
    workspace: bool = True,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
) -> list[str | None]:
    """The revisions selected by DVC's `-a`, `-T`, `--all-commits` flags (plus the workspace)."""
    revs: list[str | None] = [None] if workspace else []
    scm = repo.scm
    if scm is None:
        return revs
    commits: list[str] = []
    if all_commits:
        r = subprocess.run(
            ["git", "rev-list", "--all"], cwd=repo.root, capture_output=True, text=True, check=True
        )
        commits = r.stdout.split()
    else:
        head = scm.head_commit()
        if head is not None:
            commits.append(head)
        if all_branches:
            commits += [scm.resolve(name) for name, _ in scm.list_refs("refs/heads/")]
        if all_tags:
            commits += [scm.resolve(name) for name, _ in scm.list_refs("refs/tags/")]
    seen: set[str] = set()
    for c in commits:
        if c not in seen:
            seen.add(c)
            revs.append(c)
    return revs
