"""`add`: start tracking files and directories with `.dvc` files."""

from __future__ import annotations

import glob as globmod
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mlvc import gitignore
from mlvc.dvcfile import SUFFIX, DvcFile, dvcfile_for
from mlvc.exceptions import MlvcError
from mlvc.output import Output
from mlvc.repo import DVC_DIR, Repo

Progress = Callable[[int, int], object]


class AddError(MlvcError):
    """A target that cannot be added."""


@dataclass
class Added:
    """One target that was added."""

    path: Path
    dvcfile: Path
    out: Output
    link_type: str | None = None


@dataclass
class AddResult:
    added: list[Added] = field(default_factory=list)
    # Files to `git add` (the `.dvc` files and changed `.gitignore` files).
    to_stage: list[Path] = field(default_factory=list)


def _expand(targets: list[str], cwd: Path, use_glob: bool) -> list[Path]:
    paths: list[Path] = []
    for t in targets:
        if use_glob:
            matches = sorted(globmod.glob(t, root_dir=cwd, recursive=True))
            if not matches:
                raise AddError(f"glob `{t}` matches nothing")
            paths.extend(Path(os.path.normpath(cwd / m)) for m in matches)
        else:
            paths.append(Path(os.path.normpath(cwd / t)))
    return paths


def _check_target(repo: Repo, path: Path) -> None:
    if not repo.is_inside(path) or path == repo.root:
        raise AddError(f"`{path}` is outside the repository `{repo.root}` (or is its root)")
    rel = repo.relpath(path)
    parts = rel.split("/")
    if DVC_DIR in parts or ".git" in parts:
        raise AddError(f"`{rel}` is inside `{DVC_DIR}` or `.git`, which cannot be tracked")
    if path.name.endswith(SUFFIX) and path.is_file():
        raise AddError(f"`{rel}` is a `.dvc` file; add the data it describes instead")
    if not os.path.lexists(path):
        raise FileNotFoundError(2, "No such file or directory", rel)


def _links_to_cache(link_types: str) -> bool:
    """Whether the workspace ends up linked to the cache (hardlink or symlink first).

    Then files are hard-linked into the cache (no data is copied or moved, and a
    killed `add` never leaves a workspace file missing) and linked back as configured.
    """
    first = link_types.split(",")[0].strip()
    return first in ("hardlink", "symlink")


def add(
    repo: Repo,
    targets: list[str],
    *,
    cwd: Path | None = None,
    no_commit: bool = False,
    use_glob: bool = False,
    jobs: int = 0,
    progress: Progress | None = None,
) -> AddResult:
    """Hashes each target, stores it in the cache and writes `<target>.dvc`."""
    cwd = (cwd or Path.cwd()).absolute()
    result = AddResult()
    paths = _expand(targets, cwd, use_glob)
    for path in paths:
        _check_target(repo, path)
    link_types = repo.link_types
    linked = _links_to_cache(link_types)
    insert_mode = "link" if linked else "copy"
    with repo.lock():
        for path in paths:
            dvcfile_path = dvcfile_for(path)
            previous = DvcFile.load(dvcfile_path) if dvcfile_path.exists() else None
            link_type = None
            if path.is_dir():
                if no_commit:
                    tree = repo.hash_tree(path, jobs=jobs, progress=progress)
                else:
                    tree = repo.cache.add_tree(
                        path,
                        mode=insert_mode,
                        jobs=jobs,
                        ignore_root=repo.root,
                        state=repo.state,
                        progress=progress,
                        normalize=True,
                    )
                out = Output(path=path.name, md5=tree.hash, size=tree.size, nfiles=tree.nfiles)
                if linked and not no_commit:
                    res = repo.cache.checkout_tree(
                        tree.hash,
                        path,
                        link_types=link_types,
                        relink=True,
                        jobs=jobs,
                        state=repo.state,
                    )
                    link_type = res.link_type
            else:
                if no_commit:
                    (fh,) = repo.hash_files([path])
                else:
                    fh = repo.cache.add_file(path, mode=insert_mode, state=repo.state, normalize=True)
                out = Output(path=path.name, md5=fh.hash, size=fh.size, isexec=fh.isexec)
                if linked and not no_commit:
                    res = repo.cache.checkout_files(
                        [(path, fh.hash, fh.isexec)],
                        link_types=link_types,
                        relink=True,
                        state=repo.state,
                    )
                    link_type = res.link_type
            if previous is not None and previous.outs:
                old = previous.outs[0]
                out.raw = old.raw
                out.cache, out.push, out.remote = old.cache, old.push, old.remote
                dvcfile = DvcFile(dvcfile_path, [out], previous.raw)
            else:
                dvcfile = DvcFile(dvcfile_path, [out], {"outs": []})
            dvcfile.save()
            result.to_stage.append(dvcfile_path)
            changed = gitignore.add_entry(path)
            if changed is not None and changed not in result.to_stage:
                result.to_stage.append(changed)
            result.added.append(Added(path, dvcfile_path, out, link_type))
    return result
