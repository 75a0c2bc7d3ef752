"""`status`: which tracked outputs differ from what their `.dvc` files record."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlvc.dvcfile import DvcFile
from mlvc.objects import LEGACY_ALGORITHM
from mlvc.output import Output
from mlvc.repo import Repo

if TYPE_CHECKING:
    from mlvc.pipeline.model import Stage
    from mlvc.pipeline.status import Workspace

# DVC-compat: the words `dvc status` uses for an output's state.
MODIFIED = "modified"
DELETED = "deleted"
NOT_IN_CACHE = "not in cache"


@dataclass
class OutStatus:
    """One output that is not as recorded."""

    dvcfile: Path
    out: Output
    path: Path
    state: str


def current_hash(
    repo: Repo,
    path: Path,
    *,
    jobs: int = 0,
    workspace: Workspace | None = None,
    legacy: bool = False,
) -> tuple[str, int, int | None] | None:
    """`(hash, size, nfiles)` of a workspace path, or None when it does not exist.

    With `workspace`, a path hashed before in the same command is not hashed again.
    With `legacy`, the hash is DVC 2's md5-dos2unix, to compare with a DVC 2 record.
    """
    if workspace is not None:
        rel = repo.relpath(path)
        info = workspace.legacy_hash(rel) if legacy else workspace.hash(rel)
        return None if info is None else (info[0], info[1], info[2])
    algorithm = LEGACY_ALGORITHM if legacy else "md5"
    if path.is_dir():
        tree = repo.hash_tree(path, jobs=jobs, algorithm=algorithm)
        return tree.hash, tree.size, tree.nfiles
    if not path.exists():
        return None
    (fh,) = repo.hash_files([path], jobs=jobs, algorithm=algorithm)
    return fh.hash, fh.size, None


def out_state(
    repo: Repo,
    dvcfile: DvcFile,
    out: Output,
    *,
    jobs: int = 0,
    workspace: Workspace | None = None,
) -> str | None:
    """The state word for one output, or None when it matches its record.

    DVC-compat: "not in cache" comes first, whatever the workspace holds, when the
    cache lacks the recorded object (for a directory: any of its files).
    """
    if out.cache and out.oid is not None and not repo.holds(out.oid):
        return NOT_IN_CACHE
    return workspace_state(repo, dvcfile, out, jobs=jobs, workspace=workspace)


def workspace_state(
    repo: Repo,
    dvcfile: DvcFile,
    out: Output,
    *,
    jobs: int = 0,
    workspace: Workspace | None = None,
) -> str | None:
    """`deleted` or `modified` when the workspace differs from the record, else None."""
    path = dvcfile.out_path(out)
    # DVC-compat: a DVC 2 record is compared with the md5-dos2unix of the workspace.
    current = current_hash(repo, path, jobs=jobs, workspace=workspace, legacy=out.is_legacy)
    if current is None:
        return DELETED
    if out.md5 is None or current[0] != out.md5:
        return MODIFIED
    return None


def select_dvcfiles(repo: Repo, targets: Iterable[str], cwd: Path) -> list[Path]:
    """`.dvc` files named by targets (a `.dvc` file, or the data it tracks); all when none."""
    chosen = []
    for t in targets:
        p = (cwd / t).absolute()
        if p.suffix == ".dvc" and p.is_file():
            chosen.append(p)
        elif p.with_name(p.name + ".dvc").is_file():
            chosen.append(p.with_name(p.name + ".dvc"))
        else:
            raise FileNotFoundError(2, "not tracked by any `.dvc` file", t)
    return chosen if chosen else repo.dvcfiles()


def is_dvcfile_target(cwd: Path, target: str) -> bool:
    p = (cwd / target).absolute()
    return (p.suffix == ".dvc" and p.is_file()) or p.with_name(p.name + ".dvc").is_file()


class StatusReport(dict[str, list[Any]]):
    """`full_status`'s answer; `empty_project` says that nothing at all is tracked."""

    empty_project = False


