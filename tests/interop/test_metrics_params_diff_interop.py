"""`metrics show`, `metrics diff` and `params diff` compared with real DVC.

DVC lists the files of a diff in a set's order (it changes from run to run), so
tables are compared row by row and JSON as data.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.interop.conftest import Runner, assert_same_report, committed_repo, write

Tools = tuple[Runner, Runner, Runner, Path]


def _same(tools: Tools, *args: str, cwd: Path | None = None) -> str:
    """`assert_same_report` of a command that must succeed."""
    return assert_same_report(tools, *args, cwd=cwd, succeeds=True)


# Params keys that index lists ------------------------------------------------------

LISTS_DVC_YAML = """\
stages:
  train:
    cmd: echo
    params:
    - lst.1
    - layers.0.units
    - layers.1.act
    - p.json:
      - grid.2
      - grid.0
      - nested.a.1
"""


@pytest.mark.parametrize(
    "args",
    [
        ["params", "diff"],
        ["params", "diff", "--all"],
        ["params", "diff", "--deps", "--json"],
        ["params", "diff", "--all", "--json"],
    ],
)
def test_params_keys_indexing_lists_show_the_list_like_dvc(tools: Tools, args: list[str]) -> None:
    # DVC keeps such a key's place in its list (padded with None), as dpath does,
    # and shows the list under the list's own name.
    root = committed_repo(
        tools,
        {
            "dvc.yaml": LISTS_DVC_YAML,
            "params.yaml": "lst: [1, 2, 3]\nlayers:\n- {units: 8, act: relu}\n"
            "- {units: 16, act: tanh}\n",
            "p.json": '{"grid": [1, 2, 3], "nested": {"a": [5, 6]}}',
        },
    )
    write(
        root,
        {
            "params.yaml": "lst: [1, 5, 3]\nlayers:\n- {units: 32, act: relu}\n"
            "- {units: 16, act: gelu}\n",
            "p.json": '{"grid": [7, 2, 9], "nested": {"a": [5, 8]}}',
        },
    )
    out = _same(tools, *args)
    assert "[None, 8]" in out


# Vars taken from files by `${...}` ------------------------------------------------

VARS_DVC_YAML = """\
vars:
- cfg.yaml
- inline: {z: 1}
stages:
  plain:
    cmd: echo ${model.lr} ${lst[1]} ${model} ${inline.z} ${top}
  each:
    foreach: ${items}
    do:
      cmd: echo ${item.v}
  grid:
    matrix:
      opt: ${opts}
      bs: [1, 2]
    cmd: echo ${item.opt} ${item.bs}
  own:
    vars:
    - own.json
    cmd: echo ${q.r}
"""

SUB_DVC_YAML = """\
stages:
  s:
    cmd: echo ${sp}
    params:
    - a
