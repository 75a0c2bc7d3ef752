"""mlvc's resolution of `dvc.yaml` against real DVC's (`Repo.index.stages`), case by case.

All cases are written first and DVC resolves them in one subprocess (its import
takes about a second). Each case then compares the stages, in order, field by
field; a case DVC refuses must be refused by mlvc too.
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mlvc.exceptions import PipelineError
from mlvc.pipeline import load_pipelines
from mlvc.repo import Repo
from tests.conftest import dvc_python

ORACLE = Path(__file__).with_name("dvc_pipeline_oracle.py")

Files = dict[str, str]

CASES: dict[str, Files] = {
    "chain": {
        "params.yaml": "lr: 0.1\nepochs: 3\n",
        "dvc.yaml": (
            "stages:\n"
            "  prepare:\n"
            "    cmd: python prep.py\n"
            "    deps: [data/raw, prep.py]\n"
            "    outs: [data/prepared]\n"
            "  train:\n"
            "    cmd:\n    - python train.py --lr ${lr}\n    - echo done\n"
            "    deps: [data/prepared]\n"
            "    params: [lr, epochs]\n"
            "    outs:\n    - model.pkl\n"
            "    metrics:\n    - metrics.json:\n        cache: false\n"
            "    plots:\n    - plots.csv:\n        x: step\n        y: loss\n        cache: false\n"
            "    - roc.json\n"
        ),
    },
    "templating-corpus": {
        "params.yaml": (
            "models:\n  small:\n    size: 1\n  big:\n    size: 3\nseeds: [1, 2]\nthreshold: 0.5\n"
        ),
        "custom.yaml": "greeting: hi\n",
        "dvc.yaml": (
            "vars:\n- custom.yaml\n- outdir: out\n"
            "stages:\n"
            "  gen:\n    foreach: ${models}\n    do:\n"
            "      cmd: echo ${item.size} ${key} > ${outdir}-${key}.txt\n"
            "      outs:\n      - ${outdir}-${key}.txt\n"
            "  mat:\n    matrix:\n      seed: ${seeds}\n      mode: [fast, slow]\n"
            "    cmd: echo ${item.seed} ${item.mode} ${key}\n"
            "  letters:\n    foreach: [a, b]\n    do:\n      cmd: echo ${item}\n"
            "  inwdir:\n    wdir: sub\n    desc: runs inside sub/\n    meta:\n      owner: nobody\n"
            "    cmd: echo ${greeting} ${threshold}\n    deps: [in.txt]\n    outs: [out.txt]\n"
            "  always:\n    cmd: echo tick\n    always_changed: true\n"
            "    outs:\n    - tick.txt:\n        cache: false\n"
            "  frozen:\n    cmd: echo frozen\n    frozen: true\n"
        ),
    },
    "cmd-dict-flags": {
        "params.yaml": (
            "train:\n  lr: 0.01\n  name: my model\n  layers: [4, 'a b', true]\n"
            "  opt:\n    momentum: 0.9\n    nesterov: true\n    wd: false\n  none:\n  empty: {}\n"
            "  tiny: 1.0e-05\n"
        ),
        "dvc.yaml": (
            "stages:\n"
            "  a:\n    cmd: python t.py ${train}\n"
            "  b:\n    cmd: ['python t.py ${train.opt}', 'echo ${train.layers[1]} ${train.none}']\n"
            "  c:\n    cmd: echo ${train.tiny} ${train.opt.nesterov} ${train.layers[-1]}\n"
        ),
    },
    "cmd-dict-flags-config": {
        ".dvc/config": (
            "[core]\n    no_scm = True\n[parsing]\n    bool = boolean_optional\n    list = append\n"
        ),
        "params.yaml": "opts:\n  verbose: true\n  quiet: false\n  files: [a.txt, b c.txt]\n",
        "dvc.yaml": "stages:\n  run:\n    cmd: tool ${opts}\n",
    },
    "whole-value-types": {
        "params.yaml": "n: 3\nflag: true\nname: x\nlst: [1, 2]\n",
        "dvc.yaml": (
            "stages:\n"
            "  s:\n    cmd: echo ${n}\n    desc: ${name}\n"
            "    deps:\n    - ${name}.txt\n    - \\${literal}\n"
            "    outs:\n    - ${name}:\n        desc: made by ${name}\n"
            "  esc:\n    cmd: echo \\${n} ${n} \\${n}\n"
        ),
    },
    "foreach-lists": {
        "params.yaml": "flags: [true, false]\nnums: [1, 2.5, 1]\nobjs:\n- {a: 1}\n- {a: 2}\n",
        "dvc.yaml": (
            "stages:\n"
            "  ctxbool:\n    foreach: ${flags}\n    do:\n      cmd: echo ${item}\n"
            "  litbool:\n    foreach: [true, false, null]\n    do:\n      cmd: echo ${item}\n"
            "  dup:\n    foreach: ${nums}\n    do:\n      cmd: echo ${item}\n"
            "  objs:\n    foreach: ${objs}\n    do:\n      cmd: echo ${item.a}\n"
            "  mixed:\n    foreach: [x, [1, 2], {k: v}]\n    do:\n      cmd: echo hi\n"
            "  inline-dict:\n    foreach:\n      1: one\n      two: 2\n    do:\n"
            "      cmd: echo ${key} ${item}\n"
            "  elem:\n    foreach: ['${flags[0]}', lit]\n    do:\n      cmd: echo ${item}\n"
        ),
    },
    "matrix-shapes": {
        "params.yaml": "bools: [true, false]\nconfigs:\n- {lr: 1}\n- {lr: 2}\n",
        "dvc.yaml": (
            "stages:\n"
            "  m:\n    matrix:\n      b: ${bools}\n      lit: [true, 1.5]\n      cfg: ${configs}\n"
            "    cmd: echo ${item.b} ${item.lit} ${item.cfg.lr} ${key}\n"
            "    outs: ['out-${key}.txt']\n"
            "  nested:\n    matrix:\n      x: [[1, 2], [3]]\n      y: [a]\n"
            "    cmd: echo ${item.x[0]} ${item.y}\n"
            "  empty:\n    matrix:\n      x: []\n      y: [a]\n    cmd: echo\n"
        ),
    },
    "vars-files": {
        "params.yaml": "base:\n  a: 1\n",
        "conf.json": '{"model": {"depth": 4, "name": "m"}, "extra": [1, 2]}\n',
        "conf.toml": "[opt]\nlr = 0.5\nname = 'adam'\n[other]\nx = 1\n",
        "consts.py": (
            "THRESHOLD = 0.25\nNAMES = ['a', 'b']\nskip = foo()\n"
            "class Model:\n    depth = 7\n    def __init__(self):\n        self.width = 3\n"
        ),
        "sel.yaml": "keep: 1\ndrop: 2\nalso: 3\n",
        "dvc.yaml": (
            "vars:\n- conf.json\n- conf.toml:opt\n- consts.py\n- sel.yaml:keep,also\n"
            "- base:\n    b: 2\n"
            "stages:\n"
            "  s:\n    cmd: >-\n"
            "      echo ${model.depth} ${model.name} ${extra[1]} ${opt.lr} ${opt.name}\n"
            "      ${THRESHOLD} ${NAMES[1]} ${Model.depth} ${Model.width} ${keep} ${also}\n"
            "      ${base.a} ${base.b}\n"
        ),
    },
    "stage-vars-and-wdir": {
        "params.yaml": "top: 1\n",
        "sub/local.yaml": "where: sub\n",
        "sub/other.yaml": "x: 9\n",
        "dvc.yaml": (
            "stages:\n"
            "  a:\n    wdir: sub\n    vars:\n    - local.yaml\n    - inline: 5\n"
            "    cmd: echo ${where} ${inline} ${top}\n    deps: [../params.yaml]\n"
            "    params: [top, {other.yaml: [x]}]\n"
            "  b:\n    foreach: [1, 2]\n    do:\n      wdir: sub\n"
            "      vars: [other.yaml]\n      cmd: echo ${item} ${x}\n"
        ),
    },
    "subdirs": {
        "params.yaml": "v: root\n",
        "dvc.yaml": "stages:\n  r:\n    cmd: echo ${v}\n    params: [v]\n",
        "a/params.yaml": "v: in-a\nw: 2\n",
        "a/dvc.yaml": (
            "stages:\n  x:\n    cmd: echo ${v} ${w}\n    params: [v]\n    deps: [../params.yaml]\n"
            "    outs: [o.txt]\n"
            "  y:\n    wdir: ..\n    cmd: echo ${v}\n    params: [v, {a/params.yaml: }]\n"
        ),
        "b/c/dvc.yaml": "stages:\n  z:\n    cmd: echo deep\n    wdir: d\n    outs: [../e.txt]\n",
    },
    "params-forms": {
        "params.yaml": "a: 1\nb: 2\npname: b\n",
        "p2.json": '{"x": 1}\n',
        "dvc.yaml": (
            "stages:\n"
            "  whole-default:\n    cmd: echo\n    params: [a, {params.yaml: }, b]\n"
            "  files:\n    cmd: echo\n    params:\n    - a\n    - p2.json: [x]\n    - p3.yaml:\n"
            "    - p2.json: [y, x]\n"
            "  empty-list:\n    cmd: echo\n    params: [{p2.json: []}]\n"
            "  interp:\n    cmd: echo\n    params: ['${pname}']\n"
        ),
    },
    "outs-flags": {
        "dvc.yaml": (
            "stages:\n"
            "  s:\n    cmd: echo\n"
            "    outs:\n    - a.txt\n    - b.txt:\n        persist: true\n        push: false\n"
            "        remote: store\n        desc: the b\n        type: model\n"
            "        labels: [x, y]\n        meta: {k: v}\n"
            "    - a.txt:\n        cache: false\n"
            "    metrics:\n    - m.json\n"
            "    plots:\n    - p.csv:\n        template: linear\n        x: a\n        y: b\n"
            "        x_label: A\n        title: T\n        header: false\n        persist: true\n"
        ),
    },
    "top-sections": {
        "params.yaml": "dir: results\nname: acc\n",
        "dvc.yaml": (
            "params: [extra.yaml]\n"
            "metrics: ['${dir}/metrics.json']\n"
            "plots:\n- ${dir}/plot.csv\n- roc:\n    x: fpr\n    y:\n      ${dir}/roc.json: tpr\n"
            "- bare:\n"
            "artifacts:\n  ${name}-model:\n    path: ${dir}/model.pkl\n    type: model\n"
            "    labels: [a]\n"
            "stages:\n  s:\n    cmd: echo\n"
        ),
    },
    "vars-merge-nested": {
        "params.yaml": "train:\n  lr: 1\n",
        "dvc.yaml": (
            "vars:\n- train:\n    epochs: 2\n- params.yaml\n"
            "stages:\n  s:\n    cmd: echo ${train.lr} ${train.epochs}\n"
        ),
    },
    "anchors-and-merge-keys": {
        "dvc.yaml": (
            "stages:\n"
            "  a: &base\n    cmd: echo base\n    deps: [x]\n"
            "  b:\n    <<: *base\n    cmd: echo b\n"
        ),
    },
    "item-overrides-global": {
        "params.yaml": "item: global\nkey: gk\n",
        "dvc.yaml": (
            "stages:\n"
            "  f:\n    foreach: [1]\n    do:\n      cmd: echo ${item} ${key}\n"
            "  plain:\n    cmd: echo ${item}\n"
        ),
    },
    "keys-interpolated": {
        "params.yaml": "out: model.bin\n",
        "dvc.yaml": (
            "stages:\n  s:\n    cmd: echo\n    outs:\n    - ${out}:\n        cache: false\n"
        ),
    },
    "empty-file": {"dvc.yaml": ""},
    # Cases DVC refuses; mlvc must refuse them too.
    "err-undefined": {"dvc.yaml": "stages:\n  s:\n    cmd: echo ${nope}\n"},
    "err-undefined-nested": {
        "params.yaml": "a: {b: 1}\n",
        "dvc.yaml": "stages:\n  s:\n    cmd: echo ${a.c}\n",
    },
    "err-index-out-of-range": {
        "params.yaml": "l: [1]\n",
        "dvc.yaml": "stages:\n  s:\n    cmd: echo ${l[3]}\n",
    },
    "err-redefine": {
        "params.yaml": "lr: 1\n",
        "dvc.yaml": "vars:\n- lr: 2\nstages:\n  s:\n    cmd: echo ${lr}\n",
    },
    "err-redefine-stage-vars": {
        "params.yaml": "lr: 1\n",
        "dvc.yaml": "stages:\n  s:\n    vars: [{lr: 2}]\n    cmd: echo ${lr}\n",
    },
    "err-reserved-item": {
        "dvc.yaml": (
            "stages:\n  s:\n    foreach: [1]\n    do:\n      vars: [{item: 2}]\n      cmd: echo\n"
        ),
    },
    "err-vars-interpolation": {
        "params.yaml": "f: x.yaml\n",
        "dvc.yaml": "vars: ['${f}']\nstages:\n  s:\n    cmd: echo\n",
    },
    "err-vars-partial-after-full": {
        "params.yaml": "a: 1\n",
        "dvc.yaml": "vars: ['params.yaml:a']\nstages:\n  s:\n    cmd: echo\n",
    },
    "err-vars-missing-file": {"dvc.yaml": "vars: [nope.yaml]\nstages:\n  s:\n    cmd: echo\n"},
    "err-vars-missing-key": {
        "x.yaml": "a: 1\n",
        "dvc.yaml": "vars: ['x.yaml:b']\nstages:\n  s:\n    cmd: echo\n",
    },
    "err-vars-not-mapping": {
        "x.json": "[1, 2]\n",
        "dvc.yaml": "vars: [x.json]\nstages:\n  s:\n    cmd: echo\n",
    },
    "err-list-in-string": {
        "params.yaml": "l: [1, 2]\n",
        "dvc.yaml": "stages:\n  s:\n    cmd: echo ${l}\n",
    },
    "err-list-whole-in-deps": {
        "params.yaml": "l: [1, 2]\n",
        "dvc.yaml": "stages:\n  s:\n    cmd: echo\n    deps: ['${l}']\n",
    },
    "err-dict-in-outs": {
        "params.yaml": "d: {a: 1}\n",
        "dvc.yaml": "stages:\n  s:\n    cmd: echo\n    outs: ['x ${d}']\n",
    },
    "err-nested-iterable-in-flags": {
        "params.yaml": "d: {a: [[1]]}\n",
        "dvc.yaml": "stages:\n  s:\n    cmd: echo ${d}\n",
    },
    "err-foreach-scalar": {
        "params.yaml": "n: 3\n",
        "dvc.yaml": "stages:\n  s:\n    foreach: ${n}\n    do:\n      cmd: echo\n",
    },
    "err-bad-expression": {"dvc.yaml": "stages:\n  s:\n    cmd: echo ${a..b}\n"},
    "err-empty-expression": {"dvc.yaml": "stages:\n  s:\n    cmd: echo ${}\n"},
    "err-unknown-stage-key": {"dvc.yaml": "stages:\n  s:\n    cmd: echo\n    dep: [x]\n"},
    "err-unknown-top-key": {"dvc.yaml": "stage:\n  s:\n    cmd: echo\n"},
    "err-missing-cmd": {"dvc.yaml": "stages:\n  s:\n    deps: [x]\n"},
    "err-frozen-type": {"dvc.yaml": "stages:\n  s:\n    cmd: echo\n    frozen: 'yes'\n"},
    "err-deps-not-list": {"dvc.yaml": "stages:\n  s:\n    cmd: echo\n    deps: x\n"},
    "err-out-flag-type": {
        "dvc.yaml": "stages:\n  s:\n    cmd: echo\n    outs:\n    - a:\n        cache: 'no'\n",
    },
    "err-out-unknown-flag": {
        "dvc.yaml": "stages:\n  s:\n    cmd: echo\n    outs:\n    - a:\n        cach: false\n",
    },
    "err-foreach-extra-key": {
        "dvc.yaml": "stages:\n  s:\n    foreach: [1]\n    do:\n      cmd: echo\n    deps: [x]\n",
    },
    "err-duplicate-stage": {"dvc.yaml": "stages:\n  s:\n    cmd: a\n  s:\n    cmd: b\n"},
    "err-malformed-yaml": {"dvc.yaml": "stages:\n  s:\n    cmd: [echo\n"},
    "err-stage-name-at": {"dvc.yaml": "stages:\n  a@b:\n    cmd: echo\n"},
    "err-params-not-list": {
        "dvc.yaml": "stages:\n  s:\n    cmd: echo\n    params:\n    - p.yaml: lr\n",
    },
    "err-datetime-in-params": {
        "params.yaml": "when: 2024-01-01\n",
        "dvc.yaml": "stages:\n  s:\n    cmd: echo\n",
    },
    "err-dvcfile-as-dep": {"dvc.yaml": "stages:\n  s:\n    cmd: echo\n    deps: [sub/dvc.yaml]\n"},
    "err-dvcfile-as-out": {"dvc.yaml": "stages:\n  s:\n    cmd: echo\n    outs: [data.dvc]\n"},
    "err-params-interp-int": {
        "params.yaml": "a: 1\n",
        "dvc.yaml": "stages:\n  s:\n    cmd: echo\n    params: ['${a}']\n",
    },
    "err-bad-params-yaml": {
        "params.yaml": "a: [1\n",
        "dvc.yaml": "stages:\n  s:\n    cmd: echo\n",
    },
}


def _random_case(seed: int) -> Files:
    """A random but valid pipeline: params in several formats, chains, generators, flags."""
    rnd = random.Random(seed)
    scalars = [1, 0, -3, 2.5, 1e-05, "adam", "two words", True, False, None, "0.10"]
    params = {
        "lr": rnd.choice([0.1, 0.001, 3]),
        "name": rnd.choice(["alpha", "b-2", "x y"]),
        "flag": rnd.choice([True, False]),
        "items": rnd.sample(["a", "b", "c", "d"], rnd.randint(1, 4)),
        "grid": {f"g{i}": {"size": rnd.randint(1, 9)} for i in range(rnd.randint(1, 3))},
        "opts": {
            f"o{i}": rnd.choice([*scalars, ["p", "q r"], [1, 2]]) for i in range(rnd.randint(1, 4))
        },
        "nested": {"deep": {"list": [rnd.choice(scalars[:7]) for _ in range(3)]}},
    }
    files: Files = {"params.yaml": json.dumps(params)}  # JSON is YAML
    vars_lines = []
    fmt = rnd.choice(["json", "toml", "py", "yaml"])
    extra_val = rnd.randint(10, 99)
    if fmt == "json":
        files["extra.json"] = json.dumps({"extra": {"val": extra_val}})
    elif fmt == "toml":
        files["extra.toml"] = f"[extra]\nval = {extra_val}\n"
    elif fmt == "py":
        files["extra.py"] = f"class extra:\n    val = {extra_val}\n"
    else:
        files["extra.yaml"] = f"extra:\n  val: {extra_val}\n"
    vars_lines.append(f"- extra.{fmt}")
    vars_lines.append(f"- inline: {rnd.randint(0, 5)}")
    lines = ["vars:", *vars_lines, "stages:"]
    prev = None
    for i in range(rnd.randint(2, 6)):
        kind = rnd.choice(["plain", "plain", "foreach-list", "foreach-dict", "matrix", "cmd-list"])
        out = f"out{i}-${{name}}.txt"
        deps = f"    deps: ['{prev}']\n" if prev and kind == "plain" else ""
        if kind == "plain":
            lines.append(
                f"  s{i}:\n    cmd: python s.py --lr ${{lr}} ${{opts}} --n ${{nested.deep.list[1]}}"
                f" --e ${{extra.val}} ${{inline}}\n{deps}"
                f"    params: [lr, {{params.yaml: [name]}}]\n    outs: ['{out}']"
            )
            prev = out
        elif kind == "cmd-list":
            lines.append(
                f"  s{i}:\n    cmd:\n    - echo ${{flag}} ${{name}}\n    - echo '${{items[0]}}'\n"
                f"    wdir: w{i}\n    outs:\n    - r{i}.txt:\n"
                f"        cache: {str(rnd.random() < 0.5).lower()}"
            )
        elif kind == "foreach-list":
            src = rnd.choice(["${items}", "[x, y, 3]"])
            lines.append(
                f"  s{i}:\n    foreach: {src}\n    do:\n      cmd: echo ${{item}} ${{lr}}\n"
                f"      outs: ['f{i}-${{item}}.txt']"
            )
        elif kind == "foreach-dict":
            lines.append(
                f"  s{i}:\n    foreach: ${{grid}}\n    do:\n"
                f"      cmd: echo ${{key}} ${{item.size}}\n      deps: ['{prev or 'params.yaml'}']"
            )
        else:
            lines.append(
                f"  s{i}:\n    matrix:\n      it: ${{items}}\n      n: [1, 2]\n"
                f"    cmd: echo ${{item.it}} ${{item.n}} ${{key}}\n    outs: ['m{i}-${{key}}.txt']"
            )
    files["dvc.yaml"] = "\n".join(lines) + "\n"
    return files


RANDOM_SEEDS = range(40)
ALL_CASES: dict[str, Files] = {**CASES, **{f"random-{s}": _random_case(s) for s in RANDOM_SEEDS}}


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[str, Any]]]:
    exe = dvc_python()
    assert exe.exists(), f"real DVC not found at {exe}; run `make test`"
    base = tmp_path_factory.mktemp("pipelines")
    roots = {}
    for name, files in ALL_CASES.items():
        root = base / name
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        roots[name] = root
    out = base / "oracle.json"
    r = subprocess.run(
        [str(exe), str(ORACLE), str(out), *map(str, roots.values())],
        capture_output=True,
        text=True,
        env={"DVC_NO_ANALYTICS": "1", "PATH": "/usr/bin:/bin", "HOME": str(base)},
    )
    assert r.returncode == 0, r.stderr
    answers = json.loads(out.read_text())
    return {name: (root, answers[str(root)]) for name, root in roots.items()}


def ours(root: Path) -> dict[str, Any]:
    try:
        pipelines = load_pipelines(Repo(root))
    except PipelineError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    stages = []
    for s in pipelines.stages:
        stages.append(
            {
                "dvcfile": s.dvcfile,
                "name": s.name,
                "cmd": s.cmd,
                "wdir": s.wdir,
                "deps": s.deps,
                "params": [[p.path, list(p.keys)] for p in s.params],
                "outs": [
                    {
                        "path": o.path,
                        "kind": o.kind,
                        "cache": o.cache,
                        "persist": o.persist,
                        "push": o.push,
                        "remote": o.remote,
                        "desc": o.desc,
                        "type": o.type,
                        "labels": o.labels,
                        "meta": o.meta or None,
                        "plot": o.plot or None,
                    }
                    for o in s.outs
                ],
                "frozen": s.frozen,
                "always_changed": s.always_changed,
                "desc": s.desc,
                "meta": s.meta,
            }
        )
    top = {
        f.path: {
            "params": f.params,
            "metrics": f.metrics,
            "plots": f.plots,
            "artifacts": f.artifacts,
        }
        for f in pipelines.files
    }
    return {"stages": stages, "top": top}


def _by_file(stages: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    # DVC lists files in its walk order; within a file the order must match.
    out: dict[str, list[dict[str, Any]]] = {}
    for s in stages:
        out.setdefault(s["dvcfile"], []).append(s)
    return out


@pytest.mark.parametrize("case", list(ALL_CASES))
def test_resolution_matches_dvc(case: str, oracle: dict[str, tuple[Path, dict[str, Any]]]) -> None:
    root, expected = oracle[case]
    actual = ours(root)
    if "error" in expected:
        assert "error" in actual, f"DVC refused this ({expected['error']}); mlvc accepted it"
        return
    assert "error" not in actual, f"mlvc refused what DVC accepts: {actual['error']}"
    ours_by_file, dvc_by_file = _by_file(actual["stages"]), _by_file(expected["stages"])
    assert sorted(ours_by_file) == sorted(dvc_by_file)
    for path, dvc_stages in dvc_by_file.items():
        names = [s["name"] for s in ours_by_file[path]]
        assert names == [s["name"] for s in dvc_stages], path
        for mine, theirs in zip(ours_by_file[path], dvc_stages, strict=True):
            for field, value in theirs.items():
                assert mine[field] == value, f"{path}:{theirs['name']} {field}"
    assert actual["top"] == expected["top"]


def test_cases_exercise_both_outcomes(oracle: dict[str, tuple[Path, dict[str, Any]]]) -> None:
    # Guards the oracle itself: the error cases must really fail in DVC, the others pass.
    for name, (_, answer) in oracle.items():
        assert ("error" in answer) == name.startswith("err-"), (name, answer)


def _run_dvc(script: str, payload: Any) -> Any:
    r = subprocess.run(
        [str(dvc_python()), "-c", script],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(r.stdout)


EXPRESSIONS = [
    "a", "a.b", "a[0]", "a.b[1].c", "a[0][1]", " a . b ", "a[-1]", "a b", "a[ 0 ]", "a[0] .b",
    "a [0]", "a. b", "", "a..b", "a[", "a]", "[0]", ".a", "a.", "a[0]b", "a[[0]]", "a[]", " ",
    "a.b.", "x-y_z.0", "a[0].b[c]", "é.ü",
]  # fmt: skip

PARSE_WITH_DVC = """
import json, sys
from dvc.parsing.interpolate import parse_expr
out = []
for e in json.load(sys.stdin):
    try:
        out.append([p.strip() for p in parse_expr(e).split(".")])
    except Exception:
        out.append(None)
