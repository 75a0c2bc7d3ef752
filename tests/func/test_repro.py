"""`mlvc repro` scenarios: errors, failures, --keep-going, parallel runs, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.interop.conftest import Runner, base_env

Tools = tuple[Runner, Runner, Runner, Path]


def setup(tools: Tools, dvc_yaml: str, files: dict[str, str] | None = None) -> Path:
    mlvc, _dvc, git, repo = tools
    mlvc("init", "-q")
    (repo / "dvc.yaml").write_text(dvc_yaml)
    for rel, text in (files or {}).items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    git("add", "-A")
    git("commit", "-qm", "init")
    return repo


def test_cycle_is_refused_naming_its_stages(tools: Tools) -> None:
    mlvc = tools[0]
    setup(
        tools,
        "stages:\n"
        "  a: {cmd: cp c.txt a.txt, deps: [c.txt], outs: [a.txt]}\n"
        "  b: {cmd: cp a.txt b.txt, deps: [a.txt], outs: [b.txt]}\n"
        "  c: {cmd: cp b.txt c.txt, deps: [b.txt], outs: [c.txt]}\n",
    )
    r = mlvc("repro", check=False)
    assert r.returncode == 255
    first = r.stderr.splitlines()[0]
    assert "cycle" in first and all(f"`{n}`" in first for n in "abc"), r.stderr


def test_duplicate_output_names_both_stages(tools: Tools) -> None:
    mlvc = tools[0]
    setup(
        tools,
        "stages:\n"
        "  one: {cmd: echo 1 > o.txt, outs: [o.txt]}\n"
        "  two: {cmd: echo 2 > o.txt, outs: [o.txt]}\n",
    )
    r = mlvc("repro", check=False)
    assert r.returncode == 255
    assert "`o.txt`" in r.stderr and "`one`" in r.stderr and "`two`" in r.stderr
    assert not (tools[3] / "o.txt").exists()


def test_output_inside_another_output_is_refused(tools: Tools) -> None:
    mlvc = tools[0]
    setup(
        tools,
        "stages:\n"
        "  d: {cmd: mkdir -p d && touch d/x, outs: [d]}\n"
        "  y: {cmd: touch d/y, outs: [d/y]}\n",
    )
    r = mlvc("repro", check=False)
    assert r.returncode == 255 and "`d/y`" in r.stderr and "inside output `d`" in r.stderr


def test_missing_dep_names_it_and_the_stage(tools: Tools) -> None:
    mlvc = tools[0]
    repo = setup(tools, "stages:\n  s: {cmd: cp nope.txt o.txt, deps: [nope.txt], outs: [o.txt]}\n")
    r = mlvc("repro", check=False)
    assert r.returncode == 255
    assert "`s`" in r.stderr and "`nope.txt`" in r.stderr and "does not exist" in r.stderr
    assert not (repo / "dvc.lock").exists()


def test_stage_without_a_command_is_refused_before_touching_its_outputs(tools: Tools) -> None:
    mlvc = tools[0]
    repo = setup(tools, "stages:\n  a: {cmd: [], outs: [x.txt]}\n", {"x.txt": "kept\n"})
    for args in (("repro",), ("repro", "--dry"), ("repro", "-j", "2")):
        r = mlvc(*args, check=False)
        assert r.returncode == 255, r
        assert "stage `a` has no command to run" in r.stderr
        assert "Running stage" not in r.stdout
        assert (repo / "x.txt").read_text() == "kept\n"


def test_absolute_dep_outside_the_repository_is_read_like_dvc(tools: Tools, tmp_path: Path) -> None:
    _mlvc, dvc, _git, repo = tools
    outside = tmp_path / "outside.txt"
    outside.write_text("x\n")
    env = base_env(tmp_path)
    mlvc_argv = [sys.executable, "-m", "mlvc"]
    subprocess.run([*mlvc_argv, "init", "-q"], cwd=repo, env=env, check=True, timeout=60)
    add = ["stage", "add", "-n", "s", "-d", str(outside), "-o", "o.txt", f"cat {outside} > o.txt"]
    # A timeout, not a hang: walking up from `/` once never ended.
    for args in (add, ["repro"], ["dag"], ["status"]):
        r = subprocess.run(
            [*mlvc_argv, *args], cwd=repo, env=env, capture_output=True, text=True, timeout=60
        )
        assert r.returncode == 0, r
    ours = (repo / "dvc.lock").read_text()
    (repo / "dvc.lock").unlink()
    (repo / "o.txt").unlink()
    dvc("repro", "-q")
    assert ours == (repo / "dvc.lock").read_text()
    assert (repo / "o.txt").read_text() == "x\n"


def test_failing_command_reports_exit_code_and_keeps_lock(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    setup(
        tools,
        "stages:\n"
        "  s:\n"
        '    cmd: cat in.txt > o.txt && test "$(cat in.txt)" = ok\n'
        "    deps: [in.txt]\n"
        "    outs: [o.txt]\n",
        {"in.txt": "ok\n"},
    )
    mlvc("repro")
    lock = (repo / "dvc.lock").read_bytes()
    (repo / "in.txt").write_text("bad\n")
    r = mlvc("repro", check=False)
    assert r.returncode == 255
    assert r.stderr.splitlines()[0].startswith("error: failed to reproduce `s`")
    assert "exited with 1" in r.stderr
    assert (repo / "dvc.lock").read_bytes() == lock
    # The failed run's output was not stored; both tools still see the stage as changed.
    status = json.loads(mlvc("status", "--json").stdout)
    assert status == json.loads(dvc("status", "--json").stdout)
    assert status["s"][0] == {"changed deps": {"in.txt": "modified"}}


def test_keep_going_finishes_independent_branches(tools: Tools) -> None:
    mlvc, _dvc, _git, repo = tools
    setup(
        tools,
        "stages:\n"
        "  bad: {cmd: exit 7, deps: [in.txt], outs: [bad.txt]}\n"
        "  after_bad: {cmd: cp bad.txt x.txt, deps: [bad.txt], outs: [x.txt]}\n"
        "  good: {cmd: cp in.txt good.txt, deps: [in.txt], outs: [good.txt]}\n",
        {"in.txt": "in\n"},
    )
    r = mlvc("repro", check=False)
    assert r.returncode == 255 and not (repo / "good.txt").exists()
    r = mlvc("repro", "--keep-going", check=False)
    assert r.returncode == 255
    assert "exited with 7" in r.stderr and "'after_bad'" in r.stderr
    assert (repo / "good.txt").read_text() == "in\n"
    lock = (repo / "dvc.lock").read_text()
    assert "good:" in lock and "bad:" not in lock.replace("after_bad", "")


def test_parallel_jobs_write_the_serial_lock(tools: Tools) -> None:
    mlvc, _dvc, git, repo = tools
    stages = "".join(
        f"  s{i}: {{cmd: sleep 0.{9 - i} && echo {i} > o{i}.txt, deps: [in.txt], "
        f"outs: [o{i}.txt]}}\n"
        for i in range(6)
    )
    # `join` reads every output, so it depends on all of them (else it could run
    # while a stage it does not wait for is still writing).
    deps = ", ".join(f"o{i}.txt" for i in range(6))
    stages += f"  join: {{cmd: cat o*.txt > all.txt, deps: [{deps}], outs: [all.txt]}}\n"
    setup(tools, "stages:\n" + stages, {"in.txt": "x\n"})
    r = mlvc("repro", "-j", "4")
    # Each stage's output comes as one block, never interleaved with another's.
    for i in range(6):
        assert f"Running stage 's{i}':\n> sleep 0.{9 - i} && echo {i} > o{i}.txt\n" in r.stdout
    parallel_lock = (repo / "dvc.lock").read_bytes()
    git("clean", "-qfdx", "-e", ".dvc")
    (repo / "dvc.lock").unlink(missing_ok=True)
    mlvc("repro", "--no-run-cache")
    assert (repo / "dvc.lock").read_bytes() == parallel_lock
    assert (repo / "all.txt").read_text() == "0\n1\n2\n3\n4\n5\n"


def test_run_cache_that_cannot_be_written_only_warns(tools: Tools) -> None:
    mlvc, _dvc, _git, repo = tools
    setup(
        tools,
        "stages:\n"
        "  a: {cmd: echo a > a.txt, deps: [in.txt], outs: [a.txt]}\n"
        "  b: {cmd: cat a.txt > b.txt, deps: [a.txt], outs: [b.txt]}\n",
        {"in.txt": "x\n"},
    )
    # A file where the run cache's directory belongs: no entry can be written.
    (repo / ".dvc" / "cache" / "runs").parent.mkdir(parents=True, exist_ok=True)
    (repo / ".dvc" / "cache" / "runs").write_text("")
    r = mlvc("repro")
    # The run-cache entries are written while the next command runs; a failure
    # there costs reruns only: both stages are recorded.
    assert r.stderr.count("was not saved in the run cache") == 2
    assert "stage 'a'" in r.stderr and "stage 'b'" in r.stderr
    assert (repo / "b.txt").read_text() == "a\n"
    r = mlvc("status")
    assert "Data and pipelines are up to date." in r.stdout


def test_error_while_a_command_runs_stops_it(tools: Tools) -> None:
    mlvc, _dvc, _git, repo = tools
    # `a` leaves a directory where `dvc.lock` goes: writing the lock fails while
    # `b`'s command runs (lock writes wait for the next command to start).
    setup(
        tools,
        "stages:\n"
        "  a: {cmd: mkdir dvc.lock && echo a > a.txt, deps: [in.txt], outs: [a.txt]}\n"
        "  b: {cmd: echo $$ > b.pid && exec sleep 30, deps: [a.txt], outs: [b.txt]}\n",
        {"in.txt": "x\n"},
    )
    started = time.monotonic()
    r = mlvc("repro", check=False)
    # One line naming the lock file (not the temp file beside it).
    assert r.returncode != 0 and "dvc.lock`" in r.stderr and "mlvc-tmp" not in r.stderr
    assert time.monotonic() - started < 20
    # `b` may have been stopped before it wrote its pid; left running, it writes it
    # at once and sleeps on.
    pid_file = repo / "b.pid"
    deadline = time.monotonic() + 2
    while not pid_file.read_text().strip() if pid_file.exists() else True:
        if time.monotonic() > deadline:
            return  # stopped before it got that far
        time.sleep(0.05)
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    raise AssertionError("the running command was left behind")


def test_parallel_command_that_closes_its_output_does_not_hold_up_others(
    tools: Tools,
) -> None:
    mlvc, _dvc, _git, repo = tools
    # `quiet` closes its output at once and runs on; `loud` writes more than a pipe
    # holds. Waiting for `quiet` to exit without reading `loud`'s pipe would keep
    # `loud` blocked until `quiet` ends, so `loud` would end last.
    setup(
        tools,
        "stages:\n"
        "  quiet: {cmd: exec >&- 2>&- && sleep 3 && echo q > q.txt, deps: [in.txt], "
        "outs: [q.txt]}\n"
        "  loud: {cmd: sleep 0.3 && yes x | head -c 200000 && echo l > l.txt, "
        "deps: [in.txt], outs: [l.txt]}\n",
        {"in.txt": "x\n"},
    )
    r = mlvc("repro", "-j", "2")
    assert r.stdout.index("Running stage 'loud'") < r.stdout.index("Running stage 'quiet'")
    assert "x\n" * 100000 in r.stdout
    assert (repo / "q.txt").read_text() == "q\n" and (repo / "l.txt").read_text() == "l\n"


def test_parallel_jobs_stop_starting_stages_after_a_failure(tools: Tools) -> None:
    mlvc, _dvc, _git, repo = tools
    later = "".join(
        f"  later{i}: {{cmd: echo {i} > l{i}.txt, deps: [in.txt], outs: [l{i}.txt]}}\n"
        for i in range(3)
    )
    setup(
        tools,
        "stages:\n"
        "  bad: {cmd: exit 3, deps: [in.txt], outs: [bad.txt]}\n"
        "  slow: {cmd: sleep 0.5 && echo s > slow.txt, deps: [in.txt], outs: [slow.txt]}\n" + later,
        {"in.txt": "x\n"},
    )
    r = mlvc("repro", "-j", "2", check=False)
    assert r.returncode == 255 and "exited with 3" in r.stderr
    # The stage already running when `bad` failed is finished and recorded;
    # nothing queued behind them starts.
    assert (repo / "slow.txt").read_text() == "s\n"
    lock = (repo / "dvc.lock").read_text()
    assert "slow:" in lock and "bad:" not in lock
    assert not any((repo / f"l{i}.txt").exists() for i in range(3))
    # With --keep-going the independent stages all run.
    r = mlvc("repro", "-j", "2", "--keep-going", check=False)
    assert r.returncode == 255
    assert all((repo / f"l{i}.txt").read_text() == f"{i}\n" for i in range(3))


def test_parallel_jobs_run_each_line_and_keep_all_output(tools: Tools) -> None:
    mlvc, _dvc, _git, repo = tools
    # 200,000 bytes: more than a pipe holds, so output must be read while it runs.
    setup(
        tools,
        "stages:\n"
        "  big:\n"
        "    cmd:\n"
        "    - yes x | head -c 200000\n"
        "    - echo done > big.txt\n"
        "    deps: [in.txt]\n"
        "    outs: [big.txt]\n"
        "  second_fails:\n"
        "    cmd:\n"
        "    - echo first > half.txt\n"
        "    - exit 4\n"
        "    - echo never > never.txt\n"
        "    deps: [in.txt]\n"
        "    outs: [half.txt]\n",
        {"in.txt": "x\n"},
    )
    r = mlvc("repro", "-j", "2", "--keep-going", check=False)
    assert r.returncode == 255
    assert "x\n" * 100000 in r.stdout
    assert "> echo done > big.txt\n" in r.stdout
    assert "command `exit 4` exited with 4" in r.stderr
    assert (repo / "big.txt").read_text() == "done\n"
    assert (repo / "half.txt").read_text() == "first\n" and not (repo / "never.txt").exists()
    lock = (repo / "dvc.lock").read_text()
    assert "big:" in lock and "second_fails:" not in lock


def interrupt_repro(repo: Path, tmp_path: Path, pid_files: list[Path], *args: str) -> list[int]:
    """Starts `mlvc repro *args`, sends Ctrl-C once each command wrote its shell's pid
    to its file, checks mlvc exits 252 and returns those pids."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlvc", "repro", *args],
        cwd=repo,
        env=base_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    for _ in range(600):
        if all(p.exists() and p.read_text().strip() for p in pid_files):
            break
        time.sleep(0.05)
    pids = [int(p.read_text()) for p in pid_files]
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 252, err
    return pids


