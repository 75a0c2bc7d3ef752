"""Progress counts that add up over several core calls."""

from __future__ import annotations

from pathlib import Path

import mlvc
from mlvc.progress import Tally


def test_tally_adds_up_successive_calls() -> None:
    seen: list[tuple[int, int]] = []
    tally = Tally(lambda f, b: seen.append((f, b)))
    first = tally.part()
    assert first is not None
    first(1, 10)
    first(3, 30)
    second = tally.part()
    assert second is not None
    second(2, 5)
    assert seen == [(1, 10), (3, 30), (5, 35)]
    assert Tally(None).part() is None


def test_tally_over_real_core_calls(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"f{i}").write_bytes(b"x" * (i + 1))
    seen: list[tuple[int, int]] = []
    tally = Tally(lambda f, b: seen.append((f, b)))
    for i in range(3):
        mlvc.hash_files([tmp_path / f"f{i}"], progress=tally.part())
    assert seen[-1] == (3, 6)
