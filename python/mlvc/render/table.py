"""Tables as DVC prints them (tabulate's `plain` and `github` formats, no number parsing).

DVC-compat: every cell is left-aligned text; a column is at least as wide as its
header plus two (tabulate's minimum padding); plain tables lose trailing spaces.
"""

from __future__ import annotations

from collections.abc import Sequence


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, markdown: bool) -> str:
    """The table's text, ending with a newline; empty when there are no rows (unless `markdown`)."""
    if not rows and not markdown:
        return ""
    widths = [len(h) + 2 for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str], sep: str) -> str:
        return sep.join(c.ljust(w) for c, w in zip(cells, widths, strict=True))

    if markdown:
        out = [f"| {line(headers, ' | ')} |"]
        out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        out += [f"| {line(r, ' | ')} |" for r in rows]
        # DVC-compat: DVC adds a newline to markdown tables before printing a line.
        return "\n".join(out) + "\n\n"
    return "\n".join(line(r, "  ").rstrip() for r in [list(headers), *rows]) + "\n"
