"""The secretariat's administration in a real browser: an invitation from the users page, the invited
person's first visit (password, two-step sign-in, recovery codes), and a clearance and a membership that
open a subcommittee and its Restricted material to them.

The server, browser and sign-in helpers come from tests/e2e/conftest.py; this module gets its own gunicorn
server on a fresh demo database (the fixture is module-scoped).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import Browser, Locator, Page, Response, expect

from portal.demo import DOCUMENTS, ROOMS
from portal.enums import Level
from tests.e2e.conftest import PortalServer, new_context, path_of, sign_in, user_row

pytestmark = pytest.mark.e2e

SATO = "sato@cao.example.jp"
NEWCOMER = "kimura@toho-raremetals.example.jp"
NEWCOMER_NAME = "木村 陽介"
ORGANIZATION = "東邦レアメタル株式会社"
NEW_PASSWORD = "Kimura-Toho-Portal-2026!"
MINERALS = next(room.name_ja for room in ROOMS if room.key == "minerals")
MINERALS_DOCUMENTS = [spec for spec in DOCUMENTS if spec.room == "minerals"]
RESTRICTED_TITLE = next(spec.title for spec in MINERALS_DOCUMENTS if spec.level == Level.RESTRICTED)
PUBLIC_TITLE = next(spec.title for spec in MINERALS_DOCUMENTS if spec.level == Level.PUBLIC)
HIGHER_TITLES = [spec.title for spec in MINERALS_DOCUMENTS if spec.level > Level.RESTRICTED]
RECOVERY_CODE = re.compile(r"^[a-z2-9]{5}-[a-z2-9]{5}$")


def submit(page: Page, form: Locator) -> Response:
    """Press the submit button of ``form`` and return the response to its POST (after the page loads)."""
    with (
        page.expect_navigation(wait_until="load"),
        page.expect_response(lambda response: response.request.method == "POST") as posted,
    ):
        form.locator("button[type=submit]").first.click()
    return posted.value


def field_errors(page: Page, field_id: str) -> Locator:
    return page.locator(f"#{field_id}-error li")


def test_an_invited_member_is_cleared_and_added_to_a_room(
    browser: Browser, portal_server: PortalServer
) -> None:
    secretariat_context = new_context(browser, portal_server)
    newcomer_context = new_context(browser, portal_server)
    try:
        admin = secretariat_context.new_page()
        sign_in(admin, portal_server, SATO)

        # --- the invitation, first with a mistake: the form comes back with everything typed kept ----
        admin.goto("/admin/users")
        invitation = admin.locator("form[action$='/admin/invitations']")
        invitation.locator("input[name=email]").fill(NEWCOMER)
        invitation.locator("select[name=organization]").select_option(label=ORGANIZATION)
        invitation.locator("input[name=roles][value=member]").check()
        invitation.locator("select[name=locale]").select_option("ja")
        refused = submit(admin, invitation)  # no name given

        assert refused.status == 400
        expect(field_errors(admin, "display_name")).to_have_count(1)
        expect(admin.locator("#display_name")).to_have_attribute("aria-invalid", "true")
        expect(invitation.locator("input[name=email]")).to_have_value(NEWCOMER)
        expect(invitation.locator("input[name=roles][value=member]")).to_be_checked()
        expect(invitation.locator("input[name=roles][value=secretariat]")).not_to_be_checked()
        expect(invitation.locator("select[name=organization] option:checked")).to_have_text(ORGANIZATION)
        expect(admin.get_by_test_id("invitation-link")).to_have_count(0)

        invitation.locator("input[name=display_name]").fill(NEWCOMER_NAME)
        created = submit(admin, invitation)
        assert created.status == 200
        link = admin.get_by_test_id("invitation-link").inner_text().strip()
        assert re.fullmatch(re.escape(portal_server.url("/invite/")) + r"[A-Za-z0-9_-]{40,}", link), link
        expect(admin.get_by_test_id("user-table")).to_contain_text(NEWCOMER)

        # --- the invited person's first visit: password, two-step sign-in, recovery codes -------------
        newcomer = newcomer_context.new_page()
        newcomer.goto(link)
        expect(newcomer.locator("h1")).to_contain_text(NEWCOMER_NAME)
        newcomer.locator("input[name=password]").fill(NEW_PASSWORD)
        newcomer.locator("input[name=confirm_password]").fill(NEW_PASSWORD)
        submit(newcomer, newcomer.locator("#main form"))
        expect(newcomer).to_have_url(portal_server.url("/enrol"))

        secret = "".join(newcomer.get_by_test_id("totp-secret").inner_text().split())
        assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
        newcomer.locator("input[name=code]").fill(pyotp.TOTP(secret).now())
        submit(newcomer, newcomer.locator("#main form"))
        expect(newcomer).to_have_url(portal_server.url("/enrol/recovery-codes"))
        codes = [
            code.strip() for code in newcomer.locator("[data-testid=recovery-codes] li").all_inner_texts()
        ]
        assert len(codes) == 10 and len(set(codes)) == 10
        assert all(RECOVERY_CODE.match(code) for code in codes), codes

        submit(newcomer, newcomer.locator("#main form"))
        expect(newcomer).to_have_url(portal_server.url("/"))
        expect(newcomer.locator("[data-testid=room-list]")).to_have_count(0)
        expect(newcomer.locator("#main p.empty")).to_be_visible()
        assert MINERALS not in newcomer.locator("#main").inner_text()
        assert user_row(portal_server, NEWCOMER).mfa_enrolled

        # The link worked once.
        again = newcomer_context.new_page()
        response = again.goto(link)
        assert response is not None and response.status == 404
        again.close()

        # --- the secretariat records a clearance and a membership on the user's page ------------------
        admin.goto("/admin/users")
        admin.get_by_role("link", name=NEWCOMER_NAME).click()
        user_id = user_row(portal_server, NEWCOMER).id
        expect(admin).to_have_url(portal_server.url(f"/admin/users/{user_id}"))

        clearance = admin.locator("form[action$='/clearance']")
        clearance.locator("select[name=level]").select_option(str(int(Level.CESI)))
        clearance.locator("textarea[name=reason]").fill("重要鉱物分科会への参加")
        refused = submit(admin, clearance)  # CESI without a suitability evaluation
        assert refused.status == 400
        expect(field_errors(admin, "evaluation_reference")).to_have_count(1)
        expect(clearance.locator("select[name=level]")).to_have_value(str(int(Level.CESI)))
        expect(clearance.locator("textarea[name=reason]")).to_have_value("重要鉱物分科会への参加")

        clearance.locator("select[name=level]").select_option(str(int(Level.RESTRICTED)))
        granted = submit(admin, clearance)
        assert granted.status == 302
        expect(admin).to_have_url(portal_server.url(f"/admin/users/{user_id}"))
        expect(admin.locator(".notice--success")).to_be_visible()
        expect(
            admin.get_by_test_id("clearance-state").locator(f".level--{int(Level.RESTRICTED)}")
        ).to_be_visible()

        membership = admin.locator("form[action$='/memberships']")
        membership.locator("select[name=room]").select_option(label=MINERALS)
        membership.locator("select[name=room_role]").select_option("member")
        added = submit(admin, membership)
        assert added.status == 302
        expect(admin.get_by_test_id("membership-list")).to_contain_text(MINERALS)

        # --- the new member reloads: the room is there, with its Restricted material ----------------
        newcomer.reload()
        titles = newcomer.locator("[data-testid=room-list] .room-card__title")
        expect(titles).to_have_count(1)
        expect(titles).to_have_text(MINERALS)
        titles.get_by_role("link", name=MINERALS).click()
        expect(newcomer.locator("h1")).to_have_text(MINERALS)
        documents = newcomer.get_by_test_id("document-list")
        expect(documents).to_contain_text(RESTRICTED_TITLE)
        expect(documents).to_contain_text(PUBLIC_TITLE)
        listed = documents.inner_text()
        assert not [title for title in HIGHER_TITLES if title in listed], listed

        documents.get_by_role("link", name=RESTRICTED_TITLE).click()
        expect(newcomer.locator("h1")).to_have_text(RESTRICTED_TITLE)
        expect(newcomer.get_by_test_id("marking-top")).to_be_visible()
        assert path_of(newcomer).startswith(urlsplit(portal_server.url("/rooms/")).path)
    finally:
        secretariat_context.close()
        newcomer_context.close()
