"""Loading `dvc.yaml` files: stages and their fields, discovery, and one-line errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlvc.cli._errors import report
from mlvc.exceptions import (
    DvcYamlError,
    ParamsFileError,
    PipelineError,
    ResolveError,
    StageNotFoundError,
)
from mlvc.pipeline import ParamsRef, PipelineFile, load_pipelines, loads_pipeline
from mlvc.repo import Repo


def load(text: str, root: Path, files: dict[str, str] | None = None) -> PipelineFile:
    for rel, content in (files or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content)
    return loads_pipeline(text, root)


def make_repo(root: Path, files: dict[str, str]) -> Repo:
    (root / ".dvc").mkdir(parents=True)
    (root / ".dvc" / "config").write_text("[core]\n    no_scm = True\n")
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content)
    return Repo(root)


def test_stage_fields(tmp_path: Path) -> None:
    f = load(
        "stages:\n"
        "  prep:\n"
        "    desc: prepare\n"
        "    cmd: |-\n      python prep.py\n      echo ok\n"
        "    wdir: src\n"
        "    deps: [../data]\n"
        "    params: [lr, {cfg.json: [a.b]}]\n"
        "    outs:\n    - out.bin:\n        persist: true\n"
        "    metrics: [m.json]\n"
        "    plots:\n    - p.csv:\n        x: step\n"
        "    frozen: true\n"
        "    meta: {owner: me}\n",
        tmp_path,
    )
    s = f.stages["prep"]
    assert (s.name, s.dvcfile, s.line, s.column) == ("prep", "dvc.yaml", 2, 3)
    assert s.commands == ["python prep.py", "echo ok"]
    assert s.wdir == "src"
    assert s.deps == ["../data"]
    assert s.repo_path("../data") == "data"
    assert s.params == [ParamsRef("params.yaml", ("lr",)), ParamsRef("cfg.json", ("a.b",))]
    assert s.params_files == ["src/params.yaml", "src/cfg.json"]
    assert [(o.path, o.kind, o.persist, o.plot) for o in s.outs] == [
        ("out.bin", "outs", True, None),
        ("m.json", "metrics", False, None),
        ("p.csv", "plots", False, {"x": "step"}),
    ]
    assert s.frozen and not s.always_changed
    assert (s.desc, s.meta, s.generated_from) == ("prepare", {"owner": "me"}, None)


def test_generated_stages_point_at_their_definition(tmp_path: Path) -> None:
    f = load(
        "stages:\n  a:\n    cmd: x\n"
        "  gen:\n    foreach: [1, 2]\n    do:\n      cmd: echo ${item}\n",
        tmp_path,
    )
    assert list(f.stages) == ["a", "gen@1", "gen@2"]
    g = f.stages["gen@2"]
    assert (g.cmd, g.generated_from, g.line) == ("echo 2", "gen", 4)


def test_default_params_yaml_is_read_next_to_dvc_yaml(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path,
        {
            "params.yaml": "v: root\n",
            "dvc.yaml": "stages:\n  r:\n    cmd: echo ${v}\n",
            "sub/params.yaml": "v: sub\n",
            "sub/dvc.yaml": "stages:\n  s:\n    cmd: echo ${v}\n",
            "other/dvc.yaml": "stages:\n  o:\n    cmd: echo none\n",
        },
    )
    p = load_pipelines(repo)
    assert [f.path for f in p.files] == ["dvc.yaml", "other/dvc.yaml", "sub/dvc.yaml"]
    assert p.get("r").cmd == "echo root"
    s = p.get("sub/dvc.yaml:s")
    assert (s.cmd, s.wdir, s.addressing) == ("echo sub", "sub", "sub/dvc.yaml:s")
    assert p.get("sub:s") is s
    assert len(p) == 3
    with pytest.raises(StageNotFoundError, match=r"stage `nope` not found in `dvc\.yaml`"):
        p.get("nope")


def test_discovery_uses_git_and_skips_ignored_directories(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".dvc").mkdir()
    (tmp_path / ".dvc" / "config").write_text("")
    (tmp_path / ".gitignore").write_text("/data\n")
    for rel in ("dvc.yaml", "a/dvc.yaml", "data/dvc.yaml", "a/not-dvc.yaml"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("stages: {}\n")
    assert [p.relative_to(tmp_path).as_posix() for p in Repo(tmp_path).pipeline_files()] == [
        "a/dvc.yaml",
        "dvc.yaml",
    ]


def test_broken_top_level_section_does_not_stop_stages(tmp_path: Path) -> None:
    f = load("metrics: ['${nope}.json']\nstages:\n  s:\n    cmd: x\n", tmp_path)
    assert list(f.stages) == ["s"]
    with pytest.raises(ResolveError, match=r"`dvc.yaml:1:1`: `metrics`: `\$\{nope\}` is not"):
        _ = f.metrics


@pytest.mark.parametrize(
    ("text", "error", "message", "hint"),
    [
        (
            "stages:\n  s:\n    cmd: x\n    dpes: [a]\n",
            DvcYamlError,
            "`dvc.yaml:4:5`: unknown key `dpes` in stage `s`",
            "did you mean `deps`?",
        ),
        (
            "stags:\n  s:\n    cmd: x\n",
            DvcYamlError,
            "`dvc.yaml:1:1`: unknown key `stags` in `dvc.yaml`",
            "did you mean `stages`?",
        ),
        (
            "stages:\n  s:\n    cmd: x\n    outs:\n    - a:\n        cahce: false\n",
            DvcYamlError,
            "`dvc.yaml:6:9`: unknown key `cahce` in flags of `a` in stage `s`",
            "did you mean `cache`?",
        ),
        (
            "stages:\n  s:\n    cmd: x\n    always_changed: ${flag}\n",
            DvcYamlError,
            "`dvc.yaml:4:5`: `always_changed` of stage `s` must be a boolean",
            "templating is not allowed in boolean fields",
        ),
        (
            "stages:\n  s:\n    cmd: x\n    deps: [a, 3]\n",
            DvcYamlError,
            "`dvc.yaml:4:15`: `deps` of stage `s` must hold strings, not a number",
            "quote the value",
        ),
        (
            "stages:\n  s:\n    cmd: x\n    outs: a.txt\n",
            DvcYamlError,
            "`dvc.yaml:4:5`: `outs` of stage `s` must be a list, not a string",
            "write it as a list",
        ),
        (
            "stages:\n  s:\n    deps: [a]\n",
            DvcYamlError,
            "`dvc.yaml:2:3`: stage `s` has no `cmd`",
            "add `cmd",
        ),
        (
            "stages:\n  s:\n    foreach: [1]\n",
            DvcYamlError,
            "`dvc.yaml:2:3`: stage `s` has `foreach` without `do`",
            None,
        ),
        (
            "stages:\n  s:\n    cmd: a\n  s:\n    cmd: b\n",
            DvcYamlError,
            '`dvc.yaml:4:3`: found duplicate key "s"',
            "each stage name",
        ),
        ("stages:\n  s: [\n", DvcYamlError, "`dvc.yaml:3:1`", "fix the YAML syntax"),
        (
            "stages:\n  s:\n    cmd: echo ${missing}\n",
            ResolveError,
            r"`dvc.yaml:3:5`: stage `s`, `cmd`: `${missing}` is not defined",
            "define `missing` in `vars` or in `params.yaml`",
        ),
        (
            "vars:\n- a: 1\n- a: 2\nstages:\n  s:\n    cmd: x\n",
            ResolveError,
            "`dvc.yaml:1:1`: `vars`: cannot redefine `a` from `vars[1]`: it already exists in"
            " `vars[0]`",
            "define it in one place only",
        ),
        (
            "stages:\n  s:\n    foreach: ${n}\n    do:\n      cmd: x\n",
            ResolveError,
            "`dvc.yaml:3:5`: stage `s`, `foreach`: `${n}` is not defined",
            None,
        ),
        (
            "stages:\n  s:\n    cmd: x\n    deps: [x.dvc]\n",
            ResolveError,
            "`dvc.yaml:4:5`: stage `s`: `x.dvc` is a DVC file; it cannot be a dependency",
            None,
        ),
        (
            "vars: [missing.yaml]\nstages: {}\n",
            ResolveError,
            "`dvc.yaml:1:1`: `vars`: `missing.yaml` does not exist",
            "paths in `vars` are relative",
        ),
    ],
)
def test_errors_are_one_line_with_place_and_hint(
    tmp_path: Path, text: str, error: type[PipelineError], message: str, hint: str | None
) -> None:
    with pytest.raises(error) as err:
        load(text, tmp_path)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)
    if hint is not None:
        assert err.value.hint is not None and hint in err.value.hint


def test_bad_default_params_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ResolveError, match=r"`dvc.yaml`: templating variables: `params.yaml:2:1`"):
        load("stages: {}\n", tmp_path, {"params.yaml": "a: [\n"})
    with pytest.raises(ResolveError, match="unsupported value of type `date` at `when`"):
        load("stages: {}\n", tmp_path, {"params.yaml": "when: 2024-01-01\n"})


def test_errors_exit_255_with_a_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(PipelineError) as err:
        load("stages:\n  s:\n    cmd: x\n    dpes: [a]\n", tmp_path)
    assert report(err.value) == 255
    stderr = capsys.readouterr().err.splitlines()
    assert stderr[0] == "error: `dvc.yaml:4:5`: unknown key `dpes` in stage `s`"
    assert stderr[1].startswith("hint: did you mean `deps`?")


def test_params_file_errors_are_pipeline_errors() -> None:
    assert issubclass(ParamsFileError, PipelineError)
