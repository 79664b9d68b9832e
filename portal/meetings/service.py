"""Every way a meeting comes to exist or changes its own fields (the agenda, attendance, findings and action
items have their own modules). Who may do what is decided in ``portal.security.policy``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.enums import Level
from portal.meetings.access import OpenedMeeting, meeting_text
from portal.meetings.models import Meeting
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.keyring import keyring_of
from portal.security.policy import Subject


@dataclass(frozen=True)
class NewMeeting:
    title: str
    place: str
    #: Aware datetime (any zone); stored in UTC.
    starts_at: datetime
    duration_minutes: int
    level: Level


def create_meeting(session: Session, subject: Subject, room: Subcommittee, new: NewMeeting) -> Meeting:
    """Schedule a meeting: the room's chair or a secretariat member of the room, at a level within their
    clearance and the room's."""
    meeting_id = uuid.uuid4()
    decision = policy.decide_schedule_meeting(subject, room, new.level)
    policy.require(
        session, subject, decision, object_type="room", object_id=room.id, level=new.level,
        conceal=room.id not in subject.room_ids,
    )  # fmt: skip
    grant = policy.grant_from(decision, subject, "meeting", meeting_id)
    meeting = Meeting(
        id=meeting_id,
        subcommittee_id=room.id,
        level=new.level,
        starts_at=new.starts_at.astimezone(utcnow().tzinfo),
        duration_minutes=new.duration_minutes,
        created_by_id=subject.user_id,
    )
    keyring = keyring_of(session)
    meeting.title_sealed = keyring.seal(
        session, grant, meeting.field_context("title"), new.title.strip(), room.id
    )
    meeting.place_sealed = keyring.seal(
        session, grant, meeting.field_context("place"), new.place.strip(), room.id
    )
    session.add(meeting)
    session.flush()
    policy.record_change(
        session, subject, "meeting.create", object_type="meeting", object_id=meeting.id, level=meeting.level,
        detail={"room": str(room.id)},
    )  # fmt: skip
    return meeting


@dataclass(frozen=True)
class MeetingSummary:
    id: uuid.UUID
    title: str
    starts_at: datetime
    duration_minutes: int
    level: Level
    cancelled: bool


def list_meetings(session: Session, subject: Subject, room_id: uuid.UUID) -> list[MeetingSummary]:
    """A room's meetings the subject may see, soonest first (hidden ones are never listed)."""
    meetings = session.scalars(
        select(Meeting)
        .where(Meeting.subcommittee_id == room_id, policy.visible_meetings(subject))
        .order_by(Meeting.starts_at)
    ).all()
    room = session.get(Subcommittee, room_id)
    summaries = []
    for meeting in meetings:
        decision = policy.decide_see_meeting(subject, meeting)
        grant = policy.grant_from(decision, subject, "meeting", meeting.id)
        opened = OpenedMeeting(meeting, room, grant)  # type: ignore[arg-type]
        summaries.append(
            MeetingSummary(
                meeting.id,
                meeting_text(session, opened, "title"),
                meeting.starts_at,
                meeting.duration_minutes,
                meeting.level,
                meeting.status == "cancelled",
            )
        )
    return summaries
