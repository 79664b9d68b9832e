"""A meeting's published agenda revisions and what changed between them, for one reader.

Each revision entry is decided on its own marking (as the item stood then) and opened with a grant for its
item. A change is shown in full only to a reader who may read the item in both revisions; to anyone else
it is a withheld line. Public for other features: :func:`latest_changes`, :func:`revision_history`.
"""

from __future__ import annotations

import difflib
import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.meetings.access import OpenedMeeting, open_part
from portal.meetings.models import AgendaRevision, AgendaRevisionEntry
from portal.security import policy
from portal.security.policy import Subject

#: The rule under which agenda items and their revision entries are read.
READ_RULE = "agenda.read"


@dataclass(frozen=True)
class RevisionEntryView:
    """An item as it stood in one published revision, for one reader."""

    position: int
    entry: AgendaRevisionEntry
    readable: bool
    duration_minutes: int
    title: str | None
    presenter: str | None

    @property
    def item_id(self) -> uuid.UUID:
        return self.entry.agenda_item_id


ChangeKind = Literal["added", "removed", "retitled", "moved", "duration", "presenter"]


@dataclass(frozen=True)
class AgendaChange:
    """How one item changed from one revision to the next, for one reader. Readable only if the reader may
    read the item as it stood in both revisions; otherwise a withheld line: its place, its duration and
    whether it was added, removed, moved or given another duration (a withheld item's title and presenter
    are never opened, so their changes are not reported to that reader)."""

    item_id: uuid.UUID
    kinds: tuple[ChangeKind, ...]
    readable: bool
    #: The item's place in the newer revision (in the older one for a removed item).
    position: int
    duration_minutes: int
    old_duration_minutes: int | None
    title: str | None = None
    old_title: str | None = None
    presenter: str | None = None
    old_presenter: str | None = None


@dataclass(frozen=True)
class RevisionView:
    revision: AgendaRevision
    entries: list[RevisionEntryView]
    #: Against the revision before (empty for the first).
    changes: list[AgendaChange]


def _entry_views(
    session: Session, subject: Subject, room_id: uuid.UUID, revision: AgendaRevision
) -> list[RevisionEntryView]:
    views = []
    for position, entry in enumerate(sorted(revision.entries, key=lambda e: e.position), start=1):
        decision = policy.decide_read_part(subject, room_id, entry, READ_RULE)
        if not decision.allowed:
            views.append(RevisionEntryView(position, entry, False, entry.duration_minutes, None, None))
            continue
        # Entries open with a grant for their item (their sealed values name the item), decided on the
        # entry's own marking as it was then.
        grant = policy.require(
            session, subject, decision, object_type="agenda_item", object_id=entry.agenda_item_id,
            level=entry.level,
        )  # fmt: skip
        views.append(
            RevisionEntryView(
                position, entry, True, entry.duration_minutes,
                open_part(session, grant, entry, "title"), open_part(session, grant, entry, "presenter"),
            )
        )  # fmt: skip
    return views


def compare(older: list[RevisionEntryView], newer: list[RevisionEntryView]) -> list[AgendaChange]:
    """What changed from ``older`` to ``newer``: items added, removed, retitled, moved (their order among the
    items in both changed, not merely shifted by an addition or removal), or given another duration or
    presenter. In the newer revision's order, removed items last."""
    old_by_id = {view.item_id: view for view in older}
    new_by_id = {view.item_id: view for view in newer}
    old_order = [view.item_id for view in older if view.item_id in new_by_id]
    new_order = [view.item_id for view in newer if view.item_id in old_by_id]
    matcher = difflib.SequenceMatcher(a=old_order, b=new_order, autojunk=False)
    kept_in_place = {
        old_order[block.a + i] for block in matcher.get_matching_blocks() for i in range(block.size)
    }
    changes: list[AgendaChange] = []
    for view in newer:
        before = old_by_id.get(view.item_id)
        if before is None:
            changes.append(_change(view.item_id, ("added",), view, None))
            continue
        kinds: list[ChangeKind] = []
        readable = view.readable and before.readable
        if readable and view.title != before.title:
            kinds.append("retitled")
        if view.item_id not in kept_in_place:
            kinds.append("moved")
        if view.duration_minutes != before.duration_minutes:
            kinds.append("duration")
        if readable and view.presenter != before.presenter:
            kinds.append("presenter")
        if kinds:
            changes.append(_change(view.item_id, tuple(kinds), view, before))
    for view in older:
        if view.item_id not in new_by_id:
            changes.append(_change(view.item_id, ("removed",), None, view))
    return changes


def _change(
    item_id: uuid.UUID,
    kinds: tuple[ChangeKind, ...],
    newer: RevisionEntryView | None,
    older: RevisionEntryView | None,
) -> AgendaChange:
    involved = [view for view in (newer, older) if view is not None]
    readable = all(view.readable for view in involved)
    shown = newer or older
    assert shown is not None
    if not readable:
        return AgendaChange(
            item_id, kinds, False, shown.position, shown.duration_minutes,
            older.duration_minutes if older and newer else None,
        )  # fmt: skip
    return AgendaChange(
        item_id, kinds, True, shown.position, shown.duration_minutes,
        older.duration_minutes if older and newer else None,
        title=shown.title, old_title=older.title if older and newer else None,
        presenter=shown.presenter, old_presenter=older.presenter if older and newer else None,
    )  # fmt: skip


def _revisions(session: Session, meeting_id: uuid.UUID) -> list[AgendaRevision]:
    return list(
        session.scalars(
            select(AgendaRevision)
            .where(AgendaRevision.meeting_id == meeting_id)
            .order_by(AgendaRevision.number)
        )
    )


def latest_changes(session: Session, subject: Subject, opened: OpenedMeeting) -> list[AgendaChange]:
    """What changed between the latest published revision and the one before it (empty until there are
    two)."""
    revisions = _revisions(session, opened.meeting.id)
    if len(revisions) < 2:
        return []
    older, newer = revisions[-2:]
    room_id = opened.room.id
    return compare(
        _entry_views(session, subject, room_id, older), _entry_views(session, subject, room_id, newer)
    )


def revision_history(session: Session, subject: Subject, opened: OpenedMeeting) -> list[RevisionView]:
    """Every published revision, newest first, each with its entries and its changes from the one before,
    for this reader (empty while the agenda is unpublished)."""
    history: list[RevisionView] = []
    previous: list[RevisionEntryView] | None = None
    for revision in _revisions(session, opened.meeting.id):
        entries = _entry_views(session, subject, opened.room.id, revision)
        history.append(
            RevisionView(revision, entries, compare(previous, entries) if previous is not None else [])
        )
        previous = entries
    return list(reversed(history))
