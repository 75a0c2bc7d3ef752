"""No `.gitignore` entry for an output git already ignores, as DVC: after `add`,
`commit`, `stage add` and `repro`, the `.gitignore` files compared with DVC's."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]

USER_RULES = "*.csv\nlogs/\nmodels\n"
PIPELINE = """\
stages:
  make:
    cmd: echo r > report.csv && echo p > plain.txt && mkdir -p logs && echo l > logs/run.log
    outs: [report.csv, plain.txt, logs/run.log]
"""


def gitignores(repo: Path) -> dict[str, str]:
    return {
        str(p.relative_to(repo)): p.read_text()
        for p in sorted(repo.rglob(".gitignore"))
        if ".dvc" not in p.parts
    }


def test_outputs_git_already_ignores_get_no_entry_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    found = []
    for tool in (dvc, mlvc):
        for p in repo.iterdir():
            if p.name != ".git":
                shutil.rmtree(p) if p.is_dir() else p.unlink()
        tool("init", "-q")
        (repo / ".gitignore").write_text(USER_RULES)
        (repo / "c.csv").write_text("c\n")
        (repo / "keep.txt").write_text("k\n")
        for d in ("logs", "models", "data"):
            (repo / d).mkdir()
            (repo / d / "f").write_text(d + "\n")
        # DVC-compat: refused, as its `.dvc` file would be ignored.
        refused = tool("add", "-q", "keep.txt", "logs/f", check=False).returncode
        tool("add", "-q", "c.csv", "keep.txt", "models", "data")
        added = (refused, gitignores(repo))
        # A hand-written `.dvc` file committed: the entry only where git needs one.
        (repo / "extra.csv").write_text("e\n")
        (repo / "extra.csv.dvc").write_text("outs:\n- path: extra.csv\n")
        tool("commit", "-q", "-f", "extra.csv.dvc")
        committed = gitignores(repo)
        (repo / "dvc.yaml").write_text(PIPELINE)
        tool("repro", "-q")
        found.append((added, committed, gitignores(repo)))
    assert found[0] == found[1]
    added, _, ran = found[1]
    assert added == (1, {".gitignore": USER_RULES + "/keep.txt\n/data\n"})
    assert ran[".gitignore"].endswith("/plain.txt\n")
