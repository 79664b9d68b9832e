"""Comments on documents: by members who may read, sealed, shown as text, refused to observers."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.db import Database
from portal.documents.models import DocumentComment
from portal.security.audit_models import AuditEntry
from tests.conftest import csrf_token, sign_in
from tests.web.test_versions import _paths


def _comment(client: FlaskClient, base: str, body: str) -> int:
    token = csrf_token(client, "/account")
    return client.post(f"{base}/comments", data={"csrf_token": token, "body": body}).status_code


def test_a_member_comments_and_the_comment_is_sealed_and_escaped(client: FlaskClient, demo: Database) -> None:
    base, _document = _paths(demo)
    sign_in(client, demo, "tanaka@meti.example.jp")
    marker = f"コメント標識{uuid.uuid4().hex[:8]}"
    body = f"{marker} <script>alert(1)</script>"
    assert _comment(client, base, body) == 302
    page = client.get(base).get_data(as_text=True)
    assert marker in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    with demo.session_scope() as session:
        sealed = session.scalars(select(DocumentComment.body_sealed)).all()
        assert sealed and all(marker.encode() not in bytes(blob) for blob in sealed)
        audited = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "document.comment")
        )
        assert audited == 1


def test_an_empty_comment_is_refused_with_the_page_kept(client: FlaskClient, demo: Database) -> None:
    base, _document = _paths(demo)
    sign_in(client, demo, "tanaka@meti.example.jp")
    assert _comment(client, base, "   ") == 400


def test_observers_read_comments_but_cannot_add_them(client: FlaskClient, demo: Database) -> None:
    base, _document = _paths(demo)
    sign_in(client, demo, "kobayashi@toto-u.example.jp")  # an observer of the room
    page = client.get(base).get_data(as_text=True)
    assert 'action="' + base + '/comments"' not in page
    token = csrf_token(client, "/account")
    assert client.post(f"{base}/comments", data={"csrf_token": token, "body": "意見"}).status_code == 403
    with Database(demo.url).session_scope() as session:
        assert session.scalar(select(func.count()).select_from(DocumentComment)) == 0