def assert_exits(pid: int, message: str) -> None:
    """Waits up to 5 s for the process to be gone."""
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(message)


def test_ctrl_c_stops_every_parallel_command(tools: Tools, tmp_path: Path) -> None:
    _mlvc, _dvc, _git, repo = tools
    setup(
        tools,
        "stages:\n"
        "  quick: {cmd: echo q > q.txt, deps: [in.txt], outs: [q.txt]}\n"
        # The slow stages start once `quick` has ended and been recorded: then
        # a Ctrl-C after they started always comes after that record.
        + "".join(
            f"  slow{i}:\n"
            f"    cmd: echo $$ > pid{i}.txt && sleep 60 && echo done > o{i}.txt\n"
            "    deps: [in.txt, q.txt]\n"
            f"    outs: [o{i}.txt]\n"
            for i in range(2)
        ),
        {"in.txt": "x\n"},
    )
    pid_files = [repo / f"pid{i}.txt" for i in range(2)]
    for pid in interrupt_repro(repo, tmp_path, pid_files, "-j", "3"):
        assert_exits(pid, "a parallel stage's command survived Ctrl-C")
    # What finished before Ctrl-C is recorded; the interrupted stages are not.
    lock = (repo / "dvc.lock").read_text()
    assert "quick:" in lock and "slow" not in lock


