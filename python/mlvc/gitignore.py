"""The `.gitignore` entries DVC writes next to cached outputs."""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Iterable
from pathlib import Path

from mlvc._core import MlvcError
from mlvc.fsutil import atomic_write_text

# DVC-compat: these characters are backslash-escaped in entries.
_SPECIAL = re.compile(r"([\\\[\]!*#?])")


def entry_for(name: str) -> str:
    """The line that ignores `name` in its own directory: `/name`, escaped."""
    return "/" + _SPECIAL.sub(r"\\\1", name)


class GitIgnores:
    """Whether git's ignore rules already match paths, asked of git in batches.

    DVC-compat: DVC writes no entry for an output git already ignores (`*.csv`,
    an ignored parent directory), and neither must mlvc: a `.gitignore` inside
    an ignored directory could not even be staged.
    """

    def __init__(self, root: Path, likely: Iterable[Path] = ()) -> None:
        self._root = root
        self._known: dict[Path, bool] = {}
        # Asked about with the first path asked for: one git run for a whole pipeline.
        self._likely = likely

    def prefetch(self, paths: Iterable[Path]) -> None:
        """Asks git about every path not asked before, in one `git check-ignore`."""
        todo = list(dict.fromkeys(p for p in paths if p not in self._known))
        if not todo:
            return
        names = [os.path.relpath(p, self._root) for p in todo]
        import subprocess

        r = subprocess.run(
            ["git", "check-ignore", "--no-index", "-z", "--stdin"],
            cwd=self._root,
            input=b"".join(os.fsencode(n) + b"\0" for n in names),
            capture_output=True,
            check=False,
        )
        # Exit 1: none is ignored; 128: no work tree (nothing is ignored then).
        hits = set(r.stdout.split(b"\0")) if r.returncode == 0 else set()
        for path, name in zip(todo, names, strict=True):
            self._known[path] = os.fsencode(name) in hits

    def ignores(self, path: Path) -> bool:
        if path not in self._known:
            likely, self._likely = self._likely, ()
            self.prefetch([path, *likely])
        return self._known[path]

    def ask_now(self) -> None:
        """Asks git about the likely paths now, if not done yet (before a command
        runs, so that recording it after it ends starts no process)."""
        likely, self._likely = self._likely, ()
        self.prefetch(likely)


def add_entry(output: Path, ignores: GitIgnores | None = None) -> Path | None:
    """Ignores `output` in the `.gitignore` of its directory; returns the file if changed.

    With `ignores`, nothing is written for an output git already ignores.
    """
    gi = output.parent / ".gitignore"
    line = entry_for(output.name)
    try:
        text = gi.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    if line in text.splitlines() or (ignores is not None and ignores.ignores(output)):
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

    def __init__(self, ignores: GitIgnores | None = None) -> None:
        self._known: dict[Path, set[str]] = {}  # lines each file has, or will have
        self._pending: dict[Path, list[str]] = {}
        # Outputs git already ignores get no entry (see `GitIgnores`).
        self.ignores = ignores
        # Outputs whose entry this batch added, for `undo`.
        self.added: list[Path] = []

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
        if line in known or (self.ignores is not None and self.ignores.ignores(output)):
            return None
        known.add(line)
        self._pending.setdefault(gi, []).append(line)
        self.added.append(output)
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

    def undo(self) -> None:
        """Drops the entries this batch added (written or not).

        DVC-compat: a command that fails takes back the entries it added, by
        `remove_entry`'s rule (so an escaped entry stays, as with DVC).
        """
        self.flush()
        self._known.clear()
        added, self.added = self.added, []
        for output in added:
            remove_entry(output)


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
        import shlex

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
            import subprocess

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
    import subprocess

    r = subprocess.run(
        ["git", "check-ignore", "-q", "--no-index", "--", str(path)],
        cwd=root,
        capture_output=True,
        check=False,
    )
    return r.returncode == 0
