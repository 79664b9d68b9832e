"""Countermeasure options (対応策) of a rapid-response room: proposing, the list and one option as a reader
meets them, and status changes with their history.

Any member whose seat writes proposes an option (as for situation reports). The room's stewards (its chair,
or a secretariat member of the room) move it between proposed, under study, adopted and rejected; a change
based on an older version raises :class:`CountermeasureConflict` (409). Adopted is final. Adopting creates
at least one action item through :func:`portal.meetings.findings.create_action` (so the meetings' policy,
sealing and notifications apply), in a meeting of the room the steward chooses, under the countermeasure's
own marking, tied to a linked finding of that meeting when there is one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.db import utcnow
from portal.meetings import findings
from portal.meetings.access import (
    PartView,
    meeting_text,
    open_part,
    require_meeting,
    seal_part,
    texts,
    view_parts,
)
from portal.meetings.forms import PartMarkingInput
from portal.meetings.models import ActionItem, ActionStatus, Finding, Meeting
from portal.meetings.parts import apply_marking, current_marking
from portal.rooms import service as rooms
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.policy import Grant, Subject
from portal.situation.models import Countermeasure, CountermeasureStatus, CountermeasureTransition
from portal.situation.service import SituationRefused, clean, open_rapid_room, require_write

TITLE_MAX = 300
NOTE_MAX = 2_000
OPEN_STATUSES = (CountermeasureStatus.PROPOSED, CountermeasureStatus.UNDER_STUDY)
#: Where each status may go (adopted is final: its action items exist).
NEXT = {
    CountermeasureStatus.PROPOSED: {
        CountermeasureStatus.UNDER_STUDY, CountermeasureStatus.ADOPTED, CountermeasureStatus.REJECTED,
    },
    CountermeasureStatus.UNDER_STUDY: {
        CountermeasureStatus.PROPOSED, CountermeasureStatus.ADOPTED, CountermeasureStatus.REJECTED,
    },
    CountermeasureStatus.REJECTED: {CountermeasureStatus.PROPOSED, CountermeasureStatus.UNDER_STUDY},
    CountermeasureStatus.ADOPTED: set(),
}  # fmt: skip


class CountermeasureConflict(Exception):
    """The countermeasure's status changed since the page was shown; nothing was saved."""

    def __init__(self, item: Countermeasure) -> None:
        super().__init__("countermeasure changed")
        self.item = item


@dataclass(frozen=True)
class NewCountermeasure:
    title: str
    description: str
    owner_id: uuid.UUID
    finding_ids: frozenset[uuid.UUID]
    marking: PartMarkingInput


@dataclass(frozen=True)
class AdoptionAction:
    """An action item that adopting creates."""

    title: str
    owner_id: uuid.UUID
    due_on: date
    meeting_id: uuid.UUID


# --- findings a countermeasure may link -------------------------------------------------------------


@dataclass(frozen=True)
class FindingChoice:
    id: uuid.UUID
    meeting_id: uuid.UUID
    label: str


def readable_findings(session: Session, subject: Subject, room: Subcommittee) -> list[FindingChoice]:
    """Findings of the room's meetings that the subject sees and may read (a meeting they may not see
    is left out with its findings)."""
    meetings = session.scalars(
        select(Meeting)
        .where(Meeting.subcommittee_id == room.id, policy.visible_meetings(subject))
        .order_by(Meeting.starts_at)
    ).all()
    choices: list[FindingChoice] = []
    for meeting in meetings:
        rows = session.scalars(
            select(Finding).where(Finding.meeting_id == meeting.id).order_by(Finding.position)
        ).all()
        views = view_parts(session, subject, room.id, rows, object_type="finding", rule="finding.read")
        title = meeting_title(session, subject, meeting) if views else ""
        for number, view in enumerate(views, start=1):
            opened = texts(session, view, ("body",))
            if opened is None:
                continue
            summary = " ".join(opened["body"].replace("*", "").split())
            summary = summary[:40] + ("…" if len(summary) > 40 else "")
            choices.append(FindingChoice(view.part.id, meeting.id, f"{title} — {number}. {summary}"))
    return choices


def meeting_title(session: Session, subject: Subject, meeting: Meeting) -> str:
    opened = require_meeting(session, subject, meeting.id)
    return meeting_text(session, opened, "title")


def room_meetings(session: Session, subject: Subject, room: Subcommittee) -> list[tuple[uuid.UUID, str]]:
    """The room's meetings the subject sees (for the adoption form), newest first."""
    meetings = session.scalars(
        select(Meeting)
        .where(Meeting.subcommittee_id == room.id, policy.visible_meetings(subject))
        .order_by(Meeting.starts_at.desc())
    ).all()
    return [(meeting.id, meeting_title(session, subject, meeting)) for meeting in meetings]


# --- proposing --------------------------------------------------------------------------------------


