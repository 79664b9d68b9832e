"""Charts drawn on the server as SVG: pure functions from data (and the words to show) to markup.

Every chart is an ``<svg role="img" aria-labelledby=...>`` with a ``<title>`` and a ``<desc>``, needs no
script, and carries no ``style=`` attribute (the CSP forbids inline style): colours are presentation
attributes and classes styled by ``static/css/portal.css``. Pages show a data table beside each chart.

Markup is built only through :meth:`Markup.format`, which escapes every argument: names typed by users
(materials, countries, risks) can never become markup. Only the templates below are literal markup.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from portal.thinktank.data import RISK_BANDS, Concentration, Risk, StageShares, risk_band

#: Colour-blind-safe palette (Okabe–Ito, darkened where white text sits on it), largest supplier first.
COUNTRY_COLOURS = ("#b23a00", "#0b5fa5", "#00795c", "#8a5a00", "#6f3f8f", "#a2356b", "#3c6e71", "#5b5b5b")
#: Listed countries beyond the palette (each still its own segment, named in its tooltip and the table).
OTHER_COLOUR = "#8d96a0"
#: The rest of a stage's supply that no listed country accounts for.
REST_COLOUR = "#e3e6ea"
#: Fills of the risk bands (low → critical) and the text colour readable on each (4.5:1 or more).
BAND_FILLS = {"low": "#d7efe0", "medium": "#fff0b3", "high": "#ffc48a", "critical": "#c0282d"}
BAND_TEXT = {"low": "#0f3d24", "medium": "#4d3800", "high": "#5c2600", "critical": "#ffffff"}

FONT_SIZE = 13


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """An estimate of drawn width: wide (CJK) characters take a full em, others about 0.6."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.6 for ch in text)


def shorten(text: str, width: float, size: float = FONT_SIZE) -> str:
    """``text`` cut with an ellipsis to fit ``width`` (the full text stays in the table and tooltips)."""
    if text_width(text, size) <= width:
        return text
    kept = ""
    for ch in text:
        if text_width(kept + ch + "…", size) > width:
            break
        kept += ch
    return kept + "…"


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:g}"


def _svg(chart_id: str, title: str, description: str, width: float, height: float, body: Markup) -> Markup:
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{id}" role="img" '
        'aria-labelledby="{id}-title {id}-desc" viewBox="0 0 {w:.0f} {h:.0f}" '
        'width="{w:.0f}" height="{h:.0f}" font-size="{size}">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>'
    ).format(id=chart_id, w=width, h=height, size=FONT_SIZE, title=title, desc=description, body=body)


def _text(
    x: float, y: float, content: str, css_class: str = "", anchor: str = "start", fill: str = ""
) -> Markup:
    return Markup('<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{cls}{fill}>{content}</text>').format(
        x=x,
        y=y,
        anchor=anchor,
        cls=Markup(' class="{}"').format(css_class) if css_class else "",
        fill=Markup(' fill="{}"').format(fill) if fill else "",
        content=content,
    )


def _rect(
    x: float, y: float, width: float, height: float, fill: str, css_class: str = "", tip: str = ""
) -> Markup:
    return Markup(
        '<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}"{cls}>{tip}</rect>'
    ).format(
        x=x,
        y=y,
        w=max(width, 0.0),
        h=height,
        fill=fill,
        cls=Markup(' class="{}"').format(css_class) if css_class else "",
        tip=Markup("<title>{}</title>").format(tip) if tip else "",
    )


def _line(x1: float, y1: float, x2: float, y2: float, css_class: str) -> Markup:
    return Markup('<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" class="{}"/>').format(
        x1, y1, x2, y2, css_class
    )


def _join(parts: Sequence[Markup]) -> Markup:
    return Markup("").join(parts)


# --- share by country, per material and stage ---------------------------------------------------------


@dataclass(frozen=True)
class ShareChartText:
    title: str
    description: str
    #: Legend entry for listed countries beyond the palette's colours.
    others: str
    #: Legend entry for the part of a stage not attributed to a listed country.
    rest: str


def country_colours(bars: Sequence[StageShares]) -> dict[str, str]:
    """The countries with the largest total share get the palette's colours; the others draw as the rest."""
    totals: dict[str, float] = {}
    for bar in bars:
        for country, share in bar.shares:
            totals[country] = totals.get(country, 0.0) + share
    ranked = sorted(totals, key=lambda country: (-totals[country], country))
    return dict(zip(ranked, COUNTRY_COLOURS, strict=False))


def _legend(entries: Sequence[tuple[str, str]], width: float, y: float = 20.0) -> tuple[list[Markup], float]:
    """Swatches with their names, wrapping onto new lines; returns the parts and the last line's y."""
    parts: list[Markup] = []
    x = 12.0
    for name, colour in entries:
        item = 20 + text_width(name) + 20
        if x + item > width - 12 and x > 12:
            x, y = 12.0, y + 22
        parts.append(_rect(x, y - 11, 14, 14, colour, "chart-swatch"))
        parts.append(_text(x + 20, y + 1, name, "chart-legend"))
        x += item
    return parts, y


