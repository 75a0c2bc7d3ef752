"""`repro` target forms and `.dvc` files as targets, against `dvc repro` on the same files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]

FILES = {
    "dvc.yaml": (
        "stages:\n"
        "  a:\n"
        "    cmd: cat raw > a\n"
        "    deps: [raw]\n"
        "    outs: [a]\n"
        "  build_x:\n"
        "    cmd: echo x > x\n"
        "    outs: [x]\n"
        "  build_y:\n"
        "    cmd: echo y > y\n"
        "    outs: [y]\n"
    ),
    "sub/dvc.yaml": "stages:\n  s1:\n    cmd: echo s1 > s1\n    outs: [s1]\n",
    "sub/deeper/dvc.yaml": "stages:\n  d1:\n    cmd: echo d1 > d1\n    outs: [d1]\n",
}

EVENT = re.compile(
    r"^(?:Running stage '([^']+)'|'([^']+)' didn't change"
    r"|Verifying data sources in stage: '([^']+)'|Stage '([^']+)' didn't change)",
    re.M,
)


def events(out: str) -> list[str]:
    """What a repro did to which stage, in order."""
    kinds = ["run", "same", "verify", "same"]
    return [f"{kinds[k]} {g}" for m in EVENT.finditer(out) for k, g in enumerate(m.groups()) if g]


def make(tools: Tools, root: Path) -> None:
    _mlvc, dvc, git, _ = tools
    dvc("init", "-q", cwd=root)
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "raw").write_text("raw\n")
    dvc("add", "-q", "raw", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "init", cwd=root)


@pytest.fixture
def pair(tools: Tools, tmp_path: Path) -> tuple[Tools, Path, Path]:
    """Two identical repositories: one for mlvc, one for DVC."""
    _mlvc, _dvc, git, ours = tools
    make(tools, ours)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    git("init", "-q", cwd=theirs)
    make(tools, theirs)
    return tools, ours, theirs


@pytest.mark.parametrize(
    "args",
    [
        ["a", "build_y"],
        ["-R", "sub"],
        ["-R", "."],
        ["--glob", "build_*"],
        ["--glob", "sub/dvc.yaml:s*"],
        ["--glob", "zz*"],
        ["sub/dvc.yaml"],
        ["sub/dvc.yaml:s1"],
        ["raw.dvc"],
        ["-P"],
        ["--downstream", "raw.dvc"],
    ],
)
def test_target_forms_like_dvc(pair: tuple[Tools, Path, Path], args: list[str]) -> None:
    (mlvc, dvc, _git, _), ours, theirs = pair
    a = mlvc("repro", *args, cwd=ours)
    b = dvc("repro", *args, cwd=theirs)
    # DVC orders unrelated stages as its directory walk meets their files.
    assert sorted(events(a.stdout)) == sorted(events(b.stdout)), (a.stdout, b.stdout)
    assert sorted(p.name for p in ours.iterdir()) == sorted(p.name for p in theirs.iterdir())


@pytest.mark.parametrize("args", [["sub"], ["dvc.lock"], ["nope.dvc"], ["zz"]])
def test_bad_targets_fail_like_dvc(pair: tuple[Tools, Path, Path], args: list[str]) -> None:
    (mlvc, dvc, _git, _), ours, theirs = pair
    theirs_r = dvc("repro", *args, cwd=theirs, check=False)
    ours_r = mlvc("repro", *args, cwd=ours, check=False)
    if args == ["sub"]:
        # mlvc also reads a directory as its `dvc.yaml`; DVC wants -R.
        assert ours_r.returncode == 0
        return
    assert theirs_r.returncode != 0
    assert ours_r.returncode != 0
    assert ours_r.stderr.startswith("error: ")
    assert "hint: " in ours_r.stderr


def test_changed_data_source_is_committed_before_its_consumers(
    pair: tuple[Tools, Path, Path],
) -> None:
    (mlvc, dvc, _git, _), ours, theirs = pair
    mlvc("repro", cwd=ours)
    dvc("repro", cwd=theirs)
    for root in (ours, theirs):
        (root / "raw").write_text("raw v2\n")
    a = mlvc("repro", cwd=ours)
    b = dvc("repro", cwd=theirs)
    assert events(a.stdout) == events(b.stdout)
    assert events(a.stdout)[:2] == ["verify raw.dvc", "run a"]
    assert "Verifying data sources in stage: 'raw.dvc'\n\nRunning stage 'a':" in a.stdout
    assert (ours / "raw.dvc").read_bytes() == (theirs / "raw.dvc").read_bytes()
    assert (ours / "dvc.lock").read_bytes() == (theirs / "dvc.lock").read_bytes()
    assert "git add" in a.stdout and "raw.dvc" in a.stdout
    # Each tool is then clean for the other.
    clean = "Data and pipelines are up to date.\n"
    assert dvc("status", "a", "raw.dvc", cwd=ours).stdout == clean
    assert mlvc("status", "a", "raw.dvc", cwd=theirs).stdout == clean
    # Unchanged: the .dvc file is skipped with DVC's wording.
    assert mlvc("repro", "raw.dvc", cwd=ours).stdout == dvc("repro", "raw.dvc", cwd=theirs).stdout


def test_repro_of_a_modified_dvc_file_target(pair: tuple[Tools, Path, Path]) -> None:
    (mlvc, dvc, _git, _), ours, theirs = pair
    for root in (ours, theirs):
        (root / "raw").write_text("changed\n")
    a = mlvc("repro", "raw.dvc", cwd=ours)
    b = dvc("repro", "raw.dvc", cwd=theirs)
    assert events(a.stdout) == events(b.stdout) == ["verify raw.dvc"]
    assert (ours / "raw.dvc").read_bytes() == (theirs / "raw.dvc").read_bytes()
    assert mlvc("status", "raw.dvc", cwd=theirs).stdout == "Data and pipelines are up to date.\n"


def test_missing_data_source_fails_like_dvc(pair: tuple[Tools, Path, Path]) -> None:
    (mlvc, dvc, _git, _), ours, theirs = pair
    for root in (ours, theirs):
        (root / "raw").unlink()
    a = mlvc("repro", cwd=ours, check=False)
    b = dvc("repro", cwd=theirs, check=False)
    assert a.returncode == b.returncode == 255
    assert "missing data source `raw`" in a.stderr
    assert "missing data 'source': raw" in b.stderr
    assert events(a.stdout) == events(b.stdout)


def named_files(stderr: str, quote: str) -> list[str]:
    """The `dvc.yaml` files an error message names (between `quote` characters)."""
    return re.findall(rf"{quote}([^{quote}]*dvc\.yaml){quote}", stderr)


@pytest.mark.parametrize(
    ("where", "args"),
    [
        ("sub", ["push", "nosuch"]),
        ("sub", ["pull", "nosuch"]),
        ("sub/deeper", ["fetch", "../nosuch"]),
        ("nodvc", ["push", "nosuch"]),
        ("sub", ["push", "../dvc.yaml:nosuch"]),
        ("sub", ["repro", "nosuch"]),
        ("sub/deeper", ["repro", "../dvc.yaml:nosuch"]),
        ("nodvc", ["repro", "nosuch"]),
    ],
)
def test_unknown_target_names_dvc_yaml_from_the_current_directory_like_dvc(
    pair: tuple[Tools, Path, Path], where: str, args: list[str]
) -> None:
    (mlvc, dvc, _git, _), ours, theirs = pair
    found = []
    for tool, root, quote in ((dvc, theirs, "'"), (mlvc, ours, "`")):
        tool("remote", "add", "-q", "-d", "store", "../store", cwd=root)
        (root / "nodvc").mkdir()
        r = tool(*args, cwd=root / where, check=False)
        found.append((r.returncode, named_files(r.stderr, quote)[:1]))
    # DVC-compat: `dvc.yaml` as seen from the current directory, not from the root.
    assert found[0] == found[1], found


BROKEN = (
    "stages:\n"
    "  s:\n"
    "    cmd: echo s > o\n"
    "    outs: [o]\n"
    "  t:\n"
    "    cmd: cat o > p\n"
    "    deps: [o]\n"
    "    outs: [p]\n"
    "  broken:\n"
    "    cmd: echo ${nope}\n"
    "  gen:\n"
    "    foreach: [a, b]\n"
    "    do:\n"
    "      cmd: echo ${item} ${missing}\n"
)
# Commands on named stages resolve only those; the others need every stage.
ON_BROKEN = [
    "status s",
    "stage list s",
    "repro -s s",
    "checkout s",
    "commit -f s",
    "status broken",
    "stage list broken",
    "repro -s broken",
    "repro -s gen@a",
    "status -d t",
    "repro t",
    "status",
]


def test_a_stage_that_does_not_resolve_fails_only_commands_naming_it_like_dvc(
    tools: Tools, tmp_path: Path
) -> None:
    mlvc, dvc, git, _ = tools
    found = []
    for name, tool in (("theirs", dvc), ("ours", mlvc)):
        root = tmp_path / name
        root.mkdir()
        git("init", "-q", cwd=root)
        tool("init", "-q", cwd=root)
        (root / "dvc.yaml").write_text(BROKEN)
        codes = [tool(*line.split(), cwd=root, check=False).returncode for line in ON_BROKEN]
        found.append((codes, (root / "o").read_text()))
    assert found[0] == found[1]
    assert found[1][0][:5] == [0] * 5
