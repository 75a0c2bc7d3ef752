"""A remote on a local or mounted filesystem: the cache layout, moved by `Cache.transfer`."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import mlvc
from mlvc.remote.base import Progress, TransferResult

# The core names in-flight objects `.<name>.<pid>.<n>.mlvc-tmp` beside their final path.
_TEMP = re.compile(r"^\.[0-9a-f]{30}(?:\.dir)?\.(\d+)\.\d+\.mlvc-tmp$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_temps(root: Path, ids: Iterable[str]) -> int:
    """Removes temp files a killed transfer left in the object dirs `ids` will use.

    Objects only ever appear by rename, so a leftover temp file is never mistaken
    for data; this just keeps the store tidy after a SIGKILL. A temp file whose pid
    is alive on this host belongs to a running transfer and is kept. (On a shared
    mount another host's pid may look dead here: deleting its temp file only makes
    that upload fail, and its rerun completes.)
    """
    removed = 0
    for prefix in sorted({i[:2] for i in ids}):
        folder = root / "files" / "md5" / prefix
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            continue
        for entry in entries:
            m = _TEMP.match(entry.name)
            if m and not _alive(int(m.group(1))):
                try:
                    os.unlink(entry.path)
                    removed += 1
                except FileNotFoundError:
                    pass
    return removed


class LocalRemote:
    """A directory laid out like a DVC 3 cache (`files/md5/<2>/<30>[.dir]`).

    DVC-compat: a local remote has exactly the cache's layout and writes objects 0444.
    """

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.url = url
        # The core's cache type reads and writes this layout; it creates nothing until used.
        self._store = mlvc.Cache(Path(url))

    def exists_many(self, ids: Iterable[str]) -> set[str]:
        """The subset of `ids` present under the remote directory."""
        return {i for i in ids if self._store.contains(i)}

    def list_ids(self) -> set[str]:
        """Every object id under the remote directory."""
        return set(self._store.list())

    def upload(
        self,
        cache: mlvc.Cache,
        ids: Iterable[str],
        *,
        jobs: int = 0,
        progress: Progress | None = None,
    ) -> TransferResult:
        """Copies objects from `cache` to the remote (temp file + rename, so reruns resume)."""
        ids = set(ids)
        sweep_stale_temps(Path(self.url), ids)
        copied, skipped, missing = cache.transfer(
            self.url, sorted(set(ids)), jobs=jobs, progress=progress
        )
        return TransferResult(list(copied), skipped, list(missing))

    def download(
        self,
        cache: mlvc.Cache,
        ids: Iterable[str],
        *,
        jobs: int = 0,
        progress: Progress | None = None,
    ) -> TransferResult:
        """Copies objects from the remote into `cache`."""
        ids = set(ids)
        sweep_stale_temps(Path(cache.root), ids)
        copied, skipped, missing = self._store.transfer(
            cache.root, sorted(set(ids)), jobs=jobs, progress=progress
        )
        return TransferResult(list(copied), skipped, list(missing))

    def remove(self, ids: Iterable[str]) -> int:
        """Deletes objects from the remote directory."""
        return sum(1 for i in ids if self._store.remove(i))
