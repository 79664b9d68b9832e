"""The meeting core: scheduling under the policy, and the list of a room's meetings filtered by level."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.db import Database
from portal.enums import Level
from portal.meetings import service as meetings
from portal.meetings.models import Meeting
from portal.security import policy
from portal.security.audit_models import AuditEntry
from tests.meetings_support import room_by_name, schedule_meeting, subject_of


def test_a_steward_schedules_and_members_see_only_meetings_within_their_clearance(demo: Database) -> None:
    with demo.session_scope() as session:
        schedule_meeting(session, title="公開説明会", level=Level.PUBLIC)
        schedule_meeting(session, title="秘の会合", level=Level.CONFIDENTIAL)
    with demo.session_scope() as session:
        room = room_by_name(session, "Critical Minerals Subcommittee")
        cleared = meetings.list_meetings(session, subject_of(session, "tanaka@meti.example.jp"), room.id)
        restricted = meetings.list_meetings(
            session, subject_of(session, "kobayashi@toto-u.example.jp"), room.id
        )
        outsider = meetings.list_meetings(session, subject_of(session, "takahashi@mic.example.jp"), room.id)
    demo_meetings = [  # RESTRICTED
        "第4回 重要鉱物分科会(輸出管理措置の影響把握と対応方針)",
        "第5回 重要鉱物分科会(ガリウム・ゲルマニウム輸出管理への対応)",
    ]
    assert sorted(m.title for m in cleared) == sorted(["公開説明会", "秘の会合", *demo_meetings])
    assert sorted(m.title for m in restricted) == sorted(["公開説明会", *demo_meetings])
    assert outsider == []


def test_title_and_place_are_sealed(demo: Database) -> None:
    with demo.session_scope() as session:
        meeting_id = schedule_meeting(session, title="MARKER-TITLE-見出し", place="MARKER-PLACE")
    with demo.session_scope() as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        assert b"MARKER" not in bytes(meeting.title_sealed) + bytes(meeting.place_sealed)


@pytest.mark.parametrize(
    ("email", "level", "reason"),
    [
        ("ito@toho-raremetals.example.jp", Level.RESTRICTED, "NOT_SECRETARIAT_OR_CHAIR"),
        ("takahashi@mic.example.jp", Level.RESTRICTED, "NOT_MEMBER"),
        ("sato@cao.example.jp", Level.CESI, "CLASSIFY_ABOVE_CLEARANCE"),
        ("matsumoto@cao.example.jp", Level.PUBLIC, "ROLE_NO_CONTENT"),
    ],
)
def test_scheduling_is_refused_and_audited(demo: Database, email: str, level: Level, reason: str) -> None:
    with demo.session_scope() as session:
        before = len(session.scalars(select(Meeting.id)).all())
    with pytest.raises(policy.AccessDenied) as refused, demo.session_scope() as session:
        schedule_meeting(session, email, level=level)
    assert refused.value.decision.reason == reason
    with demo.session_scope() as session:
        assert len(session.scalars(select(Meeting.id)).all()) == before
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert entry is not None and entry.reason == reason and not entry.allowed
