"""A meeting's whole cycle in a real browser, each person in their own browser profile: the secretariat
schedules a meeting and publishes its agenda (one item linked to a think-tank output, one Confidential); a
member answers attendance while a Restricted observer sees the Confidential item only as a withheld line;
the secretariat records who came, posts a finding and an action item, drafts portion-marked minutes and
circulates them; an attendee comments on a portion; the chair approves; the secretariat publishes and the
minutes lock; two members with different clearances export them as PDF, and their copies differ by the
withheld portion."""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from portal.thinktank.demo import OUTPUTS
from tests.e2e.conftest import PortalServer, new_context, path_of, sign_in, submit_main_form, user_row

pytestmark = pytest.mark.e2e

SATO = "sato@cao.example.jp"  # secretariat, Confidential
TANAKA = "tanaka@meti.example.jp"  # chair
ITO = "ito@toho-raremetals.example.jp"  # member, CESI
KOBAYASHI = "kobayashi@toto-u.example.jp"  # observer, Restricted

ROOM = "重要鉱物分科会"
#: 重要鉱物5品目のサプライチェーン依存度分析(2025年度上期), attached to the room in the demo.
SUPPLY_CHAIN = OUTPUTS[0].title
TOKYO = ZoneInfo("Asia/Tokyo")
#: 小林 reads the portal in English (his own setting); the others in Japanese.
WITHHELD_ITEM_EN = "Agenda item withheld (not cleared)"
WITHHELD_PORTION_EN = "This portion is withheld: you are not cleared to read it"
WITHHELD_PORTION = "この部分は閲覧権限外のため省略されています"

MEETING_TITLE = f"第6回 重要鉱物分科会(ガリウム代替調達の検討) {uuid.uuid4().hex[:4]}"
LINKED_ITEM = "サプライチェーン依存度分析の報告"
SECRET_ITEM = "個社別在庫水準の共有(秘)"
PUBLIC_PORTION = "開会の挨拶があり、前回議事録が確認された。"
RESTRICTED_PORTION = "精錬段階の集中度について、ガリウムの代替調達先候補を議論した。"
CONFIDENTIAL_PORTION = "東邦レアメタルの在庫は約4か月分であり、放出基準の見直しが必要との報告があった。"


def open_room(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name=ROOM).first.click()
    expect(page.locator("h1")).to_contain_text(ROOM)


def open_section(page: Page, meeting_id: str, label: str) -> None:
    """From the meeting's page, follow its tab (議事次第, 出欠, 所見・行動項目, 議事録)."""
    page.goto(f"/meetings/{meeting_id}")
    page.get_by_test_id("meeting-sections").get_by_role("link", name=label, exact=True).click()
    expect(page.locator(".error-page")).to_have_count(0)


def schedule_meeting(page: Page) -> str:
    """Through the room page's button: today, started an hour ago (so attendance can be recorded)."""
    open_room(page)
    page.get_by_test_id("schedule-meeting").click()
    expect(page.locator("h1")).to_have_text("会議を設定")
    start = datetime.now(TOKYO) - timedelta(hours=1)
    page.get_by_label("表題", exact=True).fill(MEETING_TITLE)
    page.get_by_label("日付", exact=True).fill(start.strftime("%Y-%m-%d"))
    page.get_by_label("開始時刻", exact=True).fill(start.strftime("%H:%M"))
    page.get_by_label("所要時間(分)", exact=True).fill("180")
    page.get_by_label("開催場所またはオンライン会議のリンク").fill("中央合同庁舎8号館 会議室A")
    page.get_by_label("会議名・開催場所の秘密区分").select_option("1")  # 取扱注意
    response = submit_main_form(page)
    assert response.status == 302, response.status
    expect(page.get_by_test_id("meeting-title")).to_have_text(MEETING_TITLE)
    found = re.fullmatch(r"/meetings/([0-9a-f-]{36})", path_of(page))
    assert found, page.url
    return found.group(1)


