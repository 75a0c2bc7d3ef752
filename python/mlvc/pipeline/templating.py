"""`${...}` templating of `dvc.yaml`, resolved the way DVC 3 does it (`dvc/parsing`).

The context holds plain dicts, lists and scalars. It is filled from the default
`params.yaml` beside `dvc.yaml`, from the files and inline dicts listed in
`vars`, and, inside `foreach`/`matrix` stages, from `item` and `key`.

Errors are raised as :class:`TemplateError` without a location; the loader adds
the file, line and column.
"""

from __future__ import annotations

import os
import posixpath
import re
import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from pathlib import Path
from typing import Any

from mlvc.pipeline.params import DEFAULT_PARAMS_FILE

# DVC-compat: the pattern of dvc/parsing/interpolate.py; `\${` escapes.
KEYCRE = re.compile(r"(?<!\\)\$\{(?P<inner>.*?)\}")
PRIMITIVES = (int, float, str, bytes, bool)

# DVC parses `${...}` with pyparsing: `word ('.' word | '[' word ']')*` where a
# word is anything but `.[]`; whitespace may precede a `.` or `[` after a `]`.
_WORD = r"[^.\[\]]+"
_EXPR = re.compile(rf"{_WORD}(?:[ \t\r\n]*(?:\.{_WORD}|\[{_WORD}\]))*[ \t\r\n]*")
_PART = re.compile(rf"^{_WORD}|\.({_WORD})|\[({_WORD})\]")

ITEM = "item"
KEY = "key"
# Private entry of generator values: where `item` (or `item.<axis>`) came from in a
# vars file, for tracking; `generator_vars` takes it out.
ORIGINS = "\0origins"


class TemplateError(Exception):
    """A templating problem; `hint` says what to do. The loader adds where it happened."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True, slots=True)
class ParsingConfig:
    """The `[parsing]` section of DVC's config: how a dict renders inside `cmd`."""

    bool: str = "store_true"  # or "boolean_optional": false values become `--no-key`
    list: str = "nargs"  # or "append": `--key a --key b` instead of `--key a b`


@lru_cache(maxsize=4096)
def parse_expr(inner: str) -> tuple[str, ...]:
    """Splits the inside of `${...}` into keys: `a.b[0]` -> ("a", "b", "0")."""
    if not _EXPR.fullmatch(inner):
        raise TemplateError(
            f"invalid expression `${{{inner}}}`",
            "write a name and then `.key` or `[index]` parts, e.g. `${train.layers[0]}`",
        )
    parts = []
    for m in _PART.finditer(inner):
        text = m.group(1) or m.group(2) or m.group(0)
        # DVC-compat: DVC strips each part before the lookup.
        parts.append(text.strip())
    return tuple(parts)


def check_expressions(data: Any) -> None:
    """Raises for the first malformed `${...}` anywhere in `data` (keys included)."""
    if isinstance(data, str):
        if "${" in data:
            for m in KEYCRE.finditer(data):
                parse_expr(m["inner"])
    elif isinstance(data, dict):
        for k, v in data.items():
            check_expressions(k)
            check_expressions(v)
    elif isinstance(data, list):
        for v in data:
            check_expressions(v)


def any_text(data: Any, test: Callable[[str], bool]) -> bool:
    """Whether a string anywhere in `data` (keys included) passes `test`."""
    if isinstance(data, str):
        return test(data)
    if isinstance(data, dict):
        return any(any_text(k, test) or any_text(v, test) for k, v in data.items())
    if isinstance(data, list):
        return any(any_text(v, test) for v in data)
    return False


def has_interpolation(data: Any) -> bool:
    """Whether `data` holds an unescaped `${` anywhere (keys included)."""
    return any_text(data, lambda text: KEYCRE.search(text) is not None)


