"""`stage add`, `freeze` and `unfreeze`: edit `dvc.yaml` as DVC does, keeping the user's text."""

from __future__ import annotations

import dataclasses
import difflib
import os
import posixpath
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlvc import gitignore
from mlvc._core import ignored_by
from mlvc.exceptions import PipelineError, StageNotFoundError
from mlvc.fsutil import atomic_write_text
from mlvc.pipeline import edit
from mlvc.pipeline.graph import build_graph
from mlvc.pipeline.load import loads_pipeline, parsing_config
from mlvc.pipeline.model import DVCFILE_SUFFIX, PROJECT_FILE, Stage
from mlvc.pipeline.params import DEFAULT_PARAMS_FILE
from mlvc.repo import Repo

Echo = Callable[[str], object]

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
    # DVC-compat: keys of params.yaml first (sorted), then {file: sorted keys} by file;
    # a key given twice is written twice, as DVC does.
    entries: list[Any] = []
    for path in sorted(params):
        keys = sorted(params[path])
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


# DVC-compat: the patterns DVC always ignores, in its order; an output under one is
# refused, naming the last that matches (`.git` matches the name anywhere).
_ALWAYS_IGNORED = (".hg/", ".git/", ".git", ".dvc/")


def _ignored_by(path: str) -> str | None:
    """The always-ignored pattern a repo path falls under, if any."""
    parts = path.split("/")
    found = None
    for pattern in _ALWAYS_IGNORED:
        name = pattern.rstrip("/")
        if name in (parts[:-1] if pattern.endswith("/") else parts):
            found = pattern
    return found


def _check_paths(repo: Repo, spec: StageSpec, wdir: Path) -> None:
    """Refuses what DVC's `create_stage` refuses, before anything is written.

    DVC-compat: paths compare normalised and absolute (`./a`, `a/` and `/repo/a` are
    `a`); a `-p` file is a dependency like a `-d` one. In DVC's order: an output that
    is a DVC file or under a directory DVC ignores, a cached output outside the
    repository (or the repository itself), a dependency that is a DVC file, the same
    path as output and dependency, a path given twice.
    """

    def norm(path: str) -> str:
        return repo.relpath(Path(os.path.normpath(wdir / path)))

    def is_dvcfile(path: str) -> bool:
        return path.endswith(".dvc") or posixpath.basename(path) == PROJECT_FILE

    # DVC's order of the output options.
    given = [
        (o, cache)
        for paths, cache in (
            (spec.outs_persist, True),
            (spec.outs_persist_no_cache, False),
            (spec.metrics, True),
            (spec.metrics_no_cache, False),
            (spec.plots, True),
            (spec.plots_no_cache, False),
            (spec.outs_no_cache, False),
            (spec.outs, True),
        )
        for o in paths
    ]
    outs = [(norm(o), cache) for o, cache in given]
    for (o, _cache), (path, _) in zip(given, outs, strict=True):
        if is_dvcfile(o):
            raise StageAddError(f"DVC file `{o}` cannot be an output")
        pattern = _ignored_by(path)
        if pattern is not None:
            raise StageAddError(
                f"output `{path}` is ignored by the built-in pattern `{pattern}`",
                "outputs cannot live in `.git`, `.hg` or `.dvc` directories",
            )
        rule = ignored_by(repo.root, repo.root / path)
        if rule is not None:
            # DVC-compat: DVC names the rule as `file:line:pattern`.
            file, line, text = rule
            raise StageAddError(
                f"output `{path}` is ignored by `{repo.relpath(Path(file))}:{line}:{text}`",
                "change the rule in `.dvcignore`, or put the output elsewhere",
            )
    for path, cache in outs:
        if cache and (path in (".", "..") or path.startswith("../")):
            raise StageAddError(f"cached output `{path}` is outside of the repository")
    for d in spec.deps:
        if is_dvcfile(d):
            raise StageAddError(f"DVC file `{d}` cannot be a dependency")
    deps = [norm(d) for d in spec.deps] + [norm(f) for f in parse_params_args(spec.params)]
    for path, _cache in outs:
        if path in deps:
            raise StageAddError(f"`{path}` is specified as an output and as a dependency")
    seen: set[str] = set()
    for path in deps + [o for o, _cache in outs]:
        if path in seen:
            raise StageAddError(f"`{path}` is specified more than once")
        seen.add(path)


