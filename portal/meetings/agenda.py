"""A meeting's agenda as one reader meets it: the items, the linked material, the published revisions and
what changed between them. Changing the agenda is in :mod:`portal.meetings.agenda_changes`.

Everything here is per reader. An item the reader may not read (``policy.decide_read_part``) is an entry
with ``readable=False``: its position and duration only; its title, presenter and links are never opened.
Linked material is listed only when the reader may read it (``decide_read_document`` /
``decide_read_output``); material they may not read is left out altogether. Before the agenda is published
only the room's stewards (its chair and secretariat members) see the draft.

Public for other features (exports, calendar): :func:`agenda_for_reader` and the views it returns; the
revisions and what changed are in :mod:`portal.meetings.agenda_revisions`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.documents import service as documents
from portal.documents.models import Document
from portal.enums import Level, ReleaseMarking
from portal.meetings.access import OpenedMeeting, open_part, require_meeting
from portal.meetings.agenda_revisions import READ_RULE, AgendaChange, latest_changes
from portal.meetings.models import AgendaItem
from portal.security import policy
from portal.security.policy import Grant, Subject
from portal.thinktank import service as outputs
from portal.thinktank.models import ThinkTankOutput


@dataclass(frozen=True)
class LinkedMaterial:
    """A document of the room or a think-tank output linked to an item, as this reader may read it."""

    kind: Literal["document", "output"]
    id: uuid.UUID
    title: str
    level: Level
    release: ReleaseMarking
    caveat_codes: frozenset[str]
    #: Always True in what this module returns (material one may not read is left out); kept so that a
    #: caller merging lists can tell.
    readable: bool
    #: The document's room (for its address); None for an output.
    room_id: uuid.UUID | None
    #: The document's current body (Markdown) or the output's summary; only with ``with_text=True``.
    text: str | None = None


@dataclass(frozen=True)
class AgendaEntryView:
    """One agenda item in its place, for one reader."""

    #: 1-based place on the agenda.
    position: int
    #: The item itself, with its marking (level, caveats, release, named readers, origin organisation).
    item: AgendaItem
    readable: bool
    duration_minutes: int
    #: None when withheld.
    title: str | None
    presenter: str | None
    materials: tuple[LinkedMaterial, ...] = ()


def is_steward(subject: Subject, opened: OpenedMeeting) -> bool:
    return policy.decide_manage_meeting(subject, opened.room).allowed


def draft_visible(subject: Subject, opened: OpenedMeeting) -> bool:
    """Whether this reader sees the agenda at all: once published, everyone who sees the meeting; before,
    only its stewards."""
    return opened.meeting.agenda_published or is_steward(subject, opened)


def live_items(session: Session, meeting_id: uuid.UUID) -> list[AgendaItem]:
    """The items on the agenda now (not removed), in order."""
    return list(
        session.scalars(
            select(AgendaItem)
            .where(AgendaItem.meeting_id == meeting_id, AgendaItem.removed_at.is_(None))
            .order_by(AgendaItem.position, AgendaItem.created_at)
        )
    )


def item_grant(session: Session, subject: Subject, room_id: uuid.UUID, item: AgendaItem) -> Grant | None:
    """The grant to open one item for this reader, or None (withheld: never opened, not audited)."""
    decision = policy.decide_read_part(subject, room_id, item, READ_RULE)
    if not decision.allowed:
        return None
    return policy.require(
        session, subject, decision, object_type="agenda_item", object_id=item.id, level=item.level
    )


def agenda_for_reader(
    session: Session, subject: Subject, meeting_id: uuid.UUID, *, with_text: bool = False
) -> list[AgendaEntryView]:
    """The agenda of a meeting as ``subject`` may read it, in order (empty while it is an unpublished draft
    and the subject is no steward). A meeting the subject may not see raises ``policy.AccessDenied``
    (concealed, audited). ``with_text`` also opens each readable document's body and output's summary."""
    opened = require_meeting(session, subject, meeting_id)
    return entries_for(session, subject, opened, with_text=with_text)


def entries_for(
    session: Session, subject: Subject, opened: OpenedMeeting, *, with_text: bool = False
) -> list[AgendaEntryView]:
    if not draft_visible(subject, opened):
        return []
    entries = []
    for position, item in enumerate(live_items(session, opened.meeting.id), start=1):
        grant = item_grant(session, subject, opened.room.id, item)
        if grant is None:
            entries.append(AgendaEntryView(position, item, False, item.duration_minutes, None, None))
            continue
        entries.append(
            AgendaEntryView(
                position,
                item,
                True,
                item.duration_minutes,
                open_part(session, grant, item, "title"),
                open_part(session, grant, item, "presenter"),
                tuple(linked_material(session, subject, item, with_text=with_text)),
            )
        )
    return entries


def linked_material(
    session: Session, subject: Subject, item: AgendaItem, *, with_text: bool = False
) -> list[LinkedMaterial]:
    """The item's linked documents and outputs that this reader may read (the others are left out). Reads
    at CONFIDENTIAL and above are audited, as when the material itself is opened."""
    found: list[LinkedMaterial] = []
    for link in item.links:
        if link.document_id is not None:
            document = session.get(Document, link.document_id)
            if document is None or document.subcommittee_id != _room_of(session, item):
                continue
            decision = policy.decide_read_document(subject, document)
            if not decision.allowed:
                continue
            grant = policy.require(
                session,
                subject,
                decision,
                object_type="document",
                object_id=document.id,
                level=document.level,
            )
            text = documents.open_text(session, grant, document, with_body=with_text, with_reason=False)
            if text.destroyed:
                continue
            found.append(
                LinkedMaterial(
                    "document", document.id, text.title, document.level, document.release,
                    frozenset(c.code for c in document.caveats), True, document.subcommittee_id,
                    text.body if with_text else None,
                )
            )  # fmt: skip
        elif link.output_id is not None:
            output = session.get(ThinkTankOutput, link.output_id)
            if output is None:
                continue
            decision = policy.decide_read_output(subject, output)
            if not decision.allowed:
                continue
            grant = policy.require(
                session, subject, decision, object_type="output", object_id=output.id, level=output.level
            )
            opened = outputs.open_text(session, grant, output, full=with_text)
            if opened.destroyed:
                continue
            found.append(
                LinkedMaterial(
                    "output", output.id, opened.title, output.level, output.release, output.caveat_codes,
                    True, None, opened.summary if with_text else None,
                )
            )  # fmt: skip
    return found


def _room_of(session: Session, item: AgendaItem) -> uuid.UUID:
    return item.meeting.subcommittee_id


# --- the meeting page's agenda ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaPage:
    """Everything the meeting page shows of the agenda, for one reader."""

    #: False while an unpublished draft is hidden from this reader (no steward): nothing else is filled in.
    visible: bool
    published: bool
    revision: int
    steward: bool
    entries: list[AgendaEntryView]
    #: Changes between the latest revision and the one before it.
    changes: list[AgendaChange]
    #: Every item's duration, withheld ones included (their length is shown on their line).
    total_minutes: int
    meeting_minutes: int

    @property
    def over_length(self) -> bool:
        return self.total_minutes > self.meeting_minutes

    @property
    def highest_level(self) -> Level:
        """The highest level of what this reader is shown (for the page's marking)."""
        return max((entry.item.level for entry in self.entries if entry.readable), default=Level.PUBLIC)

    @property
    def caveat_codes(self) -> frozenset[str]:
        """The caveats of the items this reader is shown (for the page's marking)."""
        return frozenset(code for entry in self.entries if entry.readable for code in entry.item.caveat_codes)


def agenda_page(session: Session, subject: Subject, opened: OpenedMeeting) -> AgendaPage:
    meeting = opened.meeting
    steward = is_steward(subject, opened)
    if not draft_visible(subject, opened):
        return AgendaPage(False, False, 0, steward, [], [], 0, meeting.duration_minutes)
    entries = entries_for(session, subject, opened)
    return AgendaPage(
        True,
        meeting.agenda_published,
        meeting.agenda_revision,
        steward,
        entries,
        latest_changes(session, subject, opened) if meeting.agenda_revision > 1 else [],
        sum(entry.duration_minutes for entry in entries),
        meeting.duration_minutes,
    )


def total_minutes(session: Session, meeting_id: uuid.UUID) -> int:
    """The agenda's length now (every item on it, withheld or not)."""
    return sum(item.duration_minutes for item in live_items(session, meeting_id))
