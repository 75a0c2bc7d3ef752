"""`stage add`, `freeze`/`unfreeze`, `params diff` and `metrics show/diff` against real DVC."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]

STAGE_ARGS = [
    "-n", "train", "-d", "b.txt", "-d", "a.txt", "-o", "out", "-O", "nocache.txt",
    "-p", "lr,epochs", "-p", "extra.json:th,a", "-p", "whole.yaml:",
    "-m", "m.json", "-M", "mn.json", "--plots", "p.csv", "--plots-no-cache", "pn.csv",
    "-w", "sub", "--always-changed", "--desc", "my stage",
    "python", "train.py", "a b", 'x"y', "", "-n", "kept",
]  # fmt: skip

COMMENTED = """\
# top comment
vars:
  - x: 1   # inline

stages:
  # about a
  a:
    cmd: echo a   # cmt
    deps: [in.txt]   # flow
    outs:
      - a.txt

  b:
    cmd: echo b
    # trailing comment in b

# before metrics
metrics:
- m.json
"""


def _init(tools: Tools, repo: Path | None = None) -> Path:
    _mlvc, dvc, git, root = tools
    repo = repo or root
    repo.mkdir(exist_ok=True)
    git("init", "-q", cwd=repo)
    dvc("init", "-q", cwd=repo)
    return repo


def _twin(tools: Tools) -> tuple[Path, Path]:
    root = tools[3]
    a = _init(tools, root / "m")
    b = _init(tools, root / "d")
    return a, b


def _comments(text: str) -> list[str]:
    return [ln.split("#", 1)[1] for ln in text.splitlines() if "#" in ln]


def test_stage_add_fresh_file_is_byte_identical(tools: Tools) -> None:
    mlvc, dvc, _git, _root = tools
    m, d = _twin(tools)
    for repo in (m, d):
        (repo / "sub").mkdir()
    r = mlvc("stage", "add", *STAGE_ARGS, cwd=m)
    dvc("stage", "add", *STAGE_ARGS, cwd=d)
    assert (m / "dvc.yaml").read_bytes() == (d / "dvc.yaml").read_bytes()
    assert (m / "sub/.gitignore").read_bytes() == (d / "sub/.gitignore").read_bytes()
    assert "Added stage 'train' in 'dvc.yaml'" in r.stdout
    assert 'cmd: python train.py "a b" x"y "" -n kept' in (m / "dvc.yaml").read_text()


def test_stage_add_keeps_comments_and_layout(tools: Tools) -> None:
    mlvc, dvc, _git, _root = tools
    m, d = _twin(tools)
    for repo in (m, d):
        (repo / "dvc.yaml").write_text(COMMENTED)
    mlvc("stage", "add", "-n", "c", "-d", "a.txt", "-o", "c.txt", "echo", "c", cwd=m)
    dvc("stage", "add", "-n", "c", "-d", "a.txt", "-o", "c.txt", "echo", "c", cwd=d)
    text = (m / "dvc.yaml").read_text()
    assert _comments(text) == _comments(COMMENTED)
    # The user's lines are untouched; the new block sits at the end of `stages`.
    assert text.startswith(COMMENTED.split("\n# before metrics")[0])
    assert "    # trailing comment in b\n  c:\n    cmd: echo c\n" in text
    assert yaml.safe_load(text) == yaml.safe_load((d / "dvc.yaml").read_text())
    listed = dvc("stage", "list", "--name-only", cwd=m).stdout.split()
    assert listed == ["a", "b", "c"]


def test_stage_add_force_replaces_only_that_stage(tools: Tools) -> None:
    mlvc, dvc, _git, _root = tools
    m, d = _twin(tools)
    args = ["stage", "add", "-f", "-n", "a", "-d", "x.txt", "-o", "y.txt", "echo", "A"]
    for repo in (m, d):
        (repo / "dvc.yaml").write_text(COMMENTED)
    mlvc(*args, cwd=m)
    dvc(*args, cwd=d)
    text = (m / "dvc.yaml").read_text()
    assert yaml.safe_load(text) == yaml.safe_load((d / "dvc.yaml").read_text())
    # DVC-compat: the comment after the kept `cmd` stays at its column.
    assert "# about a\n  a:\n    cmd: echo A   # cmt\n" in text
    assert "# trailing comment in b" in text and "# before metrics" in text


FORCED = """\
# top comment
stages:
  # about prep
  prep:  # prep inline
    cmd: echo prep > p   # cmd comment
    # before deps
    deps:
    - a.txt
    - b.txt
    outs:
    - p  # out p
  train:
    cmd: python train.py # train cmd
    deps:
    - p
    outs:
    - model  # the model
