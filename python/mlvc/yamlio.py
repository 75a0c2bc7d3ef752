"""YAML as DVC reads and writes it: YAML 1.2 resolution, ruamel's layout.

DVC writes every file with ruamel.yaml's round-trip dumper. PyYAML's emitter
shares its ancestry, so with the YAML 1.2 resolver and ruamel's representation
of nulls the bytes come out the same (checked against ruamel in the tests).
Loading uses libyaml's parser where available, with the same 1.2 resolver, so
`yes`/`on` stay strings as they do in DVC.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any

import yaml

from mlvc import yamlplain
from mlvc.yamldata import Marks, YamlError

__all__ = ["Marks", "YamlError", "dumps", "load_file", "loads", "loads_marked"]


def _add_yaml12_resolvers(cls: type[yaml.resolver.BaseResolver]) -> None:
    for tag, regexp, first in yamlplain.IMPLICIT_TYPES:
        cls.add_implicit_resolver(tag, regexp, list(first))


class Yaml12Resolver(yaml.resolver.BaseResolver):
    """PyYAML resolver with YAML 1.2 implicit types."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        # The parser calls this for every node: a lean version of BaseResolver's
        # (no wildcard or path resolvers are registered) makes loading ~30% faster.
        if kind is yaml.ScalarNode:
            if implicit[0]:
                for tag, regexp in _IMPLICIT.get(value[:1], ()):
                    if regexp.match(value):
                        return str(tag)
            return "tag:yaml.org,2002:str"
        if kind is yaml.SequenceNode:
            return "tag:yaml.org,2002:seq"
        return "tag:yaml.org,2002:map"


_add_yaml12_resolvers(Yaml12Resolver)
_IMPLICIT: dict[str, list[tuple[str, re.Pattern[str]]]] = Yaml12Resolver.yaml_implicit_resolvers

# `CParser` is not re-exported by `yaml` itself, only by `yaml.cyaml`.
_CParser: Any = getattr(getattr(yaml, "cyaml", None), "CParser", None)


if _CParser is not None:

    class _Loader(_CParser, yaml.constructor.SafeConstructor, Yaml12Resolver):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            Yaml12Resolver.__init__(self)

else:

    class _Loader(  # type: ignore[no-redef]
        yaml.reader.Reader,
        yaml.scanner.Scanner,
        yaml.parser.Parser,
        yaml.composer.Composer,
        yaml.constructor.SafeConstructor,
        Yaml12Resolver,
    ):
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            Yaml12Resolver.__init__(self)


def _construct_int(loader: Any, node: yaml.ScalarNode) -> int:
    # DVC-compat: YAML 1.2 (ruamel) reads `017` as 17 and `08` as 8; only `0o17`
    # is octal. PyYAML's constructor would read a leading 0 as octal (or fail).
    text = str(loader.construct_scalar(node)).replace("_", "")
    sign = -1 if text[:1] == "-" else 1
    digits = text.lstrip("+-")
    base = {"0b": 2, "0o": 8, "0x": 16}.get(digits[:2])
    return sign * (int(digits[2:], base) if base else int(digits))


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _construct_map(loader: Any, node: yaml.MappingNode) -> Any:
    """A mapping, refusing a key its own entries give twice (plain scalar keys).

    DVC-compat: ruamel refuses duplicate keys in every file DVC reads (an output or a
    stage given twice); merged keys (`<<`) may still be overridden.
    """
    seen: set[tuple[str, str]] = set()
    for key_node, _value in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE_TAG:
            key = (key_node.tag, key_node.value)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f'found duplicate key "{key_node.value}"',
                    key_node.start_mark,
                )
            seen.add(key)
    return loader.construct_yaml_map(node)


_Loader.add_constructor(_MAP_TAG, _construct_map)


