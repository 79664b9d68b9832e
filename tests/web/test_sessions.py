"""Server-side sessions: fixation, sign-out, revocation, password change, timeouts, the cookie itself."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from portal.accounts.models import LoginSession
from portal.db import Base, Database, utcnow
from portal.demo import DEMO_PASSWORD
from portal.security.sessions import COOKIE_NAME
from tests.conftest import csrf_token, next_totp_code, sign_in, user_by_email
from tests.web.conftest import AppFactory
from tests.web.support import (
    client_with_cookie,
    is_signed_in,
    session_cookie,
    session_record,
    sign_out,
    submit_code,
    submit_password,
    text,
    translated,
)

MEMBER = "tanaka@meti.example.jp"
OTHER_MEMBER = "suzuki@mlit.example.jp"
NEW_PASSWORD = "Umi-no-hoshi-to-kaze-2026"
IDLE_MESSAGE = "You were signed out after %(minutes)d minutes without activity. Please sign in again."
ABSOLUTE_MESSAGE = "Your session reached its maximum length. Please sign in again."


def _token(client: FlaskClient) -> str:
    token = session_cookie(client)
    assert token, "no session cookie"
    return token


def _session_cookie_headers(response: TestResponse) -> list[str]:
    return [value for value in response.headers.getlist("Set-Cookie") if value.startswith(f"{COOKIE_NAME}=")]


def _age(database: Database, token: str, **ages: timedelta) -> None:
    """Move the session record's timestamps (last_seen_at, authenticated_at) that far into the past."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    now = utcnow()
    with database.session_scope() as session:
        session.execute(
            update(LoginSession)
            .where(LoginSession.token_hash == digest)
            .values({name: now - age for name, age in ages.items()})
        )


def _session_rows(client: FlaskClient) -> int:
    return text(client.get("/account")).count('data-testid="session-row"')


# --- session fixation --------------------------------------------------------------------------------


def test_token_changes_at_each_sign_in_step(app: Flask, client: FlaskClient, demo: Database) -> None:
    client.get("/login")
    anonymous = _token(client)
    assert session_record(demo, anonymous) is not None

    assert submit_password(client, MEMBER).status_code == 302
    pending = _token(client)
    assert pending != anonymous
    assert session_record(demo, anonymous) is None

    assert submit_code(client, next_totp_code(demo, MEMBER)).status_code == 302
    active = _token(client)
    assert active not in {anonymous, pending}
    assert session_record(demo, pending) is None

    assert is_signed_in(client)
    for old in (anonymous, pending):
        stale = client_with_cookie(app, old)
        assert not is_signed_in(stale)
        assert stale.get("/").status_code == 302
        assert stale.get("/login/mfa").headers["Location"].endswith("/login")
    assert is_signed_in(client_with_cookie(app, active))  # only the newest token is a sign-in


def test_a_planted_token_is_never_signed_in(app: Flask, client: FlaskClient, demo: Database) -> None:
    client.set_cookie(COOKIE_NAME, "token-chosen-by-an-attacker-000000000000000")
    sign_in(client, demo, MEMBER)

    assert _token(client) != "token-chosen-by-an-attacker-000000000000000"
    assert not is_signed_in(client_with_cookie(app, "token-chosen-by-an-attacker-000000000000000"))


# --- ending sessions ---------------------------------------------------------------------------------


def test_sign_out_deletes_the_record(app: Flask, client: FlaskClient, demo: Database) -> None:
    sign_in(client, demo, MEMBER)
    token = _token(client)
    assert session_record(demo, token) is not None

    response = sign_out(client)

    assert response.headers["Location"].endswith("/login")
    assert session_record(demo, token) is None
    (deletion,) = _session_cookie_headers(response)
    assert "Expires=Thu, 01 Jan 1970" in deletion or "Max-Age=0" in deletion
    assert not is_signed_in(client)
    assert not is_signed_in(client_with_cookie(app, token))
    with demo.session_scope() as session:
        assert session.scalars(select(LoginSession).where(LoginSession.stage == "active")).all() == []


