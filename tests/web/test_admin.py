"""The secretariat's administration pages: organisations, invitations, clearances, compartments,
memberships, suspension, caveats and rooms. Every change is checked in the database and in the audit
trail; anyone but the secretariat gets 403 on every administration page and POST, each audited.

Posts go through the test client with a CSRF token read from a page, exactly as a browser sends them.
Messages are compared as the portal renders them in the user's language (tests/web/support.translated).
"""

from __future__ import annotations

import html
import json
import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import func, select, update
from werkzeug.test import TestResponse

from portal.accounts.caveats import Caveat, UserCaveat
from portal.accounts.models import Clearance, Invitation, LoginSession, Organization, User
from portal.db import Database, utcnow
from portal.demo import ROOMS
from portal.enums import ClearanceBasis, Level, OrganizationKind, Role, RoomRole, SubcommitteeKind
from portal.rooms.models import Membership, Subcommittee
from portal.security import mfa, policy
from portal.security.audit_models import AuditEntry
from portal.security.web import declared_action
from tests.conftest import csrf_token, evaluation_reference_of, sign_in, user_by_email
from tests.web.support import recovery_codes_on, submit_code, submit_password, text, translated

SATO = "sato@cao.example.jp"  # secretariat
TANAKA = "tanaka@meti.example.jp"  # member, CESI; chair of the minerals room
WATANABE = "watanabe@setouchi-zosen.example.jp"  # member, RESTRICTED; shipbuilding only
INOUE = "inoue@cao.example.jp"  # system administrator (not the secretariat)
MATSUMOTO = "matsumoto@cao.example.jp"  # auditor

MINERALS = next(room for room in ROOMS if room.key == "minerals")
NEW_PASSWORD = "Shinki-Kaiin-Pass-2026!"
NO_ROOMS = "You do not belong to any subcommittee yet. The secretariat adds members to rooms."
INVALID_INVITATION = "This invitation link is not valid. It may have expired or been used."
INVITATION_LINK = re.compile(r'data-testid="invitation-link">([^<]+)</code>')


# --- reading pages --------------------------------------------------------------------------------


def input_value(page: str, name: str) -> str | None:
    """The value attribute of the <input name=...> on the page (unescaped), or None."""
    tag = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', page)
    if tag is None:
        return None
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return html.unescape(value.group(1)) if value else ""


def textarea_value(page: str, name: str) -> str | None:
    found = re.search(rf'<textarea[^>]*\bname="{re.escape(name)}"[^>]*>(.*?)</textarea>', page, re.DOTALL)
    return html.unescape(found.group(1)).strip() if found else None


def selected_values(page: str, name: str) -> list[str]:
    """The selected options of a <select name=...>, or the checked boxes named ``name``."""
    select_tag = re.search(rf'<select[^>]*\bname="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.DOTALL)
    if select_tag is not None:
        return re.findall(r'<option selected value="([^"]*)"', select_tag.group(1))
    boxes = re.findall(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', page)
    return [value for box in boxes if " checked" in box for value in re.findall(r'value="([^"]*)"', box)]


def field_errors(page: str, field_id: str) -> list[str]:
    """The messages shown under a field (macros/forms.html: <ul class="field__errors" id="<id>-error">)."""
    found = re.search(
        rf'<ul class="field__errors" id="{re.escape(field_id)}-error">(.*?)</ul>', page, re.DOTALL
    )
    return re.findall(r"<li>(.*?)</li>", found.group(1), re.DOTALL) if found else []


def form_errors(page: str) -> list[str]:
    found = re.search(r'<div class="notice notice--error" role="alert">(.*?)</div>', page, re.DOTALL)
    return re.findall(r"<p>(.*?)</p>", found.group(1), re.DOTALL) if found else []


# --- acting -----------------------------------------------------------------------------------------


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None) -> TestResponse:
    """A form POST with the CSRF token a page of this client carries."""
    return client.post(path, data={"csrf_token": csrf_token(client, "/account"), **(data or {})})


def redirected_to(response: TestResponse, path: str) -> bool:
    return response.status_code == 302 and urlsplit(response.headers["Location"]).path == path


@pytest.fixture
def secretariat(client: FlaskClient, demo: Database) -> FlaskClient:
    return sign_in(client, demo, SATO)


def signed_in(app: Flask, database: Database, email: str) -> FlaskClient:
    """Another browser, signed in as ``email``."""
    return sign_in(app.test_client(), database, email)


def row_id(database: Database, model: Any, **where: Any) -> uuid.UUID:
    with database.session_scope() as session:
        statement = select(model.id)
        for column, value in where.items():
            statement = statement.where(getattr(model, column) == value)
        found = session.scalar(statement)
    assert found is not None, (model, where)
    return found


def room_id(database: Database, name_ja: str = MINERALS.name_ja) -> uuid.UUID:
    return row_id(database, Subcommittee, name_ja=name_ja)


# --- the audit trail ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    seq: int
    actor_id: uuid.UUID | None
    action: str
    object_type: str | None
    object_id: str | None
    level: int | None
    allowed: bool
    reason: str
    detail: dict[str, Any]


def audit_mark(database: Database) -> int:
    with database.session_scope() as session:
        return int(session.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0))) or 0)


def entries_since(database: Database, mark: int) -> list[Entry]:
    with database.session_scope() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.seq > mark).order_by(AuditEntry.seq)).all()
        return [
            Entry(
                row.seq,
                row.actor_id,
                row.action,
                row.object_type,
                row.object_id,
                row.level,
                row.allowed,
                row.reason,
                json.loads(row.detail),
            )
            for row in rows
        ]


