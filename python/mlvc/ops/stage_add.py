"""`stage add`, `freeze` and `unfreeze`: edit `dvc.yaml` as DVC does, keeping the user's text."""

from __future__ import annotations

import difflib
import os
import posixpath
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlvc import gitignore
from mlvc.exceptions import PipelineError, StageNotFoundError
from mlvc.fsutil import atomic_write_text
from mlvc.pipeline import edit
from mlvc.pipeline.graph import build_graph
from mlvc.pipeline.load import loads_pipeline, parsing_config
from mlvc.pipeline.model import PROJECT_FILE, Stage
from mlvc.pipeline.params import DEFAULT_PARAMS_FILE
from mlvc.repo import Repo

# DVC-compat: a stage name may hold any character but punctuation other than `_` and `-`.
INVALID_NAME_CHARS = set(string.punctuation) - {"_", "-"}


class StageAddError(PipelineError):
    """A `stage add` that DVC would refuse: bad name, missing command, clashing paths."""


@dataclass
class StageSpec:
    """What `stage add` was asked for (paths as given, relative to `wdir`)."""

    name: str
    cmd: str
    deps: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)  # `[file:]key,key` as on the command line
    outs: list[str] = field(default_factory=list)
    outs_no_cache: list[str] = field(default_factory=list)
    outs_persist: list[str] = field(default_factory=list)
    outs_persist_no_cache: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    metrics_no_cache: list[str] = field(default_factory=list)
    plots: list[str] = field(default_factory=list)
    plots_no_cache: list[str] = field(default_factory=list)
    wdir: str | None = None
    always_changed: bool = False
    desc: str | None = None


def join_command(words: list[str]) -> str:
    """DVC-compat: command words joined, quoting a word with a space (and no `"`)."""

    def quote(word: str) -> str:
        if not word:
            return '""'
        if " " in word and '"' not in word:
            return f'"{word}"'
        return word

    if len(words) < 2:
        return " ".join(words)
    return " ".join(map(quote, words))


def parse_params_args(args: list[str]) -> dict[str, list[str]]:
    """DVC-compat: `-p a,b -p file.json:c` → `{params.yaml: [a, b], file.json: [c]}`."""
    out: dict[str, list[str]] = {}
    for arg in args:
        path, _, keys = arg.rpartition(":")
        out.setdefault(path or DEFAULT_PARAMS_FILE, []).extend(k for k in keys.split(",") if k)
    return out


def _params_entries(params: dict[str, list[str]]) -> list[Any]:
    # DVC-compat: keys of params.yaml first (sorted), then {file: sorted keys} by file.
    entries: list[Any] = []
    for path in sorted(params):
        keys = sorted(dict.fromkeys(params[path]))
        if keys and path == DEFAULT_PARAMS_FILE:
            entries = [*keys, *entries]
        else:
            entries.append({path: keys or None})
    return entries


