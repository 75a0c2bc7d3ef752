"""Our YAML writer produces DVC's bytes: checked against DVC's own serializer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlvc import yamlio, yamlplain
from tests.conftest import dvc_python, shared_dir

CASES = shared_dir() / "conformance" / "cases"

DUMP_WITH_DVC = """
import json, sys
from dvc.utils.serialize import dumps_yaml
docs = json.load(sys.stdin)
json.dump([dumps_yaml(d) for d in docs], sys.stdout)
"""


def dump_with_dvc(docs: list[Any]) -> list[str]:
    r = subprocess.run(
        [str(dvc_python()), "-c", DUMP_WITH_DVC],
        input=json.dumps(docs),
        capture_output=True,
        text=True,
        check=True,
    )
    out: list[str] = json.loads(r.stdout)
    return out


def corpus_yaml_files() -> list[Path]:
    files = [*CASES.glob("*/expected/files/**/*.dvc"), *CASES.glob("*/expected/files/**/dvc.lock")]
    return sorted(p for p in files if p.is_file())


@pytest.mark.parametrize("path", corpus_yaml_files(), ids=lambda p: str(p.relative_to(CASES)))
def test_corpus_files_round_trip_byte_for_byte(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert yamlio.dumps(yamlio.loads(text, path)) == text


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.text(max_size=120),
    st.sampled_from(
        [
            "yes",
            "no",
            "on",
            "off",
            "2.0",
            "123",
            "0o17",
            "1_000",
            "#x[1].txt",
            "a: b.txt",
            "2024-01-01",
            "~",
            "null",
            "",
            " lead",
            "trail ",
            "- x",
            "café naïve",
            "x\ny",
            "python -c \"print('a b c d e f g h i j k l m n o p q r s t u v w x y z 1 2 3 4 5')\"",
        ]
    ),
)
keys = st.text(min_size=1, max_size=12).filter(lambda k: k.strip() == k)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(keys, inner, min_size=1, max_size=4)
    ),
    max_leaves=12,
)
documents = st.dictionaries(keys, values, min_size=1, max_size=5)


@settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(documents, min_size=150, max_size=150))
def test_random_documents_match_dvc(docs: list[dict[str, Any]]) -> None:
    expected = dump_with_dvc(docs)
    for doc, want in zip(docs, expected, strict=True):
        assert yamlio.dumps(doc) == want, doc


def test_load_error_names_file_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "x.dvc"
    bad.write_text("outs:\n- md5: [unclosed\n")
    with pytest.raises(yamlio.YamlError, match=r"x\.dvc:3:1"):
        yamlio.load_file(bad)


# Words and characters that make the emitter quote, fold or pick another type.
_TRICKY = st.sampled_from(
    [
        "yes",
        "no",
        "on",
        "off",
        "true",
        "False",
        "null",
        "~",
        "1.0",
        "1e3",
        "0x1f",
        "0o7",
        "2024-01-02",
        "12:30",
        ".inf",
        ".nan",
        "<<",
        "=",
        "-",
        "- x",
        "a: b",
        "a #b",
        "#x",
        "'q'",
        '"q"',
        "x,y",
        "[x]",
        "{x}",
        "*a",
        "&a",
        "!t",
        "%d",
        "@x",
        "`x`",
        "|",
        ">",
        "echo 1 > out_1",
        "python train.py --lr 0.1",
        "data/x.csv",
        "a  b",
        " a",
        "a ",
        "",
        "é",
        "tab\there",
        "line\nbreak",
        "0123",
        "007",
        "+1",
        "-1",
        "1_000",
    ]
)
_WORD = st.one_of(
    _TRICKY,
    st.text(alphabet="abcxyz019_./-=+,<>()%$~ :#'\"", min_size=0, max_size=12),
    st.text(alphabet="abcdefghij klmnopqrstuvwxyz", min_size=60, max_size=90),
)
_SCALAR = st.one_of(_WORD, st.integers(), st.booleans(), st.none(), st.floats())
_TREE = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_WORD, inner, max_size=3)),
    max_leaves=12,
)


@settings(max_examples=1500, deadline=None)
@given(st.dictionaries(_WORD, _TREE, min_size=1, max_size=4))
def test_fast_dump_agrees_with_the_emitter(data: dict[str, Any]) -> None:
    import yaml

    fast = yamlplain.dumps_simple(data)
    if fast is not None:
        assert fast == yaml.dump(data, Dumper=yamlio._Dumper)


def test_fast_dump_takes_lock_entries() -> None:
    entry = {
        "cmd": "python train.py --epochs 3",
        "deps": [
            {
                "path": "data/prepared",
                "hash": "md5",
                "md5": "a" * 32 + ".dir",
                "size": 7,
                "nfiles": 2,
            }
        ],
        "params": {"params.yaml": {"train.epochs": 3, "train.shuffle": True}},
        "outs": [{"path": "model.pkl", "hash": "md5", "md5": "b" * 32, "size": 1}],
    }
    assert yamlplain.dumps_simple({"stages": {"train": entry}}) is not None


LOAD_WITH_DVC = """
import json, sys
from dvc.utils.serialize import parse_yaml
print(json.dumps(parse_yaml(sys.stdin.read(), "params.yaml")))
"""

# Plain scalars YAML 1.1 and 1.2 read differently (leading zeros, octal, sexagesimal,
# yes/no): DVC reads them as YAML 1.2.
NUMBER_SPELLINGS = [
    "017", "-017", "+017", "08", "0_8", "00", "0o17", "-0o17", "0x1F", "0b101",
    "1_000", "0", "-0", "1:20", "1e3", "1.5e-3", ".5", "yes", "On", "0O17", "09.5",
]  # fmt: skip


def test_numbers_load_like_dvc() -> None:
    text = "".join(f"k{i}: {v}\n" for i, v in enumerate(NUMBER_SPELLINGS))
    r = subprocess.run(
        [str(dvc_python()), "-c", LOAD_WITH_DVC],
        input=text,
        capture_output=True,
        text=True,
        check=True,
    )
    assert yamlio.loads(text, "params.yaml") == json.loads(r.stdout)


def test_plain_writing_does_not_import_pyyaml() -> None:
    code = (
        "import sys\n"
        "from mlvc import yamlplain\n"
        "text = yamlplain.dumps({'outs': [{'md5': 'a' * 32, 'size': 3, 'path': 'x'}]})\n"
        "print(repr(text), 'yaml' in sys.modules)\n"
        "yamlplain.dumps({'k': 'needs: quotes'})\n"
        "print('yaml' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == [repr(f"outs:\n- md5: {'a' * 32}\n  size: 3\n  path: x\n") + " False", "True"]


def test_the_reader_and_the_writer_share_the_implicit_types() -> None:
    assert yamlio._IMPLICIT == yamlplain.IMPLICIT
