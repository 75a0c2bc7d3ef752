"""`.dvc` files written by DVC 2 (md5-dos2unix, no `hash: md5`, objects in the old
cache layout `<cache>/<2>/<30>`), used by mlvc's data commands as DVC 3 uses them.

No DVC 2 is installed: the files and objects are made by hand as DVC 2 writes them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.interop.conftest import Runner
from tests.interop.test_legacy_lock_interop import d2u, legacy_tree, put

Tools = tuple[Runner, Runner, Runner, Path]

# `crlf.txt` and `d/a` have CRLF line endings: their DVC 2 names are not their md5.
FILES = {"x.txt": b"x\n", "crlf.txt": b"hello\r\nworld\r\n"}
DIR = {"a": b"a\r\n", "b/c": b"c\n"}


def legacy_objects() -> dict[str, bytes]:
    """Every object of the data below, by DVC 2 name."""
    tree, manifest = legacy_tree(DIR)
    objects = {d2u(v): v for v in [*FILES.values(), *DIR.values()]}
    objects[tree] = manifest
    return objects


def make_2x_repo(tools: Tools, root: Path) -> None:
    """What DVC 2 leaves after `dvc add x.txt crlf.txt d`, committed."""
    _mlvc, dvc, git, _ = tools
    dvc("init", "-q", cwd=root)
    cache = root / ".dvc" / "cache"
    for name, data in FILES.items():
        (root / name).write_bytes(data)
        (root / f"{name}.dvc").write_text(
            f"outs:\n- md5: {d2u(data)}\n  size: {len(data)}\n  path: {name}\n"
        )
    for rel, data in DIR.items():
        (root / "d" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "d" / rel).write_bytes(data)
    tree, _ = legacy_tree(DIR)
    size = sum(len(v) for v in DIR.values())
    (root / "d.dvc").write_text(f"outs:\n- md5: {tree}\n  size: {size}\n  nfiles: 2\n  path: d\n")
    for h, data in legacy_objects().items():
        put(cache, h, data)
    (root / ".gitignore").write_text("/x.txt\n/crlf.txt\n/d\n")
    git("add", "-A", cwd=root)
    git("commit", "-qm", "dvc 2 state", cwd=root)


@pytest.fixture
def pair(tools: Tools, tmp_path: Path) -> tuple[Tools, Path, Path]:
    """The same DVC 2 repository twice: `ours` for mlvc, `theirs` for DVC."""
    _mlvc, _dvc, git, ours = tools
    make_2x_repo(tools, ours)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    git("init", "-q", cwd=theirs)
    make_2x_repo(tools, theirs)
    return tools, ours, theirs


def workspace(root: Path) -> dict[str, bytes]:
    names = [*FILES, *(f"d/{k}" for k in DIR)]
    return {n: (root / n).read_bytes() for n in names if (root / n).exists()}


def remove_data(root: Path) -> None:
    for name in FILES:
        (root / name).unlink()
    shutil.rmtree(root / "d")


def stored(store: Path) -> list[str]:
    return sorted(p.relative_to(store).as_posix() for p in store.rglob("*") if p.is_file())


def test_unchanged_2x_outputs_are_up_to_date(pair: tuple[Tools, Path, Path]) -> None:
    (mlvc, dvc, _git, _), ours, theirs = pair
    assert json.loads(dvc("status", "--json", cwd=theirs).stdout) == {}
    assert json.loads(mlvc("status", "--json", cwd=ours).stdout) == {}
    for args in (["data", "status", "--json"], ["diff", "--json"]):
        assert json.loads(mlvc(*args, cwd=ours).stdout) == json.loads(dvc(*args, cwd=theirs).stdout)


def test_changed_crlf_file_is_modified_as_dvc_says(pair: tuple[Tools, Path, Path]) -> None:
    (mlvc, dvc, _git, _), ours, theirs = pair
    for root in (ours, theirs):
        (root / "crlf.txt").write_bytes(b"hello\r\nthere\r\n")
        (root / "d" / "new").write_bytes(b"n\n")
    assert json.loads(mlvc("status", "--json", cwd=ours).stdout) == json.loads(
        dvc("status", "--json", cwd=theirs).stdout
    )
    args = ["diff", "--json", "--show-hash"]
    assert json.loads(mlvc(*args, cwd=ours).stdout) == json.loads(dvc(*args, cwd=theirs).stdout)
    ours_status = json.loads(mlvc("data", "status", "--json", cwd=ours).stdout)
    theirs_status = json.loads(dvc("data", "status", "--json", cwd=theirs).stdout)
    assert {k: sorted(v) for k, v in ours_status["uncommitted"].items()} == {
        k: sorted(v) for k, v in theirs_status["uncommitted"].items()
    }


def test_missing_2x_object_is_not_in_cache(pair: tuple[Tools, Path, Path]) -> None:
    (mlvc, dvc, _git, _), ours, theirs = pair
    for root in (ours, theirs):
        (root / ".dvc" / "cache" / d2u(DIR["a"])[:2] / d2u(DIR["a"])[2:]).unlink()
    assert json.loads(mlvc("status", "--json", cwd=ours).stdout) == json.loads(
        dvc("status", "--json", cwd=theirs).stdout
    )


def test_checkout_restores_2x_outputs(pair: tuple[Tools, Path, Path]) -> None:
    (mlvc, dvc, _git, _), ours, theirs = pair
    expected = workspace(ours)
    # Already right (CRLF files included): nothing to do.
    assert mlvc("checkout", cwd=ours).returncode == 0
    assert dvc("checkout", cwd=theirs).returncode == 0
    for root in (ours, theirs):
        remove_data(root)
    assert mlvc("checkout", cwd=ours).stdout == dvc("checkout", cwd=theirs).stdout
    assert workspace(ours) == workspace(theirs) == expected
    # One file of the directory lost: the other (CRLF, unchanged) is no conflict.
    for root in (ours, theirs):
        (root / "d" / "b" / "c").unlink()
    assert mlvc("checkout", cwd=ours).stdout == dvc("checkout", cwd=theirs).stdout
    assert workspace(ours) == expected
    assert json.loads(mlvc("status", "--json", cwd=ours).stdout) == {}


def test_checkout_keeps_unsaved_change_in_2x_directory(pair: tuple[Tools, Path, Path]) -> None:
    (mlvc, dvc, _git, _), ours, theirs = pair
    for root in (ours, theirs):
        (root / "d" / "a").write_bytes(b"zz\r\n")
    assert mlvc("checkout", cwd=ours, check=False).returncode != 0
    assert dvc("checkout", cwd=theirs, check=False, input="").returncode != 0
    assert (ours / "d" / "a").read_bytes() == b"zz\r\n"
    mlvc("checkout", "--force", cwd=ours)
    assert (ours / "d" / "a").read_bytes() == DIR["a"]


def test_commit_and_add_treat_2x_outputs_as_dvc(pair: tuple[Tools, Path, Path]) -> None:
    """Unchanged: the DVC 2 record stays; changed: rewritten as DVC 3 (`hash: md5`)."""
    (mlvc, dvc, _git, _), ours, theirs = pair
    names = ["x.txt.dvc", "crlf.txt.dvc", "d.dvc"]
    before = {n: (ours / n).read_text() for n in names}
    mlvc("commit", "-f", cwd=ours)
    mlvc("add", "x.txt", "crlf.txt", "d", cwd=ours)
    assert {n: (ours / n).read_text() for n in names} == before
    for root in (ours, theirs):
        (root / "crlf.txt").write_bytes(b"hello\r\nthere\r\n")
        (root / "d" / "new").write_bytes(b"n\n")
    mlvc("commit", "-f", cwd=ours)
    dvc("commit", "-f", cwd=theirs)
    for n in names:
        assert (ours / n).read_text() == (theirs / n).read_text(), n
    assert "hash: md5" in (ours / "crlf.txt.dvc").read_text()
    assert (ours / "x.txt.dvc").read_text() == before["x.txt.dvc"]
    assert json.loads(mlvc("status", "--json", cwd=ours).stdout) == {}
    assert json.loads(dvc("status", "--json", cwd=ours).stdout) == {}


@pytest.mark.parametrize("pusher", ["mlvc", "dvc"])
def test_remote_filled_by_one_serves_the_other(
    pair: tuple[Tools, Path, Path], tmp_path: Path, pusher: str
) -> None:
    (mlvc, dvc, git, _), ours, theirs = pair
    push, pull = (mlvc, dvc) if pusher == "mlvc" else (dvc, mlvc)
    src, dst = (ours, theirs) if pusher == "mlvc" else (theirs, ours)
    remote = tmp_path / "remote"
    for root in (ours, theirs):
        dvc("remote", "add", "-d", "r", str(remote), cwd=root)
    assert json.loads(push("status", "-c", "--json", cwd=src).stdout) == {
        "crlf.txt": "new",
        "d": "new",
        "d/a": "new",
        "d/b/c": "new",
        "x.txt": "new",
    }
    push("push", cwd=src)
    # DVC-compat: DVC 2 objects go to the remote's old layout, `<url>/<2>/<30>`.
    assert stored(remote) == sorted(f"{h[:2]}/{h[2:]}" for h in legacy_objects())
    for tool in (mlvc, dvc):
        assert json.loads(tool("status", "-c", "--json", cwd=src).stdout) == {}
    shutil.rmtree(dst / ".dvc" / "cache")
    remove_data(dst)
    pull("pull", cwd=dst)
    assert workspace(dst) == workspace(src)
    assert stored(dst / ".dvc" / "cache") == stored(remote)
    for tool in (mlvc, dvc):
        assert json.loads(tool("status", "--json", cwd=dst).stdout) == {}
    # fetch, then checkout, the same way.
    shutil.rmtree(dst / ".dvc" / "cache")
    remove_data(dst)
    pull("fetch", cwd=dst)
    pull("checkout", cwd=dst)
    assert workspace(dst) == workspace(src)
    git("status", cwd=dst)
