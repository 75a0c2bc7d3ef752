"""Cases found by running commands as users mistype them (unknown revisions, remotes and
paths, bad `-j`, commands outside a repository or in a `--no-scm` one) with both tools
on twin repositories: mlvc must exit as DVC does, with a one-line error naming what was
wrong, and leave the repository as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.interop.conftest import Pair, Result, Runner, Tools, snapshot, write

FILES = {
    "data.txt": "hello\n",
    "params.yaml": "lr: 0.1\n",
    "dvc.yaml": "stages:\n  train:\n    cmd: cp data.txt model.txt\n    deps:\n    - data.txt\n"
    "    params:\n    - lr\n    outs:\n    - model.txt\n",
}


def with_remote(pair: Pair) -> Pair:
    """Both repositories of `pair` with tracked data, a run pipeline and one commit, each
    pushed to its own default remote `store`."""
    (mlvc, _dvc, git, _), ours, theirs = pair
    for root in (ours, theirs):
        write(root, FILES)
        mlvc("add", "-q", "data.txt", cwd=root)
        mlvc("repro", "-q", cwd=root)
        store = root.parent / f"{root.name}-store"
        mlvc("remote", "add", "-q", "-d", "store", str(store), cwd=root)
        mlvc("push", "-q", cwd=root)
        git("add", "-A", cwd=root)
        git("commit", "-qm", "one", cwd=root)
    return pair


def refused(pair: Pair, *args: str, cwd: str = ".") -> str:
    """Runs `args` with each tool in its repository: both fail with the same exit code;
    mlvc's error is one line (and a hint), with no traceback, and mlvc changes nothing
    (its remote included). Returns mlvc's error."""
    (mlvc, dvc, _git, _), ours, theirs = pair
    before = state(ours)
    mine = mlvc(*args, cwd=ours / cwd, check=False)
    their = dvc(*args, cwd=theirs / cwd, check=False)
    assert their.returncode != 0, their.stderr
    assert mine.returncode == their.returncode, (mine.stderr, their.stderr)
    return clean_error(mine, before, ours)


State = dict[str, dict[str, tuple[str, bytes | str]]]


def state(root: Path) -> State:
    """The files of the repository `root` and of its remote, if it has one."""
    store = root.parent / f"{root.name}-store"
    return {"repo": snapshot(root), "store": snapshot(store) if store.exists() else {}}


