"""A progress line on stderr for long operations; silent when stderr is not a terminal."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any


class Meter:
    """Context manager and progress callback `(files, bytes)` for the core's long calls."""

    def __init__(self, verb: str, *, enabled: bool = True) -> None:
        self.verb = verb
        self.enabled = enabled and sys.stderr.isatty()
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> Meter:
        if self.enabled:
            from rich.progress import Progress, SpinnerColumn, TextColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn(
                    "{task.fields[verb]} {task.fields[files]} files, {task.fields[mib]:.1f} MiB"
                ),
                transient=True,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task(
                self.verb, verb=self.verb, files=0, mib=0.0, total=None
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(None, None, None)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """The line taken down (and stdout given back) while the user is asked something."""
        if self._progress is None:
            yield
            return
        self._progress.stop()
        try:
            yield
        finally:
            self._progress.start()

    def __call__(self, files: int, nbytes: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, files=files, mib=nbytes / 2**20)

    def then(self, verb: str) -> Callable[[int, int], None]:
        """The callback of a next step: from its first report on, the line says `verb`
        and that step's own counts."""

        def report(files: int, nbytes: int) -> None:
            if self.verb != verb:
                self.verb = verb
                if self._progress is not None:
                    self._progress.update(self._task, verb=verb)
            self(files, nbytes)

        return report
