"""`dvc.lock`: what each stage's last run recorded, read and written as DVC does."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlvc import parsecache
from mlvc.exceptions import PipelineError
from mlvc.fsutil import atomic_write_text
from mlvc.objects import LEGACY_PREFIX
from mlvc.output import Output
from mlvc.yamldata import YamlError

LOCK_FILE = "dvc.lock"
SCHEMA = "2.0"
# DVC-compat: how the writer puts it (the version is a string, hence quoted).
_SCHEMA_LINE = "schema: '2.0'\n"


# (md5, size, nfiles or None for a file, isexec)
HashInfo = tuple[str, int, int | None, bool]


class LockFileError(PipelineError):
    """A `dvc.lock` that cannot be read."""


def lock_path_for(dvcfile: str) -> str:
    """The repository-relative `dvc.lock` beside a `dvc.yaml`."""
    parent = posixpath.dirname(dvcfile)
    return posixpath.join(parent, LOCK_FILE) if parent else LOCK_FILE


def hash_entry(path: str, info: HashInfo) -> dict[str, Any]:
    """A dep/out entry: DVC-compat key order `path, hash, md5, size, nfiles, isexec`."""
    md5, size, nfiles, isexec = info
    entry: dict[str, Any] = {"path": path, "hash": "md5", "md5": md5, "size": size}
    if md5.startswith(LEGACY_PREFIX):
        # DVC-compat: a 2.x entry DVC 3 keeps (content unchanged) is written as 2.x wrote it.
        entry = {"path": path, "md5": md5[len(LEGACY_PREFIX) :], "size": size}
    if nfiles is not None:
        entry["nfiles"] = nfiles
    if isexec:
        entry["isexec"] = True
    return entry


def plain(value: Any, copies: dict[int, Any] | None = None) -> Any:
    """`value` with tuples (from `.py` params) as lists, the way DVC's YAML writes them.

    With `copies` (shared by the calls for one params file), a container met
    again is given the copy made the first time. DVC-compat: DVC keeps the one
    value that two listed keys reach (`train` and `train.sub`), and its writer
    then gives it an anchor and an alias.
    """
    # The empty tuple is one object everywhere, and never anchored.
    memo = copies if isinstance(value, dict | list | tuple) and value != () else None
    if memo is not None:
        known = memo.get(id(value))
        if known is not None:
            return known
    if isinstance(value, tuple | list):
        out: Any = [plain(v, copies) for v in value]
    elif isinstance(value, dict):
        out = {k: plain(v, copies) for k, v in value.items()}
    else:
        return value
    if memo is not None:
        memo[id(value)] = out
    return out


def stage_entry(
    cmd: str | list[str],
    deps: list[tuple[str, HashInfo]],
    params: dict[str, dict[str, Any]],
    outs: list[tuple[str, HashInfo]],
) -> dict[str, Any]:
    """One stage's lock entry: `cmd, deps, params, outs`, empty ones left out.

    DVC-compat: deps and outs sorted by path as written; `params.yaml` first,
    then the other files by name; keys within a file sorted (values as they are).
    """
    entry: dict[str, Any] = {"cmd": list(cmd) if isinstance(cmd, list) else cmd}
    if deps:
        entry["deps"] = [hash_entry(p, i) for p, i in sorted(deps, key=lambda d: d[0])]
    if params:
        ordered: dict[str, Any] = {}
        names = sorted(params)
        if "params.yaml" in params:
            names.remove("params.yaml")
            names.insert(0, "params.yaml")
        for name in names:
            values = params[name]
            copies: dict[int, Any] = {}
            ordered[name] = {k: plain(values[k], copies) for k in sorted(values)}
        entry["params"] = ordered
    if outs:
        entry["outs"] = [hash_entry(p, i) for p, i in sorted(outs, key=lambda o: o[0])]
    return entry


@dataclass
class LockFile:
    """One `dvc.lock`; `stages` keeps the file's order (new stages are appended)."""

    path: Path
    data: dict[str, Any] = field(default_factory=dict)
    exists: bool = False
    _blocks: dict[str, tuple[Any, int, str, int]] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: Path, shown: str | None = None) -> LockFile:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path)
        except UnicodeDecodeError as exc:
            raise LockFileError(
                f"`{shown or path}` is not valid UTF-8", "fix or delete the lock file, then rerun"
            ) from exc
        return cls.loads(text, shown or str(path), path)

    @classmethod
    def loads(cls, text: str, name: str, path: Path | None = None) -> LockFile:
        """Parses lock file text; errors name the file as `name`."""
        path = path if path is not None else Path(name)
        try:
            data = parsecache.load_yaml(text, name)
        except YamlError as exc:
            raise LockFileError(str(exc), "fix or delete the lock file, then rerun") from exc
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise LockFileError(f"`{name}`: expected a mapping at the top level")
        if str(data.get("schema")) != SCHEMA:
            # DVC-compat: an empty file is refused too (its schema is required).
            raise LockFileError(
                f"`{name}`: unsupported lock file schema `{data.get('schema')}`",
                "only the DVC 3 format (`schema: '2.0'`) is supported; rerun `dvc repro` "
                "with DVC 2+ to upgrade it",
            )
        _check_schema(data, name)
        data.setdefault("stages", {})
        return cls(path, data, exists=True)

    @property
    def stages(self) -> dict[str, Any]:
        stages: dict[str, Any] = self.data.setdefault("stages", {})
        return stages

    def get(self, name: str) -> dict[str, Any] | None:
        entry = self.stages.get(name)
        return entry if isinstance(entry, dict) else None

    def set(self, name: str, entry: dict[str, Any]) -> bool:
        """Records a stage's entry in place; returns whether it changed."""
        if self.stages.get(name) == entry:
            return False
        self.stages[name] = entry
        return True

    def remove(self, name: str) -> bool:
        return self.stages.pop(name, None) is not None

    def dumps(self) -> str:
        from mlvc import yamlio

        # DVC-compat: `schema` first, then `stages`, then anything else read.
        rest = {k: v for k, v in self.data.items() if k not in ("schema", "stages")}
        if not self.stages:
            return yamlio.dumps({"schema": SCHEMA, "stages": {}, **rest})
        # Each stage's block is dumped once and reused: the file is rewritten after
        # every stage, and dumping (or even comparing) a thousand entries each
        # time would be quadratic. Entries are replaced by `set`, never changed
        # in place, so an entry that is the very object dumped before is unchanged.
        # Anchors are numbered through the file, so a block is reused only after
        # as many anchors as when it was dumped.
        parts = [_SCHEMA_LINE, "stages:\n"]
        anchors = 0
        for name, entry in self.stages.items():
            cached = self._blocks.get(name)
            if cached is None or cached[0] is not entry or cached[1] != anchors:
                text, after = yamlio.dumps_anchored({"stages": {name: entry}}, anchors)
                cached = (entry, anchors, text[len("stages:\n") :], after)
                self._blocks[name] = cached
            parts.append(cached[2])
            anchors = cached[3]
        if rest:
            parts.append(yamlio.dumps_anchored(rest, anchors)[0])
        return "".join(parts)

    def save(self) -> None:
        """Writes the file atomically (temp file + rename)."""
        if not self.stages and not any(k not in ("schema", "stages") for k in self.data):
            self.path.unlink(missing_ok=True)
            self.exists = False
            return
        atomic_write_text(self.path, self.dumps())
        self.exists = True


