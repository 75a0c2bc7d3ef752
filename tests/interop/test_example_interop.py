"""The example project `examples/blobs`, run by mlvc: real DVC sees it up to date."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.interop.conftest import Runner

EXAMPLE = REPO_ROOT / "examples" / "blobs"
Tools = tuple[Runner, Runner, Runner, Path]


def _ran(output: str) -> list[str]:
    return re.findall(r"^Running stage '([^']+)':", output, re.M)


@pytest.mark.slow
def test_example_pipeline_run_by_mlvc_is_up_to_date_for_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    shutil.copytree(EXAMPLE, repo, dirs_exist_ok=True)
    mlvc("init", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "blobs")

    out = mlvc("repro").stdout
    assert _ran(out) == ["generate", "prepare", "train", "evaluate"]
    metrics = json.loads((repo / "eval" / "metrics.json").read_text())
    assert 0.5 < metrics["accuracy"] <= 1.0
    assert json.loads(dvc("status", "--json").stdout) == {}
    assert "up to date" in dvc("repro").stdout
    git("add", "-A")
    git("commit", "-q", "-m", "run")

    params = repo / "params.yaml"
    params.write_text(re.sub(r"^  lr: 0\.1$", "  lr: 0.05", params.read_text(), flags=re.M))
    # Both tools see the same change: train's param, nothing else.
    theirs = json.loads(dvc("status", "--json").stdout)
    assert theirs == json.loads(mlvc("status", "--json").stdout)
    assert list(theirs) == ["train"]

    assert _ran(mlvc("repro").stdout) == ["train", "evaluate"]
    assert json.loads(dvc("status", "--json").stdout) == {}
    assert json.loads(mlvc("status", "--json").stdout) == {}
    # DVC reads the metrics mlvc wrote and compares them with the committed ones.
    diff = json.loads(dvc("metrics", "diff", "--json").stdout)
    assert set(diff["eval/metrics.json"]) >= {"accuracy", "roc_auc"}
