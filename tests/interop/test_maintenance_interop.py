"""gc, remove, move, unprotect and version: mlvc against real DVC on copies of one repo."""

from __future__ import annotations

import os
import pty
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.interop.conftest import Runner, snapshot

Tools = tuple[Runner, Runner, Runner, Path]


def cache_objects(cache: Path) -> set[str]:
    """Relative paths of every file in a cache or local remote."""
    return {p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file()}


def copy_repo(repo: Path, dest: Path) -> Path:
    shutil.copytree(repo, dest, symlinks=True)
    return dest


def two_commit_repo(dvc: Runner, git: Runner, repo: Path) -> None:
    """v1 of `a.txt` and `dd/` on branch `old`, v2 on `main` and in the workspace."""
    dvc("init", "-q")
    git("commit", "-qm", "init")
    (repo / "a.txt").write_text("v1\n")
    (repo / "dd").mkdir()
    (repo / "dd" / "one").write_text("one v1\n")
    (repo / "dd" / "same").write_text("shared\n")
    dvc("add", "-q", "a.txt", "dd")
    git("add", "-A")
    git("commit", "-qm", "v1")
    git("branch", "old")
    (repo / "a.txt").write_text("v2\n")
    (repo / "dd" / "one").write_text("one v2\n")
    dvc("add", "-q", "a.txt", "dd")
    git("add", "-A")
    git("commit", "-qm", "v2")


def test_gc_needs_a_scope_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, _repo = tools
    dvc("init", "-q")
    theirs = dvc("gc", "-f", check=False)
    ours = mlvc("gc", "-f", check=False)
    assert theirs.returncode == ours.returncode == 255
    assert "Either of `-w|--workspace`" in theirs.stderr
    assert "error: Either of `-w|--workspace`, `-a|--all-branches`" in ours.stderr
    assert "hint: pass `-w`" in ours.stderr


def test_gc_num_needs_rev_or_all_branches_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    two_commit_repo(dvc, git, repo)
    theirs = dvc("gc", "-f", "-w", "-n", "2", check=False)
    ours = mlvc("gc", "-f", "-w", "-n", "2", check=False)
    assert theirs.returncode == ours.returncode == 255
    assert "`--num` can only be used alongside `--rev` or `--all-branches`" in theirs.stderr
    assert ours.stderr.startswith(
        "error: `--num` can only be used alongside `--rev` or `--all-branches`\nhint: "
    )
    warning = "This will remove all cache except items used in the workspace and last 2 "
    r = mlvc("gc", "-f", "-a", "-n", "2")
    assert f"{warning}commits from all git branches of the current repo." in r.stderr