def test_ctrl_c_stops_the_command_and_keeps_lock(tools: Tools, tmp_path: Path) -> None:
    _mlvc, _dvc, _git, repo = tools
    setup(
        tools,
        "stages:\n"
        "  slow:\n"
        "    cmd: echo $$ > pid.txt && sleep 60 && echo done > o.txt\n"
        "    deps: [in.txt]\n"
        "    outs: [o.txt]\n",
        {"in.txt": "x\n"},
    )
    (shell_pid,) = interrupt_repro(repo, tmp_path, [repo / "pid.txt"])
    # The command's shell (and its sleep) is gone, nothing was recorded.
    assert_exits(shell_pid, "the stage's command survived Ctrl-C")
    assert not (repo / "dvc.lock").exists() and not (repo / "o.txt").exists()


def test_dry_runs_nothing(tools: Tools) -> None:
    mlvc, _dvc, _git, repo = tools
    setup(
        tools,
        "stages:\n  s: {cmd: echo 1 > o.txt, deps: [in.txt], outs: [o.txt]}\n",
        {"in.txt": "1"},
    )
    r = mlvc("repro", "--dry")
    assert "Running stage 's':\n> echo 1 > o.txt" in r.stdout
    assert not (repo / "o.txt").exists() and not (repo / "dvc.lock").exists()
    # DVC-compat: a missing dep fails a dry run only where the run cache is looked at.
    dvc = tools[1]
    (repo / "dvc.yaml").write_text("stages:\n  s: {cmd: cat nope, deps: [nope]}\n")
    ours, theirs = mlvc("repro", "--dry", check=False), dvc("repro", "--dry", check=False)
    assert ours.returncode == theirs.returncode == 0
    assert "Running stage 's':\n> cat nope" in ours.stdout
    (repo / "dvc.yaml").write_text("stages:\n  s: {cmd: cat nope, deps: [nope], outs: [o]}\n")
    ours, theirs = mlvc("repro", "--dry", check=False), dvc("repro", "--dry", check=False)
    assert ours.returncode == theirs.returncode == 255


