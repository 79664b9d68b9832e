"""The work plan's timeline, drawn on the server as SVG: pure functions from rows to markup.

Months run along the x axis, one row per theme; each milestone is a diamond (filled when done) with its
label, and a vertical line marks today. The SVG is ``role="img"`` with a ``<title>`` and a ``<desc>``,
carries no script and no ``style=`` attribute (colours are classes styled by ``static/css/portal.css``), and
the page shows a data table beside it. Text typed by users reaches the markup only through
:meth:`Markup.format`, which escapes it. A withheld theme is a row with the withheld label and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from markupsafe import Markup

from portal.thinktank.charts import FONT_SIZE, shorten

LABEL_WIDTH = 210.0
MONTH_WIDTH = 84.0
HEADER = 34.0
ROW_HEIGHT = 52.0
FOOTER = 12.0
MARK = 7.0
#: Milestone labels are cut to about this width (the full text is in the marker's tooltip and the table).
MARK_LABEL_WIDTH = 110.0


@dataclass(frozen=True)
class TimelineMark:
    title: str
    day: date
    done: bool


@dataclass(frozen=True)
class TimelineRow:
    """One theme: its title, or None when the reader may not read it (a withheld row)."""

    title: str | None
    marks: tuple[TimelineMark, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class TimelineWords:
    """The words the chart shows, already translated by the caller."""

    title: str
    description: str
    withheld: str
    today: str
    done: str
    open: str


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_span(rows: Sequence[TimelineRow], today: date, minimum: int = 6) -> list[date]:
    """The first day of every month shown: from the earliest of today and the milestones to the latest,
    at least ``minimum`` months."""
    days = [mark.day for row in rows for mark in row.marks] + [today]
    first = month_start(min(days))
    last = month_start(max(days))
    months = [first]
    while months[-1] < last or len(months) < minimum:
        months.append(add_months(months[-1], 1))
    return months


def x_of(day: date, months: Sequence[date]) -> float:
    """The x position of a day: its month's column, and its place within the month."""
    first = months[0]
    index = (day.year - first.year) * 12 + day.month - first.month
    following = add_months(month_start(day), 1)
    length = (following - month_start(day)).days
    return LABEL_WIDTH + MONTH_WIDTH * (index + (day.day - 1) / length)


def chart_width(months: Sequence[date]) -> float:
    return LABEL_WIDTH + MONTH_WIDTH * len(months) + 10


def _month_header(months: Sequence[date], height: float) -> Markup:
    parts = []
    for index, month in enumerate(months):
        x = LABEL_WIDTH + MONTH_WIDTH * index
        parts.append(
            Markup(
                '<line class="timeline-grid" x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}"/>'
                '<text class="timeline-month" x="{tx:.1f}" y="{ty:.1f}" text-anchor="middle">{label}</text>'
            ).format(
                x=x,
                top=HEADER - 8,
                bottom=height - FOOTER,
                tx=x + MONTH_WIDTH / 2,
                ty=HEADER - 14,
                label=f"{month.year}/{month.month:02d}",
            )
        )
    return Markup("").join(parts)


def _diamond(x: float, y: float, mark: TimelineMark, words: TimelineWords) -> Markup:
    state = words.done if mark.done else words.open
    points = f"{x:.1f},{y - MARK:.1f} {x + MARK:.1f},{y:.1f} {x:.1f},{y + MARK:.1f} {x - MARK:.1f},{y:.1f}"
    return Markup(
        '<g class="timeline-mark timeline-mark--{state_class}">'
        '<title>{title} ({day}, {state})</title>'
        '<polygon points="{points}"/>'
        '<text x="{x:.1f}" y="{ty:.1f}" text-anchor="middle" class="timeline-mark__label">{label}</text></g>'
    ).format(
        state_class="done" if mark.done else "open", title=mark.title, day=mark.day.isoformat(), state=state,
        points=points, x=x, ty=y + MARK + 14, label=shorten(mark.title, MARK_LABEL_WIDTH, FONT_SIZE - 2),
    )  # fmt: skip


def _row(index: int, row: TimelineRow, months: Sequence[date], words: TimelineWords, width: float) -> Markup:
    top = HEADER + ROW_HEIGHT * index
    middle = top + ROW_HEIGHT / 2 - 6
    withheld = row.title is None
    band = Markup(
        '<rect class="timeline-row{extra}" x="0" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}"/>'
    ).format(extra=" timeline-row--withheld" if withheld else "", y=top, w=width, h=ROW_HEIGHT)
    label_text = words.withheld if withheld else shorten(row.title or "", LABEL_WIDTH - 16)
    label = Markup(
        '<g class="timeline-theme{extra}"><title>{full}</title><text x="8" y="{y:.1f}">{text}</text></g>'
    ).format(
        extra=" timeline-theme--withheld" if withheld else "",
        full=words.withheld if withheld else row.title,
        y=middle + 4,
        text=label_text,
    )
    if withheld:
        return band + label
    marks = Markup("").join(_diamond(x_of(m.day, months), middle, m, words) for m in row.marks)
    return band + label + marks


def _today_line(today: date, months: Sequence[date], height: float, words: TimelineWords) -> Markup:
    x = x_of(today, months)
    return Markup(
        '<g class="timeline-today"><title>{label} ({day})</title>'
        '<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}"/>'
        '<text x="{tx:.1f}" y="{ty:.1f}" text-anchor="start">{label}</text></g>'
    ).format(label=words.today, day=today.isoformat(), x=x, top=HEADER - 8, bottom=height - FOOTER,
             tx=x + 3, ty=height - 1)  # fmt: skip


def timeline_svg(
    rows: Sequence[TimelineRow], today: date, words: TimelineWords, chart_id: str = "work-plan-timeline"
) -> Markup:
    """The timeline of a work plan, one row per theme (withheld rows carry no title and no milestones)."""
    months = month_span(rows, today)
    width = chart_width(months)
    height = HEADER + ROW_HEIGHT * max(1, len(rows)) + FOOTER + 6
    body = (
        _month_header(months, height)
        + Markup("").join(_row(i, row, months, words, width) for i, row in enumerate(rows))
        + _today_line(today, months, height, words)
    )
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart timeline" id="{id}" role="img" '
        'aria-labelledby="{id}-title {id}-desc" viewBox="0 0 {w:.0f} {h:.0f}" width="{w:.0f}" '
        'height="{h:.0f}" font-size="{size}">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>'
    ).format(
        id=chart_id, w=width, h=height, size=FONT_SIZE, title=words.title, desc=words.description, body=body
    )
