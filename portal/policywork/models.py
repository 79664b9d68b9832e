"""The work plan (themes and their milestones) and the recommendations (提言) of a policy-coordination room.

A theme and a recommendation each carry their own marking (:class:`PartMarking`) and are read under
``policy.decide_read_part`` like a meeting's parts. A milestone is sealed under its theme's level and opened
with the theme's grant; a transition's note is sealed under its recommendation's level and opened with the
recommendation's grant (each row keeps that level, so its sealed value opens on its own).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UUIDPrimaryKey, utcnow
from portal.enums import Level, Sector
from portal.meetings.marking import PartMarking
from portal.models_util import LevelType, enum_column_type
from portal.security.crypto import FieldContext


class RecommendationStatus(StrEnum):
    DRAFTED = "drafted"
    DELIBERATION = "deliberation"
    AGREED = "agreed"
    SUBMITTED = "submitted"
    REFLECTED = "reflected"


#: The lifecycle, in order: a recommendation moves one step forward (or from deliberation back to drafting).
LIFECYCLE = list(RecommendationStatus)


def allowed_moves(status: RecommendationStatus) -> list[RecommendationStatus]:
    """The statuses a recommendation in ``status`` may move to."""
    index = LIFECYCLE.index(status)
    moves = [LIFECYCLE[index + 1]] if index + 1 < len(LIFECYCLE) else []
    if status == RecommendationStatus.DELIBERATION:
        moves.append(RecommendationStatus.DRAFTED)
    return moves


class WorkTheme(UUIDPrimaryKey, PartMarking, Base):
    """A theme of the room's work plan (e.g. フロンティアモデルのリスク評価)."""

    __tablename__ = "work_themes"

    subcommittee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subcommittees.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    description_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="theme",
        order_by="(Milestone.due_on, Milestone.created_at)",
        cascade="all, delete-orphan",
    )

    def field_context(self, column: str) -> FieldContext:
        return FieldContext("work_themes", column, self.id, int(self.level), "work_theme")


class Milestone(UUIDPrimaryKey, Base):
    __tablename__ = "work_milestones"

    theme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_themes.id", ondelete="CASCADE"), index=True)
    #: The theme's level when the title was sealed (re-sealed with the theme's).
    level: Mapped[Level] = mapped_column(LevelType(), default=Level.RESTRICTED)
    title_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    due_on: Mapped[date] = mapped_column(Date)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    theme: Mapped[WorkTheme] = relationship(back_populates="milestones")

    def field_context(self, column: str) -> FieldContext:
        return FieldContext("work_milestones", column, self.id, int(self.level), "work_theme", self.theme_id)


class Recommendation(UUIDPrimaryKey, PartMarking, Base):
    """提言: a recommendation the room drafts, deliberates, agrees and submits to the government."""

    __tablename__ = "recommendations"

    subcommittee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subcommittees.id"), index=True)
    title_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    #: Markdown, rendered only through portal.security.sanitize.
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    status: Mapped[RecommendationStatus] = mapped_column(
        enum_column_type(RecommendationStatus), default=RecommendationStatus.DRAFTED
    )
    #: The sectors concerned (Sector values), space-separated.
    sector_codes_text: Mapped[str] = mapped_column(String(400), default="")
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Optimistic concurrency: a transition names the version it was asked from.
    version: Mapped[int] = mapped_column(Integer, default=1)

    links: Mapped[list[RecommendationLink]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    transitions: Mapped[list[RecommendationTransition]] = relationship(
        order_by="RecommendationTransition.at", cascade="all, delete-orphan"
    )

    @property
    def sectors(self) -> list[Sector]:
        return [Sector(code) for code in self.sector_codes_text.split() if code in Sector._value2member_map_]

    def field_context(self, column: str) -> FieldContext:
        return FieldContext("recommendations", column, self.id, int(self.level), "recommendation")


class RecommendationLink(UUIDPrimaryKey, Base):
    """A document of the room or an output attached to it; shown only to readers of both."""

    __tablename__ = "recommendation_links"

    recommendation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("recommendations.id", ondelete="CASCADE"), index=True
    )
    document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"))
    output_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("thinktank_outputs.id"))


class RecommendationTransition(UUIDPrimaryKey, Base):
    """One step of a recommendation's lifecycle: who moved it, when, from what to what, and why."""

    __tablename__ = "recommendation_transitions"

    recommendation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("recommendations.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[RecommendationStatus | None] = mapped_column(enum_column_type(RecommendationStatus))
    to_status: Mapped[RecommendationStatus] = mapped_column(enum_column_type(RecommendationStatus))
    actor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The recommendation's level when the note was sealed (re-sealed with the recommendation's).
    level: Mapped[Level] = mapped_column(LevelType(), default=Level.RESTRICTED)
    note_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)

    def field_context(self, column: str) -> FieldContext:
        return FieldContext(
            "recommendation_transitions", column, self.id, int(self.level), "recommendation",
            self.recommendation_id,
        )  # fmt: skip
