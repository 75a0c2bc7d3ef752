"""A `dvc.lock` written by DVC 2 (md5-dos2unix hashes, no `hash: md5`), read as DVC 3 does."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]

DVC_YAML = """\
stages:
  one:
    cmd: cat plain.txt > o1.txt
    deps: [plain.txt]
    outs: [o1.txt]
  two:
    cmd: cat crlf.txt > o2.txt && mkdir -p od && cp ddir/* od/
    deps: [crlf.txt, ddir]
    outs: [o2.txt, od]
"""

FILES = {
    "plain.txt": b"plain\n",
    "crlf.txt": b"hello\r\nworld\r\n",
    "ddir/x": b"x\r\n",
    "ddir/y": b"y\n",
}


def d2u(data: bytes) -> str:
    # DVC 2: text (no NUL here) has CRLF turned into LF before hashing.
    return hashlib.md5(data.replace(b"\r\n", b"\n")).hexdigest()


def legacy_tree(files: dict[str, bytes]) -> tuple[str, bytes]:
    entries = [{"md5": d2u(files[k]), "relpath": k} for k in sorted(files)]
    raw = json.dumps(entries, sort_keys=True).encode()
    return hashlib.md5(raw).hexdigest() + ".dir", raw


def put(cache: Path, h: str, data: bytes) -> None:
    p = cache / h[:2] / h[2:]
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    p.chmod(0o444)


def make_2x_repo(tools: Tools, root: Path) -> None:
    """The state DVC 2 leaves after `dvc repro`: outputs, 2.x lock, objects in the old layout."""
    _mlvc, dvc, git, _ = tools
    dvc("init", "-q", cwd=root)
    for rel, data in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (root / "dvc.yaml").write_text(DVC_YAML)
    (root / "o1.txt").write_bytes(FILES["plain.txt"])
    (root / "o2.txt").write_bytes(FILES["crlf.txt"])
    (root / "od").mkdir()
    sub = {"x": FILES["ddir/x"], "y": FILES["ddir/y"]}
    for k, v in sub.items():
        (root / "od" / k).write_bytes(v)
    (root / ".gitignore").write_text("/o1.txt\n/o2.txt\n/od\n")
    tree, manifest = legacy_tree(sub)
    cache = root / ".dvc" / "cache"
    for data in [FILES["plain.txt"], FILES["crlf.txt"], *sub.values()]:
        put(cache, d2u(data), data)
    put(cache, tree, manifest)
    plain, crlf = d2u(FILES["plain.txt"]), d2u(FILES["crlf.txt"])
    (root / "dvc.lock").write_text(
        "schema: '2.0'\n"
        "stages:\n"
        "  one:\n"
        "    cmd: cat plain.txt > o1.txt\n"
        "    deps:\n"
        f"    - path: plain.txt\n      md5: {plain}\n      size: 6\n"
        "    outs:\n"
        f"    - path: o1.txt\n      md5: {plain}\n      size: 6\n"
        "  two:\n"
        "    cmd: cat crlf.txt > o2.txt && mkdir -p od && cp ddir/* od/\n"
        "    deps:\n"
        f"    - path: crlf.txt\n      md5: {crlf}\n      size: 14\n"
        f"    - path: ddir\n      md5: {tree}\n      size: 5\n      nfiles: 2\n"
        "    outs:\n"
        f"    - path: o2.txt\n      md5: {crlf}\n      size: 14\n"
        f"    - path: od\n      md5: {tree}\n      size: 5\n      nfiles: 2\n"
    )
    git("add", "-A", cwd=root)
    git("commit", "-qm", "dvc 2 state", cwd=root)


@pytest.fixture
def pair(tools: Tools, tmp_path: Path) -> tuple[Tools, Path, Path]:
    _mlvc, _dvc, git, ours = tools
    make_2x_repo(tools, ours)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    git("init", "-q", cwd=theirs)
    make_2x_repo(tools, theirs)
    return tools, ours, theirs


def cache_files(root: Path) -> list[str]:
    cache = root / ".dvc" / "cache"
    return sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file())


def test_unchanged_2x_lock_is_up_to_date(pair: tuple[Tools, Path, Path]) -> None:
    (mlvc, dvc, _git, _), ours, theirs = pair
    assert json.loads(dvc("status", "--json", cwd=theirs).stdout) == {}
    assert json.loads(mlvc("status", "--json", cwd=ours).stdout) == {}
    lock = (ours / "dvc.lock").read_bytes()
    out = mlvc("repro", cwd=ours).stdout
    assert "Running stage" not in out
    assert out == dvc("repro", cwd=theirs).stdout.replace("dvc", "mlvc")
    assert (ours / "dvc.lock").read_bytes() == lock == (theirs / "dvc.lock").read_bytes()


def test_rerun_keeps_unchanged_2x_entries_like_dvc(pair: tuple[Tools, Path, Path]) -> None:
    (mlvc, dvc, _git, _), ours, theirs = pair
    for root in (ours, theirs):
        (root / "plain.txt").write_bytes(b"plain v2\n")
        text = (root / "dvc.yaml").read_text().replace("od/\n", "od/ && true\n")
        (root / "dvc.yaml").write_text(text)
    ours_s = json.loads(mlvc("status", "--json", cwd=ours).stdout)
    assert ours_s == json.loads(dvc("status", "--json", cwd=theirs).stdout)
    assert ours_s == {
        "one": [{"changed deps": {"plain.txt": "modified"}}],
        "two": ["changed command"],
    }
    mlvc("repro", cwd=ours)
    dvc("repro", cwd=theirs)
    # `one` changed: `hash: md5`; `two` only re-ran: its 2.x entries stay as they were.
    assert (ours / "dvc.lock").read_bytes() == (theirs / "dvc.lock").read_bytes()
    assert "hash: md5" not in (ours / "dvc.lock").read_text().split("  two:")[1]
    assert cache_files(ours) == cache_files(theirs)
    assert json.loads(dvc("status", "--json", cwd=ours).stdout) == {}


def test_lost_outputs_come_back_from_a_2x_lock_like_dvc(pair: tuple[Tools, Path, Path]) -> None:
    (mlvc, dvc, _git, _), ours, theirs = pair
    lock = (ours / "dvc.lock").read_bytes()
    outs = {}
    for tool, root in ((mlvc, ours), (dvc, theirs)):
        (root / "o1.txt").unlink()
        shutil.rmtree(root / "od")
        r = tool("repro", cwd=root)
        assert "Running stage" not in r.stdout and "is cached" in r.stdout, r
        assert (root / "dvc.lock").read_bytes() == lock
        outs[root.name] = [(root / p).read_bytes() for p in ("o1.txt", "od/x", "od/y")]
    assert outs[ours.name] == outs[theirs.name]
    assert json.loads(dvc("status", "--json", cwd=ours).stdout) == {}


def test_repro_pull_brings_2x_outputs_from_the_remote_like_dvc(
    pair: tuple[Tools, Path, Path],
) -> None:
    (mlvc, dvc, _git, _), ours, theirs = pair
    lock = (ours / "dvc.lock").read_bytes()
    reports = []
    for tool, root in ((mlvc, ours), (dvc, theirs)):
        # DVC fills the remote in DVC 2's layout (`<remote>/<2>/<30>`).
        dvc("remote", "add", "-q", "-d", "r", str(root.parent / f"{root.name}-remote"), cwd=root)
        dvc("push", "-q", cwd=root)
        shutil.rmtree(root / ".dvc" / "cache")
        (root / "o1.txt").unlink()
        shutil.rmtree(root / "od")
        reports.append(tool("repro", "--pull", cwd=root).stdout)
        assert (root / "dvc.lock").read_bytes() == lock
        assert (root / "od/x").read_bytes() == FILES["ddir/x"]
    assert reports[0] == reports[1]
    assert "Pulling data for stage: 'two'" in reports[0] and "Running" not in reports[0]


def test_missing_2x_object_is_not_in_cache(pair: tuple[Tools, Path, Path]) -> None:
    (mlvc, dvc, _git, _), ours, theirs = pair
    h = d2u(FILES["crlf.txt"])
    for root in (ours, theirs):
        shutil.rmtree(root / ".dvc" / "cache" / h[:2])
    theirs_s = json.loads(dvc("status", "--json", cwd=theirs).stdout)
    assert json.loads(mlvc("status", "--json", cwd=ours).stdout) == theirs_s
    assert theirs_s == {"two": [{"changed outs": {"o2.txt": "not in cache"}}]}
