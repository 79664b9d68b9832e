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

from portal.thinktank.data import Concentration, Risk, StageShares, risk_band

#: Colour-blind-safe palette (Okabe–Ito, darkened where white text sits on it), largest supplier first.
COUNTRY_COLOURS = ("#b23a00", "#0b5fa5", "#00795c", "#8a5a00", "#6f3f8f", "#a2356b", "#3c6e71", "#5b5b5b")
#: The rest of a stage's supply: not reported, or shared by countries beyond the palette.
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


def share_bars(
    chart_id: str, bars: Sequence[StageShares], words: ShareChartText, width: float = 760
) -> Markup:
    """Horizontal 100% stacked bars: one per material and stage, a segment per country, largest first."""
    colours = country_colours(bars)
    row, bar_height, gap = 34.0, 22.0, 14.0
    stage_width = min(180.0, max([text_width(b.stage) for b in bars] + [40.0]) + 16)
    left, right = 12.0 + stage_width, 16.0
    plot = width - left - right
    # The legend wraps across lines.
    legend: list[Markup] = []
    x, y = 12.0, 20.0
    for name, colour in [*colours.items(), (words.rest, REST_COLOUR)]:
        item = 14 + 6 + text_width(name) + 18
        if x + item > width - right and x > 12:
            x, y = 12.0, y + 22
        legend.append(_rect(x, y - 11, 14, 14, colour, "chart-swatch"))
        legend.append(_text(x + 20, y + 1, name, "chart-legend"))
        x += item
    top = y + 24
    parts: list[Markup] = [*legend]
    # Grid lines at 0, 25, 50, 75 and 100 %.
    materials = list(dict.fromkeys(bar.material for bar in bars))
    height = top + 26 + len(materials) * (gap + 22) + len(bars) * row + 8
    for tick in (0, 25, 50, 75, 100):
        gx = left + plot * tick / 100
        parts.append(_line(gx, top + 18, gx, height - 8, "chart-grid"))
        parts.append(_text(gx, top + 10, f"{tick}%", "chart-axis", "middle"))
    y = top + 26
    for material in materials:
        y += gap
        parts.append(_text(12, y + 4, material, "chart-group"))
        y += 18
        for bar in (b for b in bars if b.material == material):
            parts.append(
                _text(
                    left - 8,
                    y + bar_height / 2 + 5,
                    shorten(bar.stage, stage_width - 12),
                    "chart-label",
                    "end",
                )
            )
            x = left
            for country, share in bar.shares:
                segment = plot * share / 100
                colour = colours.get(country, REST_COLOUR)
                parts.append(
                    _rect(
                        x,
                        y,
                        segment,
                        bar_height,
                        colour,
                        "chart-segment",
                        f"{material} · {bar.stage} · {country}: {share:g}%",
                    )
                )
                label = f"{country} {share:g}%"
                if text_width(label, 12) + 8 <= segment:
                    text_fill = "#ffffff" if colour != REST_COLOUR else "#1a1a1a"
                    parts.append(
                        _text(x + 5, y + bar_height / 2 + 4.5, label, "chart-in-bar", fill=text_fill)
                    )
                elif text_width(f"{share:g}%", 12) + 6 <= segment:
                    text_fill = "#ffffff" if colour != REST_COLOUR else "#1a1a1a"
                    parts.append(
                        _text(x + 3, y + bar_height / 2 + 4.5, f"{share:g}%", "chart-in-bar", fill=text_fill)
                    )
                x += segment
            rest = 100 - bar.reported
            if rest > 0.05:
                parts.append(
                    _rect(x, y, plot * rest / 100, bar_height, REST_COLOUR, "chart-segment chart-rest",
                          f"{material} · {bar.stage} · {words.rest}: {rest:g}%")
                )  # fmt: skip
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


