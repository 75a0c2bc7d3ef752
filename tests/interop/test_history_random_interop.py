"""Cases found by comparing mlvc with real DVC on seeded random git histories
(files and directories added, changed, moved and removed over several commits, a tag,
a branch): `ls`, `diff` and `gc` run by both tools on copies of one repository."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.interop.conftest import Runner, assert_same, write
from tests.interop.test_legacy_dvcfile_interop import make_2x_repo
from tests.interop.test_legacy_lock_interop import put

Tools = tuple[Runner, Runner, Runner, Path]


def test_ls_lists_directories_left_empty_in_the_workspace_like_dvc(tools: Tools) -> None:
    _mlvc, dvc, git, repo = tools
    dvc("init", "-q")
    write(repo, {"other/d.txt": "d\n", "keep/x.txt": "x\n", "ign/a.tmp": "a\n"})
    (repo / ".dvcignore").write_text("*.tmp\n/skip\n")
    dvc("add", "-q", "other/d.txt", "keep")
    git("add", "-A")
    git("commit", "-qm", "v1")
    # Moving the only output out of `other/` leaves it empty; `keep/empty/` is in a
    # tracked directory, `ign/` holds only an ignored file, `skip/` is ignored.
    dvc("move", "-q", "other/d.txt", "d.txt")
    for rel in ("keep/empty", "nested/deeper", "skip/inner"):
        (repo / rel).mkdir(parents=True)
    out = assert_same(tools, "ls", ".")
    assert "other\n" in out and "ign\n" in out and "skip" not in out
    for args in (
        ["--json", "--size"],
        ["-R", "-L", "2"],
        ["other"],
        ["nested"],
        ["keep", "--show-hash"],
        ["-R", "--dvc-only"],
    ):
        assert_same(tools, "ls", ".", *args)
    assert_same(tools, "ls", ".", "--json", cwd=repo / "nested")


def test_diff_of_one_commit_under_two_names_ignores_the_targets_like_dvc(tools: Tools) -> None:
    _mlvc, dvc, git, repo = tools
    dvc("init", "-q")
    write(repo, {"d.txt": "d\n"})
    dvc("add", "-q", "d.txt")
    git("add", "-A")
    git("commit", "-qm", "v1")
    git("tag", "v1")
    # DVC reads the commit once, as "HEAD,v1": a target neither side has is no error.
    for flags in ([], ["--md"], ["--json"], ["--md", "--show-hash"]):
        assert_same(tools, "diff", "HEAD", "v1", *flags, "--targets", "nonexistent")
        assert_same(tools, "diff", "main", "v1", *flags, "--targets", "d.txt", "nonexistent")
    assert_same(tools, "diff", "v1", "v1", "--targets", "d.txt")


def stored(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "flags",
    [["-w"], ["-T"], ["--all-commits"], ["-w", "-c"], ["-T", "-c"], ["-T", "--not-in-remote"]],
    ids=" ".join,
)
def test_gc_keeps_dvc2_copies_only_for_dvc2_outputs_like_dvc(
    tools: Tools, tmp_path: Path, flags: list[str]
) -> None:
    mlvc, dvc, git, repo = tools
    make_2x_repo(tools, repo)
    git("tag", "v2")
    # DVC 3 outputs: `y.txt` holds what the DVC 2 `x.txt` held (no CRLF, so one name
    # in both layouts), and `d` changed. Their DVC 2 copies serve only DVC 2 outputs.
    dvc("remove", "-q", "x.txt.dvc")
    (repo / "y.txt").write_bytes(b"x\n")
    (repo / "d" / "b" / "c").write_bytes(b"c2\n")
    dvc("add", "-q", "y.txt", "d")
    git("add", "-A")
    git("commit", "-qm", "dvc 3")
    remote = tmp_path / "remote"
    dvc("remote", "add", "-q", "-d", "store", str(remote))
    dvc("push", "-q")
    for old in (repo / ".dvc" / "cache").glob("[0-9a-f][0-9a-f]/*"):
        put(remote, old.parent.name + old.name, old.read_bytes())  # DVC 2 pushed these
    copies = {}
    for name, tool in (("theirs", dvc), ("ours", mlvc)):
        root = tmp_path / name
        shutil.copytree(repo, root / "repo", symlinks=True)
        shutil.copytree(remote, root / "remote")
        tool("remote", "modify", "-q", "store", "url", str(root / "remote"), cwd=root / "repo")
        tool("gc", "-f", *flags, cwd=root / "repo")
        copies[name] = (stored(root / "repo" / ".dvc" / "cache"), stored(root / "remote"))
    assert copies["ours"] == copies["theirs"]


def test_diff_lists_a_path_once_per_target_holding_it_like_dvc(tools: Tools) -> None:
    _mlvc, dvc, git, repo = tools
    dvc("init", "-q")
    write(repo, {"e/s/a": "1\n", "e/b": "2\n"})
    dvc("add", "-q", "e")
    git("add", "-A")
    git("commit", "-qm", "v1")
    write(repo, {"e/s/a": "3\n", "e/c": "4\n"})
    out = assert_same(tools, "diff", "--targets", "e", "e/s")
    assert out.count("e/s/a\n") == 2
    for args in (
        ["--json", "--targets", "e/s", "e/s/a", "e"],
        ["--md", "--targets", "e", "e/c"],
        ["--targets", "e/s", "e/s"],
    ):
        assert_same(tools, "diff", *args)
    # Data missing from the cache is listed as often.
    cache = (repo / ".dvc" / "cache").rglob("*")
    obj = next(p for p in cache if p.is_file() and p.read_bytes() == b"2\n")
    obj.unlink()
    assert_same(tools, "diff", "--targets", "e", "e/b")
