"""Sign-in: password, then a TOTP code or a recovery code; what is refused and how it is said."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from portal.accounts.models import LoginSession, RecoveryCode, User
from portal.db import Database, utcnow
from portal.rooms.models import Subcommittee
from portal.security import mfa
from tests.conftest import csrf_token, next_totp_code, sign_in, totp_secret_of, user_by_email
from tests.web.support import (
    enrol,
    is_signed_in,
    page_shape,
    sign_out,
    submit_code,
    submit_password,
    text,
    translated,
)

MEMBER = "tanaka@meti.example.jp"
NOT_ENROLLED = "yamada@meti.example.jp"
WRONG_PASSWORD = "Not-the-right-password-42"
GENERIC_FAILURE = "The e-mail address or password is not correct."


def _wrong_code(secret: str) -> str:
    """A six-digit code that is not valid anywhere near now (not even with drift)."""
    step = int(time.time() // mfa.TIME_STEP_SECONDS)
    near = {mfa.current_code(secret, at=(step + d) * mfa.TIME_STEP_SECONDS) for d in range(-3, 4)}
    candidate = int(mfa.current_code(secret))
    while f"{candidate:06d}" in near:
        candidate = (candidate + 1) % 1_000_000
    return f"{candidate:06d}"


def test_wrong_password_and_unknown_email_look_the_same(
    app: Flask, client: FlaskClient, demo: Database
) -> None:
    wrong = submit_password(client, MEMBER, WRONG_PASSWORD)
    unknown = submit_password(client, "nobody@meti.example.jp", WRONG_PASSWORD)

    assert wrong.status_code == unknown.status_code == 401
    message = translated(app, GENERIC_FAILURE)
    assert message in text(wrong)
    assert message in text(unknown)
    # The same page, apart from the e-mail address typed into the form; the password is not echoed.
    assert page_shape(wrong).replace(MEMBER, "EMAIL") == page_shape(unknown).replace(
        "nobody@meti.example.jp", "EMAIL"
    )
    assert WRONG_PASSWORD not in text(wrong)
    assert not is_signed_in(client)


def test_suspended_user_cannot_sign_in(app: Flask, client: FlaskClient, demo: Database) -> None:
    with demo.session_scope() as session:
        session.execute(update(User).where(User.email == MEMBER).values(is_suspended=True))

    response = submit_password(client, MEMBER)  # the correct password

    assert response.status_code == 401
    assert translated(app, GENERIC_FAILURE) in text(response)  # says nothing about the suspension
    second_step = client.get("/login/mfa")
    assert second_step.status_code == 302
    assert second_step.headers["Location"].endswith("/login")
    assert not is_signed_in(client)


def test_suspension_ends_an_open_session(client: FlaskClient, demo: Database) -> None:
    sign_in(client, demo, MEMBER)
    assert is_signed_in(client)
    with demo.session_scope() as session:
        session.execute(update(User).where(User.email == MEMBER).values(is_suspended=True))

    assert not is_signed_in(client)
    assert client.get("/").status_code == 302


def test_password_then_totp_signs_in(client: FlaskClient, demo: Database) -> None:
    response = submit_password(client, MEMBER)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login/mfa")
    assert client.get("/").status_code == 302  # the password alone does not sign in

    response = submit_code(client, next_totp_code(demo, MEMBER))

    assert response.status_code == 302
    overview = client.get("/")
    assert overview.status_code == 200
    assert user_by_email(demo, MEMBER).display_name in text(overview)


def test_totp_code_cannot_be_used_twice(app: Flask, client: FlaskClient, demo: Database) -> None:
    code = next_totp_code(demo, MEMBER)
    submit_password(client, MEMBER)
    assert submit_code(client, code).status_code == 302
    sign_out(client)
    assert not is_signed_in(client)

    assert submit_password(client, MEMBER).status_code == 302
    replay = submit_code(client, code)

    assert replay.status_code == 401
    assert translated(app, "This code has already been used. Wait for the next code.") in text(replay)
    assert client.get("/").status_code == 302


def test_wrong_totp_code_is_refused(app: Flask, client: FlaskClient, demo: Database) -> None:
    secret = totp_secret_of(demo, MEMBER)
    assert secret
    submit_password(client, MEMBER)

    for code in (_wrong_code(secret), "abcdef", "12345", ""):
        response = submit_code(client, code)
        assert response.status_code != 302, code
        assert client.get("/").status_code == 302
    response = submit_code(client, _wrong_code(secret))

    assert response.status_code == 401
    assert translated(app, "The code is not correct.") in text(response)
    assert user_by_email(demo, MEMBER).totp_last_step == 0  # nothing was consumed
    assert client.get("/").status_code == 302
    # The right code still works afterwards (the session is still at the second step).
    assert submit_code(client, next_totp_code(demo, MEMBER)).status_code == 302
    assert is_signed_in(client)


def test_enrolment_gives_recovery_codes_that_work_once(
    app: Flask, client: FlaskClient, demo: Database
) -> None:
    assert not user_by_email(demo, NOT_ENROLLED).mfa_enrolled
    secret, codes = enrol(client, NOT_ENROLLED)

    assert len(codes) == mfa.RECOVERY_CODE_COUNT
    assert len(set(codes)) == len(codes)
    enrolled = user_by_email(demo, NOT_ENROLLED)
    assert enrolled.mfa_enrolled
    assert totp_secret_of(demo, NOT_ENROLLED) == secret
    assert enrolled.totp_secret_sealed is not None
    assert secret.encode() not in enrolled.totp_secret_sealed  # stored sealed, not as shown
    with demo.session_scope() as session:
        stored = session.scalars(
            select(RecoveryCode.code_hash).where(RecoveryCode.user_id == enrolled.id)
        ).all()
    assert sorted(stored) == sorted(mfa.hash_recovery_code(code) for code in codes)
    assert not set(codes) & set(stored)  # only hashes are kept
    # Confirming hides the codes for good.
    token = csrf_token(client, "/enrol/recovery-codes")
    assert client.post("/enrol/recovery-codes", data={"csrf_token": token}).status_code == 302
    again = client.get("/enrol/recovery-codes")
    assert again.status_code == 302
    assert codes[0] not in text(client.get("/"))
    sign_out(client)

    assert submit_password(client, NOT_ENROLLED).headers["Location"].endswith("/login/mfa")
    response = submit_code(client, codes[3])
    assert response.status_code == 302
    welcome = client.get(response.headers["Location"])
    assert welcome.status_code == 200
    left = translated(app, "You signed in with a recovery code. %(count)d codes are left.", count=9)
    assert left in text(welcome)
    sign_out(client)

    assert submit_password(client, NOT_ENROLLED).status_code == 302
    reused = submit_code(client, codes[3])

    assert reused.status_code == 401
    assert translated(app, "The code is not correct.") in text(reused)
    assert client.get("/").status_code == 302


def test_enrolment_refuses_a_wrong_code(app: Flask, client: FlaskClient, demo: Database) -> None:
    assert submit_password(client, NOT_ENROLLED).headers["Location"].endswith("/enrol")
    page = text(client.get("/enrol"))
    secret = page.split('data-testid="totp-secret">')[1].split("<")[0].replace(" ", "")

    response = submit_code(client, _wrong_code(secret), "/enrol")

    assert response.status_code == 400
    assert not user_by_email(demo, NOT_ENROLLED).mfa_enrolled
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("path", ["/login/mfa", "/enrol"])
def test_second_step_without_password_step_goes_to_login(
    client: FlaskClient, demo: Database, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")

    # A code posted straight to the second step does not sign anyone in either.
    token = csrf_token(client, "/login")
    response = client.post(path, data={"csrf_token": token, "code": next_totp_code(demo, MEMBER)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    assert not is_signed_in(client)


def _password_step_taken_ago(database: Database, minutes: int) -> None:
    with database.session_scope() as session:
        record = session.scalars(select(LoginSession).where(LoginSession.stage == "mfa")).one()
        data = json.loads(record.data)
        data["password_verified_at"] = (utcnow() - timedelta(minutes=minutes)).isoformat()
        record.data = json.dumps(data)


def test_second_step_expires_after_the_pending_window(client: FlaskClient, demo: Database) -> None:
    submit_password(client, MEMBER)
    _password_step_taken_ago(demo, 4)
    assert client.get("/login/mfa").status_code == 200  # within the five minutes
    _password_step_taken_ago(demo, 6)

    response = client.get("/login/mfa")

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    token = csrf_token(client, "/login")
    late = client.post("/login/mfa", data={"csrf_token": token, "code": next_totp_code(demo, MEMBER)})
    assert late.headers["Location"].endswith("/login")
    assert not is_signed_in(client)


def test_next_page_after_sign_in_is_followed_when_local(client: FlaskClient, demo: Database) -> None:
    with demo.session_scope() as session:
        room_id = session.scalar(select(Subcommittee.id).where(Subcommittee.name_ja == "重要鉱物分科会"))
    assert client.get(f"/rooms/{room_id}").status_code == 302

    submit_password(client, MEMBER)
    response = submit_code(client, next_totp_code(demo, MEMBER))

    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/rooms/{room_id}")


def _stays_on_this_site(location: str) -> bool:
    """Whether a browser following ``location`` stays on this origin.

    Browsers read a backslash as a slash and drop tabs and newlines, so ``/\\host`` or ``/<TAB>/host``
    would leave the site; a local path has none of them and does not start with two slashes.
    """
    parts = urlsplit(location)
    return (
        not parts.scheme
        and not parts.netloc
        and location.startswith("/")
        and not location.startswith("//")
        and "\\" not in location
        and all(ord(character) > 0x20 for character in location)
    )


EXTERNAL_TARGETS = [
    "https://evil.example/",
    "http://evil.example",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "/\t/evil.example/",
    "https:evil.example",
    "javascript:alert(1)",
    "evil.example",
]


def test_next_page_after_sign_in_refuses_external_urls(app: Flask, demo: Database) -> None:
    for target in EXTERNAL_TARGETS:
        client = app.test_client()
        with client.session_transaction() as session:
            session["next"] = target
        submit_password(client, MEMBER)

        response = submit_code(client, next_totp_code(demo, MEMBER))

        assert response.status_code == 302, target
        assert _stays_on_this_site(response.headers["Location"]), (target, response.headers["Location"])
        assert is_signed_in(client)


def test_the_site_check_itself() -> None:
    assert _stays_on_this_site("/rooms/1?")
    for location in ("https://evil.example/", "//evil.example", "/\\evil.example", "/\t/evil.example", "x"):
        assert not _stays_on_this_site(location), location


@pytest.mark.parametrize("target", EXTERNAL_TARGETS)
def test_language_switch_refuses_external_next(client: FlaskClient, target: str) -> None:
    token = csrf_token(client, "/login")
    response = client.post("/locale", data={"csrf_token": token, "locale": "en", "next": target})
    assert response.status_code == 302
    assert _stays_on_this_site(response.headers["Location"])
