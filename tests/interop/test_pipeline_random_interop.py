"""Pipeline cases found by seeded randomized runs against DVC (several `dvc.yaml` files,
`wdir`, params of every format, `frozen`, uncached and persistent outputs), each tool in
its own repository from the same starting bytes."""

from __future__ import annotations

import subprocess

import pytest

from tests.interop.conftest import Pair, both, edit_both, fill, ran_names, same_status

Files = dict[str, str]
Result = subprocess.CompletedProcess[str]


def run_cache_files(pair: Pair) -> list[str]:
    _, ours, _ = pair
    runs = ours / ".dvc" / "cache" / "runs"
    return sorted(p.name for p in runs.rglob("*") if p.is_file())


TWO_FILES = {
    "in.txt": "in\n",
    "params.yaml": "x: 1\n",
    "dvc.yaml": (
        "stages:\n"
        "  a:\n"
        "    cmd: cp in.txt a.txt\n"
        "    deps: [in.txt]\n"
        "    params: [x]\n"
        "    outs: [a.txt]\n"
    ),
    "sub/dvc.yaml": (
        "stages:\n"
        "  b:\n"
        "    cmd: mkdir -p d && cp ../a.txt d/f && cp ../a.txt plain.txt\n"
        "    deps: [../a.txt]\n"
        "    outs:\n"
        "    - d:\n"
        "        cache: false\n"
        "    - plain.txt\n"
    ),
}


@pytest.mark.parametrize(
    "breakage",
    [
        {"a.txt": None},
        {"in.txt": None},
        {"params.yaml": "y: 1\n"},
        {"dvc.yaml": "stages:\n  a:\n    cmdx: true\n"},
    ],
    ids=["missing-output", "missing-dep", "missing-param", "bad-dvc-yaml"],
)
@pytest.mark.parametrize("cwd", [".", "sub"])
def test_failed_commit_exits_with_1(pair: Pair, breakage: dict[str, str | None], cwd: str) -> None:
    fill(pair, TWO_FILES)
    _, ours, theirs = pair
    both(pair, "repro", "-P")
    for root in (ours, theirs):
        for rel, text in breakage.items():
            if text is None:
                (root / rel).unlink()
            else:
                (root / rel).write_text(text)
    # DVC-compat: "failed to commit" is exit 1, where a failed `repro` is 255.
    a, _ = both(pair, "commit", "-f", cwd=cwd)
    assert a.returncode == 1


def test_forced_commit_records_the_run_of_a_stage_with_an_uncached_output(pair: Pair) -> None:
    fill(pair, TWO_FILES)
    both(pair, "repro", "-P")
    # `repro` records no run of `b`, whose plain output `d` is not cached.
    assert len(run_cache_files(pair)) == 1
    # DVC-compat: a forced commit saves every stage, `b`'s run and its output `d` too.
    both(pair, "commit", "-f", cwd="sub")
    assert len(run_cache_files(pair)) == 2
    same_status(pair)
    # Then, with the output gone, both restore it from that run.
    edit_both(pair, {"sub/d/f": "changed\n"})
    a, _ = both(pair, "repro", "-P")
    assert "Stage 'sub/dvc.yaml:b' is cached - skipping run" in a.stdout
    same_status(pair)


def test_commit_without_force_saves_no_run_of_an_unchanged_stage(pair: Pair) -> None:
    fill(pair, TWO_FILES)
    both(pair, "repro", "-P", "--no-commit")
    assert run_cache_files(pair) == []
    # DVC-compat: unchanged stages (outputs merely not in the cache) only have their
    # outputs stored; no run is recorded.
    both(pair, "commit")
    assert run_cache_files(pair) == []
    same_status(pair)


PARTLY_COMMITTED = {
    "in.txt": "in\n",
    "dvc.yaml": (
        "stages:\n  a:\n    cmd: cp in.txt a.txt\n    deps: [in.txt]\n    outs: [a.txt]\n"
    ),
    "sub/dvc.yaml": (
        "stages:\n"
        "  b:\n"
        "    cmd: cp ../in.txt b1.txt\n"
        "    deps: [../in.txt]\n"
        "    outs: [b1.txt]\n"
        "  c:\n"
        "    cmd: cp ../in.txt c1.txt && cp ../in.txt c2.txt\n"
        "    deps: [../in.txt]\n"
        "    outs: [c1.txt, c2.txt]\n"
    ),
}


