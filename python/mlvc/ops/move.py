"""`move`: rename tracked data together with its `.dvc` file and `.gitignore` entries."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from mlvc import gitignore
from mlvc.dvcfile import SUFFIX, DvcFile, dvcfile_for
from mlvc.exceptions import MlvcError
from mlvc.fsutil import atomic_write_text, relpath
from mlvc.ops.checkout import legacy_unchanged
from mlvc.ops.save import save_output
from mlvc.ops.unprotect import ensure_inside
from mlvc.output import Output, check_relative_path
from mlvc.repo import DVC_DIR, Repo


class MoveError(MlvcError):
    """A move that cannot be done; nothing was changed."""

    hint: str | None = None

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


@dataclass
class MoveResult:
    """What `move` changed: the `.dvc` file before and after, and files to stage in git."""

    old_dvcfile: Path
    new_dvcfile: Path
    to_stage: list[Path] = field(default_factory=list)


def _find_tracking(repo: Repo, src: Path, cwd: Path) -> tuple[DvcFile, int]:
    """The `.dvc` file with an output at `src`, and that output's index."""
    beside = dvcfile_for(src)
    candidates = [beside] if beside.is_file() else []
    candidates += [p for p in repo.dvcfiles() if p != beside]
    for path in candidates:
        dvcfile = DvcFile.load(path)
        for i, out in enumerate(dvcfile.outs):
            if Path(os.path.normpath(dvcfile.out_path(out).absolute())) == src:
                return dvcfile, i
    rel = repo.relpath(src)
    from mlvc.revs import stage_outs_at

    for t in stage_outs_at(repo, None, hashless=True, defer_errors=True):
        if t.path == rel:
            # DVC-compat: DVC refuses too ("move is not permitted for stages that are
            # not data sources").
            raise MoveError(
                f"`{rel}` is an output of the stage `{t.stage_name}`: only data tracked"
                " by a `.dvc` file can be moved",
                "edit the stage's `outs` in its `dvc.yaml` by hand, then `mv` the data",
            )
    if not (src.exists() or src.is_symlink()):
        raise MoveError(f"`{relpath(src, cwd)}` does not exist")
    raise MoveError(
        f"`{rel}` is not tracked by any `.dvc` file",
        "move untracked files with `mv`; `mlvc status` lists tracked data",
    )


