"""Proposing a think-tank risk assessment into a room's register, and the chair's decision on each change.

Each row of the assessment's CSV (risk, likelihood, impact) becomes a proposed change: an update of the
risk of the same title (among the risks the proposer may read), or a new risk. A proposal carries the
assessment's level, caveats and release marking, so it is read exactly as the assessment would be. The
chair accepts a change (the risk is created, or its inherent scores updated, with an entry in its history)
or rejects it with a reason (the proposal is kept). Everything is audited.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.meetings.access import open_part, seal_part, view_parts
from portal.meetings.followup_read import today_in
from portal.meetings.marking import join_codes
from portal.risks.models import ProposalStatus, ReviewSource, Risk, RiskProposal
from portal.risks.service import TEXT_MAX, RiskRefused, Scores, add_history
from portal.rooms import service as rooms
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.keyring import keyring_of
from portal.security.policy import Marking, Subject
from portal.thinktank import service as outputs
from portal.thinktank.models import OutputKind

#: A risk created from an accepted proposal is reviewed within this many days by default.
DEFAULT_INTERVAL_DAYS = 180


def _normal(title: str) -> str:
    return " ".join(title.split()).casefold()


def propose_assessment(
    session: Session, subject: Subject, room_id: uuid.UUID, output_id: uuid.UUID
) -> list[RiskProposal]:
    """Turn every row of an attached risk assessment into a pending proposed change of the room's register.

    Refused (audited) unless ``policy.decide_propose_assessment`` allows; RiskRefused NOT_RISK_ASSESSMENT
    (not a risk assessment), NO_ROWS (no CSV), ALREADY_PENDING (changes from this output await the chair)."""
    room = rooms.open_room(session, subject, room_id)
    opened = outputs.open_output(session, subject, output_id)
    output = opened.output
    decision = policy.decide_propose_assessment(subject, output, room)
    policy.require(session, subject, decision, object_type="output", object_id=output.id, level=output.level)
    if output.kind != OutputKind.RISK_ASSESSMENT:
        raise RiskRefused("NOT_RISK_ASSESSMENT")
    if not opened.text.risks:
        raise RiskRefused("NO_ROWS")
    pending = session.scalar(
        select(RiskProposal.id).where(
            RiskProposal.subcommittee_id == room.id,
            RiskProposal.output_id == output.id,
            RiskProposal.status == ProposalStatus.PENDING,
        )
    )
    if pending is not None:
        raise RiskRefused("ALREADY_PENDING")
    existing = session.scalars(
        select(Risk)
        .where(Risk.subcommittee_id == room.id, Risk.retired_at.is_(None))
        .order_by(Risk.created_at)
    ).all()
    by_title: dict[str, uuid.UUID] = {}
    for view in view_parts(session, subject, room.id, existing, object_type="risk", rule="risk.read"):
        if view.grant is not None:
            by_title.setdefault(_normal(open_part(session, view.grant, view.part, "title")), view.part.id)
    reason = opened.text.reason
    batch = str(uuid.uuid4())
    made: list[RiskProposal] = []
    for number, row in enumerate(opened.text.risks, start=1):
        proposal = RiskProposal(
            id=uuid.uuid4(),
            subcommittee_id=room.id,
            output_id=output.id,
            risk_id=by_title.get(_normal(row.name)),
            row_number=number,
            likelihood=row.likelihood,
            impact=row.impact,
            proposed_by_id=subject.user_id,
            proposed_at=utcnow(),
            batch=batch,
            level=output.level,
            release=output.release,
            caveat_codes_text=join_codes(output.caveat_codes),
            reader_ids_text="",
            release_organization_ids_text="",
            origin_organization_id=output.organization_id,
        )
        grant = policy.grant_from(decision, subject, "risk_proposal", proposal.id)
        values = {"name": row.name[:TEXT_MAX]}
        if reason:
            values["classification_reason"] = reason
        seal_part(session, grant, proposal, room.id, values)
        session.add(proposal)
        made.append(proposal)
    session.flush()
    policy.record_change(
        session, subject, "risk.propose", object_type="output", object_id=output.id, level=output.level,
        detail={"room": str(room.id), "changes": len(made), "batch": batch},
    )  # fmt: skip
    return made


def require_settle(
    session: Session, subject: Subject, proposal_id: uuid.UUID
) -> tuple[RiskProposal, Subcommittee]:
    proposal = session.get(RiskProposal, proposal_id)
    if proposal is None:
        policy.require(
            session, subject, policy.deny("risk.proposal.decide", "NOT_FOUND"), object_type="risk_proposal",
            object_id=proposal_id, conceal=True,
        )  # fmt: skip
    assert proposal is not None
    room = session.get(Subcommittee, proposal.subcommittee_id)
    assert room is not None
    seen = policy.decide_read_part(subject, room.id, proposal, "risk.proposal.decide")
    decision = policy.decide_settle_proposal(subject, room, proposal)
    policy.require(
        session, subject, decision, object_type="risk_proposal", object_id=proposal.id, level=proposal.level,
        conceal=not seen.allowed,
    )  # fmt: skip
    if proposal.status != ProposalStatus.PENDING:
        raise RiskRefused("ALREADY_DECIDED")
    return proposal, room


def accept_proposal(
    session: Session, subject: Subject, proposal_id: uuid.UUID, today: date | None = None
) -> Risk:
    """The chair accepts a proposed change: the matching risk's inherent scores take the assessment's
    values, or a new risk is created under the assessment's marking (owned by the chair, due for its first
    review today). Either way the risk's history records the change (source ``proposal``)."""
    proposal, room = require_settle(session, subject, proposal_id)
    read = policy.decide_read_part(subject, room.id, proposal, "risk.proposal.decide")
    proposal_grant = policy.grant_for_part(subject, read, "risk_proposal", proposal)
    name = open_part(session, proposal_grant, proposal, "name")
    day = today or today_in(utcnow())
    if proposal.risk_id is not None:
        risk = session.get(Risk, proposal.risk_id)
        assert risk is not None
        decision = policy.decide_read_part(subject, room.id, risk, "risk.edit")
        policy.require(session, subject, decision, object_type="risk", object_id=risk.id, level=risk.level)
        keep = policy.decide_keep_register(subject, room, "risk.edit")
        policy.require(session, subject, keep, object_type="risk", object_id=risk.id)
        if risk.retired_at is not None:
            raise RiskRefused("RETIRED")
        grant = policy.grant_for_part(subject, decision, "risk", risk)
        before = Scores.of(risk)
        risk.likelihood, risk.impact = proposal.likelihood, proposal.impact
        risk.version += 1
        risk.updated_at = utcnow()
    else:
        risk = Risk(id=uuid.uuid4(), subcommittee_id=room.id, created_by_id=subject.user_id)
        marking = Marking(proposal.level, proposal.caveat_codes, frozenset(), "think-tank assessment")
        decision = policy.decide_mark_risk(subject, room, marking, "risk.create")
        policy.require(
            session, subject, decision, object_type="risk", object_id=risk.id, level=proposal.level
        )
        grant = policy.grant_from(decision, subject, "risk", risk.id)
        risk.level, risk.release = proposal.level, proposal.release
        risk.caveat_codes_text = proposal.caveat_codes_text
        risk.reader_ids_text = ""
        risk.release_organization_ids_text = ""
        risk.origin_organization_id = proposal.origin_organization_id
        values = {"title": name, "scenario": "", "peacetime_measures": "", "emergency_measures": ""}
        if proposal.classification_reason_sealed is not None:
            values["classification_reason"] = open_part(
                session, proposal_grant, proposal, "classification_reason"
            )
        seal_part(session, grant, risk, room.id, values)
        risk.likelihood = risk.residual_likelihood = proposal.likelihood
        risk.impact = risk.residual_impact = proposal.impact
        risk.owner_id = subject.user_id
        risk.dependency_edges_text = ""
        risk.review_interval_days = DEFAULT_INTERVAL_DAYS
        risk.next_review_on = day
        session.add(risk)
        session.flush()
        before = Scores.of(risk)
        policy.record_change(
            session, subject, "risk.create", object_type="risk", object_id=risk.id, level=risk.level,
            detail={"room": str(room.id), "from_proposal": str(proposal.id)},
        )  # fmt: skip
    add_history(session, subject, grant, risk, room.id, before, ReviewSource.PROPOSAL, "")
    proposal.status = ProposalStatus.ACCEPTED
    proposal.decided_by_id = subject.user_id
    proposal.decided_at = utcnow()
    proposal.result_risk_id = risk.id
    policy.record_change(
        session, subject, "risk.proposal.accept", object_type="risk_proposal", object_id=proposal.id,
        level=proposal.level, detail={"risk": str(risk.id), "update": proposal.risk_id is not None},
    )  # fmt: skip
    return risk


def reject_proposal(session: Session, subject: Subject, proposal_id: uuid.UUID, reason: str) -> RiskProposal:
    """The chair rejects a proposed change with a reason (sealed); the proposal is kept."""
    proposal, room = require_settle(session, subject, proposal_id)
    cleaned = reason.strip()[:TEXT_MAX]
    if not cleaned:
        raise RiskRefused("EMPTY_NOTE")
    read = policy.decide_read_part(subject, room.id, proposal, "risk.proposal.decide")
    grant = policy.grant_for_part(subject, read, "risk_proposal", proposal)
    proposal.decision_reason_sealed = keyring_of(session).seal(
        session, grant, proposal.field_context("decision_reason"), cleaned, room.id
    )
    proposal.status = ProposalStatus.REJECTED
    proposal.decided_by_id = subject.user_id
    proposal.decided_at = utcnow()
    policy.record_change(
        session, subject, "risk.proposal.reject", object_type="risk_proposal", object_id=proposal.id,
        level=proposal.level,
    )  # fmt: skip
    return proposal