def clean_error(mine: Result, before: State, root: Path) -> str:
    """mlvc's one-line error (a hint may follow) after a failed run that left the
    repository `root` (and its remote) as `before` was."""
    lines = [ln for ln in mine.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert len(errors) == 1, mine.stderr
    rest = lines[lines.index(errors[0]) + 1 :]
    assert rest == [] or (len(rest) == 1 and rest[0].startswith("hint:")), mine.stderr
    assert "Traceback" not in mine.stderr and "unexpected error" not in mine.stderr
    assert state(root) == before
    return errors[0]


def same_result(pair: Pair, *args: str) -> None:
    """Runs `args` with each tool in its repository: both succeed, leaving the same
    files (`.dvc/config` names each repository's own remote)."""
    (mlvc, dvc, _git, _), ours, theirs = pair
    mine = mlvc(*args, cwd=ours, check=False)
    their = dvc(*args, cwd=theirs, check=False)
    assert mine.returncode == their.returncode == 0, (mine.stderr, their.stderr)
    found = [snapshot(root) for root in (ours, theirs)]
    for files in found:
        files.pop(".dvc/config")
    assert found[0] == found[1]


@pytest.fixture
def nowhere(tools: Tools, tmp_path: Path) -> tuple[Runner, Runner, Path]:
    """mlvc, DVC and a directory in no repository (git's nor DVC's)."""
    mlvc, dvc, _git, _repo = tools
    empty = tmp_path / "nowhere"
    empty.mkdir()
    (empty / "data.txt").write_text("hello\n")
    return mlvc, dvc, empty


@pytest.mark.parametrize(
    "args",
    [("gc",), ("gc", "-f", "-n", "2"), ("gc", "-w", "-f", "--date", "2020-13-01")],
)
def test_gc_outside_a_repository_fails_with_253_before_reading_its_flags(
    nowhere: tuple[Runner, Runner, Path], args: tuple[str, ...]
) -> None:
    mlvc, dvc, empty = nowhere
    before = state(empty)
    mine = mlvc(*args, cwd=empty, check=False)
    their = dvc(*args, cwd=empty, check=False)
    assert mine.returncode == their.returncode == 253, (mine.stderr, their.stderr)
    assert "not inside of a DVC repository" in clean_error(mine, before, empty)


@pytest.mark.parametrize("rev", ["nope", "HEAD~9", "-"])
@pytest.mark.parametrize("scope", [("-w",), ("-a", "-n", "2")])
def test_gc_with_an_unknown_rev_fails_with_255_and_deletes_nothing(
    pair: Pair, rev: str, scope: tuple[str, ...]
) -> None:
    with_remote(pair)
    error = refused(pair, "gc", "-f", *scope, "--rev", rev)
    assert f"`{rev}`" in error


@pytest.mark.parametrize("command", ["fetch", "pull"])
def test_a_negative_jobs_count_is_the_default_for_fetch_and_pull(pair: Pair, command: str) -> None:
    _tools, ours, theirs = with_remote(pair)
    for root in (ours, theirs):
        shutil.rmtree(root / ".dvc" / "cache")
        (root / "data.txt").unlink()
    same_result(pair, command, "-j", "-1")
    assert (ours / ".dvc" / "cache" / "files").is_dir()


def test_a_negative_jobs_count_is_the_default_for_gc(pair: Pair) -> None:
    (mlvc, _dvc, _git, _), ours, theirs = with_remote(pair)
    for root in (ours, theirs):
        write(root, {"data.txt": "changed\n"})
        mlvc("add", "-q", "data.txt", cwd=root)
    same_result(pair, "gc", "-w", "-f", "-j", "-1")


@pytest.mark.parametrize("url", ["nope-url", "../nope", "no/such/repo"])
def test_ls_of_a_repository_that_does_not_exist_fails_with_1(pair: Pair, url: str) -> None:
    with_remote(pair)
    error = refused(pair, "ls", url)
    assert f"`{url}`" in error


@pytest.mark.parametrize("flags", [(), ("--no-remote-refresh",), ("--json",)])
def test_data_status_with_an_unknown_remote_is_a_config_error(
    pair: Pair, flags: tuple[str, ...]
) -> None:
    with_remote(pair)
    error = refused(pair, "data", "status", "--not-in-remote", "-r", "nope", *flags)
    assert "`nope`" in error


def no_scm_twins(tools: Tools, tmp_path: Path) -> tuple[Path, Path]:
    """mlvc's and DVC's twin repositories, both initialised with `--no-scm`."""
    roots = (tmp_path / "ours-noscm", tmp_path / "theirs-noscm")
    for root in roots:
        root.mkdir()
        tools[0]("init", "-q", "--no-scm", cwd=root)
    return roots


@pytest.mark.parametrize(
    "args",
    [
        ("params", "diff"),
        ("params", "diff", "HEAD", "--all"),
        ("metrics", "diff"),
        ("metrics", "diff", "nope", "--json"),
    ],
)
def test_metrics_and_params_diff_in_a_repository_without_git_fail_with_255(
    tools: Tools, tmp_path: Path, args: tuple[str, ...]
) -> None:
    roots = no_scm_twins(tools, tmp_path)
    for root in roots:
        write(root, {**FILES, "metrics.json": '{"acc": 1}\n'})
    error = refused((tools, *roots), *args)
    assert "Git repository" in error


def test_stage_add_with_a_wdir_outside_the_repository_is_refused(pair: Pair) -> None:
    _tools, ours, _theirs = pair
    (ours.parent / "elsewhere").mkdir()
    error = refused(pair, "stage", "add", "-n", "s1", "-w", "../elsewhere", "echo hi")
    assert "`../elsewhere`" in error


@pytest.mark.parametrize("where", ["data", "data/sub", "logs"])
def test_stage_add_where_dvc_yaml_would_be_ignored_by_git_is_refused(
    pair: Pair, where: str
) -> None:
    (mlvc, _dvc, _git, _), ours, theirs = pair
    for root in (ours, theirs):
        write(root, {"data/sub/a.txt": "a\n", "logs/x.log": "x\n", ".gitignore": "logs/\n"})
        mlvc("add", "-q", "data", cwd=root)
    error = refused(pair, "stage", "add", "-n", "s1", "echo hi", cwd=where)
    assert f"`{where}/dvc.yaml`" in error


@pytest.mark.parametrize(
    ("args", "flag"),
    [(("--rev", "HEAD"), "--rev"), (("--all-experiments",), "--all-experiments")],
)
def test_gc_of_git_revisions_in_a_repository_without_git_fails_with_255(
    tools: Tools, tmp_path: Path, args: tuple[str, ...], flag: str
) -> None:
    mlvc = tools[0]
    roots = no_scm_twins(tools, tmp_path)
    for root in roots:
        write(root, {"data.txt": "old\n"})
        mlvc("add", "-q", "data.txt", cwd=root)
        write(root, {"data.txt": "new\n"})
        mlvc("add", "-q", "data.txt", cwd=root)
    error = refused((tools, *roots), "gc", "-f", *args)
    assert f"`{flag}`" in error


@pytest.mark.parametrize(
    ("target", "cwd"), [("data/sub/a.txt", "."), ("data/nope.txt", "."), ("sub/a.txt", "data")]
)
def test_dag_of_a_path_inside_an_output_shows_the_stage_of_that_output(
    pair: Pair, target: str, cwd: str
) -> None:
    (mlvc, dvc, _git, _), ours, theirs = pair
    for root in (ours, theirs):
        write(root, {"data/sub/a.txt": "a\n", "other.txt": "o\n"})
        mlvc("add", "-q", "data", "other.txt", cwd=root)
    mine = mlvc("dag", target, cwd=ours / cwd)
    their = dvc("dag", target, cwd=theirs / cwd)
    assert mine.stdout.split() == their.stdout.split()
    assert "data.dvc" in mine.stdout and "other" not in mine.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("status", ""),
        ("status", "--json", "", "data.txt"),
        ("status", "-c", "--json", ""),
        ("commit", "-f", ""),
        ("checkout", ""),
        ("push", ""),
        ("fetch", ""),
        ("pull", ""),
    ],
)
def test_an_empty_target_names_everything_as_no_target_does(
    pair: Pair, args: tuple[str, ...]
) -> None:
    # `mlvc status "$TARGET"` with the variable unset.
    (mlvc, dvc, _git, _), ours, theirs = with_remote(pair)
    for root in (ours, theirs):
        if args[0] == "commit":
            write(root, {"data.txt": "changed\n"})  # to record
        else:
            (root / "model.txt").unlink()  # to report, restore or fetch
    mine = mlvc(*args, cwd=ours, check=False)
    their = dvc(*args, cwd=theirs, check=False)
    assert mine.returncode == their.returncode == 0, (mine.stderr, their.stderr)
    if "--json" in args:
        assert mine.stdout == their.stdout
    found = [snapshot(root) for root in (ours, theirs)]
    for files in found:
        files.pop(".dvc/config")
    assert found[0] == found[1]


