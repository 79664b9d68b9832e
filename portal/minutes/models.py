"""Minutes: portions with their own marking, kept revision by revision, reviewed, approved and published.

A portion is a paragraph or a section. Its text lives in :class:`PortionText` rows, one per revision in
which it changed; revision *n* of the minutes is, for every portion, its latest text at or before *n*. A
revision is never edited once the minutes leave draft: a correction after publication starts a new draft
revision that goes through review and approval again.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UUIDPrimaryKey, utcnow
from portal.meetings.marking import PartMarking
from portal.models_util import enum_column_type
from portal.security.crypto import FieldContext


class MinutesState(StrEnum):
    DRAFT = "draft"
    CIRCULATED = "circulated"
    APPROVED = "approved"
    PUBLISHED = "published"


class Minutes(UUIDPrimaryKey, Base):
    __tablename__ = "minutes"

    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), unique=True)
    state: Mapped[MinutesState] = mapped_column(enum_column_type(MinutesState), default=MinutesState.DRAFT)
    #: The revision being worked on (draft/circulated/approved) or the one published.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    #: Optimistic concurrency: every save and every step names the version it started from.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    portions: Mapped[list[Portion]] = relationship(
        back_populates="minutes", cascade="all, delete-orphan", lazy="selectin"
    )
    revisions: Mapped[list[MinutesRevision]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="MinutesRevision.number"
    )


class MinutesRevision(UUIDPrimaryKey, Base):
    """One revision of the minutes and what happened to it."""

    __tablename__ = "minutes_revisions"
    __table_args__ = (UniqueConstraint("minutes_id", "number"),)

    minutes_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    #: The revision a correction started from (the published one), if any.
    based_on: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    circulated_at: Mapped[datetime | None]
    approved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    #: SHA-256 over the canonical form of the published portions' sealed texts (also in the audit trail).
    published_hash: Mapped[str | None] = mapped_column(String(64))


class Portion(UUIDPrimaryKey, Base):
    """A portion's identity across revisions (its text and marking are in :class:`PortionText`)."""

    __tablename__ = "minutes_portions"

    minutes_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    minutes: Mapped[Minutes] = relationship(back_populates="portions")
    texts: Mapped[list[PortionText]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="PortionText.revision"
    )


class PortionText(UUIDPrimaryKey, PartMarking, Base):
    """A portion as written in one revision: position, heading, body and marking, sealed at its level."""

    __tablename__ = "minutes_portion_texts"
    __table_args__ = (UniqueConstraint("portion_id", "revision"),)

    portion_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("minutes_portions.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    heading_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    #: Plain text paragraphs (exports lay them out; the page renders them escaped).
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    #: The portion was taken out in this revision.
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    written_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    written_at: Mapped[datetime] = mapped_column(default=utcnow)

    def field_context(self, column: str) -> FieldContext:
        return FieldContext("minutes_portion_texts", column, self.id, int(self.level), "portion")


class PortionComment(UUIDPrimaryKey, Base):
    """An attendee's review comment on one portion of a circulated revision, sealed at that text's level."""

    __tablename__ = "minutes_portion_comments"

    portion_text_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("minutes_portion_texts.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def field_context(self, column: str, level: int) -> FieldContext:
        return FieldContext(
            "minutes_portion_comments", column, self.id, level, "portion", self.portion_text_id
        )
