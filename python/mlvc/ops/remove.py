"""`remove`: stop tracking data (a `.dvc` file) or drop pipeline stages from `dvc.yaml`."""

from __future__ import annotations

import difflib
import posixpath
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlvc import gitignore, yamlio
from mlvc.dvcfile import SUFFIX, DvcFile
from mlvc.exceptions import MlvcError, PipelineError, StageNotFoundError
from mlvc.fsutil import atomic_write_text, relpath
from mlvc.ops.unprotect import OutsideRepoError, ensure_inside, unprotect_path
from mlvc.pipeline import edit
from mlvc.pipeline.load import load_pipeline_file, parsing_config
from mlvc.pipeline.lockfile import LOCK_FILE, LockFile
from mlvc.pipeline.model import PROJECT_FILE, Stage, split_target
from mlvc.pipeline.templating import any_text
from mlvc.repo import Repo
from mlvc.rwlock import refuse_busy

Warn = Callable[[str], object]


class NotADvcFileError(MlvcError):
    """`remove` was given something other than a `.dvc` file."""

    hint: str | None = "name the `.dvc` file that tracks the data"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class RemoveStageError(StageNotFoundError):
    """A pipeline stage `remove` cannot find, or will not edit."""

    exit_code = 1  # DVC-compat: `dvc remove` fails with 1 for every error


@dataclass
class RemoveResult:
    """What `remove` changed."""

    dvcfiles: list[Path] = field(default_factory=list)
    gitignores: list[Path] = field(default_factory=list)
    outs_removed: list[Path] = field(default_factory=list)
    unprotected: list[Path] = field(default_factory=list)
    # `(dvc.yaml, stage name)` of each stage removed, repository-relative.
    stages: list[tuple[str, str]] = field(default_factory=list)
    # `dvc.yaml` and `dvc.lock` files rewritten or (once empty) deleted.
    pipeline_files: list[Path] = field(default_factory=list)


def parse_target(target: str) -> tuple[str | None, str | None]:
    """`(file, stage name)` as DVC reads a `remove` target (`split_target`); for a
    `dvc.yaml` alone: every stage of it."""
    return split_target(
        target,
        lambda: RemoveStageError(
            f"`{target}` is a lock file: stages are removed from their `{PROJECT_FILE}`",
            f"did you mean `{target.replace('.lock', '.yaml', 1)}`?",
        ),
    )


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


@dataclass
class _Pipeline:
    """One `dvc.yaml` whose stages are removed, with the text of both files after it."""

    path: Path
    shown: str  # as the user names it, relative to the current directory
    stages: list[Stage] = field(default_factory=list)
    text: str | None = None  # None: delete the file
    lock_path: Path | None = None
    lock_text: str | None = None  # None: delete the lock file (when `lock_path` is set)


def _refuse(name: str, shown: str, definitions: dict[str, Any], stage: Stage | None) -> None:
    """Raises when `name` is no stage `remove` can drop from `definitions` (raw `stages`)."""
    by_hand = f"edit `{shown}` by hand"
    definition = definitions.get(name)
    if isinstance(definition, dict) and {"foreach", "matrix"} & set(definition):
        # DVC-compat: DVC says the group is not found (it removes no group).
        raise RemoveStageError(
            f"`{name}` in `{shown}` is a `foreach`/`matrix` definition, not a stage",
            f"to remove the stages it generates, {by_hand}",
        )
    if stage is not None and stage.generated_from is not None:
        raise RemoveStageError(
            f"cannot remove stage `{name}`: `{stage.generated_from}` generates it "
            f"(`foreach`/`matrix` in `{shown}`)",
            f"to remove it, {by_hand}",
        )
    # A `${` escaped as `\\${` counts too: resolving changes it.
    if isinstance(definition, dict) and (
        "vars" in definition or any_text(definition, lambda text: "${" in text)
    ):
        # DVC-compat: DVC refuses a parametrized stage (after dropping its `.gitignore`
        # entries; mlvc refuses before changing anything).
        raise RemoveStageError(
            f"cannot remove stage `{name}`: its definition in `{shown}` uses templating "
            "(`${...}` or `vars`)",
            f"to remove it, {by_hand}",
        )


def _tracked_file(name: str, as_file: Path | None) -> None:
    """DVC-compat: a tracked file named instead of its `.dvc` file is refused so."""
    if as_file is not None and as_file.with_name(as_file.name + SUFFIX).is_file():
        raise NotADvcFileError(f"`{name}` is not a `.dvc` file", f"did you mean `{name}{SUFFIX}`?")