def _check_owner(session: Session, room: Subcommittee, item: Countermeasure, owner_id: uuid.UUID) -> None:
    seats = {member.user_id for member in rooms.current_members(session, room.id, utcnow())}
    owner = session.get(User, owner_id)
    if owner is None or owner_id not in seats:
        raise SituationRefused("OWNER_NOT_MEMBER")
    owner_subject = policy.load_subject(session, owner, utcnow())
    if not policy.decide_read_part(owner_subject, room.id, item, "countermeasure.read").allowed:
        raise SituationRefused("OWNER_CANNOT_READ")


def propose(
    session: Session,
    subject: Subject,
    room_id: uuid.UUID,
    new: NewCountermeasure,
    now: datetime | None = None,
) -> Countermeasure:
    now = now or utcnow()
    room = open_rapid_room(session, subject, room_id)
    item = Countermeasure(
        id=uuid.uuid4(), subcommittee_id=room.id, created_by_id=subject.user_id, version=1,
        status=CountermeasureStatus.PROPOSED, created_at=now, updated_at=now,
    )  # fmt: skip
    grant = require_write(
        session, subject, room, new.marking, rule="countermeasure.create", object_type="countermeasure",
        object_id=item.id,
    )  # fmt: skip
    title = " ".join(clean(new.title, TITLE_MAX).split())
    description = clean(new.description)
    allowed = {choice.id for choice in readable_findings(session, subject, room)}
    if not new.finding_ids <= allowed:
        raise SituationRefused("FINDING_UNKNOWN")
    item.finding_ids_text = " ".join(sorted(str(value) for value in new.finding_ids))
    apply_marking(session, subject, grant, item, room.id, new.marking)
    _check_owner(session, room, item, new.owner_id)
    item.owner_id = new.owner_id
    seal_part(session, grant, item, room.id, {"title": title, "description": description})
    session.add(item)
    session.flush()
    session.add(
        CountermeasureTransition(
            countermeasure_id=item.id, from_status=None, to_status=item.status, by_id=subject.user_id, at=now,
            level=item.level,
        )
    )  # fmt: skip
    policy.record_change(
        session, subject, "countermeasure.create", object_type="countermeasure", object_id=item.id,
        level=item.level, detail={"room": str(room.id), "owner": str(item.owner_id)},
    )  # fmt: skip
    return item


# --- reading ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountermeasureForReader:
    item: Countermeasure
    texts: dict[str, str] | None
    owner_name: str | None

    @property
    def readable(self) -> bool:
        return self.texts is not None