def _outs_entries(items: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    return [path if not flags else {path: flags} for path, flags in sorted(items)]


def stage_definition(spec: StageSpec, wdir: str) -> dict[str, Any]:
    """The stage as `dvc stage add` writes it (DVC's key order, sorted paths)."""
    outs: list[tuple[str, dict[str, Any]]] = []
    metrics: list[tuple[str, dict[str, Any]]] = []
    plots: list[tuple[str, dict[str, Any]]] = []
    for bucket, paths, flags in (
        (outs, spec.outs, {}),
        (outs, spec.outs_no_cache, {"cache": False}),
        (outs, spec.outs_persist, {"persist": True}),
        (outs, spec.outs_persist_no_cache, {"cache": False, "persist": True}),
        (metrics, spec.metrics, {}),
        (metrics, spec.metrics_no_cache, {"cache": False}),
        (plots, spec.plots, {}),
        (plots, spec.plots_no_cache, {"cache": False}),
    ):
        bucket += [(p, dict(flags)) for p in paths]
    fields: list[tuple[str, Any]] = [
        ("desc", spec.desc),
        ("cmd", spec.cmd),
        ("wdir", None if wdir == "." else wdir),
        ("deps", sorted(spec.deps)),
        ("params", _params_entries(parse_params_args(spec.params))),
        ("outs", _outs_entries(outs)),
        ("metrics", _outs_entries(metrics)),
        ("plots", _outs_entries(plots)),
        ("always_changed", spec.always_changed),
    ]
    return {k: v for k, v in fields if v}


def _check_name(name: str) -> None:
    if not name:
        raise StageAddError("`-n/--name` is required")
    if INVALID_NAME_CHARS & set(name):
        raise StageAddError(
            f"stage name `{name}` cannot contain punctuation characters",
            "use letters, digits, `_` and `-`",
        )


def _check_paths(repo: Repo, stage: Stage) -> None:
    deps = [stage.repo_path(d) for d in stage.deps]
    outs = [stage.repo_path(o.path) for o in stage.outs]
    for path in outs:
        if path in deps:
            raise StageAddError(f"`{path}` is specified as an output and as a dependency")
    seen: set[str] = set()
    for path in deps + outs:
        if path in seen:
            raise StageAddError(f"`{path}` is specified more than once")
        seen.add(path)
    for out in stage.outs:
        p = stage.repo_path(out.path)
        if (p == ".." or p.startswith("../")) and out.cache:
            raise StageAddError(f"cached output `{out.path}` is outside of the repository")


def add_stage(
    repo: Repo, spec: StageSpec, *, force: bool = False, cwd: Path | None = None
) -> Stage:
    """Writes the stage into `./dvc.yaml` and ignores its cached outputs in git.

    Returns the stage as loaded back from the file.
    """
    from mlvc.ops.repro import dvcfile_outputs
    from mlvc.pipeline.load import load_pipelines

    _check_name(spec.name)
    if not spec.cmd:
        raise StageAddError("command is not specified", "give the command after the options")
    here = (cwd or Path.cwd()).absolute()
    dvcfile_path = here / PROJECT_FILE
    dvcfile = repo.relpath(dvcfile_path)
    wdir_abs = (here / spec.wdir).absolute() if spec.wdir else here
    what = "stage working dir" if spec.wdir else "file path"
    if not wdir_abs.exists():
        raise StageAddError(f"{what} `{spec.wdir or '.'}` does not exist")
    if not wdir_abs.is_dir():
        raise StageAddError(f"{what} `{spec.wdir}` is not a directory")
    if not repo.is_inside(wdir_abs):
        raise StageAddError(f"{what} `{spec.wdir}` is outside of the repository")
    wdir = Path(os.path.relpath(wdir_abs, here)).as_posix()
    definition = stage_definition(spec, wdir)
    for key in ("deps", "outs", "metrics", "plots"):
        for item in definition.get(key, []):
            path = item if isinstance(item, str) else next(iter(item))
            if path.endswith(".dvc") or posixpath.basename(path) == PROJECT_FILE:
                role = "a dependency" if key == "deps" else "an output"
                raise StageAddError(f"DVC file `{path}` cannot be {role}")

    text = dvcfile_path.read_text(encoding="utf-8") if dvcfile_path.exists() else None
    existing = load_pipelines(repo)
    current = next((f for f in existing.files if f.path == dvcfile), None)
    if current is not None and spec.name in current.stages:
        if not force:
            raise StageAddError(
                f"stage `{spec.name}` already exists in `{dvcfile}`",
                "use `--force` to overwrite it",
            )
        # DVC-compat: an overwritten stage keeps its `desc` and `meta`.
        old = current.stages[spec.name]
        definition = {k: v for k, v in definition.items() if k != "desc"}
        if old.desc is not None:
            definition = {"desc": old.desc, **definition}
        if old.meta is not None:
            definition["meta"] = old.meta
    new_text = edit.set_stage(text, spec.name, definition, dvcfile)
    resolved = loads_pipeline(new_text, repo.root, dvcfile, config=parsing_config(repo)).stages[
        spec.name
    ]
    _check_paths(repo, resolved)
    others = [s for s in existing.stages if s.addressing != resolved.addressing]
    build_graph([*others, resolved], dvcfile_outputs(repo))

    atomic_write_text(dvcfile_path, new_text)
    return resolved


def ignore_outputs(repo: Repo, stage: Stage) -> list[Path]:
    """Adds `.gitignore` entries for the stage's cached outputs; returns changed files."""
    changed: list[Path] = []
    if repo.scm is None:
        return changed
    # DVC-compat: DVC writes the entries in this order: persistent outputs, metrics, plots, outputs.
    order = {"metrics": 1, "plots": 2, "outs": 3}
    outs = sorted(stage.outs, key=lambda o: 0 if o.persist else order[o.kind])
    for out in outs:
        if out.cache:
            path = repo.root / stage.repo_path(out.path)
            touched = gitignore.add_entry(path)
            if touched is not None and touched not in changed:
                changed.append(touched)
    return changed


class FreezeError(StageNotFoundError):
    """`freeze`/`unfreeze` of a stage that is not there."""

    exit_code = 1  # DVC-compat: `dvc freeze` fails with 1, not 255


def _find_stage(repo: Repo, target: str) -> tuple[Path, str]:
    """The `dvc.yaml` and name of a target `name` or `path/dvc.yaml:name`."""
    path, sep, name = target.rpartition(":")
    file = Path(path) if sep else Path(PROJECT_FILE)
    if file.name != PROJECT_FILE:
        file = file / PROJECT_FILE
    file = file.absolute()
    shown = repo.relpath(file)
    if not file.exists():
        raise FreezeError(f"`{shown}` does not exist", "run from the pipeline's directory")
    return file, name


def set_frozen(repo: Repo, targets: list[str], frozen: bool) -> list[tuple[str, str]]:
    """Sets or clears `frozen: true` on each target stage; returns `(dvc.yaml, name)` of each."""
    from mlvc.pipeline.load import load_pipeline_file

    edited: list[tuple[str, str]] = []
    for target in targets:
        file, name = _find_stage(repo, target)
        shown = repo.relpath(file)
        text = file.read_text(encoding="utf-8")
        try:
            new = edit.set_frozen(text, name, frozen, shown)
        except KeyError:
            pipeline = load_pipeline_file(repo.root, file, config=parsing_config(repo))
            stage = pipeline.stages.get(name)
            if stage is not None and stage.generated_from is not None:
                raise FreezeError(
                    f"stage `{name}` is generated by `foreach`/`matrix` in `{shown}`",
                    f"freeze the whole `{stage.generated_from}` definition by editing `{shown}`",
                ) from None
            close = difflib.get_close_matches(name, list(pipeline.stages), n=1)
            hint = f"did you mean `{close[0]}`?" if close else "see `mlvc stage list`"
            raise FreezeError(f"stage `{name}` not found in `{shown}`", hint) from None
        if new != text:
            atomic_write_text(file, new)
        edited.append((shown, name))
    return edited
