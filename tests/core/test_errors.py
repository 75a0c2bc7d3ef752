"""Bad input: every failure is a precise Python exception, never a panic."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import mlvc
from mlvc.exceptions import MlvcError, SpecialFileError


def test_missing_path_is_file_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError) as info:
        mlvc.hash_file(missing)
    assert info.value.errno == errno.ENOENT
    assert info.value.filename == str(missing)
    with pytest.raises(FileNotFoundError):
        mlvc.hash_tree(missing)


def test_broken_symlink_in_tree_names_it(tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    (root / "ok").write_bytes(b"1")
    (root / "dangling").symlink_to("nowhere")
    with pytest.raises(FileNotFoundError) as info:
        mlvc.hash_tree(root)
    assert info.value.filename.endswith("dangling")


def test_symlink_loop_is_eloop(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(OSError) as info:
        mlvc.hash_file(tmp_path / "a")
    assert info.value.errno == errno.ELOOP
    assert info.value.filename == str(tmp_path / "a")


def test_fifo_in_tracked_dir_is_refused_not_read(tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    (root / "ok").write_bytes(b"1")
    os.mkfifo(root / "pipe")
    with pytest.raises(SpecialFileError, match=r"pipe.*fifo"):
        mlvc.hash_tree(root)
    with pytest.raises(SpecialFileError):
        mlvc.hash_file(root / "pipe")


def test_directory_where_file_expected(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        mlvc.hash_file(tmp_path)


def test_unknown_algorithm_is_value_error(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(ValueError, match="sha1"):
        mlvc.hash_file(tmp_path / "f", algorithm="sha1")


def test_bad_hash_and_link_type_are_value_errors(tmp_path: Path) -> None:
    cache = mlvc.Cache(tmp_path / "c")
    with pytest.raises(ValueError, match="invalid hash"):
        cache.object_path("../../etc/passwd")
    with pytest.raises(ValueError, match="cache type"):
        cache.checkout_tree(
            "d41d8cd98f00b204e9800998ecf8427e.dir", tmp_path / "o", link_types="teleport"
        )


def test_corrupt_object_is_reported_by_verify(tmp_path: Path) -> None:
    src = tmp_path / "f"
    src.write_bytes(b"good")
    cache = mlvc.Cache(tmp_path / "c")
    h = hashlib.md5(b"good").hexdigest()
    cache.insert_file(src, h)
    obj = Path(cache.object_path(h))
    assert stat.S_IMODE(obj.stat().st_mode) == 0o444
    obj.chmod(0o644)
    obj.write_bytes(b"bad!")
    assert cache.verify() == [(h, hashlib.md5(b"bad!").hexdigest())]


def test_missing_manifest_is_file_not_found(tmp_path: Path) -> None:
    cache = mlvc.Cache(tmp_path / "c")
    with pytest.raises(FileNotFoundError):
        cache.read_manifest("d41d8cd98f00b204e9800998ecf8427e.dir")


def test_domain_errors_share_one_base() -> None:
    for name in mlvc.exceptions.__all__:
        assert issubclass(getattr(mlvc.exceptions, name), MlvcError)


def _run_unprivileged(code: str) -> subprocess.CompletedProcess[str]:
    """Runs Python code without the power to bypass file permissions.

    The suite may run as root, which reads anything; dropping the DAC override
    capabilities from the child's bounding set makes root obey mode bits.
    """
    argv = [sys.executable, "-c", code]
    if os.geteuid() == 0:
        argv = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", *argv]
    return subprocess.run(argv, capture_output=True, text=True)


def test_unreadable_file_is_permission_error(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"x")
    secret.chmod(0)
    code = textwrap.dedent(
        f"""
        import errno, mlvc
        try:
            mlvc.hash_tree({str(tmp_path)!r})
        except PermissionError as e:
            assert e.errno == errno.EACCES and e.filename == {str(secret)!r}, (e.errno, e.filename)
            print("ok")
        """
    )
    r = _run_unprivileged(code)
    assert r.stdout.strip() == "ok", r.stderr


def test_read_only_cache_dir_fails_cleanly(tmp_path: Path) -> None:
    src = tmp_path / "f"
    src.write_bytes(b"x")
    cache_dir = tmp_path / "cache"
    (cache_dir / "files" / "md5").mkdir(parents=True)
    for d in [cache_dir, cache_dir / "files", cache_dir / "files" / "md5"]:
        d.chmod(0o555)
    h = hashlib.md5(b"x").hexdigest()
    code = textwrap.dedent(
        f"""
        import mlvc
        cache = mlvc.Cache({str(cache_dir)!r})
        try:
            cache.insert_file({str(src)!r}, {h!r})
        except PermissionError as e:
            print("ok", e.filename)
        """
    )
    r = _run_unprivileged(code)
    assert r.stdout.startswith("ok"), r.stderr
    leftovers = [p for p in cache_dir.rglob("*") if p.is_file()]
    assert leftovers == []
