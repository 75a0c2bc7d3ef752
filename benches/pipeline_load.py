"""Time loading and resolving a large `dvc.yaml` (default 1000 stages) with mlvc, and DVC.

Usage::

    .venv/bin/python benches/pipeline_load.py                 # 1000 stages, best of 7
    .venv/bin/python benches/pipeline_load.py --stages 5000 --with-dvc

The file mixes plain stages (interpolated `cmd` with a dict of flags, deps,
params, outs, metrics) with `foreach` groups, all reading `params.yaml`. The
DVC figure is the in-process time of `Repo(root).index.stages`, import excluded.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlvc.pipeline import load_pipelines
from mlvc.repo import Repo

DVC_TIMER = """
import sys, time
from dvc.repo import Repo
root, repeat = sys.argv[1], int(sys.argv[2])
runs = []
for _ in range(repeat):
    t = time.perf_counter()
    repo = Repo(root)
    n = len(repo.index.stages)
    runs.append(time.perf_counter() - t)
    repo.close()
print(n, min(runs))
"""


def write_repo(root: Path, stages: int) -> None:
    (root / ".dvc").mkdir(parents=True)
    (root / ".dvc" / "config").write_text("[core]\n    no_scm = True\n")
    (root / "params.yaml").write_text(
        "lr: 0.1\nopts:\n  depth: 4\n  names: [a, b]\n  fast: true\nsizes: [1, 2, 3, 4]\n"
    )
    lines = ["stages:"]
    i = 0
    while i < stages:
        if i % 10 == 9:
            lines.append(
                f"  g{i}:\n    foreach: ${{sizes}}\n    do:\n"
                f"      cmd: python gen.py --size ${{item}} --lr ${{lr}}\n"
                f"      outs: ['gen/{i}-${{item}}.bin']"
            )
            i += 4
            continue
        lines.append(
            f"  s{i}:\n    cmd: python train.py --lr ${{lr}} --i {i} ${{opts}}\n"
            f"    deps:\n    - data/in{i}.csv\n    - src/train.py\n"
            f"    params:\n    - lr\n    - opts\n"
            f"    outs:\n    - out/{i}.bin\n"
            f"    metrics:\n    - m{i}.json:\n        cache: false"
        )
        i += 1
    (root / "dvc.yaml").write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--with-dvc", action="store_true")
    parser.add_argument("--dvc-python", default=".venv-dvc/bin/python")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        write_repo(root, args.stages)
        runs = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            n = len(load_pipelines(Repo(root)))
            runs.append(time.perf_counter() - t)
        size = (root / "dvc.yaml").stat().st_size // 1024
        print(
            f"mlvc: {n} stages from a {size} KiB dvc.yaml in {min(runs) * 1000:.1f} ms"
            f" (best of {args.repeat}; median {statistics.median(runs) * 1000:.1f} ms)"
        )
        if args.with_dvc:
            out = subprocess.run(
                [args.dvc_python, "-c", DVC_TIMER, str(root), str(min(args.repeat, 3))],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            print(f"dvc:  {out[0]} stages in {float(out[1]) * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
