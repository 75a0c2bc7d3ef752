"""Editing a user's `dvc.yaml` as text, so comments and layout survive.

PyYAML cannot round-trip comments, so edits work on lines: the loader's marks
say where each stage's block starts, and a new or replaced block is written by
DVC's YAML dumper. Only when the stages are in flow style (`stages: {...}`) is
the whole file re-dumped.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import yaml

from mlvc import yamlio
from mlvc.exceptions import DvcYamlError

STAGES = "stages"


@dataclass
class _Layout:
    """A `dvc.yaml`'s lines with its parsed data and where each node sits."""

    lines: list[str]  # with line endings
    data: dict[str, Any]
    marks: yamlio.Marks


def _parse(text: str, origin: str) -> _Layout:
    try:
        data, marks = yamlio.loads_marked(text, origin)
    except yamlio.YamlError as exc:
        raise DvcYamlError(str(exc), "fix the YAML syntax there") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise DvcYamlError(f"`{origin}`: expected a mapping at the top level")
    return _Layout(text.splitlines(keepends=True), data, marks)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_blank_or_comment(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _section_end(layout: _Layout, key: str) -> int:
    """0-based index of the first line after the top-level `key`'s value."""
    start = layout.marks.of(layout.data, key)
    assert start is not None
    later = [
        pos[0] - 1
        for k in layout.data
        if (pos := layout.marks.of(layout.data, k)) is not None and pos[0] > start[0]
    ]
    return min(later, default=len(layout.lines))


def _trim(lines: list[str], start: int, end: int, indent: int) -> int:
    """`end` moved up past blank lines and comments that belong to what follows.

    A comment indented no deeper than the block's key introduces the next key; a
    document end marker (`...`) ends the file's data.
    """
    while end > start + 1:
        line = lines[end - 1]
        if (
            not line.strip()
            or (line.strip().startswith("#") and _indent(line) <= indent)
            or line.rstrip() == "..."
        ):
            end -= 1
        else:
            break
    return end


def _stage_span(layout: _Layout, name: str) -> tuple[int, int, int] | None:
    """`(first line, end line, indent)` (0-based, end exclusive) of a stage's block."""
    stages = layout.data.get(STAGES)
    if not isinstance(stages, dict) or name not in stages:
        return None
    pos = layout.marks.of(stages, name)
    assert pos is not None
    start, indent = pos[0] - 1, pos[1] - 1
    later = [
        p[0] - 1
        for k in stages
        if (p := layout.marks.of(stages, k)) is not None and p[0] - 1 > start
    ]
    end = min(later, default=_section_end(layout, STAGES))
    return start, _trim(layout.lines, start, end, indent), indent


def _flow_stages(layout: _Layout) -> bool:
    stages = layout.data.get(STAGES)
    if not isinstance(stages, dict) or not stages:
        return False
    outer = layout.marks.of(layout.data, STAGES)
    first = layout.marks.of(stages, next(iter(stages)))
    return outer is None or first is None or first[0] == outer[0]


@dataclass(frozen=True)
class _Style:
    """How a file indents: nested mapping keys by `step`, a key's block list dashes by `dash`."""

    step: int = 2
    dash: int = 0  # DVC's own layout: `deps:` then `- x` at the key's column


class _StyledDumper(yamlio._Dumper):
    """DVC's emitter, indenting mappings by `step` and a key's list by `dash`."""

    step = 2
    dash = 0

    def __init__(self, stream: Any, **kwargs: Any) -> None:
        super().__init__(stream, **kwargs)
        self.best_indent = self.step

    def expect_block_sequence(self) -> None:
        self.indents.append(self.indent)
        base = self.indent or 0
        # A list that is a key's value sits `dash` past the key; one in a list item
        # starts right after the item's `- `.
        self.indent = base + (self.dash if self.mapping_context else 2)
        self.state = self.expect_first_block_sequence_item

    def expect_block_mapping(self) -> None:
        self.indents.append(self.indent)
        if self.indent is None:
            self.indent = 0
        else:
            # A mapping that is a list item starts right after its `- `.
            self.indent += 2 if self.sequence_context else self.step
        self.state = self.expect_first_block_mapping_key


def _dumps(data: dict[str, Any], style: _Style) -> str:
    if style == _Style():
        return yamlio.dumps(data)
    dumper = type("_Dumper", (_StyledDumper,), {"step": style.step, "dash": style.dash})
    stream = io.StringIO()
    yaml.dump(data, stream, Dumper=dumper)
    return stream.getvalue()


def _style(layout: _Layout, prefer: str | None = None) -> _Style:
    """The indentation the file's stages use (stage `prefer`'s own first), else the
    rest of the file's, else DVC's."""
    steps: list[int] = []
    dashes: list[int] = []

    def entry(parent: dict[Any, Any], key: Any, deep: bool = True) -> None:
        value = parent[key]
        pos = layout.marks.of(parent, key)
        inner = layout.marks.of(value) if isinstance(value, dict | list) and value else None
        if pos is None or inner is None or inner[0] <= pos[0]:
            return  # flow style, or a value on its key's line
        if isinstance(value, dict):
            steps.append(inner[1] - pos[1])
        else:
            dashes.append(inner[1] - pos[1])
        if deep:
            walk(value)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in node:
                entry(node, key)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    stages = layout.data.get(STAGES)
    if isinstance(stages, dict):
        names = list(reversed(stages))
        if prefer in stages:
            names = [prefer, *[n for n in names if n != prefer]]
        for name in names:
            entry(stages, name)
            if steps and dashes:
                break
    # Then how the stage names sit under `stages:`, then the other sections.
    for key in layout.data:
        entry(layout.data, key, deep=key != STAGES)
    dash = next((d for d in dashes if d >= 0), 0)
    # No nested mapping to learn from: lists indented by 4 suggest a 4-space file.
    step = next((s for s in steps if s > 0), max(dash, 2))
    return _Style(step=step, dash=dash)


def _block(name: str, stage: dict[str, Any], indent: int, style: _Style = _Style()) -> list[str]:
    # Dumped under `stages:` so long lines fold where DVC folds them.
    text = _dumps({STAGES: {name: stage}}, style)
    lines = text.splitlines(keepends=True)[1:]
    shift = indent - style.step
    if shift > 0:
        return [" " * shift + ln if ln.strip() else ln for ln in lines]
    if shift < 0:
        return [ln[-shift:] if ln.startswith(" " * -shift) else ln for ln in lines]
    return lines


def _split_comment(line: str) -> tuple[str, str | None]:
    """`(content, comment)` of a line: the comment starts at a ` #` outside the value."""
    body = line.rstrip("\n")
    at = body.find(" #")
    while at != -1:
        head = body[:at]
        try:
            yamlio.loads(head.strip().removeprefix("- ") + "\n", "line")
        except yamlio.YamlError:
            at = body.find(" #", at + 1)
            continue
        return head.rstrip(), body[len(head.rstrip()) :]
    return body, None


def _with_comment(line: str, comment: str, column: int) -> str:
    content = line.rstrip("\n")
    pad = max(column - len(content), 1)
    return content + " " * pad + comment.lstrip() + "\n"


def _keep_comments(
    old_lines: list[str],
    new_lines: list[str],
    old: dict[str, Any],
    new: dict[str, Any],
    key_column: int,
) -> list[str]:
    """DVC-compat (ruamel + `apply_diff`): a replaced stage keeps the comments of what stays.

    Kept: the comment after the stage's name, and for each key in both versions
    the comment lines above it and the comment after a scalar value (at its column).
    Not kept (DVC keeps them when a list keeps its length): comments on list items
    and a flow-style list's style.
    """
    out = list(new_lines)
    content, comment = _split_comment(old_lines[0])
    if comment is not None:
        out[0] = _with_comment(out[0], comment, len(content) + len(comment) - len(comment.lstrip()))
    key_indent = " " * key_column
    old_keys: dict[str, tuple[list[str], str | None, int]] = {}
    above: list[str] = []
    for line in old_lines[1:]:
        stripped = line.strip()
        if stripped.startswith("#") and line.startswith(key_indent):
            above.append(line if line.endswith("\n") else line + "\n")
            continue
        if line.startswith(key_indent) and not line.startswith(key_indent + " "):
            key = stripped.split(":", 1)[0]
            content, comment = _split_comment(line)
            column = len(line.rstrip("\n")) - len(comment.lstrip()) if comment else 0
            old_keys[key] = (above, comment, column)
        above = []
    result: list[str] = [out[0]]
    for line in out[1:]:
        if line.startswith(key_indent) and not line.startswith(key_indent + " "):
            key = line.strip().split(":", 1)[0]
            if key in old_keys and key in old and key in new:
                comments, comment, column = old_keys[key]
                result.extend(comments)
                scalar = not isinstance(old[key], dict | list) and not isinstance(
                    new[key], dict | list
                )
                if comment is not None and scalar:
                    line = _with_comment(line, comment, column)
        result.append(line)
    return result


def _ends_with_newline(lines: list[str]) -> list[str]:
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return lines


def set_stage(text: str | None, name: str, stage: dict[str, Any], origin: str) -> str:
    """`dvc.yaml` text with stage `name` added (at the end of `stages`) or replaced."""
    if not text or not text.strip():
        return yamlio.dumps({STAGES: {name: stage}})
    layout = _parse(text, origin)
    if _flow_stages(layout) or (
        STAGES in layout.data and not isinstance(layout.data[STAGES], dict | None)
    ):
        data = dict(layout.data)
        stages = dict(data.get(STAGES) or {})
        stages[name] = stage
        data[STAGES] = stages
        return yamlio.dumps(data)
    lines = _ends_with_newline(list(layout.lines))
    span = _stage_span(layout, name)
    # The new block follows the file's indentation, not DVC's.
    style = _style(layout, name)
    if span is not None:
        start, end, indent = span
        old = layout.data[STAGES][name]
        new_block = _block(name, stage, indent, style)
        if isinstance(old, dict):
            new_block = _keep_comments(lines[start:end], new_block, old, stage, indent + style.step)
        lines[start:end] = new_block
        return "".join(lines)
    existing = layout.data.get(STAGES)
    if existing:
        assert isinstance(existing, dict)
        last = next(reversed(existing))
        last_span = _stage_span(layout, last)
        assert last_span is not None
        _start, end, indent = last_span
        lines[end:end] = _block(name, stage, indent, style)
        return "".join(lines)
    if STAGES in layout.data:
        # `stages:` with nothing under it: fill it in.
        pos = layout.marks.of(layout.data, STAGES)
        assert pos is not None
        i = pos[0] - 1
        lines[i] = "stages:\n"
        lines[i + 1 : i + 1] = _block(name, stage, style.step, style)
        return "".join(lines)
    # Before a document end marker (`...`): what follows it is no data.
    end = next((i for i, ln in enumerate(lines) if ln.rstrip() == "..."), len(lines))
    lines[end:end] = [_dumps({STAGES: {name: stage}}, style)]
    return "".join(lines)


def set_frozen(text: str, name: str, frozen: bool, origin: str) -> str:
    """`dvc.yaml` text with `frozen: true` set on (or removed from) stage `name`."""
    layout = _parse(text, origin)
    stages = layout.data.get(STAGES)
    span = _stage_span(layout, name)
    definition = stages.get(name) if isinstance(stages, dict) else None
    # DVC-compat: a `foreach`/`matrix` definition is no stage: DVC says "not found".
    if span is None or not isinstance(definition, dict) or {"foreach", "matrix"} & set(definition):
        raise KeyError(name)
    start, end, _ = span
    lines = _ends_with_newline(list(layout.lines))
    keys = layout.marks.of(definition, next(iter(definition))) if definition else None
    block_style = keys is not None and keys[0] - 1 > start
    if block_style and keys is not None:
        key_indent = keys[1] - 1
        if "frozen" in definition:
            fpos = layout.marks.of(definition, "frozen")
            assert fpos is not None
            i = fpos[0] - 1
            single = i + 1 >= len(lines) or _indent(lines[i + 1]) <= key_indent
            if single:
                if frozen:
                    lines[i] = " " * key_indent + "frozen: true\n"
                else:
                    del lines[i]
                return "".join(lines)
        elif not frozen:
            return text
        else:
            lines[end:end] = [" " * key_indent + "frozen: true\n"]
            return "".join(lines)
    # Flow style or an unusual `frozen` value: rewrite this stage's block.
    new = {k: v for k, v in definition.items() if k != "frozen"}
    if frozen:
        new["frozen"] = True
    return set_stage(text, name, new, origin)


def set_frozen_top(text: str, frozen: bool, origin: str) -> str:
    """A `.dvc` file's text with a top-level `frozen: true` set (or removed).

    DVC-compat: DVC appends the key to the file's mapping, and drops it to unfreeze.
    """
    layout = _parse(text, origin)
    data = layout.data
    new = {k: v for k, v in data.items() if k != "frozen"}
    if frozen:
        new["frozen"] = True
    if new == data:
        return text
    rows = {k: pos[0] - 1 for k in data if (pos := layout.marks.of(data, k)) is not None}
    columns = {k: pos[1] for k in data if (pos := layout.marks.of(data, k)) is not None}
    if not data or len(rows) != len(data) or len(set(rows.values())) != len(rows):
        return yamlio.dumps(new)  # flow style: written afresh
    if set(columns.values()) != {1}:
        return yamlio.dumps(new)
    lines = _ends_with_newline(list(layout.lines))
    if "frozen" in data:
        row = rows["frozen"]
        end = min((r for r in rows.values() if r > row), default=len(lines))
        end = _trim(lines, row, end, 0)
        lines[row:end] = ["frozen: true\n"] if frozen else []
        return "".join(lines)
    last = max(rows.values())
    end = _trim(lines, last, len(lines), 0)
    lines[end:end] = ["frozen: true\n"]
    return "".join(lines)


def remove_stage(text: str, name: str, origin: str) -> str:
    """`dvc.yaml` (or `dvc.lock`) text without stage `name` (KeyError: no such stage).

    The stage's lines go: its name's line to its last line (comments indented
    deeper than its name included), the comment lines right above its name at
    its indentation (its heading), and the blank lines after it (not those after
    the last stage when none come before it: they set the stages apart from what
    follows). Everything else stays as written. The only stage takes the
    `stages:` section with it.

    DVC re-dumps the file with ruamel, which keeps comments where its parser
    attached them: a comment heading the next stage, or the next section, goes
    with a stage that ends in a plain value. Here comments stay with what they
    head. Flow-style `stages: {...}` is re-dumped without comments.
    """
    layout = _parse(text, origin)
    stages = layout.data.get(STAGES)
    if not isinstance(stages, dict) or name not in stages:
        raise KeyError(name)
    if _flow_stages(layout):
        data = dict(layout.data)
        data[STAGES] = {k: v for k, v in stages.items() if k != name}
        if not data[STAGES]:
            del data[STAGES]
        return yamlio.dumps(data) if data else ""
    lines = _ends_with_newline(list(layout.lines))
    outer = layout.marks.of(layout.data, STAGES)
    assert outer is not None
    if len(stages) == 1:
        start, end = outer[0] - 1, _section_end(layout, STAGES)
        end = _trim(lines, start, end, 0)
    else:
        span = _stage_span(layout, name)
        assert span is not None
        start, end, indent = span
        while (
            start - 1 > outer[0] - 1
            and lines[start - 1].strip().startswith("#")
            and _indent(lines[start - 1]) == indent
        ):
            start -= 1
        last = name == next(reversed(stages))
        if last and start > 0 and lines[start - 1].strip():
            # The blank lines that set the stages apart from what follows stay.
            del lines[start:end]
            return "".join(lines)
    while end < len(lines) and not lines[end].strip():
        end += 1
    del lines[start:end]
    return "".join(lines)
