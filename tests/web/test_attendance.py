"""Attendance through the web: each member answers for themselves (a proxy's name sealed), the stewards
record who came, the quorum (observers never count; a room's own quorum), the admin quorum form, denials
with their audit reasons, CSRF and escaping. On the demo data: 第4回 (past) and 第5回 (next week) of the
minerals room, whose voting members are 田中 (chair), 佐藤, 伊藤, 吉田 and 山田; 小林 observes."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from portal.accounts.models import User
from portal.db import Database
from portal.meetings.models import Attendance, AttendanceResponse, Meeting, MeetingStatus
from portal.rooms.models import Subcommittee
from portal.security.audit_models import AuditEntry
from tests.conftest import csrf_token, sign_in, user_by_email
from tests.followup_support import (
    MINERALS,
    past_minerals_meeting,
    proxy_names,
    room_meetings,
    upcoming_minerals_meeting,
)
from tests.web.support import text, translated
from tests.web.test_encryption_web import japanese_marker, leaks, raw_database_bytes, require_raw_reader

SECRETARIAT = "sato@cao.example.jp"
CHAIR = "tanaka@meti.example.jp"
MEMBER = "ito@toho-raremetals.example.jp"
ANALYST = "yoshida@icess.example.jp"
OBSERVER = "kobayashi@toto-u.example.jp"
OUTSIDER = "suzuki@mlit.example.jp"


def post(client: FlaskClient, path: str, data: dict[str, Any]) -> TestResponse:
    return client.post(path, data={"csrf_token": csrf_token(client, "/account"), **data})


def quorum_numbers(page: str, which: str) -> tuple[int, int]:
    match = re.search(rf'data-testid="quorum-{which}">\s*(\d+) / (\d+)', page)
    assert match, f"no {which} count on the page"
    return int(match.group(1)), int(match.group(2))


def last_audit(database: Database, action: str | None = None) -> AuditEntry:
    with database.session_scope() as session:
        query = select(AuditEntry).order_by(AuditEntry.seq.desc())
        if action is not None:
            query = query.where(AuditEntry.action == action)
        entry = session.scalars(query).first()
        assert entry is not None
        session.expunge(entry)
        return entry


def answers(database: Database, meeting_id: uuid.UUID) -> dict[str, Attendance]:
    with database.session_scope() as session:
        rows = session.execute(
            select(User.email, Attendance)
            .join(Attendance, Attendance.user_id == User.id)
            .where(Attendance.meeting_id == meeting_id)
        ).all()
        for _email, attendance in rows:
            session.expunge(attendance)
        return {email: attendance for email, attendance in rows}


# --- answers ------------------------------------------------------------------------------------------


def test_members_answer_for_themselves_and_see_the_room_s_answers(app: Flask, demo: Database) -> None:
    meeting = upcoming_minerals_meeting(demo)
    chair = sign_in(app.test_client(), demo, CHAIR)
    path = f"/meetings/{meeting}/attendance"
    assert chair.get(path).status_code == 200

    response = post(chair, f"{path}/answer", {"response": "decline"})
    assert response.status_code == 302 and response.headers["Location"].endswith(path)
    assert answers(demo, meeting)[CHAIR].response == AttendanceResponse.DECLINE
    entry = last_audit(demo, "meeting.attendance_answer")
    assert (
        entry.allowed
        and entry.object_id == str(meeting)
        and json.loads(entry.detail) == {"response": "decline"}
    )

    # The observer answers too: the roster lists chairs, members and observers with their answers.
    observer = sign_in(app.test_client(), demo, OBSERVER)
    assert post(observer, f"{path}/answer", {"response": "attend"}).status_code == 302
    page = text(chair.get(path))
    for name in ("田中 浩", "佐藤 美咲", "伊藤 直樹", "吉田 真理", "山田 花子", "小林 聡"):
        assert name in page
    assert page.count('data-testid="attendance-row"') == 6
    # 伊藤 answered by proxy in the demo data: whoever sees the meeting sees the proxy's name.
    assert "山口 健(東邦レアメタル株式会社 調達部長)" in page

    # Changing one's mind forgets the proxy.
    member = sign_in(app.test_client(), demo, MEMBER)
    assert post(member, f"{path}/answer", {"response": "attend"}).status_code == 302
    mine = answers(demo, meeting)[MEMBER]
    assert mine.response == AttendanceResponse.ATTEND and mine.proxy_sealed is None


def test_by_proxy_needs_a_name_and_the_form_keeps_what_was_typed(app: Flask, demo: Database) -> None:
    meeting = upcoming_minerals_meeting(demo)
    chair = sign_in(app.test_client(), demo, CHAIR)
    response = post(
        chair, f"/meetings/{meeting}/attendance/answer", {"response": "proxy", "proxy_name": "  "}
    )
    assert response.status_code == 400
    assert translated(app, "Give the name of the person attending in your place.") in text(response)
    assert re.search(r'<input checked[^>]*value="proxy"', text(response))
    assert answers(demo, meeting)[CHAIR].response == AttendanceResponse.ATTEND  # unchanged

    response = post(chair, f"/meetings/{meeting}/attendance/answer", {"response": "maybe"})
    assert response.status_code == 400
    assert answers(demo, meeting)[CHAIR].response == AttendanceResponse.ATTEND


def test_the_proxy_s_name_is_sealed_and_shown_escaped(app: Flask, demo: Database, database_url: str) -> None:
    require_raw_reader(database_url)
    meeting = upcoming_minerals_meeting(demo)
    marker = japanese_marker()
    proxy = f"<script>alert('{marker}')</script> {marker}"
    chair = sign_in(app.test_client(), demo, CHAIR)
    response = post(
        chair, f"/meetings/{meeting}/attendance/answer", {"response": "proxy", "proxy_name": proxy}
    )
    assert response.status_code == 302

    tanaka = user_by_email(demo, CHAIR)
    assert proxy_names(demo, meeting)[tanaka.id] == proxy  # sealed, and opens to what was typed
    assert leaks(raw_database_bytes(database_url), {"proxy": marker}) == []

    page = text(sign_in(app.test_client(), demo, SECRETARIAT).get(f"/meetings/{meeting}/attendance"))
    assert "<script>alert(" not in page
    assert f"&lt;script&gt;alert(&#39;{marker}&#39;)&lt;/script&gt; {marker}" in page


def test_who_may_not_see_the_meeting_gets_404_audited(app: Flask, demo: Database) -> None:
    meeting = past_minerals_meeting(demo)
    outsider = sign_in(app.test_client(), demo, OUTSIDER)
    assert outsider.get(f"/meetings/{meeting}/attendance").status_code == 404
    entry = last_audit(demo)
    assert not entry.allowed and entry.reason == "NOT_MEMBER" and entry.object_id == str(meeting)
    response = post(outsider, f"/meetings/{meeting}/attendance/answer", {"response": "attend"})
    assert response.status_code == 404
    assert OUTSIDER not in answers(demo, meeting)
    # A meeting above one's clearance is not there either (the observer holds RESTRICTED).
    with demo.session_scope() as session:
        session.execute(update(Meeting).where(Meeting.id == meeting).values(level=2))
    observer = sign_in(app.test_client(), demo, OBSERVER)
    assert observer.get(f"/meetings/{meeting}/attendance").status_code == 404
    assert last_audit(demo).reason == "CLEARANCE_TOO_LOW"


def test_a_cancelled_meeting_takes_no_answers(app: Flask, demo: Database) -> None:
    meeting = upcoming_minerals_meeting(demo)
    with demo.session_scope() as session:
        session.execute(update(Meeting).where(Meeting.id == meeting).values(status=MeetingStatus.CANCELLED))
    chair = sign_in(app.test_client(), demo, CHAIR)
    response = post(chair, f"/meetings/{meeting}/attendance/answer", {"response": "decline"})
    assert response.status_code == 400
    assert translated(app, "This meeting was cancelled.") in text(response)
    assert answers(demo, meeting)[CHAIR].response == AttendanceResponse.ATTEND


def test_an_answer_without_the_csrf_token_changes_nothing(app: Flask, demo: Database) -> None:
    meeting = upcoming_minerals_meeting(demo)
    chair = sign_in(app.test_client(), demo, CHAIR)
    response = chair.post(f"/meetings/{meeting}/attendance/answer", data={"response": "decline"})
    assert response.status_code == 400
    assert answers(demo, meeting)[CHAIR].response == AttendanceResponse.ATTEND
    past = past_minerals_meeting(demo)
    steward = sign_in(app.test_client(), demo, SECRETARIAT)
    tanaka = user_by_email(demo, CHAIR)
    response = steward.post(
        f"/meetings/{past}/attendance/record", data={f"present_{tanaka.id.hex}": "absent"}
    )
    assert response.status_code == 400
    assert answers(demo, past)[CHAIR].present is True


# --- recording and the quorum ------------------------------------------------------------------------


def test_the_demo_meeting_met_its_quorum(app: Flask, demo: Database) -> None:
    """第4回: 田中, 佐藤, 伊藤 and 吉田 (by proxy) present, 山田 absent; 小林 (observer) present but not
    counted. A majority of 5 is 3."""
    page = text(
        sign_in(app.test_client(), demo, MEMBER).get(f"/meetings/{past_minerals_meeting(demo)}/attendance")
    )
    assert quorum_numbers(page, "present") == (4, 3)
    assert quorum_numbers(page, "expected") == (4, 3)
    assert translated(app, "Quorum met") in page
    assert 'data-testid="record-form"' not in page  # a member does not record


def test_the_steward_records_attendance_and_the_quorum_follows(app: Flask, demo: Database) -> None:
    meeting = past_minerals_meeting(demo)
    steward = sign_in(app.test_client(), demo, SECRETARIAT)
    page = text(steward.get(f"/meetings/{meeting}/attendance"))
    assert 'data-testid="record-form"' in page
    ids = {email: user_by_email(demo, email).id for email in (CHAIR, SECRETARIAT, MEMBER, ANALYST, OBSERVER)}
    choices = {
        CHAIR: "present",
        SECRETARIAT: "present",
        MEMBER: "absent",
        ANALYST: "absent",
        OBSERVER: "present",  # observers never count
    }
    response = post(
        steward,
        f"/meetings/{meeting}/attendance/record",
        {f"present_{ids[email].hex}": value for email, value in choices.items()},
    )
    assert response.status_code == 302
    page = text(steward.get(f"/meetings/{meeting}/attendance"))
    assert quorum_numbers(page, "present") == (2, 3)
    assert translated(app, "Quorum not met") in page
    recorded = answers(demo, meeting)
    assert recorded[MEMBER].present is False and recorded[OBSERVER].present is True
    assert recorded["yamada@meti.example.jp"].present is False  # not in the form: left as recorded
    entry = last_audit(demo, "meeting.attendance_record")
    assert entry.allowed and json.loads(entry.detail) == {"present": 3, "absent": 2}

    # The chair records too.
    chair = sign_in(app.test_client(), demo, CHAIR)
    response = post(
        chair, f"/meetings/{meeting}/attendance/record", {f"present_{ids[MEMBER].hex}": "present"}
    )
    assert response.status_code == 302
    assert quorum_numbers(text(chair.get(f"/meetings/{meeting}/attendance")), "present") == (3, 3)


def test_a_member_may_not_record_attendance(app: Flask, demo: Database) -> None:
    meeting = past_minerals_meeting(demo)
    tanaka = user_by_email(demo, CHAIR)
    for email in (MEMBER, ANALYST, OBSERVER):
        client = sign_in(app.test_client(), demo, email)
        response = post(
            client, f"/meetings/{meeting}/attendance/record", {f"present_{tanaka.id.hex}": "absent"}
        )
        assert response.status_code == 403, email
        entry = last_audit(demo)
        assert not entry.allowed and entry.reason == "NOT_SECRETARIAT_OR_CHAIR"
        assert entry.rule == "meeting.attendance_record"
    assert answers(demo, meeting)[CHAIR].present is True


def test_attendance_is_recorded_only_once_the_meeting_has_begun(app: Flask, demo: Database) -> None:
    meeting = upcoming_minerals_meeting(demo)
    steward = sign_in(app.test_client(), demo, SECRETARIAT)
    assert 'data-testid="record-form"' not in text(steward.get(f"/meetings/{meeting}/attendance"))
    tanaka = user_by_email(demo, CHAIR)
    response = post(
        steward, f"/meetings/{meeting}/attendance/record", {f"present_{tanaka.id.hex}": "present"}
    )
    assert response.status_code == 302
    page = text(steward.get(f"/meetings/{meeting}/attendance"))
    assert translated(app, "Attendance is recorded once the meeting has begun.") in page
    assert answers(demo, meeting)[CHAIR].present is None


def test_someone_outside_the_room_cannot_be_recorded(app: Flask, demo: Database) -> None:
    meeting = past_minerals_meeting(demo)
    outsider = user_by_email(demo, OUTSIDER)
    steward = sign_in(app.test_client(), demo, SECRETARIAT)
    response = post(
        steward, f"/meetings/{meeting}/attendance/record", {f"present_{outsider.id.hex}": "present"}
    )
    assert response.status_code == 302  # not a field of the form: ignored
    assert OUTSIDER not in answers(demo, meeting)


def test_expected_counts_attend_and_proxy_of_voting_members_only(app: Flask, demo: Database) -> None:
    """第5回: 田中 and 佐藤 attend, 伊藤 by proxy, 山田 declines: 3 of a majority of 3."""
    meeting = upcoming_minerals_meeting(demo)
    observer = sign_in(app.test_client(), demo, OBSERVER)
    page = text(observer.get(f"/meetings/{meeting}/attendance"))
    assert quorum_numbers(page, "expected") == (3, 3)
    assert post(observer, f"/meetings/{meeting}/attendance/answer", {"response": "attend"}).status_code == 302
    page = text(observer.get(f"/meetings/{meeting}/attendance"))
    assert quorum_numbers(page, "expected") == (3, 3)  # the observer does not count
    analyst = sign_in(app.test_client(), demo, ANALYST)
    assert (
        post(
            analyst, f"/meetings/{meeting}/attendance/answer", {"response": "proxy", "proxy_name": "木村"}
        ).status_code
        == 302
    )
    assert quorum_numbers(text(analyst.get(f"/meetings/{meeting}/attendance")), "expected") == (4, 3)


def test_a_configured_quorum_replaces_the_majority(app: Flask, demo: Database) -> None:
    with demo.session_scope() as session:
        session.execute(update(Subcommittee).where(Subcommittee.name_ja == MINERALS).values(quorum=5))
    page = text(
        sign_in(app.test_client(), demo, CHAIR).get(f"/meetings/{past_minerals_meeting(demo)}/attendance")
    )
    assert quorum_numbers(page, "present") == (4, 5)
    assert quorum_numbers(page, "expected") == (4, 5)
    assert translated(app, "Quorum not met") in page
    assert translated(app, "Quorum not expected") in page
    assert translated(app, "(set for this subcommittee; %(count)d voting members)", count=5) in page


# --- the room's quorum in the administration -----------------------------------------------------------


def room_quorum(database: Database, name_ja: str = MINERALS) -> int | None:
    with database.session_scope() as session:
        room = session.scalar(select(Subcommittee).where(Subcommittee.name_ja == name_ja))
        assert room is not None
        return room.quorum


def test_the_secretariat_sets_a_room_s_quorum_within_its_voting_members(app: Flask, demo: Database) -> None:
    with demo.session_scope() as session:
        room_id = session.scalar(select(Subcommittee.id).where(Subcommittee.name_ja == MINERALS))
    steward = sign_in(app.test_client(), demo, SECRETARIAT)
    path = f"/admin/rooms/{room_id}/quorum"
    out_of_range = translated(
        app, "The quorum must be between 1 and the number of voting members (%(count)d).", count=5
    )
    for typed, message in (
        ("6", out_of_range),  # five chairs and members; the observer does not count
        ("0", out_of_range),
        ("三", translated(app, "Enter a whole number, or leave it empty for a majority.")),
        ("2.5", translated(app, "Enter a whole number, or leave it empty for a majority.")),
    ):
        response = post(steward, path, {"quorum": typed})
        assert response.status_code == 400, typed
        page = text(response)
        assert message in page, typed
        field = re.search(rf'<input[^>]*id="quorum-{room_id.hex}"[^>]*>', page)
        assert field and f'value="{typed}"' in field.group(0), typed
        assert room_quorum(demo) is None

    assert post(steward, path, {"quorum": " 4 "}).status_code == 302
    assert room_quorum(demo) == 4
    entry = last_audit(demo, "admin.room_quorum")
    assert entry.allowed and entry.object_id == str(room_id) and json.loads(entry.detail)["after"] == 4
    assert post(steward, path, {"quorum": "5"}).status_code == 302
    assert room_quorum(demo) == 5
    assert post(steward, path, {"quorum": ""}).status_code == 302
    assert room_quorum(demo) is None
    assert translated(app, "Voting members: %(count)d. Empty: a majority.", count=5) in text(
        steward.get("/admin/rooms")
    )


def test_only_the_secretariat_sets_a_quorum(app: Flask, demo: Database) -> None:
    with demo.session_scope() as session:
        room_id = session.scalar(select(Subcommittee.id).where(Subcommittee.name_ja == MINERALS))
    chair = sign_in(app.test_client(), demo, CHAIR)
    response = post(chair, f"/admin/rooms/{room_id}/quorum", {"quorum": "2"})
    assert response.status_code == 403
    entry = last_audit(demo)
    assert not entry.allowed and entry.reason == "NOT_SECRETARIAT"
    assert room_quorum(demo) is None


def test_another_room_s_meeting_lists_its_own_members(app: Flask, demo: Database) -> None:
    """The shipbuilding room's meeting lists its members only (田中 sits in both rooms)."""
    meeting = room_meetings(demo, "造船分科会")[0]
    page = text(sign_in(app.test_client(), demo, CHAIR).get(f"/meetings/{meeting}/attendance"))
    assert "渡辺 あかり" in page and "伊藤 直樹" not in page
