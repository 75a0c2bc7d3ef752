"""push / fetch / pull / status -c against local remotes, checked with real DVC both ways."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import mlvc
from tests.interop.conftest import Runner

OBJECT = re.compile(r"files/md5/[0-9a-f]{2}/[0-9a-f]{30}(\.dir)?")


def make_data(repo: Path) -> None:
    files = {
        "images/cat.raw": b"cat" * 100,
        "images/sub/bird.raw": b"bird\n",
        "labels.csv": b"a,b\n1,2\n",
        "nopush.txt": b"private\n",
    }
    for rel, data in files.items():
        p = repo / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


def setup_repo(tool: Runner, git: Runner, repo: Path) -> None:
    """A committed repo with a dir, a file and a `push: false` output, remote `../remote`."""
    tool("init", "-q")
    tool("remote", "add", "-d", "store", "../remote")
    make_data(repo)
    tool("add", "images", "labels.csv", "nopush.txt")
    dvcfile = repo / "nopush.txt.dvc"
    dvcfile.write_text(dvcfile.read_text() + "  push: false\n")
    git("add", "-A")
    git("commit", "-q", "-m", "data")


def remote_listing(remote: Path) -> dict[str, int]:
    return {
        p.relative_to(remote).as_posix(): p.stat().st_mode & 0o777
        for p in sorted(remote.rglob("*"))
        if p.is_file()
    }


def wipe_local(repo: Path) -> None:
    cache = repo / ".dvc" / "cache"
    for p in [cache, repo / "images", repo / "labels.csv"]:
        if p.is_dir():
            for sub in [p, *p.rglob("*")]:
                if sub.is_dir():
                    sub.chmod(0o755)
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()


def test_mlvc_push_serves_dvc_pull(tools: tuple[Runner, Runner, Runner, Path]) -> None:
    mlvc_, dvc, git, repo = tools
    setup_repo(mlvc_, git, repo)
    r = mlvc_("push")
    assert r.stdout == "4 files pushed\n"
    assert mlvc_("push").stdout == "Everything is up to date.\n"
    remote = repo.parent / "remote"
    listing = remote_listing(remote)
    assert len(listing) == 4 and all(OBJECT.fullmatch(p) for p in listing)
    assert set(listing.values()) == {0o444}
    wipe_local(repo)
    r = dvc("pull", check=False)
    assert "4 files fetched and 3 files added" in r.stdout
    assert (repo / "images/sub/bird.raw").read_bytes() == b"bird\n"
    # Only the `push: false` output (still in the workspace) is not in the cache.
    status = json.loads(dvc("status", "--json").stdout)
    assert status == {"nopush.txt.dvc": [{"changed outs": {"nopush.txt": "not in cache"}}]}


def test_dvc_push_serves_mlvc_pull(tools: tuple[Runner, Runner, Runner, Path]) -> None:
    mlvc_, dvc, git, repo = tools
    setup_repo(dvc, git, repo)
    dvc("push")
    wipe_local(repo)
    r = mlvc_("pull")
    assert r.stdout == "A       images/\nA       labels.csv\n4 files fetched and 3 files added\n"
    assert "md5: " in r.stderr  # the `push: false` object is reported missing
    assert (repo / "images/cat.raw").read_bytes() == b"cat" * 100
    assert json.loads(dvc("status", "--json").stdout) == {
        "nopush.txt.dvc": [{"changed outs": {"nopush.txt": "not in cache"}}]
    }


def test_remote_layout_and_modes_match_dvc(
    tools: tuple[Runner, Runner, Runner, Path], tmp_path: Path
) -> None:
    mlvc_, dvc, git, repo = tools
    setup_repo(mlvc_, git, repo)
    mlvc_("push")
    dvc("push", "-r", "other", check=False)  # unknown remote: a clean failure, nothing written
    dvc("remote", "add", "other", str(tmp_path / "dvc-remote"))
    dvc("push", "-r", "other")
    assert remote_listing(repo.parent / "remote") == remote_listing(tmp_path / "dvc-remote")


def pushed_repo(
    tool: Runner, git: Runner, root: Path, config: Sequence[tuple[str, str]] = ()
) -> Path:
    """A repository at `root` made by `tool`, with `config` set, its data added and
    pushed to remote `store` at `<root>-remote`."""
    root.mkdir()
    git("init", "-q", cwd=root)
    tool("init", "-q", cwd=root)
    tool("remote", "add", "-d", "store", f"../{root.name}-remote", cwd=root)
    for key, value in config:
        tool("config", key, value, cwd=root)
    make_data(root)
    tool("add", "-q", "images", "labels.csv", cwd=root)
    tool("push", "-q", cwd=root)
    return root


def modes(root: Path) -> dict[str, int]:
    """Every path under `root` (directories too) and its mode bits, setgid included."""
    return {p.relative_to(root).as_posix(): p.stat().st_mode & 0o7777 for p in root.rglob("*")}


def test_shared_group_cache_and_remote_modes_match_dvc(
    tools: tuple[Runner, Runner, Runner, Path], tmp_path: Path
) -> None:
    mlvc_, dvc, git, _repo = tools
    found = []
    for name, tool in (("theirs", dvc), ("ours", mlvc_)):
        root = pushed_repo(
            tool,
            git,
            tmp_path / name,
            [("cache.shared", "group"), ("remote.store.shared", "group")],
        )
        cache = root / ".dvc" / "cache"
        pushed = (modes(cache), modes(tmp_path / f"{name}-remote"))
        wipe_local(root)
        tool("pull", "-q", cwd=root)
        found.append((pushed, modes(cache)))
    assert found[0] == found[1]
    (cache_modes, _remote_modes), _pulled = found[1]
    assert cache_modes["files/md5"] == 0o2775  # group-writable and setgid, as DVC makes them
    assert set(found[1][0][1].values()) == {0o2775, 0o444}


def test_remote_verify_drops_corrupt_downloads_like_dvc(
    tools: tuple[Runner, Runner, Runner, Path], tmp_path: Path
) -> None:
    mlvc_, dvc, git, _repo = tools
    found = []
    for name, tool in (("theirs", dvc), ("ours", mlvc_)):
        root = pushed_repo(tool, git, tmp_path / name)
        # The remote's copy of `images/cat.raw` is damaged.
        (obj,) = [
            p
            for p in (tmp_path / f"{name}-remote").rglob("*")
            if p.is_file() and p.read_bytes() == b"cat" * 100
        ]
        obj.chmod(0o644)
        obj.write_bytes(b"dog" * 100)
        codes: list[object] = []  # exit codes, then what the pull left
        for verify in ("false", "true"):
            tool("config", "remote.store.verify", verify, cwd=root)
            for cmd in ("fetch", "pull"):
                wipe_local(root)
                codes.append(tool(cmd, "-q", cwd=root, check=False).returncode)
            cat = root / "images" / "cat.raw"
            cached = sorted(p.read_bytes() for p in (root / ".dvc/cache").rglob("*") if p.is_file())
            found_here = (cat.read_bytes() if cat.exists() else None, b"dog" * 100 in cached)
            codes.append(found_here)
        found.append(codes)
    # Without `verify` the damage is taken for data; with it, nothing damaged is kept
    # and the pull fails. A fetch that kept nothing damaged fails too: DVC exits 0
    # there, leaving the data missing without a word.
    assert found[0] == [0, 0, (b"dog" * 100, True), 0, 1, (None, False)]
    assert found[1] == [0, 0, (b"dog" * 100, True), 1, 1, (None, False)]


def test_status_cloud_json_matches_dvc(tools: tuple[Runner, Runner, Runner, Path]) -> None:
    mlvc_, dvc, git, repo = tools
    setup_repo(mlvc_, git, repo)

    def both() -> dict[str, str]:
        ours = json.loads(mlvc_("status", "-c", "--json").stdout)
        theirs = json.loads(dvc("status", "-c", "--json").stdout)
        assert sorted(ours.items()) == sorted(theirs.items())
        return dict(ours)

    assert both()["images/sub/bird.raw"] == "new"
    mlvc_("push", "labels.csv")
    assert "labels.csv" not in both()
    mlvc_("push")
    assert both() == {}
    assert mlvc_("status", "-c").stdout == "Cache and remote 'store' are in sync.\n"
    wipe_local(repo)
    assert set(both().values()) == {"deleted"}
    assert "\tdeleted:            labels.csv\n" in mlvc_("status", "-c").stdout


def test_status_cloud_names_each_object_once_like_dvc(
    tools: tuple[Runner, Runner, Runner, Path],
) -> None:
    """Identical files share one object, and DVC lists an object once, under the first
    path holding it (a directory's files in sorted order)."""
    mlvc_, dvc, _git, repo = tools
    mlvc_("init", "-q")
    mlvc_("remote", "add", "-d", "store", "../remote")
    for rel in ("set/b.txt", "set/a.txt", "set/c/z.txt"):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text("same\n")
    (repo / "set" / "own.txt").write_text("own\n")
    (repo / "other.txt").write_text("other\n")
    mlvc_("add", "set", "other.txt")
    found = [json.loads(tool("status", "-c", "--json").stdout) for tool in (dvc, mlvc_)]
    assert found[0] == found[1]
    assert sorted(found[1]) == ["other.txt", "set", "set/a.txt", "set/own.txt"]
    mlvc_("push", "other.txt")
    found = [json.loads(tool("status", "-c", "--json").stdout) for tool in (dvc, mlvc_)]
    assert found[0] == found[1]
    assert sorted(found[1]) == ["set", "set/a.txt", "set/own.txt"]


def test_unknown_and_unsupported_remotes_fail_clearly(
    tools: tuple[Runner, Runner, Runner, Path],
) -> None:
    mlvc_, _dvc, git, repo = tools
    setup_repo(mlvc_, git, repo)
    r = mlvc_("push", "-r", "nope", check=False)
    assert r.returncode == 1
    assert "remote `nope` doesn't exist" in r.stderr and "hint:" in r.stderr
    mlvc_("remote", "add", "s3r", "s3://bucket/path")
    r = mlvc_("fetch", "-r", "s3r", check=False)
    assert r.returncode != 0 and "`s3r`" in r.stderr and "s3://" in r.stderr
    mlvc_("remote", "default", "--unset")
    r = mlvc_("push", check=False)
    assert r.returncode == 1 and "no remote specified" in r.stderr
    assert "mlvc remote add -d" in r.stderr


def test_push_skips_outputs_and_warns_on_missing_objects(
    tools: tuple[Runner, Runner, Runner, Path],
) -> None:
    mlvc_, dvc, git, repo = tools
    setup_repo(mlvc_, git, repo)
    cache = mlvc.Cache(repo / ".dvc" / "cache")
    label_md5 = "e0ef8d4de2e0e7c0e5b5d8e1bd5a4c19"
    for line in (repo / "labels.csv.dvc").read_text().splitlines():
        if "md5:" in line:
            label_md5 = line.split()[-1]
    obj = Path(cache.object_path(label_md5))
    obj.chmod(0o644)
    obj.unlink()
    ours = mlvc_("push", check=False)
    theirs = dvc("push", "-r", "store", check=False)
    # DVC-compat: DVC 3.67 warns and still exits 0.
    assert ours.returncode == theirs.returncode == 0
    assert f"md5: {label_md5}" in ours.stderr
    remote = repo.parent / "remote"
    names = {p.name for p in remote.rglob("*") if p.is_file()}
    assert label_md5[2:] not in names
    # `push: false`: nopush.txt never reaches the remote.
    nopush = (repo / "nopush.txt.dvc").read_text().split("md5: ")[1].split()[0]
    assert nopush[2:] not in names


def test_fetch_fails_like_dvc_when_a_directory_file_is_not_on_the_remote(
    tools: tuple[Runner, Runner, Runner, Path],
) -> None:
    mlvc_, dvc, git, repo = tools
    setup_repo(mlvc_, git, repo)
    mlvc_("push", "-q")
    objects = repo.parent / "remote/files/md5"
    # Gone from the remote: a file of the `images` directory, and `labels.csv` itself.
    bird_md5 = mlvc.hash_files([str(repo / "images/sub/bird.raw")])[0].hash
    (objects / bird_md5[:2] / bird_md5[2:]).unlink()
    label_md5 = (repo / "labels.csv.dvc").read_text().split("md5: ")[1].split()[0]
    (objects / label_md5[:2] / label_md5[2:]).unlink()
    results = {}
    for name, tool in (("dvc", dvc), ("mlvc", mlvc_)):
        wipe_local(repo)
        results[name] = tool("fetch", check=False)
        # The rest was fetched: cat.raw's object is in the cache.
        assert len(list((repo / ".dvc/cache/files/md5").rglob("*"))) >= 3, name
    ours, theirs = results["mlvc"], results["dvc"]
    assert ours.returncode == theirs.returncode == 1, (ours, theirs)
    assert f"`{bird_md5}`" in ours.stderr and "failed to fetch" in ours.stderr
    # A missing top-level object stays a warning, as in DVC.
    assert f"md5: {label_md5}" in ours.stderr and f"md5: {label_md5}" in theirs.stderr
    wipe_local(repo)
    only_labels = mlvc_("fetch", "labels.csv", check=False)
    assert only_labels.returncode == 0 and f"md5: {label_md5}" in only_labels.stderr


def test_interrupted_push_resumes_without_corruption(
    tools: tuple[Runner, Runner, Runner, Path],
) -> None:
    mlvc_, _dvc, _git, repo = tools
    mlvc_("init", "-q")
    mlvc_("remote", "add", "-d", "store", "../remote")
    data = repo / "many"
    data.mkdir()
    for i in range(3000):
        (data / f"f{i:05}.bin").write_bytes(os.urandom(64 * 1024))
    mlvc_("add", "many")
    remote = repo.parent / "remote"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DVC_")}
    env["DVC_GLOBAL_CONFIG_DIR"] = str(repo.parent / "dvc-global")
    env["DVC_SYSTEM_CONFIG_DIR"] = str(repo.parent / "dvc-system")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlvc", "push", "-j", "2"],
        cwd=repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        # os.walk, unlike rglob, passes over directories renamed while it reads
        # (object directories are filled under a temp name, then renamed).
        if sum(len(dirs) + len(names) for _, dirs, names in os.walk(remote)) > 100:
            break
        time.sleep(0.005)
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = sum(1 for p in remote.rglob("*") if p.is_file())
    assert killed and 0 < partial < 3001, "push finished before it could be interrupted"
    # The rerun sends only the rest, and the lock of the killed run does not block it.
    r = mlvc_("push")
    assert r.stdout.endswith("files pushed\n")
    store = mlvc.Cache(remote)
    assert store.verify() == []
    files = [p.relative_to(remote).as_posix() for p in remote.rglob("*") if p.is_file()]
    assert len(files) == 3001
    assert all(OBJECT.fullmatch(f) for f in files), "temp files left on the remote"


# --- status -c over revisions ---------------------------------------------------------


def test_status_cloud_over_branches_tags_and_commits_like_dvc(
    tools: tuple[Runner, Runner, Runner, Path],
) -> None:
    mlvc_, dvc, git, repo = tools
    setup_repo(mlvc_, git, repo)
    git("tag", "v1")
    (repo / "labels.csv").write_text("a,b\n3,4\n")
    mlvc_("add", "-q", "labels.csv")
    git("commit", "-qam", "labels 2")
    git("checkout", "-q", "-b", "side")
    (repo / "labels.csv").write_text("a,b\n5,6\n")
    mlvc_("add", "-q", "labels.csv")
    git("commit", "-qam", "labels 3")
    git("checkout", "-q", "main")
    mlvc_("checkout", "-q")
    mlvc_("push", "-q")  # the workspace only: older labels stay local

    def same(*flags: str) -> dict[str, str]:
        ours = json.loads(mlvc_("status", "-c", "--json", *flags).stdout)
        theirs = json.loads(dvc("status", "-c", "--json", *flags).stdout)
        assert ours == theirs, flags
        return dict(ours)

    assert same() == {}
    assert same("-a") == {"labels.csv": "new"}  # the `side` branch
    assert same("-T") == {"labels.csv": "new"}  # tag v1
    assert same("--all-commits") == same("-A") == {"labels.csv": "new"}
    assert same("-r", "store", "-a") == {"labels.csv": "new"}
    text = mlvc_("status", "-c", "-a").stdout
    assert text == dvc("status", "-c", "-a").stdout == "\tnew:                labels.csv\n"
    for flags in (["-c", "-a", "-q"], ["-c", "-q"], ["-a"]):
        ours, theirs = mlvc_("status", *flags, check=False), dvc("status", *flags, check=False)
        assert ours.returncode == theirs.returncode, flags
        assert ours.stdout == theirs.stdout == "", flags
    assert mlvc_("status", "-a", check=False).stderr.startswith(
        "error: The following options are meaningless for local status: --all-branches\nhint: "
    )
    mlvc_("push", "-q", "-A")
    assert same("-A") == {}
    assert mlvc_("status", "-c", "-T").stdout == "Cache and remote 'store' are in sync.\n"


# --- run cache --------------------------------------------------------------------------

PIPELINE = """\
stages:
  copy:
    cmd: cat params.yaml in.txt > out.txt; echo ran >> ran.log
    deps:
    - in.txt
    params:
    - lr
    outs:
    - out.txt
"""


def _pipeline_repo(tool: Runner, git: Runner, repo: Path, remote: Path) -> None:
    """Two runs of one stage (lr 1, then lr 2) in the run cache; lr 2 is committed."""
    tool("init", "-q")
    tool("remote", "add", "-d", "store", str(remote))
    (repo / "dvc.yaml").write_text(PIPELINE)
    (repo / "in.txt").write_text("in\n")
    (repo / ".gitignore").write_text("ran.log\n")
    for lr in (1, 2):
        (repo / "params.yaml").write_text(f"lr: {lr}\n")
        tool("repro", "-q")
        git("add", "-A")
        git("commit", "-qm", f"lr {lr}")


def _runs(root: Path) -> dict[str, bytes]:
    runs = root / "runs"
    return {p.relative_to(runs).as_posix(): p.read_bytes() for p in runs.rglob("*") if p.is_file()}


def _clone_and_restore(first: Runner, git: Runner, tmp: Path, source: Path) -> Path:
    """Clones `source`, fetches with `first` (run cache and all commits), goes back to lr 1."""
    clone = tmp / "clone"
    git("clone", "-q", str(source), str(clone))
    first("fetch", "--run-cache", "-A", cwd=clone)
    (clone / "params.yaml").write_text("lr: 1\n")
    return clone


def test_dvc_run_cache_push_serves_mlvc_pull_and_repro(
    tools: tuple[Runner, Runner, Runner, Path], tmp_path: Path
) -> None:
    mlvc_, dvc, git, repo = tools
    remote = tmp_path / "remote"
    _pipeline_repo(dvc, git, repo, remote)
    assert dvc("push", "--run-cache", "-A").stdout == "4 files pushed\n"  # 2 runs + 2 outs
    assert len(_runs(remote)) == 2
    clone = _clone_and_restore(mlvc_, git, tmp_path, repo)
    assert _runs(clone / ".dvc" / "cache") == _runs(remote)
    out = mlvc_("repro", cwd=clone).stdout
    assert "Stage 'copy' is cached - skipping run, checking out outputs" in out
    assert not (clone / "ran.log").exists()
    assert (clone / "out.txt").read_text() == "lr: 1\nin\n"
    assert dvc("status", cwd=clone).stdout == "Data and pipelines are up to date.\n"


def test_mlvc_run_cache_push_serves_dvc_pull_and_repro(
    tools: tuple[Runner, Runner, Runner, Path], tmp_path: Path
) -> None:
    mlvc_, dvc, git, repo = tools
    remote = tmp_path / "remote"
    _pipeline_repo(mlvc_, git, repo, remote)
    assert mlvc_("push", "--run-cache", "-A").stdout == "4 files pushed\n"
    # DVC-compat: every run-cache entry is copied (and counted) again on each push.
    assert mlvc_("push", "--run-cache").stdout == "2 files pushed\n"
    assert mlvc_("push", "--no-run-cache", "-A").stdout == "Everything is up to date.\n"
    runs = _runs(remote)
    assert len(runs) == 2
    assert {(p.stat().st_mode & 0o777) for p in (remote / "runs").rglob("*") if p.is_file()} == {
        0o644
    }
    assert runs == _runs(repo / ".dvc" / "cache")
    clone = _clone_and_restore(dvc, git, tmp_path, repo)
    out = dvc("repro", cwd=clone).stdout
    assert "Stage 'copy' is cached - skipping run, checking out outputs" in out
    assert not (clone / "ran.log").exists()
    assert (clone / "out.txt").read_text() == "lr: 1\nin\n"


def test_pull_run_cache_matches_dvc(
    tools: tuple[Runner, Runner, Runner, Path], tmp_path: Path
) -> None:
    mlvc_, dvc, git, repo = tools
    remote = tmp_path / "remote"
    _pipeline_repo(dvc, git, repo, remote)
    dvc("push", "--run-cache")
    results = {}
    for name, tool in (("mlvc", mlvc_), ("dvc", dvc)):
        clone = tmp_path / name
        git("clone", "-q", str(repo), str(clone))
        r = tool("pull", "--run-cache", cwd=clone)
        results[name] = (r.stdout, _runs(clone / ".dvc" / "cache"), (clone / "out.txt").read_text())
    assert results["mlvc"] == results["dvc"]
    assert len(results["mlvc"][1]) == 2


def test_transfers_without_any_remote_exit_like_dvc(tmp_path: Path) -> None:
    """No `-r` and no default remote: fetch and pull only warn (the checkout then
    fails if data is missing), push fails, and `status -c` of an empty project is fine."""
    from tests.conftest import dvc_executable, run_captured
    from tests.interop.conftest import base_env

    env = base_env(tmp_path)
    tools = {"mlvc": [sys.executable, "-m", "mlvc"], "dvc": [str(dvc_executable())]}
    codes: dict[str, list[tuple[str, int, bool]]] = {}
    for name, argv in tools.items():
        repo = tmp_path / name
        repo.mkdir()

        def run(*args: str, cwd: Path = repo, exe: Sequence[str] = argv) -> tuple[int, str]:
            r = run_captured([*exe, *args], cwd=cwd, env=env)
            return r.returncode, r.stderr

        subprocess.run(["git", "init", "-q"], cwd=repo, env=env, check=True)
        run("init", "-q")
        seen = []
        for args in (["status", "-c"], ["push"], ["fetch"], ["pull"]):
            code, err = run(*args)
            seen.append((" ".join(args), code, "No remote provided" in err))
        (repo / "f").write_text("hi\n")
        run("add", "-q", "f")
        shutil.rmtree(repo / ".dvc" / "cache")
        for args in (["fetch"], ["pull"]):
            code, err = run(*args)
            seen.append((" ".join(args) + " (data in the workspace)", code, "No remote" in err))
        (repo / "f").unlink()
        code, err = run("pull")
        seen.append(("pull (data nowhere)", code, "No remote provided" in err))
        codes[name] = seen
    assert codes["mlvc"] == codes["dvc"]
    assert [code for _what, code, _warned in codes["dvc"]] == [0, 1, 0, 0, 0, 0, 1]
