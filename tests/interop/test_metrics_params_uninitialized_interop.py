"""`metrics show`, `metrics diff` and `params diff` where `dvc init` never ran.

DVC opens these read-only reports with `Repo(uninitialized=True)`: in a git work
tree without `.dvc/` the root is the work tree's, and outside git it is the current
directory (revisions cannot be compared there). Nothing may be written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.interop.conftest import Runner, assert_same_report, write

Tools = tuple[Runner, Runner, Runner, Path]

DVC_YAML = """\
stages:
  train:
    cmd: echo
    params:
    - lr
    - cfg.json:
      - opt.name
    metrics:
    - m.json:
        cache: false
metrics:
- extra.yaml
params:
- other.yaml
"""

FILES = {
    "dvc.yaml": DVC_YAML,
    "m.json": '{"acc": 0.5, "n": 1, "nested": {"f1": 0.25}}',
    "extra.yaml": "x: 1\n",
    "params.yaml": "lr: 0.1\nep: 3\n",
    "cfg.json": '{"opt": {"name": "sgd", "mom": 0.9}}',
    "other.yaml": "seed: 1\n",
    "sub/s.json": '{"s": 1}',
}


def _same(tools: Tools, *args: str, cwd: Path | None = None) -> str:
    return assert_same_report(tools, *args, cwd=cwd, succeeds=True)


def _fails_alike(tools: Tools, *args: str, code: int, cwd: Path | None = None) -> str:
    """Both tools fail with `code` and print nothing on stdout; returns mlvc's stderr."""
    mlvc, dvc, _git, _root = tools
    mine = mlvc(*args, cwd=cwd, check=False)
    theirs = dvc(*args, cwd=cwd, check=False)
    assert (mine.returncode, theirs.returncode) == (code, code), (mine.stderr, theirs.stderr)
    assert mine.stdout == theirs.stdout == ""
    return mine.stderr


def _git_state(git: Runner, root: Path) -> str:
    return git("status", "--porcelain", "--ignored", cwd=root).stdout


def _files(root: Path) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(d, f), root) for d, _, names in os.walk(root) for f in names
    )


def _plain_repo(tools: Tools) -> Path:
    """A git repository never `dvc init`-ed: two commits and a changed workspace."""
    _mlvc, _dvc, git, root = tools
    write(root, FILES)
    git("add", "-A")
    git("commit", "-qm", "one")
    write(
        root,
        {
            "m.json": '{"acc": 0.7, "n": 1, "nested": {"f1": 0.5}}',
            "params.yaml": "lr: 0.2\nep: 3\n",
        },
    )
    git("commit", "-qam", "two")
    write(
        root,
        {
            "m.json": '{"acc": 0.9, "n": 2, "nested": {"f1": 0.5}}',
            "cfg.json": '{"opt": {"name": "adam", "mom": 0.9}}',
            "other.yaml": "seed: 2\n",
        },
    )
    return root