def _names(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()
    return {row[0]: row[1] for row in rows}


def for_reader(
    session: Session, subject: Subject, room: Subcommittee, views: list[PartView[Countermeasure]]
) -> list[CountermeasureForReader]:
    names = _names(session, {view.part.owner_id for view in views if view.readable})
    return [
        CountermeasureForReader(
            view.part, texts(session, view, ("title", "description")),
            names.get(view.part.owner_id) if view.readable else None,
        )
        for view in views
    ]  # fmt: skip


def list_countermeasures(
    session: Session, subject: Subject, room: Subcommittee
) -> list[CountermeasureForReader]:
    """Every option of the room as this reader meets it, newest first (withheld lines without text)."""
    rows = session.scalars(
        select(Countermeasure)
        .where(Countermeasure.subcommittee_id == room.id)
        .order_by(Countermeasure.created_at.desc())
    ).all()
    views = view_parts(
        session, subject, room.id, rows, object_type="countermeasure", rule="countermeasure.read"
    )
    return for_reader(session, subject, room, views)


@dataclass(frozen=True)
class TransitionForReader:
    transition: CountermeasureTransition
    by_name: str
    note: str | None


@dataclass(frozen=True)
class OpenedCountermeasure:
    room: Subcommittee
    item: Countermeasure
    grant: Grant
    title: str
    description: str
    owner_name: str
    history: list[TransitionForReader]
    findings: list[FindingChoice]
    #: The action items adopting created, as this reader meets them: (meeting id, title or None if withheld).
    actions: list[tuple[uuid.UUID, str | None]]


def countermeasure_of(
    session: Session, subject: Subject, room: Subcommittee, item_id: uuid.UUID, rule: str
) -> tuple[Countermeasure, Grant]:
    """A countermeasure of this room the subject may read; any other id answers 404 (audited)."""
    item = session.get(Countermeasure, item_id)
    if item is None or item.subcommittee_id != room.id:
        policy.require(
            session, subject, policy.deny(rule, "NOT_FOUND"), object_type="countermeasure", object_id=item_id,
            conceal=True,
        )  # fmt: skip
    assert item is not None
    decision = policy.decide_read_part(subject, room.id, item, rule)
    grant = policy.require(
        session, subject, decision, object_type="countermeasure", object_id=item.id, level=item.level,
        conceal=True,
    )  # fmt: skip
    return item, grant


def open_countermeasure(
    session: Session, subject: Subject, room_id: uuid.UUID, item_id: uuid.UUID
) -> OpenedCountermeasure:
    room = open_rapid_room(session, subject, room_id)
    item, grant = countermeasure_of(session, subject, room, item_id, "countermeasure.read")
    transitions = session.scalars(
        select(CountermeasureTransition)
        .where(CountermeasureTransition.countermeasure_id == item.id)
        .order_by(CountermeasureTransition.at, CountermeasureTransition.id)
    ).all()
    names = _names(session, {t.by_id for t in transitions} | {item.owner_id})
    history = [
        TransitionForReader(
            t, names.get(t.by_id, "?"), open_part(session, grant, t, "note") if t.note_sealed else None
        )
        for t in transitions
    ]
    linked = set(item.finding_ids)
    readable = [c for c in readable_findings(session, subject, room) if c.id in linked]
    action_ids = [uuid.UUID(v) for t in transitions for v in t.action_ids_text.split()]
    rows = (
        session.scalars(select(ActionItem).where(ActionItem.id.in_(action_ids))).all() if action_ids else []
    )
    actions = [
        (
            view.part.meeting_id,
            None if view.grant is None else open_part(session, view.grant, view.part, "title"),
        )
        for view in view_parts(session, subject, room.id, rows, object_type="action_item", rule="action.read")
    ]
    return OpenedCountermeasure(
        room, item, grant, open_part(session, grant, item, "title"),
        open_part(session, grant, item, "description"), names.get(item.owner_id, "?"), history, readable,
        actions,
    )  # fmt: skip


# --- changing the status ----------------------------------------------------------------------------


def change_status(
    session: Session,
    subject: Subject,
    room_id: uuid.UUID,
    item_id: uuid.UUID,
    to_status: CountermeasureStatus,
    note: str,
    base_version: int,
    adoption: list[AdoptionAction] | None = None,
    now: datetime | None = None,
) -> list[ActionItem]:
    """Move a countermeasure (a steward who reads it; refusals audited, 403). Adopting needs at least one
    action item, made in a meeting of the room; returns the action items made."""
    now = now or utcnow()
    room = open_rapid_room(session, subject, room_id)
    item, grant = countermeasure_of(session, subject, room, item_id, "countermeasure.status")
    policy.require(
        session, subject, policy.decide_change_countermeasure(subject, room, item),
        object_type="countermeasure", object_id=item.id, level=item.level,
    )  # fmt: skip
    if item.version != base_version:
        raise CountermeasureConflict(item)
    if to_status not in NEXT[item.status]:
        raise SituationRefused("STATUS_NOT_ALLOWED")
    made: list[ActionItem] = []
    if to_status == CountermeasureStatus.ADOPTED:
        if not adoption:
            raise SituationRefused("ADOPTION_NEEDS_ACTION")
        made = [_adoption_action(session, subject, room, item, grant, action, now) for action in adoption]
    before = item.status
    item.status = to_status
    item.updated_at = now
    item.version += 1
    transition = CountermeasureTransition(
        id=uuid.uuid4(), countermeasure_id=item.id, from_status=before, to_status=to_status,
        by_id=subject.user_id, at=now, level=item.level,
        action_ids_text=" ".join(str(action.id) for action in made),
    )  # fmt: skip
    cleaned = note.strip()[:NOTE_MAX]
    if cleaned:
        seal_part(session, grant, transition, room.id, {"note": cleaned})
    session.add(transition)
    session.flush()
    policy.record_change(
        session, subject, "countermeasure.status", object_type="countermeasure", object_id=item.id,
        level=item.level, detail={"from": before.value, "to": to_status.value,
                                  "actions": [str(a.id) for a in made]},
    )  # fmt: skip
    return made


def _adoption_action(
    session: Session,
    subject: Subject,
    room: Subcommittee,
    item: Countermeasure,
    grant: Grant,
    action: AdoptionAction,
    now: datetime,
) -> ActionItem:
    meeting = session.get(Meeting, action.meeting_id)
    if meeting is None or meeting.subcommittee_id != room.id:
        raise SituationRefused("MEETING_UNKNOWN")
    finding_id = session.scalar(
        select(Finding.id).where(
            Finding.meeting_id == meeting.id,
            Finding.id.in_(item.finding_ids or [uuid.uuid4()]),
        )
    )
    try:
        return findings.create_action(
            session, subject, meeting.id,
            findings.ActionInput(
                action.title, action.owner_id, action.due_on, ActionStatus.OPEN, finding_id,
                current_marking(session, grant, item),
            ),
            now,
        )  # fmt: skip
    except findings.FollowupRefused as refused:
        raise SituationRefused(refused.code) from refused


def open_count_by_status(items: list[CountermeasureForReader]) -> dict[CountermeasureStatus, int]:
    counts = {status: 0 for status in CountermeasureStatus}
    for entry in items:
        counts[entry.item.status] += 1
    return counts
