"""`repro` cases found by randomized runs against `dvc repro`, each tool in its own repository."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.interop.conftest import Runner, snapshot, write

Tools = tuple[Runner, Runner, Runner, Path]
Files = dict[str, str]
Result = subprocess.CompletedProcess[str]


def ran_names(output: str) -> list[str]:
    """Stages a repro ran or restored, from its (DVC-format) messages."""
    found = re.findall(r"^(?:Running stage '([^']+)'|Stage '([^']+)' is cached)", output, re.M)
    return [a or b for a, b in found]


@pytest.fixture
def twin(tools: Tools, tmp_path: Path) -> tuple[Tools, Path, Path]:
    """Two repositories set up alike by mlvc: the first for mlvc, the second for DVC."""
    mlvc, _dvc, git, ours = tools
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    git("init", "-q", cwd=theirs)
    for root in (ours, theirs):
        mlvc("init", "-q", cwd=root)
    return tools, ours, theirs


def fill(twin: tuple[Tools, Path, Path], files: Files) -> None:
    (_mlvc, _dvc, git, _), ours, theirs = twin
    for root in (ours, theirs):
        write(root, files)
        git("add", "-A", cwd=root)
        git("commit", "-qm", "init", cwd=root)


def both(twin: tuple[Tools, Path, Path], *args: str) -> tuple[Result, Result]:
    """`repro ARGS` by mlvc in its repository and by DVC in the other; both must agree."""
    (mlvc, dvc, _git, _), ours, theirs = twin
    a = mlvc("repro", *args, cwd=ours, check=False)
    b = dvc("repro", *args, cwd=theirs, check=False)
    assert (a.returncode, ran_names(a.stdout)) == (b.returncode, ran_names(b.stdout)), (a, b)
    assert snapshot(ours) == snapshot(theirs)
    return a, b


def same_status(twin: tuple[Tools, Path, Path]) -> None:
    (mlvc, dvc, _git, _), ours, theirs = twin
    found = [
        json.loads(tool("status", "--json", cwd=root).stdout)
        for tool in (mlvc, dvc)
        for root in (ours, theirs)
    ]
    assert all(s == found[0] for s in found), found


FAILING = {
    "dvc.yaml": (
        "stages:\n"
        "  a:\n"
        "    cmd: mkdir -p out && echo A > out/a.txt\n"
        "    outs: [out/a.txt]\n"
        "  b:\n"
        "    cmd: cat out/a.txt > b.txt\n"
        "    deps: [out/a.txt]\n"
        "    outs: [b.txt]\n"
        "  c:\n"
        "    cmd: echo C > c.txt && exit 3\n"
        "    outs: [c.txt]\n"
    ),
}


@pytest.mark.parametrize("flags", [[], ["-k"]])
def test_failed_repro_takes_back_its_gitignore_entries(
    twin: tuple[Tools, Path, Path], flags: list[str]
) -> None:
    fill(twin, FAILING)
    _, ours, _ = twin
    # DVC-compat: a and b are recorded, but the entries this run added are dropped again.
    a, _ = both(twin, *flags)
    assert a.returncode == 255 and ran_names(a.stdout) == ["a", "b", "c"]
    assert not (ours / ".gitignore").exists() and not (ours / "out" / ".gitignore").exists()
    assert (ours / "out" / "a.txt").is_file()
    same_status(twin)


def test_failed_repro_keeps_the_entries_it_found(twin: tuple[Tools, Path, Path]) -> None:
    fill(twin, FAILING)
    _, ours, _ = twin
    both(twin, "b")
    assert (ours / ".gitignore").read_text() == "/b.txt\n"
    (ours / "out" / "a.txt").unlink()
    (twin[2] / "out" / "a.txt").unlink()
    # a reruns (its output is gone) and c fails: the entries from before stay.
    both(twin)
    assert (ours / ".gitignore").read_text() == "/b.txt\n"
    assert (ours / "out" / ".gitignore").read_text() == "/a.txt\n"
    same_status(twin)


PARAMS = {
    "params.yaml": "a: 1\nb: 2\n",
    "dvc.yaml": (
        "stages:\n"
        "  s:\n"
        "    cmd: echo run >> log.txt && echo hi > o.txt\n"
        "    params: [a, b]\n"
        "    outs: [o.txt]\n"
    ),
}


def test_missing_param_fails_after_outputs_are_removed(twin: tuple[Tools, Path, Path]) -> None:
    fill(twin, PARAMS)
    _, ours, theirs = twin
    both(twin)
    for root in (ours, theirs):
        (root / "params.yaml").write_text("a: 1\n")
    # DVC-compat: the outputs go before the params are read; the command does not run.
    a, _ = both(twin)
    assert a.returncode == 255 and not (ours / "o.txt").exists()
    assert (ours / "log.txt").read_text() == "run\n"
    same_status(twin)
    # Forced, the command runs first and the stage fails after it: nothing recorded.
    a, _ = both(twin, "-f")
    assert a.returncode == 255 and (ours / "o.txt").is_file()
    assert (ours / "log.txt").read_text() == "run\nrun\n"
    same_status(twin)


DEP = {
    "in.txt": "x\n",
    "dvc.yaml": (
        "stages:\n"
        "  s:\n"
        "    cmd: echo run >> log.txt && mkdir -p d && echo hi > d/o.txt\n"
        "    deps: [in.txt]\n"
        "    outs: [d]\n"
    ),
}


@pytest.mark.parametrize("flags", [[], ["-f"], ["--dry"], ["--dry", "-f"], ["--no-run-cache"]])
def test_missing_dep(twin: tuple[Tools, Path, Path], flags: list[str]) -> None:
    fill(twin, DEP)
    _, ours, theirs = twin
    both(twin)
    for root in (ours, theirs):
        (root / "in.txt").unlink()
    a, _ = both(twin, *flags)
    # DVC-compat: removed before the dep is hashed; forced, the command runs first.
    assert a.returncode == (0 if flags == ["--dry", "-f"] else 255)
    assert (ours / "d").exists() == ("-f" in flags or "--dry" in flags)
    assert (ours / "log.txt").read_text() == ("run\nrun\n" if flags == ["-f"] else "run\n")
    same_status(twin)


def test_frozen_stage_check_is_saved_in_the_run_cache(twin: tuple[Tools, Path, Path]) -> None:
    fill(
        twin,
        {
            "in.txt": "x\n",
            "dvc.yaml": (
                "stages:\n"
                "  s:\n"
                "    cmd: cp in.txt o.txt\n"
                "    deps: [in.txt]\n"
                "    outs: [o.txt]\n"
                "    frozen: true\n"
            ),
        },
    )
    _, ours, theirs = twin
    for root in (ours, theirs):
        (root / "o.txt").write_text("made by hand\n")
    # DVC-compat: the verified outputs are recorded as a run of the stage would be.
    a, _ = both(twin)
    assert "Verifying outputs in frozen stage: 's'" in a.stdout
    assert list((ours / ".dvc" / "cache" / "runs").rglob("*"))
    same_status(twin)
