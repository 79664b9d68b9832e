"""Risks of a risk-review room's register, their reviews, and changes proposed from think-tank assessments.

Every text is sealed with the room's ``fields`` key, bound to its row, column and the level of the risk it
belongs to (a review and a proposal carry the level of their risk, or of the assessment they came from).
Scores are small integers kept in the clear so that lists can sort and draw them; a reader below a risk's
marking never sees them (the page shows a withheld line without scores: a score says what a risk weighs).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UUIDPrimaryKey, utcnow
from portal.enums import Level
from portal.meetings.marking import PartMarking
from portal.models_util import LevelType, enum_column_type
from portal.security.crypto import FieldContext


class Infrastructure(StrEnum):
    """The controlled list of infrastructures a risk may depend on (dependencies are edges between them)."""

    POWER = "power"
    TELECOM = "telecom"
    PAYMENTS = "payments"
    LOGISTICS = "logistics"
    WATER = "water"
    FUEL = "fuel"
    DATA_CENTRE = "data_centre"
    SATELLITE_POSITIONING = "satellite_positioning"
    SUBMARINE_CABLE = "submarine_cable"
    TRANSPORT = "transport"


class ReviewSource(StrEnum):
    #: A periodic review by the owner or a steward.
    REVIEW = "review"
    #: A steward's edit of the scores.
    EDIT = "edit"
    #: A change proposed from a think-tank assessment and accepted by the chair.
    PROPOSAL = "proposal"


class ProposalStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Risk(UUIDPrimaryKey, PartMarking, Base):
    __tablename__ = "risks"

    subcommittee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subcommittees.id"), index=True)
    title_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    #: The assumed scenario (想定シナリオ), including knock-on effects between infrastructures.
    scenario_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    #: 平時の対策.
    peacetime_measures_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    #: 有事の対策.
    emergency_measures_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    #: Inherent likelihood and impact, 1–5 (before the measures).
    likelihood: Mapped[int] = mapped_column(Integer)
    impact: Mapped[int] = mapped_column(Integer)
    #: Residual likelihood and impact, 1–5 (with the measures in place).
    residual_likelihood: Mapped[int] = mapped_column(Integer)
    residual_impact: Mapped[int] = mapped_column(Integer)
    #: A current member of the room who keeps the risk under review.
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    #: Dependency edges between infrastructures, "source>target" codes, space-separated (a few per risk,
    #: always read with the risk, never searched: no link table).
    dependency_edges_text: Mapped[str] = mapped_column(Text, default="")
    review_interval_days: Mapped[int] = mapped_column(Integer, default=180)
    next_review_on: Mapped[date] = mapped_column(Date)
    #: Why the risk was flagged for review before its time (e.g. after a tabletop exercise), sealed.
    review_flag_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Retired from the register (kept, with its history, for the record).
    retired_at: Mapped[datetime | None]
    #: Optimistic concurrency for edits.
    version: Mapped[int] = mapped_column(Integer, default=1)

    def field_context(self, column: str) -> FieldContext:
        return FieldContext("risks", column, self.id, int(self.level), "risk")

    @property
    def score(self) -> int:
        return self.likelihood * self.impact

    @property
    def residual_score(self) -> int:
        return self.residual_likelihood * self.residual_impact

    @property
    def dependency_edges(self) -> list[tuple[str, str]]:
        edges = []
        for text in self.dependency_edges_text.split():
            source, _, target = text.partition(">")
            edges.append((source, target))
        return edges


class RiskReview(UUIDPrimaryKey, Base):
    """One entry of a risk's history: the scores before and after, a sealed note, who and when."""

    __tablename__ = "risk_reviews"

    risk_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("risks.id", ondelete="CASCADE"), index=True)
    source: Mapped[ReviewSource] = mapped_column(enum_column_type(ReviewSource), default=ReviewSource.REVIEW)
    #: The level of the risk when the note was sealed (re-sealed with the risk when it is re-marked).
    level: Mapped[Level] = mapped_column(LevelType(), default=Level.RESTRICTED)
    likelihood_before: Mapped[int] = mapped_column(Integer)
    impact_before: Mapped[int] = mapped_column(Integer)
    residual_likelihood_before: Mapped[int] = mapped_column(Integer)
    residual_impact_before: Mapped[int] = mapped_column(Integer)
    likelihood_after: Mapped[int] = mapped_column(Integer)
    impact_after: Mapped[int] = mapped_column(Integer)
    residual_likelihood_after: Mapped[int] = mapped_column(Integer)
    residual_impact_after: Mapped[int] = mapped_column(Integer)
    note_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    reviewed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime] = mapped_column(default=utcnow)

    def field_context(self, column: str) -> FieldContext:
        # Opened with the grant of its risk: a review is read by those who read the risk.
        return FieldContext("risk_reviews", column, self.id, int(self.level), "risk", self.risk_id)

    @property
    def score_before(self) -> int:
        return self.likelihood_before * self.impact_before

    @property
    def score_after(self) -> int:
        return self.likelihood_after * self.impact_after

    @property
    def residual_score_before(self) -> int:
        return self.residual_likelihood_before * self.residual_impact_before

    @property
    def residual_score_after(self) -> int:
        return self.residual_likelihood_after * self.residual_impact_after


class RiskProposal(UUIDPrimaryKey, PartMarking, Base):
    """A change proposed into a room's register from one row of a think-tank risk assessment: a new risk,
    or an update of the risk of the same title. It carries the assessment's level, caveats and release."""

    __tablename__ = "risk_proposals"

    subcommittee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subcommittees.id"), index=True)
    output_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("thinktank_outputs.id"))
    #: The risk of the same title at the time of the proposal (an update), or None (a new risk).
    risk_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("risks.id"))
    #: The row's position in the assessment's CSV (1-based), to show the changes in the analyst's order.
    row_number: Mapped[int] = mapped_column(Integer)
    name_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    likelihood: Mapped[int] = mapped_column(Integer)
    impact: Mapped[int] = mapped_column(Integer)
    status: Mapped[ProposalStatus] = mapped_column(
        enum_column_type(ProposalStatus, length=16), default=ProposalStatus.PENDING
    )
    proposed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    #: Why the chair rejected the change (sealed); kept with the proposal.
    decision_reason_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: The risk the accepted change created or updated.
    result_risk_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("risks.id"))
    #: Marks one proposal run (all rows proposed together), shown as one batch.
    batch: Mapped[str] = mapped_column(String(36))

    def field_context(self, column: str) -> FieldContext:
        return FieldContext("risk_proposals", column, self.id, int(self.level), "risk_proposal")
