"""A graph drawn in ASCII the way `dvc dag` draws it: boxed names, `*` edges going down.

The layout is layered (Sugiyama style): each node goes to the rank of its longest
path from a source, edges that skip ranks get a dummy point per skipped rank,
nodes are ordered within ranks by the barycenter of their neighbours (keeping the
order with the fewest crossings), then x positions are pulled towards the
neighbours' while boxes keep their distance. Each connected part of the graph is
drawn on its own, as DVC does.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

BOX_HEIGHT = 3  # top border, text, bottom border
RANK_GAP = 3  # lines between the boxes of two ranks
ORDER_SWEEPS = 12
PLACE_SWEEPS = 8
DUMMY_WEIGHT = 4.0  # keeps long edges straight


@dataclass
class _Vertex:
    """A node of the drawn graph, or a dummy point on a long edge, with its place."""

    label: str | None  # None for a dummy point on a long edge
    rank: int
    width: float
    x: float = 0.0
    up: list[int] = field(default_factory=list)
    down: list[int] = field(default_factory=list)

    @property
    def weight(self) -> float:
        return DUMMY_WEIGHT if self.label is None else 1.0


def draw(nodes: list[str], edges: list[tuple[str, str]]) -> str:
    """The graph as text; `edges` are `(upstream, downstream)`, drawn top to bottom."""
    parts = [_draw_part(ns, es) for ns, es in components(nodes, edges)]
    return "".join(p + "\n" for p in parts)


def components(
    nodes: list[str], edges: list[tuple[str, str]]
) -> list[tuple[list[str], list[tuple[str, str]]]]:
    """The connected parts of the graph, in the order of their first node."""
    parent = {n: n for n in nodes}

    def find(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for a, b in edges:
        parent[find(a)] = find(b)
    groups: dict[str, list[str]] = {}
    for n in nodes:
        groups.setdefault(find(n), []).append(n)
    by_root: dict[str, list[tuple[str, str]]] = {}
    for a, b in edges:
        by_root.setdefault(find(a), []).append((a, b))
    return [(ns, by_root.get(root, [])) for root, ns in groups.items()]


def _ranks(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    preds: dict[str, list[str]] = {n: [] for n in nodes}
    succs: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        preds[b].append(a)
        succs[a].append(b)
    missing = {n: len(preds[n]) for n in nodes}
    todo = [n for n in nodes if not missing[n]]
    rank = dict.fromkeys(nodes, 0)
    while todo:
        n = todo.pop()
        for s in succs[n]:
            rank[s] = max(rank[s], rank[n] + 1)
            missing[s] -= 1
            if not missing[s]:
                todo.append(s)
    return rank


def _layers(
    nodes: list[str], edges: list[tuple[str, str]]
) -> tuple[list[_Vertex], list[list[int]], list[list[int]]]:
    """Vertices (real then dummy), ids per rank, and each edge as a chain of ids."""
    rank = _ranks(nodes, edges)
    verts = [_Vertex(n, rank[n], len(n) + 4.0) for n in nodes]
    index = {n: i for i, n in enumerate(nodes)}
    chains: list[list[int]] = []
    for a, b in dict.fromkeys(edges):
        chain = [index[a]]
        for r in range(rank[a] + 1, rank[b]):
            verts.append(_Vertex(None, r, 1.0))
            chain.append(len(verts) - 1)
        chain.append(index[b])
        for u, v in itertools.pairwise(chain):
            verts[u].down.append(v)
            verts[v].up.append(u)
        chains.append(chain)
    layers: list[list[int]] = [[] for _ in range(max(rank.values(), default=0) + 1)]
    for i, vert in enumerate(verts):
        layers[vert.rank].append(i)
    return verts, layers, chains


def _crossings(verts: list[_Vertex], layers: list[list[int]]) -> int:
    total = 0
    for upper, lower in itertools.pairwise(layers):
        pos = {v: k for k, v in enumerate(lower)}
        # Edges sorted by their upper end; crossings are inversions of the lower ends.
        ends = [pos[d] for u in upper for d in sorted(verts[u].down, key=pos.__getitem__)]
        total += _inversions(ends)
    return total


def _inversions(seq: list[int]) -> int:
    if len(seq) < 2:
        return 0
    mid = len(seq) // 2
    left, right = sorted(seq[:mid]), sorted(seq[mid:])
    count = _inversions(seq[:mid]) + _inversions(seq[mid:])
    j = 0
    for x in left:
        while j < len(right) and right[j] < x:
            j += 1
        count += j
    return count


def _order(verts: list[_Vertex], layers: list[list[int]]) -> list[list[int]]:
    def sweep(down: bool) -> None:
        seq = range(1, len(layers)) if down else range(len(layers) - 2, -1, -1)
        for r in seq:
            ref = layers[r - 1] if down else layers[r + 1]
            pos = {v: k for k, v in enumerate(ref)}
            keys = {}
            for k, v in enumerate(layers[r]):
                near = verts[v].up if down else verts[v].down
                keys[v] = sum(pos[n] for n in near) / len(near) if near else float(k)
            layers[r].sort(key=keys.__getitem__)

    best = [list(layer) for layer in layers]
    best_count = _crossings(verts, layers)
    for i in range(ORDER_SWEEPS):
        if best_count == 0:
            break
        sweep(i % 2 == 0)
        count = _crossings(verts, layers)
        if count < best_count:
            best, best_count = [list(layer) for layer in layers], count
    return best


def _fit(targets: list[float], weights: list[float], gaps: list[float]) -> list[float]:
    """Positions closest (weighted least squares) to `targets`, keeping `gaps` between them.

    With offsets taken out, the constraint is that positions do not decrease:
    isotonic regression by pooling adjacent violators.
    """
    offsets = [0.0]
    for g in gaps:
        offsets.append(offsets[-1] + g)
    blocks: list[list[float]] = []  # [weight sum, weighted sum, count]
    for t, w, off in zip(targets, weights, offsets, strict=True):
        blocks.append([w, w * (t - off), 1])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][0] > blocks[-1][1] / blocks[-1][0]:
            w2, s2, c2 = blocks.pop()
            blocks[-1][0] += w2
            blocks[-1][1] += s2
            blocks[-1][2] += c2
    out: list[float] = []
    for w, s, c in blocks:
        out.extend([s / w] * int(c))
    return [y + off for y, off in zip(out, offsets, strict=True)]


def _place(verts: list[_Vertex], layers: list[list[int]], space: float) -> None:
    def gaps(layer: list[int]) -> list[float]:
        return [(verts[a].width + verts[b].width) / 2 + space for a, b in itertools.pairwise(layer)]

    for layer in layers:
        x = 0.0
        for k, v in enumerate(layer):
            if k:
                x += (verts[layer[k - 1]].width + verts[v].width) / 2 + space
            verts[v].x = x

    def sweep(ranks: range, use_up: bool, use_down: bool) -> None:
        for r in ranks:
            layer = layers[r]
            targets = []
            for v in layer:
                near = (verts[v].up if use_up else []) + (verts[v].down if use_down else [])
                targets.append(sum(verts[n].x for n in near) / len(near) if near else verts[v].x)
            weights = [verts[v].weight for v in layer]
            for v, x in zip(layer, _fit(targets, weights, gaps(layer)), strict=True):
                verts[v].x = x

    n = len(layers)
    for _ in range(PLACE_SWEEPS):
        sweep(range(1, n), True, False)
        sweep(range(n - 2, -1, -1), False, True)
    sweep(range(n), True, True)


def _line(canvas: list[list[str]], x0: int, y0: int, x1: int, y1: int) -> None:
    """A straight run of `*` between two points, one mark per step of the longer axis."""
    dx, dy = x1 - x0, y1 - y0
    steps = max(abs(dx), abs(dy))
    for k in range(steps + 1):
        t = k / steps if steps else 0.0
        x = x0 + math.floor(dx * t + 0.5)
        y = y0 + math.floor(dy * t + 0.5)
        canvas[y][x] = "*"


def _draw_part(nodes: list[str], edges: list[tuple[str, str]]) -> str:
    verts, layers, chains = _layers(nodes, edges)
    layers = _order(verts, layers)
    space = min(len(n) + 4 for n in nodes)  # DVC-compat: boxes kept a narrowest box apart
    _place(verts, layers, space)
    left = min(v.x - v.width / 2 for v in verts)
    lefts = [round(v.x - v.width / 2 - left) for v in verts]
    width = max(lf + int(v.width) for lf, v in zip(lefts, verts, strict=True))
    step = BOX_HEIGHT + RANK_GAP
    height = (len(layers) - 1) * step + BOX_HEIGHT
    canvas = [[" "] * (width + 1) for _ in range(height)]

    def centre(i: int) -> int:
        return lefts[i] + int(verts[i].width) // 2

    for chain in chains:
        points: list[tuple[int, int]] = []
        for i in chain:
            top = verts[i].rank * step
            if verts[i].label is None:
                points += [(centre(i), top), (centre(i), top + BOX_HEIGHT - 1)]
            elif i == chain[0]:
                points.append((centre(i), top + BOX_HEIGHT - 1))
            else:
                points.append((centre(i), top))
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            _line(canvas, x0, y0, x1, y1)
    for i, v in enumerate(verts):
        if v.label is None:
            continue
        x, y, w = lefts[i], v.rank * step, int(v.width)
        border = "+" + "-" * (w - 2) + "+"
        canvas[y][x : x + w] = border
        canvas[y + 1][x : x + w] = f"| {v.label} |"
        canvas[y + 2][x : x + w] = border
    return "\n".join("".join(row).rstrip() for row in canvas)
