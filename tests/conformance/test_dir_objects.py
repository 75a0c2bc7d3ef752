"""`.dir` objects and directory hashes equal the ones real DVC produced.

Two checks per corpus case: every `.dir` object DVC wrote re-serialises to the
same bytes, and every directory DVC added hashes (after building the case's
inputs) to the object, size and file count DVC recorded.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import mlvc
from tests.conftest import shared_dir

CASES = shared_dir() / "conformance" / "cases"
# DVC-compat: what `dvc init` writes into .dvcignore.
DEFAULT_DVCIGNORE = (
    "# Add patterns of files dvc should ignore, which could improve\n"
    "# the performance. Learn more at\n"
    "# https://dvc.org/doc/user-guide/dvcignore\n"
)


def test_corpus_is_present() -> None:
    assert CASES.is_dir(), f"conformance corpus not found at {CASES}; set MLVC_SHARED_DIR"


def dir_objects() -> list[Path]:
    return sorted(CASES.glob("*/expected/*/files/md5/*/*.dir"))


@pytest.mark.parametrize("obj", dir_objects(), ids=lambda p: str(p.relative_to(CASES)))
def test_dir_object_round_trips(obj: Path) -> None:
    raw = obj.read_bytes()
    name = obj.parent.name + obj.name
    assert hashlib.md5(raw).hexdigest() + ".dir" == name
    rebuilt, ident = mlvc.build_manifest(mlvc.parse_manifest(raw))
    assert rebuilt == raw
    assert ident == name


def added_directories() -> list[tuple[Path, Path]]:
    """(case, .dvc file) pairs whose output is a directory."""
    out = []
    for dvcfile in sorted(CASES.glob("*/expected/files/**/*.dvc")):
        if not dvcfile.is_file():
            continue
        doc = yaml.safe_load(dvcfile.read_text())
        if any(str(o.get("md5", "")).endswith(".dir") for o in doc.get("outs", [])):
            out.append((Path(dvcfile.relative_to(CASES).parts[0]), dvcfile))
    return out


def build_inputs(case: Path, repo: Path) -> None:
    """Makes the case's input tree and runs the plain shell steps (no git, no dvc)
    that come before its first `dvc add`."""
    repo.mkdir(parents=True)
    subprocess.run([sys.executable, str(case / "make_inputs.py")], cwd=repo, check=True)
    (repo / ".dvc").mkdir()
    (repo / ".dvcignore").write_text(DEFAULT_DVCIGNORE)
    for line in (case / "commands.txt").read_text().splitlines():
        words = line.split()
        if words[:2] == ["dvc", "add"]:
            break
        if not words or words[0] in ("git", "dvc", "#") or "dvc " in line.replace(".dvc", ""):
            continue
        subprocess.run(["bash", "-c", line], cwd=repo, check=True)


@pytest.mark.parametrize(
    "case_name,dvcfile",
    [(c.name, f) for c, f in added_directories()],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_added_directory_hash_matches_dvc(case_name: str, dvcfile: Path, tmp_path: Path) -> None:
    case = CASES / case_name
    repo = tmp_path / "repo"
    build_inputs(case, repo)
    doc = yaml.safe_load(dvcfile.read_text())
    rel_dir = dvcfile.parent.relative_to(case / "expected" / "files")
    for out in doc["outs"]:
        if not str(out["md5"]).endswith(".dir"):
            continue
        target = repo / rel_dir / out["path"]
        tree = mlvc.hash_tree(target, ignore_root=repo)
        assert tree.hash == out["md5"]
        assert tree.size == out["size"]
        assert tree.nfiles == out["nfiles"]
        obj = case / "expected" / "cache" / "files" / "md5" / out["md5"][:2] / out["md5"][2:]
        assert tree.manifest == obj.read_bytes()
        assert os.fsdecode(tree.path) == str(target)
