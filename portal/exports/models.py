"""The register of exports: which file was made for whom, holding what (never the content)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UUIDPrimaryKey, utcnow
from portal.enums import Level
from portal.models_util import LevelType


class ExportRecord(UUIDPrimaryKey, Base):
    """One export. Its id is the export id printed on every page; ``sha256`` is of the file as delivered."""

    __tablename__ = "exports"

    reader_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    meeting_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("meetings.id"))
    #: minutes or pack
    subject: Mapped[str] = mapped_column(String(16))
    #: pdf, docx or md
    file_format: Mapped[str] = mapped_column(String(8))
    #: The revision of the minutes exported (minutes exports only).
    minutes_revision: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    #: The highest level, the caveats and the release marking included in this copy (as on its banner).
    highest_level: Mapped[Level] = mapped_column(LevelType())
    caveat_codes_text: Mapped[str] = mapped_column(String(400), default="")
    release: Mapped[str] = mapped_column(String(16))
    included_parts: Mapped[int] = mapped_column(Integer)
    withheld_parts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
