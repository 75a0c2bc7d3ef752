"""Pipeline cases found by seeded randomized runs that use mlvc and DVC in turn on one
repository, against a twin repository where DVC does every step."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.interop.conftest import Pair, both, edit_both, fill, ran_names, same_status

Files = dict[str, str]
Result = subprocess.CompletedProcess[str]


NEVER_RAN = {
    "in.txt": "in\n",
    "dvc.yaml": (
        "stages:\n"
        "  a:\n"
        "    cmd: mkdir -p o/p d2/dd && cp in.txt o/p/a.txt && cp in.txt d2/dd/f\n"
        "    deps: [in.txt]\n"
        "    outs: [o/p/a.txt, d2/dd]\n"
        "  b:\n"
        "    cmd: mkdir -p u && cp in.txt u/b.txt\n"
        "    outs:\n"
        "    - u/b.txt:\n"
        "        cache: false\n"
    ),
}


@pytest.mark.parametrize("command", [["checkout"], ["checkout", "a"], ["pull"]])
def test_checkout_makes_the_directories_of_outputs_it_cannot_restore(
    pair: Pair, command: list[str]
) -> None:
    fill(pair, NEVER_RAN)
    _, ours, theirs = pair
    for root in (ours, theirs):
        (root / "remote").mkdir()
    both(pair, "remote", "add", "-d", "r", "../remote")
    # DVC-compat: the parents of cached outputs are made, though nothing is restored.
    a, _ = both(pair, *command)
    assert a.returncode != 0
    assert (ours / "o" / "p").is_dir() and (ours / "d2").is_dir()
    assert not (ours / "u").exists()


def test_checkout_makes_the_directory_of_an_output_missing_from_the_cache(pair: Pair) -> None:
    fill(
        pair,
        {
            "in.txt": "in\n",
            "dvc.yaml": (
                "stages:\n"
                "  a:\n"
                "    cmd: mkdir -p o/p && cp in.txt o/p/a.txt\n"
                "    deps: [in.txt]\n"
                "    outs: [o/p/a.txt]\n"
            ),
        },
    )
    _, ours, theirs = pair
    both(pair, "repro")
    for root in (ours, theirs):
        for p in ("o", ".dvc/cache"):
            shutil.rmtree(root / p, ignore_errors=True)
    a, _ = both(pair, "checkout")
    assert a.returncode != 0 and (ours / "o" / "p").is_dir()
    same_status(pair)


def test_a_missing_output_stops_the_stage_before_any_output_is_cached(pair: Pair) -> None:
    fill(
        pair,
        {
            "in.txt": "in\n",
            "dvc.yaml": (
                "stages:\n"
                "  a:\n"
                "    cmd: mkdir -p o d && cp in.txt o/a.txt && cp in.txt d/f\n"
                "    deps: [in.txt]\n"
                "    outs: [o/a.txt, d, missing.txt]\n"
            ),
        },
    )
    _, ours, _ = pair
    # DVC-compat: every output is checked before the first goes to the cache.
    a, _ = both(pair, "repro")
    assert a.returncode == 255 and not (ours / ".dvc" / "cache").exists()
    same_status(pair)


RUN_CACHED = {
    "in.txt": "in\n",
    "params.yaml": "x: 1\n",
    "dvc.yaml": (
        "stages:\n"
        "  a:\n"
        "    cmd: mkdir -p d && cp in.txt d/a.txt && cp in.txt b.txt\n"
        "    deps: [in.txt]\n"
        "    params: [x]\n"
        "    outs: [d, b.txt]\n"
        "  c:\n"
        "    cmd: cp in.txt c.txt\n"
        "    deps: [in.txt]\n"
        "    outs: [c.txt]\n"
    ),
}


def test_repro_pull_restores_a_run_recorded_only_on_the_remote(pair: Pair) -> None:
    fill(pair, RUN_CACHED)
    (_mlvc, dvc, _git, _), ours, theirs = pair
    for root in (ours, theirs):
        (root / "remote").mkdir()
        dvc("remote", "add", "-d", "r", "../remote", cwd=root)
        dvc("repro", cwd=root)
        dvc("push", "--run-cache", cwd=root)
    edit_both(pair, {"params.yaml": "x: 2\n"})
    both(pair, "repro")
    for root in (ours, theirs):
        shutil.rmtree(root / ".dvc" / "cache")
    edit_both(pair, {"params.yaml": "x: 1\n"})
    # DVC-compat: the remote's run cache is pulled first, then the run's outputs.
    a, _ = both(pair, "repro", "--pull")
    assert "Stage 'a' is cached - skipping run" in a.stdout
    assert len([p for p in (ours / ".dvc" / "cache" / "runs").rglob("*") if p.is_file()]) == 2
    same_status(pair)


def test_repro_pull_without_a_remote_restores_from_the_cache(pair: Pair) -> None:
    fill(pair, RUN_CACHED)
    _, ours, theirs = pair
    both(pair, "repro")
    for root in (ours, theirs):
        (root / "b.txt").unlink()
    # DVC-compat: only a warning that the run cache cannot be pulled; the cache holds
    # what the stage needs.
    a, _ = both(pair, "repro", "--pull")
    assert a.returncode == 0 and (ours / "b.txt").read_text() == "in\n"
    same_status(pair)


@pytest.mark.parametrize(
    ("edit", "flags"),
    [({"in.txt": "changed\n"}, ["--no-run-cache"]), ({}, ["--allow-missing"])],
    ids=["changed-dep", "allow-missing"],
)
def test_repro_pull_fetches_nothing_for_a_stage_it_does_not_restore(
    pair: Pair, edit: Files, flags: list[str]
) -> None:
    fill(pair, RUN_CACHED)
    (_mlvc, dvc, _git, _), ours, theirs = pair
    for root in (ours, theirs):
        (root / "remote").mkdir()
        dvc("remote", "add", "-d", "r", "../remote", cwd=root)
        dvc("repro", cwd=root)
        dvc("push", cwd=root)
        for p in (".dvc/cache", "d", "b.txt", "c.txt"):
            shutil.rmtree(root / p, ignore_errors=True)
    edit_both(pair, edit)
    # DVC-compat: only an otherwise unchanged stage's outputs are pulled, when reached.
    a, _ = both(pair, "repro", "--pull", *flags)
    assert "Pulling data" not in a.stdout
    same_status(pair)


def test_commit_of_an_output_git_tracks_ignores_none_after_it(pair: Pair) -> None:
    fill(
        pair,
        {
            "in.txt": "in\n",
            "b.txt": "in\n",
            "dvc.yaml": (
                "stages:\n"
                "  a:\n"
                "    cmd: cp in.txt a.txt && cp in.txt b.txt && cp in.txt c.txt\n"
                "    deps: [in.txt]\n"
                "    outs: [a.txt, b.txt, c.txt]\n"
            ),
        },
    )
    _, ours, _ = pair
    edit_both(pair, {"a.txt": "in\n", "c.txt": "in\n"})
    # DVC-compat: the outputs before the one git tracks are ignored, not those after.
    a, _ = both(pair, "commit", "-f")
    assert a.returncode == 1
    assert (ours / ".gitignore").read_text() == "/a.txt\n"


def test_repro_pull_restores_the_cached_outputs_and_leaves_an_uncached_one_missing(
    pair: Pair,
) -> None:
    fill(
        pair,
        {
            "dvc.yaml": (
                "stages:\n"
                "  s:\n"
                "    cmd: mkdir -p o && echo 3 > o/s.txt && printf 'x,y\\n1,3\\n' > o/p.csv\n"
                "    outs: [o/s.txt]\n"
                "    plots:\n"
                "    - o/p.csv:\n"
                "        cache: false\n"
            ),
        },
    )
    (_mlvc, dvc, _git, _), ours, theirs = pair
    for root in (ours, theirs):
        (root / "remote").mkdir()
        dvc("remote", "add", "-d", "r", "../remote", cwd=root)
        dvc("repro", cwd=root)
        dvc("push", cwd=root)
        for p in (".dvc/cache", "o"):
            shutil.rmtree(root / p, ignore_errors=True)
    # DVC-compat: the stage is pulled, not run; its `cache: false` output is not pulled.
    a, _ = both(pair, "repro", "--pull")
    assert "Pulling data for stage: 's'" in a.stdout and ran_names(a.stdout) == []
    assert not (ours / "o" / "p.csv").exists()
    same_status(pair)
