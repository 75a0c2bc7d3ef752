"""Turning exceptions into one-line messages and DVC's exit codes, in one place."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

from mlvc.exceptions import MlvcError

# DVC-compat: exit codes scripts written for DVC rely on.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 251
EXIT_INTERRUPTED = 252
EXIT_NOT_A_REPO = 253
EXIT_USAGE = 254
EXIT_OTHER = 255

P = ParamSpec("P")
R = TypeVar("R")


def describe(exc: BaseException) -> tuple[str, str | None]:
    """Returns the message and an optional hint for an exception."""
    if isinstance(exc, FileNotFoundError) and exc.filename is not None:
        return f"`{exc.filename}` does not exist", "check the path, or run from another directory"
    if isinstance(exc, PermissionError) and exc.filename is not None:
        return (
            f"permission denied: `{exc.filename}`",
            "check the file's permissions and its directory's",
        )
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.strerror or exc}: `{exc.filename}`", None
    if isinstance(exc, MlvcError):
        text = str(exc)
        hint = getattr(exc, "hint", None)
        if hint is None and "cannot be tracked" in text:
            hint = "remove it, or list it in `.dvcignore`"
        return text, hint
    return f"unexpected error: {exc}", "rerun with `-v` to see the traceback"


def caused_by_interrupt(exc: BaseException) -> bool:
    """Whether Ctrl-C raised `exc` or the error that wraps it.

    Python 3.11 turns a KeyboardInterrupt that lands while a class is created (a
    dataclass in a module imported on first use) into a RuntimeError caused by it.
    """
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, KeyboardInterrupt):
            return True
        cause = cause.__cause__
    return False


def report(exc: BaseException, *, verbose: bool = False) -> int:
    """Prints an error to stderr and returns the exit code it maps to."""
    if caused_by_interrupt(exc):
        print("error: interrupted by the user", file=sys.stderr)
        return EXIT_INTERRUPTED
    message, hint = describe(exc)
    if verbose:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    print(f"error: {message}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)
    code = getattr(exc, "exit_code", None)
    if isinstance(code, int):
        return code
    if isinstance(exc, OSError | MlvcError | ValueError):
        return EXIT_FAILED
    return EXIT_OTHER


@contextlib.contextmanager
def broken_files_exit_255() -> Iterator[None]:
    """Gives a broken `.dvc` file or YAML file exit code 255 inside the block (a path
    leaving the repository keeps its own code).

    DVC-compat: `repro`, `dag` and `data status` fail so on them, where other commands
    exit 1.
    """
    from mlvc.output import InvalidDvcFileError, UnsafePathError
    from mlvc.yamldata import YamlError

    try:
        yield
    except UnsafePathError:
        raise
    except (InvalidDvcFileError, YamlError) as exc:
        exc.exit_code = EXIT_OTHER
        raise


@contextlib.contextmanager
def broken_pipelines_exit_1() -> Iterator[None]:
    """Gives a `dvc.yaml` or `dvc.lock` that cannot be loaded exit code 1 inside the block.

    DVC-compat: `diff` and `ls` fail so on them, where pipeline commands exit 255.
    """
    from mlvc.exceptions import PipelineError

    try:
        yield
    except PipelineError as exc:
        exc.exit_code = EXIT_FAILED
        raise


def _is_typer_exit(exc: BaseException) -> bool:
    """Whether `exc` is typer's `Exit`; when typer was never imported, nothing can be."""
    typer = sys.modules.get("typer")
    return typer is not None and isinstance(exc, typer.Exit)


def handled(verbose_arg: str = "verbose") -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Wraps a command so that errors become a message and an exit code."""

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def inner(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except SystemExit:
                raise
            except BaseException as exc:
                if _is_typer_exit(exc):
                    raise
                code = report(exc, verbose=bool(kwargs.get(verbose_arg, False)))
                sys.exit(code)

        return inner

    return wrap
