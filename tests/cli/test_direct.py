"""Everyday commands run without the typer parser (`mlvc.cli._direct`): the same
parameters, output and exit codes as through the parser, and no typer import."""

from __future__ import annotations

import inspect
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlvc.cli import _direct
from tests.interop.conftest import base_env

# Each line is run both ways in the same repository state.
COMMAND_LINES = """
status
status -q
status --json
status data.dvc
status -R .
status -d data.dvc -v
status --all-branches
status -c
data status
data status --granular --unchanged
data status --json --granular
data status --untracked-files
data status data --json
"""


def _click_command(words: tuple[str, ...]) -> Any:
    import typer.main

    from mlvc.cli import register

    command = typer.main.get_command(register(words[0]))
    for word in words:
        command = command.commands[word]
    return command


@pytest.mark.parametrize("direct", _direct.COMMANDS, ids=lambda c: " ".join(c.words))
def test_tables_match_the_typer_definitions(direct: _direct.DirectCommand) -> None:
    command = _click_command(direct.words)
    options = {
        spelling: param
        for param in command.params
        if param.param_type_name == "option"
        for spelling in param.opts
    }
    for spelling, name in direct.flags.items():
        param = options[spelling]
        assert param.name == name, spelling
        # A flag, or (`--untracked-files`) an option whose value may be left out.
        assert param.is_flag or spelling in _direct._OPTIONAL_VALUE, spelling
    assert set(direct.defaults) == {param.name for param in command.params}
    # The flags the parser's pre-processing lets the last one win among: the direct
    # lane reads the same groups, so it must take every one of their spellings.
    from mlvc.cli import _LAST_WINS

    for group in _LAST_WINS.get(direct.words[0], ()):
        assert set(group) <= set(direct.flags), group
    module, _, function = direct.body.partition(":")
    body = inspect.unwrap(getattr(__import__(module, fromlist=[function]), function))
    assert set(inspect.signature(body).parameters) == set(direct.defaults)


@pytest.mark.parametrize(
    ("line", "taken"),
    [
        ("status", True),
        ("status -q --json a b", True),
        ("status -c -a -T -A -d -R -v", True),
        ("data status --granular --untracked-files", True),
        ("data status --untracked-files -q", True),
        ("data status --untracked-files all", False),  # a value: the parser reads it
        ("data status --untracked-files=no", False),
        ("status -qc", False),  # combined short flags
        ("status -r origin", False),  # an option with a value
        ("status -j 2", False),
        ("status --help", False),
        ("status --bogus", False),
        ("status -- -x", False),
        ("data", False),
        ("add a", True),
        ("add -q --no-commit a b", True),
        ("add", False),  # no target: the parser reports the usage error
        ("add -q", False),
        ("add -o out a", False),
        ("add --out=out a", False),
        ("commit -f -d -R -q x", True),
        ("commit -j 2", False),
        ("checkout", True),
        ("checkout -f --relink --summary --allow-missing data.dvc", True),
        ("checkout -fq", False),
        ("checkout -j 2", False),
        ("checkout --bogus", False),
        ("repro -f -s train --dry", True),
        ("repro -j 2", False),
        ("repro --json", False),
        ("version", False),
    ],
)
def test_which_command_lines_run_directly(line: str, taken: bool) -> None:
    assert (_direct.parse(shlex.split(line)) is not None) is taken


def test_the_last_of_keep_going_and_ignore_errors_wins() -> None:
    for line, keep_going in (
        ("repro --ignore-errors -k", True),
        ("repro -k --ignore-errors", False),
    ):
        found = _direct.parse(shlex.split(line))
        assert found is not None
        params = found[1]
        assert (params["keep_going"], params["ignore_errors"]) == (keep_going, not keep_going)


def test_targets_and_flags_become_parameters() -> None:
    found = _direct.parse(["status", "a", "-q", "b", "--json"])
    assert found is not None
    command, params = found
    assert command.words == ("status",)
    assert params == {**command.defaults, "targets": ["a", "b"], "quiet": True, "as_json": True}


def _run_both(
    line: str, repo: Path, env: dict[str, str], only: int | None = None
) -> tuple[Any, Any]:
    """`(exit code, stdout, stderr)` of `line` run directly and through the parser;
    with `only`, of that one way alone (0: directly, 1: through the parser)."""
    direct = [sys.executable, "-m", "mlvc", *shlex.split(line)]
    parsed = [
        sys.executable,
        "-c",
        "import sys; from mlvc.cli import _run_parsed; sys.exit(_run_parsed(sys.argv[1:]))",
        *shlex.split(line),
    ]
    results = []
    for argv in (direct, parsed) if only is None else ((direct, parsed)[only],):
        r = subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True)
        results.append((r.returncode, r.stdout, r.stderr))
    if only is not None:
        return results[0]
    return results[0], results[1]