@pytest.mark.parametrize(
    "args",
    [
        ["metrics", "show"],
        ["metrics", "show", "--json"],
        ["metrics", "show", "--md"],
        ["metrics", "show", "m.json"],
        ["metrics", "show", "sub", "--json"],
        ["metrics", "show", "-a"],
        ["metrics", "show", "-A", "--json"],
        ["metrics", "show", "-T", "--json"],
        ["metrics", "diff"],
        ["metrics", "diff", "--json"],
        ["metrics", "diff", "--md", "--all"],
        ["metrics", "diff", "HEAD~1"],
        ["metrics", "diff", "HEAD~1", "HEAD", "--json"],
        ["metrics", "diff", "HEAD~1", "--targets", "m.json", "--json"],
        ["params", "diff"],
        ["params", "diff", "--json"],
        ["params", "diff", "--all", "--md"],
        ["params", "diff", "--deps", "--json"],
        ["params", "diff", "HEAD~1", "--all", "--json"],
        ["params", "diff", "HEAD~1", "HEAD", "--targets", "params.yaml"],
    ],
)
def test_reports_read_a_git_repository_without_dvc_dir_like_dvc(
    tools: Tools, args: list[str]
) -> None:
    _mlvc, _dvc, git, root = tools
    _plain_repo(tools)
    before = _git_state(git, root)
    _same(tools, *args)
    assert _git_state(git, root) == before
    assert not (root / ".dvc").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["metrics", "show", "--json"],
        ["metrics", "show"],
        ["metrics", "show", "s.json", "--json"],
        ["metrics", "show", "../m.json", "--json"],
        ["metrics", "diff", "HEAD~1", "--json"],
        ["params", "diff", "HEAD~1", "--all"],
        ["params", "diff", "HEAD~1", "--targets", "params.yaml", "--json"],
    ],
)
def test_reports_from_a_subdirectory_of_a_repository_without_dvc_dir_like_dvc(
    tools: Tools, args: list[str]
) -> None:
    _mlvc, _dvc, git, root = tools
    _plain_repo(tools)
    before = _git_state(git, root)
    _same(tools, *args, cwd=root / "sub")
    assert _git_state(git, root) == before


def test_reports_without_dvc_yaml_read_named_files_and_params_yaml_like_dvc(
    tools: Tools,
) -> None:
    _mlvc, _dvc, git, root = tools
    write(root, {"m.json": '{"a": 1}', "params.yaml": "p: 1\n"})
    # No commit yet: nothing to compare, the workspace is still read.
    for args in (
        ["metrics", "show", "--json"],
        ["metrics", "show", "m.json", "--json"],
        ["metrics", "diff", "--json"],
        ["params", "diff", "--json"],
        ["metrics", "show", "-a", "--json"],
    ):
        _same(tools, *args)
    git("add", "-A")
    git("commit", "-qm", "one")
    write(root, {"m.json": '{"a": 2}', "params.yaml": "p: 2\n"})
    before = _git_state(git, root)
    for args in (
        ["metrics", "show", "--json"],
        ["metrics", "show", "m.json"],
        ["metrics", "show", "nosuch.json", "--json"],
        ["metrics", "diff", "--json"],
        ["metrics", "diff", "--targets", "m.json", "--json"],
        ["metrics", "diff", "--targets", "m.json"],
        ["params", "diff"],
        ["params", "diff", "--targets", "params.yaml", "--json"],
        ["metrics", "show", "-a", "--json"],
    ):
        _same(tools, *args)
    assert _git_state(git, root) == before
    # An unknown revision fails as DVC fails (255).
    _fails_alike(tools, "metrics", "diff", "nosuch", code=255)
    _fails_alike(tools, "params", "diff", "nosuch", "--json", code=255)


def test_reports_outside_git_read_the_current_directory_like_dvc(
    tools: Tools, tmp_path: Path
) -> None:
    here = tmp_path / "nogit"
    write(
        here,
        {"dvc.yaml": "metrics:\n- m.json\n", "m.json": '{"a": 1}', "params.yaml": "p: 1\n"},
    )
    (here / "d").mkdir()
    before = _files(here)
    for args in (
        ["metrics", "show"],
        ["metrics", "show", "--json"],
        ["metrics", "show", "m.json", "--md"],
        ["metrics", "show", "-a", "--json"],
    ):
        _same(tools, *args, cwd=here)
    # The current directory is the root: `d` has no dvc.yaml, and `../m.json` climbs
    # above it, which reads `d/m.json`.
    _same(tools, "metrics", "show", "--json", cwd=here / "d")
    _same(tools, "metrics", "show", "../m.json", "--json", cwd=here / "d")
    # Comparing revisions needs git: both fail with 255.
    for args in (
        ["metrics", "diff"],
        ["metrics", "diff", "--json"],
        ["params", "diff"],
        ["params", "diff", "--targets", "params.yaml", "--json"],
    ):
        assert "needs a Git repository" in _fails_alike(tools, *args, code=255, cwd=here)
    assert _files(here) == before


