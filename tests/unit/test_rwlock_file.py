"""How `.dvc/tmp/rwlock` and the lock files are written: in place while they fit a page."""

from __future__ import annotations

import json
import os
from pathlib import Path

from mlvc.lock import write_owner
from mlvc.rwlock import _PAGE, _store


def test_entries_are_written_in_place_padded_to_the_old_length(tmp_path: Path) -> None:
    path = tmp_path / "rwlock"
    long = json.dumps({"read": {}, "write": {"out": {"pid": 1, "cmd": "dvc repro"}}})
    _store(path, long.encode())
    inode = path.stat().st_ino
    short = json.dumps({"read": {}, "write": {}})
    _store(path, short.encode())
    text = path.read_text()
    assert path.stat().st_ino == inode
    assert len(text) == len(long) and text.rstrip(" ") == short
    assert json.loads(text) == {"read": {}, "write": {}}


def test_entries_longer_than_a_page_replace_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rwlock"
    _store(path, b"{}")
    inode = path.stat().st_ino
    big = json.dumps({"read": {f"p{i}": [{"pid": i, "cmd": "x"}] for i in range(200)}})
    assert len(big) > _PAGE
    _store(path, big.encode())
    assert path.read_text() == big
    assert path.stat().st_ino != inode
    # Back under a page, the file is no longer padded to the big length.
    _store(path, b"{}")
    assert path.read_bytes() == b"{}"


def test_the_guard_holds_this_process_id_alone(tmp_path: Path) -> None:
    path = tmp_path / "rwlock.lock"
    path.write_text(" 123456789012\n")
    fd = os.open(path, os.O_RDWR)
    try:
        write_owner(fd)
    finally:
        os.close(fd)
    assert path.read_text() == f" {os.getpid()}\n"
