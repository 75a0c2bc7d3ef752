"""The DVC fork server (`tests/dvc_forkserver.py`) stands in for the `dvc` script.

Every interop test runs real DVC through it, so here one sequence of commands runs
both ways, in twin repositories: each command must give the same exit code,
output and errors, and leave the same files.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import dvc_executable, run_dvc
from tests.interop.conftest import base_env, snapshot

PIPELINE = """stages:
  copy:
    cmd: cp raw.txt copied.txt && echo copied
    deps: [raw.txt]
    outs: [copied.txt]
  fails:
    cmd: echo about to fail >&2; exit 3
    deps: [copied.txt]
"""

# (arguments, stdin): commands that write, report, fail, read stdin and misuse flags.
STEPS: list[tuple[list[str], str | None]] = [
    (["init"], None),
    (["add", "data"], None),
    (["status"], None),
    (["status", "--json"], None),
    (["repro", "copy"], None),
    (["repro"], None),
    (["data", "status", "--json", "--granular"], None),
    (["add", "missing"], None),
    (["status", "--no-such-flag"], None),
    (["remove", "data.dvc"], None),
    (["gc", "-w"], "n\n"),
    (["gc", "-w"], "y\n"),
    (["version", "-q"], None),  # its site cache line names a hash of the root: dropped
]


def in_set_order(text: str) -> str:
    """DVC lists the files of its `git add` hint in a set's order, which changes from
    process to process (string hashes are seeded per process): here sorted."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("\tgit add "):
            lines[i] = "\tgit add " + " ".join(sorted(line.split()[2:]))
    return "\n".join(lines)


def without_site_cache(text: str) -> str:
    return "".join(line for line in text.splitlines(True) if "site_cache_dir" not in line)


def test_commands_behave_as_with_the_dvc_script(tmp_path: Path, real_dvc: Path) -> None:
    env = base_env(tmp_path)
    roots = {way: tmp_path / way for way in ("script", "server")}
    for root in roots.values():
        (root / "data").mkdir(parents=True)
        (root / "data" / "a.txt").write_text("a\n")
        (root / "raw.txt").write_text("raw\n")
        (root / "dvc.yaml").write_text(PIPELINE)
        subprocess.run(["git", "init", "-q"], cwd=root, env=env, check=True)
    codes = set()
    for args, stdin in STEPS:
        by_script = subprocess.run(
            [str(dvc_executable()), *args],
            cwd=roots["script"],
            env=env,
            capture_output=True,
            text=True,
            input=stdin,
        )
        by_server = run_dvc(args, cwd=roots["server"], env=env, input=stdin)
        for r, root in ((by_script, roots["script"]), (by_server, roots["server"])):
            r.stdout, r.stderr = (t.replace(str(root), "<ROOT>") for t in (r.stdout, r.stderr))
        shown = [
            (r.returncode, in_set_order(without_site_cache(r.stdout)), r.stderr)
            for r, root in ((by_script, roots["script"]), (by_server, roots["server"]))
        ]
        assert shown[1] == shown[0], args
        codes.add(by_script.returncode)
    assert codes >= {0, 1, 254, 255}
    assert snapshot(roots["server"]) == snapshot(roots["script"])
