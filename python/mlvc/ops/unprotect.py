"""`unprotect`: turn linked checkouts into private, writable copies.

With `cache.type` hardlink or symlink the workspace file *is* the cache object,
so editing it in place would corrupt the cache. Unprotecting copies the data
into a new file that replaces the link.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from mlvc import _core
from mlvc.exceptions import MlvcError
from mlvc.repo import Repo


class OutsideRepoError(MlvcError):
    """A path that resolves outside the repository."""

    hint = "mlvc only changes files inside the repository; check the path (and `wdir`)"


class NotFoundError(MlvcError):
    """A target that does not exist."""

    hint = "check the path, or run from another directory"


def ensure_inside(repo: Repo, path: Path, what: str = "path", *, allow_root: bool = False) -> Path:
    """`path` made absolute and normalised; refuses anything outside the repository.

    Both the lexical path (`..`) and the real one (a symlinked parent directory)
    must stay inside, so a crafted `.dvc` file cannot make mlvc touch other files.
    The root itself is refused unless `allow_root`: no output may be the whole repo.
    """
    norm = Path(os.path.normpath(path.absolute()))
    root = Path(os.path.normpath(repo.root.absolute()))
    real_root = Path(os.path.realpath(root))
    real_parent = Path(os.path.realpath(norm.parent))
    if norm == root and allow_root:
        return norm
    if norm == root or not (norm.is_relative_to(root) and real_parent.is_relative_to(real_root)):
        raise OutsideRepoError(f"{what} `{norm}` is outside the repository `{root}`")
    return norm


def is_linked(path: Path) -> bool:
    """Whether `path` shares its data with another file (a symlink or a hardlink)."""
    st = path.lstat()
    return stat.S_ISLNK(st.st_mode) or (stat.S_ISREG(st.st_mode) and st.st_nlink > 1)


def make_private(path: Path) -> bool:
    """Replaces a linked file by a copy of its data; returns whether it changed it.

    A plain copy the owner can write is left alone (its permissions are the user's).
    The copy gets 0644, or 0744 when the data is executable; so does a read-only
    plain copy (DVC-compat: `dvc unprotect` makes it writable, e.g. a hardlinked
    checkout copied with `cp -r`, which keeps the cache's 0444).
    """
    return _core.make_private([path])[0]


def _files_under(path: Path) -> list[Path]:
    if path.is_symlink() or not path.is_dir():
        return [path]
    # Symlinked directories are not followed: their files are not the output's.
    return [Path(dirpath) / name for dirpath, _dirs, files in os.walk(path) for name in files]


def unprotect_path(repo: Repo, path: Path, *, jobs: int = 0) -> list[Path]:
    """Unprotects one file or every file under a directory; returns those replaced."""
    files = _files_under(path)
    done = _core.make_private(files, jobs=jobs)
    changed = [f for f, d in zip(files, done, strict=True) if d]
    # New inodes or modes: what the state knew of them is stale.
    for stale in [path] if len(changed) == len(files) else changed:
        repo.state.forget(stale)
    return sorted(changed)


def unprotect(repo: Repo, targets: Iterable[str], *, cwd: Path | None = None) -> list[Path]:
    """Makes every linked file of the targets a private copy.

    All targets are checked before any is changed. Untracked targets are
    allowed, as in DVC: unprotecting is about links, not about `.dvc` files.
    """
    cwd = (cwd or Path.cwd()).absolute()
    paths = []
    for t in targets:
        p = ensure_inside(repo, cwd / t, "target", allow_root=True)
        # Read as given: an empty path or `file/` names nothing (DVC fails on both).
        if not t or not os.path.lexists(os.path.join(cwd, t)):
            shown = t or '""'
            raise NotFoundError(f"cannot unprotect `{shown}`: it does not exist")
        paths.append(p)
    changed: list[Path] = []
    with repo.lock():
        for p in paths:
            changed += unprotect_path(repo, p)
    return changed
