"""Engine, one session per request (or CLI command), the declarative base and shared column types."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

#: Stable constraint names, so Alembic autogenerate and downgrades work the same on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, whatever the backend stores."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use portal.db.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012  (SQLAlchemy reads it as declared)


class UUIDPrimaryKey:
    """UUID primary keys made in Python, so the row id exists before the insert (encryption binds to it)."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


def _enable_sqlite_safety(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        options: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 10}}
        if url in {"sqlite://", "sqlite:///:memory:"}:
            options["poolclass"] = StaticPool
        engine = create_engine(url, **options)
        _enable_sqlite_safety(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


class Database:
    """The engine and session factory of one application."""

    def __init__(self, url: str, keyring: Any = None) -> None:
        self.url = url
        self.engine = make_engine(url)
        #: The data keys (portal.security.keyring.Keyring); every session carries it in ``info``.
        self.keyring = keyring
        self.session_factory = sessionmaker(
            bind=self.engine, expire_on_commit=False, info={"keyring": keyring} if keyring else {}
        )
        from portal.security import audit

        audit.install(self.session_factory)

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error (CLI, background work)."""
        session = self.session_factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            from portal.security import audit

            try:
                audit.flush_survivors(session)
            finally:
                session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def request_session() -> Session:
    """The session of the current request or CLI app context; closed at teardown."""
    from flask import current_app, g

    session: Session | None = g.get("_db_session")
    if session is None:
        database: Database = current_app.extensions["portal_db"]
        session = database.session_factory()
        g._db_session = session
    return session


def close_request_session(_error: BaseException | None = None) -> None:
    from flask import g

    session: Session | None = g.pop("_db_session", None)
    if session is not None:
        from portal.security import audit

        try:
            audit.flush_survivors(session)
        finally:
            session.close()
