"""`.dvc` files: reading, validating and writing them byte-compatibly with DVC."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlvc.fsutil import atomic_write_text
from mlvc.output import InvalidDvcFileError, Output, check_relative_path

SUFFIX = ".dvc"
# Top-level keys DVC accepts in a `.dvc` file.
ALLOWED_KEYS = {"outs", "deps", "md5", "wdir", "frozen", "locked", "meta", "desc", "always_changed"}


@dataclass
class DvcFile:
    """One `.dvc` file and the outputs it tracks."""

    path: Path
    outs: list[Output]
    # Every top-level key as read, so a rewrite keeps what mlvc does not interpret.
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def wdir(self) -> Path:
        """Directory that out paths are relative to."""
        return self.path.parent / str(self.raw.get("wdir", "."))

    def out_path(self, out: Output) -> Path:
        return self.wdir / out.path

    @classmethod
    def load(cls, path: Path) -> DvcFile:
        """Reads a `.dvc` file (a parse seen before comes from the state database)."""
        return cls.loads(path.read_text(encoding="utf-8"), path)

    @classmethod
    def loads(cls, text: str, path: Path) -> DvcFile:
        """Parses `.dvc` text; `path` is where it lives (for relative out paths and errors)."""
        from mlvc.parsecache import load_yaml

        data = load_yaml(text, path)
        origin = str(path)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise InvalidDvcFileError(f"`{origin}`: expected a mapping at the top level")
        unknown = set(data) - ALLOWED_KEYS
        if unknown:
            raise InvalidDvcFileError(
                f"`{origin}`: unknown key `{sorted(unknown)[0]}`"
                f" (allowed: {', '.join(sorted(ALLOWED_KEYS))})"
            )
        outs_raw = data.get("outs") or []
        if not isinstance(outs_raw, list):
            raise InvalidDvcFileError(f"`{origin}`: `outs` must be a list")
        outs = [Output.from_dict(o, origin) for o in outs_raw]
        if "wdir" in data:
            # With `path` also free of `..`, every output stays below this file's
            # directory: a crafted `.dvc` file cannot reach outside the repository.
            check_relative_path(str(data["wdir"]), origin, what="wdir")
        return cls(path=path, outs=outs, raw=data)

    def dumps(self) -> str:
        from mlvc import yamlio

        data: dict[str, Any] = {}
        for key, value in self.raw.items():
            data[key] = [o.to_dict() for o in self.outs] if key == "outs" else value
        if "outs" not in data:
            data["outs"] = [o.to_dict() for o in self.outs]
        return yamlio.dumps(data)

    def save(self) -> None:
        atomic_write_text(self.path, self.dumps())


def dvcfile_for(target: Path) -> Path:
    """The `.dvc` file that tracks `target`: `<target>.dvc` beside it."""
    return target.with_name(target.name + SUFFIX)
