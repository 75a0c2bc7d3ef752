"""Progress callbacks: the core's long calls report `(files, bytes)` done so far."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int], object]


class Tally:
    """Feeds one callback from several core calls made in turn, so that its counts
    add up across them instead of starting again at zero with each call."""

    def __init__(self, sink: Progress | None) -> None:
        self.sink = sink
        self._done = (0, 0)  # what the finished calls reported
        self._last = (0, 0)  # what the current call reported last

    def part(self) -> Progress | None:
        """The callback for the next call (None when nobody listens)."""
        sink = self.sink
        if sink is None:
            return None
        self._done = (self._done[0] + self._last[0], self._done[1] + self._last[1])
        self._last = (0, 0)
        done = self._done

        def report(files: int, nbytes: int) -> None:
            self._last = (files, nbytes)
            sink(done[0] + files, done[1] + nbytes)

        return report
