"""The `.gitignore` entries DVC writes next to cached outputs."""

from __future__ import annotations

import re
from pathlib import Path

from mlvc.fsutil import atomic_write_text

# DVC-compat: these characters are backslash-escaped in entries.
_SPECIAL = re.compile(r"([\\\[\]!*#?])")


def entry_for(name: str) -> str:
    """The line that ignores `name` in its own directory: `/name`, escaped."""
    return "/" + _SPECIAL.sub(r"\\\1", name)


def add_entry(output: Path) -> Path | None:
    """Ignores `output` in the `.gitignore` of its directory; returns the file if changed."""
    gi = output.parent / ".gitignore"
    line = entry_for(output.name)
    try:
        text = gi.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    if line in text.splitlines():
        return None
    if text and not text.endswith("\n"):
        text += "\n"
    atomic_write_text(gi, text + line + "\n")
    return gi


def remove_entry(output: Path) -> Path | None:
    """Drops the entry for `output`; deletes a `.gitignore` left empty.

    DVC-compat: only a line equal to the *unescaped* entry is removed.
    """
    gi = output.parent / ".gitignore"
    try:
        lines = gi.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    target = "/" + output.name
    kept = [ln for ln in lines if ln != target]
    if kept == lines:
        return None
    if not kept:
        gi.unlink()
    else:
        atomic_write_text(gi, "".join(ln + "\n" for ln in kept))
    return gi
