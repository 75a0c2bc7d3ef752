"""Resolved pipeline definitions: what `dvc.yaml` says once templating is done."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mlvc.exceptions import PipelineError, StageNotFoundError
from mlvc.pipeline.params import ParamsRef

OutKind = Literal["outs", "metrics", "plots"]
PROJECT_FILE = "dvc.yaml"
DVCFILE_SUFFIX = ".dvc"
# DVC-compat: generated stage names join the group's name and the key with "@".
JOIN = "@"

# DVC-compat: how DVC splits `[path:]name` targets (`dvc.utils.TARGET_REGEX`).
_TARGET_RE = re.compile(r"(?P<path>.*?)(:(?P<name>[^\\/:]*))??$")


def is_stage_file(path: str) -> bool:
    """Whether `path` names a file of stages: a `.dvc` file or a `dvc.yaml`."""
    return path.endswith(DVCFILE_SUFFIX) or posixpath.basename(path) == PROJECT_FILE


def split_target(
    target: str, lock_file_error: Callable[[], Exception]
) -> tuple[str | None, str | None]:
    """`(file, stage name)` of a target, as DVC reads it (`dvc.utils.parse_target`).

    `dvc.yaml:train` is `("dvc.yaml", "train")`, `:train` the same, `gen@key` a
    generated stage; a `.dvc` file or a `dvc.yaml` alone has no name; anything else
    is `(None, target)`: a stage of the current directory's `dvc.yaml`, or else a
    path. A lock file named as the file raises `lock_file_error()`.
    """
    from mlvc.pipeline.lockfile import LOCK_FILE

    group, at, key = target.partition(JOIN)
    match = _TARGET_RE.match(group)
    assert match is not None  # the pattern matches any string
    path, name = match.group("path"), match.group("name")
    if name and at:
        name += at + key
    if path:
        if posixpath.basename(path) == LOCK_FILE:
            raise lock_file_error()
        if not name:
            return (target, None) if is_stage_file(target) else (None, target)
    return path or PROJECT_FILE, name


@dataclass(slots=True)
class Out:
    """An output of a stage, from `outs`, `metrics` or `plots`.

    `path` is as written, relative to the stage's `wdir`. `plot` holds the plot
    properties (`x`, `y`, `template`, ...) of a `plots` entry.
    """

    path: str
    kind: OutKind = "outs"
    cache: bool = True
    persist: bool = False
    push: bool = True
    remote: str | None = None
    desc: str | None = None
    type: str | None = None
    labels: list[str] = field(default_factory=list)
    meta: Any = None
    plot: dict[str, Any] | None = None

    @property
    def is_metric(self) -> bool:
        return self.kind == "metrics"

    @property
    def is_plot(self) -> bool:
        return self.kind == "plots"


@dataclass(slots=True)
class Stage:
    """One resolved stage (a generated one has a name like `train@small`).

    Paths in `deps`, `params` and `outs` are as written, relative to `wdir`;
    `wdir` is relative to the repository root (`.` for the root).
    `line`/`column` locate the stage's name in `dvcfile` (for a generated stage:
    its `foreach`/`matrix` entry).
    """

    name: str
    dvcfile: str
    cmd: str | list[str]
    wdir: str = "."
    deps: list[str] = field(default_factory=list)
    params: list[ParamsRef] = field(default_factory=list)
    outs: list[Out] = field(default_factory=list)
    frozen: bool = False
    always_changed: bool = False
    desc: str | None = None
    meta: Any = None
    generated_from: str | None = None
    line: int = 0
    column: int = 0
    # {vars file: {dotted key: value}} that `${...}` took from files (DVC's tracked vars).
    tracked_vars: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_data_source(self) -> bool:
        """A `.dvc` file seen as a stage (DVC's data source): nothing to run, outputs to check."""
        return self.dvcfile.endswith(DVCFILE_SUFFIX)

    @property
    def addressing(self) -> str:
        """How DVC names the stage from the repository's root (mlvc's key for it)."""
        return self.addressing_from(".")

    def addressing_from(self, where: str) -> str:
        """DVC-compat: how DVC names the stage to a user in the directory `where`
        (relative to the repository's root), in messages and in `DVC_STAGE`."""
        path = self.dvcfile if where == "." else posixpath.relpath(self.dvcfile, where)
        if self.is_data_source:
            return path
        if path == PROJECT_FILE:
            return self.name
        return f"{path}:{self.name}"

    @property
    def commands(self) -> list[str]:
        """The command lines to run: a list `cmd` as is, a string split into lines."""
        return list(self.cmd) if isinstance(self.cmd, list) else self.cmd.splitlines()

    def repo_path(self, path: str) -> str:
        """A dep/out/params path made relative to the repository root (normalised)."""
        if posixpath.isabs(path):
            return path
        return posixpath.normpath(posixpath.join(self.wdir, path))

    @property
    def params_files(self) -> list[str]:
        """Repository-relative paths of the params files this stage depends on."""
        return [self.repo_path(p.path) for p in self.params]


@dataclass(slots=True)
class PipelineFile:
    """One `dvc.yaml`: its stages in DVC's order and its top-level sections.

    `path` is relative to the repository root. The top-level sections are resolved
    on first use (as DVC does), so a mistake there does not stop stages loading.
    """

    path: str
    stages: dict[str, Stage]
    _sections: Callable[[str], Any] = field(repr=False)
    _resolved: dict[str, Any] = field(default_factory=dict, repr=False)
    # Definitions (by name in `stages:`) that did not resolve, when loaded to defer
    # such errors; their error is raised when a command names them.
    broken: dict[str, PipelineError] = field(default_factory=dict, repr=False)

    def _section(self, key: str) -> Any:
        if key not in self._resolved:
            self._resolved[key] = self._sections(key)
        return self._resolved[key]

    @property
    def params(self) -> list[str]:
        """Top-level `params`: extra params files (relative to the file's directory)."""
        value: list[str] = self._section("params")
        return value

    @property
    def metrics(self) -> list[str]:
        value: list[str] = self._section("metrics")
        return value

    @property
    def plots(self) -> list[Any]:
        value: list[Any] = self._section("plots")
        return value

    @property
    def artifacts(self) -> dict[str, dict[str, Any]]:
        value: dict[str, dict[str, Any]] = self._section("artifacts")
        return value

    @property
    def datasets(self) -> list[Any]:
        value: list[Any] = self._section("datasets")
        return value


@dataclass(slots=True)
class Pipelines:
    """Every `dvc.yaml` of a workspace, loaded and resolved."""

    root: Path
    files: list[PipelineFile]

    @property
    def stages(self) -> list[Stage]:
        return [s for f in self.files for s in f.stages.values()]

    def __iter__(self) -> Iterator[Stage]:
        return iter(self.stages)

    def __len__(self) -> int:
        return sum(len(f.stages) for f in self.files)

    def get(self, target: str) -> Stage:
        """The stage named `name` (in `dvc.yaml`) or `path/dvc.yaml:name`."""
        path, sep, name = target.rpartition(":")
        if not sep:
            path, name = PROJECT_FILE, target
        elif not path.endswith(PROJECT_FILE):
            path = posixpath.join(path, PROJECT_FILE)
        path = posixpath.normpath(path)
        for f in self.files:
            if f.path == path and name in f.stages:
                return f.stages[name]
        known = ", ".join(s.addressing for s in self.stages[:10]) or "none"
        raise StageNotFoundError(f"stage `{name}` not found in `{path}`", f"stages are: {known}")
