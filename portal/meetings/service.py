"""Every way a meeting comes to exist or changes its own fields (the agenda, attendance, findings and action
items have their own modules). Who may do what is decided in ``portal.security.policy``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import notifications
from portal.db import utcnow
from portal.enums import Level
from portal.meetings.access import OpenedMeeting, meeting_text, require_meeting
from portal.meetings.models import Meeting, MeetingStatus
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.crypto import IntegrityError, KeyDestroyed
from portal.security.keyring import keyring_of
from portal.security.policy import Decision, Grant, Subject


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
    decision = policy.decide_schedule_meeting(subject, room, new.level)
    return _new_meeting(session, subject, room, new, decision, "meeting.create")


def convene_meeting(session: Session, subject: Subject, room: Subcommittee, new: NewMeeting) -> Meeting:
    """招集: convene a meeting at short notice, in one step, in a rapid-response room (refused with
    ``NOT_RAPID_RESPONSE`` in any other). The room's members are told once the transaction commits."""
    decision = policy.decide_convene_meeting(subject, room, new.level)
    meeting = _new_meeting(session, subject, room, new, decision, "meeting.convene")
    meeting.convened_at = utcnow()
    notifications.queue(session, subject, notifications.EventKind.MEETING_CONVENED, meeting.id)
    return meeting


def _new_meeting(
    session: Session, subject: Subject, room: Subcommittee, new: NewMeeting, decision: Decision, action: str
) -> Meeting:
    meeting_id = uuid.uuid4()
    policy.require(
        session, subject, decision, object_type="room", object_id=room.id, level=new.level,
        conceal=room.id not in subject.room_ids,
    )  # fmt: skip
    grant = policy.grant_from(decision, subject, "meeting", meeting_id)
    meeting = Meeting(
        id=meeting_id,
        subcommittee_id=room.id,
        level=new.level,
        starts_at=new.starts_at.astimezone(UTC),
        duration_minutes=new.duration_minutes,
        created_by_id=subject.user_id,
    )
    _seal_texts(session, grant, meeting, room.id, title=new.title, place=new.place)
    session.add(meeting)
    session.flush()
    policy.record_change(
        session, subject, action, object_type="meeting", object_id=meeting.id, level=meeting.level,
        detail={"room": str(room.id)},
    )  # fmt: skip
    return meeting


def _seal_texts(
    session: Session, grant: Grant, meeting: Meeting, room_id: uuid.UUID, *, title: str, place: str
) -> None:
    """Seal the title and place under the meeting's current level (set the level first)."""
    keyring = keyring_of(session)
    meeting.title_sealed = keyring.seal(
        session, grant, meeting.field_context("title"), title.strip(), room_id
    )
    meeting.place_sealed = keyring.seal(
        session, grant, meeting.field_context("place"), place.strip(), room_id
    )


# --- reading and changing one meeting ------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingText:
    """A meeting's opened fields, for one request only."""

    meeting: Meeting
    title: str
    place: str


def open_meeting(
    session: Session, subject: Subject, meeting_id: uuid.UUID
) -> tuple[OpenedMeeting, MeetingText]:
    """A meeting the subject may see, with its title and place (404, audited, for one they may not)."""
    opened = require_meeting(session, subject, meeting_id)
    return opened, meeting_texts(session, opened)


def meeting_texts(session: Session, opened: OpenedMeeting) -> MeetingText:
    return MeetingText(
        opened.meeting, meeting_text(session, opened, "title"), meeting_text(session, opened, "place")
    )


class MeetingConflict(Exception):
    """The change started from a version of the meeting that is no longer the current one."""

    def __init__(self, current: MeetingText) -> None:
        super().__init__("stale meeting edit")
        self.current = current


class MeetingCancelled(Exception):
    """A cancelled meeting is kept as it was: nothing about it (or its agenda) changes any more."""


@dataclass(frozen=True)
class MeetingChange:
    base_version: int
    title: str
    place: str
    starts_at: datetime
    duration_minutes: int
    level: Level


def _decide_change(level: Level) -> Callable[[Subject, Meeting, Subcommittee], Decision]:
    def decide(subject: Subject, meeting: Meeting, room: Subcommittee) -> Decision:
        decision = policy.decide_schedule_meeting(subject, room, level)
        return Decision(decision.allowed, "meeting.edit", decision.reason)

    return decide


