"""`stage list`: the stages named by targets, loading only the `dvc.yaml` files they need.

DVC-compat: a plain listing reads `./dvc.yaml` (or the files the targets name), so a
broken `dvc.yaml` elsewhere does not stop it. `--all` and `-R DIR` read many files
and skip those that do not load, unless `--fail` is given. `.dvc` files are stages
too: listed by `--all` and `-R DIR`, or when named.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from mlvc.dvcfile import DvcFile
from mlvc.exceptions import MlvcError, PipelineError
from mlvc.ops.repro import ordered_stages, select, stage_of_dvcfile
from mlvc.pipeline.load import FileReader, broken_target, load_pipeline_file, parsing_config
from mlvc.pipeline.lockfile import LOCK_FILE
from mlvc.pipeline.model import DVCFILE_SUFFIX, PROJECT_FILE, PipelineFile, Pipelines, Stage
from mlvc.repo import Repo


class BadDvcFileNameError(PipelineError):
    """A `file:stage` target whose file is neither a `dvc.yaml` nor a `.dvc` file."""


@dataclass
class Listing:
    """The stages `stage list` shows, and the files it skipped."""

    stages: list[Stage]
    # (`dvc.yaml` relative to the repository, why it was skipped)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _named_file(repo: Repo, target: str, cwd: Path) -> str:
    """The `dvc.yaml` (relative to the repository) a non-recursive target lives in."""
    path, sep, _ = target.rpartition(":")
    if not sep:
        full = cwd / target
        if posixpath.basename(target) == PROJECT_FILE:
            path = target
        elif full.is_dir():
            path = posixpath.join(target, PROJECT_FILE)
        else:
            path = PROJECT_FILE
    elif not path.endswith(PROJECT_FILE):
        path = posixpath.join(path, PROJECT_FILE)
    return repo.relpath((cwd / path).absolute())


def _is_dvc_file_name(path: str) -> bool:
    return posixpath.basename(path) == PROJECT_FILE or path.endswith(DVCFILE_SUFFIX)


def _as_stage_target(target: str) -> str:
    """DVC-compat: without `-R`, a target is a `dvc.yaml` or `.dvc` file, `file:name`,
    or else a stage name of `./dvc.yaml` (a directory's name included)."""
    path, sep, _name = target.partition("@")[0].rpartition(":")
    if sep:
        if path and not _is_dvc_file_name(path):
            raise BadDvcFileNameError(
                f"bad DVC file name `{path}`",
                f"DVC files are named `{PROJECT_FILE}` or end in `{DVCFILE_SUFFIX}`",
            )
        return target
    if _is_dvc_file_name(target) or posixpath.basename(target) == LOCK_FILE:
        return target
    return f"{PROJECT_FILE}:{target}"


def list_stages(
    repo: Repo,
    targets: list[str],
    cwd: Path,
    *,
    all_stages: bool = False,
    recursive: bool = False,
    fail: bool = False,
) -> Listing:
    """The stages to list, in DVC's order, and the files skipped on the way."""
    dvcfiles, pipeline_files = repo.project_files()
    every = [repo.relpath(p) for p in pipeline_files]
    every_data = [repo.relpath(p) for p in dvcfiles]
    needed: dict[str, bool] = {}  # file -> may be skipped when it does not load

    def need(rel: str, skippable: bool) -> None:
        needed[rel] = needed.get(rel, True) and skippable

    if all_stages:
        for rel in every + every_data:
            need(rel, not fail)
    else:
        named = []
        for target in targets:
            full = (cwd / target).absolute()
            if recursive and full.is_dir():
                prefix = "" if repo.relpath(full) == "." else repo.relpath(full) + "/"
                for rel in every + every_data:
                    if rel.startswith(prefix):
                        need(rel, not fail)
                named.append(target)
            else:
                target = _as_stage_target(target)
                named.append(target)
                if ":" not in target and target.endswith(DVCFILE_SUFFIX):
                    need(repo.relpath(full), False)
                else:
                    need(_named_file(repo, target, cwd), False)
        targets = named

    config = parsing_config(repo)
    reader = FileReader(repo.root)
    files: list[PipelineFile] = []
    data: list[Stage] = []
    listing = Listing(stages=[])
    for rel in sorted(needed):
        path = repo.root / rel
        if not path.is_file():
            continue  # `select` names the missing file
        if rel.endswith(DVCFILE_SUFFIX):
            try:
                data.append(stage_of_dvcfile(rel, DvcFile.load(path)))
            except MlvcError as exc:
                if not needed[rel]:
                    raise
                listing.skipped.append((rel, str(exc)))
            continue
        # DVC-compat: named stages are resolved alone; another stage's error is theirs.
        defer = not all_stages and not recursive
        try:
            files.append(
                load_pipeline_file(
                    repo.root, path, config=config, reader=reader, defer_errors=defer
                )
            )
        except PipelineError as exc:
            if not needed[rel]:
                raise
            listing.skipped.append((rel, str(exc)))
    pipelines = Pipelines(root=repo.root, files=files)
    # DVC-compat: directory by directory from the root; a `dvc.yaml` before `.dvc` files.
    both = [(0, s) for s in ordered_stages(pipelines)] + [(1, s) for s in data]
    both.sort(key=lambda item: (posixpath.dirname(item[1].dvcfile).split("/"), item[0]))
    stages = [s for _, s in both]
    if all_stages:
        listing.stages = stages
    else:
        broken = broken_target(pipelines, targets)
        if broken is not None:
            raise broken
        listing.stages = [
            stages[i] for i in select(repo, stages, targets, cwd, recursive=recursive)
        ]
    return listing
