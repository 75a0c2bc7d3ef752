"""`status` and `status -c` with `-d` and `-R`: run by real DVC and by mlvc on one
repository layout (`tests.func.layout`), the reports compared."""

from __future__ import annotations

import json
from pathlib import Path

from tests.func.layout import TARGETS, edit_everything, fail_like_dvc_on_bad_targets, layout
from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]


def test_status_with_deps_and_recursive_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    layout(mlvc, git, repo)
    edit_everything(repo)
    for args in TARGETS:
        theirs = json.loads(dvc("status", "--json", *args).stdout)
        ours = json.loads(mlvc("status", "--json", *args).stdout)
        assert ours == theirs, args
    fail_like_dvc_on_bad_targets(mlvc, dvc, "status")


def test_cloud_status_with_deps_and_recursive_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    layout(mlvc, git, repo)
    mlvc("remote", "add", "-q", "-d", "store", "../store")
    mlvc("push", "-q", "sub/x.txt", "other")
    for args in TARGETS:
        theirs = json.loads(dvc("status", "-c", "--json", *args).stdout)
        ours = json.loads(mlvc("status", "-c", "--json", *args).stdout)
        assert ours == theirs, args
    fail_like_dvc_on_bad_targets(mlvc, dvc, "status", "-c")
