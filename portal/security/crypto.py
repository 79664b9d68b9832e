"""Envelope encryption of sensitive fields. No Flask here.

A sealed field is ``version | alg | key id | nonce | ciphertext+tag``. Its associated data binds it to the
table, column, row id, key id and the item's level: a ciphertext copied to another row, column or level, or
a level changed in the database, fails to open with :class:`IntegrityError`.

Opening a field takes the :class:`~portal.security.policy.Grant` that ``policy.require`` returned for that
very object: code that never asked the policy cannot decrypt.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

if TYPE_CHECKING:  # the policy imports the models, which import this module
    from portal.security.policy import Grant

FORMAT_VERSION = 1
ALG_AES_256_GCM = 1
NONCE_BYTES = 12
KEY_ID_BYTES = 16
HEADER_BYTES = 2 + KEY_ID_BYTES + NONCE_BYTES


class CryptoError(Exception):
    """Base class: a sealed field could not be opened or sealed."""


class IntegrityError(CryptoError):
    """The field does not open under its context: moved, relabelled, altered, or a wrong key."""


class KeyDestroyed(CryptoError):
    """The data key was destroyed (crypto-shredding): the content is gone for good."""


class GrantMismatch(CryptoError):
    """The grant presented was issued for another object."""


@dataclass(frozen=True)
class FieldContext:
    """Where a sealed value lives; all of it is bound into the associated data."""

    table: str
    column: str
    row_id: uuid.UUID
    level: int
    #: The policy object type whose grant opens this field (document, user, clearance, ...).
    object_type: str
    #: The object whose grant opens the field, when it is not the row itself (e.g. a version's document).
    object_id: uuid.UUID | None = None

    def associated_data(self, key_id: uuid.UUID) -> bytes:
        return "|".join(
            ["portal-field-v1", self.table, self.column, str(self.row_id), str(key_id), str(int(self.level))]
        ).encode()

    @property
    def grant_object_id(self) -> str:
        return str(self.object_id or self.row_id)

    def at_level(self, level: int) -> FieldContext:
        """The same place under another level (re-sealing on reclassification)."""
        return replace(self, level=level)


@dataclass(frozen=True)
class DataKey:
    """An unwrapped data key (kept in memory only, never written anywhere)."""

    id: uuid.UUID
    material: bytes


def key_id_of(sealed: bytes) -> uuid.UUID:
    """The data key a sealed value was made with (for rotation and status; no decryption)."""
    if len(sealed) < HEADER_BYTES or sealed[0] != FORMAT_VERSION:
        raise IntegrityError("not a sealed field of a known format")
    return uuid.UUID(bytes=bytes(sealed[2 : 2 + KEY_ID_BYTES]))


def seal(key: DataKey, context: FieldContext, plaintext: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(key.material).encrypt(nonce, plaintext.encode(), context.associated_data(key.id))
    return bytes([FORMAT_VERSION, ALG_AES_256_GCM]) + key.id.bytes + nonce + ciphertext


def open_with_key(key: DataKey, context: FieldContext, sealed: bytes) -> str:
    sealed = bytes(sealed)
    if key_id_of(sealed) != key.id or sealed[1] != ALG_AES_256_GCM:
        raise IntegrityError("sealed with another key or algorithm")
    nonce = sealed[2 + KEY_ID_BYTES : HEADER_BYTES]
    try:
        plaintext = AESGCM(key.material).decrypt(
            nonce, sealed[HEADER_BYTES:], context.associated_data(key.id)
        )
    except InvalidTag as error:
        raise IntegrityError(
            f"{context.table}.{context.column} of {context.row_id} does not open under its context"
        ) from error
    return plaintext.decode()


def check_grant(grant: Grant, context: FieldContext) -> None:
    """The grant must be for this object: no plaintext without the policy's yes for it."""
    if not grant.decision.allowed or grant.object_type != context.object_type:
        raise GrantMismatch(f"a {grant.object_type} grant does not open {context.object_type} fields")
    if grant.object_id != context.grant_object_id:
        raise GrantMismatch("the grant was issued for another object")


# --- files: sealed in chunks ------------------------------------------------------------------------

#: Plaintext bytes per sealed chunk: large files are sealed and opened chunk by chunk, never whole. Small
#: enough that a download's transient buffers (the driver's hex-encoded copy, the opened chunk) stay out of
#: the allocator's way: 1 MiB chunks let a worker's memory creep by 38 MiB over a benchmark, 256 KiB by 10.
#: Changing it is safe: a stored file records its own chunk count and each chunk its position.
CHUNK_BYTES = 256 * 1024


def _chunk_associated_data(context: FieldContext, key_id: uuid.UUID, index: int, final: bool) -> bytes:
    """A chunk is bound to its file (the context), its position and whether it is the last one, so
    chunks cannot be reordered, swapped between files, or dropped from the end unnoticed."""
    return context.associated_data(key_id) + f"|chunk|{index}|{'final' if final else 'more'}".encode()


def seal_chunk(key: DataKey, context: FieldContext, index: int, final: bool, data: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(key.material).encrypt(
        nonce, data, _chunk_associated_data(context, key.id, index, final)
    )
    return bytes([FORMAT_VERSION, ALG_AES_256_GCM]) + key.id.bytes + nonce + ciphertext


def open_chunk(key: DataKey, context: FieldContext, index: int, final: bool, sealed: bytes) -> bytes:
    sealed = bytes(sealed)
    if key_id_of(sealed) != key.id or sealed[1] != ALG_AES_256_GCM:
        raise IntegrityError("sealed with another key or algorithm")
    nonce = sealed[2 + KEY_ID_BYTES : HEADER_BYTES]
    try:
        return AESGCM(key.material).decrypt(
            nonce, sealed[HEADER_BYTES:], _chunk_associated_data(context, key.id, index, final)
        )
    except InvalidTag as error:
        raise IntegrityError(f"chunk {index} of {context.row_id} does not open under its context") from error
