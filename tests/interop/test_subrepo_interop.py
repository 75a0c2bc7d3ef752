"""A DVC repository nested in another (`init --subdir`) is a repository of its own: the
parent's commands leave its `.dvc` files, `dvc.yaml` files and data alone, as DVC's do."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]

SUB_STAGE = "stages:\n  mk:\n    cmd: echo out > o.txt\n    outs: [o.txt]\n"


def _objects(repo: Path) -> list[str]:
    cache = repo / ".dvc/cache/files/md5"
    return sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file())


def _with_subrepo(tool: Runner, git: Runner, repo: Path) -> None:
    """A fresh parent repository tracking `r.txt`, and a sub-repository in `sub` with a
    `.dvc` file and a stage of its own, all committed."""
    for p in repo.iterdir():
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()
    git("init", "-q")
    tool("init", "-q")
    (repo / "r.txt").write_text("r\n")
    tool("add", "-q", "r.txt")
    (repo / "sub").mkdir()
    tool("init", "-q", "--subdir", cwd=repo / "sub")
    (repo / "sub/s.txt").write_text("s\n")
    tool("add", "-q", "s.txt", cwd=repo / "sub")
    (repo / "sub/dvc.yaml").write_text(SUB_STAGE)
    git("add", "-A")
    git("commit", "-qm", "parent and sub-repository")


def test_parent_leaves_subrepo_alone_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    found = []
    for tool in (dvc, mlvc):
        _with_subrepo(tool, git, repo)
        seen = [
            tool("status").stdout,
            tool("data", "status").stdout,
            # DVC: no `dvc.yaml` of the parent's own to list.
            tool("stage", "list", check=False).returncode,
            tool("ls", ".", "-R").stdout,
            tool("ls", ".", "sub", "--dvc-only").stdout,
            tool("ls", ".", "--rev", "HEAD").stdout,
            tool("ls", ".", "sub", "--dvc-only", "--rev", "HEAD").stdout,
        ]
        tool("commit", "-q", "-f")
        seen.append(tool("repro", "-q", check=False).returncode)
        (repo / "sub/s.txt").unlink()
        tool("checkout", "-q")
        # Neither the sub-repository's stage ran nor its data came back.
        seen.append(str(sorted(p.name for p in (repo / "sub").iterdir())))
        r = tool("add", "sub/s.txt", check=False)
        tool("gc", "-q", "-w", "-f")
        seen += [_objects(repo), r.returncode, (repo / "sub/s.txt.dvc").read_text()]
        found.append(seen)
    assert found[0] == found[1]
    theirs = found[0]
    assert "up to date" in str(theirs[0])
    assert "sub" not in str(theirs[3])
    assert "s.txt" in str(theirs[4])
    # The sub-repository's data never reaches the parent's cache.
    assert theirs[-3] == ["72/cfd272ace172fa35026445fbef9b03"]
    assert theirs[-2] == 1  # sub/s.txt was deleted, and the parent does not restore it


def test_tracked_directory_leaves_out_a_nested_repository_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    found = []
    for first, second in ((dvc, mlvc), (mlvc, dvc)):
        _with_subrepo(first, git, repo)
        (repo / "d/inner").mkdir(parents=True)
        (repo / "d/a").write_text("a\n")
        first("init", "-q", "--subdir", cwd=repo / "d/inner")
        git("reset", "-q")  # (`init` staged its files; DVC refuses to add git-tracked data)
        (repo / "d/inner/b").write_text("b\n")
        first("add", "-q", "d")
        dvcfile = (repo / "d.dvc").read_text()
        # The other tool sees the directory unchanged, and a forced checkout keeps the
        # nested repository's files (they are in no manifest).
        assert "up to date" in second("status").stdout
        second("checkout", "-q", "-f", "d")
        assert (repo / "d/inner/b").read_text() == "b\n"
        assert (repo / "d/inner/.dvc").is_dir()
        found.append((dvcfile, _objects(repo)))
    assert found[0] == found[1]
    assert "nfiles: 1\n" in found[0][0]