def add_agenda_item(
    page: Page,
    title: str,
    presenter: str,
    minutes: int,
    level: str = "1",
    reason: str = "",
    output: str | None = None,
) -> None:
    page.get_by_role("link", name="議題を追加").click()
    page.get_by_label("議題", exact=True).fill(title)
    page.get_by_label("説明者", exact=True).fill(presenter)
    page.get_by_label("所要時間(分)", exact=True).fill(str(minutes))
    if output is not None:
        page.get_by_label(output, exact=True).check()
    page.get_by_label("秘密区分", exact=True).select_option(level)
    if reason:
        page.get_by_label("指定の理由", exact=True).fill(reason)
    response = submit_main_form(page)
    assert response.status == 302, response.status
    expect(page.get_by_test_id("agenda")).to_contain_text(title)


def add_portion(page: Page, heading: str, body: str, level: str, reason: str = "") -> None:
    page.get_by_role("link", name="部分を追加").click()
    page.get_by_label("見出し(任意)").fill(heading)
    page.get_by_label("本文", exact=True).fill(body)
    page.get_by_label("秘密区分", exact=True).select_option(level)
    if reason:
        page.get_by_label("指定の理由", exact=True).fill(reason)
    response = submit_main_form(page)
    assert response.status == 302, response.status
    expect(page.get_by_test_id("portion-list")).to_contain_text(body)


def duplicate_ids(page: Page) -> list[str]:
    """Ids of visible elements used more than once on the page (a label then names the wrong field)."""
    found: list[str] = page.evaluate(
        "() => { const seen = new Set(), twice = new Set();"
        " for (const e of document.querySelectorAll('[id]:not([type=hidden])'))"
        " { (seen.has(e.id) ? twice : seen).add(e.id); }"
        " return [...twice].sort(); }"
    )
    return found


def pdf_text(path: Path) -> str:
    """The text of a PDF (poppler's pdftotext), all white space removed: a line may wrap anywhere."""
    extracted = subprocess.run(
        ["pdftotext", "-nodiag", str(path), "-"], check=True, capture_output=True, text=True, timeout=30
    ).stdout
    return re.sub(r"\s+", "", extracted)


def download_pdf(page: Page, meeting_id: str, target: Path) -> str:
    """From the published minutes page, the export link labelled PDF: the file saved, its text returned."""
    page.goto(f"/meetings/{meeting_id}/minutes")
    with page.expect_download() as downloading:
        page.get_by_test_id("export-links").get_by_role("link", name="PDF", exact=True).click()
    download = downloading.value
    assert download.failure() is None, download.failure()
    assert download.suggested_filename.endswith(".pdf"), download.suggested_filename
    download.save_as(target)
    assert target.read_bytes().startswith(b"%PDF-")
    return pdf_text(target)


def click_step(page: Page, label: str) -> None:
    """A workflow button of the minutes page (a POST that redirects back to it)."""
    with page.expect_navigation(wait_until="load"):
        page.get_by_test_id("minutes-actions").get_by_role("button", name=label).click()
    expect(page.get_by_test_id("minutes-error")).to_have_count(0)


@pytest.fixture
def person(browser: Browser, portal_server: PortalServer) -> Iterator[Callable[[str], Page]]:
    """Signs a person in, in a browser profile of their own (closed after the test)."""
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


