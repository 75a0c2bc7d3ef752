"""push / fetch / pull with stage targets, `-d`, `-R`, `--glob`, `fetch --max-size/--type`
and `pull --allow-missing`; `status -j`: each compared with real DVC on one repository."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]

PIPELINE = """\
stages:
  prep:
    cmd: echo prep > prep.txt
    deps: [raw.txt]
    outs: [prep.txt]
  train:
    cmd: echo model > model.txt && echo 1 > m.json
    deps: [prep.txt]
    outs: [model.txt]
    metrics: [m.json]
  other:
    cmd: echo other-output > o.txt
    outs: [o.txt]
"""
OUTPUTS = ["raw.txt", "prep.txt", "model.txt", "m.json", "o.txt", "sub/s.txt"]


def pipeline_repo(mlvc: Runner, git: Runner, repo: Path) -> None:
    """`raw.txt.dvc`, `sub/s.txt.dvc` and prep -> train (with a metric), plus `other`."""
    mlvc("init", "-q")
    for name in ("theirs", "ours"):
        mlvc("remote", "add", "-q", name, f"../{name}")
    (repo / "raw.txt").write_text("raw\n")
    (repo / "sub").mkdir()
    (repo / "sub" / "s.txt").write_text("s\n")
    mlvc("add", "-q", "raw.txt", "sub/s.txt")
    (repo / "dvc.yaml").write_text(PIPELINE)
    mlvc("repro", "-q")
    git("add", "-A")
    git("commit", "-qm", "pipeline")


def contents(store: Path) -> list[str]:
    """The contents of every object in a cache or remote, sorted (each output differs)."""
    return sorted(p.read_text() for p in store.rglob("*") if p.is_file())


def wipe(repo: Path) -> None:
    shutil.rmtree(repo / ".dvc" / "cache", ignore_errors=True)
    for rel in OUTPUTS:
        (repo / rel).unlink(missing_ok=True)


def test_push_targets_with_deps_recursive_and_glob_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    pipeline_repo(mlvc, git, repo)
    cases = {
        ("train",): ["1\n", "model\n"],
        ("-d", "train"): ["1\n", "model\n", "prep\n", "raw\n"],
        ("-d", "dvc.yaml:train"): ["1\n", "model\n", "prep\n", "raw\n"],
        ("-d", "model.txt"): ["model\n"],  # data, not a stage: no upstream
        ("-R", "sub"): ["s\n"],
        ("--glob", "p*"): ["prep\n"],
        ("dvc.yaml",): ["1\n", "model\n", "other-output\n", "prep\n"],
    }
    for args, expected in cases.items():
        for name in ("theirs", "ours"):
            shutil.rmtree(repo.parent / name, ignore_errors=True)
        dvc("push", "-q", "-r", "theirs", *args)
        mlvc("push", "-q", "-r", "ours", *args)
        assert contents(repo.parent / "ours") == contents(repo.parent / "theirs") == expected, args
    theirs = dvc("push", "-r", "theirs", "nosuch", check=False)
    ours = mlvc("push", "-r", "ours", "nosuch", check=False)
    assert theirs.returncode == ours.returncode == 1
    assert "'nosuch' does not exist as an output or a stage name in 'dvc.yaml'" in theirs.stderr
    assert ours.stderr.splitlines()[1:] == [
        "error: `nosuch` does not exist as an output or a stage name in `dvc.yaml`",
        "hint: name a `.dvc` file, tracked data, a stage (`train`, `dvc.yaml:train`)"
        " or use `-R DIR`",
    ]
    # DVC-compat: `--glob` with nothing to expand is an error too.
    empty = mlvc("push", "-r", "ours", "--glob", "zz*", check=False)
    assert empty.returncode == 1 and "error: glob `zz*` has no matches" in empty.stderr


def test_fetch_max_size_type_and_with_deps_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    pipeline_repo(mlvc, git, repo)
    mlvc("push", "-q", "-r", "theirs")
    for args, expected in {
        # DVC-compat: outputs of at least `--max-size` bytes are left out.
        ("--max-size", "5"): ["1\n", "raw\n", "s\n"],
        ("--type", "metrics"): ["1\n"],
        ("-d", "train"): ["1\n", "model\n", "prep\n", "raw\n"],
    }.items():
        found = []
        for tool in (dvc, mlvc):
            wipe(repo)
            tool("fetch", "-q", "-r", "theirs", *args)
            found.append(contents(repo / ".dvc" / "cache"))
        assert found == [expected, expected], args
    # `fetch` has no `--glob` in DVC 3.67.1; `--type` takes DVC's two choices.
    assert mlvc("fetch", "--glob", check=False).returncode == 254
    bad = mlvc("fetch", "--type", "params", check=False)
    assert bad.returncode == 254 and "'params' is not one of 'metrics', 'plots'" in bad.stderr


def test_pull_with_deps_and_allow_missing_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    pipeline_repo(mlvc, git, repo)
    mlvc("push", "-q", "-r", "theirs")
    restored = []
    for tool in (dvc, mlvc):
        wipe(repo)
        tool("pull", "-q", "-r", "theirs", "-d", "train")
        restored.append(sorted(rel for rel in OUTPUTS if (repo / rel).exists()))
    assert restored[0] == restored[1] == ["m.json", "model.txt", "prep.txt", "raw.txt"]
    # Lose `raw.txt`'s object everywhere.
    (obj,) = [
        p for p in (repo.parent / "theirs").rglob("*") if p.is_file() and p.read_text() == "raw\n"
    ]
    obj.chmod(0o644)
    obj.unlink()
    results = []
    for tool in (dvc, mlvc):
        for flags in ([], ["--allow-missing"]):
            wipe(repo)
            r = tool("pull", "-r", "theirs", *flags, check=False)
            results.append((r.returncode, "Missing cache files:" in r.stderr))
            assert (repo / "model.txt").read_text() == "model\n"
    # DVC-compat: missing data fails the pull (exit 1) unless `--allow-missing`; both warn.
    assert results == [(1, True), (0, True), (1, True), (0, True)]
    assert not (repo / "raw.txt").exists()


def test_local_status_refuses_jobs_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, _repo = tools
    mlvc("init", "-q")
    theirs = dvc("status", "-j", "2", check=False)
    ours = mlvc("status", "-j", "2", check=False)
    assert theirs.returncode == ours.returncode == 1
    assert "The following options are meaningless for local status: --jobs" in theirs.stderr
    assert ours.stderr.startswith(
        "error: The following options are meaningless for local status: --jobs\nhint: "
    )
    assert mlvc("status", "-c", "-j", "2", "-r", "nowhere", check=False).returncode != 254


def objects(store: Path) -> list[str]:
    """Object paths of a cache or remote, relative to it."""
    return sorted(p.relative_to(store).as_posix() for p in store.rglob("*") if p.is_file())


def test_a_directory_holding_dvc_files_is_no_target_without_recursive_like_dvc(
    tools: Tools,
) -> None:
    mlvc, dvc, git, repo = tools
    pipeline_repo(mlvc, git, repo)
    (repo / "nested").mkdir()
    (repo / "nested" / "dvc.yaml").write_text(
        "stages:\n  n:\n    cmd: echo n > n.txt\n    outs: [n.txt]\n"
    )
    mlvc("repro", "-q", "nested/dvc.yaml")
    mlvc("push", "-q", "-r", "theirs")
    for command in ("push", "fetch", "pull"):
        for target in ("sub", "nested", "sub/"):
            shutil.rmtree(repo.parent / "ours", ignore_errors=True)
            theirs = dvc(command, "-r", "ours", target, check=False)
            ours = mlvc(command, "-r", "ours", target, check=False)
            # DVC-compat: not an output, so DVC reads it as a stage name of `./dvc.yaml`.
            assert theirs.returncode == ours.returncode == 1, (command, target)
            assert (
                f"'{target}' does not exist as an output or a stage name in 'dvc.yaml'"
                in theirs.stderr
            )
            assert ours.stderr.splitlines()[:2] == [
                "warning: failed to collect 'workspace', skipping",
                f"error: `{target}` does not exist as an output or a stage name in `dvc.yaml`",
            ]
            assert not (repo.parent / "ours").exists()
    # With -R the same directories are targets (their `.dvc` files and stages).
    for target, expected in (("sub", ["s\n"]), ("nested", ["n\n"])):
        shutil.rmtree(repo.parent / "ours", ignore_errors=True)
        mlvc("push", "-q", "-r", "ours", "-R", target)
        assert contents(repo.parent / "ours") == expected


DIR_PIPELINE = """\
stages:
  train:
    cmd: mkdir -p model && echo w > model/w.txt && echo b > model/b.txt
    outs: [model]
