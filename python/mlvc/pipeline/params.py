"""Params files as DVC reads them: YAML, JSON, TOML and Python, chosen by suffix.

Used both for `vars` (templating) and for a stage's `params` dependencies.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlvc import parsecache
from mlvc.exceptions import ParamsFileError
from mlvc.yamldata import YamlError

DEFAULT_PARAMS_FILE = "params.yaml"


@dataclass(frozen=True, slots=True)
class ParamsRef:
    """A stage's dependency on keys of one params file.

    `path` is as written (relative to the stage's `wdir`); empty `keys` means the
    whole file is tracked.
    """

    path: str
    keys: tuple[str, ...] = ()

    @property
    def whole_file(self) -> bool:
        return not self.keys


def read_params_file(path: Path, shown: str | None = None) -> Any:
    """Parses a params file by its suffix; YAML unless `.json`, `.toml` or `.py`.

    `shown` is how errors name the file (default: `path`).
    """
    name = shown or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ParamsFileError(f"`{name}` is not valid UTF-8") from exc
    return parse_params(text, path.suffix.lower(), name)


def parse_params(text: str, suffix: str, shown: str) -> Any:
    """Parses params text of the given suffix (`.yaml`, `.json`, `.toml`, `.py`, ...)."""
    # DVC-compat: an empty (falsy) YAML or JSON document reads as `{}`.
    if suffix == ".json":
        try:
            return json.loads(text) or {}
        except json.JSONDecodeError as exc:
            raise ParamsFileError(
                f"`{shown}:{exc.lineno}:{exc.colno}`: invalid JSON: {exc.msg}",
                "fix the file's syntax",
            ) from exc
    if suffix == ".toml":
        import tomllib  # only TOML params need it

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ParamsFileError(
                f"`{shown}`: invalid TOML: {exc}", "fix the file's syntax"
            ) from exc
    if suffix == ".py":
        from mlvc.pipeline.pyparams import parse_python_params

        return parse_python_params(text, shown)
    try:
        data, _ = parsecache.load_yaml_marked(text, shown)
    except YamlError as exc:
        raise ParamsFileError(str(exc), "fix the file's YAML syntax") from exc
    return data or {}


def select_params(data: Any, keys: Iterable[str]) -> dict[str, Any]:
    """The values of dotted `keys` (`train.lr`, `layers.0`) in `data`; missing keys are left out.

    DVC-compat: a dotted key walks into mappings and, with a number, into lists.
    """
    out: dict[str, Any] = {}
    for key in keys:
        node: Any = data
        for part in key.split("."):
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list | tuple) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                break
        else:
            out[key] = node
    return out


def merge_params_refs(entries: Iterable[str | dict[str, Any]]) -> list[ParamsRef]:
    """Groups a stage's `params` list by file, as DVC does.

    A bare key belongs to `params.yaml`; `{file: [keys]}` adds keys of `file`;
    `{file: null}` (or an empty list) tracks the whole file, and then keys listed
    for that file elsewhere are dropped.
    """
    entries = list(entries)
    whole: set[str] = set()
    for entry in entries:
        if isinstance(entry, dict):
            whole.update(str(k) for k, v in entry.items() if not v)
    grouped: dict[str, list[str]] = {}
    for entry in entries:
        if isinstance(entry, str):
            if DEFAULT_PARAMS_FILE not in whole:
                grouped.setdefault(DEFAULT_PARAMS_FILE, []).append(entry)
            continue
        for file, keys in entry.items():
            file = str(file)
            if file in whole:
                grouped[file] = []
                continue
            grouped.setdefault(file, []).extend(keys)
    # DVC-compat: a key listed twice stays twice (readers take each once).
    return [ParamsRef(path, tuple(keys)) for path, keys in grouped.items()]
