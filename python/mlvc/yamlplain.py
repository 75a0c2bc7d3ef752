"""YAML writing without PyYAML, for the documents most commands write.

A `.dvc` file, a lock entry or a run-cache entry is a block mapping of short
plain scalars; it is written here directly, as DVC's writer would write it,
and PyYAML (about 30 ms to import) is loaded only for anything else. The YAML
1.2 implicit types are defined here too, for the reader in `mlvc.yamlio`.
"""

from __future__ import annotations

import re
from typing import Any

# DVC-compat: ruamel's YAML 1.2 implicit types (no yes/no/on/off booleans, no
# sexagesimal numbers, 0o octal): each tag, its pattern, and the characters a
# scalar of that type can start with ("" for the empty scalar).
IMPLICIT_TYPES: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...] = (
    (
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        tuple("tTfF"),
    ),
    (
        "tag:yaml.org,2002:float",
        re.compile(
            r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
            |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
            |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
            |[-+]?\.(?:inf|Inf|INF)
            |\.(?:nan|NaN|NAN))$""",
            re.X,
        ),
        tuple("-+0123456789."),
    ),
    (
        "tag:yaml.org,2002:int",
        re.compile(
            r"""^(?:[-+]?0b[0-1_]+
            |[-+]?0o?[0-7_]+
            |[-+]?[0-9_]+
            |[-+]?0x[0-9a-fA-F_]+)$""",
            re.X,
        ),
        tuple("-+0123456789"),
    ),
    ("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ("<",)),
    ("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ("~", "n", "N", "")),
    (
        "tag:yaml.org,2002:timestamp",
        re.compile(
            r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
            |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
            (?:[Tt]|[ \t]+)[0-9][0-9]?
            :[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
            (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
            re.X,
        ),
        tuple("0123456789"),
    ),
    ("tag:yaml.org,2002:value", re.compile(r"^(?:=)$"), ("=",)),
)

# The types by the first character of a scalar, in the order they are tried.
IMPLICIT: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
for _tag, _regexp, _first in IMPLICIT_TYPES:
    for _ch in _first:
        IMPLICIT.setdefault(_ch, []).append((_tag, _regexp))


def dumps(data: Any) -> str:
    """Serialises `data` exactly as DVC's YAML writer would; PyYAML only when needed."""
    fast = dumps_simple(data)
    if fast is not None:
        return fast
    from mlvc import yamlio

    return yamlio.dumps(data)


# Strings written bare by the fast path: no indicator at the start, no `: `,
# ` #`, quotes or escapes anywhere, nothing the emitter would fold or quote.
_SIMPLE_STR = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_./=+,<>()%$~-]*(?: [A-Za-z0-9_./=+,<>()%$~-]+)*")
# Lines this short are never folded (the emitter folds past 80 columns).
_MAX_SIMPLE_LINE = 72


def _scalar_text(value: Any) -> str | None:
    """How the emitter writes a scalar the fast path handles, else None."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return str(value)
    if type(value) is str and _SIMPLE_STR.fullmatch(value):
        resolvers = IMPLICIT.get(value[0], [])
        if any(regexp.match(value) for _tag, regexp in resolvers):
            return None  # reads back as a number, bool, null or date: needs quotes
        return value
    return None


def dumps_simple(data: Any) -> str | None:
    """The emitter's output for block mappings and lists of short plain
    scalars (a lock entry, a `.dvc` file), written directly; None for anything
    else. The event-based emitter costs about a millisecond per lock entry,
    and `repro` writes one after every stage.
    """
    if type(data) is not dict or not data:
        return None
    lines: list[str] = []
    # Containers met so far: one met twice needs an anchor, which only the emitter writes.
    seen: set[int] = set()

    def first_visit(container: Any) -> bool:
        before = len(seen)
        seen.add(id(container))
        return len(seen) > before

    def mapping(d: dict[Any, Any], indent: str, first_prefix: str | None) -> bool:
        prefix = first_prefix
        for key, value in d.items():
            lead = indent if prefix is None else prefix
            prefix = None
            k = _scalar_text(key) if type(key) is str else None
            if k is None:
                return False
            if type(value) is dict:
                if not value or not first_visit(value):
                    return False
                lines.append(f"{lead}{k}:")
                if not mapping(value, indent + "  ", None):
                    return False
            elif type(value) is list:
                if not value or not first_visit(value):
                    return False
                lines.append(f"{lead}{k}:")
                if not sequence(value, indent):
                    return False
            else:
                text = _scalar_text(value)
                if text is None:
                    return False
                lines.append(f"{lead}{k}: {text}")
        return True

    def sequence(items: list[Any], indent: str) -> bool:
        for item in items:
            if type(item) is dict:
                if not item or not first_visit(item):
                    return False
                if not mapping(item, indent + "  ", indent + "- "):
                    return False
            else:
                text = _scalar_text(item)
                if text is None:
                    return False
                lines.append(f"{indent}- {text}")
        return True

    if not mapping(data, "", None) or any(len(line) > _MAX_SIMPLE_LINE for line in lines):
        return None
    return "\n".join(lines) + "\n"
