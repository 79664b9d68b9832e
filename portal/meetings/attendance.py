"""Attendance: each member answers for themselves (attend, decline, by proxy), the room's stewards record who
was there, and the quorum is counted from both.

Who may see the meeting sees the answers and the proxies' names (sealed under the meeting's level, opened
with the meeting's grant). Observers answer too, but never count towards the quorum.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.enums import RoomRole
from portal.meetings.access import OpenedMeeting, meeting_text, require_meeting
from portal.meetings.models import Attendance, AttendanceResponse, Meeting, MeetingStatus
from portal.rooms import service as rooms
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.keyring import keyring_of
from portal.security.policy import Decision, Subject

#: Seats that count towards the quorum (observers attend but do not decide).
VOTING_ROLES = frozenset({RoomRole.CHAIR, RoomRole.MEMBER})
PROXY_NAME_MAX = 200


class AttendanceRefused(Exception):
    """An answer or a record that cannot be taken as asked; ``code`` is translated by the view."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- the quorum -----------------------------------------------------------------------------------


def quorum_required(configured: int | None, voting_members: int) -> int:
    """The room's configured quorum, or a majority of its chairs and members."""
    return configured if configured is not None else voting_members // 2 + 1


@dataclass(frozen=True)
class Quorum:
    required: int
    voting_members: int
    #: True when the room sets its own quorum (otherwise a majority).
    configured: bool
    #: Voting members who answered attend or by proxy.
    expected: int
    #: Voting members recorded present; None until the stewards record attendance.
    present: int | None

    @property
    def expected_met(self) -> bool:
        return self.expected >= self.required

    @property
    def present_met(self) -> bool | None:
        return None if self.present is None else self.present >= self.required


def count_quorum(room: Subcommittee, rows: list[AttendanceRow]) -> Quorum:
    voting = [row for row in rows if row.voting]
    recorded = any(row.present is not None for row in rows)
    return Quorum(
        required=quorum_required(room.quorum, len(voting)),
        voting_members=len(voting),
        configured=room.quorum is not None,
        expected=sum(
            1 for row in voting if row.response in (AttendanceResponse.ATTEND, AttendanceResponse.PROXY)
        ),
        present=sum(1 for row in voting if row.present) if recorded else None,
    )


# --- the sheet ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceRow:
    """A current member of the room with their answer and, once recorded, whether they were there."""

    user_id: uuid.UUID
    display_name: str
    organization_ja: str
    organization_en: str
    room_role: RoomRole
    response: AttendanceResponse | None
    proxy_name: str | None
    present: bool | None

    @property
    def voting(self) -> bool:
        return self.room_role in VOTING_ROLES

    def organization(self, locale: str) -> str:
        return self.organization_en if locale == "en" else self.organization_ja


@dataclass(frozen=True)
class AttendanceSheet:
    opened: OpenedMeeting
    title: str
    rows: list[AttendanceRow]
    #: The reader's own row (None when they no longer hold a seat in the room).
    mine: AttendanceRow | None
    quorum: Quorum
    #: The stewards have recorded attendance for at least one member.
    recorded: bool
    can_answer: bool
    can_record: bool
    #: The meeting has begun (attendance is recorded from then on).
    started: bool
    cancelled: bool


def _decide_record(subject: Subject, _meeting: Meeting, room: Subcommittee) -> Decision:
    return policy.decide_manage_meeting(subject, room, "meeting.attendance_record")


def _decide_answer(subject: Subject, meeting: Meeting, _room: Subcommittee) -> Decision:
    return policy.decide_answer_attendance(subject, meeting)


def _seats(session: Session, room_id: uuid.UUID, now: datetime) -> dict[uuid.UUID, rooms.RosterEntry]:
    """One seat per current member: of two seats of one person, a chair's wins, then a member's."""
    rank = {RoomRole.CHAIR: 0, RoomRole.MEMBER: 1, RoomRole.OBSERVER: 2}
    seats: dict[uuid.UUID, rooms.RosterEntry] = {}
    for entry in rooms.member_roster(session, room_id, now):
        held = seats.get(entry.user_id)
        if held is None or rank[entry.room_role] < rank[held.room_role]:
            seats[entry.user_id] = entry
    return seats


def _answers(session: Session, meeting_id: uuid.UUID) -> dict[uuid.UUID, Attendance]:
    found = session.scalars(select(Attendance).where(Attendance.meeting_id == meeting_id))
    return {attendance.user_id: attendance for attendance in found}


def proxy_name(session: Session, opened: OpenedMeeting, attendance: Attendance) -> str | None:
    if attendance.proxy_sealed is None:
        return None
    context = attendance.field_context("proxy", int(opened.meeting.level))
    return keyring_of(session).open(session, opened.grant, context, attendance.proxy_sealed)


