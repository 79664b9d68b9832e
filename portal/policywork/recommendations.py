"""Recommendations (提言) of a policy-coordination room and their lifecycle.

drafted → under deliberation → agreed → submitted to the government → reflected; one step forward at a
time, or from deliberation back to drafting (:func:`portal.policywork.models.allowed_moves`). Only the
room's stewards move a recommendation (``policy.decide_move_recommendation``), and every move is kept as a
transition (who, when, from, to, a sealed note). A move asked from a version that is no longer current
raises :class:`RecommendationConflict`: nothing is moved twice by two stewards at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.db import utcnow
from portal.documents.models import Document
from portal.enums import Level, ReleaseMarking, Sector
from portal.meetings import agenda_changes
from portal.meetings.access import open_part, require_part, seal_part, view_parts
from portal.meetings.forms import PartMarkingInput
from portal.meetings.parts import apply_marking, require_mark
from portal.policywork.models import (
    Recommendation,
    RecommendationLink,
    RecommendationStatus,
    RecommendationTransition,
    allowed_moves,
)
from portal.policywork.service import (
    PolicyWorkRefused,
    check_owner,
    clean_title,
    is_steward,
    not_found,
    open_policy_room,
    require_steward,
)
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.crypto import IntegrityError, KeyDestroyed
from portal.security.policy import Grant, Subject
from portal.thinktank.models import ThinkTankOutput

BODY_MAX = 20_000
NOTE_MAX = 2000


class RecommendationConflict(Exception):
    """The recommendation moved on since the page was shown; nothing was changed."""

    def __init__(self, recommendation: Recommendation, current_title: str) -> None:
        super().__init__("recommendation changed")
        self.recommendation = recommendation
        self.current_title = current_title


@dataclass(frozen=True)
class RecommendationInput:
    title: str
    body: str
    owner_id: uuid.UUID
    sectors: frozenset[Sector]
    document_ids: frozenset[uuid.UUID]
    output_ids: frozenset[uuid.UUID]
    marking: PartMarkingInput


def recommendation_of(
    session: Session, subject: Subject, room: Subcommittee, recommendation_id: uuid.UUID, rule: str
) -> tuple[Recommendation, Grant]:
    """A recommendation of this room that the subject may read (otherwise 404, audited)."""
    item = session.get(Recommendation, recommendation_id)
    if item is None or item.subcommittee_id != room.id:
        not_found(session, subject, rule, "recommendation", recommendation_id)
    assert item is not None
    grant = require_part(session, subject, room.id, item, object_type="recommendation", rule=rule)
    return item, grant


def _check_links(session: Session, subject: Subject, room: Subcommittee, new: RecommendationInput) -> None:
    """Only the room's documents and the outputs attached to it that the writer reads."""
    documents = {d.id for d in agenda_changes.linkable_documents(session, subject, room)}
    outputs = {o.id for o in agenda_changes.linkable_outputs(session, subject, room)}
    if not new.document_ids <= documents or not new.output_ids <= outputs:
        raise PolicyWorkRefused("LINK_UNKNOWN")


def create_recommendation(
    session: Session,
    subject: Subject,
    room_id: uuid.UUID,
    new: RecommendationInput,
    now: datetime | None = None,
) -> Recommendation:
    now = now or utcnow()
    room = open_policy_room(session, subject, room_id)
    require_steward(session, subject, room, "recommendation.create")
    item = Recommendation(
        id=uuid.uuid4(), subcommittee_id=room.id, created_by_id=subject.user_id, version=1,
        status=RecommendationStatus.DRAFTED,
    )  # fmt: skip
    grant = require_mark(
        session, subject, room, new.marking, rule="recommendation.create", object_type="recommendation",
        object_id=item.id,
    )  # fmt: skip
    title = clean_title(new.title)
    body = new.body.strip()[:BODY_MAX]
    if not body:
        raise PolicyWorkRefused("EMPTY_TEXT")
    _check_links(session, subject, room, new)
    apply_marking(session, subject, grant, item, room.id, new.marking)
    check_owner(session, room, item, new.owner_id, "recommendation.read", now)
    item.owner_id = new.owner_id
    item.sector_codes_text = " ".join(sorted(sector.value for sector in new.sectors))
    item.created_at = item.updated_at = now
    seal_part(session, grant, item, room.id, {"title": title, "body": body})
    item.links = [RecommendationLink(document_id=d) for d in sorted(new.document_ids)] + [
        RecommendationLink(output_id=o) for o in sorted(new.output_ids)
    ]
    session.add(item)
    _record_transition(session, grant, item, None, RecommendationStatus.DRAFTED, subject, "", now)
    session.flush()
    policy.record_change(
        session, subject, "recommendation.create", object_type="recommendation", object_id=item.id,
        level=item.level, detail={"room": str(room.id), "sectors": item.sector_codes_text.split()},
    )  # fmt: skip
    return item


def _record_transition(
    session: Session,
    grant: Grant,
    item: Recommendation,
    before: RecommendationStatus | None,
    after: RecommendationStatus,
    subject: Subject,
    note: str,
    now: datetime,
) -> RecommendationTransition:
    transition = RecommendationTransition(
        id=uuid.uuid4(), recommendation_id=item.id, from_status=before, to_status=after,
        actor_id=subject.user_id, at=now, level=item.level,
    )  # fmt: skip
    if note:
        seal_part(session, grant, transition, item.subcommittee_id, {"note": note})
    session.add(transition)
    return transition


