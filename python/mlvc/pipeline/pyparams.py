"""Params in Python files, read as DVC reads them (without running the file).

Apart from `params`, so that only pipelines with `.py` params import `ast`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from typing import Any

from mlvc.exceptions import ParamsFileError


def parse_python_params(text: str, shown: str) -> dict[str, Any]:
    """The params a `.py` params file defines; `shown` names it in errors."""
    try:
        tree = ast.parse(text, filename=shown)
    except SyntaxError as exc:
        raise ParamsFileError(
            f"`{shown}:{exc.lineno}:{exc.offset}`: invalid Python: {exc.msg}",
            "fix the file's syntax",
        ) from exc
    return _module_params(tree.body)


# DVC-compat: `.py` params are module-level assignments of literals, classes'
# attributes (nested dicts) and `self.x = ...` inside `__init__`; anything else
# (calls, expressions, tuple targets) is skipped silently.
def _module_params(body: Iterable[ast.stmt], only_self: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for node in body:
        try:
            if isinstance(node, ast.Assign | ast.AnnAssign):
                result.update(_assignment(node, only_self))
            elif isinstance(node, ast.ClassDef):
                result[node.name] = _module_params(node.body)
            elif isinstance(node, ast.FunctionDef) and node.name == "__init__":
                result.update(_module_params(node.body, only_self=True))
        except (ValueError, TypeError, SyntaxError, _Skip):
            continue
    return result


class _Skip(Exception):
    """An assignment DVC does not read as a param."""


def _assignment(node: ast.Assign | ast.AnnAssign, only_self: bool) -> dict[str, Any]:
    if isinstance(node, ast.AnnAssign):
        target: ast.expr = node.target
    elif len(node.targets) == 1:
        target = node.targets[0]
    else:
        raise _Skip
    if isinstance(target, ast.Name) and not only_self:
        name = target.id
    elif (
        isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id == "self"
    ):
        name = target.attr
    else:
        raise _Skip
    value_node = node.value
    if value_node is None:
        raise _Skip
    value: Any
    if isinstance(value_node, ast.Dict):
        if any(k is None for k in value_node.keys):  # `{**other}`
            raise _Skip
        value = {
            ast.literal_eval(k): ast.literal_eval(v)  # type: ignore[arg-type]
            for k, v in zip(value_node.keys, value_node.values, strict=True)
        }
    elif isinstance(value_node, ast.List):
        value = [ast.literal_eval(v) for v in value_node.elts]
    elif isinstance(value_node, ast.Set):
        value = {ast.literal_eval(v) for v in value_node.elts}
    elif isinstance(value_node, ast.Tuple):
        value = tuple(ast.literal_eval(v) for v in value_node.elts)
    else:
        value = ast.literal_eval(value_node)
    return {name: value}
