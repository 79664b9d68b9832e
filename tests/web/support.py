"""Plain helpers shared by the web tests (the fixtures are in tests/web/conftest.py).

Messages are compared through :func:`translated`, so the assertions hold before and after the Japanese
catalogue is compiled: the expected text is whatever the portal itself would show in that language.
"""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext
from markupsafe import escape
from sqlalchemy import select
from werkzeug.test import TestResponse

from portal.accounts.models import LoginSession
from portal.db import Database
from portal.demo import DEMO_PASSWORD
from portal.security import mfa
from portal.security.sessions import COOKIE_NAME
from tests.conftest import csrf_token

REQUEST_ID_PATTERN = re.compile(r'<code data-testid="request-id">([^<]*)</code>')
_CSRF_INPUT = re.compile(r"<input[^>]*csrf_token[^>]*>")
_NEXT_INPUT = re.compile(r'<input type="hidden" name="next" value="[^"]*">')


def translated(app: Flask, message: str, locale: str = "ja", **variables: Any) -> str:
    """``message`` as the portal renders it in ``locale`` (translated, then HTML-escaped)."""
    with app.test_request_context(), force_locale(locale):
        return str(escape(gettext(message, **variables)))


def catalogue_translates(app: Flask, message: str, locale: str = "ja") -> bool:
    """True when the compiled catalogue of ``locale`` has a translation for ``message``."""
    with app.test_request_context(), force_locale(locale):
        return str(gettext(message)) != message


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def submit_password(client: FlaskClient, email: str, password: str = DEMO_PASSWORD) -> TestResponse:
    """The first sign-in step, as the browser posts it (with a fresh CSRF token from /login)."""
    return client.post(
        "/login", data={"csrf_token": csrf_token(client, "/login"), "email": email, "password": password}
    )


def submit_code(client: FlaskClient, code: str, path: str = "/login/mfa") -> TestResponse:
    return client.post(path, data={"csrf_token": csrf_token(client, path), "code": code})


def sign_out(client: FlaskClient) -> TestResponse:
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 302
    return response


def is_signed_in(client: FlaskClient) -> bool:
    """Whether the client's cookie opens the account page (rather than a redirect to /login)."""
    response = client.get("/account")
    if response.status_code == 200:
        return True
    assert response.status_code == 302, response.status_code
    assert response.headers["Location"].endswith("/login")
    return False


def session_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(COOKIE_NAME)
    return cookie.value if cookie is not None else None


def session_record(database: Database, token: str) -> LoginSession | None:
    with database.session_scope() as db:
        digest = hashlib.sha256(token.encode()).hexdigest()
        record = db.scalar(select(LoginSession).where(LoginSession.token_hash == digest))
        if record is not None:
            db.expunge(record)
        return record


def client_with_cookie(app: Flask, token: str) -> FlaskClient:
    """A new browser that presents ``token`` as its session cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE_NAME, token)
    return other


def request_id_on_page(response: TestResponse) -> str:
    match = REQUEST_ID_PATTERN.search(text(response))
    assert match, "no request id on the page"
    return match.group(1)


def page_shape(response: TestResponse) -> str:
    """The page with what legitimately differs between two requests removed (ids, tokens, own path)."""
    page = REQUEST_ID_PATTERN.sub("<request-id>", text(response))
    page = _CSRF_INPUT.sub("<csrf>", page)
    return _NEXT_INPUT.sub("<next>", page)


_SECRET_PATTERN = re.compile(r'data-testid="totp-secret">([^<]+)<')
_RECOVERY_LIST = re.compile(r'data-testid="recovery-codes">(.*?)</ol>', re.DOTALL)


def recovery_codes_on(response: TestResponse) -> list[str]:
    match = _RECOVERY_LIST.search(text(response))
    assert match, "no recovery codes on the page"
    return re.findall(r"<code>([^<]+)</code>", match.group(1))


def enrol(client: FlaskClient, email: str, password: str = DEMO_PASSWORD) -> tuple[str, list[str]]:
    """Sign in a user without MFA and set it up through /enrol, as a person with an app would.

    Returns the TOTP secret (read from the page) and the ten recovery codes shown once afterwards.
    """
    response = submit_password(client, email, password)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/enrol")
    match = _SECRET_PATTERN.search(text(client.get("/enrol")))
    assert match, "no TOTP secret on the enrolment page"
    secret = match.group(1).replace(" ", "")
    response = submit_code(client, mfa.current_code(secret), "/enrol")
    assert response.status_code == 302, text(response)[:500]
    assert response.headers["Location"].endswith("/enrol/recovery-codes")
    return secret, recovery_codes_on(client.get("/enrol/recovery-codes"))


_SENTINEL = 987654


def translated_pattern(app: Flask, message: str, *numbers: str, locale: str = "ja") -> re.Pattern[str]:
    """A pattern for ``message`` as rendered, with each named number placeholder captured as ``(\\d+)``."""
    rendered = translated(app, message, locale, **dict.fromkeys(numbers, _SENTINEL))
    return re.compile(re.escape(rendered).replace(str(_SENTINEL), r"(\d+)"))


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.label_targets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id") and not (tag == "input" and found.get("type") == "hidden"):
            self.ids.append(str(found["id"]))
        if tag == "label" and found.get("for"):
            self.label_targets.append(str(found["for"]))


def id_problems(page: str) -> list[str]:
    """Ids of visible elements used twice, and labels whose field is not exactly one element: either way a
    label (and a screen reader, and a click on it) names the wrong field."""
    parser = _Ids()
    parser.feed(page)
    problems = sorted({f"id {value!r} used twice" for value in parser.ids if parser.ids.count(value) > 1})
    problems += [
        f"label for {target!r} names {parser.ids.count(target)} fields"
        for target in parser.label_targets
        if parser.ids.count(target) != 1
    ]
    return problems
