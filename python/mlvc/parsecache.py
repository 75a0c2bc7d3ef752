"""Small YAML files parsed once: their parses are kept in the state database.

`status` on an unchanged repository reads every `.dvc` file, and a no-op
`repro` reads `dvc.yaml`, `dvc.lock` and params files; with their parses
remembered (keyed by the bytes themselves, so an edit is always seen), neither
imports the YAML parser, a sizeable part of their start-up.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mlvc
from mlvc.yamldata import Marks

# Names the parser and its rules: a change in how YAML is read must change these.
_YAML_KIND = "yaml1.2-safe/2"
_MARKED_KIND = "yaml1.2-safe-marked/2"

_default_state: Callable[[], mlvc.State] | None = None


def remember_in(state: Callable[[], mlvc.State] | None) -> None:
    """The state database parses go to (opened on first use); None: parse every time.

    `Repo` names its own when it opens, so every parse of a command shares it.
    """
    global _default_state
    _default_state = state


def _state() -> mlvc.State | None:
    if _default_state is None:
        return None
    try:
        return _default_state()
    except (mlvc.exceptions.MlvcError, OSError):
        return None  # no usable database: parse every time


def load_yaml(text: str, origin: Path | str) -> Any:
    """What `yamlio.loads(text, origin)` returns, from the state when it was seen before."""
    raw = text.encode("utf-8", "surrogatepass")
    db = _state()
    hit = _lookup(db, _YAML_KIND, raw)
    if hit is not None:
        return json.loads(hit)
    from mlvc import yamlio

    data = yamlio.loads(text, origin)
    # Lock files are written back from what was read: aliases must stay shared.
    if db is not None and _keeps(data) and not _shares(data, set()):
        _record(db, _YAML_KIND, raw, json.dumps(data, ensure_ascii=False))
    return data


def load_yaml_marked(text: str, origin: Path | str) -> tuple[Any, Marks]:
    """What `yamlio.loads_marked(text, origin)` returns, from the state when seen before.

    The marks are stored as a list in depth-first order of the containers, and
    laid back onto the decoded data in the same order.
    """
    raw = text.encode("utf-8", "surrogatepass")
    db = _state()
    hit = _lookup(db, _MARKED_KIND, raw)
    if hit is not None:
        stored = json.loads(hit)
        return stored["data"], _unflatten_marks(stored["data"], stored["marks"])
    from mlvc import yamlio

    data, marks = yamlio.loads_marked(text, origin)
    if db is not None and _keeps(data):
        flat = _flatten_marks(data, marks)
        if flat is not None:
            payload = {"data": data, "marks": flat}
            _record(db, _MARKED_KIND, raw, json.dumps(payload, ensure_ascii=False))
    return data, marks


def _lookup(db: mlvc.State | None, kind: str, raw: bytes) -> str | None:
    if db is None:
        return None
    try:
        return db.parsed(kind, raw)
    except mlvc.exceptions.StateError:
        return None


def _record(db: mlvc.State, kind: str, raw: bytes, encoded: str) -> None:
    # A cache: a read-only or busy database only costs the next parse.
    with contextlib.suppress(mlvc.exceptions.StateError, OSError):
        db.record_parsed(kind, raw, encoded)


def _keeps(data: Any) -> bool:
    """Whether JSON gives `data` back unchanged: not dates, non-string keys or NaN."""
    try:
        decoded = json.loads(json.dumps(data, allow_nan=False))
    except (TypeError, ValueError):
        return False
    return bool(decoded == data) and _same_types(decoded, data)


def _shares(data: Any, seen: set[int]) -> bool:
    """Whether a dict or list is reached twice (YAML aliases): JSON would part them,
    and DVC's writer, given them shared, writes the anchors back."""
    if isinstance(data, dict | list):
        if id(data) in seen:
            return True
        seen.add(id(data))
        return any(_shares(v, seen) for v in (data.values() if isinstance(data, dict) else data))
    return False


def _same_types(a: Any, b: Any) -> bool:
    """Equal values of equal types all the way down (`1 == 1.0 == True` in Python)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return all(_same_types(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return all(_same_types(x, y) for x, y in zip(a, b, strict=True))
    return True


# One entry per container, depth first: [line, column, [[line, column] per key or item]].
_FlatMark = list[Any]


def _flatten_marks(data: Any, marks: Marks) -> list[_FlatMark] | None:
    out: list[_FlatMark] = []
    seen: set[int] = set()

    def visit(node: Any) -> bool:
        if not isinstance(node, dict | list):
            return True
        if id(node) in seen:
            return False  # shared through an alias: JSON would split it in two
        seen.add(id(node))
        entry = marks.table.get(id(node))
        if entry is None:
            return False
        (line, col), inner = entry
        keys = list(node) if isinstance(node, dict) else range(len(node))
        if any(k not in inner for k in keys):
            return False
        out.append([line, col, [list(inner[k]) for k in keys]])
        children = node.values() if isinstance(node, dict) else node
        return all(visit(child) for child in children)

    return out if visit(data) else None


def _unflatten_marks(data: Any, flat: list[_FlatMark]) -> Marks:
    marks = Marks()
    entries = iter(flat)

    def visit(node: Any) -> None:
        if not isinstance(node, dict | list):
            return
        line, col, inner = next(entries)
        keys = list(node) if isinstance(node, dict) else range(len(node))
        marks.table[id(node)] = (
            (line, col),
            {k: (m[0], m[1]) for k, m in zip(keys, inner, strict=True)},
        )
        for child in node.values() if isinstance(node, dict) else node:
            visit(child)

    visit(data)
    return marks
