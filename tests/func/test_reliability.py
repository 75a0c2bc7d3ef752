"""Interrupted, concurrent and failing commands leave the cache and workspace consistent."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import mlvc
from tests.conftest import dvc_python
from tests.interop.conftest import Runner

MLVC = [sys.executable, "-m", "mlvc"]


def make_data(root: Path, nfiles: int = 1500, size: int = 64 * 1024) -> dict[str, str]:
    """Writes `nfiles` distinct files; returns relpath -> md5."""
    rng = random.Random(7)
    block = rng.randbytes(size)
    want = {}
    for i in range(nfiles):
        rel = f"d{i % 30}/f{i}"
        data = i.to_bytes(8, "little") + block[8:]
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        want[rel] = hashlib.md5(data).hexdigest()
    return want


def assert_data(root: Path, want: dict[str, str], *, allow_temps: bool = False) -> None:
    """The tree holds exactly `want`; a killed writer's temp files may be allowed."""
    got = {
        p.relative_to(root).as_posix(): hashlib.md5(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file() and not (allow_temps and p.name.endswith(".mlvc-tmp"))
    }
    assert got == want


def assert_cache_sound(repo: Path) -> None:
    cache = mlvc.Cache(repo / ".dvc" / "cache")
    assert cache.verify() == [], "a cache object does not match its name"


def timed_run(args: list[str], repo: Path) -> float:
    """Runs an mlvc command to completion; returns how long it took."""
    started = time.perf_counter()
    subprocess.run([*MLVC, *args], cwd=repo, check=True, capture_output=True)
    return time.perf_counter() - started


# Kill points as fractions of a full run: early, middle, late, whatever the machine's speed.
KILL_FRACTIONS = (0.3, 0.55, 0.8)


def start_and_kill(
    args: list[str], repo: Path, env: dict[str, str], sig: int, delay: float
) -> None:
    proc = subprocess.Popen(
        [*MLVC, *args], cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(delay)
    proc.send_signal(sig)
    proc.wait(timeout=60)


def count_files(root: Path) -> int:
    """Files below `root` (temp names included), cheaply enough to poll."""
    return sum(len(files) for _dir, _dirs, files in os.walk(root))


def files_being_written(directory: Path) -> int:
    """Files in `directory` and in the private directories it is filled in
    (`.NAME.PID.N.mlvc-tmp` beside it) until it is renamed into place."""
    private = directory.parent.glob(f".{directory.name}.*.mlvc-tmp")
    return sum(count_files(d) for d in [directory, *private] if d.exists())


def kill_on_progress(
    args: list[str], repo: Path, env: dict[str, str], sig: int, watched: Path, at_least: int
) -> bool:
    """Kills the command once `watched` holds `at_least` files (counting those of
    a private directory it is being filled in): certainly mid-way, however fast
    the machine. Returns whether it was still running then."""
    proc = subprocess.Popen(
        [*MLVC, *args], cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if files_being_written(watched) >= at_least:
            break
        time.sleep(0.002)
    running = proc.poll() is None
    if running:
        proc.send_signal(sig)
    proc.wait(timeout=60)
    return running


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
@pytest.mark.parametrize("cache_type", ["reflink,copy", "hardlink"])
def test_killed_add_then_rerun_is_consistent(
    tools: tuple[Runner, Runner, Runner, Path], sig: int, cache_type: str
) -> None:
    mlvc_run, dvc, _git, repo = tools
    mlvc_run("init", "-q")
    if cache_type != "reflink,copy":
        (repo / ".dvc" / "config").write_text(f"[cache]\n    type = {cache_type}\n")
    want = make_data(repo / "data")
    scratch = repo.parent / "scratch"
    shutil.copytree(repo, scratch, symlinks=True)
    full = timed_run(["add", "data"], scratch)
    shutil.rmtree(scratch)
    env = {**os.environ}
    # Once mid-way for certain (a third of the objects stored), then at fractions
    # of a full run's time, which may also land in start-up or after the end.
    objects = repo / ".dvc" / "cache" / "files" / "md5"
    landed = kill_on_progress(["add", "data"], repo, env, sig, objects, len(want) // 3)
    interrupted = int(landed and not (repo / "data.dvc").exists())
    assert_data(repo / "data", want, allow_temps=True)
    assert_cache_sound(repo)
    for delay in (f * full for f in KILL_FRACTIONS):
        start_and_kill(["add", "data"], repo, env, sig, delay)
        # The .dvc file is written last: its absence shows the kill landed mid-add.
        interrupted += not (repo / "data.dvc").exists()
        # Whatever happened, the workspace still holds every file, unchanged
        # (a SIGKILL may leave a temp file, which is never taken for data).
        assert_data(repo / "data", want, allow_temps=True)
        assert_cache_sound(repo)
    assert interrupted, "no kill landed before `add` finished; the data set is too small"
    mlvc_run("add", "data")
    if cache_type == "hardlink":
        # Linking back walks the directory and clears dead writers' temp files.
        assert_data(repo / "data", want)
    assert_data(repo / "data", want, allow_temps=True)
    assert_cache_sound(repo)
    assert json.loads(dvc("status", "--json").stdout) == {}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_killed_checkout_then_rerun_restores_everything(
    tools: tuple[Runner, Runner, Runner, Path], sig: int
) -> None:
    mlvc_run, _dvc, _git, repo = tools
    mlvc_run("init", "-q")
    want = make_data(repo / "data", nfiles=3000)
    mlvc_run("add", "data")
    shutil.rmtree(repo / "data")
    full = timed_run(["checkout"], repo)
    partial = 0
    # Once mid-way for certain (a third of the files back), then at fractions
    # of a full run's time, which may also land in start-up or after the end.
    for delay in (None, *(f * full for f in KILL_FRACTIONS)):
        shutil.rmtree(repo / "data")
        if delay is None:
            data = repo / "data"
            kill_on_progress(["checkout"], repo, dict(os.environ), sig, data, len(want) // 3)
        else:
            start_and_kill(["checkout"], repo, dict(os.environ), sig, delay)
        present = sum(1 for p in (repo / "data").rglob("f*")) if (repo / "data").exists() else 0
        partial += present < len(want)
        leftovers = (
            [p for p in (repo / "data").rglob("*.mlvc-tmp")] if (repo / "data").exists() else []
        )
        for p in leftovers:
            # A temp name never carries the final name; the rerun replaces it.
            assert p.name.startswith(".")
        mlvc_run("checkout", "--force")
        want_files = dict(want)
        got = {
            p.relative_to(repo / "data").as_posix(): hashlib.md5(p.read_bytes()).hexdigest()
            for p in (repo / "data").rglob("*")
            if p.is_file() and not p.name.endswith(".mlvc-tmp")
        }
        assert got == want_files
        assert not list(repo.glob(".data.*.mlvc-tmp")), "a killed checkout's directory is left"
    assert partial, "no kill landed before `checkout` finished"
    assert json.loads(mlvc_run("status", "--json").stdout) == {}


def object_names(root: Path, *, temps: bool = False) -> list[str]:
    """Names of the files in a cache's object dirs; temp files (and the files of
    object dirs still being filled under a temp name) only when `temps`."""
    objects = root / "files" / "md5"
    return [
        p.name
        for p in objects.rglob("*")
        if p.is_file()
        and (temps or not any(part.endswith(".mlvc-tmp") for part in p.relative_to(objects).parts))
    ]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
@pytest.mark.parametrize("phase", ["fetch", "checkout"])
def test_killed_pull_then_rerun_restores_everything(
    tools: tuple[Runner, Runner, Runner, Path], sig: int, phase: str
) -> None:
    mlvc_run, dvc, _git, repo = tools
    mlvc_run("init", "-q")
    mlvc_run("remote", "add", "-d", "store", "../remote")
    # Enough objects that a fetch outlasts the ~100 ms in which Ctrl-C is honoured.
    want = make_data(repo / "data", nfiles=10000, size=8 * 1024)
    mlvc_run("add", "data")
    mlvc_run("push")
    cache = repo / ".dvc" / "cache"
    shutil.rmtree(cache)
    shutil.rmtree(repo / "data")
    # Kill once the phase has visibly started: objects in the cache, or files in the workspace.
    watched = cache if phase == "fetch" else repo / "data"
    killed = kill_on_progress(["pull", "-j", "2"], repo, dict(os.environ), sig, watched, 201)
    assert killed, f"`pull` finished before its {phase} could be interrupted"
    fetched = len(object_names(cache))
    # Whatever was cut short, nothing carries a final name with partial content.
    assert_cache_sound(repo)
    for p in (repo / "data").rglob("*") if (repo / "data").exists() else []:
        if p.is_file() and not p.name.endswith(".mlvc-tmp"):
            rel = p.relative_to(repo / "data").as_posix()
            assert hashlib.md5(p.read_bytes()).hexdigest() == want[rel], rel
    if phase == "fetch":
        assert fetched < len(want) + 1, "the kill landed after the fetch"
    # The rerun completes: it fetches only what is missing, then restores the workspace.
    r = mlvc_run("pull")
    if phase == "fetch":
        assert f"{len(want) + 1 - fetched} files fetched" in r.stdout, r.stdout
    assert_data(repo / "data", want)
    assert_cache_sound(repo)
    assert len(object_names(cache, temps=True)) == len(want) + 1, "temp files left in the cache"
    assert not list(repo.glob(".data.*.mlvc-tmp")), "a killed checkout's directory is left"
    assert json.loads(mlvc_run("status", "--json").stdout) == {}
    assert json.loads(dvc("status", "--json").stdout) == {}


def test_lock_is_shared_with_dvc(tools: tuple[Runner, Runner, Runner, Path]) -> None:
    mlvc_run, dvc, _git, repo = tools
    mlvc_run("init", "-q")
    (repo / "f").write_text("x")
    lock_path = repo / ".dvc" / "tmp" / "lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        # Held the way DVC holds it: mlvc must wait, then give up with a clear message.
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        r = mlvc_run("add", "f", check=False)
        assert r.returncode != 0
        assert "locked" in r.stderr and "error:" in r.stderr
    finally:
        os.close(fd)
    assert not (repo / "f.dvc").exists()
    # And DVC sees mlvc's lock: hold it from mlvc's own lock class.
    from mlvc.lock import RepoLock

    with RepoLock(lock_path):
        r = dvc("add", "f", check=False)
        assert r.returncode != 0
        assert "lock" in (r.stderr + r.stdout).lower()
    mlvc_run("add", "f")


# Holds the repository lock through DVC's own class, with `core.hardlink_lock`.
HOLD_DVC_HARDLINK_LOCK = """
import sys
from dvc.lock import make_lock
lock = make_lock(sys.argv[1] + "/lock", tmp_dir=sys.argv[1], hardlink_lock=True)
lock.lock()
print("locked", flush=True)
sys.stdin.read()
lock.unlock()
"""


def test_hardlink_lock_is_shared_with_dvc(tools: tuple[Runner, Runner, Runner, Path]) -> None:
    mlvc_run, dvc, _git, repo = tools
    mlvc_run("init", "-q")
    tmp = repo / ".dvc" / "tmp"
    tmp.mkdir(exist_ok=True)
    # A lock file the `flock` way leaves behind must not wedge the other way.
    (tmp / "lock").write_text(f" {os.getpid()}\n")
    mlvc_run("config", "core.hardlink_lock", "true")
    for name in ("f", "g", "h"):
        (repo / name).write_text(name)
    mlvc_run("add", "-q", "f")
    assert sorted(p.name for p in tmp.iterdir() if p.suffix == ".lock" or p.name == "lock") == []
    dvc("add", "-q", "g")  # not wedged by anything mlvc left
    holder = subprocess.Popen(
        [str(dvc_python()), "-c", HOLD_DVC_HARDLINK_LOCK, str(tmp)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        r = mlvc_run("add", "h", check=False)
        assert r.returncode != 0 and "error: cannot lock" in r.stderr
        assert "delete `" in r.stderr  # a killed command's lock file must go by hand
    finally:
        holder.communicate("")
    assert not (repo / "h.dvc").exists()
    from mlvc.lock import RepoLock

    with RepoLock(tmp / "lock", hardlink=True):
        assert (tmp / "lock").stat().st_nlink == 2
        r = dvc("add", "h", check=False)
        assert r.returncode != 0 and "Unable to acquire lock" in r.stderr
    mlvc_run("add", "-q", "h")
    assert json.loads(dvc("status", "--json").stdout) == {}


def host_tag() -> int:
    """The core's tag of this host's name (FNV-1a), as temp names carry it."""
    tag = 0x811C9DC5
    for b in socket.gethostname().encode():
        tag = ((tag ^ b) * 0x01000193) & 0xFFFFFFFF
    return tag


def test_temp_files_of_other_hosts_are_left_alone(
    tools: tuple[Runner, Runner, Runner, Path],
) -> None:
    """A cache or workspace shared over NFS: a pid says nothing about another host's
    processes, so only this host's dead writers' leftovers are cleared."""
    mlvc_run, _dvc, _git, repo = tools
    mlvc_run("init", "-q")
    want = make_data(repo / "data", nfiles=20, size=1024)
    mlvc_run("add", "-q", "data")
    shutil.rmtree(repo / "data")
    dead_pid = 2147483646
    ours = repo / f".data.{dead_pid}-{host_tag():08x}.0.mlvc-tmp"
    older = repo / f".data.{dead_pid}.1.mlvc-tmp"
    other = repo / f".data.{dead_pid}-{host_tag() ^ 1:08x}.2.mlvc-tmp"
    for d in (ours, older, other):
        d.mkdir()
        (d / "partial").write_bytes(b"x")
    mlvc_run("checkout", "-q")
    assert_data(repo / "data", want)
    assert not ours.exists() and not older.exists()
    assert (other / "partial").read_bytes() == b"x"
    assert json.loads(mlvc_run("status", "--json").stdout) == {}


def test_two_concurrent_adds_do_not_corrupt(tools: tuple[Runner, Runner, Runner, Path]) -> None:
    mlvc_run, dvc, _git, repo = tools
    mlvc_run("init", "-q")
    want_a = make_data(repo / "a", nfiles=600)
    want_b = make_data(repo / "b", nfiles=600, size=32 * 1024)
    procs = [
        subprocess.Popen([*MLVC, "add", t], cwd=repo, stderr=subprocess.PIPE, text=True)
        for t in ("a", "b")
    ]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    for rc, err in results:
        assert rc == 0 or "locked" in err, err
    assert_data(repo / "a", want_a)
    assert_data(repo / "b", want_b)
    assert_cache_sound(repo)
    for t, (rc, _err) in zip(("a", "b"), results, strict=True):
        if rc != 0:
            mlvc_run("add", t)
    assert json.loads(dvc("status", "--json").stdout) == {}


def test_full_disk_during_add_changes_nothing(
    tools: tuple[Runner, Runner, Runner, Path], tmp_path: Path
) -> None:
    mlvc_run, _dvc, _git, repo = tools
    mount = tmp_path / "small"
    mount.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)])
    assert r.returncode == 0, "needs root to mount a small tmpfs (CI runs as root)"
    try:
        mlvc_run("init", "-q")
        (repo / ".dvc" / "config").write_text(f"[cache]\n    dir = {mount / 'cache'}\n")
        want = make_data(repo / "data", nfiles=200, size=64 * 1024)  # 12.5 MiB > 4 MiB
        r = mlvc_run("add", "data", check=False)
        assert r.returncode == 1
        assert "No space left on device" in r.stderr or "space" in r.stderr.lower()
        assert r.stderr.count("\nerror:") + r.stderr.startswith("error:") == 1
        assert not (repo / "data.dvc").exists()
        assert_data(repo / "data", want)
        cache = mlvc.Cache(mount / "cache")
        assert cache.verify() == []
        assert list((mount / "cache").rglob("*.mlvc-tmp")) == []
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_malicious_dvc_file_cannot_write_outside(
    tools: tuple[Runner, Runner, Runner, Path],
) -> None:
    mlvc_run, _dvc, _git, repo = tools
    mlvc_run("init", "-q")
    (repo / "evil.dvc").write_text(
        "outs:\n- md5: d41d8cd98f00b204e9800998ecf8427e\n  size: 0\n"
        "  hash: md5\n  path: ../escaped\n"
    )
    r = mlvc_run("checkout", check=False)
    assert r.returncode == 1
    assert "evil.dvc" in r.stderr and "leaves the repository" in r.stderr
    assert not (repo.parent / "escaped").exists()


def test_malicious_dir_object_cannot_write_outside(
    tools: tuple[Runner, Runner, Runner, Path],
) -> None:
    mlvc_run, _dvc, _git, repo = tools
    mlvc_run("init", "-q")
    evil = b'[{"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "../../escaped"}]'
    dir_id = hashlib.md5(evil).hexdigest() + ".dir"
    cache = mlvc.Cache(repo / ".dvc" / "cache")
    cache.insert_bytes(dir_id, evil)
    empty = repo / "empty"
    empty.write_bytes(b"")
    cache.insert_file(empty, "d41d8cd98f00b204e9800998ecf8427e")
    (repo / "data.dvc").write_text(
        f"outs:\n- md5: {dir_id}\n  size: 0\n  nfiles: 1\n  hash: md5\n  path: data\n"
    )
    r = mlvc_run("checkout", check=False)
    assert r.returncode == 1
    assert "invalid directory object" in r.stderr
    assert not (repo.parent / "escaped").exists()


def test_malformed_files_give_one_line_errors(tools: tuple[Runner, Runner, Runner, Path]) -> None:
    mlvc_run, _dvc, _git, repo = tools
    mlvc_run("init", "-q")
    (repo / "bad.dvc").write_text("outs:\n- md5: [unclosed\n")
    r = mlvc_run("status", check=False)
    assert r.returncode == 1
    assert r.stderr.splitlines()[0].startswith("error: `") and "bad.dvc:" in r.stderr
    (repo / "bad.dvc").unlink()
    (repo / ".dvc" / "config").write_text("[core]\n    bogus_key = 1\n")
    r = mlvc_run("status", check=False)
    assert r.returncode == 251
    assert "bogus_key" in r.stderr and "config" in r.stderr
    (repo / ".dvc" / "config").write_text("")
    (repo / "f").write_text("x")
    mlvc_run("add", "f")
    shutil.rmtree(repo / ".dvc" / "cache")
    (repo / "f").unlink()
    r = mlvc_run("checkout", check=False)
    # DVC-compat: a checkout that fails for missing data exits 255, as DVC's does.
    assert r.returncode == 255
    assert "missing from the cache" in r.stderr and "`f`" in r.stderr
