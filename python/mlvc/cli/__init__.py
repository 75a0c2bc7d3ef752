"""The ``mlvc`` command line: one Typer app, commands registered from submodules.

Heavy modules (typer, rich, yaml, remotes, rendering) are imported inside the
commands that use them: `status` and `data status` run without typer (see
`mlvc.cli._direct`), and `mlvc --help` starts fast.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, Any


def _import_dataclasses_without_inspect() -> None:
    """Imports `dataclasses` with its `inspect` loaded only when used.

    `dataclasses` imports `inspect` (and with it `ast`, `dis` and `tokenize`: about
    4 ms of a 40 ms `status`) only to write a signature into classes without a
    docstring, and ours all have one. Its name for `inspect` is bound to a stand-in
    that loads the real module on first use; every other importer gets the real one.
    """
    if "dataclasses" in sys.modules or "inspect" in sys.modules:
        return
    import types

    class DeferredInspect(types.ModuleType):
        def __getattr__(self, name: str) -> Any:
            import importlib

            return getattr(importlib.import_module("inspect"), name)

    sys.modules["inspect"] = DeferredInspect("inspect")
    try:
        import dataclasses  # noqa: F401
    finally:
        del sys.modules["inspect"]


_import_dataclasses_without_inspect()

from dataclasses import dataclass, field  # noqa: E402

from mlvc.cli import _errors  # noqa: E402

if TYPE_CHECKING:
    import typer

    from mlvc.cli._app import CommandSink as CommandSink


# Command modules, in `--help` order, and the module that defines each top-level
# command. typer builds every registered command from its signature on each run,
# so only the module of the invoked command is registered (all for help or typos).
MODULES = ("data", "pipeline", "reports", "hashing", "maintenance", "remote", "inspect")
COMMAND_MODULES = {
    "init": "data",
    "add": "data",
    "status": "data",
    "commit": "data",
    "checkout": "data",
    "repro": "pipeline",
    "stage": "pipeline",
    "dag": "pipeline",
    "freeze": "pipeline",
    "unfreeze": "pipeline",
    "params": "reports",
    "metrics": "reports",
    "hash": "hashing",
    "gc": "maintenance",
    "remove": "maintenance",
    "move": "maintenance",
    "unprotect": "maintenance",
    "version": "maintenance",
    "doctor": "maintenance",
    "push": "remote",
    "fetch": "remote",
    "pull": "remote",
    "remote": "remote",
    "config": "remote",
    "cache": "remote",
    "data": "inspect",
    "diff": "inspect",
    "ls": "inspect",
    "root": "inspect",
}
# DVC-compat: other names DVC gives some commands.
ALIASES = {"list": "ls", "mv": "move", "rm": "remove"}


def register(command: str | None = None) -> typer.Typer:
    """Registers `command` from the module defining it (everything when None or unknown)."""
    from mlvc.cli import _app

    return _app.register(command)


def __getattr__(name: str) -> Any:
    # The app is built on first use, so that importing this package stays light.
    if name == "app":
        from mlvc.cli import _app

        return _app.app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def blank_means_all(targets: list[str] | None) -> list[str]:
    """The targets a command works on.

    DVC-compat: an empty target (`status "$UNSET"`) names everything, as no target does.
    """
    return [] if not targets or "" in targets else list(targets)


def _command_of(args: list[str]) -> str | None:
    """The subcommand name in `args` (the first word that is not an option)."""
    return next((a for a in args if not a.startswith("-")), None)


# DVC-compat: options argparse parses with `nargs="*"` (`--targets a b`, `gc -p a b`):
# every word up to the next option belongs to them. click takes one value per option,
# so the words are spread over repeated options before parsing. Keyed by command
# ("" for every command); each entry lists an option's spellings, the one passed on first.
_MANY_VALUES: dict[str, tuple[tuple[str, ...], ...]] = {
    "": (("--targets",),),
    "gc": (("--projects", "-p"),),
    "ls": (("--remote-config",),),
}
# Of those, options whose values are NAME=VALUE pairs: a word without `=` after them
# is the command's argument. (argparse takes it as a value, and DVC then fails:
# `dvc ls --remote-config url=/x . data` is an "unexpected error".)
_ASSIGNMENTS = {"--remote-config"}
# DVC-compat: options argparse stores into one destination (`store_const`), so the
# last one given wins: `repro --ignore-errors -k` keeps going but fails in the end.
_LAST_WINS: dict[str, tuple[tuple[str, ...], ...]] = {
    "repro": (("-k", "--keep-going", "--ignore-errors"),),
}
# DVC-compat: options with an optional value (`nargs="?"`), and the value they take
# alone: `--untracked-files` means `--untracked-files=all`.
_OPTIONAL_VALUE = {"--untracked-files": "all"}
_NEGATIVE_NUMBER = re.compile(r"-\d+(\.\d+)?")


def _attached_value(word: str, spellings: dict[str, str]) -> tuple[str, str] | None:
    """`(option, value)` for `--opt=v`, `-p=v` or `-pv` when the option is in `spellings`."""
    name, eq, value = word.partition("=")
    if eq and name in spellings:
        return spellings[name], value
    short = word[:2]
    if not word.startswith("--") and len(word) > 2 and short in spellings:
        return spellings[short], word[2:]
    return None


@dataclass(frozen=True)
class CommandOptions:
    """What argv pre-processing needs to know of the command being run.

    `takes_value`: each option spelling and whether it takes a value; `path`: how
    many words name the command (`stage add`: 2); `interspersed`: whether options
    may follow its arguments (`stage add` takes every word after the command
    line's first as part of it).
    """

    takes_value: dict[str, bool] = field(default_factory=dict)
    path: int = 1
    interspersed: bool = True


def command_options(root: Any, args: list[str]) -> CommandOptions:
    """The options of the (sub)command `args` name, from its click definition.

    (typer vendors click privately: the objects are read by their attributes.)
    """
    cmd = root
    path = 0
    for word in args:
        if word.startswith("-"):
            continue
        sub = getattr(cmd, "commands", {}).get(word)
        if sub is None:
            break
        cmd, path = sub, path + 1
    takes = {
        spelling: not (param.is_flag or param.count)
        for param in cmd.params
        if param.param_type_name == "option"
        for spelling in (*param.opts, *param.secondary_opts)
    }
    interspersed = cmd.context_settings.get("allow_interspersed_args", True)
    return CommandOptions(takes, max(path, 1), interspersed)


def _split_short(word: str, takes_value: dict[str, bool]) -> list[str]:
    """DVC-compat: argparse's reading of combined short options.

    `-fk` is `-f -k`; letters are flags until one takes a value, which gets the rest
    of the word (`-wj4`: `-w -j4`; `-wp`: `-w -p`, the words after are its values;
    `-pw`: `-p` with the value `w`). A word that does not read so is left whole.
    """
    if word.startswith("--") or len(word) < 3 or word in takes_value or "=" in word:
        return [word]
    found = []
    rest = word[1:]
    while rest:
        option, rest = "-" + rest[0], rest[1:]
        takes = takes_value.get(option)
        if takes is None:
            return [word]
        if takes:
            found.append(option + rest)
            break
        found.append(option)
    return found


def normalise_args(args: list[str], options: CommandOptions | None = None) -> list[str]:
    """Rewrites argparse-only option forms into ones click parses the same way."""
    options = options or CommandOptions()
    command = _command_of(args) or ""
    many = {
        spelling: group[0]
        for group in (*_MANY_VALUES[""], *_MANY_VALUES.get(command, ()))
        for spelling in group
    }
    last_wins = {spelling: group for group in _LAST_WINS.get(command, ()) for spelling in group}
    out: list[str] = []
    todo = list(args)
    path = 0  # words of the command's name seen
    value_next = False  # the previous word was an option waiting for its value
    while todo:
        word = todo.pop(0)
        if word == "--":
            out += [word, *todo]
            break
        if (
            not value_next
            and _NEGATIVE_NUMBER.fullmatch(word)
            and word not in options.takes_value
            and not any(w.startswith("-") and not _NEGATIVE_NUMBER.fullmatch(w) for w in todo)
        ):
            # DVC-compat: argparse reads `-3` as a value when no option looks like a
            # number (`remote modify r jobs -3`); click needs `--` to take it so.
            out += ["--", word, *todo]
            break
        if not word.startswith("-"):
            if path < options.path:
                path += 1
            elif not value_next and not options.interspersed:
                # The command's arguments start here: the rest is theirs, untouched.
                out += [word, *todo]
                break
            value_next = False
            out.append(word)
            continue
        first, *more = _split_short(word, options.takes_value)
        todo[:0] = more
        word = first
        attached = _attached_value(word, many)
        if attached is not None or word in many:
            name, value = attached or (many[word], "")
            values = [value] if attached else []
            while attached is None and todo and not todo[0].startswith("-"):
                if name in _ASSIGNMENTS and "=" not in todo[0]:
                    break  # the command's arguments, not more NAME=VALUE pairs
                values.append(todo.pop(0))
            # DVC-compat: a repeated option replaces the earlier one (argparse's `store`).
            out = [w for w in out if not w.startswith(name + "=")]
            # No words: argparse takes an empty list, the same as leaving the option out.
            out += [f"{name}={v}" for v in values]
            value_next = False
            continue
        if word in last_wins:
            out = [w for w in out if w not in last_wins[word]]
        if word in _OPTIONAL_VALUE and (not todo or todo[0].startswith("-")):
            out.append(f"{word}={_OPTIONAL_VALUE[word]}")
            value_next = False
            continue
        value_next = options.takes_value.get(word, False)
        out.append(word)
    return out


@dataclass
class GlobalOptions:
    """DVC's options that come before the command: `-q`, `-v`, `--cd`, `--wait-for-lock`."""

    # DVC-compat: `-q`/`-v` before the command are accepted and have no effect (the
    # command's own options, which default to off, override them in DVC's parser).
    levels: list[str] = field(default_factory=list)
    cd: str | None = None
    wait_for_lock: bool = False


def split_global_options(args: list[str]) -> tuple[GlobalOptions, list[str]]:
    """The global options before the command word, and the words from the command on
    (with DVC's command aliases resolved)."""
    found = GlobalOptions()
    rest = list(args)
    while rest and rest[0].startswith("-"):
        word = rest[0]
        if word in ("-q", "--quiet", "-v", "--verbose"):
            found.levels.append("-q" if word in ("-q", "--quiet") else "-v")
        elif word == "--wait-for-lock":
            found.wait_for_lock = True
        elif word == "--cd" and len(rest) > 1:
            found.cd = rest.pop(1)
        elif word.startswith("--cd="):
            found.cd = word.removeprefix("--cd=")
        else:
            break  # `--help`, `--version`, or a mistake for the parser to report
        rest.pop(0)
    if rest and rest[0] in ALIASES:
        rest[0] = ALIASES[rest[0]]
    return found, rest


def main(argv: list[str] | None = None) -> None:
    """Runs the CLI and exits with DVC's exit codes."""
    found, raw = split_global_options(sys.argv[1:] if argv is None else argv)
    if found.cd is not None:
        import os

        try:
            os.chdir(found.cd)
        except OSError as exc:
            print(f"error: `--cd {found.cd}`: {exc.strerror}", file=sys.stderr)
            sys.exit(_errors.EXIT_OTHER)  # DVC-compat: an "unexpected error"
    if found.wait_for_lock:
        from mlvc import lock

        lock.WAIT_FOR_LOCK = True
    try:
        from mlvc.cli import _direct

        direct = _direct.parse(raw)
        code = _direct.run(*direct) if direct is not None else _run_parsed(raw)
    except BaseException as exc:
        # Ctrl-C while the parser and the command's modules load, before the
        # command's own handling: DVC's exit code, not a traceback.
        if not _errors.caused_by_interrupt(exc):
            raise
        code = _errors.report(exc)
    if argv is None:
        _exit_now(code)
    sys.exit(code)


def _run_parsed(raw: list[str]) -> int | str | None:
    """Runs the command in `raw` through the typer parser; returns its exit code."""
    import typer.main

    app = register(_command_of(raw))
    # The click command typer builds on each call, built once here: its options
    # tell the pre-processing how to read the words.
    command = typer.main.get_command(app)
    args = normalise_args(raw, command_options(command, raw))
    try:
        command(args=args, prog_name="mlvc")
    except SystemExit as exc:
        # Usage errors exit 2 from the parser; scripts written for DVC expect 254.
        return _errors.EXIT_USAGE if exc.code == 2 else exc.code
    return 0


def _exit_now(code: int | str | None) -> None:
    """Ends the process without tearing the interpreter down, once nothing is left to do.

    The command is over and its files are closed; freeing every module and
    object one by one (a 50,000-file tree among them) would add 10-20 ms to each
    command. `atexit` work still runs; with another thread alive, or a profiler
    or tracer installed, the normal exit happens instead.
    """
    # Without the module loaded, no other Python thread was started.
    threading = sys.modules.get("threading")
    if (threading and threading.active_count() > 1) or sys.getprofile() or sys.gettrace():
        return  # a profiler or coverage tool still has its report to write
    import atexit
    import os

    atexit._run_exitfuncs()
    if isinstance(code, str):
        sys.stderr.write(code + "\n")
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass  # the reader went away (`| head`): what it wanted was written
    os._exit(code or 0)
