"""Meetings made directly through the services (for tests of features built on meetings)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.db import utcnow
from portal.enums import Level
from portal.meetings import service as meetings
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.policy import Subject

TOKYO = ZoneInfo("Asia/Tokyo")


def subject_of(session: Session, email: str) -> Subject:
    user = session.scalar(select(User).where(User.email == email))
    assert user is not None, email
    return policy.load_subject(session, user, utcnow())


def room_by_name(session: Session, name_en: str) -> Subcommittee:
    room = session.scalar(select(Subcommittee).where(Subcommittee.name_en == name_en))
    assert room is not None, name_en
    return room


def schedule_meeting(
    session: Session,
    email: str = "sato@cao.example.jp",
    room_name: str = "Critical Minerals Subcommittee",
    *,
    title: str = "第5回 重要鉱物分科会",
    place: str = "中央合同庁舎 第8号館 会議室A",
    starts_at: datetime | None = None,
    duration_minutes: int = 120,
    level: Level = Level.RESTRICTED,
) -> uuid.UUID:
    """Schedule a meeting as ``email`` (a steward of the room) and return its id (flushed, not committed)."""
    starts = starts_at or datetime.now(TOKYO).replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(
        days=7
    )
    meeting = meetings.create_meeting(
        session,
        subject_of(session, email),
        room_by_name(session, room_name),
        meetings.NewMeeting(title, place, starts, duration_minutes, level),
    )
    return meeting.id
