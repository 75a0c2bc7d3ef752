"""`.dvc/tmp/rwlock`: a stage one tool is running is refused by the other.

DVC releases the repository lock while a stage's command runs and guards the
stage with per-path entries in `.dvc/tmp/rwlock` instead. The commands here
wait on a gate file the test creates, so nothing depends on how long a
command takes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import dvc_executable, dvc_python
from tests.interop.conftest import Runner, base_env

Tools = tuple[Runner, Runner, Runner, Path]
MLVC = [sys.executable, "-m", "mlvc"]

# Appends a line to runs.log (how many times the stage ran), says it started,
# waits for the test to create `gate`, then writes its output.
GATED = (
    "echo {name} >> runs.log; touch started-{name}; while [ ! -e gate ]; do sleep 0.02; done; {end}"
)


def gated_stage(name: str, out: str, *, end: str | None = None, dep: str = "d.txt") -> str:
    cmd = GATED.format(name=name, end=end or f"echo {name} > {out}")
    return f"  {name}:\n    cmd: {cmd}\n    deps: [{dep}]\n    outs: [{out}]\n"


def setup(tools: Tools, stages: str) -> Path:
    mlvc, _dvc, git, repo = tools
    mlvc("init", "-q")
    (repo / "dvc.yaml").write_text("stages:\n" + stages)
    (repo / "d.txt").write_text("d\n")
    (repo / ".gitignore").write_text("runs.log\nstarted-*\ngate\n*.out.log\n")
    git("add", "-A")
    git("commit", "-qm", "pipeline")
    return repo


def start(argv: list[str], repo: Path, name: str) -> subprocess.Popen[bytes]:
    env = base_env(repo.parent)
    with open(repo / f"{name}.out.log", "wb") as log:
        return subprocess.Popen(argv, cwd=repo, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_for(path: Path, proc: subprocess.Popen[bytes]) -> None:
    """Until `path` exists; fails at once if `proc` ended before creating it."""
    deadline = time.monotonic() + 60
    while not path.exists():
        if proc.poll() is not None:
            log = b"".join(p.read_bytes() for p in path.parent.glob("*.out.log"))
            raise AssertionError(f"ended ({proc.returncode}) before {path.name}:\n{log.decode()}")
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.01)


def finish(proc: subprocess.Popen[bytes], repo: Path) -> int:
    (repo / "gate").touch()
    return proc.wait(timeout=60)


def entries(repo: Path) -> dict[str, object]:
    path = repo / ".dvc" / "tmp" / "rwlock"
    return json.loads(path.read_text()) if path.exists() else {}


def dvc_takes(repo: Path, *, read: list[str], write: list[str]) -> str:
    """Runs DVC's own `rwlock` on the repository's file: "" if it got the paths,
    else DVC's error."""
    script = (
        "import sys, json\n"
        "from dvc.fs import localfs\n"
        "from dvc.rwlock import rwlock\n"
        "from dvc.lock import LockError\n"
        "read, write = json.loads(sys.argv[1]), json.loads(sys.argv[2])\n"
        "try:\n"
        "    with rwlock(sys.argv[3], localfs, 'probe', read, write, False):\n"
        "        pass\n"
        "except LockError as exc:\n"
        "    print(exc)\n"
    )
    tmp = str(repo / ".dvc" / "tmp")
    argv = [str(dvc_python()), "-c", script, json.dumps(read), json.dumps(write), tmp]
    r = subprocess.run(argv, capture_output=True, text=True, check=True)
    return r.stdout.strip()


def abspath(repo: Path, rel: str) -> str:
    return os.path.join(os.path.realpath(repo), rel)


