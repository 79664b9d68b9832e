"""The portal in a real browser: sign-in with TOTP, rooms and their limits, language, enrolment,
throttling, revoking sessions and the idle timeout. One gunicorn server serves the whole module."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, expect
from sqlalchemy import select

from portal.accounts.models import LoginSession
from portal.demo import ROOMS, USERS
from portal.rooms.models import Subcommittee
from tests.e2e.conftest import (
    PortalServer,
    new_context,
    path_of,
    sign_in,
    sign_out,
    submit_main_form,
    submit_password,
    totp_secret,
    user_row,
)

pytestmark = pytest.mark.e2e

TANAKA = "tanaka@meti.example.jp"
YAMADA = "yamada@meti.example.jp"
SUZUKI = "suzuki@mlit.example.jp"
SATO = "sato@cao.example.jp"
#: Used only by the throttling test: it ends locked out.
WATANABE = "watanabe@setouchi-zosen.example.jp"

ROOM_NAMES = {room.key: (room.name_ja, room.name_en) for room in ROOMS}
RECOVERY_CODE = re.compile(r"^[a-z2-9]{5}-[a-z2-9]{5}$")


def room_id(server: PortalServer, name_ja: str) -> uuid.UUID:
    with server.database.session_scope() as session:
        found = session.scalar(select(Subcommittee.id).where(Subcommittee.name_ja == name_ja))
    assert found is not None, name_ja
    return found


def member_names(room_key: str) -> set[str]:
    return {user.name for user in USERS if room_key in {key for key, _role in user.rooms}}


def test_member_sees_only_his_rooms_and_switches_to_english(
    context: BrowserContext, portal_server: PortalServer, screenshots: Path
) -> None:
    page = context.new_page()
    sign_in(page, portal_server, TANAKA)

    # The overview lists exactly his two rooms, in Japanese.
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    titles = page.locator("[data-testid=room-list] .room-card__title")
    expect(titles).to_have_count(2)
    assert sorted(titles.all_inner_texts()) == sorted(
        [ROOM_NAMES["minerals"][0], ROOM_NAMES["shipbuilding"][0]]
    )
    body = page.locator("body").inner_text()
    assert ROOM_NAMES["agi"][0] not in body
    assert ROOM_NAMES["infrastructure"][0] not in body
    page.screenshot(path=screenshots / "overview.png", full_page=True)

    # His room, with its member list (the chair, himself, first).
    page.get_by_test_id("room-list").get_by_role("link", name=ROOM_NAMES["minerals"][0]).click()
    expect(page).to_have_url(portal_server.url(f"/rooms/{room_id(portal_server, ROOM_NAMES['minerals'][0])}"))
    expect(page.locator("h1")).to_have_text(ROOM_NAMES["minerals"][0])
    page.get_by_test_id("member-link").click()
    names = page.locator("[data-testid=member-list] .member-list__name")
    expect(names.first).to_have_text("田中 浩")
    assert set(names.all_inner_texts()) == member_names("minerals")

    # Rooms he is not in answer exactly like rooms that do not exist.
    for key in ("agi", "infrastructure"):
        name_ja, name_en = ROOM_NAMES[key]
        response = page.goto(f"/rooms/{room_id(portal_server, name_ja)}")
        assert response is not None and response.status == 404
        expect(page.locator(".error-page__status")).to_have_text("404")
        expect(page.get_by_test_id("request-id")).not_to_be_empty()
        content = page.content()
        assert name_ja not in content and name_en not in content
    response = page.goto(f"/rooms/{uuid.uuid4()}")
    assert response is not None and response.status == 404

    # The language switch: the same page, now in English, remembered for the account.
    page.goto("/")
    page.get_by_test_id("locale-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(re.escape(portal_server.url("/")) + r"\??$"))
    expect(page.locator("h1")).to_have_text("My rooms")
    page.get_by_test_id("room-list").get_by_role("link", name=ROOM_NAMES["minerals"][1]).click()
    expect(page.locator("h1")).to_have_text(ROOM_NAMES["minerals"][1])
    page.get_by_test_id("member-link").click()
    expect(page.locator("[data-testid=member-list]")).to_contain_text(
        "Ministry of Economy, Trade and Industry"
    )
    page.screenshot(path=screenshots / "room-en.png", full_page=True)

    sign_out(page, portal_server)
    sign_in(page, portal_server, TANAKA)  # the same 30-second step: needs the next step's code
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("My rooms")
    assert user_row(portal_server, TANAKA).locale == "en"


def test_first_sign_in_enrols_mfa_and_shows_recovery_codes(
    context: BrowserContext, portal_server: PortalServer
) -> None:
    assert not user_row(portal_server, YAMADA).mfa_enrolled
    page = context.new_page()
    submit_password(page, YAMADA)
    expect(page).to_have_url(portal_server.url("/enrol"))

    qr = page.locator("img.qr")
    expect(qr).to_be_visible()
    assert (qr.get_attribute("src") or "").startswith("data:image/svg+xml")
    # Rendered, not blocked by the Content-Security-Policy.
    assert qr.evaluate("image => image.complete && image.naturalWidth > 0")

    secret = "".join(page.get_by_test_id("totp-secret").inner_text().split())
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    page.locator("input[name=code]").fill(pyotp.TOTP(secret).now())
    submit_main_form(page)

    expect(page).to_have_url(portal_server.url("/enrol/recovery-codes"))
    codes = page.locator("[data-testid=recovery-codes] li")
    expect(codes).to_have_count(10)
    texts = [text.strip() for text in codes.all_inner_texts()]
    assert all(RECOVERY_CODE.match(text) for text in texts), texts
    assert len(set(texts)) == 10

    submit_main_form(page)
    expect(page).to_have_url(portal_server.url("/"))
    expect(page.locator("[data-testid=room-list]")).to_contain_text(ROOM_NAMES["minerals"][0])
    enrolled = user_row(portal_server, YAMADA)
    assert enrolled.mfa_enrolled and totp_secret(portal_server, YAMADA) == secret
    assert enrolled.totp_secret_sealed is not None and secret.encode() not in enrolled.totp_secret_sealed

    # The codes were shown once: the page does not show them again.
    page.goto("/enrol/recovery-codes")
    expect(page).to_have_url(portal_server.url("/"))


def test_repeated_wrong_passwords_pause_sign_in(context: BrowserContext, portal_server: PortalServer) -> None:
    page = context.new_page()
    statuses = [submit_password(page, WATANABE, f"wrong-password-{attempt}").status for attempt in range(5)]
    # The fifth failure reaches the limit and already starts the pause.
    assert statuses == [401, 401, 401, 401, 429]

    response = submit_password(page, WATANABE)  # the right password, now refused
    assert response.status == 429
    assert path_of(page) == "/login"
    notice = page.locator("#main .notice--error[role=alert]")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text(re.compile(r"一時停止|paused"))
    expect(page.locator("input[name=password]")).to_have_value("")


def test_signing_out_other_sessions_ends_them(browser: Browser, portal_server: PortalServer) -> None:
    first = new_context(browser, portal_server)
    second = new_context(browser, portal_server)
    try:
        page_a = first.new_page()
        page_b = second.new_page()
        sign_in(page_a, portal_server, SUZUKI)
        sign_in(page_b, portal_server, SUZUKI)  # the same step again: the next step's code

        page_a.goto("/account")
        expect(page_a.get_by_test_id("session-row")).to_have_count(2)
        page_a.locator("form[action$='/account/sessions/revoke-others'] button[type=submit]").click()
        expect(page_a).to_have_url(portal_server.url("/account"))
        expect(page_a.locator(".notice--success")).to_be_visible()
        expect(page_a.get_by_test_id("session-row")).to_have_count(1)

        page_b.goto("/account")
        assert path_of(page_b) == "/login"
        expect(page_b.locator("input[name=email]")).to_be_visible()

        page_a.goto("/")  # the session that asked is still signed in
        assert path_of(page_a) == "/"
    finally:
        first.close()
        second.close()


def test_idle_session_is_signed_out_with_a_message(
    context: BrowserContext, portal_server: PortalServer
) -> None:
    page = context.new_page()
    sign_in(page, portal_server, SATO)
    page.wait_for_load_state("networkidle")  # no request of this page may touch the session later

    user_id = user_row(portal_server, SATO).id
    with portal_server.database.session_scope() as session:
        records = session.scalars(
            select(LoginSession).where(LoginSession.user_id == user_id, LoginSession.stage == "active")
        ).all()
        assert len(records) == 1
        record_id = records[0].id
        records[0].last_seen_at -= timedelta(minutes=31)

    page.goto("/")
    assert path_of(page) == "/login"
    notice = page.locator("#main .notice--warning[role=alert]")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text(re.compile(r"30分間|30 minutes"))
    with portal_server.database.session_scope() as session:
        assert session.get(LoginSession, record_id) is None
