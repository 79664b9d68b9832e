"""The auditor's pages: the trail with its filters and pages, the CSV export, and the chain's verification.
Only auditors see them (anyone else gets 403, audited as NOT_AUDITOR), and no page or export carries a
document title, a document's text or a password: identifiers, levels and reason codes only."""

from __future__ import annotations

import csv
import html
import io
import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from werkzeug.test import TestResponse

from portal.auditing.service import CSV_COLUMNS, PAGE_SIZE
from portal.db import Database
from portal.demo import DEMO_PASSWORD, DOCUMENTS, ROOMS
from portal.documents.models import Document
from portal.rooms.models import Subcommittee
from portal.security import audit
from portal.security.audit import Actor, AuditEvent
from portal.security.audit_models import AuditEntry
from tests.conftest import csrf_token, document_texts, sign_in, user_by_email
from tests.unit.test_audit_chain import _assert_append_only, _tampering
from tests.web.support import submit_password, text, translated

AUDITOR = "matsumoto@cao.example.jp"
SECRETARIAT = "sato@cao.example.jp"
TANAKA = "tanaka@meti.example.jp"  # CESI, chair of the minerals room, reads everything there
KOBAYASHI = "kobayashi@toto-u.example.jp"  # RESTRICTED observer of the minerals room: denied above that
SUZUKI = "suzuki@mlit.example.jp"

ROOM_NAMES = {room.key: room.name_ja for room in ROOMS}
NEW_TITLE = "監査証跡に出てはならない新しい題名"
NEW_BODY = "監査証跡に出てはならない本文の一節"
TYPED_WRONG_PASSWORD = "Typed-Wrong-Password-4711"
ROW = re.compile(r'<tr class="(row--denied)?">\s*<td>(\d+)</td>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>')
COUNT_MESSAGE = "%(count)d entries"


# --- activity to audit ------------------------------------------------------------------------------


def _room_id(database: Database, key: str) -> uuid.UUID:
    with database.session_scope() as session:
        found = session.scalar(select(Subcommittee.id).where(Subcommittee.name_ja == ROOM_NAMES[key]))
    assert found is not None
    return found


def _documents(database: Database, room: uuid.UUID) -> list[uuid.UUID]:
    with database.session_scope() as session:
        return list(session.scalars(select(Document.id).where(Document.subcommittee_id == room)))


def _activity(app: Flask, demo: Database) -> None:
    """Sign-ins, allowed and denied reads of classified documents, a denied room, a new CONFIDENTIAL
    document (its title and text typed by a user) and a failed sign-in with a typed password."""
    minerals = _room_id(demo, "minerals")
    reader = sign_in(app.test_client(), demo, TANAKA)
    for document_id in _documents(demo, minerals):
        assert reader.get(f"/rooms/{minerals}/documents/{document_id}").status_code == 200
    assert reader.get(f"/rooms/{_room_id(demo, 'agi')}").status_code == 404
    path = f"/rooms/{minerals}/documents/new"
    created = reader.post(
        path,
        data={
            "csrf_token": csrf_token(reader, path),
            "title": NEW_TITLE,
            "body": NEW_BODY,
            "level": "2",
            "release": "AMBER",
            "reason": "個別企業の情報を含むため",
        },
    )
    assert created.status_code == 302, text(created)[:500]

    observer = sign_in(app.test_client(), demo, KOBAYASHI)
    statuses = [
        observer.get(f"/rooms/{minerals}/documents/{document_id}").status_code
        for document_id in _documents(demo, minerals)
    ]
    assert 404 in statuses and 200 in statuses

    assert submit_password(app.test_client(), SUZUKI, TYPED_WRONG_PASSWORD).status_code == 401


def _bulk(database: Database, count: int, action: str = "test.bulk") -> None:
    events = [
        AuditEvent(
            actor=Actor(user_id=None, ip_address="cli"), action=action, allowed=True, rule=action, reason="OK"
        )
        for _number in range(count)
    ]
    audit.write(database.engine, events)


# --- reading the pages ------------------------------------------------------------------------------


def _rows(response: TestResponse) -> list[tuple[int, bool, str]]:
    """(seq, denied, user e-mail) of each row of the trail's table, in page order."""
    assert response.status_code == 200, text(response)[:300]
    return [
        (int(seq), bool(denied), html.unescape(email)) for denied, seq, email in ROW.findall(text(response))
    ]


def _seqs(response: TestResponse) -> list[int]:
    return [seq for seq, _denied, _email in _rows(response)]


