"""Sealed fields below the web layer: the format and its binding, no plaintext without the policy's grant for
that very object, no decryption without a keyring, a key source that is wrong or loose stops the start, and
the cache of unwrapped data keys is bounded in size and age."""

from __future__ import annotations

import os
import shutil
import stat
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts import service as accounts
from portal.accounts.models import Clearance, User
from portal.db import Database, utcnow
from portal.demo import DOCUMENTS
from portal.documents import service as documents
from portal.documents.models import Document
from portal.enums import Level
from portal.security import crypto, keyring, policy
from portal.security.crypto import DataKey, FieldContext, GrantMismatch, IntegrityError
from portal.security.keyring import Keyring, KeyringMissing
from portal.security.keys import FileKeyProvider, KeyFileError, create_key_file
from portal.security.policy import Grant
from tests.conftest import TEST_KEY_FILE, keyed_session, make_app

AUTHOR = "tanaka@meti.example.jp"  # CESI, chair of the minerals room
OBSERVER = "kobayashi@toto-u.example.jp"  # RESTRICTED observer of the minerals room


# --- the sealed format -----------------------------------------------------------------------------

KEY = DataKey(uuid.uuid4(), os.urandom(32))
CONTEXT = FieldContext("documents", "title", uuid.uuid4(), int(Level.CONFIDENTIAL), "document")


def test_a_sealed_field_opens_under_its_own_context_only() -> None:
    sealed = crypto.seal(KEY, CONTEXT, "重要鉱物の備蓄 MARKER")

    assert crypto.open_with_key(KEY, CONTEXT, sealed) == "重要鉱物の備蓄 MARKER"
    assert sealed[0] == crypto.FORMAT_VERSION and sealed[1] == crypto.ALG_AES_256_GCM
    assert crypto.key_id_of(sealed) == KEY.id
    assert "重要鉱物".encode() not in sealed and b"MARKER" not in sealed
    # A fresh nonce each time: the same text never seals to the same bytes.
    assert crypto.seal(KEY, CONTEXT, "同じ文") != crypto.seal(KEY, CONTEXT, "同じ文")


@pytest.mark.parametrize(
    "moved",
    [
        replace(CONTEXT, table="clearances"),
        replace(CONTEXT, column="body"),
        replace(CONTEXT, row_id=uuid.uuid4()),
        replace(CONTEXT, level=int(Level.RESTRICTED)),
        replace(CONTEXT, level=int(Level.CESI)),
    ],
    ids=["table", "column", "row", "level lowered", "level raised"],
)
def test_a_sealed_field_moved_or_relabelled_does_not_open(moved: FieldContext) -> None:
    sealed = crypto.seal(KEY, CONTEXT, "本文")

    with pytest.raises(IntegrityError):
        crypto.open_with_key(KEY, moved, sealed)


def test_an_altered_byte_another_key_or_an_unknown_format_does_not_open() -> None:
    sealed = crypto.seal(KEY, CONTEXT, "本文")
    for position in (crypto.HEADER_BYTES - 1, crypto.HEADER_BYTES, len(sealed) - 1):  # nonce, text, tag
        altered = bytearray(sealed)
        altered[position] ^= 0x01
        with pytest.raises(IntegrityError):
            crypto.open_with_key(KEY, CONTEXT, bytes(altered))
    with pytest.raises(IntegrityError):
        crypto.open_with_key(DataKey(KEY.id, os.urandom(32)), CONTEXT, sealed)
    with pytest.raises(IntegrityError):
        crypto.open_with_key(DataKey(uuid.uuid4(), KEY.material), CONTEXT, sealed)
    with pytest.raises(IntegrityError):
        crypto.key_id_of(b"\x02" + sealed[1:])
    with pytest.raises(IntegrityError):
        crypto.key_id_of(sealed[: crypto.HEADER_BYTES - 1])


# --- no plaintext without a grant for that very object -----------------------------------------------


def title_of_level(level: Level) -> str:
    return next(spec.title for spec in DOCUMENTS if spec.room == "minerals" and spec.level == level)


def document_titled(session: Session, title: str) -> Document:
    for document in session.scalars(select(Document)):
        opened = documents.open_text(session, policy.maintenance_grant("document", document.id), document)
        if opened.title == title:
            return document
    raise AssertionError(title)


def user_called(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email))
    assert user is not None, email
    return user


@pytest.fixture
def session(demo: Database) -> Iterator[Session]:
    """A keyed session on the demo data; everything it does is rolled back."""
    with keyed_session(demo.url) as opened:
        yield opened
        opened.rollback()


def read_grant(session: Session, email: str, document: Document) -> Grant:
    """The grant the portal gets for a read: from policy.require on the reader's subject."""
    subject = policy.load_subject(session, user_called(session, email), utcnow())
    return policy.require(
        session,
        subject,
        policy.decide_read_document(subject, document),
        object_type="document",
        object_id=document.id,
        level=document.level,
    )