def test_meeting_cycle_from_scheduling_to_published_minutes(
    person: Callable[[str], Page], portal_server: PortalServer, screenshots: Path, tmp_path: Path
) -> None:
    server = portal_server
    # 1. The secretariat schedules the meeting, builds the agenda and publishes it.
    sato = person(SATO)
    meeting_id = schedule_meeting(sato)
    add_agenda_item(sato, LINKED_ITEM, "吉田 真理(経済安全保障総合研究機構)", 30, output=SUPPLY_CHAIN)
    add_agenda_item(sato, SECRET_ITEM, "東邦レアメタル", 20, level="2", reason="個社の在庫水準を含むため")
    add_agenda_item(sato, "今後の進め方", "事務局", 10)
    expect(sato.get_by_test_id("agenda-draft")).to_be_visible()
    with sato.expect_navigation(wait_until="load"):
        sato.get_by_role("button", name="議事次第を公開").click()
    expect(sato.get_by_test_id("agenda-published")).to_be_visible()
    expect(sato.get_by_test_id("agenda-item")).to_have_count(3)

    # 2. A member opens the meeting, sees the agenda and the linked output, and answers "attend".
    ito = person(ITO)
    open_room(ito)
    ito.get_by_role("link", name=MEETING_TITLE).click()
    assert path_of(ito) == f"/meetings/{meeting_id}"
    expect(ito.get_by_test_id("meeting-title")).to_have_text(MEETING_TITLE)
    linked = ito.get_by_test_id("agenda-item").filter(has_text=LINKED_ITEM)
    expect(linked.get_by_test_id("agenda-materials").get_by_role("link", name=SUPPLY_CHAIN)).to_be_visible()
    expect(ito.get_by_test_id("agenda")).to_contain_text(SECRET_ITEM)  # CESI clearance reads it
    expect(ito.get_by_test_id("agenda")).to_have_css("list-style-type", "none")  # the stylesheet applies
    assert duplicate_ids(ito) == []
    ito.screenshot(path=screenshots / "meeting-agenda-member.png", full_page=True)
    open_section(ito, meeting_id, "出欠")
    ito.get_by_test_id("answer-form").get_by_label("出席", exact=True).check()
    response = submit_main_form(ito)
    assert response.status == 302, response.status
    ito_name = user_row(server, ITO).display_name
    expect(ito.get_by_test_id("attendance-row").filter(has_text=ito_name)).to_contain_text("出席")

    # The Restricted observer sees the Confidential item as a withheld line, its title nowhere in the page.
    kobayashi = person(KOBAYASHI)
    kobayashi.goto(f"/meetings/{meeting_id}")
    items = kobayashi.get_by_test_id("agenda-item")
    expect(items).to_have_count(3)
    expect(items.nth(1).get_by_test_id("withheld")).to_have_text(WITHHELD_ITEM_EN)
    expect(items.nth(0)).to_contain_text(LINKED_ITEM)
    assert SECRET_ITEM not in kobayashi.content()
    assert "個社の在庫水準を含むため" not in kobayashi.content()
    kobayashi.screenshot(path=screenshots / "meeting-agenda-observer.png", full_page=True)

    # 3. The secretariat records who came (the meeting began an hour ago), posts a finding and an action
    # item, drafts the minutes in three portions at three levels and circulates them.
    tanaka_name = user_row(server, TANAKA).display_name
    kobayashi_name = user_row(server, KOBAYASHI).display_name
    open_section(sato, meeting_id, "出欠")
    record = sato.get_by_test_id("record-form")
    for name in (ito_name, tanaka_name, kobayashi_name):
        record.get_by_label(f"{name}の出欠").select_option("present")
    with sato.expect_navigation(wait_until="load"):
        record.get_by_role("button", name="出欠を記録").click()
    expect(sato.get_by_test_id("quorum-present")).not_to_contain_text("出欠は未記録です")
    for name in (ito_name, tanaka_name, kobayashi_name):
        expect(sato.get_by_test_id("record-form").get_by_label(f"{name}の出欠")).to_have_value("present")

    open_section(sato, meeting_id, "所見・行動項目")
    assert duplicate_ids(sato) == []
    finding = sato.get_by_test_id("finding-form")
    finding.get_by_label("所見・結論(Markdown)").fill(
        "ガリウムの代替調達先として**豪州**を優先的に検討する。"
    )
    with sato.expect_navigation(wait_until="load"):
        finding.get_by_role("button", name="所見を登録").click()
    expect(sato.get_by_test_id("finding-body")).to_contain_text("豪州")
    action = sato.get_by_test_id("action-form")
    action.get_by_label("行動項目", exact=True).fill("豪州の精錬事業者との面談を設定する")
    action.get_by_label("担当者", exact=True).select_option(str(user_row(server, ITO).id))
    action.get_by_label("期限", exact=True).fill(
        (datetime.now(TOKYO) + timedelta(days=30)).strftime("%Y-%m-%d")
    )
    with sato.expect_navigation(wait_until="load"):
        action.get_by_role("button", name="行動項目を追加").click()
    expect(sato.get_by_test_id("action").filter(has_text="豪州の精錬事業者との面談")).to_contain_text(
        ito_name
    )

    open_section(sato, meeting_id, "議事録")
    with sato.expect_navigation(wait_until="load"):
        sato.get_by_role("button", name="議事録の作成を開始").click()
    add_portion(sato, "1. 開会", PUBLIC_PORTION, "0")
    add_portion(sato, "2. 代替調達", RESTRICTED_PORTION, "1")
    add_portion(sato, "3. 在庫水準", CONFIDENTIAL_PORTION, "2", reason="個社の在庫水準を含むため")
    assert duplicate_ids(sato) == []
    click_step(sato, "確認のため回覧")
    expect(sato.get_by_test_id("revision-state")).to_have_text("確認のため回覧中")

    # 4. An attendee comments on a portion.
    ito.goto(f"/meetings/{meeting_id}/minutes")
    expect(ito.get_by_test_id("revision-state")).to_have_text("確認のため回覧中")
    portion = ito.get_by_test_id("portion").filter(has_text=RESTRICTED_PORTION)
    portion.get_by_label("確認コメント").fill("代替調達先にカナダも加えてください。")
    with ito.expect_navigation(wait_until="load"):
        portion.get_by_role("button", name="確認コメントを追加").click()
    expect(
        ito.get_by_test_id("portion").filter(has_text=RESTRICTED_PORTION).get_by_test_id("portion-comments")
    ).to_contain_text("カナダも加えて")

    # 5. The chair approves.
    tanaka = person(TANAKA)
    tanaka.goto(f"/meetings/{meeting_id}/minutes")
    expect(tanaka.get_by_test_id("portion-comments")).to_contain_text("カナダも加えて")
    click_step(tanaka, "議事録を承認")
    expect(tanaka.get_by_test_id("revision-state")).to_have_text("承認済み")

    # 6. The secretariat publishes; the minutes are published and locked (no editing left).
    sato.goto(f"/meetings/{meeting_id}/minutes")
    click_step(sato, "公開して確定")
    expect(sato.get_by_test_id("revision-state")).to_have_text("公開済み")
    expect(sato.get_by_test_id("published-hash")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    expect(sato.get_by_role("link", name="部分を追加")).to_have_count(0)
    expect(sato.get_by_test_id("portion").get_by_role("link", name="編集")).to_have_count(0)
    sato.screenshot(path=screenshots / "minutes-published-secretariat.png", full_page=True)

    kobayashi.goto(f"/meetings/{meeting_id}/minutes")
    expect(kobayashi.get_by_test_id("revision-state")).to_have_text("Published")
    portions = kobayashi.get_by_test_id("portion")
    expect(portions).to_have_count(3)
    expect(portions.nth(0)).to_contain_text(PUBLIC_PORTION)
    expect(portions.nth(1)).to_contain_text(RESTRICTED_PORTION)
    expect(portions.nth(2).get_by_test_id("withheld")).to_have_text(WITHHELD_PORTION_EN)
    assert CONFIDENTIAL_PORTION not in kobayashi.content()
    kobayashi.screenshot(path=screenshots / "minutes-published-observer.png", full_page=True)

    # 7. Two members with different clearances export the published minutes as PDF from the page: each
    # copy is made for its reader, so only the Confidential portion differs (a notice in its place).
    ito_copy = download_pdf(ito, meeting_id, tmp_path / "minutes-ito.pdf")
    kobayashi_copy = download_pdf(kobayashi, meeting_id, tmp_path / "minutes-kobayashi.pdf")
    for copy in (ito_copy, kobayashi_copy):
        assert PUBLIC_PORTION in copy and RESTRICTED_PORTION in copy
    assert CONFIDENTIAL_PORTION in ito_copy and WITHHELD_PORTION not in ito_copy
    assert CONFIDENTIAL_PORTION not in kobayashi_copy and WITHHELD_PORTION in kobayashi_copy
    assert ito_name.replace(" ", "") in ito_copy and kobayashi_name.replace(" ", "") in kobayashi_copy
    # The banner of each copy names the highest level it holds, in its reader's language: 秘 in 伊藤's,
    # 取扱注意 in 小林's (who reads English).
    assert ito_copy.startswith("秘|TLP:GREEN")
    assert kobayashi_copy.startswith("RESTRICTED(取扱注意)|TLP:GREEN")
    assert "CONFIDENTIAL" not in kobayashi_copy and "秘|" not in kobayashi_copy
