"""`checkout` of a path inside a tracked directory, and what checkout and pull count:
the same steps run by mlvc and by real DVC, compared step by step."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]

PIPELINE = """\
stages:
  train:
    cmd: mkdir -p model && echo w > model/w.txt && echo b > model/b.txt
    outs: [model]
"""


def workspace(repo: Path) -> list[str]:
    """Every file (`path=content`) and directory (`path/`) under `data` and `model`."""
    found = []
    for top in ("data", "model"):
        for p in sorted((repo / top).rglob("*")):
            rel = p.relative_to(repo).as_posix()
            found.append(f"{rel}/" if p.is_dir() else f"{rel}={p.read_text()}")
    return found


def data_repo(mlvc: Runner, git: Runner, repo: Path) -> None:
    """`data/` tracked by `data.dvc` (files in `sub/` and `other/`), `model/` by a stage."""
    mlvc("init", "-q")
    for rel in ("a.txt", "sub/b.txt", "sub/c.txt", "other/o.txt"):
        (repo / "data" / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / "data" / rel).write_text(rel.rsplit("/", 1)[-1][0] + "\n")
    mlvc("add", "-q", "data")
    (repo / "dvc.yaml").write_text(PIPELINE)
    mlvc("repro", "-q")
    git("add", "-A")
    git("commit", "-qm", "data")


def reset(repo: Path) -> None:
    """The committed data, as DVC checks it out."""
    for top in ("data", "model"):
        shutil.rmtree(repo / top, ignore_errors=True)


def test_checkout_a_path_inside_a_tracked_directory_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    data_repo(mlvc, git, repo)

    def gone_and_changed() -> None:
        shutil.rmtree(repo / "data" / "sub")
        (repo / "data" / "a.txt").unlink()
        (repo / "data" / "other" / "o.txt").write_text("mine\n")

    def unsaved_under_target() -> None:
        (repo / "data" / "sub" / "extra.txt").write_text("unsaved\n")
        (repo / "data" / "sub" / "b.txt").write_text("edited\n")
        (repo / "data" / "sub" / "c.txt").unlink()
        (repo / "data" / "sub" / "deep").mkdir()
        (repo / "data" / "sub" / "deep" / "x").write_text("a\n")  # in the cache

    def not_tracked_here() -> None:
        (repo / "data" / "new" / "deep").mkdir(parents=True)
        (repo / "data" / "new" / "deep" / "z").write_text("unsaved\n")

    # (what to change first, checkout arguments, directory to run in)
    cases: list[tuple[Callable[[], None], list[str], str]] = [
        (gone_and_changed, ["data/sub/b.txt"], "."),
        (gone_and_changed, ["--summary", "data/sub"], "."),
        (gone_and_changed, ["data/sub/"], "data"),
        (gone_and_changed, ["sub/b.txt", "../data/other"], "data"),
        (unsaved_under_target, ["data/sub"], "."),
        (unsaved_under_target, ["-f", "--summary", "data/sub"], "."),
        (not_tracked_here, ["data/new/deep/z"], "."),
        (not_tracked_here, ["-f", "data/new/deep/z"], "."),
        (lambda: shutil.rmtree(repo / "data"), ["data/nosuch"], "."),
        (lambda: shutil.rmtree(repo / "data"), ["--summary", "data/nosuch"], "."),
        (lambda: shutil.rmtree(repo / "model"), ["model/w.txt"], "."),
        (lambda: (repo / "model" / "b.txt").unlink(), ["--summary", "model"], "."),
        (lambda: (repo / "model" / "x").write_text("new\n"), ["model/"], "."),
    ]
    for change, args, where in cases:
        found = []
        for tool in (dvc, mlvc):
            reset(repo)
            dvc("checkout", "-q")
            change()
            r = tool("checkout", *args, cwd=repo / where, check=False)
            # DVC-compat: only what is under the path is restored or deleted; unsaved
            # data there stops the checkout (exit 255) and nothing changes.
            found.append((r.returncode, r.stdout, workspace(repo)))
        assert found[0] == found[1], (args, where)


def test_pull_counts_the_files_it_changes_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    data_repo(mlvc, git, repo)
    mlvc("remote", "add", "-q", "-d", "store", "../store")
    mlvc("push", "-q")

    def changed() -> None:
        (repo / "data" / "sub" / "b.txt").write_text("edited\n")
        (repo / "data" / "sub" / "c.txt").unlink()
        (repo / "data" / "a.txt").unlink()
        (repo / "data" / "sub" / "x").write_text("o\n")  # in the cache
        (repo / "data" / "other" / "y").write_text("o\n")

    for args in (["-f", "data"], ["-f", "data/sub"], ["-f"]):
        found = []
        for tool in (dvc, mlvc):
            reset(repo)
            dvc("checkout", "-q")
            changed()
            r = tool("pull", *args)
            # DVC-compat: modified, added and deleted files, one by one.
            found.append((r.stdout, workspace(repo)))
        assert found[0] == found[1], args
    assert found[1][0] == "M       data/\n1 file modified, 2 files added and 2 files deleted\n"
