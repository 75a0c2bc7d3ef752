"""mlvc's exception hierarchy: every domain error derives from :class:`MlvcError`.

The classes are created by the Rust core (so errors raised there already have
these types); I/O problems are raised as the builtin ``OSError`` subclasses
(``FileNotFoundError``, ``PermissionError``, ...) with ``errno`` and
``filename`` set.
"""

from __future__ import annotations

from mlvc._core import (
    CorruptObjectError,
    GitError,
    IgnoreFileError,
    IgnoreFileInTreeError,
    InvalidManifestError,
    LinkError,
    MissingObjectError,
    MlvcError,
    RefConflictError,
    SpecialFileError,
    StateError,
)

__all__ = [
    "CorruptObjectError",
    "DvcYamlError",
    "GitError",
    "IgnoreFileError",
    "IgnoreFileInTreeError",
    "InvalidManifestError",
    "LinkError",
    "MissingObjectError",
    "MlvcError",
    "ParamsFileError",
    "PipelineError",
    "RefConflictError",
    "ResolveError",
    "SpecialFileError",
    "StageNotFoundError",
    "StateError",
    "UsageError",
]


# DVC fails with an internal error (255) on a pattern it cannot read.
IgnoreFileError.exit_code = 255  # type: ignore[attr-defined]
IgnoreFileError.hint = (  # type: ignore[attr-defined]
    "fix or remove that line (a literal `\\` is written `\\\\`)"
)

# DVC-compat: DVC refuses such a tree with 255 (its rules would depend on where the
# data is checked out).
IgnoreFileInTreeError.exit_code = 255  # type: ignore[attr-defined]
IgnoreFileInTreeError.hint = (  # type: ignore[attr-defined]
    "move its rules to a `.dvcignore` above the tracked directory, or delete it"
)


class UsageError(MlvcError):
    """Options that do not go together, found after parsing (DVC-compat: exit 254)."""

    exit_code = 254


class PipelineError(MlvcError):
    """A pipeline definition (`dvc.yaml` and the files it reads) that cannot be loaded.

    Messages start with the file, line and column (`dvc.yaml:12:5`) when known;
    `hint` says what to do.
    """

    # DVC-compat: DVC exits with 255 for these (a DvcException).
    exit_code = 255
    hint: str | None = None

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class DvcYamlError(PipelineError):
    """`dvc.yaml` does not follow DVC's schema: an unknown key, a wrong type, a bad name."""


class ResolveError(PipelineError):
    """Templating failed: an undefined or redefined variable, a bad `${...}`, a bad type."""


class ParamsFileError(PipelineError):
    """A params or `vars` file that is missing or cannot be parsed."""


class StageNotFoundError(PipelineError):
    """No stage has the requested name."""
