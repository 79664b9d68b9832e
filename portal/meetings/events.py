"""What happened to a meeting that members should hear about: the one place meeting events are collected.

The services of the meetings feature never send anything. Each change that members are to be told of adds a
:class:`MeetingEvent` to its database session (``session.info["meeting_events"]``) and also returns it or
the changed meeting. Whoever sends notifications takes them after the commit::

    session.commit()
    for event in events.take(session):
        notify(event)            # room + kind + link only: no content above PUBLIC

A rollback discards the pending events (a refused or failed change announces nothing).

Kinds:
- ``agenda_published``: the agenda's first publication (revision 1);
- ``meeting_convened``: a meeting convened at short notice (招集) in a rapid-response room;
- ``meeting_changed``: the meeting's date, time, place, length or level changed, it was cancelled, or the
  published agenda changed (a new revision).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import event
from sqlalchemy.orm import Session

EventKind = Literal["agenda_published", "meeting_convened", "meeting_changed"]
SESSION_KEY = "meeting_events"


@dataclass(frozen=True)
class MeetingEvent:
    kind: EventKind
    meeting_id: uuid.UUID
    room_id: uuid.UUID


def record(session: Session, kind: EventKind, meeting_id: uuid.UUID, room_id: uuid.UUID) -> MeetingEvent:
    """Note an event on the session (kept until taken or rolled back) and return it."""
    happened = MeetingEvent(kind, meeting_id, room_id)
    events: list[MeetingEvent] = session.info.setdefault(SESSION_KEY, [])
    if happened not in events:  # two changes in one request announce once
        events.append(happened)
    return happened


def pending(session: Session) -> list[MeetingEvent]:
    """The events noted so far (not removed)."""
    return list(session.info.get(SESSION_KEY, []))


def take(session: Session) -> list[MeetingEvent]:
    """The events noted so far, removed from the session (call after the commit)."""
    return list(session.info.pop(SESSION_KEY, []))


@event.listens_for(Session, "after_rollback")
def _discard_on_rollback(session: Session, *_args: Any) -> None:
    session.info.pop(SESSION_KEY, None)
