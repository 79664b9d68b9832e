"""Append-only, hash-chained audit log. No Flask here.

Entries are queued on the SQLAlchemy session that did the work and written, in their own short
transaction, when that work ends: all of them after a commit; after a rollback only those marked
``survives_rollback`` (denials, failed sign-ins), so a denied request is recorded although its own
transaction rolls back. Writing in a separate transaction after the work also keeps SQLite (one writer)
from waiting on itself.

Each writer first UPDATEs the single chain-head row, which takes its lock (a row lock on PostgreSQL, the
database write lock on SQLite), then reads the head, links the new entry to it and moves the head: the
chain never forks under concurrent writers.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, event, insert, select, update
from sqlalchemy.orm import Session

from portal.security.audit_models import AuditChainHead, AuditEntry

GENESIS_HASH = "0" * 64
_PENDING_KEY = "portal_audit_pending"
_sqlite_writer = threading.Lock()


@dataclass(frozen=True)
class Actor:
    """Who acts, from where. Built by the web layer (or the CLI) and passed to services."""

    user_id: uuid.UUID | None
    organization_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    ip_address: str | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls(user_id=None, ip_address="cli")


@dataclass(frozen=True)
class AuditEvent:
    actor: Actor
    action: str
    allowed: bool
    rule: str
    reason: str
    object_type: str | None = None
    object_id: str | None = None
    level: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    survives_rollback: bool = False
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


def canonical(entry: dict[str, Any]) -> bytes:
    """The bytes the hash covers: every field but the hash, in a fixed order and format."""
    fields = {
        "seq": entry["seq"],
        "at": entry["at"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": str(entry["actor_id"]) if entry["actor_id"] else None,
        "organization_id": str(entry["organization_id"]) if entry["organization_id"] else None,
        "session_id": str(entry["session_id"]) if entry["session_id"] else None,
        "ip_address": entry["ip_address"],
        "action": entry["action"],
        "object_type": entry["object_type"],
        "object_id": entry["object_id"],
        "level": entry["level"],
        "allowed": bool(entry["allowed"]),
        "rule": entry["rule"],
        "reason": entry["reason"],
        "detail": entry["detail"],
        "prev_hash": entry["prev_hash"],
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(entry: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def _append(connection: Connection, event_: AuditEvent) -> int:
    moved = connection.execute(
        update(AuditChainHead).where(AuditChainHead.id == 1).values(last_seq=AuditChainHead.last_seq + 1)
    )
    if moved.rowcount == 0:  # the migration creates the head; a hand-emptied table gets it back here
        connection.execute(insert(AuditChainHead).values(id=1, last_seq=1, last_hash=GENESIS_HASH))
    seq, prev_hash = connection.execute(
        select(AuditChainHead.last_seq, AuditChainHead.last_hash).where(AuditChainHead.id == 1)
    ).one()
    row: dict[str, Any] = {
        "seq": seq,
        "at": event_.at,
        "actor_id": event_.actor.user_id,
        "organization_id": event_.actor.organization_id,
        "session_id": event_.actor.session_id,
        "ip_address": event_.actor.ip_address,
        "action": event_.action,
        "object_type": event_.object_type,
        "object_id": event_.object_id,
        "level": event_.level,
        "allowed": event_.allowed,
        "rule": event_.rule,
        "reason": event_.reason,
        "detail": json.dumps(event_.detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
        "prev_hash": prev_hash,
    }
    row["hash"] = entry_hash(row)
    connection.execute(insert(AuditEntry).values(**row))
    connection.execute(update(AuditChainHead).where(AuditChainHead.id == 1).values(last_hash=row["hash"]))
    return int(seq)


def write(engine: Engine, events: list[AuditEvent]) -> list[int]:
    """Append events to the chain now, in one transaction of their own."""
    if not events:
        return []
    if engine.dialect.name == "sqlite":
        with _sqlite_writer, engine.begin() as connection:
            return [_append(connection, event_) for event_ in events]
    with engine.begin() as connection:
        return [_append(connection, event_) for event_ in events]


# --- queueing on the session that does the work ----------------------------------------------------


def record(session: Session, event_: AuditEvent) -> None:
    """Queue an event; it is written when the session's work commits (or, for survivors, ends)."""
    if not session.in_transaction():
        # Begin now, so that a rollback (which then fires after_soft_rollback) writes the survivors.
        session.begin()
    session.info.setdefault(_PENDING_KEY, []).append(event_)


def _engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def flush_after_commit(session: Session) -> None:
    pending: list[AuditEvent] = session.info.pop(_PENDING_KEY, [])
    write(_engine_of(session), pending)


def flush_survivors(session: Session) -> None:
    """Write the events that must outlive a rollback (denials) and forget the rest."""
    pending: list[AuditEvent] = session.info.pop(_PENDING_KEY, [])
    write(_engine_of(session), [event_ for event_ in pending if event_.survives_rollback])


def install(session_factory: Any) -> None:
    """Hook the queue onto every session the factory makes."""

    @event.listens_for(session_factory, "after_commit")
    def _after_commit(session: Session) -> None:
        flush_after_commit(session)

    @event.listens_for(session_factory, "after_soft_rollback")
    def _after_rollback(session: Session, _previous: Any) -> None:
        if session.info.get(_PENDING_KEY):
            flush_survivors(session)


# --- verification --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_broken_seq: int | None = None
    problem: str | None = None


def verify(engine: Engine, batch: int = 2000) -> Verification:
    """Walk the whole chain; report the first entry whose hash or link does not hold."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    with engine.connect() as connection:
        last_seq = 0
        while True:
            rows = (
                connection.execute(
                    select(AuditEntry.__table__)
                    .where(AuditEntry.seq > last_seq)
                    .order_by(AuditEntry.seq)
                    .limit(batch)
                )
                .mappings()
                .all()
            )
            if not rows:
                break
            for row in rows:
                entry = dict(row)
                if entry["seq"] != expected_seq:
                    return Verification(False, checked, expected_seq, "missing entry")
                if entry["prev_hash"] != expected_prev:
                    return Verification(False, checked, entry["seq"], "link to the previous entry broken")
                if entry_hash(_normalise(entry)) != entry["hash"]:
                    return Verification(False, checked, entry["seq"], "entry altered (hash mismatch)")
                expected_prev = entry["hash"]
                expected_seq += 1
                checked += 1
                last_seq = entry["seq"]
        head = connection.execute(select(AuditChainHead.last_seq, AuditChainHead.last_hash)).first()
    if head is not None and (head.last_seq != checked or head.last_hash != expected_prev):
        return Verification(False, checked, checked + 1, "entries missing at the end of the chain")
    return Verification(True, checked)


def _normalise(entry: dict[str, Any]) -> dict[str, Any]:
    at = entry["at"]
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    entry["at"] = at
    for key in ("actor_id", "organization_id", "session_id"):
        value = entry[key]
        if value is not None and not isinstance(value, uuid.UUID):
            entry[key] = uuid.UUID(str(value))
    return entry
