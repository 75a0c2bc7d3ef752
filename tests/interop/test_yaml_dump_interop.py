"""yamlio's dumper against DVC's own (ruamel.yaml) on long commands that must fold."""

from __future__ import annotations

import json
import random
import subprocess

from mlvc import yamlio
from tests.conftest import dvc_python

WORDS = [
    "python3",
    "-c",
    '"import',
    "d=open('a.txt').read();",
    "+",
    "'b'",
    "&&",
    "y:",
    "#",
    "--flag=1",
    "x",
    "ü",
    "a-very-long-word-that-goes-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on",
]


def test_long_strings_fold_and_quote_as_in_dvc(real_dvc: object) -> None:
    rnd = random.Random(11)
    docs = []
    for _ in range(1500):
        cmd: str | list[str] = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(3, 40)))
        if rnd.random() < 0.3:
            cmd = [cmd, cmd[::-1]]
        doc: dict[str, object] = {"cmd": cmd}
        for _ in range(rnd.randint(0, 3)):
            doc = {"stages": {"s": doc}}
        docs.append(doc)
    code = (
        "import json, sys\n"
        "from dvc.utils.serialize._yaml import dumps_yaml\n"
        "print(json.dumps([dumps_yaml(d) for d in json.load(sys.stdin)]))\n"
    )
    r = subprocess.run(
        [str(dvc_python()), "-c", code],
        input=json.dumps(docs),
        capture_output=True,
        text=True,
        check=True,
    )
    theirs = json.loads(r.stdout)
    for doc, expected in zip(docs, theirs, strict=True):
        assert yamlio.dumps(doc) == expected
