"""The .ics of a meeting and the per-user calendar feed: each carries only what its reader may see, the feed
less than that (it is fetched outside sign-in), and the feed's secret is never stored."""

from __future__ import annotations

import hashlib
import html
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from portal.accounts.models import User
from portal.db import Database, utcnow
from portal.enums import Level
from portal.meetings.demo import MEETINGS
from portal.meetings.models import CalendarFeed, Meeting, MeetingStatus
from portal.rooms.models import Membership, Subcommittee
from portal.security.audit_models import AuditEntry
from tests.conftest import csrf_token, sign_in, user_by_email
from tests.meetings_support import TOKYO, schedule_meeting
from tests.notify_support import add_agenda_item
from tests.web.support import text, translated
from tests.web.test_encryption_web import raw_database_bytes, require_raw_reader

SATO = "sato@cao.example.jp"
TANAKA = "tanaka@meti.example.jp"  # minerals chair, CESI, Japanese
KOBAYASHI = "kobayashi@toto-u.example.jp"  # minerals and AGI observer, RESTRICTED, English
SUZUKI = "suzuki@mlit.example.jp"  # not in the minerals room
AUDITOR = "matsumoto@cao.example.jp"

TITLE = "第7回 重要鉱物分科会 <b>TITLE-MARK</b>"
PLACE = "中央合同庁舎 PLACE-MARK 会議室"
OPEN_ITEM = "輸出管理の現状 OPEN-ITEM"
SEALED_ITEM = "秘の議題 SEALED-ITEM-CONFIDENTIAL"
WITHHELD = "Agenda item withheld (you may not read it)"


def parsed(response: TestResponse) -> Calendar:
    assert response.status_code == 200, text(response)[:300]
    assert response.mimetype == "text/calendar"
    return Calendar.from_ical(response.data)


def events_by_uid(calendar: Calendar) -> dict[str, Any]:
    return {str(event["uid"]): event for event in calendar.walk("VEVENT")}


def uid(meeting_id: uuid.UUID | str) -> str:
    return f"meeting-{meeting_id}@council-portal"


def audit_entries(database: Database, action: str) -> list[AuditEntry]:
    with database.session_scope() as session:
        entries = list(
            session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq))
        )
        session.expunge_all()
        return entries


def meeting_with_agenda(
    database: Database, level: Level = Level.RESTRICTED, publish: bool = True
) -> uuid.UUID:
    starts = datetime(2031, 5, 20, 10, 0, tzinfo=TOKYO)
    with database.session_scope() as session:
        meeting_id = schedule_meeting(session, title=TITLE, place=PLACE, level=level, starts_at=starts)
        add_agenda_item(session, meeting_id, OPEN_ITEM, Level.RESTRICTED, position=1)
        add_agenda_item(session, meeting_id, SEALED_ITEM, Level.CONFIDENTIAL, position=2)
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        meeting.agenda_revision = 1 if publish else 0
        meeting.version = 3
    return meeting_id


# --- the meeting's .ics ------------------------------------------------------------------------------


def test_the_meeting_ics_carries_what_the_reader_may_see(app: Flask, demo: Database) -> None:
    meeting_id = meeting_with_agenda(demo)
    chair = sign_in(app.test_client(), demo, TANAKA)
    response = chair.get(f"/meetings/{meeting_id}/meeting.ics")
    assert response.headers["Content-Disposition"] == 'attachment; filename="meeting-20310520.ics"'
    assert response.headers["Cache-Control"] == "no-store"
    events = parsed(response).walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert str(event["uid"]) == uid(meeting_id)
    assert str(event["summary"]) == TITLE  # a text property, not markup: kept as written
    assert str(event["location"]) == PLACE
    assert event.decoded("dtstart") == datetime(2031, 5, 20, 1, 0, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2031, 5, 20, 3, 0, tzinfo=UTC)
    assert int(event["sequence"]) == 3
    assert str(event["status"]) == "CONFIRMED"
    description = str(event["description"])
    assert f"1. {OPEN_ITEM}" in description and f"2. {SEALED_ITEM}" in description
    assert f"http://localhost/meetings/{meeting_id}" in description
    assert str(event["url"]) == f"http://localhost/meetings/{meeting_id}"

    entries = audit_entries(demo, "meeting.ics")
    assert [(e.actor_id, e.object_id) for e in entries] == [(user_by_email(demo, TANAKA).id, str(meeting_id))]