def _segment_label(x: float, y: float, segment: float, country: str, share: float) -> Markup | None:
    """The country and share inside its segment, or the share alone, or nothing when it does not fit."""
    for label in (f"{country} {share:g}%", f"{share:g}%"):
        if text_width(label, 12) + 8 <= segment:
            return _text(x + 4, y, label, "chart-in-bar", fill="#ffffff")
    return None


def share_bars(
    chart_id: str, bars: Sequence[StageShares], words: ShareChartText, width: float = 960
) -> Markup:
    """Horizontal 100% stacked bars: one per material and stage, a segment per country, largest first."""
    colours = country_colours(bars)
    row, bar_height, gap = 34.0, 24.0, 14.0
    stage_width = min(180.0, max([text_width(b.stage) for b in bars] + [40.0]) + 16)
    left, right = 12.0 + stage_width, 16.0
    plot = width - left - right
    listed = {country for bar in bars for country, _share in bar.shares}
    extra = [(words.others, OTHER_COLOUR)] if listed - set(colours) else []
    parts, legend_bottom = _legend([*colours.items(), *extra, (words.rest, REST_COLOUR)], width)
    top = legend_bottom + 24
    materials = list(dict.fromkeys(bar.material for bar in bars))
    height = top + 26 + len(materials) * (gap + 18) + len(bars) * row + 8
    for tick in (0, 25, 50, 75, 100):  # grid lines
        grid_x = left + plot * tick / 100
        parts.append(_line(grid_x, top + 18, grid_x, height - 8, "chart-grid"))
        parts.append(_text(grid_x, top + 10, f"{tick}%", "chart-axis", "middle"))
    y = top + 26
    for material in materials:
        y += gap
        parts.append(_text(12, y + 4, material, "chart-group"))
        y += 18
        for bar in (b for b in bars if b.material == material):
            middle = y + bar_height / 2 + 4.5
            parts.append(_text(left - 8, middle, shorten(bar.stage, stage_width - 12), "chart-label", "end"))
            x = left
            for country, share in bar.shares:
                segment = plot * share / 100
                tip = f"{material} · {bar.stage} · {country}: {share:g}%"
                parts.append(
                    _rect(x, y, segment, bar_height, colours.get(country, OTHER_COLOUR), "chart-segment", tip)
                )
                label = _segment_label(x, middle, segment, country, share)
                if label is not None:
                    parts.append(label)
                x += segment
            rest = 100 - bar.reported
            if rest > 0.05:
                tip = f"{material} · {bar.stage} · {words.rest}: {rest:g}%"
                parts.append(
                    _rect(x, y, plot * rest / 100, bar_height, REST_COLOUR, "chart-segment chart-rest", tip)
                )
            y += row
    return _svg(chart_id, words.title, words.description, width, height, _join(parts))


# --- concentration (HHI) per material -----------------------------------------------------------------


@dataclass(frozen=True)
class ConcentrationChartText:
    title: str
    description: str
    #: The label of the threshold line, e.g. "threshold 2,500".
    threshold: str
    #: Appended to the value of a material above the threshold, so colour is never the only signal.
    above: str


def _value_label(item: Concentration, words: ConcentrationChartText, above: bool) -> str:
    value = f"{_number(item.hhi)}（{item.stage} · {item.top_country} {item.top_share:g}%）"
    return f"{value} {words.above}" if above else value


def concentration_bars(
    chart_id: str,
    items: Sequence[Concentration],
    threshold: float,
    words: ConcentrationChartText,
    width: float = 960,
) -> Markup:
    """One bar per material on the 0–10000 HHI scale, a line at the threshold; above it: dark and marked."""
    row, bar_height = 36.0, 22.0
    label_width = min(220.0, max([text_width(item.material) for item in items] + [40.0]) + 16)
    value_width = max([text_width(_value_label(item, words, True)) for item in items] + [80.0])
    left, right = 12.0 + label_width, 12.0 + value_width
    plot = width - left - right
    top = 48.0
    height = top + len(items) * row + 12

    def x_of(value: float) -> float:
        return left + plot * min(max(value, 0.0), 10000.0) / 10000

    parts: list[Markup] = []
    for tick in (0, 2500, 5000, 7500, 10000):
        parts.append(_line(x_of(tick), top - 6, x_of(tick), height - 8, "chart-grid"))
        parts.append(_text(x_of(tick), top - 12, _number(tick), "chart-axis", "middle"))
    for index, item in enumerate(items):
        y = top + index * row + 4
        middle = y + bar_height / 2 + 4.5
        above = item.hhi > threshold
        tip = (
            f"{item.material}: HHI {_number(item.hhi)} ({item.stage}, {item.top_country} {item.top_share:g}%)"
        )
        parts.append(_text(left - 8, middle, shorten(item.material, label_width - 12), "chart-label", "end"))
        if above:
            parts.append(
                _rect(
                    left, y, x_of(item.hhi) - left, bar_height, "#a30000", "chart-bar chart-bar--above", tip
                )
            )
        else:
            parts.append(_rect(left, y, x_of(item.hhi) - left, bar_height, "#5d6b7e", "chart-bar", tip))
        value_class = "chart-value chart-value--above" if above else "chart-value"
        parts.append(_text(x_of(item.hhi) + 6, middle, _value_label(item, words, above), value_class))
    parts.append(_line(x_of(threshold), top - 4, x_of(threshold), height - 4, "chart-threshold"))
    parts.append(_text(x_of(threshold) + 4, top - 30, words.threshold, "chart-threshold-label"))
    return _svg(chart_id, words.title, words.description, width, height, _join(parts))


