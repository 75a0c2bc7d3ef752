"""The README's Python example runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT


def test_readme_python_example_runs(tmp_path: Path) -> None:
    text = (REPO_ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README has no python example"
    env_cmds = [
        ["git", "init", "-q"],
        [
            "git",
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "one",
        ],
    ]
    for cmd in env_cmds:
        subprocess.run(cmd, cwd=tmp_path, check=True)
    (tmp_path / "params.yaml").write_text("lr: 0.1\n")
    subprocess.run(["git", "add", "params.yaml"], cwd=tmp_path, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "two"],
        cwd=tmp_path,
        check=True,
    )
    (tmp_path / "data" / "sub").mkdir(parents=True)
    for i in range(5):
        (tmp_path / "data" / "sub" / f"f{i}").write_bytes(bytes([i]) * 100)
    (tmp_path / "model.bin").write_bytes(b"weights")
    r = subprocess.run(
        [sys.executable, "-c", blocks[0]], cwd=tmp_path, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    assert ".dir 5 500" in r.stdout
    assert (tmp_path / "restored" / "sub" / "f4").read_bytes() == bytes([4]) * 100
