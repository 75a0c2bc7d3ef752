"""Demo, part three: run an ML pipeline with mlvc the way a DVC user does.

The example project ``examples/blobs`` (generate, prepare, train, evaluate; pure
Python) is copied into a fresh git repository in a temporary directory, then:

1. ``mlvc repro`` runs the four stages; ``mlvc repro`` again has nothing to do;
2. a YAML edit changes the learning rate, and ``mlvc status`` shows that change;
3. ``mlvc repro`` reruns only ``train`` and ``evaluate``; the metrics before and
   after are compared;
4. when the pinned real DVC is installed (``make dvc``), ``dvc status`` agrees
   that everything is up to date.

Every step is checked; a wrong result stops the demo with an error.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
EXAMPLE = PROJECT / "examples" / "blobs"
DVC = PROJECT / ".venv-dvc" / "bin" / "dvc"
UP_TO_DATE = "Data and pipelines are up to date."


def sh(argv: list[str], *, cwd: Path, lines: int = 40) -> str:
    """Runs a command, echoing it like a shell session; returns stdout and stderr."""
    if argv[:2] == [sys.executable, "-m"]:
        shown = "mlvc " + " ".join(argv[3:])
    else:
        shown = " ".join([Path(argv[0]).name, *argv[1:]])
    print(f"$ {shown}")
    t = time.perf_counter()
    r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    output = r.stdout + r.stderr
    shown_lines = output.strip().splitlines()
    for line in shown_lines[:lines]:
        print(f"  {line}")
    if len(shown_lines) > lines:
        print(f"  ... ({len(shown_lines) - lines} more lines)")
    print(f"  [{elapsed:.2f} s, exit {r.returncode}]")
    if r.returncode != 0:
        raise SystemExit(f"demo step failed: {shown}")
    return output


def ran(output: str) -> list[str]:
    """The stages a `repro` ran, in order."""
    return re.findall(r"^Running stage '([^']+)':", output, re.M)


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"demo check failed: {what}")
    print(f"  ok: {what}")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


def metrics_table(before: dict[str, float], after: dict[str, float]) -> None:
    print(f"  {'metric':<14}{'lr 0.1':>10}{'lr 0.05':>10}{'change':>10}")
    for key, new in after.items():
        old = before.get(key)
        change = "" if old is None else f"{new - old:+.4f}"
        print(f"  {key:<14}{old!s:>10}{new!s:>10}{change:>10}")


def main() -> int:
    os.environ.setdefault("GIT_AUTHOR_NAME", "mlvc demo")
    os.environ.setdefault("GIT_AUTHOR_EMAIL", "demo@mlvc.invalid")
    os.environ.setdefault("GIT_COMMITTER_NAME", "mlvc demo")
    os.environ.setdefault("GIT_COMMITTER_EMAIL", "demo@mlvc.invalid")
    os.environ["DVC_NO_ANALYTICS"] = "1"
    mlvc = [sys.executable, "-m", "mlvc"]
    with tempfile.TemporaryDirectory(prefix="mlvc-demo-") as tmp:
        repo = Path(tmp) / "blobs"
        shutil.copytree(EXAMPLE, repo)
        print(f"== 1. the example project ({EXAMPLE.relative_to(PROJECT)}) in a new git repo")
        git(repo, "init", "-q")
        sh([*mlvc, "init", "-q"], cwd=repo)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "blobs project")
        sh([*mlvc, "dag"], cwd=repo)

        print("\n== 2. run the pipeline, then run it again")
        out = sh([*mlvc, "repro"], cwd=repo)
        expect(ran(out) == ["generate", "prepare", "train", "evaluate"], "all four stages ran")
        outputs = ["data/train.csv", "model/model.json", "eval/metrics.json", "eval/roc.csv"]
        expect(all((repo / p).is_file() for p in outputs), "outputs exist")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "run the pipeline")
        out = sh([*mlvc, "repro"], cwd=repo)
        expect(not ran(out) and UP_TO_DATE in out, "the second run had nothing to do")

        print("\n== 3. change a parameter")
        params = repo / "params.yaml"
        text = params.read_text()
        # A plain text edit keeps the file's comments, as a person editing it would.
        edited = re.sub(r"^(  lr:) 0\.1\b", r"\1 0.05", text, count=1, flags=re.M)
        expect(edited != text, "params.yaml: train.lr 0.1 -> 0.05")
        params.write_text(edited)
        print(git(repo, "diff", "--", "params.yaml").rstrip())
        out = sh([*mlvc, "status"], cwd=repo)
        expect("train.lr" in out and "evaluate" not in out, "status names train's changed param")

        print("\n== 4. rerun what the change affects")
        out = sh([*mlvc, "repro"], cwd=repo)
        expect(ran(out) == ["train", "evaluate"], "only train and evaluate reran")
        before = json.loads(git(repo, "show", "HEAD:eval/metrics.json"))
        after = json.loads((repo / "eval" / "metrics.json").read_text())
        print("$ cat eval/metrics.json   (compared with the committed run)")
        metrics_table(before, after)
        out = sh([*mlvc, "status"], cwd=repo)
        expect(UP_TO_DATE in out, "mlvc status: up to date")

        if DVC.exists():
            print("\n== 5. real DVC agrees")
            out = sh([str(DVC), "status"], cwd=repo)
            expect(UP_TO_DATE in out, "dvc status: up to date")
            sh([str(DVC), "metrics", "diff"], cwd=repo)
        else:
            print("\n(real DVC not installed: `make dvc` installs it to cross-check)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