def assert_audited(
    database: Database,
    mark: int,
    action: str,
    *,
    actor: str = SATO,
    object_id: object | None = None,
    allowed: bool = True,
    reason: str = "OK",
) -> Entry:
    """Exactly one entry of ``action`` was written since ``mark``, by ``actor``, with this outcome."""
    written = entries_since(database, mark)
    matching = [entry for entry in written if entry.action == action]
    assert len(matching) == 1, [(entry.action, entry.allowed, entry.reason) for entry in written]
    entry = matching[0]
    assert entry.actor_id == user_by_email(database, actor).id
    assert (entry.allowed, entry.reason) == (allowed, reason)
    if object_id is not None:
        assert entry.object_id == str(object_id)
    if allowed:
        assert not [e for e in written if not e.allowed], "an allowed change came with a denial"
    return entry


def assert_not_audited(database: Database, mark: int, prefix: str = "admin.") -> None:
    changes = [entry.action for entry in entries_since(database, mark) if entry.action.startswith(prefix)]
    assert changes == [], changes


# --- organisations --------------------------------------------------------------------------------


def test_the_secretariat_creates_an_organisation(secretariat: FlaskClient, demo: Database) -> None:
    mark = audit_mark(demo)
    response = post(
        secretariat,
        "/admin/organizations",
        {
            "name_ja": "東洋半導体株式会社",
            "name_en": "Toyo Semiconductor Co., Ltd.",
            "kind": "private",
            "qualification_reference": "TEKIGO-2026-0001",
            "qualified_until": "2027-03-31",
        },
    )

    assert redirected_to(response, "/admin/organizations")
    with demo.session_scope() as session:
        org = session.scalar(select(Organization).where(Organization.name_ja == "東洋半導体株式会社"))
        assert org is not None
        assert (org.name_en, org.kind) == ("Toyo Semiconductor Co., Ltd.", OrganizationKind.PRIVATE)
        assert (org.qualification_reference, org.qualified_until) == ("TEKIGO-2026-0001", date(2027, 3, 31))
        org_id = org.id
    entry = assert_audited(demo, mark, "admin.organization_create", object_id=org_id)
    assert entry.detail == {"kind": "private"}
    assert "東洋半導体株式会社" in text(secretariat.get("/admin/organizations"))


def test_an_invalid_organisation_keeps_the_typed_values(
    app: Flask, secretariat: FlaskClient, demo: Database
) -> None:
    mark = audit_mark(demo)
    with demo.session_scope() as session:
        before = session.scalar(select(func.count()).select_from(Organization))

    response = post(
        secretariat,
        "/admin/organizations",
        {
            "name_ja": "東洋半導体株式会社",
            "name_en": "",
            "kind": "private",
            "qualification_reference": "TEKIGO-2026-0001",
            "qualified_until": "",
        },
    )

    assert response.status_code == 400
    page = text(response)
    assert input_value(page, "name_ja") == "東洋半導体株式会社"
    assert input_value(page, "qualification_reference") == "TEKIGO-2026-0001"
    assert selected_values(page, "kind") == ["private"]
    assert field_errors(page, "name_en") == [translated(app, "This field is required.")]
    assert field_errors(page, "qualified_until") == [
        translated(app, "Give the last day the qualification is valid.")
    ]
    assert 'aria-invalid="true"' in page
    with demo.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Organization)) == before
    assert_not_audited(demo, mark)


def test_a_qualification_for_a_government_organisation_is_refused_with_the_form_kept(
    app: Flask, secretariat: FlaskClient, demo: Database
) -> None:
    mark = audit_mark(demo)
    response = post(
        secretariat,
        "/admin/organizations",
        {
            "name_ja": "防衛装備庁",
            "name_en": "Acquisition, Technology & Logistics Agency",
            "kind": "government",
            "qualification_reference": "TEKIGO-2026-0002",
            "qualified_until": "2027-03-31",
        },
    )

    assert response.status_code == 400
    page = text(response)
    assert form_errors(page) == [translated(app, "Only private companies carry a qualification.")]
    assert input_value(page, "name_en") == "Acquisition, Technology & Logistics Agency"
    assert selected_values(page, "kind") == ["government"]
    with demo.session_scope() as session:
        assert session.scalar(select(Organization).where(Organization.name_ja == "防衛装備庁")) is None
    assert_not_audited(demo, mark)


def test_the_secretariat_sets_and_revokes_a_qualification(
    app: Flask, secretariat: FlaskClient, demo: Database
) -> None:
    org_id = row_id(demo, Organization, name_en="Mirai Intelligence Lab Inc.")
    path = f"/admin/organizations/{org_id}/qualification"
    until = utcnow().date() + timedelta(days=365)

    mark = audit_mark(demo)
    response = post(
        secretariat,
        path,
        {"reference": "TEKIGO-2026-0500", "valid_until": until.isoformat(), "action": "set"},
    )
    assert redirected_to(response, "/admin/organizations")
    with demo.session_scope() as session:
        org = session.get(Organization, org_id)
        assert org is not None
        assert (org.qualification_reference, org.qualified_until, org.qualification_revoked_at) == (
            "TEKIGO-2026-0500",
            until,
            None,
        )
        assert policy.organization_qualified(org, utcnow())
    entry = assert_audited(demo, mark, "admin.qualification_set", object_id=org_id)
    assert entry.detail == {"valid_until": until.isoformat()}

    mark = audit_mark(demo)
    response = post(
        secretariat,
        path,
        {"reference": "TEKIGO-2026-0500", "valid_until": until.isoformat(), "action": "revoke"},
    )
    assert redirected_to(response, "/admin/organizations")
    with demo.session_scope() as session:
        org = session.get(Organization, org_id)
        assert org is not None
        assert org.qualification_revoked_at is not None
        assert not policy.organization_qualified(org, utcnow())
    assert_audited(demo, mark, "admin.qualification_revoke", object_id=org_id)
    row = re.search(
        r"<tr>\s*<td>未来知能ラボ株式会社.*?</tr>", text(secretariat.get("/admin/organizations")), re.DOTALL
    )
    assert row is not None and translated(app, "Revoked") in row.group(0)