def full_status(
    repo: Repo,
    targets: Iterable[str] = (),
    *,
    cwd: Path | None = None,
    jobs: int = 0,
    with_deps: bool = False,
    recursive: bool = False,
    warn: Callable[[str], object] | None = None,
) -> StatusReport:
    """DVC's `status --json` for `.dvc` files and pipeline stages together.

    Targets may be `.dvc` files, the data they track, stage names (`train`,
    `sub/dvc.yaml:train`), `dvc.yaml` files or outputs (or paths inside them);
    no targets means everything. `with_deps` (`-d`) and `recursive` (`-R`) read
    them as `mlvc.ops.targets.collect` says.
    """
    cwd = (cwd or Path.cwd()).absolute()
    targets = list(targets)
    if targets and (with_deps or recursive or not all(is_dvcfile_target(cwd, t) for t in targets)):
        return StatusReport(
            _targets_status(
                repo, targets, cwd, jobs=jobs, with_deps=with_deps, recursive=recursive, warn=warn
            )
        )
    data_targets = [t for t in targets if is_dvcfile_target(cwd, t)]
    stage_targets = [t for t in targets if t not in data_targets]
    dvcfiles, pipeline_files = repo.project_files()
    with_stages = bool(stage_targets) or (not targets and bool(pipeline_files))
    result = StatusReport()
    result.empty_project = not (dvcfiles or pipeline_files)
    ws: Workspace | None = None
    if with_stages:
        from mlvc.pipeline.status import Workspace

        # One workspace for both halves: a stage dep that is also tracked by a
        # `.dvc` file is hashed once.
        ws = Workspace(repo)
    if data_targets or not targets:
        if not with_stages:
            _refuse_busy(repo, cwd, dvcfiles if not targets else [], [])
        changed_outs = status(repo, data_targets, cwd=cwd, jobs=jobs, workspace=ws, listed=dvcfiles)
        result.update(as_json(changed_outs, repo.root / repo.user_dir(cwd)))
    if ws is not None:
        # Imported only here: a repository without pipelines never loads them.
        from mlvc.ops.repro import ordered_stages, select
        from mlvc.pipeline.load import load_pipelines
        from mlvc.pipeline.model import Pipelines
        from mlvc.pipeline.status import stage_status

        pipelines: Pipelines = load_pipelines(repo, warn=warn)
        stages = ordered_stages(pipelines)
        chosen = select(repo, stages, stage_targets, cwd) if stage_targets else range(len(stages))
        picked = [stages[i] for i in chosen]
        _refuse_busy(repo, cwd, dvcfiles if not targets else [], picked)
        ws.prefetch(s.repo_path(p) for s in picked for p in [*s.deps, *(o.path for o in s.outs)])
        for stage in picked:
            _warn_frozen(repo, stage, cwd, warn)
            found = stage_status(ws, stage, cwd=cwd)
            if found.changed:
                # DVC-compat: stages are named relative to the user's directory.
                result[stage.addressing_from(repo.user_dir(cwd))] = found.items
    return result


def _targets_status(
    repo: Repo,
    targets: list[str],
    cwd: Path,
    *,
    jobs: int,
    with_deps: bool,
    recursive: bool,
    warn: Callable[[str], object] | None = None,
) -> dict[str, list[Any]]:
    """`full_status` of the stages the targets name, in their order.

    DVC-compat: a target naming an output (or a path inside one) reports its stage
    with only that output among the changed outputs; a stage named twice reports once.
    """
    from mlvc.ops.targets import collect_workspace
    from mlvc.pipeline.status import Workspace, stage_status

    found = collect_workspace(repo, targets, cwd, with_deps=with_deps, recursive=recursive)
    stages, pairs = found.stages, found.pairs()
    ws = Workspace(repo)
    picked = [stages[i] for i, _ in pairs]
    _refuse_busy(repo, cwd, [], [s for s in picked if not s.is_data_source])
    ws.prefetch(s.repo_path(p) for s in picked for p in [*s.deps, *(o.path for o in s.outs)])
    result: dict[str, list[Any]] = {}
    for i, within in pairs:
        stage = stages[i]
        if stage.is_data_source:
            changed = [
                s
                for s in status(repo, [str(repo.root / stage.dvcfile)], jobs=jobs, workspace=ws)
                if within is None
                or within == (rel := repo.relpath(s.path))
                or within.startswith(rel + "/")
            ]
            result.update(as_json(changed, repo.root / repo.user_dir(cwd)))
            continue
        _warn_frozen(repo, stage, cwd, warn)
        items = stage_status(ws, stage, cwd=cwd, within=within).items
        if items:
            result[stage.addressing_from(repo.user_dir(cwd))] = items
    return result


