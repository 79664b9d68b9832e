"""The rapid-response room in a real browser, each person in their own profile: a member opens the minerals
room (its page leads with the situation board), posts a situation report and sees it lead the board as new;
the chair sees the new count on the room page, adopts a proposed countermeasure, which creates an action
item; its owner finds it in 「自分の行動項目」."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import PortalServer, new_context, sign_in, submit_main_form

pytestmark = pytest.mark.e2e

TANAKA = "tanaka@meti.example.jp"  # chair
ITO = "ito@toho-raremetals.example.jp"  # member (company), CESI
ROOM = "重要鉱物分科会"
TOKYO = ZoneInfo("Asia/Tokyo")
TAG = uuid.uuid4().hex[:4]
HAPPENED = f"ガリウム地金の港湾出荷が税関で保留された(照会番号 {TAG})。"
ACTION = f"再生ゲルマニウムの国内回収量を四半期ごとに報告する({TAG})"
RECYCLING = "製造工程スクラップからのリサイクル拡大"


@pytest.fixture
def person(browser: Browser, portal_server: PortalServer) -> Iterator[Callable[[str], Page]]:
    opened: list[BrowserContext] = []

    def signed_in(email: str) -> Page:
        context = new_context(browser, portal_server)
        opened.append(context)
        page = context.new_page()
        sign_in(page, portal_server, email)
        return page

    try:
        yield signed_in
    finally:
        for context in opened:
            context.close()


def open_room(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name=ROOM).first.click()
    expect(page.locator("h1")).to_contain_text(ROOM)


def test_post_a_situation_report_and_adopt_a_countermeasure(
    person: Callable[[str], Page], screenshots: Path
) -> None:
    # 1. A member opens the room: the board leads the page; they post a report from it.
    ito = person(ITO)
    open_room(ito)
    tools = ito.get_by_test_id("rapid-response-tools")
    expect(tools).to_be_visible()
    expect(tools.get_by_test_id("new-count")).to_contain_text("新着: 6件")
    tools.get_by_role("link", name="ボードを開いて状況報告を投稿").click()
    expect(ito.locator("h1")).to_have_text("状況ボード")
    now = datetime.now(TOKYO)
    ito.get_by_label("報告日", exact=True).fill(now.strftime("%Y-%m-%d"))
    ito.get_by_label("報告時刻", exact=True).fill(now.strftime("%H:%M"))
    ito.get_by_label("情報源(組織)").fill("東邦レアメタル株式会社 物流部")
    ito.get_by_label("発生事象").fill(HAPPENED)
    ito.get_by_label("影響を受ける物資・分野").fill("ガリウム/化合物半導体")
    ito.get_by_label("深刻度").select_option("4")
    ito.get_by_label("影響評価").fill("出荷保留が1週間を超えると国内需要家2社で生産調整が必要になる。")
    response = submit_main_form(ito)
    assert response.status == 302, response.status
    first = ito.get_by_test_id("report-list").locator("li").first
    expect(first).to_contain_text(HAPPENED)
    expect(first).to_contain_text("深刻度: 4 — 深刻")
    expect(first.get_by_test_id("new-report")).to_have_text("新着")
    ito.screenshot(path=screenshots / "situation-board.png", full_page=True)

    # 2. The chair sees the new report counted on the room page and adopts the recycling option.
    tanaka = person(TANAKA)
    open_room(tanaka)
    panel = tanaka.get_by_test_id("rapid-response-tools")
    expect(panel.get_by_test_id("new-count")).to_contain_text("新着: 7件")
    expect(panel.get_by_test_id("latest-reports").locator("li").first).to_contain_text(
        "東邦レアメタル株式会社 物流部"
    )
    panel.get_by_role("link", name=RECYCLING).click()
    expect(tanaka.get_by_test_id("countermeasure-status")).to_have_text("提案")
    tanaka.get_by_label("新しい状態").select_option("adopted")
    tanaka.get_by_label("メモ").fill("第4回の所見を踏まえ採択")
    tanaka.get_by_label("行動項目", exact=True).fill(ACTION)
    tanaka.get_by_label("行動項目の担当者").select_option(
        label=tanaka.locator("select[name=action_owner] option", has_text="伊藤").first.inner_text()
    )
    tanaka.get_by_label("期限").fill((now + timedelta(days=21)).strftime("%Y-%m-%d"))
    meeting = tanaka.locator("select[name=action_meeting] option", has_text="第4回").first.get_attribute(
        "value"
    )
    assert meeting
    tanaka.get_by_label("会合", exact=True).select_option(meeting)
    response = submit_main_form(tanaka)
    assert response.status == 302, response.status
    expect(tanaka.get_by_test_id("countermeasure-status")).to_have_text("採択")
    expect(tanaka.get_by_test_id("adoption-actions")).to_contain_text(ACTION)
    expect(tanaka.get_by_test_id("history").locator("li")).to_have_count(2)
    tanaka.screenshot(path=screenshots / "countermeasure-adopted.png", full_page=True)

    # 3. The owner finds the action item among their own.
    ito.goto("/actions")
    expect(ito.locator("h1")).to_have_text("自分の行動項目")
    expect(ito.locator("#main")).to_contain_text(ACTION)
