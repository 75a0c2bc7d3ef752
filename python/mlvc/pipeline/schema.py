"""The structure DVC 3 accepts in `dvc.yaml` (its `dvc/schema.py`), checked before templating.

As in DVC, the raw file is checked, so only string fields can hold `${...}`:
`frozen: ${flag}` is refused because `frozen` must be a boolean.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection
from typing import Any, NoReturn

from mlvc.exceptions import DvcYamlError
from mlvc.yamldata import Marks

TOP_KEYS = ("stages", "vars", "params", "metrics", "plots", "artifacts", "datasets")
STAGE_KEYS = (
    "cmd",
    "wdir",
    "deps",
    "params",
    "outs",
    "metrics",
    "plots",
    "vars",
    "matrix",
    "frozen",
    "always_changed",
    "desc",
    "meta",
)
FOREACH_KEYS = ("foreach", "do")
ANNOTATION_FLAGS: dict[str, str] = {"desc": "str", "type": "str", "labels": "strs", "meta": "any"}
OUT_FLAGS: dict[str, str] = {
    **ANNOTATION_FLAGS,
    "cache": "bool",
    "persist": "bool",
    "checkpoint": "bool",
    "remote": "str",
    "push": "bool",
}
PLOT_PROPS: dict[str, str] = {
    "template": "str",
    "x": "str",
    "y": "str",
    "x_label": "str",
    "y_label": "str",
    "title": "str",
    "header": "bool",
}
PLOT_FLAGS = {**OUT_FLAGS, **PLOT_PROPS}
TOP_PLOT_KEYS = ("x", "y", "x_label", "y_label", "title", "template")
ARTIFACT_KEYS = ("path", "desc", "type", "labels", "meta")

_TYPE_NAMES = {
    "str": "a string",
    "bool": "a boolean (`true` or `false`)",
    "strs": "a list of strings",
    "list": "a list",
    "dict": "a mapping",
}


def _typename(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", str: "string", int: "number", float: "number", dict: "mapping"}.get(
        type(value), type(value).__name__
    )


def suggest(word: str, choices: Collection[str]) -> str | None:
    """The closest of `choices` to a mistyped `word`, if any is close."""
    # Swapped letters (`dpes`) first: difflib rates `desc` as close as `deps`.
    for choice in choices:
        if sorted(choice) == sorted(word):
            return choice
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


class Checker:
    """Reports problems as `file:line:column: message` using the YAML marks."""

    def __init__(self, marks: Marks | None, origin: str, fallback: tuple[int, int] | None = None):
        self.marks = marks
        self.origin = origin
        self.fallback = fallback

    def where(self, container: object, key: Any = None) -> str:
        pos = self.marks.of(container, key) if self.marks is not None else None
        pos = pos or self.fallback
        return f"{self.origin}:{pos[0]}:{pos[1]}" if pos else self.origin

    def fail(self, container: object, key: Any, message: str, hint: str | None = None) -> NoReturn:
        raise DvcYamlError(f"`{self.where(container, key)}`: {message}", hint)

    def unknown_keys(self, d: dict[Any, Any], allowed: Collection[str], what: str) -> None:
        for key in d:
            if key not in allowed:
                close = suggest(str(key), allowed)
                hint = f"did you mean `{close}`?" if close else None
                listing = f"allowed: {', '.join(allowed)}"
                self.fail(
                    d,
                    key,
                    f"unknown key `{key}` in {what}",
                    f"{hint} ({listing})" if hint else listing,
                )

    def expect(self, container: Any, key: Any, kind: str, what: str) -> None:
        value = container[key]
        ok: bool
        if kind == "str":
            ok = isinstance(value, str)
        elif kind == "bool":
            ok = isinstance(value, bool)
        elif kind == "strs":
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        elif kind == "list":
            ok = isinstance(value, list)
        elif kind == "dict":
            ok = isinstance(value, dict)
        else:
            ok = True
        if not ok:
            if kind == "strs" and isinstance(value, list):
                bad = next(i for i, v in enumerate(value) if not isinstance(v, str))
                self.fail(
                    value,
                    bad,
                    f"{what} must hold strings, not a {_typename(value[bad])}",
                    "quote the value",
                )
            self.fail(
                container,
                key,
                f"{what} must be {_TYPE_NAMES[kind]}, not a {_typename(value)}",
                _type_hint(kind, value),
            )


def _type_hint(kind: str, value: Any) -> str | None:
    if kind == "bool" and isinstance(value, str):
        return "write `true` or `false` (templating is not allowed in boolean fields)"
    if kind in ("list", "strs") and isinstance(value, str):
        return f"write it as a list: `[{value}]`, or one `- item` per line"
    if kind == "str" and value is not None:
        return "quote the value"
    return None


def validate_file(data: dict[Any, Any], check: Checker) -> None:
    """Checks the top level of a `dvc.yaml` and every stage in it."""
    check.unknown_keys(data, TOP_KEYS, "`dvc.yaml`")
    if "vars" in data:
        _check_vars(data, check, "`vars`")
    for key in ("params", "metrics"):
        if key in data:
            check.expect(data, key, "strs", f"`{key}`")
    if "plots" in data:
        _check_top_plots(data, check)
    if "artifacts" in data:
        _check_artifacts(data, check)
    if "stages" in data:
        check.expect(data, "stages", "dict", "`stages`")
        stages = data["stages"]
        for name in stages:
            validate_stage_entry(stages, name, check)


def validate_stage_entry(stages: dict[Any, Any], name: Any, check: Checker) -> None:
    """Checks one entry of `stages` (plain, `foreach`/`do` or `matrix`)."""
    if not isinstance(name, str):
        check.fail(stages, name, f"stage name `{name}` must be a string", "quote the name")
    if "@" in name:
        check.fail(
            stages,
            name,
            f"stage name `{name}` must not contain `@`",
            "`@` separates a `foreach`/`matrix` stage from its key; rename the stage",
        )
    what = f"stage `{name}`"
    stage = stages[name]
    if not isinstance(stage, dict):
        check.fail(stages, name, f"{what} must be a mapping, not a {_typename(stage)}")
    if "foreach" in stage or "do" in stage:
        check.unknown_keys(stage, FOREACH_KEYS, f"{what} (a `foreach` stage takes only `do`)")
        for key in FOREACH_KEYS:
            if key not in stage:
                check.fail(stages, name, f"{what} has `{_other(key)}` without `{key}`")
        if not isinstance(stage["foreach"], dict | list | str):
            check.fail(
                stage,
                "foreach",
                f"`foreach` of {what} must be a list, a mapping or `${{...}}`",
            )
        check.expect(stage, "do", "dict", f"`do` of {what}")
        _check_definition(stage["do"], f"{what} (in `do`)", check, stage, "do")
    else:
        _check_definition(stage, what, check, stages, name)


def _other(key: str) -> str:
    return "do" if key == "foreach" else "foreach"


def _check_definition(
    stage: dict[Any, Any], what: str, check: Checker, parent: Any, parent_key: Any
) -> None:
    check.unknown_keys(stage, STAGE_KEYS, what)
    if "cmd" not in stage:
        check.fail(parent, parent_key, f"{what} has no `cmd`", "add `cmd: <command to run>`")
    if not isinstance(stage["cmd"], str | list):
        check.fail(
            stage,
            "cmd",
            f"`cmd` of {what} must be a string or a list of strings, not a"
            f" {_typename(stage['cmd'])}",
            "quote the command",
        )
    for key, kind in (
        ("wdir", "str"),
        ("deps", "strs"),
        ("frozen", "bool"),
        ("always_changed", "bool"),
        ("desc", "str"),
    ):
        if key in stage:
            check.expect(stage, key, kind, f"`{key}` of {what}")
    if "params" in stage:
        _check_params(stage, check, what)
    if "vars" in stage:
        _check_vars(stage, check, f"`vars` of {what}")
    if "matrix" in stage:
        check.expect(stage, "matrix", "dict", f"`matrix` of {what}")
        matrix = stage["matrix"]
        for key, value in matrix.items():
            if not isinstance(key, str):
                check.fail(matrix, key, f"`matrix` keys of {what} must be strings")
            if not isinstance(value, str | list):
                check.fail(
                    matrix,
                    key,
                    f"`matrix.{key}` of {what} must be a list or `${{...}}`,"
                    f" not a {_typename(value)}",
                    f"write `{key}: [{value}]`",
                )
    for key in ("outs", "metrics", "plots"):
        if key in stage:
            _check_outs(stage, key, check, what)


def _check_vars(d: dict[Any, Any], check: Checker, what: str) -> None:
    check.expect(d, "vars", "list", what)
    for i, item in enumerate(d["vars"]):
        if not isinstance(item, str | dict):
            check.fail(
                d["vars"],
                i,
                f"{what} must list file names or mappings, not a {_typename(item)}",
                "write `- params.yaml`, `- file.yaml:key` or `- name: value`",
            )


def _check_params(stage: dict[Any, Any], check: Checker, what: str) -> None:
    check.expect(stage, "params", "list", f"`params` of {what}")
    params = stage["params"]
    for i, entry in enumerate(params):
        if isinstance(entry, str):
            continue
        if not isinstance(entry, dict):
            check.fail(
                params,
                i,
                f"`params` of {what} must list keys or `file: [keys]`, not a {_typename(entry)}",
            )
        for file, keys in entry.items():
            if not isinstance(file, str):
                check.fail(entry, file, f"params file name `{file}` must be a string")
            # DVC-compat: an empty value tracks the whole file.
            if keys and not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)):
                check.fail(
                    entry,
                    file,
                    f"`params` of {what}: `{file}` must map to a list of keys, or nothing"
                    " to track the whole file",
                    f"write `- {file}: [key]` or `- {file}:`",
                )


def _check_flags(
    flags: Any, allowed: dict[str, str], check: Checker, container: Any, key: Any, what: str
) -> None:
    if not isinstance(flags, dict):
        check.fail(
            container,
            key,
            f"flags of {what} must be a mapping, not a {_typename(flags)}",
            f"write `- {key}:` then indented `cache: false` etc., or just `- {key}`",
        )
    check.unknown_keys(flags, list(allowed), f"flags of {what}")
    for flag, kind in allowed.items():
        if flag in flags:
            check.expect(flags, flag, kind, f"`{flag}` of {what}")


def _check_outs(stage: dict[Any, Any], key: str, check: Checker, what: str) -> None:
    check.expect(stage, key, "list", f"`{key}` of {what}")
    entries = stage[key]
    for i, entry in enumerate(entries):
        if isinstance(entry, str):
            continue
        if not isinstance(entry, dict):
            check.fail(
                entries,
                i,
                f"`{key}` of {what} must list paths or `path: {{flags}}`, not a {_typename(entry)}",
            )
        for path, flags in entry.items():
            if not isinstance(path, str):
                check.fail(entry, path, f"path `{path}` in `{key}` of {what} must be a string")
            out_what = f"`{path}` in {what}"
            if key == "plots" and isinstance(flags, list):
                for j in range(len(flags)):
                    _check_flags(flags[j], PLOT_FLAGS, check, flags, j, out_what)
                continue
            _check_flags(
                flags, PLOT_FLAGS if key == "plots" else OUT_FLAGS, check, entry, path, out_what
            )


def _check_top_plots(data: dict[Any, Any], check: Checker) -> None:
    check.expect(data, "plots", "list", "`plots`")
    plots = data["plots"]
    for i, entry in enumerate(plots):
        if isinstance(entry, str):
            continue
        if not isinstance(entry, dict):
            check.fail(
                plots, i, f"`plots` must list paths or `id: {{props}}`, not a {_typename(entry)}"
            )
        for name, props in entry.items():
            if not isinstance(name, str):
                check.fail(entry, name, f"plot id `{name}` must be a string")
            if props is None:
                continue
            if not isinstance(props, dict):
                check.fail(
                    entry, name, f"plot `{name}` must map to properties, not a {_typename(props)}"
                )
            check.unknown_keys(props, TOP_PLOT_KEYS, f"plot `{name}`")
            for prop in ("x_label", "y_label", "title", "template"):
                if prop in props:
                    check.expect(props, prop, "str", f"`{prop}` of plot `{name}`")
            _check_axis(props, "x", check, name, lambda v: isinstance(v, str))
            _check_axis(
                props,
                "y",
                check,
                name,
                lambda v: (
                    isinstance(v, str)
                    or (isinstance(v, list) and all(isinstance(s, str) for s in v))
                ),
            )


def _check_axis(
    props: dict[Any, Any], axis: str, check: Checker, name: str, leaf: Callable[[Any], bool]
) -> None:
    if axis not in props:
        return
    value = props[axis]
    ok = leaf(value) or (
        isinstance(value, dict) and all(isinstance(k, str) and leaf(v) for k, v in value.items())
    )
    if not ok:
        check.fail(
            props,
            axis,
            f"`{axis}` of plot `{name}` must be a field name or `{{file: field}}`",
        )


def _check_artifacts(data: dict[Any, Any], check: Checker) -> None:
    check.expect(data, "artifacts", "dict", "`artifacts`")
    for name, artifact in data["artifacts"].items():
        what = f"artifact `{name}`"
        if not isinstance(name, str):
            check.fail(data["artifacts"], name, f"{what}: the name must be a string")
        if not isinstance(artifact, dict):
            check.fail(data["artifacts"], name, f"{what} must be a mapping with a `path`")
        check.unknown_keys(artifact, ARTIFACT_KEYS, what)
        if "path" not in artifact:
            check.fail(data["artifacts"], name, f"{what} has no `path`")
        check.expect(artifact, "path", "str", f"`path` of {what}")
        for key, kind in ANNOTATION_FLAGS.items():
            if key in artifact:
                check.expect(artifact, key, kind, f"`{key}` of {what}")