def _relative_paths(repo: Repo, spec: StageSpec, wdir: Path) -> StageSpec:
    """DVC-compat: an absolute path inside the repository is written relative to the
    stage's working directory (normalised); other paths stay as given."""
    inside = os.path.join(str(repo.root), "")

    def rel(path: str) -> str:
        full = os.path.normpath(path)
        if not os.path.isabs(path) or not full.startswith(inside):
            return path
        return Path(os.path.relpath(full, wdir)).as_posix()

    def rel_param(arg: str) -> str:
        path, sep, keys = arg.rpartition(":")
        return f"{rel(path)}{sep}{keys}" if path else arg

    return dataclasses.replace(
        spec,
        deps=[rel(p) for p in spec.deps],
        params=[rel_param(a) for a in spec.params],
        outs=[rel(p) for p in spec.outs],
        outs_no_cache=[rel(p) for p in spec.outs_no_cache],
        outs_persist=[rel(p) for p in spec.outs_persist],
        outs_persist_no_cache=[rel(p) for p in spec.outs_persist_no_cache],
        metrics=[rel(p) for p in spec.metrics],
        metrics_no_cache=[rel(p) for p in spec.metrics_no_cache],
        plots=[rel(p) for p in spec.plots],
        plots_no_cache=[rel(p) for p in spec.plots_no_cache],
    )


def read_keeping_newlines(path: Path) -> tuple[str, bool]:
    """A file's text with `\n` line ends, and whether every line ended in `\r\n`."""
    raw = path.read_bytes().decode("utf-8")
    crlf = "\r\n" in raw and raw.count("\r\n") == raw.count("\n")
    return raw.replace("\r\n", "\n") if crlf else raw, crlf


def write_keeping_newlines(path: Path, text: str, crlf: bool) -> None:
    # A file written with CRLF line ends keeps them, new lines included.
    atomic_write_text(path, text.replace("\n", "\r\n") if crlf else text)


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
    # Normalised: `../x` must not pass as inside the repository.
    wdir_abs = Path(os.path.normpath(here / spec.wdir)) if spec.wdir else here
    what = "stage working dir" if spec.wdir else "file path"
    if repo.scm is not None and gitignore.git_ignores(repo.root, dvcfile_path):
        # DVC-compat: DVC refuses a `dvc.yaml` git would not see (inside a tracked
        # directory, say) before its other checks.
        raise StageAddError(
            f"`{dvcfile}` would be ignored by git",
            "run `stage add` from a directory that is not DVC-tracked nor git-ignored",
        )
    if not wdir_abs.exists():
        raise StageAddError(f"{what} `{spec.wdir or '.'}` does not exist")
    if not wdir_abs.is_dir():
        raise StageAddError(f"{what} `{spec.wdir}` is not a directory")
    if not repo.is_inside(wdir_abs):
        raise StageAddError(
            f"{what} `{spec.wdir}` is outside of the repository",
            "give `-w` a directory inside the repository",
        )
    wdir = Path(os.path.relpath(wdir_abs, here)).as_posix()
    _check_paths(repo, spec, wdir_abs)
    definition = stage_definition(_relative_paths(repo, spec, wdir_abs), wdir)

    text, crlf = read_keeping_newlines(dvcfile_path) if dvcfile_path.exists() else (None, False)
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
    others = [s for s in existing.stages if s.addressing != resolved.addressing]
    build_graph([*others, resolved], dvcfile_outputs(repo))

    write_keeping_newlines(dvcfile_path, new_text, crlf)
    return resolved


class OutputTrackedError(StageAddError):
    """A cached output that git tracks: DVC refuses it once `dvc.yaml` is written."""


