"""A three-inject tabletop exercise run to its findings in a real browser, each person in their own browser
profile: the chair of the infrastructure room (高橋, English interface) plans the exercise and its timeline,
starts it and reveals the injects one by one; a participant (鈴木, Japanese) sees each inject appear only
after reloading, and records a response; a member who does not take part sees none; the facilitator ends
the exercise, writes an after-action finding with an action item and flags an affected risk; the finding
and the action item then appear on the findings page of the exercise's meeting record."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import PortalServer, new_context, path_of, sign_in, user_row

pytestmark = pytest.mark.e2e

TAKAHASHI = "takahashi@mic.example.jp"  # chair, facilitator; reads English
SUZUKI = "suzuki@mlit.example.jp"  # participant; reads Japanese
YOSHIDA = "yoshida@icess.example.jp"  # member of the room, not taking part
ROOM = "Critical Infrastructure Outage Subcommittee"

TITLE = f"広域停電の連鎖障害 演習 {uuid.uuid4().hex[:4]}"
INJECTS = [
    ("T+0:00", "基幹送電線2ルートが事故停止し、管内の約4割が停電。", "北辰電力", "全参加者"),
    ("T+0:30", "携帯基地局の約3割が非常用バッテリーで運用中。持続は3〜6時間。", "通信事業者A社", "総務省"),
    ("T+1:30", "決済データセンターが自家発電に切替。燃料は約24時間分。", "決済事業者", "金融庁"),
]
FINDING = "電源車の配備調整に2時間以上を要した。配備の優先順位を平時に合意しておく。"
ACTION = "電源車配備の優先順位案を作成する"


def submit(form: Locator, page: Page) -> int:
    """Click a form's submit button; the status of the POST it sends."""
    with (
        page.expect_navigation(wait_until="load"),
        page.expect_response(lambda response: response.request.method == "POST") as posted,
    ):
        form.locator("button[type=submit]").click()
    return posted.value.status


def press(page: Page, testid: str) -> None:
    """A one-button form (start, reveal, end): its POST redirects back to the exercise."""
    with page.expect_navigation(wait_until="load"):
        page.get_by_test_id(testid).click()
    expect(page.locator(".error-page")).to_have_count(0)


def plan_exercise(page: Page, facilitator_id: str, participant_id: str) -> str:
    page.goto("/")
    page.get_by_role("link", name=ROOM).first.click()
    expect(page.get_by_test_id("exercises-panel")).to_be_visible()
    page.get_by_test_id("new-exercise").click()
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Scenario (Markdown)").fill("冬季夕方、送電網の事故停止が**通信と決済**へ連鎖する。")
    page.get_by_label("Date of the exercise").fill((date.today() + timedelta(days=1)).isoformat())
    page.get_by_label("Facilitator").select_option(facilitator_id)
    form = page.get_by_test_id("exercise-form")
    form.locator(f"input[name=participants][value='{participant_id}']").check()
    page.get_by_label("Classification level").select_option("1")
    assert submit(form, page) == 302
    expect(page.get_by_test_id("exercise-title")).to_have_text(TITLE)
    found = re.fullmatch(r"/exercises/([0-9a-f-]{36})", path_of(page))
    assert found, page.url
    for offset, text, sender, recipient in reversed(INJECTS):  # written out of order: the timeline sorts
        page.get_by_test_id("add-inject").click()
        page.get_by_label("Time (T+h:mm)").fill(offset)
        page.get_by_label("Inject", exact=True).fill(text)
        page.get_by_label("From (role or organisation)").fill(sender)
        page.get_by_label("To (role or organisation)").fill(recipient)
        page.get_by_label("Expected action").fill("初動の確認と第一報")
        page.get_by_label("Classification level").select_option("1")
        assert submit(page.get_by_test_id("inject-form"), page) == 302
    expect(page.get_by_test_id("inject-offset")).to_have_text([offset for offset, *_ in INJECTS])
    return found.group(1)


