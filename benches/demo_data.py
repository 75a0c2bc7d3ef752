"""Demo, part two: version a dataset with mlvc the way a DVC user does.

In a fresh git repository under ``benches/data/demo-repo/``:

1. ``mlvc init`` and ``mlvc add`` a generated dataset (5,000 small files),
2. change it (edit, add, delete files) and see ``mlvc status``,
3. ``mlvc checkout`` refuses to drop the uncached edits, ``--force`` restores,
4. ``mlvc push`` to a local remote, delete cache and data, ``mlvc pull`` back,
5. and, when the pinned real DVC is installed (``make dvc``), show that
   ``dvc status`` agrees the repository is clean.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datasets  # a sibling module: run as a script, or through the line above

ROOT = datasets.DATA_DIR / "demo-repo"
PROJECT = Path(__file__).resolve().parent.parent
DVC = PROJECT / ".venv-dvc" / "bin" / "dvc"


def mlvc_exe() -> list[str]:
    return [sys.executable, "-m", "mlvc"]


def sh(
    argv: list[str], *, cwd: Path, check: bool = True
) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Runs a command, echoing it like a shell session; returns (seconds, result)."""
    if argv[:2] == [sys.executable, "-m"]:
        shown = "mlvc " + " ".join(argv[3:])
    else:
        shown = " ".join([Path(argv[0]).name, *argv[1:]])
    print(f"$ {shown}")
    t = time.perf_counter()
    r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    for line in (r.stdout + r.stderr).strip().splitlines()[:12]:
        print(f"  {line}")
    print(f"  [{elapsed:.2f} s, exit {r.returncode}]")
    if check and r.returncode != 0:
        raise SystemExit(f"demo step failed: {shown}")
    return elapsed, r


def main() -> int:
    if ROOT.exists():
        shutil.rmtree(ROOT)
    repo = ROOT / "repo"
    remote = ROOT / "remote"
    repo.mkdir(parents=True)
    os.environ.setdefault("GIT_AUTHOR_NAME", "mlvc demo")
    os.environ.setdefault("GIT_AUTHOR_EMAIL", "demo@mlvc.invalid")
    os.environ.setdefault("GIT_COMMITTER_NAME", "mlvc demo")
    os.environ.setdefault("GIT_COMMITTER_EMAIL", "demo@mlvc.invalid")
    os.environ["DVC_NO_ANALYTICS"] = "1"
    mlvc = mlvc_exe()

    print("== 1. track a dataset")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    sh([*mlvc, "init", "-q"], cwd=repo)
    ds = datasets.ensure("many-small", 0.1)
    shutil.copytree(ds.root / "data", repo / "data")
    sh([*mlvc, "add", "data"], cwd=repo)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "track data"], cwd=repo, check=True)

    print("\n== 2. change it")
    files = sorted(p for p in (repo / "data").rglob("*") if p.is_file())
    for p in files[:10]:
        p.write_bytes(p.read_bytes() + b"edited")
    for p in files[10:13]:
        p.unlink()
    (repo / "data" / "new.txt").write_text("a new file\n")
    sh([*mlvc, "status"], cwd=repo)

    print("\n== 3. restore it")
    sh([*mlvc, "checkout"], cwd=repo, check=False)
    sh([*mlvc, "checkout", "--force"], cwd=repo)
    sh([*mlvc, "status"], cwd=repo)

    print("\n== 4. share it through a remote")
    sh([*mlvc, "remote", "add", "-d", "store", str(remote)], cwd=repo)
    sh([*mlvc, "push"], cwd=repo)
    shutil.rmtree(repo / ".dvc" / "cache")
    shutil.rmtree(repo / "data")
    sh([*mlvc, "pull"], cwd=repo)
    sh([*mlvc, "status"], cwd=repo)

    if DVC.exists():
        print("\n== 5. real DVC agrees")
        sh([str(DVC), "status"], cwd=repo)
    else:
        print("\n(real DVC not installed: `make dvc` installs it to cross-check)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
