"""Stage `prepare`: shuffle the points and split them into train and test sets."""

from __future__ import annotations

import random

from common import ROOT, load_params, read_points, write_points


def main() -> None:
    p = load_params()["prepare"]
    rows = read_points(ROOT / "data" / "raw.csv")
    random.Random(int(p["seed"])).shuffle(rows)
    n_test = round(len(rows) * float(p["test_fraction"]))
    write_points(ROOT / "data" / "test.csv", rows[:n_test])
    write_points(ROOT / "data" / "train.csv", rows[n_test:])
    print(f"prepare: {len(rows) - n_test} train, {n_test} test")


if __name__ == "__main__":
    main()