"""


def data_dir_repo(mlvc: Runner, git: Runner, repo: Path) -> None:
    """`data/` (three files, two in `data/sub`) tracked by `data.dvc`; `model/` by a stage."""
    mlvc("init", "-q")
    for name in ("theirs", "ours"):
        mlvc("remote", "add", "-q", name, f"../{name}")
    (repo / "data" / "sub").mkdir(parents=True)
    for rel, text in (("g.txt", "g\n"), ("sub/file.txt", "f\n"), ("sub/h.txt", "h\n")):
        (repo / "data" / rel).write_text(text)
    mlvc("add", "-q", "data")
    (repo / "dvc.yaml").write_text(DIR_PIPELINE)
    mlvc("repro", "-q")
    git("add", "-A")
    git("commit", "-qm", "data")


def test_push_and_fetch_a_file_inside_a_tracked_directory_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    data_dir_repo(mlvc, git, repo)
    # DVC-compat: the directory's `.dir` object goes too (and is counted); a path
    # inside it that names nothing moves the `.dir` object alone.
    cases = {
        "data/sub/file.txt": ["f\n"],
        "data/sub": ["f\n", "h\n"],
        "data/sub/": ["f\n", "h\n"],
        "data/nosuch": [],
        "model/w.txt": ["w\n"],
    }
    for target, files in cases.items():
        for name in ("theirs", "ours"):
            shutil.rmtree(repo.parent / name, ignore_errors=True)
        status = dvc("status", "-c", "--json", "-r", "theirs", target).stdout
        assert json.loads(mlvc("status", "-c", "--json", "-r", "ours", target).stdout) == (
            json.loads(status)
        )
        theirs = dvc("push", "-r", "theirs", target)
        ours = mlvc("push", "-r", "ours", target)
        n = len(files) + 1
        assert ours.stdout == theirs.stdout == f"{n} file{'s' * (n > 1)} pushed\n", target
        assert objects(repo.parent / "ours") == objects(repo.parent / "theirs"), target
        assert [c for c in contents(repo.parent / "ours") if not c.startswith("[")] == files
    mlvc("push", "-q", "-r", "theirs")
    for target in cases:
        found = []
        for tool in (dvc, mlvc):
            shutil.rmtree(repo / ".dvc" / "cache")
            r = tool("fetch", "-r", "theirs", target)
            found.append((r.stdout, objects(repo / ".dvc" / "cache")))
        assert found[0] == found[1], target


def test_pull_a_file_inside_a_tracked_directory_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    data_dir_repo(mlvc, git, repo)
    mlvc("push", "-q", "-r", "theirs")

    def workspace() -> list[str]:
        return sorted(
            f"{p.relative_to(repo).as_posix()}={p.read_text()}"
            for top in ("data", "model")
            for p in (repo / top).rglob("*")
            if p.is_file()
        )

    for target in ("data/sub/file.txt", "data/sub", "data/nosuch", "model/w.txt"):
        found = []
        for tool in (dvc, mlvc):
            for top in ("data", "model", ".dvc/cache"):
                shutil.rmtree(repo / top, ignore_errors=True)
            r = tool("pull", "-r", "theirs", target)
            # DVC-compat: only the files under the target are restored; the directory
            # is reported as added, with the files it got.
            found.append((r.stdout, workspace(), (repo / target.split("/")[0]).is_dir()))
        assert found[0] == found[1], target
    assert found[1][1] == ["model/w.txt=w\n"]
    # Into a directory that is there already: the other files stay as they are.
    for tool in (dvc, mlvc):
        for top in ("data", ".dvc/cache"):
            shutil.rmtree(repo / top, ignore_errors=True)
        (repo / "data").mkdir()
        (repo / "data" / "g.txt").write_text("mine\n")
        r = tool("pull", "-r", "theirs", "data/sub/file.txt")
        assert r.stdout == "M       data/\n2 files fetched and 1 file added\n"
        assert workspace()[:2] == ["data/g.txt=mine\n", "data/sub/file.txt=f\n"]
        # A changed file under the target is not overwritten without `-f`.
        (repo / "data" / "sub" / "file.txt").chmod(0o644)
        (repo / "data" / "sub" / "file.txt").write_text("changed\n")
        assert tool("pull", "-r", "theirs", "data/sub", check=False).returncode == 1
        assert (repo / "data" / "sub" / "file.txt").read_text() == "changed\n"
        r = tool("pull", "-f", "-r", "theirs", "data/sub")
        # DVC-compat: the failed pull fetched `h.txt` already; modified counts come first.
        assert r.stdout == "M       data/\n1 file modified and 1 file added\n"
        assert (repo / "data" / "g.txt").read_text() == "mine\n"


def test_per_output_remote_with_and_without_r_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    mlvc("init", "-q")
    mlvc("remote", "add", "-q", "-d", "r1", "../r1")
    mlvc("remote", "add", "-q", "r2", "../r2")
    for name in ("a", "b"):
        (repo / f"{name}.txt").write_text(f"{name}\n")
        mlvc("add", "-q", f"{name}.txt")
    (repo / "a.txt.dvc").write_text((repo / "a.txt.dvc").read_text() + "  remote: r2\n")
    git("add", "-A")
    git("commit", "-qm", "data")
    stores = [repo.parent / "r1", repo.parent / "r2"]
    # DVC-compat: without `-r` each output goes to its own remote; with `-r NAME`,
    # outputs naming another remote are left out, the rest go to NAME.
    for flags, expected in (
        ([], [["b\n"], ["a\n"]]),
        (["-r", "r1"], [["b\n"], []]),
        (["-r", "r2"], [[], ["a\n", "b\n"]]),
    ):
        found = []
        for tool in (dvc, mlvc):
            for store in stores:
                shutil.rmtree(store, ignore_errors=True)
            r = tool("push", *flags)
            found.append((r.stdout, [contents(s) for s in stores]))
        assert found[0] == found[1], flags
        assert found[1][1] == expected, flags
    # Now r1 holds nothing, r2 both: what each reports and what a fetch brings back.
    for flags in ([], ["-r", "r1"], ["-r", "r2"]):
        theirs = dvc("status", "-c", "--json", *flags).stdout
        assert json.loads(mlvc("status", "-c", "--json", *flags).stdout) == json.loads(theirs)
        found = []
        for tool in (dvc, mlvc):
            shutil.rmtree(repo / ".dvc" / "cache", ignore_errors=True)
            r = tool("fetch", *flags, check=False)
            found.append((r.returncode, r.stdout, contents(repo / ".dvc" / "cache")))
        assert found[0] == found[1], flags


def test_status_c_names_outputs_of_a_stage_never_run_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    pipeline_repo(mlvc, git, repo)
    with (repo / "dvc.yaml").open("a") as f:
        f.write("  later:\n    cmd: echo later > later.txt\n    outs: [later.txt]\n")
    warning = "output 'later.txt'(stage: 'later') is missing version info."
    for tool, remote in ((dvc, "theirs"), (mlvc, "ours")):
        assert warning in tool("status", "-c", "-r", remote).stderr.lower()
        assert warning in tool("status", "-c", "-r", remote, "later").stderr.lower()
        # Only when the targets reach it; push moves the rest without a word.
        assert "missing version info" not in tool("status", "-c", "-r", remote, "prep").stderr
        assert "missing version info" not in tool("push", "-r", remote).stderr
    assert contents(repo.parent / "ours") == contents(repo.parent / "theirs")


def test_a_stage_that_does_not_resolve_fails_only_transfers_that_need_it_like_dvc(
    tools: Tools,
) -> None:
    mlvc, dvc, git, repo = tools
    pipeline_repo(mlvc, git, repo)
    mlvc("push", "-q", "-r", "theirs")
    # `other` stops resolving; `train` and its upstream stages are untouched.
    text = (repo / "dvc.yaml").read_text()
    (repo / "dvc.yaml").write_text(text.replace("echo other-output", "echo ${nowhere}"))
    found = []
    for tool in (dvc, mlvc):
        codes = []
        for line in ("push train", "fetch train", "pull train", "push other", "push", "pull"):
            wipe(repo)
            cmd, *args = line.split()
            codes.append(tool(cmd, "-q", "-r", "theirs", *args, check=False).returncode)
        wipe(repo)
        tool("pull", "-q", "-r", "theirs", "train")
        restored = sorted(rel for rel in OUTPUTS if (repo / rel).exists())
        found.append((codes, restored))
    assert found[0] == found[1] == ([0, 0, 0, 1, 1, 1], ["m.json", "model.txt"])
    # A named stage that does not resolve is named in the error.
    ours = mlvc("push", "-r", "theirs", "other", check=False)
    assert "stage `other`, `cmd`: `${nowhere}` is not defined" in ours.stderr
