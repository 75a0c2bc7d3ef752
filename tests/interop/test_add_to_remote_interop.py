"""`add --to-remote`: data goes straight to a remote, the `.dvc` file is written, and
nothing enters the cache or the workspace; run by DVC and by mlvc, results compared."""

from __future__ import annotations

from pathlib import Path

from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]


def listing(remote: Path) -> dict[str, tuple[int, bytes]]:
    """Objects (mode, bytes); DVC also leaves `.*.tmp` files beside them, not data."""
    return {
        p.relative_to(remote).as_posix(): (p.stat().st_mode & 0o777, p.read_bytes())
        for p in sorted(remote.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def make_outside(root: Path) -> Path:
    outside = root / "outside"
    (outside / "dd" / "sub").mkdir(parents=True)
    (outside / "dd" / "a").write_text("a\n")
    (outside / "dd" / "sub" / "b").write_text("b\n")
    (outside / "big.txt").write_text("big\n")
    return outside


def test_add_to_remote_writes_what_dvc_writes(tools: Tools) -> None:
    mlvc, dvc, git, root = tools
    outside = make_outside(root.parent)
    found = []
    for name, tool in (("dvc", dvc), ("mlvc", mlvc)):
        repo = root / name
        repo.mkdir()
        git("init", "-q", cwd=repo)
        dvc("init", "-q", cwd=repo)
        remote = root / f"remote-{name}"
        dvc("remote", "add", "-q", "-d", "r", str(remote), cwd=repo)
        (repo / "loc.txt").write_text("local\n")
        tool("add", "--to-remote", "loc.txt", cwd=repo)
        tool("add", "--to-remote", str(outside / "dd"), "-o", "mydd", cwd=repo)
        tool("add", "--to-remote", str(outside / "big.txt"), cwd=repo)
        files = {
            p.relative_to(repo).as_posix(): p.read_text()
            for p in sorted(repo.rglob("*"))
            if p.is_file() and p.relative_to(repo).parts[0] not in (".git", ".dvc")
        }
        cache = repo / ".dvc" / "cache"
        found.append((files, listing(remote), cache.exists() and any(cache.rglob("*"))))
    assert found[0] == found[1]
    files, objects, cached = found[1]
    assert set(files) == {".dvcignore", "loc.txt", "loc.txt.dvc", "mydd.dvc", "big.txt.dvc"}
    assert len(objects) == 5 and not cached  # loc, big, a, b and the `.dir`
    # What mlvc stored serves DVC: a pull restores the data the `.dvc` files name.
    ours = root / "mlvc"
    (ours / "loc.txt").unlink()
    dvc("pull", "-q", cwd=ours)
    assert (ours / "loc.txt").read_text() == "local\n"
    assert (ours / "mydd" / "sub" / "b").read_text() == "b\n"
    assert (ours / "big.txt").read_text() == "big\n"
    assert dvc("status", cwd=ours).stdout == "Data and pipelines are up to date.\n"


def test_add_to_remote_refuses_what_dvc_refuses(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    dvc("init", "-q")
    dvc("remote", "add", "-q", "-d", "r", str(repo.parent / "remote"))
    for rel in ("a.txt", "b.txt"):
        (repo / rel).write_text(rel)
    for args, error in (
        (["--to-remote", "a.txt", "b.txt"], "multiple targets can't be used with --to-remote"),
        (
            ["--to-remote", "--no-commit", "a.txt"],
            "--no-commit option can't be used with --to-remote",
        ),
        (["--to-remote", "--glob", "*.txt"], "--glob option can't be used with --to-remote"),
        (["-o", "x", "a.txt", "b.txt"], "multiple targets can't be used with --out"),
        (["-r", "r", "a.txt"], "--remote can't be used without --to-remote"),
        (["--remote-jobs", "2", "a.txt"], "--remote-jobs can't be used without --to-remote"),
    ):
        theirs = dvc("add", *args, check=False)
        ours = mlvc("add", *args, check=False)
        assert theirs.returncode == ours.returncode == 1, args
        assert error in theirs.stderr, args
        assert ours.stderr.splitlines()[0] == f"error: {error}", args
    # An unknown remote, and no remote at all: nothing is written.
    assert mlvc("add", "--to-remote", "-r", "nope", "a.txt", check=False).returncode == 1
    mlvc("remote", "remove", "r")
    r = mlvc("add", "--to-remote", "a.txt", check=False)
    assert r.returncode == 1 and "no remote specified" in r.stderr
    assert not (repo / "a.txt.dvc").exists()
