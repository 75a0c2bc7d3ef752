"""push / pull / `status -c` with partial remotes and partial caches: each case runs real DVC
and mlvc on identical copies of one repository and compares what they did."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]

DATA = {
    "data/a.txt": "alpha\n",
    "data/b.txt": "beta\n",
    "data/sub/c.txt": "gamma\n",
    "data/sub/d.txt": "delta\n",
    "model.bin": "weights\n",
}


def md5_of(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def object_path(store: Path, oid: str) -> Path:
    return store / "files" / "md5" / oid[:2] / oid[2:]


def object_ids(store: Path) -> list[str]:
    """Every object id in a cache or remote (`<md5>` or `<md5>.dir`)."""
    root = store / "files" / "md5"
    if not root.exists():
        return []
    return sorted(p.parent.name + p.name for p in root.rglob("*") if p.is_file())


def drop(store: Path, oids: list[str]) -> None:
    """Deletes objects from a cache or remote (objects are read-only)."""
    for oid in oids:
        path = object_path(store, oid)
        if path.exists():
            path.parent.chmod(0o755)
            path.unlink()


def dir_id(repo: Path, dvcfile: str) -> str:
    return (repo / dvcfile).read_text().split("md5: ")[1].split()[0]


def workspace(repo: Path) -> dict[str, str]:
    """Each file of the workspace (not `.git/`, `.dvc/`) with its content."""
    found = {}
    for dirpath, dirs, files in os.walk(repo):
        dirs[:] = [d for d in dirs if d not in (".git", ".dvc")]
        for name in files:
            path = Path(dirpath) / name
            found[path.relative_to(repo).as_posix()] = path.read_text()
    return found


def tracked_repo(mlvc: Runner, git: Runner, repo: Path) -> None:
    """`data/` (a directory) and `model.bin` tracked, pushed to `../remote`, committed."""
    mlvc("init", "-q")
    mlvc("remote", "add", "-q", "-d", "store", "../remote")
    for rel, text in DATA.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    mlvc("add", "-q", "data", "model.bin")
    mlvc("push", "-q")
    git("add", "-A")
    git("commit", "-qm", "data")


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    workspace: dict[str, str]
    cache: list[str]
    remote: list[str]

    def compared(self) -> tuple[int, str, dict[str, str], list[str], list[str]]:
        """What must match between the tools (stderr's wording may differ)."""
        return self.returncode, self.stdout, self.workspace, self.cache, self.remote


def twins(repo: Path) -> tuple[Path, Path]:
    """Two copies (mlvc's, DVC's) of the repository and its remote, side by side."""
    roots = []
    for name in ("ours", "theirs"):
        root = repo.parent / name
        shutil.copytree(repo, root / "repo", symlinks=True)
        if (repo.parent / "remote").exists():
            shutil.copytree(repo.parent / "remote", root / "remote")
        roots.append(root / "repo")
    return roots[0], roots[1]


def run_both(
    tools: Tools, *args: str, prepare: Callable[[Path], object] | None = None
) -> tuple[Outcome, Outcome]:
    """Runs `args` with mlvc and DVC, each in its own copy of the repository."""
    mlvc, dvc, _git, repo = tools
    ours, theirs = twins(repo)
    outcomes = []
    for tool, root in ((mlvc, ours), (dvc, theirs)):
        if prepare is not None:
            prepare(root)
        r: subprocess.CompletedProcess[str] = tool(*args, cwd=root, check=False)
        stdout = r.stdout
        if "--json" in args and stdout:
            stdout = json.dumps(json.loads(stdout), sort_keys=True)
        elif args[:2] == ("status", "-c"):
            stdout = "".join(sorted(stdout.splitlines(keepends=True)))  # DVC's order varies
        outcomes.append(
            Outcome(
                r.returncode,
                stdout,
                r.stderr,
                workspace(root),
                object_ids(root / ".dvc" / "cache"),
                object_ids(root.parent / "remote"),
            )
        )
    for root in (ours, theirs):
        shutil.rmtree(root.parent)
    return outcomes[0], outcomes[1]


def test_status_cloud_takes_a_dir_object_on_the_remote_for_its_files_like_dvc(
    tools: Tools,
) -> None:
    mlvc, _dvc, git, repo = tools
    tracked_repo(mlvc, git, repo)
    remote, cache = repo.parent / "remote", repo / ".dvc" / "cache"
    beta = md5_of(DATA["data/b.txt"])
    drop(remote, [beta])
    # The remote's `.dir` object vouches for `b.txt`: nothing to report.
    for args in (("status", "-c"), ("status", "-c", "--json"), ("status", "-c", "data/b.txt")):
        ours, theirs = run_both(tools, *args)
        assert ours.compared() == theirs.compared(), args
        assert "b.txt" not in ours.stdout
    # Gone from the cache too, `b.txt` is "deleted" (on the remote, as far as DVC knows).
    drop(cache, [beta])
    ours, theirs = run_both(tools, "status", "-c", "--json")
    assert ours.compared() == theirs.compared()
    assert json.loads(ours.stdout) == {"data/b.txt": "deleted"}


def test_push_sends_nothing_a_dir_object_on_the_remote_lists_like_dvc(tools: Tools) -> None:
    mlvc, _dvc, git, repo = tools
    tracked_repo(mlvc, git, repo)
    drop(repo.parent / "remote", [md5_of(DATA["data/b.txt"]), md5_of(DATA["model.bin"])])
    for args in (("push",), ("push", "data"), ("push", "data/b.txt")):
        ours, theirs = run_both(tools, *args)
        assert ours.compared() == theirs.compared(), args
    ours, _theirs = run_both(tools, "push")
    assert ours.stdout == "1 file pushed\n"  # model.bin only


def test_push_withholds_the_dir_object_of_a_directory_missing_files_like_dvc(
    tools: Tools,
) -> None:
    mlvc, _dvc, git, repo = tools
    tracked_repo(mlvc, git, repo)
    shutil.rmtree(repo.parent / "remote")
    gamma = md5_of(DATA["data/sub/c.txt"])
    drop(repo / ".dvc" / "cache", [gamma])
    ours, theirs = run_both(tools, "push")
    assert ours.compared() == theirs.compared()
    # The other files are pushed; the `.dir` object is not (DVC still counts it).
    assert dir_id(repo, "data.dvc") not in ours.remote
    assert md5_of(DATA["data/a.txt"]) in ours.remote
    assert f"md5: {gamma}" in ours.stderr and f"md5: {gamma}" in theirs.stderr


def test_pull_fails_before_checkout_when_a_directory_file_is_not_on_the_remote_like_dvc(
    tools: Tools,
) -> None:
    mlvc, _dvc, git, repo = tools
    tracked_repo(mlvc, git, repo)
    beta = md5_of(DATA["data/b.txt"])
    drop(repo.parent / "remote", [beta])

    def lose_cache_and_workspace(root: Path) -> None:
        drop(root / ".dvc" / "cache", [beta])
        (root / "model.bin").unlink()
        (root / "data" / "a.txt").unlink()

    for args in (("pull",), ("pull", "--allow-missing"), ("pull", "data")):
        ours, theirs = run_both(tools, *args, prepare=lose_cache_and_workspace)
        assert ours.compared() == theirs.compared(), args
        # Nothing was checked out: `model.bin`, whose object is cached, is still missing.
        assert ours.returncode == 1 and "model.bin" not in ours.workspace, args
        assert "failed to fetch" in ours.stderr, args


def test_pull_refuses_a_directory_whose_dir_object_is_lost_like_dvc(tools: Tools) -> None:
    mlvc, _dvc, git, repo = tools
    tracked_repo(mlvc, git, repo)
    manifest = dir_id(repo, "data.dvc")
    drop(repo.parent / "remote", [manifest])

    def lose_manifest(root: Path) -> None:
        drop(root / ".dvc" / "cache", [manifest, md5_of(DATA["data/a.txt"])])

    # The workspace holds the directory as recorded, but without its `.dir` object
    # DVC cannot tell its files are tracked: it refuses to remove them and fails.
    for args in (("pull",), ("pull", "--allow-missing"), ("pull", "data"), ("pull", "data/a.txt")):
        ours, theirs = run_both(tools, *args, prepare=lose_manifest)
        assert ours.compared() == theirs.compared(), args
        assert ours.returncode == 1 and ours.workspace["data/a.txt"] == DATA["data/a.txt"], args
        assert "data/a.txt" in ours.stderr, args
    # Without the directory in the workspace, the pull fails as for any missing data.
    ours, theirs = run_both(
        tools, "pull", prepare=lambda root: (lose_manifest(root), shutil.rmtree(root / "data"))
    )
    assert ours.compared() == theirs.compared()
    assert ours.returncode == 1 and "data/a.txt" not in ours.workspace


def test_transfers_over_random_partial_remotes_and_caches_like_dvc(tools: Tools) -> None:
    """Seeded runs: objects dropped at random from the remote and the cache, then one
    transfer command; both tools must leave the same trace."""
    mlvc, _dvc, git, repo = tools
    tracked_repo(mlvc, git, repo)
    remote, cache = repo.parent / "remote", repo / ".dvc" / "cache"
    pushed = object_ids(remote)
    commands = [
        ("status", "-c", "--json"),
        ("status", "-c", "data"),
        ("push",),
        ("push", "data/sub"),
        ("fetch",),
        ("pull",),
    ]
    for seed in range(6):
        rnd = random.Random(seed)
        from_remote = [oid for oid in pushed if rnd.random() < 0.4]
        from_cache = [oid for oid in pushed if rnd.random() < 0.4]
        args = commands[seed % len(commands)]

        def prepare(
            root: Path, from_remote: list[str] = from_remote, from_cache: list[str] = from_cache
        ) -> None:
            drop(root.parent / "remote", from_remote)
            drop(root / ".dvc" / "cache", from_cache)

        ours, theirs = run_both(tools, *args, prepare=prepare)
        assert ours.compared() == theirs.compared(), (seed, args, ours.stderr, theirs.stderr)
    assert object_ids(remote) == pushed and object_ids(cache) == pushed


def test_fetch_fails_only_for_files_a_dir_object_on_the_remote_lists_like_dvc(
    tools: Tools,
) -> None:
    mlvc, _dvc, git, repo = tools
    tracked_repo(mlvc, git, repo)
    manifest, delta = dir_id(repo, "data.dvc"), md5_of(DATA["data/sub/d.txt"])

    def lose_delta(root: Path) -> None:
        drop(root / ".dvc" / "cache", [delta])

    # `.dir` object on the remote: it vouches for `d.txt`, whose download then fails.
    drop(repo.parent / "remote", [delta])
    ours, theirs = run_both(tools, "fetch", prepare=lose_delta)
    assert ours.compared()[0] == theirs.compared()[0] == 1
    # Nothing on stdout: a failed fetch reports on stderr alone.
    assert ours.compared()[1:] == theirs.compared()[1:]
    # Without it, `d.txt` is only missing: a warning, as for any object found nowhere.
    drop(repo.parent / "remote", [manifest])
    ours, theirs = run_both(tools, "fetch", prepare=lose_delta)
    assert ours.compared() == theirs.compared()
    assert ours.returncode == 0 and f"md5: {delta}" in ours.stderr


def test_fetch_keeps_no_dir_object_whose_files_failed_like_dvc(tools: Tools) -> None:
    mlvc, _dvc, git, repo = tools
    tracked_repo(mlvc, git, repo)
    drop(repo.parent / "remote", [md5_of(DATA["data/b.txt"])])

    def wipe_cache(root: Path) -> None:
        drop(root / ".dvc" / "cache", object_ids(root / ".dvc" / "cache"))

    for args in (("fetch",), ("pull",)):
        ours, theirs = run_both(tools, *args, prepare=wipe_cache)
        assert ours.compared()[0] == theirs.compared()[0] == 1, args
        assert ours.compared()[2:] == theirs.compared()[2:], args
        assert dir_id(repo, "data.dvc") not in ours.cache, args


def test_pull_refuses_to_replace_a_changed_output_it_cannot_restore_like_dvc(
    tools: Tools,
) -> None:
    mlvc, _dvc, git, repo = tools
    tracked_repo(mlvc, git, repo)
    model = md5_of(DATA["model.bin"])
    drop(repo.parent / "remote", [model])

    def change_model(root: Path) -> None:
        drop(root / ".dvc" / "cache", [model])
        (root / "model.bin").chmod(0o644)
        (root / "model.bin").write_text("retrained\n")
        shutil.rmtree(root / "data")

    # Without `--force`: nothing is checked out (not even `data/`), the change is kept.
    ours, theirs = run_both(tools, "pull", prepare=change_model)
    assert ours.compared() == theirs.compared()
    assert ours.returncode == 1 and ours.workspace["model.bin"] == "retrained\n"
    assert not any(path.startswith("data/") for path in ours.workspace)
    assert "model.bin" in ours.stderr
    # With it: `data/` is restored and the changed `model.bin` removed; the pull fails.
    ours, theirs = run_both(tools, "pull", "-f", prepare=change_model)
    assert ours.compared() == theirs.compared()
    assert ours.returncode == 1 and "model.bin" not in ours.workspace


def test_push_without_a_default_remote_sends_outputs_naming_theirs_like_dvc(
    tools: Tools,
) -> None:
    mlvc, _dvc, git, repo = tools
    mlvc("init", "-q")
    mlvc("remote", "add", "-q", "store", "../remote")
    (repo / "named.txt").write_text("named\n")
    (repo / "plain.txt").write_text("plain\n")
    mlvc("add", "-q", "named.txt", "plain.txt")
    dvcfile = repo / "named.txt.dvc"
    dvcfile.write_text(dvcfile.read_text() + "  remote: store\n")
    git("add", "-A")
    git("commit", "-qm", "data")
    ours, theirs = run_both(tools, "push")
    assert ours.compared() == theirs.compared()
    assert ours.returncode == 1 and ours.remote == [md5_of("named\n")]
    assert "no remote" in ours.stderr


def test_status_cloud_loads_dir_objects_from_an_outputs_own_remote_like_dvc(
    tools: Tools,
) -> None:
    mlvc, _dvc, git, repo = tools
    tracked_repo(mlvc, git, repo)
    mlvc("remote", "add", "-q", "other", "../other")
    dvcfile = repo / "data.dvc"
    dvcfile.write_text(dvcfile.read_text() + "  remote: other\n")
    shutil.copytree(repo.parent / "remote", repo.parent / "other")
    git("add", "-A")
    git("commit", "-qm", "own remote")
    manifest = dir_id(repo, "data.dvc")

    def keep_other_remote(root: Path) -> None:
        shutil.copytree(repo.parent / "other", root.parent / "other")
        drop(root / ".dvc" / "cache", [manifest])

    # `data` is left out of the report (it names its own remote), but its `.dir`
    # object is brought into the cache from that remote.
    for args in (("status", "-c"), ("status", "-c", "-r", "store")):
        ours, theirs = run_both(tools, *args, prepare=keep_other_remote)
        assert ours.compared() == theirs.compared(), args
        assert manifest in ours.cache and "data" not in ours.stdout, args


def test_pull_checks_out_nothing_when_it_would_overwrite_a_change_like_dvc(
    tools: Tools,
) -> None:
    mlvc, _dvc, git, repo = tools
    tracked_repo(mlvc, git, repo)

    def change_a_file_and_lose_the_rest(root: Path) -> None:
        (root / "data" / "a.txt").chmod(0o644)
        (root / "data" / "a.txt").write_text("edited\n")
        (root / "model.bin").unlink()

    ours, theirs = run_both(tools, "pull", prepare=change_a_file_and_lose_the_rest)
    assert ours.compared() == theirs.compared()
    assert ours.returncode == 1 and "model.bin" not in ours.workspace
    assert "data/a.txt" in ours.stderr


def test_status_cloud_json_needs_no_remote_for_a_directory_without_its_dir_object_like_dvc(
    tools: Tools,
) -> None:
    mlvc, _dvc, git, repo = tools
    tracked_repo(mlvc, git, repo)
    mlvc("remote", "default", "-q", "--unset")
    git("commit", "-qam", "no default remote")
    manifest = dir_id(repo, "data.dvc")

    def lose_manifest(root: Path) -> None:
        drop(root / ".dvc" / "cache", [manifest])

    # Nothing to compare without the `.dir` object, which no remote can bring: `{}`.
    ours, theirs = run_both(tools, "status", "-c", "--json", "data", prepare=lose_manifest)
    assert ours.compared() == theirs.compared()
    assert (ours.returncode, json.loads(ours.stdout)) == (0, {})
    # `model.bin` still needs a remote to be compared with.
    ours, theirs = run_both(tools, "status", "-c", "--json", prepare=lose_manifest)
    assert ours.compared() == theirs.compared()
    assert ours.returncode == 1 and "no remote" in ours.stderr


def test_status_cloud_names_no_remote_when_the_outputs_need_none_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    mlvc("init", "-q")
    (repo / "kept").write_text("k\n")
    (repo / "sent").write_text("s\n")
    mlvc("add", "-q", "kept", "sent")
    text = (repo / "kept.dvc").read_text()
    (repo / "kept.dvc").write_text(text.replace("  path: kept\n", "  path: kept\n  push: false\n"))
    found = []
    for tool in (dvc, mlvc):
        runs = [tool("status", "-c", target, check=False) for target in ("kept", "sent")]
        found.append([(r.returncode, r.stdout) for r in runs])
    assert found[0] == found[1]
    assert found[1][0] == (0, "Cache and remote 'None' are in sync.\n")
    assert found[1][1][0] != 0
