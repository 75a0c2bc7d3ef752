"""`add --no-relink`, run by real DVC and by mlvc with each `cache.type`: what each leaves
in the workspace and the cache compared."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.func.layout import fresh, objects, shapes
from tests.interop.conftest import Runner, snapshot

Tools = tuple[Runner, Runner, Runner, Path]


@pytest.mark.parametrize("cache_type", ["hardlink", "symlink", "copy"])
def test_add_no_relink_like_dvc(tools: Tools, cache_type: str) -> None:
    mlvc, dvc, _git, repo = tools
    files = ["f", "d/1", "d/2", "g"]
    found = []
    for tool in (dvc, mlvc):
        fresh(tool, repo, cache_type)
        for rel in files:
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            (repo / rel).write_text(rel + "\n")
            (repo / rel).chmod(0o600)
        tool("add", "-q", "--no-relink", "f", "d")
        tool("add", "-q", "g")
        added = (shapes(repo, files), objects(repo), tool("status").stdout)
        # A later checkout leaves the unlinked files alone too.
        tool("checkout", "-q")
        found.append((added, shapes(repo, files)))
    assert found[0] == found[1]


def test_empty_files_are_never_hard_links_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    files = ["d/e1", "d/sub/e2", "d/x", "top"]
    found = []
    for tool in (dvc, mlvc):
        fresh(tool, repo, "hardlink")
        for rel in files:
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            (repo / rel).write_text("x\n" if rel == "d/x" else "")
        tool("add", "-q", "d", "top")
        added = (shapes(repo, files), objects(repo))
        shutil.rmtree(repo / "d")
        (repo / "top").unlink()
        tool("checkout", "-q")
        found.append((added, shapes(repo, files), objects(repo), tool("status").stdout))
    assert found[0] == found[1]
    # One inode for every empty file of a dataset would meet ext4's limit of 65,000 links.
    assert [s[2] for s in found[1][1]] == [1, 1, 2, 1]


def test_add_refuses_dvcignored_paths_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    found = []
    for tool in (dvc, mlvc):
        fresh(tool, repo, "copy")
        with (repo / ".dvcignore").open("a") as f:
            f.write("ign.txt\nskip/\n")
        (repo / "ign.txt").write_text("i\n")
        (repo / "skip").mkdir()
        (repo / "skip/x").write_text("x\n")
        runs = [tool("add", t, check=False) for t in ("ign.txt", "skip", "skip/x")]
        written = sorted(p.name for p in repo.iterdir() if p.suffix == ".dvc")
        found.append(([r.returncode for r in runs], written, objects(repo)))
        if tool is mlvc:
            errors = [r.stderr for r in runs]
    assert found[0] == found[1] == ([1, 1, 1], [], [])
    assert errors[0].startswith("error: `ign.txt` is ignored by `.dvcignore:4:ign.txt`\n")
    assert "`skip/x` is ignored by `.dvcignore:5:skip/`" in errors[2]
    assert all("hint: " in e for e in errors)


def test_a_dvcignore_inside_tracked_data_is_refused_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    found = []
    for tool in (dvc, mlvc):
        fresh(tool, repo, "copy")
        (repo / "d/sub").mkdir(parents=True)
        (repo / "d/a").write_text("a\n")
        (repo / "d/sub/b").write_text("b\n")
        (repo / "d/sub/.dvcignore").write_text("b\n")
        refused = tool("add", "d", check=False)
        # (mlvc may keep the objects it stored before it met the file, as after a
        # full disk: they are sound, and a rerun goes on from them.)
        state = (refused.returncode, (repo / "d.dvc").exists())
        # One that ignores itself is not part of the tree, so the tree is fine.
        (repo / "d/sub/.dvcignore").write_text("b\n.dvcignore\n")
        tool("add", "-q", "d")
        added = ((repo / "d.dvc").read_text(), objects(repo))
        # Added later, it makes the tracked directory unreadable for `status`.
        (repo / "d/.dvcignore").write_text("")
        found.append((state, added, tool("status", check=False).returncode))
        if tool is mlvc:
            error = refused.stderr
    assert found[0] == found[1]
    assert found[1][0] == (255, False) and found[1][2] == 255
    assert error.startswith("error: `") and error.splitlines()[0].endswith(
        "d/sub/.dvcignore`: a `.dvcignore` file cannot be inside tracked data"
    )


def test_add_refuses_a_directory_holding_a_dvc_file_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    found = []
    for tool in (dvc, mlvc):
        fresh(tool, repo, "copy")
        (repo / "d").mkdir()
        (repo / "d/a").write_text("a\n")
        (repo / "d/x.dvc").write_text("")
        (repo / "p").mkdir()
        (repo / "p/a").write_text("a\n")
        (repo / "p/dvc.yaml").write_text("stages:\n  s:\n    cmd: echo\n")
        runs = [tool("add", t, check=False) for t in ("d", "p")]
        found.append(([r.returncode for r in runs], (repo / "d.dvc").exists(), objects(repo)))
        if tool is mlvc:
            errors = [r.stderr for r in runs]
    assert found[0] == found[1] == ([1, 1], False, [])
    assert errors[0].startswith("error: `d/x.dvc` is within the output `d`\n")
    assert errors[1].startswith("error: `p/dvc.yaml` is within the output `p`\n")


def test_add_out_into_a_missing_directory_or_onto_tracked_data_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, root = tools
    found = []
    for name, tool in (("theirs", dvc), ("ours", mlvc)):
        repo = root / name
        repo.mkdir()
        git("init", "-q", cwd=repo)
        tool("init", "-q", cwd=repo)
        (repo / "x.txt").write_text("x\n")
        (repo / "data").mkdir()
        (repo / "data/f").write_text("f\n")
        tool("add", "-q", "data", cwd=repo)
        missing_dir = tool("add", "-q", "x.txt", "-o", "out/x2.txt", cwd=repo, check=False)
        assert not (repo / "out").exists()
        # A tracked directory, unchanged: replaced without `--force`.
        onto_tracked = tool("add", "-q", "x.txt", "-o", "data", cwd=repo, check=False)
        # A file (tracked and unchanged as well): refused without `--force`.
        onto_file = tool("add", "-q", "x.txt", "-o", "data", cwd=repo, check=False)
        found.append(
            (
                missing_dir.returncode,
                onto_tracked.returncode,
                onto_file.returncode,
                (repo / "data.dvc").read_text(),
            )
        )
    assert found[0] == found[1]
    assert found[0][:3] == (1, 0, 1)
    # mlvc keeps a change no record holds: that still needs `--force`.
    (root / "ours/data").write_text("changed\n")
    r = mlvc("add", "-q", "x.txt", "-o", "data", cwd=root / "ours", check=False)
    assert r.returncode == 1 and "--force" in r.stderr
    assert (root / "ours/data").read_text() == "changed\n"


def test_add_refuses_symlinked_directories_and_nested_targets_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    attempts = [
        ["linkdir"],  # a symlink to a directory
        ["linkdir/r"],  # a file inside one
        ["d", "d/x"],  # targets inside one another, either way round
        ["d/x", "d"],
        ["--glob", "d*", "d/*"],
    ]
    found = []
    for tool in (dvc, mlvc):
        fresh(tool, repo, "copy")
        (repo / "real").mkdir()
        (repo / "real/r").write_text("r\n")
        (repo / "linkdir").symlink_to("real")
        (repo / "d").mkdir()
        (repo / "d/x").write_text("x\n")
        (repo / "d/y").write_text("y\n")
        codes = [tool("add", "-q", *words, check=False).returncode for words in attempts]
        written = sorted(str(p.relative_to(repo)) for p in repo.rglob("*.dvc") if p.is_file())
        found.append((codes, written, objects(repo)))
        if tool is mlvc:
            r = mlvc("add", "d", "d/x", check=False)
            assert r.stderr.startswith("error: cannot add `d`: it overlaps `d/x`")
    assert found[0] == found[1] == ([1] * len(attempts), [], [])


OVERLAPPING = """\
stages:
  a:
    cmd: echo a > o
    outs: [o]
  b:
    cmd: mkdir -p d && echo b > d/x
    outs: [d]
"""


@pytest.mark.parametrize(
    ("dvc_yaml", "target"),
    [(OVERLAPPING, "o"), (OVERLAPPING, "d/s"), ("stages:\n  a: [\n", "free.txt")],
    ids=["stage-output", "inside-stage-output", "broken-dvc.yaml"],
)
def test_add_refuses_stage_outputs_and_broken_pipelines_like_dvc(
    tools: Tools, dvc_yaml: str, target: str
) -> None:
    mlvc, dvc, _git, repo = tools
    dvc("init", "-q")
    (repo / "dvc.yaml").write_text(dvc_yaml)
    (repo / "o").write_text("x\n")
    (repo / "d" / "s").mkdir(parents=True)
    (repo / "d" / "s" / "f").write_text("y\n")
    (repo / "free.txt").write_text("z\n")
    before = snapshot(repo)
    theirs = dvc("add", target, check=False)
    ours = mlvc("add", target, check=False)
    # DVC-compat: the pipeline records the output (or cannot be loaded): exit 1,
    # and nothing is written.
    assert (ours.returncode, theirs.returncode) == (1, 1), (ours.stderr, theirs.stderr)
    assert snapshot(repo) == before
    assert "Traceback" not in ours.stderr and ours.stderr.startswith("error: ")