def move(
    repo: Repo,
    src: str,
    dst: str,
    *,
    cwd: Path | None = None,
    warn: Callable[[str], object] | None = None,
) -> MoveResult:
    """Moves tracked data `src` to `dst` and updates its `.dvc` file to match.

    DVC-compat: when the `.dvc` file is named after the data (`x` and `x.dvc`) it
    is renamed after the new name, next to the data, with `path:` relative to it;
    otherwise it stays and only `path:` changes. A `dst` that is an existing
    directory receives the data inside it, as `mv` does. Data missing from the
    workspace is not an error: its `.dvc` file and `.gitignore` entry still move.

    Unlike DVC, an existing `dst` file is never overwritten, and every check runs
    before the first change.
    """
    cwd = (cwd or Path.cwd()).absolute()
    src_path = ensure_inside(repo, cwd / src, "source")
    # The root itself is a directory to move into.
    dst_path = ensure_inside(repo, cwd / dst, "destination", allow_root=True)
    if src_path.name.endswith(SUFFIX):
        raise MoveError(
            f"`{relpath(src_path, cwd)}` is a `.dvc` file",
            f"name the data it tracks: `mlvc move {relpath(src_path, cwd)[: -len(SUFFIX)]} ...`",
        )
    exists = src_path.exists() or src_path.is_symlink()
    # Missing data may still be tracked; otherwise this fails before any other check.
    tracking = None if exists else _find_tracking(repo, src_path, cwd)
    if dst.endswith(("/", os.sep)) and not dst_path.is_dir():
        # DVC-compat: a trailing slash names a directory to move into, which must exist.
        raise MoveError(f"directory `{relpath(dst_path, cwd)}` does not exist", "create it first")
    if dst_path.is_dir() and not dst_path.is_symlink():
        dst_path = dst_path / src_path.name
    shown_dst = relpath(dst_path, cwd)
    if dst_path.exists() or dst_path.is_symlink():
        raise MoveError(
            f"`{shown_dst}` already exists",
            "remove it first, or choose another destination",
        )
    if dst_path == src_path or dst_path.is_relative_to(src_path):
        raise MoveError(f"cannot move `{relpath(src_path, cwd)}` into itself")
    if repo.relpath(dst_path).split("/")[0] in (DVC_DIR, ".git"):
        raise MoveError(f"`{shown_dst}` is inside `{DVC_DIR}/` or `.git/`")
    if not dst_path.parent.is_dir():
        # DVC-compat: DVC refuses too ("stage working dir ... does not exist").
        raise MoveError(
            f"directory `{relpath(dst_path.parent, cwd)}` does not exist",
            "create it first",
        )

    dvcfile, index = tracking or _find_tracking(repo, src_path, cwd)
    old_out = dvcfile.outs[index]
    renamed = dvcfile.path.name == src_path.name + SUFFIX
    if renamed:
        new_dvcfile_path = dvcfile_for(dst_path)
        if new_dvcfile_path.exists():
            raise MoveError(f"`{relpath(new_dvcfile_path, cwd)}` already exists")
        # DVC-compat: a `.dvc` file git would ignore is refused ("bad DVC file
        # name ... is git-ignored"); so is moving data into a tracked directory.
        if repo.scm is not None and gitignore.git_ignores(repo.root, new_dvcfile_path):
            raise MoveError(
                f"cannot move `{relpath(src_path, cwd)}` to `{shown_dst}`: its `.dvc` file "
                f"`{relpath(new_dvcfile_path, cwd)}` would be ignored by git",
                "move it outside the ignored (or DVC-tracked) directory",
            )
        new_raw = {k: v for k, v in dvcfile.raw.items() if k != "wdir"}
        new_path = dst_path.name
    else:
        new_dvcfile_path = dvcfile.path
        new_raw = dict(dvcfile.raw)
        new_path = relpath(dst_path, dvcfile.wdir)
        # Output paths may not climb out of their `.dvc` file's directory (see output.py).
        check_relative_path(new_path, str(dvcfile.path))
    new_out: Output = replace(old_out, path=new_path)
    outs = list(dvcfile.outs)
    outs[index] = new_out
    new_dvcfile = DvcFile(path=new_dvcfile_path, outs=outs, raw=new_raw)

    result = MoveResult(dvcfile.path, new_dvcfile_path)
    with repo.lock():
        if exists:
            shutil.move(src_path, dst_path)
            # DVC-compat: DVC commits the moved data to the cache (and relinks it), so
            # data added with `--no-commit` or changed since gets cached, yet the `.dvc`
            # file keeps the hash it had.
            if new_out.cache and not legacy_unchanged(repo, new_out, dst_path):
                save_output(repo, dst_path)
        elif warn is not None:
            # DVC-compat: DVC warns ("... missing") and moves the `.dvc` file alone.
            warn(
                f"warning: `{relpath(src_path, cwd)}` is missing from the workspace:"
                " only its `.dvc` file and `.gitignore` entry were moved\n"
            )
        repo.state.forget(src_path)
        atomic_write_text(new_dvcfile_path, new_dvcfile.dumps())
        if renamed:
            dvcfile.path.unlink()
        if old_out.cache and repo.scm is not None:
            removed = gitignore.remove_entry(src_path)
            added = gitignore.add_entry(dst_path, gitignore.GitIgnores(repo.root))
            # DVC-compat: a `.gitignore` the move left empty (and deleted) is not staged.
            result.to_stage += [p for p in (removed, added) if p is not None and p.exists()]
    result.to_stage += [dvcfile.path] + ([new_dvcfile_path] if renamed else [])
    return result