# DVC-compat: the keys DVC's lock file schema allows in a `deps`/`outs` entry.
_ENTRY_TYPES: dict[str, tuple[type, ...]] = {
    "path": (str,),
    "hash": (str,),
    "size": (int,),
    "nfiles": (int,),
    "isexec": (bool,),
    "version_id": (str,),
    "md5": (str, int, type(None)),
    "checksum": (str, int, type(None)),
    "etag": (str, int, type(None)),
    "cloud": (dict,),
    "files": (list,),
    "dataset": (dict,),
}
_STAGE_KEYS = ("cmd", "deps", "params", "outs")


def _check_schema(data: dict[Any, Any], name: str) -> None:
    """Refuses what DVC's lock file schema refuses: each stage needs a `cmd`, its
    `deps`/`outs` list entries with a string `path`, and no key is unknown."""

    def fail(where: str, what: str) -> LockFileError:
        return LockFileError(
            f"`{name}`: {where}: {what}", "fix or delete the lock file, then rerun"
        )

    extra = sorted(set(data) - {"schema", "stages", "datasets"}, key=str)
    if extra:
        raise fail("top level", f"unknown key `{extra[0]}`")
    stages = data.get("stages", {})
    if not isinstance(stages, dict):
        raise fail("`stages`", "expected a mapping")
    for stage, entry in stages.items():
        where = f"stage `{stage}`"
        if not isinstance(stage, str):
            raise fail(where, "the name must be a string")
        if not isinstance(entry, dict):
            raise fail(where, "expected a mapping")
        extra = sorted(set(entry) - set(_STAGE_KEYS), key=str)
        if extra:
            raise fail(where, f"unknown key `{extra[0]}`")
        if not isinstance(entry.get("cmd"), str | list):
            raise fail(where, "`cmd` must be a string or a list")
        params = entry.get("params", {})
        if not isinstance(params, dict) or not all(
            isinstance(f, str) and isinstance(v, dict) and all(isinstance(k, str) for k in v)
            for f, v in params.items()
        ):
            raise fail(where, "`params` must map each file to its values")
        for key in ("deps", "outs"):
            items = entry.get(key, [])
            if not isinstance(items, list):
                raise fail(where, f"`{key}` must be a list")
            for item in items:
                if not isinstance(item, dict) or "path" not in item:
                    raise fail(where, f"each entry of `{key}` needs a `path`")
                for k, v in item.items():
                    kinds = _ENTRY_TYPES.get(k)
                    if kinds is None:
                        raise fail(where, f"unknown key `{k}` in `{key}`")
                    if not isinstance(v, kinds) or (
                        k in ("md5", "checksum", "etag") and v not in (None, "") and len(str(v)) < 3
                    ):
                        raise fail(where, f"`{k}` of `{item['path']}` in `{key}` is `{v!r}`")