"""


def _vars_repo(tools: Tools) -> Path:
    root = committed_repo(
        tools,
        {
            "dvc.yaml": VARS_DVC_YAML,
            "cfg.yaml": "model:\n  lr: 0.1\n  unused: 1\nlst: [1, 2]\n"
            "items:\n- v: 1\n- v: 2\nopts: [sgd, adam]\n",
            "own.json": '{"q": {"r": 5}}',
            "params.yaml": "top: 1\n",
            "sub/dvc.yaml": SUB_DVC_YAML,
            "sub/params.yaml": "a: 1\nsp: 1\n",
            "sub/vars.yaml": "w: 1\n",
        },
    )
    write(
        root,
        {
            "cfg.yaml": "model:\n  lr: 0.2\n  unused: 2\nlst: [1, 3]\n"
            "items:\n- v: 3\n- v: 2\nopts: [sgd, rms]\n",
            "own.json": '{"q": {"r": 6}}',
            "sub/params.yaml": "a: 1\nsp: 2\n",
        },
    )
    return root


@pytest.mark.parametrize(
    "args",
    [
        ["params", "diff"],
        ["params", "diff", "--all", "--json"],
        ["params", "diff", "--deps"],
        ["params", "diff", "--md", "--all"],
    ],
)
def test_params_diff_lists_vars_that_stages_take_from_files_like_dvc(
    tools: Tools, args: list[str]
) -> None:
    _vars_repo(tools)
    out = _same(tools, *args)
    # Used values are listed; unused ones, whole mappings and inline vars are not.
    assert "model.lr" in out and "items.0.v" in out and "opts.1" in out and "q.r" in out
    assert "unused" not in out and "inline" not in out


def test_params_diff_vars_from_a_subdirectory_and_between_commits_like_dvc(
    tools: Tools,
) -> None:
    _mlvc, _dvc, git, root = tools
    _vars_repo(tools)
    _same(tools, "params", "diff", "--all", cwd=root / "sub")
    git("add", "-A")
    git("commit", "-qm", "two")
    out = _same(tools, "params", "diff", "HEAD~1", "HEAD", "--json")
    assert '"model.lr"' in out
    # Named files only: no vars.
    out = _same(tools, "params", "diff", "HEAD~1", "--targets", "params.yaml", "--all")
    assert "model.lr" not in out


# Metrics values of every kind -----------------------------------------------------

METRICS_FILES = {
    "dvc.yaml": "metrics:\n- m.yaml\n- m.json\n- m.toml\n- mdir\n",
    "m.yaml": "acc: 0.123456789012\nn: 3\nflag: true\nname: abc\nnul: null\nlst: [1, 2]\n"
    "e5: 1e5\nyes: yes\nhex: 0x1F\ninf: .inf\nbig: 123456789012345678901234567890\n"
    "nested:\n  a: 1\n  b:\n    c: 2.5\n",
    "m.json": '{"acc": 0.9, "big": 12345678901234, "f": 1e-10, "neg": -0.5, "b": false,'
    ' "s": "x", "n": null, "nan": NaN}',
    "m.toml": 'acc = 0.5\n[sec]\nx = 1\ny = "s"\nz = true\n',
    "mdir/a.json": '{"d": 1}',
    "mdir/b/c.yaml": "e: 2\n",
    "mdir/t.txt": "hello",
}

METRICS_CHANGED = {
    "m.yaml": "acc: 0.2\nn: 4\nflag: false\nname: abd\nnul: 1\nlst: [1, 3]\n"
    "e5: 2e5\nyes: no\nhex: 0x2F\ninf: -.inf\nnested:\n  a: 1\n  b:\n    c: 3.5\n",
    "m.json": '{"acc": 0.91, "big": 12345678901235, "f": 2e-10, "neg": -0.5, "b": true,'
    ' "s": "y", "n": 1, "nan": NaN}',
    "m.toml": 'acc = 0.75\n[sec]\nx = 2\ny = "t"\nz = false\n',
    "mdir/a.json": '{"d": 3}',
}


@pytest.mark.parametrize(
    "args",
    [
        ["metrics", "show"],
        ["metrics", "show", "--json"],
        ["metrics", "show", "--md", "--precision", "2"],
        ["metrics", "show", "--precision", "12"],
        ["metrics", "diff"],
        ["metrics", "diff", "--all", "--json"],
        ["metrics", "diff", "--all", "--precision", "1"],
        ["metrics", "diff", "--md", "--no-path"],
        ["metrics", "diff", "HEAD", "--targets", "mdir", "m.toml"],
    ],
)
def test_metrics_of_every_kind_like_dvc(tools: Tools, args: list[str]) -> None:
    root = committed_repo(tools, METRICS_FILES)
    write(root, METRICS_CHANGED)
    assert _same(tools, *args).strip()


def test_metrics_files_that_do_not_load_like_dvc(tools: Tools) -> None:
    root = committed_repo(
        tools,
        {
            "dvc.yaml": "metrics:\n- e.json\n- e.yaml\n- bad.toml\n- list.json\n"
            "- scalar.yaml\n- ok.json\n- missing.json\n",
            "e.json": "",
            "e.yaml": "",
            "bad.toml": "a = \n",
            "list.json": "[1, 2]",
            "scalar.yaml": "3.5\n",
            "ok.json": '{"v": 1}',
        },
    )
    write(root, {"ok.json": '{"v": 2}', "scalar.yaml": "4.5\n"})
    _same(tools, "metrics", "show")
    _same(tools, "metrics", "diff", "--all")
    mlvc, dvc, _git, _root = tools
    mine = json.loads(mlvc("metrics", "show", "--json").stdout)
    theirs = json.loads(dvc("metrics", "show", "--json").stdout)
    # The messages are mlvc's own; which files failed, and as what, is DVC's.
    for data in (mine, theirs):
        for file in data[""]["data"].values():
            if "error" in file:
                file["error"].pop("msg")
    assert mine == theirs


def test_metrics_of_branches_tags_and_commits_like_dvc(tools: Tools) -> None:
    _mlvc, _dvc, git, root = tools
    committed_repo(
        tools, {"dvc.yaml": "metrics:\n- m.json\n- old.yaml\n", "m.json": '{"acc": 0.5}'}
    )
    git("tag", "v1")
    write(root, {"m.json": '{"acc": 0.6, "new": 3}', "old.yaml": "x: 1\n"})
    git("add", "-A")
    git("commit", "-qm", "two")
    git("checkout", "-qb", "feat")
    write(root, {"dvc.yaml": "metrics:\n- m.json\n- [broken\n"})
    git("add", "-A")
    git("commit", "-qm", "broken")
    git("checkout", "-q", "main")
    write(root, {"m.json": '{"acc": 0.7}'})
    for args in (
        ["metrics", "show", "-a"],
        ["metrics", "show", "-T", "--md"],
        ["metrics", "show", "-a", "-T", "--precision", "1"],
        ["metrics", "diff", "v1", "main"],
        ["metrics", "diff", "HEAD~1", "--all"],
        ["metrics", "diff", "v1", "feat"],
    ):
        _same(tools, *args)


# Outputs that git does not hold -------------------------------------------------------

GEN = """\
import json, os
os.makedirs("mdir/sub", exist_ok=True)
os.makedirs("pdir", exist_ok=True)
json.dump({"v": N}, open("mdir/a.json", "w"))
json.dump({"w": N}, open("mdir/sub/b.json", "w"))
open("pdir/p.yaml", "w").write("k: N\\n")
"""

CACHED_DVC_YAML = """\
stages:
  gen:
    cmd: python3 gen.py
    deps:
    - gen.py
    metrics:
    - mdir
    outs:
    - pdir
  use:
    cmd: echo
    params:
    - pdir/p.yaml:
      - k
