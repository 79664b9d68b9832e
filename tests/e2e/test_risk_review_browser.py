"""The risk-review room in a real browser: the register leads the room page; the owner reviews an overdue
risk (scores before and after recorded, the trend gains a point); the heat map, dependency graph and trend
draw as SVG beside their tables under the strict CSP, and each is screenshotted for a person to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, expect

from tests.e2e.conftest import PortalServer, sign_in
from tests.e2e.test_thinktank_browser import png_size
from tests.risks_support import infrastructure_room, risk_id_by_title

pytestmark = pytest.mark.e2e

BLACKOUT = "広域停電(ブラックアウト)"


def _collect_csp(message: ConsoleMessage, violations: list[str]) -> None:
    if "Content Security Policy" in message.text or "Refused to" in message.text:
        violations.append(message.text)


def test_the_owner_reviews_an_overdue_risk_and_the_trend_updates(
    context: BrowserContext, portal_server: PortalServer, screenshots: Path
) -> None:
    room = infrastructure_room(portal_server.database)
    blackout = risk_id_by_title(portal_server.database, BLACKOUT)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: _collect_csp(message, violations))
    sign_in(page, portal_server, "yamamoto@hokushin-power.example.jp")

    # The overview lists the owner's overdue review; the room page leads with the register.
    due = page.locator("[data-testid=overview-reviews-due]")
    expect(due).to_contain_text(BLACKOUT)
    expect(due.locator("[data-testid=overdue]")).to_have_count(1)
    page.goto(f"/rooms/{room}")
    tools = page.locator("[data-testid=risk-tools]")
    expect(tools).to_be_visible()
    expect(page.locator("[data-testid=reviews-due]")).to_contain_text(BLACKOUT)
    # 山本 (no GRID-OPS) reads 7 of the 8 risks: the heat map draws exactly those.
    expect(page.locator("[data-testid=risk-row]")).to_have_count(7)
    expect(page.locator("[data-testid=risk-row-withheld]")).to_have_count(1)
    heat_map = page.locator("svg#chart-risk-heat-map")
    expect(heat_map).to_be_visible()
    expect(heat_map.locator("g.heat-cell")).to_have_count(25)
    counts = heat_map.locator("g.heat-cell").evaluate_all("cells => cells.map(c => +c.dataset.count)")
    assert sum(counts) == 7
    expect(page.locator("svg#chart-risk-heat-map > title")).to_have_text(
        "残余の発生可能性と影響度で見たリスク台帳"
    )
    expect(page.locator("[data-testid=heat-map-table] tbody tr")).to_have_count(7)
    graph = page.locator("svg#chart-risk-dependencies")
    expect(graph).to_be_visible()
    expect(graph).to_have_attribute("role", "img")
    expect(page.locator("svg#chart-risk-dependencies > title")).to_have_text("インフラ間の依存関係")
    edges = graph.locator("g.graph-edge").count()
    expect(page.locator("[data-testid=dependency-table] tbody tr")).to_have_count(edges)
    heat_map.screenshot(path=screenshots / "risk-heat-map.png")
    graph.screenshot(path=screenshots / "risk-dependency-graph.png")
    page.screenshot(path=screenshots / "risk-room.png", full_page=True)

    # Review the overdue risk: lower the residual likelihood.
    page.locator("[data-testid=reviews-due] a", has_text=BLACKOUT).click()
    expect(page).to_have_url(portal_server.url(f"/risks/{blackout}"))
    expect(page.locator("h1")).to_have_text(BLACKOUT)
    expect(page.locator("[data-testid=overdue]")).to_be_visible()
    trend = page.locator("svg#chart-risk-trend")
    expect(trend).to_be_visible()
    points_before = trend.locator(".trend-point").count()
    rows_before = page.locator("[data-testid=history-row]").count()
    form = page.locator("[data-testid=review-form]")
    form.locator("input[name=residual_likelihood]").fill("1")
    form.locator("textarea[name=note]").fill(
        "基地局の非常用電源の72時間化が完了し、残余の発生可能性を1とした。"
    )
    form.locator("button[type=submit]").click()

    expect(page.locator("[data-testid=overdue]")).to_have_count(0)
    expect(page.locator("[data-testid=residual]")).to_contain_text("1 × 影響度 4 = 4")
    expect(page.locator("[data-testid=history-row]")).to_have_count(rows_before + 1)
    last = page.locator("[data-testid=history-row]").last
    expect(last).to_contain_text("2×4=8 → 1×4=4")
    expect(last).to_contain_text("72時間化が完了")
    trend = page.locator("svg#chart-risk-trend")
    expect(trend.locator(".trend-point")).to_have_count(points_before + 2)
    expect(page.locator("svg#chart-risk-trend > title")).to_have_text("点検ごとのスコアの推移")
    expect(page.locator("[data-testid=history-table]")).to_be_visible()
    trend.screenshot(path=screenshots / "risk-trend.png")
    path = screenshots / "risk-review.png"
    page.screenshot(path=path, full_page=True)
    for name in ("risk-heat-map.png", "risk-dependency-graph.png", "risk-trend.png"):
        width, height = png_size(screenshots / name)
        assert width >= 300 and height >= 200, (name, width, height)
    print("risk screenshots:", screenshots)
    assert violations == [], violations

    # The room page no longer lists the review as due.
    page.goto(f"/rooms/{room}")
    expect(page.locator("[data-testid=reviews-due]")).not_to_contain_text(BLACKOUT)
