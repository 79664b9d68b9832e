"""Wrapped data keys. The database holds them only wrapped by the KEK, which lives outside it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UUIDPrimaryKey, utcnow


class DataKeyRecord(UUIDPrimaryKey, Base):
    """A data key (DEK) of a room and purpose, or of the whole system (personal secrets)."""

    __tablename__ = "data_keys"

    #: None for the system-wide key that seals personal secrets (TOTP secrets, evaluation references).
    subcommittee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("subcommittees.id"), index=True)
    #: fields, files, index, personal
    purpose: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    #: active (seals and opens), decrypt_only (opens; being rotated out), destroyed (gone for good)
    state: Mapped[str] = mapped_column(String(16), index=True)
    #: Which key provider and KEK version wrapped it.
    kek_provider: Mapped[str] = mapped_column(String(16))
    kek_version: Mapped[int] = mapped_column(Integer)
    #: nonce | AES-256-GCM(KEK, DEK); erased when the key is destroyed.
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    destroyed_at: Mapped[datetime | None]
