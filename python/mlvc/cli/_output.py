"""What commands print: results on stdout, warnings on stderr."""

from __future__ import annotations

import sys


def say(quiet: bool, text: str) -> None:
    """Prints `text` on stdout unless `quiet`; flushed, so that it comes before the
    output of commands mlvc starts afterwards."""
    if not quiet:
        sys.stdout.write(text)
        sys.stdout.flush()


def warn(text: str) -> None:
    """Prints a warning (a whole line, `warning: ...\\n`) on stderr."""
    sys.stderr.write(text)