def _not_found(
    repo: Repo, name: str, shown: str, stages: dict[str, Stage], as_file: Path | None
) -> None:
    """Raises the error for a stage name that `dvc.yaml` does not define."""
    _tracked_file(name, as_file)
    rel = repo.relpath(as_file) if as_file is not None else None
    owners = [s for s in stages.values() if rel is not None and _is_output_of(s, rel)]
    if owners:
        hint = f"`{name}` is an output of stage `{owners[0].name}`; name the stage"
    else:
        close = difflib.get_close_matches(name, list(stages), n=1)
        known = ", ".join(f"`{s}`" for s in list(stages)[:10])
        hint = (
            f"did you mean `{close[0]}`?"
            if close
            else (f"stages there: {known}" if known else "it defines no stages")
        )
    raise RemoveStageError(f"stage `{name}` not found in `{shown}`", hint)


def _is_output_of(stage: Stage, rel: str) -> bool:
    return any(stage.repo_path(o.path) == rel for o in stage.outs)


def _load_pipeline(
    repo: Repo, file: Path, names: list[str] | None, cwd: Path, as_files: dict[str, Path]
) -> _Pipeline:
    """The stages `names` (None: all) of the `dvc.yaml` at `file`, checked, and the
    text of that file and its lock file once they are gone.

    `as_files`: for a target that is a bare name, the path it names as a file
    (a hint when no stage has that name).
    """
    shown = relpath(file, cwd)
    if not file.is_file():
        for name in names or []:
            _tracked_file(name, as_files.get(name))
        raise RemoveStageError(
            f"`{shown}` does not exist",
            "name a `.dvc` file, or a stage as `name` (of this directory's "
            "`dvc.yaml`) or `path/dvc.yaml:name`",
        )
    text = file.read_text(encoding="utf-8")
    try:
        pipeline = load_pipeline_file(repo.root, file, config=parsing_config(repo))
    except PipelineError as exc:
        exc.exit_code = 1  # DVC-compat: every `dvc remove` error exits with 1
        raise
    data = yamlio.loads(text, shown)
    raw = data.get(edit.STAGES) if isinstance(data, dict) else None
    definitions: dict[str, Any] = raw if isinstance(raw, dict) else {}
    found = _Pipeline(path=file, shown=shown, text=text)
    for name in list(definitions) if names is None else names:
        stage = pipeline.stages.get(name)
        _refuse(name, shown, definitions, stage)
        if stage is None or name not in definitions:
            _not_found(repo, name, shown, pipeline.stages, as_files.get(name))
        assert stage is not None and found.text is not None
        found.stages.append(stage)
        found.text = edit.remove_stage(found.text, name, shown)
    if not found.stages:
        return found  # `dvc.yaml` with no stages named: nothing changes
    left = yamlio.loads(found.text, shown) if found.text else None
    if not isinstance(left, dict) or not any(
        value not in (None, {}, []) for key, value in left.items() if key != "vars"
    ):
        # DVC-compat: a `dvc.yaml` left without stages is deleted. One that still
        # defines something (`plots`, `metrics`, ...) is kept; DVC deletes it too.
        found.text = None
    lock_path = file.with_name(LOCK_FILE)
    if lock_path.is_file():
        try:
            lock = LockFile.load(lock_path, relpath(lock_path, cwd))
        except PipelineError as exc:
            exc.exit_code = 1
            raise
        lock_text = lock_path.read_text(encoding="utf-8")
        dropped = False
        for stage in found.stages:
            if lock.remove(stage.name):
                dropped = True
                lock_text = edit.remove_stage(lock_text, stage.name, relpath(lock_path, cwd))
        if dropped:
            found.lock_path = lock_path
            if lock.stages:
                found.lock_text = lock_text
            elif any(k not in ("schema", "stages") for k in lock.data):
                # Other sections (`datasets`) stay, under an empty `stages`, as DVC writes it.
                found.lock_text = lock.dumps()
            else:
                # DVC-compat: a lock file without stages is deleted.
                found.lock_text = None
    return found


def _pipeline_targets(
    repo: Repo, targets: list[str], cwd: Path, warn: Warn | None
) -> tuple[list[Path], dict[Path, list[str] | None], dict[str, Path]]:
    """`.dvc` files, and stage names by `dvc.yaml` (None: every stage), the targets name;
    and for a bare name, the path it would be as a file (for the hints)."""
    dvcfiles: list[Path] = []
    pipelines: dict[Path, list[str] | None] = {}
    bare: dict[str, Path] = {}
    for target in targets:
        file, name = parse_target(target)
        if file is not None and file.endswith(SUFFIX):
            if name and warn is not None:
                # DVC-compat: the name is ignored, with a warning.
                warn(f"warning: ignoring the name `{name}`: `{file}` holds a single stage\n")
            path = _dvcfile_target(repo, file, cwd)
            if path not in dvcfiles:
                dvcfiles.append(path)
            continue
        if file is None:
            file = PROJECT_FILE  # DVC-compat: a bare name is a stage of `./dvc.yaml`
        path = ensure_inside(repo, cwd / file, "target")
        if path.name != PROJECT_FILE:
            hint = (
                f"did you mean `{posixpath.join(file, PROJECT_FILE)}:{name}`?"
                if (path / PROJECT_FILE).is_file()
                else f"name a `{PROJECT_FILE}` or a `{SUFFIX}` file"
            )
            raise RemoveStageError(f"`{file}` is not a `{PROJECT_FILE}` file", hint)
        if name is None:
            pipelines[path] = None
            continue
        if target == name and "/" not in name:
            bare[name] = cwd / name
        known = pipelines.setdefault(path, [])
        if known is not None and name not in known:
            known.append(name)
    return dvcfiles, pipelines, bare


