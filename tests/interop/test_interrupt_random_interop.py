"""Commands killed part-way (SIGINT or SIGKILL): the rerun completes and real DVC
then works on the repository as on one that was never interrupted."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.interop.conftest import Tools, base_env, snapshot

MLVC = [sys.executable, "-m", "mlvc"]


def small_files(root: Path, count: int) -> int:
    for i in range(count):
        p = root / f"d{i % 20}" / f"f{i}.txt"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"file {i}\n" * (1 + i % 30))
    return count


def count_entries(root: Path) -> int:
    """Files and links below `root`, temp names excluded."""
    return sum(
        1 for _d, _dirs, files in os.walk(root) for name in files if not name.endswith(".mlvc-tmp")
    )


def test_killed_readd_with_symlinks_never_drops_a_workspace_file(
    tools: Tools, tmp_path: Path
) -> None:
    """Re-adding a directory checked out as symlinks relinks each file by rename:
    a kill at any point leaves every file in place (it used to unlink them all
    first and link them back later, so a kill lost files and the rerun recorded
    the directory without them)."""
    mlvc, dvc, _git, repo = tools
    mlvc("init", "-q")
    mlvc("config", "cache.type", "symlink")
    total = small_files(repo / "data", 2000)
    mlvc("add", "-q", "data")
    proc = subprocess.Popen(
        [*MLVC, "add", "-q", "data"],
        cwd=repo,
        env=base_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    fewest = total
    # Watch the whole run; at the first missing file, kill it there.
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        fewest = min(fewest, count_entries(repo / "data"))
        if fewest < total:
            break
        time.sleep(0.001)
    proc.kill()
    proc.wait(timeout=60)
    assert fewest == total, f"only {fewest} of {total} files were in the workspace"
    mlvc("add", "-q", "data")
    recorded = (repo / "data.dvc").read_text()
    assert f"nfiles: {total}\n" in recorded
    assert json.loads(dvc("status", "--json").stdout) == {}


# `killer` signals mlvc itself (its shell's parent) once its output is written: an
# interruption at a known point, after `gen` was recorded and before `killer` was.
# `repro` writes lock entries while the next command runs, at most every 50 ms, so
# the stage first waits (up to 10 s) for `gen`'s entry: a SIGKILL loses what is unwritten.
PIPELINE = """stages:
  gen:
    cmd: for i in $(seq 300); do mkdir -p gen/s$((i % 7)); seq $i > gen/s$((i % 7))/g$i; done
    outs: [gen]
  killer:
    cmd: cp -r gen copy && if [ -n "$KILL_PARENT" ]; then for i in $(seq 1000); do
      grep -qs '^  gen:' dvc.lock && break; sleep 0.01; done; kill -$KILL_PARENT $PPID; sleep 2; fi
    deps: [gen]
    outs: [copy]
  last:
    cmd: ls -R copy > listing.txt
    deps: [copy]
    outs: [listing.txt]
"""


@pytest.mark.parametrize(("sig", "rerun"), [("INT", "dvc"), ("KILL", "mlvc")])
def test_repro_interrupted_by_its_stage_is_finished_by_either_tool(
    tools: Tools, tmp_path: Path, sig: str, rerun: str
) -> None:
    mlvc, dvc, git, repo = tools
    mlvc("init", "-q")
    (repo / "dvc.yaml").write_text(PIPELINE)
    git("add", "-A")
    git("commit", "-qm", "pipeline")
    twin = tmp_path / "twin"
    shutil.copytree(repo, twin, symlinks=True)
    mlvc("repro", "-q", cwd=twin)

    env = {**base_env(tmp_path), "KILL_PARENT": sig}
    killed = subprocess.run(
        [*MLVC, "repro", "-j", "2"], cwd=repo, env=env, capture_output=True, text=True
    )
    # DVC-compat: Ctrl-C exits 252.
    assert killed.returncode == (252 if sig == "INT" else -signal.SIGKILL), killed.stderr
    time.sleep(0.1 if sig == "INT" else 2.5)  # a SIGKILL leaves the stage's `sleep` running
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    assert list(lock["stages"]) == ["gen"]  # whole: the stage that finished, nothing else
    assert mlvc_cache_is_sound(repo)
    assert not list(repo.rglob("*.mlvc-tmp")), "temp files left"

    (mlvc if rerun == "mlvc" else dvc)("repro")
    assert snapshot(repo) == snapshot(twin)
    # Real DVC then sees and does what it would in the twin never interrupted.
    assert json.loads(dvc("status", "--json").stdout) == {}
    granular = ("data", "status", "--json", "--granular")
    assert json.loads(dvc(*granular).stdout) == json.loads(dvc(*granular, cwd=twin).stdout)
    for args in (["gc", "-w", "-f"], ["checkout"], ["repro"]):
        dvc(*args)
    assert snapshot(repo) == snapshot(twin)


def mlvc_cache_is_sound(repo: Path) -> bool:
    """Every cache object hashes to its name; `.dir` objects are JSON listings."""
    objects = repo / ".dvc" / "cache" / "files" / "md5"
    for p in objects.rglob("*"):
        if p.is_dir() or p.name.endswith(".mlvc-tmp"):
            continue
        name = p.parent.name + p.name
        data = p.read_bytes()
        if hashlib.md5(data).hexdigest() != name.removesuffix(".dir"):
            return False
        if name.endswith(".dir") and not all("relpath" in e for e in json.loads(data)):
            return False
    return True


def interrupt_while_a_class_is_created() -> None:
    """What Python 3.11 raises when Ctrl-C lands in a dataclass's set-up (a module
    imported on first use): a RuntimeError caused by the KeyboardInterrupt."""
    raise RuntimeError("Error calling __set_name__ on 'Field' instance") from KeyboardInterrupt()


@pytest.mark.parametrize("where", ["loading", "command"])
def test_interrupt_wrapped_by_python_exits_252(
    where: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C while modules load gives DVC's 252 and one line, in the command or
    before it (it gave 255, "unexpected error", or a traceback)."""
    import mlvc.cli
    from mlvc.cli import _direct, _errors

    def interrupted(*_args: object) -> None:
        interrupt_while_a_class_is_created()

    if where == "loading":
        monkeypatch.setattr(_direct, "parse", interrupted)
    else:
        monkeypatch.setattr(_direct, "run", _errors.handled()(interrupted))
    with pytest.raises(SystemExit) as exit_info:
        mlvc.cli.main(["status"])
    assert exit_info.value.code == 252
    assert capsys.readouterr().err == "error: interrupted by the user\n"
