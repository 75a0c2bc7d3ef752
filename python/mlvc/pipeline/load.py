"""Loading `dvc.yaml` files into resolved stages (no execution)."""

from __future__ import annotations

import gc
import posixpath
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from mlvc import parsecache
from mlvc.exceptions import DvcYamlError, ParamsFileError, PipelineError, ResolveError
from mlvc.pipeline import schema
from mlvc.pipeline.model import (
    JOIN,
    PROJECT_FILE,
    Out,
    OutKind,
    PipelineFile,
    Pipelines,
    Stage,
)
from mlvc.pipeline.params import merge_params_refs, read_params_file
from mlvc.pipeline.templating import (
    ITEM,
    KEY,
    Context,
    ParsingConfig,
    TemplateError,
    check_expressions,
    has_interpolation,
    repo_relative,
    to_str,
)
from mlvc.yamldata import YamlError

if TYPE_CHECKING:
    from mlvc.repo import Repo


class FileReader:
    """Reads params/`vars` files by repository-relative path, each once per load."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._data: dict[str, Any] = {}

    def exists(self, relpath: str) -> bool:
        # DVC-compat: a directory counts, and reading it then fails with a clear error.
        return (self.root / relpath).exists()

    def __call__(self, relpath: str) -> Any:
        if relpath not in self._data:
            path = self.root / relpath
            if path.is_dir():
                raise TemplateError(f"`{relpath}` is a directory", "`vars` takes files")
            if not path.exists():
                raise TemplateError(
                    f"`{relpath}` does not exist",
                    "paths in `vars` are relative to the `dvc.yaml` (and the stage's `wdir`)",
                )
            self._data[relpath] = read_params_file(path, relpath)
        return self._data[relpath]


def parsing_config(repo: Repo) -> ParsingConfig:
    """The `[parsing]` options of the repository's config."""
    return ParsingConfig(
        bool=repo.config.get("parsing", "bool") or "store_true",
        list=repo.config.get("parsing", "list") or "nargs",
    )


@contextmanager
def _no_gc() -> Iterator[None]:
    # Loading allocates many small containers and none of them form cycles;
    # the cyclic collector's passes over them cost ~40% of the load time.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


Warn = Callable[[str], object]


def load_pipelines(
    repo: Repo, *, warn: Warn | None = None, defer_errors: bool = False, track_vars: bool = False
) -> Pipelines:
    """Loads and resolves every `dvc.yaml` of the workspace (sorted by path);
    `warn` gets the warnings (whole lines) of templating.

    With `defer_errors`, a stage that does not resolve is left out and kept in its
    file's `broken` (DVC-compat: a command on named stages resolves only those).
    With `track_vars`, each stage records the values `${...}` took from files
    (`Stage.tracked_vars`, for `params diff`).
    """
    config = parsing_config(repo)
    reader = FileReader(repo.root)
    with _no_gc():
        files = [
            load_pipeline_file(
                repo.root,
                path,
                config=config,
                reader=reader,
                warn=warn,
                defer_errors=defer_errors,
                track_vars=track_vars,
            )
            for path in repo.pipeline_files()
        ]
    return Pipelines(root=repo.root, files=files)


def load_pipeline_file(
    root: Path,
    path: Path,
    *,
    config: ParsingConfig | None = None,
    reader: FileReader | None = None,
    warn: Warn | None = None,
    defer_errors: bool = False,
    track_vars: bool = False,
) -> PipelineFile:
    """Loads one `dvc.yaml` (at `path`, inside the repository at `root`) and resolves it."""
    relpath = repo_relative(path.absolute(), root.absolute())
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DvcYamlError(f"`{relpath}` is not valid UTF-8") from exc
    return loads_pipeline(
        text,
        root,
        relpath,
        config=config,
        reader=reader,
        warn=warn,
        defer_errors=defer_errors,
        track_vars=track_vars,
    )


def loads_pipeline(
    text: str,
    root: Path,
    relpath: str = PROJECT_FILE,
    *,
    config: ParsingConfig | None = None,
    reader: FileReader | None = None,
    warn: Warn | None = None,
    defer_errors: bool = False,
    track_vars: bool = False,
) -> PipelineFile:
    """Resolves `dvc.yaml` text as if it were at `relpath` inside the repository at `root`."""
    with _no_gc():
        return _loads_pipeline(text, root, relpath, config, reader, warn, defer_errors, track_vars)


