"""Params files (YAML, JSON, TOML, Python) and stage `params` entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlvc.exceptions import ParamsFileError
from mlvc.pipeline.params import (
    ParamsRef,
    merge_params_refs,
    parse_params,
    read_params_file,
    select_params,
)

PY = """\
import os
LR = 0.1
NAMES = ["a", "b"]
SHAPE = (1, 2)
TAGS = {"x"}
EPOCHS: int = 3
CONF = {"depth": 4}
COMPUTED = os.getcwd()
A = B = 1
x, y = 1, 2

class Model:
    depth = 7
    def __init__(self):
        self.width = 3
        other.attr = 5

def helper():
    INSIDE = 1
"""


def test_python_params_as_dvc_reads_them() -> None:
    assert parse_params(PY, ".py", "p.py") == {
        "LR": 0.1,
        "NAMES": ["a", "b"],
        "SHAPE": (1, 2),
        "TAGS": {"x"},
        "EPOCHS": 3,
        "CONF": {"depth": 4},
        "Model": {"depth": 7, "width": 3},
    }


@pytest.mark.parametrize(
    ("suffix", "text", "expected"),
    [
        (".yaml", "a:\n  b: 1\nc: yes\n", {"a": {"b": 1}, "c": "yes"}),
        (".yml", "", {}),
        (".json", '{"a": [1, 2.5]}', {"a": [1, 2.5]}),
        (".json", "null", {}),
        (".toml", "[opt]\nlr = 0.5\n", {"opt": {"lr": 0.5}}),
        (".txt", "a: 1\n", {"a": 1}),  # anything else is YAML
    ],
)
def test_formats_by_suffix(suffix: str, text: str, expected: object) -> None:
    assert parse_params(text, suffix, f"p{suffix}") == expected


@pytest.mark.parametrize(
    ("suffix", "text", "where"),
    [
        (".yaml", "a: [1\n", "p.yaml:2:1"),
        (".json", '{"a": }', "p.json:1:7"),
        (".toml", "a = \n", "p.toml"),
        (".py", "x = (\n", "p.py:1:5"),
    ],
)
def test_broken_files_name_the_place(suffix: str, text: str, where: str) -> None:
    with pytest.raises(ParamsFileError, match=f"`{where}"):
        parse_params(text, suffix, f"p{suffix}")


def test_read_params_file_rejects_non_utf8(tmp_path: Path) -> None:
    p = tmp_path / "params.yaml"
    p.write_bytes(b"a: \xff\n")
    with pytest.raises(ParamsFileError, match="not valid UTF-8"):
        read_params_file(p, "params.yaml")


def test_select_params_walks_dots_and_indexes() -> None:
    data = {"train": {"lr": 0.1, "layers": [4, {"k": 2}]}, "a.b": 1}
    assert select_params(data, ["train.lr", "train.layers.1.k", "train.layers.5", "nope"]) == {
        "train.lr": 0.1,
        "train.layers.1.k": 2,
    }
    assert select_params(data, ["train"]) == {"train": data["train"]}


def test_params_entries_group_by_file() -> None:
    refs = merge_params_refs(["lr", {"p2.json": ["x"]}, "epochs", {"p2.json": ["y"]}])
    assert refs == [ParamsRef("params.yaml", ("lr", "epochs")), ParamsRef("p2.json", ("x", "y"))]


def test_whole_file_entry_drops_that_files_keys() -> None:
    refs = merge_params_refs(
        ["lr", {"params.yaml": None}, {"other.yaml": []}, {"other.yaml": ["k"]}]
    )
    assert refs == [ParamsRef("params.yaml"), ParamsRef("other.yaml")]
    assert refs[0].whole_file