print(json.dumps(out))
"""


def test_expression_grammar_matches_dvc() -> None:
    from mlvc.pipeline.templating import TemplateError, parse_expr

    expected = _run_dvc(PARSE_WITH_DVC, EXPRESSIONS)
    for expr, theirs in zip(EXPRESSIONS, expected, strict=True):
        try:
            mine: list[str] | None = list(parse_expr(expr))
        except TemplateError:
            mine = None
        assert mine == theirs, repr(expr)


TO_STR_WITH_DVC = """
import json, sys
from dvc.parsing.interpolate import to_str
out = []
for value, config in json.load(sys.stdin):
    try:
        out.append(to_str(value, config=config))
    except Exception as exc:
        out.append(None)
print(json.dumps(out))
"""


def _random_flags(rnd: random.Random, depth: int = 0) -> dict[str, Any]:
    leaves: list[Any] = [True, False, None, 0, -2, 1.5, 1e-07, "", "x", "a b", "it's", "--x"]
    out: dict[str, Any] = {}
    for i in range(rnd.randint(0, 4)):
        pick = rnd.random()
        if pick < 0.5:
            out[f"k{i}"] = rnd.choice(leaves)
        elif pick < 0.75:
            out[f"l{i}"] = [rnd.choice(leaves) for _ in range(rnd.randint(0, 3))]
        elif depth < 2:
            out[f"d{i}"] = _random_flags(rnd, depth + 1)
        else:
            out[f"n{i}"] = [[1]]
    return out


def test_dict_flags_render_as_in_dvc() -> None:
    from mlvc.pipeline.templating import ParsingConfig, TemplateError, to_str

    rnd = random.Random(7)
    configs = [
        {"bool": b, "list": li}
        for b in ("store_true", "boolean_optional")
        for li in ("nargs", "append")
    ]
    cases = [(_random_flags(rnd), rnd.choice(configs)) for _ in range(300)]
    expected = _run_dvc(TO_STR_WITH_DVC, cases)
    assert any(e is None for e in expected) and any(e for e in expected)
    for (value, config), theirs in zip(cases, expected, strict=True):
        try:
            mine: str | None = to_str(value, ParsingConfig(**config))
        except TemplateError:
            mine = None
        assert mine == theirs, (value, config)
