"""`dvc.yaml` templating cases found by randomized runs against real DVC.

Each case is a pipeline where DVC fails with an internal error (a crash, not a
message about the file); mlvc must fail too, with a clean one-line message that
names the `dvc.yaml`, instead of resolving the pipeline into stages DVC cannot load.
"""

from __future__ import annotations

import json

import pytest

from tests.interop.conftest import Pair, fill

Files = dict[str, str]


def both_fail(pair: Pair) -> str:
    """`repro` fails in both tools; mlvc's message is its first line of stderr."""
    (mlvc, dvc, _git, _), ours, theirs = pair
    a = mlvc("repro", cwd=ours, check=False)
    b = dvc("repro", cwd=theirs, check=False)
    assert (a.returncode, b.returncode) == (255, 255), (a, b)
    assert "Traceback" not in a.stderr and "unexpected error" not in a.stderr, a.stderr
    assert not (ours / "dvc.lock").exists()
    first = a.stderr.splitlines()[0]
    assert first.startswith("error: `dvc.yaml:"), a.stderr
    return first


MATRIX_FROM_STRING = {
    "params.yaml": "p: 1\nletters: abc\n",
    "dvc.yaml": (
        "stages:\n"
        "  s:\n"
        "    matrix:\n"
        "      x: ${letters}\n"
        "      y: [1, 2]\n"
        "    cmd: echo ${item.x} ${item.y} > /dev/null\n"
        "    params: [p]\n"
    ),
}


def test_matrix_axis_from_a_string_variable_fails(pair: Pair) -> None:
    # DVC: "unexpected error - 'Value' object is not iterable".
    fill(pair, MATRIX_FROM_STRING)
    first = both_fail(pair)
    assert "`matrix.x` must be a list, not `str`" in first


def test_matrix_axis_as_a_literal_string_iterates_its_characters(pair: Pair) -> None:
    (mlvc, dvc, _git, _), ours, theirs = pair
    files = dict(MATRIX_FROM_STRING)
    files["dvc.yaml"] = files["dvc.yaml"].replace("${letters}", "ab")
    fill(pair, files)
    a = mlvc("repro", cwd=ours)
    dvc("repro", cwd=theirs)
    assert "Running stage 's@b-2'" in a.stdout
    assert (ours / "dvc.lock").read_bytes() == (theirs / "dvc.lock").read_bytes()


@pytest.mark.parametrize(
    ("foreach", "message"),
    [
        ("[ok, 'a@b']", "the generated name `s@a@b` has `@` in its key"),
        ("[ok, '']", "the generated name `s@` has an empty key"),
        ("{ok: 1, 'x@y': 2}", "the generated name `s@x@y` has `@` in its key"),
    ],
)
def test_generated_names_dvc_cannot_address_fail(pair: Pair, foreach: str, message: str) -> None:
    # DVC looks a generated stage up by the text after the last `@`: it reports
    # "Stage 's@a@b' not found", or fails an assertion for an empty key.
    fill(
        pair,
        {
            "params.yaml": "p: 1\n",
            "dvc.yaml": (
                "stages:\n"
                "  s:\n"
                f"    foreach: {foreach}\n"
                "    do:\n"
                "      cmd: echo ${key} > /dev/null\n"
                "      params: [p]\n"
            ).replace("${key}", "${item}" if foreach.startswith("[") else "${key}"),
        },
    )
    first = both_fail(pair)
    assert first.startswith("error: `dvc.yaml:3:5`: stage `s`, `foreach`: ")
    assert message in first


def test_matrix_name_with_at_fails(pair: Pair) -> None:
    fill(
        pair,
        {
            "params.yaml": "p: 1\n",
            "dvc.yaml": (
                "stages:\n"
                "  s:\n"
                "    matrix:\n"
                "      a: [x, 'y@z']\n"
                "    cmd: echo ${item.a} > /dev/null\n"
                "    params: [p]\n"
            ),
        },
    )
    assert "the generated name `s@y@z` has `@` in its key" in both_fail(pair)


EMPTY_PARAMS = {
    "params.yaml": "",
    "e.yaml": "",
    "n.json": "null",
    "dvc.yaml": (
        "vars: [e.yaml]\n"
        "stages:\n"
        "  s:\n"
        "    cmd: echo hi > o\n"
        "    outs: [o]\n"
        "    params:\n"
        "      - e.yaml:\n"
        "      - n.json:\n"
    ),
}


@pytest.mark.parametrize("args", [["--all", "--json"], ["HEAD~1", "HEAD", "--all", "--json"]])
def test_params_diff_skips_empty_params_files(pair: Pair, args: list[str]) -> None:
    (mlvc, dvc, git, _), ours, theirs = pair
    fill(pair, EMPTY_PARAMS)
    for tool, root in ((mlvc, ours), (dvc, theirs)):
        tool("repro", cwd=root)
        git("add", "-A", cwd=root)
        git("commit", "-qm", "ran", cwd=root)
        (root / "e.yaml").write_text("a: 1\n")
    # DVC-compat: an empty (or null) YAML/JSON file reads as `{}`: no rows for it.
    for root in (ours, theirs):
        a = json.loads(mlvc("params", "diff", *args, cwd=root).stdout)
        b = json.loads(dvc("params", "diff", *args, cwd=root).stdout)
        assert a == b
    expected = {} if "HEAD~1" in args else {"e.yaml": {"a": {"old": None, "new": 1}}}
    assert a == expected


def test_null_items_of_a_listed_param_are_written_as_dvc_writes_them(pair: Pair) -> None:
    # ruamel writes a null list item as `- ` (with the space); PyYAML as `-`.
    (mlvc, dvc, _git, _), ours, theirs = pair
    fill(
        pair,
        {
            "params.yaml": "layers: [8, null, [null, 4]]\n",
            "dvc.yaml": (
                "stages:\n  s:\n    cmd: echo > out\n    params: [layers]\n    outs: [out]\n"
            ),
        },
    )
    mlvc("repro", cwd=ours)
    dvc("repro", cwd=theirs)
    assert "    - \n" in (theirs / "dvc.lock").read_text()
    assert (ours / "dvc.lock").read_bytes() == (theirs / "dvc.lock").read_bytes()
    assert dvc("status", "--json", cwd=ours).stdout.strip() == "{}"
