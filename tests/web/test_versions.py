"""Document versions: every edit is a version; history, side-by-side comparison, restore, stale edits."""

from __future__ import annotations

import html
import re
import uuid

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.db import Database
from portal.documents.models import Document, DocumentVersion
from portal.rooms.models import Subcommittee
from tests.conftest import csrf_token, document_id_by_title, document_texts, sign_in

TITLE = "ガリウム・ゲルマニウム輸出管理措置の影響整理(第1版)"


def _paths(database: Database) -> tuple[str, uuid.UUID]:
    with database.session_scope() as session:
        room = session.scalar(select(Subcommittee.id).where(Subcommittee.name_ja == "重要鉱物分科会"))
    document = document_id_by_title(database, TITLE)
    assert room and document
    return f"/rooms/{room}/documents/{document}", document


def _edit(client: FlaskClient, base: str, *, version: int, title: str, body: str, summary: str = "") -> str:
    data = {"csrf_token": csrf_token(client, f"{base}/edit"), "base_version": str(version), "title": title}
    data |= {"body": body, "summary": summary}
    response = client.post(f"{base}/edit", data=data)
    return f"{response.status_code}|{response.get_data(as_text=True)}"


def _version_count(database: Database, document: uuid.UUID) -> int:
    with database.session_scope() as session:
        count = session.scalar(
            select(func.count()).select_from(DocumentVersion).where(DocumentVersion.document_id == document)
        )
        return int(count or 0)


def test_each_edit_is_a_version_and_history_compares_them(client: FlaskClient, demo: Database) -> None:
    base, document = _paths(demo)
    sign_in(client, demo, "tanaka@meti.example.jp")
    assert _version_count(demo, document) == 1
    result = _edit(
        client, base, version=1, title=TITLE, body="一行目\n<b>二行目</b> 改訂\n三行目", summary="改訂"
    )
    assert result.startswith("302|")
    assert _version_count(demo, document) == 2
    assert document_texts(demo)[document][1] == "一行目\n<b>二行目</b> 改訂\n三行目"

    page = client.get(f"{base}/history?a=1&b=2").get_data(as_text=True)
    assert "v1" in page and "v2" in page and "改訂" in page
    diff = re.search(r'data-testid="diff">(.*?)</table>', page, re.S)
    assert diff
    # The new line is marked inserted, and what the user typed stays text.
    assert "<ins>&lt;b&gt;二行目&lt;/b&gt; 改訂</ins>" in diff.group(1)
    assert "<b>二行目</b>" not in diff.group(1)


def test_restore_makes_an_old_version_current_as_a_new_version(client: FlaskClient, demo: Database) -> None:
    base, document = _paths(demo)
    sign_in(client, demo, "tanaka@meti.example.jp")
    original = document_texts(demo)[document]
    assert _edit(client, base, version=1, title="改題", body="差し替え本文").startswith("302|")
    token = csrf_token(client, f"{base}/edit")  # the history page carries it on its restore buttons
    response = client.post(f"{base}/versions/1/restore", data={"csrf_token": token})
    assert response.status_code == 302
    assert document_texts(demo)[document] == original
    assert _version_count(demo, document) == 3  # nothing overwritten: v1, v2, and v3 = v1's text


def test_a_stale_edit_gets_a_conflict_page_and_overwrites_nothing(
    app: Flask, client: FlaskClient, demo: Database
) -> None:
    base, document = _paths(demo)
    sign_in(client, demo, "tanaka@meti.example.jp")
    other = sign_in(app.test_client(), demo, "sato@cao.example.jp")
    assert _edit(other, base, version=1, title=TITLE, body="事務局が先に保存した本文").startswith("302|")

    result = _edit(client, base, version=1, title=TITLE, body="田中の編集内容")
    status, page = result.split("|", 1)
    assert status == "409"
    assert 'data-testid="conflict"' in page
    assert "事務局が先に保存した本文" in page  # the current text, shown
    assert "田中の編集内容" in html.unescape(page)  # the user's text, kept in the form
    assert 'name="base_version" type="hidden" value="2"' in page
    assert document_texts(demo)[document][1] == "事務局が先に保存した本文"
    assert _version_count(demo, document) == 2
    # Saving again from the conflict page, deliberately, makes the user's text the newest version.
    assert _edit(client, base, version=2, title=TITLE, body="田中の編集内容").startswith("302|")
    assert document_texts(demo)[document][1] == "田中の編集内容"


def test_observers_cannot_edit(client: FlaskClient, demo: Database) -> None:
    base, _document = _paths(demo)
    sign_in(client, demo, "kobayashi@toto-u.example.jp")  # observer in 重要鉱物分科会, RESTRICTED clearance
    assert client.get(base).status_code == 200
    assert client.get(f"{base}/edit").status_code == 403


def test_versions_are_sealed(client: FlaskClient, demo: Database) -> None:
    base, document = _paths(demo)
    sign_in(client, demo, "tanaka@meti.example.jp")
    marker = f"版管理標識{uuid.uuid4().hex[:8]}"
    assert _edit(client, base, version=1, title=TITLE, body=marker, summary=marker).startswith("302|")
    with demo.session_scope() as session:
        for version in session.scalars(
            select(DocumentVersion).where(DocumentVersion.document_id == document)
        ):
            for blob in (version.title_sealed, version.body_sealed, version.summary_sealed):
                assert blob is None or marker.encode() not in bytes(blob)
        assert session.get(Document, document) is not None
