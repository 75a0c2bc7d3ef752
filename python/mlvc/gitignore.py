"""The `.gitignore` entries DVC writes next to cached outputs."""

from __future__ import annotations

import bisect
import os
import re
import shlex
import subprocess
from pathlib import Path

from mlvc._core import MlvcError
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


class IgnoreBatch:
    """Entries for many outputs, each `.gitignore` rewritten once per `flush`.

    A pipeline of a thousand quick stages would otherwise rewrite the same file
    a thousand times: each rename also frees an inode, which makes the files
    created next slower on ext4. `add` says at once whether the file changes.
    """

    def __init__(self) -> None:
        self._known: dict[Path, set[str]] = {}  # lines each file has, or will have
        self._pending: dict[Path, list[str]] = {}

    def add(self, output: Path) -> Path | None:
        """Queues the entry for `output`; returns its `.gitignore` if that changes."""
        gi = output.parent / ".gitignore"
        known = self._known.get(gi)
        if known is None:
            try:
                known = set(gi.read_text(encoding="utf-8").splitlines())
            except FileNotFoundError:
                known = set()
            self._known[gi] = known
        line = entry_for(output.name)
        if line in known:
            return None
        known.add(line)
        self._pending.setdefault(gi, []).append(line)
        return gi

    def flush(self) -> None:
        """Writes the queued entries (merged into each file as it is now)."""
        while self._pending:
            gi, lines = next(iter(self._pending.items()))
            try:
                text = gi.read_text(encoding="utf-8")
            except FileNotFoundError:
                text = ""
            present = set(text.splitlines())
            new = [ln for ln in dict.fromkeys(lines) if ln not in present]
            if new:
                if text and not text.endswith("\n"):
                    text += "\n"
                atomic_write_text(gi, text + "".join(ln + "\n" for ln in new))
            del self._pending[gi]


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


class GitTrackedOutputError(MlvcError):
    """A cached output that git tracks: DVC refuses to add, commit or record it."""

    exit_code = 1  # DVC-compat: `dvc add` and `dvc commit` fail with 1

    def __init__(
        self, root: Path, rel: str, *, prefix: str = "", exit_code: int | None = None
    ) -> None:
        super().__init__(f"{prefix}output `{rel}` is already tracked by git")
        # The command in the hint must work from where the user is.
        shown = shlex.quote(os.path.relpath(root / rel))
        self.hint = f"stop tracking it in git first: `git rm -r --cached {shown}`, then commit"
        if exit_code is not None:
            self.exit_code = exit_code


class GitIndex:
    """The paths in git's index, read once (`git ls-files`) when first asked.

    DVC-compat: DVC checks the index, so a path staged but not yet committed counts.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: list[str] | None = None

    def _load(self) -> list[str]:
        if self._files is None:
            listed = subprocess.run(
                ["git", "ls-files", "-z", "--cached", "--full-name"],
                cwd=self.root,
                capture_output=True,
                check=True,
            ).stdout.decode("utf-8", "surrogateescape")
            self._files = sorted(f for f in listed.split("\0") if f)
        return self._files

    def holds(self, rel: str) -> bool:
        """Whether git tracks `rel` (repository-relative), or any file below it."""
        files = self._load()
        i = bisect.bisect_left(files, rel)
        if i < len(files) and files[i] == rel:
            return True
        below = rel + "/"
        j = bisect.bisect_left(files, below)
        return j < len(files) and files[j].startswith(below)


def git_ignores(root: Path, path: Path) -> bool:
    """Whether git's ignore rules match `path` (in the work tree at or above `root`).

    Only the patterns count (`--no-index`), as for DVC's `scm.is_ignored`; a
    failure to ask git (no repository) is taken as "not ignored".
    """
    r = subprocess.run(
        ["git", "check-ignore", "-q", "--no-index", "--", str(path)],
        cwd=root,
        capture_output=True,
        check=False,
    )
    return r.returncode == 0
