"""Findings and action items as one reader meets them: on the meeting's findings page, in an export, and in
the reader's own list of action items across rooms.

A part the reader may not read is returned withheld: its marking is known (the page says something is
there), its text is never opened. Nothing here changes anything (see :mod:`portal.meetings.findings`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.caveats import Caveat
from portal.accounts.models import User
from portal.meetings.access import OpenedMeeting, PartView, meeting_text, require_meeting, texts, view_parts
from portal.meetings.marking import PartMarking
from portal.meetings.models import ActionItem, ActionStatus, AgendaItem, Finding, Meeting
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.policy import Subject

# --- what every view of a part shares ---------------------------------------------------------------


@dataclass(frozen=True)
class AgendaRef:
    """The agenda item a finding belongs to, as this reader may name it."""

    id: uuid.UUID
    #: AgendaItem.position as stored (the order of the agenda).
    position: int
    #: 1-based number among the meeting's current agenda items.
    number: int
    #: None when the reader may not read the item (its title is withheld too).
    title: str | None
    #: Taken off the agenda (findings made before still name it).
    removed: bool


def caveats_by_code(session: Session) -> dict[str, Caveat]:
    return {caveat.code: caveat for caveat in session.scalars(select(Caveat))}


def caveats_of(part: PartMarking, known: dict[str, Caveat]) -> list[Caveat]:
    """A part's caveats as banner entries (names in the reader's language)."""
    return [known[code] for code in sorted(part.caveat_codes) if code in known]


def agenda_refs(session: Session, subject: Subject, opened: OpenedMeeting) -> dict[uuid.UUID, AgendaRef]:
    """Every agenda item of the meeting (removed ones too, for findings made before), with the titles this
    reader may read."""
    items = session.scalars(
        select(AgendaItem).where(AgendaItem.meeting_id == opened.meeting.id).order_by(AgendaItem.position)
    ).all()
    views = view_parts(session, subject, opened.room.id, items, object_type="agenda_item", rule="agenda.read")
    refs: dict[uuid.UUID, AgendaRef] = {}
    number = 0
    for view in views:
        item = view.part
        if item.removed_at is None:
            number += 1
        opened_texts = texts(session, view, ["title"])
        refs[item.id] = AgendaRef(
            item.id,
            item.position,
            number,
            opened_texts["title"] if opened_texts else None,
            item.removed_at is not None,
        )
    return refs


def _names(session: Session, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = set(user_ids)
    if not wanted:
        return {}
    found = session.execute(select(User.id, User.display_name).where(User.id.in_(wanted))).all()
    return {user_id: name for user_id, name in found}


def is_overdue(item: ActionItem, today: date) -> bool:
    return item.due_on is not None and item.due_on < today and item.status != ActionStatus.DONE


# --- for exports (and the findings page) ------------------------------------------------------------


@dataclass(frozen=True)
class FindingForReader:
    """One finding as ``reader`` meets it. ``finding`` carries the marking (level, release, caveats,
    named readers, origin); ``body`` (Markdown, to be rendered only through ``portal.security.sanitize``) is
    None when withheld. ``agenda_position`` is the stored position of its agenda item (None: the meeting
    as a whole)."""

    finding: Finding
    readable: bool
    body: str | None
    agenda_item_id: uuid.UUID | None
    agenda_position: int | None
    agenda: AgendaRef | None
    author_name: str | None


@dataclass(frozen=True)
class ActionForReader:
    """One action item as ``reader`` meets it. ``item`` carries the marking, the owner id, due date,
    status and version; ``title`` and ``owner_name`` are None when withheld. ``agenda_position`` is the
    stored position of the agenda item of its finding (None when it has no finding, or the finding no
    agenda item)."""

    item: ActionItem
    readable: bool
    title: str | None
    owner_name: str | None
    finding_id: uuid.UUID | None
    agenda_item_id: uuid.UUID | None
    agenda_position: int | None


def _findings(session: Session, subject: Subject, opened: OpenedMeeting) -> list[PartView[Finding]]:
    found = session.scalars(
        select(Finding)
        .where(Finding.meeting_id == opened.meeting.id)
        .order_by(Finding.position, Finding.created_at)
    ).all()
    return view_parts(session, subject, opened.room.id, found, object_type="finding", rule="finding.read")


def _actions(session: Session, subject: Subject, opened: OpenedMeeting) -> list[PartView[ActionItem]]:
    found = session.scalars(
        select(ActionItem)
        .where(ActionItem.meeting_id == opened.meeting.id)
        .order_by(ActionItem.due_on.is_(None), ActionItem.due_on, ActionItem.created_at)
    ).all()
    return view_parts(session, subject, opened.room.id, found, object_type="action_item", rule="action.read")


def _findings_of(
    session: Session, subject: Subject, opened: OpenedMeeting, refs: dict[uuid.UUID, AgendaRef]
) -> list[FindingForReader]:
    views = _findings(session, subject, opened)
    names = _names(session, (view.part.created_by_id for view in views if view.readable))
    result = []
    for view in views:
        finding = view.part
        opened_texts = texts(session, view, ["body"])
        ref = refs.get(finding.agenda_item_id) if finding.agenda_item_id else None
        result.append(
            FindingForReader(
                finding=finding,
                readable=view.readable,
                body=opened_texts["body"] if opened_texts else None,
                agenda_item_id=finding.agenda_item_id,
                agenda_position=ref.position if ref else None,
                agenda=ref,
                author_name=names.get(finding.created_by_id) if view.readable else None,
            )
        )
    return result


def _actions_of(
    session: Session, subject: Subject, opened: OpenedMeeting, refs: dict[uuid.UUID, AgendaRef]
) -> list[ActionForReader]:
    views = _actions(session, subject, opened)
    agenda_of_finding = dict(
        session.execute(
            select(Finding.id, Finding.agenda_item_id).where(Finding.meeting_id == opened.meeting.id)
        ).all()
    )
    names = _names(session, (view.part.owner_id for view in views if view.readable))
    result = []
    for view in views:
        item = view.part
        opened_texts = texts(session, view, ["title"])
        agenda_item_id = agenda_of_finding.get(item.finding_id) if item.finding_id else None
        ref = refs.get(agenda_item_id) if agenda_item_id else None
        result.append(
            ActionForReader(
                item=item,
                readable=view.readable,
                title=opened_texts["title"] if opened_texts else None,
                owner_name=names.get(item.owner_id) if view.readable else None,
                finding_id=item.finding_id,
                agenda_item_id=agenda_item_id,
                agenda_position=ref.position if ref else None,
            )
        )
    return result


def findings_for_reader(session: Session, subject: Subject, meeting_id: uuid.UUID) -> list[FindingForReader]:
    """Every finding of the meeting in order, readable or withheld for ``subject``.

    Raises ``policy.AccessDenied`` (audited; concealed) when the subject may not see the meeting. Reads of
    findings at CONFIDENTIAL and above are audited, as on the page."""
    opened = require_meeting(session, subject, meeting_id)
    return _findings_of(session, subject, opened, agenda_refs(session, subject, opened))


def actions_for_reader(session: Session, subject: Subject, meeting_id: uuid.UUID) -> list[ActionForReader]:
    """Every action item of the meeting (soonest due first), readable or withheld for ``subject``; as
    :func:`findings_for_reader` for access and audit."""
    opened = require_meeting(session, subject, meeting_id)
    return _actions_of(session, subject, opened, agenda_refs(session, subject, opened))


def followup_for_reader(
    session: Session, subject: Subject, opened: OpenedMeeting
) -> tuple[list[FindingForReader], list[ActionForReader]]:
    """Findings and action items of a meeting already opened under the policy (the meeting pack): the agenda
    references are opened once for both."""
    refs = agenda_refs(session, subject, opened)
    return _findings_of(session, subject, opened, refs), _actions_of(session, subject, opened, refs)


# --- the findings page ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FindingsPage:
    opened: OpenedMeeting
    title: str
    findings: list[FindingForReader]
    actions: list[ActionForReader]
    #: The findings' numbers (1-based, in order) by id, for "belongs to finding 2".
    finding_numbers: dict[uuid.UUID, int]
    agenda: dict[uuid.UUID, AgendaRef]
    caveats: dict[str, Caveat]
    #: The reader runs the meeting: posts, edits and deletes findings and action items.
    can_manage: bool
    #: Action items whose status this reader may change (owner or steward, and readable).
    status_changeable: frozenset[uuid.UUID]
    today: date

    def caveats_of(self, part: PartMarking) -> list[Caveat]:
        return caveats_of(part, self.caveats)


def findings_page(session: Session, subject: Subject, meeting_id: uuid.UUID, today: date) -> FindingsPage:
    opened = require_meeting(session, subject, meeting_id)
    refs = agenda_refs(session, subject, opened)
    findings = _findings_of(session, subject, opened, refs)
    actions = _actions_of(session, subject, opened, refs)
    changeable = frozenset(
        entry.item.id
        for entry in actions
        if policy.decide_change_action_status(subject, opened.room, entry.item).allowed
    )
    return FindingsPage(
        opened=opened,
        title=meeting_text(session, opened, "title"),
        findings=findings,
        actions=actions,
        finding_numbers={entry.finding.id: number for number, entry in enumerate(findings, start=1)},
        agenda=refs,
        caveats=caveats_by_code(session),
        can_manage=policy.decide_manage_meeting(subject, opened.room, "finding.create").allowed,
        status_changeable=changeable,
        today=today,
    )


# --- my action items across rooms ---------------------------------------------------------------------


@dataclass(frozen=True)
class MyAction:
    item: ActionItem
    room: Subcommittee
    meeting: Meeting
    #: None when the reader may no longer read the item (withheld: never its title).
    title: str | None
    #: None when the reader may no longer see the meeting (its title is withheld too).
    meeting_title: str | None
    overdue: bool
    can_change_status: bool

    @property
    def readable(self) -> bool:
        return self.title is not None


def my_actions(
    session: Session, subject: Subject, today: date, *, open_only: bool = False, limit: int | None = None
) -> list[MyAction]:
    """The subject's own action items in every room they hold a seat in now, soonest due first (undated
    last). Items they may no longer read are listed withheld. Listing is not a read: no audit entry, as for
    the document list."""
    if not subject.reads_content or not subject.room_ids:
        return []
    query = (
        select(ActionItem, Meeting, Subcommittee)
        .join(Meeting, Meeting.id == ActionItem.meeting_id)
        .join(Subcommittee, Subcommittee.id == Meeting.subcommittee_id)
        .where(
            ActionItem.owner_id == subject.user_id,
            Meeting.subcommittee_id.in_(subject.room_ids),
            Subcommittee.archived_at.is_(None),
        )
        .order_by(ActionItem.due_on.is_(None), ActionItem.due_on, ActionItem.created_at)
    )
    if open_only:
        query = query.where(ActionItem.status != ActionStatus.DONE)
    if limit is not None:
        query = query.limit(limit)
    result = []
    for item, meeting, room in session.execute(query):
        decision = policy.decide_read_part(subject, room.id, item, "action.read")
        title = None
        if decision.allowed:
            grant = policy.grant_for_part(subject, decision, "action_item", item)
            view: PartView[ActionItem] = PartView(item, decision, grant)
            opened_texts = texts(session, view, ["title"])
            title = opened_texts["title"] if opened_texts else None
        seen = policy.decide_see_meeting(subject, meeting)
        meeting_title = None
        if seen.allowed:
            opened = OpenedMeeting(meeting, room, policy.grant_from(seen, subject, "meeting", meeting.id))
            meeting_title = meeting_text(session, opened, "title")
        result.append(
            MyAction(
                item=item,
                room=room,
                meeting=meeting,
                title=title,
                meeting_title=meeting_title,
                overdue=is_overdue(item, today),
                can_change_status=policy.decide_change_action_status(subject, room, item).allowed,
            )
        )
    return result


def today_in(now: datetime) -> date:
    """Due dates are days in Japan."""
    return now.astimezone(policy.LOCAL_TIMEZONE).date()