def test_stage_list_of_an_empty_target_lists_every_stage(pair: Pair) -> None:
    (mlvc, dvc, _git, _), ours, theirs = with_remote(pair)
    mine = mlvc("stage", "list", "--name-only", "", cwd=ours)
    their = dvc("stage", "list", "--name-only", "", cwd=theirs)
    assert sorted(mine.stdout.split()) == sorted(their.stdout.split()) == ["data.txt.dvc", "train"]


@pytest.mark.parametrize("target", ["", "data.txt/"])
def test_unprotect_of_a_path_that_names_nothing_is_a_clean_error(pair: Pair, target: str) -> None:
    # DVC fails with an internal error (255) here; mlvc names the path.
    (mlvc, dvc, _git, _), ours, theirs = with_remote(pair)
    before = state(ours)
    mine = mlvc("unprotect", target, cwd=ours, check=False)
    their = dvc("unprotect", target, cwd=theirs, check=False)
    assert their.returncode == 255, their.stderr
    assert mine.returncode == 1
    shown = target or '""'
    assert f"`{shown}`" in clean_error(mine, before, ours)


@pytest.mark.parametrize("args", [("fetch", "-r", "", "data.txt"), ("pull", "-r", "")])
def test_an_empty_remote_name_is_no_remote_name(pair: Pair, args: tuple[str, ...]) -> None:
    # Nothing to transfer, and no remote: DVC only says there is none, with 0.
    (mlvc, dvc, _git, _), ours, theirs = pair
    for root in (ours, theirs):
        write(root, {"data.txt": "hello\n"})
        mlvc("add", "-q", "data.txt", cwd=root)
    mine = mlvc(*args, cwd=ours, check=False)
    their = dvc(*args, cwd=theirs, check=False)
    assert mine.returncode == their.returncode == 0, (mine.stderr, their.stderr)
    assert snapshot(ours) == snapshot(theirs)
