"""Security headers on every kind of response, and markup that a strict CSP does not have to relax for."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from portal.config import PROJECT_ROOT
from portal.db import Database
from portal.rooms.models import Subcommittee
from tests.conftest import sign_in
from tests.web.support import enrol, submit_password, text

MEMBER = "tanaka@meti.example.jp"
TEMPLATES = sorted((PROJECT_ROOT / "templates").rglob("*.html"))


def _csp_directives(response: TestResponse) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    directives: dict[str, list[str]] = {}
    for directive in policy.split(";"):
        name, *values = directive.split()
        directives[name.lower()] = values
    return directives


def assert_security_headers(response: TestResponse) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = _csp_directives(response)
    assert "'self'" in directives["default-src"], policy
    assert "'self'" in directives["script-src"], policy
    assert directives["frame-ancestors"] == ["'none'"], policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    for source in ("*", "data:", "http:", "https:"):
        assert source not in directives["script-src"], policy
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") == "no-referrer"


def _room_path(database: Database, name_ja: str) -> str:
    with database.session_scope() as session:
        room_id = session.scalar(select(Subcommittee.id).where(Subcommittee.name_ja == name_ja))
    return f"/rooms/{room_id}"


def test_headers_on_the_login_page(client: FlaskClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert_security_headers(response)
    assert "no-store" in response.headers["Cache-Control"]


def test_headers_on_signed_in_pages(client: FlaskClient, demo: Database) -> None:
    sign_in(client, demo, MEMBER)
    for path in ("/", "/account", _room_path(demo, "重要鉱物分科会")):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_security_headers(response)
        assert "no-store" in response.headers["Cache-Control"], path


@pytest.mark.parametrize("signed_in", [False, True])
def test_headers_on_error_pages(client: FlaskClient, demo: Database, signed_in: bool) -> None:
    checks = [("/no-such-page", 404), ("/logout", 405)]
    if signed_in:
        sign_in(client, demo, MEMBER)
        checks.append((_room_path(demo, "AGI分科会"), 404))
    for path, status in checks:
        response = client.get(path)
        assert response.status_code == status, path
        assert_security_headers(response)
        assert "no-store" in response.headers["Cache-Control"]


def test_headers_on_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert_security_headers(response)


def test_headers_on_a_redirect(client: FlaskClient) -> None:
    response = client.get("/account")
    assert response.status_code == 302
    assert_security_headers(response)


# --- markup ------------------------------------------------------------------------------------------


class _InlineCodeFinder(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block: inline scripts and styles, handlers."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name.lower(): value or "" for name, value in attrs}
        if tag == "script":
            self._in_script = True
            if "src" not in names:
                self.problems.append("<script> without src")
        if tag == "style":
            self.problems.append("<style> element")
        if "style" in names:
            self.problems.append(f"style= on <{tag}>")
        self.problems.extend(f"{name}= on <{tag}>" for name in names if name.startswith("on"))
        for name in ("href", "src", "action", "formaction"):
            if names.get(name, "").strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL in {name} on <{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append("inline script content")


def inline_code_in(markup: str) -> list[str]:
    finder = _InlineCodeFinder()
    finder.feed(markup)
    finder.close()
    return finder.problems


def test_the_finder_would_catch_inline_code() -> None:
    sample = '<p style="color:red" onclick="x()">a</p><script>alert(1)</script><a href="javascript:x()">b</a>'
    assert len(inline_code_in(sample)) == 5
    assert inline_code_in('<script src="/static/app.js"></script><img src="data:image/svg+xml,x">') == []


def test_templates_exist() -> None:
    assert len(TEMPLATES) >= 8


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(PROJECT_ROOT)))
def test_template_has_no_inline_script_or_style(template: Path) -> None:
    source = template.read_text("utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source, re.IGNORECASE), "inline <script>"
    assert not re.search(r"<style\b", source, re.IGNORECASE), "<style> element"
    assert not re.search(r"\sstyle\s*=", source, re.IGNORECASE), "style= attribute"
    assert not re.search(r"\son[a-z]+\s*=", source, re.IGNORECASE), "inline event handler"
    without_jinja = re.sub(r"\{[{%#].*?[}%#]\}", " ", source, flags=re.DOTALL)
    assert inline_code_in(without_jinja) == []


def test_rendered_pages_have_no_inline_script_or_style(
    app: Flask, client: FlaskClient, demo: Database
) -> None:
    pages: dict[str, str] = {}
    pages["login"] = text(client.get("/login"))
    pages["login with errors"] = text(submit_password(client, MEMBER, "wrong-password-123"))
    pages["not found"] = text(client.get("/no-such-page"))
    submit_password(client, MEMBER)
    pages["second factor"] = text(client.get("/login/mfa"))
    sign_in(client, demo, MEMBER)
    for path in ("/", "/account", _room_path(demo, "重要鉱物分科会")):
        pages[path] = text(client.get(path))
    enrolment = app.test_client()
    submit_password(enrolment, "yamada@meti.example.jp")
    pages["enrolment"] = text(enrolment.get("/enrol"))
    enrolled = app.test_client()
    enrol(enrolled, "yamada@meti.example.jp")
    pages["recovery codes"] = text(enrolled.get("/enrol/recovery-codes"))

    assert 'data-testid="totp-secret"' in pages["enrolment"]
    problems = {name: inline_code_in(markup) for name, markup in pages.items()}
    assert {name: found for name, found in problems.items() if found} == {}
