"""The work plan's timeline: months on the x axis, a row per theme, milestone markers with labels, today's
line; accessible (role, title, desc), no script or inline style, user text escaped, withheld rows bare."""

from __future__ import annotations

import re
from datetime import date

import pytest

from portal.policywork.charts import (
    LABEL_WIDTH,
    MONTH_WIDTH,
    TimelineMark,
    TimelineRow,
    TimelineWords,
    add_months,
    month_span,
    timeline_svg,
    x_of,
)
from portal.policywork.models import RecommendationStatus, allowed_moves

WORDS = TimelineWords("作業計画", "テーマ別の時系列", "閲覧権限のないテーマ", "本日", "完了", "未完了")
TODAY = date(2026, 12, 2)
FRONTIER_MARKS = (
    TimelineMark("評価枠組み(案)", date(2026, 10, 3), True),
    TimelineMark("最終報告", date(2027, 5, 1), False),
)
ROWS = [
    TimelineRow("フロンティアモデルのリスク評価", FRONTIER_MARKS),
    TimelineRow(None),
    TimelineRow("人材", ()),
]


def test_months_span_from_the_earliest_to_the_latest_day() -> None:
    months = month_span(ROWS, TODAY)
    assert months[0] == date(2026, 10, 1) and months[-1] == date(2027, 5, 1)
    assert len(months) == 8
    assert month_span([], TODAY) == [add_months(date(2026, 12, 1), i) for i in range(6)]  # at least six


def test_positions_follow_the_calendar() -> None:
    months = month_span(ROWS, TODAY)
    assert x_of(date(2026, 10, 1), months) == LABEL_WIDTH
    assert x_of(date(2026, 11, 1), months) == LABEL_WIDTH + MONTH_WIDTH
    assert x_of(date(2026, 10, 16), months) == pytest.approx(LABEL_WIDTH + MONTH_WIDTH * 15 / 31)
    assert add_months(date(2026, 12, 1), 1) == date(2027, 1, 1)


def test_the_svg_is_accessible_and_static() -> None:
    svg = str(timeline_svg(ROWS, TODAY, WORDS))
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert '<title id="work-plan-timeline-title">作業計画</title>' in svg
    assert '<desc id="work-plan-timeline-desc">テーマ別の時系列</desc>' in svg
    assert "<script" not in svg and "style=" not in svg and " on" not in svg.replace(" one", "")
    for month in ("2026/10", "2026/11", "2027/01", "2027/05"):
        assert month in svg
    assert svg.count("<polygon") == 2
    assert svg.count("timeline-mark--done") == 1 and svg.count("timeline-mark--open") == 1
    assert "評価枠組み(案) (2026-10-03, 完了)" in svg
    assert 'class="timeline-today"' in svg and "本日 (2026-12-02)" in svg
    today_x = re.search(r'class="timeline-today">.*?<line x1="([\d.]+)"', svg)
    assert today_x is not None
    assert float(today_x.group(1)) == pytest.approx(x_of(TODAY, month_span(ROWS, TODAY)), abs=0.1)


def test_a_withheld_row_has_no_title_and_no_milestones() -> None:
    secret = TimelineRow(None, (TimelineMark("秘密の節目", date(2027, 1, 1), False),))
    svg = str(timeline_svg([secret], TODAY, WORDS))
    assert "閲覧権限のないテーマ" in svg and "timeline-row--withheld" in svg
    assert "秘密の節目" not in svg and "<polygon" not in svg


def test_user_text_is_escaped() -> None:
    payload = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
    svg = str(timeline_svg([TimelineRow(payload, (TimelineMark(payload, TODAY, False),))], TODAY, WORDS))
    assert "<script>" not in svg and "<img" not in svg
    assert "&lt;script&gt;" in svg


def test_long_labels_are_shortened_but_kept_whole_in_the_tooltip() -> None:
    title = "計算資源のサプライチェーン(半導体・データセンター)の長い題名"
    svg = str(timeline_svg([TimelineRow(title)], TODAY, WORDS))
    assert f"<title>{title}</title>" in svg
    assert "…</text>" in svg


def test_the_lifecycle_moves_one_step_or_back_to_drafting() -> None:
    assert allowed_moves(RecommendationStatus.DRAFTED) == [RecommendationStatus.DELIBERATION]
    assert allowed_moves(RecommendationStatus.DELIBERATION) == [
        RecommendationStatus.AGREED, RecommendationStatus.DRAFTED,
    ]  # fmt: skip
    assert allowed_moves(RecommendationStatus.AGREED) == [RecommendationStatus.SUBMITTED]
    assert allowed_moves(RecommendationStatus.SUBMITTED) == [RecommendationStatus.REFLECTED]
    assert allowed_moves(RecommendationStatus.REFLECTED) == []
