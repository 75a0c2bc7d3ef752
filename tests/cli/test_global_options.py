"""DVC's options before the command (`-q`, `-v`, `--cd`, `--wait-for-lock`), its command
aliases (`list`, `mv`, `rm`) and `root`: the same output and exit codes as real DVC."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from tests.conftest import dvc_executable, run_captured
from tests.interop.conftest import base_env

# Run from `sub/` in each repository; later lines see what earlier ones left.
SCRIPT = """
root
--cd .. root
--cd .. -q status
-q --cd .. status
--cd .. list . --dvc-only
--cd .. mv a.txt b.txt
--cd .. rm b.txt.dvc
--cd .. -v --wait-for-lock status
--cd /no/such/dir status
"""


def run_script(argv0: list[str], repo: Path, env: dict[str, str]) -> list[tuple[str, int, str]]:
    results = []
    for line in filter(None, SCRIPT.strip().splitlines()):
        r = run_captured([*argv0, *shlex.split(line)], cwd=repo / "sub", env=env)
        results.append((line, r.returncode, r.stdout))
    return results


def test_global_options_and_aliases_match_dvc(tmp_path: Path, real_dvc: Path) -> None:
    env = base_env(tmp_path)
    found = []
    for name, argv0 in (("dvc", [str(dvc_executable())]), ("mlvc", [sys.executable, "-m", "mlvc"])):
        repo = tmp_path / name
        (repo / "sub").mkdir(parents=True)
        subprocess.run(["git", "init", "-q"], cwd=repo, env=env, check=True)
        subprocess.run([*argv0, "init", "-q"], cwd=repo, env=env, check=True)
        (repo / "a.txt").write_text("a\n")
        subprocess.run([*argv0, "add", "-q", "a.txt"], cwd=repo, env=env, check=True)
        found.append(run_script(argv0, repo, env))
        assert not (repo / "b.txt.dvc").exists() and (repo / "b.txt").exists()
    for theirs, ours in zip(*found, strict=True):
        if " mv " in ours[0] or " rm " in ours[0]:
            # Their `git add` hints name the tool and list the files in another order.
            ours, theirs = ours[:2], theirs[:2]
        assert ours == theirs