def _loads_pipeline(
    text: str,
    root: Path,
    relpath: str,
    config: ParsingConfig | None,
    reader: FileReader | None,
    warn: Warn | None,
    defer_errors: bool = False,
    track_vars: bool = False,
) -> PipelineFile:
    try:
        data, marks = parsecache.load_yaml_marked(text, relpath)
    except YamlError as exc:
        hint = (
            "each stage name (and every key in a mapping) may appear only once"
            if "duplicate key" in str(exc)
            else "fix the YAML syntax there"
        )
        raise DvcYamlError(str(exc), hint) from exc
    if data is None:
        data = {}
    check = schema.Checker(marks, relpath)
    if not isinstance(data, dict):
        check.fail(data, None, f"expected a mapping at the top level, not a {type(data).__name__}")
    schema.validate_file(data, check)
    resolver = _FileResolver(
        data,
        check,
        relpath,
        config or ParsingConfig(),
        reader or FileReader(root),
        warn,
        defer_errors=defer_errors,
        track_vars=track_vars,
    )
    stages = resolver.stages()
    return PipelineFile(
        path=relpath, stages=stages, _sections=resolver.section, broken=resolver.broken
    )


def broken_target(pipelines: Pipelines, targets: Iterable[str]) -> PipelineError | None:
    """The error of a stage a target names that did not resolve (see `defer_errors`).

    A target names a stage by its name (`train`, `gen@a`, `path/dvc.yaml:train`); a
    generated stage's target names its `foreach`/`matrix` definition.
    """
    for target in targets:
        name = target.rpartition(":")[2]
        for file in pipelines.files:
            for broken, error in file.broken.items():
                if name == broken or name.startswith(broken + JOIN):
                    return error
    return None


