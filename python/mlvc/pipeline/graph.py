"""The stage graph: which stage produces what another stage depends on.

Edges go from a stage to the stages producing its deps (DVC's direction). A dep
matches an output with the same path, an output directory holding it, or
outputs inside a dep directory.
"""

from __future__ import annotations

import bisect
import itertools
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field

from mlvc.exceptions import PipelineError
from mlvc.pipeline.model import Stage


class GraphError(PipelineError):
    """The stages cannot form a pipeline: a cycle, or one path output twice."""


class CycleError(GraphError):
    """Stages that depend on each other's outputs in a loop."""


class DuplicateOutputError(GraphError):
    """Two stages declare the same output."""


class OverlappingOutputError(GraphError):
    """One stage's output lies inside another's output directory."""


@dataclass
class Graph:
    """Stages (in DVC's order) and, for each, the stages its deps come from."""

    stages: list[Stage]
    upstream: dict[int, list[int]] = field(default_factory=dict)
    # repository-relative output path -> index of the stage producing it
    outputs: dict[str, int] = field(default_factory=dict)

    def downstream(self) -> dict[int, list[int]]:
        down: dict[int, list[int]] = {i: [] for i in range(len(self.stages))}
        for i, ups in self.upstream.items():
            for u in ups:
                down[u].append(i)
        return down


def _name(stage: Stage) -> str:
    return stage.addressing


def build_graph(stages: list[Stage], extra_outputs: Iterable[tuple[str, str]] = ()) -> Graph:
    """Builds the graph and checks it: duplicate and overlapping outputs, cycles.

    `extra_outputs` are `(path, owner)` of outputs tracked elsewhere (`.dvc` files):
    they take part in the duplicate/overlap checks only.
    """
    graph = Graph(stages)
    owners: dict[str, str] = {}
    for i, stage in enumerate(stages):
        for out in stage.outs:
            path = stage.repo_path(out.path)
            if path in graph.outputs:
                other = stages[graph.outputs[path]]
                raise DuplicateOutputError(
                    f"output `{path}` is specified in stages `{_name(other)}` and `{_name(stage)}`",
                    "remove it from all but one of them",
                )
            graph.outputs[path] = i
            owners[path] = _name(stage)
    for path, owner in extra_outputs:
        if path in owners:
            raise DuplicateOutputError(
                f"output `{path}` is specified in `{owners[path]}` and `{owner}`",
                "stop tracking one of them (`mlvc remove`)",
            )
        owners[path] = owner
    ordered = sorted(owners)
    for a, b in itertools.pairwise(ordered):
        # Sorted, a path is directly followed by the paths inside it (if any).
        if b.startswith(a + "/"):
            raise OverlappingOutputError(
                f"output `{b}` of `{owners[b]}` is inside output `{a}` of `{owners[a]}`",
                "outputs must be in separate directories or tracked individually",
            )
    paths = sorted(graph.outputs)
    for i, stage in enumerate(stages):
        ups: list[int] = []
        for dep in stage.deps:
            for producer in _producers(graph.outputs, paths, stage.repo_path(dep)):
                if producer not in ups:
                    ups.append(producer)
        graph.upstream[i] = ups
    _check_acyclic(graph)
    return graph


def _producers(outputs: dict[str, int], paths: list[str], dep: str) -> list[int]:
    found = []
    # the dep itself, or an output directory holding it
    node = dep
    while node and node != ".":
        if node in outputs:
            found.append(outputs[node])
        parent = posixpath.dirname(node)
        if parent == node:  # `/`: an absolute dep outside the repository
            break
        node = parent
    # outputs inside a dep directory
    prefix = dep + "/" if dep != "." else ""
    at = bisect.bisect_left(paths, prefix)
    while at < len(paths) and paths[at].startswith(prefix):
        found.append(outputs[paths[at]])
        at += 1
    return found


def _check_acyclic(graph: Graph) -> None:
    # Iterative DFS with colours; a grey node reached again closes a cycle.
    white, grey, black = 0, 1, 2
    colour = [white] * len(graph.stages)
    for start in range(len(graph.stages)):
        if colour[start] != white:
            continue
        stack: list[tuple[int, int]] = [(start, 0)]
        colour[start] = grey
        while stack:
            node, pos = stack[-1]
            ups = graph.upstream[node]
            if pos < len(ups):
                stack[-1] = (node, pos + 1)
                nxt = ups[pos]
                if colour[nxt] == grey:
                    path = [n for n, _ in stack]
                    cycle = [*path[path.index(nxt) :], nxt]
                    names = " -> ".join(f"`{_name(graph.stages[n])}`" for n in reversed(cycle))
                    raise CycleError(
                        f"the pipeline has a cycle: {names} (each uses an output of the previous)",
                        "a stage cannot depend, directly or not, on its own outputs",
                    )
                if colour[nxt] == white:
                    colour[nxt] = grey
                    stack.append((nxt, 0))
            else:
                colour[node] = black
                stack.pop()


def _postorder(
    edges: dict[int, list[int]], sources: Iterable[int], allowed: set[int] | None
) -> list[int]:
    """networkx's `dfs_postorder_nodes`: for each source in order, children before parents."""
    seen: set[int] = set()
    order: list[int] = []
    for source in sources:
        if source in seen or (allowed is not None and source not in allowed):
            continue
        seen.add(source)
        stack = [(source, iter(edges[source]))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if child not in seen and (allowed is None or child in allowed):
                    seen.add(child)
                    stack.append((child, iter(edges[child])))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def plan(
    graph: Graph,
    targets: list[int] | None,
    *,
    downstream: bool = False,
    single_item: bool = False,
    whole_pipelines: bool = False,
) -> list[int]:
    """The stages to check, in the order `dvc repro` checks them.

    DVC-compat: a frozen stage is cut off from its upstream; the order is
    networkx's DFS post-order over the selected subgraph.
    """
    n = len(graph.stages)
    if single_item:
        return list(targets if targets is not None else range(n))
    active = {i: ([] if graph.stages[i].frozen else graph.upstream[i]) for i in range(n)}
    if targets is None:
        return _postorder(active, range(n), None)
    if whole_pipelines:
        # the weakly connected components holding the targets
        undirected: dict[int, list[int]] = {i: list(active[i]) for i in range(n)}
        for i in range(n):
            for u in active[i]:
                undirected[u].append(i)
        members = set(_postorder(undirected, targets, None))
        return _postorder(active, range(n), members)
    if downstream:
        reverse: dict[int, list[int]] = {i: [] for i in range(n)}
        for i in range(n):
            for u in active[i]:
                reverse[u].append(i)
        # One walk from all targets: what each reaches, united, without
        # walking shared parts again (a thousand targets on a chain).
        members = set(_postorder(reverse, targets, None))
    else:
        members = set(_postorder(active, targets, None))
    return _postorder(active, range(n), members)
