"""`repro` options against `dvc repro`: --force-downstream, --ignore-errors (with -k),
--no-commit, -i."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import dvc_executable
from tests.interop.conftest import Runner, base_env, ran_names
from tests.interop.test_repro_interop import chain, setup, write

Tools = tuple[Runner, Runner, Runner, Path]
Files = dict[str, str]

THREE = {
    "dvc.yaml": (
        "stages:\n"
        "  a:\n"
        "    cmd: echo A > a.txt\n"
        "    outs: [a.txt]\n"
        "  b:\n"
        "    cmd: cat a.txt > b.txt\n"
        "    deps: [a.txt]\n"
        "    outs: [b.txt]\n"
        "  c:\n"
        "    cmd: echo C > c.txt\n"
        "    outs: [c.txt]\n"
    ),
}

NO_COMMIT = {
    "raw": "raw\n",
    "dvc.yaml": (
        "stages:\n"
        "  a:\n"
        "    cmd: mkdir -p d && cp raw d/f && cp raw a.txt && echo 1 > m.json\n"
        "    deps: [raw]\n"
        "    outs: [a.txt, d]\n"
        "    metrics: [m.json]\n"
        "  b:\n"
        "    cmd: cat a.txt > b.txt\n"
        "    deps: [a.txt]\n"
        "    outs:\n"
        "    - b.txt:\n"
        "        cache: false\n"
    ),
}


def fill(tools: Tools, root: Path, files: Files, *, add: tuple[str, ...] = ()) -> None:
    mlvc, _dvc, git, _ = tools
    write(root, files)
    for path in add:
        mlvc("add", "-q", path, cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "init", cwd=root)


def head(out: str) -> str:
    """A repro's report, without the `git add` hint (whose file order differs)."""
    return out.split("\nTo track the changes with git")[0]


def cache_files(root: Path) -> list[str]:
    cache = root / ".dvc" / "cache"
    return sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file())


def test_force_downstream_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    setup(tools, chain())
    dvc("repro")
    git("add", "-A")
    git("commit", "-qm", "run")
    params = (repo / "params.yaml").read_text()
    # a's output does not depend on p.a: without the flag, b..d would be skipped.
    (repo / "params.yaml").write_text(params.replace("a: 1", "a: 5"))
    theirs = dvc("repro", "--force-downstream").stdout
    lock = (repo / "dvc.lock").read_bytes()
    git("checkout", "-q", "--", "dvc.lock")
    ours = mlvc("repro", "--force-downstream").stdout
    assert ran_names(theirs) == ["a", "b", "c", "d"]
    # DVC's run restored a from the run cache for mlvc; b..d ran, forced.
    assert ran_names(ours) == ran_names(theirs)
    assert [ln for ln in ours.splitlines() if ln.startswith("Running stage")] == [
        f"Running stage '{n}':" for n in "bcd"
    ]
    assert (repo / "dvc.lock").read_bytes() == lock
    # DVC-compat: with --single-item DVC has no graph, so nothing is forced.
    (repo / "params.yaml").write_text(params.replace("a: 1", "a: 6"))
    assert ran_names(mlvc("repro", "--force-downstream", "-s", "a", "b").stdout) == ["a"]
    # Only what follows a reproduced stage is forced.
    assert ran_names(mlvc("repro", "--force-downstream", "c").stdout) == []


def test_ignore_errors_like_dvc(pair: tuple[Tools, Path, Path]) -> None:
    (mlvc, dvc, _git, _), ours, theirs = pair
    files = dict(THREE, **{"dvc.yaml": THREE["dvc.yaml"].replace("> a.txt", "> a.txt && false")})
    for root in (ours, theirs):
        fill(pair[0], root, files)
    a = mlvc("repro", "--ignore-errors", cwd=ours, check=False)
    b = dvc("repro", "--ignore-errors", cwd=theirs, check=False)
    assert a.returncode == b.returncode == 0
    # The failed stage's dependents still run; the blank lines fall as DVC puts them.
    assert head(a.stdout) == head(b.stdout).replace("dvc push", "mlvc push")
    assert ran_names(a.stdout) == ["a", "b", "c"]
    assert (ours / "dvc.lock").read_bytes() == (theirs / "dvc.lock").read_bytes()
    assert "exited with 1 (ignored)" in b.stderr
    assert a.stderr.startswith("warning: failed to reproduce `a`: ")
    assert a.stderr.endswith(" (ignored)\n") and "error" not in a.stderr


