"""Data keys: created, wrapped by the KEK, unwrapped on demand and cached briefly in memory. No Flask.

The keyring travels with the database session (``session.info["keyring"]``), so services seal and open
fields without reaching for global state, and a session without a keyring cannot decrypt anything.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.security import audit, crypto
from portal.security.crypto import DataKey, FieldContext, KeyDestroyed
from portal.security.key_models import DataKeyRecord
from portal.security.keys import KeyFileError, KeyProvider, UnwrapError
from portal.security.policy import Grant

KEYRING_INFO_KEY = "keyring"
PURPOSES = ("fields", "files", "index", "personal")


class KeyringMissing(crypto.CryptoError):
    """This session has no keyring: it was not made by the portal's Database with a key provider."""


def wrapping_context(record: DataKeyRecord) -> bytes:
    """What a wrapped DEK is bound to: moving it to another room, purpose or version fails to unwrap."""
    scope = str(record.subcommittee_id) if record.subcommittee_id else "system"
    return f"portal-dek-v1|{record.id}|{scope}|{record.purpose}|{record.version}".encode()


class _Cache:
    """Unwrapped DEKs, bounded in number and age. Plaintext of fields is never cached."""

    def __init__(self, size: int, ttl_seconds: float) -> None:
        self.size = size
        self.ttl = ttl_seconds
        self._entries: OrderedDict[uuid.UUID, tuple[float, DataKey]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key_id: uuid.UUID) -> DataKey | None:
        with self._lock:
            found = self._entries.get(key_id)
            if found is None:
                return None
            stored_at, key = found
            if time.monotonic() - stored_at > self.ttl:
                del self._entries[key_id]
                return None
            self._entries.move_to_end(key_id)
            return key

    def put(self, key: DataKey) -> None:
        with self._lock:
            self._entries[key.id] = (time.monotonic(), key)
            self._entries.move_to_end(key.id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def forget(self, key_id: uuid.UUID | None = None) -> None:
        with self._lock:
            if key_id is None:
                self._entries.clear()
            else:
                self._entries.pop(key_id, None)


class Keyring:
    """The data keys of one database. The key provider is opened on first use (so `portal keys init` runs
    before there is a key to open)."""

    def __init__(
        self,
        provider: KeyProvider | Callable[[], KeyProvider],
        cache_size: int = 512,
        ttl_seconds: float = 300.0,
    ) -> None:
        self._provider: KeyProvider | None = None
        self._factory: Callable[[], KeyProvider] | None = None
        if callable(provider) and not hasattr(provider, "wrap"):
            self._factory = provider
        else:
            self._provider = provider  # type: ignore[assignment]
        self.cache = _Cache(cache_size, ttl_seconds)
        self._lock = threading.Lock()

    @property
    def provider(self) -> KeyProvider:
        if self._provider is None:
            with self._lock:
                if self._provider is None:
                    assert self._factory is not None
                    self._provider = self._factory()
        return self._provider

    def replace_provider(self, provider: KeyProvider) -> None:
        """Switch to another provider (after `rotate-kek --to`); forget every unwrapped key."""
        self._provider = provider
        self.cache.forget()

    def verify(self, session: Session) -> None:
        """Refuse a KEK that does not open this database's keys (one line, naming the key source)."""
        record = session.scalar(
            select(DataKeyRecord)
            .where(DataKeyRecord.state != "destroyed")
            .order_by(DataKeyRecord.created_at)
            .limit(1)
        )
        if record is None:
            return
        try:
            self._unwrap(record)
        except (UnwrapError, KeyFileError, crypto.CryptoError) as error:
            raise KeyFileError(
                f"{self.provider.describe()} does not open this database's data keys ({error})"
            ) from error

    # --- keys -------------------------------------------------------------------------------------

    def _records(self, session: Session, room_id: uuid.UUID | None, purpose: str) -> list[DataKeyRecord]:
        scope = (
            DataKeyRecord.subcommittee_id.is_(None)
            if room_id is None
            else DataKeyRecord.subcommittee_id == room_id
        )
        return list(
            session.scalars(
                select(DataKeyRecord)
                .where(scope, DataKeyRecord.purpose == purpose)
                .order_by(DataKeyRecord.version)
            )
        )

    def create_key(self, session: Session, room_id: uuid.UUID | None, purpose: str) -> DataKeyRecord:
        """A new active DEK for this room and purpose (the previous active one becomes decrypt-only)."""
        records = self._records(session, room_id, purpose)
        for record in records:
            if record.state == "active":
                record.state = "decrypt_only"
        material = secrets.token_bytes(32)
        record = DataKeyRecord(
            id=uuid.uuid4(),
            subcommittee_id=room_id,
            purpose=purpose,
            version=(records[-1].version + 1) if records else 1,
            state="active",
            kek_provider=self.provider.name,
            kek_version=self.provider.current_version(),
        )
        record.wrapped = self.provider.wrap(record.kek_version, material, wrapping_context(record))
        session.add(record)
        session.flush()
        self.cache.put(DataKey(record.id, material))
        return record

    def active_key(self, session: Session, room_id: uuid.UUID | None, purpose: str) -> DataKey:
        active = [r for r in self._records(session, room_id, purpose) if r.state == "active"]
        if active:
            return self._unwrap(active[-1])
        if any(r.state == "destroyed" for r in self._records(session, room_id, purpose)):
            raise KeyDestroyed("this room's keys were destroyed; nothing new can be sealed in it")
        record = self.create_key(session, room_id, purpose)
        return self._unwrap(record)

    def key(self, session: Session, key_id: uuid.UUID) -> DataKey:
        cached = self.cache.get(key_id)
        if cached is not None:
            return cached
        record = session.get(DataKeyRecord, key_id)
        if record is None:
            raise crypto.IntegrityError("the data key of this field does not exist")
        return self._unwrap(record)

    def _unwrap(self, record: DataKeyRecord) -> DataKey:
        cached = self.cache.get(record.id)
        if cached is not None:
            return cached
        if record.state == "destroyed" or record.wrapped is None:
            raise KeyDestroyed("the data key was destroyed")
        if record.kek_provider != self.provider.name:
            raise crypto.CryptoError(
                f"data key {record.id} is wrapped by the {record.kek_provider} provider, "
                f"not by {self.provider.name}"
            )
        key = DataKey(
            record.id, self.provider.unwrap(record.kek_version, record.wrapped, wrapping_context(record))
        )
        self.cache.put(key)
        return key

    def destroy(self, session: Session, record: DataKeyRecord) -> None:
        record.state = "destroyed"
        record.wrapped = None
        record.destroyed_at = utcnow()
        self.cache.forget(record.id)

    # --- fields -----------------------------------------------------------------------------------

    def seal(
        self,
        session: Session,
        grant: Grant,
        context: FieldContext,
        plaintext: str,
        room_id: uuid.UUID | None,
        purpose: str = "fields",
    ) -> bytes:
        crypto.check_grant(grant, context)
        return crypto.seal(self.active_key(session, room_id, purpose), context, plaintext)

    def open(self, session: Session, grant: Grant, context: FieldContext, sealed: bytes) -> str:
        crypto.check_grant(grant, context)
        try:
            return crypto.open_with_key(self.key(session, crypto.key_id_of(sealed)), context, sealed)
        except crypto.IntegrityError:
            self.audit_integrity(session, grant, context)
            raise

    # --- files ------------------------------------------------------------------------------------

    def file_key(self, session: Session, grant: Grant, context: FieldContext, room_id: uuid.UUID) -> DataKey:
        """The room's active ``files`` key, for sealing one file's chunks (checked against the grant)."""
        crypto.check_grant(grant, context)
        return self.active_key(session, room_id, "files")

    def open_chunk(
        self, session: Session, grant: Grant, context: FieldContext, index: int, final: bool, sealed: bytes
    ) -> bytes:
        crypto.check_grant(grant, context)
        try:
            return crypto.open_chunk(
                self.key(session, crypto.key_id_of(sealed)), context, index, final, sealed
            )
        except crypto.IntegrityError:
            self.audit_integrity(session, grant, context)
            raise

    def audit_integrity(self, session: Session, grant: Grant, context: FieldContext) -> None:
        audit.record(
            session,
            audit.AuditEvent(
                actor=audit.Actor(user_id=grant.user_id if grant.user_id.int else None),
                action="crypto.open",
                allowed=False,
                rule="crypto.integrity",
                reason="INTEGRITY_FAILURE",
                object_type=context.table,
                object_id=str(context.row_id),
                level=context.level,
                detail={"column": context.column},
                survives_rollback=True,
            ),
        )


def keyring_of(session: Session) -> Keyring:
    keyring = session.info.get(KEYRING_INFO_KEY)
    if not isinstance(keyring, Keyring):
        raise KeyringMissing("this database session has no keyring")
    return keyring
