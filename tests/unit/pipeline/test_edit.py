"""Text edits of `dvc.yaml`: the user's lines stay as they were."""

from __future__ import annotations

import yaml

from mlvc.pipeline.edit import set_frozen, set_stage
from mlvc.render.table import render_table

STAGE = {"cmd": "echo c", "deps": ["a.txt"]}


def test_new_file_is_dvcs_layout() -> None:
    assert set_stage(None, "c", STAGE, "dvc.yaml") == (
        "stages:\n  c:\n    cmd: echo c\n    deps:\n    - a.txt\n"
    )


def test_four_space_indent_is_followed_for_the_new_stage() -> None:
    text = "stages:\n    a:  # first\n        cmd: echo a\n"
    out = set_stage(text, "c", STAGE, "dvc.yaml")
    assert out.startswith(text)
    assert out[len(text) :] == "    c:\n        cmd: echo c\n        deps:\n        - a.txt\n"
    assert yaml.safe_load(out)["stages"]["c"] == STAGE


def test_file_without_trailing_newline_and_without_stages() -> None:
    out = set_stage("vars:\n- x: 1  # keep", "c", STAGE, "dvc.yaml")
    assert out.startswith("vars:\n- x: 1  # keep\nstages:\n  c:\n")


def test_empty_stages_key_is_filled_in() -> None:
    out = set_stage("# c\nstages:\nparams:\n- p.yaml\n", "c", STAGE, "dvc.yaml")
    assert yaml.safe_load(out) == {"stages": {"c": STAGE}, "params": ["p.yaml"]}
    assert out.startswith("# c\nstages:\n  c:\n")


def test_flow_style_stages_are_redumped() -> None:
    out = set_stage("stages: {a: {cmd: echo a}}\n", "c", STAGE, "dvc.yaml")
    assert yaml.safe_load(out) == {"stages": {"a": {"cmd": "echo a"}, "c": STAGE}}


def test_freeze_replaces_false_and_unfreeze_removes_the_line() -> None:
    text = "stages:\n  a:\n    cmd: echo a\n    frozen: false  # was\n  b:\n    cmd: echo b\n"
    frozen = set_frozen(text, "a", True, "dvc.yaml")
    assert frozen == text.replace("frozen: false  # was", "frozen: true")
    assert set_frozen(frozen, "a", False, "dvc.yaml") == text.replace(
        "    frozen: false  # was\n", ""
    )


def test_freeze_of_flow_style_stage_rewrites_only_that_stage() -> None:
    text = "stages:\n  a: {cmd: echo a}  # flow\n  b:\n    cmd: echo b  # keep\n"
    out = set_frozen(text, "a", True, "dvc.yaml")
    assert yaml.safe_load(out)["stages"]["a"] == {"cmd": "echo a", "frozen": True}
    assert out.endswith("  b:\n    cmd: echo b  # keep\n")


def test_tables_pad_to_header_plus_two_and_strip_plain_lines() -> None:
    assert render_table(["Path", "n"], [["m.json", "3"]], markdown=False) == (
        "Path    n\nm.json  3\n"
    )
    assert render_table(["Path"], [], markdown=False) == ""
    assert render_table(["Path"], [], markdown=True) == "| Path   |\n|--------|\n\n"
