"""A remote on a local or mounted filesystem: the cache layout, moved by `Cache.transfer`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import mlvc
from mlvc.remote.base import Progress, TransferResult


class LocalRemote:
    """A directory laid out like a DVC 3 cache (`files/md5/<2>/<30>[.dir]`).

    DVC-compat: a local remote has exactly the cache's layout and writes objects 0444.
    The core lists each object directory once per call rather than checking objects
    one by one, and clears temp files that killed transfers left there (objects only
    ever appear by rename, so such a file is never taken for data).
    """

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.url = url
        # The core's cache type reads and writes this layout; it creates nothing until used.
        self._store = mlvc.Cache(Path(url))

    def exists_many(self, ids: Iterable[str]) -> set[str]:
        """The subset of `ids` present under the remote directory."""
        return set(self._store.contains_many(sorted(set(ids))))

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
        copied, skipped, missing = cache.transfer(
            self._store, sorted(set(ids)), jobs=jobs, progress=progress
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
        copied, skipped, missing = self._store.transfer(
            cache, sorted(set(ids)), jobs=jobs, progress=progress
        )
        return TransferResult(list(copied), skipped, list(missing))

    def remove(self, ids: Iterable[str]) -> int:
        """Deletes objects from the remote directory."""
        return sum(1 for i in ids if self._store.remove(i))
