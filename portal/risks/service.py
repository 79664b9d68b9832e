"""The risk register: every way a risk comes to exist or change, and who may.

The room's stewards (its chair, or a secretariat member of the room) add, edit and retire risks in a
risk-review room, each under its own marking (``parts.require_mark``). A risk's owner or a steward records a
review (scores before and after, a sealed note), which sets the next review date. Each risk is read under
``policy.decide_read_part``: a reader who may not read it meets a withheld line, and its sealed texts and
scores are never shown to them. Proposals from think-tank assessments are in :mod:`portal.risks.proposals`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.db import utcnow
from portal.meetings.access import open_part, require_part, seal_part
from portal.meetings.followup_read import today_in
from portal.meetings.forms import PartMarkingInput
from portal.meetings.parts import apply_marking, require_mark
from portal.risks.models import Infrastructure, ReviewSource, Risk, RiskReview
from portal.rooms import service as rooms
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.policy import Grant, Subject

TEXT_MAX = 20_000
TITLE_MAX = 300
#: The sealed text columns of a risk.
TEXT_COLUMNS = ("title", "scenario", "peacetime_measures", "emergency_measures")


class RiskRefused(Exception):
    """A risk or review that cannot be saved as asked; ``code`` is translated by the view.

    EMPTY_TITLE, OWNER_NOT_MEMBER (the owner holds no seat in the room), OWNER_CANNOT_READ (the owner could
    not read the risk under its marking), BAD_SCORE (not 1–5), BAD_DEPENDENCY (an unknown infrastructure or
    an edge from one to itself), BAD_INTERVAL, RETIRED (the risk is retired), EMPTY_NOTE."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class RiskConflict(Exception):
    """The risk changed since the editor opened it (its version moved on); nothing was saved."""

    def __init__(self, risk: Risk) -> None:
        super().__init__("risk changed")
        self.risk = risk


@dataclass(frozen=True)
class Scores:
    likelihood: int
    impact: int
    residual_likelihood: int
    residual_impact: int

    @classmethod
    def of(cls, risk: Risk) -> Scores:
        return cls(risk.likelihood, risk.impact, risk.residual_likelihood, risk.residual_impact)

    def check(self) -> None:
        values = (self.likelihood, self.impact, self.residual_likelihood, self.residual_impact)
        if any(not 1 <= value <= 5 for value in values):
            raise RiskRefused("BAD_SCORE")


@dataclass(frozen=True)
class RiskInput:
    title: str
    scenario: str
    peacetime_measures: str
    emergency_measures: str
    scores: Scores
    owner_id: uuid.UUID
    dependencies: Sequence[tuple[str, str]]
    review_interval_days: int
    marking: PartMarkingInput
    #: None: today plus the interval.
    next_review_on: date | None = None


@dataclass(frozen=True)
class OpenedRisk:
    risk: Risk
    room: Subcommittee
    grant: Grant


def parse_dependencies(text: str) -> list[tuple[str, str]]:
    """``power>telecom telecom>payments`` (or one edge a line) into edges of known infrastructures."""
    known = {item.value for item in Infrastructure}
    edges: list[tuple[str, str]] = []
    for token in text.replace(",", " ").split():
        source, arrow, target = token.partition(">")
        if not arrow or source not in known or target not in known or source == target:
            raise RiskRefused("BAD_DEPENDENCY")
        if (source, target) not in edges:
            edges.append((source, target))
    return edges


def join_dependencies(edges: Sequence[tuple[str, str]]) -> str:
    return " ".join(f"{source}>{target}" for source, target in edges)


# --- loading ----------------------------------------------------------------------------------------


def open_risk(session: Session, subject: Subject, risk_id: uuid.UUID, rule: str = "risk.read") -> OpenedRisk:
    """A risk the subject may read (otherwise 404, audited, exactly like a risk that does not exist)."""
    risk = session.get(Risk, risk_id)
    if risk is None:
        policy.require(
            session, subject, policy.deny(rule, "NOT_FOUND"), object_type="risk", object_id=risk_id,
            conceal=True,
        )  # fmt: skip
    assert risk is not None
    room = session.get(Subcommittee, risk.subcommittee_id)
    assert room is not None
    grant = require_part(session, subject, room.id, risk, object_type="risk", rule=rule)
    return OpenedRisk(risk, room, grant)


def risk_texts(session: Session, opened: OpenedRisk) -> dict[str, str]:
    return {column: open_part(session, opened.grant, opened.risk, column) for column in TEXT_COLUMNS}


def review_flag(session: Session, opened: OpenedRisk) -> str | None:
    risk = opened.risk
    return None if risk.review_flag_sealed is None else open_part(session, opened.grant, risk, "review_flag")


# --- writing ----------------------------------------------------------------------------------------


