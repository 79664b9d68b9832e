"""Loading a meeting under the policy, and reading or sealing the text of its parts.

Every module of the meetings feature (agenda, attendance, findings, minutes, exports, calendar) goes through
here: a meeting the subject may not see answers as if it did not exist; a part the subject may not read is a
:class:`PartView` without text (a withheld line), and its sealed fields are never opened.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.orm import Session

from portal.meetings.marking import PartMarking
from portal.meetings.models import Meeting
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.crypto import FieldContext
from portal.security.keyring import keyring_of
from portal.security.policy import Decision, Grant, Subject


class SealedPart(Protocol):
    """A row with sealed columns named ``<column>_sealed`` and a ``field_context(column)``."""

    id: uuid.UUID

    def field_context(self, column: str) -> FieldContext: ...


PartT = TypeVar("PartT", bound=PartMarking)


@dataclass(frozen=True)
class OpenedMeeting:
    meeting: Meeting
    room: Subcommittee
    grant: Grant


def require_meeting(
    session: Session,
    subject: Subject,
    meeting_id: uuid.UUID,
    decide: Callable[[Subject, Meeting, Subcommittee], Decision] | None = None,
) -> OpenedMeeting:
    """Load a meeting and enforce a decision on it (default: seeing it). A meeting the subject may not see
    answers 404 (audited); one they see but may not act on this way answers 403 (audited)."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise policy.AccessDenied(policy.deny("meeting.read", "NOT_FOUND"), conceal=True)
    room = session.get(Subcommittee, meeting.subcommittee_id)
    assert room is not None
    seen = policy.decide_see_meeting(subject, meeting)
    decision = decide(subject, meeting, room) if decide is not None and seen.allowed else seen
    grant = policy.require(
        session, subject, decision, object_type="meeting", object_id=meeting.id, level=meeting.level,
        conceal=not seen.allowed,
    )  # fmt: skip
    return OpenedMeeting(meeting, room, grant)


def meeting_text(session: Session, opened: OpenedMeeting, column: str) -> str:
    meeting = opened.meeting
    return keyring_of(session).open(
        session, opened.grant, meeting.field_context(column), getattr(meeting, f"{column}_sealed")
    )


@dataclass(frozen=True)
class PartView(Generic[PartT]):
    """A part as one reader meets it: with a grant to open its text, or withheld (``grant is None``)."""

    part: PartT
    decision: Decision
    grant: Grant | None

    @property
    def readable(self) -> bool:
        return self.grant is not None


def view_parts(
    session: Session,
    subject: Subject,
    room_id: uuid.UUID,
    parts: Iterable[PartT],
    *,
    object_type: str,
    rule: str,
) -> list[PartView[PartT]]:
    """Decide each part for this reader. Readable parts get a grant (reads at CONFIDENTIAL and above are
    audited, as for documents); the others are withheld without an audit entry, as a list hides what it
    filters (the withheld line says only that something is there)."""
    views: list[PartView[PartT]] = []
    for part in parts:
        decision = policy.decide_read_part(subject, room_id, part, rule)
        grant = None
        if decision.allowed:
            grant = policy.require(
                session, subject, decision, object_type=object_type, object_id=part.id, level=part.level
            )
        views.append(PartView(part, decision, grant))
    return views


def require_part(
    session: Session,
    subject: Subject,
    room_id: uuid.UUID,
    part: PartT,
    *,
    object_type: str,
    rule: str,
) -> Grant:
    """One part that the subject asked for by its id: a denial is audited and answers 404."""
    decision = policy.decide_read_part(subject, room_id, part, rule)
    return policy.require(
        session, subject, decision, object_type=object_type, object_id=part.id, level=part.level, conceal=True
    )


def open_part(session: Session, grant: Grant, part: SealedPart, column: str) -> str:
    sealed = getattr(part, f"{column}_sealed")
    return keyring_of(session).open(session, grant, part.field_context(column), sealed)


def seal_part(
    session: Session, grant: Grant, part: SealedPart, room_id: uuid.UUID, values: dict[str, str]
) -> None:
    """Seal several columns of one row (its id and level must be set first)."""
    keyring = keyring_of(session)
    for column, text in values.items():
        sealed = keyring.seal(session, grant, part.field_context(column), text, room_id)
        setattr(part, f"{column}_sealed", sealed)


def grant_to_write(subject: Subject, decision: Decision, object_type: str, object_id: uuid.UUID) -> Grant:
    """The grant that seals a new or changed part, from a write decision already enforced by ``require``."""
    return policy.grant_from(decision, subject, object_type, object_id)


def texts(session: Session, view: PartView[Any], columns: Sequence[str]) -> dict[str, str] | None:
    """The opened columns of a readable part; None for a withheld one (never opened)."""
    if view.grant is None:
        return None
    return {column: open_part(session, view.grant, view.part, column) for column in columns}