def move(
    session: Session,
    subject: Subject,
    room_id: uuid.UUID,
    recommendation_id: uuid.UUID,
    target: RecommendationStatus,
    note: str,
    base_version: int,
    now: datetime | None = None,
) -> Recommendation:
    """Move a recommendation one step (a steward who reads it). A refused step is audited (403); a move
    from a version that is no longer current raises :class:`RecommendationConflict`."""
    now = now or utcnow()
    rule = "recommendation.transition"
    room = open_policy_room(session, subject, room_id)
    item, read_grant = recommendation_of(session, subject, room, recommendation_id, rule)
    require_steward(session, subject, room, rule)
    if item.version != base_version:
        raise RecommendationConflict(item, open_part(session, read_grant, item, "title"))
    decision = policy.decide_move_recommendation(subject, room, item, target in allowed_moves(item.status))
    policy.require(
        session, subject, decision, object_type="recommendation", object_id=item.id, level=item.level,
        detail={"from": item.status.value, "to": target.value},
    )  # fmt: skip
    grant = policy.grant_from(decision, subject, "recommendation", item.id)
    before = item.status
    item.status = target
    item.updated_at = now
    item.version += 1
    _record_transition(session, grant, item, before, target, subject, note.strip()[:NOTE_MAX], now)
    session.flush()
    policy.record_change(
        session, subject, rule, object_type="recommendation", object_id=item.id, level=item.level,
        detail={"from": before.value, "to": target.value},
    )  # fmt: skip
    return item


# --- reading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecommendationEntry:
    """A recommendation as one reader meets it; a withheld one shows only that it exists, and its status."""

    item: Recommendation
    readable: bool
    title: str | None = None
    owner_name: str | None = None
    #: The room's keys were shredded or the row was altered.
    unavailable: bool = False


def _owner_names(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {row[0]: row[1] for row in rows}


def for_reader(session: Session, subject: Subject, room: Subcommittee) -> list[RecommendationEntry]:
    items = session.scalars(
        select(Recommendation)
        .where(Recommendation.subcommittee_id == room.id)
        .order_by(Recommendation.updated_at.desc())
    ).all()
    views = view_parts(
        session, subject, room.id, items, object_type="recommendation", rule="recommendation.read"
    )
    names = _owner_names(session, {v.part.owner_id for v in views if v.readable})
    entries = []
    for view in views:
        if view.grant is None:
            entries.append(RecommendationEntry(view.part, False))
            continue
        try:
            title = open_part(session, view.grant, view.part, "title")
        except (KeyDestroyed, IntegrityError):
            entries.append(RecommendationEntry(view.part, False, unavailable=True))
            continue
        entries.append(RecommendationEntry(view.part, True, title, names.get(view.part.owner_id)))
    return entries


def board(entries: list[RecommendationEntry]) -> dict[RecommendationStatus, list[RecommendationEntry]]:
    """The recommendations by status, in lifecycle order (every status has its column, even empty)."""
    columns: dict[RecommendationStatus, list[RecommendationEntry]] = {s: [] for s in RecommendationStatus}
    for entry in entries:
        columns[entry.item.status].append(entry)
    return columns


@dataclass(frozen=True)
class HistoryEntry:
    from_status: RecommendationStatus | None
    to_status: RecommendationStatus
    actor_name: str
    at: datetime
    note: str


@dataclass(frozen=True)
class LinkedItem:
    kind: str  # "document" or "output"
    id: uuid.UUID
    title: str
    level: Level
    release: ReleaseMarking


@dataclass(frozen=True)
class RecommendationPage:
    room: Subcommittee
    item: Recommendation
    title: str
    body: str
    owner_name: str
    history: list[HistoryEntry]
    links: list[LinkedItem]
    moves: list[RecommendationStatus] = field(default_factory=list)


def linked_material(
    session: Session, subject: Subject, room: Subcommittee, item: Recommendation
) -> list[LinkedItem]:
    """The linked documents and outputs this reader may read (the others are left out)."""
    documents = {d.id: d.title for d in agenda_changes.linkable_documents(session, subject, room)}
    outputs = {o.id: o.title for o in agenda_changes.linkable_outputs(session, subject, room)}
    found = []
    for link in item.links:
        if link.document_id is not None and link.document_id in documents:
            document = session.get(Document, link.document_id)
            assert document is not None
            found.append(
                LinkedItem("document", document.id, documents[document.id], document.level, document.release)
            )
        elif link.output_id is not None and link.output_id in outputs:
            output = session.get(ThinkTankOutput, link.output_id)
            assert output is not None
            found.append(LinkedItem("output", output.id, outputs[output.id], output.level, output.release))
    return found


def recommendation_page(
    session: Session, subject: Subject, room_id: uuid.UUID, recommendation_id: uuid.UUID
) -> RecommendationPage:
    room = open_policy_room(session, subject, room_id)
    item, grant = recommendation_of(session, subject, room, recommendation_id, "recommendation.read")
    names = _owner_names(session, {item.owner_id, *(t.actor_id for t in item.transitions)})
    history = [
        HistoryEntry(
            t.from_status, t.to_status, names.get(t.actor_id, "?"), t.at,
            open_part(session, grant, t, "note") if t.note_sealed is not None else "",
        )
        for t in item.transitions
    ]  # fmt: skip
    return RecommendationPage(
        room, item, open_part(session, grant, item, "title"), open_part(session, grant, item, "body"),
        names.get(item.owner_id, "?"), history, linked_material(session, subject, room, item),
        allowed_moves(item.status) if is_steward(subject, room) else [],
    )  # fmt: skip
