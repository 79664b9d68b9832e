"""Documents in a real browser: Markdown, versions with comparison, a stale edit's conflict page, attachments
up and down, comments and reclassification — as a member does it, against gunicorn and the database."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from portal.documents.models import Document
from portal.enums import Level
from portal.rooms.models import Subcommittee
from tests.e2e.conftest import PortalServer, new_context, sign_in, submit_main_form

pytestmark = pytest.mark.e2e

TANAKA = "tanaka@meti.example.jp"
SATO = "sato@cao.example.jp"
KOBAYASHI = "kobayashi@toto-u.example.jp"


def minerals_room(server: PortalServer) -> uuid.UUID:
    with server.database.session_scope() as session:
        found = session.scalar(select(Subcommittee.id).where(Subcommittee.name_ja == "重要鉱物分科会"))
    assert found is not None
    return found


def create_document(page: Page, server: PortalServer, title: str, body: str) -> str:
    page.goto(f"/rooms/{minerals_room(server)}/documents/new")
    page.locator("input[name=title]").fill(title)
    page.locator("textarea[name=body]").fill(body)
    submit_main_form(page)
    expect(page.locator("h1")).to_have_text(title)
    return page.url


def test_markdown_versions_conflict_attachments_comments_and_reclassification(
    browser: Browser, context: BrowserContext, portal_server: PortalServer, screenshots: Path, tmp_path: Path
) -> None:
    page = context.new_page()
    sign_in(page, portal_server, TANAKA)
    title = f"レアアース調達状況メモ {uuid.uuid4().hex[:6]}"
    body = "## 概要\n\n- 輸入量は**減少**\n- [統計](https://example.jp/stat)\n\n<script>alert('x')</script>\n"
    url = create_document(page, portal_server, title, body)

    # Markdown became markup; the script is text, and no dialog ever opens.
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    document_body = page.locator("[data-testid=document-body]")
    expect(document_body.locator("h2")).to_have_text("概要")
    expect(document_body.locator("strong")).to_have_text("減少")
    expect(document_body.locator("a")).to_have_attribute("rel", "noopener noreferrer")
    expect(document_body).to_contain_text("<script>alert('x')</script>")
    assert document_body.locator("script").count() == 0

    # Two people open the editor; the first saves, the second is stopped by the conflict page.
    page.get_by_role("link", name="編集").click()
    other_context = new_context(browser, portal_server)
    try:
        other = other_context.new_page()
        sign_in(other, portal_server, SATO)
        other.goto(page.url)
        page.locator("textarea[name=body]").fill(body + "\n追記: 価格は上昇傾向。\n")
        page.locator("input[name=summary]").fill("価格の追記")
        submit_main_form(page)
        expect(page.locator("[data-testid=document-body]")).to_contain_text("価格は上昇傾向")
        other.locator("textarea[name=body]").fill("事務局による別の書き換え")
        response = submit_main_form(other)
        assert response.status == 409
        expect(other.locator("textarea[name=body]")).to_have_value("事務局による別の書き換え")
        expect(other.locator("body")).to_contain_text("価格は上昇傾向")  # the newer text is shown beside it
        other.screenshot(path=screenshots / "conflict.png", full_page=True)
    finally:
        other_context.close()

    # History: compare v1 and v2 side by side.
    page.goto(url + "/history")
    page.locator("input[name=a][value='1']").check()
    page.locator("input[name=b][value='2']").check()
    page.get_by_role("button", name="比較").click()
    expect(page.locator("[data-testid=diff] ins", has_text="価格は上昇傾向")).to_have_count(1)

    # Attach two files, see them listed, download one and get the same bytes back.
    page.goto(url)
    csv = tmp_path / "輸入量.csv"
    csv.write_text("年月,輸入量\n2024-01,12\n", encoding="utf-8")
    pdf = tmp_path / "note.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n")
    page.locator("input[name=files]").set_input_files([str(csv), str(pdf)])
    page.get_by_role("button", name="添付する").click()
    listed = page.locator("[data-testid=attachment-list]")
    expect(listed).to_contain_text("輸入量.csv")
    expect(listed).to_contain_text("note.pdf")
    with page.expect_download() as downloading:
        listed.get_by_role("link", name="輸入量.csv").click()
    download = downloading.value
    assert download.suggested_filename == "輸入量.csv"
    assert Path(download.path()).read_bytes() == csv.read_bytes()

    # A file that is not an allowed kind is refused with a reason; nothing is added.
    fake = tmp_path / "report.pdf"
    fake.write_bytes(b"<!DOCTYPE html><script>alert(1)</script>")
    page.locator("input[name=files]").set_input_files(str(fake))
    page.get_by_role("button", name="添付する").click()
    expect(page.locator("[data-testid=attachment-errors]")).to_contain_text("report.pdf")
    expect(page.locator("[data-testid=attachment-list] tbody tr")).to_have_count(2)

    # A comment, shown as text.
    page.locator("textarea[name=body]").fill("価格の出典を確認します <b>要確認</b>")
    page.get_by_role("button", name="コメントを追加").click()
    expect(page.locator("[data-testid=comment-list]")).to_contain_text("<b>要確認</b>")

    # Raise the level to 秘 with a reason; the banner says so; a RESTRICTED observer loses it.
    page.locator("summary", has_text="区分を変更する").click()
    form = page.locator("[data-testid=reclassify-form]")
    form.locator("select[name=level]").select_option("2")
    form.locator("textarea[name=reason]").fill("企業別の輸入実績を含めるため")
    form.get_by_role("button", name="区分を変更する").click()
    expect(page.locator(".marking--top .marking__level")).to_have_text("秘")
    expect(page.locator("[data-testid=reclassification-history]")).to_contain_text(
        "企業別の輸入実績を含めるため"
    )
    page.screenshot(path=screenshots / "document.png", full_page=True)
    assert not dialogs
    document_id = uuid.UUID(url.rsplit("/", 1)[-1])
    with portal_server.database.session_scope() as session:
        stored = session.get(Document, document_id)
        assert stored is not None and stored.level == Level.CONFIDENTIAL

    observer_context = new_context(browser, portal_server)
    try:
        observer = observer_context.new_page()
        sign_in(observer, portal_server, KOBAYASHI)
        response = observer.goto(url)
        assert response is not None and response.status == 404
    finally:
        observer_context.close()
