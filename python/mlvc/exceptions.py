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
    "GitError",
    "InvalidManifestError",
    "LinkError",
    "MissingObjectError",
    "MlvcError",
    "RefConflictError",
    "SpecialFileError",
    "StateError",
]
