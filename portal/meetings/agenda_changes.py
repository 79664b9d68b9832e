"""Every way a meeting's agenda changes, and who may change it: add, edit, remove and move an item, and
publish. The room's stewards (its chair and secretariat members) run the agenda; an item is written under
its own marking, within the writer's clearance and caveats (``policy.decide_mark_part``); an item they may
not read is neither edited nor removed by them (404, as for any part asked for by its id).

Publishing makes revision 1: a sealed snapshot of every item (each entry under its item's level, with its
marking). After that, EVERY change makes the next revision at once, so members always read a published
state and can see what changed. The room's members are told by e-mail (:mod:`portal.notifications`) when
the agenda is first published and when a published agenda changes (``meeting_changed``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from portal import notifications
from portal.db import utcnow
from portal.documents.models import Document
from portal.meetings.access import OpenedMeeting, open_part, require_meeting, require_part, seal_part
from portal.meetings.agenda import READ_RULE, live_items
from portal.meetings.forms import PartMarkingInput
from portal.meetings.models import (
    AgendaItem,
    AgendaLink,
    AgendaRevision,
    AgendaRevisionEntry,
    Meeting,
    MeetingStatus,
)
from portal.meetings.parts import apply_marking, current_marking, require_mark
from portal.meetings.service import MeetingCancelled
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.keyring import keyring_of
from portal.security.policy import Decision, Grant, Subject
from portal.thinktank.models import OutputAttachment, ThinkTankOutput

WRITE_RULE = "agenda.edit"
PUBLISH_RULE = "agenda.publish"


class InvalidLink(Exception):
    """Linked material that is not the room's, or that the writer may not read."""


class NothingToPublish(Exception):
    """An agenda without items is not published."""


class AlreadyPublished(Exception):
    """Published once; every later change is published at once as a new revision."""


@dataclass(frozen=True)
class ItemInput:
    title: str
    presenter: str
    duration_minutes: int
    marking: PartMarkingInput
    document_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    output_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)


def _manage(rule: str) -> Callable[[Subject, Meeting, Subcommittee], Decision]:
    def decide(subject: Subject, meeting: Meeting, room: Subcommittee) -> Decision:
        return policy.decide_manage_meeting(subject, room, rule)

    return decide


def open_for_change(
    session: Session, subject: Subject, meeting_id: uuid.UUID, rule: str = WRITE_RULE
) -> OpenedMeeting:
    """A meeting whose agenda the subject runs: 404 if they may not see it, 403 if they are no steward;
    a cancelled meeting's agenda no longer changes."""
    opened = require_meeting(session, subject, meeting_id, _manage(rule))
    if opened.meeting.status == MeetingStatus.CANCELLED:
        raise MeetingCancelled(str(meeting_id))
    return opened


def find_item(session: Session, opened: OpenedMeeting, item_id: uuid.UUID) -> AgendaItem:
    """An item of THIS meeting still on the agenda; any other id answers 404 (audited)."""
    item = session.get(AgendaItem, item_id)
    if item is None or item.meeting_id != opened.meeting.id or item.removed_at is not None:
        raise policy.AccessDenied(policy.deny(WRITE_RULE, "NOT_FOUND"), conceal=True)
    return item


def readable_item(
    session: Session, subject: Subject, opened: OpenedMeeting, item_id: uuid.UUID
) -> tuple[AgendaItem, Grant]:
    item = find_item(session, opened, item_id)
    grant = require_part(session, subject, opened.room.id, item, object_type="agenda_item", rule=READ_RULE)
    return item, grant


# --- linked material ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Linkable:
    id: uuid.UUID
    title: str


def linkable_documents(session: Session, subject: Subject, room: Subcommittee) -> list[Linkable]:
    """The room's documents the subject may read (filtered in SQL, then confirmed one by one)."""
    from portal.documents import service as documents

    found = session.scalars(
        select(Document)
        .where(Document.subcommittee_id == room.id, policy.visible_documents(subject))
        .order_by(Document.updated_at.desc())
        .limit(500)
    )
    listed = []
    for document in found:
        text = documents.open_text(
            session, policy.grant_for_listed(subject, document), document, with_body=False
        )
        if not text.destroyed:
            listed.append(Linkable(document.id, text.title))
    return listed


def _attached_here(room_id: uuid.UUID) -> Select[uuid.UUID]:
    return select(OutputAttachment.output_id).where(
        OutputAttachment.subcommittee_id == room_id,
        OutputAttachment.attached_at.is_not(None),
        OutputAttachment.detached_at.is_(None),
    )