def test_mlvc_refuses_a_stage_dvc_is_running(tools: Tools) -> None:
    mlvc, _dvc, _git, _ = tools
    repo = setup(
        tools, gated_stage("s", "o.txt") + "  t:\n    cmd: echo t > t.txt\n    outs: [t.txt]\n"
    )
    proc = start([str(dvc_executable()), "repro", "s"], repo, "dvc")
    try:
        wait_for(repo / "started-s", proc)
        try:
            r = subprocess.run(
                [*MLVC, "repro", "s"],
                cwd=repo,
                env=base_env(repo.parent),
                capture_output=True,
                text=True,
                timeout=60,
            )
        except subprocess.TimeoutExpired:
            raise AssertionError("mlvc ran the stage DVC is running") from None
        # DVC-compat: refused at once, exit 255, naming the path and who holds it.
        assert r.returncode == 255, r.stderr
        assert "`o.txt` is busy" in r.stderr
        assert f"PID {proc.pid}" in r.stderr and "dvc repro s" in r.stderr
        assert "Running stage" not in r.stdout
        # A stage sharing no path with the running one is not held up.
        mlvc("repro", "t")
        assert (repo / "t.txt").read_text() == "t\n"
    finally:
        assert finish(proc, repo) == 0, (repo / "dvc.out.log").read_text()
    assert (repo / "runs.log").read_text() == "s\n"
    assert "didn't change" in mlvc("repro", "s").stdout


def test_dvc_refuses_a_stage_mlvc_is_running(tools: Tools) -> None:
    _mlvc, dvc, _git, _ = tools
    repo = setup(tools, gated_stage("s", "o.txt"))
    proc = start([*MLVC, "repro"], repo, "mlvc")
    try:
        wait_for(repo / "started-s", proc)
        # DVC's format: absolute paths; deps and outs read, outs written; pid and argv.
        info = entries(repo)
        mine = info["write"][abspath(repo, "o.txt")]  # type: ignore[index]
        assert mine["pid"] == proc.pid and "repro" in mine["cmd"]
        assert info["read"] == {  # type: ignore[index]
            abspath(repo, "d.txt"): [mine],
            abspath(repo, "o.txt"): [mine],
        }
        # DVC's own lock code sees the output as busy, and names mlvc's process.
        refused = dvc_takes(repo, read=[], write=[abspath(repo, "o.txt")])
        assert "is busy" in refused and f"(PID {proc.pid})" in refused
        assert dvc_takes(repo, read=[abspath(repo, "d.txt")], write=[]) == ""
        assert dvc("repro", check=False).returncode == 255
    finally:
        assert finish(proc, repo) == 0, (repo / "mlvc.out.log").read_text()
    assert (repo / "runs.log").read_text() == "s\n"
    assert entries(repo) == {}


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("outcome", ["success", "failure", "sigint"])
def test_entries_go_when_the_stage_ends(tools: Tools, outcome: str, jobs: str) -> None:
    end = "exit 3" if outcome == "failure" else None
    repo = setup(
        tools,
        gated_stage("a", "a.txt", end=end) + gated_stage("b", "b.txt", end=end, dep="d.txt"),
    )
    proc = start([*MLVC, "repro", "-j", jobs], repo, "mlvc")
    try:
        wait_for(repo / "started-a", proc)
        if jobs == "2":
            wait_for(repo / "started-b", proc)
        held = entries(repo)["write"]
        assert abspath(repo, "a.txt") in held  # type: ignore[operator]
        if outcome == "sigint":
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=60)
        else:
            code = finish(proc, repo)
    finally:
        (repo / "gate").touch()
        if proc.poll() is None:
            proc.kill()
    log = (repo / "mlvc.out.log").read_text()
    assert code == {"success": 0, "failure": 255, "sigint": 252}[outcome], log
    assert entries(repo) == {}
    assert dvc_takes(repo, read=[], write=[abspath(repo, "a.txt"), abspath(repo, "b.txt")]) == ""