"""


def test_directory_outputs_are_read_from_the_cache_like_dvc(tools: Tools) -> None:
    # A metrics (or params) directory that a stage writes is in no commit: DVC reads
    # its files from the cache, at every revision and when the workspace lost them.
    _mlvc, dvc, git, root = tools
    committed_repo(tools, {"dvc.yaml": CACHED_DVC_YAML, "gen.py": GEN.replace("N", "1")})
    dvc("repro", "-q")
    git("add", "-A")
    git("commit", "-qm", "first run")
    write(root, {"gen.py": GEN.replace("N", "2")})
    dvc("repro", "-q")
    out = _same(tools, "metrics", "diff")
    assert "mdir/sub/b.json" in out and "mdir/a.json" in out
    _same(tools, "metrics", "show", "-a")
    _same(tools, "params", "diff", "--all")
    git("add", "-A")
    git("commit", "-qm", "second run")
    for path in ("mdir/a.json", "mdir/sub/b.json", "pdir/p.yaml"):
        (root / path).unlink()
    for args in (
        ["metrics", "show"],
        ["metrics", "diff", "HEAD~1", "HEAD", "--json"],
        ["metrics", "diff", "HEAD~1", "--targets", "mdir/sub"],
        ["params", "diff", "HEAD~1", "--all"],
    ):
        assert _same(tools, *args).strip()


@pytest.mark.parametrize("args", [["--json"], [], ["--all", "--json"]])
def test_a_params_file_holding_a_list_diffs_like_dvc(tools: Tools, args: list[str]) -> None:
    # DVC turns the list into text, then reads the text back as JSON for `--json`.
    root = committed_repo(
        tools,
        {
            "p.yaml": "[1, 2]\n",
            "dvc.yaml": "stages:\n  s:\n    cmd: echo\n    params:\n    - p.yaml:\n",
        },
    )
    (root / "p.yaml").write_text("[1, 3]\n")
    out = _same(tools, "params", "diff", *args)
    if "--json" in args:
        assert json.loads(out) == {"p.yaml": {"": {"old": [1, 2], "new": [1, 3]}}}