def test_sign_out_of_all_other_sessions(app: Flask, demo: Database) -> None:
    here = sign_in(app.test_client(), demo, MEMBER)
    elsewhere = sign_in(app.test_client(), demo, MEMBER)
    someone_else = sign_in(app.test_client(), demo, OTHER_MEMBER)
    assert _session_rows(here) == 2

    response = here.post("/account/sessions/revoke-others", data={"csrf_token": csrf_token(here, "/account")})

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account")
    page = here.get("/account")
    assert page.status_code == 200
    assert translated(app, "Signed out of %(count)d other sessions.", count=1) in text(page)
    assert _session_rows(here) == 1
    assert not is_signed_in(elsewhere)
    assert is_signed_in(here)
    assert is_signed_in(someone_else)  # another user's sessions are not touched


def test_changing_the_password_ends_every_other_session(app: Flask, demo: Database) -> None:
    here = sign_in(app.test_client(), demo, MEMBER)
    elsewhere = sign_in(app.test_client(), demo, MEMBER)

    response = here.post(
        "/account/password",
        data={
            "csrf_token": csrf_token(here, "/account"),
            "current_password": DEMO_PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )

    assert response.status_code == 302
    assert is_signed_in(here)
    assert not is_signed_in(elsewhere)
    assert submit_password(app.test_client(), MEMBER, DEMO_PASSWORD).status_code == 401
    sign_in(app.test_client(), demo, MEMBER, NEW_PASSWORD)


def _post_password_change(client: FlaskClient, current: str, new: str, confirm: str) -> TestResponse:
    return client.post(
        "/account/password",
        data={
            "csrf_token": csrf_token(client, "/account"),
            "current_password": current,
            "new_password": new,
            "confirm_password": confirm,
        },
    )


WEAK_PASSWORDS = [
    ("Short-pw-1", "Use at least 12 characters."),
    ("administrator123", "That password is too common. Choose one that is harder to guess."),
    ("ADMINISTRATOR123", "That password is too common. Choose one that is harder to guess."),
    ("abababababababab", "That password is too common. Choose one that is harder to guess."),
    (f"{MEMBER}-Kaze", "The password must not contain your e-mail address."),
]


def test_weak_new_passwords_are_refused(app: Flask, demo: Database) -> None:
    here = sign_in(app.test_client(), demo, MEMBER)
    elsewhere = sign_in(app.test_client(), demo, MEMBER)
    hash_before = user_by_email(demo, MEMBER).password_hash

    for new_password, message in WEAK_PASSWORDS:
        response = _post_password_change(here, DEMO_PASSWORD, new_password, new_password)

        assert response.status_code == 400, new_password
        assert translated(app, message) in text(response), new_password
        assert new_password not in text(response), new_password  # never echoed back

    assert user_by_email(demo, MEMBER).password_hash == hash_before
    assert is_signed_in(elsewhere)  # a refused change signs nobody out
    assert is_signed_in(here)
    assert submit_password(app.test_client(), MEMBER, DEMO_PASSWORD).status_code == 302


def test_a_wrong_current_password_is_refused(app: Flask, demo: Database) -> None:
    here = sign_in(app.test_client(), demo, MEMBER)
    elsewhere = sign_in(app.test_client(), demo, MEMBER)

    response = _post_password_change(here, "Not-my-password-1234", NEW_PASSWORD, NEW_PASSWORD)

    assert response.status_code == 400
    assert translated(app, "The current password is not correct.") in text(response)
    assert is_signed_in(elsewhere)
    assert submit_password(app.test_client(), MEMBER, NEW_PASSWORD).status_code == 401


@pytest.mark.parametrize(
    ("current", "new", "confirm", "messages"),
    [
        pytest.param(
            DEMO_PASSWORD,
            "Short-pw-1",
            "Short-pw-2",
            ["Use at least 12 characters.", "The two passwords differ."],
            id="short-and-mismatched",
        ),
        pytest.param(
            "Not-my-password-1234",
            "administrator123",
            "administrator123",
            [
                "The current password is not correct.",
                "That password is too common. Choose one that is harder to guess.",
            ],
            id="wrong-current-and-common",
        ),
    ],
)
def test_a_refused_new_password_keeps_the_forms_other_errors_visible(
    app: Flask, client: FlaskClient, demo: Database, current: str, new: str, confirm: str, messages: list[str]
) -> None:
    sign_in(client, demo, MEMBER)

    response = _post_password_change(client, current, new, confirm)

    assert response.status_code == 400
    page = text(response)
    missing = [message for message in messages if translated(app, message) not in page]
    assert not missing, f"errors not shown together: {missing}"


# --- timeouts ----------------------------------------------------------------------------------------


def test_idle_timeout_ends_the_session(app: Flask, client: FlaskClient, demo: Database) -> None:
    assert app.config["PORTAL_SETTINGS"].idle_timeout_minutes == 30
    sign_in(client, demo, MEMBER)
    token = _token(client)
    _age(demo, token, last_seen_at=timedelta(minutes=29))
    assert is_signed_in(client)  # 29 minutes is still fine, and the request counts as activity
    _age(demo, token, last_seen_at=timedelta(minutes=31))

    response = client.get("/account")

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    assert session_record(demo, token) is None
    assert translated(app, IDLE_MESSAGE, minutes=30) in text(client.get("/login"))
    assert not is_signed_in(client)
    assert not is_signed_in(client_with_cookie(app, token))


def test_idle_timeout_follows_the_configuration(app_factory: AppFactory) -> None:
    app = app_factory(demo=True, session={"idle_timeout_minutes": 5})
    database: Database = app.extensions["portal_db"]
    client = sign_in(app.test_client(), database, MEMBER)
    _age(database, _token(client), last_seen_at=timedelta(minutes=6))

    assert client.get("/").status_code == 302
    assert translated(app, IDLE_MESSAGE, minutes=5) in text(client.get("/login"))


def test_absolute_timeout_ends_an_active_session(app: Flask, client: FlaskClient, demo: Database) -> None:
    assert app.config["PORTAL_SETTINGS"].absolute_timeout_hours == 12
    sign_in(client, demo, MEMBER)
    token = _token(client)
    _age(demo, token, authenticated_at=timedelta(hours=11, minutes=58))
    assert is_signed_in(client)
    _age(demo, token, authenticated_at=timedelta(hours=12, minutes=1))  # busy all along: last_seen is now

    response = client.get("/")

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    assert session_record(demo, token) is None
    assert translated(app, ABSOLUTE_MESSAGE) in text(client.get("/login"))
    assert not is_signed_in(client)


# --- the cookie and what is stored ---------------------------------------------------------------------


def test_cookie_is_httponly_and_samesite_lax_over_http(client: FlaskClient, demo: Database) -> None:
    responses = [client.get("/login"), submit_password(client, MEMBER)]
    responses.append(submit_code(client, next_totp_code(demo, MEMBER)))

    for response in responses:
        (header,) = _session_cookie_headers(response)
        attributes = [part.strip().lower() for part in header.split(";")[1:]]
        assert "httponly" in attributes
        assert "samesite=lax" in attributes
        assert "path=/" in attributes
        assert "secure" not in attributes


def test_cookie_is_secure_over_https(client: FlaskClient) -> None:
    response = client.get("/login", base_url="https://localhost")

    (header,) = _session_cookie_headers(response)
    attributes = [part.strip().lower() for part in header.split(";")[1:]]
    assert "secure" in attributes
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_cookie_secure_always_marks_plain_http_too(app_factory: AppFactory) -> None:
    app = app_factory(session={"cookie_secure": "always"})
    (header,) = _session_cookie_headers(app.test_client().get("/login"))
    assert "secure" in [part.strip().lower() for part in header.split(";")[1:]]


def test_database_never_holds_the_raw_token(client: FlaskClient, demo: Database) -> None:
    client.get("/login")
    tokens = [_token(client)]
    submit_password(client, MEMBER)
    tokens.append(_token(client))
    submit_code(client, next_totp_code(demo, MEMBER))
    tokens.append(_token(client))
    client.get("/account")

    record = session_record(demo, tokens[-1])
    assert record is not None
    assert record.token_hash == hashlib.sha256(tokens[-1].encode()).hexdigest()
    assert len(tokens[-1]) >= 43  # 256 bits, URL-safe
    with demo.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                for value in row:
                    for token in tokens:
                        assert token not in str(value), f"raw session token stored in {table.name}"
