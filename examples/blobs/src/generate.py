"""Stage `generate`: two classes of points around two centres, from a fixed seed."""

from __future__ import annotations

import random

from common import ROOT, load_params, write_points

# Class 1 sits up and to the right of class 0; `noise` sets how much they overlap.
CENTRES = ((-1.0, -0.5), (1.0, 1.0))


def main() -> None:
    p = load_params()["data"]
    rng = random.Random(int(p["seed"]))
    noise = float(p["noise"])
    rows = []
    for i in range(int(p["samples"])):
        label = i % 2
        cx, cy = CENTRES[label]
        rows.append((rng.gauss(cx, noise), rng.gauss(cy, noise), label))
    write_points(ROOT / "data" / "raw.csv", rows)
    print(f"generate: {len(rows)} points")


if __name__ == "__main__":
    main()