def _same_both_ways(lines: str, repo: Path, env: dict[str, str]) -> set[Any]:
    """Runs each line directly and through the parser; both must end alike.
    Returns the distinct `(exit code, stdout, stderr)` seen."""
    outputs = set()
    for line in lines.strip().splitlines():
        assert _direct.parse(shlex.split(line)) is not None, line
        direct, parsed = _run_both(line, repo, env)
        assert direct == parsed, line
        outputs.add(direct)
    return outputs


def test_direct_runs_match_the_parser(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    (repo / "data" / "x").write_text("x\n")
    (repo / "data" / "y").write_text("y\n")
    (repo / "f").write_text("f\n")
    mlvc = [sys.executable, "-m", "mlvc"]
    for argv in (["git", "init", "-q"], [*mlvc, "init", "-q"], [*mlvc, "add", "-q", "data", "f"]):
        subprocess.run(argv, cwd=repo, env=env, check=True)
    remote = tmp_path / "remote"
    subprocess.run([*mlvc, "remote", "add", "-d", "r", str(remote)], cwd=repo, env=env, check=True)
    # Something to report: a changed file, a deleted one, an untracked one.
    (repo / "data" / "x").write_text("changed\n")
    (repo / "f").unlink()
    (repo / "new").write_text("n\n")
    outputs = _same_both_ways(COMMAND_LINES, repo, env)
    # The lines differ in what they print and how they end: real output was compared.
    assert len(outputs) >= 10
    assert {code for code, _, _ in outputs} == {0, 1}


# Run in a reproduced pipeline, so that each line finds the same state.
REPRO_LINES = """
repro
repro -q
repro --dry
repro train
repro -s train -v
repro nosuch
repro -f --dry
repro -P --dry --allow-missing
repro --downstream prepare --dry
repro -f
"""


def test_direct_repro_matches_the_parser(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "params.yaml").write_text("lr: 0.1\n")
    (repo / "dvc.yaml").write_text(
        "stages:\n"
        "  prepare:\n"
        "    cmd: echo ${lr} > prepared\n"
        "    params: [lr]\n"
        "    outs: [prepared]\n"
        "  train:\n"
        "    cmd: cat prepared > model\n"
        "    deps: [prepared]\n"
        "    outs: [model]\n"
    )
    mlvc = [sys.executable, "-m", "mlvc"]
    for argv in (["git", "init", "-q"], [*mlvc, "init", "-q"], [*mlvc, "repro", "-q"]):
        subprocess.run(argv, cwd=repo, env=env, check=True)
    outputs = _same_both_ways(REPRO_LINES, repo, env)
    assert len(outputs) >= 5
    assert {code for code, _, _ in outputs} == {0, 255}


# Each line runs in a fresh copy of one state: `data` tracked and then changed, `f`
# and `g` not tracked yet.
TRACKING_LINES = """
add f
add -q data f
add --no-commit g
add --glob "[fg]"
add nosuch
add -f data
commit
commit -f
commit -q -f data.dvc
commit nosuch
checkout
checkout -f
checkout --summary -f
checkout --relink -f data.dvc
checkout -q
checkout nosuch
checkout --allow-missing -f
"""


def _tracking_state(repo: Path, env: dict[str, str]) -> None:
    (repo / "data").mkdir(parents=True)
    (repo / "data" / "x").write_text("x\n")
    (repo / "data" / "y").write_text("y\n")
    mlvc = [sys.executable, "-m", "mlvc"]
    for argv in (["git", "init", "-q"], [*mlvc, "init", "-q"], [*mlvc, "add", "-q", "data"]):
        subprocess.run(argv, cwd=repo, env=env, check=True)
    (repo / "data" / "x").write_text("changed\n")
    (repo / "f").write_text("f\n")
    (repo / "g").write_text("g\n")


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts and "tmp" not in p.relative_to(root).parts[:2]
    }


def test_direct_add_commit_checkout_match_the_parser(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    repo = tmp_path / "repo"
    outputs = set()
    for line in TRACKING_LINES.strip().splitlines():
        assert _direct.parse(shlex.split(line)) is not None, line
        ends = []
        for way in (0, 1):
            if repo.exists():
                shutil.rmtree(repo)
            repo.mkdir()
            _tracking_state(repo, env)
            ends.append((_run_both(line, repo, env, only=way), _files(repo)))
        assert ends[0] == ends[1], line
        outputs.add(ends[0][0])
    assert len(outputs) >= 10
    assert {code for code, _, _ in outputs} == {0, 1, 255}


@pytest.mark.parametrize("line", ["status", "checkout -q -f", "add -q f", "commit -f"])
def test_a_direct_command_does_not_import_typer(tmp_path: Path, line: str) -> None:
    env = base_env(tmp_path)
    repo = tmp_path / "repo"
    repo.mkdir()
    _tracking_state(repo, env)
    code = (
        "import sys\n"
        "from mlvc.cli import _direct\n"
        f"code = _direct.run(*_direct.parse({shlex.split(line)!r}))\n"
        "print(code, 'typer' in sys.modules)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, env=env, capture_output=True, text=True
    )
    assert r.stdout.splitlines()[-1] in ("0 False", "None False"), r.stdout + r.stderr