def linkable_outputs(session: Session, subject: Subject, room: Subcommittee) -> list[Linkable]:
    """Outputs attached (confirmed) to the room that the subject may read."""
    from portal.thinktank import service as outputs

    found = session.scalars(
        select(ThinkTankOutput)
        .where(ThinkTankOutput.id.in_(_attached_here(room.id)), policy.visible_outputs(subject))
        .order_by(ThinkTankOutput.published_at.desc())
    )
    return [
        Linkable(
            output.id,
            outputs.open_text(
                session, policy.grant_for_listed_output(subject, output), output, full=False
            ).title,
        )
        for output in found
    ]


def _check_links(session: Session, subject: Subject, room: Subcommittee, new: ItemInput) -> None:
    for document_id in new.document_ids:
        document = session.get(Document, document_id)
        if document is None or document.subcommittee_id != room.id:
            raise InvalidLink(str(document_id))
        if not policy.decide_read_document(subject, document).allowed:
            raise InvalidLink(str(document_id))
    attached = set(session.scalars(_attached_here(room.id)))
    for output_id in new.output_ids:
        output = session.get(ThinkTankOutput, output_id)
        if (
            output is None
            or output.id not in attached
            or not policy.decide_read_output(subject, output).allowed
        ):
            raise InvalidLink(str(output_id))


def _set_links(session: Session, subject: Subject, item: AgendaItem, new: ItemInput) -> None:
    """Link what the writer chose; keep the links to material the writer may not read (they were not
    offered to them, so not choosing them is no decision to unlink)."""
    kept = []
    for link in item.links:
        if link.document_id is not None:
            document = session.get(Document, link.document_id)
            if document is not None and not policy.decide_read_document(subject, document).allowed:
                kept.append(link)
        elif link.output_id is not None:
            output = session.get(ThinkTankOutput, link.output_id)
            if output is not None and not policy.decide_read_output(subject, output).allowed:
                kept.append(link)
    item.links = [
        *kept,
        *(AgendaLink(id=uuid.uuid4(), document_id=document_id) for document_id in sorted(new.document_ids)),
        *(AgendaLink(id=uuid.uuid4(), output_id=output_id) for output_id in sorted(new.output_ids)),
    ]


# --- items ------------------------------------------------------------------------------------------------


def _write(
    session: Session, subject: Subject, opened: OpenedMeeting, item: AgendaItem, new: ItemInput
) -> None:
    room = opened.room
    grant = require_mark(
        session, subject, room, new.marking, rule=WRITE_RULE, object_type="agenda_item", object_id=item.id
    )
    _check_links(session, subject, room, new)
    apply_marking(session, subject, grant, item, room.id, new.marking)
    seal_part(session, grant, item, room.id, {"title": new.title.strip(), "presenter": new.presenter.strip()})
    item.duration_minutes = new.duration_minutes
    item.updated_at = utcnow()
    _set_links(session, subject, item, new)


def add_item(session: Session, subject: Subject, meeting_id: uuid.UUID, new: ItemInput) -> AgendaItem:
    """A new item at the end of the agenda."""
    opened = open_for_change(session, subject, meeting_id)
    items = live_items(session, opened.meeting.id)
    item = AgendaItem(id=uuid.uuid4(), meeting_id=opened.meeting.id, position=len(items) + 1)
    item.links = []
    _write(session, subject, opened, item, new)
    session.add(item)
    session.flush()
    _changed(session, subject, opened, "agenda.add_item", item)
    return item


def edit_item(
    session: Session, subject: Subject, meeting_id: uuid.UUID, item_id: uuid.UUID, new: ItemInput
) -> AgendaItem:
    opened = open_for_change(session, subject, meeting_id)
    item, _grant = readable_item(session, subject, opened, item_id)
    _write(session, subject, opened, item, new)
    session.flush()
    _changed(session, subject, opened, "agenda.edit_item", item)
    return item


@dataclass(frozen=True)
class ItemForEdit:
    opened: OpenedMeeting
    item: AgendaItem
    title: str
    presenter: str
    marking: PartMarkingInput
    document_ids: frozenset[uuid.UUID]
    output_ids: frozenset[uuid.UUID]


def item_for_edit(
    session: Session, subject: Subject, meeting_id: uuid.UUID, item_id: uuid.UUID
) -> ItemForEdit:
    opened = open_for_change(session, subject, meeting_id)
    item, grant = readable_item(session, subject, opened, item_id)
    return ItemForEdit(
        opened,
        item,
        open_part(session, grant, item, "title"),
        open_part(session, grant, item, "presenter"),
        current_marking(session, grant, item),
        frozenset(link.document_id for link in item.links if link.document_id is not None),
        frozenset(link.output_id for link in item.links if link.output_id is not None),
    )


