"""`mlvc dag` against `dvc dag` on the same repository: DOT/Mermaid bytes, ASCII layout."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]

DIAMOND = """\
stages:
  prepare:
    cmd: echo a > a
    deps: [raw]
    outs: [a]
  featurize:
    cmd: echo b > b
    deps: [a]
    outs: [b]
  split:
    cmd: echo c > c
    deps: [a]
    outs: [c, c2]
  train_model:
    cmd: echo d > d
    deps: [b, c]
    outs: [d]
  evaluate:
    cmd: echo e > e
    deps: [d, a]
    outs: [e]
  lonely:
    cmd: echo l > l
    outs: [l]
"""

SUB = """\
stages:
  s1:
    cmd: echo s1 > s1
    deps: [../e]
    outs: [s1]
"""


@pytest.fixture
def repo(tools: Tools) -> Tools:
    _mlvc, dvc, _git, root = tools
    dvc("init", "-q")
    (root / "raw").write_text("raw\n")
    dvc("add", "-q", "raw")
    (root / "dvc.yaml").write_text(DIAMOND)
    (root / "sub").mkdir()
    (root / "sub" / "dvc.yaml").write_text(SUB)
    return tools


@pytest.mark.parametrize(
    "args",
    [
        ["--dot"],
        ["--mermaid"],
        ["--md"],
        ["--outs", "--dot"],
        ["--outs", "--mermaid"],
        ["--dot", "split"],
        ["--mermaid", "--full", "split"],
        ["--dot", "raw.dvc"],
        ["--dot", "--full", "raw.dvc"],
        ["--mermaid", "c2"],
        ["--dot", "sub/dvc.yaml:s1"],
    ],
)
def test_dag_formats_identical_to_dvc(repo: Tools, args: list[str]) -> None:
    mlvc, dvc, _git, _root = repo
    assert mlvc("dag", *args).stdout == dvc("dag", *args).stdout


def _ranks(text: str) -> list[list[list[str]]]:
    """Per drawn part, the sorted box labels of each row of boxes, top to bottom.

    Rows of one part are six lines apart (box, then three lines of edges); the
    next part starts right under the last box, three lines after its label.
    """
    parts: list[list[list[str]]] = []
    last = -100
    for y, line in enumerate(text.splitlines()):
        labels = sorted(re.findall(r"\| (\S+) \|", line))
        if not labels:
            continue
        if y - last != 6:
            parts.append([])
        parts[-1].append(labels)
        last = y
    return parts


def test_dag_ascii_has_dvc_layers(repo: Tools) -> None:
    mlvc, dvc, _git, _root = repo
    ours = mlvc("dag").stdout
    theirs = dvc("dag").stdout
    assert _ranks(ours) == _ranks(theirs)
    assert "*" in ours
    # Edges go down: every line between two rows of boxes carries a mark.
    assert mlvc("dag", "train_model").stdout.count("| train_model |") == 1


def test_dag_ascii_draws_chain_fan_and_diamond() -> None:
    from mlvc.render.dag import draw

    chain = draw(["a", "b", "c"], [("a", "b"), ("b", "c")])
    assert chain.splitlines() == [
        "+---+",
        "| a |",
        "+---+",
        "  *",
        "  *",
        "  *",
        "+---+",
        "| b |",
        "+---+",
        "  *",
        "  *",
        "  *",
        "+---+",
        "| c |",
        "+---+",
    ]
    fan = draw(["src", "x", "y", "z"], [("src", "x"), ("src", "y"), ("src", "z")])
    lines = fan.splitlines()
    assert "| src |" in lines[1]
    assert all(f"| {n} |" in lines[7] for n in "xyz")
    assert all("*" in ln for ln in lines[3:6])
    diamond = draw(["a", "b", "c", "d"], [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    rows = [ln for ln in diamond.splitlines() if "|" in ln]
    assert re.findall(r"\| (\w) \|", rows[0]) == ["a"]
    assert re.findall(r"\| (\w) \|", rows[1]) == ["b", "c"]
    assert re.findall(r"\| (\w) \|", rows[2]) == ["d"]
    # Separate parts are drawn one after the other.
    assert draw(["p", "q"], []).splitlines() == [
        "+---+",
        "| p |",
        "+---+",
        "+---+",
        "| q |",
        "+---+",
    ]


GROUPS = """\
stages:
  prep:
    cmd: echo p > p
    outs: [p]
  gen:
    foreach: [x, y]
    do:
      cmd: echo ${item} > g-${item}
      deps: [p]
      outs: ["g-${item}"]
  mat:
    matrix:
      a: [1, 2]
      b: [u]
    cmd: cat g-x g-y > m-${item.a}
    deps: [g-x, g-y]
    outs: ["m-${item.a}"]
  fin:
    cmd: cat m-1 m-2 > fin
    deps: [m-1, m-2]
    outs: [fin]
"""

SUB_GROUP = """\
stages:
  s:
    foreach: [u, v]
    do:
      cmd: cat ../fin > s-${item}
      deps: [../fin]
      outs: ["s-${item}"]
"""


def test_dag_collapse_foreach_matrix_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, root = tools
    mlvc("init", "-q")
    (root / "dvc.yaml").write_text(GROUPS)
    (root / "sub").mkdir()
    (root / "sub" / "dvc.yaml").write_text(SUB_GROUP)
    flag = "--collapse-foreach-matrix"
    for args in (["--mermaid"], ["--md", "--full", "gen"], ["--mermaid", "mat@1-u"]):
        assert mlvc("dag", flag, *args).stdout == dvc("dag", flag, *args).stdout, args
    ours = mlvc("dag", flag, "--mermaid").stdout
    assert '["gen"]' in ours and '["sub/dvc.yaml:s"]' in ours and "@" not in ours
    # DVC's DOT order of collapsed nodes follows Python's string hashing: compare sets.
    dot = mlvc("dag", flag, "--dot", "fin").stdout
    assert sorted(dot.splitlines()) == sorted(dvc("dag", flag, "--dot", "fin").stdout.splitlines())
    assert _ranks(mlvc("dag", flag).stdout) == [
        [["prep"], ["gen"], ["mat"], ["fin"], ["sub/dvc.yaml:s"]]
    ]
    a = mlvc("dag", flag, "--outs", check=False)
    b = dvc("dag", flag, "--outs", check=False)
    assert a.returncode == b.returncode == 255
    assert a.stderr.startswith("error: `--outs` and `--collapse-foreach-matrix` are mutually")
    assert "hint: " in a.stderr