def attendance_sheet(
    session: Session, subject: Subject, meeting_id: uuid.UUID, now: datetime
) -> AttendanceSheet:
    """The room's current members with their answers, the reader's own answer and the quorum."""
    opened = require_meeting(session, subject, meeting_id)
    answers = _answers(session, meeting_id)
    rows = []
    for seat in _seats(session, opened.room.id, now).values():
        attendance = answers.get(seat.user_id)
        rows.append(
            AttendanceRow(
                user_id=seat.user_id,
                display_name=seat.display_name,
                organization_ja=seat.organization_ja,
                organization_en=seat.organization_en,
                room_role=seat.room_role,
                response=attendance.response if attendance else None,
                proxy_name=proxy_name(session, opened, attendance) if attendance else None,
                present=attendance.present if attendance else None,
            )
        )
    meeting = opened.meeting
    return AttendanceSheet(
        opened=opened,
        title=meeting_text(session, opened, "title"),
        rows=rows,
        mine=next((row for row in rows if row.user_id == subject.user_id), None),
        quorum=count_quorum(opened.room, rows),
        recorded=any(row.present is not None for row in rows),
        can_answer=policy.decide_answer_attendance(subject, meeting).allowed,
        can_record=_decide_record(subject, meeting, opened.room).allowed,
        started=meeting.starts_at <= now,
        cancelled=meeting.status == MeetingStatus.CANCELLED,
    )


def _attendance_of(
    session: Session, answers: dict[uuid.UUID, Attendance], meeting_id: uuid.UUID, user_id: uuid.UUID
) -> Attendance:
    attendance = answers.get(user_id)
    if attendance is None:
        attendance = Attendance(id=uuid.uuid4(), meeting_id=meeting_id, user_id=user_id)
        session.add(attendance)
        answers[user_id] = attendance
    return attendance


# --- changes --------------------------------------------------------------------------------------


def answer(
    session: Session,
    subject: Subject,
    meeting_id: uuid.UUID,
    response: AttendanceResponse,
    proxy: str | None,
    now: datetime,
) -> Attendance:
    """A member answers for themselves. By proxy needs the proxy's name (sealed under the meeting's level);
    any other answer forgets a proxy given before."""
    opened = require_meeting(session, subject, meeting_id, _decide_answer)
    meeting = opened.meeting
    if meeting.status == MeetingStatus.CANCELLED:
        raise AttendanceRefused("MEETING_CANCELLED")
    if subject.user_id not in _seats(session, opened.room.id, now):
        raise AttendanceRefused("NOT_A_MEMBER")
    proxy = (proxy or "").strip()
    if response == AttendanceResponse.PROXY and not proxy:
        raise AttendanceRefused("PROXY_NAME_REQUIRED")
    if len(proxy) > PROXY_NAME_MAX:
        raise AttendanceRefused("PROXY_NAME_TOO_LONG")
    attendance = _attendance_of(session, _answers(session, meeting_id), meeting_id, subject.user_id)
    attendance.response = response
    attendance.responded_at = now
    attendance.proxy_sealed = None
    if response == AttendanceResponse.PROXY:
        context = attendance.field_context("proxy", int(meeting.level))
        attendance.proxy_sealed = keyring_of(session).seal(
            session, opened.grant, context, proxy, opened.room.id
        )
    session.flush()
    policy.record_change(
        session, subject, "meeting.attendance_answer", object_type="meeting", object_id=meeting.id,
        level=meeting.level, detail={"response": response.value},
    )  # fmt: skip
    return attendance


def record(
    session: Session,
    subject: Subject,
    meeting_id: uuid.UUID,
    presence: Mapping[uuid.UUID, bool | None],
    now: datetime,
) -> None:
    """The room's chair or a secretariat member records who was there (None: not recorded), once the
    meeting has begun. Everyone named must hold a seat in the room now."""
    opened = require_meeting(session, subject, meeting_id, _decide_record)
    meeting = opened.meeting
    if meeting.status == MeetingStatus.CANCELLED:
        raise AttendanceRefused("MEETING_CANCELLED")
    if meeting.starts_at > now:
        raise AttendanceRefused("NOT_STARTED")
    seats = _seats(session, opened.room.id, now)
    if not set(presence) <= set(seats):
        raise AttendanceRefused("NOT_A_MEMBER")
    answers = _answers(session, meeting_id)
    for user_id, present in presence.items():
        if present is None and user_id not in answers:
            continue
        attendance = _attendance_of(session, answers, meeting_id, user_id)
        attendance.present = present
        attendance.recorded_by_id = subject.user_id
    session.flush()
    policy.record_change(
        session, subject, "meeting.attendance_record", object_type="meeting", object_id=meeting.id,
        level=meeting.level,
        detail={
            "present": sum(1 for value in presence.values() if value is True),
            "absent": sum(1 for value in presence.values() if value is False),
        },
    )  # fmt: skip