def _expected(demo: Database, *conditions: Any, limit: int | None = PAGE_SIZE) -> list[int]:
    with demo.session_scope() as session:
        statement = select(AuditEntry.seq).where(*conditions).order_by(AuditEntry.seq.desc())
        if limit is not None:
            statement = statement.limit(limit)
        return list(session.scalars(statement))


def _total(demo: Database, *conditions: Any) -> int:
    with demo.session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions)) or 0)


def _csv(response: TestResponse) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(text(response))))


def _secrets(demo: Database) -> list[str]:
    """What no audit page may show: titles and text of every document, and passwords."""
    stored = list(document_texts(demo).values())  # opened from their sealed columns
    assert NEW_TITLE in {title for title, _body in stored}
    words = [spec.title for spec in DOCUMENTS] + [spec.body[:20] for spec in DOCUMENTS]
    words += [title for title, _body in stored] + [body[:20] for _title, body in stored if body]
    return [*words, DEMO_PASSWORD, TYPED_WRONG_PASSWORD, NEW_BODY]


@pytest.fixture
def auditor(app: Flask, client: FlaskClient, demo: Database) -> FlaskClient:
    _activity(app, demo)
    return sign_in(client, demo, AUDITOR)


# --- the trail and its filters --------------------------------------------------------------------


def test_the_trail_lists_the_newest_entries_first(app: Flask, auditor: FlaskClient, demo: Database) -> None:
    response = auditor.get("/audit/")

    rows = _rows(response)
    assert [seq for seq, _denied, _email in rows] == _expected(demo)
    total = _total(demo)
    assert total > 8  # the demo data may fill more than one page: the newest page comes first
    assert translated(app, COUNT_MESSAGE, count=total) in text(response)
    emails = {email for _seq, _denied, email in rows}
    assert {TANAKA, KOBAYASHI, AUDITOR} <= emails
    page = text(response)
    for action in ("session.sign_in", "document.read", "document.create", "room.enter"):
        assert f"<code>{action}</code>" in page, action
    assert any(denied for _seq, denied, _email in rows)


def test_the_user_filter(app: Flask, auditor: FlaskClient, demo: Database) -> None:
    kobayashi = user_by_email(demo, KOBAYASHI).id

    response = auditor.get("/audit/", query_string={"user": " Kobayashi@toto-u.example.jp "})

    rows = _rows(response)
    assert [seq for seq, _denied, _email in rows] == _expected(demo, AuditEntry.actor_id == kobayashi)
    assert rows and {email for _seq, _denied, email in rows} == {KOBAYASHI}
    assert _rows(auditor.get("/audit/", query_string={"user": "nobody@example.jp"})) == []


def test_the_action_prefix_filter(auditor: FlaskClient, demo: Database) -> None:
    response = auditor.get("/audit/", query_string={"action": "document."})

    assert _seqs(response) == _expected(demo, AuditEntry.action.startswith("document."))
    assert len(_seqs(response)) > 3
    page = text(response)
    assert "<code>document.read</code>" in page and "<code>document.create</code>" in page
    assert "<code>session.sign_in</code>" not in page
    # The prefix is literal: a wildcard character matches nothing.
    assert _seqs(auditor.get("/audit/", query_string={"action": "%"})) == []
    assert _seqs(auditor.get("/audit/", query_string={"action": "document_read"})) == []


def test_the_denied_filter(auditor: FlaskClient, demo: Database) -> None:
    response = auditor.get("/audit/", query_string={"decision": "denied"})

    rows = _rows(response)
    assert [seq for seq, _denied, _email in rows] == _expected(demo, AuditEntry.allowed.is_(False))
    assert len(rows) >= 3 and all(denied for _seq, denied, _email in rows)
    page = text(response)
    for reason in ("NOT_MEMBER", "CLEARANCE_TOO_LOW"):
        assert f"<code>{reason}</code>" in page, reason
    allowed = _rows(auditor.get("/audit/", query_string={"decision": "allowed"}))
    assert allowed and not any(denied for _seq, denied, _email in allowed)


def test_the_filters_combine(auditor: FlaskClient, demo: Database) -> None:
    kobayashi = user_by_email(demo, KOBAYASHI).id
    query = {"user": KOBAYASHI, "action": "document.read", "decision": "denied"}

    seqs = _seqs(auditor.get("/audit/", query_string=query))

    assert seqs == _expected(
        demo,
        AuditEntry.actor_id == kobayashi,
        AuditEntry.action.startswith("document.read"),
        AuditEntry.allowed.is_(False),
    )
    assert seqs