def test_reports_in_a_bare_repository_or_inside_git_dir_fail_like_dvc(
    tools: Tools, tmp_path: Path
) -> None:
    _mlvc, _dvc, git, root = tools
    _plain_repo(tools)
    git("init", "-q", "--bare", str(tmp_path / "bare.git"))
    for cwd in (tmp_path / "bare.git", root / ".git", root / ".git" / "objects"):
        for args in (["metrics", "show", "--json"], ["params", "diff"], ["metrics", "diff"]):
            assert "bare git repo" in _fails_alike(tools, *args, code=253, cwd=cwd)


# Outputs that dvc.lock records and neither the workspace nor a cache holds ----------

LOCK_DVC_YAML = """\
stages:
  s:
    cmd: echo 1
    metrics:
    - out.json
    - dir
    - m/gone.json
    - m/kept.json:
        cache: false
"""

LOCK = """\
schema: '2.0'
stages:
  s:
    cmd: echo 1
    outs:
    - path: out.json
      md5: 0123456789abcdef0123456789abcdef
      size: 10
    - path: dir
      md5: 0123456789abcdef0123456789abcdef.dir
      size: 10
      nfiles: 1
    - path: m/kept.json
      md5: 0123456789abcdef0123456789abcdee
      size: 10
    - path: m/gone.json
      md5: 0123456789abcdef0123456789abcded
      size: 10
"""


@pytest.mark.parametrize(
    "args",
    [
        ["metrics", "show", "--json"],
        ["metrics", "show", "out.json", "--json"],
        ["metrics", "show", "dir", "--json"],
        ["metrics", "show", "m", "--json"],
        ["metrics", "show", ".", "--json"],
        ["metrics", "show", "-a", "--json"],
        ["metrics", "show", "-a", "m", "--json"],
        ["metrics", "diff", "HEAD", "--all", "--json"],
    ],
)
def test_recorded_outputs_without_a_copy_read_like_dvc_without_dvc_dir(
    tools: Tools, args: list[str]
) -> None:
    # DVC: "No storage files available" for a recorded file; without a cache a
    # recorded directory has no files; listings include recorded files.
    _mlvc, _dvc, git, root = tools
    write(
        root,
        {
            "dvc.yaml": LOCK_DVC_YAML,
            "dvc.lock": LOCK,
            "m/kept.json": '{"k": 1}',
            ".gitignore": "/out.json\n/dir\n/m/gone.json\n",
        },
    )
    git("add", "-A")
    git("commit", "-qm", "one")
    before = _git_state(git, root)
    _same(tools, *args)
    assert _git_state(git, root) == before


@pytest.mark.parametrize(
    "args",
    [
        ["metrics", "show", "out.json", "--json"],
        ["metrics", "show", "m", "--json"],
        ["metrics", "show", "-a", "m", "--json"],
        ["metrics", "show", ".", "--json"],
    ],
)
def test_recorded_file_outputs_without_a_copy_read_like_dvc(tools: Tools, args: list[str]) -> None:
    # The same in an initialised repository (its cache lacks the objects). A lock
    # entry the stage no longer declares (`m/gone.json`) is no output: not listed.
    _mlvc, dvc, git, root = tools
    dvc("init", "-q")
    write(
        root,
        {
            "dvc.yaml": LOCK_DVC_YAML.replace("    - dir\n", "").replace("    - m/gone.json\n", ""),
            "dvc.lock": LOCK.replace(
                "    - path: dir\n      md5: 0123456789abcdef0123456789abcdef.dir\n"
                "      size: 10\n      nfiles: 1\n",
                "",
            ),
            "m/kept.json": '{"k": 1}',
            ".gitignore": "/out.json\n/m/gone.json\n",
        },
    )
    git("add", "-A")
    git("commit", "-qm", "one")
    _same(tools, *args)


