"""One repository layout for the target-flag scenarios (`-d`, `-R`, `--allow-missing`,
`--no-relink`): `.dvc` files and `dvc.yaml` stages in subdirectories, and a chain of
stages that crosses directories. Every output holds different content."""

from __future__ import annotations

import hashlib
import shutil
import stat
from pathlib import Path

from tests.interop.conftest import Runner

ROOT_PIPELINE = """\
stages:
  prep:
    cmd: cat raw.txt > prep.txt && echo p >> prep.txt
    deps: [raw.txt]
    outs: [prep.txt]
  train:
    cmd: cat prep.txt > model.txt && echo m >> model.txt
    deps: [prep.txt]
    outs: [model.txt]
  other:
    cmd: echo other > other.txt
    outs: [other.txt]
"""
SUB_PIPELINE = """\
stages:
  s1:
    cmd: cat x.txt > y.txt && echo y >> y.txt
    deps: [x.txt]
    outs: [y.txt]
"""
DEEP_PIPELINE = """\
stages:
  dd:
    cmd: cat ../../model.txt > dd.txt && echo dd >> dd.txt
    deps: [../../model.txt]
    outs: [dd.txt]
"""
# Data tracked by `.dvc` files (a directory among them), then the stages' outputs.
DATA = ["raw.txt", "data", "sub/x.txt", "sub/deep/d.txt"]
STAGE_OUTPUTS = [
    "prep.txt",
    "model.txt",
    "other.txt",
    "sub/y.txt",
    "sub/deep/dd.txt",
]
OUTPUTS = DATA + STAGE_OUTPUTS
NO_SUCH_TARGET = "does not exist as an output or a stage name in `dvc.yaml`"

# Flags and targets that name stages and outputs of the layout, for the interop tests.
TARGETS = [
    ["train"],
    ["-d", "train"],
    ["--with-deps", "sub/deep/dvc.yaml:dd"],
    ["-d", "sub/dvc.yaml"],
    ["-d", "model.txt"],
    ["-d", "raw.txt.dvc"],
    ["-R", "sub"],
    ["--recursive", "sub/deep"],
    ["-R", "-d", "sub/deep"],
    ["-R", "raw.txt"],
    ["-R", "dvc.yaml"],
    ["-R", "."],
    ["-R"],
    ["-d"],
    ["data/1.txt"],
    ["-R", "data"],
]
# Targets that are no directory or stage: DVC fails on each.
BAD = [["-d", "nosuch"], ["-R", "nosuch"], ["sub"], ["-d", "sub"]]
DVC_NO_SUCH = "'{}' does not exist as an output or a stage name in 'dvc.yaml'"
MLVC_NO_SUCH = "error: `{}` " + NO_SUCH_TARGET


def fail_like_dvc_on_bad_targets(mlvc: Runner, dvc: Runner, *command: str) -> None:
    """Each of BAD makes both tools exit 1, DVC naming the target and mlvc's error
    line (the first, after any warnings) naming it too."""
    for args in BAD:
        theirs = dvc(*command, *args, check=False)
        ours = mlvc(*command, *args, check=False)
        assert theirs.returncode == ours.returncode == 1, args
        assert DVC_NO_SUCH.format(args[-1]) in theirs.stderr, args
        errors = [line for line in ours.stderr.splitlines() if not line.startswith("warning:")]
        assert errors[0] == MLVC_NO_SUCH.format(args[-1]), args


def layout(mlvc: Runner, git: Runner, repo: Path) -> None:
    """`raw.txt.dvc`, `data.dvc` (a directory), `sub/x.txt.dvc`, `sub/deep/d.txt.dvc`;
    `dvc.yaml`: prep -> train, and other; `sub/dvc.yaml`: s1 (from `sub/x.txt`);
    `sub/deep/dvc.yaml`: dd, downstream of train. Committed to git."""
    mlvc("init", "-q")
    files = {
        "raw.txt": "raw\n",
        "data/1.txt": "one\n",
        "data/2.txt": "two\n",
        "sub/x.txt": "x\n",
        "sub/deep/d.txt": "d\n",
    }
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    mlvc("add", "-q", *DATA)
    (repo / "dvc.yaml").write_text(ROOT_PIPELINE)
    (repo / "sub" / "dvc.yaml").write_text(SUB_PIPELINE)
    (repo / "sub" / "deep" / "dvc.yaml").write_text(DEEP_PIPELINE)
    mlvc("repro", "-q", "-P")
    git("add", "-A")
    git("commit", "-qm", "layout")


def present(repo: Path) -> list[str]:
    """The outputs that exist in the workspace."""
    return [rel for rel in OUTPUTS if (repo / rel).exists()]


def remove_outputs(repo: Path) -> None:
    """Deletes every output from the workspace (the cache keeps them)."""
    for rel in OUTPUTS:
        path = repo / rel
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def edit_everything(repo: Path) -> None:
    """Changes every output (data and stage outputs), so every stage reports."""
    for rel in OUTPUTS:
        path = repo / rel
        if path.is_dir():
            (path / "1.txt").unlink()
            (path / "1.txt").write_text("edited\n")
        else:
            path.unlink()
            path.write_text(f"edited {rel}\n")


def object_of(repo: Path, rel: str) -> Path:
    """The cache object of a file, by its content."""
    md5 = hashlib.md5((repo / rel).read_bytes()).hexdigest()
    return repo / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]


def drop_object(repo: Path, rel: str) -> None:
    """Deletes the cache object of a workspace file."""
    obj = object_of(repo, rel)
    obj.chmod(0o644)
    obj.unlink()


def shape(path: Path) -> tuple[str, int, int]:
    """How a workspace file is stored: its kind, link count and permission bits."""
    st = path.lstat()
    kind = "symlink" if stat.S_ISLNK(st.st_mode) else "file"
    return kind, st.st_nlink, stat.S_IMODE(st.st_mode)


def shapes(repo: Path, rels: list[str]) -> list[tuple[str, str, int, int]]:
    """Each file's kind, link count and permission bits."""
    return [(rel, *shape(repo / rel)) for rel in rels]


def objects(repo: Path) -> list[tuple[str, int]]:
    """The cache's file objects, with their link counts."""
    return sorted(
        (p.name, p.stat().st_nlink)
        for p in (repo / ".dvc" / "cache" / "files").rglob("*")
        if p.is_file() and not p.name.endswith(".dir")
    )


def fresh(tool: Runner, repo: Path, cache_type: str) -> None:
    """An empty repository initialised by `tool`, with `cache.type`."""
    for p in repo.iterdir():
        if p.name != ".git":
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    tool("init", "-q")
    tool("config", "cache.type", cache_type)
