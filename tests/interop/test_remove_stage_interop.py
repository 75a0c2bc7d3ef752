"""`remove` of pipeline stages: mlvc against real DVC on copies of one repository.

Each scenario is set up once (with DVC, so both tools start from the same bytes),
copied, and then the same `remove` commands run with each tool. `dvc.yaml`,
`dvc.lock`, `.gitignore` files and every workspace file must come out the same,
with the same exit codes; afterwards `dvc status` reads mlvc's result as mlvc does.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.interop.conftest import Runner, snapshot, write

Tools = tuple[Runner, Runner, Runner, Path]


def status_json(run: Runner, cwd: Path) -> object:
    r = run("status", "--json", cwd=cwd)
    return json.loads(r.stdout or "{}")


@dataclass
class Scene:
    files: dict[str, str]
    # Each command: (arguments of `remove`, directory relative to the repository).
    commands: list[tuple[list[str], str]]
    repro: list[str] = field(default_factory=lambda: ["-q", "-P"])
    add: list[str] = field(default_factory=list)  # data tracked by `.dvc` files


TWO = (
    "stages:\n  a:\n    cmd: echo a > a.txt\n    outs: [a.txt]\n"
    "  b:\n    cmd: echo b > b.txt\n    outs: [b.txt]\n"
)

# Comments and layout that DVC's ruamel round trip keeps as written.
COMMENTED = (
    "# top comment\n"
    "stages:\n"
    "  a:   # stage a\n"
    "    cmd: echo a > a.txt\n"
    "    outs: [a.txt]\n"
    "  # comment before b\n"
    "  b:\n"
    "    cmd: echo b > b.txt  # trailing\n"
    "    outs:\n"
    "    - b.txt\n"
    "\n"
    "  c:\n"
    "    cmd: echo c > c.txt\n"
    "    outs: [c.txt]\n"
    "# end comment\n"
)

SPACED = (
    "stages:\n"
    "\n"
    "  a:\n"
    "    cmd: echo a > a.txt\n"
    "    outs:\n"
    "    - a.txt\n"
    "\n"
    "  b:\n"
    "    cmd: |\n"
    "      echo b > b.txt\n"
    "      echo bb >> b.txt\n"
    "    outs:\n"
    "    - b.txt\n"
    "\n"
    "  c:\n"
    "    cmd: >-\n"
    "      echo c > c.txt\n"
    "    deps:\n"
    "    - a.txt\n"
    "    outs:\n"
    "    - c.txt:\n"
    "        persist: true\n"
    "\n"
    "\n"
    "  d:\n"
    "    cmd: echo d > d.txt\n"
    "    outs:\n"
    "    - d.txt\n"
    "\n"
    "plots:\n"
    "- d.txt\n"
)

SUBDIR = (
    "stages:\n"
    "  s:\n"
    "    wdir: w\n"
    "    cmd: mkdir -p d && echo 1 > d/f && echo p > p.txt && echo 1 > m.json "
    "&& echo n > n.txt\n"
    "    outs:\n"
    "    - d\n"
    "    - p.txt:\n"
    "        persist: true\n"
    "    - n.txt:\n"
    "        cache: false\n"
    "    metrics:\n"
    "    - m.json:\n"
    "        cache: false\n"
    "  t:\n"
    "    cmd: echo t > t.txt\n"
    "    outs: [t.txt]\n"
    "  u:\n"
    "    cmd: mkdir -p o && echo 'odd' > 'o/odd#1.txt'\n"
    "    outs: [o/odd#1.txt]\n"
)

SCENES = {
    # The brief's example: a stage by name, then by `dvc.yaml:name` with `--outs`.
    "name-then-file-name-outs": Scene(
        {"dvc.yaml": TWO}, [(["a"], "."), (["--outs", "dvc.yaml:b"], ".")]
    ),
    "first-of-commented": Scene({"dvc.yaml": COMMENTED}, [(["a"], ".")]),
    "middle-of-commented": Scene({"dvc.yaml": COMMENTED}, [(["b"], ".")]),
    "last-of-commented": Scene({"dvc.yaml": COMMENTED}, [(["c"], ".")]),
    "spaced-first": Scene({"dvc.yaml": SPACED}, [(["a"], ".")]),
    "spaced-block-scalar": Scene({"dvc.yaml": SPACED}, [(["b"], ".")]),
    "spaced-persist-outs": Scene({"dvc.yaml": SPACED}, [(["--outs", "c"], ".")]),
    "spaced-last-before-plots": Scene({"dvc.yaml": SPACED}, [(["d"], ".")]),
    "several-and-dvc-files": Scene(
        {"dvc.yaml": COMMENTED, "x": "x\n", "y/z": "z\n"},
        [(["c", "x.dvc", ":a"], "."), (["--outs", "y/z.dvc", "b"], ".")],
        add=["x", "y/z"],
    ),
    "from-subdirectory": Scene(
        {"dvc.yaml": TWO, "sub/dvc.yaml": SUBDIR, "sub/w/keep": "", "x": "x\n"},
        [(["--outs", "../dvc.yaml:s", "../../x.dvc"], "sub/w"), (["t", "../dvc.yaml:a"], "sub")],
        add=["x"],
    ),
    "keep-outputs-in-subdirectory": Scene(
        {"sub/dvc.yaml": SUBDIR, "sub/w/keep": ""},
        [(["sub/dvc.yaml:s", "sub/dvc.yaml:u"], ".")],
    ),
    "whole-dvc-yaml": Scene(
        {"dvc.yaml": TWO, "sub/dvc.yaml": SUBDIR, "sub/w/keep": ""},
        [(["sub/dvc.yaml"], "."), (["dvc.yaml"], ".")],
    ),
    "stage-never-run": Scene({"dvc.yaml": COMMENTED}, [(["b"], ".")], repro=["-q", "a"]),
    "every-stage-one-by-one": Scene(
        {"dvc.yaml": COMMENTED}, [(["b"], "."), (["a"], "."), (["--outs", "c"], ".")]
    ),
}


def run_scene(scene: Scene, tools: Tools, tmp_path: Path) -> tuple[Path, Path]:
    mlvc, dvc, git, repo = tools
    dvc("init", "-q")
    write(repo, scene.files)
    if scene.add:
        dvc("add", "-q", *scene.add)
    dvc("repro", *scene.repro)
    git("add", "-A")
    git("commit", "-qm", "scene")
    theirs = tmp_path / "theirs"
    shutil.copytree(repo, theirs, symlinks=True)
    for args, where in scene.commands:
        ours_r = mlvc("remove", *args, cwd=repo / where, check=False)
        theirs_r = dvc("remove", *args, cwd=theirs / where, check=False)
        assert ours_r.returncode == theirs_r.returncode == 0, (ours_r.stderr, theirs_r.stderr)
    return repo, theirs


@pytest.mark.parametrize("name", list(SCENES))
def test_remove_stages_like_dvc(name: str, tools: Tools, tmp_path: Path) -> None:
    mlvc, dvc, _git, _repo = tools
    repo, theirs = run_scene(SCENES[name], tools, tmp_path)
    ours_files, theirs_files = snapshot(repo), snapshot(theirs)
    for rel in sorted(set(ours_files) | set(theirs_files)):
        assert ours_files.get(rel) == theirs_files.get(rel), rel
    # Both tools read what mlvc left as DVC reads what DVC left.
    expected = status_json(dvc, theirs)
    assert status_json(dvc, repo) == expected
    assert status_json(mlvc, repo) == expected


def test_brief_example_end_state(tools: Tools, tmp_path: Path) -> None:
    repo, _theirs = run_scene(SCENES["name-then-file-name-outs"], tools, tmp_path)
    assert not (repo / "dvc.yaml").exists() and not (repo / "dvc.lock").exists()
    assert not (repo / ".gitignore").exists()
    assert (repo / "a.txt").read_text() == "a\n" and not (repo / "b.txt").exists()


def test_remove_keeps_comments_of_staying_stages(tools: Tools, tmp_path: Path) -> None:
    """mlvc's choice: a comment heading a stage stays with that stage.

    DVC re-dumps with ruamel, which attaches a comment after a plain value to that
    value: removing `prepare` leaves `# Prepare the data` above `train` and takes
    `# Train the model` away. The stages and the lock file come out the same.
    """
    mlvc, dvc, _git, _repo = tools
    text = (
        "# Pipeline\n"
        "stages:\n"
        "  # Prepare the data\n"
        "  prepare:\n"
        "    cmd: echo p > prepared\n"
        "    outs:\n"
        "    - prepared\n"
        "\n"
        "  # Train the model\n"
        "  train:\n"
        "    cmd: cat prepared > model  # noisy\n"
        "    deps:\n"
        "    - prepared\n"
        "    outs:\n"
        "    - model\n"
        "\n"
        "  # Evaluate\n"
        "  evaluate:\n"
        "    cmd: cat model > scores.json\n"
        "    deps:\n"
        "    - model\n"
        "    metrics:\n"
        "    - scores.json:\n"
        "        cache: false\n"
        "\n"
        "# Plots section\n"
        "plots:\n"
        "- scores.json\n"
    )
    scene = Scene({"dvc.yaml": text}, [(["prepare", "evaluate"], ".")])
    repo, theirs = run_scene(scene, tools, tmp_path)
    assert (repo / "dvc.yaml").read_text() == (
        "# Pipeline\n"
        "stages:\n"
        "  # Train the model\n"
        "  train:\n"
        "    cmd: cat prepared > model  # noisy\n"
        "    deps:\n"
        "    - prepared\n"
        "    outs:\n"
        "    - model\n"
        "\n"
        "# Plots section\n"
        "plots:\n"
        "- scores.json\n"
    )
    # DVC's bytes differ only in where comments went.
    assert (theirs / "dvc.yaml").read_text() != (repo / "dvc.yaml").read_text()
    same_data = (
        "import sys; from ruamel.yaml import YAML; print(YAML(typ='safe').load(open(sys.argv[1])))"
    )
    ours_data = dvc_python(same_data, repo / "dvc.yaml")
    assert ours_data == dvc_python(same_data, theirs / "dvc.yaml")
    assert (repo / "dvc.lock").read_bytes() == (theirs / "dvc.lock").read_bytes()
    assert (repo / ".gitignore").read_bytes() == (theirs / ".gitignore").read_bytes()
    assert status_json(dvc, repo) == status_json(dvc, theirs) == status_json(mlvc, repo)


def dvc_python(code: str, path: Path) -> str:
    import subprocess

    from tests.conftest import dvc_python as python

    return subprocess.run(
        [str(python()), "-c", code, str(path)], capture_output=True, text=True, check=True
    ).stdout


def test_last_stage_keeps_other_sections(tools: Tools, tmp_path: Path) -> None:
    """mlvc's choice: a `dvc.yaml` that still defines plots is kept (DVC deletes it)."""
    mlvc, dvc, _git, _repo = tools
    text = TWO + "\n# what to plot\nplots:\n- a.txt\nmetrics:\n- m.json\n"
    repo, theirs = run_scene(Scene({"dvc.yaml": text}, [(["a", "b"], ".")]), tools, tmp_path)
    assert not (theirs / "dvc.yaml").exists()
    kept = "# what to plot\nplots:\n- a.txt\nmetrics:\n- m.json\n"
    assert (repo / "dvc.yaml").read_text() == kept
    for rel in ("dvc.lock", ".gitignore"):
        assert not (repo / rel).exists() and not (theirs / rel).exists()
    assert status_json(dvc, repo) == status_json(mlvc, repo) == {}
    assert dvc("plots", "show", "--json", cwd=repo).returncode == 0


