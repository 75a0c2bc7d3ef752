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
    # The text read (None for a new file): a rewrite edits it, keeping comments.
    text: str | None = None

    @property
    def wdir(self) -> Path:
        """Directory that out paths are relative to."""
        return self.path.parent / str(self.raw.get("wdir", "."))

    def out_path(self, out: Output) -> Path:
        return self.wdir / out.path

    @classmethod
    def load(cls, path: Path) -> DvcFile:
        """Reads a `.dvc` file (a parse seen before comes from the state database)."""
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidDvcFileError(f"`{path}` is not valid UTF-8") from exc
        return cls.loads(text, path)

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
        _check_top_types(data, origin)
        if "wdir" in data:
            # With `path` also free of `..`, every output stays below this file's
            # directory: a crafted `.dvc` file cannot reach outside the repository.
            check_relative_path(str(data["wdir"]), origin, what="wdir")
        return cls(path=path, outs=outs, raw=data, text=text)

    def dumps(self) -> str:
        from mlvc import yamlplain

        data: dict[str, Any] = {}
        for key, value in self.raw.items():
            data[key] = [o.to_dict() for o in self.outs] if key == "outs" else value
        if "outs" not in data:
            data["outs"] = [o.to_dict() for o in self.outs]
        if self.text is not None:
            edited = _edited(self.text, data, str(self.path))
            if edited is not None:
                return edited
        return yamlplain.dumps(data)

    def save(self) -> None:
        atomic_write_text(self.path, self.dumps())


# DVC-compat: the types DVC's schema gives the other top-level keys (`meta` is free).
_TOP_TYPES: dict[str, tuple[type, ...]] = {
    "frozen": (bool,),
    "locked": (bool,),
    "always_changed": (bool,),
    "desc": (str,),
    "wdir": (str, type(None)),
    "deps": (list, type(None)),
}


def _check_top_types(data: dict[str, Any], origin: str) -> None:
    for key, kinds in _TOP_TYPES.items():
        if key in data and not isinstance(data[key], kinds):
            kind = "a boolean" if kinds == (bool,) else "a string" if str in kinds else "a list"
            raise InvalidDvcFileError(f"`{origin}`: `{key}` must be {kind}, not `{data[key]!r}`")
    md5 = data.get("md5")
    if md5 is not None and not (isinstance(md5, str | int) and (md5 == "" or len(str(md5)) >= 3)):
        raise InvalidDvcFileError(f"`{origin}`: `md5` `{md5!r}` is not a hash")


def dvcfile_for(target: Path) -> Path:
    """The `.dvc` file that tracks `target`: `<target>.dvc` beside it."""
    return target.with_name(target.name + SUFFIX)


def _edited(text: str, new: dict[str, Any], origin: str) -> str | None:
    """`text` with its outputs' keys changed to `new`'s, or None when that cannot be
    done line by line (the caller then writes the file afresh).

    DVC-compat: DVC rewrites an existing `.dvc` file through a round-trip parser: its
    comments, layout and key order stay, changed values are replaced where they are,
    new keys are appended to their mapping and dropped ones removed.
    """
    from mlvc import yamlio

    try:
        old, marks = yamlio.loads_marked(text, origin)
    except yamlio.YamlError:
        return None
    if not isinstance(old, dict) or {k: v for k, v in old.items() if k != "outs"} != {
        k: v for k, v in new.items() if k != "outs"
    }:
        return None
    old_outs, new_outs = old.get("outs"), new["outs"]
    if not isinstance(old_outs, list) or len(old_outs) != len(new_outs):
        return None
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    # Where each output's block ends: the next one's start, or the end of `outs`.
    found = [marks.of(old_outs, i) for i in range(len(old_outs))]
    starts = [p for p in found if p is not None]
    outs_at = marks.of(old, "outs")
    if outs_at is None or len(starts) != len(found):
        return None
    section_end = min(
        (p[0] - 1 for k in old if (p := marks.of(old, k)) is not None and p[0] > outs_at[0]),
        default=len(lines),
    )
    edits: list[tuple[int, int, list[str]]] = []  # (first line, end line, new lines)
    for i, (before, after) in enumerate(zip(old_outs, new_outs, strict=True)):
        if not isinstance(before, dict) or not before:
            return None
        keys = {k: p for k in before if (p := marks.of(before, k)) is not None}
        if len(keys) != len(before):
            return None
        rows = sorted((p[0] - 1, k) for k, p in keys.items())
        if len({r for r, _ in rows}) != len(rows):
            return None  # flow style: several keys on one line
        end = starts[i + 1][0] - 1 if i + 1 < len(starts) else section_end
        while end > rows[-1][0] + 1 and (
            not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")
        ):
            end -= 1
        indent = " " * (min(p[1] for p in keys.values()) - 1)
        for n, (row, key) in enumerate(rows):
            stop = rows[n + 1][0] if n + 1 < len(rows) else end
            single = stop == row + 1
            if key not in after:
                if not single or n == 0:
                    return None  # a multi-line value, or the line holding the item's `- `
                edits.append((row, row + 1, []))
            elif after[key] != before[key]:
                if not single or isinstance(after[key], dict | list):
                    return None
                line = lines[row]
                col = keys[key][1] - 1
                body = line.rstrip("\n")
                comment = ""
                at = body.find(" #", col)
                if at != -1:
                    comment = body[at:]
                value = yamlio.dumps({key: after[key]}).rstrip("\n")
                if "\n" in value:
                    return None
                edits.append((row, row + 1, [line[:col] + value + comment + "\n"]))
        added = [k for k in after if k not in before]
        if added:
            block = yamlio.dumps({k: after[k] for k in added}).splitlines(keepends=True)
            edits.append((end, end, [indent + ln if ln.strip() else ln for ln in block]))
    for first, stop, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        lines[first:stop] = replacement
    result = "".join(lines)
    try:
        if yamlio.loads(result, origin) != new:
            return None
    except yamlio.YamlError:
        return None
    return result
