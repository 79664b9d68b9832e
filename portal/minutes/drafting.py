"""Every way the draft of the minutes changes: started, portions added, edited, removed and moved.

Only the room's stewards draft (``policy.decide_manage_meeting``), and only while the working revision is a
draft. A steward changes only the portions they may read: a portion above them stays as it is (and where it
is). Each change names the version of the minutes it started from; a stale one is refused
(:class:`~portal.minutes.service.StaleMinutes`), never silently merged.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.meetings import access, parts
from portal.meetings.access import OpenedMeeting
from portal.meetings.forms import PartMarkingInput
from portal.minutes import guards, service
from portal.minutes.models import Minutes, MinutesRevision, MinutesState, Portion, PortionText
from portal.minutes.service import PORTION, POSITION_GAP, StepRefused
from portal.security import policy
from portal.security.policy import Grant, Marking, Subject


@dataclass(frozen=True)
class PortionInput:
    heading: str
    body: str
    marking: PartMarkingInput


def start_minutes(session: Session, subject: Subject, meeting_id: uuid.UUID) -> Minutes:
    """Open the minutes of a meeting as an empty draft, revision 1 (refused if they exist)."""
    opened = guards.require_steward(session, subject, meeting_id, "minutes.start")
    if service.minutes_of(session, meeting_id) is not None:
        raise StepRefused("ALREADY_STARTED")
    minutes = Minutes(id=uuid.uuid4(), meeting_id=opened.meeting.id, created_by_id=subject.user_id)
    minutes.revisions = [MinutesRevision(id=uuid.uuid4(), number=1, created_by_id=subject.user_id)]
    session.add(minutes)
    session.flush()
    guards.record_step(session, subject, "minutes.start", minutes)
    return minutes


def _open_draft(
    session: Session, subject: Subject, meeting_id: uuid.UUID, base_version: int, rule: str = "minutes.edit"
) -> tuple[OpenedMeeting, Minutes]:
    opened = guards.require_steward(session, subject, meeting_id, rule)
    minutes = guards.require_minutes(session, subject, opened)
    guards.require_state(minutes, MinutesState.DRAFT, refusal="NOT_DRAFT")
    guards.claim(session, minutes, base_version)
    return opened, minutes


def _current_text(
    session: Session, subject: Subject, opened: OpenedMeeting, minutes: Minutes, portion: Portion
) -> tuple[PortionText, Grant]:
    """The portion's text in the working revision, which the steward must be able to read (else 404)."""
    text = service.text_at(portion, minutes.revision)
    if text is None or text.removed:
        service.not_found(session, subject, portion.id, "minutes.edit")
        raise AssertionError("unreachable")
    grant = access.require_part(
        session, subject, opened.room.id, text, object_type=PORTION, rule="minutes.edit"
    )
    return text, grant


def _write(
    session: Session,
    subject: Subject,
    opened: OpenedMeeting,
    target: PortionText,
    new: PortionInput,
) -> None:
    """Mark and seal a portion's text (the marking first: its level is bound into the sealed values)."""
    grant = parts.require_mark(
        session,
        subject,
        opened.room,
        new.marking,
        rule="minutes.edit",
        object_type=PORTION,
        object_id=target.id,
    )
    parts.apply_marking(session, subject, grant, target, opened.room.id, new.marking)
    access.seal_part(
        session, grant, target, opened.room.id, {"heading": new.heading.strip(), "body": new.body}
    )
    target.written_by_id = subject.user_id
    target.written_at = utcnow()


def add_portion(
    session: Session, subject: Subject, meeting_id: uuid.UUID, base_version: int, new: PortionInput
) -> Portion:
    """Append a portion to the draft."""
    opened, minutes = _open_draft(session, subject, meeting_id, base_version)
    current = service.texts_at(minutes, minutes.revision)
    position = (max(text.position for text in current) if current else 0) + POSITION_GAP
    portion = Portion(id=uuid.uuid4(), minutes_id=minutes.id)
    text = PortionText(id=uuid.uuid4(), portion_id=portion.id, revision=minutes.revision, position=position)
    _write(session, subject, opened, text, new)
    portion.texts = [text]
    minutes.portions.append(portion)
    session.flush()
    guards.record_step(session, subject, "minutes.portion.add", minutes, {"portion": str(portion.id)})
    return portion


