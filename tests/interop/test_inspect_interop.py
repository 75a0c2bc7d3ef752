"""`data status`, `diff` and `ls`: mlvc and real DVC print the same on the same repository."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.interop.conftest import Runner, write

Tools = tuple[Runner, Runner, Runner, Path]


def sorted_lists(value: Any) -> Any:
    """`value` with every list sorted.

    `dvc data status` builds its lists from set iteration (dvc_data's index diff),
    so their order changes from run to run; only their contents can be compared.
    """
    if isinstance(value, dict):
        return {k: sorted_lists(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((sorted_lists(v) for v in value), key=lambda v: json.dumps(v))
    return value


def both_json(
    tools: Tools, *args: str, unordered: bool = False, cwd: Path | None = None
) -> tuple[Any, Any]:
    """Runs one command with mlvc and with dvc (in `cwd`); returns both parsed outputs."""
    mlvc, dvc, _git, _repo = tools
    ours = json.loads(mlvc(*args, cwd=cwd).stdout)
    theirs = json.loads(dvc(*args, cwd=cwd).stdout)
    if unordered:
        return sorted_lists(ours), sorted_lists(theirs)
    return ours, theirs


def assert_same_json(
    tools: Tools, *args: str, unordered: bool = False, cwd: Path | None = None
) -> Any:
    ours, theirs = both_json(tools, *args, unordered=unordered, cwd=cwd)
    assert ours == theirs, f"{' '.join(args)}\nmlvc: {ours}\ndvc:  {theirs}"
    return ours


def assert_same_text(
    tools: Tools, *args: str, unordered: bool = False, cwd: Path | None = None
) -> str:
    mlvc, dvc, _git, _repo = tools
    ours = mlvc(*args, cwd=cwd).stdout
    theirs = dvc(*args, cwd=cwd).stdout
    if unordered:
        # Same lines, in any order (see `sorted_lists`).
        assert sorted(ours.splitlines()) == sorted(theirs.splitlines()), f"{ours}\n---\n{theirs}"
    else:
        assert ours == theirs, f"{' '.join(args)}\nmlvc:\n{ours}\ndvc:\n{theirs}"
    return ours


def object_path(repo: Path, md5: str) -> Path:
    return repo / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]


def committed_repo(tools: Tools) -> Path:
    """A repository with a tracked directory and two tracked files, all committed."""
    _mlvc, dvc, git, repo = tools
    dvc("init", "-q")
    git("commit", "-qm", "init")
    write(
        repo,
        {
            "data/a.txt": "alpha\n",
            "data/c.txt": "gamma\n",
            "data/sub/b.txt": "beta\n",
            "model.pkl": "weights\n",
            "gone.txt": "soon gone\n",
            "src/run.py": "print(1)\n",
        },
    )
    os.chmod(repo / "src" / "run.py", 0o755)
    dvc("add", "-q", "data", "model.pkl", "gone.txt")
    git("add", "-A")
    git("commit", "-qm", "track data")
    return repo


# --- data status -------------------------------------------------------------


def test_data_status_fresh_add_not_yet_committed(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    dvc("init", "-q")
    git("commit", "-qm", "init")
    write(repo, {"data/a.txt": "a\n", "data/sub/b.txt": "b\n", "model.pkl": "m\n"})
    mlvc("add", "-q", "data", "model.pkl")
    found = assert_same_json(tools, "data", "status", "--json", "--granular", unordered=True)
    assert found["committed"]["added"] == sorted(
        ["data/", "data/a.txt", "data/sub/b.txt", "model.pkl"]
    )
    assert_same_json(tools, "data", "status", "--json", unordered=True)
    assert_same_json(
        tools,
        "data",
        "status",
        "--json",
        "--granular",
        "--unchanged",
        "--untracked-files",
        unordered=True,
    )
    assert_same_text(tools, "data", "status", "--granular", unordered=True)
    assert_same_text(tools, "data", "status", "--untracked-files", unordered=True)


def test_data_status_workspace_changes_inside_a_tracked_directory(tools: Tools) -> None:
    repo = committed_repo(tools)
    (repo / "data" / "sub" / "b.txt").write_text("beta 2\n")
    (repo / "data" / "c.txt").unlink()
    (repo / "data" / "a.txt").rename(repo / "data" / "a2.txt")
    (repo / "data" / "new.txt").write_text("new\n")
    (repo / "model.pkl").write_text("weights 2\n")
    (repo / "gone.txt").unlink()
    found = assert_same_json(tools, "data", "status", "--json", "--granular", unordered=True)
    assert found["uncommitted"]["renamed"] == [{"old": "data/a.txt", "new": "data/a2.txt"}]
    assert "data/sub/b.txt" in found["uncommitted"]["modified"]
    assert found["uncommitted"]["deleted"] == ["data/c.txt", "gone.txt"]
    assert_same_json(tools, "data", "status", "--json", unordered=True)
    assert_same_json(tools, "data", "status", "--json", "--granular", "data/sub", unordered=True)
    assert_same_text(tools, "data", "status", "--granular", unordered=True)


def test_data_status_reports_objects_missing_from_the_cache(tools: Tools) -> None:
    repo = committed_repo(tools)
    md5_a = hashlib.md5((repo / "data" / "a.txt").read_bytes()).hexdigest()
    md5_model = hashlib.md5((repo / "model.pkl").read_bytes()).hexdigest()
    object_path(repo, md5_a).unlink()
    object_path(repo, md5_model).unlink()
    found = assert_same_json(
        tools, "data", "status", "--json", "--granular", "--unchanged", unordered=True
    )
    assert found["not_in_cache"] == ["data/a.txt", "model.pkl"]
    assert_same_json(tools, "data", "status", "--json", unordered=True)
    assert_same_text(tools, "data", "status")


def test_data_status_committed_rename_and_git_dirty_hint(tools: Tools) -> None:
    _mlvc, _dvc, git, repo = tools
    committed_repo(tools)
    git("mv", "model.pkl.dvc", "weights.dvc")
    text = (repo / "weights.dvc").read_text().replace("path: model.pkl", "path: weights.pkl")
    (repo / "weights.dvc").write_text(text)
    shutil.copy(repo / "model.pkl", repo / "weights.pkl")
    found = assert_same_json(tools, "data", "status", "--json", "--unchanged", unordered=True)
    assert found["committed"] == {"renamed": [{"old": "model.pkl", "new": "weights.pkl"}]}
    out = assert_same_text(tools, "data", "status")
    assert out.endswith('(there are other changes not tracked by dvc, use "git status" to see)\n')


def test_data_status_not_in_remote(tools: Tools, tmp_path: Path) -> None:
    _mlvc, dvc, _git, _repo = tools
    committed_repo(tools)
    # With no remote configured DVC counts nothing as pushed.
    assert_same_json(tools, "data", "status", "--json", "--not-in-remote", unordered=True)
    dvc("remote", "add", "-q", "-d", "store", str(tmp_path / "store"))
    dvc("push", "-q", "model.pkl.dvc")
    found = assert_same_json(
        tools, "data", "status", "--json", "--granular", "--not-in-remote", unordered=True
    )
    assert "model.pkl" not in found["not_in_remote"] and "data/a.txt" in found["not_in_remote"]
    assert_same_json(tools, "data", "status", "--json", "--not-in-remote", "-r", "store", "data")
    assert_same_text(tools, "data", "status", "--not-in-remote", unordered=True)


def test_data_status_no_remote_refresh_answers_from_what_was_seen_like_dvc(
    tools: Tools, tmp_path: Path
) -> None:
    mlvc, dvc, _git, repo = tools
    committed_repo(tools)
    store = tmp_path / "store"
    dvc("remote", "add", "-q", "-d", "store", str(store))
    cached = ["data", "status", "--json", "--not-in-remote", "--no-remote-refresh"]
    asked = ["data", "status", "--json", "--not-in-remote"]

    def not_in_remote(*args: str) -> list[str]:
        found = assert_same_json(tools, *args, unordered=True)
        return list(found.get("not_in_remote", []))

    # Never seen: nothing counts as pushed, whatever the remote holds.
    assert "model.pkl" in not_in_remote(*cached)
    dvc("push", "-q")
    assert "model.pkl" in not_in_remote(*cached)
    assert "data/a.txt" in not_in_remote(*cached, "--granular")
    # Asked once, remembered: the shallow check saw the `.dir`, not the files in it.
    assert not_in_remote(*asked) == []
    assert not_in_remote(*cached) == []
    assert "data/a.txt" in not_in_remote(*cached, "--granular")
    assert not_in_remote(*asked, "--granular") == []
    assert not_in_remote(*cached, "--granular") == []
    # The remote loses an object: the remembered answer stays until the next check.
    (md5,) = [
        line.split()[-1]
        for line in (repo / "model.pkl.dvc").read_text().splitlines()
        if "md5:" in line
    ]
    (store / "files" / "md5" / md5[:2] / md5[2:]).unlink()
    assert not_in_remote(*cached) == []
    assert not_in_remote(*asked) == ["model.pkl"]
    assert not_in_remote(*cached) == ["model.pkl"]
    # mlvc also remembers what its own push, fetch and `status -c` saw (DVC forgets
    # its index after any transfer).
    mlvc("push", "-q")
    assert json.loads(mlvc(*cached).stdout).get("not_in_remote") is None
    (store / "files" / "md5" / md5[:2] / md5[2:]).unlink()
    mlvc("status", "-c")
    assert json.loads(mlvc(*cached).stdout)["not_in_remote"] == ["model.pkl"]
    mlvc("push", "-q")
    # `gc -c` deletes on the remote: everything seen before is forgotten.
    (repo / "gone.txt.dvc").unlink()
    mlvc("gc", "-w", "-c", "-f")
    assert "model.pkl" in json.loads(mlvc(*cached).stdout)["not_in_remote"]
    # An unknown remote is refused without a refresh too.
    r = mlvc(*cached, "-r", "nowhere", check=False)
    assert r.returncode != 0 and "`nowhere`" in r.stderr


def test_data_status_in_an_empty_git_repository(tools: Tools) -> None:
    tools[1]("init", "-q")
    # `dvc init` stages its files, so git is dirty and the hint follows.
    text = assert_same_text(tools, "data", "status")
    assert text.startswith("No changes in an empty git repo.\n(there are changes not tracked")
    assert assert_same_json(tools, "data", "status", "--json") == {}


# --- diff ----------------------------------------------------------------------


def test_diff_head_against_the_workspace(tools: Tools) -> None:
    repo = committed_repo(tools)
    assert assert_same_json(tools, "diff", "--json") == {}
    (repo / "data" / "sub" / "b.txt").write_text("beta 2\n")
    (repo / "data" / "c.txt").unlink()
    (repo / "data" / "a.txt").rename(repo / "data" / "a2.txt")
    (repo / "data" / "new.txt").write_text("new\n")
    (repo / "model.pkl").write_text("weights 2\n")
    # `dvc diff` sorts every list itself, so the JSON must match exactly.
    found = assert_same_json(tools, "diff", "--json", "--show-hash")
    assert [e["path"] for e in found["modified"]] == ["data/", "data/sub/b.txt", "model.pkl"]
    assert found["renamed"][0]["path"] == {"old": "data/a.txt", "new": "data/a2.txt"}
    assert_same_json(tools, "diff", "--json")
    assert_same_json(tools, "diff", "--json", "--hide-missing")
    assert_same_json(tools, "diff", "--json", "--targets", "data/sub")
    assert_same_json(tools, "diff", "--json", "--targets", "model.pkl.dvc")
    assert_same_text(tools, "diff")
    assert_same_text(tools, "diff", "--show-hash")
    assert_same_text(tools, "diff", "--md")
    assert_same_text(tools, "diff", "--md", "--show-hash")


def test_diff_reports_head_objects_missing_from_the_cache(tools: Tools) -> None:
    repo = committed_repo(tools)
    object_path(repo, hashlib.md5(b"weights\n").hexdigest()).unlink()
    (repo / "gone.txt").unlink()
    found = assert_same_json(tools, "diff", "--json", "--show-hash")
    assert [e["path"] for e in found["not in cache"]] == ["model.pkl"]
    assert_same_text(tools, "diff")
    assert_same_text(tools, "diff", "--hide-missing")


def test_diff_between_two_commits(tools: Tools) -> None:
    _mlvc, dvc, git, repo = tools
    committed_repo(tools)
    (repo / "data" / "sub" / "b.txt").write_text("beta 2\n")
    (repo / "data" / "d.txt").write_text("delta\n")
    dvc("add", "-q", "data")
    git("add", "-A")
    git("commit", "-qm", "more data")
    found = assert_same_json(tools, "diff", "HEAD~1", "HEAD", "--json", "--show-hash")
    assert [e["path"] for e in found["added"]] == ["data/d.txt"]
    assert "not in cache" not in found
    assert_same_json(tools, "diff", "HEAD", "HEAD~1", "--json")
    assert_same_json(tools, "diff", "HEAD~1", "HEAD", "--json", "--targets", "data/sub")
    assert_same_text(tools, "diff", "HEAD~1", "HEAD")
    assert assert_same_json(tools, "diff", "HEAD", "HEAD", "--json") == {}


# --- ls -----------------------------------------------------------------------


def test_ls_lists_git_files_and_outputs_at_a_revision(tools: Tools) -> None:
    _mlvc, dvc, git, repo = tools
    committed_repo(tools)
    write(repo, {"nested/deep/q.csv": "q\n"})
    dvc("add", "-q", "nested/deep/q.csv")
    git("add", "-A")
    git("commit", "-qm", "nested")
    (repo / "model.pkl").write_text("changed, not committed\n")
    found = assert_same_json(tools, "ls", ".", "--rev", "HEAD", "--json")
    by_path = {e["path"]: e for e in found}
    assert by_path["data"]["isout"] and by_path["data"]["md5"].endswith(".dir")
    assert by_path["src"]["isdir"] and not by_path["src"]["isout"]
    assert_same_json(tools, "ls", ".", "--rev", "HEAD", "-R", "--json")
    assert_same_json(tools, "ls", ".", "--rev", "HEAD", "--dvc-only", "--json")
    assert_same_json(tools, "ls", ".", "--rev", "HEAD", "-R", "--dvc-only", "--json")
    assert_same_json(tools, "ls", ".", "--rev", "HEAD~1", "-R", "--json")
    assert_same_json(tools, "ls", ".", "data", "--rev", "HEAD", "--json")
    assert_same_json(tools, "ls", ".", "nested", "--rev", "HEAD", "--json")
    assert_same_json(tools, "ls", ".", "data/sub/b.txt", "--rev", "HEAD", "--json")
    assert_same_text(tools, "ls", ".", "-R", "--rev", "HEAD", "--dvc-only")


def test_ls_lists_the_workspace(tools: Tools) -> None:
    committed_repo(tools)
    assert_same_json(tools, "ls", ".", "--json")
    assert_same_json(tools, "ls", ".", "-R", "--json")
    assert_same_json(tools, "ls", ".", "data", "--json")
    assert_same_text(tools, "ls", ".")
    assert_same_text(tools, "ls", ".", "--size")


LS_FLAGS = [
    ["-R", "-L", "1"],
    ["-R", "-L", "2"],
    ["-R", "-L", "2", "--dvc-only"],
    ["-R", "-L", "0"],
    ["-L", "1"],
    ["--show-hash"],
    ["--size", "--show-hash"],
    ["-R", "--size", "--show-hash"],
    ["-T"],
    ["-T", "--size"],
    ["-T", "--show-hash"],
    ["-T", "--size", "--show-hash", "--dvc-only"],
    ["-T", "-L", "1"],
    ["-T", "-L", "0"],
]


def test_ls_every_flag_at_a_revision_like_dvc(tools: Tools) -> None:
    _mlvc, _dvc, git, repo = tools
    committed_repo(tools)
    write(repo, {"src/deep/er/f.py": "x\n"})
    git("add", "-A")
    git("commit", "-qm", "deeper")
    for flags in LS_FLAGS:
        assert_same_text(tools, "ls", ".", "--rev", "HEAD", *flags)
        assert_same_text(tools, "ls", ".", "data", "--rev", "HEAD", *flags)
    assert_same_text(tools, "ls", ".", "data/a.txt", "--rev", "HEAD", "-T", "--size")
    assert_same_json(tools, "ls", ".", "--rev", "HEAD", "-R", "-L", "2", "--json")
    assert_same_json(tools, "ls", ".", "--rev", "HEAD", "--show-hash", "--json")


def test_ls_tree_and_levels_of_the_workspace_like_dvc(tools: Tools) -> None:
    committed_repo(tools)
    for flags in (["-T"], ["-T", "--size"], ["-R", "-L", "2"], ["--size", "--show-hash"]):
        assert_same_text(tools, "ls", ".", *flags)


def test_ls_tree_refuses_json_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, _repo = tools
    committed_repo(tools)
    ours = mlvc("ls", ".", "-T", "--json", check=False)
    assert ours.returncode == dvc("ls", ".", "-T", "--json", check=False).returncode == 255
    assert_one_error(ours, "--tree", "--json")


def test_data_status_untracked_files_forms_like_dvc(tools: Tools) -> None:
    _mlvc, _dvc, _git, repo = tools
    committed_repo(tools)
    write(repo, {"data/a.txt": "changed\n", "data/new.txt": "n\n", "loose/x/f.txt": "f\n"})
    for flags in (
        ["--untracked-files"],
        ["--untracked-files=all"],
        ["--untracked-files", "all"],
        ["--untracked-files=no"],
        ["--untracked-files", "no", "--granular"],
        ["--granular", "--untracked-files"],
        ["--untracked-files", "--granular", "--unchanged"],
        ["--unchanged"],
    ):
        assert_same_text(tools, "data", "status", *flags, unordered=True)
        assert_same_json(tools, "data", "status", "--json", *flags, unordered=True)


def test_data_status_untracked_files_bad_value_is_a_usage_error(tools: Tools) -> None:
    mlvc, dvc, _git, _repo = tools
    committed_repo(tools)
    ours = mlvc("data", "status", "--untracked-files=some", check=False)
    assert (
        ours.returncode == dvc("data", "status", "--untracked-files=some", check=False).returncode
    )
    assert ours.returncode == 254


# --- bad input -----------------------------------------------------------------


def assert_one_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    """stderr holds exactly one `error:` line naming every needle, then a `hint:` line."""
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith("error: ") and lines[1].startswith("hint: "), result.stderr
    for needle in needles:
        assert needle in lines[0], result.stderr


def test_unknown_revision_is_one_line_naming_it(tools: Tools) -> None:
    mlvc, dvc, _git, _repo = tools
    committed_repo(tools)
    for args in (["diff", "no-such-rev"], ["ls", ".", "--rev", "no-such-rev"]):
        ours = mlvc(*args, check=False)
        assert ours.returncode == dvc(*args, check=False).returncode == 1
        assert_one_error(ours, "no-such-rev")


def test_untracked_targets_are_refused(tools: Tools) -> None:
    mlvc, dvc, _git, _repo = tools
    committed_repo(tools)
    ours = mlvc("diff", "--targets", "src/run.py", "--json", check=False)
    # dvc fails too (with exit 255 and an "unexpected error").
    assert ours.returncode == 1 and dvc("diff", "--targets", "src/run.py", check=False).returncode
    assert_one_error(ours, "src/run.py")
    assert ours.stdout == ""
    ours = mlvc("ls", ".", "no/such/path", check=False)
    assert ours.returncode == dvc("ls", ".", "no/such/path", check=False).returncode == 1
    assert_one_error(ours, "no/such/path")


def test_commands_outside_a_repository_exit_253(tools: Tools, tmp_path: Path) -> None:
    mlvc, dvc, _git, _repo = tools
    outside = tmp_path / "outside"
    outside.mkdir()
    for args in (["data", "status"], ["diff"]):
        ours = mlvc(*args, cwd=outside, check=False)
        assert ours.returncode == dvc(*args, cwd=outside, check=False).returncode == 253
        assert_one_error(ours, "not inside of a DVC repository")
    ours = mlvc("ls", ".", cwd=outside, check=False)
    assert ours.returncode == 253
    assert_one_error(ours, "not inside of a DVC repository")


def test_stage_outputs_count_in_data_status_diff_and_ls_like_dvc(tools: Tools) -> None:
    """Cached stage outputs (file, directory, metric) are data; `cache: false` ones are not."""
    _mlvc, dvc, git, repo = tools
    dvc("init", "-q")
    write(
        repo,
        {
            "params.yaml": "n: 1\n",
            "dvc.yaml": "stages:\n"
            "  make:\n"
            "    cmd: cat params.yaml > a.txt && mkdir -p d && cp a.txt d/x"
            " && cp a.txt m.json && cp a.txt plain.json\n"
            "    params: [n]\n"
            "    outs: [a.txt, d]\n"
            "    metrics:\n"
            "    - m.json\n"
            "    - plain.json:\n"
            "        cache: false\n",
        },
    )
    dvc("repro", "-q")
    git("add", "-A")
    git("commit", "-qm", "pipeline")
    assert assert_same_json(tools, "data", "status", "--json") == {}
    assert_same_json(tools, "ls", "--dvc-only", "-R", "--json", ".")
    assert_same_json(tools, "ls", "--json", ".")
    # Workspace changes are uncommitted; the uncached metric is git's business.
    write(repo, {"a.txt": "changed\n", "d/x": "changed\n", "plain.json": "changed\n"})
    found = assert_same_json(tools, "data", "status", "--json", unordered=True)
    assert found == {"uncommitted": {"modified": ["a.txt", "d/"]}}
    assert_same_json(tools, "data", "status", "--granular", "--json", unordered=True)
    found = assert_same_json(tools, "diff", "--json")
    assert [e["path"] for e in found["modified"]] == ["a.txt", "d/", "d/x"]
    assert_same_text(tools, "diff")
    # A new run records new hashes in `dvc.lock`: committed changes until git commits it.
    write(repo, {"params.yaml": "n: 2\n"})
    dvc("repro", "-q")
    found = assert_same_json(tools, "data", "status", "--json", unordered=True)
    assert found == {"committed": {"modified": ["a.txt", "d/", "m.json"]}}
    assert_same_json(tools, "diff", "--json")
    git("add", "-A")
    git("commit", "-qm", "n=2")
    assert_same_json(tools, "diff", "--json", "HEAD~1", "HEAD")
    assert_same_json(tools, "ls", "--dvc-only", "-R", "--json", ".")


def test_diff_md_pads_columns_to_the_headers_and_prints_an_empty_table_like_dvc(
    tools: Tools,
) -> None:
    _mlvc, dvc, git, repo = tools
    committed_repo(tools)
    # Nothing changed: DVC still prints the table's header.
    assert_same_text(tools, "diff", "--md")
    assert_same_text(tools, "diff", "--md", "--show-hash")
    # Cells narrower than their header: a column is the header's width plus two.
    write(repo, {"b": "b\n"})
    dvc("add", "-q", "b")
    git("add", "-A")
    git("commit", "-qm", "b")
    (repo / "b").unlink()
    assert_same_text(tools, "diff", "--md")
    assert_same_text(tools, "diff", "--md", "--show-hash")


# A pipeline whose stages have not run: outputs of every kind, in the root and in a
# subdirectory's `dvc.yaml`.
NEVER_RUN = {
    "dvc.yaml": "stages:\n"
    "  prep:\n"
    "    cmd: echo prep > prep.txt\n"
    "    outs: [prep.txt]\n"
    "  make:\n"
    "    cmd: echo a > a.txt && mkdir -p d && echo x > d/x && echo 1 > m.json"
    " && echo 2 > p.csv && echo 3 > plain.txt\n"
    "    deps: [prep.txt]\n"
    "    outs:\n"
    "    - a.txt\n"
    "    - d\n"
    "    - plain.txt:\n"
    "        cache: false\n"
    "    metrics: [m.json]\n"
    "    plots: [p.csv]\n",
    "sub/dvc.yaml": "stages:\n  deep:\n    cmd: mkdir -p out && echo w > out/w.bin\n"
    "    outs: [out/w.bin]\n",
}
# What the `make` and `deep` stages write when they run.
NEVER_RUN_OUTPUTS = {
    "a.txt": "a\n",
    "d/x": "x\n",
    "m.json": "1\n",
    "p.csv": "2\n",
    "plain.txt": "3\n",
    "sub/out/w.bin": "w\n",
}


def never_run_repo(tools: Tools) -> Path:
    """A committed pipeline none of whose stages ran (no `dvc.lock`)."""
    _mlvc, dvc, git, repo = tools
    dvc("init", "-q")
    write(repo, NEVER_RUN)
    git("add", "-A")
    git("commit", "-qm", "pipeline")
    return repo


def test_ls_lists_the_outputs_of_a_stage_never_run_like_dvc(tools: Tools) -> None:
    """Declared cached outputs are listed as files of size 0 with no hash."""
    mlvc, dvc, _git, repo = tools
    never_run_repo(tools)
    found = assert_same_json(tools, "ls", ".", "--json")
    by_path = {e["path"]: e for e in found}
    assert by_path["d"] == {
        "isout": True,
        "isdir": False,
        "isexec": False,
        "size": 0,
        "md5": None,
        "path": "d",
    }
    assert "plain.txt" not in by_path  # `cache: false`: git's, and not in git
    for args in (
        ["-R", "--json"],
        ["--dvc-only", "--json"],
        ["-R", "--dvc-only", "--json"],
        ["sub", "--json"],
        ["sub", "-R", "--dvc-only", "--json"],
        ["d", "--json"],
        ["a.txt", "--json"],
        ["--rev", "HEAD", "-R", "--json"],
        ["sub/out", "--rev", "HEAD", "--dvc-only", "--json"],
    ):
        assert_same_json(tools, "ls", ".", *args)
    for flags in ([], ["-R"], ["--dvc-only"], ["--size", "--show-hash"], ["-T", "--size"]):
        assert_same_text(tools, "ls", ".", *flags)
    for missing in ("plain.txt", "d/x"):
        assert mlvc("ls", ".", missing, check=False).returncode == 1
        assert dvc("ls", ".", missing, check=False).returncode == 1
    # The outputs on disk, with still no hash recorded: the disk gives types and sizes.
    write(repo, NEVER_RUN_OUTPUTS)
    for args in (["--json"], ["-R", "--json"], ["-R", "--dvc-only", "--json"]):
        assert_same_json(tools, "ls", ".", *args)
    assert_same_text(tools, "ls", ".", "-T")
    assert_same_text(tools, "ls", ".", "-T", "--dvc-only")


def test_diff_reports_outputs_of_a_stage_never_run_like_dvc(tools: Tools) -> None:
    """A declared output with no hash is an entry of its revision, its hash null."""
    _mlvc, dvc, git, repo = tools
    never_run_repo(tools)
    # Nothing on disk: HEAD's declared outputs are deleted in the workspace.
    found = assert_same_json(tools, "diff", "--json", "--show-hash")
    assert found["deleted"] == [
        {"path": p, "hash": None}
        for p in ("a.txt", "d", "m.json", "p.csv", "prep.txt", "sub/out/w.bin")
    ]
    for args in (["--targets", "d"], ["--targets", "sub/out/w.bin"], ["--targets", "d/x"]):
        assert_same_json(tools, "diff", "--json", *args)
    for args in ([], ["--show-hash"], ["--md"]):
        assert_same_text(tools, "diff", *args)
    # `data status` compares hashes only: there are none on either side.
    assert assert_same_json(tools, "data", "status", "--granular", "--json") == {}
    # On disk without a hash recorded: their hashes in the workspace are new.
    write(repo, NEVER_RUN_OUTPUTS)
    found = assert_same_json(tools, "diff", "--json", "--show-hash")
    assert [e["path"] for e in found["modified"]][:2] == ["a.txt", "d"]
    assert [e["path"] for e in found["added"]] == ["d/x"]
    assert_same_text(tools, "diff")
    assert_same_text(tools, "diff", "--md")
    found = assert_same_json(tools, "data", "status", "--granular", "--json", unordered=True)
    assert found["uncommitted"]["added"][:3] == ["a.txt", "d/", "d/x"]
    # Run and commit; then between the commits, the outputs lose their hashes.
    dvc("repro", "-q", "--all-pipelines")
    git("add", "-A")
    git("commit", "-qm", "ran")
    for revs in (["HEAD~1", "HEAD"], ["HEAD", "HEAD~1"]):
        found = assert_same_json(tools, "diff", "--json", "--show-hash", *revs)
        assert found["modified"]
        assert_same_text(tools, "diff", *revs)
        assert_same_text(tools, "diff", "--md", *revs)


def test_diff_and_data_status_when_dvc_lock_loses_a_stage_like_dvc(tools: Tools) -> None:
    """HEAD recorded the stage's hashes; the workspace's `dvc.lock` lost its entry."""
    _mlvc, dvc, git, repo = tools
    never_run_repo(tools)
    dvc("repro", "-q", "prep")
    prep_only = (repo / "dvc.lock").read_text()
    dvc("repro", "-q", "--all-pipelines")
    git("add", "-A")
    git("commit", "-qm", "ran")
    (repo / "dvc.lock").write_text(prep_only)
    # The data on disk is what HEAD recorded: no change to the data itself.
    assert assert_same_json(tools, "diff", "--json") == {}
    assert_same_text(tools, "diff")
    assert_same_text(tools, "diff", "--md")
    found = assert_same_json(tools, "data", "status", "--json", unordered=True)
    assert found["uncommitted"] == {"added": ["a.txt", "d/", "m.json", "p.csv"]}
    assert_same_json(tools, "data", "status", "--granular", "--json", unordered=True)
    assert_same_text(tools, "data", "status", unordered=True)
    # The outputs gone too: deleted, with their hashes from HEAD.
    for rel in ("a.txt", "m.json", "p.csv", "plain.txt"):
        (repo / rel).unlink()
    shutil.rmtree(repo / "d")
    found = assert_same_json(tools, "diff", "--json", "--show-hash")
    assert [e["path"] for e in found["deleted"]] == ["a.txt", "d/", "d/x", "m.json", "p.csv"]
    assert_same_text(tools, "diff")
    assert_same_json(tools, "data", "status", "--granular", "--json", unordered=True)
    git("add", "-A")
    git("commit", "-qm", "lost")
    for revs in (["HEAD~1", "HEAD"], ["HEAD", "HEAD~1"]):
        assert_same_json(tools, "diff", "--json", "--show-hash", *revs)
        assert_same_text(tools, "diff", *revs)


def test_diff_show_hash_leaves_a_missing_hash_blank(tools: Tools) -> None:
    """Deliberately unlike DVC 3.67, which fails on a missing hash under `--show-hash`."""
    mlvc, dvc, _git, repo = tools
    never_run_repo(tools)
    assert dvc("diff", "--md", "--show-hash", check=False).returncode == 255
    assert mlvc("diff", "--md", "--show-hash").stdout.splitlines()[2] == (
        "| deleted  |        | a.txt         |"
    )
    write(repo, NEVER_RUN_OUTPUTS)
    assert dvc("diff", "--show-hash", check=False).returncode == 255
    ours = mlvc("diff", "--show-hash").stdout.splitlines()
    assert "    ..60b725f1  a.txt" in ours
    assert "    401b30e3  d/x" in ours


def test_outputs_with_cache_false_in_a_dvc_file_are_not_data_like_dvc(tools: Tools) -> None:
    """A `.dvc` file's `cache: false` output is git's, as a stage's is."""
    _mlvc, dvc, git, repo = tools
    dvc("init", "-q")
    write(repo, {"x.txt": "x\n", "y.txt": "y\n"})
    dvc("add", "-q", "x.txt", "y.txt")
    dvc_file = repo / "x.txt.dvc"
    dvc_file.write_text(
        dvc_file.read_text().replace("  path: x.txt\n", "  path: x.txt\n  cache: false\n")
    )
    git("add", "-A")
    git("commit", "-qm", "tracked")
    write(repo, {"x.txt": "x 2\n", "y.txt": "y 2\n"})
    found = assert_same_json(tools, "diff", "--json")
    assert [e["path"] for e in found["modified"]] == ["y.txt"]
    assert assert_same_json(tools, "diff", "--json", "--targets", "x.txt") == {}
    assert assert_same_json(tools, "diff", "--json", "--targets", "x.txt.dvc") == {}
    assert_same_json(tools, "data", "status", "--json", "--granular", "--unchanged", unordered=True)
    found = assert_same_json(tools, "ls", ".", "--dvc-only", "--json")
    assert [e["path"] for e in found] == ["y.txt"]
    assert_same_json(tools, "ls", ".", "--json")


# Two `dvc.yaml` files and a `.dvc` file; `uncached.txt` is git's (`cache: false`).
PIPELINES = {
    "dvc.yaml": "stages:\n"
    "  make:\n"
    "    cmd: echo out > out.txt && echo u > uncached.txt && echo m > m.json\n"
    "    outs:\n"
    "    - out.txt\n"
    "    - uncached.txt:\n"
    "        cache: false\n"
    "    metrics: [m.json]\n"
    "  other:\n"
    "    cmd: echo o > o2.txt\n"
    "    outs: [o2.txt]\n",
    "sub/dvc.yaml": "stages:\n  deep:\n    cmd: mkdir -p res && echo r > res/r.txt\n"
    "    outs: [res]\n",
    "data/a.txt": "alpha\n",
}
# What changes in every output after the first commit.
OUTPUTS = ("out.txt", "uncached.txt", "m.json", "o2.txt", "sub/res/r.txt", "data/a.txt")


def pipelines_repo(tools: Tools) -> Path:
    """Two commits of `PIPELINES` (outputs changed between them), then changes again."""
    _mlvc, dvc, git, repo = tools
    dvc("init", "-q")
    write(repo, PIPELINES)
    dvc("add", "-q", "data")
    dvc("repro", "-q", "--all-pipelines")
    git("add", "-A")
    git("commit", "-qm", "pipelines")
    for rel in OUTPUTS:
        write(repo, {rel: "second\n"})
    dvc("commit", "-q", "-f")
    git("add", "-A")
    git("commit", "-qm", "second")
    for rel in OUTPUTS:
        write(repo, {rel: "third\n"})
    return repo


def test_diff_targets_a_dvc_yaml_or_its_stages_like_dvc(tools: Tools) -> None:
    """`dvc.yaml`, `path/dvc.yaml`, `dvc.yaml:stage` and a bare stage name stand for outputs."""
    _mlvc, _dvc, _git, repo = tools
    pipelines_repo(tools)
    found = assert_same_json(tools, "diff", "--json", "--targets", "dvc.yaml")
    assert [e["path"] for e in found["modified"]] == ["m.json", "o2.txt", "out.txt"]
    for targets in (
        ["sub/dvc.yaml"],
        ["dvc.yaml:make"],
        [":make"],
        ["make"],
        ["sub/dvc.yaml:deep"],
        ["sub/dvc.yaml", "data.dvc"],
        ["other", "out.txt"],
    ):
        assert_same_json(tools, "diff", "--json", "--targets", *targets)
        assert_same_json(tools, "diff", "--json", "HEAD~1", "HEAD", "--targets", *targets)
    for flags in ([], ["--md"], ["--show-hash"]):
        assert_same_text(tools, "diff", *flags, "--targets", "dvc.yaml")
    # From a subdirectory, targets are relative to it: `dvc.yaml` and bare names too.
    for targets in (["deep"], ["dvc.yaml"], ["res"], ["../dvc.yaml:make"], ["../out.txt"]):
        assert_same_json(tools, "diff", "--json", "--targets", *targets, cwd=repo / "sub")


def test_diff_targets_an_output_with_cache_false_like_dvc(tools: Tools) -> None:
    """An output DVC does not cache is a valid target with nothing to compare."""
    pipelines_repo(tools)
    for revs in ([], ["HEAD~1", "HEAD"]):
        found = assert_same_json(tools, "diff", "--json", *revs, "--targets", "uncached.txt")
        assert found == {}
        assert assert_same_text(tools, "diff", *revs, "--targets", "uncached.txt") == ""
        for flags in (["--md"], ["--md", "--show-hash"]):
            text = assert_same_text(tools, "diff", *flags, *revs, "--targets", "uncached.txt")
            assert text.count("\n") == 3  # the header, its rule, a blank line
    assert_same_json(tools, "diff", "--json", "--targets", "uncached.txt", "out.txt")


def test_diff_resolves_targets_at_each_revision_like_dvc(tools: Tools) -> None:
    """A target names what each revision says it names, or nothing there."""
    _mlvc, dvc, git, repo = tools
    dvc("init", "-q")
    write(repo, {"w.txt": "w\n"})
    dvc("add", "-q", "w.txt")
    write(
        repo,
        {
            "dvc.yaml": "stages:\n"
            "  gen:\n"
            "    foreach: [a, b]\n"
            "    do:\n"
            "      cmd: echo ${item} > g_${item}.txt\n"
            "      outs:\n"
            "      - g_${item}.txt\n",
        },
    )
    dvc("repro", "-q")
    git("add", "-A")
    git("commit", "-qm", "w tracked by a .dvc file")
    # `w.txt` becomes the output of a new stage; `g_a.txt` changes.
    (repo / "w.txt.dvc").unlink()
    with (repo / "dvc.yaml").open("a") as f:
        f.write("  neww:\n    cmd: echo neww > w.txt\n    outs: [w.txt]\n")
    write(repo, {"g_a.txt": "changed\n"})
    dvc("repro", "-q", "neww")
    for target in ("w.txt.dvc", "neww", "w.txt", "dvc.yaml", "gen", "gen@a", "dvc.yaml:gen@b"):
        assert_same_json(tools, "diff", "--json", "--show-hash", "--targets", target)
    git("add", "-A")
    git("commit", "-qm", "w made by a stage")
    for revs in (["HEAD~1", "HEAD"], ["HEAD", "HEAD~1"]):
        found = assert_same_json(tools, "diff", "--json", *revs, "--targets", "w.txt.dvc")
        assert found["added" if revs[0] == "HEAD" else "deleted"] == [{"path": "w.txt"}]
        assert_same_json(tools, "diff", "--json", *revs, "--targets", "neww")


def test_diff_targets_naming_nothing_are_refused(tools: Tools) -> None:
    """DVC 3.67 fails with an unexpected error (exit 255); mlvc names the target."""
    mlvc, dvc, _git, repo = tools
    pipelines_repo(tools)
    cases: list[tuple[list[str], Path]] = [
        (["sub"], repo),  # a directory that only holds outputs
        (["deep"], repo),  # a stage of another directory's `dvc.yaml`
        (["make"], repo / "sub"),
        (["dvc.yaml:nope"], repo),
        (["sub/dvc.yaml:make"], repo),
        (["gone.dvc"], repo),
        (["uncached.txt", "nope.txt"], repo),
    ]
    for targets, cwd in cases:
        ours = mlvc("diff", "--json", "--targets", *targets, cwd=cwd, check=False)
        assert ours.returncode == 1, targets
        assert dvc("diff", "--targets", *targets, cwd=cwd, check=False).returncode == 255
        assert_one_error(ours, targets[-1])
    ours = mlvc("diff", "--targets", "dvc.lock", check=False)
    assert ours.returncode == 1 and dvc("diff", "--targets", "dvc.lock", check=False).returncode
    assert_one_error(ours, "dvc.lock")
    assert "dvc.yaml" in ours.stderr


def test_ls_dvc_only_lists_a_path_git_tracks_like_dvc(tools: Tools) -> None:
    """The path itself may be git's; only what is listed under it must be DVC's."""
    _mlvc, _dvc, git, repo = tools
    pipelines_repo(tools)
    write(repo, {"src/run.py": "print(1)\n"})
    for path in ("uncached.txt", "dvc.yaml", "data.dvc", "src"):
        for flags in (["--json"], ["-R", "--json"], ["-R", "-L", "0", "--json"]):
            assert_same_json(tools, "ls", ".", path, "--dvc-only", *flags)
        assert_same_text(tools, "ls", ".", path, "--dvc-only", "-T", "--size", "--show-hash")
    assert assert_same_json(tools, "ls", ".", "src", "--dvc-only", "--json") == []
    # A file inside a directory output: the workspace gives its size.
    found = assert_same_json(tools, "ls", ".", "sub/res/r.txt", "--dvc-only", "--json")
    assert found[0]["size"] == len("third\n")
    assert_same_json(tools, "ls", ".", "sub/res", "--dvc-only", "-R", "-L", "0", "--json")
    git("add", "-A")
    git("commit", "-qm", "src")
    for path in ("dvc.yaml", "src", "sub/res/r.txt"):
        assert_same_json(tools, "ls", ".", path, "--rev", "HEAD", "--dvc-only", "--json")
    assert_same_text(tools, "ls", ".", "src", "--rev", "HEAD", "--dvc-only", "-T", "--size")


def test_ls_paths_from_a_subdirectory_and_as_shown_like_dvc(tools: Tools) -> None:
    """Run inside the repository, a relative path is read from the current directory;
    the path is shown as given (an absolute one relative to the root)."""
    _mlvc, _dvc, _git, repo = tools
    pipelines_repo(tools)
    sub = repo / "sub"
    for path in (".", "res", "res/r.txt", "../out.txt", "..", "../data"):
        for flags in (["--json"], ["-R", "--json"], ["--dvc-only", "--json"]):
            assert_same_json(tools, "ls", ".", path, *flags, cwd=sub)
        assert_same_text(tools, "ls", ".", path, "-T", cwd=sub)
    assert_same_json(tools, "ls", str(repo), "res", "--json", cwd=sub)
    for path in ("data/", "./data/", "data//", str(repo / "out.txt"), str(repo / "data")):
        assert_same_text(tools, "ls", ".", path, "-T")
        assert_same_json(tools, "ls", ".", path, "-R", "-L", "0", "--json")


def test_ls_paths_from_a_subdirectory_mean_the_same_at_every_revision(tools: Tools) -> None:
    """Deliberately unlike DVC 3.67, whose reading of a path run from a subdirectory
    depends on where it looks: from the root at a `--rev`, but from the current
    directory in the workspace, even for an absolute path."""
    mlvc, dvc, _git, repo = tools
    pipelines_repo(tools)
    sub = repo / "sub"
    ours = mlvc("ls", ".", "res", "--rev", "HEAD", "--json", cwd=sub)
    assert [e["path"] for e in json.loads(ours.stdout)] == ["r.txt"]
    assert dvc("ls", ".", "res", "--rev", "HEAD", cwd=sub, check=False).returncode == 1
    ours = mlvc("ls", ".", str(repo / "out.txt"), cwd=sub)
    assert ours.stdout == "out.txt\n"
    assert dvc("ls", ".", str(repo / "out.txt"), cwd=sub, check=False).returncode == 1
    # With no path, both list the root; DVC names its entries from the subdirectory.
    assert "dvc.yaml\n" in mlvc("ls", ".", cwd=sub).stdout
    assert "../dvc.yaml\n" in dvc("ls", ".", cwd=sub).stdout


def test_ls_reads_directories_missing_from_the_cache_from_a_remote_like_dvc(
    tools: Tools, tmp_path: Path
) -> None:
    mlvc, dvc, git, repo = tools
    committed_repo(tools)
    holding, lacking = tmp_path / "holding", tmp_path / "lacking"
    dvc("remote", "add", "holding", str(holding))
    dvc("remote", "add", "-d", "lacking", str(lacking))
    dvc("push", "-q", "-r", "holding")
    git("commit", "-qam", "remotes")
    extra = tmp_path / "extra.config"
    extra.write_text("[core]\n    remote = holding\n")
    shutil.rmtree(repo / ".dvc" / "cache")
    shutil.rmtree(repo / "data")
    # Neither the cache nor the default remote holds it: both fail (DVC: 255). First,
    # while DVC has not yet kept a `.dir` read from a remote in its site cache.
    for args in (["-R"], ["data"], ["data/sub/b.txt"]):
        ours = mlvc("ls", ".", *args, check=False)
        theirs = dvc("ls", ".", *args, check=False)
        assert ours.returncode == theirs.returncode == 255, (args, ours.stderr, theirs.stderr)
        assert "data" in ours.stderr and "`lacking`" in ours.stderr
        assert len(ours.stderr.splitlines()) == 2  # the error and its hint
    for args in (
        ["-R", "--remote", "holding"],
        ["data", "--remote", "holding"],
        ["data/sub", "-R", "--remote", "holding"],
        ["-T", "--remote", "holding"],
        ["-R", "--config", str(extra)],
        ["-R", "--remote-config", f"url={holding}"],
        ["--rev", "HEAD", "-R", "--dvc-only", "--remote", "holding"],
    ):
        if "-T" in args:
            assert_same_text(tools, "ls", ".", *args)
        else:
            assert_same_json(tools, "ls", ".", *args, "--json")
    # Listings that stay above the directory need no `.dir` at all.
    assert_same_json(tools, "ls", ".", "--json")
    assert_same_json(tools, "ls", ".", "-R", "-L", "1", "--json")
    assert_same_text(tools, "ls", ".", "-T", "-L", "1")
    # The words after `--remote-config`'s pairs stay the command's arguments (with
    # argparse they become values, and DVC fails with an unexpected error).
    pairs_first = ["ls", "-R", "--remote-config", f"url={holding}", ".", "data", "--json"]
    pairs_last = ["ls", ".", "data", "-R", "--remote-config", f"url={holding}", "--json"]
    assert json.loads(mlvc(*pairs_first).stdout) == json.loads(mlvc(*pairs_last).stdout)
    # Listing from the remote put nothing in the cache.
    assert not (repo / ".dvc" / "cache").exists()
    # An unknown remote, or a key no config has, is refused even when no directory
    # needs loading (DVC: 1, "failed to list").
    bad_config = tmp_path / "bad.config"
    bad_config.write_text("[core]\n    bogus = 1\n")
    for args, named in (
        (["--remote", "nowhere"], "`nowhere`"),
        (["--remote-config", "bogus=1"], "`bogus`"),
        (["--config", str(bad_config)], "`bogus`"),
    ):
        ours = mlvc("ls", ".", *args, check=False)
        theirs = dvc("ls", ".", *args, check=False)
        assert ours.returncode == theirs.returncode == 1, (args, ours.stderr, theirs.stderr)
        assert named in ours.stderr


def test_ls_refuses_a_remote_dir_object_naming_paths_outside_the_directory(
    tools: Tools, tmp_path: Path
) -> None:
    mlvc, dvc, _git, repo = tools
    committed_repo(tools)
    remote = tmp_path / "remote"
    dvc("remote", "add", "-d", "r", str(remote))
    dvc("push", "-q")
    entries = json.loads(mlvc("ls", ".", "--json").stdout)
    (md5,) = [e["md5"] for e in entries if e["path"] == "data"]
    shutil.rmtree(repo / ".dvc" / "cache")
    # A remote whose `.dir` was replaced by one that escapes the directory.
    bad = remote / "files" / "md5" / md5[:2] / md5[2:]
    bad.chmod(0o644)
    bad.write_text(json.dumps([{"md5": "0" * 32, "relpath": "../../escape.txt"}]))
    r = mlvc("ls", ".", "-R", check=False)
    assert r.returncode != 0
    assert "escape.txt" in r.stderr or "unsafe" in r.stderr.lower(), r.stderr
    assert not (tmp_path / "escape.txt").exists() and not (repo.parent / "escape.txt").exists()
