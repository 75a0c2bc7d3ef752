"""yamlio's dumper against DVC's own (ruamel.yaml): long commands that must fold, and
params values two listed keys share, which DVC writes with anchors and aliases."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

from mlvc import yamlio
from tests.conftest import dvc_python
from tests.interop.conftest import Runner

WORDS = [
    "python3",
    "-c",
    '"import',
    "d=open('a.txt').read();",
    "+",
    "'b'",
    "&&",
    "y:",
    "#",
    "--flag=1",
    "x",
    "ü",
    "a-very-long-word-that-goes-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on",
]


def test_long_strings_fold_and_quote_as_in_dvc(real_dvc: object) -> None:
    rnd = random.Random(11)
    docs = []
    for _ in range(1500):
        cmd: str | list[str] = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(3, 40)))
        if rnd.random() < 0.3:
            cmd = [cmd, cmd[::-1]]
        doc: dict[str, object] = {"cmd": cmd}
        for _ in range(rnd.randint(0, 3)):
            doc = {"stages": {"s": doc}}
        docs.append(doc)
    code = (
        "import json, sys\n"
        "from dvc.utils.serialize._yaml import dumps_yaml\n"
        "print(json.dumps([dumps_yaml(d) for d in json.load(sys.stdin)]))\n"
    )
    r = subprocess.run(
        [str(dvc_python()), "-c", code],
        input=json.dumps(docs),
        capture_output=True,
        text=True,
        check=True,
    )
    theirs = json.loads(r.stdout)
    for doc, expected in zip(docs, theirs, strict=True):
        assert yamlio.dumps(doc) == expected


SHARED_PARAMS_PIPELINE = """\
stages:
  s:
    cmd: echo s > s.txt
    outs: [s.txt]
    params: [train.sub.b, train, train.sub, train.layers, other, other.x, other.e]
  t:
    cmd: echo t
    params:
    - p.json: [m, m.n, m.n.o, m.n.o.1, k]
    - p.toml: [tr, tr.sub, tr.sub.y]
    - p.py: [TR, TR.a, TR.t, C, C.x]
  u:
    cmd: echo u
    params: [train, train.sub]
"""


def _shared_params_repo(tool: Runner, git: Runner, repo: Path) -> None:
    for p in repo.iterdir():
        if p.name != ".git":
            subprocess.run(["rm", "-rf", str(p)], check=True)
    tool("init", "-q")
    (repo / "params.yaml").write_text(
        "train:\n  sub:\n    a: 1\n    b: [1, 2]\n  lr: 0.1\n  layers: [3, 4]\n"
        "other:\n  x: {}\n  e: []\n"
    )
    (repo / "p.json").write_text('{"m": {"n": {"o": [1, {"p": 2}]}}, "k": 3}')
    (repo / "p.toml").write_text("[tr]\nx = 1\n[tr.sub]\ny = [1, 2]\n")
    (repo / "p.py").write_text('TR = {"a": {"b": 1}, "t": (1, 2)}\nclass C:\n    x = {"q": [1]}\n')
    (repo / "dvc.yaml").write_text(SHARED_PARAMS_PIPELINE)


def test_shared_params_values_get_anchors_numbered_through_the_lock_like_dvc(
    tools: tuple[Runner, Runner, Runner, Path],
) -> None:
    mlvc, dvc, git, repo = tools
    found = []
    for tool in (dvc, mlvc):
        _shared_params_repo(tool, git, repo)
        tool("repro", "-q")
        first = (repo / "dvc.lock").read_text()
        runs = sorted(p.read_text() for p in (repo / ".dvc/cache/runs").rglob("*") if p.is_file())
        # Rewriting one stage renumbers the anchors of the stages after it.
        (repo / "params.yaml").write_text(
            (repo / "params.yaml").read_text().replace("lr: 0.1", "lr: 0.2")
        )
        tool("repro", "-q", "s")
        found.append((first, runs, (repo / "dvc.lock").read_text()))
    assert found[0] == found[1]
    assert "train.sub: *id004" in found[1][0] and "sub: &id014" in found[1][0]
    # A lock DVC wrote, with its anchors, is read and rewritten by mlvc as DVC rewrites it.
    (repo / "params.yaml").write_text(
        (repo / "params.yaml").read_text().replace("lr: 0.2", "lr: 0.3")
    )
    rewritten = []
    for tool in (dvc, mlvc):
        (repo / "dvc.lock").write_text(found[0][0])
        tool("repro", "-q", "s")
        rewritten.append((repo / "dvc.lock").read_text())
    assert rewritten[0] == rewritten[1] != found[0][0]
    assert "s:" not in dvc("status", "s").stdout
