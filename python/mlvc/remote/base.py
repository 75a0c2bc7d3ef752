"""The storage-remote protocol: what push, fetch, pull and `status -c` need from a backend.

A backend works on content-addressed object ids (`<md5>` or `<md5>.dir`) only, so a
new one (S3, SSH, ...) plugs in by implementing these few calls; choosing which
objects to move stays in `mlvc.ops.transfer`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from mlvc.exceptions import MlvcError
from mlvc.output import DataInfo
from mlvc.progress import Progress

if TYPE_CHECKING:
    from mlvc.objects import ObjectStore


# DVC-compat: the run cache lives in `runs/` of both the cache and the remote.
RUNS_DIR = "runs"


@dataclass
class TransferResult:
    """What one upload or download did."""

    transferred: list[str] = field(default_factory=list)
    skipped: int = 0  # already present at the destination
    missing: list[str] = field(default_factory=list)  # absent at the source
    # Downloaded but not matching their ids (checked with the remote's `verify`): not kept.
    corrupt: list[str] = field(default_factory=list)


class RemoteError(MlvcError):
    """A remote that cannot be selected or used."""

    hint = "list the configured remotes with `mlvc remote list`"


class Remote(Protocol):
    """One configured storage remote."""

    name: str
    url: str

    def exists_many(self, ids: Iterable[str]) -> set[str]:
        """The subset of `ids` the remote holds."""
        ...

    def list_ids(self) -> set[str]:
        """Every object id the remote holds."""
        ...

    def upload(
        self,
        cache: ObjectStore,
        ids: Iterable[str],
        *,
        jobs: int = 0,
        progress: Progress | None = None,
    ) -> TransferResult:
        """Copies `ids` from the local cache; each object appears atomically."""
        ...

    def download(
        self,
        cache: ObjectStore,
        ids: Iterable[str],
        *,
        jobs: int = 0,
        progress: Progress | None = None,
    ) -> TransferResult:
        """Copies `ids` into the local cache; each object appears atomically."""
        ...

    def remove(self, ids: Iterable[str]) -> int:
        """Deletes `ids` from the remote; returns how many were there."""
        ...

    def read_manifest(self, dir_id: str) -> list[tuple[str, str]] | None:
        """The `(path, md5)` entries of the `.dir` object `dir_id`, read on the remote
        without copying it anywhere; None when the remote lacks it. Paths that leave
        the directory are refused as in the cache."""
        ...

    def store(
        self, path: Path, *, jobs: int = 0, progress: Callable[[int, int], object] | None = None
    ) -> DataInfo:
        """Hashes the file or directory at `path` and stores its objects (a directory's
        `.dir` object too) on the remote, each atomically, bypassing the local cache
        (`add --to-remote`)."""
        ...

    def upload_runs(self, cache_dir: Path) -> list[str]:
        """Copies the run cache under `cache_dir` to the remote; returns the entries copied."""
        ...

    def download_runs(self, cache_dir: Path) -> list[str]:
        """Copies the remote's run cache into `cache_dir`; returns the entries copied."""
        ...
