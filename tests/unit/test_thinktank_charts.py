"""The SVG chart builders: well-formed, accessible, no inline style, and inert for hostile names."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from markupsafe import Markup

from portal.thinktank import charts, data
from portal.thinktank.data import Risk

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script>&amp;\'"'
SHARE_WORDS = charts.ShareChartText("供給シェア", "説明 <b>", "その他の国", "記載なし")
CONCENTRATION_WORDS = charts.ConcentrationChartText("集中度", "説明", "閾値 2,500", "▲ 閾値超")
HEAT_WORDS = charts.HeatMapText(
    "リスク分布",
    "説明",
    "発生可能性",
    "影響度",
    {"low": "低", "medium": "中", "high": "高", "critical": "極めて高"},
)


def parse(svg: Markup) -> ET.Element:
    assert isinstance(svg, Markup)
    return ET.fromstring(str(svg))  # noqa: S314  (our own output, the thing under test)


def texts(root: ET.Element) -> list[str]:
    return [
        "".join(element.itertext()) for element in root.iter() if element.tag in {f"{SVG}text", f"{SVG}title"}
    ]


def assert_accessible(root: ET.Element, chart_id: str, title: str, description: str) -> None:
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img" and root.get("id") == chart_id
    assert root.get("aria-labelledby") == f"{chart_id}-title {chart_id}-desc"
    assert root.find(f"{SVG}title").text == title  # type: ignore[union-attr]
    assert root.find(f"{SVG}title").get("id") == f"{chart_id}-title"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == description  # type: ignore[union-attr]
    assert all(element.get("style") is None for element in root.iter()), "inline style is refused by the CSP"
    assert not [element for element in root.iter() if element.tag in {f"{SVG}script", f"{SVG}foreignObject"}]


def dependencies(text: str) -> list[data.Dependency]:
    return data.parse_dependencies(text)


def test_share_bars_draw_a_segment_per_country_and_the_rest() -> None:
    rows = dependencies("ガリウム,精錬,中国,98\nガリウム,精錬,日本,1\n黒鉛,加工,中国,92\n")
    root = parse(charts.share_bars("shares", data.stage_shares(rows), SHARE_WORDS))

    assert_accessible(root, "shares", "供給シェア", "説明 <b>")
    segments = [r for r in root.iter(f"{SVG}rect") if "chart-segment" in (r.get("class") or "")]
    tooltips = ["".join(s.itertext()) for s in segments]
    assert tooltips == [
        "ガリウム · 精錬 · 中国: 98%",
        "ガリウム · 精錬 · 日本: 1%",
        "ガリウム · 精錬 · 記載なし: 1%",
        "黒鉛 · 加工 · 中国: 92%",
        "黒鉛 · 加工 · 記載なし: 8%",
    ]
    widths = [float(s.get("width") or 0) for s in segments[:3]]
    assert abs(widths[0] / widths[1] - 98) < 1  # proportional to the share (drawn to 0.1 px)
    # Both bars of 中国 share one colour; the legend names it.
    assert segments[0].get("fill") == segments[3].get("fill") == charts.COUNTRY_COLOURS[0]
    assert "中国" in texts(root) and "記載なし" in texts(root)


def test_countries_beyond_the_palette_share_the_others_colour() -> None:
    many = "\n".join(
        f"鉱物,採掘,国{index},{10 - index * 0.5}" for index in range(len(charts.COUNTRY_COLOURS) + 2)
    )
    root = parse(charts.share_bars("shares", data.stage_shares(dependencies(many)), SHARE_WORDS))
    fills = [r.get("fill") for r in root.iter(f"{SVG}rect") if r.get("class") == "chart-segment"]
    assert fills[: len(charts.COUNTRY_COLOURS)] == list(charts.COUNTRY_COLOURS)
    assert fills[len(charts.COUNTRY_COLOURS) :] == [charts.OTHER_COLOUR] * 2
    assert "その他の国" in texts(root)


def test_hostile_names_are_text_never_markup() -> None:
    rows = dependencies(f'"{HOSTILE}",精錬,"{HOSTILE}",60\n')
    words = charts.ShareChartText(HOSTILE, HOSTILE, HOSTILE, HOSTILE)
    svg = charts.share_bars(HOSTILE.replace(" ", ""), data.stage_shares(rows), words)
    concentration = charts.concentration_bars(
        "c",
        data.concentrations(rows),
        2500,
        charts.ConcentrationChartText(HOSTILE, HOSTILE, HOSTILE, HOSTILE),
    )
    heat = charts.heat_map("h", [Risk(HOSTILE, 3, 3)], HEAT_WORDS)

    for chart in (svg, concentration, heat):
        assert "<script" not in str(chart)
        root = parse(chart)  # still well-formed
        assert not [e for e in root.iter() if e.tag.endswith("script")]
        assert any(HOSTILE in value or value.startswith(HOSTILE[:10]) for value in texts(root))
    assert parse(svg).find(f"{SVG}title").text == HOSTILE  # type: ignore[union-attr]
    assert parse(svg).get("id") == HOSTILE.replace(" ", "")  # an attribute, escaped, round-trips exactly


def test_concentration_marks_materials_above_the_threshold_in_words_too() -> None:
    spread = "".join(
        f"黒鉛,採掘,{country},20\n" for country in ("中国", "ブラジル", "インド", "豪州", "カナダ")
    )
    rows = dependencies("ガリウム,精錬,中国,98\n" + spread)  # HHI 9604 and 2000
    root = parse(charts.concentration_bars("c", data.concentrations(rows), 2500, CONCENTRATION_WORDS))

    assert_accessible(root, "c", "集中度", "説明")
    bars = [r for r in root.iter(f"{SVG}rect") if "chart-bar" in (r.get("class") or "")]
    assert [b.get("class") for b in bars] == ["chart-bar chart-bar--above", "chart-bar"]
    assert [b.get("fill") for b in bars] == ["#a30000", "#5d6b7e"]
    values = [t for t in texts(root) if "（" in t]
    assert values[0].endswith("▲ 閾値超") and values[0].startswith("9,604（精錬 · 中国 98%）")


def test_concentration_threshold_is_configurable() -> None:
    rows = dependencies("黒鉛,採掘,中国,30\n黒鉛,採掘,ブラジル,30\n黒鉛,採掘,インド,40\n")  # HHI 3400
    low = parse(charts.concentration_bars("c", data.concentrations(rows), 2500, CONCENTRATION_WORDS))
    high = parse(charts.concentration_bars("c", data.concentrations(rows), 5000, CONCENTRATION_WORDS))
    assert any("▲" in t for t in texts(low)) and not any("▲" in t for t in texts(high))
    line = next(e for e in high.iter(f"{SVG}line") if e.get("class") == "chart-threshold")
    grid = [e for e in high.iter(f"{SVG}line") if e.get("class") == "chart-grid"]
    assert line.get("x1") == grid[2].get("x1")  # 5000 sits on the middle grid line


def test_heat_map_places_each_risk_in_its_cell() -> None:
    risks = [
        Risk("広域停電", 2, 5),
        Risk("大規模地震", 2, 5),
        Risk("変電所攻撃", 1, 4),
        Risk("クラウド障害", 4, 3),
    ]
    root = parse(charts.heat_map("h", risks, HEAT_WORDS, cell_width=150, cell_height=100))

    assert_accessible(root, "h", "リスク分布", "説明")
    cells = {
        (int(g.get("data-likelihood") or 0), int(g.get("data-impact") or 0)): g for g in root.iter(f"{SVG}g")
    }
    assert len(cells) == 25
    counts = {key: int(g.get("data-count") or 0) for key, g in cells.items()}
    assert counts[(2, 5)] == 2 and counts[(1, 4)] == 1 and counts[(4, 3)] == 1 and sum(counts.values()) == 4
    square = cells[(2, 5)].find(f"{SVG}rect")
    assert square is not None
    assert (float(square.get("x") or 0), float(square.get("y") or 0)) == (
        56 + 150,
        16,
    )  # second column, top row
    corner = cells[(5, 1)].find(f"{SVG}rect")
    assert corner is not None and (float(corner.get("x") or 0), float(corner.get("y") or 0)) == (
        56 + 600,
        16 + 400,
    )
    assert cells[(2, 5)].get("class") == "heat-cell heat-cell--high"  # 2 × 5 = 10
    assert cells[(1, 4)].get("class") == "heat-cell heat-cell--low"  # 1 × 4 = 4
    cell_text = ["".join(t.itertext()) for t in cells[(2, 5)].iter(f"{SVG}text")]
    assert cell_text[:3] == ["2", "広域停電", "大規模地震"]
    assert [cells[(5, 5)].get("class"), cells[(1, 1)].get("class")] == [
        "heat-cell heat-cell--critical",
        "heat-cell heat-cell--low",
    ]


def test_long_names_are_shortened_in_the_chart_only() -> None:
    name = "非常に長いリスク名が続いてセルに収まらない場合"
    root = parse(charts.heat_map("h", [Risk(name, 3, 3)], HEAT_WORDS))
    shown = [t for t in texts(root) if t.endswith("…")]
    assert shown and name.startswith(shown[0][:-1])
    tooltip = next(t for t in texts(root) if name in t)  # the full name stays in the cell's tooltip
    assert tooltip.endswith(name)
    assert charts.shorten("abc", 100) == "abc"
