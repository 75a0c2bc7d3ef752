"""Cases found by driving mlvc and real DVC through random sequences of data commands:
each runs one sequence on twin repositories and compares what the tools leave behind."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

from tests.interop.conftest import Runner, write

Tools = tuple[Runner, Runner, Runner, Path]


def twin(tools: Tools, tmp_path: Path) -> tuple[Path, Path]:
    """Two fresh repositories (DVC's, mlvc's), each with its own `../remote`."""
    _mlvc, _dvc, git, repo = tools
    roots = []
    for name in ("theirs", "ours"):
        dest = tmp_path / name / "repo"
        shutil.copytree(repo, dest, symlinks=True)
        (tmp_path / name / "remote").mkdir()
        roots.append(dest)
    git("init", "-q", cwd=roots[0])
    git("init", "-q", cwd=roots[1])
    return roots[0], roots[1]


def test_cloud_status_names_shared_data_by_the_first_dvc_file_walked(
    tools: Tools, tmp_path: Path
) -> None:
    # Two `.dvc` files track the same bytes: DVC names the object after the one it
    # meets first walking the repository, a directory's files before its subdirectories.
    mlvc, dvc, _git, _repo = tools
    theirs, ours = twin(tools, tmp_path)
    found = []
    for tool, root in ((dvc, theirs), (mlvc, ours)):
        tool("init", "-q", cwd=root)
        tool("remote", "add", "-d", "r", "../remote", cwd=root)
        write(root, {"data/b": "same\n", "sp ace": "same\n", "d2/x": "other\n"})
        tool("add", "data/b", "sp ace", "d2", cwd=root)
        found.append(json.loads(tool("status", "-c", "--json", cwd=root).stdout))
    assert found[0] == {"sp ace": "new", "d2": "new", "d2/x": "new"}
    assert found[1] == found[0]


def staged(stdout: str) -> set[str]:
    """The paths of the `git add` hint (DVC prints them in no fixed order)."""
    (line,) = [ln for ln in stdout.splitlines() if ln.startswith("\tgit add ")]
    return set(shlex.split(line.removeprefix("\tgit add ")))


def files_and_cache(root: Path) -> dict[str, bytes]:
    """The `.dvc` and `.gitignore` files and the cache's object names."""
    found = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and (p.suffix == ".dvc" or p.name == ".gitignore") and ".git/" not in str(p)
    }
    cache = root / ".dvc" / "cache"
    found.update({p.relative_to(root).as_posix(): b"" for p in cache.rglob("*") if p.is_file()})
    return found


def test_move_caches_the_data_keeps_its_record_and_skips_a_deleted_gitignore(
    tools: Tools, tmp_path: Path
) -> None:
    # DVC's move commits the moved data (here added with --no-commit, or changed since
    # `add`) to the cache, yet records the hash the `.dvc` file had; the `.gitignore`
    # the move empties (and deletes) is not in its `git add` hint.
    mlvc, dvc, _git, _repo = tools
    theirs, ours = twin(tools, tmp_path)
    outputs = []
    for tool, root in ((dvc, theirs), (mlvc, ours)):
        tool("init", "-q", cwd=root)
        write(root, {"data/sub/b": "b\n", "f": "f\n"})
        tool("add", "--no-commit", "data/sub", cwd=root)
        moved = tool("move", "data/sub", "m v", cwd=root).stdout
        tool("add", "f", cwd=root)
        (root / "f").write_text("changed\n")
        tool("move", "f", "g", cwd=root)
        outputs.append(staged(moved))
    assert files_and_cache(ours) == files_and_cache(theirs)
    assert outputs[0] == {".gitignore", "data/sub.dvc", "m v.dvc"}
    assert outputs[1] == outputs[0]


def test_relink_refuses_to_replace_data_the_cache_lacks_like_dvc(
    tools: Tools, tmp_path: Path
) -> None:
    mlvc, dvc, _git, _repo = tools
    theirs, ours = twin(tools, tmp_path)
    for tool, root in ((dvc, theirs), (mlvc, ours)):
        tool("init", "-q", cwd=root)
        write(root, {"f": "b\n", "d/g": "c\n"})
        tool("add", "--no-commit", "f", "d", cwd=root)
        tool("config", "cache.type", "symlink", cwd=root)
    ours_r = mlvc("checkout", "--relink", cwd=ours, check=False)
    theirs_r = dvc("checkout", "--relink", cwd=theirs, check=False)
    assert ours_r.returncode == theirs_r.returncode == 255
    assert (ours / "f").read_text() == (theirs / "f").read_text() == "b\n"
    assert (ours / "d" / "g").read_text() == (theirs / "d" / "g").read_text() == "c\n"
    assert not (ours / "f").is_symlink() and not (theirs / "f").is_symlink()


def test_data_status_lists_subdirectories_of_an_uncached_directory_as_unknown(
    tools: Tools,
) -> None:
    mlvc, dvc, _git, repo = tools
    mlvc("init", "-q")
    write(repo, {"data/b": "b\n", "data/sub/c": "c\n", "data/sub/deep/a": "a\n"})
    (repo / "data" / "e").mkdir()
    mlvc("add", "--no-commit", "data")
    (repo / "data" / "sub" / "deep" / "a").write_text("x\n")
    for args in (["--granular", "--unchanged"], ["--granular", "data/sub"]):
        found = []
        for tool in (mlvc, dvc):
            result = json.loads(tool("data", "status", "--json", *args).stdout)
            # DVC lists these in no fixed order.
            result["uncommitted"]["unknown"].sort()
            found.append(result)
        assert found[0] == found[1], args
    assert found[0]["uncommitted"]["unknown"] == [
        "data/sub/",
        "data/sub/c",
        "data/sub/deep/",
        "data/sub/deep/a",
    ]
