"""`checkout` with `-d`, `-R` and `--allow-missing`: run by real DVC and by mlvc on one
repository layout (`tests.func.layout`), what each restores, prints and exits with compared."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.func.layout import (
    BAD,
    MLVC_NO_SUCH,
    TARGETS,
    drop_object,
    fresh,
    layout,
    present,
    remove_outputs,
)
from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]


def test_checkout_with_deps_and_recursive_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    layout(mlvc, git, repo)
    for args in TARGETS:
        found = []
        for tool in (dvc, mlvc):
            remove_outputs(repo)
            r = tool("checkout", *args)
            found.append((present(repo), sorted(r.stdout.splitlines())))
        assert found[0] == found[1], args
    for args in BAD:
        remove_outputs(repo)
        theirs = dvc("checkout", *args, check=False)
        ours = mlvc("checkout", *args, check=False)
        # DVC-compat: exit 255, suggesting git's checkout.
        assert theirs.returncode == ours.returncode == 255, args
        assert f"Did you mean `git checkout {args[-1]}`?" in theirs.stderr
        assert ours.stderr.splitlines() == [
            MLVC_NO_SUCH.format(args[-1]),
            f"hint: did you mean `git checkout {args[-1]}`?",
        ]
        assert present(repo) == []


def test_checkout_of_missing_data_with_and_without_allow_missing_like_dvc(
    tools: Tools,
) -> None:
    mlvc, dvc, git, repo = tools
    layout(mlvc, git, repo)
    # `raw.txt` and a file of `data` are gone from both; `prep.txt` is right in the
    # workspace though its object is gone; `model.txt` is restorable.
    for rel in ("raw.txt", "data/1.txt", "prep.txt"):
        drop_object(repo, rel)
    scenarios = []
    for flags in ([], ["--allow-missing"], ["--summary"], ["--allow-missing", "--summary"]):
        for targets in ([], ["-d", "train"], ["-R", "."]):
            scenarios.append([*flags, *targets])
    for args in scenarios:
        found = []
        for tool in (dvc, mlvc):
            for rel in ("raw.txt", "data", "model.txt"):
                if rel == "data":
                    shutil.rmtree(repo / rel, ignore_errors=True)
                else:
                    (repo / rel).unlink(missing_ok=True)
            r = tool("checkout", *args, check=False)
            found.append((r.returncode, r.stdout, present(repo)))
            if tool is dvc:
                failed = r.stderr.split("following targets:\n")[-1].split("\nIs your")[0]
                theirs = sorted(failed.splitlines()) if r.returncode else []
            else:
                shown = r.stderr.split("checkout failed for ")[-1].split(":")[0]
                ours = sorted(t.strip("`") for t in shown.split(", ")) if r.returncode else []
        assert found[0] == found[1], args
        # DVC-compat: 255 and the outputs that failed named, unless `--allow-missing`.
        assert found[1][0] == (0 if "--allow-missing" in args else 255), args
        assert ours == theirs, args
        assert ("--allow-missing" in args) == (ours == []), args
        assert "model.txt" in found[1][2] and "prep.txt" in found[1][2]


def test_checkout_relink_reports_only_changed_data_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    found = []
    for tool in (dvc, mlvc):
        fresh(tool, repo, "copy")
        (repo / "a").write_text("a\n")
        (repo / "d").mkdir()
        (repo / "d/x").write_text("x\n")
        tool("add", "-q", "a", "d")
        runs = [tool("checkout", "--relink", "--summary").stdout]
        tool("config", "cache.type", "symlink")
        runs.append(tool("checkout", "--relink", "--summary").stdout)
        links = [(repo / p).is_symlink() for p in ("a", "d/x")]
        (repo / "a").unlink()
        (repo / "a").write_text("changed\n")
        runs.append(tool("checkout", "--relink", "--summary", "--force").stdout)
        found.append((runs, links, (repo / "a").read_text()))
    assert found[0] == found[1]
    assert found[1][0][0] == "No changes.\nRelinked successfully\n"
    assert found[1][1] == [True, True]


def test_checkout_relink_keeps_an_execute_bit_inside_a_directory_like_dvc(
    tools: Tools,
) -> None:
    mlvc, dvc, _git, repo = tools
    found = []
    for tool in (dvc, mlvc):
        fresh(tool, repo, "copy")
        (repo / "d").mkdir()
        for name in ("run.sh", "x"):
            (repo / "d" / name).write_text(name + "\n")
        (repo / "d/run.sh").chmod(0o755)
        tool("add", "-q", "d")
        before = (repo / "d/run.sh").stat().st_ino
        tool("checkout", "-q", "--relink")
        found.append(
            (
                [(repo / "d" / n).stat().st_mode & 0o777 for n in ("run.sh", "x")],
                (repo / "d/run.sh").stat().st_ino == before,
                tool("status").stdout,
            )
        )
    assert found[0] == found[1]
    assert found[1][:2] == ([0o755, 0o644], True)


def test_checkout_removes_empty_directories_inside_tracked_data_like_dvc(
    tools: Tools,
) -> None:
    mlvc, dvc, _git, repo = tools

    def listing() -> list[str]:
        return sorted(p.relative_to(repo).as_posix() for p in (repo / "d").rglob("*"))

    found = []
    for tool in (dvc, mlvc):
        fresh(tool, repo, "copy")
        (repo / "d/sub").mkdir(parents=True)
        (repo / "d/x").write_text("x\n")
        (repo / "d/sub/y").write_text("y\n")
        tool("add", "-q", "d")
        (repo / ".dvcignore").write_text("*.tmp\n")
        (repo / "d/e1/e2").mkdir(parents=True)
        (repo / "d/sub/e3").mkdir()
        (repo / "d/only_ignored").mkdir()
        (repo / "d/only_ignored/t.tmp").write_text("t\n")
        runs = [tool("checkout").stdout, listing()]
        # With a target inside the directory, only what lies below it is touched.
        (repo / "d/e4").mkdir()
        (repo / "d/sub/e5").mkdir()
        runs += [tool("checkout", "d/sub").stdout, listing(), tool("status").stdout]
        found.append(runs)
        (repo / ".dvcignore").unlink()
    assert found[0] == found[1]
    assert found[1][1] == ["d/only_ignored", "d/only_ignored/t.tmp", "d/sub", "d/sub/y", "d/x"]
    assert found[1][0] == "M       d/\n"


def test_add_and_commit_keep_empty_directories_when_linking_like_dvc(tools: Tools) -> None:
    mlvc, dvc, _git, repo = tools
    found = []
    for tool in (dvc, mlvc):
        fresh(tool, repo, "hardlink")
        (repo / "d/empty").mkdir(parents=True)
        (repo / "d/x").write_text("x\n")
        tool("add", "-q", "d")
        (repo / "d/y").write_text("y\n")
        (repo / "d/e2").mkdir()
        tool("commit", "-q", "-f", "d.dvc")
        kept = sorted(p.name for p in (repo / "d").iterdir() if p.is_dir())
        tool("checkout", "-q", "--relink")
        found.append((kept, sorted(p.name for p in (repo / "d").iterdir())))
    assert found[0] == found[1]
    assert found[1] == (["e2", "empty"], ["x", "y"])


def test_checkout_removes_outputs_no_longer_tracked_like_dvc(tools: Tools) -> None:
    mlvc, dvc, git, repo = tools
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    found = []
    for tool in (dvc, mlvc):
        fresh(tool, repo, "copy")
        git("add", "-A")
        git("commit", "-qm", "empty", "--allow-empty")
        base = git("rev-parse", "HEAD").stdout.strip()
        (repo / "b").write_text("b\n")
        (repo / "kept").write_text("k\n")
        (repo / "d").mkdir()
        (repo / "d/x").write_text("x\n")
        tool("add", "-q", "b", "d", "kept")
        git("add", "-A")
        git("commit", "-qm", "data")
        tip = git("rev-parse", "HEAD").stdout.strip()
        git("checkout", "-q", base)
        (repo / "kept").chmod(0o644)
        (repo / "kept").write_text("changed since\n")  # not what was placed: kept
        # With targets, nothing is removed (here the target is not tracked: an error).
        targeted = tool("checkout", "b", check=False).returncode
        present = sorted(p.name for p in repo.iterdir() if not p.name.startswith("."))
        untargeted = tool("checkout").stdout
        left = sorted(p.name for p in repo.iterdir() if not p.name.startswith("."))
        (repo / "kept").unlink()
        git("checkout", "-q", tip)
        pulled = tool("checkout").stdout
        found.append((targeted, present, untargeted, left, pulled, (repo / "d/x").read_text()))
        git("checkout", "-q", base)
        for p in ("b", "d", "kept"):
            shutil.rmtree(repo / p) if (repo / p).is_dir() else (repo / p).unlink(missing_ok=True)
    assert found[0] == found[1]
    assert found[1][2] == "D       d/\nD       b\n" and found[1][3] == ["kept"]