class _FileResolver:
    def __init__(
        self,
        data: dict[str, Any],
        check: schema.Checker,
        relpath: str,
        config: ParsingConfig,
        reader: FileReader,
        warn: Warn | None = None,
        defer_errors: bool = False,
        track_vars: bool = False,
    ) -> None:
        self.data = data
        self.warn = warn
        # With `defer_errors`, a stage definition that does not resolve is kept here
        # (by its name in `stages:`) instead of failing the whole file.
        self.defer_errors = defer_errors
        self.broken: dict[str, PipelineError] = {}
        # Stage name -> the vars its definition took from files; recorded only when
        # asked, as every interpolation then pays a lookup of where its value came from.
        self.track_vars = track_vars
        self.tracked: dict[str, dict[str, dict[str, Any]]] = {}
        self.check = check
        self.relpath = relpath
        self.dir = posixpath.dirname(relpath)
        self.config = config
        self.reader = reader
        self.context = Context(reader)
        vars_ = data.get("vars", [])
        self._no_interpolation(data, "vars", "`vars`")
        try:
            self.context.load_vars(vars_, self.dir, default=True, exists=reader.exists)
        except (TemplateError, ParamsFileError) as exc:
            if "vars" in data:
                raise self._error(data, "vars", "`vars`", exc) from exc
            # Only the default `params.yaml` was being read.
            raise ResolveError(f"`{relpath}`: templating variables: {exc}", exc.hint) from exc

    def _error(
        self, container: Any, key: Any, what: str, exc: TemplateError | ParamsFileError
    ) -> ResolveError:
        hint = exc.hint
        return ResolveError(f"`{self.check.where(container, key)}`: {what}: {exc}", hint)

    def _no_interpolation(self, container: dict[str, Any], key: str, what: str) -> None:
        if key in container and has_interpolation(container[key]):
            raise ResolveError(
                f"`{self.check.where(container, key)}`: {what}: interpolation is not allowed",
                "list file names and plain values in `vars`; escape a literal `${` as `\\${`",
            )

    # Stages ------------------------------------------------------------------------

    def stages(self) -> dict[str, Stage]:
        out: dict[str, Stage] = {}
        stages = self.data.get("stages") or {}
        for name, definition in stages.items():
            try:
                self._add_stages(out, stages, name, definition)
            except ResolveError as exc:
                if not self.defer_errors:
                    raise
                self.broken[name] = exc
        return out

    def _add_stages(
        self, out: dict[str, Stage], stages: dict[str, Any], name: str, definition: Any
    ) -> None:
        """Resolves one definition of `stages:` into `out` (several for foreach/matrix)."""
        pos = self.check.marks.of(stages, name) if self.check.marks else None
        line, column = pos or (0, 0)
        if "foreach" in definition:
            template = definition["do"]
            self._check_syntax(template, name)
            try:
                items = self.context.foreach_items(definition["foreach"])
            except TemplateError as exc:
                raise self._error(definition, "foreach", f"stage `{name}`, `foreach`", exc) from exc
            by_key = bool(items) and KEY in items[0][1]
            self._warn_overwritten(name, [ITEM, KEY] if by_key else [ITEM])
        elif "matrix" in definition:
            template = {k: v for k, v in definition.items() if k != "matrix"}
            self._check_syntax(template, name)
            try:
                items = self.context.matrix_items(definition["matrix"])
            except TemplateError as exc:
                raise self._error(definition, "matrix", f"stage `{name}`, `matrix`", exc) from exc
            self._warn_overwritten(name, [KEY, ITEM])
        else:
            self._check_syntax(definition, name)
            resolved = self._resolve_entry(definition, name, self.context)
            out[name] = self._build(resolved, definition, name, None, (line, column))
            return
        kind = "foreach" if "foreach" in definition else "matrix"
        generated_stages = {}
        for suffix, values in items:
            generated = f"{name}{JOIN}{suffix}"
            if not suffix or JOIN in suffix:
                # DVC-compat: DVC finds a generated stage by the part after the
                # last `@`, so it cannot load (and fails on) such a name.
                raise ResolveError(
                    f"`{self.check.where(definition, kind)}`: stage `{name}`, `{kind}`:"
                    f" the generated name `{generated}` "
                    + ("has an empty key" if not suffix else f"has `{JOIN}` in its key"),
                    f"use values (or mapping keys) that are non-empty and hold no `{JOIN}`",
                )
            with self.context.generator_vars(values):
                resolved = self._resolve_entry(template, generated, self.context)
            generated_stages[generated] = self._build(
                resolved, template, generated, name, (line, column)
            )
        out.update(generated_stages)  # a group resolves whole, or not at all

    def _warn_overwritten(self, name: str, keys: list[str]) -> None:
        """DVC-compat: DVC's warning when generated stages' `item`/`key` hide variables."""
        hidden = [k for k in keys if k in self.context]
        if hidden and self.warn is not None:
            verb = "is" if len(hidden) == 1 else "are"
            self.warn(
                f"warning: {' and '.join(hidden)} {verb} already specified, "
                f"will be overwritten for stages generated from '{name}'\n"
            )

    def _check_syntax(self, definition: dict[str, Any], name: str) -> None:
        for key, value in definition.items():
            try:
                check_expressions(key)
                check_expressions(value)
            except TemplateError as exc:
                raise self._error(definition, key, f"stage `{name}`, `{key}`", exc) from exc

    def _resolve_entry(
        self, definition: dict[str, Any], name: str, context: Context
    ) -> dict[str, Any]:
        wdir = self.dir
        if definition.get("wdir"):
            try:
                stage_wdir = to_str(context.resolve_str(definition["wdir"], None, self.config))
            except TemplateError as exc:
                raise self._error(definition, "wdir", f"stage `{name}`, `wdir`", exc) from exc
            wdir = posixpath.join(self.dir, stage_wdir)
        vars_ = definition.get("vars")
        if vars_:
            self._no_interpolation(definition, "vars", f"stage `{name}`, `vars`")
            # Stage vars must not leak into other stages.
            context = context.clone()
            try:
                context.load_vars(vars_, wdir, stage=name)
            except (TemplateError, ParamsFileError) as exc:
                raise self._error(definition, "vars", f"stage `{name}`, `vars`", exc) from exc
        resolved: dict[str, Any] = {}
        if self.track_vars:
            context.tracked = self.tracked[name] = {}
        try:
            for key, value in definition.items():
                if key == "vars":
                    continue
                try:
                    resolved[key] = context.resolve(value, key, self.config)
                except TemplateError as exc:
                    raise self._error(definition, key, f"stage `{name}`, `{key}`", exc) from exc
        finally:
            context.tracked = None
        return resolved

    def _build(
        self,
        d: dict[str, Any],
        template: dict[str, Any],
        name: str,
        group: str | None,
        pos: tuple[int, int],
    ) -> Stage:
        # Templating can turn a string into another type (`${n}` is a number), so
        # the fields that must be strings are checked again, pointing at the template.
        check = _PostChecker(self.check, template, name)
        cmd = d["cmd"]
        if isinstance(cmd, list):
            for item in cmd:
                if not isinstance(item, str):
                    check.fail("cmd", f"items of `cmd` must be strings, not `{item!r}`")
        elif not isinstance(cmd, str):
            check.fail("cmd", f"`cmd` must be a string or a list, not `{cmd!r}`")
        wdir = d.get("wdir")
        if wdir is not None and not isinstance(wdir, str):
            check.fail("wdir", f"`wdir` must be a path, not `{wdir!r}`")
        deps = d.get("deps") or []
        for dep in deps:
            if not isinstance(dep, str):
                check.fail("deps", f"dependency `{dep!r}` must be a path")
            _not_a_dvcfile(dep, "deps", check)
        params = d.get("params") or []
        for entry in params:
            if isinstance(entry, dict):
                for file, keys in entry.items():
                    if not isinstance(file, str) or (keys and not isinstance(keys, list)):
                        check.fail("params", f"bad params entry `{file!r}: {keys!r}`")
            elif not isinstance(entry, str):
                check.fail("params", f"param `{entry!r}` must be a key")
        outs: list[Out] = []
        for kind in ("outs", "metrics", "plots"):
            if kind in d:
                outs.extend(_outs(d[kind] or [], kind, check))
        return Stage(
            name=name,
            dvcfile=self.relpath,
            cmd=cmd,
            wdir=posixpath.normpath(posixpath.join(self.dir, wdir or ".")),
            deps=list(deps),
            params=merge_params_refs(params),
            outs=outs,
            frozen=bool(d.get("frozen", False)),
            always_changed=bool(d.get("always_changed", False)),
            desc=d.get("desc"),
            meta=d.get("meta"),
            generated_from=group,
            line=pos[0],
            column=pos[1],
            tracked_vars=self.tracked.pop(name, {}),
        )

    # Top-level sections --------------------------------------------------------------

    def section(self, key: str) -> Any:
        raw = self.data.get(key)
        if raw is None:
            return {} if key == "artifacts" else []
        try:
            if key == "artifacts":
                out: dict[str, Any] = {}
                for name, artifact in raw.items():
                    check_expressions(name)
                    resolved = self.context.resolve(name, None, self.config)
                    if not isinstance(resolved, str):
                        raise TemplateError(
                            f"artifact name `{name}` must be a string, not"
                            f" `{type(resolved).__name__}`"
                        )
                    check_expressions(artifact)
                    out[resolved] = self.context.resolve(artifact, None, self.config)
                return out
            check_expressions(raw)
            return self.context.resolve(raw, None, self.config)
        except TemplateError as exc:
            raise self._error(self.data, key, f"`{key}`", exc) from exc


