"""Object ids and the stores that hold them, in DVC 3's layout and in DVC 2's.

An object id is an md5 name (`<md5>` or `<md5>.dir`) of DVC 3's layout
(`<root>/files/md5/<2>/<30>`), or the same prefixed with `legacy:` for an
object DVC 2 made: its name is an md5-dos2unix hash and it lives in the old
layout (`<root>/<2>/<30>`), in a cache and on a remote alike. A legacy `.dir`
object lists legacy file hashes, so its files are legacy objects too.
`ObjectStore.locate` is the one place that maps an id to where it is stored.

DVC-compat: DVC 3 keeps DVC 2 outputs (those recorded without `hash: md5`) in
its "legacy" object databases at the roots of the cache and of each remote.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path

import mlvc
from mlvc.progress import Progress

# DVC 2 hashes (entries without `hash: md5`) are md5-dos2unix; their ids carry this.
LEGACY_PREFIX = "legacy:"
LEGACY_ALGORITHM = "md5-dos2unix"


def object_id(md5: str, hash_name: str | None) -> str:
    """The id of an object recorded as `md5` with `hash_name` (None: a DVC 2 record)."""
    return md5 if hash_name == "md5" else LEGACY_PREFIX + md5


def is_legacy(oid: str) -> bool:
    return oid.startswith(LEGACY_PREFIX)


def bare(oid: str) -> str:
    """The object's md5 name, without a legacy mark."""
    return oid.removeprefix(LEGACY_PREFIX)


def _remove_view(view: Path) -> None:
    # The view is one symlink in two directories: never walk through the link.
    link = view / "files" / "md5"
    try:
        if link.is_symlink():
            link.unlink()
        (view / "files").rmdir()
        view.rmdir()
    except OSError:
        pass


def _legacy_view(root: Path, view: Path | None, *, shared_group: bool) -> mlvc.Cache:
    """A core cache whose (DVC 3) object paths are `root`'s DVC 2 object paths.

    The core knows only the DVC 3 layout, `<cache>/files/md5/<2>/<30>`; the view is a
    directory whose `files/md5` is a symlink to `root`, so every core operation
    (contains, transfer, checkout, manifests) works on the old layout unchanged.
    `view` None makes a temporary one, removed when the process ends.
    """
    target = root.absolute()
    if view is None:
        import tempfile

        view = Path(tempfile.mkdtemp(prefix="mlvc-legacy-"))
        atexit.register(_remove_view, view)
    link = view / "files" / "md5"
    if not (link.is_symlink() and os.readlink(link) == str(target)):
        link.parent.mkdir(parents=True, exist_ok=True)
        tmp = link.with_name(f".md5.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(target, target_is_directory=True)
        tmp.replace(link)
    return mlvc.Cache(view, shared_group=shared_group)


class ObjectStore:
    """A cache or a local remote, holding objects of both layouts, addressed by id."""

    def __init__(
        self, current: mlvc.Cache, *, view: Path | None = None, shared_group: bool = False
    ) -> None:
        self.current = current
        self.root = Path(current.root)
        self._view = view
        self._shared_group = shared_group

    @cached_property
    def legacy(self) -> mlvc.Cache:
        """The core cache over the DVC 2 layout (see `_legacy_view`)."""
        return _legacy_view(self.root, self._view, shared_group=self._shared_group)

    def locate(self, oid: str) -> tuple[mlvc.Cache, str]:
        """The core cache that holds `oid`, and the object's name there."""
        if is_legacy(oid):
            return self.legacy, bare(oid)
        return self.current, oid

    def object_path(self, oid: str) -> str:
        cache, name = self.locate(oid)
        if cache is self.legacy:
            return self.current.legacy_object_path(name)
        return cache.object_path(name)

    def contains(self, oid: str) -> bool:
        cache, name = self.locate(oid)
        return cache.contains(name)

    def contains_many(self, oids: Iterable[str], jobs: int = 0) -> list[str]:
        """The ids of `oids` present (each layout listed once per object directory)."""
        found: list[str] = []
        for prefix, cache, names in self._split(oids):
            if names:
                found += [prefix + h for h in cache.contains_many(names, jobs=jobs)]
        return found

    def read_manifest(self, oid: str) -> list[tuple[str, str]]:
        """A `.dir` object's `(relpath, id)` entries: a legacy tree lists legacy ids."""
        cache, name = self.locate(oid)
        prefix = LEGACY_PREFIX if is_legacy(oid) else ""
        return [(rel, prefix + h) for rel, h in cache.read_manifest(name)]

    def tree_missing(self, oid: str, jobs: int = 0) -> int:
        cache, name = self.locate(oid)
        return cache.tree_missing(name, jobs=jobs)

    def remove(self, oid: str) -> bool:
        cache, name = self.locate(oid)
        return cache.remove(name)

    def transfer(
        self,
        dest: ObjectStore,
        oids: Iterable[str],
        jobs: int = 0,
        progress: Progress | None = None,
    ) -> tuple[list[str], int, list[str]]:
        """Copies objects to the same layout of `dest`: `(copied, skipped, missing)` ids."""
        copied: list[str] = []
        skipped = 0
        missing: list[str] = []
        for prefix, cache, names in self._split(oids):
            if not names:
                continue
            target = dest.current
            if prefix:
                # The view's link must lead somewhere before objects go through it.
                dest.root.mkdir(parents=True, exist_ok=True)
                target = dest.legacy
            c, s, m = cache.transfer(target, names, jobs=jobs, progress=progress)
            copied += [prefix + h for h in c]
            skipped += s
            missing += [prefix + h for h in m]
        return copied, skipped, missing

    def _split(self, oids: Iterable[str]) -> list[tuple[str, mlvc.Cache, Sequence[str]]]:
        """`(prefix, core cache, names)` for each layout, names sorted and unique."""
        ids = set(oids)
        current = sorted(i for i in ids if not is_legacy(i))
        legacy = sorted(bare(i) for i in ids if is_legacy(i))
        parts: list[tuple[str, mlvc.Cache, Sequence[str]]] = [("", self.current, current)]
        if legacy:
            parts.append((LEGACY_PREFIX, self.legacy, legacy))
        return parts
