"""Small YAML files parsed once: their parses are kept in the state database.

`status` on an unchanged repository reads every `.dvc` file; with their parses
remembered (keyed by the bytes themselves, so an edit is always seen), it never
imports the YAML parser, a sizeable part of its start-up.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import mlvc

# Names the parser and its rules: a change in how YAML is read must change it.
_YAML_KIND = "yaml1.2-safe/1"


def load_yaml(text: str, origin: Path | str, state: mlvc.State | None) -> Any:
    """What `yamlio.loads(text, origin)` returns, from `state` when it was seen before."""
    raw = text.encode("utf-8", "surrogatepass")
    if state is not None:
        try:
            hit = state.parsed(_YAML_KIND, raw)
        except mlvc.exceptions.StateError:
            hit = None
        if hit is not None:
            return json.loads(hit)
    from mlvc import yamlio

    data = yamlio.loads(text, origin)
    if state is not None:
        _remember(state, raw, data)
    return data


def _remember(state: mlvc.State, raw: bytes, data: Any) -> None:
    # Only parses that JSON gives back unchanged: not dates, non-string keys or NaN.
    try:
        encoded = json.dumps(data, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return
    decoded = json.loads(encoded)
    if decoded != data or not _same_types(decoded, data):
        return
    # A cache: a read-only or busy database only costs the next parse.
    with contextlib.suppress(mlvc.exceptions.StateError, OSError):
        state.record_parsed(_YAML_KIND, raw, encoded)


def _same_types(a: Any, b: Any) -> bool:
    """Equal values of equal types all the way down (`1 == 1.0 == True` in Python)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return all(_same_types(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return all(_same_types(x, y) for x, y in zip(a, b, strict=True))
    return True