class _PostChecker:
    def __init__(self, check: schema.Checker, template: dict[str, Any], name: str) -> None:
        self.check = check
        self.template = template
        self.name = name

    def fail(self, key: str, message: str) -> NoReturn:
        raise ResolveError(
            f"`{self.check.where(self.template, key)}`: stage `{self.name}`: {message}",
            "check what the `${...}` there resolves to",
        )


def _not_a_dvcfile(path: str, key: str, check: _PostChecker) -> None:
    # DVC-compat: a `.dvc` file or a `dvc.yaml` can be neither a dependency nor an output.
    if path.endswith(".dvc") or posixpath.basename(path) == PROJECT_FILE:
        check.fail(
            key,
            f"`{path}` is a DVC file; it cannot be "
            + ("a dependency" if key == "deps" else "an output"),
        )


def _outs(entries: Iterable[Any], kind: OutKind, check: _PostChecker) -> list[Out]:
    # DVC-compat: entries naming the same path merge their flags (first position wins).
    merged: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if isinstance(entry, str):
            merged.setdefault(entry, {})
            continue
        if not isinstance(entry, dict):
            check.fail(kind, f"`{kind}` entry `{entry!r}` must be a path")
        for path, flags in entry.items():
            if not isinstance(path, str):
                check.fail(kind, f"output `{path!r}` must be a path")
            if not isinstance(flags, dict):
                check.fail(kind, f"flags of `{path}` must be a mapping")
            merged.setdefault(path, {}).update(flags)
    outs = []
    for path, flags in merged.items():
        _not_a_dvcfile(path, kind, check)
        plot = None
        if kind == "plots":
            plot = {k: v for k, v in flags.items() if k in schema.PLOT_PROPS}
        outs.append(
            Out(
                path=path,
                kind=kind,
                cache=flags.get("cache", True),
                persist=flags.get("persist", False),
                push=flags.get("push", True),
                remote=flags.get("remote"),
                desc=flags.get("desc"),
                type=flags.get("type"),
                labels=list(flags.get("labels") or []),
                meta=flags.get("meta"),
                plot=plot,
            )
        )
    return outs
