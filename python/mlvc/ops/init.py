"""`init`: make a directory a DVC/mlvc repository."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from mlvc.exceptions import MlvcError
from mlvc.fsutil import atomic_write_text
from mlvc.repo import DVC_DIR

# DVC-compat: the files `dvc init` writes, byte for byte.
DVC_GITIGNORE = "/config.local\n/tmp\n/cache\n"
DVCIGNORE = (
    "# Add patterns of files dvc should ignore, which could improve\n"
    "# the performance. Learn more at\n"
    "# https://dvc.org/doc/user-guide/dvcignore\n"
)


class InitError(MlvcError):
    """The directory cannot be initialised as asked."""


def _git_toplevel(path: Path) -> Path | None:
    r = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], cwd=path, capture_output=True, text=True
    )
    return Path(r.stdout.strip()) if r.returncode == 0 else None


def init(root: Path, *, no_scm: bool = False, force: bool = False, subdir: bool = False) -> Path:
    """Creates `.dvc/`, `.dvcignore` and, in a git repo, stages them. Returns the repo root."""
    root = root.absolute()
    dvc_dir = root / DVC_DIR
    if dvc_dir.exists():
        if not force:
            raise InitError(f"`{dvc_dir}` exists; use `-f` to force")
        shutil.rmtree(dvc_dir)
    toplevel = None if no_scm else _git_toplevel(root)
    if not no_scm:
        if toplevel is None:
            raise InitError(
                f"`{root}` is not tracked by any supported SCM tool (e.g. Git); "
                "use `--no-scm` to work without one"
            )
        if toplevel.resolve() != root.resolve() and not subdir:
            raise InitError(
                f"`{root}` is not the root of the git repository `{toplevel}`; "
                "use `--subdir` to initialise here anyway"
            )
    dvc_dir.mkdir()
    (dvc_dir / "tmp").mkdir()
    # DVC-compat: an empty marker whose mtime salts DVC's site-cache directory.
    (dvc_dir / "tmp" / "btime").touch()
    atomic_write_text(dvc_dir / "config", "[core]\n    no_scm = True\n" if no_scm else "")
    if not no_scm:
        # DVC-compat: without git there is nothing to ignore in, and no `.gitignore`.
        atomic_write_text(dvc_dir / ".gitignore", DVC_GITIGNORE)
    if not (root / ".dvcignore").exists():
        atomic_write_text(root / ".dvcignore", DVCIGNORE)
    if not no_scm:
        subprocess.run(
            ["git", "add", f"{DVC_DIR}/config", f"{DVC_DIR}/.gitignore", ".dvcignore"],
            cwd=root,
            check=True,
            capture_output=True,
        )
    return root
