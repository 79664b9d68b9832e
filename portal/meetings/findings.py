"""Findings (所見・結論) and action items of a meeting: every way they come to exist or change, and who may.

The room's stewards (its chair, or a secretariat member of the room) post, edit and delete findings and
action items, each under its own marking (``parts.require_mark``). An action item's owner, or a steward,
changes its status. The owner of a new action item, or its new owner, is told by e-mail
(:mod:`portal.notifications`: the room, the kind of event and a link, never the item). Each part is read
under ``policy.decide_read_part``: a reader who may not read it meets a withheld line (see
:mod:`portal.meetings.followup_read`), and its sealed text is never opened for them.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal import notifications
from portal.accounts.models import User
from portal.db import utcnow
from portal.meetings.access import OpenedMeeting, open_part, require_meeting, require_part, seal_part
from portal.meetings.forms import PartMarkingInput
from portal.meetings.models import ActionItem, ActionStatus, AgendaItem, Finding
from portal.meetings.parts import apply_marking, require_mark
from portal.rooms import service as rooms
from portal.security import policy
from portal.security.policy import Grant, Subject

BODY_MAX = 20_000
TITLE_MAX = 500


class FollowupRefused(Exception):
    """A finding or action item that cannot be saved as asked; ``code`` is translated by the view.

    AGENDA_ITEM_UNKNOWN (not an item of this meeting the author may read), FINDING_UNKNOWN (likewise for a
    finding), OWNER_NOT_MEMBER (the owner holds no seat in the room), OWNER_CANNOT_READ (the owner could
    not read the item under its marking), EMPTY_TEXT."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class FindingConflict(Exception):
    """The finding changed since the editor opened it; nothing was saved."""

    def __init__(self, current_body: str, current_digest: str) -> None:
        super().__init__("finding changed")
        self.current_body = current_body
        self.current_digest = current_digest


class ActionConflict(Exception):
    """The action item changed since the page was shown (its version moved on); nothing was saved."""

    def __init__(self, item: ActionItem, current_title: str) -> None:
        super().__init__("action item changed")
        self.item = item
        self.current_title = current_title


@dataclass(frozen=True)
class FindingInput:
    body: str
    agenda_item_id: uuid.UUID | None
    marking: PartMarkingInput


@dataclass(frozen=True)
class ActionInput:
    title: str
    owner_id: uuid.UUID
    due_on: date | None
    status: ActionStatus
    finding_id: uuid.UUID | None
    marking: PartMarkingInput


def finding_digest(finding: Finding) -> str:
    """Stands for the finding's current state in an edit form (every save re-seals it, so it changes)."""
    return hashlib.sha256(bytes(finding.body_sealed)).hexdigest()


# --- loading a part of this meeting -----------------------------------------------------------------


def _not_found(session: Session, subject: Subject, rule: str, object_type: str, object_id: object) -> None:
    """A part asked for by an id that is not one of this meeting's: audited, and answered as absent."""
    policy.require(
        session, subject, policy.deny(rule, "NOT_FOUND"), object_type=object_type, object_id=object_id,
        conceal=True,
    )  # fmt: skip


def finding_of(
    session: Session, subject: Subject, opened: OpenedMeeting, finding_id: uuid.UUID, rule: str
) -> tuple[Finding, Grant]:
    """A finding of this meeting that the subject may read (otherwise 404, audited)."""
    finding = session.get(Finding, finding_id)
    if finding is None or finding.meeting_id != opened.meeting.id:
        _not_found(session, subject, rule, "finding", finding_id)
    assert finding is not None
    grant = require_part(session, subject, opened.room.id, finding, object_type="finding", rule=rule)
    return finding, grant


def action_of(
    session: Session, subject: Subject, opened: OpenedMeeting, action_id: uuid.UUID, rule: str
) -> tuple[ActionItem, Grant]:
    """An action item of this meeting that the subject may read (otherwise 404, audited)."""
    item = session.get(ActionItem, action_id)
    if item is None or item.meeting_id != opened.meeting.id:
        _not_found(session, subject, rule, "action_item", action_id)
    assert item is not None
    grant = require_part(session, subject, opened.room.id, item, object_type="action_item", rule=rule)
    return item, grant


def _check_agenda_item(
    session: Session, subject: Subject, opened: OpenedMeeting, agenda_item_id: uuid.UUID | None
) -> None:
    if agenda_item_id is None:
        return
    item = session.get(AgendaItem, agenda_item_id)
    if (
        item is None
        or item.meeting_id != opened.meeting.id
        or item.removed_at is not None
        or not policy.decide_read_part(subject, opened.room.id, item, "agenda.read").allowed
    ):
        raise FollowupRefused("AGENDA_ITEM_UNKNOWN")


def _check_finding(
    session: Session, subject: Subject, opened: OpenedMeeting, finding_id: uuid.UUID | None
) -> None:
    if finding_id is None:
        return
    finding = session.get(Finding, finding_id)
    if (
        finding is None
        or finding.meeting_id != opened.meeting.id
        or not policy.decide_read_part(subject, opened.room.id, finding, "finding.read").allowed
    ):
        raise FollowupRefused("FINDING_UNKNOWN")