def edit_portion(
    session: Session,
    subject: Subject,
    meeting_id: uuid.UUID,
    portion_id: uuid.UUID,
    base_version: int,
    new: PortionInput,
) -> None:
    """Change a portion's heading, body or marking in the draft: its text of this revision is replaced, or
    written for this revision if the portion has not changed since the last one."""
    opened, minutes = _open_draft(session, subject, meeting_id, base_version)
    portion = guards.require_portion(session, subject, minutes, portion_id)
    text, _grant = _current_text(session, subject, opened, minutes, portion)
    if text.revision == minutes.revision:
        _write(session, subject, opened, text, new)
    else:
        text = PortionText(
            id=uuid.uuid4(), portion_id=portion.id, revision=minutes.revision, position=text.position
        )
        _write(session, subject, opened, text, new)
        portion.texts.append(text)  # only now: a half-made row must not be flushed by a query in _write
    session.flush()
    guards.record_step(session, subject, "minutes.portion.edit", minutes, {"portion": str(portion.id)})


@dataclass(frozen=True)
class EditablePortion:
    text: PortionText
    heading: str
    body: str
    marking: PartMarkingInput
    version: int


def portion_for_edit(
    session: Session, subject: Subject, meeting_id: uuid.UUID, portion_id: uuid.UUID
) -> EditablePortion:
    """A portion of the draft, opened for its edit form (steward, draft, readable)."""
    opened = guards.require_steward(session, subject, meeting_id, "minutes.edit")
    minutes = guards.require_minutes(session, subject, opened)
    portion = guards.require_portion(session, subject, minutes, portion_id)
    guards.require_state(minutes, MinutesState.DRAFT, refusal="NOT_DRAFT")
    text, grant = _current_text(session, subject, opened, minutes, portion)
    return EditablePortion(
        text,
        access.open_part(session, grant, text, "heading"),
        access.open_part(session, grant, text, "body"),
        parts.current_marking(session, grant, text),
        minutes.version,
    )


def _copy_forward(
    session: Session,
    subject: Subject,
    opened: OpenedMeeting,
    minutes: Minutes,
    text: PortionText,
    grant: Grant,
) -> PortionText:
    """The portion's text of an earlier revision, written again for the working one with the same marking
    (a move must not change who wrote or may export it). Sealed values are bound to their row, so the copy is
    opened and sealed again, under a decision that the steward may write this marking."""
    copy = PortionText(
        id=uuid.uuid4(),
        portion_id=text.portion_id,
        revision=minutes.revision,
        position=text.position,
        level=text.level,
        release=text.release,
        caveat_codes_text=text.caveat_codes_text,
        reader_ids_text=text.reader_ids_text,
        release_organization_ids_text=text.release_organization_ids_text,
        origin_organization_id=text.origin_organization_id,
        written_by_id=subject.user_id,
        written_at=utcnow(),
    )
    values = {column: access.open_part(session, grant, text, column) for column in ("heading", "body")}
    reason = (
        access.open_part(session, grant, text, "classification_reason")
        if text.classification_reason_sealed is not None
        else None
    )
    marking = Marking(text.level, text.caveat_codes, text.named_reader_ids, reason)
    decision = policy.decide_mark_part(subject, opened.room, marking, "minutes.edit")
    policy.require(session, subject, decision, object_type=PORTION, object_id=copy.id, level=text.level)
    write = policy.grant_from(decision, subject, PORTION, copy.id)
    if reason is not None:
        values["classification_reason"] = reason
    access.seal_part(session, write, copy, opened.room.id, values)
    portion = session.get(Portion, text.portion_id)
    assert portion is not None
    portion.texts.append(copy)
    return copy


