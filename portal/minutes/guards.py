"""What every change of the minutes checks first: the steward's right, that the minutes and the portion
are these meeting's, the state, and the version the change started from; and how a change is audited."""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.meetings import access
from portal.meetings.access import OpenedMeeting
from portal.minutes.models import Minutes, MinutesState, Portion
from portal.minutes.service import StaleMinutes, StepRefused, minutes_of, not_found, overall_marking, texts_at
from portal.security import policy
from portal.security.policy import Subject


def require_steward(session: Session, subject: Subject, meeting_id: uuid.UUID, rule: str) -> OpenedMeeting:
    """A change by the room's stewards (chair or secretariat members): 404 for a meeting one may not see,
    403 (audited) for one seen but not run by the subject."""
    return access.require_meeting(
        session, subject, meeting_id, decide=lambda s, _m, room: policy.decide_manage_meeting(s, room, rule)
    )


def require_minutes(session: Session, subject: Subject, opened: OpenedMeeting) -> Minutes:
    minutes = minutes_of(session, opened.meeting.id)
    if minutes is None:
        not_found(session, subject, opened.meeting.id)
        raise AssertionError("unreachable")
    return minutes


def require_portion(session: Session, subject: Subject, minutes: Minutes, portion_id: uuid.UUID) -> Portion:
    """A portion of *these* minutes; any other id (another meeting's portion) answers 404, audited."""
    portion = session.get(Portion, portion_id)
    if portion is None or portion.minutes_id != minutes.id:
        not_found(session, subject, portion_id)
        raise AssertionError("unreachable")
    return portion


def require_state(minutes: Minutes, *allowed: MinutesState, refusal: str) -> None:
    if minutes.state not in allowed:
        raise StepRefused(refusal)


def claim(session: Session, minutes: Minutes, base_version: int) -> None:
    """Take the next version of the minutes, or raise :class:`StaleMinutes`. One conditional UPDATE: of two
    changes started from the same version, exactly one goes through, on SQLite and PostgreSQL alike."""
    result = session.execute(
        update(Minutes)
        .where(Minutes.id == minutes.id, Minutes.version == base_version)
        .values(version=Minutes.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(minutes, ["version"])
        raise StaleMinutes(minutes.version)
    session.refresh(minutes, ["version", "updated_at"])


def record_step(
    session: Session, subject: Subject, action: str, minutes: Minutes, detail: dict[str, object] | None = None
) -> None:
    """Audit a change of the minutes with the level of the working revision (never any content)."""
    level = overall_marking(texts_at(minutes, minutes.revision)).level
    policy.record_change(
        session, subject, action, object_type="minutes", object_id=minutes.id, level=level,
        detail={"meeting": str(minutes.meeting_id), "revision": minutes.revision, **(detail or {})},
    )  # fmt: skip
