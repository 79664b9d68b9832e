"""A recommendation's whole lifecycle in a real browser, in the AGI room (政策調整型) that 高橋 chairs: the
room's page leads with the work plan's timeline (server-side SVG with its title and data table), the
recommendations board and the sectors; he drafts a recommendation, moves it to deliberation, back to
drafting, and on through agreed, submitted to the government and reflected; its history lists every step.
A screenshot of the timeline is taken for a person to look at. 高橋 reads the portal in English."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, expect

from tests.e2e.conftest import PortalServer, path_of, sign_in, submit_main_form, user_row

pytestmark = pytest.mark.e2e

TAKAHASHI = "takahashi@mic.example.jp"
ROOM = "AGI Subcommittee"
TITLE = f"AIエージェントの重要インフラ接続に関する提言 {uuid.uuid4().hex[:4]}"
STEPS = [
    ("deliberation", "Under deliberation", "第4回分科会で審議入り"),
    ("drafted", "Drafted", "論点を追加するため差し戻し"),
    ("deliberation", "Under deliberation", "修正案で再審議"),
    ("agreed", "Agreed", "第5回分科会で合意"),
    ("submitted", "Submitted to the government", "内閣官房へ提出"),
    ("reflected", "Reflected in policy", "基本方針に反映"),
]


def _collect_csp(message: ConsoleMessage, violations: list[str]) -> None:
    if "Content Security Policy" in message.text:
        violations.append(message.text)


def test_a_recommendation_moves_through_its_whole_lifecycle(
    context: BrowserContext, portal_server: PortalServer, screenshots: Path
) -> None:
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: _collect_csp(message, violations))
    sign_in(page, portal_server, TAKAHASHI)

    page.get_by_role("link", name=ROOM).first.click()
    expect(page.locator("h1")).to_contain_text(ROOM)
    tools = page.get_by_test_id("policy-tools")
    expect(tools).to_be_visible()
    timeline = page.locator("svg#work-plan-timeline")
    expect(timeline).to_be_visible()
    expect(timeline).to_have_attribute("role", "img")
    expect(page.locator("svg#work-plan-timeline > title")).to_have_text("Work plan of AGI Subcommittee")
    expect(timeline.locator("polygon")).to_have_count(9)  # the demo's milestones of three themes
    expect(page.get_by_test_id("work-plan-table")).to_be_visible()
    expect(page.get_by_test_id("work-plan-table")).to_contain_text("フロンティアモデルのリスク評価")
    expect(page.get_by_test_id("sectors-missing")).to_contain_text("Semiconductors")
    assert timeline.bounding_box()["width"] > 600  # type: ignore[index]
    timeline.screenshot(path=screenshots / "policy-timeline.png")
    page.screenshot(path=screenshots / "policy-room.png", full_page=True)
    assert (screenshots / "policy-timeline.png").stat().st_size > 10_000

    page.get_by_test_id("new-recommendation").click()
    expect(page.locator("h1")).to_have_text("Draft a recommendation")
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Text (Markdown)").fill(
        "- 接続前の**リスク評価**を義務付ける\n- 事業者間で事案情報を共有する"
    )
    page.locator("select[name=owner]").select_option(str(user_row(portal_server, TAKAHASHI).id))
    page.locator("input[name=sectors][value=telecom]").check()
    page.locator("input[name=sectors][value=energy]").check()
    response = submit_main_form(page)
    assert response.status == 302, response.status
    assert re.fullmatch(r"/rooms/[0-9a-f-]{36}/recommendations/[0-9a-f-]{36}", path_of(page)), page.url
    expect(page.get_by_test_id("recommendation-title")).to_have_text(TITLE)
    expect(page.get_by_test_id("recommendation-status")).to_have_text("Drafted")
    expect(page.get_by_test_id("recommendation-body").locator("strong")).to_have_text("リスク評価")

    for value, label, note in STEPS:
        form = page.get_by_test_id("transition-form")
        form.locator("select[name=target]").select_option(value)
        form.locator("textarea[name=note]").fill(note)
        with page.expect_navigation(wait_until="load"):
            page.get_by_test_id("transition-submit").click()
        expect(page.get_by_test_id("recommendation-status")).to_have_text(label)
        expect(page.get_by_test_id("history")).to_contain_text(note)

    expect(page.get_by_test_id("transition-form")).to_have_count(0)  # reflected is the end
    expect(page.get_by_test_id("history").locator("tbody tr")).to_have_count(1 + len(STEPS))
    page.get_by_role("link", name="Recommendations").last.click()
    expect(page.get_by_test_id("column-reflected")).to_contain_text(TITLE)
    page.goto(page.url.rsplit("/recommendations", 1)[0])
    expect(page.get_by_test_id("board-reflected")).to_contain_text(TITLE)
    assert violations == [], violations
