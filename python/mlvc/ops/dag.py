"""`dag`: the pipeline graph as text, DOT or Mermaid."""

from __future__ import annotations

import posixpath
import sys
from pathlib import Path

from mlvc.ops.repro import ReproError, all_stages, select
from mlvc.pipeline.graph import Graph, build_graph
from mlvc.pipeline.model import JOIN, Stage
from mlvc.repo import Repo


def dag_edges(
    repo: Repo,
    target: str | None = None,
    *,
    outs: bool = False,
    full: bool = False,
    cwd: Path | None = None,
) -> tuple[list[str], list[tuple[str, str]]]:
    """Nodes (stages, or output paths with `outs`) and edges `(upstream, downstream)`.

    DVC-compat: stages of every `dvc.yaml` then the `.dvc` files; with a target,
    the target and what it depends on (`full`: its whole pipeline).
    """
    cwd = (cwd or Path.cwd()).absolute()
    # DVC-compat: `dvc dag` shows the templating warnings.
    stages = all_stages(repo, warn=sys.stderr.write)
    graph = build_graph(stages)
    keep = set(range(len(stages)))
    if target is not None:
        keep = set(_select(repo, stages, graph, target, cwd))
        todo = list(keep)
        down = graph.downstream()
        while todo:
            i = todo.pop()
            near = list(graph.upstream[i]) + (down[i] if full else [])
            for j in near:
                if j not in keep:
                    keep.add(j)
                    todo.append(j)
    order = sorted(keep)
    # DVC-compat: stages and outputs are named relative to the user's directory.
    where = repo.user_dir(cwd)
    if not outs:
        nodes = [stages[i].addressing_from(where) for i in order]
        links = sorted((u, i) for i in order for u in graph.upstream[i] if u in keep)
        return nodes, [
            (stages[u].addressing_from(where), stages[i].addressing_from(where)) for u, i in links
        ]
    paths, edges = _outs_graph(stages, order)
    if where == ".":
        return paths, edges
    shown = {p: posixpath.relpath(p, where) for p in paths}
    return [shown[p] for p in paths], [(shown[a], shown[b]) for a, b in edges]


def collapse_groups(
    nodes: list[str], edges: list[tuple[str, str]]
) -> tuple[list[str], list[tuple[str, str]]]:
    """`dag --collapse-foreach-matrix`: one node per foreach/matrix group.

    DVC-compat: any node whose name holds "@" (other than a `.dvc` file) is
    renamed to the part before the first "@"; edges follow their ends. DVC's
    node order here depends on Python's string hashing; mlvc keeps the other
    nodes in place and adds the groups after them, as they first appear.
    """

    def group(node: str) -> str:
        return node if node.endswith(".dvc") or JOIN not in node else node.split(JOIN, 1)[0]

    kept = [n for n in nodes if group(n) == n]
    added = [g for g in dict.fromkeys(group(n) for n in nodes) if g not in kept]
    moved = dict.fromkeys((group(a), group(b)) for a, b in edges)
    return kept + added, list(moved)


def _select(repo: Repo, stages: list[Stage], graph: Graph, target: str, cwd: Path) -> list[int]:
    """DVC-compat: a stage target, or else an output path or a path inside an output
    (the stage producing it)."""
    try:
        return select(repo, stages, [target], cwd)
    except ReproError:
        path = repo.relpath((cwd / target).absolute())
        # Outputs never nest (`build_graph` refuses it), so at most one holds the path.
        owner = next(
            (i for out, i in graph.outputs.items() if path == out or path.startswith(out + "/")),
            None,
        )
        if owner is None:
            raise
        return [owner]


def _outs_graph(stages: list[Stage], order: list[int]) -> tuple[list[str], list[tuple[str, str]]]:
    """DVC-compat: an output depends on the outputs its stage's deps name (or hold, or lie in)."""
    produced = {stages[i].repo_path(o.path): i for i in order for o in stages[i].outs}
    nodes = list(produced)
    edges: list[tuple[str, str]] = []
    for i in order:
        stage = stages[i]
        mine = [stage.repo_path(o.path) for o in stage.outs]
        for dep in stage.deps:
            path = stage.repo_path(dep)
            near = [p for p in produced if p == path or path.startswith(p + "/")]
            near += [p for p in produced if p.startswith(path + "/")]
            edges += [(src, dst) for dst in mine for src in near if src != dst]
    pos = {n: k for k, n in enumerate(nodes)}
    return nodes, sorted(dict.fromkeys(edges), key=lambda e: (pos[e[0]], pos[e[1]]))


def render_dot(nodes: list[str], edges: list[tuple[str, str]]) -> str:
    """DVC-compat: pydot's layout of networkx's graph (nodes, then edges), upstream first."""
    lines = ["strict digraph {"]
    lines += [f'"{n}";' for n in nodes]
    lines += [f'"{a}" -> "{b}";' for a, b in edges]
    return "\n".join(lines) + "\n}\n\n"


def render_mermaid(
    nodes: list[str], edges: list[tuple[str, str]], *, markdown: bool = False
) -> str:
    """DVC-compat: per connected part, its nodes then its edges, each sorted by name."""
    from mlvc.render.dag import components

    lines = ["flowchart TD"]
    ids: dict[str, str] = {}
    for part_nodes, part_edges in components(nodes, edges):
        for n in sorted(part_nodes):
            ids[n] = f"node{len(ids) + 1}"
            lines.append(f'\t{ids[n]}["{n}"]')
        lines += [f"\t{ids[a]}-->{ids[b]}" for a, b in sorted(part_edges)]
    text = "\n".join(lines)
    return f"```mermaid\n{text}\n```\n" if markdown else text + "\n"


def render_ascii(nodes: list[str], edges: list[tuple[str, str]]) -> str:
    """Boxed nodes with `*` edges going down, each connected part on its own (as DVC)."""
    from mlvc.render.dag import draw

    return draw(nodes, edges)
