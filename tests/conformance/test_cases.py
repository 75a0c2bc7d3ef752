"""Whole conformance cases run by the corpus's own runner, with mlvc standing in for `dvc`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared_dir

CASES = shared_dir() / "conformance" / "cases"
RUNNER = shared_dir() / "conformance" / "tools" / "dvcconf.py"
# The cases whose commands mlvc implements so far.
SUPPORTED = [
    "add-files",
    "add-directory",
    "dvcignore",
    "symlinks",
    "pipeline-basic",
    "pipeline-templating",
]


@pytest.mark.parametrize("case", SUPPORTED)
def test_case_matches_dvc(case: str, tmp_path: Path) -> None:
    shim = tmp_path / "mlvc-as-dvc"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m mlvc "$@"\n')
    shim.chmod(0o755)
    r = subprocess.run(
        [sys.executable, str(RUNNER), "check", str(CASES / case), "--dvc", str(shim)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
