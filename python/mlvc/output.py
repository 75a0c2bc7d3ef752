"""Outputs: the data a `.dvc` file (or a stage) tracks, and their hash info."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from mlvc.exceptions import MlvcError

# DVC-compat: key order of an out entry in a `.dvc` file.
DVCFILE_KEY_ORDER = (
    "md5",
    "size",
    "nfiles",
    "isexec",
    "hash",
    "path",
    "desc",
    "type",
    "labels",
    "meta",
    "cache",
    "metric",
    "plot",
    "persist",
    "remote",
    "push",
    "files",
)
_HEX = set("0123456789abcdef")


class InvalidDvcFileError(MlvcError):
    """A `.dvc` file or `dvc.yaml` entry that does not follow the format."""

    exit_code = 1


class UnsafePathError(InvalidDvcFileError):
    """A recorded path that would reach outside the repository: refused by every
    command with exit 1, whatever DVC does with the file."""


def is_md5_name(value: str) -> bool:
    hexpart = value.removesuffix(".dir")
    return len(hexpart) == 32 and set(hexpart) <= _HEX


def check_relative_path(path: str, origin: str, *, what: str = "output path") -> None:
    """Refuses paths that could write outside the repository (from a malicious commit)."""
    p = PurePosixPath(path)
    if not path or p.is_absolute() or ".." in p.parts:
        raise UnsafePathError(f"`{origin}`: {what} `{path}` is absolute or leaves the repository")


# DVC-compat: the keys DVC's schema allows in an output of a `.dvc` file (plus the
# `metric` and `plot` flags older files carry).
OUT_KEYS = {
    "path", "md5", "checksum", "etag", "hash", "size", "nfiles", "isexec", "version_id",
    "persist", "cloud", "desc", "type", "labels", "meta", "cache", "remote", "push",
    "files", "fs_config", "metric", "plot",
}  # fmt: skip


@dataclass
class Output:
    """One tracked path with the hash recorded for it."""

    path: str
    md5: str | None = None
    size: int | None = None
    nfiles: int | None = None
    isexec: bool = False
    # "md5" for DVC 3.x outputs; None marks DVC 2.x (md5-dos2unix) hashes.
    hash_name: str | None = "md5"
    cache: bool = True
    push: bool = True
    persist: bool = False
    remote: str | None = None
    # The entry as read, so unknown keys and their order survive a rewrite.
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def oid(self) -> str | None:
        """The id of the recorded object (`mlvc.objects`): DVC 2 records are legacy ones."""
        from mlvc.objects import object_id

        return None if self.md5 is None else object_id(self.md5, self.hash_name)

    @property
    def is_legacy(self) -> bool:
        """Whether the record is DVC 2's (md5-dos2unix, no `hash: md5`)."""
        return self.md5 is not None and self.hash_name != "md5"

    @property
    def is_dir(self) -> bool:
        return bool(self.md5 and self.md5.endswith(".dir"))

    @classmethod
    def from_dict(cls, d: Any, origin: str) -> Output:
        if not isinstance(d, dict) or not isinstance(d.get("path"), str):
            raise InvalidDvcFileError(f"`{origin}`: each entry of `outs` needs a string `path`")
        check_relative_path(d["path"], origin)
        unknown = sorted(set(d) - OUT_KEYS, key=str)
        if unknown:
            # DVC-compat: DVC's schema refuses the file (`status` exits 1).
            raise InvalidDvcFileError(
                f"`{origin}`: unknown key `{unknown[0]}` in the output `{d['path']}`"
                f" (allowed: {', '.join(sorted(OUT_KEYS))})"
            )
        md5 = d.get("md5")
        if md5 is not None and (not isinstance(md5, str) or not is_md5_name(md5)):
            raise InvalidDvcFileError(f"`{origin}`: `{md5}` is not an md5 hash")
        for key in ("size", "nfiles"):
            if key in d and d[key] is not None and not isinstance(d[key], int):
                raise InvalidDvcFileError(f"`{origin}`: `{key}` must be an integer")
        # DVC-compat: DVC's output schema types these flags strictly (`cache: 0` is refused).
        for key in ("isexec", "cache", "push", "persist"):
            if key in d and not isinstance(d[key], bool):
                raise InvalidDvcFileError(
                    f"`{origin}`: `{key}` of the output `{d['path']}` must be true or false,"
                    f" not `{d[key]!r}`"
                )
        if "remote" in d and not isinstance(d["remote"], str):
            raise InvalidDvcFileError(
                f"`{origin}`: `remote` of the output `{d['path']}` must be a remote's name"
            )
        hash_name = d.get("hash")
        if hash_name not in (None, "md5"):
            raise InvalidDvcFileError(f"`{origin}`: unsupported hash `{hash_name}`")
        return cls(
            path=d["path"],
            md5=md5,
            size=d.get("size"),
            nfiles=d.get("nfiles"),
            isexec=bool(d.get("isexec", False)),
            hash_name=hash_name,
            cache=bool(d.get("cache", True)),
            push=bool(d.get("push", True)),
            persist=bool(d.get("persist", False)),
            remote=d.get("remote"),
            raw=dict(d),
        )

    def to_dict(self) -> dict[str, Any]:
        """The entry for a `.dvc` file: existing keys keep their order, new ones follow DVC's."""
        values: dict[str, Any] = {
            "md5": self.md5,
            "size": self.size,
            "nfiles": self.nfiles,
            "isexec": True if self.isexec else None,
            "hash": self.hash_name,
            "path": self.path,
            "cache": False if not self.cache else None,
            "persist": True if self.persist else None,
            "remote": self.remote,
            "push": False if not self.push else None,
        }
        out: dict[str, Any] = {}
        for key, old in self.raw.items():
            if key in values:
                if values[key] is not None:
                    out[key] = values[key]
            else:
                out[key] = old
        for key in DVCFILE_KEY_ORDER:
            if key not in out and values.get(key) is not None:
                out[key] = values[key]
        return out


@dataclass(frozen=True)
class DataInfo:
    """What a `.dvc` file or a lock entry records of a file's or a directory's data."""

    md5: str
    size: int
    nfiles: int | None  # a directory's file count; None for a file
    isexec: bool

    @property
    def info(self) -> tuple[str, int, int | None, bool]:
        return self.md5, self.size, self.nfiles, self.isexec

    def output(self, path: str) -> Output:
        """The output at `path` (as a `.dvc` file names it) holding this data."""
        return Output(
            path=path, md5=self.md5, size=self.size, nfiles=self.nfiles, isexec=self.isexec
        )