def ignore_outputs(
    repo: Repo, stage: Stage, *, warn: Echo | None = None, added: list[Path] | None = None
) -> list[Path]:
    """Adds `.gitignore` entries for the stage's cached outputs; returns changed files.

    `added` collects the outputs given an entry, for `unignore_outputs` to take back.
    DVC-compat: an output git already tracks stops this with an error (the stage is
    written already; the entries added so far are taken back); one whose directory
    does not exist yet gets a warning instead of an entry (the run writes it).
    """
    changed: list[Path] = []
    if repo.scm is None:
        return changed
    mine: list[Path] = []
    # DVC-compat: DVC writes the entries in this order: persistent outputs, metrics, plots, outputs.
    order = {"metrics": 1, "plots": 2, "outs": 3}
    outs = sorted(stage.outs, key=lambda o: 0 if o.persist else order[o.kind])
    paths = [repo.root / stage.repo_path(o.path) for o in outs if o.cache]
    git_index = gitignore.GitIndex(repo.root)
    ignores = gitignore.GitIgnores(repo.root, paths)
    for path in paths:
        if git_index.holds(repo.relpath(path)):
            unignore_outputs(mine)
            rel = repo.relpath(path)
            raise OutputTrackedError(
                f"output `{rel}` is already tracked by git",
                f"stop tracking it with `git rm -r --cached '{rel}'` and commit",
            )
        if not path.parent.is_dir():
            if warn is not None:
                warn(
                    f"warning: could not create .gitignore entry in "
                    f"`{repo.relpath(path.parent / '.gitignore')}`; "
                    "it is written when the stage runs\n"
                )
            continue
        touched = gitignore.add_entry(path, ignores)
        if touched is not None:
            mine.append(path)
            if touched not in changed:
                changed.append(touched)
    if added is not None:
        added += mine
    return changed


def unignore_outputs(outputs: list[Path]) -> None:
    """DVC-compat: a failed `stage add` (its `--run` included) takes back the entries it added."""
    for path in outputs:
        gitignore.remove_entry(path)


class FreezeError(StageNotFoundError):
    """`freeze`/`unfreeze` of a stage that is not there."""

    exit_code = 1  # DVC-compat: `dvc freeze` fails with 1, not 255


def _find_stage(repo: Repo, target: str, cwd: Path) -> tuple[Path, str | None]:
    """The file and stage name of a target: `name`, `path/dvc.yaml:name` or a `.dvc` file
    (no name)."""
    path, sep, name = target.rpartition(":")
    if not sep and target.endswith(DVCFILE_SUFFIX):
        path, name = target, ""
    elif not sep:
        path = PROJECT_FILE
    base = posixpath.basename(path)
    if base != PROJECT_FILE and not base.endswith(DVCFILE_SUFFIX):
        # DVC-compat: DVC takes `dir:name` for a file named `dir`, and refuses it.
        raise FreezeError(
            f"bad DVC file name `{path}`",
            f"DVC files are named `{PROJECT_FILE}` or end in `{DVCFILE_SUFFIX}`",
        )
    file = (cwd / path).absolute()
    if not file.exists():
        shown = repo.shown(repo.relpath(file), cwd)
        raise FreezeError(f"`{shown}` does not exist", "run from the pipeline's directory")
    return file, None if base.endswith(DVCFILE_SUFFIX) else name


def freeze_target(
    repo: Repo, target: str, frozen: bool, cwd: Path | None = None
) -> tuple[str, str] | None:
    """Sets or clears `frozen: true` on the target stage (or `.dvc` file).

    Returns `(dvc.yaml as named from cwd, stage name)` for a stage, None for a `.dvc`
    file (DVC names neither when it rewrites a `.dvc` file).
    """
    from mlvc.pipeline.load import load_pipeline_file

    here = (cwd or Path.cwd()).absolute()
    file, name = _find_stage(repo, target, here)
    shown = repo.shown(repo.relpath(file), here)
    text, crlf = read_keeping_newlines(file)
    if name is None:
        new = edit.set_frozen_top(text, frozen, shown)
        if new != text:
            write_keeping_newlines(file, new, crlf)
        return None
    try:
        new = edit.set_frozen(text, name, frozen, shown)
    except KeyError:
        pipeline = load_pipeline_file(repo.root, file, config=parsing_config(repo))
        stage = pipeline.stages.get(name)
        generator_hint = (
            "to freeze all of its stages, add `frozen: true` to the definition in "
            f"`{shown}` (under `do:` for `foreach`)"
        )
        if stage is not None and stage.generated_from is not None:
            raise FreezeError(
                f"stage `{name}` is generated by `foreach`/`matrix` in `{shown}`",
                f"`{stage.generated_from}`: {generator_hint}",
            ) from None
        if any(s.generated_from == name for s in pipeline.stages.values()):
            raise FreezeError(
                f"`{name}` in `{shown}` is a `foreach`/`matrix` definition, not a stage",
                generator_hint,
            ) from None
        close = difflib.get_close_matches(name, list(pipeline.stages), n=1)
        hint = f"did you mean `{close[0]}`?" if close else "see `mlvc stage list`"
        raise FreezeError(f"stage `{name}` not found in `{shown}`", hint) from None
    if new != text:
        write_keeping_newlines(file, new, crlf)
    return shown, name
