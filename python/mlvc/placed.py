"""The outputs mlvc placed in the workspace, and the object each then held.

DVC-compat: `checkout` and `pull` without targets remove an output that no `.dvc`
file or stage tracks any more (after `git checkout` of a commit without it) when
it still holds what was placed there, so it neither lingers as untracked data nor
gets committed to git by mistake. DVC keeps its own list of what it placed (a
database under its site cache directory, `repo/<hash>/links`); this is mlvc's, in
`.dvc/tmp/mlvc/placed.json`. Each tool removes only what it placed itself.

What a command places is remembered in memory and written once when the process
ends: a lost record only means an output that is not removed for you.
"""

from __future__ import annotations

import atexit
import json
import os
from pathlib import Path

from mlvc.fsutil import atomic_write_text

FILE_NAME = "placed.json"

# Per repository (its `.dvc/tmp/mlvc`): workspace path -> object id, not yet written.
_pending: dict[Path, dict[str, str]] = {}


def _file(tmp_dir: Path) -> Path:
    return tmp_dir / "mlvc" / FILE_NAME


def load(tmp_dir: Path) -> dict[str, str]:
    """What was placed, by path relative to the repository's root (empty if unknown)."""
    try:
        data = json.loads(_file(tmp_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def remember(tmp_dir: Path, rel: str, oid: str) -> None:
    """Notes that the output at `rel` was placed holding object `oid`."""
    if not _pending:
        atexit.register(flush)
    _pending.setdefault(tmp_dir, {})[rel] = oid


def forget(tmp_dir: Path, rels: list[str]) -> None:
    """Drops the records of `rels` now (they were removed, or are gone)."""
    flush()
    entries = load(tmp_dir)
    if any(rel in entries for rel in rels):
        for rel in rels:
            entries.pop(rel, None)
        _save(tmp_dir, entries)


def flush() -> None:
    """Writes what this process placed into each repository's record."""
    while _pending:
        tmp_dir, placed = _pending.popitem()
        entries = load(tmp_dir)
        if any(entries.get(rel) != oid for rel, oid in placed.items()):
            _save(tmp_dir, {**entries, **placed})


def _save(tmp_dir: Path, entries: dict[str, str]) -> None:
    path = _file(tmp_dir)
    try:
        os.makedirs(path.parent, exist_ok=True)
        atomic_write_text(path, json.dumps(entries, sort_keys=True) + "\n")
    except OSError:
        pass  # a read-only repository: nothing will be removed for you
