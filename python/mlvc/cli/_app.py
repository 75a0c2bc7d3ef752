"""The typer app: the root callback and registration of the command modules.

Imported only when a command goes through the typer parser (see `mlvc.cli.main`):
typer's import and the parser it builds are most of a short command's start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, Protocol, TypeVar

import typer

from mlvc.cli import COMMAND_MODULES, MODULES

_F = TypeVar("_F", bound=Callable[..., Any])


class CommandSink(Protocol):
    """What a command module registers its commands on: the app, or a filter of it."""

    def command(self, name: str, **kwargs: Any) -> Callable[[_F], _F]: ...

    def add_typer(self, group: typer.Typer, *, name: str) -> None: ...


app = typer.Typer(
    name="mlvc",
    help="Version data and models, run pipelines and track experiments on Git (DVC-compatible).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help and usage errors: rich formatting costs ~85 ms of start-up and
    # box-drawing characters that do not read well in logs.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        from mlvc import __version__

        print(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        "-V",
        callback=_print_version,
        is_eager=True,
        help="Print mlvc's version and exit.",
    ),
) -> None:
    """Version data and models, run pipelines and track experiments on Git (DVC-compatible)."""


# What is registered: module names (every command of the module), or
# `module:command` for a single one.
_registered: set[str] = set()


class _Filtered:
    """Stands in for the app while a module registers: keeps `only` (when given),
    and none of `skip`.

    typer builds a parser for every registered command from its signature on
    each run; a module's other commands would cost milliseconds for nothing.
    """

    def __init__(
        self, target: typer.Typer, *, only: str | None = None, skip: Collection[str] = ()
    ) -> None:
        self._target = target
        self._only = only
        self._skip = skip

    def _keep(self, name: str) -> bool:
        return self._only in (None, name) and name not in self._skip

    def command(self, name: str, **kwargs: Any) -> Callable[[_F], _F]:
        if not self._keep(name):
            return lambda f: f
        return self._target.command(name, **kwargs)

    def add_typer(self, group: typer.Typer, *, name: str) -> None:
        if self._keep(name):
            self._target.add_typer(group, name=name)


def register(command: str | None = None) -> typer.Typer:
    """Registers `command` from the module defining it (everything when None or unknown)."""
    import importlib

    if command in COMMAND_MODULES:
        name = COMMAND_MODULES[command]
        one = f"{name}:{command}"
        if name not in _registered and one not in _registered:
            importlib.import_module(f"mlvc.cli.{name}").register(_Filtered(app, only=command))
            _registered.add(one)
        return app
    for name in MODULES:
        if name not in _registered:
            module = importlib.import_module(f"mlvc.cli.{name}")
            # Commands registered alone before stay as they are.
            done = {r.partition(":")[2] for r in _registered if r.startswith(name + ":")}
            module.register(_Filtered(app, skip=done) if done else app)
            _registered.add(name)
    return app
