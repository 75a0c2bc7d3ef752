"""Which stages and outputs command-line targets name: DVC's `collect_granular`.

One reading of targets for `status`, `checkout`, `commit`, `push`, `fetch` and `pull`,
with `-d/--with-deps` and `-R/--recursive`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mlvc.exceptions import MlvcError, PipelineError
from mlvc.pipeline.lockfile import LOCK_FILE
from mlvc.pipeline.model import DVCFILE_SUFFIX, PROJECT_FILE, Stage
from mlvc.repo import Repo


class TargetError(MlvcError):
    """A target that is no tracked data, `.dvc` file or stage."""

    hint: str | None = (
        "name a `.dvc` file, tracked data, a stage (`train`, `dvc.yaml:train`) or use `-R DIR`"
    )
    # DVC-compat: status, commit, push, fetch and pull fail so with 1; checkout sets 255.
    exit_code = 1

    def __init__(self, message: str, hint: str | None = None, target: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint
        self.target = target


@dataclass
class Collected:
    """What the targets name, in their order: stage indices (into `stages`) and the
    repository paths of the targets that name an output (or a path inside one).

    `stages` is empty when no target needed them to be loaded.
    """

    stages: list[Stage]
    picks: list[int | str] = field(default_factory=list)

    @property
    def chosen(self) -> list[int]:
        return [p for p in self.picks if isinstance(p, int)]

    @property
    def paths(self) -> list[str]:
        return [p for p in self.picks if isinstance(p, str)]

    def pairs(self) -> list[tuple[int, str | None]]:
        """`(stage index, path)` in target order: a stage named, or one whose output a
        path names (DVC's `StageInfo`: the stage and its filter)."""
        found: list[tuple[int, str | None]] = []
        for pick in self.picks:
            if isinstance(pick, int):
                found.append((pick, None))
            else:
                found += [(i, pick) for i in owners(self.stages, pick)]
        return found


def is_stage_syntax(target: str) -> bool:
    """Whether a target names its file: `file:stage`, a `.dvc` or `dvc.yaml` (or lock) file."""
    return ":" in target or target.endswith((DVCFILE_SUFFIX, PROJECT_FILE, LOCK_FILE))


def collect(
    repo: Repo,
    targets: Sequence[str],
    cwd: Path,
    load: Callable[[], list[Stage]],
    is_output: Callable[[str], bool],
    *,
    with_deps: bool = False,
    recursive: bool = False,
) -> Collected:
    """The stages and outputs the targets name.

    DVC-compat, target by target: with `recursive`, a directory means every stage whose
    `.dvc` file or `dvc.yaml` lies below it (`with_deps` adds nothing to those); a
    `file:stage`, `.dvc` or `dvc.yaml` target names its stages; a bare name is first a
    stage (or foreach group) of `./dvc.yaml`, then an output or a path inside one
    (`is_output`, given a repository path). With `with_deps`, a stage named so also
    brings every stage upstream of it; an output named by its path does not. A
    directory that only holds stages is no target without `recursive`.

    `load` gives every stage (pipeline stages and `.dvc` files); it is called only
    when a target needs it.
    """
    from mlvc.ops.repro import select

    loaded: list[Stage] | None = None

    def stages() -> list[Stage]:
        nonlocal loaded
        if loaded is None:
            loaded = load()
        return loaded

    def named(target: str, *, recurse: bool = False) -> list[int]:
        try:
            return select(repo, stages(), [target], cwd, recursive=recurse)
        except PipelineError as exc:
            # DVC-compat: an unknown target fails the command with exit 1.
            raise TargetError(str(exc), getattr(exc, "hint", None), target) from exc

    picks: list[int | str] = []
    here = repo.relpath(cwd / PROJECT_FILE)
    for target in targets:
        full = (cwd / target).absolute()
        if recursive and full.is_dir():
            picks += [i for i in named(target, recurse=True) if i not in picks]
            continue
        if is_stage_syntax(target):
            hits = named(target)
        else:
            rel = repo.relpath(full).removesuffix("/")
            # DVC-compat: a stage name holds no `/`.
            hits = (
                [
                    i
                    for i, s in enumerate(stages())
                    if s.dvcfile == here and target in (s.name, s.generated_from)
                ]
                if "/" not in target
                else []
            )
            if not hits:
                if not is_output(rel):
                    # DVC-compat: the `dvc.yaml` of the current directory, named relative to it.
                    raise TargetError(
                        f"`{target}` does not exist as an output or a stage name "
                        f"in `{PROJECT_FILE}`",
                        target=target,
                    )
                if rel not in picks:
                    picks.append(rel)
                continue
        if with_deps:
            hits = upstream_of(stages(), hits)
        picks += [i for i in hits if i not in picks]
    return Collected(loaded or [], picks)


def collect_workspace(
    repo: Repo,
    targets: Sequence[str],
    cwd: Path,
    *,
    with_deps: bool = False,
    recursive: bool = False,
) -> Collected:
    """`collect` over the workspace's stages (pipeline stages and `.dvc` files), all
    loaded: `stages` of the result is always every stage."""
    from mlvc.ops.repro import all_stages

    # DVC-compat: targets without `-d`/`-R` are resolved alone (see `all_stages`).
    alone = targets if targets and not (with_deps or recursive) else None
    stages = all_stages(repo, only_for=alone)
    found = collect(
        repo,
        targets,
        cwd,
        lambda: stages,
        lambda rel: bool(owners(stages, rel)),
        with_deps=with_deps,
        recursive=recursive,
    )
    return Collected(stages, found.picks)


def upstream_of(stages: list[Stage], chosen: list[int]) -> list[int]:
    """`chosen` and every stage upstream of them, in the order of `stages`."""
    from mlvc.pipeline.graph import build_graph

    upstream = build_graph(stages).upstream
    found = set(chosen)
    todo = list(chosen)
    while todo:
        for up in upstream[todo.pop()]:
            if up not in found:
                found.add(up)
                todo.append(up)
    return sorted(found)


def owners(stages: list[Stage], path: str) -> list[int]:
    """The stages with an output at repository path `path`, or holding it."""
    return [
        i
        for i, s in enumerate(stages)
        for o in s.outs
        if (p := s.repo_path(o.path)) == path or path.startswith(p + "/")
    ]
