"""gc's scope flags beyond the revisions (`--date`, `--all-experiments`, `--not-in-remote`,
`--skip-failed`, `-p`): mlvc and real DVC collect copies of one repository."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.interop.conftest import Runner, base_env

Tools = tuple[Runner, Runner, Runner, Path]


def cache_objects(cache: Path) -> set[str]:
    return {p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file()}


def commit(repo: Path, message: str, date: str | None = None) -> str:
    env = base_env(repo.parent)
    if date is not None:
        env["GIT_COMMITTER_DATE"] = env["GIT_AUTHOR_DATE"] = date
    for args in (["add", "-A"], ["commit", "-qm", message]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True)
    out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, env=env, capture_output=True)
    return out.stdout.decode().strip()


def history_repo(mlvc: Runner, git: Runner, repo: Path) -> None:
    """`d.txt`: v1 (2020), v2 (mid 2021), an experiment on v2, then v3 (now, the workspace)."""
    mlvc("init", "-q")
    for text, date in (("v1", "2020-01-01T12:00:00"), ("v2", "2021-06-01T12:00:00")):
        (repo / "d.txt").write_text(text + "\n")
        mlvc("add", "-q", "d.txt")
        baseline = commit(repo, text, date)
    git("checkout", "-q", "-b", "tmp")
    (repo / "d.txt").write_text("exp\n")
    mlvc("add", "-q", "d.txt")
    exp = commit(repo, "exp")
    git("checkout", "-q", "main")
    git("branch", "-qD", "tmp")
    # A ref as `dvc exp run` writes it: refs/exps/<baseline[:2]>/<baseline[2:]>/<name>.
    git("update-ref", f"refs/exps/{baseline[:2]}/{baseline[2:]}/myexp", exp)
    (repo / "d.txt").write_text("v3\n")
    mlvc("add", "-q", "d.txt")
    commit(repo, "v3")


def twins(repo: Path) -> tuple[Path, Path]:
    """Two copies of `repo` (for DVC and for mlvc), each with its own `../remote` neighbour."""
    copies = []
    for name in ("theirs", "ours"):
        dest = repo.parent / name / "repo"
        shutil.copytree(repo, dest, symlinks=True)
        if (repo.parent / "remote").exists():
            shutil.copytree(repo.parent / "remote", repo.parent / name / "remote")
        copies.append(dest)
    return copies[0], copies[1]


def test_gc_date_experiments_and_all_commits_keep_what_dvc_keeps(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    history_repo(mlvc, git, repo)
    assert len(cache_objects(repo / ".dvc/cache")) == 4
    for flags in (["--date", "2021-01-01"], ["--all-experiments"], ["-A"]):
        theirs, ours = twins(repo)
        dvc("gc", "-f", *flags, cwd=theirs)
        r = mlvc("gc", "-f", *flags, cwd=ours)
        kept = cache_objects(ours / ".dvc/cache")
        assert kept == cache_objects(theirs / ".dvc/cache"), flags
        # v2 and v3 from 2021 on; the experiment and v3; every branch commit but no exp.
        assert len(kept) == (3 if flags == ["-A"] else 2), flags
        shutil.rmtree(theirs.parent)
        shutil.rmtree(ours.parent)
    assert "and all git commits of the current repo." in r.stderr
    r = mlvc("gc", "-f", "--date", "2021-01-01", "--all-experiments", "--dry")
    # DVC-compat: DVC's wording ("before" though it keeps what comes after).
    assert (
        "items used in the workspace and all git commits before date 2021-01-01 and all"
        " experiments of the current repo." in r.stderr
    )
    bad = mlvc("gc", "-f", "--date", "2021/01/01", check=False)
    assert bad.returncode == 255  # DVC: "unexpected error - time data ... does not match"
    assert bad.stderr.splitlines()[-2:] == [
        "error: `--date 2021/01/01` does not match the format YYYY-MM-DD",
        "hint: write the date as `YYYY-MM-DD`, e.g. `2024-01-31`",
    ]
    assert len(cache_objects(repo / ".dvc/cache")) == 4


def test_gc_not_in_remote_drops_local_copies_of_pushed_data_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    history_repo(mlvc, git, repo)
    mlvc("remote", "add", "-q", "-d", "store", "../remote")
    mlvc("push", "-q")  # v3 only
    theirs, ours = twins(repo)
    dvc("gc", "-f", "-w", "--not-in-remote", cwd=theirs)
    r = mlvc("gc", "-f", "-w", "--not-in-remote", cwd=ours)
    assert cache_objects(ours / ".dvc/cache") == cache_objects(theirs / ".dvc/cache") == set()
    assert "workspace that are not present in the DVC remote of the current repo." in r.stderr
    assert cache_objects(ours.parent / "remote") == cache_objects(repo.parent / "remote")
    # With `-a`, v2 is used and not on the remote: it stays.
    mlvc("gc", "-f", "-a", "-T", "--not-in-remote", "--dry")
    both = mlvc("gc", "-f", "-w", "--not-in-remote", "-c", check=False)
    theirs_both = dvc("gc", "-f", "-w", "--not-in-remote", "-c", check=False)
    assert both.returncode == theirs_both.returncode == 255
    assert "`--not-in-remote` and `--cloud` are mutually exclusive" in theirs_both.stderr
    assert both.stderr.startswith(
        "error: `--not-in-remote` and `--cloud` are mutually exclusive\nhint: "
    )


def test_gc_skip_failed_skips_an_unreadable_revision_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    history_repo(mlvc, git, repo)
    keep = (repo / "d.txt.dvc").read_text()
    (repo / "d.txt.dvc").write_text("outs: [\n")
    broken = commit(repo, "broken")
    (repo / "d.txt.dvc").write_text(keep)
    commit(repo, "fixed")
    theirs, ours = twins(repo)
    failed = dvc("gc", "-f", "-A", cwd=theirs, check=False)
    ours_failed = mlvc("gc", "-f", "-A", cwd=ours, check=False)
    assert failed.returncode == ours_failed.returncode == 255
    assert f"Failed to collect '{broken}'" in failed.stderr
    assert f"error: Failed to collect '{broken}': " in ours_failed.stderr
    assert cache_objects(ours / ".dvc/cache") == cache_objects(repo / ".dvc/cache")
    dvc("gc", "-f", "-A", "--skip-failed", cwd=theirs)
    r = mlvc("gc", "-f", "-A", "--skip-failed", cwd=ours)
    assert f"warning: Failed to collect '{broken}', skipping\n" in r.stderr
    assert cache_objects(ours / ".dvc/cache") == cache_objects(theirs / ".dvc/cache")


def test_gc_projects_keep_what_a_repo_sharing_the_cache_uses_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    history_repo(mlvc, git, repo)
    theirs, ours = twins(repo)
    for copy in (theirs, ours):
        other = copy.parent / "other"
        other.mkdir()
        git("init", "-q", cwd=other)
        mlvc("init", "-q", cwd=other)
        mlvc("cache", "dir", "../repo/.dvc/cache", cwd=other)
        (other / "o.txt").write_text("v1\n")  # the same data as the oldest commit
        mlvc("add", "-q", "o.txt", cwd=other)
    dvc("gc", "-f", "-w", "-p", "../other", cwd=theirs)
    r = mlvc("gc", "-f", "-w", "-p", "../other", cwd=ours)
    assert cache_objects(ours / ".dvc/cache") == cache_objects(theirs / ".dvc/cache")
    assert len(cache_objects(ours / ".dvc/cache")) == 2  # v3 and the other repo's v1
    assert f"of the current and the following repos:\n  - {ours.parent / 'other'}\n" in r.stderr
    missing = mlvc("gc", "-f", "-w", "-p", "../nowhere", cwd=ours, check=False)
    assert missing.returncode == 253  # DVC: "directory '../nowhere' does not exist", 253
    assert "error: directory `../nowhere` does not exist\nhint: " in missing.stderr


def test_gc_projects_take_several_paths_after_one_flag_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    history_repo(mlvc, git, repo)
    theirs, ours = twins(repo)
    for copy in (theirs, ours):
        for name, data in (("one", "v1\n"), ("two", "v2\n")):
            other = copy.parent / name
            other.mkdir()
            git("init", "-q", cwd=other)
            mlvc("init", "-q", cwd=other)
            mlvc("cache", "dir", "../repo/.dvc/cache", cwd=other)
            (other / "o.txt").write_text(data)
            mlvc("add", "-q", "o.txt", cwd=other)
    # DVC-compat: `-p` takes every word up to the next option (argparse's `nargs="*"`)...
    dvc("gc", "-f", "-w", "-p", "../one", "../two", "--dry", cwd=theirs)
    r = mlvc("gc", "-f", "-w", "-p", "../one", "../two", "--dry", cwd=ours)
    listed = f"following repos:\n  - {ours.parent / 'one'}\n  - {ours.parent / 'two'}\n"
    assert listed in r.stderr
    # DVC-compat: in combined short flags, `-p` ends the letters and takes the words after.
    dvc("gc", "-fwp", "../one", "../two", "--dry", cwd=theirs)
    assert listed in mlvc("gc", "-fwp", "../one", "../two", "--dry", cwd=ours).stderr
    # `-pw` is `-p w`: no `-w`, so no scope.
    assert dvc("gc", "-fpw", cwd=theirs, check=False).returncode == 255
    assert mlvc("gc", "-fpw", cwd=ours, check=False).returncode == 255
    assert dvc("gc", "-fwpa", "b", cwd=theirs, check=False).returncode == 254
    assert mlvc("gc", "-fwpa", "b", cwd=ours, check=False).returncode == 254
    dvc("gc", "-f", "-w", "--projects", "../one", "../two", cwd=theirs)
    mlvc("gc", "-f", "-w", "--projects", "../one", "../two", cwd=ours)
    assert cache_objects(ours / ".dvc/cache") == cache_objects(theirs / ".dvc/cache")
    assert len(cache_objects(ours / ".dvc/cache")) == 3  # v3, and v1 and v2 of the others
    # ...and a repeated `-p` replaces the earlier one, so only `two`'s v2 is kept now.
    dvc("gc", "-wfp", "../one", "-p", "../two", cwd=theirs)
    mlvc("gc", "-wfp", "../one", "-p", "../two", cwd=ours)
    assert cache_objects(ours / ".dvc/cache") == cache_objects(theirs / ".dvc/cache")
    assert len(cache_objects(ours / ".dvc/cache")) == 2


def per_output_remote_repo(mlvc: Runner, git: Runner, repo: Path) -> None:
    """Default remote `r1` and `r2`; `a.txt` and stage `m` name `remote: r2`, `b.txt` and
    stage `n` none; `old.txt` was tracked once. Pushed: a, m to r2; b, n, old to r1."""
    mlvc("init", "-q")
    mlvc("remote", "add", "-q", "-d", "r1", "../r1")
    mlvc("remote", "add", "-q", "r2", "../r2")
    for name in ("a", "b", "old"):
        (repo / f"{name}.txt").write_text(f"{name}\n")
        mlvc("add", "-q", f"{name}.txt")
    dvcfile = repo / "a.txt.dvc"
    dvcfile.write_text(dvcfile.read_text() + "  remote: r2\n")
    (repo / "dvc.yaml").write_text(
        "stages:\n"
        "  m:\n    cmd: echo m > m.txt\n    outs:\n    - m.txt:\n        remote: r2\n"
        "  n:\n    cmd: echo n > n.txt\n    outs: [n.txt]\n"
    )
    mlvc("repro", "-q")
    mlvc("push", "-q")
    (repo / "old.txt.dvc").unlink()
    (repo / "old.txt").unlink()
    commit(repo, "data")


def remote_contents(remote: Path) -> list[str]:
    return sorted(p.read_text() for p in remote.rglob("*") if p.is_file())


def move_object(src: Path, dst: Path, text: str) -> None:
    """Moves the object holding `text` from one local remote to the other."""
    (obj,) = [p for p in src.rglob("*") if p.is_file() and p.read_text() == text]
    dest = dst / obj.relative_to(src)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(obj, dest)


def test_gc_cloud_honours_per_output_remotes_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    per_output_remote_repo(mlvc, git, repo)
    assert remote_contents(repo.parent / "r1") == ["b\n", "n\n", "old\n"]
    assert remote_contents(repo.parent / "r2") == ["a\n", "m\n"]
    # Every object on both remotes.
    shutil.copytree(repo.parent / "r1", repo.parent / "r2", dirs_exist_ok=True)
    shutil.copytree(repo.parent / "r2", repo.parent / "r1", dirs_exist_ok=True)
    for flags, r1, r2 in (
        # DVC-compat: each remote keeps only what the outputs sent to it use; the
        # default remote (or `-r`) takes the outputs that name none.
        ([], ["b\n", "n\n"], ["a\n", "m\n"]),
        (["-r", "r2"], ["a\n", "b\n", "m\n", "n\n", "old\n"], ["a\n", "b\n", "m\n", "n\n"]),
        (["-r", "r1"], ["b\n", "n\n"], ["a\n", "m\n"]),
    ):
        for copy in (repo.parent / "theirs", repo.parent / "ours"):
            shutil.rmtree(copy, ignore_errors=True)
            copy.mkdir()
            for name in ("repo", "r1", "r2"):
                shutil.copytree(repo.parent / name, copy / name, symlinks=True)
        theirs = dvc("gc", "-f", "-w", "-c", *flags, cwd=repo.parent / "theirs" / "repo")
        ours = mlvc("gc", "-f", "-w", "-c", *flags, cwd=repo.parent / "ours" / "repo")
        for copy in ("theirs", "ours"):
            found = [remote_contents(repo.parent / copy / name) for name in ("r1", "r2")]
            assert found == [r1, r2], (copy, flags)
        removed = [ln for ln in theirs.stdout.splitlines() if "remote" in ln]
        assert [ln for ln in ours.stdout.splitlines() if "remote" in ln] == removed, flags
    # Outputs that name no remote need a default one, even when others name theirs.
    mlvc("remote", "default", "--unset")
    for flag in ("-c", "--not-in-remote"):
        theirs = dvc("gc", "-f", "-w", flag, check=False)
        ours = mlvc("gc", "-f", "-w", flag, check=False)
        assert theirs.returncode == ours.returncode == 251, flag
        assert "error: no remote specified in " in ours.stderr
    assert remote_contents(repo / ".dvc" / "cache") == ["a\n", "b\n", "m\n", "n\n", "old\n"]


def test_gc_not_in_remote_checks_each_output_against_its_remote_like_dvc(
    tools: Tools,
) -> None:
    mlvc, dvc, git, repo = tools
    per_output_remote_repo(mlvc, git, repo)
    # `a` (remote r2) only on r1, `b` (default remote) only on r2: both stay local.
    move_object(repo.parent / "r2", repo.parent / "r1", "a\n")
    move_object(repo.parent / "r1", repo.parent / "r2", "b\n")
    theirs, ours = twins(repo)
    for name in ("r1", "r2"):
        for copy in (theirs, ours):
            shutil.copytree(repo.parent / name, copy.parent / name)
    dvc("gc", "-f", "-w", "--not-in-remote", cwd=theirs)
    mlvc("gc", "-f", "-w", "--not-in-remote", cwd=ours)
    kept = remote_contents(ours / ".dvc" / "cache")
    assert kept == remote_contents(theirs / ".dvc" / "cache") == ["a\n", "b\n"]


def lost_manifest_repo(mlvc: Runner, git: Runner, repo: Path) -> str:
    """Tag `t1` holds `d` = {a, old}; the workspace `d` = {a, b}. Returns t1's `.dir` id."""
    mlvc("init", "-q")
    (repo / "d").mkdir()
    (repo / "d/a").write_text("a\n")
    (repo / "d/old").write_text("only in t1\n")
    mlvc("add", "-q", "d")
    commit(repo, "one")
    git("tag", "t1")
    t1_dir = (repo / "d.dvc").read_text().split("md5: ")[1].split()[0]
    (repo / "d/old").unlink()
    (repo / "d/b").write_text("b\n")
    mlvc("add", "-q", "d")
    commit(repo, "two")
    return t1_dir


