"""A progress line on stderr for long operations; silent when stderr is not a terminal.

The line appears only once the work has lasted `SHOW_AFTER_S`: short commands show
nothing (and do not import rich), long ones say what they are doing.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

# Work shorter than this shows no line at all.
SHOW_AFTER_S = 0.3
LINE = "{task.fields[verb]} {task.fields[files]} files, {task.fields[mib]:.1f} MiB"


class Meter:
    """Context manager and progress callback `(files, bytes)` for the core's long calls."""

    def __init__(self, verb: str, *, enabled: bool = True) -> None:
        self.verb = verb
        self.enabled = enabled and sys.stderr.isatty()
        self._progress: Any = None
        self._task: Any = None
        self._started = 0.0
        self._inside = False
        self._paused = False

    def __enter__(self) -> Meter:
        self._started = time.monotonic()
        self._inside = True
        return self

    def __exit__(self, *exc: object) -> None:
        self._inside = False
        if self._progress is not None:
            self._progress.__exit__(None, None, None)
            self._progress = None

    def _show(self) -> bool:
        """Starts the line when the work has lasted long enough; whether it is shown."""
        if self._progress is not None:
            return True
        if not (self.enabled and self._inside) or self._paused:
            return False
        if time.monotonic() - self._started < SHOW_AFTER_S:
            return False
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn(LINE),
            console=Console(stderr=True),
            transient=True,
            # The command's own output stays on stdout, where it belongs.
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._progress.__enter__()
        self._task = self._progress.add_task(
            self.verb, verb=self.verb, files=0, mib=0.0, total=None
        )
        return True

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """The line taken down (and stdout given back) while the user is asked something."""
        self._paused = True
        shown = self._progress
        if shown is not None:
            shown.stop()
        try:
            yield
        finally:
            self._paused = False
            if shown is not None:
                shown.start()

    def __call__(self, files: int, nbytes: int) -> None:
        if self._show():
            self._progress.update(self._task, verb=self.verb, files=files, mib=nbytes / 2**20)

    def then(self, verb: str) -> Callable[[int, int], None]:
        """The callback of a next step: from its first report on, the line says `verb`
        and that step's own counts."""

        def report(files: int, nbytes: int) -> None:
            self.verb = verb
            self(files, nbytes)

        return report