def test_a_grant_opens_the_document_it_was_given_for(session: Session) -> None:
    document = document_titled(session, title_of_level(Level.RESTRICTED))

    opened = documents.open_text(session, read_grant(session, AUTHOR, document), document)

    assert opened.title == title_of_level(Level.RESTRICTED) and opened.body and not opened.destroyed


def test_a_grant_for_another_document_opens_nothing(session: Session) -> None:
    wanted = document_titled(session, title_of_level(Level.CONFIDENTIAL))
    granted = document_titled(session, title_of_level(Level.PUBLIC))
    grant = read_grant(session, AUTHOR, granted)
    sealed_before = (wanted.title_sealed, wanted.body_sealed)

    with pytest.raises(GrantMismatch):
        documents.open_text(session, grant, wanted)
    for column, sealed in (("title", wanted.title_sealed), ("body", wanted.body_sealed)):
        with pytest.raises(GrantMismatch):
            keyring.keyring_of(session).open(session, grant, wanted.field_context(column), sealed)
    with pytest.raises(GrantMismatch):  # nor may it overwrite another document's text
        documents.seal_text(session, grant, wanted, title="差し替え", body="差し替え", reason=None)
    assert (wanted.title_sealed, wanted.body_sealed) == sealed_before


def test_a_grant_for_another_kind_of_object_opens_nothing(session: Session) -> None:
    document = document_titled(session, title_of_level(Level.RESTRICTED))
    author = user_called(session, AUTHOR)
    allowed = policy.allow("document.read")

    with pytest.raises(GrantMismatch):  # the same id, but a grant for personal secrets
        documents.open_text(
            session, Grant(allowed, author.id, "user_secret", str(document.id), None), document
        )
    with pytest.raises(GrantMismatch):  # a document grant does not open a TOTP secret
        accounts.totp_secret(session, author, Grant(allowed, author.id, "document", str(author.id), None))
    with pytest.raises(GrantMismatch):  # nor does another user's own-secrets grant
        accounts.totp_secret(session, author, policy.grant_own_secrets(user_called(session, OBSERVER).id))
    clearance = session.scalar(
        select(Clearance).where(
            Clearance.user_id == author.id, Clearance.evaluation_reference_sealed.is_not(None)
        )
    )
    assert clearance is not None
    with pytest.raises(GrantMismatch):  # a reference opens with a grant for its user, not its clearance row
        accounts.evaluation_reference(
            session, policy.maintenance_grant("user_secret", clearance.id), clearance
        )
    assert accounts.evaluation_reference(
        session, policy.maintenance_grant("user_secret", author.id), clearance
    )


def test_a_denied_decision_opens_nothing(session: Session) -> None:
    document = document_titled(session, title_of_level(Level.CONFIDENTIAL))
    observer = user_called(session, OBSERVER)
    subject = policy.load_subject(session, observer, utcnow())
    decision = policy.decide_read_document(subject, document)
    assert not decision.allowed  # RESTRICTED clearance, CONFIDENTIAL document

    # No grant comes out of the policy for it ...
    with pytest.raises(policy.AccessDenied):
        policy.require(session, subject, decision, object_type="document", object_id=document.id)
    with pytest.raises(policy.AccessDenied):
        policy.grant_for_listed(subject, document)
    with pytest.raises(policy.AccessDenied):
        policy.grant_from(decision, subject, "document", document.id)
    # ... and a grant made by hand around the denial opens nothing either.
    forged = Grant(decision, observer.id, "document", str(document.id), document.level)
    with pytest.raises(GrantMismatch):
        documents.open_text(session, forged, document)
    with pytest.raises(GrantMismatch):
        keyring.keyring_of(session).open(
            session, forged, document.field_context("title"), document.title_sealed
        )


def test_a_session_without_a_keyring_decrypts_nothing(demo: Database) -> None:
    assert demo.keyring is not None  # the application's Database has one ...
    bare = Database(demo.url)  # ... a Database made without one has none
    try:
        with bare.session_scope() as session:
            document = session.scalars(select(Document)).first()
            author = user_called(session, AUTHOR)
            assert document is not None
            grant = policy.maintenance_grant("document", document.id)

            with pytest.raises(KeyringMissing):
                keyring.keyring_of(session)
            with pytest.raises(KeyringMissing):
                documents.open_text(session, grant, document)
            with pytest.raises(KeyringMissing):
                documents.seal_text(session, grant, document, title="題", body="本文", reason=None)
            with pytest.raises(KeyringMissing):
                accounts.totp_secret(session, author, policy.maintenance_grant("user_secret", author.id))
            session.rollback()
    finally:
        bare.dispose()


# --- the key source at start ---------------------------------------------------------------------


def test_a_key_file_of_another_kek_stops_the_start(demo: Database, tmp_path: Path) -> None:
    other = tmp_path / "keys" / "other.key"
    assert create_key_file(other)
    instance = tmp_path / "another-instance"
    instance.mkdir()

    with pytest.raises(KeyFileError) as refused:
        make_app(demo.url, instance, key_file=str(other))

    message = str(refused.value)
    assert str(other) in message and "\n" not in message
    assert "does not open" in message