BAD = (
    "vars:\n"
    "  - n: 3\n"
    "stages:\n"
    "  gen:\n"
    "    foreach: [x, y]\n"
    "    do:\n"
    "      cmd: echo ${item} > ${item}.txt\n"
    "      outs:\n"
    "      - ${item}.txt\n"
    "  tpl:\n"
    "    cmd: echo ${n} > n.txt\n"
    "    outs:\n"
    "    - n.txt\n"
    "  plain:\n"
    "    cmd: echo p > p.txt\n"
    "    outs:\n"
    "    - p.txt\n"
)


@pytest.mark.parametrize(
    ("target", "message", "hint"),
    [
        ("nope", "stage `nope` not found in `dvc.yaml`", "stages there: `gen@x`, `gen@y`, `tpl`"),
        ("plane", "stage `plane` not found in `dvc.yaml`", "did you mean `plain`?"),
        ("p.txt", "stage `p.txt` not found in `dvc.yaml`", "is an output of stage `plain`"),
        ("sub/dvc.yaml:x", "`sub/dvc.yaml` does not exist", "name a `.dvc` file"),
        ("dvc.lock:plain", "`dvc.lock:plain` is a lock file", "did you mean `dvc.yaml:plain`?"),
        ("gen", "`gen` in `dvc.yaml` is a `foreach`/`matrix` definition", "edit `dvc.yaml`"),
        ("gen@x", "cannot remove stage `gen@x`: `gen` generates it", "edit `dvc.yaml` by hand"),
        ("tpl", "cannot remove stage `tpl`: its definition in `dvc.yaml` uses templating", "by"),
        ("x.dvc", "`x.dvc` does not exist", "`mlvc status` lists tracked data"),
    ],
)
def test_refused_targets_change_nothing(
    target: str, message: str, hint: str, tools: Tools, tmp_path: Path
) -> None:
    mlvc, dvc, git, repo = tools
    dvc("init", "-q")
    write(repo, {"dvc.yaml": BAD})
    dvc("repro", "-q")
    git("add", "-A")
    git("commit", "-qm", "scene")
    theirs = tmp_path / "theirs"
    shutil.copytree(repo, theirs, symlinks=True)
    before = snapshot(repo)
    # `plain` first: one bad target among good ones stops everything.
    ours = mlvc("remove", "plain", target, check=False)
    assert ours.returncode == dvc("remove", target, cwd=theirs, check=False).returncode == 1
    lines = ours.stderr.splitlines()
    assert lines[0] == f"error: {message}" or lines[0].startswith(f"error: {message}"), lines
    assert len(lines) == 2 and lines[1].startswith("hint: ") and hint in lines[1], lines
    assert snapshot(repo) == before