# trailing comment
"""


def test_stage_add_force_keeps_comments_of_kept_keys_like_dvc(tools: Tools) -> None:
    """DVC-compat: `stage add -f` applies the new stage onto the old one (ruamel + apply_diff)."""
    mlvc, dvc, _git, _root = tools
    m, d = _twin(tools)
    args = ["stage", "add", "-f", "-n", "prep", "-d", "c.txt", "-d", "a.txt"]
    args += ["-o", "p", "-o", "q", "echo prep2 > p"]
    for repo in (m, d):
        (repo / "dvc.yaml").write_text(FORCED)
    mlvc(*args, cwd=m)
    dvc(*args, cwd=d)
    ours, theirs = (m / "dvc.yaml").read_text(), (d / "dvc.yaml").read_text()

    def stage(text: str) -> str:
        return text[text.index("  prep:") : text.index("  train:")]

    # The stage name's and cmd's comments stay at their columns, as does the comment
    # above a kept key; the changed `outs` list loses its item comment.
    assert stage(ours) == (
        "  prep:  # prep inline\n"
        "    cmd: echo prep2 > p  # cmd comment\n"
        "    # before deps\n"
        "    deps:\n"
        "    - a.txt\n"
        "    - c.txt\n"
        "    outs:\n"
        "    - p\n"
        "    - q\n"
    )
    assert stage(ours) == stage(theirs)
    # mlvc leaves the rest of the file as it was, byte for byte.
    assert ours.replace(stage(ours), "") == FORCED.replace(stage(FORCED), "")
    assert theirs.replace(stage(theirs), "") == FORCED.replace(stage(FORCED), "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-n", "a", "echo", "again"], "stage `a` already exists in `dvc.yaml`"),
        (["-n", "bad/name", "echo"], "cannot contain punctuation"),
        (["-n", "t", "-d", "x", "-o", "x", "echo"], "`x` is specified as an output and as a dep"),
        (["-n", "t"], "command is not specified"),
        (["-n", "t", "-o", "dvc.yaml", "echo"], "DVC file `dvc.yaml` cannot be an output"),
        (["-n", "t", "-o", "a.txt", "echo"], "output `a.txt` is specified in stages"),
        (["-n", "t", "-o", "a.txt/x", "echo"], "is inside output `a.txt`"),
        (["-n", "t", "-w", "nodir", "echo"], "`nodir` does not exist"),
        (["-n", "t", "-d", "a.txt", "-o", "in.txt", "echo"], "cycle"),
        # DVC-compat: a `-p` file is a dependency; paths compare normalised.
        (["-n", "t", "-p", "lr", "-d", "params.yaml", "echo"], "`params.yaml` is specified more"),
        (["-n", "t", "-p", "e.json:th", "-d", "e.json", "echo"], "`e.json` is specified more"),
        (["-n", "t", "-p", "lr", "-o", "params.yaml", "echo"], "`params.yaml` is specified as an"),
        (["-n", "t", "-o", "x", "-o", "x", "echo"], "`x` is specified more than once"),
        (["-n", "t", "-o", "x", "-O", "x", "echo"], "`x` is specified more than once"),
        (["-n", "t", "-o", "x", "-m", "./x", "echo"], "`x` is specified more than once"),
        (["-n", "t", "-d", "./x", "-o", "x/", "echo"], "`x` is specified as an output and as a"),
        (["-n", "t", "-o", ".", "echo"], "cached output `.` is outside of the repository"),
        (["-n", "t", "-o", ".dvc/x", "echo"], "`.dvc/x` is ignored by the built-in pattern"),
        (["-n", "t", "-o", "s/.git", "echo"], "`s/.git` is ignored by the built-in pattern `.git`"),
        (["-n", "t", "-o", "x.dvc", "-d", "y", "-d", "y", "echo"], "DVC file `x.dvc` cannot be"),
    ],
)
def test_stage_add_errors_like_dvc(tools: Tools, args: list[str], message: str) -> None:
    mlvc, dvc, _git, _root = tools
    m, d = _twin(tools)
    for repo in (m, d):
        (repo / "dvc.yaml").write_text(COMMENTED)
    r = mlvc("stage", "add", *args, cwd=m, check=False)
    expected = dvc("stage", "add", *args, cwd=d, check=False)
    assert r.returncode == expected.returncode == 255, (r.stderr, expected.stderr)
    assert message in r.stderr
    assert r.stderr.startswith("error: ")
    assert (m / "dvc.yaml").read_text() == COMMENTED


def test_stage_add_paths_compare_absolute_and_need_a_name_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, _root = tools
    m, d = _twin(tools)
    for tool, repo in ((mlvc, m), (dvc, d)):
        r = tool("stage", "add", "-n", "t", "-o", str(repo / "x"), "-d", "x", "echo", cwd=repo,
                 check=False)  # fmt: skip
        assert r.returncode == 255, r.stderr
        # DVC-compat: `-n` is a required option: a usage error.
        assert tool("stage", "add", "echo", cwd=repo, check=False).returncode == 254
        assert not (repo / "dvc.yaml").exists()
    r = mlvc("stage", "add", "-n", "t", "-o", str(m / "x"), "-d", "x", "echo", cwd=m, check=False)
    assert "`x` is specified as an output and as a dependency" in r.stderr


def test_stage_add_output_git_tracks_or_in_a_missing_directory_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, _root = tools
    m, d = _twin(tools)
    found = []
    for tool, repo in ((mlvc, m), (dvc, d)):
        (repo / "kept.txt").write_text("in git\n")
        git("add", "kept.txt", cwd=repo)
        # DVC-compat: the stage is written, then the output git tracks stops the command.
        r = tool("stage", "add", "-n", "t", "-o", "kept.txt", "echo", cwd=repo, check=False)
        assert r.returncode == 255, r.stderr
        found.append((repo / "dvc.yaml").read_text())
        assert not (repo / ".gitignore").exists()
        # An output whose directory does not exist yet: a warning and no entry.
        r = tool("stage", "add", "-n", "u", "-o", "new/out", "echo", cwd=repo, check=False)
        assert r.returncode == 0, r.stderr
        assert "new/.gitignore" in r.stderr
        found.append((repo / "dvc.yaml").read_text())
    assert found[:2] == found[2:]
    assert "kept.txt" in mlvc("stage", "add", "-f", "-n", "t", "-o", "kept.txt", "echo", cwd=m,
                              check=False).stderr  # fmt: skip


@pytest.mark.parametrize(
    ("out", "rule"),
    [
        ("ign/x", ".dvcignore:1:ign/"),
        ("y.tmp", ".dvcignore:2:*.tmp"),
        ("s/z/y", "s/.dvcignore:2:z"),
    ],
)
def test_stage_add_refuses_an_output_dvcignore_hides_like_dvc(
    tools: Tools, out: str, rule: str
) -> None:
    mlvc, dvc, _git, _root = tools
    m, d = _twin(tools)
    for tool, repo in ((mlvc, m), (dvc, d)):
        (repo / ".dvcignore").write_text("ign/\n*.tmp\n")
        (repo / "s").mkdir()
        (repo / "s" / ".dvcignore").write_text("!keep.tmp\nz\n")
        r = tool("stage", "add", "-n", "t", "-o", out, "echo", cwd=repo, check=False)
        assert r.returncode == 255, r.stderr
        # DVC-compat: the rule is named as DVC names it, `file:line:pattern`.
        assert rule in r.stderr
        assert not (repo / "dvc.yaml").exists()
        tool("stage", "add", "-n", "t", "-o", "s/keep.tmp", "-d", "ign/x", "echo", cwd=repo)


def test_stage_add_combined_flags_and_command_words_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, _root = tools
    m, d = _twin(tools)
    # DVC-compat: `-fn s` is `-f -n s`; every word from the command on is the command's,
    # options of mlvc's own (`--targets`, `-fk`) included.
    args = ["-fn", "s", "-d", "a", "python", "x.py", "-fk", "--targets", "a", "b", "-n", "z"]
    mlvc("stage", "add", *args, cwd=m)
    dvc("stage", "add", *args, cwd=d)
    assert (m / "dvc.yaml").read_text() == (d / "dvc.yaml").read_text()
    assert "cmd: python x.py -fk --targets a b -n z\n" in (m / "dvc.yaml").read_text()


def test_stage_add_run_leaves_dvc_status_clean(tools: Tools) -> None:
    mlvc, dvc, _git, root = tools
    _init(tools)
    (root / "in.txt").write_text("x\n")
    r = mlvc("stage", "add", "-n", "copy", "-d", "in.txt", "-o", "out.txt", "--run",
             "cp", "in.txt", "out.txt")  # fmt: skip
    assert "Running stage 'copy'" in r.stdout
    assert (root / "out.txt").read_text() == "x\n"
    assert "/out.txt" in (root / ".gitignore").read_text()
    assert dvc("status").stdout.strip() == "Data and pipelines are up to date."


def test_stage_add_run_from_a_subdirectory_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, _root = tools
    m, d = _twin(tools)
    args = [
        "stage",
        "add",
        "-n",
        "s",
        "-d",
        "in.txt",
        "-o",
        "out.txt",
        "--run",
        "cat in.txt > out.txt",
    ]
    outputs = []
    for tool, repo in ((mlvc, m), (dvc, d)):
        (repo / "sub").mkdir()
        (repo / "sub/in.txt").write_text("1\n")
        outputs.append(tool(*args, cwd=repo / "sub").stdout)
        assert (repo / "sub/out.txt").read_text() == "1\n"
    ours, theirs = outputs
    assert ours.splitlines()[:4] == theirs.splitlines()[:4]  # "Added stage 's' in 'dvc.yaml'"
    assert (m / "sub/dvc.lock").read_text() == (d / "sub/dvc.lock").read_text()


def test_freeze_of_a_foreach_or_matrix_definition_is_refused_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, _root = tools
    m, d = _twin(tools)
    text = (
        "vars:\n  - cfgs: [a, b]\nstages:\n"
        "  f1:\n    foreach: ${cfgs}\n    do:\n      cmd: echo ${item}\n"
        "  mx:\n    matrix:\n      x: [1, 2]\n    cmd: echo ${item.x}\n"
    )
    for repo in (m, d):
        (repo / "dvc.yaml").write_text(text)
    for args in (["freeze", "f1"], ["unfreeze", "f1"], ["freeze", "mx"], ["freeze", "f1@a"]):
        ours, theirs = mlvc(*args, cwd=m, check=False), dvc(*args, cwd=d, check=False)
        assert ours.returncode == theirs.returncode == 1, (args, ours, theirs)
        assert (m / "dvc.yaml").read_text() == text
    assert mlvc("status", cwd=m).returncode == 0


def test_freeze_and_unfreeze_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, _root = tools
    m, d = _twin(tools)
    for repo in (m, d):
        (repo / "dvc.yaml").write_text(COMMENTED)
    for args in (["freeze", "a", "b"], ["unfreeze", "a"]):
        r = mlvc(*args, cwd=m)
        dvc(*args, cwd=d)
        text = (m / "dvc.yaml").read_text()
        assert yaml.safe_load(text) == yaml.safe_load((d / "dvc.yaml").read_text())
        assert _comments(text) == _comments(COMMENTED)
    assert "Modifying stage 'a' in 'dvc.yaml'" in r.stdout
    assert "    # trailing comment in b\n    frozen: true\n" in text
    # DVC itself sees the stage as frozen.
    assert "b" in dvc("stage", "list", cwd=m).stdout


def test_freeze_unknown_stage_suggests_a_name(tools: Tools) -> None:
    mlvc, dvc, _git, root = tools
    _init(tools)
    (root / "dvc.yaml").write_text(COMMENTED)
    r = mlvc("freeze", "bb", check=False)
    assert r.returncode == dvc("freeze", "bb", check=False).returncode == 1
    assert r.stderr.splitlines() == [
        "error: stage `bb` not found in `dvc.yaml`",
        "hint: did you mean `b`?",
    ]


# params diff / metrics ---------------------------------------------------------------

DVC_YAML = """\
stages:
  train:
    cmd: echo hi
    params:
    - lr
    - nested.a
    - extra.json:
      - th
    metrics:
    - m.json:
        cache: false
    - sub/deep.yaml:
        cache: false