def _require_manage(session: Session, subject: Subject, opened: OpenedMeeting, rule: str) -> None:
    """Deleting: as for posting, without a new marking (a refusal is audited and answers 403)."""
    decision = policy.decide_manage_meeting(subject, opened.room, rule)
    policy.require(session, subject, decision, object_type="meeting", object_id=opened.meeting.id)


# --- findings -------------------------------------------------------------------------------------


def _clean_body(body: str) -> str:
    cleaned = body.strip()
    if not cleaned:
        raise FollowupRefused("EMPTY_TEXT")
    return cleaned[:BODY_MAX]


def create_finding(session: Session, subject: Subject, meeting_id: uuid.UUID, new: FindingInput) -> Finding:
    opened = require_meeting(session, subject, meeting_id)
    finding = Finding(id=uuid.uuid4(), meeting_id=meeting_id, created_by_id=subject.user_id)
    grant = require_mark(
        session, subject, opened.room, new.marking, rule="finding.create", object_type="finding",
        object_id=finding.id,
    )  # fmt: skip
    body = _clean_body(new.body)
    _check_agenda_item(session, subject, opened, new.agenda_item_id)
    finding.agenda_item_id = new.agenda_item_id
    last = session.scalar(select(func.max(Finding.position)).where(Finding.meeting_id == meeting_id))
    finding.position = (last or 0) + 1
    apply_marking(session, subject, grant, finding, opened.room.id, new.marking)
    seal_part(session, grant, finding, opened.room.id, {"body": body})
    session.add(finding)
    session.flush()
    policy.record_change(
        session, subject, "finding.create", object_type="finding", object_id=finding.id, level=finding.level,
        detail={"meeting": str(meeting_id), "caveats": sorted(finding.caveat_codes)},
    )  # fmt: skip
    return finding


def edit_finding(
    session: Session,
    subject: Subject,
    meeting_id: uuid.UUID,
    finding_id: uuid.UUID,
    change: FindingInput,
    base_digest: str,
) -> Finding:
    """Re-mark and re-word a finding. An edit based on an older state raises :class:`FindingConflict`."""
    opened = require_meeting(session, subject, meeting_id)
    finding, read_grant = finding_of(session, subject, opened, finding_id, "finding.edit")
    grant = require_mark(
        session, subject, opened.room, change.marking, rule="finding.edit", object_type="finding",
        object_id=finding.id,
    )  # fmt: skip
    if base_digest != finding_digest(finding):
        raise FindingConflict(open_part(session, read_grant, finding, "body"), finding_digest(finding))
    body = _clean_body(change.body)
    _check_agenda_item(session, subject, opened, change.agenda_item_id)
    before = finding.level
    finding.agenda_item_id = change.agenda_item_id
    apply_marking(session, subject, grant, finding, opened.room.id, change.marking)
    seal_part(session, grant, finding, opened.room.id, {"body": body})
    session.flush()
    policy.record_change(
        session, subject, "finding.edit", object_type="finding", object_id=finding.id, level=finding.level,
        detail={"from_level": int(before), "caveats": sorted(finding.caveat_codes)},
    )  # fmt: skip
    return finding


def delete_finding(session: Session, subject: Subject, meeting_id: uuid.UUID, finding_id: uuid.UUID) -> None:
    """A steward who reads the finding deletes it; its action items stay, no longer tied to it."""
    opened = require_meeting(session, subject, meeting_id)
    finding, _grant = finding_of(session, subject, opened, finding_id, "finding.delete")
    _require_manage(session, subject, opened, "finding.delete")
    session.execute(update(ActionItem).where(ActionItem.finding_id == finding.id).values(finding_id=None))
    level = finding.level
    session.delete(finding)
    session.flush()
    policy.record_change(
        session, subject, "finding.delete", object_type="finding", object_id=finding_id, level=level,
        detail={"meeting": str(meeting_id)},
    )  # fmt: skip


# --- action items ---------------------------------------------------------------------------------


def _assign(
    session: Session, opened: OpenedMeeting, item: ActionItem, owner_id: uuid.UUID, now: datetime
) -> None:
    """The owner holds a seat in the room now and could read the item under its marking (else they would
    own something they only see withheld)."""
    seats = {member.user_id for member in rooms.current_members(session, opened.room.id, now)}
    owner = session.get(User, owner_id)
    if owner is None or owner_id not in seats:
        raise FollowupRefused("OWNER_NOT_MEMBER")
    owner_subject = policy.load_subject(session, owner, now)
    if not policy.decide_read_part(owner_subject, opened.room.id, item, "action.read").allowed:
        raise FollowupRefused("OWNER_CANNOT_READ")
    item.owner_id = owner_id