@pytest.mark.parametrize(
    ("flags", "code"),
    [
        (["-k", "--ignore-errors"], 0),
        (["--ignore-errors", "-k"], 255),
        (["--ignore-errors", "--keep-going"], 255),
        (["-k", "--ignore-errors", "-s", "c", "a", "b", "-k"], 255),
        # DVC-compat: combined short flags count where they stand, as argparse reads them.
        (["--ignore-errors", "-fk"], 255),
        (["-kf", "--ignore-errors"], 0),
        (["-fks", "c", "a", "b", "--ignore-errors"], 0),
    ],
)
def test_keep_going_and_ignore_errors_last_one_wins_like_dvc(
    pair: tuple[Tools, Path, Path], flags: list[str], code: int
) -> None:
    (mlvc, dvc, _git, _), ours, theirs = pair
    files = dict(THREE, **{"dvc.yaml": THREE["dvc.yaml"].replace("> a.txt", "> a.txt && false")})
    for root in (ours, theirs):
        fill(pair[0], root, files)
    # DVC-compat: both flags store into one `on_error`, so the one given last decides.
    a = mlvc("repro", *flags, cwd=ours, check=False)
    b = dvc("repro", *flags, cwd=theirs, check=False)
    assert (a.returncode, ran_names(a.stdout)) == (b.returncode, ran_names(b.stdout)), flags
    assert a.returncode == code


def test_no_commit_like_dvc(pair: tuple[Tools, Path, Path]) -> None:
    tools, ours, theirs = pair
    mlvc, dvc, _git, _ = tools
    for root in (ours, theirs):
        fill(tools, root, NO_COMMIT, add=("raw",))
        # The data source changes too: its `.dvc` file is rewritten, its data not cached.
        (root / "raw").write_text("raw v2\n")
    before = cache_files(ours)
    a = mlvc("repro", "--no-commit", cwd=ours)
    b = dvc("repro", "--no-commit", cwd=theirs)
    assert ran_names(a.stdout) == ran_names(b.stdout) == ["a", "b"]
    for rel in ("dvc.lock", "raw.dvc"):
        assert (ours / rel).read_bytes() == (theirs / rel).read_bytes(), rel
    assert sorted((ours / ".gitignore").read_text().splitlines()) == sorted(
        (theirs / ".gitignore").read_text().splitlines()
    )
    # Nothing went to the cache, and no run was recorded.
    assert cache_files(ours) == cache_files(theirs) == before
    status = json.loads(dvc("status", "--json", cwd=ours).stdout)
    assert status["a"] == [
        {"changed outs": {"a.txt": "not in cache", "d": "not in cache", "m.json": "not in cache"}}
    ]
    assert json.loads(mlvc("status", "--json", cwd=ours).stdout) == status
    assert json.loads(mlvc("status", "--json", cwd=theirs).stdout) == status
    # `commit` then stores what `--no-commit` left out.
    mlvc("commit", cwd=ours)
    assert dvc("status", cwd=ours).stdout == "Data and pipelines are up to date.\n"


def test_interactive_without_a_terminal_declines_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    setup(tools, THREE)
    # DVC-compat: with stdout not a terminal nothing is asked, and the answer is no.
    a = mlvc("repro", "-i", check=False)
    b = dvc("repro", "-i", check=False)
    assert a.returncode == b.returncode == 255
    assert "failed to reproduce 'a': reproduction aborted by the user" in b.stderr
    assert a.stderr.startswith(
        "error: failed to reproduce `a`: reproduction aborted by the user\nhint: "
    )
    assert not (repo / "dvc.lock").exists() and not (repo / "a.txt").exists()
    # `core.interactive` asks without -i, for both tools.
    mlvc("config", "core.interactive", "true")
    assert mlvc("repro", check=False).returncode == 255
    assert dvc("repro", check=False).returncode == 255
    assert not (repo / "dvc.lock").exists()


def in_terminal(
    argv: list[str], cwd: Path, env: dict[str, str], answers: list[str]
) -> tuple[int, str]:
    """Runs a command on a pseudo-terminal, answering each `[y/n]` question in turn."""
    master, slave = os.openpty()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the command closed the terminal
                break
            if not chunk:
                break
            out += chunk
            if answers and out.rstrip().endswith(b"[y/n]"):
                os.write(master, answers.pop(0).encode() + b"\n")
        code = proc.wait(timeout=60)
    finally:
        os.close(master)
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.decode(errors="replace"))
    return code, text.replace("\r\n", "\n")


