"""Charts of the risk register, drawn on the server as SVG: pure functions from data to markup.

The heat map is the think tank's (:func:`portal.thinktank.charts.heat_map`); here are the dependency graph
of the infrastructures and a risk's trend over its reviews. Like every chart of the portal each is an
``<svg role="img">`` with ``<title>`` and ``<desc>``, no script and no ``style=`` attribute; every text goes
through :meth:`Markup.format` (escaped). The pages show a data table beside each chart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from portal.thinktank.charts import _join, _line, _rect, _svg, _text, shorten, text_width

NODE_FILL = "#e8f0fb"
NODE_STROKE = "#0b5fa5"
EDGE_COLOUR = "#3d4b5c"
INHERENT_COLOUR = "#b23a00"
RESIDUAL_COLOUR = "#0b5fa5"


# --- dependency graph -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphText:
    title: str
    description: str
    #: Label of each infrastructure, by code.
    labels: dict[str, str]
    #: "risks" after a count in an edge's tooltip.
    risks: str


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    #: How many of the reader's risks describe this dependency.
    count: int


def count_edges(edge_lists: Sequence[Sequence[tuple[str, str]]]) -> list[Edge]:
    """Edges with the number of risks describing each (a risk counts once per edge), in a fixed order."""
    counts: dict[tuple[str, str], int] = {}
    for edges in edge_lists:
        for edge in dict.fromkeys(edges):
            counts[edge] = counts.get(edge, 0) + 1
    return [Edge(source, target, count) for (source, target), count in sorted(counts.items())]


def _clip(x1: float, y1: float, x2: float, y2: float, half_w: float, half_h: float) -> tuple[float, float]:
    """Where the segment from the centre (x1, y1) towards (x2, y2) leaves a box of that half size."""
    dx, dy = x2 - x1, y2 - y1
    if dx == 0 and dy == 0:
        return x1, y1
    scale = min(half_w / abs(dx) if dx else math.inf, half_h / abs(dy) if dy else math.inf)
    return x1 + dx * scale, y1 + dy * scale


def layers(nodes: Sequence[str], edges: Sequence[Edge]) -> dict[str, int]:
    """A layer per node: 0 for those that depend on nothing drawn, otherwise one more than the deepest
    infrastructure it depends on. Edges that would close a cycle (found depth-first in the given order of
    nodes and edges, so the result is deterministic) are left out of the layering only."""
    outgoing: dict[str, list[str]] = {node: [] for node in nodes}
    for edge in edges:
        if edge.source in outgoing and edge.target in outgoing:
            outgoing[edge.source].append(edge.target)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    kept: list[tuple[str, str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        for target in outgoing[node]:
            if state.get(target) == 1:
                continue  # a back edge: it would close a cycle
            kept.append((node, target))
            if target not in state:
                visit(target)
        state[node] = 2

    for node in nodes:
        if node not in state:
            visit(node)
    depth = dict.fromkeys(nodes, 0)
    for _round in range(len(nodes)):
        changed = False
        for source, target in kept:
            if depth[target] < depth[source] + 1:
                depth[target] = depth[source] + 1
                changed = True
        if not changed:
            break
    return depth


def layered_layout(
    nodes: Sequence[str], edges: Sequence[Edge], column: float, row: float, margin: float
) -> tuple[dict[str, tuple[float, float]], float, float]:
    """Nodes in columns by layer (left: what others depend on), in the given order within a column; returns
    the centres and the drawing's width and height."""
    depth = layers(nodes, edges)
    columns: dict[int, list[str]] = {}
    for node in nodes:
        columns.setdefault(depth[node], []).append(node)
    tallest = max((len(members) for members in columns.values()), default=1)
    # Every other column sits half a row lower, so that an arrow skipping a column passes between its
    # boxes rather than through one.
    height = margin * 2 + row * (tallest - 1) + row / 2
    positions: dict[str, tuple[float, float]] = {}
    for index, layer in enumerate(sorted(columns)):
        members = columns[layer]
        top = (height - row / 2 - row * (len(members) - 1)) / 2 + (row / 2 if index % 2 else 0)
        for place, node in enumerate(members):
            positions[node] = (margin + index * column, top + place * row)
    width = margin * 2 + column * (len(columns) - 1)
    return positions, width, height


