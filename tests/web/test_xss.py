"""XSS through the browser's path: a document written with every corpus payload renders inert."""

from __future__ import annotations

import re
import uuid

from flask.testing import FlaskClient
from sqlalchemy import select

from portal.db import Database
from portal.rooms.models import Subcommittee
from tests.conftest import csrf_token, sign_in
from tests.unit.test_sanitize import XSS_CORPUS, assert_inert

#: The sanitiser allows no <div>, so the first </div> after the body's start closes it.
BODY = re.compile(r'<div class="prose document__body" data-testid="document-body">(.*?)</div>', re.S)


def _room_id(database: Database, name: str) -> uuid.UUID:
    with database.session_scope() as session:
        found = session.scalar(select(Subcommittee.id).where(Subcommittee.name_ja == name))
        assert found is not None
        return found


def test_a_document_full_of_payloads_renders_inert(client: FlaskClient, demo: Database) -> None:
    sign_in(client, demo, "tanaka@meti.example.jp")
    room = _room_id(demo, "重要鉱物分科会")
    path = f"/rooms/{room}/documents/new"
    title = "<script>alert('title')</script><img src=x onerror=alert(1)>"
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "title": title,
            "body": "\n\n".join(XSS_CORPUS),
            "level": "1",
            "release": "GREEN",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    page = client.get(response.headers["Location"]).get_data(as_text=True)

    body = BODY.search(page)
    assert body, "the document body is on the page"
    assert_inert(body.group(1))
    # The title is text everywhere it appears: escaped, never markup.
    assert "<script>alert('title')" not in page
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in page
    # The room list shows it escaped too.
    listing = client.get(f"/rooms/{room}").get_data(as_text=True)
    assert "<img src=x onerror" not in listing and "&lt;img src=x onerror=alert(1)&gt;" in listing
    # And the page never carries inline script for any of it to hook into.
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