def test_gc_without_force_and_without_an_answer_deletes_nothing(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    two_commit_repo(dvc, git, repo)
    before = cache_objects(repo / ".dvc" / "cache")
    theirs = dvc("gc", "-w", check=False, input="")
    ours = mlvc("gc", "-w", check=False, input="")
    assert theirs.returncode == ours.returncode == 1
    # DVC-compat: the question, then end of input: no. DVC says nothing more; mlvc says why.
    assert ours.stdout == theirs.stdout == "Are you sure you want to proceed? [y/n]: "
    assert "error: no answer on stdin" in ours.stderr and "hint: rerun with `-f`" in ours.stderr
    assert cache_objects(repo / ".dvc" / "cache") == before


@pytest.mark.parametrize(
    ("answers", "code"),
    [("maybe\nY\n", 0), (" y\nyes\n", 0), ("NO\n", 1), ("x\nn\n", 1), ("x\n", 1)],
)
def test_gc_reads_piped_answers_like_dvc(
    tmp_path: Path, tools: Tools, answers: str, code: int
) -> None:
    mlvc, dvc, git, repo = tools
    two_commit_repo(dvc, git, repo)
    found = []
    for tool, name in ((dvc, "theirs"), (mlvc, "ours")):
        copy = copy_repo(repo, tmp_path / name)
        r = tool("gc", "-w", cwd=copy, check=False, input=answers)
        found.append((r.returncode, r.stdout, cache_objects(copy / ".dvc" / "cache")))
    # DVC-compat: `y`, `yes`, `n`, `no` in any case; anything else is asked again
    # ("Your response must be one of: [...]"); end of input is no.
    assert found[0] == found[1]
    assert found[1][0] == code


@pytest.mark.parametrize(("answer", "deletes"), [("n", False), ("y", True)])
def test_gc_asks_on_a_terminal(tools: Tools, answer: str, deletes: bool) -> None:
    _mlvc, dvc, git, repo = tools
    two_commit_repo(dvc, git, repo)
    before = cache_objects(repo / ".dvc" / "cache")
    master, slave = pty.openpty()
    try:
        os.write(master, f"{answer}\n".encode())
        r = subprocess.run(
            [sys.executable, "-m", "mlvc", "gc", "-w"],
            cwd=repo,
            stdin=slave,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.close(master)
        os.close(slave)
    assert r.stdout.startswith("Are you sure you want to proceed? [y/n]: ")
    assert r.returncode == (0 if deletes else 1)
    after = cache_objects(repo / ".dvc" / "cache")
    assert len(before - after) == (3 if deletes else 0)


@pytest.mark.parametrize(
    ("flags", "tag_old", "keeps_old"),
    [
        (["-a"], False, True),
        (["--all-commits"], False, True),
        (["-w"], False, False),
        (["-T"], False, False),
        (["-T"], True, True),  # an annotated tag instead of the `old` branch
        (["-a"], True, False),
        (["-A"], False, True),
        (["--rev", "old"], False, True),
        (["--rev", "HEAD"], False, False),
        (["--rev", "HEAD", "-n", "2"], False, True),
        (["-w", "-a", "-n", "2"], True, True),  # main~1 is v1
    ],
)
def test_gc_keeps_what_dvc_keeps(
    tmp_path: Path, tools: Tools, flags: list[str], tag_old: bool, keeps_old: bool
) -> None:
    mlvc, dvc, git, repo = tools
    two_commit_repo(dvc, git, repo)
    if tag_old:
        git("tag", "-a", "v1", "-m", "v1", "old")
        git("branch", "-D", "old")
    cache = repo / ".dvc" / "cache"
    all_before = cache_objects(cache)
    old_only = all_before - cache_objects_used_by_workspace(mlvc, repo, tmp_path)
    assert len(old_only) == 3  # a.txt v1, dd v1's `.dir`, dd/one v1
    theirs = copy_repo(repo, tmp_path / "theirs")
    dvc("gc", "-f", *flags, cwd=theirs)
    mlvc("gc", "-f", *flags)
    kept = cache_objects(cache)
    assert kept == cache_objects(theirs / ".dvc" / "cache")
    assert old_only <= kept if keeps_old else old_only.isdisjoint(kept)
    assert not keeps_old or kept == all_before
    # Whatever the scope, the workspace's data is intact and restorable.
    shutil.rmtree(repo / "dd")
    mlvc("checkout")
    assert (repo / "dd" / "one").read_text() == "one v2\n"


def cache_objects_used_by_workspace(mlvc: Runner, repo: Path, tmp_path: Path) -> set[str]:
    """The objects `gc -w` keeps, found by running it on a throwaway copy."""
    probe = copy_repo(repo, tmp_path / "probe")
    mlvc("gc", "-w", "-f", "-q", cwd=probe)
    return cache_objects(probe / ".dvc" / "cache")


def test_gc_dry_lists_and_deletes_nothing(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    two_commit_repo(dvc, git, repo)
    before = cache_objects(repo / ".dvc" / "cache")
    out = mlvc("gc", "-w", "--dry").stdout
    theirs = dvc("gc", "-w", "--dry").stdout
    # DVC-compat: "Removing" each object (`.dir` objects first), then DVC's usual
    # counts, "Removed" included. DVC lists each group in the order the filesystem does.
    lines = out.splitlines()
    assert sorted(lines) == sorted(theirs.splitlines())
    assert lines[0].endswith(".dir") and theirs.splitlines()[0].endswith(".dir")
    assert lines[3:] == [
        "Removed 3 objects from repo cache.",
        "No unused 'legacy' cache to remove.",
    ]
    assert all(line.startswith(f"Removing {repo}/.dvc/cache/files/md5/") for line in lines[:3])
    assert cache_objects(repo / ".dvc" / "cache") == before


def test_gc_leaves_runs_and_only_stale_temp_files(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    two_commit_repo(dvc, git, repo)
    cache = repo / ".dvc" / "cache"
    run_entry = cache / "runs" / "ab" / "cdef" / "123"
    run_entry.parent.mkdir(parents=True)
    run_entry.write_text("outs: []\n")
    prefix = cache / "files" / "md5" / "00"
    prefix.mkdir(parents=True, exist_ok=True)
    stale = prefix / ".x.1.0.mlvc-tmp"
    fresh = prefix / ".x.1.1.mlvc-tmp"
    stale.write_text("partial")
    fresh.write_text("partial")
    # An object directory a killed writer was filling under a temp name.
    stale_dir = cache / "files" / "md5" / ".ab.1.2.mlvc-tmp"
    stale_dir.mkdir()
    (stale_dir / ("c" * 30)).write_text("partial")
    two_hours_ago = time.time() - 7200
    for p in (stale, stale_dir):
        os.utime(p, (two_hours_ago, two_hours_ago))
    out = mlvc("gc", "-w", "-f").stdout
    assert "Removed 3 objects from repo cache." in out
    assert "Removed 2 stale temporary files" in out
    assert run_entry.is_file() and fresh.is_file() and not stale.exists()
    assert not stale_dir.exists()


def test_gc_cloud_cleans_a_local_remote_like_dvc(tmp_path: Path, tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    two_commit_repo(dvc, git, repo)
    dvc("remote", "add", "-d", "store", "../remote")
    git("checkout", "-q", "old")
    dvc("checkout", "-q")
    dvc("push", "-q")
    git("checkout", "-q", "main")
    dvc("checkout", "-q")
    dvc("push", "-q")
    theirs = copy_repo(repo, tmp_path / "theirs")
    dvc("remote", "modify", "store", "url", str(tmp_path / "remote-theirs"), cwd=theirs)
    shutil.copytree(tmp_path / "remote", tmp_path / "remote-theirs")
    pushed = cache_objects(tmp_path / "remote")
    dvc("gc", "-w", "-c", "-f", cwd=theirs)
    out = mlvc("gc", "-w", "-c", "-f").stdout
    assert "Removed 3 objects from remote." in out
    ours_left = cache_objects(tmp_path / "remote")
    assert ours_left == cache_objects(tmp_path / "remote-theirs")
    assert len(pushed - ours_left) == 3
    assert cache_objects(repo / ".dvc" / "cache") == cache_objects(theirs / ".dvc" / "cache")


def test_gc_refuses_when_a_directory_manifest_is_missing(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    two_commit_repo(dvc, git, repo)
    cache = repo / ".dvc" / "cache"
    for manifest in cache.rglob("*.dir"):
        manifest.unlink()
    before = cache_objects(cache)
    r = mlvc("gc", "-a", "-f", check=False)
    assert r.returncode == 1
    assert "which the workspace uses, is not in the cache" in r.stderr
    assert "hint: fetch" in r.stderr
    assert cache_objects(cache) == before


def test_gc_keeps_pipeline_outputs_from_dvc_lock(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    dvc("init", "-q")
    (repo / "dvc.yaml").write_text(
        "stages:\n  make:\n    cmd: echo made > out.txt\n    outs:\n    - out.txt\n"
    )
    dvc("repro", "-q")
    cache = repo / ".dvc" / "cache"
    before = cache_objects(cache)
    assert len(before) == 1
    mlvc("gc", "-w", "-f")
    assert cache_objects(cache) == before


def remove_scene(repo: Path, dvc: Runner, cwd: Path) -> None:
    for rel, text in {"z.txt": "z\n", "odd#.txt": "odd\n", "d/sub/f": "f\n", "dd/q": "q\n"}.items():
        p = cwd / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    dvc("add", "-q", "z.txt", "odd#.txt", "d/sub/f", "dd", cwd=cwd)


def test_remove_matches_dvc(tmp_path: Path, tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    dvc("init", "-q")
    remove_scene(repo, dvc, repo)
    theirs = copy_repo(repo, tmp_path / "theirs")
    for tool, where in ((dvc, theirs), (mlvc, repo)):
        tool("remove", "z.txt.dvc", "odd#.txt.dvc", cwd=where)
        tool("remove", "--outs", "d/sub/f.dvc", cwd=where)
        tool("remove", "dd.dvc", cwd=where)
    ours = snapshot(repo)
    assert ours == snapshot(theirs)
    # DVC-compat quirk: the escaped line for `odd#.txt` stays in `.gitignore`.
    assert (repo / ".gitignore").read_text() == "/odd\\#.txt\n"
    assert not (repo / "d" / "sub" / ".gitignore").exists()
    assert (repo / "z.txt").read_text() == "z\n" and not (repo / "d" / "sub" / "f").exists()


def test_remove_unprotects_kept_hardlinked_data_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    dvc("init", "-q")
    dvc("config", "cache.type", "hardlink")
    (repo / "f").write_text("f\n")
    dvc("add", "-q", "f")
    assert os.stat(repo / "f").st_nlink == 2
    mlvc("remove", "f.dvc")
    st = os.stat(repo / "f")
    assert st.st_nlink == 1 and stat.S_IMODE(st.st_mode) == 0o644
    assert (repo / "f").read_text() == "f\n"


def test_remove_refuses_untracked_and_data_targets(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    dvc("init", "-q")
    (repo / "u.txt").write_text("u\n")
    (repo / "t.txt").write_text("t\n")
    dvc("add", "-q", "t.txt")
    before = snapshot(repo)
    missing = mlvc("remove", "u.txt.dvc", check=False)
    assert missing.returncode == 1 and "error: `u.txt.dvc` does not exist" in missing.stderr
    data = mlvc("remove", "t.txt", check=False)
    assert data.returncode == 1 and dvc("remove", "t.txt", check=False).returncode == 1
    assert "`t.txt` is not a `.dvc` file" in data.stderr
    assert "hint: did you mean `t.txt.dvc`?" in data.stderr
    # One bad target among good ones: nothing at all is removed.
    both = mlvc("remove", "t.txt.dvc", "u.txt.dvc", check=False)
    assert both.returncode == 1
    assert snapshot(repo) == before


def move_scene(dvc: Runner, cwd: Path) -> None:
    (cwd / "f").write_text("f\n")
    (cwd / "dd").mkdir()
    (cwd / "dd" / "q").write_text("q\n")
    (cwd / "sub2").mkdir()
    (cwd / "tgt").mkdir()
    (cwd / "g").write_text("g\n")
    dvc("add", "-q", "f", "dd", "g", cwd=cwd)
    # Keys mlvc does not interpret must survive the rewrite.
    text = (cwd / "f.dvc").read_text().replace("  path: f\n", "  path: f\n  desc: hello\n")
    (cwd / "f.dvc").write_text(text + "meta: 1\n")
    (cwd / "g.dvc").rename(cwd / "data.dvc")


def test_move_matches_dvc_byte_for_byte(tmp_path: Path, tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    dvc("init", "-q")
    move_scene(dvc, repo)
    theirs = copy_repo(repo, tmp_path / "theirs")
    for tool, where in ((dvc, theirs), (mlvc, repo)):
        tool("move", "f", "sub2/h", cwd=where)  # renames f.dvc to sub2/h.dvc
        tool("move", "dd", "tgt", cwd=where)  # into an existing directory
        tool("move", "g", "sub2/g2", cwd=where)  # data.dvc stays; only `path:` changes
    ours = snapshot(repo)
    assert ours == snapshot(theirs)
    assert "  path: h\n  desc: hello\n" in (repo / "sub2" / "h.dvc").read_text()
    assert (repo / "sub2" / ".gitignore").read_text() == "/h\n/g2\n"
    assert "  path: sub2/g2\n" in (repo / "data.dvc").read_text()
    assert not (repo / ".gitignore").exists() or "/f" not in (repo / ".gitignore").read_text()
    assert json_status_clean(mlvc) and json_status_clean(dvc)


def json_status_clean(tool: Runner) -> bool:
    return tool("status", "--json").stdout.strip() == "{}"


def test_move_refuses_to_overwrite_and_changes_nothing(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    dvc("init", "-q")
    (repo / "f").write_text("f\n")
    (repo / "other").write_text("mine\n")
    dvc("add", "-q", "f")
    before = snapshot(repo)
    r = mlvc("move", "f", "other", check=False)
    assert r.returncode == 1
    assert "error: `other` already exists" in r.stderr and "hint:" in r.stderr
    untracked = mlvc("move", "other", "x", check=False)
    assert untracked.returncode == 1 and "is not tracked by any `.dvc` file" in untracked.stderr
    nodir = mlvc("move", "f", "no/such/dir/f", check=False)
    assert nodir.returncode == 1 and "does not exist" in nodir.stderr
    assert snapshot(repo) == before


def test_move_into_a_tracked_directory_is_refused_like_dvc(tmp_path: Path, tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    dvc("init", "-q")
    (repo / "d").mkdir()
    (repo / "d" / "a").write_text("a\n")
    (repo / "y").write_text("y\n")
    dvc("add", "-q", "d", "y")
    git("add", "-A")
    git("commit", "-qm", "d and y")
    theirs = copy_repo(repo, tmp_path / "theirs")
    before = snapshot(repo)
    # DVC: "bad DVC file name 'd/y.dvc' is git-ignored" (d is in .gitignore).
    assert dvc("move", "y", "d", cwd=theirs, check=False).returncode == 1
    r = mlvc("move", "y", "d", check=False)
    assert r.returncode == 1
    assert r.stderr.startswith("error: cannot move `y` to `d/y`: its `.dvc` file `d/y.dvc`")
    assert "hint:" in r.stderr
    assert snapshot(repo) == before == snapshot(theirs)


def test_unprotect_matches_dvc_for_hardlinks(tmp_path: Path, tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    dvc("init", "-q")
    dvc("config", "cache.type", "hardlink")
    (repo / "f").write_text("f\n")
    (repo / "dd").mkdir()
    (repo / "dd" / "q").write_text("q\n")
    (repo / "dd" / "r").write_text("r\n")
    (repo / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(repo / "run.sh", 0o755)
    dvc("add", "-q", "f", "dd", "run.sh")
    theirs = copy_repo(repo, tmp_path / "theirs")
    # copytree broke the hardlinks; let DVC recreate them in its copy.
    dvc("checkout", "-q", "--relink", cwd=theirs)
    assert os.stat(theirs / "f").st_nlink == 2
    dvc("unprotect", "f", "dd", "run.sh", cwd=theirs)
    mlvc("unprotect", "f", "dd", "run.sh")
    for rel in ("f", "dd/q", "dd/r", "run.sh"):
        ours, dvcs = os.stat(repo / rel), os.stat(theirs / rel)
        assert ours.st_nlink == dvcs.st_nlink == 1
        assert (repo / rel).read_bytes() == (theirs / rel).read_bytes()
        if rel != "run.sh":
            assert stat.S_IMODE(ours.st_mode) == stat.S_IMODE(dvcs.st_mode) == 0o644
    # Deliberate difference: DVC gives an executable 0644; mlvc keeps it runnable.
    assert stat.S_IMODE(os.stat(repo / "run.sh").st_mode) == 0o744
    # The cache objects were not touched.
    for obj in (repo / ".dvc" / "cache").rglob("*"):
        if obj.is_file():
            assert os.stat(obj).st_mode & 0o222 == 0
    (repo / "f").write_text("edited\n")
    assert "modified" in mlvc("status").stdout


def test_unprotect_replaces_symlinks_and_leaves_copies_alone(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    dvc("init", "-q")
    dvc("config", "cache.type", "symlink")
    (repo / "s").write_text("s\n")
    dvc("add", "-q", "s")
    assert (repo / "s").is_symlink()
    dvc("config", "cache.type", "copy")
    (repo / "c").write_text("c\n")
    dvc("add", "-q", "c")
    os.chmod(repo / "c", 0o600)
    inode = os.stat(repo / "c").st_ino
    mlvc("unprotect", "s", "c")
    assert not (repo / "s").is_symlink() and (repo / "s").read_text() == "s\n"
    assert stat.S_IMODE(os.stat(repo / "s").st_mode) == 0o644
    c = os.stat(repo / "c")
    assert c.st_ino == inode and stat.S_IMODE(c.st_mode) == 0o600
    missing = mlvc("unprotect", "nothere", check=False)
    assert missing.returncode == 1 and "`nothere`" in missing.stderr


@pytest.mark.parametrize("command", [["remove", "bad.dvc"], ["move", "bad", "moved"]])
def test_malformed_dvc_file_is_a_one_line_error_and_changes_nothing(
    tools: Tools, command: list[str]
) -> None:
    mlvc, dvc, _git, repo = tools
    dvc("init", "-q")
    (repo / "bad").write_text("b\n")
    (repo / "bad.dvc").write_text("outs:\n- md5: abc\n  path: [unclosed\n")
    before = snapshot(repo)
    r = mlvc(*command, check=False)
    assert r.returncode != 0
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "bad.dvc:" in errors[0], r.stderr
    assert "Traceback" not in r.stderr
    assert snapshot(repo) == before


def test_unknown_output_key_is_refused_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    dvc("init", "-q")
    (repo / "x").write_text("x\n")
    (repo / "x.dvc").write_text("outs:\n- path: x\n  bogus: 1\n")
    ours, theirs = mlvc("status", check=False), dvc("status", check=False)
    assert ours.returncode == theirs.returncode == 1
    assert "unknown key `bogus` in the output `x`" in ours.stderr
    for text in ("outs:\n- path: x\n  bogus: 1\n", "outs: [\n", "wrong: 1\n"):
        (repo / "x.dvc").write_text(text)
        ours, theirs = mlvc("checkout", check=False), dvc("checkout", check=False)
        assert ours.returncode == theirs.returncode == 255, text


def test_gc_stops_on_a_malformed_dvc_file(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    two_commit_repo(dvc, git, repo)
    (repo / "bad.dvc").write_text("outs: {\n")
    before = cache_objects(repo / ".dvc" / "cache")
    r = mlvc("gc", "-w", "-f", check=False)
    # DVC-compat: "Failed to collect 'workspace'", exit 255.
    assert r.returncode == 255
    assert "bad.dvc:" in r.stderr and len(r.stderr.strip().splitlines()) <= 3
    assert dvc("gc", "-w", "-f", check=False).returncode == 255
    assert cache_objects(repo / ".dvc" / "cache") == before


OUTSIDE_DVCFILES = {
    "parent": "outs:\n- md5: {md5}\n  path: ../outside.txt\n",
    "absolute": "outs:\n- md5: {md5}\n  path: {outside}\n",
}


@pytest.mark.parametrize("kind", sorted(OUTSIDE_DVCFILES))
def test_outputs_outside_the_repo_are_never_touched(
    tmp_path: Path, tools: Tools, kind: str
) -> None:
    mlvc, dvc, _git, repo = tools
    dvc("init", "-q")
    (repo / "f").write_text("replacement\n")
    dvc("add", "-q", "f")
    md5 = (repo / "f.dvc").read_text().split("md5: ")[1].split()[0]
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    text = OUTSIDE_DVCFILES[kind].format(md5=md5, outside=outside)
    (repo / "evil.dvc").write_text(text)
    assert mlvc("checkout", "-f", "evil.dvc", check=False).returncode != 0
    assert mlvc("remove", "--outs", "evil.dvc", check=False).returncode != 0
    assert mlvc("unprotect", str(outside), check=False).returncode != 0
    assert outside.read_text() == "precious\n"
    assert (repo / "evil.dvc").read_text() == text


def test_remove_refuses_a_wdir_that_leaves_the_repo(tmp_path: Path, tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    dvc("init", "-q")
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    (repo / "evil.dvc").write_text("outs:\n- path: outside.txt\nwdir: ..\n")
    r = mlvc("remove", "--outs", "evil.dvc", check=False)
    assert r.returncode == 1 and "leaves the repository" in r.stderr
    assert outside.read_text() == "precious\n" and (repo / "evil.dvc").exists()


def test_checkout_refuses_a_wdir_that_leaves_the_repo(tmp_path: Path, tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    dvc("init", "-q")
    (repo / "f").write_text("replacement\n")
    dvc("add", "-q", "f")
    md5 = (repo / "f.dvc").read_text().split("md5: ")[1].split()[0]
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    (repo / "evil.dvc").write_text(f"outs:\n- md5: {md5}\n  path: outside.txt\nwdir: ..\n")
    r = mlvc("checkout", "-f", "evil.dvc", check=False)
    assert r.returncode == 1 and "wdir `..`" in r.stderr
    assert outside.read_text() == "precious\n"


def test_version_is_fast_and_doctor_is_an_alias(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    dvc("init", "-q")
    # DVC-compat: without a cache yet, the report says so and creates none.
    assert "Cache types: <https://error.dvc.org/no-dvc-cache>\n" in mlvc("version").stdout
    assert not (repo / ".dvc/cache").exists()
    (repo / ".dvc/cache").mkdir()
    out = mlvc("version").stdout
    assert out.startswith("mlvc version: ")
    for field in ("Platform: Python", "Cache types: ", "Cache directory: ", "Remotes: None"):
        assert field in out
    assert "Repo: dvc, git" in out
    assert mlvc("doctor").stdout == out
    # DVC-compat: `-q` is accepted by both and the report still printed.
    assert mlvc("version", "-q").stdout == out
    assert dvc("version", "-q").stdout.startswith("DVC version: ")
    imported = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "mlvc", "version"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    heavy = {"rich", "yaml", "markdown_it"}
    names = {ln.split("|")[-1].strip().split(".")[0] for ln in imported.splitlines()}
    assert not heavy & names, heavy & names
