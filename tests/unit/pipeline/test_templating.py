"""`${...}` templating: expressions, rendering inside strings, context rules."""

from __future__ import annotations

from typing import Any

import pytest

from mlvc.pipeline.templating import Context, ParsingConfig, TemplateError, parse_expr, to_str


def ctx(data: dict[str, Any]) -> Context:
    def no_files(path: str) -> Any:
        raise AssertionError(f"unexpected read of {path}")

    c = Context(no_files)
    c.load_vars([data], "")
    return c


@pytest.mark.parametrize(
    ("expr", "parts"),
    [
        ("a", ("a",)),
        ("a.b", ("a", "b")),
        ("a[0]", ("a", "0")),
        ("a.b[1].c", ("a", "b", "1", "c")),
        ("a[0][1]", ("a", "0", "1")),
        (" a . b ", ("a", "b")),
        ("a[-1]", ("a", "-1")),
        ("a b", ("a b",)),
    ],
)
def test_expressions(expr: str, parts: tuple[str, ...]) -> None:
    assert parse_expr(expr) == parts


@pytest.mark.parametrize("expr", ["", "a..b", "a[", "a]", "[0]", ".a", "a.", "a[0]b"])
def test_bad_expressions(expr: str) -> None:
    with pytest.raises(TemplateError, match="invalid expression"):
        parse_expr(expr)


def test_whole_value_keeps_type_and_strings_render() -> None:
    c = ctx({"n": 3, "f": 1e-05, "t": True, "z": None, "l": [1, [2, 3]], "d": {"k": "v"}})
    cfg = ParsingConfig()
    assert c.resolve("${n}", "cmd", cfg) == 3
    assert c.resolve("${t}", "cmd", cfg) is True
    assert c.resolve("${l[1]}", None, cfg) == [2, 3]
    assert c.resolve("x${n}-${f}-${t}-${z}", "cmd", cfg) == "x3-1e-05-true-None"
    assert c.resolve("${l[-1][0]}", "cmd", cfg) == 2
    assert c.resolve({"${d.k}": ["${n}"]}, "outs", cfg) == {"v": [3]}


def test_whole_value_is_a_copy() -> None:
    c = ctx({"l": [1, 2]})
    got = c.resolve("${l}", None, ParsingConfig())
    got.append(3)
    assert c.data["l"] == [1, 2]


def test_escaping() -> None:
    c = ctx({"a": 1})
    cfg = ParsingConfig()
    assert c.resolve(r"\${a}", "cmd", cfg) == "${a}"
    assert c.resolve(r"\${a} ${a}", "cmd", cfg) == "${a} 1"


def test_dict_in_cmd_renders_flags() -> None:
    value = {"lr": 0.1, "name": "a b", "on": True, "off": False, "l": ["x y", 2], "o": {"k": 1}}
    assert to_str(value) == "--lr 0.1 --name 'a b' --on --l 'x y' 2 --o.k 1"
    assert (
        to_str(value, ParsingConfig(bool="boolean_optional", list="append"))
        == "--lr 0.1 --name 'a b' --on --no-off --l 'x y' --l 2 --o.k 1"
    )


@pytest.mark.parametrize(
    ("template", "key", "message"),
    [
        ("${l}", "deps", "cannot interpolate data of type `list`"),
        ("x ${l}", "cmd", "cannot interpolate data of type `list`"),
        ("x ${d}", "outs", "cannot interpolate data of type `dict`"),
        ("${nope}", "cmd", r"`\$\{nope\}` is not defined"),
        ("${d.nope}", "cmd", r"`\$\{d.nope\}` is not defined"),
        ("${l[9]}", "cmd", "is not defined"),
        ("${l.x}", "cmd", "is not defined"),
        ("x ${bad}", "cmd", "nested iterable"),
    ],
)
def test_errors(template: str, key: str, message: str) -> None:
    c = ctx({"l": [1], "d": {"k": 1}, "bad": {"k": [[1]]}})
    with pytest.raises(TemplateError, match=message):
        c.resolve(template, key, ParsingConfig())


def test_undefined_hint_says_where_to_define() -> None:
    c = ctx({"d": {"k": 1}})
    with pytest.raises(TemplateError) as err:
        c.resolve("${nope}", "cmd", ParsingConfig())
    assert err.value.hint == "define `nope` in `vars` or in `params.yaml`"
    with pytest.raises(TemplateError) as err:
        c.resolve("${d.x}", "cmd", ParsingConfig())
    assert err.value.hint == "check the keys and indexes of `d`"


def test_dict_in_cmd_allowed_whole() -> None:
    c = ctx({"d": {"k": 1}})
    assert c.resolve("${d}", "cmd", ParsingConfig()) == {"k": 1}


def test_vars_merge_nested_and_refuse_redefinition() -> None:
    c = ctx({"train": {"lr": 1}})
    c.load_vars([{"train": {"epochs": 2}}], "")
    assert c.data == {"train": {"lr": 1, "epochs": 2}}
    with pytest.raises(TemplateError, match=r"cannot redefine `train.lr` from `vars\[0\]`"):
        c.load_vars([{"train": {"lr": 3}}], "")


def test_unsupported_types_are_refused() -> None:
    import datetime

    with pytest.raises(TemplateError, match=r"unsupported value of type `date` at `a\.when`"):
        ctx({"a": {"when": datetime.date(2024, 1, 1)}})
    with pytest.raises(TemplateError, match="unsupported value of type `tuple`"):
        ctx({"t": (1, 2)})


def test_generator_names() -> None:
    c = ctx({"bools": [True, False], "objs": [{"a": 1}], "d": {"x": {"n": 1}}})
    assert [n for n, _ in c.foreach_items("${bools}")] == ["True", "False"]
    assert [n for n, _ in c.foreach_items([True, None, 1.5])] == ["true", "None", "1.5"]
    assert [n for n, _ in c.foreach_items(["a", "b", "a"])] == ["a", "b"]
    assert [n for n, _ in c.foreach_items("${objs}")] == ["0"]
    assert c.foreach_items("${d}") == [("x", {"item": {"n": 1}, "key": "x"})]
    names = [n for n, _ in c.matrix_items({"b": "${bools}", "o": "${objs}", "v": [False]})]
    assert names == ["True-o0-false", "False-o0-false"]
    with pytest.raises(TemplateError, match="`foreach` must be a list or a mapping, not `str`"):
        c.foreach_items("${d.x.n}x")


def test_item_and_key_are_reserved_while_generating() -> None:
    c = ctx({"item": "global"})
    with c.generator_vars({"item": 1, "key": "k"}):
        assert c.data["item"] == 1
        with pytest.raises(TemplateError, match="reserved name `item`"):
            c.load_vars([{"item": 2}], "", stage="s@k")
    assert c.data == {"item": "global"}