def test_a_date_range_without_entries_shows_none(app: Flask, auditor: FlaskClient, demo: Database) -> None:
    for query in (
        {"since": "2000-01-01", "until": "2000-12-31"},
        {"since": "2999-01-01"},
        {"until": "2000-01-01"},
    ):
        response = auditor.get("/audit/", query_string=query)
        assert _rows(response) == [], query
        assert translated(app, COUNT_MESSAGE, count=0) in text(response)
    covering = auditor.get("/audit/", query_string={"since": "2000-01-01", "until": "2999-12-31"})
    assert _seqs(covering) == _expected(demo)
    # Unreadable dates are ignored, not an error.
    assert _seqs(auditor.get("/audit/", query_string={"since": "yesterday"})) == _expected(demo)


def test_the_trail_pages_by_one_hundred(app: Flask, auditor: FlaskClient, demo: Database) -> None:
    _bulk(demo, 250)
    bulk = AuditEntry.action == "test.bulk"
    everything = _expected(demo, bulk, limit=None)
    assert len(everything) == 250

    first = auditor.get("/audit/", query_string={"action": "test.bulk"})
    second = auditor.get("/audit/", query_string={"action": "test.bulk", "page": "2"})
    third = auditor.get("/audit/", query_string={"action": "test.bulk", "page": "3"})

    assert _seqs(first) + _seqs(second) + _seqs(third) == everything
    assert [len(_seqs(page)) for page in (first, second, third)] == [100, 100, 50]
    assert translated(app, "Page %(page)d of %(pages)d", page=2, pages=3) in text(second)
    older = re.search(r'<a href="([^"]+)">' + re.escape(translated(app, "Older")) + "</a>", text(first))
    assert older is not None
    link = parse_qs(urlsplit(html.unescape(older.group(1))).query)
    assert link == {"action": ["test.bulk"], "page": ["2"]}
    older_link = re.compile(r'<a href="[^"]+">' + re.escape(translated(app, "Older")) + "</a>")
    assert older_link.search(text(second)) and not older_link.search(text(third))
    # Out of range pages show the nearest page; a page that is not a number shows the first.
    assert _seqs(auditor.get("/audit/", query_string={"action": "test.bulk", "page": "99"})) == _seqs(third)
    assert _seqs(auditor.get("/audit/", query_string={"action": "test.bulk", "page": "-1"})) == _seqs(first)
    assert _seqs(auditor.get("/audit/", query_string={"action": "test.bulk", "page": "x"})) == _seqs(first)


# --- the CSV export -------------------------------------------------------------------------------


def test_the_export_is_csv_of_exactly_the_filtered_entries(auditor: FlaskClient, demo: Database) -> None:
    kobayashi = user_by_email(demo, KOBAYASHI).id
    auditor_id = user_by_email(demo, AUDITOR).id

    response = auditor.get("/audit/export.csv", query_string={"user": KOBAYASHI, "decision": "denied"})

    assert response.mimetype == "text/csv"
    assert re.fullmatch(
        r'attachment; filename="audit-\d{8}-\d{6}\.csv"', response.headers["Content-Disposition"]
    )
    header, *rows = _csv(response)
    assert header == list(CSV_COLUMNS)
    assert [int(row[0]) for row in rows] == _expected(
        demo, AuditEntry.actor_id == kobayashi, AuditEntry.allowed.is_(False), limit=None
    )
    column = {name: index for index, name in enumerate(CSV_COLUMNS)}
    assert rows and all(row[column["allowed"]] == "denied" for row in rows)
    assert {row[column["actor_email"]] for row in rows} == {KOBAYASHI}
    assert {row[column["actor_id"]] for row in rows} == {str(kobayashi)}
    with demo.session_scope() as session:
        stored = {entry.seq: entry.hash for entry in session.scalars(select(AuditEntry))}
    assert all(stored[int(row[0])] == row[column["hash"]] for row in rows)

    # The export itself is in the trail.
    exports = _expected(demo, AuditEntry.action == "audit.export", AuditEntry.actor_id == auditor_id)
    assert len(exports) == 1


def test_the_unfiltered_export_holds_every_entry_including_itself(
    auditor: FlaskClient, demo: Database
) -> None:
    header, *rows = _csv(auditor.get("/audit/export.csv"))

    assert header == list(CSV_COLUMNS)
    assert [int(row[0]) for row in rows] == _expected(demo, limit=None)
    assert rows[0][CSV_COLUMNS.index("action")] == "audit.export"


