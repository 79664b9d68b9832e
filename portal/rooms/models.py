"""Subcommittees and who belongs to them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.db import Base, UUIDPrimaryKey, utcnow
from portal.enums import Level, RoomRole, SubcommitteeKind
from portal.models_util import LevelType, enum_column_type, model_repr


class Subcommittee(UUIDPrimaryKey, Base):
    __tablename__ = "subcommittees"

    kind: Mapped[SubcommitteeKind] = mapped_column(enum_column_type(SubcommitteeKind))
    name_ja: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_ja: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    #: The highest level of material the room may hold.
    max_level: Mapped[Level] = mapped_column(LevelType(), default=Level.CONFIDENTIAL)
    #: Members (chairs and members, not observers) present for the meeting to decide; None: a majority.
    quorum: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    archived_at: Mapped[datetime | None]

    memberships: Mapped[list[Membership]] = relationship(back_populates="subcommittee")

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_ja

    def description(self, locale: str) -> str:
        return self.description_en if locale == "en" else self.description_ja

    def __repr__(self) -> str:
        return model_repr(self, "name_en", "kind")


class Membership(UUIDPrimaryKey, Base):
    """A user's seat in a room for a period; ending a membership sets ``valid_to``, nothing is deleted."""

    __tablename__ = "memberships"

    subcommittee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subcommittees.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    room_role: Mapped[RoomRole] = mapped_column(enum_column_type(RoomRole), default=RoomRole.MEMBER)
    valid_from: Mapped[datetime] = mapped_column(default=utcnow)
    valid_to: Mapped[datetime | None]
    #: Quorum and ordering on the members tab.
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    subcommittee: Mapped[Subcommittee] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships", lazy="joined")

    def is_current(self, now: datetime) -> bool:
        return self.valid_from <= now and (self.valid_to is None or self.valid_to > now)
