"""`dag`: the pipeline graph as text, DOT or Mermaid."""

from __future__ import annotations

from pathlib import Path

from mlvc.ops.repro import ordered_stages, select
from mlvc.pipeline.graph import build_graph, plan
from mlvc.pipeline.load import load_pipelines
from mlvc.repo import Repo


def dag_edges(
    repo: Repo,
    target: str | None = None,
    *,
    outs: bool = False,
    full: bool = False,
    cwd: Path | None = None,
) -> tuple[list[str], list[tuple[str, str]]]:
    """Nodes (stage names, or output paths with `outs`) and edges `(upstream, downstream)`."""
    cwd = (cwd or Path.cwd()).absolute()
    stages = ordered_stages(load_pipelines(repo))
    graph = build_graph(stages)
    keep = set(range(len(stages)))
    if target is not None:
        (start, *_) = select(repo, stages, [target], cwd)
        keep = {start}
        todo = [start]
        down = graph.downstream()
        while todo:
            i = todo.pop()
            near = list(graph.upstream[i]) + (down[i] if full else [])
            for j in near:
                if j not in keep:
                    keep.add(j)
                    todo.append(j)
    # upstream before downstream
    order = [i for i in plan(graph, None) if i in keep]
    if not outs:
        nodes = [stages[i].addressing for i in order]
        edges = [
            (stages[u].addressing, stages[i].addressing)
            for i in order
            for u in graph.upstream[i]
            if u in keep
        ]
        return nodes, edges
    nodes = []
    edges = []
    for i in order:
        stage = stages[i]
        mine = [stage.repo_path(o.path) for o in stage.outs]
        nodes.extend(mine)
        for u in graph.upstream[i]:
            if u not in keep:
                continue
            for src in (stages[u].repo_path(o.path) for o in stages[u].outs):
                for dst in mine:
                    edges.append((src, dst))
    return nodes, list(dict.fromkeys(edges))


def render_dot(nodes: list[str], edges: list[tuple[str, str]]) -> str:
    lines = ["strict digraph  {"]
    lines += [f'"{n}";' for n in nodes]
    lines += [f'"{a}" -> "{b}";' for a, b in edges]
    return "\n".join(lines) + "\n}\n"


def render_mermaid(
    nodes: list[str], edges: list[tuple[str, str]], *, markdown: bool = False
) -> str:
    ids = {n: f"node{k}" for k, n in enumerate(nodes, 1)}
    lines = ["flowchart TD"]
    lines += [f'\t{ids[n]}["{n}"]' for n in nodes]
    lines += [f"\t{ids[a]}-->{ids[b]}" for a, b in edges]
    text = "\n".join(lines) + "\n"
    return f"```mermaid\n{text}```\n" if markdown else text


def render_ascii(nodes: list[str], edges: list[tuple[str, str]]) -> str:
    """Each node boxed, in dependency order, with the nodes it feeds listed under it."""
    feeds: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        feeds[a].append(b)
    out = []
    for n in nodes:
        bar = "+" + "-" * (len(n) + 2) + "+"
        out += [bar, f"| {n} |", bar]
        for b in feeds[n]:
            out.append(f"  └──> {b}")
    return "\n".join(out) + ("\n" if out else "")
