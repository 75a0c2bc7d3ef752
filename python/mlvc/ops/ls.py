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

from mlvc._core import walk_with_dirs
from mlvc.exceptions import MlvcError
from mlvc.ops.diff import resolve_rev
from mlvc.repo import DVC_DIR, Repo, outside_subrepos, subrepo_roots
from mlvc.revs import cached_outs_at

# Length of a raw object id in a git tree entry (SHA-1 repositories).
_OID_BYTES = 20
# The repository root's key in a tree.
ROOT = ""


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
    records = r.stdout.split(b"\0")
    names = [rec.split(b"\t", 1)[-1].decode("utf-8", "surrogateescape") for rec in records if rec]
    inner = subrepo_roots(n[len(prefix) :] for n in names if n.startswith(prefix))
    for record in records:
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
        if rel in inner or not outside_subrepos([rel], inner.__contains__):
            continue
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
    infos[ROOT] = Info(isdir=True, size=tree_sizes.get(prefix.rstrip("/"), 0))
    return infos


def _workspace_tree(repo: Repo) -> dict[str, Info]:
    """Files and directories on disk (`.dvcignore` applied), with `stat` sizes.

    DVC-compat: every directory `.dvcignore` keeps is listed, empty ones too.
    """
    infos: dict[str, Info] = {ROOT: Info(isdir=True, size=repo.root.stat().st_size)}
    files, dirs = walk_with_dirs(repo.root, ignore_root=repo.root)
    walked = {f.relpath: f for f in files}
    for rel in repo.outside_subrepos(walked):
        f = walked[rel]
        infos[rel] = Info(isdir=False, size=f.size, isexec=f.isexec)
    for rel in dirs:
        infos[rel] = Info(isdir=True, size=(repo.root / rel).stat().st_size)
    return infos


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _dvc_tree(repo: Repo, commit: str | None) -> tuple[dict[str, Info], dict[str, str]]:
    """Outputs of a revision, their files, and the directories leading to them; and the
    directory outputs whose `.dir` object the cache lacks (path -> id), not expanded."""
    infos: dict[str, Info] = {}
    unloaded: dict[str, str] = {}
    for t in cached_outs_at(repo, commit):
        out = t.out
        for parent in _parents(t.path):
            infos.setdefault(parent, Info(isdir=True))
        # DVC-compat: an output with no hash (its stage never ran) is a file of size 0.
        size = out.size if out.md5 else 0
        infos[t.path] = Info(
            isdir=out.is_dir, size=size, isexec=out.isexec, isout=True, md5=out.md5
        )
        if out.is_dir and out.md5:
            if repo.cache.contains(out.md5):
                _expand(infos, t.path, repo.cache.read_manifest(out.md5))
            else:
                unloaded[t.path] = out.md5
    return infos, unloaded


def _expand(infos: dict[str, Info], path: str, entries: list[tuple[str, str]]) -> None:
    """Adds the files of a directory output (and the directories between) to `infos`."""
    for rel, md5 in entries:
        for parent in _parents(rel):
            infos.setdefault(f"{path}/{parent}", Info(isdir=True, isout=True))
        infos[f"{path}/{rel}"] = Info(isdir=False, isout=True, md5=md5)


class DirectoryNotLoadedError(MlvcError):
    """A directory output to list whose `.dir` object neither the cache nor the remote holds."""

    exit_code = 255  # DVC-compat: DVC fails with an unexpected error here
    hint = "fetch it (`mlvc fetch`), or name a remote that holds it with `--remote`"

    def __init__(self, path: str, dir_id: str, remote: str | None) -> None:
        where = f"nor on remote `{remote}`" if remote else "and no remote is configured"
        super().__init__(
            f"cannot list `{path}`: its directory object `{dir_id}` is not in the cache {where}"
        )


def _needed(unloaded: str, target: str, depth: int | None, recursive: bool) -> bool:
    """Whether listing `target` (`depth` levels, None for all) reads inside `unloaded`."""
    if target == ROOT or unloaded.startswith(target + "/"):
        if not recursive:
            return False
        rel = unloaded[len(target) + 1 :] if target else unloaded
        return depth is None or rel.count("/") + 1 < depth
    if unloaded == target:
        return depth is None or depth > 0
    return target.startswith(unloaded + "/")


def _load(repo: Repo, infos: dict[str, Info], unloaded: dict[str, str], needed: list[str]) -> None:
    """Expands the directory outputs in `needed` from the `.dir` objects on the remote.

    DVC-compat: a directory whose contents the listing needs is read from the default
    remote (or `--remote`) when the cache lacks its `.dir`; it is not kept.
    """
    if not needed:
        return
    from mlvc.remote import open_remote

    name = repo.config.chosen_remote()
    remote = open_remote(repo.config, name) if name else None
    for path in needed:
        md5 = unloaded[path]
        entries = remote.read_manifest(md5) if remote is not None else None
        if entries is None:
            raise DirectoryNotLoadedError(path, md5, name)
        _expand(infos, path, entries)


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


