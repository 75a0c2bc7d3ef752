"""`commit`: record the current content of tracked outputs in their `.dvc` files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mlvc.dvcfile import DvcFile
from mlvc.gitignore import GitIndex, GitTrackedOutputError
from mlvc.ops.checkout import legacy_unchanged
from mlvc.ops.save import Progress, save_output
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
    with_deps: bool = False,
    recursive: bool = False,
    relink: bool = True,
) -> list[Path]:
    """Hashes outputs, stores them in the cache and rewrites changed `.dvc` files.

    Targets that are not `.dvc` files (or their data) name pipeline stages, whose
    current deps and outputs go to `dvc.lock`; no targets means everything.
    `with_deps` (`-d`) and `recursive` (`-R`) read the targets as
    `mlvc.ops.targets.collect` says. Without `relink` (`--no-relink`), the workspace is
    left as it is (see `add`). Returns the `.dvc` and lock files that changed.
    """
    cwd = (cwd or Path.cwd()).absolute()
    targets = targets or []
    changed: list[Path] = []
    with repo.lock():
        dvcfiles, stages = _chosen(repo, targets, cwd, with_deps=with_deps, recursive=recursive)
        if stages is None or stages:
            from mlvc.ops.repro import commit_stages

            done = commit_stages(repo, only=stages, echo=echo, relink=relink)
            changed.extend(p for p in done.to_stage if p.name == "dvc.lock")
        for path in dvcfiles:
            if commit_dvcfile(repo, path, jobs=jobs, progress=progress, relink=relink):
                changed.append(path)
    return changed


def _chosen(
    repo: Repo, targets: list[str], cwd: Path, *, with_deps: bool, recursive: bool
) -> tuple[list[Path], list[str] | None]:
    """The `.dvc` files and the pipeline stages (by addressing; None: all) to commit."""
    if not targets:
        return repo.dvcfiles(), None
    if not (with_deps or recursive) and all(is_dvcfile_target(cwd, t) for t in targets):
        return select_dvcfiles(repo, targets, cwd), []
    from mlvc.ops.targets import collect_workspace

    found = collect_workspace(repo, targets, cwd, with_deps=with_deps, recursive=recursive)
    # DVC-compat: a target naming an output commits the stage it belongs to.
    stages = [found.stages[i] for i in dict.fromkeys(i for i, _path in found.pairs())]
    dvcfiles = [repo.root / s.dvcfile for s in stages if s.is_data_source]
    return dvcfiles, [s.addressing for s in stages if not s.is_data_source]


def commit_dvcfile(
    repo: Repo,
    path: Path,
    *,
    jobs: int = 0,
    progress: Progress | None = None,
    store: bool = True,
    relink: bool = True,
) -> bool:
    """Hashes one `.dvc` file's outputs into the cache; returns whether the file changed.

    With `store` False the outputs are only hashed (`repro --no-commit`). With `relink`
    and `cache.type` hardlink or symlink first, each output is linked to the cache
    afterwards, as `add` leaves it, and a lone file's mode becomes a checkout's (0644)
    (DVC-compat: `commit` relinks what it commits).
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
        if legacy_unchanged(repo, out, dest, jobs):
            # DVC-compat: a DVC 2 output whose data did not change keeps its record
            # (and its objects in the old layout); a changed one becomes DVC 3's.
            continue
        saved = save_output(
            repo, dest, store=out.cache and store, relink=relink, jobs=jobs, progress=progress
        )
        new = saved.info
        old = (out.md5, out.size, out.nfiles, out.isexec)
        if new != old or out.is_legacy:
            out.md5, out.size, out.nfiles, out.isexec = new
            out.hash_name = "md5"
            dirty = True
    if dirty:
        dvcfile.save()
    return dirty