def test_failed_commit_keeps_what_the_stages_before_it_committed(pair: Pair) -> None:
    fill(pair, PARTLY_COMMITTED)
    _, ours, theirs = pair
    both(pair, "repro", "-P")
    runs_before = run_cache_files(pair)
    locks_before = [(ours / rel).read_text() for rel in ("dvc.lock", "sub/dvc.lock")]
    for root in (ours, theirs):
        for rel in ("in.txt", "a.txt", "sub/b1.txt", "sub/c1.txt"):
            (root / rel).write_text(f"new {rel}\n")
        (root / "sub" / "c2.txt").unlink()
        (root / ".gitignore").unlink()
        (root / "sub" / ".gitignore").unlink()
    # DVC-compat: `a` and `b` are committed (runs, cache, ignores) before `c` fails on
    # its missing output; only `dvc.yaml`'s lock file, whose stages all finished, is
    # written, and `c` leaves the entry of its first output but caches nothing.
    a, _ = both(pair, "commit", "-f")
    assert a.returncode == 1
    assert len(run_cache_files(pair)) == len(runs_before) + 2
    assert (ours / "dvc.lock").read_text() != locks_before[0]
    assert (ours / "sub" / "dvc.lock").read_text() == locks_before[1]
    assert (ours / "sub" / ".gitignore").read_text() == "/b1.txt\n/c1.txt\n"
    assert (ours / ".gitignore").read_text() == "/a.txt\n"


FAILING_UPSTREAM = {
    "dvc.yaml": (
        "stages:\n"
        "  a:\n"
        "    cmd: echo a > a.txt && exit 1\n"
        "    outs: [a.txt]\n"
        "  b:\n"
        "    cmd: cp a.txt b.txt\n"
        "    deps: [a.txt]\n"
        "    outs: [b.txt]\n"
        "  c:\n"
        "    cmd: echo c > c.txt\n"
        "    outs: [c.txt]\n"
    ),
}


@pytest.mark.parametrize("args", [["-P", "-s"], ["-p", "-s", "b"]])
def test_all_or_whole_pipelines_ignore_single_item_and_skip_after_a_failure(
    pair: Pair, args: list[str]
) -> None:
    fill(pair, FAILING_UPSTREAM)
    # DVC-compat: `-P`/`-p` drop `-s`; with `-k` the stages after a failed one are skipped.
    a, _ = both(pair, "repro", "-k", *args)
    assert a.returncode == 255
    assert "b" not in ran_names(a.stdout)
    same_status(pair)


FROZEN_ALWAYS_CHANGED = {
    "in.txt": "in\n",
    "dvc.yaml": (
        "stages:\n"
        "  a:\n"
        "    cmd: cp in.txt a.txt\n"
        "    deps: [in.txt]\n"
        "    outs: [a.txt]\n"
        "    always_changed: true\n"
        "  b:\n"
        "    cmd: cp a.txt b.txt\n"
        "    deps: [a.txt]\n"
        "    outs: [b.txt]\n"
    ),
}


def test_frozen_stage_is_not_run_for_being_always_changed(pair: Pair) -> None:
    fill(pair, FROZEN_ALWAYS_CHANGED)
    _, ours, theirs = pair
    both(pair, "repro")
    both(pair, "freeze", "a")
    # DVC-compat: frozen, `a` is neither run nor verified: it did not change.
    a, _ = both(pair, "repro")
    assert "Stage 'a' didn't change, skipping" in a.stdout
    for root in (ours, theirs):
        (root / "a.txt").unlink()
    a, _ = both(pair, "repro", "--allow-missing")
    assert a.returncode == 0 and ran_names(a.stdout) == []
    # Without `--allow-missing` the missing output makes it checked, and fail.
    a, _ = both(pair, "repro")
    assert a.returncode == 255
    same_status(pair)


def test_frozen_stage_with_a_missing_output_caches_none_of_them(pair: Pair) -> None:
    fill(
        pair,
        {
            "dvc.yaml": (
                "stages:\n"
                "  s:\n"
                "    cmd: echo 1 > a.txt && echo 2 > b.txt\n"
                "    outs: [a.txt, b.txt]\n"
                "    frozen: true\n"
            ),
        },
    )
    _, ours, theirs = pair
    edit_both(pair, {"a.txt": "1\n", "b.txt": "2\n"})
    a, _ = both(pair, "repro")
    assert a.returncode == 0 and "Verifying outputs in frozen stage: 's'" in a.stdout
    for root in (ours, theirs):
        (root / "a.txt").write_text("changed by hand\n")
        (root / "b.txt").unlink()
    # DVC-compat: every output is checked before the first is hashed and cached.
    a, _ = both(pair, "repro")
    assert a.returncode == 255
    same_status(pair)
