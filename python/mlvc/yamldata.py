"""What loaded YAML comes with, without the parser: its errors and its marks.

Kept apart from `yamlio` so that modules which only name these never import
PyYAML (see `parsecache`).
"""

from __future__ import annotations

from typing import Any

from mlvc.exceptions import MlvcError


class YamlError(MlvcError):
    """A YAML file that cannot be parsed; names the file, line and column."""

    exit_code = 1


class Marks:
    """Line and column (1-based) of the keys and items of loaded YAML containers.

    Valid while the loaded data is alive (entries are keyed by object id).
    """

    def __init__(self) -> None:
        self.table: dict[int, tuple[tuple[int, int], dict[Any, tuple[int, int]]]] = {}

    def of(self, container: object, key: Any = None) -> tuple[int, int] | None:
        """Where `container[key]` starts (its key, for a mapping), or the container itself."""
        entry = self.table.get(id(container))
        if entry is None:
            return None
        if key is None:
            return entry[0]
        return entry[1].get(key, entry[0])