def _require_keep(
    session: Session, subject: Subject, room: Subcommittee, rule: str, object_id: object
) -> None:
    decision = policy.decide_keep_register(subject, room, rule)
    policy.require(session, subject, decision, object_type="risk", object_id=object_id)


def _check_owner(session: Session, room: Subcommittee, risk: Risk, owner_id: uuid.UUID) -> None:
    now = utcnow()
    if owner_id not in {m.user_id for m in rooms.current_members(session, room.id, now)}:
        raise RiskRefused("OWNER_NOT_MEMBER")
    owner = session.get(User, owner_id)
    assert owner is not None
    if not policy.decide_read_part(policy.load_subject(session, owner, now), room.id, risk, "risk.read"):
        raise RiskRefused("OWNER_CANNOT_READ")


def _check_input(change: RiskInput) -> str:
    title = change.title.strip()[:TITLE_MAX]
    if not title:
        raise RiskRefused("EMPTY_TITLE")
    change.scores.check()
    if not 1 <= change.review_interval_days <= 3660:
        raise RiskRefused("BAD_INTERVAL")
    known = {item.value for item in Infrastructure}
    for source, target in change.dependencies:
        if source not in known or target not in known or source == target:
            raise RiskRefused("BAD_DEPENDENCY")
    return title


def _write(
    session: Session,
    subject: Subject,
    grant: Grant,
    risk: Risk,
    room: Subcommittee,
    change: RiskInput,
    title: str,
) -> None:
    """Apply the marking first (the level is bound into every sealed value), then the texts and figures."""
    apply_marking(session, subject, grant, risk, room.id, change.marking)
    seal_part(
        session, grant, risk, room.id,
        {
            "title": title,
            "scenario": change.scenario.strip()[:TEXT_MAX],
            "peacetime_measures": change.peacetime_measures.strip()[:TEXT_MAX],
            "emergency_measures": change.emergency_measures.strip()[:TEXT_MAX],
        },
    )  # fmt: skip
    risk.likelihood = change.scores.likelihood
    risk.impact = change.scores.impact
    risk.residual_likelihood = change.scores.residual_likelihood
    risk.residual_impact = change.scores.residual_impact
    risk.owner_id = change.owner_id
    risk.dependency_edges_text = join_dependencies(change.dependencies)
    risk.review_interval_days = change.review_interval_days


def create_risk(session: Session, subject: Subject, room: Subcommittee, new: RiskInput) -> Risk:
    risk = Risk(id=uuid.uuid4(), subcommittee_id=room.id, created_by_id=subject.user_id)
    _require_keep(session, subject, room, "risk.create", risk.id)
    grant = require_mark(
        session, subject, room, new.marking, rule="risk.create", object_type="risk", object_id=risk.id
    )
    title = _check_input(new)
    _write(session, subject, grant, risk, room, new, title)
    _check_owner(session, room, risk, new.owner_id)
    risk.next_review_on = new.next_review_on or today_in(utcnow()) + timedelta(days=new.review_interval_days)
    session.add(risk)
    session.flush()
    policy.record_change(
        session, subject, "risk.create", object_type="risk", object_id=risk.id, level=risk.level,
        detail={"room": str(room.id), "caveats": sorted(risk.caveat_codes)},
    )  # fmt: skip
    return risk


def _reseal_history(session: Session, grant: Grant, risk: Risk, room_id: uuid.UUID, old: Grant) -> None:
    """A re-marked risk re-seals its review notes under the new level, in the same transaction."""
    for review in session.scalars(select(RiskReview).where(RiskReview.risk_id == risk.id)):
        note = open_part(session, old, review, "note")
        review.level = risk.level
        seal_part(session, grant, review, room_id, {"note": note})


def edit_risk(
    session: Session, subject: Subject, risk_id: uuid.UUID, change: RiskInput, base_version: int
) -> Risk:
    """Re-mark and re-word a risk. An edit based on an older version raises :class:`RiskConflict`; a change
    of scores is kept in the risk's history (source ``edit``)."""
    opened = open_risk(session, subject, risk_id, "risk.edit")
    risk, room = opened.risk, opened.room
    _require_keep(session, subject, room, "risk.edit", risk.id)
    if risk.retired_at is not None:
        raise RiskRefused("RETIRED")
    grant = require_mark(
        session, subject, room, change.marking, rule="risk.edit", object_type="risk", object_id=risk.id
    )
    title = _check_input(change)
    if risk.version != base_version:
        raise RiskConflict(risk)
    flag = review_flag(session, opened)
    before = Scores.of(risk)
    old_level = risk.level
    _write(session, subject, grant, risk, room, change, title)
    _check_owner(session, room, risk, change.owner_id)
    if flag is not None:
        seal_part(session, grant, risk, room.id, {"review_flag": flag})
    if risk.level != old_level:
        _reseal_history(session, grant, risk, room.id, opened.grant)
    if change.next_review_on is not None:
        risk.next_review_on = change.next_review_on
    if Scores.of(risk) != before:
        add_history(session, subject, grant, risk, room.id, before, ReviewSource.EDIT, "")
    risk.version += 1
    risk.updated_at = utcnow()
    policy.record_change(
        session, subject, "risk.edit", object_type="risk", object_id=risk.id, level=risk.level,
        detail={"from_level": int(old_level), "caveats": sorted(risk.caveat_codes)},
    )  # fmt: skip
    return risk