def test_interactive_asks_like_dvc(tools: Tools, tmp_path: Path) -> None:
    _mlvc, _dvc, _git, repo = tools
    setup(tools, THREE)
    env = base_env(tmp_path)
    answers = ["y", "x", "n"]  # run a; an invalid answer; decline b

    def shown(text: str) -> list[str]:
        keep = ("Going to reproduce", "Running stage", "Your response must be one of")
        return [ln for ln in text.splitlines() if ln.startswith(keep)]

    b_code, b_out = in_terminal([str(dvc_executable()), "repro", "-i"], repo, env, list(answers))
    lock = (repo / "dvc.lock").read_bytes()
    for rel in ("dvc.lock", "a.txt"):
        (repo / rel).unlink()
    a_code, a_out = in_terminal([sys.executable, "-m", "mlvc", "repro", "-i"], repo, env, answers)
    assert a_code == b_code == 255
    assert (
        shown(a_out)
        == shown(b_out)
        == [
            "Going to reproduce stage: 'a'. Are you sure you want to continue? [y/n] y",
            "Running stage 'a':",
            "Going to reproduce stage: 'b'. Are you sure you want to continue? [y/n] x",
            "Your response must be one of: ['yes', 'no', 'y', 'n']. Please try again.",
            "Going to reproduce stage: 'b'. Are you sure you want to continue? [y/n] n",
        ]
    )
    assert "error: failed to reproduce `b`: reproduction aborted by the user" in a_out
    assert (repo / "dvc.lock").read_bytes() == lock
    assert not (repo / "b.txt").exists()


PULLED = {
    "dvc.yaml": (
        "stages:\n"
        "  a:\n"
        "    cmd: echo A > a.txt\n"
        "    outs: [a.txt]\n"
        "  b:\n"
        "    cmd: cat a.txt a.txt > b.txt\n"
        "    deps: [a.txt]\n"
        "    outs: [b.txt]\n"
    ),
}


@pytest.mark.parametrize("targets", [[], ["b"]], ids=["all", "downstream-target"])
def test_pull_restores_unchanged_stages_instead_of_running_them_like_dvc(
    pair: tuple[Tools, Path, Path], targets: list[str]
) -> None:
    # With a target, its upstream stages' outputs are pulled too, as `repro` checks them.
    tools, ours, theirs = pair
    mlvc, dvc, git, _ = tools
    for root in (ours, theirs):
        fill(tools, root, PULLED)
        mlvc(
            "remote", "add", "-q", "-d", "store", str(root.parent / f"{root.name}-remote"), cwd=root
        )
        mlvc("repro", "-q", cwd=root)
        mlvc("push", "-q", cwd=root)
        git("add", "-A", cwd=root)
        git("commit", "-qm", "ran", cwd=root)
    lock = (ours / "dvc.lock").read_bytes()
    b_md5 = re.findall(r"md5: (\w+)", (ours / "dvc.lock").read_text())[-1]
    for gone in ((), (b_md5,)):  # everything pushed; then b's output lost on the remote
        reports = []
        for tool, root in ((mlvc, ours), (dvc, theirs)):
            for oid in gone:
                (root.parent / f"{root.name}-remote/files/md5" / oid[:2] / oid[2:]).unlink()
            shutil.rmtree(root / ".dvc/cache")
            (root / "a.txt").unlink()
            (root / "b.txt").unlink()
            r = tool("repro", "--pull", *targets, cwd=root)
            reports.append((head(r.stdout).replace("dvc push", "mlvc push"), "md5: " in r.stderr))
            assert (root / "b.txt").read_text() == "A\nA\n"
            assert (root / "dvc.lock").read_bytes() == lock
        assert reports[0] == reports[1], gone
        assert reports[0][0].startswith(
            "Pulling data for stage: 'a'\nPulling data for stage: 'b'\n"
        )
        assert ("Unable to pull data for stage: 'b'" in reports[0][0]) == bool(gone)


RESTORED = {
    ".dvcignore": "*.tmp\n",
    "params.yaml": "p: 1\n",
    "dvc.yaml": (
        "stages:\n"
        "  s:\n"
        "    cmd: mkdir -p outdir; echo a > outdir/a.txt; echo t > outdir/x.tmp; echo c > c.txt\n"
        "    params: [p]\n"
        "    outs: [outdir, c.txt]\n"
    ),
}


def test_restored_outputs_are_removed_first_like_dvc(pair: tuple[Tools, Path, Path]) -> None:
    # Files `.dvcignore` hides inside an output directory go with it, as before a run.
    tools, ours, theirs = pair
    mlvc, dvc, _git, _ = tools
    found = []
    for tool, root in ((mlvc, ours), (dvc, theirs)):
        fill(tools, root, RESTORED)
        tool("repro", "-q", cwd=root)
        (root / "c.txt").unlink()
        tool("repro", "-q", cwd=root)  # restored from its own lock entry
        kept = sorted(p.name for p in (root / "outdir").iterdir())
        (root / "params.yaml").write_text("p: 2\n")
        tool("repro", "-q", cwd=root)
        (root / "params.yaml").write_text("p: 1\n")
        (root / "outdir/x.tmp").write_text("t\n")
        tool("repro", "-q", cwd=root)  # restored from the run-cache
        found.append((kept, sorted(p.name for p in (root / "outdir").iterdir())))
    assert found[0] == found[1] == (["a.txt"], ["a.txt"])
