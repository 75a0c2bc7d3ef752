"""Parses kept in the state database: same results as parsing, and never stale."""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import mlvc
from mlvc import parsecache, yamlio
from mlvc.dvcfile import DvcFile
from mlvc.parsecache import load_yaml, load_yaml_marked
from mlvc.yamldata import Marks

DVC_TEXT = (
    "outs:\n- md5: 0123456789abcdef0123456789abcdef.dir\n"
    "  size: 12\n  nfiles: 2\n  hash: md5\n  path: data\n"
)


@pytest.fixture
def state(tmp_path: Path) -> Iterator[mlvc.State]:
    """The database parses go to, as `Repo` names its own."""
    db = mlvc.State(tmp_path / "state.db")
    parsecache.remember_in(lambda: db)
    yield db
    parsecache.remember_in(None)


def test_second_parse_comes_from_the_state(state: mlvc.State) -> None:
    first = load_yaml(DVC_TEXT, "x.dvc")
    assert state.parsed(parsecache._YAML_KIND, DVC_TEXT.encode()) is not None
    second = load_yaml(DVC_TEXT, "x.dvc")
    assert first == second == yamlio.loads(DVC_TEXT, "x.dvc")
    assert [type(v) for v in second["outs"][0].values()] == [str, int, int, str, str]


def test_an_edit_that_keeps_size_and_mtime_is_seen(tmp_path: Path, state: mlvc.State) -> None:
    f = tmp_path / "data.dvc"
    f.write_text(DVC_TEXT)
    assert DvcFile.load(f).outs[0].md5 == "0123456789abcdef0123456789abcdef.dir"
    st = f.stat()
    f.write_text(DVC_TEXT.replace("0123", "4567"))
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert DvcFile.load(f).outs[0].md5 == "4567456789abcdef4567456789abcdef.dir"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("when: 2024-01-02\n", {"when": datetime.date(2024, 1, 2)}),
        ("1: one\n", {1: "one"}),
        ("x: .nan\n", None),
        ("x: 1.0\n", {"x": 1.0}),
    ],
)
def test_values_json_cannot_keep_are_parsed_every_time(
    state: mlvc.State, text: str, expected: object
) -> None:
    for _ in range(2):
        data = load_yaml(text, "p.yaml")
        if expected is not None:
            assert data == expected
            assert type(next(iter(data.values()))) is type(next(iter(expected.values())))  # type: ignore[attr-defined]
    kept = state.parsed(parsecache._YAML_KIND, text.encode())
    assert (kept is not None) == (text == "x: 1.0\n")


def test_invalid_yaml_is_refused_and_not_remembered(state: mlvc.State) -> None:
    with pytest.raises(mlvc.exceptions.MlvcError):
        load_yaml("outs: [\n", "bad.dvc")
    assert state.parsed(parsecache._YAML_KIND, b"outs: [\n") is None


def test_the_table_stays_bounded(state: mlvc.State) -> None:
    for i in range(21_504):
        state.record_parsed("k", str(i).encode(), "0")
    # The oldest rows went; the newest 20,000 are kept.
    assert state.parsed("k", b"0") is None
    assert state.parsed("k", b"2000") is not None
    assert state.parsed("k", b"21503") == "0"


PIPELINE_TEXT = """\
vars:
  - params.yaml
stages:
  train:
    cmd: python train.py ${lr}
    deps: [data, train.py]
    params:
      - lr
    outs:
      - model.pkl:
          cache: false
"""


def _all_marks(data: object, marks: Marks) -> list[object]:
    found: list[object] = []

    def visit(node: object) -> None:
        if isinstance(node, dict):
            found.append(marks.of(node))
            for k, v in node.items():
                found.append((k, marks.of(node, k)))
                visit(v)
        elif isinstance(node, list):
            found.append(marks.of(node))
            for i, v in enumerate(node):
                found.append((i, marks.of(node, i)))
                visit(v)

    visit(data)
    return found


def test_marked_parse_comes_back_with_the_same_marks(state: mlvc.State) -> None:
    fresh, fresh_marks = yamlio.loads_marked(PIPELINE_TEXT, "dvc.yaml")
    first = load_yaml_marked(PIPELINE_TEXT, "dvc.yaml")
    assert state.parsed(parsecache._MARKED_KIND, PIPELINE_TEXT.encode()) is not None
    cached, cached_marks = load_yaml_marked(PIPELINE_TEXT, "dvc.yaml")
    assert first[0] == cached == fresh
    assert _all_marks(cached, cached_marks) == _all_marks(fresh, fresh_marks)
    assert cached_marks.of(cached["stages"]["train"], "outs") == (9, 5)


def test_marked_parse_refuses_duplicate_keys_every_time(state: mlvc.State) -> None:
    text = "a: 1\na: 2\n"
    for _ in range(2):
        with pytest.raises(mlvc.exceptions.MlvcError, match="duplicate key"):
            load_yaml_marked(text, "params.yaml")


def test_aliases_are_parsed_every_time(state: mlvc.State) -> None:
    text = "base: &b {x: 1}\nother: *b\n"
    data, _ = load_yaml_marked(text, "p.yaml")
    assert data == {"base": {"x": 1}, "other": {"x": 1}}
    assert state.parsed(parsecache._MARKED_KIND, text.encode()) is None


def test_a_lock_with_aliases_is_parsed_afresh_and_written_back_with_them(
    state: mlvc.State,
) -> None:
    text = (
        "stages:\n  s:\n    cmd: x\n    params:\n      params.yaml:\n"
        "        train:\n          sub: &id001\n            a: 1\n        train.sub: *id001\n"
    )
    for _ in range(2):
        data = load_yaml(text, "dvc.lock")
        values = data["stages"]["s"]["params"]["params.yaml"]
        assert values["train"]["sub"] is values["train.sub"]
        assert yamlio.dumps(data) == text
    assert state.parsed(parsecache._YAML_KIND, text.encode()) is None
