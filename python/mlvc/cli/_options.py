"""Options several commands share, spelled once (DVC's flag names)."""

from __future__ import annotations

from typing import Annotated

import typer

Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks on errors.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Only print errors.")]
Jobs = Annotated[int, typer.Option("--jobs", "-j", min=0, help="Worker threads (default: cores).")]
# DVC-compat: `fetch`, `pull` and `gc` take a negative `-j` too (as the default: pass
# the value through `default_jobs`); `push` and `status -c` fail on one.
AnyJobs = Annotated[int, typer.Option("--jobs", "-j", help="Worker threads (default: cores).")]


def default_jobs(jobs: int) -> int:
    """`-j` as the commands take it: 0 (the default) for a number below 1."""
    return max(jobs, 0)


AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Remote = Annotated[str | None, typer.Option("--remote", "-r", help="Remote to use.")]

# The revision scope (see `mlvc.revs.RevScope`): the same flags wherever they occur.
AllBranches = Annotated[
    bool, typer.Option("--all-branches", "-a", help="Also every branch (its tip).")
]
AllTags = Annotated[bool, typer.Option("--all-tags", "-T", help="Also every tag.")]
AllCommits = Annotated[bool, typer.Option("--all-commits", "-A", help="Also every commit.")]
Rev = Annotated[str | None, typer.Option("--rev", metavar="COMMIT", help="Also this commit.")]
Num = Annotated[
    int | None,
    typer.Option(
        "--num",
        "-n",
        min=0,
        help="With `--rev` or `-a`: also the NUM - 1 commits before each (default 1).",
    ),
]
RunCache = Annotated[
    bool,
    typer.Option("--run-cache/--no-run-cache", help="Also transfer the run cache (`runs/`)."),
]

# How targets are read by status, checkout, commit, push, fetch and pull
# (see `mlvc.ops.targets.collect`).
WithDeps = Annotated[
    bool,
    typer.Option("--with-deps", "-d", help="Stages named also bring their upstream stages."),
]
Recursive = Annotated[
    bool,
    typer.Option(
        "--recursive", "-R", help="A directory means every `.dvc`/`dvc.yaml` stage below it."
    ),
]
NoRelink = Annotated[
    bool,
    typer.Option(
        "--no-relink",
        help="Leave the workspace as it is (no links to the cache; the cache gets a copy).",
    ),
]
Glob = Annotated[bool, typer.Option("--glob", help="Targets are shell-style patterns.")]