def to_str(value: Any, config: ParsingConfig | None = None) -> str:
    """How a value renders inside a string (DVC's `to_str`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return _dict_to_flags(value, config or ParsingConfig())
    return str(value)


def _flatten(d: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    # DVC-compat: flatten_dict with the dot reducer; empty dicts vanish.
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            yield from _flatten(v, key + ".")
        else:
            yield key, v


def _dict_to_flags(value: dict[str, Any], config: ParsingConfig) -> str:
    # DVC-compat: a dict inside `cmd` becomes command-line flags.
    out = ""
    for k, v in _flatten(value):
        if isinstance(v, bool):
            if v:
                out += f"--{k} "
            elif config.bool == "boolean_optional":
                out += f"--no-{k} "
        elif isinstance(v, str):
            out += f"--{k} {shlex.quote(v)} "
        elif isinstance(v, list | tuple):
            for n, item in enumerate(v):
                if isinstance(item, str):
                    item = shlex.quote(item)
                elif isinstance(item, list | tuple | dict):
                    raise TemplateError(f"cannot interpolate nested iterable in `{k}`")
                if config.list == "append":
                    out += f"--{k} {item} "
                else:
                    out += f"{item} " if n > 0 else f"--{k} {item} "
        else:
            out += f"--{k} {v} "
    return out.rstrip()


def _check_value(value: Any, key: str | None) -> None:
    # DVC-compat: validate_value; only `cmd` takes a dict, only generators and
    # top-level sections (key None) take lists and dicts.
    if value is None or isinstance(value, PRIMITIVES) or key is None or "foreach" in key:
        return
    if isinstance(value, dict) and key == "cmd":
        return
    raise TemplateError(
        f"cannot interpolate data of type `{type(value).__name__}`",
        "only strings, numbers and booleans can be interpolated here"
        + ("; a dict can be in `cmd`" if key != "cmd" else ""),
    )


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _convert(value: Any, source: str, path: str) -> Any:
    """Copies loaded data into the context: str keys only, supported types only."""
    if value is None or isinstance(value, PRIMITIVES):
        return value
    if isinstance(value, dict):
        # DVC-compat: non-string keys are silently left out of the context.
        return {
            k: _convert(v, source, f"{path}.{k}" if path else k)
            for k, v in value.items()
            if isinstance(k, str)
        }
    if isinstance(value, list):
        return [_convert(v, source, f"{path}.{i}") for i, v in enumerate(value)]
    raise TemplateError(
        f"unsupported value of type `{type(value).__name__}` at `{path}` in `{source}`",
        "templating takes strings, numbers, booleans, null, lists and mappings; quote the value",
    )


class _FromContext:
    """A value selected from the context by a whole-value `${...}` in generator data.

    DVC-compat: such values name generated stages with Python's `str()` (`True`),
    literal ones with `to_str` (`true`).
    """

    __slots__ = ("path", "value")

    def __init__(self, value: Any, path: tuple[str, ...]) -> None:
        self.value = value
        self.path = path


def _unwrap(value: Any) -> Any:
    if isinstance(value, _FromContext):
        return _copy(value.value)
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _is_composite(value: Any) -> bool:
    return isinstance(value, dict | list | tuple)


Loader = Callable[[str], Any]


class Context:
    """Variables for interpolation, with where each came from (for redefinition errors)."""

    def __init__(self, loader: Loader) -> None:
        self.data: dict[str, Any] = {}
        self._sources: dict[tuple[str, ...], str] = {}
        # path -> None (whole file loaded) or the top-level keys loaded from it
        self._imports: dict[str, list[str] | None] = {}
        self._reserved: set[str] = set()
        self._loader = loader
        # DVC-compat: when set, values from files that `${...}` selects are recorded
        # here as {file: {dotted key: value}} (DVC's tracked vars, which `params diff` lists).
        self.tracked: dict[str, dict[str, Any]] | None = None
        self._files: set[str] = set()
        self._aliases: dict[tuple[str, ...], tuple[str, ...]] = {}

    def clone(self) -> Context:
        new = Context(self._loader)
        new.data = _copy(self.data)
        new._sources = dict(self._sources)
        new._files = set(self._files)
        new._aliases = dict(self._aliases)
        new._imports = {k: (list(v) if v is not None else None) for k, v in self._imports.items()}
        new._reserved = set(self._reserved)
        return new

    def __contains__(self, key: str) -> bool:
        return key in self.data

    # Loading ---------------------------------------------------------------

    def merge(self, update: dict[str, Any], source: str) -> None:
        """Adds converted data: nested mappings merge, any other clash is an error."""
        reserved = [k for k in update if k in self._reserved]
        if reserved:
            raise TemplateError(
                f"`{source}` redefines the reserved name `{reserved[0]}`",
                "`item` and `key` are set by `foreach`/`matrix`; rename the variable",
            )
        self._merge(self.data, update, (), source)

    def _merge(
        self, into: dict[str, Any], update: dict[str, Any], path: tuple[str, ...], source: str
    ) -> None:
        for key, value in update.items():
            here = (*path, key)
            current = into.get(key)
            if isinstance(current, dict) and isinstance(value, dict):
                self._merge(current, value, here, source)
                continue
            if key in into:
                raise TemplateError(
                    f"cannot redefine `{'.'.join(here)}` from `{source}`:"
                    f" it already exists in `{self._source_of(here)}`",
                    "give the variable another name, or define it in one place only",
                )
            into[key] = value
            self._sources[here] = source

    def _source_of(self, path: tuple[str, ...]) -> str:
        for n in range(len(path), 0, -1):
            found = self._sources.get(path[:n])
            if found is not None:
                return found
        return "?"

    def merge_file(self, item: str, wdir: str) -> None:
        """Loads a `vars` entry `path[:key1,key2]`; `path` is relative to `wdir` (repo-relative)."""
        path, _, keys_str = item.partition(":")
        path = posixpath.normpath(posixpath.join(wdir, path))
        keys = [k for k in keys_str.split(",") if k] if keys_str else None
        if path in self._imports:
            imported = self._imports[path]
            if not keys and imported is None:
                return  # DVC-compat: a whole file may be listed again
            if not keys or imported is None or set(keys) & set(imported):
                raise TemplateError(
                    f"cannot load `{item}`: `{path}` is already "
                    + ("partially " if imported is not None else "")
                    + "loaded",
                    "list each file once, or select disjoint keys (`file.yaml:a,b`)",
                )
        data = self._loader(path)
        if not isinstance(data, dict):
            raise TemplateError(
                f"`{path}` must hold a mapping at the top level, not `{type(data).__name__}`"
            )
        if keys:
            missing = [k for k in keys if k not in data]
            if missing:
                raise TemplateError(
                    f"`{missing[0]}` not found in `{path}`",
                    f"the file's top-level keys are: {', '.join(map(str, data)) or 'none'}",
                )
            data = {k: data[k] for k in keys}
        self.merge(_convert(data, path, ""), path)
        self._files.add(path)
        if path not in self._imports:
            self._imports[path] = keys
        elif keys:
            imported = self._imports[path]
            assert imported is not None
            imported.extend(keys)

    def load_vars(
        self,
        vars_: list[Any],
        wdir: str,
        *,
        stage: str | None = None,
        default: bool = False,
        exists: Callable[[str], bool] | None = None,
    ) -> None:
        """Loads `vars` entries (files and inline dicts), and first `params.yaml` if `default`."""
        if default and exists is not None:
            default_path = posixpath.normpath(posixpath.join(wdir, DEFAULT_PARAMS_FILE))
            if exists(default_path):
                self.merge_file(DEFAULT_PARAMS_FILE, wdir)
        for index, item in enumerate(vars_):
            if isinstance(item, str):
                self.merge_file(item, wdir)
            else:
                source = f"{stage}.vars[{index}]" if stage else f"vars[{index}]"
                self.merge(_convert(item, source, ""), source)

    @contextmanager
    def generator_vars(self, values: dict[str, Any]) -> Iterator[None]:
        """Sets `item`/`key` for one generated stage and reserves them meanwhile."""
        values = dict(values)
        saved_aliases = self._aliases
        self._aliases = {**saved_aliases, **values.pop(ORIGINS, {})}
        saved = {k: self.data[k] for k in values if k in self.data}
        added = [k for k in values if k not in self._reserved]
        self.data.update(values)
        self._reserved.update(added)
        try:
            yield
        finally:
            self._aliases = saved_aliases
            self._reserved.difference_update(added)
            for k in values:
                if k in saved:
                    self.data[k] = saved[k]
                else:
                    del self.data[k]

    # Lookup and interpolation ---------------------------------------------------

    def select(self, inner: str) -> Any:
        node = self._select(inner)
        if self.tracked is not None and not isinstance(node, dict):
            self._track(parse_expr(inner), node)
        return node

    def _track(self, parts: tuple[str, ...], value: Any) -> None:
        # DVC-compat: `item` values keep the place they were taken from; inline
        # `vars` and literal generator values are not recorded.
        for n in range(len(parts), 0, -1):
            origin = self._aliases.get(parts[:n])
            if origin is not None:
                parts = origin + parts[n:]
                break
        source = self._source_of(parts)
        if source in self._files and self.tracked is not None:
            self.tracked.setdefault(source, {})[".".join(parts)] = _copy(value)

    def _from_file(self, path: tuple[str, ...] | None) -> bool:
        return path is not None and self._source_of(path) in self._files

    def _select(self, inner: str) -> Any:
        node: Any = self.data
        for part in parse_expr(inner):
            if isinstance(node, dict) and part in node:
                node = node[part]
                continue
            if isinstance(node, list):
                try:
                    node = node[int(part)]
                    continue
                except (ValueError, IndexError):
                    pass
            raise TemplateError(
                f"`${{{inner}}}` is not defined",
                f"define `{parse_expr(inner)[0]}` in `vars` or in `params.yaml`"
                if parse_expr(inner)[0] not in self.data
                else f"check the keys and indexes of `{parse_expr(inner)[0]}`",
            )
        return node

    def resolve(self, data: Any, key: str | None, config: ParsingConfig) -> Any:
        """Interpolates every string in `data` (mapping keys too); `key` is the stage key."""
        if isinstance(data, str):
            return self.resolve_str(data, key, config) if "${" in data else data
        if isinstance(data, dict):
            out = {}
            for k, v in data.items():
                rk = self.resolve(k, key, config)
                if not isinstance(rk, str | int | float | bool) and rk is not None:
                    raise TemplateError(f"a mapping key cannot be a `{type(rk).__name__}`")
                out[rk] = self.resolve(v, key, config)
            return out
        if isinstance(data, list):
            return [self.resolve(v, key, config) for v in data]
        return data

    def resolve_str(self, src: str, key: str | None, config: ParsingConfig) -> Any:
        matches = list(KEYCRE.finditer(src))
        if len(matches) == 1 and matches[0].group(0) == src:
            # A whole-value `${x}` keeps the value's type.
            value = self.select(matches[0]["inner"])
            _check_value(value, key)
            return _copy(value)
        buf, index = "", 0
        for m in matches:
            value = self.select(m["inner"])
            _check_value(value, key)
            buf += src[index : m.start()] + to_str(value, config)
            index = m.end()
        buf += src[index:]
        return buf.replace(r"\${", "${")

    def _resolve_generator_data(self, data: Any) -> Any:
        """Like `resolve` with no key, but marks values taken whole from the context."""
        if isinstance(data, str):
            matches = list(KEYCRE.finditer(data))
            if len(matches) == 1 and matches[0].group(0) == data:
                inner = matches[0]["inner"]
                return _FromContext(self.select(inner), parse_expr(inner))
            return (
                self.resolve_str(data, None, ParsingConfig())
                if matches
                else data.replace(r"\${", "${")
            )
        if isinstance(data, list):
            return [self._resolve_generator_data(v) for v in data]
        if isinstance(data, dict):
            return {
                self.resolve(k, None, ParsingConfig()): self._resolve_generator_data(v)
                for k, v in data.items()
            }
        return data

    # Generators --------------------------------------------------------------------

    def foreach_items(self, foreach: Any) -> list[tuple[str, dict[str, Any]]]:
        """(generated-name suffix, {item, key}) per iteration of `foreach`, named as in DVC."""
        resolved = self._resolve_generator_data(foreach)
        from_ctx = isinstance(resolved, _FromContext)
        base = resolved.value if from_ctx else resolved

        def origin(raw: Any, at: Any) -> dict[str, Any]:
            path = None
            if isinstance(resolved, _FromContext):
                path = (*resolved.path, str(at))
            elif isinstance(raw, _FromContext):
                path = raw.path
            return {ORIGINS: {(ITEM,): path}} if self._from_file(path) else {}

        if isinstance(base, dict):
            return [
                (
                    k if isinstance(k, str) else to_str(k),
                    {ITEM: _unwrap(v), KEY: to_str(k), **origin(v, k)},
                )
                for k, v in base.items()
            ]
        if not isinstance(base, list):
            raise TemplateError(
                f"`foreach` must be a list or a mapping, not `{type(base).__name__}`",
                "point it at a list or mapping, e.g. `foreach: ${models}`",
            )
        values = [_unwrap(v) for v in base]
        if any(_is_composite(v) for v in values):
            # DVC-compat: lists holding lists or dicts are keyed by index.
            return [
                (str(i), {ITEM: v, **origin(raw, i)})
                for i, (raw, v) in enumerate(zip(base, values, strict=True))
            ]
        out: dict[str, dict[str, Any]] = {}
        for i, (raw, value) in enumerate(zip(base, values, strict=True)):
            ctx_value = from_ctx or isinstance(raw, _FromContext)
            out[str(value) if ctx_value else to_str(value)] = {ITEM: value, **origin(raw, i)}
        return list(out.items())

    def matrix_items(self, matrix: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """(generated-name suffix, {item, key}) for each combination, in DVC's order."""
        resolved = self._resolve_generator_data(matrix)
        axes: list[list[tuple[int, Any, str, tuple[str, ...] | None]]] = []
        for name, values in resolved.items():
            from_ctx = isinstance(values, _FromContext)
            base = values.value if from_ctx else values
            # DVC-compat: iterates a mapping's keys and a literal string's characters;
            # a string from `${...}` fails in DVC (an internal error), here cleanly.
            keyed = isinstance(base, dict) or (isinstance(base, str) and not from_ctx)
            if keyed:
                base = list(base)
            if not isinstance(base, list):
                raise TemplateError(
                    f"`matrix.{name}` must be a list, not `{type(base).__name__}`",
                    f"write `{name}: [a, b]` or point it at a list",
                )
            axis = []
            for i, raw in enumerate(base):
                value = _unwrap(raw)
                path = None
                if isinstance(values, _FromContext) and not keyed:
                    path = (*values.path, str(i))
                elif isinstance(raw, _FromContext):
                    path = raw.path
                if not self._from_file(path):
                    path = None
                if _is_composite(value):
                    fragment = f"{name}{i}"
                elif from_ctx or isinstance(raw, _FromContext):
                    fragment = str(value)
                else:
                    fragment = to_str(value)
                axis.append((i, value, fragment, path))
            axes.append(axis)
        names = list(resolved)
        out: dict[str, dict[str, Any]] = {}
        for combination in product(*axes):
            suffix = "-".join(fragment for _, _, fragment, _ in combination)
            pairs = list(zip(names, combination, strict=True))
            item = {n: _copy(v) for n, (_, v, _, _) in pairs}
            origins = {(ITEM, n): p for n, (_, _, _, p) in pairs if p is not None}
            out[suffix] = {KEY: suffix, ITEM: item, **({ORIGINS: origins} if origins else {})}
        return list(out.items())


def repo_relative(path: Path, root: Path) -> str:
    """`path` relative to `root`, `/`-separated; `""` for the root itself."""
    rel = Path(os.path.relpath(path, root)).as_posix()
    return "" if rel == "." else rel
