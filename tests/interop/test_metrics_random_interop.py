"""`metrics show`, `metrics diff` and `params diff` compared with real DVC: cases that
seeded randomized runs of both tools found to differ.

DVC lists the files of a diff in a set's order, so tables are compared row by row
and JSON as data.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.interop.conftest import Runner, assert_same_report, committed_repo, write

Tools = tuple[Runner, Runner, Runner, Path]


# Table cells ----------------------------------------------------------------------

TEXT_METRICS = {
    "dvc.yaml": "metrics:\n- m.yaml\nparams:\n- p.json\n",
    "m.yaml": 'name: " padded "\nnote: "two\\nlines"\nwide: "中文"\nempty: ""\nacc: 0.5\n',
    "p.json": '{"opt": "  sgd", "lr": 0.1}',
}


@pytest.mark.parametrize(
    "args",
    [
        ["metrics", "show"],
        ["metrics", "show", "--md"],
        ["metrics", "diff", "--all"],
        ["metrics", "diff", "--all", "--md"],
        ["params", "diff", "--all"],
    ],
)
def test_text_cells_are_stripped_and_split_over_lines_like_dvc(
    tools: Tools, args: list[str]
) -> None:
    # DVC's tables (tabulate) strip the whitespace around a cell, spread a cell with
    # line breaks over several lines and count a wide character as two columns.
    root = committed_repo(tools, TEXT_METRICS)
    write(root, {"m.yaml": TEXT_METRICS["m.yaml"].replace("0.5", "0.75")})
    out = assert_same_report(tools, *args)
    assert "two\nlines" not in out


# Files DVC cannot parse -------------------------------------------------------------


def test_yaml_files_that_repeat_a_key_do_not_load_like_dvc(tools: Tools) -> None:
    root = committed_repo(
        tools,
        {
            "dvc.yaml": "metrics:\n- m.yaml\nstages:\n  s:\n    cmd: echo\n"
            "    params:\n    - p.yaml:\n",
            "m.yaml": "acc: 1\nloss: 2\n",
            "p.yaml": "lr: 1\n",
        },
    )
    write(root, {"m.yaml": "acc: 1\nacc: 3\n", "p.yaml": "lr: 1\nlr: 2\n"})
    for args in (
        ["metrics", "diff", "--all"],
        ["metrics", "diff", "--json"],
        ["params", "diff", "--all"],
    ):
        assert_same_report(tools, *args)
    mlvc, dvc, _git, _root = tools
    mine = json.loads(mlvc("metrics", "show", "--json").stdout)
    theirs = json.loads(dvc("metrics", "show", "--json").stdout)
    for data in (mine, theirs):
        data[""]["data"]["m.yaml"]["error"].pop("msg")
    assert (
        mine == theirs == {"": {"data": {"m.yaml": {"error": {"type": "YAMLFileCorruptedError"}}}}}
    )


# Directory targets ------------------------------------------------------------------

DIRECTORY_FILES = {
    "dvc.yaml": "metrics:\n- sub/m.yaml\n",
    ".dvcignore": "hidden\n",
    "top.json": '{"t": 1}',
    "hidden/h.yaml": "h: 1\n",
    "sub/dvc.yaml": "metrics:\n- m.yaml\n",
    "sub/m.yaml": "m: 1\n",
    "sub/dvc.lock": "schema: '2.0'\nstages: {}\n",
    "sub/.dvcignore": "# nothing\n",
    "sub/d/deep.json": '{"d": 1}',
}


@pytest.mark.parametrize(
    "args",
    [
        ["metrics", "show", "-R", "."],
        ["metrics", "show", "-a", "--json", "."],
        ["metrics", "show", "sub", "hidden"],
        ["metrics", "diff", "--all", "--targets", "."],
        ["metrics", "diff", "HEAD", "HEAD", "--all", "--json", "--targets", "sub"],
        ["params", "diff", "--all", "--targets", "."],
    ],
)
def test_directory_targets_list_the_files_dvc_lists(tools: Tools, args: list[str]) -> None:
    # Not `.git` or `.dvc`, not what `.dvcignore` hides, not `dvc.yaml` or `.dvcignore`
    # files; a hidden directory named outright fails to load.
    root = committed_repo(tools, DIRECTORY_FILES)
    write(root, {"sub/m.yaml": "m: 2\n", "top.json": '{"t": 2}'})
    out = assert_same_report(tools, *args)
    assert ".git" not in out and "config" not in out


def test_directory_targets_from_a_subdirectory_like_dvc(tools: Tools) -> None:
    root = committed_repo(tools, DIRECTORY_FILES)
    write(root, {"sub/m.yaml": "m: 2\n"})
    assert_same_report(tools, "metrics", "show", ".", "..", cwd=root / "sub")
    assert_same_report(tools, "metrics", "diff", "--all", "--targets", "..", cwd=root / "sub")


# `params diff --targets` from a subdirectory --------------------------------------------


@pytest.mark.parametrize(
    "targets",
    [
        ["params.yaml"],
        ["q.yaml", "sub/q.yaml"],
        ["./params.yaml", "sub/./q.yaml", "../params.yaml"],
        ["."],
        ["sub"],
    ],
)
def test_params_targets_are_read_from_the_root_like_dvc(tools: Tools, targets: list[str]) -> None:
    # DVC reads `params diff --targets` paths from the repository's root, wherever
    # it runs (`metrics diff --targets` paths are the user's own).
    root = committed_repo(
        tools,
        {
            "params.yaml": "a: 1\n",
            "sub/params.yaml": "b: 1\n",
            "sub/q.yaml": "c: 1\n",
            "sub/dvc.yaml": "metrics:\n- m.json\n",
            "sub/m.json": '{"m": 1}',
        },
    )
    write(root, {"params.yaml": "a: 2\n", "sub/params.yaml": "b: 2\n", "sub/q.yaml": "c: 2\n"})
    for args in (["--all"], ["--json"], ["--md"]):
        assert_same_report(tools, "params", "diff", *args, "--targets", *targets, cwd=root / "sub")
    abs_target = str(root / "sub" / "q.yaml")
    out = assert_same_report(tools, "params", "diff", "--targets", abs_target, cwd=root / "sub")
    assert "q.yaml" in out


# Revisions whose pipelines do not load ---------------------------------------------------


@pytest.mark.parametrize(
    ("vars_file", "broken"),
    [
        ("params.yaml", "x: [\n"),
        ("v.json", "{\n"),
        ("v.toml", "x = \n"),
        ("v.py", "X = (\n"),
        (None, "metrics: [m.json\n"),
    ],
)
def test_the_error_of_a_revision_names_the_broken_file_format_like_dvc(
    tools: Tools, vars_file: str | None, broken: str
) -> None:
    mlvc, dvc, _git, root = tools
    dvc_yaml = "metrics:\n- m.json\nstages:\n  s:\n    cmd: echo ${x}\n"
    if vars_file is not None and vars_file != "params.yaml":
        dvc_yaml = f"vars:\n- {vars_file}\n" + dvc_yaml
    committed_repo(tools, {"dvc.yaml": dvc_yaml, "m.json": '{"a": 1}', "params.yaml": "x: 1\n"})
    write(root, {vars_file or "dvc.yaml": broken})
    mine = json.loads(mlvc("metrics", "show", "--json").stdout)
    theirs = json.loads(dvc("metrics", "show", "--json").stdout)
    # The messages are mlvc's own; the type of the error is DVC's.
    for data in (mine, theirs):
        data[""]["error"].pop("msg")
    assert mine == theirs


# Keys that YAML does not read as strings ---------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["metrics", "diff", "--json"],
        ["metrics", "diff", "--all", "--json"],
        ["params", "diff", "--json"],
        ["metrics", "show", "--json"],
    ],
)
def test_null_and_number_keys_are_flattened_like_dvc(tools: Tools, args: list[str]) -> None:
    # A top-level `null` key stays None (JSON: "null"), and the keys under it are
    # not prefixed; a key under `null` deeper down is named "None".
    files = {
        "dvc.yaml": "metrics:\n- m.yaml\nparams:\n- p.yaml\n",
        "m.yaml": "null:\n  x: 1\n2: 3\nsub:\n  null: 4\n",
        "p.yaml": "null: 1\n",
    }
    root = committed_repo(tools, files)
    write(root, {"m.yaml": files["m.yaml"].replace("1", "5"), "p.yaml": "null: 2\n"})
    assert_same_report(tools, *args)
