"""CSRF: every state-changing request needs the token of its own session; without it nothing changes."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from portal.accounts.models import LoginAttempt, RecoveryCode
from portal.db import Database
from portal.demo import DEMO_PASSWORD
from portal.security import mfa
from tests.conftest import csrf_token, next_totp_code, sign_in, user_by_email
from tests.web.support import (
    enrol,
    is_signed_in,
    recovery_codes_on,
    session_cookie,
    session_record,
    submit_password,
    text,
    translated,
)

MEMBER = "tanaka@meti.example.jp"
NOT_ENROLLED = "yamada@meti.example.jp"
NEW_PASSWORD = "Umi-no-hoshi-to-kaze-2026"
CSRF_MESSAGE = "The form had expired or was not sent from this portal. Reload the page and try again."
LISTED_ENDPOINTS = {
    "/login",
    "/login/mfa",
    "/enrol",
    "/logout",
    "/account/password",
    "/account/sessions/revoke-others",
    "/locale",
    "/enrol/recovery-codes",
}


def _assert_refused(app: Flask, response: TestResponse) -> None:
    assert response.status_code == 400
    assert translated(app, CSRF_MESSAGE) in text(response)


def _post_rules(app: Flask) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if "POST" in (rule.methods or set())]


def _example_path(rule: Rule) -> str:
    """A concrete path for the rule (identifiers are random UUIDs)."""
    built = rule.build({name: uuid.uuid4() for name in rule.arguments}, append_unknown=False)
    assert built, f"cannot build an example path for {rule.rule}"
    return built[1]


def test_the_listed_endpoints_exist_and_accept_post(app: Flask) -> None:
    assert {rule.rule for rule in _post_rules(app)} >= LISTED_ENDPOINTS


@pytest.mark.parametrize("signed_in", [False, True])
def test_every_post_endpoint_refuses_a_request_without_token(
    app: Flask, client: FlaskClient, demo: Database, signed_in: bool
) -> None:
    if signed_in:
        sign_in(client, demo, MEMBER)
    else:
        client.get("/login")
    for rule in _post_rules(app):
        response = client.post(_example_path(rule), data={"email": MEMBER, "password": DEMO_PASSWORD})
        assert response.status_code == 400, rule.rule
    assert is_signed_in(client) is signed_in


def test_login_without_token(app: Flask, client: FlaskClient, demo: Database) -> None:
    client.get("/login")

    response = client.post("/login", data={"email": MEMBER, "password": DEMO_PASSWORD})

    _assert_refused(app, response)
    with demo.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 0
    assert client.get("/login/mfa").headers["Location"].endswith("/login")


def test_second_factor_without_token(app: Flask, client: FlaskClient, demo: Database) -> None:
    submit_password(client, MEMBER)
    code = next_totp_code(demo, MEMBER)

    response = client.post("/login/mfa", data={"code": code})

    _assert_refused(app, response)
    assert user_by_email(demo, MEMBER).totp_last_step == 0  # the code was not consumed
    assert not is_signed_in(client)
    token = csrf_token(client, "/login/mfa")
    assert client.post("/login/mfa", data={"csrf_token": token, "code": code}).status_code == 302


def test_enrolment_without_token(app: Flask, client: FlaskClient, demo: Database) -> None:
    submit_password(client, NOT_ENROLLED)
    page = text(client.get("/enrol"))
    secret = page.split('data-testid="totp-secret">')[1].split("<")[0].replace(" ", "")

    response = client.post("/enrol", data={"code": mfa.current_code(secret)})

    _assert_refused(app, response)
    user = user_by_email(demo, NOT_ENROLLED)
    assert not user.mfa_enrolled
    with demo.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(RecoveryCode)) == 0


def test_logout_without_token(app: Flask, client: FlaskClient, demo: Database) -> None:
    sign_in(client, demo, MEMBER)
    token = session_cookie(client)
    assert token

    _assert_refused(app, client.post("/logout"))

    assert session_record(demo, token) is not None
    assert is_signed_in(client)


def test_password_change_without_token(app: Flask, demo: Database) -> None:
    here = sign_in(app.test_client(), demo, MEMBER)
    elsewhere = sign_in(app.test_client(), demo, MEMBER)
    hash_before = user_by_email(demo, MEMBER).password_hash

    response = here.post(
        "/account/password",
        data={
            "current_password": DEMO_PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )

    _assert_refused(app, response)
    assert user_by_email(demo, MEMBER).password_hash == hash_before
    assert is_signed_in(elsewhere)
    assert submit_password(app.test_client(), MEMBER, NEW_PASSWORD).status_code == 401


def test_revoke_other_sessions_without_token(app: Flask, demo: Database) -> None:
    here = sign_in(app.test_client(), demo, MEMBER)
    elsewhere = sign_in(app.test_client(), demo, MEMBER)

    _assert_refused(app, here.post("/account/sessions/revoke-others"))

    assert is_signed_in(elsewhere)
    assert is_signed_in(here)


def test_locale_switch_without_token(app: Flask, client: FlaskClient, demo: Database) -> None:
    client.get("/login")
    _assert_refused(app, client.post("/locale", data={"locale": "en", "next": "/login"}))
    assert '<html lang="ja">' in text(client.get("/login"))

    sign_in(client, demo, MEMBER)
    _assert_refused(app, client.post("/locale", data={"locale": "en", "next": "/"}))
    assert user_by_email(demo, MEMBER).locale == "ja"
    assert '<html lang="ja">' in text(client.get("/"))


def test_recovery_codes_confirmation_without_token(app: Flask, client: FlaskClient, demo: Database) -> None:
    _secret, codes = enrol(client, NOT_ENROLLED)

    _assert_refused(app, client.post("/enrol/recovery-codes"))

    assert recovery_codes_on(client.get("/enrol/recovery-codes")) == codes


def test_token_of_another_session_is_refused(app: Flask, demo: Database) -> None:
    stranger = app.test_client()
    foreign_token = csrf_token(stranger, "/login")
    victim = sign_in(app.test_client(), demo, MEMBER)
    csrf_token(victim, "/account")  # the victim has a token of their own
    hash_before = user_by_email(demo, MEMBER).password_hash

    responses = [
        victim.post("/logout", data={"csrf_token": foreign_token}),
        victim.post("/locale", data={"csrf_token": foreign_token, "locale": "en"}),
        victim.post(
            "/account/password",
            data={
                "csrf_token": foreign_token,
                "current_password": DEMO_PASSWORD,
                "new_password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD,
            },
        ),
    ]
    anonymous = app.test_client()
    anonymous.get("/login")
    responses.append(
        anonymous.post(
            "/login", data={"csrf_token": foreign_token, "email": MEMBER, "password": DEMO_PASSWORD}
        )
    )

    for response in responses:
        _assert_refused(app, response)
    assert is_signed_in(victim)
    assert user_by_email(demo, MEMBER).password_hash == hash_before
    assert user_by_email(demo, MEMBER).locale == "ja"
    assert not is_signed_in(anonymous)


def test_token_of_another_user_is_refused(app: Flask, demo: Database) -> None:
    attacker = sign_in(app.test_client(), demo, "suzuki@mlit.example.jp")
    attacker_token = csrf_token(attacker, "/account")
    victim = sign_in(app.test_client(), demo, MEMBER)
    elsewhere = sign_in(app.test_client(), demo, MEMBER)

    _assert_refused(app, victim.post("/account/sessions/revoke-others", data={"csrf_token": attacker_token}))
    assert is_signed_in(elsewhere)


def test_token_from_before_sign_in_is_refused_after_sign_in(
    app: Flask, client: FlaskClient, demo: Database
) -> None:
    """The CSRF secret is renewed with the session token: one seen before sign-in is another session's."""
    before = csrf_token(client, "/login")
    sign_in(client, demo, MEMBER)

    response = client.post("/logout", data={"csrf_token": before})

    assert response.status_code == 400
    assert is_signed_in(client)
