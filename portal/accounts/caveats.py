"""Caveats (政府限り and topic compartments) and who holds which compartment."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UUIDPrimaryKey, utcnow
from portal.enums import CaveatKind
from portal.models_util import enum_column_type


class Caveat(UUIDPrimaryKey, Base):
    __tablename__ = "caveats"

    #: Short stable code shown on banners, e.g. GOV_ONLY or MINERALS-SUPPLY.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[CaveatKind] = mapped_column(enum_column_type(CaveatKind))
    name_ja: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_ja


class UserCaveat(UUIDPrimaryKey, Base):
    """A compartment held by a user, as granted by the secretariat; revoking sets ``revoked_at``."""

    __tablename__ = "user_caveats"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    caveat_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("caveats.id"), index=True)
    granted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)

    caveat: Mapped[Caveat] = relationship(lazy="joined")
