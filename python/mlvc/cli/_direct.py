"""Everyday commands run without the typer parser, when their words allow.

`status`, `data status`, `repro`, `add`, `commit` and `checkout` are taken here.

Scripts and prompts call these commands again and again, and typer's import
with the parser it builds was a third of their time in a small repository
(about 20 ms of 60). A command line is taken here only when every word is one
this module reads exactly as the parser would: a target, or one of the flags in
the table below (none takes a value). Anything else (an option with a value,
`--help`, combined short flags, `--`, a typo) goes to the parser, which reads it
and reports mistakes as usual. `tests/cli/test_direct.py` checks the tables
against the typer definitions, so the two cannot drift apart.
"""

from __future__ import annotations

import importlib
from typing import Any, Final, NamedTuple

from mlvc.cli import _LAST_WINS


class DirectCommand(NamedTuple):
    """A command that may run directly: its words, flags and body."""

    words: tuple[str, ...]
    # Each flag spelling and the parameter it sets to True.
    flags: dict[str, str]
    # The parameters' values when not given (every parameter of the body).
    defaults: dict[str, Any]
    # The body, `module:function`, called with keyword arguments.
    body: str
    # Whether at least one target must be given (the parser reports its absence).
    needs_targets: bool = False


_QUIET_VERBOSE: Final = {
    "-q": "quiet",
    "--quiet": "quiet",
    "-v": "verbose",
    "--verbose": "verbose",
}
_COMMON_FLAGS: Final = {"--json": "as_json", **_QUIET_VERBOSE}

COMMANDS: Final = (
    DirectCommand(
        words=("status",),
        flags={
            **_COMMON_FLAGS,
            "-c": "cloud",
            "--cloud": "cloud",
            "-a": "all_branches",
            "--all-branches": "all_branches",
            "-T": "all_tags",
            "--all-tags": "all_tags",
            "-A": "all_commits",
            "--all-commits": "all_commits",
            "-d": "with_deps",
            "--with-deps": "with_deps",
            "-R": "recursive",
            "--recursive": "recursive",
        },
        defaults={
            "targets": None,
            "as_json": False,
            "cloud": False,
            "remote": None,
            "all_branches": False,
            "all_tags": False,
            "all_commits": False,
            "with_deps": False,
            "recursive": False,
            "jobs": None,
            "quiet": False,
            "verbose": False,
        },
        body="mlvc.cli._status:show_status",
    ),
    DirectCommand(
        words=("data", "status"),
        flags={
            **_COMMON_FLAGS,
            "--granular": "granular",
            "--unchanged": "unchanged",
            # DVC-compat: alone, it means `--untracked-files=all` (a value after
            # it goes to the parser).
            "--untracked-files": "untracked_files",
            "--not-in-remote": "not_in_remote",
            "--no-remote-refresh": "no_remote_refresh",
        },
        defaults={
            "targets": None,
            "as_json": False,
            "granular": False,
            "unchanged": False,
            "untracked_files": False,
            "not_in_remote": False,
            "remote": None,
            "no_remote_refresh": False,
            "jobs": 0,
            "quiet": False,
            "verbose": False,
        },
        body="mlvc.cli._status:show_data_status",
    ),
    DirectCommand(
        words=("repro",),
        flags={
            **_QUIET_VERBOSE,
            "-f": "force",
            "--force": "force",
            "-i": "interactive",
            "--interactive": "interactive",
            "-s": "single_item",
            "--single-item": "single_item",
            "--downstream": "downstream",
            "-p": "pipeline",
            "--pipeline": "pipeline",
            "-P": "all_pipelines",
            "--all-pipelines": "all_pipelines",
            "--force-downstream": "force_downstream",
            "-R": "recursive",
            "--recursive": "recursive",
            "--glob": "glob",
            "--dry": "dry",
            "-k": "keep_going",
            "--keep-going": "keep_going",
            "--ignore-errors": "ignore_errors",
            "--no-commit": "no_commit",
            "--allow-missing": "allow_missing",
            "--pull": "pull",
            "--no-run-cache": "no_run_cache",
        },
        defaults={
            "targets": None,
            "force": False,
            "interactive": False,
            "single_item": False,
            "downstream": False,
            "pipeline": False,
            "all_pipelines": False,
            "force_downstream": False,
            "recursive": False,
            "glob": False,
            "dry": False,
            "keep_going": False,
            "ignore_errors": False,
            "no_commit": False,
            "allow_missing": False,
            "pull": False,
            "no_run_cache": False,
            "jobs": 1,
            "quiet": False,
            "verbose": False,
        },
        body="mlvc.cli._repro:run_repro",
    ),
    DirectCommand(
        words=("add",),
        flags={
            **_QUIET_VERBOSE,
            "--no-commit": "no_commit",
            "--glob": "use_glob",
            "--to-remote": "to_remote",
            "-f": "force",
            "--force": "force",
            "--no-relink": "no_relink",
        },
        defaults={
            "targets": None,
            "no_commit": False,
            "use_glob": False,
            "out": None,
            "to_remote": False,
            "remote": None,
            "remote_jobs": None,
            "force": False,
            "no_relink": False,
            "jobs": 0,
            "quiet": False,
            "verbose": False,
        },
        body="mlvc.cli._tracking:run_add",
        needs_targets=True,
    ),
    DirectCommand(
        words=("commit",),
        flags={
            **_QUIET_VERBOSE,
            "-f": "force",
            "--force": "force",
            "-d": "with_deps",
            "--with-deps": "with_deps",
            "-R": "recursive",
            "--recursive": "recursive",
            "--no-relink": "no_relink",
        },
        defaults={
            "targets": None,
            "force": False,
            "with_deps": False,
            "recursive": False,
            "no_relink": False,
            "jobs": 0,
            "quiet": False,
            "verbose": False,
        },
        body="mlvc.cli._tracking:run_commit",
    ),
    DirectCommand(
        words=("checkout",),
        flags={
            **_QUIET_VERBOSE,
            "-f": "force",
            "--force": "force",
            "--relink": "relink",
            "--summary": "summary",
            "-d": "with_deps",
            "--with-deps": "with_deps",
            "-R": "recursive",
            "--recursive": "recursive",
            "--allow-missing": "allow_missing",
        },
        defaults={
            "targets": None,
            "force": False,
            "relink": False,
            "summary": False,
            "with_deps": False,
            "recursive": False,
            "allow_missing": False,
            "jobs": 0,
            "quiet": False,
            "verbose": False,
        },
        body="mlvc.cli._tracking:run_checkout",
    ),
)

