"""Stage `train`: logistic regression fitted by stochastic gradient descent."""

from __future__ import annotations

import json
import math
import random
import statistics

from common import ROOT, load_params, read_points, sigmoid


def main() -> None:
    p = load_params()["train"]
    lr, l2, epochs = float(p["lr"]), float(p["l2"]), int(p["epochs"])
    rng = random.Random(int(p["seed"]))
    rows = read_points(ROOT / "data" / "train.csv")

    # Standardise with the training set's statistics; evaluate reuses them from the model.
    mean = [statistics.fmean(r[i] for r in rows) for i in (0, 1)]
    std = [statistics.pstdev([r[i] for r in rows]) or 1.0 for i in (0, 1)]
    data = [((x1 - mean[0]) / std[0], (x2 - mean[1]) / std[1], y) for x1, x2, y in rows]

    w = [0.0, 0.0]
    b = 0.0
    losses = []
    for _ in range(epochs):
        rng.shuffle(data)
        for z1, z2, y in data:
            err = sigmoid(w[0] * z1 + w[1] * z2 + b) - y
            w[0] -= lr * (err * z1 + l2 * w[0])
            w[1] -= lr * (err * z2 + l2 * w[1])
            b -= lr * err
        loss = 0.0
        for z1, z2, y in data:
            q = min(max(sigmoid(w[0] * z1 + w[1] * z2 + b), 1e-12), 1 - 1e-12)
            loss -= y * math.log(q) + (1 - y) * math.log(1 - q)
        losses.append(loss / len(data))

    out = ROOT / "model"
    out.mkdir(exist_ok=True)
    model = {"weights": w, "bias": b, "mean": mean, "std": std}
    (out / "model.json").write_text(json.dumps(model, indent=2) + "\n")
    with (out / "loss.csv").open("w") as f:
        f.write("epoch,loss\n")
        f.writelines(f"{e},{loss:.6f}\n" for e, loss in enumerate(losses, 1))
    print(f"train: {epochs} epochs, final log loss {losses[-1]:.4f}")


if __name__ == "__main__":
    main()