def test_an_agenda_item_above_the_readers_clearance_is_a_withheld_line(app: Flask, demo: Database) -> None:
    meeting_id = meeting_with_agenda(demo)
    observer = sign_in(app.test_client(), demo, KOBAYASHI)  # RESTRICTED; English
    response = observer.get(f"/meetings/{meeting_id}/meeting.ics")
    description = str(parsed(response).walk("VEVENT")[0]["description"])
    assert f"1. {OPEN_ITEM}" in description
    assert f"2. {translated(app, WITHHELD, 'en')}" in description
    assert b"SEALED-ITEM" not in response.data and "秘の議題".encode() not in response.data


def test_an_unpublished_agenda_is_not_in_the_ics(app: Flask, demo: Database) -> None:
    meeting_id = meeting_with_agenda(demo, publish=False)
    chair = sign_in(app.test_client(), demo, TANAKA)
    response = chair.get(f"/meetings/{meeting_id}/meeting.ics")
    assert parsed(response)
    assert b"OPEN-ITEM" not in response.data and b"SEALED-ITEM" not in response.data


def test_a_cancelled_meeting_is_cancelled_in_the_ics(app: Flask, demo: Database) -> None:
    meeting_id = meeting_with_agenda(demo)
    with demo.session_scope() as session:
        session.execute(
            update(Meeting).where(Meeting.id == meeting_id).values(status=MeetingStatus.CANCELLED, version=4)
        )
    chair = sign_in(app.test_client(), demo, TANAKA)
    event = parsed(chair.get(f"/meetings/{meeting_id}/meeting.ics")).walk("VEVENT")[0]
    assert str(event["status"]) == "CANCELLED" and int(event["sequence"]) == 4


def test_the_meeting_ics_is_not_found_for_whoever_may_not_see_the_meeting(app: Flask, demo: Database) -> None:
    restricted = meeting_with_agenda(demo, Level.RESTRICTED)
    confidential = meeting_with_agenda(demo, Level.CONFIDENTIAL)
    cases = [
        (SUZUKI, restricted, "NOT_MEMBER"),
        (KOBAYASHI, confidential, "CLEARANCE_TOO_LOW"),
        (AUDITOR, restricted, "ROLE_NO_CONTENT"),
    ]
    for email, meeting_id, reason in cases:
        client = sign_in(app.test_client(), demo, email)
        response = client.get(f"/meetings/{meeting_id}/meeting.ics")
        assert response.status_code == 404, email
        assert b"TITLE-MARK" not in response.data and b"PLACE-MARK" not in response.data
        denial = audit_entries(demo, "meeting.read")[-1]
        assert (denial.actor_id, denial.object_id, denial.allowed, denial.reason) == (
            user_by_email(demo, email).id, str(meeting_id), False, reason,
        )  # fmt: skip
    assert audit_entries(demo, "meeting.ics") == []


# --- the feed ----------------------------------------------------------------------------------------

ADDRESS = re.compile(r'data-testid="calendar-address">([^<]+)<')