@pytest.mark.parametrize("fresh_database", [False, True], ids=["with data keys", "before any data key"])
def test_a_key_file_others_can_read_is_refused(
    database: Database, tmp_path: Path, fresh_database: bool, request: pytest.FixtureRequest
) -> None:
    if not fresh_database:
        request.getfixturevalue("demo")
    loose = tmp_path / "keys" / "loose.key"
    loose.parent.mkdir()
    shutil.copyfile(TEST_KEY_FILE, loose)  # the right key: only its mode is wrong
    loose.chmod(0o644)
    instance = tmp_path / "another-instance"
    instance.mkdir()

    with pytest.raises(KeyFileError) as refused:
        make_app(database.url, instance, key_file=str(loose))

    message = str(refused.value)
    assert str(loose) in message and "chmod 600" in message and "\n" not in message
    assert stat.S_IMODE(loose.stat().st_mode) == 0o644  # reported, not silently "fixed"
    loose.chmod(0o600)
    make_app(database.url, instance, key_file=str(loose)).extensions["portal_db"].dispose()  # now it starts


def test_a_missing_key_file_is_refused(database: Database, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "portal.key"
    instance = tmp_path / "another-instance"
    instance.mkdir()

    with pytest.raises(KeyFileError) as refused:
        make_app(database.url, instance, key_file=str(missing))

    assert str(missing) in str(refused.value) and "portal keys init" in str(refused.value)
    assert not missing.exists()


# --- the cache of unwrapped data keys -------------------------------------------------------------


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(keyring, "time", SimpleNamespace(monotonic=fake.monotonic))
    return fake


def data_key() -> DataKey:
    return DataKey(uuid.uuid4(), os.urandom(32))


def test_the_cache_holds_at_most_its_size_and_drops_the_least_recently_used(clock: Clock) -> None:
    cache = keyring._Cache(size=2, ttl_seconds=60)
    first, second, third = data_key(), data_key(), data_key()
    cache.put(first)
    cache.put(second)
    assert cache.get(first.id) == first  # used: now the most recent

    cache.put(third)

    assert cache.get(second.id) is None  # the least recently used went
    assert cache.get(first.id) == first and cache.get(third.id) == third
    assert len(cache._entries) == 2


def test_the_cache_forgets_a_key_after_its_ttl(clock: Clock) -> None:
    cache = keyring._Cache(size=4, ttl_seconds=5)
    key = data_key()
    cache.put(key)

    clock.now += 5
    assert cache.get(key.id) == key  # exactly at the TTL: still there
    clock.now += 0.001
    assert cache.get(key.id) is None
    assert key.id not in cache._entries  # dropped, not just hidden
    cache.put(key)
    cache.forget(key.id)
    assert cache.get(key.id) is None


class CountingProvider:
    """The test key file, counting how often a data key is unwrapped (each miss of the cache)."""

    name = "file"

    def __init__(self) -> None:
        self.inner = FileKeyProvider(TEST_KEY_FILE)
        self.unwraps = 0

    def describe(self) -> str:
        return self.inner.describe()

    def versions(self) -> list[int]:
        return self.inner.versions()

    def current_version(self) -> int:
        return self.inner.current_version()

    def wrap(self, version: int, key: bytes, associated_data: bytes) -> bytes:
        return self.inner.wrap(version, key, associated_data)

    def unwrap(self, version: int, wrapped: bytes, associated_data: bytes) -> bytes:
        self.unwraps += 1
        return self.inner.unwrap(version, wrapped, associated_data)

    def add_version(self) -> int:
        raise AssertionError("not used here")

    def retire(self, version: int) -> None:
        raise AssertionError("not used here")


def test_the_keyring_unwraps_again_after_eviction_or_expiry(database: Database, clock: Clock) -> None:
    provider = CountingProvider()
    ring = Keyring(provider, cache_size=2, ttl_seconds=30)
    with keyed_session(database.url) as session:
        records = [ring.create_key(session, None, purpose) for purpose in ("fields", "files", "index")]
        ids = [record.id for record in records]
        assert provider.unwraps == 0  # made here: cached as made

        assert ring.key(session, ids[2]).id == ids[2]
        assert ring.key(session, ids[1]).id == ids[1]
        assert provider.unwraps == 0  # the two newest are cached
        assert ring.key(session, ids[0]).id == ids[0]
        assert provider.unwraps == 1  # the oldest was evicted (size 2), so it was unwrapped again
        assert ring.key(session, ids[2]).id == ids[2]
        assert provider.unwraps == 2  # ... which evicted the least recently used in turn

        clock.now += 31
        ring.key(session, ids[2])
        assert provider.unwraps == 3  # expired: unwrapped again rather than served from memory

        before = ring.key(session, ids[0])
        ring.cache.forget()
        assert ring.key(session, ids[0]) == before  # the same key, unwrapped afresh
        assert provider.unwraps == 5
        session.rollback()
