"""`status` with `-d/--with-deps` and `-R/--recursive` (also with `-c`), on one layout of
`.dvc` files and stages in subdirectories (see `tests.func.layout`)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.func.layout import NO_SUCH_TARGET, edit_everything, layout
from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]


def status(mlvc: Runner, *args: str, cwd: Path | None = None) -> set[str]:
    """The stages and `.dvc` files `status --json` reports."""
    return set(json.loads(mlvc("status", "--json", *args, cwd=cwd).stdout))


def test_status_with_deps_reports_the_stages_upstream_of_a_stage(tools: Tools) -> None:
    mlvc, _dvc, git, repo = tools
    layout(mlvc, git, repo)
    edit_everything(repo)
    assert status(mlvc, "train") == {"train"}
    assert status(mlvc, "-d", "train") == {"train", "prep", "raw.txt.dvc"}
    # Across directories: `dd` reads `model.txt`, the output of `train`.
    assert status(mlvc, "--with-deps", "sub/deep/dvc.yaml:dd") == {
        "sub/deep/dvc.yaml:dd",
        "train",
        "prep",
        "raw.txt.dvc",
    }
    assert status(mlvc, "-d", "sub/dvc.yaml") == {"sub/dvc.yaml:s1", "sub/x.txt.dvc"}
    # An output, or a `.dvc` file, is no stage with anything upstream.
    assert status(mlvc, "-d", "model.txt") == {"train"}
    assert status(mlvc, "-d", "raw.txt.dvc") == {"raw.txt.dvc"}


def test_status_recursive_reports_every_stage_below_a_directory(tools: Tools) -> None:
    mlvc, _dvc, git, repo = tools
    layout(mlvc, git, repo)
    edit_everything(repo)
    deep = {"sub/deep/d.txt.dvc", "sub/deep/dvc.yaml:dd"}
    assert status(mlvc, "-R", "sub") == {"sub/x.txt.dvc", "sub/dvc.yaml:s1", *deep}
    assert status(mlvc, "--recursive", "sub/deep") == deep
    # DVC-compat: `-d` adds nothing to the stages of a directory.
    assert status(mlvc, "-R", "-d", "sub/deep") == deep
    assert status(mlvc, "-R", ".") == status(mlvc, "-R") == status(mlvc) != set()
    # A directory relative to the current one.
    assert len(status(mlvc, "-R", "deep", cwd=repo / "sub")) == len(deep)
    empty = repo / "empty"
    empty.mkdir()
    assert mlvc("status", "-R", "empty").stdout == "Data and pipelines are up to date.\n"


def test_status_targets_that_are_no_directory_or_stage(tools: Tools) -> None:
    mlvc, _dvc, git, repo = tools
    layout(mlvc, git, repo)
    edit_everything(repo)
    # `-R` with a file, `-d` with an output: read as plain targets.
    assert status(mlvc, "-R", "raw.txt") == {"raw.txt.dvc"}
    assert status(mlvc, "-R", "dvc.yaml") == {"prep", "train", "other"}
    assert status(mlvc, "model.txt") == {"train"}
    # A path inside a tracked directory reports the `.dvc` file tracking it.
    assert status(mlvc, "data/1.txt") == status(mlvc, "-d", "data/2.txt") == {"data.dvc"}
    for args in (["-d", "nosuch"], ["-R", "nosuch"], ["sub"], ["-d", "sub"]):
        r = mlvc("status", *args, check=False)
        assert r.returncode == 1, args
        target = args[-1]
        assert r.stderr.splitlines()[0] == f"error: `{target}` {NO_SUCH_TARGET}", args
        assert r.stdout == ""


def test_status_cloud_with_deps_and_recursive(tools: Tools) -> None:
    mlvc, _dvc, git, repo = tools
    layout(mlvc, git, repo)
    mlvc("remote", "add", "-q", "-d", "store", "../store")

    def cloud(*args: str) -> set[str]:
        return set(json.loads(mlvc("status", "-c", "--json", *args).stdout))

    assert cloud("train") == {"model.txt"}
    assert cloud("-d", "train") == {"model.txt", "prep.txt", "raw.txt"}
    deep = {"sub/deep/d.txt", "sub/deep/dd.txt"}
    assert cloud("-R", "sub") == {"sub/x.txt", "sub/y.txt", *deep}
    assert cloud("-R", "-d", "sub/deep") == deep
    r = mlvc("status", "-c", "-d", "nosuch", check=False)
    assert r.returncode == 1 and f"error: `nosuch` {NO_SUCH_TARGET}" in r.stderr
