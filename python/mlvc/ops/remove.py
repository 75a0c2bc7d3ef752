"""`remove`: stop tracking data by deleting its `.dvc` file (and optionally the data)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from mlvc import gitignore
from mlvc.dvcfile import SUFFIX, DvcFile
from mlvc.exceptions import MlvcError
from mlvc.fsutil import relpath
from mlvc.ops.unprotect import ensure_inside, unprotect_path
from mlvc.repo import Repo
from mlvc.rwlock import refuse_busy


class NotADvcFileError(MlvcError):
    """`remove` was given something other than a `.dvc` file."""

    hint: str | None = "name the `.dvc` file that tracks the data"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


@dataclass
class RemoveResult:
    """What `remove` changed."""

    dvcfiles: list[Path] = field(default_factory=list)
    gitignores: list[Path] = field(default_factory=list)
    outs_removed: list[Path] = field(default_factory=list)
    unprotected: list[Path] = field(default_factory=list)


def _dvcfile_target(repo: Repo, target: str, cwd: Path) -> Path:
    path = ensure_inside(repo, cwd / target, "target")
    shown = relpath(path, cwd)
    if not path.name.endswith(SUFFIX):
        # DVC-compat: `dvc remove data` is refused; only the `.dvc` file names the stage.
        beside = path.with_name(path.name + SUFFIX)
        hint = f"did you mean `{relpath(beside, cwd)}`?" if beside.is_file() else None
        raise NotADvcFileError(f"`{shown}` is not a `.dvc` file", hint)
    if not path.is_file():
        raise NotADvcFileError(
            f"`{shown}` does not exist", "check the name; `mlvc status` lists tracked data"
        )
    return path


def remove(
    repo: Repo, targets: list[str], *, outs: bool = False, cwd: Path | None = None
) -> RemoveResult:
    """Deletes the `.dvc` files named by `targets` and their `.gitignore` entries.

    Every file is read and every output path checked before anything changes,
    so a malformed file or an output outside the repository aborts the whole
    command. Without `outs` the data stays, unprotected (DVC-compat: a hardlink
    into the cache becomes a private copy, so a later `gc` cannot take it away).
    """
    cwd = (cwd or Path.cwd()).absolute()
    loaded: list[tuple[DvcFile, list[tuple[Path, bool]]]] = []
    for t in targets:
        dvcfile = DvcFile.load(_dvcfile_target(repo, t, cwd))
        out_paths = [
            (
                ensure_inside(
                    repo, dvcfile.out_path(o), f"output of `{relpath(dvcfile.path, cwd)}`"
                ),
                o.cache,
            )
            for o in dvcfile.outs
        ]
        loaded.append((dvcfile, out_paths))
    result = RemoveResult()
    with repo.lock():
        refuse_busy(
            repo.tmp_dir,
            write=[str(path) for _dvcfile, out_paths in loaded for path, _cached in out_paths],
            shown=lambda p: relpath(Path(p), cwd),
        )
        for dvcfile, out_paths in loaded:
            for path, cached in out_paths:
                if outs:
                    if path.is_dir() and not path.is_symlink():
                        shutil.rmtree(path)
                        result.outs_removed.append(path)
                    elif path.exists() or path.is_symlink():
                        path.unlink()
                        result.outs_removed.append(path)
                    repo.state.forget(path)
                elif path.exists():
                    result.unprotected += unprotect_path(repo, path)
                if cached:
                    # DVC-compat: only the unescaped `/name` line goes; see gitignore.py.
                    changed = gitignore.remove_entry(path)
                    if changed is not None:
                        result.gitignores.append(changed)
            dvcfile.path.unlink()
            result.dvcfiles.append(dvcfile.path)
    return result
