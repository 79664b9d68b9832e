"""Error pages (request id, no internals), Japanese by default, the language switch, and /healthz."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from portal.accounts.models import LoginAttempt
from portal.db import Database
from tests.conftest import csrf_token, make_app, sign_in, user_by_email
from tests.web.conftest import AppFactory
from tests.web.support import (
    catalogue_translates,
    request_id_on_page,
    sign_out,
    text,
    translated,
)

MEMBER = "tanaka@meti.example.jp"
INTERNALS = ("Traceback", 'File "', "werkzeug", "sqlalchemy", "jinja2", "site-packages")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
CATALOGUE_PENDING = "catalogue pending: the Japanese catalogue has no translation yet"


def assert_error_page(app: Flask, response: TestResponse, status: int, title: str) -> None:
    """The error page of ``status``: its title, nothing internal."""
    assert response.status_code == status
    page = text(response)
    assert translated(app, title) in page
    for internal in INTERNALS:
        assert internal not in page, internal


def assert_request_id_shown(response: TestResponse) -> None:
    """The page quotes the request id that the X-Request-Id header carries (and there is one)."""
    header_id = response.headers.get("X-Request-Id", "")
    assert len(header_id) >= 8, f"X-Request-Id is {header_id!r}"
    assert request_id_on_page(response) == header_id


def _too_large_response(app_factory: AppFactory) -> tuple[Flask, TestResponse]:
    app = app_factory(uploads={"max_request_mb": 1})
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"csrf_token": token, "email": "a@example.jp", "password": "x" * (2 * 1024 * 1024)}
    )
    return app, response


def _csrf_failure_response(client: FlaskClient) -> TestResponse:
    client.get("/login")
    return client.post("/login", data={"email": "a@example.jp", "password": "whatever-it-is"})


def test_not_found_page(app: Flask, client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert_error_page(app, response, 404, "Not found")
    assert_request_id_shown(response)


def test_method_not_allowed_page(app: Flask, client: FlaskClient) -> None:
    response = client.get("/logout")
    assert_error_page(app, response, 405, "Method not allowed")
    assert_request_id_shown(response)


def test_request_too_large_page(app_factory: AppFactory) -> None:
    app, response = _too_large_response(app_factory)

    assert_error_page(app, response, 413, "Too large")
    database: Database = app.extensions["portal_db"]
    with database.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 0


def test_csrf_failure_page(app: Flask, client: FlaskClient) -> None:
    response = _csrf_failure_response(client)

    assert_error_page(app, response, 400, "Bad request")
    assert translated(
        app, "The form had expired or was not sent from this portal. Reload the page and try again."
    ) in text(response)


def test_request_too_large_page_shows_the_request_id(app_factory: AppFactory) -> None:
    """The id is assigned before the body is read (the CSRF check reads it and may fail with 413)."""
    _app, response = _too_large_response(app_factory)
    assert response.status_code == 413
    assert_request_id_shown(response)


def test_csrf_failure_page_shows_the_request_id(client: FlaskClient) -> None:
    """The id is assigned before the CSRF check refuses the request."""
    response = _csrf_failure_response(client)
    assert response.status_code == 400
    assert_request_id_shown(response)


def test_each_response_has_its_own_request_id(client: FlaskClient) -> None:
    first = client.get("/no-such-page")
    second = client.get("/no-such-page")
    assert request_id_on_page(first) != request_id_on_page(second)


def test_a_plain_request_id_from_the_proxy_is_kept_and_anything_else_replaced(client: FlaskClient) -> None:
    kept = client.get("/no-such-page", headers={"X-Request-Id": "proxy-id-0123456789"})
    assert kept.headers["X-Request-Id"] == "proxy-id-0123456789"
    assert request_id_on_page(kept) == "proxy-id-0123456789"

    hostile = '"><script>alert(1)</script>'
    replaced = client.get("/no-such-page", headers={"X-Request-Id": hostile})
    assert replaced.headers["X-Request-Id"] != hostile
    assert "<script>alert(1)" not in text(replaced)


def test_unexpected_error_shows_500_without_details(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    def explode() -> str:
        raise RuntimeError("connection to vault-7.internal refused; api_key=abc123secret")

    app.add_url_rule("/test-explodes", "test_explodes", explode)

    with caplog.at_level(logging.ERROR, logger="portal.errors"):
        response = client.get("/test-explodes")

    assert_error_page(app, response, 500, "Something went wrong")
    assert_request_id_shown(response)
    page = text(response)
    for detail in ("vault-7", "abc123secret", "RuntimeError"):
        assert detail not in page, detail
    # The details go to the log instead, under the same request id.
    assert any(response.headers["X-Request-Id"] in record.getMessage() for record in caplog.records)


# --- language ----------------------------------------------------------------------------------------


def test_pages_are_japanese_by_default(client: FlaskClient) -> None:
    assert '<html lang="ja">' in text(client.get("/login"))
    assert '<html lang="ja">' in text(client.get("/no-such-page"))


def test_pages_show_japanese_text_by_default(app: Flask, client: FlaskClient) -> None:
    login = text(client.get("/login"))
    not_found = text(client.get("/no-such-page"))
    if not catalogue_translates(app, "Council Portal"):
        pytest.xfail(CATALOGUE_PENDING)
    assert "協議会ポータル" in login
    heading = re.search(r"<h1>(.*?)</h1>", login, re.DOTALL)
    assert heading
    assert JAPANESE.search(heading.group(1))
    assert heading.group(1).strip() != "Sign in"
    assert translated(app, "Not found") in not_found
    assert JAPANESE.search(translated(app, "Not found"))


def test_anonymous_visitor_switches_to_english(app: Flask, client: FlaskClient) -> None:
    token = csrf_token(client, "/login")

    response = client.post("/locale", data={"csrf_token": token, "locale": "en", "next": "/login?"})

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    page = text(client.get("/login"))
    assert '<html lang="en">' in page
    assert "Council Portal" in page
    assert "<h1>Sign in</h1>" in page
    assert '<html lang="en">' in text(client.get("/no-such-page"))


def test_an_unknown_language_is_ignored(client: FlaskClient, demo: Database) -> None:
    token = csrf_token(client, "/login")
    assert client.post("/locale", data={"csrf_token": token, "locale": "fr"}).status_code == 302
    assert '<html lang="ja">' in text(client.get("/login"))

    sign_in(client, demo, MEMBER)
    token = csrf_token(client, "/account")
    client.post("/locale", data={"csrf_token": token, "locale": "xx"})
    assert user_by_email(demo, MEMBER).locale == "ja"


def test_signed_in_choice_is_stored_and_survives_a_new_sign_in(app: Flask, demo: Database) -> None:
    client = sign_in(app.test_client(), demo, MEMBER)
    assert '<html lang="ja">' in text(client.get("/"))

    response = client.post(
        "/locale", data={"csrf_token": csrf_token(client, "/account"), "locale": "en", "next": "/account?"}
    )

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account")
    assert user_by_email(demo, MEMBER).locale == "en"
    assert '<html lang="en">' in text(client.get("/account"))
    sign_out(client)
    assert '<html lang="ja">' in text(client.get("/login"))  # the session's choice ended with it

    later = sign_in(app.test_client(), demo, MEMBER)
    page = text(later.get("/"))
    assert '<html lang="en">' in page
    rooms = page.split('data-testid="room-list"')[1].split("</ul>")[0]  # (meeting titles are as written)
    assert "Critical Minerals Subcommittee" in rooms  # room names follow the language
    assert "重要鉱物分科会" not in rooms


# --- health ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "unreachable_url",
    [
        "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2",
        "sqlite:////nonexistent-directory-for-portal-tests/portal.sqlite3",
    ],
    ids=["postgresql-unreachable", "sqlite-unopenable"],
)
def test_healthz_reports_an_unreachable_database(tmp_path: Path, unreachable_url: str) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    app = make_app(unreachable_url, instance)
    try:
        response = app.test_client().get("/healthz")
    finally:
        app.extensions["portal_db"].dispose()

    assert response.status_code == 503
    assert response.is_json
    assert response.json == {"status": "unavailable", "database": "unreachable"}
    assert "no-store" in response.headers["Cache-Control"]


def test_healthz_reports_a_working_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}