def create_feed(client: FlaskClient) -> str:
    """Create a feed on the account page; return the path of the address shown once."""
    response = client.post("/account/calendar-feeds", data={"csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 200, text(response)[:300]
    found = ADDRESS.findall(text(response))
    assert len(found) == 1
    return urlsplit(html.unescape(found[0])).path


def token_of(path: str) -> str:
    match = re.fullmatch(r"/calendar/([A-Za-z0-9_-]{43})\.ics", path)
    assert match, path
    return match.group(1)


def room_ids(database: Database) -> dict[str, uuid.UUID]:
    with database.session_scope() as session:
        return {room.name_en: room.id for room in session.scalars(select(Subcommittee))}


def test_the_feed_carries_exactly_the_users_visible_meetings_and_little_of_each(
    app: Flask, demo: Database
) -> None:
    observer = sign_in(app.test_client(), demo, KOBAYASHI)
    path = create_feed(observer)
    in_a_week = datetime.now(TOKYO) + timedelta(days=7)
    with demo.session_scope() as session:
        public = schedule_meeting(
            session, title="公開説明会 PUBLIC-TITLE", place="PUBLIC-PLACE ホール", level=Level.PUBLIC,
            starts_at=in_a_week,
        )  # fmt: skip
        confidential = schedule_meeting(session, title="秘の会合 CONF-TITLE", level=Level.CONFIDENTIAL)
        long_ago = schedule_meeting(
            session, title="昔の会合", level=Level.PUBLIC, starts_at=datetime.now(TOKYO) - timedelta(days=200)
        )
        other_room = schedule_meeting(session, room_name="Critical Infrastructure Outage Subcommittee")
        visible = session.scalars(
            select(Meeting.id).where(
                Meeting.subcommittee_id.in_(
                    [room_ids(demo)["Critical Minerals Subcommittee"], room_ids(demo)["AGI Subcommittee"]]
                ),
                Meeting.level <= int(Level.RESTRICTED),
                Meeting.id != long_ago,
            )
        ).all()

    response = app.test_client().get(path)  # a calendar app: no cookie, no sign-in
    events = events_by_uid(parsed(response))
    assert set(events) == {uid(meeting_id) for meeting_id in visible}
    assert (
        uid(public) in events and len(events) == 4
    )  # 第4回, 第5回 (RESTRICTED), AGI 第2回 and the public one
    for hidden in (confidential, long_ago, other_room):
        assert uid(hidden) not in events

    # Public meetings: title and place. The others: level and room only, no place, no title.
    assert str(events[uid(public)]["summary"]) == "公開説明会 PUBLIC-TITLE"
    assert str(events[uid(public)]["location"]) == "PUBLIC-PLACE ホール"
    minerals = next(m for m in MEETINGS if m.key == "minerals-5")
    restricted_uids = [
        key for key in events if key != uid(public) and "AGI" not in str(events[key]["summary"])
    ]
    assert len(restricted_uids) == 2
    for key in restricted_uids:
        event = events[key]
        assert str(event["summary"]) == "[Restricted] Critical Minerals Subcommittee meeting"
        assert "location" not in event
        assert "/meetings/" in str(event["description"])
    raw = response.data.decode()
    assert minerals.title not in raw and minerals.place not in raw
    for secret in ("CONF-TITLE", "昔の会合", "第4回", "第5回", "共用会議室"):
        assert secret not in raw

    feed_entries = audit_entries(demo, "calendar.feed")
    assert len(feed_entries) == 1 and feed_entries[0].allowed
    assert feed_entries[0].actor_id == user_by_email(demo, KOBAYASHI).id
    assert json.loads(feed_entries[0].detail) == {"events": 4}
    assert 'data-testid="calendar-feed-row"' in text(observer.get("/account"))


def test_the_feed_is_in_its_owners_language(app: Flask, demo: Database) -> None:
    chair = sign_in(app.test_client(), demo, TANAKA)
    response = app.test_client().get(create_feed(chair))
    summaries = {str(event["summary"]) for event in parsed(response).walk("VEVENT")}
    assert "[取扱注意] 重要鉱物分科会 会議" in summaries
    assert "[取扱注意] 造船分科会 会議" in summaries


def test_the_token_is_shown_once_and_stored_only_as_its_hash(app: Flask, demo: Database) -> None:
    require_raw_reader(demo.url)
    observer = sign_in(app.test_client(), demo, KOBAYASHI)
    token = token_of(create_feed(observer))
    assert token not in text(observer.get("/account"))
    with demo.session_scope() as session:
        feed = session.scalar(select(CalendarFeed))
        assert feed is not None
        assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert app.test_client().get(f"/calendar/{token}.ics").status_code == 200
    assert token.encode() not in raw_database_bytes(demo.url)


def test_a_revoked_feed_and_a_suspended_users_feed_are_not_found(app: Flask, demo: Database) -> None:
    observer = sign_in(app.test_client(), demo, KOBAYASHI)
    first, second = create_feed(observer), create_feed(observer)
    with demo.session_scope() as session:
        feed_id = session.scalar(
            select(CalendarFeed.id).where(
                CalendarFeed.token_hash == hashlib.sha256(token_of(first).encode()).hexdigest()
            )
        )
    calendar_app = app.test_client()
    assert calendar_app.get(first).status_code == 200

    response = observer.post(
        f"/account/calendar-feeds/{feed_id}/revoke", data={"csrf_token": csrf_token(observer, "/account")}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/account")
    assert calendar_app.get(first).status_code == 404
    assert calendar_app.get(second).status_code == 200  # the other feed still works
    assert audit_entries(demo, "calendar.feed_revoke")[-1].object_id == str(feed_id)

    with demo.session_scope() as session:
        session.execute(update(User).where(User.email == KOBAYASHI).values(is_suspended=True))
    assert calendar_app.get(second).status_code == 404
    denials = [(e.reason, e.actor_id) for e in audit_entries(demo, "calendar.feed") if not e.allowed]
    kobayashi = user_by_email(demo, KOBAYASHI).id
    assert denials == [("FEED_REVOKED", kobayashi), ("ACCOUNT_SUSPENDED", kobayashi)]


def test_unknown_tokens_are_not_found_and_audited(app: Flask, demo: Database) -> None:
    calendar_app = app.test_client()
    for path in ("/calendar/" + "x" * 43 + ".ics", "/calendar/short.ics", "/calendar/%27%20OR%201=1.ics"):
        response = calendar_app.get(path)
        assert response.status_code == 404
        assert response.mimetype == "text/html"
    denials = [e for e in audit_entries(demo, "calendar.feed") if not e.allowed]
    assert [(e.reason, e.actor_id) for e in denials] == [("UNKNOWN_TOKEN", None)] * 3


def test_a_member_who_leaves_the_room_loses_its_meetings_from_the_feed(app: Flask, demo: Database) -> None:
    observer = sign_in(app.test_client(), demo, KOBAYASHI)
    path = create_feed(observer)
    calendar_app = app.test_client()
    before = {str(e["summary"]) for e in parsed(calendar_app.get(path)).walk("VEVENT")}
    assert "[Restricted] Critical Minerals Subcommittee meeting" in before
    minerals = room_ids(demo)["Critical Minerals Subcommittee"]
    with demo.session_scope() as session:
        user_id = session.scalar(select(User.id).where(User.email == KOBAYASHI))
        session.execute(
            update(Membership)
            .where(Membership.user_id == user_id, Membership.subcommittee_id == minerals)
            .values(valid_to=utcnow() - timedelta(seconds=1))
        )
    after = parsed(calendar_app.get(path)).walk("VEVENT")
    assert [str(e["summary"]) for e in after] == ["第2回 AGI分科会(業種横断リスクの論点整理)"]


def test_feeds_are_managed_by_their_owner_only_and_with_csrf(app: Flask, demo: Database) -> None:
    observer = sign_in(app.test_client(), demo, KOBAYASHI)
    path = create_feed(observer)
    with demo.session_scope() as session:
        feed_id = session.scalar(select(CalendarFeed.id))
    chair = sign_in(app.test_client(), demo, TANAKA)
    response = chair.post(
        f"/account/calendar-feeds/{feed_id}/revoke", data={"csrf_token": csrf_token(chair, "/account")}
    )
    assert response.status_code == 404
    denial = audit_entries(demo, "calendar.feed_revoke")[-1]
    assert (denial.allowed, denial.reason, denial.actor_id) == (
        False,
        "NOT_OWNER",
        user_by_email(demo, TANAKA).id,
    )
    assert app.test_client().get(path).status_code == 200

    assert observer.post(f"/account/calendar-feeds/{feed_id}/revoke").status_code == 400
    assert observer.post("/account/calendar-feeds").status_code == 400
    with demo.session_scope() as session:
        assert session.scalar(select(CalendarFeed.revoked_at)) is None
        assert len(session.scalars(select(CalendarFeed)).all()) == 1