def _build_marked(loader: Any, root: yaml.Node) -> tuple[Any, Marks]:
    """Turns composed nodes into plain data, noting where each key and item starts.

    A direct walk over the nodes: PyYAML's generator-based constructor costs about
    twice as much, and `dvc.yaml` files with thousands of stages are common.
    """
    marks = Marks()
    table = marks.table
    memo: dict[int, Any] = {}  # aliases (`*x`) share the object built for the anchor

    def build(node: yaml.Node) -> Any:
        cls = node.__class__
        if cls is yaml.ScalarNode:
            if node.tag == _STR_TAG:
                return node.value
            return loader.construct_object(node, deep=True)
        found = memo.get(id(node))
        if found is not None:
            return found
        start = (node.start_mark.line + 1, node.start_mark.column + 1)
        if cls is yaml.SequenceNode and node.tag == _SEQ_TAG:
            items: list[Any] = []
            memo[id(node)] = items
            item_marks: dict[Any, tuple[int, int]] = {}
            for i, child in enumerate(node.value):
                items.append(build(child))
                item_marks[i] = (child.start_mark.line + 1, child.start_mark.column + 1)
            table[id(items)] = (start, item_marks)
            return items
        if cls is not yaml.MappingNode or node.tag != _MAP_TAG:
            return loader.construct_object(node, deep=True)  # !!set, !!omap, ...
        data: dict[Any, Any] = {}
        memo[id(node)] = data
        own = sum(1 for k, _ in node.value if k.tag != _MERGE_TAG)
        if own != len(node.value):
            loader.flatten_mapping(node)  # merged keys first; the mapping's own keys override
        pairs = node.value
        merged = len(pairs) - own
        key_marks: dict[Any, tuple[int, int]] = {}
        own_keys: set[Any] = set()
        for n, (key_node, value_node) in enumerate(pairs):
            key = build(key_node)
            try:
                duplicate = n >= merged and key in own_keys
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found unhashable key",
                    key_node.start_mark,
                ) from None
            if duplicate:
                # DVC-compat: ruamel refuses duplicate keys (a repeated stage name).
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f'found duplicate key "{key}"',
                    key_node.start_mark,
                )
            if n >= merged:
                own_keys.add(key)
            data[key] = build(value_node)
            key_marks[key] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        table[id(data)] = (start, key_marks)
        return data

    return build(root), marks


