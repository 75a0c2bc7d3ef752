"""`repro` cases found by randomized runs against `dvc repro`, each tool in its own repository."""

from __future__ import annotations

import subprocess

import pytest

from tests.interop.conftest import Pair, both, fill, ran_names, same_status

Files = dict[str, str]
Result = subprocess.CompletedProcess[str]


def repro_both(pair: Pair, *args: str) -> tuple[Result, Result]:
    """`repro ARGS` with `both`; the stages must also run in the same order."""
    a, b = both(pair, "repro", *args)
    assert ran_names(a.stdout) == ran_names(b.stdout), (a, b)
    return a, b


FAILING = {
    "dvc.yaml": (
        "stages:\n"
        "  a:\n"
        "    cmd: mkdir -p out && echo A > out/a.txt\n"
        "    outs: [out/a.txt]\n"
        "  b:\n"
        "    cmd: cat out/a.txt > b.txt\n"
        "    deps: [out/a.txt]\n"
        "    outs: [b.txt]\n"
        "  c:\n"
        "    cmd: echo C > c.txt && exit 3\n"
        "    outs: [c.txt]\n"
    ),
}


@pytest.mark.parametrize("flags", [[], ["-k"]])
def test_failed_repro_takes_back_its_gitignore_entries(pair: Pair, flags: list[str]) -> None:
    fill(pair, FAILING)
    _, ours, _ = pair
    # DVC-compat: a and b are recorded, but the entries this run added are dropped again.
    a, _ = repro_both(pair, *flags)
    assert a.returncode == 255 and ran_names(a.stdout) == ["a", "b", "c"]
    assert not (ours / ".gitignore").exists() and not (ours / "out" / ".gitignore").exists()
    assert (ours / "out" / "a.txt").is_file()
    same_status(pair)


def test_failed_repro_keeps_the_entries_it_found(pair: Pair) -> None:
    fill(pair, FAILING)
    _, ours, _ = pair
    repro_both(pair, "b")
    assert (ours / ".gitignore").read_text() == "/b.txt\n"
    (ours / "out" / "a.txt").unlink()
    (pair[2] / "out" / "a.txt").unlink()
    # a reruns (its output is gone) and c fails: the entries from before stay.
    repro_both(pair)
    assert (ours / ".gitignore").read_text() == "/b.txt\n"
    assert (ours / "out" / ".gitignore").read_text() == "/a.txt\n"
    same_status(pair)


PARAMS = {
    "params.yaml": "a: 1\nb: 2\n",
    "dvc.yaml": (
        "stages:\n"
        "  s:\n"
        "    cmd: echo run >> log.txt && echo hi > o.txt\n"
        "    params: [a, b]\n"
        "    outs: [o.txt]\n"
    ),
}


def test_missing_param_fails_after_outputs_are_removed(pair: Pair) -> None:
    fill(pair, PARAMS)
    _, ours, theirs = pair
    repro_both(pair)
    for root in (ours, theirs):
        (root / "params.yaml").write_text("a: 1\n")
    # DVC-compat: the outputs go before the params are read; the command does not run.
    a, _ = repro_both(pair)
    assert a.returncode == 255 and not (ours / "o.txt").exists()
    assert (ours / "log.txt").read_text() == "run\n"
    same_status(pair)
    # Forced, the command runs first and the stage fails after it: nothing recorded.
    a, _ = repro_both(pair, "-f")
    assert a.returncode == 255 and (ours / "o.txt").is_file()
    assert (ours / "log.txt").read_text() == "run\nrun\n"
    same_status(pair)


DEP = {
    "in.txt": "x\n",
    "dvc.yaml": (
        "stages:\n"
        "  s:\n"
        "    cmd: echo run >> log.txt && mkdir -p d && echo hi > d/o.txt\n"
        "    deps: [in.txt]\n"
        "    outs: [d]\n"
    ),
}


@pytest.mark.parametrize("flags", [[], ["-f"], ["--dry"], ["--dry", "-f"], ["--no-run-cache"]])
def test_missing_dep(pair: Pair, flags: list[str]) -> None:
    fill(pair, DEP)
    _, ours, theirs = pair
    repro_both(pair)
    for root in (ours, theirs):
        (root / "in.txt").unlink()
    a, _ = repro_both(pair, *flags)
    # DVC-compat: removed before the dep is hashed; forced, the command runs first.
    assert a.returncode == (0 if flags == ["--dry", "-f"] else 255)
    assert (ours / "d").exists() == ("-f" in flags or "--dry" in flags)
    assert (ours / "log.txt").read_text() == ("run\nrun\n" if flags == ["-f"] else "run\n")
    same_status(pair)


def test_frozen_stage_check_is_saved_in_the_run_cache(pair: Pair) -> None:
    fill(
        pair,
        {
            "in.txt": "x\n",
            "dvc.yaml": (
                "stages:\n"
                "  s:\n"
                "    cmd: cp in.txt o.txt\n"
                "    deps: [in.txt]\n"
                "    outs: [o.txt]\n"
                "    frozen: true\n"
            ),
        },
    )
    _, ours, theirs = pair
    for root in (ours, theirs):
        (root / "o.txt").write_text("made by hand\n")
    # DVC-compat: the verified outputs are recorded as a run of the stage would be.
    a, _ = repro_both(pair)
    assert "Verifying outputs in frozen stage: 's'" in a.stdout
    assert list((ours / ".dvc" / "cache" / "runs").rglob("*"))
    same_status(pair)
