"""The rapid-response room's situation board (状況報告) and countermeasure options (対応策).

Every text is sealed with the room's ``fields`` key, bound to its row, column and level. Reports and
countermeasures carry a part marking (:class:`PartMarking`) and are read under ``policy.decide_read_part``:
a reader who may not read one meets a withheld line. A transition's note is sealed at the level its
countermeasure had when the note was written (kept on the transition row).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UUIDPrimaryKey, utcnow
from portal.enums import Level
from portal.meetings.marking import PartMarking
from portal.models_util import LevelType, enum_column_type
from portal.security.crypto import FieldContext

SEVERITIES = (1, 2, 3, 4)


class CountermeasureStatus(StrEnum):
    PROPOSED = "proposed"
    UNDER_STUDY = "under_study"
    ADOPTED = "adopted"
    REJECTED = "rejected"


class SituationReport(UUIDPrimaryKey, PartMarking, Base):
    """状況報告: what happened, when, reported by whom, how severe, and its impact."""

    __tablename__ = "situation_reports"
    __table_args__ = (Index("ix_situation_reports_room_time", "subcommittee_id", "reported_at"),)

    subcommittee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subcommittees.id"))
    #: When the situation was reported (entered in the author's time zone; stored in UTC).
    reported_at: Mapped[datetime] = mapped_column()
    #: 1 軽微 (minor), 2 中程度 (moderate), 3 重大 (serious), 4 深刻 (severe).
    severity: Mapped[int] = mapped_column(Integer, default=2)
    source_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    happened_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    affected_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    impact_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def field_context(self, column: str) -> FieldContext:
        return FieldContext("situation_reports", column, self.id, int(self.level), "situation_report")


class BoardVisit(Base):
    """When a user last looked at a room's situation board (what is newer is 「新着」 for them)."""

    __tablename__ = "situation_board_visits"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    subcommittee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subcommittees.id"), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column()


class Countermeasure(UUIDPrimaryKey, PartMarking, Base):
    """対応策: an option the room weighs, moved through its statuses by the room's stewards."""

    __tablename__ = "countermeasures"

    subcommittee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subcommittees.id"), index=True)
    title_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    description_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[CountermeasureStatus] = mapped_column(
        enum_column_type(CountermeasureStatus), default=CountermeasureStatus.PROPOSED
    )
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    #: Findings of the room's meetings it follows from (ids, space-separated; read with the row, never
    #: searched for).
    finding_ids_text: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Optimistic concurrency for status changes.
    version: Mapped[int] = mapped_column(Integer, default=1)

    def field_context(self, column: str) -> FieldContext:
        return FieldContext("countermeasures", column, self.id, int(self.level), "countermeasure")

    @property
    def finding_ids(self) -> list[uuid.UUID]:
        return [uuid.UUID(value) for value in self.finding_ids_text.split()]


class CountermeasureTransition(UUIDPrimaryKey, Base):
    """One step of a countermeasure's history: who moved it from what to what, when, and why."""

    __tablename__ = "countermeasure_transitions"

    countermeasure_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("countermeasures.id", ondelete="CASCADE"), index=True
    )
    #: None for the proposal itself.
    from_status: Mapped[CountermeasureStatus | None] = mapped_column(enum_column_type(CountermeasureStatus))
    to_status: Mapped[CountermeasureStatus] = mapped_column(enum_column_type(CountermeasureStatus))
    by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The level of the countermeasure when the note was sealed.
    level: Mapped[Level] = mapped_column(LevelType(), default=Level.RESTRICTED)
    note_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: The action items adopting created (ids, space-separated).
    action_ids_text: Mapped[str] = mapped_column(Text, default="")

    def field_context(self, column: str) -> FieldContext:
        return FieldContext(
            "countermeasure_transitions", column, self.id, int(self.level), "countermeasure",
            self.countermeasure_id,
        )  # fmt: skip
