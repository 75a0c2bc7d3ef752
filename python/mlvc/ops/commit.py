"""`commit`: record the current content of tracked outputs in their `.dvc` files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mlvc.dvcfile import DvcFile
from mlvc.gitignore import GitIndex, GitTrackedOutputError
from mlvc.ops.add import Progress
from mlvc.ops.status import is_dvcfile_target, select_dvcfiles
from mlvc.repo import Repo


def commit(
    repo: Repo,
    targets: list[str] | None = None,
    *,
    cwd: Path | None = None,
    jobs: int = 0,
    progress: Progress | None = None,
    echo: Callable[[str], None] = lambda _: None,
) -> list[Path]:
    """Hashes outputs, stores them in the cache and rewrites changed `.dvc` files.

    Targets that are not `.dvc` files (or their data) name pipeline stages, whose
    current deps and outputs go to `dvc.lock`; no targets means everything.
    Returns the `.dvc` and lock files that changed.
    """
    cwd = (cwd or Path.cwd()).absolute()
    changed: list[Path] = []
    data_targets = [t for t in targets or [] if is_dvcfile_target(cwd, t)]
    stage_targets = [t for t in targets or [] if t not in data_targets]
    with repo.lock():
        if stage_targets or not targets:
            from mlvc.ops.repro import commit_stages

            done = commit_stages(repo, stage_targets, cwd=cwd, echo=echo)
            changed.extend(p for p in done.to_stage if p.name == "dvc.lock")
        if targets and not data_targets:
            return changed
        for path in select_dvcfiles(repo, data_targets, cwd):
            if commit_dvcfile(repo, path, jobs=jobs, progress=progress):
                changed.append(path)
    return changed


def commit_dvcfile(
    repo: Repo,
    path: Path,
    *,
    jobs: int = 0,
    progress: Progress | None = None,
    store: bool = True,
) -> bool:
    """Hashes one `.dvc` file's outputs into the cache; returns whether the file changed.

    With `store` False the outputs are only hashed (`repro --no-commit`).
    """
    dvcfile = DvcFile.load(path)
    dirty = False
    git_index = GitIndex(repo.root) if repo.scm is not None else None
    for out in dvcfile.outs:
        dest = dvcfile.out_path(out)
        if not dest.exists():
            raise FileNotFoundError(2, "output does not exist", repo.relpath(dest))
        if out.cache and git_index is not None and git_index.holds(repo.relpath(dest)):
            raise GitTrackedOutputError(repo.root, repo.relpath(dest))
        if dest.is_dir():
            tree = (
                repo.cache.add_tree(
                    dest,
                    jobs=jobs,
                    ignore_root=repo.root,
                    state=repo.state,
                    progress=progress,
                )
                if out.cache and store
                else repo.hash_tree(dest, jobs=jobs)
            )
            new: tuple[str, int, int | None, bool] = (
                tree.hash,
                tree.size,
                tree.nfiles,
                False,
            )
        else:
            if out.cache and store:
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
    return dirty