def dependency_graph(chart_id: str, nodes: Sequence[str], edges: Sequence[Edge], words: GraphText) -> Markup:
    """Infrastructures as boxes in layers (left: those others depend on), an arrow for each dependency
    (from an infrastructure to one that depends on it), its width and the number on it giving how many
    risks describe it."""
    node_w, node_h = 132.0, 36.0
    positions, width, height = layered_layout(nodes, edges, column=220, row=90, margin=node_w / 2 + 12)
    pairs = {(edge.source, edge.target) for edge in edges}
    parts: list[Markup] = [
        Markup(
            '<defs><marker id="{id}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
            'markerHeight="8" orient="auto-start-reverse">'
            '<path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker></defs>'
        ).format(id=chart_id, c=EDGE_COLOUR)
    ]
    for edge in edges:
        if edge.source not in positions or edge.target not in positions:
            continue
        (x1, y1), (x2, y2) = positions[edge.source], positions[edge.target]
        # Two-way dependencies are drawn as two parallel arrows.
        offset = 7.0 if (edge.target, edge.source) in pairs else 0.0
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        nx, ny = -(y2 - y1) / length * offset, (x2 - x1) / length * offset
        sx, sy = _clip(x1 + nx, y1 + ny, x2 + nx, y2 + ny, node_w / 2 + 2, node_h / 2 + 2)
        ex, ey = _clip(x2 + nx, y2 + ny, x1 + nx, y1 + ny, node_w / 2 + 4, node_h / 2 + 4)
        # The count sits nearer the arrow's start, where arrows into one box have not yet converged.
        mx, my = sx + (ex - sx) * 0.35, sy + (ey - sy) * 0.35
        tip = f"{words.labels.get(edge.source, edge.source)} → {words.labels.get(edge.target, edge.target)}: "
        tip += f"{edge.count} {words.risks}"
        parts.append(
            Markup(
                '<g class="graph-edge" data-source="{s}" data-target="{t}" data-count="{n}">'
                "<title>{tip}</title>"
                '<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{c}" '
                'stroke-width="{w:.1f}" marker-end="url(#{id}-arrow)"/>'
                '<circle cx="{mx:.1f}" cy="{my:.1f}" r="10" fill="#ffffff" stroke="{c}"/>'
                '<text x="{mx:.1f}" y="{ty:.1f}" text-anchor="middle" class="graph-count">{n}</text></g>'
            ).format(
                s=edge.source,
                t=edge.target,
                n=edge.count,
                tip=tip,
                x1=sx,
                y1=sy,
                x2=ex,
                y2=ey,
                c=EDGE_COLOUR,
                w=1.5 + min(edge.count, 5) * 0.7,
                id=chart_id,
                mx=mx,
                my=my,
                ty=my + 4,
            )
        )
    for node in nodes:
        x, y = positions[node]
        label = words.labels.get(node, node)
        parts.append(Markup('<g class="graph-node" data-node="{}">').format(node))
        parts.append(_rect(x - node_w / 2, y - node_h / 2, node_w, node_h, NODE_FILL, "graph-box", label))
        parts.append(_text(x, y + 5, shorten(label, node_w - 12), "graph-label", "middle"))
        parts.append(Markup("</g>"))
    return _svg(chart_id, words.title, words.description, width, height, _join(parts))


# --- a risk's trend over its reviews -----------------------------------------------------------------


@dataclass(frozen=True)
class TrendPoint:
    #: The date of the review (or of the risk's entry in the register), as the reader reads dates.
    label: str
    inherent: int
    residual: int


@dataclass(frozen=True)
class TrendText:
    title: str
    description: str
    inherent: str
    residual: str
    score: str


def trend_chart(chart_id: str, points: Sequence[TrendPoint], words: TrendText, width: float = 640) -> Markup:
    """Scores (0–25) over the risk's history: the inherent score as a solid line with circles, the residual
    score as a dashed line with squares (told apart by shape and dash, not colour alone)."""
    left, right, top, bottom = 56.0, 48.0, 40.0, 48.0
    height = 300.0
    plot_w, plot_h = width - left - right, height - top - bottom
    parts: list[Markup] = []
    for value in (0, 5, 10, 15, 20, 25):
        y = top + plot_h * (1 - value / 25)
        parts.append(_line(left, y, left + plot_w, y, "chart-grid"))
        parts.append(_text(left - 8, y + 4, str(value), "chart-axis", "end"))
    step = plot_w / max(len(points) - 1, 1)

    def x_of(index: int) -> float:
        return left + (index * step if len(points) > 1 else plot_w / 2)

    def y_of(score: int) -> float:
        return top + plot_h * (1 - score / 25)

    for series, colour, dash, square in (
        ("inherent", INHERENT_COLOUR, "", False),
        ("residual", RESIDUAL_COLOUR, "6 4", True),
    ):
        coordinates = [(x_of(i), y_of(getattr(p, series))) for i, p in enumerate(points)]
        if len(coordinates) > 1:
            parts.append(
                Markup(
                    '<polyline class="trend-line trend-line--{s}" points="{p}" fill="none" stroke="{c}" '
                    'stroke-width="2.5"{dash}/>'
                ).format(
                    s=series,
                    p=" ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates),
                    c=colour,
                    dash=Markup(' stroke-dasharray="{}"').format(dash) if dash else "",
                )
            )
        name = words.inherent if series == "inherent" else words.residual
        for (x, y), point in zip(coordinates, points, strict=True):
            value = getattr(point, series)
            tip = Markup("<title>{}</title>").format(f"{point.label} {name} {words.score} {value}")
            if square:
                parts.append(
                    Markup(
                        '<rect class="trend-point" x="{x:.1f}" y="{y:.1f}" width="9" height="9" '
                        'fill="{c}">{tip}</rect>'
                    ).format(x=x - 4.5, y=y - 4.5, c=colour, tip=tip)
                )
            else:
                parts.append(
                    Markup(
                        '<circle class="trend-point" cx="{x:.1f}" cy="{y:.1f}" r="5" '
                        'fill="{c}">{tip}</circle>'
                    ).format(x=x, y=y, c=colour, tip=tip)
                )
    for index, point in enumerate(points):
        if len(points) <= 8 or index % math.ceil(len(points) / 8) == 0 or index == len(points) - 1:
            parts.append(_text(x_of(index), top + plot_h + 20, point.label, "chart-axis", "middle"))
    legend_x = left
    for name, colour, square in (
        (words.inherent, INHERENT_COLOUR, False),
        (words.residual, RESIDUAL_COLOUR, True),
    ):
        if square:
            parts.append(_rect(legend_x, 14, 10, 10, colour, "chart-swatch"))
        else:
            parts.append(Markup('<circle cx="{:.1f}" cy="19" r="5" fill="{}"/>').format(legend_x + 5, colour))
        parts.append(_text(legend_x + 16, 24, name, "chart-legend"))
        legend_x += 16 + text_width(name) + 24
    return _svg(chart_id, words.title, words.description, width, height, _join(parts))
