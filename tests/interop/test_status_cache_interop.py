"""`status` when the cache lacks objects: DVC says "not in cache" before anything about
the workspace, and a directory counts as missing when any of its files' objects is."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

from mlvc.repo import Repo
from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]

PIPELINE = "stages:\n  s:\n    cmd: mkdir -p o && echo 3 > o/a && echo 4 > o/b\n    outs: [o]\n"


def objects(repo: Path) -> Path:
    return repo / ".dvc" / "cache" / "files" / "md5"


def drop(repo: Path, content: str) -> Path:
    """Deletes the cache object of a file holding `content`; returns its directory."""
    md5 = hashlib.md5(content.encode()).hexdigest()
    (objects(repo) / md5[:2] / md5[2:]).unlink()
    return objects(repo) / md5[:2]


def setup(tools: Tools) -> None:
    mlvc, _dvc, _git, repo = tools
    mlvc("init", "-q")
    (repo / "d").mkdir()
    (repo / "d" / "x").write_text("1\n")
    (repo / "d" / "y").write_text("2\n")
    (repo / "f.txt").write_text("f\n")
    (repo / "dvc.yaml").write_text(PIPELINE)
    mlvc("add", "-q", "d", "f.txt")
    mlvc("repro", "-q")


def same_status(tools: Tools) -> dict[str, object]:
    mlvc, dvc, _git, _repo = tools
    ours = json.loads(mlvc("status", "--json").stdout)
    assert ours == json.loads(dvc("status", "--json").stdout)
    return dict(ours)


def test_a_directory_missing_one_file_object_is_not_in_cache_like_dvc(tools: Tools) -> None:
    repo = tools[3]
    setup(tools)
    assert same_status(tools) == {}
    drop(repo, "2\n")  # one file of `d`
    drop(repo, "4\n")  # one file of the stage's `o`
    assert same_status(tools) == {
        "d.dvc": [{"changed outs": {"d": "not in cache"}}],
        "s": [{"changed outs": {"o": "not in cache"}}],
    }
    # The workspace changing too does not change the word.
    (repo / "d" / "x").chmod(0o644)
    (repo / "d" / "x").write_text("changed\n")
    shutil.rmtree(repo / "o")
    assert same_status(tools) == {
        "d.dvc": [{"changed outs": {"d": "not in cache"}}],
        "s": [{"changed outs": {"o": "not in cache"}}],
    }


def test_deleted_data_without_its_objects_is_not_in_cache_like_dvc(tools: Tools) -> None:
    repo = tools[3]
    setup(tools)
    for rel in ("d", "o", "f.txt"):
        path = repo / rel
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    assert {v[0]["changed outs"].popitem()[1] for v in same_status(tools).values()} == {"deleted"}
    shutil.rmtree(repo / ".dvc" / "cache")
    assert same_status(tools) == {
        "d.dvc": [{"changed outs": {"d": "not in cache"}}],
        "f.txt.dvc": [{"changed outs": {"f.txt": "not in cache"}}],
        "s": [{"changed outs": {"o": "not in cache"}}],
    }


def test_a_directory_found_whole_is_looked_at_again_after_an_object_goes(tools: Tools) -> None:
    """The record of a whole directory is keyed by the object directories' times."""
    repo = tools[3]
    setup(tools)
    md5 = next(
        line.split()[-1] for line in (repo / "d.dvc").read_text().splitlines() if "md5:" in line
    )
    # Age the object directories, so the answer may be remembered.
    past = time.time_ns() - 10**10
    for sub in [objects(repo), *objects(repo).iterdir()]:
        os.utime(sub, ns=(past, past))
    assert Repo(repo).holds(md5)
    changed = drop(repo, "1\n")
    # While every directory keeps its time the record answers (white-box: this
    # shows the record is used); the deletion moved one, so the files are counted.
    stamp = changed.stat().st_mtime_ns
    os.utime(changed, ns=(past, past))
    assert Repo(repo).holds(md5)
    os.utime(changed, ns=(stamp, stamp))
    assert not Repo(repo).holds(md5)