def remove_item(session: Session, subject: Subject, meeting_id: uuid.UUID, item_id: uuid.UUID) -> AgendaItem:
    """Take an item off the agenda (kept, so published revisions still show it)."""
    opened = open_for_change(session, subject, meeting_id)
    item, _grant = readable_item(session, subject, opened, item_id)
    item.removed_at = utcnow()
    session.flush()
    _renumber(live_items(session, opened.meeting.id))
    _changed(session, subject, opened, "agenda.remove_item", item)
    return item


def move_item(
    session: Session,
    subject: Subject,
    meeting_id: uuid.UUID,
    item_id: uuid.UUID,
    direction: Literal["up", "down"],
) -> AgendaItem:
    """Move an item one place up or down (a steward may move an item they may not read: its place is no
    secret, its text is never opened). At the top or bottom already, nothing changes."""
    opened = open_for_change(session, subject, meeting_id)
    item = find_item(session, opened, item_id)
    items = live_items(session, opened.meeting.id)
    index = items.index(item)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(items):
        return item
    items[index], items[other] = items[other], items[index]
    _renumber(items)
    _changed(session, subject, opened, "agenda.move_item", item)
    return item


def _renumber(items: list[AgendaItem]) -> None:
    for position, item in enumerate(items, start=1):
        item.position = position


# --- publication and revisions ----------------------------------------------------------------------------


def publish(session: Session, subject: Subject, meeting_id: uuid.UUID) -> AgendaRevision:
    """Publish the agenda: revision 1. The room is told (``agenda_published``) once the transaction
    commits."""
    opened = open_for_change(session, subject, meeting_id, PUBLISH_RULE)
    if opened.meeting.agenda_published:
        raise AlreadyPublished(str(meeting_id))
    if not live_items(session, opened.meeting.id):
        raise NothingToPublish(str(meeting_id))
    revision = _snapshot(session, subject, opened)
    policy.record_change(
        session, subject, PUBLISH_RULE, object_type="meeting", object_id=opened.meeting.id,
        level=opened.meeting.level, detail={"revision": revision.number},
    )  # fmt: skip
    notifications.queue(session, subject, notifications.EventKind.AGENDA_PUBLISHED, opened.meeting.id)
    return revision


def _changed(
    session: Session, subject: Subject, opened: OpenedMeeting, action: str, item: AgendaItem
) -> None:
    """Audit a change of an item; on a published agenda, publish the next revision at once (and tell the
    room)."""
    detail: dict[str, object] = {"meeting": str(opened.meeting.id)}
    if opened.meeting.agenda_published:
        detail["revision"] = _snapshot(session, subject, opened).number
        notifications.queue(session, subject, notifications.EventKind.MEETING_CHANGED, opened.meeting.id)
    policy.record_change(
        session,
        subject,
        action,
        object_type="agenda_item",
        object_id=item.id,
        level=item.level,
        detail=detail,
    )


def _snapshot(session: Session, subject: Subject, opened: OpenedMeeting) -> AgendaRevision:
    """The agenda as it stands, as the next revision: each item's text copied into an entry of its own,
    sealed under the item's level. The copy passes from one sealed value to another inside this function and
    is shown to nobody, so the steward's change decision covers items they may not read themselves."""
    decision = policy.decide_manage_meeting(subject, opened.room, PUBLISH_RULE)
    meeting = opened.meeting
    session.flush()
    revision = AgendaRevision(
        id=uuid.uuid4(),
        meeting_id=meeting.id,
        number=meeting.agenda_revision + 1,
        published_by_id=subject.user_id,
    )
    keyring = keyring_of(session)
    for item in live_items(session, meeting.id):
        grant = policy.grant_from(decision, subject, "agenda_item", item.id)
        entry = AgendaRevisionEntry(
            id=uuid.uuid4(),
            agenda_item_id=item.id,
            position=item.position,
            duration_minutes=item.duration_minutes,
            level=item.level,
            release=item.release,
            caveat_codes_text=item.caveat_codes_text,
            reader_ids_text=item.reader_ids_text,
            release_organization_ids_text=item.release_organization_ids_text,
            origin_organization_id=item.origin_organization_id,
        )
        values = {column: open_part(session, grant, item, column) for column in ("title", "presenter")}
        if item.classification_reason_sealed is not None:
            values["classification_reason"] = open_part(session, grant, item, "classification_reason")
        for column, text in values.items():
            sealed = keyring.seal(session, grant, entry.field_context(column), text, opened.room.id)
            setattr(entry, f"{column}_sealed", sealed)
        revision.entries.append(entry)
    session.add(revision)
    meeting.agenda_revision = revision.number
    session.flush()
    return revision