def entry_hashes(entry: dict[str, Any] | None, key: str) -> dict[str, dict[str, Any]]:
    """`{path: item}` of a lock entry's `deps` or `outs`."""
    if not entry:
        return {}
    items = entry.get(key) or []
    return {i["path"]: i for i in items if isinstance(i, dict) and "path" in i}


def recorded_output(item: dict[str, Any] | None, path: str) -> Output | None:
    """The output at `path` that a lock `outs` item records, with its DVC 3 md5;
    None when the item is absent or has none (a DVC 2.x entry)."""
    md5 = recorded_hash(item)
    if item is None or md5 is None or md5.startswith(LEGACY_PREFIX):
        return None
    return Output(
        path=path,
        md5=md5,
        size=item.get("size"),
        nfiles=item.get("nfiles"),
        isexec=bool(item.get("isexec")),
    )


def recorded_hash(item: dict[str, Any] | None) -> str | None:
    """The md5 a dep/out entry records, None when absent or not a DVC 3 md5."""
    if not item:
        return None
    md5 = item.get("md5")
    # DVC-compat: an entry without `hash: md5` is a DVC 2 md5-dos2unix hash.
    if not isinstance(md5, str) or item.get("hash") != "md5":
        return None if not isinstance(md5, str) else LEGACY_PREFIX + md5
    return md5
