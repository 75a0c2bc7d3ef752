"""`mlvc repro` and `dvc repro` on the same generated pipelines: same lock, same decisions."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.interop.conftest import Runner, ran_names, write

Tools = tuple[Runner, Runner, Runner, Path]
Files = dict[str, str]

PY = "python3 -c"


def _copy(src: str, dst: str, extra: str = "") -> str:
    return (
        f"{PY} \"import sys; d=open('{src}').read(); "
        f"open('{dst}','w').write(d + '{extra}' + sys.argv[1])\" x"
    )


def chain() -> Files:
    """a -> b -> c -> d, each copying the previous output; params in params.yaml."""
    stages = ["stages:"]
    prev = "in.txt"
    for n in "abcd":
        stages += [
            f"  {n}:",
            f"    cmd: {_copy(prev, n + '.txt', n)}",
            f"    deps: [{prev}]",
            "    params: [p." + n + "]",
            f"    outs: [{n}.txt]",
        ]
        prev = n + ".txt"
    return {
        "in.txt": "start\n",
        "params.yaml": "p:\n  a: 1\n  b: 2\n  c: 3\n  d: 4\n",
        "dvc.yaml": "\n".join(stages) + "\n",
    }


def fan() -> Files:
    """One source split into a directory, three consumers, one join (dir deps and outs)."""
    return {
        "src.txt": "1\n2\n3\n",
        "params.yaml": "k: 3\n",
        "dvc.yaml": (
            "stages:\n"
            "  split:\n"
            "    cmd: mkdir -p parts && cp src.txt parts/x && echo y > parts/y\n"
            "    deps: [src.txt]\n"
            "    outs: [parts]\n"
            "  left:\n"
            "    cmd: cat parts/x > left.txt\n"
            "    deps: [parts/x]\n"
            "    outs: [left.txt]\n"
            "  right:\n"
            "    cmd: cat parts/y > right.txt\n"
            "    deps: [parts]\n"
            "    params: [k]\n"
            "    outs: [right.txt]\n"
            "  mid:\n"
            "    cmd: ls parts > mid.txt && echo 2 > mid.json\n"
            "    deps: [parts]\n"
            "    metrics:\n"
            "    - mid.json:\n"
            "        cache: false\n"
            "    outs: [mid.txt]\n"
            "  join:\n"
            "    cmd:\n"
            "    - cat left.txt right.txt mid.txt > join.txt\n"
            "    - echo kept >> persisted.txt\n"
            "    deps: [left.txt, right.txt, mid.txt]\n"
            "    outs:\n"
            "    - join.txt\n"
            "    - persisted.txt:\n"
            "        persist: true\n"
        ),
    }


def foreach() -> Files:
    """foreach over a params dict, matrix, vars, wdir, params in json/toml/py."""
    return {
        "params.yaml": "models:\n  small: {size: 1}\n  big: {size: 3}\nthr: 0.5\n",
        "cfg.json": '{"lr": 0.01, "opt": {"name": "adam", "beta": [0.9, 0.99]}}\n',
        "cfg.toml": '[train]\nepochs = 2\nname = "t"\n',
        "cfg.py": "SEED = 7\nLAYERS = (4, 2)\nclass Model:\n    depth = 3\n",
        "sub/in.txt": "in\n",
        "dvc.yaml": (
            "vars:\n"
            "- tag: v1\n"
            "stages:\n"
            "  gen:\n"
            "    foreach: ${models}\n"
            "    do:\n"
            "      cmd: echo ${item.size} ${key} ${tag} > gen-${key}.txt\n"
            "      params:\n"
            "      - cfg.json:\n"
            "        - lr\n"
            "        - opt\n"
            "      outs:\n"
            "      - gen-${key}.txt\n"
            "  mat:\n"
            "    matrix:\n"
            "      a: [1, 2]\n"
            "      b: [x, y]\n"
            "    cmd: echo ${item.a}${item.b} > m-${item.a}${item.b}.txt\n"
            "    deps: [gen-small.txt]\n"
            "    params:\n"
            "    - cfg.toml:\n"
            "    - cfg.py: [SEED, LAYERS, Model.depth]\n"
            "    outs:\n"
            "    - m-${item.a}${item.b}.txt\n"
            "  inwdir:\n"
            "    wdir: sub\n"
            "    cmd: cat in.txt > out.txt && echo ${thr} >> out.txt\n"
            "    deps: [in.txt, ../gen-big.txt]\n"
            "    params:\n"
            "    - ../params.yaml: [thr]\n"
            "    outs: [out.txt]\n"
        ),
    }


PIPELINES: dict[str, Callable[[], Files]] = {"chain": chain, "fan": fan, "foreach": foreach}


def setup(tools: Tools, files: Files, init_with: str = "mlvc") -> None:
    mlvc, dvc, git, repo = tools
    (mlvc if init_with == "mlvc" else dvc)("init", "-q")
    write(repo, files)
    git("add", "-A")
    git("commit", "-qm", "init")


def snapshot(repo: Path) -> dict[str, bytes]:
    """The workspace and cache (what both tools must agree on), minus tool-private state."""
    out = {}
    for p in sorted(repo.rglob("*")):
        rel = p.relative_to(repo).as_posix()
        if p.is_dir() or rel.startswith((".git/", ".dvc/tmp/")):
            continue
        out[rel] = p.read_bytes()
    return out


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_lock_and_cache_identical_to_dvc(name: str, tools: Tools, tmp_path: Path) -> None:
    mlvc, dvc, _git, repo = tools
    setup(tools, PIPELINES[name]())
    mlvc("repro", "-P")
    ours = snapshot(repo)
    # The same pipeline from scratch with DVC, in a second repository.
    theirs_repo = tmp_path / "dvc-repo"
    shutil.copytree(repo, theirs_repo, ignore=shutil.ignore_patterns("dvc.lock", "*.txt", "parts"))
    for p in (theirs_repo / ".dvc" / "cache").glob("*"):
        shutil.rmtree(p)
    write(theirs_repo, {k: v for k, v in PIPELINES[name]().items() if k.endswith(".txt")})
    dvc("repro", "-P", cwd=theirs_repo)
    theirs = snapshot(theirs_repo)
    assert ours.keys() == theirs.keys()
    for rel in ours:
        assert ours[rel] == theirs[rel], rel
    # Each tool finds nothing to do after the other.
    assert json.loads(dvc("status", "--json").stdout) == {}
    assert ran_names(dvc("repro", "-P").stdout) == []
    assert json.loads(mlvc("status", "--json", cwd=theirs_repo).stdout) == {}
    assert ran_names(mlvc("repro", "-P", cwd=theirs_repo).stdout) == []


CHANGES: dict[str, Callable[[Path], None]] = {
    "param": lambda r: (r / "params.yaml").write_text(
        (r / "params.yaml").read_text().replace("b: 2", "b: 20")
    ),
    "dep": lambda r: (r / "in.txt").write_text("other\n"),
    "command": lambda r: (r / "dvc.yaml").write_text(
        (r / "dvc.yaml").read_text().replace("x\n    deps: [b.txt]", "y\n    deps: [b.txt]")
    ),
    "deleted-out": lambda r: (r / "b.txt").unlink(),
    "new-param-key": lambda r: (r / "dvc.yaml").write_text(
        (r / "dvc.yaml").read_text().replace("params: [p.c]", "params: [p.c, p.d]")
    ),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_both_tools_rerun_the_same_stages(change: str, tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    setup(tools, chain())
    dvc("repro")
    git("add", "-A")
    git("commit", "-qm", "run")
    CHANGES[change](repo)
    ours = json.loads(mlvc("status", "--json").stdout)
    theirs = json.loads(dvc("status", "--json").stdout)
    assert ours == theirs and ours
    # Each tool on its own copy of the changed workspace.
    dvc_ran = ran_names(dvc("repro").stdout)
    dvc_lock = (repo / "dvc.lock").read_bytes()
    git("checkout", "-q", "--", "dvc.lock")
    for rel in ("a.txt", "b.txt", "c.txt", "d.txt"):
        (repo / rel).unlink(missing_ok=True)
    mlvc("checkout", "-f")
    CHANGES[change](repo) if change == "deleted-out" else None
    mlvc_ran = ran_names(mlvc("repro").stdout)
    assert mlvc_ran == dvc_ran
    assert (repo / "dvc.lock").read_bytes() == dvc_lock
    assert json.loads(dvc("status", "--json").stdout) == {}


def test_run_cache_is_shared_both_ways(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    setup(tools, chain())
    mlvc("repro")
    params = (repo / "params.yaml").read_text()
    (repo / "params.yaml").write_text(params.replace("a: 1", "a: 5"))
    dvc("repro")
    (repo / "params.yaml").write_text(params)
    # mlvc recorded the first run: DVC restores it instead of running.
    out = dvc("repro").stdout
    assert "Running stage" not in out and "is cached - skipping run" in out, out
    lock_by_dvc = (repo / "dvc.lock").read_bytes()
    (repo / "params.yaml").write_text(params.replace("a: 1", "a: 5"))
    # DVC recorded the second: mlvc restores it.
    out = mlvc("repro").stdout
    assert "Running stage" not in out and "is cached - skipping run" in out, out
    (repo / "params.yaml").write_text(params)
    mlvc("repro")
    assert (repo / "dvc.lock").read_bytes() == lock_by_dvc
    assert json.loads(dvc("status", "--json").stdout) == {}


def test_no_run_cache_runs_again(tools: Tools) -> None:
    mlvc, _dvc, _git, repo = tools
    setup(tools, chain())
    mlvc("repro")
    params = (repo / "params.yaml").read_text()
    (repo / "params.yaml").write_text(params.replace("a: 1", "a: 5"))
    mlvc("repro")
    (repo / "params.yaml").write_text(params)
    # a's output does not depend on its param, so only a reruns (and b..d stay put).
    out = mlvc("repro", "--no-run-cache").stdout
    assert ran_names(out) == ["a"] and "Running stage 'a'" in out, out
    out = mlvc("repro", "-f").stdout
    assert ran_names(out) == ["a", "b", "c", "d"] and "is cached" not in out, out


def test_after_dvc_repro_mlvc_runs_nothing(tools: Tools) -> None:
    mlvc, dvc, _git, _repo = tools
    setup(tools, foreach(), init_with="dvc")
    dvc("repro", "-P")
    assert json.loads(mlvc("status", "--json").stdout) == {}
    out = mlvc("repro", "-P").stdout
    assert ran_names(out) == [], out
    assert "Data and pipelines are up to date." in out


def test_deleted_outputs_are_checked_out_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    setup(tools, chain())
    mlvc("repro")
    (repo / "b.txt").unlink()
    (repo / "d.txt").unlink()
    assert json.loads(mlvc("status", "--json").stdout) == json.loads(dvc("status", "--json").stdout)
    out = mlvc("repro", "--no-run-cache").stdout
    assert ran_names(out) == ["b", "d"] and "Running stage" not in out
    assert (repo / "d.txt").exists()
    assert json.loads(dvc("status", "--json").stdout) == {}


def test_generated_stages_hiding_variables_are_warned_about_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, _repo = tools
    files = {
        "dvc.yaml": (
            "vars:\n"
            "  - item: 5\n"
            "    key: k\n"
            "stages:\n"
            "  build:\n"
            "    foreach: [a, b]\n"
            "    do:\n"
            "      cmd: echo ${item} > out_${item}\n"
            "      outs:\n"
            "        - out_${item}\n"
            "  m:\n"
            "    matrix:\n"
            "      x: [1, 2]\n"
            "    cmd: echo ${item.x} > m_${key}\n"
            "    outs:\n"
            "      - m_${key}\n"
            "  d:\n"
            "    foreach:\n"
            "      p: 1\n"
            "    do:\n"
            "      cmd: echo ${key} > d_${key}\n"
            "      outs:\n"
            "        - d_${key}\n"
        )
    }
    setup(tools, files)

    def warnings(stderr: str) -> list[str]:
        # DVC may load the file more than once and warn each time; each line once.
        lines = [line.lower() for line in stderr.splitlines() if "already specified" in line]
        return list(dict.fromkeys(lines))

    want = warnings(dvc("repro").stderr)
    assert len(want) == 3, want
    assert warnings(mlvc("repro").stderr) == want
    assert warnings(mlvc("dag").stderr) == warnings(dvc("dag").stderr) == want
    # Quiet runs say nothing, as DVC's. (DVC's `status` warns or not depending on
    # how it loads the file; mlvc's always does, unless quiet.)
    assert warnings(mlvc("status").stderr) == want
    for args in [("repro", "-q"), ("status", "-q")]:
        assert warnings(dvc(*args).stderr) == warnings(mlvc(*args).stderr) == [], args
