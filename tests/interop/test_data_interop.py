"""mlvc and real DVC on one repository, both directions."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from tests.interop.conftest import Runner


def make_tree(root: Path) -> None:
    files = {
        "data/a.txt": b"alpha\n",
        "data/sub/b.bin": bytes(range(256)) * 8,
        "data/sub/\u00fcml\u00e4ut.txt": b"umlaut\n",
        "data/.hidden": b"h\n",
        "data/zero": b"",
        "model.pkl": b"weights" * 100,
        "crlf.txt": b"x\r\ny\r\n",
    }
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content)
    (root / "run.sh").write_bytes(b"#!/bin/sh\necho hi\n")
    os.chmod(root / "run.sh", 0o755)


TARGETS = ["data", "model.pkl", "crlf.txt", "run.sh"]


def test_mlvc_add_is_clean_for_dvc_and_restorable_by_it(
    tools: tuple[Runner, Runner, Runner, Path],
) -> None:
    mlvc, dvc, _git, repo = tools
    mlvc("init", "-q")
    make_tree(repo)
    mlvc("add", *TARGETS)
    assert json.loads(dvc("status", "--json").stdout) == {}
    data_status = json.loads(dvc("data", "status", "--json").stdout)
    assert "uncommitted" not in data_status and "not_in_cache" not in data_status, data_status
    shutil.rmtree(repo / "data")
    (repo / "model.pkl").unlink()
    dvc("checkout")
    assert (repo / "data" / "sub" / "b.bin").read_bytes() == bytes(range(256)) * 8
    assert (repo / "model.pkl").read_bytes() == b"weights" * 100
    assert json.loads(dvc("status", "--json").stdout) == {}


def test_dvc_add_is_clean_for_mlvc_and_restorable_by_it(
    tools: tuple[Runner, Runner, Runner, Path],
) -> None:
    mlvc, dvc, _git, repo = tools
    dvc("init", "-q")
    make_tree(repo)
    dvc("add", *TARGETS)
    assert json.loads(mlvc("status", "--json").stdout) == {}
    shutil.rmtree(repo / "data")
    (repo / "run.sh").unlink()
    mlvc("checkout")
    assert (repo / "data" / "a.txt").read_bytes() == b"alpha\n"
    assert os.stat(repo / "run.sh").st_mode & 0o777 == 0o744
    assert json.loads(mlvc("status", "--json").stdout) == {}
    assert json.loads(dvc("status", "--json").stdout) == {}


def test_files_written_are_byte_identical_to_dvcs(
    tmp_path: Path, tools: tuple[Runner, Runner, Runner, Path]
) -> None:
    mlvc, dvc, _git, repo = tools
    other = tmp_path / "other"
    shutil.copytree(repo, other)
    mlvc("init", "-q")
    dvc("init", "-q", cwd=other)
    make_tree(repo)
    make_tree(other)
    mlvc("add", *TARGETS)
    dvc("add", *TARGETS, cwd=other)
    for rel in [
        *(t + ".dvc" for t in TARGETS),
        ".gitignore",
        ".dvc/config",
        ".dvc/.gitignore",
        ".dvcignore",
    ]:
        assert (repo / rel).read_bytes() == (other / rel).read_bytes(), rel
    ours = sorted(
        p.relative_to(repo / ".dvc/cache") for p in (repo / ".dvc/cache").rglob("*") if p.is_file()
    )
    theirs = sorted(
        p.relative_to(other / ".dvc/cache")
        for p in (other / ".dvc/cache").rglob("*")
        if p.is_file()
    )
    assert ours == theirs
    for rel in ours:
        a, b = repo / ".dvc/cache" / rel, other / ".dvc/cache" / rel
        assert a.read_bytes() == b.read_bytes()
        assert a.stat().st_mode & 0o777 == b.stat().st_mode & 0o777 == 0o444
    for rel in ["run.sh", "model.pkl", "data/a.txt"]:
        assert (repo / rel).stat().st_mode & 0o777 == (other / rel).stat().st_mode & 0o777, rel


def test_status_reports_modified_and_deleted_like_dvc(
    tools: tuple[Runner, Runner, Runner, Path],
) -> None:
    mlvc, dvc, _git, repo = tools
    mlvc("init", "-q")
    make_tree(repo)
    mlvc("add", *TARGETS)
    (repo / "data" / "a.txt").write_bytes(b"changed\n")
    (repo / "model.pkl").unlink()
    ours = json.loads(mlvc("status", "--json").stdout)
    theirs = json.loads(dvc("status", "--json").stdout)
    assert ours == theirs
    assert ours["data.dvc"] == [{"changed outs": {"data": "modified"}}]
    assert ours["model.pkl.dvc"] == [{"changed outs": {"model.pkl": "deleted"}}]


def test_checkout_refuses_to_overwrite_uncached_changes(
    tools: tuple[Runner, Runner, Runner, Path],
) -> None:
    mlvc, dvc, _git, repo = tools
    mlvc("init", "-q")
    make_tree(repo)
    mlvc("add", "data")
    (repo / "data" / "a.txt").write_bytes(b"precious\n")
    # DVC-compat: DVC refuses with exit 255 (a DvcException naming the files).
    assert dvc("checkout", check=False).returncode == 255
    r = mlvc("checkout", check=False)
    assert r.returncode == 255
    assert "data/a.txt" in r.stderr and "--force" in r.stderr
    assert (repo / "data" / "a.txt").read_bytes() == b"precious\n"
    mlvc("checkout", "--force")
    assert (repo / "data" / "a.txt").read_bytes() == b"alpha\n"


def test_add_out_brings_outside_data_in_like_dvc(
    tmp_path: Path, tools: tuple[Runner, Runner, Runner, Path]
) -> None:
    mlvc, dvc, _git, repo = tools
    outside = tmp_path / "outside"
    make_tree(outside)
    other = tmp_path / "other"
    shutil.copytree(repo, other)
    mlvc("init", "-q")
    dvc("init", "-q", cwd=other)
    mlvc("add", str(outside / "data"), "-o", "imported")
    dvc("add", str(outside / "data"), "-o", "imported", cwd=other)
    assert (repo / "imported.dvc").read_bytes() == (other / "imported.dvc").read_bytes()
    assert (repo / "imported" / "sub" / "b.bin").read_bytes() == bytes(range(256)) * 8
    assert (outside / "data" / "a.txt").exists(), "the source is left alone"
    assert json.loads(dvc("status", "--json").stdout) == {}
    # DVC-compat: tracked data that is unchanged is replaced without `--force`.
    mlvc("add", str(outside / "model.pkl"), "-o", "imported")
    dvc("add", str(outside / "model.pkl"), "-o", "imported", cwd=other)
    assert (repo / "imported.dvc").read_bytes() == (other / "imported.dvc").read_bytes()
    (repo / "imported").chmod(0o644)
    (repo / "imported").write_text("changed\n")
    r = mlvc("add", str(outside / "data"), "-o", "imported", check=False)
    assert r.returncode == 1 and "--force" in r.stderr


def test_add_inside_a_tracked_directory_updates_it_like_dvc(
    tools: tuple[Runner, Runner, Runner, Path],
) -> None:
    mlvc, dvc, _git, repo = tools
    mlvc("init", "-q")
    make_tree(repo)
    mlvc("add", "data")
    (repo / "data" / "sub" / "new.txt").write_text("new\n")
    mlvc("add", "data/sub")
    assert not (repo / "data" / "sub.dvc").exists()
    assert json.loads(dvc("status", "--json").stdout) == {}
    # A target that contains another tracked output is refused.
    (repo / "outer").mkdir()
    (repo / "outer" / "inner.txt").write_text("i\n")
    mlvc("add", "outer/inner.txt")
    r = mlvc("add", "outer", check=False)
    assert r.returncode == 1 and "overlaps" in r.stderr and "outer/inner.txt" in r.stderr
