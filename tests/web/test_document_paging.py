"""A room's document list comes in pages: counted and paged in SQL by the same filter that hides documents,
so a hidden document is neither counted nor shifts a page; the order is stable; any page number works."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.accounts.models import User
from portal.db import Database, utcnow
from portal.demo import DOCUMENTS
from portal.documents import service as documents
from portal.documents.models import Document
from portal.enums import Level, ReleaseMarking
from portal.rooms.models import Subcommittee
from portal.security import policy
from tests.conftest import sign_in
from tests.web.support import text, translated

MINERALS = "重要鉱物分科会"
CHAIR = "tanaka@meti.example.jp"  # CESI, holds MINERALS-SUPPLY, government, named reader: reads all
#: CONFIDENTIAL and government, but lacks the MINERALS-SUPPLY compartment and is not a named CESI reader.
SECRETARIAT = "sato@cao.example.jp"
#: CONFIDENTIAL, think tank: lacks the compartment, is not government (政府限り), not a named reader.
ANALYST = "yoshida@icess.example.jp"
ADDED = 57
TITLE = "ページ送り確認用資料 第{:03d}号"
LINK = re.compile(r'href="/rooms/[0-9a-f-]{36}/documents/[0-9a-f-]{36}">([^<]*)</a>')


def _add_documents(database: Database) -> uuid.UUID:
    """``ADDED`` RESTRICTED documents in the minerals room; groups of three share one updated_at, so the
    order must break ties to stay stable from page to page."""
    with database.session_scope() as session:
        room = session.scalar(select(Subcommittee).where(Subcommittee.name_ja == MINERALS))
        author = session.scalar(select(User).where(User.email == CHAIR))
        assert room is not None and author is not None
        now = utcnow()
        for index in range(ADDED):
            moment = now - timedelta(days=60, minutes=index // 3)
            document = Document(
                id=uuid.uuid4(),
                subcommittee_id=room.id,
                level=Level.RESTRICTED,
                release=ReleaseMarking.GREEN,
                classified_by_id=author.id,
                classified_at=moment,
                created_by_id=author.id,
                created_at=moment,
                updated_at=moment,
            )
            documents.seal_text(
                session,
                policy.maintenance_grant("document", document.id),
                document,
                title=TITLE.format(index),
                body="本文",
                reason=None,
            )
            session.add(document)
        return room.id


def _demo_titles(*, hidden: set[str]) -> set[str]:
    return {d.title for d in DOCUMENTS if d.room == "minerals" and d.title not in hidden}


def _all_pages(client: FlaskClient, room_id: uuid.UUID) -> list[list[str]]:
    pages = []
    for page in (1, 2):
        response = client.get(f"/rooms/{room_id}?page={page}")
        assert response.status_code == 200
        pages.append(LINK.findall(text(response)))
    return pages


def _count_line(app: Flask, first: int, last: int, total: int) -> str:
    return translated(app, "%(first)d–%(last)d of %(total)d", first=first, last=last, total=total)


def test_pages_cover_every_readable_document_once_in_a_stable_order(
    app: Flask, client: FlaskClient, demo: Database
) -> None:
    room_id = _add_documents(demo)
    sign_in(client, demo, CHAIR)
    total = ADDED + len(_demo_titles(hidden=set()))

    first, second = _all_pages(client, room_id)

    assert len(first) == 50
    assert len(second) == total - 50
    assert len(set(first + second)) == total
    assert set(first + second) == {TITLE.format(i) for i in range(ADDED)} | _demo_titles(hidden=set())
    # Newest change first: the demo's documents (changed 30 days ago) lead, then the added ones in order.
    # (Within a group of three changed at the same moment, the id decides.)
    added = [int(title[-4:-1]) // 3 for title in first + second if title.startswith("ページ送り")]
    assert added == sorted(added)
    page_one = text(client.get(f"/rooms/{room_id}"))
    assert _count_line(app, 1, 50, total) in page_one
    assert translated(app, "Next") in page_one
    assert translated(app, "Previous") not in page_one
    page_two = text(client.get(f"/rooms/{room_id}?page=2"))
    assert _count_line(app, 51, total, total) in page_two
    assert translated(app, "Previous") in page_two
    assert translated(app, "Next") not in page_two
    # The same request twice lists the same documents in the same order.
    assert _all_pages(client, room_id) == [first, second]


def test_a_page_out_of_range_is_never_an_error(app: Flask, client: FlaskClient, demo: Database) -> None:
    room_id = _add_documents(demo)
    sign_in(client, demo, CHAIR)
    last = LINK.findall(text(client.get(f"/rooms/{room_id}?page=2")))
    first = LINK.findall(text(client.get(f"/rooms/{room_id}?page=1")))

    for beyond in ("3", "999999"):
        response = client.get(f"/rooms/{room_id}?page={beyond}")
        assert response.status_code == 200
        assert LINK.findall(text(response)) == last
    for below in ("0", "-4", "abc", ""):
        response = client.get(f"/rooms/{room_id}?page={below}")
        assert response.status_code == 200
        assert LINK.findall(text(response)) == first


def test_the_count_leaves_out_documents_the_reader_may_not_read(app: Flask, demo: Database) -> None:
    room_id = _add_documents(demo)
    compartment = "代替調達先候補の企業別評価"  # MINERALS-SUPPLY
    cesi = "レアアース再輸出規制に関する同盟国からの通報"  # named readers only
    gov_only = "国家備蓄の放出検討状況(政府限り)"
    readers = {
        SECRETARIAT: _demo_titles(hidden={compartment, cesi}),
        ANALYST: _demo_titles(hidden={compartment, cesi, gov_only}),
    }
    for email, visible_demo in readers.items():
        reader = app.test_client()
        sign_in(reader, demo, email)
        total = ADDED + len(visible_demo)

        first, second = _all_pages(reader, room_id)

        assert len(first) == 50, email
        assert set(first + second) == {TITLE.format(i) for i in range(ADDED)} | visible_demo, email
        page_two = text(reader.get(f"/rooms/{room_id}?page=2"))
        assert _count_line(app, 51, total, total) in page_two, email
        for hidden in _demo_titles(hidden=set()) - visible_demo:
            assert hidden not in page_two, email
            assert hidden not in text(reader.get(f"/rooms/{room_id}")), email


def test_the_service_counts_in_sql_with_the_policy_filter(demo: Database) -> None:
    _add_documents(demo)
    with demo.session_scope() as session:
        room = session.scalar(select(Subcommittee).where(Subcommittee.name_ja == MINERALS))
        analyst = session.scalar(select(User).where(User.email == ANALYST))
        assert room is not None and analyst is not None
        subject = policy.load_subject(session, analyst, utcnow())

        listed = documents.list_documents(session, subject, room, page=2, per_page=20)
        beyond = documents.list_documents(session, subject, room, page=50, per_page=20)

        every = session.scalars(select(Document).where(Document.subcommittee_id == room.id)).all()
        readable = [d for d in every if policy.decide_read_document(subject, d).allowed]
        assert listed.total == len(readable) == ADDED + 2
        assert (listed.page, listed.first, listed.last, listed.pages) == (2, 21, 40, 3)
        assert (beyond.page, beyond.first, beyond.last) == (3, 41, len(readable))


def test_a_long_list_counts_ahead_of_the_page_and_says_more_than(
    app: Flask, client: FlaskClient, demo: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The count stops ``COUNT_AHEAD`` readable documents past the page's start ("more than N"); it never
    counts a hidden document, and the last page is still reached exactly."""
    monkeypatch.setattr(documents, "COUNT_AHEAD", 55)
    room_id = _add_documents(demo)
    sign_in(client, demo, CHAIR)
    total = ADDED + len(_demo_titles(hidden=set()))
    assert total > 55

    page_one = text(client.get(f"/rooms/{room_id}"))
    more = translated(app, "%(first)d–%(last)d of more than %(total)d", first=1, last=50, total=55)
    assert more in page_one
    assert translated(app, "Next") in page_one
    # Page 2 counts 55 past its start (50 + 55 >= total): exact again, and the last page.
    page_two = text(client.get(f"/rooms/{room_id}?page=2"))
    assert _count_line(app, 51, total, total) in page_two
    assert translated(app, "Next") not in page_two
    assert LINK.findall(text(client.get(f"/rooms/{room_id}?page=999"))) == LINK.findall(page_two)
    with demo.session_scope() as session:
        room = session.get(Subcommittee, room_id)
        analyst = session.scalar(select(User).where(User.email == ANALYST))
        assert room is not None and analyst is not None
        subject = policy.load_subject(session, analyst, utcnow())
        listed = documents.list_documents(session, subject, room, page=1, per_page=20)
        # The analyst reads ADDED + 2 documents: counted up to 55, never a hidden one.
        assert (listed.total, listed.capped, listed.pages, listed.has_next) == (55, True, 3, True)
        exact = documents.list_documents(session, subject, room, page=3, per_page=20)
        assert (exact.total, exact.capped) == (ADDED + 2, False)
