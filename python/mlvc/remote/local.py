"""A remote on a local or mounted filesystem: the cache layout, moved by `Cache.transfer`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import mlvc
from mlvc.fsutil import atomic_write_bytes
from mlvc.objects import ObjectStore, is_legacy
from mlvc.output import DataInfo
from mlvc.progress import Progress
from mlvc.remote.base import RUNS_DIR, TransferResult


def _copy_runs(src: Path, dst: Path) -> list[str]:
    """Copies every file under `src` to the same place under `dst`; returns their paths.

    DVC-compat: DVC copies every run-cache entry on each transfer (`force=True`) and
    counts each one; entries are small, and writing by rename keeps readers safe.
    """
    copied: list[str] = []
    for dirpath, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".mlvc-tmp"):
                continue  # an interrupted write, never an entry
            source = Path(dirpath) / name
            rel = source.relative_to(src)
            target = dst / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            # DVC-compat: run-cache entries are 0644 in caches and on remotes.
            atomic_write_bytes(target, source.read_bytes(), mode=0o644)
            copied.append(rel.as_posix())
    return copied


class LocalRemote:
    """A directory laid out like a DVC 3 cache (`files/md5/<2>/<30>[.dir]`).

    DVC-compat: a local remote has exactly the cache's layout and writes objects 0444.
    The core lists each object directory once per call rather than checking objects
    one by one, and clears temp files that killed transfers left there (objects only
    ever appear by rename, so such a file is never taken for data).
    """

    def __init__(
        self, name: str, url: str, *, shared_group: bool = False, verify: bool = False
    ) -> None:
        self.name = name
        self.url = url
        # DVC-compat: the remote's `verify`: downloaded objects are hashed again.
        self.verify = verify
        # The core's cache type reads and writes this layout; it creates nothing until
        # used. DVC-compat: DVC 2 objects live at the root, in the old layout; with the
        # remote's `shared = group`, new directories are group-writable, as in a cache.
        self._store = ObjectStore(
            mlvc.Cache(Path(url), shared_group=shared_group), shared_group=shared_group
        )

    def exists_many(self, ids: Iterable[str]) -> set[str]:
        """The subset of `ids` present under the remote directory."""
        return set(self._store.contains_many(ids))

    def list_ids(self) -> set[str]:
        """Every object id under the remote directory."""
        return set(self._store.current.list())

    def upload(
        self,
        cache: ObjectStore,
        ids: Iterable[str],
        *,
        jobs: int = 0,
        progress: Progress | None = None,
    ) -> TransferResult:
        """Copies objects from `cache` to the remote (temp file + rename, so reruns resume)."""
        copied, skipped, missing = cache.transfer(self._store, ids, jobs=jobs, progress=progress)
        return TransferResult(list(copied), skipped, list(missing))

    def download(
        self,
        cache: ObjectStore,
        ids: Iterable[str],
        *,
        jobs: int = 0,
        progress: Progress | None = None,
    ) -> TransferResult:
        """Copies objects from the remote into `cache`.

        With `verify`, each copied object is hashed again, and one whose content does
        not match its id is removed from `cache` (as DVC does) and reported corrupt.
        """
        copied, skipped, missing = self._store.transfer(cache, ids, jobs=jobs, progress=progress)
        corrupt: list[str] = []
        if self.verify:
            # A DVC 2 object's id is not the md5 of its bytes; those are left as they are.
            checkable = [oid for oid in copied if not is_legacy(oid)]
            corrupt = [oid for oid, _actual in cache.current.verify(checkable, jobs=jobs)]
            for oid in corrupt:
                cache.remove(oid)
        dropped = set(corrupt)
        kept = [oid for oid in copied if oid not in dropped]
        return TransferResult(kept, skipped, list(missing), corrupt)

    def remove(self, ids: Iterable[str]) -> int:
        """Deletes objects from the remote directory."""
        return sum(1 for i in ids if self._store.remove(i))

    def read_manifest(self, dir_id: str) -> list[tuple[str, str]] | None:
        """A `.dir` object's entries, read in place."""
        if not self._store.contains(dir_id):
            return None
        return list(self._store.read_manifest(dir_id))

    def store(
        self, path: Path, *, jobs: int = 0, progress: Callable[[int, int], object] | None = None
    ) -> DataInfo:
        """Writes `path`'s objects into the remote directory as into a cache (copies)."""
        if path.is_dir():
            tree = self._store.current.add_tree(path, mode="copy", jobs=jobs, progress=progress)
            return DataInfo(tree.hash, tree.size, tree.nfiles, False)
        fh = self._store.current.add_file(path, mode="copy")
        return DataInfo(fh.hash, fh.size, None, fh.isexec)

    def upload_runs(self, cache_dir: Path) -> list[str]:
        """Copies the run cache (`<cache>/runs`) to `<remote>/runs`."""
        return _copy_runs(cache_dir / RUNS_DIR, Path(self.url) / RUNS_DIR)

    def download_runs(self, cache_dir: Path) -> list[str]:
        """Copies `<remote>/runs` into the local run cache."""
        return _copy_runs(Path(self.url) / RUNS_DIR, cache_dir / RUNS_DIR)