def test_gc_goes_on_past_a_lost_manifest_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    t1_dir = lost_manifest_repo(mlvc, git, repo)
    (repo / ".dvc/cache/files/md5" / t1_dir[:2] / t1_dir[2:]).unlink()
    theirs, ours = twins(repo)
    dvc("gc", "-T", "-f", cwd=theirs)
    r = mlvc("gc", "-T", "-f", cwd=ours)
    assert f"`{t1_dir}`" in r.stderr and "in no cache or remote" in r.stderr
    kept = cache_objects(ours / ".dvc/cache")
    assert kept == cache_objects(theirs / ".dvc/cache")
    assert len(kept) == 3  # the workspace's `.dir`, a and b; t1's `old` is gone


def test_gc_reads_a_lost_manifest_from_the_default_remote(tools: Tools) -> None:
    mlvc, _dvc, git, repo = tools
    t1_dir = lost_manifest_repo(mlvc, git, repo)
    mlvc("remote", "add", "-d", "store", str(repo.parent / "store"))
    git("checkout", "-q", "t1")
    mlvc("push", "-q")
    git("checkout", "-q", "main")
    (repo / ".dvc/cache/files/md5" / t1_dir[:2] / t1_dir[2:]).unlink()
    before = cache_objects(repo / ".dvc/cache")
    r = mlvc("gc", "-T", "-f")
    assert "in no cache or remote" not in r.stderr
    # Improvement on DVC, which deletes `old`: the pushed manifest says t1 still uses it.
    assert cache_objects(repo / ".dvc/cache") == before


def test_gc_with_an_unknown_remote_is_a_config_error_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    history_repo(mlvc, git, repo)
    before = cache_objects(repo / ".dvc/cache")
    for tool in (dvc, mlvc):
        r = tool("gc", "-f", "-w", "-c", "-r", "nosuch", check=False)
        assert r.returncode == 251, r
        assert cache_objects(repo / ".dvc/cache") == before
