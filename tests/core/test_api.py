"""The public Python API of the core: results agree with hashlib and Python's json."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mlvc


def reference_dir_hash(root: Path) -> tuple[str, bytes]:
    """DVC's algorithm, written with the standard library only."""
    entries = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            full = Path(dirpath) / name
            rel = os.fsdecode(os.path.relpath(full, root)).replace(os.sep, "/")
            entries.append({"md5": hashlib.md5(full.read_bytes()).hexdigest(), "relpath": rel})
    entries.sort(key=lambda e: e["relpath"])
    raw = json.dumps(entries, sort_keys=True).encode()
    return hashlib.md5(raw).hexdigest() + ".dir", raw


def test_hash_file_md5_and_blake3(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"alpha\r\nbeta\r\n")
    assert mlvc.hash_file(f) == hashlib.md5(b"alpha\r\nbeta\r\n").hexdigest()
    assert len(mlvc.hash_file(f, algorithm="blake3")) == 64
    assert mlvc.hash_file(f, algorithm="md5-dos2unix") == hashlib.md5(b"alpha\nbeta\n").hexdigest()


def test_hash_tree_equals_reference(make_tree: Callable[..., Path]) -> None:
    root = make_tree(
        {
            "a-b": b"1",
            "a.txt": b"2",
            "a/x": b"3",
            "a/y/z": b"",
            "\u00fcml\u00e4ut/f\u00efle name.txt": b"hello\n",
            "emoji \U0001f601": b"e",
            'quote"back\\slash': b"q",
            "tab\there": b"t",
            ".hidden": b"h",
        }
    )
    tree = mlvc.hash_tree(root)
    want_hash, want_raw = reference_dir_hash(root)
    assert tree.manifest == want_raw
    assert tree.hash == want_hash
    assert tree.nfiles == 9
    assert tree.size == sum(len(p.read_bytes()) for p in root.rglob("*") if p.is_file())


def test_non_utf8_names_hash_like_python(tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    (root / os.fsdecode(b"bad\xffname")).write_bytes(b"1")
    (root / "new\nline").write_bytes(b"2")
    (root / "\ue000").write_bytes(b"3")
    tree = mlvc.hash_tree(root)
    want_hash, want_raw = reference_dir_hash(root)
    assert tree.manifest == want_raw
    assert tree.hash == want_hash
    names = {f.relpath for f in tree.files}
    assert os.fsdecode(b"bad\xffname") in names


def test_manifest_round_trip() -> None:
    entries = [("b", hashlib.md5(b"b").hexdigest()), ("a/c", hashlib.md5(b"c").hexdigest())]
    raw, ident = mlvc.build_manifest(entries)
    assert ident == hashlib.md5(raw).hexdigest() + ".dir"
    assert mlvc.parse_manifest(raw) == sorted(entries)


@pytest.mark.parametrize("relpath", ["../escape", "/etc/passwd", "a/../../b", "a//b", "./a"])
def test_parse_manifest_rejects_unsafe_paths(relpath: str) -> None:
    raw = json.dumps([{"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": relpath}]).encode()
    with pytest.raises(mlvc.exceptions.InvalidManifestError):
        mlvc.parse_manifest(raw)


def test_walk_lists_tracked_files(make_tree: Callable[..., Path]) -> None:
    root = make_tree({"keep.csv": b"k", "x.log": b"l", ".dvcignore": b"*.log\n"})
    names = [w.relpath for w in mlvc.walk(root)]
    assert names == [".dvcignore", "keep.csv"]


def test_hash_files_progress_callback_sees_the_totals(make_tree: Callable[..., Path]) -> None:
    root = make_tree({f"f{i}": b"x" * i for i in range(50)})
    calls: list[tuple[int, int]] = []
    mlvc.hash_files(sorted(root.iterdir()), progress=lambda f, b: calls.append((f, b)))
    assert calls[-1] == (50, sum(range(50)))


@pytest.mark.parametrize("mode", ["copy", "link"])
def test_add_tree_progress_counts_each_file_once(
    tmp_path: Path, make_tree: Callable[..., Path], mode: str
) -> None:
    # Small files, and one large enough to be copied after hashing rather than from
    # the buffer it was hashed from.
    files = {f"d{i % 3}/f{i}": b"y" * i for i in range(40)} | {"big": b"z" * (3 << 20)}
    root = make_tree(files)
    calls: list[tuple[int, int]] = []
    mlvc.Cache(tmp_path / "cache").add_tree(
        root, mode=mode, progress=lambda f, b: calls.append((f, b))
    )
    assert calls[-1] == (len(files), sum(len(v) for v in files.values()))


def test_cache_add_verify_checkout(tmp_path: Path, make_tree: Callable[..., Path]) -> None:
    data = make_tree({"a": b"alpha", "sub/b": b"beta"})
    cache = mlvc.Cache(tmp_path / "cache")
    tree = cache.add_tree(data)
    assert cache.contains(tree.hash)
    assert sorted(cache.list()) == sorted(
        [tree.hash, hashlib.md5(b"alpha").hexdigest(), hashlib.md5(b"beta").hexdigest()]
    )
    assert cache.verify() == []
    out = tmp_path / "out"
    res = cache.checkout_tree(tree.hash, out, link_types="hardlink")
    assert res.link_type == "hardlink"
    assert sorted(os.fsdecode(p) for p in res.linked) == [str(out / "a"), str(out / "sub/b")]
    assert (out / "sub/b").read_bytes() == b"beta"
    assert "copy" in mlvc.supported_link_types(tmp_path / "cache", tmp_path)


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=4096), st.integers(min_value=1, max_value=5000))
def test_buffer_size_never_changes_a_hash(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, buf: int
) -> None:
    f = tmp_path_factory.mktemp("p") / "f"
    f.write_bytes(data)
    assert mlvc.hash_file(f, buffer_size=buf) == hashlib.md5(data).hexdigest()


