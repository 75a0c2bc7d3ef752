"""`checkout` with `-d/--with-deps`, `-R/--recursive` and `--allow-missing`, on one layout
of `.dvc` files and stages in subdirectories (see `tests.func.layout`)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.func.layout import NO_SUCH_TARGET, drop_object, layout, present, remove_outputs
from tests.interop.conftest import Runner

Tools = tuple[Runner, Runner, Runner, Path]


def test_checkout_with_deps_and_recursive_restore_the_stages_they_name(tools: Tools) -> None:
    mlvc, _dvc, git, repo = tools
    layout(mlvc, git, repo)
    for args, restored in (
        (["train"], ["model.txt"]),
        (["-d", "train"], ["raw.txt", "prep.txt", "model.txt"]),
        (["-d", "model.txt"], ["model.txt"]),
        (["-R", "sub"], ["sub/x.txt", "sub/deep/d.txt", "sub/y.txt", "sub/deep/dd.txt"]),
        (["-R", "-d", "sub/deep"], ["sub/deep/d.txt", "sub/deep/dd.txt"]),
        (["--recursive", "raw.txt"], ["raw.txt"]),
    ):
        remove_outputs(repo)
        mlvc("checkout", "-q", *args)
        assert present(repo) == restored, args
    remove_outputs(repo)
    r = mlvc("checkout", "sub", check=False)
    # DVC-compat: exit 255, suggesting git's checkout.
    assert r.returncode == 255
    assert r.stderr.splitlines() == [
        f"error: `sub` {NO_SUCH_TARGET}",
        "hint: did you mean `git checkout sub`?",
    ]
    assert present(repo) == []


def test_checkout_of_data_missing_from_the_cache_fails_after_the_rest(tools: Tools) -> None:
    mlvc, _dvc, git, repo = tools
    layout(mlvc, git, repo)
    for rel in ("raw.txt", "data/1.txt", "prep.txt"):
        drop_object(repo, rel)
    # `prep.txt` is right, though its object is gone: nothing to do, no failure.
    for rel in ("raw.txt", "data", "other.txt"):
        shutil.rmtree(repo / rel) if rel == "data" else (repo / rel).unlink()
    r = mlvc("checkout", check=False)
    assert r.returncode == 255
    assert r.stdout == "A       other.txt\n"
    assert r.stderr.splitlines()[1:3] == [
        "error: checkout failed for `data`, `raw.txt`: objects missing from the cache",
        "hint: fetch them from a remote with `mlvc fetch` (or `mlvc pull`)",
    ]
    # No half-made directory is left behind.
    assert not (repo / "data").exists()
    assert (repo / "prep.txt").read_text() == "raw\np\n"
    # Nothing else to restore: the failure is the only news, not "up to date".
    r = mlvc("checkout", check=False)
    assert r.returncode == 255 and r.stderr.startswith("error: checkout failed"), r.stderr
    (repo / "other.txt").unlink()
    r = mlvc("checkout", "--allow-missing", check=False)
    assert (r.returncode, r.stdout) == (0, "A       other.txt\n")
    assert "error" not in r.stderr
    assert present(repo) == [
        "sub/x.txt",
        "sub/deep/d.txt",
        "prep.txt",
        "model.txt",
        "other.txt",
        "sub/y.txt",
        "sub/deep/dd.txt",
    ]
    summary = mlvc("checkout", "--summary", "-d", "train", check=False)
    assert (summary.returncode, summary.stdout) == (255, "No changes.\n")
    assert "checkout failed for `raw.txt`" in summary.stderr


def test_checkout_without_an_object_keeps_unsaved_data(tools: Tools) -> None:
    mlvc, _dvc, git, repo = tools
    layout(mlvc, git, repo)
    drop_object(repo, "raw.txt")
    (repo / "raw.txt").unlink()
    (repo / "raw.txt").write_text("mine\n")
    for flags in ([], ["--allow-missing"]):
        r = mlvc("checkout", *flags, "raw.txt", check=False)
        assert r.returncode == 255
        assert "would overwrite changes that are not in the cache: `raw.txt`" in r.stderr
        assert (repo / "raw.txt").read_text() == "mine\n"
    # A directory output that fails keeps the one file whose content is nowhere else.
    drop_object(repo, "data/1.txt")
    drop_object(repo, "data/2.txt")
    (repo / "data" / "1.txt").unlink()
    r = mlvc("checkout", "--allow-missing", "data", check=False)
    assert r.returncode == 0
    assert sorted(p.name for p in (repo / "data").iterdir()) == ["2.txt"]
    # With `--force` the failed output goes, as DVC removes it.
    r = mlvc("checkout", "--allow-missing", "--force", "raw.txt", "data", check=False)
    assert r.returncode == 0
    assert not (repo / "raw.txt").exists() and not (repo / "data").exists()