class RepositoryUrlError(MlvcError):
    """`ls URL` where URL is no local path: mlvc does not clone repositories."""

    # DVC-compat: DVC fails with 1 when it cannot clone the URL.
    hint = "pass the path of a local repository (clone a Git URL with `git clone` first)"

    def __init__(self, url: str) -> None:
        super().__init__(f"`{url}` does not exist: mlvc lists local repositories only")


class TreeJsonError(MlvcError):
    """`ls --tree` with `--json`, which DVC refuses."""

    exit_code = 255  # DVC-compat: raised before DVC's own error handling
    hint = "drop `--json` to print the tree, or `-T` to list JSON"


def _tree(
    repo: Repo,
    rev: str | None,
    *,
    dvc_only: bool,
    target: str,
    depth: int | None,
    recursive: bool,
) -> tuple[dict[str, Info], dict[str, Info]]:
    """`(listed, merged)`: what listings show (DVC's side alone with `dvc_only`) and the
    merged view, where the path given is looked up. Directory outputs that listing
    `target` reads inside are expanded (from the remote if need be).

    DVC-compat: with `--dvc-only` the path itself may be a git file or directory (shown
    with its git/workspace details); only what is listed under it is DVC's alone.
    """
    commit = resolve_rev(repo, rev) if rev else None
    dvc, unloaded = _dvc_tree(repo, commit)
    fs = _git_tree(repo, commit) if commit else _workspace_tree(repo)
    # DVC-compat: also in the workspace, where the directory may be on disk: which of
    # its files are the output's comes from the `.dir`.
    needed = [p for p in sorted(unloaded) if _needed(p, target, depth, recursive)]
    _load(repo, dvc, unloaded, needed)
    merged = _merge(fs, dvc)
    # DVC-compat: the root's own entry always comes from the git/workspace side.
    merged[ROOT] = fs[ROOT]
    return (dict(dvc) if dvc_only else merged), merged


class LsConfigError(MlvcError):
    """`ls --config`, `--remote` or `--remote-config` that cannot be applied."""

    hint = "check the option's value against `mlvc config --list` and `mlvc remote list`"


def override_config(
    repo: Repo,
    *,
    config_file: Path | None = None,
    remote: str | None = None,
    remote_config: list[str] | None = None,
) -> None:
    """`ls --config FILE --remote NAME --remote-config K=V...`: this command's view of
    the repository's config, files untouched.

    DVC-compat: the file is merged over the repository's config, `--remote` becomes
    the default remote (it must exist), and `--remote-config` is merged over the
    config of that remote (or of the default one).
    """
    from mlvc.config import ConfigError, ConfigFile
    from mlvc.remote import RemoteError, remote_url

    sections: dict[str, dict[str, str]] = {}
    # Relative paths given on the command line are read from the current directory.
    base_dir, origin = Path.cwd().absolute(), "--remote-config"
    if config_file is not None:
        if not config_file.is_file():
            raise LsConfigError(f"`{config_file}`: no such config file")
        try:
            loaded = ConfigFile.load(config_file)
        except ConfigError as exc:
            raise LsConfigError(str(exc)) from None
        sections, base_dir = loaded.sections, config_file.absolute().parent
        origin = f"{config_file} (--config)"
    if remote is not None:
        sections.setdefault("core", {})["remote"] = remote
    if remote_config:
        name = remote or sections.get("core", {}).get("remote")
        name = repo.config.chosen_remote(name)
        if not name:
            raise RemoteError("`--remote-config` needs a remote: no default remote is set")
        values = sections.setdefault(f'remote "{name}"', {})
        for item in remote_config:
            key, eq, value = item.partition("=")
            if not eq or not key:
                raise LsConfigError(f"`--remote-config {item}`: expected NAME=VALUE")
            values[key.strip()] = value
    if not sections:
        return
    try:
        repo.config = repo.config.overridden(sections, base_dir=base_dir, origin=origin)
    except ConfigError as exc:
        # DVC-compat: `ls` fails with 1 here ("failed to list"), not a config error's 251.
        raise LsConfigError(str(exc)) from None
    name = repo.config.chosen_remote()
    if name:
        remote_url(repo.config, name)  # it must exist, even if nothing is read from it


