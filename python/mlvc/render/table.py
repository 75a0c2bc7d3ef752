"""Tables as DVC prints them (tabulate's `plain` and `github` formats, no number parsing).

DVC-compat: every cell is left-aligned text with its surrounding whitespace removed
(headers keep theirs); a column is at least as wide as its header plus two
(tabulate's minimum padding); wide characters count twice; a cell holding line
breaks spreads over several lines; plain tables lose trailing spaces.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

# tabulate's test for a multi-line table (`_multiline_codes`).
_LINE_BREAK = re.compile(r"\r|\n")


def text_width(text: str) -> int:
    """Columns `text` takes on a terminal: wide (East Asian) characters take two,
    combining marks none (as tabulate measures with `wcwidth`)."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _cell_width(cell: str) -> int:
    return max(text_width(line) for line in _LINE_BREAK.split(cell))


def _pad(text: str, width: int) -> str:
    return text + " " * (width - text_width(text))


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, markdown: bool) -> str:
    """The table's text, ending with a newline; empty when there are no rows (unless `markdown`)."""
    if not rows and not markdown:
        return ""
    # DVC-compat: tabulate strips data cells (not headers) unless told to keep whitespace.
    body = [[cell.strip() for cell in row] for row in rows]
    multiline = any(_LINE_BREAK.search(c) for c in [*headers, *(c for r in rows for c in r)])
    widths = [_cell_width(h) + 2 for h in headers]
    for row in body:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], _cell_width(cell))

    def lines(cells: Sequence[str]) -> list[list[str]]:
        """The row as physical lines, each a list of padded cells."""
        if not multiline:
            return [[_pad(c, w) for c, w in zip(cells, widths, strict=True)]]
        split = [c.splitlines() if _LINE_BREAK.search(c) else [c] for c in cells]
        # DVC-compat: an empty cell of a multi-line table has no lines, and a row of
        # empty cells none at all (tabulate).
        split = [parts if parts != [""] else [] for parts in split]
        height = max(len(parts) for parts in split)
        return [
            [
                _pad(parts[n], w) if n < len(parts) else " " * w
                for parts, w in zip(split, widths, strict=True)
            ]
            for n in range(height)
        ]

    if markdown:
        out = [f"| {' | '.join(line)} |" for line in lines(headers)]
        out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        out += [f"| {' | '.join(line)} |" for row in body for line in lines(row)]
        # DVC-compat: DVC adds a newline to markdown tables before printing a line.
        return "\n".join(out) + "\n\n"
    return (
        "\n".join("  ".join(line).rstrip() for row in [list(headers), *body] for line in lines(row))
        + "\n"
    )