class _Dumper(
    yaml.emitter.Emitter,
    yaml.serializer.Serializer,
    yaml.representer.SafeRepresenter,
    Yaml12Resolver,
):
    """The pure-Python emitter: its line folding is the one ruamel inherited."""

    def __init__(self, stream: Any, **kwargs: Any) -> None:
        yaml.emitter.Emitter.__init__(
            self,
            stream,
            canonical=False,
            indent=2,
            width=80,
            allow_unicode=True,
            line_break=None,
        )
        yaml.serializer.Serializer.__init__(self, explicit_start=False, explicit_end=False)
        yaml.representer.SafeRepresenter.__init__(
            self, default_style=None, default_flow_style=False, sort_keys=False
        )
        Yaml12Resolver.__init__(self)

    # Anchors made so far in the document being written.
    anchor_count = 0

    def generate_anchor(self, node: Any) -> str:
        # Counted here: the serializer resets its own count after every dump.
        self.anchor_count += 1
        return f"id{self.anchor_count:03d}"

    def choose_scalar_style(self) -> str:
        # DVC-compat: ruamel double-quotes a string holding `'` or a line break
        # where PyYAML would single-quote it.
        style: str = super().choose_scalar_style()
        event: Any = self.event
        value = event.value
        if style == "'" and not event.style and ("'" in value or "\n" in value):
            return '"'
        return style

    def write_double_quoted(self, text: str, split: bool = True) -> None:
        """ruamel.yaml's double-quoted writer: folds at a space without `\\` where it can."""
        self.write_indicator('"', True)
        start = end = 0
        while end <= len(text):
            ch = text[end] if end < len(text) else None
            if (
                ch is None
                or ch in '"\\\x85\u2028\u2029\ufeff'
                or not (
                    "\x20" <= ch <= "\x7e"
                    or (
                        self.allow_unicode
                        and (
                            ("\xa0" <= ch <= "\ud7ff")
                            or ("\ue000" <= ch <= "\ufffd")
                            or ("\U00010000" <= ch <= "\U0010ffff")
                        )
                    )
                )
            ):
                if start < end:
                    data = text[start:end]
                    self.column += len(data)
                    self.stream.write(data)
                    start = end
                if ch is not None:
                    if ch in self.ESCAPE_REPLACEMENTS:
                        data = "\\" + self.ESCAPE_REPLACEMENTS[ch]
                    elif ch <= "\xff":
                        data = f"\\x{ord(ch):02X}"
                    elif ch <= "\uffff":
                        data = f"\\u{ord(ch):04X}"
                    else:
                        data = f"\\U{ord(ch):08X}"
                    self.column += len(data)
                    self.stream.write(data)
                    start = end + 1
            if (
                0 < end < len(text) - 1
                and (ch == " " or start >= end)
                and self.column + (end - start) > self.best_width
                and split
            ):
                need_backslash = _needs_backslash(text, start, end)
                data = text[start:end] + ("\\" if need_backslash else "")
                if start < end:
                    start = end
                self.column += len(data)
                self.stream.write(data)
                self.write_indent()
                self.whitespace = False
                self.indention = False
                if text[start] == " ":
                    if not need_backslash:
                        # the line break reads back as this space
                        start += 1
                    data = "\\" if need_backslash else ""
                    self.column += len(data)
                    self.stream.write(data)
            end += 1
        self.write_indicator('"', False)

    def write_plain(self, text: str, split: bool = True) -> None:
        """ruamel.yaml's plain-scalar writer (PyYAML's folds long lines differently).

        DVC-compat: ruamel breaks at a space once the column *reaches* the width,
        and puts a word that would overflow on a line of its own.
        """
        if self.root_context:
            self.open_ended = True
        if not text:
            return
        if not self.whitespace:
            self.column += 1
            self.stream.write(" ")
        self.whitespace = False
        self.indention = False
        spaces = False
        breaks = False
        start = end = 0
        while end <= len(text):
            ch = text[end] if end < len(text) else None
            if spaces:
                if ch != " ":
                    if start + 1 == end and self.column >= self.best_width and split:
                        self.write_indent()
                        self.whitespace = False
                        self.indention = False
                    else:
                        data = text[start:end]
                        self.column += len(data)
                        self.stream.write(data)
                    start = end
            elif breaks:
                if ch is None or ch not in "\n\x85\u2028\u2029":
                    if text[start] == "\n":
                        self.write_line_break()
                    for br in text[start:end]:
                        if br == "\n":
                            self.write_line_break()
                        else:
                            self.write_line_break(br)
                    self.write_indent()
                    self.whitespace = False
                    self.indention = False
                    start = end
            elif ch is None or ch in " \n\x85\u2028\u2029":
                data = text[start:end]
                if (
                    len(data) + self.column > self.best_width
                    and self.indent is not None
                    and self.column > self.indent
                ):
                    self.write_indent()
                self.column += len(data)
                self.stream.write(data)
                start = end
            if ch is not None:
                spaces = ch == " "
                breaks = ch in "\n\x85\u2028\u2029"
            end += 1

    def represent_none(self, data: Any) -> yaml.ScalarNode:
        # DVC-compat: ruamel writes a null inside a document as nothing (`key:`).
        if not self.represented_objects:
            return self.represent_scalar("tag:yaml.org,2002:null", "null")
        return self.represent_scalar("tag:yaml.org,2002:null", "")

    def represent_float(self, data: float) -> yaml.ScalarNode:
        # DVC-compat: YAML 1.2 floats keep repr's form (`1e-05`, not `1.0e-05`).
        if data != data:
            value = ".nan"
        elif data == float("inf"):
            value = ".inf"
        elif data == float("-inf"):
            value = "-.inf"
        else:
            value = repr(data).lower()
        return self.represent_scalar("tag:yaml.org,2002:float", value)