def _clean_title(title: str) -> str:
    cleaned = " ".join(title.split())
    if not cleaned:
        raise FollowupRefused("EMPTY_TEXT")
    return cleaned[:TITLE_MAX]


def create_action(
    session: Session, subject: Subject, meeting_id: uuid.UUID, new: ActionInput, now: datetime | None = None
) -> ActionItem:
    now = now or utcnow()
    opened = require_meeting(session, subject, meeting_id)
    item = ActionItem(id=uuid.uuid4(), meeting_id=meeting_id, created_by_id=subject.user_id, version=1)
    grant = require_mark(
        session, subject, opened.room, new.marking, rule="action.create", object_type="action_item",
        object_id=item.id,
    )  # fmt: skip
    title = _clean_title(new.title)
    _check_finding(session, subject, opened, new.finding_id)
    apply_marking(session, subject, grant, item, opened.room.id, new.marking)
    _assign(session, opened, item, new.owner_id, now)
    item.finding_id = new.finding_id
    item.due_on = new.due_on
    item.status = new.status
    item.created_at = item.updated_at = now
    seal_part(session, grant, item, opened.room.id, {"title": title})
    session.add(item)
    session.flush()
    policy.record_change(
        session, subject, "action.create", object_type="action_item", object_id=item.id, level=item.level,
        detail={"meeting": str(meeting_id), "owner": str(item.owner_id), "status": item.status.value},
    )  # fmt: skip
    _tell_owner(session, subject, item)
    return item


def _tell_owner(session: Session, subject: Subject, item: ActionItem) -> None:
    """The owner alone hears that the item is theirs (once the transaction commits)."""
    notifications.queue(
        session, subject, notifications.EventKind.ACTION_ASSIGNED, item.meeting_id,
        recipient_ids={item.owner_id},
    )  # fmt: skip


def _conflict_unless(session: Session, item: ActionItem, grant: Grant, base_version: int) -> None:
    if item.version != base_version:
        raise ActionConflict(item, open_part(session, grant, item, "title"))


def edit_action(
    session: Session,
    subject: Subject,
    meeting_id: uuid.UUID,
    action_id: uuid.UUID,
    change: ActionInput,
    base_version: int,
    now: datetime | None = None,
) -> ActionItem:
    now = now or utcnow()
    opened = require_meeting(session, subject, meeting_id)
    item, read_grant = action_of(session, subject, opened, action_id, "action.edit")
    grant = require_mark(
        session, subject, opened.room, change.marking, rule="action.edit", object_type="action_item",
        object_id=item.id,
    )  # fmt: skip
    _conflict_unless(session, item, read_grant, base_version)
    title = _clean_title(change.title)
    _check_finding(session, subject, opened, change.finding_id)
    before, previous_owner = item.level, item.owner_id
    apply_marking(session, subject, grant, item, opened.room.id, change.marking)
    _assign(session, opened, item, change.owner_id, now)
    item.finding_id = change.finding_id
    item.due_on = change.due_on
    item.status = change.status
    item.updated_at = now
    item.version += 1
    seal_part(session, grant, item, opened.room.id, {"title": title})
    session.flush()
    policy.record_change(
        session, subject, "action.edit", object_type="action_item", object_id=item.id, level=item.level,
        detail={"from_level": int(before), "owner": str(item.owner_id), "status": item.status.value},
    )  # fmt: skip
    if item.owner_id != previous_owner:
        _tell_owner(session, subject, item)
    return item


def change_status(
    session: Session,
    subject: Subject,
    meeting_id: uuid.UUID,
    action_id: uuid.UUID,
    status: ActionStatus,
    base_version: int,
    now: datetime | None = None,
) -> ActionItem:
    """The owner, or a steward, moves an action item between open, in progress and done. A change based
    on an older version raises :class:`ActionConflict`; a refusal is audited (403)."""
    opened = require_meeting(session, subject, meeting_id)
    item, grant = action_of(session, subject, opened, action_id, "action.status")
    policy.require(
        session, subject, policy.decide_change_action_status(subject, opened.room, item),
        object_type="action_item", object_id=item.id, level=item.level,
    )  # fmt: skip
    _conflict_unless(session, item, grant, base_version)
    before = item.status
    item.status = status
    item.updated_at = now or utcnow()
    item.version += 1
    session.flush()
    policy.record_change(
        session, subject, "action.status", object_type="action_item", object_id=item.id, level=item.level,
        detail={"from": before.value, "to": status.value},
    )  # fmt: skip
    return item


def delete_action(session: Session, subject: Subject, meeting_id: uuid.UUID, action_id: uuid.UUID) -> None:
    opened = require_meeting(session, subject, meeting_id)
    item, _grant = action_of(session, subject, opened, action_id, "action.delete")
    _require_manage(session, subject, opened, "action.delete")
    level = item.level
    session.delete(item)
    session.flush()
    policy.record_change(
        session, subject, "action.delete", object_type="action_item", object_id=action_id, level=level,
        detail={"meeting": str(meeting_id)},
    )  # fmt: skip
