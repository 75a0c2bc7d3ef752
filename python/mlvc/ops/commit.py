"""`commit`: record the current content of tracked outputs in their `.dvc` files."""

from __future__ import annotations

from pathlib import Path

from mlvc.dvcfile import DvcFile
from mlvc.ops.add import Progress
from mlvc.ops.status import select_dvcfiles
from mlvc.repo import Repo


def commit(
    repo: Repo,
    targets: list[str] | None = None,
    *,
    cwd: Path | None = None,
    jobs: int = 0,
    progress: Progress | None = None,
) -> list[Path]:
    """Hashes outputs, stores them in the cache and rewrites changed `.dvc` files.

    Returns the `.dvc` files that changed.
    """
    cwd = (cwd or Path.cwd()).absolute()
    changed = []
    with repo.lock():
        for path in select_dvcfiles(repo, targets or [], cwd):
            dvcfile = DvcFile.load(path)
            dirty = False
            for out in dvcfile.outs:
                dest = dvcfile.out_path(out)
                if not dest.exists():
                    raise FileNotFoundError(2, "output does not exist", repo.relpath(dest))
                if dest.is_dir():
                    tree = (
                        repo.cache.add_tree(
                            dest,
                            jobs=jobs,
                            ignore_root=repo.root,
                            state=repo.state,
                            progress=progress,
                        )
                        if out.cache
                        else repo.hash_tree(dest, jobs=jobs)
                    )
                    new: tuple[str, int, int | None, bool] = (
                        tree.hash,
                        tree.size,
                        tree.nfiles,
                        False,
                    )
                else:
                    if out.cache:
                        fh = repo.cache.add_file(dest, state=repo.state)
                    else:
                        (fh,) = repo.hash_files([dest])
                    new = (fh.hash, fh.size, None, fh.isexec)
                old = (out.md5, out.size, out.nfiles, out.isexec)
                if new != old or out.hash_name != "md5":
                    out.md5, out.size, out.nfiles, out.isexec = new
                    out.hash_name = "md5"
                    dirty = True
            if dirty:
                dvcfile.save()
                changed.append(path)
    return changed
