"""Key operations for the operator (`portal keys ...`): status, KEK rotation, DEK rotation, shredding.

Every operation is audited. Re-sealing opens fields with a maintenance grant from the policy and seals
them again at once; nothing opened is shown, logged or kept.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import false, select
from sqlalchemy.orm import Session, sessionmaker

from portal.accounts.models import Clearance, User
from portal.documents.models import Document
from portal.rooms.models import Subcommittee
from portal.security import audit, crypto, policy
from portal.security.crypto import FieldContext
from portal.security.key_models import DataKeyRecord
from portal.security.keyring import Keyring, wrapping_context
from portal.security.keys import KeyProvider
from portal.thinktank.models import SEALED_FIELDS as OUTPUT_SEALED_FIELDS
from portal.thinktank.models import ThinkTankOutput


@dataclass(frozen=True)
class SealedColumn:
    model: type[Any]
    attribute: str
    #: The context a row's value is sealed under.
    context: Callable[[Any], FieldContext]
    #: The room whose keys seal it, or None for the system's personal key.
    room_of: Callable[[Any], uuid.UUID | None]
    purpose: str


SEALED_COLUMNS = [
    SealedColumn(
        Document, "title_sealed", lambda d: d.field_context("title"), lambda d: d.subcommittee_id, "fields"
    ),
    SealedColumn(
        Document, "body_sealed", lambda d: d.field_context("body"), lambda d: d.subcommittee_id, "fields"
    ),
    SealedColumn(
        Document,
        "classification_reason_sealed",
        lambda d: d.field_context("classification_reason"),
        lambda d: d.subcommittee_id,
        "fields",
    ),
    SealedColumn(User, "totp_secret_sealed", lambda u: u.secret_context(), lambda _u: None, "personal"),
    # Think-tank outputs belong to no room: the system's ``fields`` key. Counted by `keys status`; not yet
    # re-sealed by `rotate-dek system`, which rotates the ``personal`` key only.
    *[
        SealedColumn(
            ThinkTankOutput,
            f"{name}_sealed",
            lambda o, name=name: o.field_context(name),  # type: ignore[misc]
            lambda _o: None,
            "fields",
        )
        for name in (*OUTPUT_SEALED_FIELDS, "classification_reason")
    ],
    SealedColumn(
        Clearance, "evaluation_reference_sealed", lambda c: c.reference_context(), lambda _c: None, "personal"
    ),
]


def _audit(session: Session, action: str, object_id: str, **detail: object) -> None:
    audit.record(
        session,
        audit.AuditEvent(
            actor=audit.Actor.system(),
            action=action,
            allowed=True,
            rule=action,
            reason="OK",
            object_type="keys",
            object_id=object_id,
            detail=dict(detail),
        ),
    )


def _rows(
    session: Session, column: SealedColumn, room_id: uuid.UUID | None, batch: int
) -> Iterator[list[Any]]:
    """Rows of a room (or the system's rows) with a value in this column, in id order, batch by batch."""
    model = column.model
    attribute = getattr(model, column.attribute)
    query = select(model).where(attribute.is_not(None))
    if model is Document:
        query = query.where(Document.subcommittee_id == room_id) if room_id else query.where(false())
    elif room_id is not None:
        query = query.where(false())
    last: uuid.UUID | None = None
    while True:
        page = query.order_by(model.id).limit(batch)
        if last is not None:
            page = page.where(model.id > last)
        rows = list(session.scalars(page))
        if not rows:
            return
        yield rows
        last = rows[-1].id


# --- status ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyStatus:
    record: DataKeyRecord
    room_name: str
    rows: int


def status(session: Session) -> list[KeyStatus]:
    counts: Counter[uuid.UUID] = Counter()
    for column in SEALED_COLUMNS:
        for (value,) in session.execute(select(getattr(column.model, column.attribute))):
            if value is not None:
                counts[crypto.key_id_of(bytes(value))] += 1
    names = {room.id: room.name_ja for room in session.scalars(select(Subcommittee))}
    records = session.scalars(
        select(DataKeyRecord).order_by(
            DataKeyRecord.subcommittee_id, DataKeyRecord.purpose, DataKeyRecord.version
        )
    )
    statuses = []
    for record in records:
        room_name = names.get(record.subcommittee_id, "?") if record.subcommittee_id else "(system)"
        statuses.append(KeyStatus(record, room_name, counts[record.id]))
    return statuses


# --- KEK rotation ---------------------------------------------------------------------------------


def rotate_kek(session: Session, keyring: Keyring, target: KeyProvider | None = None) -> tuple[int, int]:
    """Re-wrap every live data key under a new KEK version (of ``target``, default: the same provider).

    No row data is touched. Returns (new KEK version, keys re-wrapped). The caller retires the old KEK
    versions after the commit (:func:`retire_old_keks`).
    """
    source = keyring.provider
    target = target or source
    version = target.add_version()
    rewrapped = 0
    for record in session.scalars(select(DataKeyRecord).where(DataKeyRecord.state != "destroyed")):
        material = keyring.key(session, record.id).material
        record.wrapped = target.wrap(version, material, wrapping_context(record))
        record.kek_provider = target.name
        record.kek_version = version
        rewrapped += 1
    _audit(session, "keys.rotate_kek", f"{target.name}:{version}", rewrapped=rewrapped, source=source.name)
    return version, rewrapped


def retire_old_keks(provider: KeyProvider, keep: int) -> list[int]:
    retired = [version for version in provider.versions() if version != keep]
    for version in retired:
        provider.retire(version)
    return retired


# --- DEK rotation ---------------------------------------------------------------------------------


def _live(session: Session, room_id: uuid.UUID | None, purpose: str) -> list[DataKeyRecord]:
    scope = (
        DataKeyRecord.subcommittee_id.is_(None)
        if room_id is None
        else DataKeyRecord.subcommittee_id == room_id
    )
    return list(
        session.scalars(
            select(DataKeyRecord)
            .where(scope, DataKeyRecord.purpose == purpose, DataKeyRecord.state != "destroyed")
            .order_by(DataKeyRecord.version)
        )
    )


def begin_dek_rotation(
    session: Session, keyring: Keyring, room_id: uuid.UUID | None, purpose: str
) -> DataKeyRecord:
    """A new active key, unless an interrupted rotation left one whose predecessors still protect rows."""
    live = _live(session, room_id, purpose)
    active = [r for r in live if r.state == "active"]
    retiring = [r for r in live if r.state == "decrypt_only"]
    if active and retiring:
        return active[-1]  # resume
    if not live and session.scalar(
        select(DataKeyRecord.id)
        .where(
            DataKeyRecord.subcommittee_id.is_(None)
            if room_id is None
            else DataKeyRecord.subcommittee_id == room_id,
            DataKeyRecord.purpose == purpose,
            DataKeyRecord.state == "destroyed",
        )
        .limit(1)
    ):
        # Shredded: a new key would let new content be sealed in the room again (and the rows under the
        # destroyed key cannot be re-sealed anyway).
        raise crypto.KeyDestroyed("this room's keys were destroyed; there is nothing to rotate")
    record = keyring.create_key(session, room_id, purpose)
    _audit(session, "keys.rotate_dek", str(room_id or "system"), purpose=purpose, version=record.version)
    return record


def columns_for(room_id: uuid.UUID | None) -> list[SealedColumn]:
    return [c for c in SEALED_COLUMNS if (c.purpose == "fields") == (room_id is not None)]


def count_to_reseal(session: Session, room_id: uuid.UUID | None, active_id: uuid.UUID) -> int:
    total = 0
    for column in columns_for(room_id):
        for rows in _rows(session, column, room_id, 500):
            total += sum(
                1 for row in rows if crypto.key_id_of(bytes(getattr(row, column.attribute))) != active_id
            )
    return total


def reseal_batches(
    factory: sessionmaker[Session], keyring: Keyring, room_id: uuid.UUID | None, batch: int = 100
) -> Iterator[int]:
    """Re-seal every value not yet under the active key, committing batch by batch; yields counts done.

    Safe to interrupt: a batch commits whole or not at all, and the old key stays until the end.
    """
    for column in columns_for(room_id):
        with factory() as session:
            active = [r for r in _live(session, room_id, column.purpose) if r.state == "active"][-1]
            for rows in _rows(session, column, room_id, batch):
                done = 0
                for row in rows:
                    sealed = bytes(getattr(row, column.attribute))
                    if crypto.key_id_of(sealed) == active.id:
                        continue
                    context = column.context(row)
                    grant = policy.maintenance_grant(context.object_type, context.grant_object_id)
                    value = keyring.open(session, grant, context, sealed)
                    setattr(
                        row,
                        column.attribute,
                        keyring.seal(session, grant, context, value, room_id, column.purpose),
                    )
                    done += 1
                session.commit()
                if done:
                    yield done


def finish_dek_rotation(session: Session, keyring: Keyring, room_id: uuid.UUID | None, purpose: str) -> int:
    """Destroy the retired keys once no row needs them. Returns how many were destroyed."""
    active = [r for r in _live(session, room_id, purpose) if r.state == "active"][-1]
    if count_to_reseal(session, room_id, active.id):
        raise crypto.CryptoError("rows still sealed with a retiring key; run the rotation again")
    retired = [r for r in _live(session, room_id, purpose) if r.state == "decrypt_only"]
    for record in retired:
        keyring.destroy(session, record)
    _audit(session, "keys.rotate_dek_done", str(room_id or "system"), purpose=purpose, destroyed=len(retired))
    return len(retired)


# --- shredding ------------------------------------------------------------------------------------


def shred(session: Session, keyring: Keyring, room: Subcommittee) -> int:
    """Destroy every data key of the room: its sealed content is unreadable for good."""
    records = list(
        session.scalars(
            select(DataKeyRecord).where(
                DataKeyRecord.subcommittee_id == room.id, DataKeyRecord.state != "destroyed"
            )
        )
    )
    for record in records:
        keyring.destroy(session, record)
    _audit(session, "keys.shred", str(room.id), destroyed=len(records))
    return len(records)
