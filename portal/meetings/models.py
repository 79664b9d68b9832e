"""Meetings, their agenda (with published revisions), attendance, findings and action items.

Every text is sealed with the room's ``fields`` key, bound to its row, column and the level of the part it
belongs to. A meeting's own level covers its title and place; each agenda item, finding and action item
carries its own marking (:class:`PartMarking`) and is shown only to those who may read it.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UUIDPrimaryKey, utcnow
from portal.enums import Level
from portal.meetings.marking import PartMarking
from portal.models_util import LevelType, enum_column_type
from portal.security.crypto import FieldContext


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class AttendanceResponse(StrEnum):
    ATTEND = "attend"
    DECLINE = "decline"
    PROXY = "proxy"


class ActionStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class Meeting(UUIDPrimaryKey, Base):
    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_room_starts", "subcommittee_id", "starts_at"),)

    subcommittee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subcommittees.id"))
    #: The level of the meeting's title and place; members below it do not see the meeting at all.
    level: Mapped[Level] = mapped_column(LevelType(), default=Level.RESTRICTED)
    title_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    #: A room or an online link (sealed: a link may carry a meeting password).
    place_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    #: Stored in UTC; entered and shown in the user's time zone (Asia/Tokyo by default).
    starts_at: Mapped[datetime] = mapped_column()
    duration_minutes: Mapped[int] = mapped_column(Integer, default=120)
    status: Mapped[MeetingStatus] = mapped_column(
        enum_column_type(MeetingStatus), default=MeetingStatus.SCHEDULED
    )
    #: 招集: convened at short notice in a rapid-response room (members were notified at once).
    convened_at: Mapped[datetime | None]
    #: 0 until the agenda is first published; then the number of the latest published agenda revision.
    agenda_revision: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Optimistic concurrency for the meeting's own fields.
    version: Mapped[int] = mapped_column(Integer, default=1)

    agenda_items: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting", order_by="AgendaItem.position", cascade="all, delete-orphan"
    )

    def field_context(self, column: str) -> FieldContext:
        return FieldContext("meetings", column, self.id, int(self.level), "meeting")

    @property
    def agenda_published(self) -> bool:
        return self.agenda_revision > 0


class AgendaItem(UUIDPrimaryKey, PartMarking, Base):
    __tablename__ = "agenda_items"

    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    #: Who presents (a name or an organisation, as the secretariat writes it).
    presenter_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=10)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Removed from the agenda (kept, so published revisions still show it).
    removed_at: Mapped[datetime | None]

    meeting: Mapped[Meeting] = relationship(back_populates="agenda_items")
    links: Mapped[list[AgendaLink]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    def field_context(self, column: str) -> FieldContext:
        return FieldContext("agenda_items", column, self.id, int(self.level), "agenda_item")


class AgendaLink(UUIDPrimaryKey, Base):
    """Material linked to an agenda item: a document of the room or an attached think-tank output. Shown
    only when the reader may read both the item and the material."""

    __tablename__ = "agenda_links"

    agenda_item_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True
    )
    document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"))
    output_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("thinktank_outputs.id"))


class AgendaRevision(UUIDPrimaryKey, Base):
    """A published state of the agenda. The first is the publication; each change after it adds one."""

    __tablename__ = "agenda_revisions"
    __table_args__ = (UniqueConstraint("meeting_id", "number"),)

    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    published_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)

    entries: Mapped[list[AgendaRevisionEntry]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="AgendaRevisionEntry.position"
    )


class AgendaRevisionEntry(UUIDPrimaryKey, PartMarking, Base):
    """One item as it stood in a published revision (its own sealed copy, under the item's level then)."""

    __tablename__ = "agenda_revision_entries"

    revision_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agenda_revisions.id", ondelete="CASCADE"), index=True
    )
    agenda_item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    title_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    presenter_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    duration_minutes: Mapped[int] = mapped_column(Integer)

    def field_context(self, column: str) -> FieldContext:
        return FieldContext(
            "agenda_revision_entries", column, self.id, int(self.level), "agenda_item", self.agenda_item_id
        )


class Attendance(UUIDPrimaryKey, Base):
    """A member's answer (attend / decline / by proxy) and, after the meeting, whether they were there."""

    __tablename__ = "attendances"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    response: Mapped[AttendanceResponse | None] = mapped_column(enum_column_type(AttendanceResponse))
    #: Who attends in the member's place (sealed under the meeting's level: a name is personal data).
    proxy_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    responded_at: Mapped[datetime | None]
    #: Recorded by the secretariat: True present, False absent, None not yet recorded.
    present: Mapped[bool | None] = mapped_column(Boolean)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    def field_context(self, column: str, meeting_level: int) -> FieldContext:
        """Opened with the meeting's grant (whoever may see the meeting sees who comes in whose place)."""
        return FieldContext("attendances", column, self.id, meeting_level, "meeting", self.meeting_id)


class Finding(UUIDPrimaryKey, PartMarking, Base):
    """所見・結論: a finding of a meeting, or of one of its agenda items."""

    __tablename__ = "findings"

    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    agenda_item_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agenda_items.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: Markdown, rendered only through portal.security.sanitize.
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def field_context(self, column: str) -> FieldContext:
        return FieldContext("findings", column, self.id, int(self.level), "finding")


class ActionItem(UUIDPrimaryKey, PartMarking, Base):
    __tablename__ = "action_items"

    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    finding_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("findings.id"))
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    title_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[ActionStatus] = mapped_column(enum_column_type(ActionStatus), default=ActionStatus.OPEN)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    def field_context(self, column: str) -> FieldContext:
        return FieldContext("action_items", column, self.id, int(self.level), "action_item")


class CalendarFeed(UUIDPrimaryKey, Base):
    """A user's secret calendar address. Only the SHA-256 of the secret is kept; revoking ends it."""

    __tablename__ = "calendar_feeds"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
