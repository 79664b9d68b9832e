"""The plaintext build: the keyring's seal/open replaced by an identity transform (benchmark only).

``Keyring.seal`` stores the UTF-8 bytes of the text and ``Keyring.open`` decodes them. Both still check the
grant (that is authorization, not encryption, and the portal's views pay for it either way), so the only
work removed is what field-level encryption adds: the data-key lookup (cache, or a query and a KEK unwrap
when the cache is cold), the header parsing, the associated data and AES-256-GCM itself.

Never imported by the portal: only by ``bench/plaintext_wsgi.py`` and ``bench/seal_cost.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from portal.security import crypto
from portal.security.crypto import FieldContext
from portal.security.keyring import Keyring
from portal.security.policy import Grant

_ORIGINAL: dict[str, Any] = {"seal": Keyring.seal, "open": Keyring.open}


def _identity_seal(
    self: Keyring,
    session: Session,
    grant: Grant,
    context: FieldContext,
    plaintext: str,
    room_id: uuid.UUID | None,
    purpose: str = "fields",
) -> bytes:
    crypto.check_grant(grant, context)
    return plaintext.encode()


def _identity_open(
    self: Keyring, session: Session, grant: Grant, context: FieldContext, sealed: bytes
) -> str:
    crypto.check_grant(grant, context)
    return bytes(sealed).decode()


def install() -> None:
    """Every Keyring in this process seals and opens as the identity from now on."""
    Keyring.seal = _identity_seal  # type: ignore[method-assign]
    Keyring.open = _identity_open  # type: ignore[method-assign]


def uninstall() -> None:
    Keyring.seal = _ORIGINAL["seal"]  # type: ignore[method-assign]
    Keyring.open = _ORIGINAL["open"]  # type: ignore[method-assign]


@contextmanager
def identity_cipher(active: bool = True) -> Iterator[None]:
    """The identity transform for the duration of the block (a no-op when ``active`` is false)."""
    if not active:
        yield
        return
    install()
    try:
        yield
    finally:
        uninstall()