def edit_meeting(session: Session, subject: Subject, meeting_id: uuid.UUID, change: MeetingChange) -> Meeting:
    """Change a meeting's own fields (a steward, at a level within their clearance and the room's). An edit
    based on a stale version is refused with :class:`MeetingConflict`; nothing is overwritten. The room's
    members are told (``meeting_changed``) once the transaction commits."""
    opened = require_meeting(session, subject, meeting_id, _decide_change(change.level))
    meeting = opened.meeting
    if meeting.status == MeetingStatus.CANCELLED:
        raise MeetingCancelled(str(meeting.id))
    if change.base_version != meeting.version:
        raise MeetingConflict(meeting_texts(session, opened))
    before = {"level": int(meeting.level), "starts_at": meeting.starts_at.isoformat()}
    meeting.level = change.level
    meeting.starts_at = change.starts_at.astimezone(UTC)
    meeting.duration_minutes = change.duration_minutes
    meeting.version += 1
    meeting.updated_at = utcnow()
    grant = policy.grant_from(opened.grant.decision, subject, "meeting", meeting.id)
    _seal_texts(session, grant, meeting, opened.room.id, title=change.title, place=change.place)
    policy.record_change(
        session, subject, "meeting.edit", object_type="meeting", object_id=meeting.id, level=meeting.level,
        detail={"version": meeting.version, **{f"from_{k}": v for k, v in before.items()}},
    )  # fmt: skip
    notifications.queue(session, subject, notifications.EventKind.MEETING_CHANGED, meeting.id)
    return meeting


def _decide_cancel(subject: Subject, meeting: Meeting, room: Subcommittee) -> Decision:
    return policy.decide_manage_meeting(subject, room, "meeting.cancel")


def cancel_meeting(session: Session, subject: Subject, meeting_id: uuid.UUID) -> Meeting:
    """Cancel a meeting (kept, shown as cancelled; the room is told, as ``meeting_changed``). Cancelling
    twice changes nothing the second time."""
    opened = require_meeting(session, subject, meeting_id, _decide_cancel)
    meeting = opened.meeting
    if meeting.status == MeetingStatus.CANCELLED:
        return meeting
    meeting.status = MeetingStatus.CANCELLED
    meeting.version += 1
    meeting.updated_at = utcnow()
    policy.record_change(
        session, subject, "meeting.cancel", object_type="meeting", object_id=meeting.id, level=meeting.level
    )
    notifications.queue(session, subject, notifications.EventKind.MEETING_CHANGED, meeting.id)
    return meeting


@dataclass(frozen=True)
class MeetingSummary:
    id: uuid.UUID
    title: str
    starts_at: datetime
    duration_minutes: int
    level: Level
    cancelled: bool
    convened: bool = False
    destroyed: bool = False
    integrity_failed: bool = False

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)


def list_meetings(session: Session, subject: Subject, room_id: uuid.UUID) -> list[MeetingSummary]:
    """A room's meetings the subject may see, earliest first (filtered in SQL: hidden ones are never listed
    or counted)."""
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
        title, destroyed, failed = "", False, False
        try:
            title = meeting_text(session, opened, "title")
        except KeyDestroyed:
            destroyed = True  # the room's keys were shredded: listed as destroyed, as documents are
        except IntegrityError:
            failed = True  # one altered row must not take the room page down (the keyring audited it)
        summaries.append(
            MeetingSummary(
                meeting.id,
                title,
                meeting.starts_at,
                meeting.duration_minutes,
                meeting.level,
                meeting.status == MeetingStatus.CANCELLED,
                meeting.convened_at is not None,
                destroyed,
                failed,
            )
        )
    return summaries


@dataclass(frozen=True)
class RoomMeetings:
    upcoming: list[MeetingSummary]
    #: Most recent first.
    past: list[MeetingSummary]


def room_meetings(session: Session, subject: Subject, room_id: uuid.UUID, now: datetime) -> RoomMeetings:
    """The room page's meetings: those not yet over (soonest first) and those over (latest first)."""
    listed = list_meetings(session, subject, room_id)
    return RoomMeetings(
        [m for m in listed if m.ends_at >= now],
        sorted((m for m in listed if m.ends_at < now), key=lambda m: m.starts_at, reverse=True),
    )