def test_entries_of_a_dead_process_are_dropped_as_dvc_does(tools: Tools) -> None:
    mlvc, dvc, _git, _ = tools
    repo = setup(tools, "  s:\n    cmd: echo s > o.txt\n    deps: [d.txt]\n    outs: [o.txt]\n")
    dead = subprocess.Popen(["true"])
    dead.wait()
    gone = {"pid": dead.pid, "cmd": "dvc repro"}
    alive = {"pid": os.getpid(), "cmd": "pytest"}
    stale = {
        # the dead process's entries on the stage's paths, and one on another path
        "write": {abspath(repo, "o.txt"): gone},
        "read": {abspath(repo, "d.txt"): [gone], abspath(repo, "other"): [gone, alive]},
    }
    results = {}
    for name, tool in (("mlvc", mlvc), ("dvc", dvc)):
        (repo / ".dvc" / "tmp" / "rwlock").write_text(json.dumps(stale))
        (repo / "o.txt").unlink(missing_ok=True)
        r = tool("repro", "-f")
        assert (repo / "o.txt").read_text() == "s\n"
        assert str(dead.pid) in r.stderr + r.stdout, f"{name} did not warn"
        results[name] = entries(repo)
    # DVC-compat: only the entries the stage's check looks at go (what is written
    # on its paths, what is read of its outputs); a read of its dep stays, as
    # does what is held elsewhere.
    assert results["mlvc"] == results["dvc"]
    assert results["mlvc"] == {
        "read": {abspath(repo, "d.txt"): [gone], abspath(repo, "other"): [gone, alive]}
    }


@pytest.mark.parametrize(
    ("mode", "path"),
    [("write", "o.txt"), ("write", "d.txt"), ("read", "o.txt"), ("write", "")],
    ids=["out-written", "dep-written", "out-read", "root-written"],
)
def test_a_live_entry_blocks_both_tools(tools: Tools, mode: str, path: str) -> None:
    mlvc, dvc, _git, _ = tools
    repo = setup(tools, "  s:\n    cmd: echo s > o.txt\n    deps: [d.txt]\n    outs: [o.txt]\n")
    holder = {"pid": os.getpid(), "cmd": "dvc repro other"}
    target = os.path.normpath(abspath(repo, path))
    held = {"write": {target: holder}} if mode == "write" else {"read": {target: [holder]}}
    (repo / ".dvc" / "tmp" / "rwlock").write_text(json.dumps(held))
    for tool in (dvc, mlvc):
        r = tool("repro", check=False)
        assert r.returncode == 255, r.stderr
        assert "busy" in r.stderr and str(os.getpid()) in r.stderr
        assert "dvc repro other" in r.stderr
        assert not (repo / "o.txt").exists()
        assert entries(repo) == held


def test_status_commit_and_remove_refuse_what_dvc_is_writing_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, _ = tools
    repo = setup(tools, gated_stage("s", "o.txt"))
    (repo / "x.txt").write_text("x\n")
    mlvc("add", "-q", "x.txt")
    proc = start([str(dvc_executable()), "repro", "s"], repo, "dvc")
    try:
        wait_for(repo / "started-s", proc)
        for args in (["status"], ["commit", "-f", "s"]):
            # (DVC's commit fails too, on the output its command has not written yet.)
            ours, theirs = mlvc(*args, check=False), dvc(*args, check=False)
            assert ours.returncode == theirs.returncode == 1, (args, ours, theirs)
            assert "`o.txt` is busy" in ours.stderr and "PID" in ours.stderr, args
        # What DVC's stage does not touch stays free.
        assert mlvc("status", "x.txt.dvc").returncode == 0
        assert mlvc("commit", "-f", "x.txt.dvc").returncode == 0
    finally:
        assert finish(proc, repo) == 0
    assert mlvc("status").returncode == 0


def test_remove_refuses_an_output_another_process_writes_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, _ = tools
    # A valid pipeline: with `stages:` empty (null) both tools refuse to `add`.
    repo = setup(tools, "  s:\n    cmd: echo s\n")
    (repo / "x.txt").write_text("x\n")
    mlvc("add", "-q", "x.txt")
    held = {"write": {abspath(repo, "x.txt"): {"pid": os.getpid(), "cmd": "a writer"}}}
    (repo / ".dvc/tmp/rwlock").write_text(json.dumps(held))
    ours, theirs = mlvc("remove", "x.txt.dvc", check=False), dvc("remove", "x.txt.dvc", check=False)
    assert ours.returncode == theirs.returncode != 0, (ours, theirs)
    assert "`x.txt` is busy" in ours.stderr and "a writer" in ours.stderr
    assert (repo / "x.txt.dvc").exists()
    (repo / ".dvc/tmp/rwlock").write_text("{}")
    mlvc("remove", "x.txt.dvc")
    assert not (repo / "x.txt.dvc").exists()
