"""`mlvc hash`: md5sum-compatible lines, DVC directory hashes, JSON, exit codes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

MLVC = [sys.executable, "-m", "mlvc"]


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    """Runs `mlvc hash ARGS...`."""
    return subprocess.run([*MLVC, "hash", *map(str, args)], capture_output=True, cwd=cwd)


def test_file_lines_are_accepted_by_md5sum_check(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"alpha\n")
    (tmp_path / "back\\slash").write_bytes(b"b")
    (tmp_path / "new\nline").write_bytes(b"n")
    r = run("a.txt", "back\\slash", "new\nline", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    first = r.stdout.split(b"\n")[0]
    assert first == hashlib.md5(b"alpha\n").hexdigest().encode() + b"  a.txt"
    (tmp_path / "sums").write_bytes(r.stdout)
    check = subprocess.run(["md5sum", "-c", "sums"], cwd=tmp_path, capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(b": OK") == 3


def test_directory_prints_dvc_dir_hash_and_recursive_files(
    tmp_path: Path, make_tree: Callable[..., Path]
) -> None:
    make_tree({"x": b"1", "sub/y": b"2"}, tmp_path / "d")
    entries = [
        {"md5": hashlib.md5(b"2").hexdigest(), "relpath": "sub/y"},
        {"md5": hashlib.md5(b"1").hexdigest(), "relpath": "x"},
    ]
    want = hashlib.md5(json.dumps(entries, sort_keys=True).encode()).hexdigest() + ".dir"
    r = run("d", cwd=tmp_path)
    assert r.stdout == f"{want}  d\n".encode()
    assert b"hashed 2 files" in r.stderr
    r = run("-r", "d", cwd=tmp_path)
    lines = r.stdout.decode().splitlines()
    assert lines[-1] == f"{want}  d"
    assert f"{hashlib.md5(b'2').hexdigest()}  d/sub/y" in lines


def test_json_output(tmp_path: Path, make_tree: Callable[..., Path]) -> None:
    make_tree({"x": b"1", "y": b"22"}, tmp_path / "d")
    (tmp_path / "f").write_bytes(b"abc")
    r = run("--json", "d", "f", cwd=tmp_path)
    data = json.loads(r.stdout)
    assert data[0]["path"] == "d" and data[0]["size"] == 3 and data[0]["nfiles"] == 2
    assert data[0]["hash"].endswith(".dir")
    assert data[1] == {
        "path": "f",
        "hash": hashlib.md5(b"abc").hexdigest(),
        "size": 3,
        "nfiles": None,
    }


def test_blake3_option(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"abc")
    r = run("--algorithm", "blake3", "f", cwd=tmp_path)
    assert r.stdout.startswith(b"6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85")


def test_inside_a_repo_uses_the_state_cache_and_dvcignore(
    tmp_path: Path, make_tree: Callable[..., Path]
) -> None:
    (tmp_path / ".dvc").mkdir()
    (tmp_path / ".dvcignore").write_text("*.log\n")
    make_tree({f"f{i}": str(i).encode() for i in range(20)} | {"skip.log": b"x"}, tmp_path / "d")
    old = time.time() - 10
    for p in (tmp_path / "d").iterdir():
        os.utime(p, (old, old))
    # utime sets ctime to now; files changed within the last tick are rehashed
    # on purpose (racily clean), so let them age past it.
    time.sleep(0.3)
    first = run("d", cwd=tmp_path)
    assert b"hashed 20 files" in first.stderr
    assert (tmp_path / ".dvc/tmp/mlvc/state.db").exists()
    second = run("d", cwd=tmp_path)
    assert second.stdout == first.stdout
    assert b"20 from the state cache" in second.stderr
    third = run("--no-state", "d", cwd=tmp_path)
    assert b"state cache" not in third.stderr


def test_missing_path_is_one_line_error_and_exit_1(tmp_path: Path) -> None:
    r = run("nope", cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr.decode().splitlines()[0] == "error: `nope` does not exist"
    assert b"Traceback" not in r.stderr


def test_fifo_error_names_file_and_gives_a_hint(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    os.mkfifo(tmp_path / "d" / "pipe")
    r = run("d", cwd=tmp_path)
    assert r.returncode == 1
    err = r.stderr.decode()
    assert "pipe" in err and "fifo" in err and "hint:" in err


def test_bad_usage_exits_254(tmp_path: Path) -> None:
    assert run("--no-such-flag", "x", cwd=tmp_path).returncode == 254
    assert run("--algorithm", "sha1", "x", cwd=tmp_path).returncode == 254


def test_help_lists_hash() -> None:
    r = subprocess.run([*MLVC, "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "hash" in r.stdout
