"""Facts about the database itself (for example: it was created by `portal demo load`)."""

from __future__ import annotations

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.db import Base


class PortalMeta(Base):
    __tablename__ = "portal_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(500))


DEMO_DATABASE_KEY = "demo_database"


def get_meta(session: Session, key: str) -> str | None:
    return session.scalar(select(PortalMeta.value).where(PortalMeta.key == key))


def set_meta(session: Session, key: str, value: str) -> None:
    row = session.get(PortalMeta, key)
    if row is None:
        session.add(PortalMeta(key=key, value=value))
    else:
        row.value = value
