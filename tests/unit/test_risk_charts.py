"""The risk register's charts: pure functions from data to SVG markup."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from portal.risks import charts
from portal.risks.service import RiskRefused, parse_dependencies

WORDS = charts.GraphText(
    title="依存関係",
    description="説明",
    labels={"power": "電力", "telecom": "通信", "payments": "決済・金融", "water": "水道"},
    risks="件",
)
TREND = charts.TrendText("推移", "説明", "固有スコア", "残余スコア", "スコア")
SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: object) -> ET.Element:
    return ET.fromstring(str(svg))  # noqa: S314  (our own output, the thing under test)


def test_edges_are_counted_once_per_risk_and_sorted() -> None:
    edges = charts.count_edges(
        [
            [("power", "telecom"), ("telecom", "payments"), ("power", "telecom")],
            [("power", "telecom")],
            [],
        ]
    )
    assert edges == [charts.Edge("power", "telecom", 2), charts.Edge("telecom", "payments", 1)]


def test_layers_put_what_others_depend_on_first_and_ignore_cycles_for_layering() -> None:
    nodes = ["power", "telecom", "payments", "fuel", "logistics"]
    edges = [
        charts.Edge("power", "telecom", 1),
        charts.Edge("telecom", "payments", 1),
        charts.Edge("fuel", "power", 1),
        charts.Edge("telecom", "logistics", 1),
        charts.Edge("logistics", "fuel", 1),  # closes logistics → fuel → power → telecom → logistics
    ]
    depth = charts.layers(nodes, edges)
    assert depth == {"power": 0, "telecom": 1, "payments": 2, "logistics": 2, "fuel": 3}
    assert depth == charts.layers(nodes, edges)  # deterministic
    positions, width, height = charts.layered_layout(nodes, edges, column=200, row=70, margin=80)
    assert positions["power"][0] < positions["telecom"][0] < positions["payments"][0] < positions["fuel"][0]
    assert positions["payments"][0] == positions["logistics"][0]
    assert positions["payments"][1] != positions["logistics"][1]
    assert (width, height) == (80 * 2 + 200 * 3, 80 * 2 + 70 + 35)
    assert positions["telecom"][1] - positions["power"][1] == 35  # odd columns half a row lower


def test_dependency_graph_has_title_desc_role_arrows_and_counts() -> None:
    edges = [charts.Edge("power", "telecom", 3), charts.Edge("telecom", "payments", 1)]
    svg = str(charts.dependency_graph("g", ["power", "telecom", "payments"], edges, WORDS))
    root = parse(svg)
    assert root.get("role") == "img" and root.get("aria-labelledby") == "g-title g-desc"
    assert root.find(f"{SVG}title").text == "依存関係"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == "説明"  # type: ignore[union-attr]
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "graph-edge"]
    assert [(g.get("data-source"), g.get("data-target"), g.get("data-count")) for g in groups] == [
        ("power", "telecom", "3"),
        ("telecom", "payments", "1"),
    ]
    assert all(g.find(f"{SVG}line").get("marker-end") == "url(#g-arrow)" for g in groups)  # type: ignore[union-attr]
    nodes = [g.get("data-node") for g in root.iter(f"{SVG}g") if g.get("class") == "graph-node"]
    assert nodes == ["power", "telecom", "payments"]
    assert "style=" not in svg and "<script" not in svg


def test_two_way_dependencies_are_drawn_apart() -> None:
    edges = [charts.Edge("power", "water", 1), charts.Edge("water", "power", 1)]
    root = parse(charts.dependency_graph("g", ["power", "water"], edges, WORDS))
    lines = [line for line in root.iter(f"{SVG}line")]
    assert len(lines) == 2
    assert lines[0].get("x1") != lines[1].get("x2") or lines[0].get("y1") != lines[1].get("y2")


def test_names_in_the_charts_are_escaped() -> None:
    words = charts.GraphText("<script>t</script>", "d", {"power": '<img src=x onerror="1">'}, "件")
    svg = str(charts.dependency_graph("g", ["power", "telecom"], [charts.Edge("power", "telecom", 1)], words))
    assert "<script>" not in svg and "<img" not in svg
    trend = str(charts.trend_chart("t", [charts.TrendPoint("<b>x</b>", 10, 5)], TREND))
    assert "<b>" not in trend
    parse(svg)
    parse(trend)


def test_trend_draws_both_series_with_a_point_per_review() -> None:
    points = [
        charts.TrendPoint("2025/1/1", 20, 15),
        charts.TrendPoint("2025/7/1", 12, 9),
        charts.TrendPoint("今日", 12, 4),
    ]
    svg = str(charts.trend_chart("t", points, TREND))
    root = parse(svg)
    assert root.get("role") == "img" and root.find(f"{SVG}title").text == "推移"  # type: ignore[union-attr]
    lines = {p.get("class"): p.get("points") for p in root.iter(f"{SVG}polyline")}
    assert set(lines) == {"trend-line trend-line--inherent", "trend-line trend-line--residual"}
    # 0 is at the bottom (y = 252), 25 at the top (y = 40): scores map linearly.
    inherent = [
        float(pair.split(",")[1]) for pair in (lines["trend-line trend-line--inherent"] or "").split()
    ]
    assert inherent == [round(40 + 212 * (1 - s / 25), 1) for s in (20, 12, 12)]
    residual_marks = [e for e in root.iter(f"{SVG}rect") if e.get("class") == "trend-point"]
    assert len(residual_marks) == 3  # squares for the residual score, circles for the inherent
    assert len([e for e in root.iter(f"{SVG}circle") if e.get("class") == "trend-point"]) == 3
    assert re.search(r"stroke-dasharray", svg)


def test_a_single_point_trend_has_no_line() -> None:
    root = parse(charts.trend_chart("t", [charts.TrendPoint("今日", 9, 4)], TREND))
    assert list(root.iter(f"{SVG}polyline")) == []


def test_dependencies_are_parsed_from_the_controlled_list() -> None:
    assert parse_dependencies("power>telecom, telecom>payments power>telecom") == [
        ("power", "telecom"),
        ("telecom", "payments"),
    ]
    for bad in ("power>power", "power>moon", "power", "power>"):
        try:
            parse_dependencies(bad)
        except RiskRefused as refused:
            assert refused.code == "BAD_DEPENDENCY"
        else:
            raise AssertionError(bad)