def test_single_item_and_downstream_select_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, _repo = tools
    setup(
        tools,
        "stages:\n"
        "  a: {cmd: cp in.txt a.txt, deps: [in.txt], outs: [a.txt]}\n"
        "  b: {cmd: cp a.txt b.txt, deps: [a.txt], outs: [b.txt]}\n"
        "  c: {cmd: cp b.txt c.txt, deps: [b.txt], outs: [c.txt]}\n",
        {"in.txt": "1\n"},
    )
    out = mlvc("repro", "-s", "a").stdout
    assert "Running stage 'a'" in out and "'b'" not in out
    out = mlvc("repro", "--downstream", "b").stdout
    assert "Running stage 'b'" in out and "Running stage 'c'" in out and "'a'" not in out
    assert json.loads(dvc("status", "--json").stdout) == {}


def test_status_of_a_broken_dvc_yaml_fails_with_1_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    setup(tools, "stages:\n  a:\n    cmd: echo ${nope}\n")
    for text in (None, "stages:\n  a:\n    cmd: echo\n    bogus: 1\n", "stages: [\n"):
        if text is not None:
            (repo / "dvc.yaml").write_text(text)
        for args in (["status"], ["status", "--json"], ["repro"]):
            ours, theirs = mlvc(*args, check=False), dvc(*args, check=False)
            assert ours.returncode == theirs.returncode, (text, args, ours, theirs)
            assert ours.returncode == (1 if args[0] == "status" else 255)