@settings(max_examples=15, deadline=None)
@given(
    st.dictionaries(
        st.text(st.characters(codec="utf-8", exclude_characters="/\x00"), min_size=1, max_size=8),
        st.binary(max_size=64),
        min_size=1,
        max_size=12,
    ),
    st.integers(min_value=1, max_value=4),
)
def test_tree_hash_independent_of_jobs(
    tmp_path_factory: pytest.TempPathFactory, files: dict[str, bytes], jobs: int
) -> None:
    root = tmp_path_factory.mktemp("t")
    for name, data in files.items():
        # Names DVC never tracks, or that are not file names at all.
        if name in (".", "..", ".git", ".dvc", ".hg", ".dvcignore"):
            continue
        (root / name).write_bytes(data)
    want_hash, _ = reference_dir_hash(root)
    assert mlvc.hash_tree(root, jobs=jobs).hash == want_hash


def test_adding_with_links_leaves_the_state_trusting_the_linked_files(
    tmp_path: Path, make_tree: Callable[..., Path]
) -> None:
    # Linking moves every file's ctime (mode, link count); a file whose mtime
    # did not move was not written since it was hashed, so it stays remembered.
    root = make_tree({f"d{i % 5}/f{i}": f"content {i}".encode() for i in range(300)})
    written_late = root / "d0" / "f0"
    time.sleep(0.25)  # past the timestamp tick: the files are not racily clean
    state = mlvc.State(tmp_path / "state.db")
    cache = mlvc.Cache(tmp_path / "cache")
    added = cache.add_tree(root, mode="link", state=state)
    assert added.linked_in_place == 300
    again = mlvc.hash_tree(root, state=state)
    assert again.hash == added.hash
    assert all(f.from_state for f in again.files)
    # A file written after linking is hashed again, whatever its timestamps.
    os.chmod(written_late, 0o644)
    written_late.write_bytes(b"content X")
    changed = mlvc.hash_tree(root, state=state)
    assert changed.hash != added.hash
    assert [f.relpath for f in changed.files if not f.from_state] == ["d0/f0"]


def test_write_new_file_creates_parents_once_with_the_exact_mode(tmp_path: Path) -> None:
    from mlvc._core import write_new_file

    path = tmp_path / "runs" / "ab" / "key" / "value"
    # A process started with a strict umask (the core reads it once per process).
    script = (
        "import os, sys; os.umask(0o077); from mlvc._core import write_new_file; "
        "sys.exit(0 if write_new_file(sys.argv[1], b'first\\n', 0o644) else 1)"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=True)
    assert path.read_bytes() == b"first\n"
    assert path.stat().st_mode & 0o7777 == 0o644
    # An existing file is left as it is.
    assert write_new_file(path, b"second\n") is False
    assert path.read_bytes() == b"first\n"
    # No temp file is left beside it.
    assert os.listdir(path.parent) == ["value"]


def test_write_new_file_errors_name_the_file(tmp_path: Path) -> None:
    from mlvc._core import write_new_file

    (tmp_path / "plain").write_text("x")
    with pytest.raises(NotADirectoryError) as info:
        write_new_file(tmp_path / "plain" / "f", b"data")
    assert info.value.filename is not None and "plain" in str(info.value.filename)
