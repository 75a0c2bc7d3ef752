"""`ls`: what a revision holds, git files and DVC outputs together.

Two views are merged, as DVC's `DVCFileSystem` does: the git side (the tree of
a commit, or the workspace on disk) and the DVC side (outputs of the `.dvc`
files, directories expanded from their cached `.dir` manifests, and the
directories that lead to outputs). Where a path is on both sides, its type,
size and executable bit come from the git side and `isout`/`md5` from DVC.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlvc
from mlvc.exceptions import MlvcError
from mlvc.ops.diff import resolve_rev
from mlvc.repo import DVC_DIR, Repo
from mlvc.revs import outs_at

# Length of a raw object id in a git tree entry (SHA-1 repositories).
_OID_BYTES = 20


class PathNotFoundError(MlvcError):
    """The path given to `ls` is neither in git nor tracked by DVC."""

    hint = "list the parent directory to see what exists there"

    def __init__(self, path: str, rev: str | None) -> None:
        where = f"revision `{rev}`" if rev else "the workspace"
        super().__init__(f"`{path}` does not exist in {where}")


@dataclass
class Info:
    """What one side knows about a path."""

    isdir: bool
    size: int | None = None
    isexec: bool = False
    isout: bool = False
    md5: str | None = None


def _git_tree(repo: Repo, commit: str) -> dict[str, Info]:
    """Files and directories of a commit, with git's sizes (a tree's size is its object's)."""
    scm = repo.scm
    assert scm is not None
    git_root = Path(scm.workdir or repo.root)
    sub = os.path.relpath(repo.root, git_root)
    prefix = "" if sub == "." else Path(sub).as_posix() + "/"
    r = subprocess.run(
        ["git", "ls-tree", "-r", "-t", "-l", "-z", "--full-tree", commit],
        cwd=git_root,
        capture_output=True,
        check=True,
    )
    infos: dict[str, Info] = {}
    tree_sizes: dict[str, int] = {}
    for record in r.stdout.split(b"\0"):
        if not record:
            continue
        meta, raw_name = record.split(b"\t", 1)
        mode, kind, _oid, size = meta.split()
        name = raw_name.decode("utf-8", "surrogateescape")
        # A tree's object size is the sum of its entries: "<mode> <name>\0<raw oid>".
        parent = posixpath.dirname(name)
        entry_len = len(mode.lstrip(b"0")) + 1 + len(raw_name.rsplit(b"/", 1)[-1]) + 1
        tree_sizes[parent] = tree_sizes.get(parent, 0) + entry_len + _OID_BYTES
        if prefix and not name.startswith(prefix):
            continue
        rel = name[len(prefix) :]
        if rel == DVC_DIR or rel.startswith(DVC_DIR + "/"):
            continue  # DVC-compat: the `.dvc` directory is never listed
        if kind == b"tree":
            infos[rel] = Info(isdir=True)
        else:
            infos[rel] = Info(
                isdir=False,
                size=None if size == b"-" else int(size),
                isexec=mode == b"100755",
            )
    for rel, info in infos.items():
        if info.isdir:
            info.size = tree_sizes.get(prefix + rel, 0)
    return infos


def _workspace_tree(repo: Repo) -> dict[str, Info]:
    """Files and directories on disk (`.dvcignore` applied), with `stat` sizes."""
    infos: dict[str, Info] = {}
    for f in mlvc.walk(repo.root, ignore_root=repo.root):
        infos[f.relpath] = Info(isdir=False, size=f.size, isexec=f.isexec)
        for parent in _parents(f.relpath):
            if parent not in infos:
                infos[parent] = Info(isdir=True, size=(repo.root / parent).stat().st_size)
    return infos


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _dvc_tree(repo: Repo, commit: str | None) -> dict[str, Info]:
    """Outputs recorded at a revision, their files, and the directories leading to them."""
    infos: dict[str, Info] = {}
    for t in outs_at(repo, commit):
        out = t.out
        for parent in _parents(t.path):
            infos.setdefault(parent, Info(isdir=True))
        infos[t.path] = Info(
            isdir=out.is_dir, size=out.size, isexec=out.isexec, isout=True, md5=out.md5
        )
        if out.is_dir and out.md5 and repo.cache.contains(out.md5):
            for rel, md5 in repo.cache.read_manifest(out.md5):
                for parent in _parents(rel):
                    infos.setdefault(f"{t.path}/{parent}", Info(isdir=True, isout=True))
                infos[f"{t.path}/{rel}"] = Info(isdir=False, isout=True, md5=md5)
    return infos


def _merge(fs: dict[str, Info], dvc: dict[str, Info]) -> dict[str, Info]:
    merged = dict(dvc)
    for path, info in fs.items():
        d = dvc.get(path)
        if d is None:
            merged[path] = info
        else:
            merged[path] = Info(info.isdir, info.size, info.isexec, d.isout, d.md5)
    return merged


def _as_json(path: str, info: Info) -> dict[str, Any]:
    # DVC-compat: key order of `dvc ls --json` entries.
    return {
        "isout": info.isout,
        "isdir": info.isdir,
        "isexec": info.isexec,
        "size": info.size,
        "md5": info.md5,
        "path": path,
    }


def ls(
    repo: Repo,
    path: str | None = None,
    *,
    rev: str | None = None,
    recursive: bool = False,
    dvc_only: bool = False,
) -> list[dict[str, Any]]:
    """DVC's `ls` entries for `path` (repo-relative; the root when None), sorted by path."""
    commit = resolve_rev(repo, rev) if rev else None
    dvc = _dvc_tree(repo, commit)
    if dvc_only:
        tree = dvc
    else:
        fs = _git_tree(repo, commit) if commit else _workspace_tree(repo)
        tree = _merge(fs, dvc)
    target = posixpath.normpath(path.replace(os.sep, "/")).strip("/") if path else ""
    if target == ".":
        target = ""
    if target and target not in tree:
        raise PathNotFoundError(path or target, rev)
    if target and not tree[target].isdir:
        return [_as_json(posixpath.basename(target), tree[target])]
    base = target + "/" if target else ""
    found: list[dict[str, Any]] = []
    for p, info in tree.items():
        if not p.startswith(base):
            continue
        rel = p[len(base) :]
        if recursive:
            if not info.isdir:
                found.append(_as_json(rel, info))
        elif "/" not in rel:
            found.append(_as_json(rel, info))
    return sorted(found, key=lambda e: str(e["path"]))


def _naturalsize(value: int) -> str:
    """Sizes as DVC prints them (tqdm's `format_sizeof` with base 1024)."""
    if value < 1024:
        return f"{value:.0f}"
    num = float(value)
    for unit in ("", "k", "M", "G", "T", "P", "E", "Z"):
        if abs(num) < 999.5:
            if abs(num) < 99.95:
                if abs(num) < 9.995:
                    return f"{num:1.2f}{unit}"
                return f"{num:2.1f}{unit}"
            return f"{num:3.0f}{unit}"
        num /= 1024
    return f"{num:3.1f}Y"


def as_text(entries: list[dict[str, Any]], *, size: bool = False) -> str:
    """One path per line; with `size`, a right-aligned size column first."""
    if not entries:
        return ""
    if not size:
        return "".join(f"{e['path']}\n" for e in entries)
    sizes = []
    for e in entries:
        s = e["size"]
        # DVC-compat: unknown sizes and empty directories show a blank size.
        sizes.append("" if s is None or (s <= 0 and e["isdir"]) else _naturalsize(s))
    width = max(len(s) for s in sizes)
    return "".join(f"{s:>{width}}  {e['path']}\n" for s, e in zip(sizes, entries, strict=True))
