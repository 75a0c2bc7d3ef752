"""The `.gitignore` batch a pipeline run writes its outputs' entries with."""

from __future__ import annotations

from pathlib import Path

from mlvc import gitignore


def test_batch_says_which_files_change_and_writes_each_once(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".gitignore").write_text("/old\n*.tmp")  # no final newline
    batch = gitignore.IgnoreBatch()

    assert batch.add(tmp_path / "old") is None
    assert batch.add(tmp_path / "a[1]") == tmp_path / ".gitignore"
    assert batch.add(tmp_path / "a[1]") is None
    assert batch.add(tmp_path / "sub" / "b") == tmp_path / "sub" / ".gitignore"
    # Nothing is written before the flush.
    assert (tmp_path / ".gitignore").read_text() == "/old\n*.tmp"
    assert not (tmp_path / "sub" / ".gitignore").exists()

    batch.flush()
    assert (tmp_path / ".gitignore").read_text() == "/old\n*.tmp\n/a\\[1\\]\n"
    assert (tmp_path / "sub" / ".gitignore").read_text() == "/b\n"


def test_flush_merges_into_the_file_as_it_is_then(tmp_path: Path) -> None:
    gi = tmp_path / ".gitignore"
    batch = gitignore.IgnoreBatch()
    assert batch.add(tmp_path / "x") == gi
    assert batch.add(tmp_path / "y") == gi
    # Someone else writes the file in between (a stage's command, another tool).
    gi.write_text("/y\n/z\n")
    batch.flush()
    assert gi.read_text() == "/y\n/z\n/x\n"
    batch.flush()  # nothing left to write
    assert gi.read_text() == "/y\n/z\n/x\n"