def _output_paths(repo: Repo, stage: Stage, outs: bool) -> list[tuple[Path, bool]]:
    """`(path, cached)` of a stage's local outputs inside the repository.

    Remote outputs (URLs) are left alone. One outside the repository (an absolute
    path) has no `.gitignore` entry and nothing to unprotect; deleting it (`--outs`)
    is refused, as for `.dvc` files.
    """
    found = []
    for o in stage.outs:
        if "://" in o.path:
            continue
        full = repo.root / stage.repo_path(o.path)
        try:
            path = ensure_inside(repo, full, f"output of stage `{stage.addressing}`")
        except OutsideRepoError:
            if outs:
                raise
            continue
        found.append((path, o.cache))
    return found


def _drop_output(repo: Repo, path: Path, cached: bool, outs: bool, result: RemoveResult) -> None:
    if outs:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
            result.outs_removed.append(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
            result.outs_removed.append(path)
        repo.state.forget(path)
    elif cached and path.exists():
        result.unprotected += unprotect_path(repo, path)
    if cached:
        # DVC-compat: only the unescaped `/name` line goes; see gitignore.py.
        changed = gitignore.remove_entry(path)
        if changed is not None and changed not in result.gitignores:
            result.gitignores.append(changed)


def remove(
    repo: Repo,
    targets: list[str],
    *,
    outs: bool = False,
    cwd: Path | None = None,
    warn: Warn | None = None,
) -> RemoveResult:
    """Removes `.dvc` files and pipeline stages, with their `.gitignore` entries.

    A target is a `.dvc` file, a stage (`name` in the current directory's `dvc.yaml`,
    `path/dvc.yaml:name`) or a `dvc.yaml` (all of its stages). A stage leaves
    `dvc.yaml` and `dvc.lock`; a file left without stages is deleted. Stages that
    templating makes (`foreach`/`matrix`, `${...}`, `vars`) are refused, as in DVC.

    Every target is read and checked before anything changes, so one bad target
    aborts the whole command (DVC removes the targets before it). Without `outs` the
    data stays, unprotected (DVC-compat: a hardlink into the cache becomes a private
    copy, so a later `gc` cannot take it away).
    """
    cwd = (cwd or Path.cwd()).absolute()
    result = RemoveResult()
    with repo.lock():
        dvcfile_paths, by_file, bare = _pipeline_targets(repo, targets, cwd, warn)
        loaded: list[tuple[DvcFile, list[tuple[Path, bool]]]] = []
        for path in dvcfile_paths:
            dvcfile = DvcFile.load(path)
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
        pipelines = [
            _load_pipeline(repo, file, names, cwd, bare if file == cwd / PROJECT_FILE else {})
            for file, names in by_file.items()
        ]
        stage_outs = [
            (p, stage, _output_paths(repo, stage, outs)) for p in pipelines for stage in p.stages
        ]
        refuse_busy(
            repo.tmp_dir,
            write=[
                *(str(path) for _dvcfile, out_paths in loaded for path, _cached in out_paths),
                *(str(path) for _p, _s, out_paths in stage_outs for path, _cached in out_paths),
            ],
            shown=lambda p: relpath(Path(p), cwd),
        )
        for pipeline, stage, out_paths in stage_outs:
            for path, cached in out_paths:
                _drop_output(repo, path, cached, outs, result)
            result.stages.append((repo.relpath(pipeline.path), stage.name))
        for pipeline in pipelines:
            if not pipeline.stages:
                continue
            # The lock file first, as DVC does: `dvc.yaml` without a lock entry
            # only means the stage has to run.
            if pipeline.lock_path is not None:
                if pipeline.lock_text is None:
                    pipeline.lock_path.unlink(missing_ok=True)
                else:
                    atomic_write_text(pipeline.lock_path, pipeline.lock_text)
                result.pipeline_files.append(pipeline.lock_path)
            if pipeline.text is None:
                pipeline.path.unlink(missing_ok=True)
            else:
                atomic_write_text(pipeline.path, pipeline.text)
            result.pipeline_files.append(pipeline.path)
        for dvcfile, out_paths in loaded:
            for path, cached in out_paths:
                _drop_output(repo, path, cached, outs, result)
            dvcfile.path.unlink()
            result.dvcfiles.append(dvcfile.path)
    return result
