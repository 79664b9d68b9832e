"""E-mail notifications against a real SMTP server (aiosmtpd on 127.0.0.1): who gets them, in which language,
that they carry nothing above PUBLIC, and that mail trouble never breaks the work that caused it."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from portal.accounts.models import Organization, User
from portal.db import Database, utcnow
from portal.enums import Level
from portal.meetings.models import ActionItem, AgendaItem, Meeting
from portal.notifications import EVENT_LABELS, EventKind, pending, queue
from portal.rooms.models import Membership
from portal.security.audit_models import AuditEntry
from tests.conftest import csrf_token, sign_in, user_by_email
from tests.meetings_support import TOKYO, room_by_name, schedule_meeting, subject_of
from tests.minutes_support import page_version, step
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
PORTION_HEADING = "議事要旨 SECRET-PORTION-HEAD"
PORTION_BODY = "備蓄放出の時期について秘密の議論 SECRET-PORTION-BODY"
NEW_ACTION = "輸出規制の照会 SECRET-ACTION-9"
SEALED_TEXTS = [TITLE, PLACE, *AGENDA, FINDING, ACTION, REASON, PORTION_HEADING, PORTION_BODY, NEW_ACTION]
#: Pieces of the sealed texts, so that a part of one is caught too.
SEALED_PIECES = [
    *SEALED_TEXTS,
    "SECRET",
    "秘密会合",
    "会議室",
    "備蓄",
    "代替調達",
    "照会",
    "議事要旨",
    "輸出規制",
]


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


# --- the real routes: each event, through the page that causes it --------------------------------------


def signed_in(app: Flask, email: str) -> FlaskClient:
    return sign_in(app.test_client(), db_of(app), email)


def post(client: FlaskClient, path: str, data: dict[str, str] | None = None) -> TestResponse:
    return client.post(path, data={"csrf_token": csrf_token(client, "/account"), **(data or {})})


def assert_told(
    app: Flask,
    sink: SmtpSink,
    kind: EventKind,
    meeting_id: uuid.UUID,
    expected: set[str],
    base: str = PORTAL_URL,
) -> None:
    """Exactly ``expected`` got one message each, about ``kind`` and this meeting, with nothing sealed."""
    received = sink.by_recipient()
    assert set(received) == expected
    for address, message in received.items():
        locale = "en" if address == KOBAYASHI else "ja"
        assert event_label(app, kind, locale) in message.subject
        assert f"{base}/meetings/{meeting_id}" in message.body
    assert_nothing_sealed(sink)


def sent_kinds(database: Database) -> dict[str, set[str]]:
    """The audited messages: recipient id -> kinds."""
    found: dict[str, set[str]] = {}
    for entry in sent_audit(database):
        detail = json.loads(entry.detail)
        found.setdefault(detail["recipient"], set()).add(detail["kind"])
    return found


def ids_of(database: Database, *emails: str) -> set[str]:
    return {str(user_by_email(database, email).id) for email in emails}


def test_loading_the_demo_tells_nobody(mail_app: Flask, sink: SmtpSink) -> None:
    """The demo convenes, publishes and assigns through the real services: that history is no news."""
    assert sink.messages == []
    assert sent_audit(db_of(mail_app)) == []


def test_publishing_and_changing_the_agenda_tells_who_may_see_the_meeting(
    mail_app: Flask, sink: SmtpSink
) -> None:
    database = db_of(mail_app)
    meeting_id = sealed_meeting(database, Level.CONFIDENTIAL)
    sato = signed_in(mail_app, SATO)
    assert sink.messages == []  # scheduling and drafting the agenda tell nobody

    response = post(sato, f"/meetings/{meeting_id}/agenda/publish")

    assert response.status_code == 302
    # Not 小林 and 山田: RESTRICTED, they may not see a CONFIDENTIAL meeting.
    assert_told(mail_app, sink, EventKind.AGENDA_PUBLISHED, meeting_id, {SATO, TANAKA, ITO, YOSHIDA})
    assert sent_kinds(database) == {
        user: {"agenda_published"} for user in ids_of(database, SATO, TANAKA, ITO, YOSHIDA)
    }

    # A change of the published agenda (a new revision) is a change of the meeting.
    sink.messages.clear()
    with database.session_scope() as session:
        first = session.scalar(
            select(AgendaItem.id).where(AgendaItem.meeting_id == meeting_id).order_by(AgendaItem.position)
        )
    response = post(sato, f"/meetings/{meeting_id}/agenda/items/{first}/move", {"direction": "down"})
    assert response.status_code == 302
    assert_told(mail_app, sink, EventKind.MEETING_CHANGED, meeting_id, {SATO, TANAKA, ITO, YOSHIDA})


def test_convening_in_the_minerals_room_tells_every_member(mail_app: Flask, sink: SmtpSink) -> None:
    database = db_of(mail_app)
    with database.session_scope() as session:
        minerals = room_by_name(session, "Critical Minerals Subcommittee").id
    soon = (utcnow() + timedelta(hours=3)).astimezone(TOKYO)
    tanaka = signed_in(mail_app, TANAKA)

    response = post(
        tanaka,
        f"/rooms/{minerals}/meetings/convene",
        {
            "title": TITLE,
            "place": PLACE,
            "day": f"{soon:%Y-%m-%d}",
            "start": f"{soon:%H:%M}",
            "duration_minutes": "60",
            "level": str(int(Level.RESTRICTED)),
        },
    )

    assert response.status_code == 302, text(response)[:500]
    meeting_id = uuid.UUID(response.headers["Location"].rsplit("/", 1)[1])
    assert_told(mail_app, sink, EventKind.MEETING_CONVENED, meeting_id, MINERALS_ALL)
    assert f"{soon:%Y年%-m月%-d日}" in sink.by_recipient()[ITO].body  # when it meets, in Japan time
    assert f"{soon.hour}:{soon:%M}" in sink.by_recipient()[ITO].body
    assert sent_kinds(database) == {user: {"meeting_convened"} for user in ids_of(database, *MINERALS_ALL)}


def test_changing_a_meetings_time_tells_the_room_the_new_time(mail_app: Flask, sink: SmtpSink) -> None:
    meeting_id = sealed_meeting(db_of(mail_app), Level.RESTRICTED)
    sato = signed_in(mail_app, SATO)
    page = text(sato.get(f"/meetings/{meeting_id}/edit"))
    version = re.search(r'name="base_version" type="hidden" value="(\d+)"', page)
    assert version is not None

    response = post(
        sato,
        f"/meetings/{meeting_id}/edit",
        {
            "title": TITLE,
            "place": PLACE,
            "day": "2031-03-10",
            "start": "16:45",
            "duration_minutes": "90",
            "level": str(int(Level.RESTRICTED)),
            "base_version": version.group(1),
        },
    )

    assert response.status_code == 302, text(response)[:500]
    assert_told(mail_app, sink, EventKind.MEETING_CHANGED, meeting_id, MINERALS_ALL)
    received = sink.by_recipient()
    assert "2031年3月10日(月) 16:45" in received[TANAKA].body
    assert "Mon 10 Mar 2031, 16:45" in received[KOBAYASHI].body


def test_circulated_minutes_go_to_the_attendees_and_published_minutes_to_the_room(
    mail_app: Flask, sink: SmtpSink
) -> None:
    database = db_of(mail_app)
    meeting_id = sealed_meeting(database, Level.RESTRICTED)
    minutes = f"/meetings/{meeting_id}/minutes"
    assert (
        post(
            signed_in(mail_app, ITO), f"/meetings/{meeting_id}/attendance/answer", {"response": "attend"}
        ).status_code
        == 302
    )
    kobayashi = signed_in(mail_app, KOBAYASHI)
    assert (
        post(kobayashi, f"/meetings/{meeting_id}/attendance/answer", {"response": "decline"}).status_code
        == 302
    )
    sato = signed_in(mail_app, SATO)
    assert post(sato, f"{minutes}/start").status_code == 302
    response = post(
        sato,
        f"{minutes}/portions/new",
        {"base_version": page_version(sato, meeting_id), "heading": PORTION_HEADING, "body": PORTION_BODY,
         "level": "1", "release": "GREEN"},
    )  # fmt: skip
    assert response.status_code == 302, text(response)[:500]
    assert sink.messages == []  # a draft tells nobody

    assert step(sato, meeting_id, "circulate").status_code == 302

    # The stewards (佐藤, the chair 田中) and 伊藤 (will attend); not 小林 (declined), 吉田, 山田 (no answer).
    assert_told(mail_app, sink, EventKind.MINUTES_CIRCULATED, meeting_id, {SATO, TANAKA, ITO})
    sink.messages.clear()
    assert step(signed_in(mail_app, TANAKA), meeting_id, "approve").status_code == 302
    assert sink.messages == []  # approval is the chair's step: no news for the room yet

    assert step(sato, meeting_id, "publish").status_code == 302

    assert_told(mail_app, sink, EventKind.MINUTES_PUBLISHED, meeting_id, MINERALS_ALL)
    assert sent_kinds(database)[str(user_by_email(database, ITO).id)] == {
        "minutes_circulated",
        "minutes_published",
    }
    assert sent_kinds(database)[str(user_by_email(database, YOSHIDA).id)] == {"minutes_published"}


def test_an_action_item_is_announced_to_its_owner_alone(mail_app: Flask, sink: SmtpSink) -> None:
    database = db_of(mail_app)
    meeting_id = sealed_meeting(database, Level.CONFIDENTIAL)
    ito, yoshida = user_by_email(database, ITO).id, user_by_email(database, YOSHIDA).id
    sato = signed_in(mail_app, SATO)
    before = action_ids(database, meeting_id)

    response = post(sato, f"/meetings/{meeting_id}/actions", action_form(NEW_ACTION, ito))

    assert response.status_code == 302, text(response)[:500]
    assert_told(mail_app, sink, EventKind.ACTION_ASSIGNED, meeting_id, {ITO})
    (action_id,) = action_ids(database, meeting_id) - before
    path = f"/meetings/{meeting_id}/actions/{action_id}/edit"

    # Edited without a new owner: nobody is told again.
    sink.messages.clear()
    response = post(sato, path, action_form(NEW_ACTION + " 改", ito, base_version="1"))
    assert response.status_code == 302, text(response)[:500]
    assert sink.messages == []

    # Given to 吉田: 吉田 alone is told (not 伊藤, nor the room).
    response = post(sato, path, action_form(NEW_ACTION, yoshida, base_version="2"))
    assert response.status_code == 302, text(response)[:500]
    assert_told(mail_app, sink, EventKind.ACTION_ASSIGNED, meeting_id, {YOSHIDA})
    assert sent_kinds(database) == {str(ito): {"action_assigned"}, str(yoshida): {"action_assigned"}}


def action_ids(database: Database, meeting_id: uuid.UUID) -> set[uuid.UUID]:
    with database.session_scope() as session:
        return set(session.scalars(select(ActionItem.id).where(ActionItem.meeting_id == meeting_id)))


def action_form(title: str, owner: uuid.UUID, **changes: str) -> dict[str, str]:
    return {
        "title": title,
        "owner": str(owner),
        "due_on": (date.today() + timedelta(days=10)).isoformat(),
        "status": "open",
        "finding": "",
        "level": "1",
        "release": "GREEN",
        **changes,
    }


# --- mail trouble never breaks the request that caused it ---------------------------------------------


def publish_agenda(app: Flask, meeting_id: uuid.UUID) -> TestResponse:
    sato = signed_in(app, SATO)
    return post(sato, f"/meetings/{meeting_id}/agenda/publish")


def agenda_published(database: Database, meeting_id: uuid.UUID) -> bool:
    with database.session_scope() as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        return bool(meeting.agenda_published)


def test_in_a_request_the_link_is_the_requests_address(app_factory: AppFactory, sink: SmtpSink) -> None:
    app = app_factory(demo=True, mail=sink.settings())  # no portal_url configured
    app.config["SERVER_NAME"] = "council.test"  # the address the test client asks at
    meeting_id = sealed_meeting(db_of(app), Level.RESTRICTED)
    response = publish_agenda(app, meeting_id)
    assert response.status_code == 302
    assert_told(app, sink, EventKind.AGENDA_PUBLISHED, meeting_id, MINERALS_ALL, base="http://council.test")


def test_a_refusing_server_does_not_break_the_request(app_factory: AppFactory, sink: SmtpSink) -> None:
    app = app_factory(demo=True, mail=sink.settings())
    database = db_of(app)
    meeting_id = sealed_meeting(database, Level.RESTRICTED)
    sink.refuse = True
    response = publish_agenda(app, meeting_id)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/meetings/{meeting_id}#agenda")
    assert agenda_published(database, meeting_id)  # the change stands
    assert sink.messages == []
    assert sent_audit(database) == []  # only what was sent is recorded as sent


def test_an_unreachable_server_does_not_break_the_request(app_factory: AppFactory) -> None:
    app = app_factory(demo=True, mail={"smtp_host": "127.0.0.1", "smtp_port": free_port()})
    database = db_of(app)
    meeting_id = sealed_meeting(database, Level.RESTRICTED)
    sato = signed_in(app, SATO)
    token = csrf_token(sato, "/account")
    started = datetime.now()
    response = sato.post(f"/meetings/{meeting_id}/agenda/publish", data={"csrf_token": token})
    assert response.status_code == 302
    assert datetime.now() - started < timedelta(seconds=5)  # refused at once, not one wait per member
    assert agenda_published(database, meeting_id)
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