def _needs_backslash(text: str, start: int, end: int) -> bool:
    # DVC-compat: ruamel's rule for when a folded double-quoted line ends in `\\`.
    try:
        space_pos = text.index(" ", end)
        with contextlib.suppress(ValueError):
            space_pos = text.index("\n", end, space_pos)
        if text[space_pos] == "\n" and text[space_pos + 1] != " ":
            return True
        if (
            '"' not in text[end:space_pos]
            and "'" not in text[end:space_pos]
            and text[space_pos + 1] not in " \n"
            and text[end - 1 : end + 1] != "  "
            and start != end
        ):
            return False
    except (ValueError, IndexError):
        pass
    return True


_Dumper.add_representer(type(None), _Dumper.represent_none)
_Dumper.add_representer(float, _Dumper.represent_float)


def dumps(data: Any) -> str:
    """Serialises `data` exactly as DVC's YAML writer would."""
    return dumps_anchored(data, 0)[0]


def dumps_anchored(data: Any, anchors_before: int) -> tuple[str, int]:
    """`dumps` of a part of a document in which `anchors_before` anchors came
    before; returns the text and the count of anchors after it.

    A dict or list reached twice is written once with an anchor (`&id001`) and
    then as an alias (`*id001`), numbered through the whole document as DVC's
    writer numbers them.
    """
    fast = yamlplain.dumps_simple(data)
    if fast is not None:
        return fast, anchors_before
    stream = io.StringIO()
    dumper = _Dumper(stream)
    dumper.anchor_count = anchors_before
    try:
        dumper.open()
        dumper.represent(data)
        dumper.close()
    finally:
        dumper.dispose()
    out = stream.getvalue()
    if "-\n" in out:
        out = _NULL_ITEM.sub("\\g<0> ", out)
    return out, dumper.anchor_count


# DVC-compat: a null list item is written as `- ` (ruamel keeps the space after
# the indicator); PyYAML ends the line at `-`. Only such items give a line of
# indicators alone: a `-` scalar is always quoted.
_NULL_ITEM = re.compile(r"^[ -]*-$", re.MULTILINE)


def loads(text: str, origin: str | Path = "<string>") -> Any:
    """Parses YAML text; errors name `origin` with line and column."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise YamlError(_describe(exc, origin)) from exc
    except yaml.YAMLError as exc:
        raise YamlError(_describe_other(exc, origin, text)) from exc


def loads_marked(text: str, origin: str | Path = "<string>") -> tuple[Any, Marks]:
    """Parses YAML text and also returns where each key and item is; duplicate keys are errors."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, Marks()
        return _build_marked(loader, node)
    except yaml.MarkedYAMLError as exc:
        raise YamlError(_describe(exc, origin)) from exc
    except yaml.YAMLError as exc:
        raise YamlError(_describe_other(exc, origin, text)) from exc
    finally:
        loader.dispose()


def _describe(exc: yaml.MarkedYAMLError, origin: str | Path) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f"{origin}:{mark.line + 1}:{mark.column + 1}" if mark else str(origin)
    return f"`{where}`: {exc.problem or exc.context or 'invalid YAML'}"


def _describe_other(exc: yaml.YAMLError, origin: str | Path, text: str) -> str:
    """One line for an error without marks: a character the reader refuses is placed
    by its line and column."""
    if isinstance(exc, yaml.reader.ReaderError) and isinstance(exc.character, int):
        before = text[: exc.position]
        line, column = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        return (
            f"`{origin}:{line}:{column}`: unacceptable character #x{exc.character:04x}:"
            f" {exc.reason}"
        )
    return f"`{origin}`: {' '.join(str(exc).split())}"


def load_file(path: Path) -> Any:
    """Reads and parses a YAML file."""
    return loads(path.read_text(encoding="utf-8"), path)