def remove_portion(
    session: Session, subject: Subject, meeting_id: uuid.UUID, portion_id: uuid.UUID, base_version: int
) -> None:
    """Take a portion out of the draft. One written only in this draft is deleted outright; one from an
    earlier revision gets a removal for this revision (the earlier revisions keep it)."""
    opened, minutes = _open_draft(session, subject, meeting_id, base_version)
    portion = guards.require_portion(session, subject, minutes, portion_id)
    text, _grant = _current_text(session, subject, opened, minutes, portion)
    if all(t.revision == minutes.revision for t in portion.texts):
        minutes.portions.remove(portion)
        session.delete(portion)
    else:
        removal = text
        if text.revision != minutes.revision:
            removal = PortionText(
                id=uuid.uuid4(),
                portion_id=portion.id,
                revision=minutes.revision,
                position=text.position,
                level=text.level,
                release=text.release,
                caveat_codes_text=text.caveat_codes_text,
                reader_ids_text=text.reader_ids_text,
                release_organization_ids_text=text.release_organization_ids_text,
                origin_organization_id=text.origin_organization_id,
            )
        removal.removed = True
        removal.classification_reason_sealed = None
        steward = policy.decide_manage_meeting(subject, opened.room, "minutes.edit")  # enforced above
        write = policy.grant_from(steward, subject, PORTION, removal.id)
        access.seal_part(session, write, removal, opened.room.id, {"heading": "", "body": ""})
        removal.written_by_id = subject.user_id
        removal.written_at = utcnow()
        if removal is not text:
            portion.texts.append(removal)
    session.flush()
    guards.record_step(session, subject, "minutes.portion.remove", minutes, {"portion": str(portion_id)})


def move_portion(
    session: Session,
    subject: Subject,
    meeting_id: uuid.UUID,
    portion_id: uuid.UUID,
    base_version: int,
    direction: int,
) -> None:
    """Move a portion one place up (-1) or down (+1). Only the moved portion's position changes (positions
    are spaced); when two neighbours leave no room between them, the draft is renumbered, which needs every
    portion that moves to be one the steward may read or one already written in this draft."""
    opened, minutes = _open_draft(session, subject, meeting_id, base_version)
    portion = guards.require_portion(session, subject, minutes, portion_id)
    text, grant = _current_text(session, subject, opened, minutes, portion)
    order = service.texts_at(minutes, minutes.revision)
    index = next(i for i, t in enumerate(order) if t.id == text.id)
    target = index + (1 if direction > 0 else -1)
    if not 0 <= target < len(order):
        return  # already first or last: nothing to do (the version was still taken: the page reloads)
    rest = order[:index] + order[index + 1 :]
    rest.insert(target, text)
    before = rest[target - 1].position if target > 0 else rest[target + 1].position - 2 * POSITION_GAP
    after = (
        rest[target + 1].position if target + 1 < len(rest) else rest[target - 1].position + 2 * POSITION_GAP
    )
    wanted = {text.id: (before + after) // 2}
    if not before < wanted[text.id] < after:
        wanted = {t.id: (place + 1) * POSITION_GAP for place, t in enumerate(rest)}
    views = {
        view.part.id: view
        for view in access.view_parts(
            session, subject, opened.room.id, rest, object_type=PORTION, rule="minutes.edit"
        )
    }
    for moved in rest:
        position = wanted.get(moved.id, moved.position)
        if position == moved.position:
            continue
        if moved.revision != minutes.revision:
            moved_grant = grant if moved.id == text.id else views[moved.id].grant
            if moved_grant is None:
                raise StepRefused("PORTION_WITHHELD")
            moved = _copy_forward(session, subject, opened, minutes, moved, moved_grant)
        moved.position = position
    session.flush()
    session.expire(minutes, ["portions"])
    guards.record_step(session, subject, "minutes.portion.move", minutes, {"portion": str(portion_id)})