def test_frozen_stages_are_warned_about_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, _repo = tools
    setup(
        tools,
        "stages:\n  fz:\n    cmd: echo a > a.txt\n    deps: [in.txt]\n    outs: [a.txt]\n"
        "    frozen: true\n",
        {"in.txt": "i\n"},
    )
    (tools[3] / "a.txt").write_text("a\n")
    for args in (["status"], ["repro"]):
        ours, theirs = mlvc(*args), dvc(*args)
        assert "stage 'fz' is frozen" in ours.stderr and "is frozen" in theirs.stderr, args
        assert "frozen" not in mlvc(*args, "-q", check=False).stderr


def test_empty_outputs_are_warned_about_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    setup(tools, "stages:\n  a:\n    cmd: touch o && mkdir -p d\n    outs: [o, d]\n")
    for tool in (dvc, mlvc):
        for rel in ("o", "d", "dvc.lock"):
            p = repo / rel
            p.rmdir() if p.is_dir() else p.unlink(missing_ok=True)
        r = tool("repro")
        assert "'o' is empty" in r.stderr and "'d' is empty" in r.stderr, r.stderr
        assert "'o' is empty" in tool("commit", "-f").stderr


def test_param_values_dvc_lock_cannot_hold_are_refused_before_the_run(tools: Tools) -> None:
    # DVC runs the command, then fails with an internal error writing `dvc.lock`.
    mlvc = tools[0]
    repo = setup(
        tools,
        "stages:\n"
        "  py: {cmd: echo > a, params: [{params.py: [S, T]}], outs: [a]}\n"
        "  toml: {cmd: echo > b, params: [{p.toml: [d]}], outs: [b]}\n"
        "  keys: {cmd: echo > c, params: [{params.py: [M]}], outs: [c]}\n",
        {
            "params.py": "S = {1, 2}\nT = (1, [2, (3,)])\nM = {'a': 1, 2: 3}\n",
            "p.toml": "d = 1979-05-27\n",
        },
    )
    for stage, message in (
        ("py", "param `S` of `params.py` is a set"),
        ("toml", "param `d` of `p.toml` is a date"),
        ("keys", "param `M` of `params.py` is a mapping whose keys mix text and numbers"),
    ):
        r = mlvc("repro", stage, check=False)
        assert r.returncode == 255, r.stderr
        assert message in r.stderr.splitlines()[0], r.stderr
    assert not any((repo / name).exists() for name in ("a", "b", "c", "dvc.lock"))
    # Tuples are written as lists, as DVC writes them.
    (repo / "params.py").write_text("T = (1, [2, (3,)])\n")
    (repo / "dvc.yaml").write_text("stages:\n  py: {cmd: echo > a, params: [{params.py: [T]}]}\n")
    mlvc("repro")
    assert "T:\n        - 1\n        - - 2\n          - - 3\n" in (repo / "dvc.lock").read_text()
