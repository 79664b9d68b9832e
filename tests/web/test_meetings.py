"""Meetings through the web: scheduling, the meeting page, editing (with the 409 conflict page), cancelling,
convening at short notice (招集), the room's list, the user's time zone; denials, IDOR, CSRF and escaping.
On the demo data (the minerals room is rapid-response; shipbuilding is policy coordination)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from portal import notifications
from portal.accounts.models import User
from portal.db import Database, utcnow
from portal.enums import Level
from portal.meetings import service as meetings
from portal.meetings.models import Meeting, MeetingStatus
from portal.notifications import EventKind
from portal.security.audit_models import AuditEntry
from tests.conftest import csrf_token, sign_in
from tests.meetings_support import demo_meeting_id, room_by_name, subject_of
from tests.web.support import text, translated

SECRETARIAT = "sato@cao.example.jp"
CHAIR = "tanaka@meti.example.jp"  # chairs the minerals room
MEMBER = "ito@toho-raremetals.example.jp"  # minerals member, no steward
OBSERVER = "kobayashi@toto-u.example.jp"  # minerals observer, RESTRICTED
OUTSIDER = "takahashi@mic.example.jp"  # not in the minerals room
AUDITOR = "matsumoto@cao.example.jp"
ADMIN = "inoue@cao.example.jp"
MINERALS = "Critical Minerals Subcommittee"
SHIPBUILDING = "Shipbuilding Subcommittee"
TOKYO = ZoneInfo("Asia/Tokyo")


def room_id(database: Database, name_en: str) -> uuid.UUID:
    with database.session_scope() as session:
        return room_by_name(session, name_en).id


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None) -> TestResponse:
    return client.post(path, data={"csrf_token": csrf_token(client, "/account"), **(data or {})})


def meeting_form(**changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "title": "第6回 重要鉱物分科会",
        "day": "2031-03-10",
        "start": "14:30",
        "duration_minutes": "90",
        "place": "中央合同庁舎第8号館 会議室C",
        "level": str(int(Level.RESTRICTED)),
    }
    form.update(changes)
    return form


def load_meeting(database: Database, meeting_id: uuid.UUID) -> Meeting:
    with database.session_scope() as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        session.expunge(meeting)
        return meeting


def last_audit(database: Database, action: str | None = None) -> AuditEntry:
    with database.session_scope() as session:
        statement = select(AuditEntry).order_by(AuditEntry.seq.desc())
        if action is not None:
            statement = statement.where(AuditEntry.action == action)
        entry = session.scalars(statement).first()
        assert entry is not None
        session.expunge(entry)
        return entry


def meeting_path(response: TestResponse) -> str:
    assert response.status_code == 302, text(response)[:3000]
    path = response.headers["Location"]
    assert re.fullmatch(r"/meetings/[0-9a-f-]{36}", path), path
    return path


def set_zone(database: Database, email: str, zone: str) -> None:
    with database.session_scope() as session:
        user = session.scalar(select(User).where(User.email == email))
        assert user is not None
        user.time_zone = zone


# --- scheduling and the meeting page ------------------------------------------------------------------


def test_a_steward_schedules_a_meeting_in_tokyo_time_stored_in_utc(app: Flask, demo: Database) -> None:
    minerals = room_id(demo, MINERALS)
    secretariat = sign_in(app.test_client(), demo, SECRETARIAT)
    assert secretariat.get(f"/rooms/{minerals}/meetings/new").status_code == 200

    path = meeting_path(post(secretariat, f"/rooms/{minerals}/meetings/new", meeting_form()))

    meeting = load_meeting(demo, uuid.UUID(path.rsplit("/", 1)[1]))
    assert meeting.starts_at == datetime(2031, 3, 10, 5, 30, tzinfo=UTC)  # 14:30 JST
    assert (
        meeting.duration_minutes == 90 and meeting.level == Level.RESTRICTED and meeting.convened_at is None
    )
    page = text(secretariat.get(path))
    assert "第6回 重要鉱物分科会" in page and "中央合同庁舎第8号館 会議室C" in page
    assert "14:30–16:00" in page and "(Asia/Tokyo)" in page
    assert 'data-testid="marking-top"' in page and 'data-testid="marking-bottom"' in page
    for section in ("attendance", "findings", "minutes"):
        assert f'href="{path}/{section}"' in page
    entry = last_audit(demo, "meeting.create")
    assert entry.allowed and entry.object_id == str(meeting.id)
    # Every member of the room sees it in the room's list; the schedule button only for stewards.
    member = sign_in(app.test_client(), demo, MEMBER)
    room_page = text(member.get(f"/rooms/{minerals}"))
    assert "第6回 重要鉱物分科会" in room_page and 'data-testid="schedule-meeting"' not in room_page
    assert 'data-testid="schedule-meeting"' in text(secretariat.get(f"/rooms/{minerals}"))


def test_a_rejected_form_keeps_what_was_typed(app: Flask, demo: Database) -> None:
    minerals = room_id(demo, MINERALS)
    secretariat = sign_in(app.test_client(), demo, SECRETARIAT)
    before = meeting_count(demo)

    response = post(
        secretariat,
        f"/rooms/{minerals}/meetings/new",
        meeting_form(title="", place="入力したままの場所", duration_minutes="0"),
    )

    assert response.status_code == 400
    page = text(response)
    assert "入力したままの場所" in page
    assert translated(app, "This field is required.") in page
    assert translated(app, "Between %(min)s and %(max)s minutes.", min=5, max=720) in page
    assert meeting_count(demo) == before


def meeting_count(database: Database) -> int:
    with database.session_scope() as session:
        return len(session.scalars(select(Meeting.id)).all())


def test_scheduling_above_ones_clearance_is_refused_with_the_reason(app: Flask, demo: Database) -> None:
    minerals = room_id(demo, MINERALS)
    observerless = sign_in(app.test_client(), demo, SECRETARIAT)  # CONFIDENTIAL; the form offers no CESI
    response = post(observerless, f"/rooms/{minerals}/meetings/new", meeting_form(level=str(int(Level.CESI))))
    assert response.status_code == 400  # not a choice at all: a meeting's own level stops at CONFIDENTIAL


def test_a_user_in_london_sees_and_types_london_time(app: Flask, demo: Database) -> None:
    minerals_5 = demo_meeting_id(demo, "minerals-5")
    meeting = load_meeting(demo, minerals_5)
    chair = sign_in(app.test_client(), demo, CHAIR)
    tokyo_start = meeting.starts_at.astimezone(TOKYO).strftime("%H:%M")
    assert tokyo_start == "10:00"
    assert "(Asia/Tokyo)" in text(chair.get(f"/meetings/{minerals_5}"))

    response = post(chair, "/account/time-zone", {"time_zone": "Europe/London"})

    assert response.status_code == 302
    entry = last_audit(demo, "account.set_time_zone")
    assert json.loads(entry.detail) == {"from": "Asia/Tokyo", "to": "Europe/London"}
    london = meeting.starts_at.astimezone(ZoneInfo("Europe/London"))
    page = text(chair.get(f"/meetings/{minerals_5}"))
    when = page.split('data-testid="meeting-when">', 1)[1].split("<", 1)[0]
    assert f"{london.hour}:{london:%M}–" in when and when.endswith("(Europe/London)")  # ja: H:mm
    assert "(Asia/Tokyo)" not in page
    # A time typed now is read in London: 09:00 in London in July is 08:00 UTC (summer time).
    minerals = room_id(demo, MINERALS)
    path = meeting_path(
        post(chair, f"/rooms/{minerals}/meetings/new", meeting_form(day="2031-07-01", start="09:00"))
    )
    assert load_meeting(demo, uuid.UUID(path.rsplit("/", 1)[1])).starts_at == datetime(
        2031, 7, 1, 8, 0, tzinfo=UTC
    )


def test_a_time_skipped_by_summer_time_is_refused(app: Flask, demo: Database) -> None:
    set_zone(demo, CHAIR, "Europe/London")
    chair = sign_in(app.test_client(), demo, CHAIR)
    minerals = room_id(demo, MINERALS)
    response = post(chair, f"/rooms/{minerals}/meetings/new", meeting_form(day="2031-03-30", start="01:30"))
    assert response.status_code == 400
    assert translated(app, "That time does not exist in your time zone.") in text(response)


def test_an_unknown_time_zone_is_refused(app: Flask, demo: Database) -> None:
    chair = sign_in(app.test_client(), demo, CHAIR)
    for zone in ("Mars/Olympus", "Europe/Kyiv<script>", "Asia/Pyongyang"):
        response = post(chair, "/account/time-zone", {"time_zone": zone})
        assert response.status_code == 400, zone
        assert "<script>" not in text(response).split('id="time-zone"', 1)[1].split("</form>", 1)[0]
    with demo.session_scope() as session:
        user = session.scalar(select(User).where(User.email == CHAIR))
        assert user is not None and user.time_zone == "Asia/Tokyo"


# --- editing, the conflict page, cancelling ----------------------------------------------------------------


def edit_form(page: str, **changes: Any) -> dict[str, Any]:
    base = re.search(r'name="base_version" type="hidden" value="(\d+)"', page)
    assert base, page[:2000]
    return {**meeting_form(**changes), "base_version": base.group(1)}


def test_editing_a_meeting_changes_it_and_is_audited(app: Flask, demo: Database) -> None:
    minerals_5 = demo_meeting_id(demo, "minerals-5")
    chair = sign_in(app.test_client(), demo, CHAIR)
    page = text(chair.get(f"/meetings/{minerals_5}/edit"))
    assert "第5回 重要鉱物分科会" in page and 'value="10:00"' in page

    response = post(
        chair, f"/meetings/{minerals_5}/edit", edit_form(page, title="第5回(日程変更)", start="15:00")
    )

    assert response.status_code == 302
    meeting = load_meeting(demo, minerals_5)
    assert meeting.version == 2 and meeting.starts_at.astimezone(TOKYO).hour == 15
    assert "第5回(日程変更)" in text(chair.get(f"/meetings/{minerals_5}"))
    assert last_audit(demo, "meeting.edit").object_id == str(minerals_5)


def test_a_stale_edit_gets_the_conflict_page_with_the_typed_input_kept(app: Flask, demo: Database) -> None:
    minerals_5 = demo_meeting_id(demo, "minerals-5")
    chair = sign_in(app.test_client(), demo, CHAIR)
    secretariat = sign_in(app.test_client(), demo, SECRETARIAT)
    chair_page = text(chair.get(f"/meetings/{minerals_5}/edit"))
    secretariat_page = text(secretariat.get(f"/meetings/{minerals_5}/edit"))
    assert (
        post(
            secretariat, f"/meetings/{minerals_5}/edit", edit_form(secretariat_page, title="佐藤の変更")
        ).status_code
        == 302
    )

    response = post(
        chair,
        f"/meetings/{minerals_5}/edit",
        edit_form(chair_page, title="田中の変更", place="田中が入力した場所"),
    )

    assert response.status_code == 409
    page = text(response)
    assert 'data-testid="conflict"' in page
    assert 'value="田中の変更"' in page and 'value="田中が入力した場所"' in page  # the user's input, kept
    assert "佐藤の変更" in page.split('data-testid="current-meeting"', 1)[1]  # the current state, shown
    assert 'name="base_version" type="hidden" value="2"' in page  # saving again is deliberate
    assert load_meeting(demo, minerals_5).version == 2
    assert "佐藤の変更" in text(chair.get(f"/meetings/{minerals_5}"))  # nothing was overwritten
    # Saving from the conflict page puts the user's version on top, deliberately.
    again = post(chair, f"/meetings/{minerals_5}/edit", edit_form(page, title="田中の変更"))
    assert again.status_code == 302 and load_meeting(demo, minerals_5).version == 3


def test_cancelling_keeps_the_meeting_shown_as_cancelled(app: Flask, demo: Database) -> None:
    minerals_5 = demo_meeting_id(demo, "minerals-5")
    minerals = room_id(demo, MINERALS)
    secretariat = sign_in(app.test_client(), demo, SECRETARIAT)

    assert post(secretariat, f"/meetings/{minerals_5}/cancel").status_code == 302

    assert load_meeting(demo, minerals_5).status == MeetingStatus.CANCELLED
    member = sign_in(app.test_client(), demo, MEMBER)
    assert 'data-testid="cancelled"' in text(member.get(f"/meetings/{minerals_5}"))
    room_page = text(member.get(f"/rooms/{minerals}"))
    assert translated(app, "Cancelled") in room_page
    assert last_audit(demo, "meeting.cancel").object_id == str(minerals_5)
    # A cancelled meeting no longer changes: its edit form sends the steward back with a message.
    response = secretariat.get(f"/meetings/{minerals_5}/edit")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/meetings/{minerals_5}")
    # Nor does its agenda.
    revision = load_meeting(demo, minerals_5).agenda_revision
    response = post(secretariat, f"/meetings/{minerals_5}/agenda/items/new", {"title": "中止後の議題"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/meetings/{minerals_5}")
    page = text(secretariat.get(f"/meetings/{minerals_5}"))
    assert (
        translated(app, "This meeting was cancelled; it no longer changes.") in page
        and "中止後の議題" not in page
    )
    assert load_meeting(demo, minerals_5).agenda_revision == revision


def test_the_room_lists_upcoming_and_past_meetings_within_ones_clearance(app: Flask, demo: Database) -> None:
    minerals = room_id(demo, MINERALS)
    secretariat = sign_in(app.test_client(), demo, SECRETARIAT)
    post(
        secretariat,
        f"/rooms/{minerals}/meetings/new",
        meeting_form(title="秘の臨時会合", level=str(int(Level.CONFIDENTIAL))),
    )

    observer_page = text(sign_in(app.test_client(), demo, OBSERVER).get(f"/rooms/{minerals}"))
    chair_page = text(sign_in(app.test_client(), demo, CHAIR).get(f"/rooms/{minerals}"))

    upcoming = chair_page.split('data-testid="upcoming-meetings"', 1)[1].split("</ul>", 1)[0]
    past = chair_page.split('data-testid="past-meetings"', 1)[1].split("</ul>", 1)[0]
    assert "第5回 重要鉱物分科会" in upcoming and "秘の臨時会合" in upcoming
    assert "第4回 重要鉱物分科会" in past and "第4回" not in upcoming
    assert "第5回 重要鉱物分科会" in observer_page
    assert "秘の臨時会合" not in observer_page  # filtered in SQL: not listed, not counted


# --- 招集: convening at short notice ---------------------------------------------------------------------


def test_a_steward_convenes_a_meeting_in_a_rapid_response_room(app: Flask, demo: Database) -> None:
    minerals = room_id(demo, MINERALS)
    chair = sign_in(app.test_client(), demo, CHAIR)
    room_page = text(chair.get(f"/rooms/{minerals}"))
    assert 'data-testid="convene"' in room_page
    soon = (utcnow() + timedelta(hours=3)).astimezone(TOKYO)

    response = post(
        chair,
        f"/rooms/{minerals}/meetings/convene",
        meeting_form(
            title="臨時会合(輸出許可の停止報道を受けて)",
            day=f"{soon:%Y-%m-%d}",
            start=f"{soon:%H:%M}",
            duration_minutes="60",
        ),
    )

    path = meeting_path(response)
    meeting = load_meeting(demo, uuid.UUID(path.rsplit("/", 1)[1]))
    assert meeting.convened_at is not None
    assert 'data-testid="convened"' in text(chair.get(path))
    assert last_audit(demo, "meeting.convene").allowed


def test_convening_in_the_past_is_refused(app: Flask, demo: Database) -> None:
    minerals = room_id(demo, MINERALS)
    chair = sign_in(app.test_client(), demo, CHAIR)
    earlier = (utcnow() - timedelta(hours=2)).astimezone(TOKYO)
    response = post(
        chair, f"/rooms/{minerals}/meetings/convene",
        meeting_form(day=f"{earlier:%Y-%m-%d}", start=f"{earlier:%H:%M}", title="過去の招集"),
    )  # fmt: skip
    assert response.status_code == 400
    page = text(response)
    assert translated(app, "A meeting cannot be convened in the past.") in page and "過去の招集" in page


def test_only_a_rapid_response_room_convenes(app: Flask, demo: Database) -> None:
    shipbuilding = room_id(demo, SHIPBUILDING)
    secretariat = sign_in(app.test_client(), demo, SECRETARIAT)  # a steward of the shipbuilding room
    assert 'data-testid="convene"' not in text(secretariat.get(f"/rooms/{shipbuilding}"))
    assert 'data-testid="schedule-meeting"' in text(secretariat.get(f"/rooms/{shipbuilding}"))

    response = post(secretariat, f"/rooms/{shipbuilding}/meetings/convene", meeting_form())

    assert response.status_code == 403
    assert translated(app, "Only a rapid-response subcommittee convenes meetings at short notice.") in text(
        response
    )
    entry = last_audit(demo)
    assert (entry.action, entry.reason, entry.allowed) == ("meeting.convene", "NOT_RAPID_RESPONSE", False)


def test_the_services_queue_notifications(demo: Database) -> None:
    with demo.session_scope() as session:
        minerals = room_by_name(session, MINERALS)
        new = meetings.NewMeeting(
            "招集テスト", "オンライン", utcnow() + timedelta(hours=2), 60, Level.RESTRICTED
        )
        convened = meetings.convene_meeting(session, subject_of(session, CHAIR), minerals, new)
        minerals_5 = session.scalar(select(Meeting).where(Meeting.id == demo_meeting_id(demo, "minerals-5")))
        assert minerals_5 is not None
        meetings.cancel_meeting(session, subject_of(session, SECRETARIAT), minerals_5.id)
        meetings.cancel_meeting(session, subject_of(session, SECRETARIAT), minerals_5.id)  # changes nothing
        queued = [(n.kind, n.meeting_id, n.recipient_ids) for n in notifications.pending(session)]
        assert queued == [
            (EventKind.MEETING_CONVENED, convened.id, None),  # None: the room's members
            (EventKind.MEETING_CHANGED, minerals_5.id, None),
        ]
        session.rollback()
        assert notifications.pending(session) == []  # a rolled-back change announces nothing


# --- denials, IDOR, CSRF, escaping -----------------------------------------------------------------------


def test_denials_answer_and_are_audited_with_their_reason(app: Flask, demo: Database) -> None:
    minerals = room_id(demo, MINERALS)
    minerals_5 = demo_meeting_id(demo, "minerals-5")
    cases = [
        (MEMBER, "GET", f"/rooms/{minerals}/meetings/new", 403, "NOT_SECRETARIAT_OR_CHAIR"),
        (MEMBER, "POST", f"/meetings/{minerals_5}/cancel", 403, "NOT_SECRETARIAT_OR_CHAIR"),
        (OBSERVER, "GET", f"/meetings/{minerals_5}/edit", 403, "NOT_SECRETARIAT_OR_CHAIR"),
        (MEMBER, "POST", f"/rooms/{minerals}/meetings/convene", 403, "NOT_SECRETARIAT_OR_CHAIR"),
        (OUTSIDER, "GET", f"/meetings/{minerals_5}", 404, "NOT_MEMBER"),
        (OUTSIDER, "GET", f"/rooms/{minerals}/meetings/new", 404, "NOT_MEMBER"),
        (AUDITOR, "GET", f"/meetings/{minerals_5}", 404, "ROLE_NO_CONTENT"),
        (ADMIN, "POST", f"/meetings/{minerals_5}/cancel", 404, "ROLE_NO_CONTENT"),
    ]
    for email, method, path, status, reason in cases:
        client = sign_in(app.test_client(), demo, email)
        response = client.get(path) if method == "GET" else post(client, path)
        assert response.status_code == status, (email, path, response.status_code)
        if reason == "NOT_SECRETARIAT_OR_CHAIR":  # a refusal says why; a concealed one says nothing
            assert "座長または事務局" in text(response) or "chair or the secretariat" in text(response)
        entry = last_audit(demo)
        assert (entry.allowed, entry.reason) == (False, reason), (email, path, entry.action, entry.reason)
    assert load_meeting(demo, minerals_5).status == MeetingStatus.SCHEDULED


def test_a_confidential_meeting_is_hidden_from_a_restricted_member(app: Flask, demo: Database) -> None:
    minerals = room_id(demo, MINERALS)
    secretariat = sign_in(app.test_client(), demo, SECRETARIAT)
    path = meeting_path(
        post(secretariat, f"/rooms/{minerals}/meetings/new", meeting_form(level=str(int(Level.CONFIDENTIAL))))
    )
    observer = sign_in(app.test_client(), demo, OBSERVER)
    assert observer.get(path).status_code == 404
    assert last_audit(demo).reason == "CLEARANCE_TOO_LOW"


def test_another_rooms_meeting_answers_404(app: Flask, demo: Database) -> None:
    agi_2 = demo_meeting_id(demo, "agi-2")  # tanaka is not in the AGI room
    chair = sign_in(app.test_client(), demo, CHAIR)
    assert chair.get(f"/meetings/{agi_2}").status_code == 404
    assert chair.get(f"/meetings/{agi_2}/edit").status_code == 404
    assert post(chair, f"/meetings/{agi_2}/cancel").status_code == 404
    assert chair.get(f"/meetings/{uuid.uuid4()}").status_code == 404
    assert load_meeting(demo, agi_2).status == MeetingStatus.SCHEDULED


def test_state_changes_need_the_csrf_token(app: Flask, demo: Database) -> None:
    minerals_5 = demo_meeting_id(demo, "minerals-5")
    minerals = room_id(demo, MINERALS)
    chair = sign_in(app.test_client(), demo, CHAIR)
    assert chair.post(f"/meetings/{minerals_5}/cancel").status_code == 400
    assert chair.post(f"/rooms/{minerals}/meetings/new", data=meeting_form()).status_code == 400
    assert chair.post("/account/time-zone", data={"time_zone": "UTC"}).status_code == 400
    assert load_meeting(demo, minerals_5).status == MeetingStatus.SCHEDULED


def test_markup_in_title_and_place_is_shown_as_text(app: Flask, demo: Database) -> None:
    minerals = room_id(demo, MINERALS)
    chair = sign_in(app.test_client(), demo, CHAIR)
    title = '<script>alert("t")</script><img src=x onerror=alert(1)>'
    place = '<a href="javascript:alert(2)">会議室</a>'
    path = meeting_path(
        post(chair, f"/rooms/{minerals}/meetings/new", meeting_form(title=title, place=place))
    )
    for page in (
        text(chair.get(path)),
        text(chair.get(f"/rooms/{minerals}")),
        text(chair.get(f"{path}/edit")),
    ):
        assert "<script>alert" not in page and "<img src=x" not in page and '<a href="javascript' not in page
        assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;" in page
