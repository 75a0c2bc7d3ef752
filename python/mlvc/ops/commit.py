"""`commit`: record the current content of tracked outputs in their `.dvc` files."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from mlvc import gitignore
from mlvc.dvcfile import DvcFile
from mlvc.exceptions import MlvcError, PipelineError
from mlvc.gitignore import GitIndex, GitTrackedOutputError
from mlvc.ops.checkout import legacy_unchanged
from mlvc.ops.save import is_empty, save_output
from mlvc.ops.status import is_dvcfile_target, select_dvcfiles, workspace_state
from mlvc.progress import Progress
from mlvc.repo import Repo
from mlvc.rwlock import refuse_busy

# Asked before a changed stage is committed; True commits it.
Ask = Callable[[str], bool]


class StageCommitError(PipelineError):
    """A stage or pipeline that could not be committed (DVC-compat: `dvc commit`
    reports any failure with exit 1, where `repro` exits with 255)."""

    exit_code = 1


class CommitDeclinedError(MlvcError):
    """A changed stage that was not confirmed (DVC: `StageCommitError`, exit 1)."""

    exit_code = 1
    hint = "pass `-f` to commit without asking"


def changes_message(deps: list[str], outs: list[str], stage_changed: str | None) -> str:
    """DVC's question for a changed stage (`_prepare_message` in `dvc/repo/commit.py`)."""
    if deps and outs:
        what = f"dependencies {deps} and outputs {outs} of {{stage}} changed."
    elif deps:
        what = f"dependencies {deps} of {{stage}} changed."
    elif outs:
        what = f"outputs {outs} of {{stage}} changed."
    else:
        what = stage_changed or ""
    return what + " Are you sure you want to commit it?"


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
    ask: Ask | None = None,
    warn: Callable[[str], None] = lambda _: None,
) -> list[Path]:
    """Hashes outputs, stores them in the cache and rewrites changed `.dvc` files.

    `ask` (without `-f`) is asked about each `.dvc` file or stage whose outputs or
    deps changed, or whose command did; one "no" commits nothing. DVC-compat: DVC
    asks the same questions, and without a terminal takes the answer as no (it
    commits the stages before the refused one; mlvc asks every question first).

    Targets that are not `.dvc` files (or their data) name pipeline stages, whose
    current deps and outputs go to `dvc.lock`; no targets means everything.
    `with_deps` (`-d`) and `recursive` (`-R`) read the targets as
    `mlvc.ops.targets.collect` says. Without `relink` (`--no-relink`), the workspace is
    left as it is (see `add`). Returns the `.dvc` and lock files that changed.
    """
    try:
        return _commit(
            repo, targets or [], cwd, jobs, progress, echo, with_deps, recursive, relink, ask, warn
        )
    except PipelineError as exc:
        # DVC-compat: `dvc commit` turns every failure (a missing dep, output or param,
        # a bad `dvc.yaml`) into "failed to commit" and exit 1.
        if isinstance(exc, StageCommitError):
            raise
        raise StageCommitError(str(exc), exc.hint) from exc


def _commit(
    repo: Repo,
    targets: list[str],
    cwd: Path | None,
    jobs: int,
    progress: Progress | None,
    echo: Callable[[str], None],
    with_deps: bool,
    recursive: bool,
    relink: bool,
    ask: Ask | None,
    warn: Callable[[str], None],
) -> list[Path]:
    cwd = (cwd or Path.cwd()).absolute()
    changed: list[Path] = []
    with repo.lock():
        dvcfiles, stages = _chosen(repo, targets, cwd, with_deps=with_deps, recursive=recursive)
        loaded = [DvcFile.load(path) for path in dvcfiles]
        outputs = [d.out_path(o) for d in loaded for o in d.outs]
        # DVC-compat: every output must be there before any `.dvc` file is rewritten.
        for out_path in outputs:
            if not os.path.lexists(out_path):
                raise FileNotFoundError(2, "output does not exist", repo.relpath(out_path))
        refuse_busy(
            repo.tmp_dir,
            write=[str(p) for p in outputs],
            shown=lambda p: repo.shown(repo.relpath(Path(p)), cwd),
        )
        if ask is not None:
            _confirm_dvcfiles(repo, loaded, cwd, ask, jobs)
        if stages is None or stages:
            from mlvc.ops.repro import commit_stages

            done = commit_stages(repo, only=stages, echo=echo, warn=warn, relink=relink, ask=ask)
            changed.extend(p for p in done.to_stage if p.name == "dvc.lock")
        for path in dvcfiles:
            if commit_dvcfile(repo, path, jobs=jobs, progress=progress, relink=relink, warn=warn):
                changed.append(path)
    return changed


def _confirm_dvcfiles(repo: Repo, dvcfiles: list[DvcFile], cwd: Path, ask: Ask, jobs: int) -> None:
    for dvcfile in dvcfiles:
        outs = [
            out.path
            for out in dvcfile.outs
            if workspace_state(repo, dvcfile, out, jobs=jobs) is not None
        ]
        shown = repo.shown(repo.relpath(dvcfile.path), cwd)
        if outs and not ask(changes_message([], outs, None).format(stage=f"stage: '{shown}'")):
            raise CommitDeclinedError(f"unable to commit changed stage `{shown}`")


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
    warn: Callable[[str], None] = lambda _: None,
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
        if is_empty(new):
            warn(f"warning: '{repo.relpath(dest)}' is empty\n")
        old = (out.md5, out.size, out.nfiles, out.isexec)
        if new != old or out.is_legacy:
            out.md5, out.size, out.nfiles, out.isexec = new
            out.hash_name = "md5"
            dirty = True
    if dirty:
        dvcfile.save()
    if repo.scm is not None:
        # DVC-compat: commit ignores the outputs in git, as `add` does (a hand-written
        # `.dvc` file may not have had its entries yet).
        ignores = gitignore.GitIgnores(repo.root, [dvcfile.out_path(o) for o in dvcfile.outs])
        for out in dvcfile.outs:
            if out.cache:
                gitignore.add_entry(dvcfile.out_path(out), ignores)
    return dirty