def test_a_three_inject_exercise_runs_to_its_findings(
    browser: Browser, portal_server: PortalServer, screenshots: Path
) -> None:
    facilitator_context = new_context(browser, portal_server)
    participant_context = new_context(browser, portal_server)
    bystander_context = new_context(browser, portal_server)
    try:
        facilitator = facilitator_context.new_page()
        sign_in(facilitator, portal_server, TAKAHASHI)
        exercise_id = plan_exercise(
            facilitator, str(user_row(portal_server, TAKAHASHI).id), str(user_row(portal_server, SUZUKI).id)
        )
        exercise_path = f"/exercises/{exercise_id}"

        participant = participant_context.new_page()
        sign_in(participant, portal_server, SUZUKI)
        participant.goto(exercise_path)
        expect(participant.get_by_test_id("no-injects")).to_be_visible()
        expect(participant.get_by_test_id("exercise-status")).to_have_text("予定")

        press(facilitator, "start")
        for shown in range(1, 4):
            press(facilitator, "reveal")
            expect(participant.get_by_test_id("inject")).to_have_count(shown - 1)  # not before a reload
            if shown > 1:
                participant.get_by_test_id("reload").click()
            else:
                participant.reload()
            expect(participant.get_by_test_id("inject")).to_have_count(shown)
            expect(participant.get_by_test_id("inject-text")).to_have_text(
                [text for _o, text, *_ in INJECTS[:shown]]
            )
            for _offset, later, *_rest in INJECTS[shown:]:
                expect(participant.locator("#main")).not_to_contain_text(later)
            expect(participant.get_by_test_id("expected-action")).to_have_count(0)
            if shown == 1:
                form = participant.get_by_test_id("response-form").first
                form.get_by_label("あなたの対応").fill("社内対策本部を設置し、第一報を送った。")
                assert submit(form, participant) == 302
                expect(participant.get_by_test_id("response-body")).to_have_text(
                    "社内対策本部を設置し、第一報を送った。"
                )
        expect(participant.get_by_test_id("revealed-at")).to_have_count(3)
        participant.screenshot(path=screenshots / "tabletop-participant.png", full_page=True)

        bystander = bystander_context.new_page()
        sign_in(bystander, portal_server, YOSHIDA)
        bystander.goto(exercise_path)
        expect(bystander.get_by_test_id("not-participant")).to_be_visible()
        expect(bystander.locator("#main")).not_to_contain_text(INJECTS[0][1])

        expect(facilitator.get_by_test_id("reveal")).to_have_count(0)  # every inject is out
        press(facilitator, "finish")
        facilitator.get_by_test_id("after-action").click()
        form = facilitator.get_by_test_id("after-action-form")
        form.get_by_label("Finding (Markdown)").fill(FINDING)
        form.get_by_label("Action item (optional)").fill(ACTION)
        form.get_by_label("Owner").select_option(label="鈴木 由美")
        form.get_by_label("Due date").fill((date.today() + timedelta(days=30)).isoformat())
        form.get_by_label("Classification level").select_option("1")
        assert submit(form, facilitator) == 302
        risks = facilitator.get_by_test_id("risk-form")
        risks.get_by_label("広域停電(ブラックアウト)").check()
        assert submit(risks, facilitator) == 302
        expect(facilitator.get_by_test_id("risk-flags")).to_contain_text("広域停電(ブラックアウト)")

        participant.goto(exercise_path)
        expect(participant.get_by_test_id("exercise-status")).to_have_text("終了")
        expect(participant.get_by_test_id("affected-risks")).to_have_text("広域停電(ブラックアウト)")
        participant.get_by_test_id("findings-link").click()
        expect(participant.locator("#main")).to_contain_text(f"机上演習 {TITLE}")
        expect(participant.locator("#main")).to_contain_text(FINDING)
        expect(participant.locator("#main")).to_contain_text(ACTION)
        participant.screenshot(path=screenshots / "tabletop-findings.png", full_page=True)
    finally:
        facilitator_context.close()
        participant_context.close()
        bystander_context.close()
