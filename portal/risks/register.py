"""Reading the register: a room's risks as one reader meets them, the reviews due, a risk's history.

A risk the reader may not read is a withheld line: no title, no scores, no owner, no dependencies (scores
and dependencies tell what a risk weighs and where it lies, so they are withheld with the text). The
charts are drawn from the readable risks only, and the page says how many are withheld.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.meetings.access import PartView, open_part, view_parts
from portal.risks.models import ProposalStatus, Risk, RiskProposal, RiskReview
from portal.risks.service import OpenedRisk
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.policy import Subject


@dataclass(frozen=True)
class RiskLine:
    view: PartView[Risk]
    #: None for a withheld risk.
    title: str | None
    owner_name: str | None
    flag: str | None
    due: bool
    overdue: bool

    @property
    def risk(self) -> Risk:
        return self.view.part

    @property
    def readable(self) -> bool:
        return self.view.readable


@dataclass(frozen=True)
class Register:
    lines: list[RiskLine]

    @property
    def readable(self) -> list[RiskLine]:
        return [line for line in self.lines if line.readable]

    @property
    def withheld_count(self) -> int:
        return sum(1 for line in self.lines if not line.readable)

    @property
    def due(self) -> list[RiskLine]:
        return [line for line in self.readable if line.due]


def _owner_names(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    return {user.id: user.display_name for user in session.scalars(select(User).where(User.id.in_(ids)))}


def _lines(session: Session, views: list[PartView[Risk]], today: date) -> list[RiskLine]:
    owners = _owner_names(session, {view.part.owner_id for view in views if view.readable})
    lines = []
    for view in views:
        risk = view.part
        if view.grant is None:
            lines.append(RiskLine(view, None, None, None, False, False))
            continue
        flag = (
            None if risk.review_flag_sealed is None else open_part(session, view.grant, risk, "review_flag")
        )
        lines.append(
            RiskLine(
                view,
                open_part(session, view.grant, risk, "title"),
                owners.get(risk.owner_id),
                flag,
                due=risk.next_review_on <= today,
                overdue=risk.next_review_on < today,
            )
        )
    return lines


def room_register(session: Session, subject: Subject, room: Subcommittee, today: date) -> Register:
    """The room's current (not retired) risks, residual score highest first, for this reader."""
    risks = session.scalars(
        select(Risk)
        .where(Risk.subcommittee_id == room.id, Risk.retired_at.is_(None))
        .order_by(Risk.created_at, Risk.id)
    ).all()
    views = view_parts(session, subject, room.id, risks, object_type="risk", rule="risk.read")
    lines = _lines(session, views, today)
    lines.sort(key=lambda line: (not line.readable, -line.risk.residual_score if line.readable else 0))
    return Register(lines)


@dataclass(frozen=True)
class DueReview:
    line: RiskLine
    room: Subcommittee


def reviews_due(session: Session, subject: Subject, today: date) -> list[DueReview]:
    """Risks due for review (next review today or earlier) that the subject owns, or in rooms they steward,
    and may read; the most overdue first."""
    if not subject.reads_content or not subject.room_ids:
        return []
    stewarded = policy.steward_room_ids(subject)
    mine = Risk.owner_id == subject.user_id
    condition = mine | Risk.subcommittee_id.in_(stewarded) if stewarded else mine
    risks = session.scalars(
        select(Risk)
        .where(
            condition,
            Risk.subcommittee_id.in_(subject.room_ids),
            Risk.retired_at.is_(None),
            Risk.next_review_on <= today,
        )
        .order_by(Risk.next_review_on, Risk.id)
    ).all()
    found: list[DueReview] = []
    rooms = {
        room.id: room
        for room in session.scalars(
            select(Subcommittee).where(Subcommittee.id.in_({r.subcommittee_id for r in risks}))
        )
    }
    for risk in risks:
        room = rooms[risk.subcommittee_id]
        views = view_parts(session, subject, room.id, [risk], object_type="risk", rule="risk.read")
        if views[0].readable:
            found.append(DueReview(_lines(session, views, today)[0], room))
    return found


@dataclass(frozen=True)
class HistoryEntry:
    review: RiskReview
    note: str
    reviewer_name: str


def history(session: Session, opened: OpenedRisk) -> list[HistoryEntry]:
    """The risk's reviews and recorded changes, oldest first (read with the risk's grant)."""
    reviews = session.scalars(
        select(RiskReview)
        .where(RiskReview.risk_id == opened.risk.id)
        .order_by(RiskReview.reviewed_at, RiskReview.id)
    ).all()
    names = _owner_names(session, {review.reviewed_by_id for review in reviews})
    return [
        HistoryEntry(
            review, open_part(session, opened.grant, review, "note"), names.get(review.reviewed_by_id, "")
        )
        for review in reviews
    ]


@dataclass(frozen=True)
class ProposalLine:
    view: PartView[RiskProposal]
    name: str | None
    #: The title of the risk it would update (None: a new risk, or withheld).
    target_title: str | None
    decision_reason: str | None


def room_proposals(
    session: Session, subject: Subject, room: Subcommittee, pending_only: bool = False
) -> list[ProposalLine]:
    """Proposed changes to the room's register, for the room's stewards (the chair decides them): pending
    first, each readable under its own marking (the assessment's), others withheld. Empty for others."""
    if room.id not in policy.steward_room_ids(subject):
        return []
    query = select(RiskProposal).where(RiskProposal.subcommittee_id == room.id)
    if pending_only:
        query = query.where(RiskProposal.status == ProposalStatus.PENDING)
    proposals = session.scalars(
        query.order_by(RiskProposal.proposed_at.desc(), RiskProposal.row_number)
    ).all()
    views = view_parts(
        session, subject, room.id, proposals, object_type="risk_proposal", rule="risk.proposal.read"
    )
    lines = []
    for view in views:
        proposal = view.part
        if view.grant is None:
            lines.append(ProposalLine(view, None, None, None))
            continue
        target = None
        if proposal.risk_id is not None:
            risk = session.get(Risk, proposal.risk_id)
            if risk is not None:
                read = policy.decide_read_part(subject, room.id, risk, "risk.read")
                if read.allowed:
                    grant = policy.grant_for_part(subject, read, "risk", risk)
                    target = open_part(session, grant, risk, "title")
        reason = (
            open_part(session, view.grant, proposal, "decision_reason")
            if proposal.decision_reason_sealed is not None
            else None
        )
        lines.append(ProposalLine(view, open_part(session, view.grant, proposal, "name"), target, reason))
    lines.sort(key=lambda line: line.view.part.status != ProposalStatus.PENDING)
    return lines
