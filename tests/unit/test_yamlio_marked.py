"""`yamlio.loads_marked`: same data as `loads`, plus where things are, and no duplicate keys."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlvc import yamlio

TEXT = """\
stages:
  train:
    cmd: python train.py
    deps:
    - data
    - src/train.py
  eval:
    cmd: [a, b]
"""


def test_positions_of_keys_and_items() -> None:
    data, marks = yamlio.loads_marked(TEXT)
    stages = data["stages"]
    assert marks.of(stages, "train") == (2, 3)
    assert marks.of(stages, "eval") == (7, 3)
    assert marks.of(stages["train"], "deps") == (4, 5)
    assert marks.of(stages["train"]["deps"], 1) == (6, 7)
    assert marks.of(stages["eval"]["cmd"], 1) == (8, 14)
    # An unknown key falls back to the container itself; unknown containers to None.
    assert marks.of(stages["train"], "nope") == (3, 5)
    assert marks.of({}, "x") is None


def test_duplicate_stage_name_is_an_error_naming_the_second_one() -> None:
    with pytest.raises(yamlio.YamlError, match=r"`dvc.yaml:4:3`: found duplicate key \"a\""):
        yamlio.loads_marked("stages:\n  a:\n    cmd: x\n  a:\n    cmd: y\n", "dvc.yaml")


def test_merge_keys_may_be_overridden_but_own_keys_not_repeated() -> None:
    data, _ = yamlio.loads_marked("base: &b {cmd: x, deps: [d]}\ns:\n  <<: *b\n  cmd: y\n")
    assert data["s"] == {"cmd": "y", "deps": ["d"]}
    with pytest.raises(yamlio.YamlError, match="duplicate key"):
        yamlio.loads_marked("base: &b {cmd: x}\ns:\n  <<: *b\n  cmd: y\n  cmd: z\n")


def test_unhashable_key_is_an_error() -> None:
    with pytest.raises(yamlio.YamlError, match="unhashable key"):
        yamlio.loads_marked("? [a, b]\n: 1\n")


def test_yaml12_scalars() -> None:
    data, _ = yamlio.loads_marked("a: yes\nb: on\nc: 0o17\nd: 1e3\ne: ~\nf: true\ng: '1'\n")
    assert data == {"a": "yes", "b": "on", "c": 15, "d": 1000.0, "e": None, "f": True, "g": "1"}


def test_syntax_error_names_line_and_column() -> None:
    with pytest.raises(yamlio.YamlError, match=r"`f.yaml:2:1`"):
        yamlio.loads_marked("a: [1\n", "f.yaml")


def test_empty_document() -> None:
    assert yamlio.loads_marked("")[0] is None


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(documents)
def test_same_data_as_plain_loads(doc: Any) -> None:
    text = yamlio.dumps(doc)
    assert yamlio.loads_marked(text)[0] == yamlio.loads(text)