metrics:
- top.yaml
"""


def _reports_repo(tools: Tools) -> Path:
    _mlvc, _dvc, git, root = tools
    _init(tools)
    (root / "sub").mkdir()
    (root / "dvc.yaml").write_text(DVC_YAML)
    (root / "params.yaml").write_text("lr: 0.1\nnested:\n  a: 1\n  b: [1, 2]\nother: x\n")
    (root / "extra.json").write_text('{"th": 0.5, "z": 1}')
    (root / "m.json").write_text(
        '{"acc": 0.912345678, "loss": {"train": 1.5, "val": 2}, "n": 3, "lst": [1, 2], "s": "a"}'
    )
    (root / "sub/deep.yaml").write_text("f1: 0.333333333\nflag: true\n")
    (root / "top.yaml").write_text("auc: 0.7\nsub:\n  x: 1\n")
    git("add", "-A")
    git("commit", "-qm", "one")
    return root


def _change(root: Path) -> None:
    (root / "params.yaml").write_text("lr: 0.2\nnested:\n  a: 1\n  b: [1, 3]\nother: y\n")
    (root / "m.json").write_text(
        '{"acc": 0.95, "loss": {"train": 1.2, "val": 2}, "n": 3, "lst": [1, 3], "s": "b"}'
    )
    (root / "extra.json").write_text('{"th": 0.75}')


def _rows(text: str) -> list[str]:
    # DVC orders files of a diff by a set's iteration order: compare rows, not their order.
    lines = text.splitlines()
    return lines[:1] + sorted(lines[1:])


@pytest.mark.parametrize(
    "args",
    [
        ["metrics", "show"],
        ["metrics", "show", "--md"],
        ["metrics", "show", "--precision", "2"],
        ["metrics", "show", "m.json"],
        ["metrics", "show", "-a"],
        ["metrics", "show", "-a", "-T"],
        ["metrics", "diff"],
        ["metrics", "diff", "--all"],
        ["metrics", "diff", "--md", "--all"],
        ["metrics", "diff", "--precision", "2", "--no-path"],
        ["metrics", "diff", "--targets", "m.json"],
        ["params", "diff"],
        ["params", "diff", "--all"],
        ["params", "diff", "--deps"],
        ["params", "diff", "--md"],
        ["params", "diff", "--targets", "extra.json"],
        ["params", "diff", "v1", "--all"],
    ],
)
def test_reports_text_like_dvc(tools: Tools, args: list[str]) -> None:
    mlvc, dvc, git, root = tools
    _reports_repo(tools)
    git("tag", "v1")
    _change(root)
    mine = mlvc(*args)
    theirs = dvc(*args)
    assert _rows(mine.stdout) == _rows(theirs.stdout)
    if args[1] == "show" or "--targets" in args:
        assert mine.stdout == theirs.stdout
    assert mine.stdout.strip(), "the scenario should print something"


@pytest.mark.parametrize(
    "args",
    [
        ["metrics", "show", "--json"],
        ["metrics", "show", "-a", "--json"],
        ["metrics", "diff", "--json", "--all"],
        ["params", "diff", "--json", "--all"],
    ],
)
def test_reports_json_like_dvc(tools: Tools, args: list[str]) -> None:
    mlvc, dvc, _git, root = tools
    _reports_repo(tools)
    _change(root)
    assert json.loads(mlvc(*args).stdout) == json.loads(dvc(*args).stdout)


def test_reports_from_a_subdirectory(tools: Tools) -> None:
    mlvc, dvc, _git, root = tools
    _reports_repo(tools)
    _change(root)
    sub = root / "sub"
    for args in (["metrics", "show"], ["params", "diff"], ["metrics", "diff", "--all"]):
        assert _rows(mlvc(*args, cwd=sub).stdout) == _rows(dvc(*args, cwd=sub).stdout)


def test_metrics_diff_between_commits_reads_cached_metrics(tools: Tools) -> None:
    mlvc, dvc, git, root = tools
    _init(tools)
    (root / "dvc.yaml").write_text(
        "stages:\n  s:\n    cmd: python3 gen.py\n    deps:\n    - gen.py\n"
        "    metrics:\n    - c.json\n"
    )
    gen = "import json\njson.dump({{'v': {}}}, open('c.json', 'w'))\n"
    (root / "gen.py").write_text(gen.format(1.5))
    dvc("repro")
    git("add", "-A")
    git("commit", "-qm", "a")
    (root / "gen.py").write_text(gen.format(2.5))
    dvc("repro")
    git("add", "-A")
    git("commit", "-qm", "b")
    (root / "c.json").unlink(missing_ok=True)
    args = ["metrics", "diff", "HEAD~1", "HEAD"]
    mine = mlvc(*args).stdout
    assert mine == dvc(*args).stdout
    assert "1.5" in mine and "2.5" in mine


def test_metrics_show_bad_file_warns_and_shows_the_rest(tools: Tools) -> None:
    mlvc, dvc, _git, root = tools
    _reports_repo(tools)
    (root / "m.json").write_text('{"acc": 0.9,\n')
    mine = mlvc("metrics", "show")
    assert mine.returncode == 0
    assert mine.stdout == dvc("metrics", "show").stdout
    assert "`m.json:2:1`: invalid JSON" in mine.stderr
    data = json.loads(mlvc("metrics", "show", "--json").stdout)
    assert data[""]["data"]["m.json"]["error"]["type"] == "JSONFileCorruptedError"
    (root / "m.json").unlink()
    r = mlvc("metrics", "show")
    assert r.stdout == dvc("metrics", "show").stdout
    assert "`m.json` does not exist" in r.stderr


def test_unknown_revision_is_an_error(tools: Tools) -> None:
    mlvc, dvc, _git, _root = tools
    _reports_repo(tools)
    for args in (["metrics", "diff", "nosuch"], ["params", "diff", "nosuch"]):
        r = mlvc(*args, check=False)
        assert r.returncode == dvc(*args, check=False).returncode == 255
        assert r.stderr.splitlines()[0] == "error: unknown Git revision `nosuch`"


def _dirs_repo(tools: Tools) -> Path:
    """Metrics and params files in directories, changed since the commit."""
    _mlvc, _dvc, git, root = tools
    _init(tools)
    for rel, text in {
        "met/a.json": '{"acc": 0.5}',
        "met/sub/b.yaml": "loss: 0.3\n",
        "cfg/p.yaml": "lr: 0.1\n",
        "cfg/deep/q.json": '{"wd": 1}',
        "params.yaml": "x: 1\n",
        "top.json": '{"auc": 0.7}',
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    git("add", "-A")
    git("commit", "-qm", "files")
    (root / "met/a.json").write_text('{"acc": 0.6}')
    (root / "cfg/p.yaml").write_text("lr: 0.2\n")
    return root


@pytest.mark.parametrize(
    "args",
    [
        ["metrics", "show", "met"],
        ["metrics", "show", "-R", "met"],
        ["metrics", "show", "-R", "met", "top.json"],
        ["metrics", "show", "met/a.json", "top.json", "--json"],
        ["metrics", "diff", "--targets", "met", "-R"],
        ["metrics", "diff", "-R", "--targets", "met", "top.json", "--all"],
        ["metrics", "diff", "--targets", "met/a.json", "top.json", "--all", "--json"],
        ["metrics", "diff", "HEAD", "-R", "--targets", "met"],
        ["metrics", "diff", "--targets", "met", "-R", "--", "HEAD"],
        ["params", "diff", "--targets", "cfg"],
        ["params", "diff", "--targets", "cfg/p.yaml", "params.yaml", "--all"],
        # DVC-compat: a later `--targets` replaces an earlier one.
        ["params", "diff", "--targets=cfg", "--targets", "params.yaml", "--all"],
    ],
)
def test_reports_take_directories_and_several_targets_like_dvc(
    tools: Tools, args: list[str]
) -> None:
    mlvc, dvc, _git, _root = tools
    _dirs_repo(tools)
    mine, theirs = mlvc(*args), dvc(*args)
    assert mine.returncode == theirs.returncode == 0
    if "--json" in args:
        assert json.loads(mine.stdout) == json.loads(theirs.stdout)
    else:
        assert _rows(mine.stdout) == _rows(theirs.stdout)
    assert mine.stdout.strip(), "the scenario should print something"


def _nested_pipelines(repo: Path) -> None:
    (repo / "a/b").mkdir(parents=True)
    (repo / "c").mkdir()
    (repo / "dvc.yaml").write_text("stages:\n  top:\n    cmd: echo top > t\n    outs: [t]\n")
    (repo / "a/dvc.yaml").write_text(
        "stages:\n  s1:\n    cmd: echo 1\n    deps: [x]\n    desc: first one\n"
    )
    (repo / "a/b/dvc.yaml").write_text("stages:\n  s2:\n    cmd: echo 2\n")
    # A file that does not load: `--all` and `-R` pass over it unless `--fail`.
    (repo / "c/dvc.yaml").write_text("stages:\n  bad:\n    cmdd: echo\n")


@pytest.mark.parametrize(
    ("where", "args", "skips"),
    [
        (".", [], False),
        (".", ["--all"], True),
        (".", ["--all", "--fail"], False),
        (".", ["-R", "a"], False),
        (".", ["-R", "a", "--name-only"], False),
        (".", ["-R", "a/b", "a"], False),
        (".", ["-R", "."], True),
        (".", ["-R", ".", "--fail"], False),
        (".", ["-R", "c"], True),
        (".", ["-R", "a/dvc.yaml:s1"], False),
        (".", ["-R", "nothere"], False),
        (".", ["a/b/dvc.yaml"], False),
        ("a", [], False),
        ("a", ["--all"], True),
        ("a", ["-R", ".."], True),
        ("c", [], False),
    ],
)
def test_stage_list_selects_and_names_like_dvc(
    tools: Tools, where: str, args: list[str], skips: bool
) -> None:
    mlvc, dvc, _git, _root = tools
    m, d = _twin(tools)
    for repo in (m, d):
        _nested_pipelines(repo)
    ours = mlvc("stage", "list", *args, cwd=m / where, check=False)
    theirs = dvc("stage", "list", *args, cwd=d / where, check=False)
    assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout)
    # DVC passes over a file that does not load in silence; mlvc names it on stderr.
    assert ("skipped `c/dvc.yaml`" in ours.stderr) == skips