# Flags that take an optional value: taken here only when no value follows.
_OPTIONAL_VALUE: Final = {"--untracked-files"}


def parse(args: list[str]) -> tuple[DirectCommand, dict[str, Any]] | None:
    """The command `args` name and its parameters, or None when the parser must read them."""
    for command in COMMANDS:
        if tuple(args[: len(command.words)]) == command.words:
            break
    else:
        return None
    params = dict(command.defaults)
    # DVC-compat: flags argparse stores into one destination, as the parser's
    # pre-processing reads them (`repro --ignore-errors -k` keeps going, then fails).
    last_wins = {s: g for g in _LAST_WINS.get(command.words[0], ()) for s in g}
    targets: list[str] = []
    rest = args[len(command.words) :]
    for i, word in enumerate(rest):
        if not word.startswith("-"):
            targets.append(word)
            continue
        name = command.flags.get(word)
        if name is None:
            return None
        if word in _OPTIONAL_VALUE and i + 1 < len(rest) and not rest[i + 1].startswith("-"):
            return None
        for other in last_wins.get(word, ()):
            params[command.flags[other]] = False
        params[name] = True
    if targets:
        params["targets"] = targets
    elif command.needs_targets:
        return None
    return command, params


def run(command: DirectCommand, params: dict[str, Any]) -> int | str | None:
    """Runs a command `parse` found and returns its exit code."""
    module, _, function = command.body.partition(":")
    body = getattr(importlib.import_module(module), function)
    try:
        body(**params)
    except SystemExit as exc:
        return exc.code
    return 0
