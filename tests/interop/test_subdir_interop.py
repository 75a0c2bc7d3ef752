"""Commands run from a subdirectory name stages and files from there, as DVC does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]

ROOT_STAGE = "stages:\n  top:\n    cmd: echo top > t\n    outs: [t]\n"
SUB_STAGES = """\
stages:
  s1:
    cmd: cat in.txt > o && echo "$DVC_STAGE" > stage-name
    deps: [in.txt]
    outs: [o]
  s2:
    cmd: cat o > o2
    deps: [o]
    outs: [o2]
"""


@pytest.fixture
def twins(tools: Tools) -> tuple[Runner, Runner, Path, Path]:
    mlvc, dvc, git, root = tools
    repos = []
    for name in ("m", "d"):
        repo = root / name
        (repo / "a").mkdir(parents=True)
        git("init", "-q", cwd=repo)
        dvc("init", "-q", cwd=repo)
        (repo / "dvc.yaml").write_text(ROOT_STAGE)
        (repo / "a/dvc.yaml").write_text(SUB_STAGES)
        (repo / "a/in.txt").write_text("in\n")
        git("add", "-A", cwd=repo)
        git("commit", "-qm", "pipelines", cwd=repo)
        repos.append(repo)
    return mlvc, dvc, repos[0], repos[1]


def _hint_files(stdout: str) -> set[str]:
    """The files of the `git add` advice (DVC lists them in no fixed order)."""
    lines = [ln.strip() for ln in stdout.splitlines() if ln.strip().startswith("git add ")]
    return {name for ln in lines for name in ln.split()[2:]}


def test_repro_from_a_subdirectory_names_stages_and_files_like_dvc(
    twins: tuple[Runner, Runner, Path, Path],
) -> None:
    mlvc, dvc, m, d = twins
    ours = mlvc("repro", cwd=m / "a").stdout
    theirs = dvc("repro", cwd=d / "a").stdout

    def body(text: str) -> list[str]:
        # The advice names the tool, and DVC lists the files to `git add` in no fixed order.
        skipped = ("git add", "autostage", "push` to send")
        return [ln for ln in text.splitlines() if not any(s in ln for s in skipped)]

    assert body(ours) == body(theirs)
    assert "Running stage 's1':" in ours and "Generating lock file 'dvc.lock'" in ours
    assert _hint_files(ours) == _hint_files(theirs) == {"dvc.lock", ".gitignore"}
    # DVC_STAGE names the stage as the user does.
    assert (m / "a/stage-name").read_text() == (d / "a/stage-name").read_text() == "s1\n"
    (m / "a/o2").unlink()
    (d / "a/o2").unlink()
    failed = (m / "a/dvc.yaml").read_text().replace("cat o > o2", "exit 3")
    for repo in (m, d):
        (repo / "a/dvc.yaml").write_text(failed)
    r = mlvc("repro", cwd=m / "a", check=False)
    assert r.returncode == dvc("repro", cwd=d / "a", check=False).returncode == 255
    assert "failed to reproduce `s2`" in r.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["status", "--json"],
        ["status"],
        ["dag", "--dot"],
        ["dag", "--outs", "--dot"],
        ["dag", "--mermaid", "s2"],
        ["stage", "list"],
        ["stage", "list", "--all"],
    ],
)
def test_reports_from_a_subdirectory_like_dvc(
    twins: tuple[Runner, Runner, Path, Path], args: list[str]
) -> None:
    mlvc, dvc, m, d = twins
    ours = mlvc(*args, cwd=m / "a", check=False)
    theirs = dvc(*args, cwd=d / "a", check=False)
    assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout)
    if "--json" in args:
        assert "../dvc.yaml:top" in json.loads(ours.stdout)


def test_data_status_from_a_subdirectory_names_files_like_dvc(
    twins: tuple[Runner, Runner, Path, Path],
) -> None:
    mlvc, dvc, m, d = twins
    for repo in (m, d):
        (repo / "a/data.txt").write_text("x\n")
        (repo / "top.txt").write_text("top\n")
        dvc("add", "-q", "a/data.txt", "top.txt", cwd=repo)
        dvc("remote", "add", "-q", "-d", "r", str(repo.parent / f"remote-{repo.name}"), cwd=repo)
        (repo / "a/data.txt").write_text("changed\n")
        (repo / "top.txt").unlink()
    for args in (["status", "--json"], ["status", "-c", "--json"]):
        ours = json.loads(mlvc(*args, cwd=m / "a").stdout)
        theirs = json.loads(dvc(*args, cwd=d / "a").stdout)
        assert ours == theirs, args
    assert "../top.txt.dvc" in json.loads(mlvc("status", "--json", cwd=m / "a").stdout)