# --- likelihood × impact heat map ---------------------------------------------------------------------


@dataclass(frozen=True)
class HeatMapText:
    title: str
    description: str
    likelihood: str
    impact: str
    #: Words for the bands, by band name (low, medium, high, critical).
    bands: dict[str, str]
    #: "and %(count)d more" already formatted for the overflow marker is built from this prefix, e.g. "+".
    more: str = "+"


@dataclass(frozen=True)
class HeatCell:
    likelihood: int
    impact: int
    risks: tuple[Risk, ...]

    @property
    def band(self) -> str:
        return risk_band(self.likelihood * self.impact)


def heat_cells(risks: Sequence[Risk]) -> list[HeatCell]:
    """The 25 cells, impact 5 (top row) to 1, likelihood 1 (left) to 5."""
    return [
        HeatCell(
            likelihood, impact, tuple(r for r in risks if r.likelihood == likelihood and r.impact == impact)
        )
        for impact in range(5, 0, -1)
        for likelihood in range(1, 6)
    ]


def heat_map(
    chart_id: str,
    risks: Sequence[Risk],
    words: HeatMapText,
    cell_width: float = 150,
    cell_height: float = 100,
) -> Markup:
    """A 5×5 matrix, impact up and likelihood across; each cell coloured by its score band, with the
    number of risks in it and as many names as fit (all of them in the cell's tooltip and the table)."""
    left, top = 56.0, 16.0
    grid_width, grid_height = cell_width * 5, cell_height * 5
    legend_y = top + grid_height + 62
    width, height = left + grid_width + 16, legend_y + 24
    parts: list[Markup] = []
    for heat in heat_cells(risks):
        x = left + (heat.likelihood - 1) * cell_width
        y = top + (5 - heat.impact) * cell_height
        score = heat.likelihood * heat.impact
        names = "、".join(r.name for r in heat.risks)
        tip = f"{words.likelihood} {heat.likelihood} × {words.impact} {heat.impact} = {score}"
        parts.append(
            Markup(
                '<g class="heat-cell heat-cell--{band}" data-likelihood="{l}" data-impact="{i}" '
                'data-count="{n}">'
            ).format(band=heat.band, l=heat.likelihood, i=heat.impact, n=len(heat.risks))
        )
        fill, ink = BAND_FILLS[heat.band], BAND_TEXT[heat.band]
        parts.append(
            _rect(x, y, cell_width, cell_height, fill, "heat-square", f"{tip}: {names}" if names else tip)
        )
        if heat.risks:
            parts.append(_text(x + 10, y + 26, str(len(heat.risks)), "heat-count", fill=ink))
            shown = heat.risks[:3]
            for line, risk in enumerate(shown):
                name = shorten(risk.name, cell_width - 18, 12)
                parts.append(_text(x + 10, y + 46 + line * 17, name, "heat-name", fill=ink))
            if len(heat.risks) > len(shown):
                more = f"{words.more}{len(heat.risks) - len(shown)}"
                parts.append(_text(x + cell_width - 10, y + 26, more, "heat-name", "end", ink))
        parts.append(_text(x + cell_width - 8, y + cell_height - 8, str(score), "heat-score", "end", ink))
        parts.append(Markup("</g>"))
    for index in range(1, 6):
        parts.append(
            _text(
                left + (index - 0.5) * cell_width, top + grid_height + 20, str(index), "chart-axis", "middle"
            )
        )
        parts.append(_text(left - 10, top + (5.5 - index) * cell_height + 5, str(index), "chart-axis", "end"))
    parts.append(
        _text(
            left + grid_width / 2,
            top + grid_height + 42,
            f"{words.likelihood} →",
            "chart-axis-title",
            "middle",
        )
    )
    parts.append(
        Markup(
            '<text x="20" y="{y:.1f}" text-anchor="middle" transform="rotate(-90 20 {y:.1f})" '
            'class="chart-axis-title">{label}</text>'
        ).format(y=top + grid_height / 2, label=f"{words.impact} →")
    )
    legend, _bottom = _legend(
        [(words.bands[band], BAND_FILLS[band]) for band, _upper in RISK_BANDS], width, legend_y
    )
    parts.extend(legend)
    return _svg(chart_id, words.title, words.description, width, height, _join(parts))
