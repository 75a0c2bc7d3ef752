"""Stage `evaluate`: metrics.json, a ROC curve and the predictions, on the test set."""

from __future__ import annotations

import itertools
import json
import math

from common import ROOT, load_params, predict, read_points


def roc(scores: list[tuple[float, int]]) -> list[tuple[float, float, float]]:
    """(false positive rate, true positive rate, threshold), from the highest threshold down."""
    pos = sum(y for _, y in scores)
    neg = len(scores) - pos
    points = [(0.0, 0.0, 1.0)]
    tp = fp = 0
    ranked = sorted(scores, key=lambda s: -s[0])
    for i, (score, y) in enumerate(ranked):
        tp += y
        fp += 1 - y
        if i + 1 == len(ranked) or ranked[i + 1][0] != score:
            points.append((fp / neg, tp / pos, score))
    return points


def main() -> None:
    threshold = float(load_params()["evaluate"]["threshold"])
    model = json.loads((ROOT / "model" / "model.json").read_text())
    rows = read_points(ROOT / "data" / "test.csv")
    scores = [(predict(model, x1, x2), y) for x1, x2, y in rows]
    predicted = [(int(s >= threshold), y) for s, y in scores]

    tp = sum(1 for p, y in predicted if p == y == 1)
    fp = sum(1 for p, y in predicted if p == 1 and y == 0)
    fn = sum(1 for p, y in predicted if p == 0 and y == 1)
    correct = sum(1 for p, y in predicted if p == y)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    curve = roc(scores)
    auc = sum((x1 - x0) * (y0 + y1) / 2 for (x0, y0, _), (x1, y1, _) in itertools.pairwise(curve))
    eps = 1e-12
    log_loss = -sum(
        y * math.log(max(s, eps)) + (1 - y) * math.log(max(1 - s, eps)) for s, y in scores
    ) / len(scores)
    metrics = {
        "accuracy": round(correct / len(rows), 4),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(2 * precision * recall / (precision + recall), 4) if tp else 0.0,
        "roc_auc": round(auc, 4),
        "log_loss": round(log_loss, 4),
        "test_samples": len(rows),
    }

    out = ROOT / "eval"
    out.mkdir(exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    with (out / "roc.csv").open("w") as f:
        f.write("fpr,tpr,threshold\n")
        f.writelines(f"{x:.6f},{y:.6f},{t:.6f}\n" for x, y, t in curve)
    with (out / "predictions.csv").open("w") as f:
        f.write("actual,predicted\n")
        f.writelines(f"{y},{p}\n" for p, y in predicted)
    print(f"evaluate: accuracy {metrics['accuracy']}, ROC AUC {metrics['roc_auc']}")


if __name__ == "__main__":
    main()
