"""`stage add`, `stage list`, `freeze`/`unfreeze` against real DVC: the file's own
layout (indentation, line ends) is kept, and the data written is DVC's."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]

ADD = ["-n", "t", "-d", "x", "-o", "o", "-O", "nc", "-p", "lr", "-p", "f.yaml:k", "echo t"]


def _twin(tools: Tools) -> tuple[Path, Path]:
    _mlvc, dvc, git, root = tools
    pair = []
    for name in ("m", "d"):
        repo = root / name
        repo.mkdir()
        git("init", "-q", cwd=repo)
        dvc("init", "-q", cwd=repo)
        (repo / "x").write_text("x\n")
        (repo / "sub").mkdir()
        pair.append(repo)
    return pair[0], pair[1]


def _both(tools: Tools, *args: str, text: str | None = None, where: str = ".") -> tuple[Path, Path]:
    """Runs the command in twin repos (starting from `dvc.yaml` = `text`); same outcome."""
    mlvc, dvc, _git, _root = tools
    m, d = _twin(tools)
    if text is not None:
        for repo in (m, d):
            (repo / "dvc.yaml").write_bytes(text.encode())
    ours = mlvc(*args, cwd=m / where, check=False)
    theirs = dvc(*args, cwd=d / where, check=False)
    assert ours.returncode == theirs.returncode, (ours.stderr, theirs.stderr)
    return m, d


def _data(path: Path) -> object:
    return yaml.safe_load(path.read_bytes()) if path.exists() else None


def _indents(text: str) -> set[int]:
    return {len(ln) - len(ln.lstrip(" ")) for ln in text.splitlines() if ln.strip()}


FOUR = "stages:\n    a:\n        cmd: echo a\n        deps:\n            - x\n"
FOUR_FLUSH = "stages:\n    a:\n        cmd: echo a\n        deps:\n        - x\n"
TWO_INDENTED = "stages:\n  a:\n    cmd: echo a\n    deps:\n      - x\n"


@pytest.mark.parametrize(
    ("text", "block"),
    [
        (
            FOUR,
            "    t:\n        cmd: echo t\n        deps:\n            - x\n"
            "        params:\n            - lr\n            - f.yaml:\n                  - k\n"
            "        outs:\n            - nc:\n                  cache: false\n            - o\n",
        ),
        (
            FOUR_FLUSH,
            "    t:\n        cmd: echo t\n        deps:\n        - x\n"
            "        params:\n        - lr\n        - f.yaml:\n          - k\n"
            "        outs:\n        - nc:\n              cache: false\n        - o\n",
        ),
        (
            TWO_INDENTED,
            "  t:\n    cmd: echo t\n    deps:\n      - x\n"
            "    params:\n      - lr\n      - f.yaml:\n          - k\n"
            "    outs:\n      - nc:\n          cache: false\n      - o\n",
        ),
    ],
)
def test_new_stage_follows_the_files_indentation(tools: Tools, text: str, block: str) -> None:
    m, d = _both(tools, "stage", "add", *ADD, text=text)
    ours = (m / "dvc.yaml").read_text()
    # The user's lines stay; the new stage is indented as they are, lists included.
    assert ours == text + block
    # DVC re-dumps the whole file in its own layout; the data is the same.
    assert _data(m / "dvc.yaml") == _data(d / "dvc.yaml")
    assert (m / ".gitignore").read_text() == (d / ".gitignore").read_text()


def test_forced_stage_in_a_four_space_file_keeps_its_layout(tools: Tools) -> None:
    text = "# top\nstages:\n    a:   # a\n        cmd: echo a   # c\n        deps:\n"
    text += "            - x\n    b:\n        cmd: echo b\n# end\nmetrics:\n    - m.json\n"
    args = ["stage", "add", "-f", "-n", "a", "-d", "x", "-d", "y", "-O", "w", "echo A"]
    m, d = _both(tools, *args, text=text)
    ours = (m / "dvc.yaml").read_text()
    assert _data(m / "dvc.yaml") == _data(d / "dvc.yaml")
    assert "    a:   # a\n        cmd: echo A   # c\n        deps:\n            - x\n" in ours
    assert "            - w:\n                  cache: false\n" in ours
    assert ours.endswith("    b:\n        cmd: echo b\n# end\nmetrics:\n    - m.json\n")
    assert _indents(ours) == _indents(text) | {18}


def test_new_stages_section_follows_the_other_sections(tools: Tools) -> None:
    m, d = _both(tools, "stage", "add", *ADD, text="vars:\n    - p: 1\n")
    assert _data(m / "dvc.yaml") == _data(d / "dvc.yaml")
    ours = (m / "dvc.yaml").read_text()
    assert ours.startswith("vars:\n    - p: 1\nstages:\n    t:\n        cmd: echo t\n")
    assert "        deps:\n            - x\n" in ours


def test_crlf_file_keeps_its_line_ends(tools: Tools) -> None:
    text = "stages:\r\n  a:\r\n    cmd: echo a\r\n"
    m, d = _both(tools, "stage", "add", *ADD, text=text)
    raw = (m / "dvc.yaml").read_bytes()
    assert raw.startswith(text.encode())
    assert raw.count(b"\n") == raw.count(b"\r\n")
    assert _data(m / "dvc.yaml") == _data(d / "dvc.yaml")
    mlvc, dvc, _git, _root = tools
    for args in (["freeze", "t"], ["unfreeze", "t"]):
        mlvc(*args, cwd=m)
        dvc(*args, cwd=d)
        raw = (m / "dvc.yaml").read_bytes()
        assert raw.count(b"\n") == raw.count(b"\r\n")
        assert _data(m / "dvc.yaml") == _data(d / "dvc.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "stages:\n  a:\n    cmd: echo a\n...\n",
        "stages:\n  a:\n    cmd: echo a",
        "",
        "# only a comment\n",
        "plots:\n  - p.csv\nstages:\n  a:\n    cmd: echo a\nmetrics:\n  - m.json\n",
        "stages:\n  a: {cmd: echo a, outs: [y]}\n",
        "stages: {a: {cmd: echo a}}\n",
        "stages:\n   a:\n      cmd: echo a\n      deps:\n         - x\n",
    ],
)
def test_stage_add_into_unusual_files_writes_dvcs_data(tools: Tools, text: str) -> None:
    m, d = _both(tools, "stage", "add", *ADD, text=text)
    assert _data(m / "dvc.yaml") == _data(d / "dvc.yaml")
    assert (m / ".gitignore").read_text() == (d / ".gitignore").read_text()


@pytest.mark.parametrize(
    ("args", "where"),
    [
        # DVC-compat: an absolute path inside the repository is written relative to wdir.
        (["-d", "{root}/x", "-o", "{root}/sub/o", "-p", "{root}/f.yaml:k"], "."),
        (["-w", "sub", "-d", "{root}/x", "-o", "{root}/sub/o"], "."),
        (["-d", "{root}/x", "-o", "o"], "sub"),
        (["-d", "/etc/hosts", "-O", "/tmp/elsewhere", "-d", "./x", "-o", "./sub/../o/"], "."),
        # DVC-compat: a params key given twice is written twice.
        (["-p", "a,a", "-p", "b", "-p", "b", "-p", "f.yaml:k,k,j"], "."),
        (["-p", "{root}/params.yaml:lr", "-p", "g.yaml:"], "."),
    ],
)
def test_stage_add_paths_and_params_like_dvc(tools: Tools, args: list[str], where: str) -> None:
    mlvc, dvc, _git, _root = tools
    m, d = _twin(tools)
    for tool, repo in ((mlvc, m), (dvc, d)):
        given = [a.replace("{root}", str(repo)) for a in args]
        tool("stage", "add", "-n", "t", *given, "echo", cwd=repo / where)
    assert _data(m / where / "dvc.yaml") == _data(d / where / "dvc.yaml")
    for gi in (".gitignore", "sub/.gitignore"):
        assert _data(m / gi) == _data(d / gi)


def test_failed_run_takes_back_the_gitignore_entries_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, _root = tools
    m, d = _twin(tools)
    for tool, repo in ((mlvc, m), (dvc, d)):
        (repo / ".gitignore").write_text("/kept\n")
        r = tool("stage", "add", "-n", "t", "-o", "o", "-o", "kept", "--run", "false",
                 cwd=repo, check=False)  # fmt: skip
        assert r.returncode == 255
        assert (repo / ".gitignore").read_text() == "/kept\n"
        (repo / "k").write_text("k\n")
        git("add", "k", cwd=repo)
        r = tool("stage", "add", "-n", "u", "-o", "p", "-o", "k", "echo", cwd=repo, check=False)
        assert r.returncode == 255
        assert (repo / ".gitignore").read_text() == "/kept\n"
    assert _data(m / "dvc.yaml") == _data(d / "dvc.yaml")


FROZEN = """\
stages:
    a:
        cmd: echo a
        deps:
            - x
    b:
        cmd: echo b
        frozen: true   # keep