def test_tracked_file_named_instead_of_stage(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    dvc("init", "-q")
    write(repo, {"dvc.yaml": TWO, "data": "d\n"})
    dvc("add", "-q", "data")
    dvc("repro", "-q")
    before = snapshot(repo)
    r = mlvc("remove", "data", check=False)
    assert r.returncode == dvc("remove", "data", check=False).returncode == 1
    assert "error: `data` is not a `.dvc` file" in r.stderr
    assert "hint: did you mean `data.dvc`?" in r.stderr
    assert snapshot(repo) == before
    # A directory is no `dvc.yaml`: DVC refuses `sub:a` too.
    (repo / "sub").mkdir()
    (repo / "sub" / "dvc.yaml").write_text(TWO)
    r = mlvc("remove", "sub:a", check=False)
    assert r.returncode == dvc("remove", "sub:a", check=False).returncode == 1
    assert "error: `sub` is not a `dvc.yaml` file" in r.stderr
    assert "hint: did you mean `sub/dvc.yaml:a`?" in r.stderr


def test_partial_failure_removes_nothing(tools: Tools, tmp_path: Path) -> None:
    """mlvc's choice: every target is checked first (DVC removes `a`, then fails)."""
    mlvc, dvc, _git, repo = tools
    dvc("init", "-q")
    write(repo, {"dvc.yaml": TWO})
    dvc("repro", "-q")
    theirs = tmp_path / "theirs"
    shutil.copytree(repo, theirs, symlinks=True)
    before = snapshot(repo)
    r = mlvc("remove", "a", "nope", "b", check=False)
    assert r.returncode == dvc("remove", "a", "nope", "b", cwd=theirs, check=False).returncode == 1
    assert snapshot(repo) == before
    assert "  a:" not in (theirs / "dvc.yaml").read_text()
    # Naming the same stage twice removes it once.
    mlvc("remove", "a", "dvc.yaml:a")
    assert "  a:" not in (repo / "dvc.yaml").read_text()


def test_name_on_a_dvc_file_is_ignored_with_a_warning(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    dvc("init", "-q")
    write(repo, {"x": "x\n"})
    dvc("add", "-q", "x")
    r = mlvc("remove", "x.dvc:foo")
    assert "warning: ignoring the name `foo`" in r.stderr
    assert not (repo / "x.dvc").exists() and (repo / "x").exists()