def test_the_export_streams_more_than_one_batch(auditor: FlaskClient, demo: Database) -> None:
    _bulk(demo, 1_150)

    header, *rows = _csv(auditor.get("/audit/export.csv", query_string={"action": "test.bulk"}))

    assert header == list(CSV_COLUMNS)
    assert [int(row[0]) for row in rows] == _expected(demo, AuditEntry.action == "test.bulk", limit=None)
    assert len(rows) == 1_150


def test_the_export_gives_its_database_connection_back(auditor: FlaskClient, demo: Database) -> None:
    """A connection left inside a transaction after the stream would hold locks on the trail (TRUNCATE,
    migrations wait forever) and drain the pool, one connection per export."""
    for query in ({}, {"decision": "denied"}):
        _csv(auditor.get("/audit/export.csv", query_string=query))
        assert demo.engine.pool.checkedout() == 0, query  # type: ignore[attr-defined]


# --- verification ---------------------------------------------------------------------------------


def _verify_result(response: TestResponse) -> str:
    assert response.status_code == 200
    found = re.search(r'data-testid="verify-result">(.*?)</p>', text(response), re.DOTALL)
    assert found is not None
    return found.group(1)


def test_verification_reports_an_intact_chain(app: Flask, auditor: FlaskClient, demo: Database) -> None:
    result = _verify_result(auditor.get("/audit/verify"))

    total = _total(demo)
    message = "The chain holds: %(count)d entries checked, every hash and link intact."
    assert result == translated(app, message, count=total)
    assert audit.verify(demo.engine) == audit.Verification(True, total)


def test_verification_reports_the_tampered_entry(app: Flask, auditor: FlaskClient, demo: Database) -> None:
    _assert_append_only(demo.engine, 5)
    with _tampering(demo.engine) as connection:
        connection.execute(
            update(AuditEntry).where(AuditEntry.seq == 5).values(allowed=False, reason="FORGED")
        )

    result = _verify_result(auditor.get("/audit/verify"))

    message = "The chain is broken at entry %(seq)d (%(problem)s). %(count)d entries before it are intact."
    assert result == translated(app, message, seq=5, problem="entry altered (hash mismatch)", count=4)


# --- nothing but identifiers ----------------------------------------------------------------------


def test_no_page_or_export_shows_a_title_text_or_password(auditor: FlaskClient, demo: Database) -> None:
    requests: list[tuple[str, dict[str, str]]] = [
        ("/audit/", {}),
        ("/audit/", {"action": "document."}),
        ("/audit/", {"decision": "denied"}),
        ("/audit/", {"user": TANAKA}),
        ("/audit/export.csv", {}),
        ("/audit/export.csv", {"action": "document."}),
        ("/audit/verify", {}),
    ]
    secrets = _secrets(demo)
    for path, query in requests:
        response = auditor.get(path, query_string=query)
        assert response.status_code == 200
        body = text(response)  # read at once: the export streams within its request
        leaked = [secret for secret in secrets if secret in body or html.escape(secret) in body]
        assert leaked == [], (path, query, leaked)
        # Rooms are identified in the trail, never named.
        assert ROOM_NAMES["minerals"] not in body, (path, query)


# --- everyone else: 403, audited -------------------------------------------------------------------


@pytest.mark.parametrize("email", [TANAKA, SECRETARIAT], ids=["member", "secretariat"])
def test_only_auditors_see_the_trail(app: Flask, client: FlaskClient, demo: Database, email: str) -> None:
    other = sign_in(client, demo, email)
    user_id = user_by_email(demo, email).id

    for path, action in (
        ("/audit/", "audit.view"),
        ("/audit/export.csv", "audit.export"),
        ("/audit/verify", "audit.verify"),
    ):
        before = _expected(demo, limit=1)
        response = other.get(path)
        assert response.status_code == 403, path
        assert response.mimetype == "text/html"
        assert "seq,at,actor_id" not in text(response)
        with demo.session_scope() as session:
            written = session.scalars(
                select(AuditEntry)
                .where(AuditEntry.seq > (before[0] if before else 0))
                .order_by(AuditEntry.seq)
            ).all()
            assert [(e.actor_id, e.allowed, e.reason, e.object_id) for e in written] == [
                (user_id, False, "NOT_AUDITOR", action)
            ], path
    assert _expected(demo, AuditEntry.action == "audit.export", limit=None) == []