def _target(repo: Repo, path: str | None, cwd: Path | None) -> str:
    """The repository path `path` names.

    DVC-compat: an absolute path, or a relative one run from outside the repository,
    is read from the repository's root; a relative one run from inside it, from the
    current directory. (DVC 3.67 reads a relative path from the root at a `--rev`
    whatever the current directory, and an absolute one from the current directory
    when that is a subdirectory; both are accidents of its file systems, so paths here
    mean the same at every revision.)
    """
    if not path:
        return ROOT
    base = (cwd or Path.cwd()).absolute()
    given = Path(path)
    if given.is_absolute() or repo.is_inside(base):
        rel = repo.relpath(base / given)
    else:
        rel = posixpath.normpath(path.replace(os.sep, "/")).strip("/")
    return ROOT if rel == "." else rel


def _subrepo_of(repo: Repo, target: str, rev: str | None) -> tuple[Repo, str]:
    """The repository that holds `target`, and the path in it: `repo` itself, or the
    deepest sub-repository (see `mlvc.repo.outside_subrepos`) `target` is at or in.

    DVC-compat: `ls` hides sub-repositories from the parent's listings, but a path at
    or inside one lists that repository, with its own outputs.
    """
    parts = target.split("/") if target else []
    found = ""
    if rev is None:
        for i in range(1, len(parts) + 1):
            if repo.is_subrepo_root("/".join(parts[:i])):
                found = "/".join(parts[:i])
    elif parts and repo.scm is not None:
        scm = repo.scm
        git_root = Path(scm.workdir or repo.root)
        sub = os.path.relpath(repo.root, git_root)
        prefix = "" if sub == "." else Path(sub).as_posix() + "/"
        commit = resolve_rev(repo, rev)
        for i in range(1, len(parts) + 1):
            if scm.list_files(commit, f"{prefix}{'/'.join(parts[:i])}/{DVC_DIR}"):
                found = "/".join(parts[:i])
    if not found:
        return repo, target
    inner = Repo(repo.root / found)
    return inner, target[len(found) + 1 :]


def _shown(repo: Repo, path: str | None) -> str:
    """The path as DVC shows it: as given, an absolute one made relative to the root."""
    if not path:
        return ""
    if Path(path).is_absolute():
        return repo.relpath(Path(path))
    return path.replace(os.sep, "/")


def ls(
    repo: Repo,
    path: str | None = None,
    *,
    rev: str | None = None,
    recursive: bool = False,
    dvc_only: bool = False,
    maxdepth: int | None = None,
    cwd: Path | None = None,
) -> list[dict[str, Any]]:
    """DVC's `ls` entries for `path` (the root when None), sorted by path.

    DVC-compat: `maxdepth` (`-L`) applies only with `recursive`; it lists files down to
    that depth and the directories at it. Without `recursive`, directories are listed
    beside files; with it, only files are.
    """
    shown = _shown(repo, path)
    repo, target = _subrepo_of(repo, _target(repo, path, cwd), rev)
    depth = maxdepth if recursive else None
    tree, merged = _tree(
        repo, rev, dvc_only=dvc_only, target=target, depth=depth, recursive=recursive
    )
    if target not in merged:
        raise PathNotFoundError(path or target, rev)
    if depth == 0 or not merged[target].isdir:
        # DVC-compat: the last part of the path as given (`data/` shows as `.`).
        return [_as_json(posixpath.basename(shown) or os.curdir, merged[target])]
    base = target + "/" if target else ""
    here = _listing_cwd(repo, path, rev, cwd) if target == ROOT else None
    found: list[dict[str, Any]] = []
    for p, info in tree.items():
        if p == ROOT or not p.startswith(base):
            continue
        rel = p[len(base) :]
        level = rel.count("/") + 1
        if not recursive:
            keep = level == 1
        elif depth is not None:
            # DVC-compat: a directory is listed when its parent lies `depth - 1` or more
            # levels from the current directory (from the root when run there).
            away = level - 1 if here is None else _distance(posixpath.dirname(p), here)
            keep = level <= depth and (away >= depth - 1 if info.isdir else True)
        else:
            keep = not info.isdir
        if keep:
            found.append(_as_json(rel if here is None else _from(p, here), info))
    return sorted(found, key=lambda e: str(e["path"]))


def _listing_cwd(repo: Repo, path: str | None, rev: str | None, cwd: Path | None) -> str | None:
    """The current directory (repository path) that the listing's paths are shown
    relative to, or None: they are relative to the directory listed.

    DVC-compat: `dvc ls` without a path, in the workspace, run from a subdirectory,
    lists the root with every path relative to the current directory (`../data`).
    """
    if path or rev is not None:
        return None
    base = (cwd or Path.cwd()).absolute()
    if not repo.is_inside(base):
        return None
    here = repo.relpath(base)
    return None if here == "." else here