def _refuse_busy(repo: Repo, cwd: Path, dvcfiles: list[Path], stages: list[Stage]) -> None:
    """DVC-compat: `status` reads what it checks, so a path another process is writing
    (a stage `dvc repro` or `mlvc repro` is running) makes it fail."""
    from mlvc.rwlock import RWLOCK_FILE, refuse_busy, stage_paths

    if not (repo.tmp_dir / RWLOCK_FILE).exists():
        return  # nothing was ever locked here: the common case costs one stat
    paths = [p for s in stages for group in stage_paths(repo.root, s) for p in group]
    paths += [str(d.out_path(o)) for d in map(DvcFile.load, dvcfiles) for o in d.outs]
    refuse_busy(repo.tmp_dir, read=paths, shown=lambda p: repo.shown(repo.relpath(Path(p)), cwd))


def _warn_frozen(repo: Repo, stage: Stage, cwd: Path, warn: Callable[[str], object] | None) -> None:
    if warn is not None and stage.frozen:
        # DVC-compat: DVC's warning (a frozen stage's deps are not checked).
        name = stage.addressing_from(repo.user_dir(cwd))
        warn(
            f"warning: stage '{name}' is frozen: its dependencies are not going to be "
            "shown in the status output\n"
        )


def render_text(found: dict[str, list[Any]]) -> str:
    """DVC's text form: the stage or file, then what changed, indented with tabs."""
    if not found:
        return "Data and pipelines are up to date.\n"
    lines: list[str] = []
    for name, items in found.items():
        lines.append(f"{name}:")
        for item in items:
            if isinstance(item, str):
                lines.append(f"\t{item}")
                continue
            for title, entries in item.items():
                lines.append(f"\t{title}:")
                for path, state in entries.items():
                    if isinstance(state, dict):
                        lines.append(f"\t\t{path}:")
                        for key, sub in state.items():
                            lines.append(f"\t\t\t{(sub + ':').ljust(20)}{key}")
                    else:
                        lines.append(f"\t\t{(state + ':').ljust(20)}{path}")
    return "\n".join(lines) + "\n"


def status(
    repo: Repo,
    targets: Iterable[str] = (),
    *,
    cwd: Path | None = None,
    jobs: int = 0,
    workspace: Workspace | None = None,
    listed: list[Path] | None = None,
) -> list[OutStatus]:
    """Lists outputs that changed, were deleted or are missing from the cache.

    `listed`: the workspace's `.dvc` files, when the caller has listed them already.
    """
    cwd = (cwd or Path.cwd()).absolute()
    found = []
    targets = list(targets)
    chosen = listed if listed is not None and not targets else None
    for path in chosen if chosen is not None else select_dvcfiles(repo, targets, cwd):
        dvcfile = DvcFile.load(path)
        for out in dvcfile.outs:
            state = out_state(repo, dvcfile, out, jobs=jobs, workspace=workspace)
            if state is not None:
                found.append(OutStatus(path, out, dvcfile.out_path(out), state))
    return found


def as_json(found: list[OutStatus], cwd: Path) -> dict[str, list[dict[str, dict[str, str]]]]:
    """DVC's `status --json` shape: `{"x.dvc": [{"changed outs": {"x": "modified"}}]}`.

    DVC-compat: files are named relative to the user's directory `cwd` (the root, when
    `cwd` is outside the repository).
    """
    result: dict[str, list[dict[str, dict[str, str]]]] = {}
    for s in found:
        key = Path(os.path.relpath(s.dvcfile, cwd)).as_posix()
        entries = result.setdefault(key, [{"changed outs": {}}])
        entries[0]["changed outs"][Path(os.path.relpath(s.path, cwd)).as_posix()] = s.state
    return result
