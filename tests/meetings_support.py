"""Meetings made directly through the services (for tests of features built on meetings)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.db import Database, utcnow
from portal.enums import Level
from portal.meetings import service as meetings
from portal.meetings.access import open_part
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.keyring import keyring_of
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


# --- the demo's meetings and agenda items (their titles are sealed: opened with maintenance grants) --------


def meeting_titles(database: Database) -> dict[uuid.UUID, str]:
    from portal.meetings.models import Meeting
    from tests.conftest import keyed_session

    with keyed_session(database.url) as session:
        found = {}
        for meeting in session.scalars(select(Meeting)):
            grant = policy.maintenance_grant("meeting", meeting.id)
            found[meeting.id] = keyring_of(session).open(
                session, grant, meeting.field_context("title"), meeting.title_sealed
            )
        return found


def meeting_id_by_title(database: Database, title: str) -> uuid.UUID:
    found = next((key for key, value in meeting_titles(database).items() if value == title), None)
    assert found is not None, title
    return found


def demo_meeting_id(database: Database, key: str) -> uuid.UUID:
    """A demo meeting by its key in portal.meetings.demo (e.g. "minerals-5")."""
    from portal.meetings.demo import MEETINGS

    spec = next(spec for spec in MEETINGS if spec.key == key)
    return meeting_id_by_title(database, spec.title)


def agenda_item_ids(database: Database, meeting_id: uuid.UUID) -> dict[str, uuid.UUID]:
    """A meeting's items (removed ones too) by title."""
    from portal.meetings.models import AgendaItem
    from tests.conftest import keyed_session

    with keyed_session(database.url) as session:
        found = {}
        for item in session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting_id)):
            grant = policy.maintenance_grant("agenda_item", item.id)
            found[open_part(session, grant, item, "title")] = item.id
        return found