def _from(path: str, here: str) -> str:
    """`path` as DVC shows it from `here`: its parent made relative, the name joined
    unnormalised (`sub` from `sub` is `../sub`)."""
    parent = posixpath.relpath(posixpath.dirname(path) or ".", here)
    name = posixpath.basename(path)
    return name if parent == "." else f"{parent}/{name}"


def _distance(path: str, start: str) -> int:
    """How many parts `path` is from `start` (both repository paths; `..` counts)."""
    rel = posixpath.relpath(path or ".", start)
    return 0 if rel == "." else rel.count("/") + 1


@dataclass
class TreeNode:
    """One row of `ls --tree`: an entry and, for a listed directory, its children."""

    name: str
    entry: dict[str, Any]
    children: list[TreeNode]


def ls_tree(
    repo: Repo,
    path: str | None = None,
    *,
    rev: str | None = None,
    dvc_only: bool = False,
    maxdepth: int | None = None,
    cwd: Path | None = None,
) -> TreeNode:
    """DVC's `ls --tree`: `path` (the root when None) with its contents, `maxdepth` deep.

    Deliberately unlike DVC 3.67, which, run from a subdirectory without a path, lists
    the root but fills each of its directories from the current directory's namesake
    (`sub` shows `data/sub`'s files from `data/`): here they hold their own files.
    """
    shown = _shown(repo, path)
    repo, target = _subrepo_of(repo, _target(repo, path, cwd), rev)
    tree, merged = _tree(
        repo, rev, dvc_only=dvc_only, target=target, depth=maxdepth, recursive=True
    )
    if target not in merged:
        raise PathNotFoundError(path or target, rev)
    children: dict[str, list[str]] = {}
    for p in tree:
        if p != ROOT:
            children.setdefault(posixpath.dirname(p), []).append(p)

    def node(p: str, name: str, depth: int | None) -> TreeNode:
        info = merged[p] if p == target else tree[p]
        kids: list[TreeNode] = []
        if info.isdir and (depth is None or depth > 0):
            below = None if depth is None else depth - 1
            kids = [node(c, posixpath.basename(c), below) for c in sorted(children.get(p, []))]
        return TreeNode(name, _as_json(p, info), kids)

    # DVC-compat: the top row shows the path as given (`.` for the root).
    return node(target, shown or os.curdir, maxdepth)


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


def _size_cell(entry: dict[str, Any]) -> str:
    s = entry["size"]
    # DVC-compat: unknown sizes and empty directories show a blank size.
    return "" if s is None or (s <= 0 and entry["isdir"]) else _naturalsize(s)


def _table(rows: list[tuple[str | None, str | None, str]]) -> str:
    """tabulate's `plain` table as DVC prints it: size right-aligned, then hash and name.

    A column is absent when its cells are None; a missing hash prints as `-`.
    """
    if not rows:
        return ""
    with_size = rows[0][0] is not None
    with_hash = rows[0][1] is not None
    size_w = max(len(r[0] or "") for r in rows)
    hash_w = max(len(r[1] or "") for r in rows)
    lines = []
    for size, md5, name in rows:
        cells = []
        if with_size:
            cells.append((size or "").rjust(size_w))
        if with_hash:
            cells.append((md5 or "").ljust(hash_w))
        cells.append(name)
        lines.append("  ".join(cells).rstrip() + "\n")
    return "".join(lines)


def _row(
    entry: dict[str, Any], name: str, size: bool, show_hash: bool
) -> tuple[str | None, str | None, str]:
    return (
        _size_cell(entry) if size else None,
        (entry["md5"] or "-") if show_hash else None,
        name,
    )


def as_text(entries: list[dict[str, Any]], *, size: bool = False, show_hash: bool = False) -> str:
    """One path per line; with `size`, a right-aligned size column first, then `show_hash`."""
    if not entries:
        return ""
    if not (size or show_hash):
        return "".join(f"{e['path']}\n" for e in entries)
    return _table([_row(e, e["path"], size, show_hash) for e in entries])


# DVC-compat: the prefixes of `dvc ls --tree`.
_EDGE, _LINE, _CORNER, _BLANK = "├── ", "│   ", "└── ", "    "


def tree_as_text(root: TreeNode, *, size: bool = False, show_hash: bool = False) -> str:
    """`ls --tree` text: one row per entry, children under their directory."""
    rows: list[tuple[str | None, str | None, str]] = []

    def walk(node: TreeNode, prefix: str, part: str, depth: int) -> None:
        rows.append(_row(node.entry, prefix + part + node.name, size, show_hash))
        below = prefix + ((_BLANK if part == _CORNER else _LINE) if depth > 0 else "")
        for i, child in enumerate(node.children):
            last = i == len(node.children) - 1
            walk(child, below, _CORNER if last else _EDGE, depth + 1)

    walk(root, "", "", 0)
    return _table(rows)
