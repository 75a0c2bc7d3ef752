"""`commit` with `-d/--with-deps`, `-R/--recursive` and `--no-relink`, on one layout of
`.dvc` files and stages in subdirectories (see `tests.func.layout`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.func.layout import NO_SUCH_TARGET, edit_everything, layout, object_of, shape
from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]


def lock(repo: Path) -> dict[str, Any]:
    data = yaml.safe_load((repo / "dvc.lock").read_text())
    assert isinstance(data, dict)
    return data


def changed_files(git: Runner) -> set[str]:
    return set(git("diff", "--name-only").stdout.split())


def test_commit_with_deps_and_recursive_commit_the_stages_they_name(tools: Tools) -> None:
    mlvc, _dvc, git, repo = tools
    layout(mlvc, git, repo)
    edit_everything(repo)
    for args, changed in (
        (["train"], {"dvc.lock"}),
        (["-d", "train"], {"dvc.lock", "raw.txt.dvc"}),
        (
            ["-R", "sub"],
            {"sub/x.txt.dvc", "sub/dvc.lock", "sub/deep/d.txt.dvc", "sub/deep/dvc.lock"},
        ),
        (["-R", "-d", "sub/deep"], {"sub/deep/d.txt.dvc", "sub/deep/dvc.lock"}),
        (["-d", "raw.txt"], {"raw.txt.dvc"}),
        (["data/1.txt"], {"data.dvc"}),
        (["--recursive", "data"], set()),  # a tracked directory holds no `.dvc` file
    ):
        git("checkout", "-q", "--", ".")
        mlvc("commit", "-q", "-f", *args)
        assert changed_files(git) == changed, args
    # `-d` with an output commits its stage only: `prep` keeps its record.
    git("checkout", "-q", "--", ".")
    before = lock(repo)["stages"]
    mlvc("commit", "-q", "-f", "-d", "model.txt")
    after = lock(repo)["stages"]
    assert after["prep"] == before["prep"] and after["train"] != before["train"]
    git("checkout", "-q", "--", ".")
    for args in (["-d", "nosuch"], ["-R", "nosuch"], ["sub"]):
        r = mlvc("commit", *args, check=False)
        assert r.returncode == 1, args
        assert r.stderr.splitlines()[0] == f"error: `{args[-1]}` {NO_SUCH_TARGET}"
    assert changed_files(git) == set()


def test_commit_no_relink_leaves_the_workspace_as_it_is(tools: Tools) -> None:
    mlvc, _dvc, _git, repo = tools
    mlvc("init", "-q")
    mlvc("config", "cache.type", "symlink")
    (repo / "f").write_text("f\n")
    mlvc("add", "-q", "--no-commit", "f")
    (repo / "dvc.yaml").write_text("stages:\n  s:\n    cmd: echo o > o\n    outs: [o]\n")
    mlvc("repro", "-q", "--no-commit")
    mlvc("commit", "-q", "--no-relink")
    assert shape(repo / "f")[0] == shape(repo / "o")[0] == "file"
    assert object_of(repo, "f").exists() and object_of(repo, "o").exists()
    # DVC-compat: by default commit links what it commits to the cache.
    mlvc("commit", "-q")
    assert shape(repo / "f")[0] == shape(repo / "o")[0] == "symlink"
    assert mlvc("status").stdout == "Data and pipelines are up to date.\n"
