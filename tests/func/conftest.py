"""Scenario tests reuse the side-by-side mlvc/DVC runners of the interop suite."""

from tests.interop.conftest import tools

__all__ = ["tools"]