@pytest.mark.parametrize("workspace", ["present", "absent"])
@pytest.mark.parametrize(
    "args",
    [
        ["metrics", "show", "-A", "--json"],
        ["metrics", "show", "m", "--json"],
        ["metrics", "show", "m/x.json", "-A", "--json"],
        ["metrics", "diff", "HEAD", "--all", "--json"],
    ],
)
def test_a_directory_output_whose_dir_object_is_missing_reads_like_dvc(
    tools: Tools, args: list[str], workspace: str
) -> None:
    # DVC opens a recorded directory it cannot list as a file (IsADirectoryError,
    # naming the workspace directory when there is one); a file under it that must
    # come from the cache fails with DataIndexDirError.
    _mlvc, dvc, git, root = tools
    dvc("init", "-q")
    cmd = """mkdir -p m && echo '{"a":1}' > m/x.json"""
    write(root, {"dvc.yaml": f"stages:\n  s:\n    cmd: {cmd}\n    metrics:\n    - m\n"})
    dvc("repro", "-q")
    git("add", "-A")
    git("commit", "-qm", "one")
    (dir_object,) = (root / ".dvc" / "cache").rglob("*.dir")
    dir_object.unlink()
    if workspace == "absent":
        for f in (root / "m").iterdir():
            f.unlink()
        (root / "m").rmdir()
    _same(tools, *args)


@pytest.mark.parametrize(
    "args",
    [
        ["metrics", "show", "d", "--json"],
        ["metrics", "show", "d", "-a", "--json"],
        ["metrics", "show", ".", "-a", "--json"],
        ["metrics", "show", "top.json", "d/x.json", "-a", "--json"],
        ["params", "diff", "--targets", "d", "--json"],
        ["metrics", "diff", "HEAD", "--targets", "d", "--all", "--json"],
        ["metrics", "show", "nosuch", "-a", "--json"],
    ],
)
def test_targets_of_a_revision_whose_dvc_yaml_does_not_load_read_like_dvc(
    tools: Tools, args: list[str]
) -> None:
    # Without its index DVC cannot tell a directory: it reads it as a file
    # (IsADirectoryError, named as the workspace's or as the commit's rooted path);
    # files read as usual, and a missing one fails with the load error.
    mlvc, dvc, git, root = tools
    dvc("init", "-q")
    write(
        root,
        {
            "dvc.yaml": "stages:\n  s:\n    cmd: [unclosed\n",
            "d/x.json": '{"a": 1}',
            "top.json": '{"b": 2}',
        },
    )
    git("add", "-A")
    git("commit", "-qm", "one")
    if "nosuch" not in args:
        _same(tools, *args)
        return
    # Deliberately not DVC's message: mlvc's names the line and column.
    mine, theirs = json.loads(mlvc(*args).stdout), json.loads(dvc(*args).stdout)
    kinds = {rev: res["data"]["nosuch"]["error"]["type"] for rev, res in mine.items()}
    assert kinds == {rev: res["data"]["nosuch"]["error"]["type"] for rev, res in theirs.items()}
    assert set(kinds.values()) == {"YAMLSyntaxError"}


# Targets that climb above the root -------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["metrics", "show", "../m.json", "--json"],
        ["metrics", "show", "../out.json", "--json"],
        ["metrics", "show", "..", "--json"],
        ["metrics", "show", "../d", "--json"],
        ["metrics", "show", "../nosuch/../d/x.json", "--json"],
        ["metrics", "diff", "--targets", "../m.json", "--all", "--json"],
        ["metrics", "diff", "--targets", "../out.json", "--json"],
    ],
)
def test_metrics_targets_above_the_root_read_the_root_like_dvc(
    tools: Tools, args: list[str]
) -> None:
    # DVC reads `../m.json` as the root's `m.json`, and names it `../m.json`.
    _mlvc, dvc, git, root = tools
    dvc("init", "-q")
    write(root, {"m.json": '{"a": 1}', "d/x.json": '{"b": 2}'})
    write(root.parent, {"out.json": '{"o": 1}'})
    git("add", "-A")
    git("commit", "-qm", "one")
    write(root, {"m.json": '{"a": 2}'})
    _same(tools, *args)