def concentration_bars(
    chart_id: str,
    items: Sequence[Concentration],
    threshold: float,
    words: ConcentrationChartText,
    width: float = 760,
) -> Markup:
    """One bar per material on the 0–10000 HHI scale, a line at the threshold; above it: dark and marked."""
    row, bar_height = 34.0, 20.0
    label_width = min(220.0, max([text_width(item.material) for item in items] + [40.0]) + 16)
    value_width = max(
        [text_width(f"{_number(10000)} · {item.stage} {words.above}", 12) for item in items] + [80.0]
    )
    left, right = 12.0 + label_width, 12.0 + value_width
    plot = width - left - right
    top = 40.0
    height = top + len(items) * row + 12
    parts: list[Markup] = []
    for tick in (0, 2500, 5000, 7500, 10000):
        gx = left + plot * tick / 10000
        parts.append(_line(gx, top - 6, gx, height - 8, "chart-grid"))
        parts.append(_text(gx, top - 12, _number(tick), "chart-axis", "middle"))
    threshold_x = left + plot * min(max(threshold, 0), 10000) / 10000
    for index, item in enumerate(items):
        y = top + index * row + 4
        above = item.hhi > threshold
        parts.append(
            _text(
                left - 8,
                y + bar_height / 2 + 5,
                shorten(item.material, label_width - 12),
                "chart-label",
                "end",
            )
        )
        parts.append(
            _rect(left, y, plot * min(item.hhi, 10000) / 10000, bar_height,
                  "#a30000" if above else "#6b7a90", "chart-bar chart-bar--above" if above else "chart-bar",
                  f"{item.material}: HHI {_number(item.hhi)} "
                  f"({item.stage}, {item.top_country} {item.top_share:g}%)")
        )  # fmt: skip
        value = f"{_number(item.hhi)} · {item.stage}" + (f" {words.above}" if above else "")
        parts.append(
            _text(left + plot * min(item.hhi, 10000) / 10000 + 6, y + bar_height / 2 + 4.5, value,
                  "chart-value chart-value--above" if above else "chart-value")
        )  # fmt: skip
    parts.append(_line(threshold_x, top - 4, threshold_x, height - 4, "chart-threshold"))
    parts.append(_text(threshold_x + 4, top - 26, words.threshold, "chart-threshold-label"))
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


def heat_map(chart_id: str, risks: Sequence[Risk], words: HeatMapText, cell: float = 104) -> Markup:
    """A 5×5 matrix, impact up and likelihood across; each cell coloured by its score band, with the
    number of risks in it and as many names as fit (all of them in the cell's tooltip and the table)."""
    left, top = 56.0, 16.0
    grid = cell * 5
    legend_y = top + grid + 58
    width, height = left + grid + 16, legend_y + 24
    parts: list[Markup] = []
    for heat in heat_cells(risks):
        x = left + (heat.likelihood - 1) * cell
        y = top + (5 - heat.impact) * cell
        names = "、".join(r.name for r in heat.risks)
        score = heat.likelihood * heat.impact
        tip = f"{words.likelihood} {heat.likelihood} × {words.impact} {heat.impact} = {score}"
        parts.append(
            Markup(
                '<g class="heat-cell heat-cell--{band}" data-likelihood="{l}" data-impact="{i}" '
                'data-count="{n}">'
            ).format(band=heat.band, l=heat.likelihood, i=heat.impact, n=len(heat.risks))
        )
        parts.append(
            _rect(x, y, cell, cell, BAND_FILLS[heat.band], "heat-square", f"{tip}: {names}" if names else tip)
        )
        ink = BAND_TEXT[heat.band]
        if heat.risks:
            parts.append(_text(x + 8, y + 24, str(len(heat.risks)), "heat-count", fill=ink))
            shown = heat.risks[:3]
            for line, risk in enumerate(shown):
                parts.append(
                    _text(x + 8, y + 44 + line * 17, shorten(risk.name, cell - 14, 12), "heat-name", fill=ink)
                )
            if len(heat.risks) > len(shown):
                parts.append(
                    _text(
                        x + cell - 8,
                        y + 24,
                        f"{words.more}{len(heat.risks) - len(shown)}",
                        "heat-name",
                        "end",
                        ink,
                    )
                )
        else:
            parts.append(
                _text(
                    x + cell - 8, y + cell - 8, str(heat.likelihood * heat.impact), "heat-score", "end", ink
                )
            )
        parts.append(Markup("</g>"))
    for index in range(1, 6):
        parts.append(_text(left + (index - 0.5) * cell, top + grid + 18, str(index), "chart-axis", "middle"))
        parts.append(_text(left - 10, top + (5 - index + 0.5) * cell + 5, str(index), "chart-axis", "end"))
    parts.append(
        _text(left + grid / 2, top + grid + 38, f"{words.likelihood} →", "chart-axis-title", "middle")
    )
    parts.append(
        Markup('<text x="18" y="{y:.1f}" text-anchor="middle" transform="rotate(-90 18 {y:.1f})" '
               'class="chart-axis-title">{label}</text>').format(y=top + grid / 2, label=f"{words.impact} →")
    )  # fmt: skip
    x = left
    for band in ("low", "medium", "high", "critical"):
        parts.append(_rect(x, legend_y - 11, 14, 14, BAND_FILLS[band], "chart-swatch"))
        parts.append(_text(x + 20, legend_y + 1, words.bands[band], "chart-legend"))
        x += 20 + text_width(words.bands[band]) + 24
    return _svg(chart_id, words.title, words.description, width, height, _join(parts))