def test_a_qualification_needs_a_reference_and_a_date_and_only_private_companies_carry_one(
    app: Flask, secretariat: FlaskClient, demo: Database
) -> None:
    mirai = row_id(demo, Organization, name_en="Mirai Intelligence Lab Inc.")
    meti = row_id(demo, Organization, name_en="Ministry of Economy, Trade and Industry")
    mark = audit_mark(demo)

    incomplete = post(
        secretariat, f"/admin/organizations/{mirai}/qualification", {"reference": "X-1", "action": "set"}
    )
    assert redirected_to(incomplete, "/admin/organizations")
    notice = translated(app, "Give the certificate reference and the last valid day.")
    assert notice in text(secretariat.get("/admin/organizations"))

    government = post(
        secretariat,
        f"/admin/organizations/{meti}/qualification",
        {"reference": "X-2", "valid_until": "2030-01-01", "action": "set"},
    )
    assert redirected_to(government, "/admin/organizations")
    notice = translated(app, "Only private companies carry a qualification.")
    assert notice in text(secretariat.get("/admin/organizations"))
    with demo.session_scope() as session:
        assert session.get(Organization, mirai).qualification_reference is None  # type: ignore[union-attr]
        assert session.get(Organization, meti).qualification_reference is None  # type: ignore[union-attr]
    assert_not_audited(demo, mark)


# --- invitations --------------------------------------------------------------------------------


def invitation_data(demo: Database, email: str, name: str = "新井 翔太", **extra: str) -> dict[str, Any]:
    org_id = row_id(demo, Organization, name_en="Toho Rare Metals Co., Ltd.")
    return {
        "email": email,
        "display_name": name,
        "organization": str(org_id),
        "roles": "member",
        "locale": "ja",
        **extra,
    }


def invite(client: FlaskClient, demo: Database, email: str, name: str = "新井 翔太") -> str:
    """Invite ``email``; return the path of the one-time link shown on the page."""
    response = post(client, "/admin/invitations", invitation_data(demo, email, name))
    assert response.status_code == 200, text(response)[:500]
    found = INVITATION_LINK.findall(text(response))
    assert len(found) == 1, "the page shows exactly one invitation link"
    return urlsplit(html.unescape(found[0])).path


