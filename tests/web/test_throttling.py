"""Sign-in throttling: per account and per address, unknown e-mails included, and its end."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from portal.accounts.models import LoginAttempt, LoginLockout
from portal.db import Database
from tests.conftest import csrf_token
from tests.web.conftest import AppFactory
from tests.web.support import submit_password, text, translated, translated_pattern

ACCOUNT = "tanaka@meti.example.jp"
OTHER_ACCOUNT = "sato@cao.example.jp"
WRONG_PASSWORD = "Not-the-right-password-42"
PAUSED = "Too many failed sign-in attempts. Sign-in is paused; try again in %(minutes)d minutes."


def _client_from(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _fail(client: FlaskClient, email: str, times: int) -> list[int]:
    return [submit_password(client, email, WRONG_PASSWORD).status_code for _ in range(times)]


def _paused_for_minutes(app: Flask, response: TestResponse) -> int:
    """The refusal says that sign-in is paused and for how long; returns the minutes it names."""
    assert response.status_code == 429, response.status_code
    match = translated_pattern(app, PAUSED, "minutes").search(text(response))
    assert match, "no throttling message on the page"
    return int(match.group(1))


def _move_back(database: Database, minutes: int) -> None:
    """Let ``minutes`` pass for the throttle: every attempt and lockout moves that far into the past."""
    shift = timedelta(minutes=minutes)
    with database.session_scope() as session:
        for attempt in session.scalars(select(LoginAttempt)):
            attempt.attempted_at -= shift
        for lockout in session.scalars(select(LoginLockout)):
            lockout.locked_until -= shift


def test_five_failures_lock_the_account_even_for_the_right_password(
    app: Flask, client: FlaskClient, demo: Database
) -> None:
    statuses = _fail(client, ACCOUNT, 5)
    assert statuses[:4] == [401] * 4
    assert statuses[4] in {401, 429}  # the fifth wrong password is refused either way

    refused = submit_password(client, ACCOUNT)  # the correct password

    assert 14 <= _paused_for_minutes(app, refused) <= 15
    assert translated(app, "The e-mail address or password is not correct.") not in text(refused)
    assert client.get("/login/mfa").headers["Location"].endswith("/login")  # no second step was opened
    # The lock is on the account: another address cannot sign in to it either ...
    assert submit_password(_client_from(app, "192.0.2.7"), ACCOUNT).status_code == 429
    # ... while other accounts from the first address still can.
    assert submit_password(client, OTHER_ACCOUNT).status_code == 302


def test_failures_on_unknown_emails_are_throttled_the_same(
    app: Flask, client: FlaskClient, demo: Database
) -> None:
    unknown = "nobody@meti.example.jp"
    known_statuses = _fail(_client_from(app, "192.0.2.1"), ACCOUNT, 6)
    unknown_statuses = _fail(_client_from(app, "192.0.2.2"), unknown, 6)

    assert unknown_statuses == known_statuses
    assert unknown_statuses[-1] == 429
    assert 14 <= _paused_for_minutes(app, submit_password(client, unknown)) <= 15


def test_twenty_failures_from_one_address_lock_the_address(app: Flask, demo: Database) -> None:
    attacker = _client_from(app, "192.0.2.66")
    emails = [f"guess{number}@example.jp" for number in range(15)] + [
        "sato@cao.example.jp",
        "kato@cao.example.jp",
        "suzuki@mlit.example.jp",
        "takahashi@mic.example.jp",
        "ito@toho-raremetals.example.jp",
    ]
    statuses = [submit_password(attacker, email, WRONG_PASSWORD).status_code for email in emails]
    assert statuses[:19] == [401] * 19  # no single account reached its own limit
    assert statuses[19] in {401, 429}

    refused = submit_password(attacker, ACCOUNT)  # an account with no failures, right password

    assert 14 <= _paused_for_minutes(app, refused) <= 15
    assert submit_password(attacker, "another-guess@example.jp", WRONG_PASSWORD).status_code == 429
    # The lock is on the address: the same account from elsewhere is fine.
    assert submit_password(_client_from(app, "192.0.2.67"), ACCOUNT).status_code == 302


def test_failures_older_than_the_window_do_not_count(client: FlaskClient, demo: Database) -> None:
    assert _fail(client, ACCOUNT, 4) == [401] * 4
    _move_back(demo, 16)
    assert _fail(client, ACCOUNT, 4) == [401] * 4

    assert submit_password(client, ACCOUNT).status_code == 302


def test_a_successful_password_restarts_the_count(client: FlaskClient, app: Flask, demo: Database) -> None:
    assert _fail(client, ACCOUNT, 4) == [401] * 4
    assert submit_password(app.test_client(), ACCOUNT).status_code == 302
    assert _fail(client, ACCOUNT, 4) == [401] * 4

    assert submit_password(client, ACCOUNT).status_code == 302


def test_sign_in_works_again_after_the_account_lockout(
    app: Flask, client: FlaskClient, demo: Database
) -> None:
    _fail(client, ACCOUNT, 5)
    assert submit_password(client, ACCOUNT).status_code == 429
    _move_back(demo, 10)
    assert submit_password(client, ACCOUNT).status_code == 429  # still within the 15 minutes
    _move_back(demo, 6)

    response = submit_password(client, ACCOUNT)

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login/mfa")
    # Failures punished by the past lockout do not count again: one new mistake is just a mistake.
    assert submit_password(app.test_client(), ACCOUNT, WRONG_PASSWORD).status_code == 401


def test_sign_in_works_again_after_the_address_lockout(app: Flask, demo: Database) -> None:
    attacker = _client_from(app, "192.0.2.99")
    for number in range(20):
        submit_password(attacker, f"guess{number}@example.jp", WRONG_PASSWORD)
    assert submit_password(attacker, ACCOUNT).status_code == 429
    _move_back(demo, 16)

    assert submit_password(attacker, ACCOUNT).status_code == 302
    assert submit_password(attacker, "guess-after@example.jp", WRONG_PASSWORD).status_code == 401


def test_configured_limits_are_used(app_factory: AppFactory) -> None:
    app = app_factory(demo=True, throttle={"max_failures_per_account": 2, "lockout_minutes": 1})
    client = app.test_client()
    assert _fail(client, ACCOUNT, 1) == [401]
    _fail(client, ACCOUNT, 1)

    refused = submit_password(client, ACCOUNT)

    assert _paused_for_minutes(app, refused) == 1
    database: Database = app.extensions["portal_db"]
    _move_back(database, 2)
    assert submit_password(client, ACCOUNT).status_code == 302


def test_wrong_second_factor_codes_count_toward_the_account_limit(
    app: Flask, client: FlaskClient, demo: Database
) -> None:
    assert submit_password(client, ACCOUNT).status_code == 302
    statuses = []
    for _ in range(5):
        token = csrf_token(client, "/login/mfa")
        statuses.append(client.post("/login/mfa", data={"csrf_token": token, "code": "000000"}).status_code)
    # Four refusals on the page, then the pending sign-in ends and the account is paused.
    assert statuses[:4] == [401] * 4
    assert statuses[4] == 302
    assert client.get("/login/mfa").headers["Location"].endswith("/login")
    refused = submit_password(client, ACCOUNT)  # even the right password now
    assert 14 <= _paused_for_minutes(app, refused) <= 15
