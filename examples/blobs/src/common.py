"""Helpers the stages share: reading params.yaml and CSV files, the model's maths.

Only the standard library is used, so the example runs on any Python >= 3.11
without installing anything. The standard library has no YAML parser, so
`load_params` reads the small subset `params.yaml` uses: top-level sections of
`key: number` lines, with `#` comments.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
Params = dict[str, dict[str, float | int | str]]


def _scalar(text: str) -> float | int | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text.strip("'\"")


def load_params(path: Path = ROOT / "params.yaml") -> Params:
    """The sections of params.yaml as nested dicts of numbers (or strings)."""
    params: Params = {}
    section: dict[str, float | int | str] | None = None
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].rstrip()
        if not line:
            continue
        key, sep, value = line.strip().partition(":")
        if not sep:
            raise SystemExit(f"{path}:{number}: expected `key: value`, got {raw!r}")
        if not line.startswith(" "):
            section = params.setdefault(key, {})
        elif section is None:
            raise SystemExit(f"{path}:{number}: indented line outside a section")
        else:
            section[key] = _scalar(value.strip())
    return params


def read_points(path: Path) -> list[tuple[float, float, int]]:
    """Rows of `x1,x2,label` (with a header line)."""
    with path.open(newline="") as f:
        return [(float(r["x1"]), float(r["x2"]), int(r["label"])) for r in csv.DictReader(f)]


def write_points(path: Path, rows: list[tuple[float, float, int]]) -> None:
    """The inverse of `read_points`, with fixed precision so the bytes are reproducible."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        f.write("x1,x2,label\n")
        for x1, x2, label in rows:
            f.write(f"{x1:.6f},{x2:.6f},{label}\n")


def sigmoid(z: float) -> float:
    """The logistic function, without overflow for large |z|."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def predict(model: dict[str, list[float] | float], x1: float, x2: float) -> float:
    """P(label = 1) for one point under a saved model."""
    mean, std, w = model["mean"], model["std"], model["weights"]
    assert isinstance(mean, list) and isinstance(std, list) and isinstance(w, list)
    bias = model["bias"]
    assert isinstance(bias, float)
    z1, z2 = (x1 - mean[0]) / std[0], (x2 - mean[1]) / std[1]
    return sigmoid(w[0] * z1 + w[1] * z2 + bias)
