"""The ``mlvc`` command line: one Typer app, commands registered from submodules.

Heavy modules (rich, yaml, remotes, rendering) are imported inside the commands
that use them, so ``mlvc --help`` starts fast.
"""

from __future__ import annotations

import sys

import typer

from mlvc.cli import _errors

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


def _register() -> None:
    from mlvc.cli import data, hashing, inspect, maintenance, remote

    data.register(app)
    hashing.register(app)
    maintenance.register(app)
    remote.register(app)
    inspect.register(app)


_register()


def main(argv: list[str] | None = None) -> None:
    """Runs the CLI and exits with DVC's exit codes."""
    try:
        app(args=argv, prog_name="mlvc")
    except SystemExit as exc:
        # Usage errors exit 2 from the parser; scripts written for DVC expect 254.
        if exc.code == 2:
            sys.exit(_errors.EXIT_USAGE)
        raise