def test_an_invitation_link_works_once_and_leads_to_mfa_enrolment(
    app: Flask, secretariat: FlaskClient, demo: Database
) -> None:
    email = "arai@toho-raremetals.example.jp"
    mark = audit_mark(demo)
    path = invite(secretariat, demo, email)

    assert re.fullmatch(r"/invite/[A-Za-z0-9_-]{40,}", path), path
    invited = user_by_email(demo, email)
    assert invited.password_hash is None and invited.totp_secret_sealed is None
    assert invited.roles == frozenset({Role.MEMBER}) and invited.locale == "ja"
    entry = assert_audited(demo, mark, "admin.invite", object_id=invited.id)
    assert entry.detail == {"roles": ["member"]}
    token = path.rsplit("/", 1)[1]
    assert token not in json.dumps([e.detail for e in entries_since(demo, 0)])
    with demo.session_scope() as session:
        stored = session.scalar(select(Invitation).where(Invitation.user_id == invited.id))
        assert stored is not None and token not in stored.token_hash  # only the digest is kept
        assert timedelta(hours=71) < stored.expires_at - utcnow() <= timedelta(hours=72)
    # The link is shown once: the users page does not show it again.
    assert 'data-testid="invitation-link"' not in text(secretariat.get("/admin/users"))

    newcomer = app.test_client()
    welcome = newcomer.get(path)
    assert welcome.status_code == 200
    assert "新井 翔太" in text(welcome) and email in text(welcome)

    mismatch = newcomer.post(
        path,
        data={
            "csrf_token": csrf_token(newcomer, path),
            "password": NEW_PASSWORD,
            "confirm_password": "other",
        },
    )
    assert mismatch.status_code == 400
    assert field_errors(text(mismatch), "confirm_password") == [translated(app, "The two passwords differ.")]
    too_short = newcomer.post(
        path,
        data={"csrf_token": csrf_token(newcomer, path), "password": "short", "confirm_password": "short"},
    )
    assert too_short.status_code == 400
    assert field_errors(text(too_short), "password") == [translated(app, "Use at least 12 characters.")]
    assert user_by_email(demo, email).password_hash is None

    mark = audit_mark(demo)
    accepted = newcomer.post(
        path,
        data={
            "csrf_token": csrf_token(newcomer, path),
            "password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert redirected_to(accepted, "/enrol")
    assert user_by_email(demo, email).password_hash
    accept_entries = [e for e in entries_since(demo, mark) if e.action == "account.invitation_accept"]
    assert len(accept_entries) == 1 and accept_entries[0].object_id == str(invited.id)

    # Enrolment follows at once: the secret from the page, a code, then the recovery codes.
    secret = re.search(r'data-testid="totp-secret">([^<]+)<', text(newcomer.get("/enrol")))
    assert secret is not None
    enrolled = submit_code(newcomer, mfa.current_code(secret.group(1).replace(" ", "")), "/enrol")
    assert redirected_to(enrolled, "/enrol/recovery-codes")
    assert len(recovery_codes_on(newcomer.get("/enrol/recovery-codes"))) == 10
    overview = newcomer.get("/")
    assert overview.status_code == 200
    assert translated(app, NO_ROOMS) in text(overview)
    assert user_by_email(demo, email).mfa_enrolled

    # A second use of the link, from anywhere, is refused like an unknown link.
    for browser in (app.test_client(), newcomer):
        again = browser.get(path)
        assert again.status_code == 404
        assert translated(app, INVALID_INVITATION) in text(again)
    intruder = app.test_client()
    reuse = intruder.post(
        path,
        data={
            "csrf_token": csrf_token(intruder),
            "password": "Another-Pass-2026!!",
            "confirm_password": "Another-Pass-2026!!",
        },
    )
    assert reuse.status_code == 404
    assert app.test_client().get("/invite/not-a-real-token").status_code == 404


def test_an_expired_invitation_is_refused(app: Flask, secretariat: FlaskClient, demo: Database) -> None:
    email = "expired@toho-raremetals.example.jp"
    path = invite(secretariat, demo, email, "期限 切れ")
    user_id = user_by_email(demo, email).id
    with demo.session_scope() as session:
        session.execute(
            update(Invitation)
            .where(Invitation.user_id == user_id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )

    browser = app.test_client()
    page = browser.get(path)
    assert page.status_code == 404
    assert translated(app, INVALID_INVITATION) in text(page)
    assert "期限 切れ" not in text(page)
    refused = browser.post(
        path,
        data={"csrf_token": csrf_token(browser), "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert refused.status_code == 404
    assert user_by_email(demo, email).password_hash is None
    # It is no longer listed among the open invitations (the only one there was).
    assert translated(app, "Open invitations") not in text(secretariat.get("/admin/users"))


def test_a_duplicate_email_is_refused_with_the_form_kept(
    app: Flask, secretariat: FlaskClient, demo: Database
) -> None:
    mark = audit_mark(demo)
    with demo.session_scope() as session:
        users_before = session.scalar(select(func.count()).select_from(User))

    response = post(
        secretariat, "/admin/invitations", invitation_data(demo, "Tanaka@METI.example.jp", "田中 二郎")
    )

    assert response.status_code == 400
    page = text(response)
    assert field_errors(page, "email") == [
        translated(app, "An account with this e-mail address already exists.")
    ]
    assert input_value(page, "email") == "Tanaka@METI.example.jp"
    assert input_value(page, "display_name") == "田中 二郎"
    assert selected_values(page, "roles") == ["member"]
    assert 'data-testid="invitation-link"' not in page
    with demo.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(User)) == users_before
        assert session.scalar(select(func.count()).select_from(Invitation)) == 0
    assert_not_audited(demo, mark)


def test_an_invitation_without_a_role_keeps_the_typed_values(
    app: Flask, secretariat: FlaskClient, demo: Database
) -> None:
    data = invitation_data(demo, "new@toho-raremetals.example.jp", "新 規", locale="en")
    del data["roles"]
    response = post(secretariat, "/admin/invitations", data)

    assert response.status_code == 400
    page = text(response)
    assert field_errors(page, "roles") == [translated(app, "Choose at least one role.")]
    assert input_value(page, "email") == "new@toho-raremetals.example.jp"
    assert input_value(page, "display_name") == "新 規"
    assert selected_values(page, "organization") == [data["organization"]]
    assert selected_values(page, "locale") == ["en"]


@pytest.mark.parametrize(
    "email", ["not-an-address", "two@@example.jp", "no spaces@example.jp", "x@localhost"]
)
def test_an_invitation_to_an_invalid_address_is_refused(
    app: Flask, secretariat: FlaskClient, demo: Database, email: str
) -> None:
    mark = audit_mark(demo)
    response = post(secretariat, "/admin/invitations", invitation_data(demo, email))

    assert response.status_code == 400
    page = text(response)
    assert field_errors(page, "email") == [translated(app, "Enter a valid e-mail address.")]
    assert input_value(page, "email") == email
    assert_not_audited(demo, mark)


# --- clearances -----------------------------------------------------------------------------------


def clearances_of(database: Database, email: str) -> list[Clearance]:
    user_id = user_by_email(database, email).id
    with database.session_scope() as session:
        found = list(
            session.scalars(
                select(Clearance).where(Clearance.user_id == user_id).order_by(Clearance.granted_at)
            )
        )
        session.expunge_all()
        return found


def state_of(database: Database, email: str) -> tuple[str, Level | None]:
    with database.session_scope() as session:
        user = session.scalar(select(User).where(User.email == email))
        assert user is not None
        subject = policy.load_subject(session, user, utcnow())
        return subject.clearance_state, subject.valid_level


def test_the_secretariat_grants_renews_and_revokes_a_clearance(
    app: Flask, secretariat: FlaskClient, demo: Database
) -> None:
    user_id = user_by_email(demo, WATANABE).id
    path = f"/admin/users/{user_id}/clearance"
    assert state_of(demo, WATANABE) == ("valid", Level.RESTRICTED)

    mark = audit_mark(demo)
    granted = post(secretariat, path, {"level": "2", "reason": "造船分科会の機密資料の検討に参加するため"})
    assert redirected_to(granted, f"/admin/users/{user_id}")
    assert state_of(demo, WATANABE) == ("valid", Level.CONFIDENTIAL)
    newest = clearances_of(demo, WATANABE)[-1]
    assert (newest.level, newest.basis, newest.expires_at) == (
        Level.CONFIDENTIAL,
        ClearanceBasis.INTERNAL,
        None,
    )
    assert newest.granted_by_id == user_by_email(demo, SATO).id
    entry = assert_audited(demo, mark, "admin.clearance_grant", object_id=user_id)
    assert entry.level == int(Level.CONFIDENTIAL)
    assert entry.detail == {"basis": "internal", "expires_at": None}
    assert "造船分科会" not in json.dumps(
        entry.detail, ensure_ascii=False
    )  # the reason stays out of the trail

    # CESI rests on a suitability evaluation: refused without one, with the field explained.
    count = len(clearances_of(demo, WATANABE))
    mark = audit_mark(demo)
    cesi = post(secretariat, path, {"level": "3", "reason": "重要経済安保情報の取扱いのため"})
    assert cesi.status_code == 400
    page = text(cesi)
    assert field_errors(page, "evaluation_reference") == [
        translated(app, "Critical Economic Security Information needs a suitability evaluation.")
    ]
    assert selected_values(page, "level") == ["3"]
    assert textarea_value(page, "reason") == "重要経済安保情報の取扱いのため"
    assert len(clearances_of(demo, WATANABE)) == count
    # A reference without the evaluation's date is refused too, at the date field.
    undated = post(
        secretariat, path, {"level": "3", "evaluation_reference": "SE-2026-0001", "reason": "評価済み"}
    )
    assert undated.status_code == 400
    assert field_errors(text(undated), "evaluated_on") == [
        translated(app, "Give the date of the suitability evaluation.")
    ]
    assert field_errors(text(undated), "evaluation_reference") == []
    assert input_value(text(undated), "evaluation_reference") == "SE-2026-0001"
    assert len(clearances_of(demo, WATANABE)) == count
    assert_not_audited(demo, mark)

    # Renewal: a new record that supersedes the previous one, here with an expiry.
    expires_on = utcnow().date() + timedelta(days=180)
    mark = audit_mark(demo)
    renewed = post(secretariat, path, {"level": "2", "expires_on": expires_on.isoformat(), "reason": "更新"})
    assert redirected_to(renewed, f"/admin/users/{user_id}")
    records = clearances_of(demo, WATANABE)
    assert len(records) == count + 1
    assert records[-1].expires_at is not None and records[-1].expires_at.date() == expires_on
    assert state_of(demo, WATANABE) == ("valid", Level.CONFIDENTIAL)
    entry = assert_audited(demo, mark, "admin.clearance_grant", object_id=user_id)
    assert entry.detail["expires_at"] is not None and entry.detail["expires_at"].startswith(
        expires_on.isoformat()
    )

    # Revocation needs a reason, then marks the newest record.
    mark = audit_mark(demo)
    no_reason = post(secretariat, f"{path}/revoke", {"reason": ""})
    assert no_reason.status_code == 400
    assert field_errors(text(no_reason), "reason") == [translated(app, "This field is required.")]
    revoked = post(secretariat, f"{path}/revoke", {"reason": "所属企業の退職"})
    assert redirected_to(revoked, f"/admin/users/{user_id}")
    assert state_of(demo, WATANABE) == ("revoked", None)
    newest = clearances_of(demo, WATANABE)[-1]
    assert newest.revoked_at is not None and "所属企業の退職" in (newest.reason or "")
    entry = assert_audited(demo, mark, "admin.clearance_revoke", object_id=user_id)
    assert entry.level == int(Level.CONFIDENTIAL)
    detail_page = text(secretariat.get(f"/admin/users/{user_id}"))
    state = re.search(r'data-testid="clearance-state">(.*?)</p>', detail_page, re.DOTALL)
    assert state is not None and translated(app, "Revoked") in state.group(1)

    # Nothing is left to revoke.
    again = post(secretariat, f"{path}/revoke", {"reason": "重ねて"})
    assert again.status_code == 400
    assert form_errors(text(again)) == [translated(app, "This user has no current clearance to revoke.")]


def test_a_cesi_clearance_with_an_evaluation_is_granted(secretariat: FlaskClient, demo: Database) -> None:
    user_id = user_by_email(demo, WATANABE).id
    response = post(
        secretariat,
        f"/admin/users/{user_id}/clearance",
        {
            "level": "3",
            "evaluation_reference": "SE-2026-0099",
            "evaluated_on": "2026-01-15",
            "reason": "適性評価の結果による",
        },
    )
    assert redirected_to(response, f"/admin/users/{user_id}")
    newest = clearances_of(demo, WATANABE)[-1]
    assert (newest.level, newest.basis, evaluation_reference_of(demo, newest.id)) == (
        Level.CESI,
        ClearanceBasis.SUITABILITY_EVALUATION,
        "SE-2026-0099",
    )
    assert newest.evaluation_reference_sealed is not None
    assert b"SE-2026-0099" not in newest.evaluation_reference_sealed  # stored sealed, not as typed
    assert newest.expires_at is not None and newest.expires_at.date() == date(2036, 1, 15)  # ten years


def test_nobody_grants_a_clearance_to_themselves(
    app: Flask, secretariat: FlaskClient, demo: Database
) -> None:
    sato = user_by_email(demo, SATO)
    before = len(clearances_of(demo, SATO))
    mark = audit_mark(demo)

    response = post(secretariat, f"/admin/users/{sato.id}/clearance", {"level": "2", "reason": "自分で"})

    assert response.status_code == 403
    assert form_errors(text(response)) == [translated(app, "Nobody can grant anything to themselves.")]
    assert len(clearances_of(demo, SATO)) == before
    assert_audited(demo, mark, "admin.clearance_grant", object_id=sato.id, allowed=False, reason="SELF_GRANT")


# --- compartments ---------------------------------------------------------------------------------


def test_the_secretariat_grants_and_revokes_a_compartment(
    app: Flask, secretariat: FlaskClient, demo: Database
) -> None:
    user_id = user_by_email(demo, WATANABE).id
    caveat_id = row_id(demo, Caveat, code="MINERALS-SUPPLY")

    mark = audit_mark(demo)
    granted = post(
        secretariat,
        f"/admin/users/{user_id}/compartments",
        {"caveat": str(caveat_id), "reason": "調達先情報の共有"},
    )
    assert redirected_to(granted, f"/admin/users/{user_id}")
    with demo.session_scope() as session:
        user = session.get(User, user_id)
        assert user is not None
        assert policy.load_subject(session, user, utcnow()).compartments == frozenset({"MINERALS-SUPPLY"})
    entry = assert_audited(demo, mark, "admin.caveat_grant", object_id=user_id)
    assert entry.detail == {"caveat": "MINERALS-SUPPLY"}

    mark = audit_mark(demo)
    twice = post(secretariat, f"/admin/users/{user_id}/compartments", {"caveat": str(caveat_id)})
    assert twice.status_code == 400
    assert form_errors(text(twice)) == [translated(app, "The user already holds this compartment.")]
    gov_only = post(
        secretariat,
        f"/admin/users/{user_id}/compartments",
        {"caveat": str(row_id(demo, Caveat, code="GOV_ONLY"))},
    )
    assert gov_only.status_code == 400
    assert form_errors(text(gov_only)) == [translated(app, "Only topic compartments are granted to people.")]
    assert_not_audited(demo, mark)

    held_id = row_id(demo, UserCaveat, user_id=user_id, caveat_id=caveat_id)
    mark = audit_mark(demo)
    revoked = post(secretariat, f"/admin/users/{user_id}/compartments/{held_id}/revoke")
    assert redirected_to(revoked, f"/admin/users/{user_id}")
    with demo.session_scope() as session:
        held = session.get(UserCaveat, held_id)
        assert held is not None and held.revoked_at is not None
        user = session.get(User, user_id)
        assert user is not None
        assert policy.load_subject(session, user, utcnow()).compartments == frozenset()
    entry = assert_audited(demo, mark, "admin.caveat_revoke", object_id=user_id)
    assert entry.detail == {"caveat": "MINERALS-SUPPLY"}


# --- memberships ----------------------------------------------------------------------------------


def test_a_membership_is_added_and_ended(app: Flask, secretariat: FlaskClient, demo: Database) -> None:
    user_id = user_by_email(demo, WATANABE).id
    minerals = room_id(demo)
    member = signed_in(app, demo, WATANABE)
    assert member.get(f"/rooms/{minerals}").status_code == 404

    mark = audit_mark(demo)
    added = post(
        secretariat, f"/admin/users/{user_id}/memberships", {"room": str(minerals), "room_role": "member"}
    )
    assert redirected_to(added, f"/admin/users/{user_id}")
    entry = assert_audited(demo, mark, "admin.membership_add", object_id=user_id)
    assert entry.detail == {"room": str(minerals), "role": "member"}
    room_page = member.get(f"/rooms/{minerals}")
    assert room_page.status_code == 200
    assert MINERALS.name_ja in text(room_page)
    assert MINERALS.name_ja in text(member.get("/"))

    duplicate = post(
        secretariat, f"/admin/users/{user_id}/memberships", {"room": str(minerals), "room_role": "observer"}
    )
    assert duplicate.status_code == 400
    assert form_errors(text(duplicate)) == [
        translated(app, "The user is already a member of this subcommittee.")
    ]

    with demo.session_scope() as session:
        membership_id = session.scalar(
            select(Membership.id).where(
                Membership.user_id == user_id,
                Membership.subcommittee_id == minerals,
                Membership.valid_to.is_(None),
            )
        )
        assert membership_id is not None
        assert session.get(Membership, membership_id).room_role == RoomRole.MEMBER  # type: ignore[union-attr]
    mark = audit_mark(demo)
    ended = post(secretariat, f"/admin/memberships/{membership_id}/end")
    assert redirected_to(ended, f"/admin/users/{user_id}")
    assert_audited(demo, mark, "admin.membership_end", object_id=user_id)

    gone = member.get(f"/rooms/{minerals}")
    assert gone.status_code == 404
    assert MINERALS.name_ja not in text(gone)
    assert MINERALS.name_ja not in text(member.get("/"))
    listing = re.search(
        r'data-testid="membership-list">(.*?)</ul>',
        text(secretariat.get(f"/admin/users/{user_id}")),
        re.DOTALL,
    )
    assert listing is not None and translated(app, "Ended") in listing.group(1)


# --- suspension -----------------------------------------------------------------------------------


def test_a_suspended_user_is_signed_out_and_cannot_sign_in_until_reactivated(
    app: Flask, secretariat: FlaskClient, demo: Database
) -> None:
    user_id = user_by_email(demo, WATANABE).id
    member = signed_in(app, demo, WATANABE)
    assert member.get("/").status_code == 200

    mark = audit_mark(demo)
    suspended = post(secretariat, f"/admin/users/{user_id}/suspension")
    assert redirected_to(suspended, f"/admin/users/{user_id}")
    assert user_by_email(demo, WATANABE).is_suspended
    assert_audited(demo, mark, "admin.user_suspend", object_id=user_id)
    with demo.session_scope() as session:
        sessions = session.scalar(
            select(func.count()).select_from(LoginSession).where(LoginSession.user_id == user_id)
        )
        assert sessions == 0

    assert redirected_to(member.get("/"), "/login")
    refused = submit_password(app.test_client(), WATANABE)
    assert refused.status_code == 401

    mark = audit_mark(demo)
    reactivated = post(secretariat, f"/admin/users/{user_id}/suspension")
    assert redirected_to(reactivated, f"/admin/users/{user_id}")
    assert not user_by_email(demo, WATANABE).is_suspended
    assert_audited(demo, mark, "admin.user_reactivate", object_id=user_id)
    again = signed_in(app, demo, WATANABE)
    assert again.get("/").status_code == 200


# --- caveats ----------------------------------------------------------------------------------------


def test_the_secretariat_creates_a_compartment(app: Flask, secretariat: FlaskClient, demo: Database) -> None:
    mark = audit_mark(demo)
    created = post(
        secretariat,
        "/admin/caveats",
        {"code": "semi-supply", "name_ja": "半導体 調達情報", "name_en": "Semiconductors: sourcing"},
    )
    assert redirected_to(created, "/admin/caveats")
    with demo.session_scope() as session:
        caveat = session.scalar(select(Caveat).where(Caveat.code == "SEMI-SUPPLY"))
        assert caveat is not None and caveat.kind.value == "compartment"
        caveat_id = caveat.id
    entry = assert_audited(demo, mark, "admin.caveat_create", object_id=caveat_id)
    assert entry.detail == {"code": "SEMI-SUPPLY"}

    taken = translated(app, "A caveat with this code already exists.")
    reserved = translated(app, "This code is reserved.")
    mark = audit_mark(demo)
    for code, message in (
        ("SEMI-SUPPLY", taken),
        ("minerals-supply", taken),
        ("GOV_ONLY", reserved),
        ("gov_only", reserved),
    ):
        response = post(
            secretariat, "/admin/caveats", {"code": code, "name_ja": "重複", "name_en": "Duplicate"}
        )
        assert response.status_code == 400, code
        page = text(response)
        assert field_errors(page, "code") == [message], code
        assert input_value(page, "code") == code
        assert input_value(page, "name_ja") == "重複"
    bad = post(secretariat, "/admin/caveats", {"code": "has space", "name_ja": "x", "name_en": "x"})
    assert bad.status_code == 400
    assert field_errors(text(bad), "code") == [translated(app, "Use letters, digits, - and _ only.")]
    with demo.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Caveat).where(Caveat.code == "GOV_ONLY")) == 1
        assert session.scalar(select(func.count()).select_from(Caveat)) == 4
    assert_not_audited(demo, mark)


# --- rooms ------------------------------------------------------------------------------------------


def test_the_secretariat_creates_a_room_and_archives_one(
    app: Flask, secretariat: FlaskClient, demo: Database
) -> None:
    mark = audit_mark(demo)
    created = post(
        secretariat,
        "/admin/rooms",
        {
            "kind": "risk_review",
            "name_ja": "半導体供給途絶分科会",
            "name_en": "Semiconductor Supply Disruption Subcommittee",
            "description_ja": "半導体の供給途絶シナリオを点検する。",
            "description_en": "Reviews semiconductor supply disruption scenarios.",
            "max_level": "1",
        },
    )
    assert redirected_to(created, "/admin/rooms")
    with demo.session_scope() as session:
        room = session.scalar(select(Subcommittee).where(Subcommittee.name_ja == "半導体供給途絶分科会"))
        assert room is not None
        assert (room.kind, room.max_level, room.archived_at) == (
            SubcommitteeKind.RISK_REVIEW,
            Level.RESTRICTED,
            None,
        )
        assert room.description_en == "Reviews semiconductor supply disruption scenarios."
        new_room = room.id
    entry = assert_audited(demo, mark, "admin.room_create", object_id=new_room)
    assert (entry.level, entry.detail) == (int(Level.RESTRICTED), {"kind": "risk_review"})

    # A room without a name: refused, everything typed kept.
    invalid = post(
        secretariat,
        "/admin/rooms",
        {
            "kind": "rapid_response",
            "name_ja": "",
            "name_en": "Nameless",
            "description_ja": "説明文",
            "max_level": "2",
        },
    )
    assert invalid.status_code == 400
    page = text(invalid)
    assert field_errors(page, "name_ja") == [translated(app, "This field is required.")]
    assert input_value(page, "name_en") == "Nameless"
    assert textarea_value(page, "description_ja") == "説明文"
    assert selected_values(page, "kind") == ["rapid_response"]
    assert selected_values(page, "max_level") == ["2"]

    # Archiving a room closes it for its members at once.
    minerals = room_id(demo)
    member = signed_in(app, demo, TANAKA)
    assert member.get(f"/rooms/{minerals}").status_code == 200
    mark = audit_mark(demo)
    archived = post(secretariat, f"/admin/rooms/{minerals}/archive")
    assert redirected_to(archived, "/admin/rooms")
    with demo.session_scope() as session:
        assert session.get(Subcommittee, minerals).archived_at is not None  # type: ignore[union-attr]
    assert_audited(demo, mark, "admin.room_archive", object_id=minerals)
    assert member.get(f"/rooms/{minerals}").status_code == 404
    assert MINERALS.name_ja not in text(member.get("/"))

    # Nobody is added to an archived room.
    watanabe = user_by_email(demo, WATANABE).id
    response = post(
        secretariat, f"/admin/users/{watanabe}/memberships", {"room": str(minerals), "room_role": "member"}
    )
    assert response.status_code == 400
    assert form_errors(text(response)) == [translated(app, "This subcommittee is archived.")]


# --- everyone else: 403, audited -------------------------------------------------------------------


def _admin_requests(app: Flask, demo: Database) -> list[tuple[str, str, str]]:
    """(method, path, endpoint) of every administration route, with real ids in the paths."""
    tanaka = user_by_email(demo, TANAKA).id
    watanabe = user_by_email(demo, WATANABE).id
    ids = {
        "organization_id": row_id(demo, Organization, name_en="Mirai Intelligence Lab Inc."),
        "user_id": watanabe,
        "room_id": room_id(demo),
        "membership_id": row_id(demo, Membership, user_id=watanabe),
        "held_id": row_id(demo, UserCaveat, user_id=tanaka),
    }
    requests = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        path = rule.rule
        for argument in rule.arguments:
            path = re.sub(rf"<(?:[a-z]+:)?{argument}>", str(ids[argument]), path)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            requests.append((method, path, rule.endpoint))
    return requests


def test_a_member_gets_403_on_every_administration_page_and_post(
    app: Flask, client: FlaskClient, demo: Database
) -> None:
    member = sign_in(client, demo, TANAKA)
    tanaka = user_by_email(demo, TANAKA).id
    requests = _admin_requests(app, demo)
    assert len(requests) >= 19, requests
    assert {method for method, _path, _endpoint in requests} == {"GET", "POST"}
    with demo.session_scope() as session:
        users_before = session.scalar(select(func.count()).select_from(User))

    for method, path, endpoint in requests:
        mark = audit_mark(demo)
        if method == "GET":
            response = member.get(path)
        else:
            data = {
                "reason": "x",
                "level": "1",
                "code": "X",
                "name_ja": "x",
                "name_en": "x",
                "kind": "private",
            }
            response = post(member, path, data)
        assert response.status_code == 403, (method, path, response.status_code)
        written = entries_since(demo, mark)
        assert [(e.action, e.allowed, e.reason, e.actor_id) for e in written] == [
            (declared_action(app, endpoint), False, "NOT_SECRETARIAT", tanaka)
        ], (method, path)

    with demo.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(User)) == users_before
        assert not session.scalar(select(User.is_suspended).where(User.email == WATANABE))
        assert (
            session.scalar(select(Subcommittee.archived_at).where(Subcommittee.name_ja == MINERALS.name_ja))
            is None
        )
    assert "/admin" not in text(member.get("/"))


@pytest.mark.parametrize("email", [INOUE, MATSUMOTO], ids=["system-administrator", "auditor"])
def test_other_roles_are_not_the_secretariat(
    app: Flask, client: FlaskClient, demo: Database, email: str
) -> None:
    signed = sign_in(client, demo, email)
    user_id = user_by_email(demo, email).id
    for path in ("/admin/", "/admin/users", f"/admin/users/{user_by_email(demo, WATANABE).id}"):
        mark = audit_mark(demo)
        assert signed.get(path).status_code == 403, path
        assert [(e.action, e.allowed, e.reason, e.actor_id) for e in entries_since(demo, mark)] == [
            ("admin.view", False, "NOT_SECRETARIAT", user_id)
        ]


# --- the user's own account page ----------------------------------------------------------------


def _formatted(app: Flask, value: Any, locale: str = "ja") -> str:
    """A datetime as the page's ``datetimeformat('medium')`` filter renders it."""
    with app.test_request_context(), force_locale(locale):
        return str(app.jinja_env.filters["datetimeformat"](value, "medium"))


def _clearance_panel(page: str) -> str:
    found = re.search(
        r'<section class="panel">\s*<h2>[^<]*</h2>\s*<p class="field__hint">.*?</section>', page, re.DOTALL
    )
    assert found is not None, "no clearance panel on the account page"
    return found.group(0)


def test_the_account_page_shows_clearance_compartments_and_rooms_read_only(
    app: Flask, client: FlaskClient, demo: Database
) -> None:
    member = sign_in(client, demo, TANAKA)
    [clearance] = clearances_of(demo, TANAKA)
    assert clearance.expires_at is not None

    response = member.get("/account")

    assert response.status_code == 200
    page = text(response)
    panel = _clearance_panel(page)
    assert f'<span class="level level--{int(Level.CESI)}">' in panel
    assert translated(app, "Critical Economic Security Information") in panel
    assert _formatted(app, clearance.expires_at) in panel
    assert "MINERALS-SUPPLY" in panel and "GRID-OPS" not in panel
    assert MINERALS.name_ja in panel and "造船分科会" in panel
    assert "AGI分科会" not in panel and "重要インフラ機能停止分科会" not in panel
    actions = re.findall(r'<form[^>]*action="([^"]*)"', page)
    assert actions and not [action for action in actions if "/admin" in action], actions
    assert "evaluation_reference" not in page and "SE-2025" not in page


def test_the_account_page_follows_the_secretariat_s_changes(
    app: Flask, secretariat: FlaskClient, demo: Database
) -> None:
    user_id = user_by_email(demo, WATANABE).id
    expires_on = utcnow().date() + timedelta(days=90)
    post(
        secretariat,
        f"/admin/users/{user_id}/clearance",
        {"level": "2", "expires_on": expires_on.isoformat(), "reason": "更新"},
    )
    post(
        secretariat,
        f"/admin/users/{user_id}/compartments",
        {"caveat": str(row_id(demo, Caveat, code="GRID-OPS"))},
    )
    post(
        secretariat,
        f"/admin/users/{user_id}/memberships",
        {"room": str(room_id(demo)), "room_role": "observer"},
    )
    newest = clearances_of(demo, WATANABE)[-1]

    panel = _clearance_panel(text(signed_in(app, demo, WATANABE).get("/account")))

    assert f'<span class="level level--{int(Level.CONFIDENTIAL)}">' in panel
    assert _formatted(app, newest.expires_at) in panel
    assert "GRID-OPS" in panel
    assert MINERALS.name_ja in panel and "造船分科会" in panel
    assert translated(app, "Observer") in panel


def test_the_account_page_shows_no_clearance_after_revocation(
    app: Flask, secretariat: FlaskClient, demo: Database
) -> None:
    user_id = user_by_email(demo, WATANABE).id
    post(secretariat, f"/admin/users/{user_id}/clearance", {"level": "2", "reason": "付与"})
    post(secretariat, f"/admin/users/{user_id}/clearance/revoke", {"reason": "取消"})
    assert state_of(demo, WATANABE) == ("revoked", None)

    panel = _clearance_panel(text(signed_in(app, demo, WATANABE).get("/account")))

    assert 'class="level level--' not in panel
    assert (
        translated(app, "No current clearance is recorded for you. You can read public material only.")
        in panel
    )
