"""Yes/no questions asked as DVC asks them."""

from __future__ import annotations

import sys

# DVC-compat: the answers DVC accepts (in any case); it lists them as a Python list.
CHOICES = ("yes", "no", "y", "n")


def confirm(question: str, *, suffix: str = " [y/n]:", needs_tty: bool = False) -> bool | None:
    """Asks on stdout and reads stdin until an accepted answer; None at end of input.

    DVC-compat: `gc` asks `... [y/n]: ` even when stdin is not a terminal (a piped
    `y` answers it); `repro -i` asks `... [y/n] ` and only when stdout is a
    terminal (`needs_tty`: otherwise the answer is no).
    """
    if needs_tty and not sys.stdout.isatty():
        return False
    while True:
        try:
            answer = input(f"{question}{suffix} ").lower()
        except EOFError:
            return None
        if answer in CHOICES:
            return answer.startswith("y")
        sys.stdout.write(f"Your response must be one of: {list(CHOICES)}. Please try again.\n")