def retire_risk(session: Session, subject: Subject, risk_id: uuid.UUID) -> Risk:
    """Take a risk off the register; it is kept, with its history, and no longer drawn or due."""
    opened = open_risk(session, subject, risk_id, "risk.retire")
    _require_keep(session, subject, opened.room, "risk.retire", risk_id)
    risk = opened.risk
    if risk.retired_at is None:
        risk.retired_at = utcnow()
        risk.version += 1
        policy.record_change(
            session, subject, "risk.retire", object_type="risk", object_id=risk.id, level=risk.level
        )
    return risk


def add_history(
    session: Session,
    subject: Subject,
    grant: Grant,
    risk: Risk,
    room_id: uuid.UUID,
    before: Scores,
    source: ReviewSource,
    note: str,
) -> RiskReview:
    review = RiskReview(
        id=uuid.uuid4(),
        risk_id=risk.id,
        source=source,
        level=risk.level,
        likelihood_before=before.likelihood,
        impact_before=before.impact,
        residual_likelihood_before=before.residual_likelihood,
        residual_impact_before=before.residual_impact,
        likelihood_after=risk.likelihood,
        impact_after=risk.impact,
        residual_likelihood_after=risk.residual_likelihood,
        residual_impact_after=risk.residual_impact,
        reviewed_by_id=subject.user_id,
        reviewed_at=utcnow(),
    )
    seal_part(session, grant, review, room_id, {"note": note})
    session.add(review)
    return review


# --- reviews ----------------------------------------------------------------------------------------


def record_review(
    session: Session,
    subject: Subject,
    risk_id: uuid.UUID,
    after: Scores,
    note: str,
    today: date | None = None,
) -> RiskReview:
    """The owner or a steward reviews a risk: the scores before and after and a note (sealed) are kept;
    the next review falls one interval after today, and a flag for early review is cleared."""
    opened = open_risk(session, subject, risk_id, "risk.review")
    risk, room = opened.risk, opened.room
    decision = policy.decide_review_risk(subject, room, risk, risk.owner_id)
    policy.require(session, subject, decision, object_type="risk", object_id=risk.id, level=risk.level)
    if risk.retired_at is not None:
        raise RiskRefused("RETIRED")
    after.check()
    cleaned = note.strip()[:TEXT_MAX]
    if not cleaned:
        raise RiskRefused("EMPTY_NOTE")
    grant = policy.grant_for_part(subject, decision, "risk", risk)
    before = Scores.of(risk)
    risk.likelihood, risk.impact = after.likelihood, after.impact
    risk.residual_likelihood, risk.residual_impact = after.residual_likelihood, after.residual_impact
    review = add_history(session, subject, grant, risk, room.id, before, ReviewSource.REVIEW, cleaned)
    day = today or today_in(utcnow())
    risk.next_review_on = day + timedelta(days=risk.review_interval_days)
    risk.review_flag_sealed = None
    risk.version += 1
    risk.updated_at = utcnow()
    session.flush()
    policy.record_change(
        session, subject, "risk.review", object_type="risk_review", object_id=review.id, level=risk.level,
        detail={"risk": str(risk.id), "before": before.__dict__, "after": after.__dict__},
    )  # fmt: skip
    return review


def flag_for_review(
    session: Session, subject: Subject, risk_ids: Sequence[uuid.UUID], reason: str
) -> list[Risk]:
    """Mark risks as due for review now (next review date = today) with a note of why (sealed), e.g. after
    a tabletop exercise. The subject must read each risk and keep its room's register; a refusal of any
    one is audited and nothing changes. Each flag is audited (``risk.flag``)."""
    cleaned = reason.strip()[:TEXT_MAX]
    if not cleaned:
        raise RiskRefused("EMPTY_NOTE")
    today = today_in(utcnow())
    flagged: list[Risk] = []
    for risk_id in dict.fromkeys(risk_ids):
        opened = open_risk(session, subject, risk_id, "risk.flag")
        decision = policy.decide_keep_register(subject, opened.room, "risk.flag")
        policy.require(session, subject, decision, object_type="risk", object_id=risk_id)
        risk = opened.risk
        seal_part(session, opened.grant, risk, opened.room.id, {"review_flag": cleaned})
        risk.next_review_on = min(risk.next_review_on, today)
        risk.version += 1
        flagged.append(risk)
        policy.record_change(
            session, subject, "risk.flag", object_type="risk", object_id=risk.id, level=risk.level
        )
    return flagged
