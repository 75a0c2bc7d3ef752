"""What each remote was last seen to hold, for `data status --no-remote-refresh`.

DVC keeps such an index in its site cache; mlvc keeps its own, one file of object
ids per remote under `.dvc/tmp/mlvc/remotes/`. Every command that asks a remote
or moves objects to or from it (`push`, `fetch`, `pull`, `status -c`, `data status
--not-in-remote`) records what it learned; `gc -c`, which deletes on remotes
without asking them object by object, forgets everything. An id never seen counts
as absent, as in DVC.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable
from pathlib import Path

from mlvc.fsutil import atomic_write_text


class KnownObjects:
    """The ids each remote was last seen to hold, kept between commands."""

    def __init__(self, tmp_dir: Path) -> None:
        self._dir = tmp_dir / "mlvc" / "remotes"

    def _file(self, remote: str) -> Path:
        # Remote names may hold any character; a digest makes a safe file name.
        return self._dir / hashlib.sha256(remote.encode("utf-8")).hexdigest()[:32]

    def present(self, remote: str) -> set[str]:
        """Ids `remote` held when last seen (none when it was never seen)."""
        try:
            text = self._file(remote).read_text(encoding="ascii")
        except (FileNotFoundError, UnicodeDecodeError):
            return set()
        return set(text.split())

    def learn(self, remote: str, present: Iterable[str], absent: Iterable[str] = ()) -> None:
        """Records ids just found on `remote` (or put there), and ids found missing."""
        found, gone = set(present), set(absent)
        if not found and not gone:
            return
        known = self.present(remote)
        updated = (known | found) - gone
        if updated == known:
            return
        self._dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self._file(remote), "".join(f"{i}\n" for i in sorted(updated)))

    def forget_all(self) -> None:
        """Forgets every remote (after objects were deleted on some)."""
        shutil.rmtree(self._dir, ignore_errors=True)
