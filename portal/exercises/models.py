"""Tabletop exercises (机上演習, TTX) of a risk-review room: a scenario, an inject timeline, the run, the
participants' responses and the after-action record.

Every text is sealed with the room's ``fields`` key, bound to its row, column and level. The exercise's own
marking covers its title and scenario; each inject carries its own marking (a reader below it meets a
withheld line). A response is sealed under the level of the inject it answers.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UUIDPrimaryKey, utcnow
from portal.enums import Level
from portal.meetings.marking import PartMarking
from portal.models_util import LevelType, enum_column_type
from portal.security.crypto import FieldContext


class ExerciseStatus(StrEnum):
    PLANNED = "planned"
    RUNNING = "running"
    FINISHED = "finished"


class Exercise(UUIDPrimaryKey, PartMarking, Base):
    __tablename__ = "exercises"

    subcommittee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subcommittees.id"), index=True)
    title_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    #: The assumed scenario (Markdown, rendered only through portal.security.sanitize).
    scenario_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    held_on: Mapped[date] = mapped_column(Date)
    #: A steward of the room who runs the exercise (starts it, reveals injects, writes the after-action).
    facilitator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    status: Mapped[ExerciseStatus] = mapped_column(
        enum_column_type(ExerciseStatus), default=ExerciseStatus.PLANNED
    )
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    #: The meeting record that holds the after-action findings (made on the first finding).
    meeting_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("meetings.id"))
    #: Risks of the room's register the after-action found affected (ids, space-separated).
    affected_risk_ids_text: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Optimistic concurrency for the exercise's own fields.
    version: Mapped[int] = mapped_column(Integer, default=1)

    def field_context(self, column: str) -> FieldContext:
        return FieldContext("exercises", column, self.id, int(self.level), "exercise")

    @property
    def affected_risk_ids(self) -> list[str]:
        return self.affected_risk_ids_text.split()


class ExerciseParticipant(UUIDPrimaryKey, Base):
    """A member of the room who takes part (sees revealed injects and records responses)."""

    __tablename__ = "exercise_participants"
    __table_args__ = (UniqueConstraint("exercise_id", "user_id"),)

    exercise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exercises.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)


class Inject(UUIDPrimaryKey, PartMarking, Base):
    """One message of the timeline, given to the players at its time offset (T+0:30 = 30 minutes)."""

    __tablename__ = "exercise_injects"

    exercise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exercises.id", ondelete="CASCADE"), index=True)
    offset_minutes: Mapped[int] = mapped_column(Integer, default=0)
    text_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    #: From which role or organisation the inject comes, and to which it goes.
    sender_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    recipient_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    expected_action_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    #: When the facilitator revealed it during the run; None before.
    revealed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def field_context(self, column: str) -> FieldContext:
        return FieldContext("exercise_injects", column, self.id, int(self.level), "inject")


class InjectResponse(UUIDPrimaryKey, Base):
    """A participant's response to a revealed inject, sealed under the inject's level at the time."""

    __tablename__ = "exercise_responses"

    inject_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("exercise_injects.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    level: Mapped[Level] = mapped_column(LevelType(), default=Level.RESTRICTED)
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def field_context(self, column: str) -> FieldContext:
        return FieldContext("exercise_responses", column, self.id, int(self.level), "inject", self.inject_id)


class RiskFlagRequest(UUIDPrimaryKey, Base):
    """A request to flag a risk of the register for review after an exercise, kept until the risk register
    (``portal.risks``) takes it: ``delivered_at`` is set when it did."""

    __tablename__ = "exercise_risk_flags"

    exercise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exercises.id", ondelete="CASCADE"), index=True)
    risk_id: Mapped[str] = mapped_column(String(64))
    #: A fixed wording with the exercise's id (no sealed text: it crosses to another feature).
    reason: Mapped[str] = mapped_column(String(200))
    requested_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
