"""`stage list`: the stages named by targets, loading only the `dvc.yaml` files they need.

DVC-compat: a plain listing reads `./dvc.yaml` (or the files the targets name), so a
broken `dvc.yaml` elsewhere does not stop it. `--all` and `-R DIR` read many files
and skip those that do not load, unless `--fail` is given.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from mlvc.exceptions import PipelineError
from mlvc.ops.repro import ordered_stages, select
from mlvc.pipeline.load import FileReader, broken_target, load_pipeline_file, parsing_config
from mlvc.pipeline.model import PROJECT_FILE, PipelineFile, Pipelines, Stage
from mlvc.repo import Repo


@dataclass
class Listing:
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
    every = [repo.relpath(p) for p in repo.pipeline_files()]
    needed: dict[str, bool] = {}  # file -> may be skipped when it does not load

    def need(rel: str, skippable: bool) -> None:
        needed[rel] = needed.get(rel, True) and skippable

    if all_stages:
        for rel in every:
            need(rel, not fail)
    else:
        for target in targets:
            full = (cwd / target).absolute()
            if recursive and full.is_dir():
                prefix = "" if repo.relpath(full) == "." else repo.relpath(full) + "/"
                for rel in every:
                    if rel.startswith(prefix):
                        need(rel, not fail)
            else:
                need(_named_file(repo, target, cwd), False)

    config = parsing_config(repo)
    reader = FileReader(repo.root)
    files: list[PipelineFile] = []
    listing = Listing(stages=[])
    for rel in sorted(needed):
        path = repo.root / rel
        if not path.is_file():
            continue  # `select` names the missing file
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
    stages = ordered_stages(pipelines)
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