"""


def test_freeze_and_unfreeze_go_on_after_a_bad_target_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, _root = tools
    m, d = _twin(tools)
    for repo in (m, d):
        (repo / "dvc.yaml").write_text(FROZEN)
        (repo / "sub/dvc.yaml").write_text("stages:\n  s:\n    cmd: echo s\n")
    for args, where in (
        (["freeze", "nothere", "a", "sub:s"], "."),
        (["unfreeze", "b", "a"], "."),
        (["freeze", "../dvc.yaml:b", "s"], "sub"),
    ):
        ours = mlvc(*args, cwd=m / where, check=False)
        theirs = dvc(*args, cwd=d / where, check=False)
        assert ours.returncode == theirs.returncode, (args, ours.stderr, theirs.stderr)
        # DVC-compat: the stages that could be changed are, and named from the cwd.
        assert ours.stdout == theirs.stdout
        for rel in ("dvc.yaml", "sub/dvc.yaml"):
            assert _data(m / rel) == _data(d / rel), (args, rel)
    assert (m / "dvc.yaml").read_text().startswith(FROZEN.split("    b:")[0])


def test_freeze_a_dvc_file_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, _root = tools
    m, d = _twin(tools)
    for tool, repo in ((mlvc, m), (dvc, d)):
        (repo / "data").write_text("data\n")
        dvc("add", "-q", "data", cwd=repo)
        with (repo / "data.dvc").open("a") as f:
            f.write("# note\n")
        r = tool("freeze", "data.dvc", cwd=repo)
        assert r.stdout == ""
    assert _data(m / "data.dvc") == _data(d / "data.dvc")
    assert "# note" in (m / "data.dvc").read_text()
    # DVC itself sees the file frozen.
    assert "is frozen" in dvc("status", "data.dvc", cwd=m).stderr
    for tool, repo in ((mlvc, m), (dvc, d)):
        tool("unfreeze", "data.dvc", cwd=repo)
    assert _data(m / "data.dvc") == _data(d / "data.dvc")


def _pipelines(repo: Path) -> None:
    (repo / "dvc.yaml").write_text(
        "stages:\n  a:\n    cmd: echo a\n    deps: [x]\n    outs: [y]\n"
        "  f:\n    foreach: [1, 2]\n    do:\n      cmd: echo ${item}\n"
    )
    (repo / "sub/dvc.yaml").write_text("stages:\n  s:\n    cmd: echo s\n    desc: the s\n")
    (repo / "sub/deep").mkdir()
    (repo / "sub/deep/data").write_text("d\n")
    (repo / "sub/deep/data.dvc").write_text("outs:\n- path: data\n")


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["sub/deep/data.dvc"], "."),
        (["deep/data.dvc", "s"], "sub"),
        (["-R", "sub"], "."),
        (["-R", "."], "sub"),
        (["--all", "--name-only"], "."),
        (["-q"], "."),
        # DVC-compat: without `-R` a directory's name is a stage name of `./dvc.yaml`,
        # and `dir:name` names a file `dir`.
        (["sub"], "."),
        (["sub:s"], "."),
        (["deep"], "sub"),
        (["f@1", "a"], "."),
    ],
)
def test_stage_list_like_dvc(tools: Tools, args: list[str], where: str) -> None:
    mlvc, dvc, _git, _root = tools
    m, d = _twin(tools)
    for repo in (m, d):
        _pipelines(repo)
    ours = mlvc("stage", "list", *args, cwd=m / where, check=False)
    theirs = dvc("stage", "list", *args, cwd=d / where, check=False)
    assert ours.returncode == theirs.returncode, (ours.stderr, theirs.stderr)
    # Stages of files in one directory come in the order the file system lists them.
    assert sorted(ours.stdout.splitlines()) == sorted(theirs.stdout.splitlines())
    assert bool(ours.stdout) == bool(theirs.stdout)
