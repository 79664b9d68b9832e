"""E-mail notifications against a real SMTP server (aiosmtpd on 127.0.0.1): who gets them, in which language,
that they carry nothing above PUBLIC, and that mail trouble never breaks the work that caused it."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import select, update

from portal.accounts.models import Organization, User
from portal.db import Database, request_session, utcnow
from portal.enums import Level
from portal.notifications import EVENT_LABELS, EventKind, pending, queue
from portal.rooms.models import Membership
from portal.security.audit_models import AuditEntry
from tests.conftest import csrf_token, sign_in, user_by_email
from tests.meetings_support import TOKYO, schedule_meeting, subject_of
from tests.notify_support import (
    SmtpSink,
    add_action_item,
    add_agenda_item,
    add_finding,
    free_port,
    smtp_server,
)
from tests.web.conftest import AppFactory
from tests.web.support import text, translated

SATO = "sato@cao.example.jp"  # secretariat, CONFIDENTIAL
TANAKA = "tanaka@meti.example.jp"  # chair, CESI
ITO = "ito@toho-raremetals.example.jp"  # member, CESI
YOSHIDA = "yoshida@icess.example.jp"  # analyst, CONFIDENTIAL
KOBAYASHI = "kobayashi@toto-u.example.jp"  # observer, RESTRICTED, English
YAMADA = "yamada@meti.example.jp"  # member, RESTRICTED (not yet enrolled)
MINERALS_ALL = {SATO, TANAKA, ITO, YOSHIDA, KOBAYASHI, YAMADA}
PORTAL_URL = "https://portal.example.go.jp"

#: Every sealed text the tests put into the meeting; none may appear in any message.
TITLE = "第9回 秘密会合 SECRET-TITLE-7Q"
PLACE = "非公開の会議室 SECRET-PLACE-3X"
AGENDA = ["レアメタル備蓄放出 SECRET-AGENDA-1", "取扱注意の議題 SECRET-AGENDA-2"]
FINDING = "代替調達の結論 SECRET-FINDING-5"
ACTION = "同盟国への照会 SECRET-ACTION-8"
REASON = "試験のための指定"
SEALED_TEXTS = [TITLE, PLACE, *AGENDA, FINDING, ACTION, REASON]
#: Pieces of the sealed texts, so that a part of one is caught too.
SEALED_PIECES = [*SEALED_TEXTS, "SECRET", "秘密会合", "会議室", "備蓄", "代替調達", "照会"]


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def mail_app(app_factory: AppFactory, sink: SmtpSink) -> Flask:
    return app_factory(demo=True, mail=sink.settings(portal_url=PORTAL_URL))


def db_of(app: Flask) -> Database:
    database: Database = app.extensions["portal_db"]
    return database


def sealed_meeting(database: Database, level: Level = Level.CONFIDENTIAL) -> uuid.UUID:
    """A minerals meeting at ``level`` with sealed agenda items, a finding and an action item."""
    with database.session_scope() as session:
        meeting_id = schedule_meeting(session, title=TITLE, place=PLACE, level=level)
        add_agenda_item(session, meeting_id, AGENDA[0], Level.CONFIDENTIAL, position=1)
        add_agenda_item(session, meeting_id, AGENDA[1], Level.RESTRICTED, position=2)
        add_finding(session, meeting_id, FINDING, Level.CONFIDENTIAL)
        owner = subject_of(session, ITO).user_id
        add_action_item(session, meeting_id, ACTION, owner, Level.RESTRICTED)
    return meeting_id


def notify(
    database: Database,
    kind: EventKind,
    meeting_id: uuid.UUID,
    recipient_ids: set[uuid.UUID] | None = None,
    actor: str = SATO,
) -> None:
    with database.session_scope() as session:
        queue(session, subject_of(session, actor), kind, meeting_id, recipient_ids=recipient_ids)


def suspend(database: Database, email: str) -> None:
    with database.session_scope() as session:
        session.execute(update(User).where(User.email == email).values(is_suspended=True))


def sent_audit(database: Database) -> list[AuditEntry]:
    with database.session_scope() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "notification.send").order_by(AuditEntry.seq)
        ).all()
        session.expunge_all()
        return list(entries)


def event_label(app: Flask, kind: EventKind, locale: str = "ja") -> str:
    with app.test_request_context(), force_locale(locale):
        return str(EVENT_LABELS[kind])


def assert_nothing_sealed(sink: SmtpSink) -> None:
    assert sink.messages
    for received in sink.messages:
        decoded = received.decoded()
        raw = received.raw.decode("ascii", errors="replace")
        for piece in SEALED_PIECES:
            assert piece not in decoded, (piece, decoded)
            assert piece not in raw, piece


# --- who is told -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [kind for kind in EventKind if kind != EventKind.ACTION_ASSIGNED])
def test_each_event_reaches_exactly_the_members_who_may_see_the_meeting(
    mail_app: Flask, sink: SmtpSink, kind: EventKind
) -> None:
    database = db_of(mail_app)
    meeting_id = sealed_meeting(database, Level.CONFIDENTIAL)
    suspend(database, ITO)
    notify(database, kind, meeting_id)

    # Not 伊藤 (suspended), not 小林 and 山田 (RESTRICTED: they may not see a CONFIDENTIAL meeting), not the
    # auditor or anyone outside the room.
    expected = {SATO, TANAKA, YOSHIDA}
    assert set(sink.by_recipient()) == expected
    assert_nothing_sealed(sink)
    for address, received in sink.by_recipient().items():
        assert received.message["To"] == address
        assert f"{PORTAL_URL}/meetings/{meeting_id}" in received.body
        label = event_label(mail_app, kind)
        assert label in received.subject and label in received.body

    entries = sent_audit(database)
    recipients = {user_by_email(database, email).id for email in expected}
    assert {uuid.UUID(json.loads(entry.detail)["recipient"]) for entry in entries} == recipients
    for entry in entries:
        assert json.loads(entry.detail) == {
            "recipient": json.loads(entry.detail)["recipient"],
            "kind": kind.value,
        }
        assert entry.object_id == str(meeting_id) and entry.allowed
        assert entry.actor_id == user_by_email(database, SATO).id


def test_a_restricted_meeting_reaches_every_current_member_but_not_one_who_left(
    mail_app: Flask, sink: SmtpSink
) -> None:
    database = db_of(mail_app)
    meeting_id = sealed_meeting(database, Level.RESTRICTED)
    with database.session_scope() as session:
        yamada = subject_of(session, YAMADA).user_id
        session.execute(
            update(Membership)
            .where(Membership.user_id == yamada)
            .values(valid_to=utcnow() - timedelta(seconds=1))
        )
    notify(database, EventKind.MEETING_CONVENED, meeting_id)
    assert set(sink.by_recipient()) == MINERALS_ALL - {YAMADA}
    assert_nothing_sealed(sink)


def test_an_action_item_is_announced_to_its_owner_only(mail_app: Flask, sink: SmtpSink) -> None:
    database = db_of(mail_app)
    meeting_id = sealed_meeting(database, Level.CONFIDENTIAL)
    owner = user_by_email(database, ITO).id
    notify(database, EventKind.ACTION_ASSIGNED, meeting_id, {owner})
    assert set(sink.by_recipient()) == {ITO}
    assert_nothing_sealed(sink)
    assert [json.loads(e.detail)["kind"] for e in sent_audit(database)] == ["action_assigned"]

    # An owner who may not see the meeting (RESTRICTED, the meeting CONFIDENTIAL) is not told it exists;
    # nor is someone outside the room, even when a service names them.
    sink.messages.clear()
    outsiders = {user_by_email(database, KOBAYASHI).id, user_by_email(database, "suzuki@mlit.example.jp").id}
    notify(database, EventKind.ACTION_ASSIGNED, meeting_id, outsiders)
    assert sink.messages == []


def test_messages_are_in_each_recipients_language(mail_app: Flask, sink: SmtpSink) -> None:
    database = db_of(mail_app)
    starts = datetime(2031, 3, 4, 14, 30, tzinfo=TOKYO)
    with database.session_scope() as session:
        meeting_id = schedule_meeting(
            session, title=TITLE, place=PLACE, level=Level.RESTRICTED, starts_at=starts
        )
    notify(database, EventKind.AGENDA_PUBLISHED, meeting_id)
    received = sink.by_recipient()

    english = received[KOBAYASHI]
    assert (
        english.subject
        == "[Council Portal] Critical Minerals Subcommittee: The agenda of a meeting was published"
    )
    assert "Meeting date: Tue 4 Mar 2031, 14:30 (Japan time)" in english.body
    assert "重要鉱物" not in english.decoded().split("\n\n", 1)[1]

    japanese = received[TANAKA]
    assert japanese.subject == translated(
        mail_app, "[Council Portal] %(room)s: %(event)s", room="重要鉱物分科会",
        event=translated(mail_app, "The agenda of a meeting was published"),
    )  # fmt: skip
    assert japanese.subject.startswith("【協議会ポータル】重要鉱物分科会")
    assert "2031年3月4日(火) 14:30" in japanese.body
    assert f"{PORTAL_URL}/meetings/{meeting_id}" in japanese.body
    assert "Critical Minerals" not in japanese.body
    # The Japanese text travels encoded: the raw message shows none of it.
    assert "重要鉱物" not in japanese.raw.decode("ascii", errors="replace")


# --- when, and what if mail fails ---------------------------------------------------------------------


def test_nothing_is_sent_before_the_commit_nor_after_a_rollback(mail_app: Flask, sink: SmtpSink) -> None:
    database = db_of(mail_app)
    meeting_id = sealed_meeting(database, Level.RESTRICTED)
    session = database.session_factory()
    try:
        queue(session, subject_of(session, SATO), EventKind.MEETING_CHANGED, meeting_id)
        queue(session, subject_of(session, SATO), EventKind.MEETING_CHANGED, meeting_id)
        assert len(pending(session)) == 1  # the same event twice in one transaction is sent once
        session.flush()
        assert sink.messages == []
        session.rollback()
        assert pending(session) == []
        session.commit()
    finally:
        session.close()
    assert sink.messages == []
    assert sent_audit(database) == []

    notify(database, EventKind.MEETING_CHANGED, meeting_id)
    assert len(sink.messages) == len(MINERALS_ALL)


def test_with_mail_off_nothing_is_sent_and_nothing_breaks(app_factory: AppFactory, sink: SmtpSink) -> None:
    database = db_of(app_factory(demo=True))  # no SMTP host: mail is off (the default)
    meeting_id = sealed_meeting(database, Level.RESTRICTED)
    notify(database, EventKind.MINUTES_PUBLISHED, meeting_id)
    assert sink.messages == []
    assert sent_audit(database) == []


def _add_notifying_route(app: Flask) -> None:
    """Stands in for the meeting services: queue an event and commit, inside a real request."""

    def convene(meeting_id: uuid.UUID) -> str:
        session = request_session()
        queue(session, subject_of(session, SATO), EventKind.MEETING_CONVENED, meeting_id)
        session.commit()
        return "committed"

    app.add_url_rule("/test-only/convene/<uuid:meeting_id>", view_func=convene)


def test_in_a_request_the_link_is_the_requests_address(app_factory: AppFactory, sink: SmtpSink) -> None:
    app = app_factory(demo=True, mail=sink.settings())  # no portal_url configured
    _add_notifying_route(app)
    meeting_id = sealed_meeting(db_of(app), Level.RESTRICTED)
    response = app.test_client().get(f"/test-only/convene/{meeting_id}", base_url="https://council.test")
    assert response.status_code == 200
    assert len(sink.messages) == len(MINERALS_ALL)
    assert all(f"https://council.test/meetings/{meeting_id}" in m.body for m in sink.messages)


def test_a_refusing_server_does_not_break_the_request(app_factory: AppFactory, sink: SmtpSink) -> None:
    app = app_factory(demo=True, mail=sink.settings())
    _add_notifying_route(app)
    database = db_of(app)
    meeting_id = sealed_meeting(database, Level.RESTRICTED)
    sink.refuse = True
    response = app.test_client().get(f"/test-only/convene/{meeting_id}")
    assert response.status_code == 200 and text(response) == "committed"
    assert sink.messages == []
    assert sent_audit(database) == []  # only what was sent is recorded as sent


def test_an_unreachable_server_does_not_break_the_request(app_factory: AppFactory) -> None:
    app = app_factory(demo=True, mail={"smtp_host": "127.0.0.1", "smtp_port": free_port()})
    _add_notifying_route(app)
    database = db_of(app)
    meeting_id = sealed_meeting(database, Level.RESTRICTED)
    started = datetime.now()
    response = app.test_client().get(f"/test-only/convene/{meeting_id}")
    assert response.status_code == 200 and text(response) == "committed"
    assert datetime.now() - started < timedelta(seconds=5)  # refused at once, not one wait per member
    assert sent_audit(database) == []


def test_the_invitation_mail_still_works(mail_app: Flask, sink: SmtpSink) -> None:
    database = db_of(mail_app)
    client = sign_in(mail_app.test_client(), database, SATO)
    with database.session_scope() as session:
        organization = session.scalar(
            select(Organization.id).where(Organization.name_en == "Toho Rare Metals Co., Ltd.")
        )
    response = client.post(
        "/admin/invitations",
        data={
            "csrf_token": csrf_token(client, "/admin/users"),
            "email": "arai@toho-raremetals.example.jp",
            "display_name": "新井 翔太",
            "organization": str(organization),
            "roles": "member",
            "locale": "ja",
        },
    )
    assert response.status_code == 200, text(response)[:300]
    assert translated(mail_app, "The invitation was created and sent by e-mail.") in text(response)
    assert [m.recipients for m in sink.messages] == [("arai@toho-raremetals.example.jp",)]
    assert re.search(r"https?://[^/\s]+/invite/[A-Za-z0-9_-]{40,}", sink.messages[0].body)
