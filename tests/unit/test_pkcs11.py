"""Key providers on a real PKCS#11 token (SoftHSM2), next to the file provider, and moving a database's
KEK from the key file onto the token with `portal keys rotate-kek --to pkcs11`.

The token lives in a temporary folder named by SOFTHSM2_CONF (set for this process and every `portal`
process it starts). Without SoftHSM2 the module is skipped, with the reason shown, except under CI=true:
there the tests must run, so a missing SoftHSM2 fails them.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from portal import migrate
from portal.db import Database
from portal.security import crypto, policy
from portal.security.crypto import FieldContext
from portal.security.key_models import DataKeyRecord
from portal.security.keyring import Keyring
from portal.security.keys import (
    FileKeyProvider,
    KeyFileError,
    KeyProvider,
    Pkcs11KeyProvider,
    Pkcs11Settings,
    UnwrapError,
    create_key_file,
    read_key_file,
)
from tests.conftest import BACKENDS, drop_database, fresh_database_url
from tests.keys_support import KeyedPortal, SoftHsm, parse_status, sign_in_with_code, softhsm_missing

MISSING = softhsm_missing()
if MISSING and os.environ.get("CI") != "true":
    pytest.skip(f"SoftHSM2 is not available here: {MISSING}", allow_module_level=True)

#: Labels of the provider tests' KEKs (the CLI tests use the portal's default, "portal-kek-").
TEST_PREFIX = "portal-test-kek-"
WRAPPED_BYTES = 12 + 32 + 16  # nonce, key, GCM tag


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHsm]:
    """One SoftHSM2 token for the session. SOFTHSM2_CONF must be set before the module is first loaded:
    SoftHSM2 reads it once per process."""
    if MISSING:
        pytest.fail(f"CI=true, so the PKCS#11 tests must run, but SoftHSM2 is not available: {MISSING}")
    hsm = SoftHsm.create(tmp_path_factory.mktemp("softhsm"))
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(hsm.config)
    yield hsm
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture
def token(softhsm: SoftHsm) -> Iterator[SoftHsm]:
    """The token, empty at the start and at the end of the test."""
    softhsm.clear()
    yield softhsm
    softhsm.clear()


def pkcs11_settings(hsm: SoftHsm, prefix: str = TEST_PREFIX, **changes: str) -> Pkcs11Settings:
    values = {"module": hsm.module, "token_label": hsm.token_label, "user_pin": hsm.user_pin}
    values.update(changes)
    return Pkcs11Settings(key_label_prefix=prefix, **values)


# --- the same behaviour from both providers ----------------------------------------------------------

ProviderFactory = Callable[[], KeyProvider]


@pytest.fixture(params=["file", "pkcs11"])
def open_provider(request: pytest.FixtureRequest, tmp_path: Path) -> ProviderFactory:
    """Opens the provider afresh (as a new process would), holding one KEK version (1)."""
    if request.param == "file":
        path = tmp_path / "portal.key"
        create_key_file(path)
        return lambda: FileKeyProvider(path)
    settings = pkcs11_settings(request.getfixturevalue("token"))
    assert Pkcs11KeyProvider(settings).add_version() == 1
    return lambda: Pkcs11KeyProvider(settings)


def context_of(key_id: uuid.UUID) -> bytes:
    return f"portal-dek-v1|{key_id}|system|personal|1".encode()


def test_a_new_provider_holds_version_1(open_provider: ProviderFactory) -> None:
    provider = open_provider()

    assert provider.name in {"file", "pkcs11"}
    assert provider.versions() == [1]
    assert provider.current_version() == 1


def test_wrap_then_unwrap_returns_the_key(open_provider: ProviderFactory) -> None:
    provider = open_provider()
    key = secrets.token_bytes(32)
    context = context_of(uuid.uuid4())

    wrapped = provider.wrap(1, key, context)
    again = provider.wrap(1, key, context)

    assert len(wrapped) == WRAPPED_BYTES
    assert key not in wrapped
    assert wrapped != again  # a fresh nonce every time
    assert provider.unwrap(1, wrapped, context) == key
    assert provider.unwrap(1, again, context) == key
    assert open_provider().unwrap(1, wrapped, context) == key  # the KEK persists


def test_unwrap_refuses_altered_data_and_another_context(open_provider: ProviderFactory) -> None:
    provider = open_provider()
    key = secrets.token_bytes(32)
    context = context_of(uuid.uuid4())
    wrapped = provider.wrap(1, key, context)

    for position in (0, 11, 12, 30, WRAPPED_BYTES - 1):  # nonce, ciphertext, tag
        altered = bytearray(wrapped)
        altered[position] ^= 0x01
        with pytest.raises(UnwrapError):
            provider.unwrap(1, bytes(altered), context)
    for damaged in (wrapped[:-1], wrapped + b"\x00", wrapped[:20], wrapped[:5], b""):
        with pytest.raises(UnwrapError):
            provider.unwrap(1, damaged, context)
    for other_context in (context_of(uuid.uuid4()), context + b"x", b""):
        with pytest.raises(UnwrapError):
            provider.unwrap(1, wrapped, other_context)
    assert provider.unwrap(1, wrapped, context) == key


def test_versions_current_version_and_retire(open_provider: ProviderFactory) -> None:
    provider = open_provider()
    key = secrets.token_bytes(32)
    context = context_of(uuid.uuid4())
    under_1 = provider.wrap(1, key, context)

    assert provider.add_version() == 2

    assert provider.versions() == [1, 2]
    assert provider.current_version() == 2
    assert open_provider().versions() == [1, 2]
    assert provider.unwrap(1, under_1, context) == key  # old versions still open what they wrapped
    with pytest.raises(UnwrapError):
        provider.unwrap(2, under_1, context)  # ... and only they do
    under_2 = provider.wrap(2, key, context)
    assert provider.unwrap(2, under_2, context) == key

    with pytest.raises(KeyFileError, match="current KEK cannot be retired"):
        provider.retire(2)
    provider.retire(1)

    assert provider.versions() == [2]
    assert open_provider().versions() == [2]
    assert open_provider().current_version() == 2
    with pytest.raises(KeyFileError, match="has no KEK version 1"):
        provider.unwrap(1, under_1, context)
    with pytest.raises(KeyFileError, match="has no KEK version 1"):
        open_provider().wrap(1, key, context)
    assert open_provider().unwrap(2, under_2, context) == key


def test_an_unknown_version_is_refused(open_provider: ProviderFactory) -> None:
    provider = open_provider()
    key = secrets.token_bytes(32)

    with pytest.raises(KeyFileError, match="has no KEK version 7"):
        provider.wrap(7, key, b"context")
    with pytest.raises(KeyFileError, match="has no KEK version 7"):
        provider.unwrap(7, provider.wrap(1, key, b"context"), b"context")


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_keyring_seals_and_opens_fields(
    open_provider: ProviderFactory, backend: str, tmp_path: Path
) -> None:
    url = fresh_database_url(backend, tmp_path)
    migrate.upgrade(url)
    database = Database(url, keyring=Keyring(open_provider()))
    try:
        row_id = uuid.uuid4()
        context = FieldContext("users", "totp_secret", row_id, 0, "user_secret")
        grant = policy.maintenance_grant("user_secret", row_id)
        with database.session_scope() as session:
            sealed = database.keyring.seal(session, grant, context, "秘密の値 secret", None, "personal")
            (record,) = session.query(DataKeyRecord).all()
            assert (record.kek_provider, record.kek_version, record.state) == (
                open_provider().name,
                1,
                "active",
            )
            assert crypto.key_id_of(sealed) == record.id
        assert "秘密".encode() not in sealed

        # A new keyring on a freshly opened provider (nothing cached) opens it.
        fresh = Database(url, keyring=Keyring(open_provider()))
        try:
            with fresh.session_scope() as session:
                assert fresh.keyring.open(session, grant, context, sealed) == "秘密の値 secret"
                moved = FieldContext("users", "totp_secret", uuid.uuid4(), 0, "user_secret")
                with pytest.raises(crypto.IntegrityError):
                    fresh.keyring.open(
                        session, policy.maintenance_grant("user_secret", moved.row_id), moved, sealed
                    )
        finally:
            fresh.dispose()
    finally:
        database.dispose()
        drop_database(url)


# --- PKCS#11 only -------------------------------------------------------------------------------------


def test_the_kek_is_generated_on_the_token_non_extractable_and_sensitive(token: SoftHsm) -> None:
    import pkcs11
    from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass

    provider = Pkcs11KeyProvider(pkcs11_settings(token))
    assert provider.versions() == []

    assert provider.add_version() == 1

    assert token.labels() == [f"{TEST_PREFIX}1"]
    session_token = pkcs11.lib(token.module).get_token(token_label=token.token_label)
    with session_token.open(user_pin=token.user_pin, rw=True) as session:
        key = session.get_key(label=f"{TEST_PREFIX}1", object_class=ObjectClass.SECRET_KEY)
        assert key.key_type == KeyType.AES
        assert key[Attribute.VALUE_LEN] == 32
        assert key[Attribute.TOKEN] is True  # stored on the token
        assert key[Attribute.LOCAL] is True  # generated there, never imported
        assert key[Attribute.PRIVATE] is True  # invisible without the PIN
        assert key[Attribute.EXTRACTABLE] is False
        assert key[Attribute.NEVER_EXTRACTABLE] is True
        assert key[Attribute.SENSITIVE] is True
        assert key[Attribute.ALWAYS_SENSITIVE] is True
        # The key material cannot be read, wrapped out, or made readable.
        with pytest.raises(pkcs11.exceptions.AttributeSensitive):
            key[Attribute.VALUE]
        wrapper = session.generate_key(
            KeyType.AES, 256, store=False, template={Attribute.WRAP: True, Attribute.EXTRACTABLE: True}
        )
        assert isinstance(wrapper, pkcs11.types.WrapMixin)
        with pytest.raises(pkcs11.exceptions.KeyUnextractable):
            wrapper.wrap_key(key, mechanism=Mechanism.AES_KEY_WRAP)
        with pytest.raises(pkcs11.exceptions.PKCS11Error):
            key[Attribute.EXTRACTABLE] = True
        with pytest.raises(pkcs11.exceptions.PKCS11Error):
            key[Attribute.SENSITIVE] = False
        assert (key[Attribute.EXTRACTABLE], key[Attribute.SENSITIVE]) == (False, True)
    with session_token.open() as anonymous:  # no PIN: no key
        assert list(anonymous.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY})) == []


def test_an_empty_token_has_no_current_version(token: SoftHsm) -> None:
    provider = Pkcs11KeyProvider(pkcs11_settings(token))

    with pytest.raises(KeyFileError, match="holds no portal KEK; run `portal keys init`"):
        provider.current_version()


def test_a_wrong_pin_or_an_unknown_token_is_refused_with_one_line(token: SoftHsm) -> None:
    Pkcs11KeyProvider(pkcs11_settings(token)).add_version()

    with pytest.raises(
        KeyFileError, match=r"cannot open a session on PKCS#11 token 'portal-test'.*PinIncorrect"
    ):
        Pkcs11KeyProvider(pkcs11_settings(token, user_pin="0000")).versions()
    with pytest.raises(
        KeyFileError, match=r"PKCS#11 token 'no-such-token' in .* is not available"
    ) as refused:
        Pkcs11KeyProvider(pkcs11_settings(token, token_label="no-such-token"))
    assert "\n" not in str(refused.value)
    assert "0000" not in str(refused.value)


def test_each_provider_sees_only_its_own_labels(token: SoftHsm) -> None:
    mine = Pkcs11KeyProvider(pkcs11_settings(token, prefix="portal-a-"))
    theirs = Pkcs11KeyProvider(pkcs11_settings(token, prefix="portal-b-"))

    mine.add_version()
    mine.add_version()
    theirs.add_version()

    assert (mine.versions(), theirs.versions()) == ([1, 2], [1])
    wrapped = mine.wrap(1, b"k" * 32, b"context")
    with pytest.raises(UnwrapError):
        theirs.unwrap(1, wrapped, b"context")


THREADS_SCRIPT = """
import sys, threading
from portal.security.keys import Pkcs11KeyProvider, Pkcs11Settings

provider = Pkcs11KeyProvider(Pkcs11Settings(*sys.argv[1:5]))
provider.add_version()
key = bytes(range(32))
wrapped = provider.wrap(1, key, b"context")
errors = []

def work():
    for _ in range(50):
        try:
            assert provider.unwrap(1, wrapped, b"context") == key
            assert provider.versions() == [1]
        except Exception as error:
            errors.append(repr(error))

threads = [threading.Thread(target=work, daemon=True) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(timeout=60)
print(f"errors={len(errors)} stuck={sum(thread.is_alive() for thread in threads)} first={errors[:1]}")
sys.stdout.flush()
import os
os._exit(0)
"""


def test_threads_share_the_token_without_failing(token: SoftHsm) -> None:
    """PKCS#11 login state belongs to the whole process: concurrent sessions must neither refuse each other
    (CKR_USER_ALREADY_LOGGED_IN) nor log each other out. In a process of its own, so that a deadlock
    fails the test instead of hanging the suite."""
    settings = pkcs11_settings(token)
    arguments = [settings.module, settings.token_label, settings.user_pin, settings.key_label_prefix]

    result = subprocess.run(
        [sys.executable, "-c", THREADS_SCRIPT, *arguments],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "errors=0 stuck=0 first=[]", result.stdout + result.stderr


# --- moving a database's KEK onto the token ------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def keyed(request: pytest.FixtureRequest, tmp_path: Path, token: SoftHsm) -> Iterator[KeyedPortal]:
    portal = KeyedPortal(request.param, tmp_path)
    yield portal
    portal.close()


def test_keys_init_creates_a_kek_on_the_token_once(keyed: KeyedPortal, token: SoftHsm) -> None:
    environment = {"PORTAL_KEY_PROVIDER": "pkcs11", **token.environment()}

    assert re.search(
        r"KEK created: PKCS#11 token 'portal-test' .* \(version 1\)", keyed.ok("keys", "init", **environment)
    )
    assert "KEK present" in keyed.ok("keys", "init", **environment)

    assert token.labels() == ["portal-kek-1"]


def test_rotate_kek_to_pkcs11_moves_every_data_key_onto_the_token(keyed: KeyedPortal, token: SoftHsm) -> None:
    keys_before = keyed.data_keys()
    sealed_before = keyed.sealed()
    opened_before = keyed.opened()
    key_file_before = read_key_file(keyed.key_file)
    environment = token.environment()
    on_token = {"PORTAL_KEY_PROVIDER": "pkcs11", **environment}

    output = keyed.ok("keys", "rotate-kek", "--to", "pkcs11", **environment)

    assert f"{len(keys_before)} data keys re-wrapped under PKCS#11 token 'portal-test'" in output
    assert "PORTAL_KEY_PROVIDER" in output
    assert token.labels() == ["portal-kek-1"]
    keys_after = keyed.data_keys()
    assert [(k.id, k.state) for k in keys_after] == [(k.id, k.state) for k in keys_before]
    assert {(k.kek_provider, k.kek_version) for k in keys_after} == {("pkcs11", 1)}
    assert all(after.wrapped != before.wrapped for before, after in zip(keys_before, keys_after, strict=True))
    assert keyed.sealed() == sealed_before  # no row data touched
    assert read_key_file(keyed.key_file) == key_file_before
    (entry,) = keyed.audit("keys.rotate_kek")
    assert entry.object_id == "pkcs11:1"
    assert keyed.opened(Keyring(Pkcs11KeyProvider(pkcs11_settings(token, prefix="portal-kek-")))) == (
        opened_before
    )

    # The file provider alone no longer opens the database: refused at start, and by the command.
    with pytest.raises(KeyFileError, match="does not open this database's data keys") as refused:
        keyed.app()
    assert "pkcs11" in str(refused.value)
    assert "does not open this database's data keys" in keyed.refused("keys", "status")

    # An application configured for the token starts and reads the documents; the sign-in opens the
    # TOTP secrets (`portal demo totp` on the token, a real process, so SOFTHSM2_CONF reaches it).
    app = keyed.app(keys=token.keys_config())
    assert app.extensions["portal_db"].keyring.provider.name == "pkcs11"
    totp = keyed.run("demo", "totp", "takahashi@mic.example.jp", env=on_token)
    assert totp.returncode == 0, totp.stderr
    client = app.test_client()
    sign_in_with_code(client, "takahashi@mic.example.jp", totp.stdout.strip())
    agi = keyed.room_id("AGI分科会")
    room_page = client.get(f"/rooms/{agi}").get_data(as_text=True)
    assert "AGIリスク論点整理メモ" in room_page
    document_id = next(
        row
        for (_t, column, row), text in opened_before.items()
        if column == "title" and text == "AGIリスク論点整理メモ"
    )
    page = client.get(f"/rooms/{agi}/documents/{document_id}")
    assert page.status_code == 200
    assert "計算資源の集中" in page.get_data(as_text=True)

    # On the token, the usual operations work: status, a KEK rotation (retiring version 1 on the
    # token), and a DEK rotation.
    status = parse_status(keyed.ok("keys", "status", **on_token))
    assert {(line.kek_provider, line.kek_version) for line in status} == {("pkcs11", 1)}
    assert "retired versions [1]" in keyed.ok("keys", "rotate-kek", **on_token)
    assert token.labels() == ["portal-kek-2"]
    assert {(k.kek_provider, k.kek_version) for k in keyed.data_keys()} == {("pkcs11", 2)}
    keyed.ok("keys", "rotate-dek", "AGI分科会", **on_token)
    assert (
        keyed.opened(Keyring(Pkcs11KeyProvider(pkcs11_settings(token, prefix="portal-kek-"))))
        == opened_before
    )
    status_process = keyed.run("keys", "status", env=on_token)
    assert status_process.returncode == 0, status_process.stderr
    assert {line.kek_provider for line in parse_status(status_process.stdout)} == {"pkcs11"}
    assert keyed.app(keys=token.keys_config()).test_client().get("/login").status_code == 200

    # And back to the key file: a new version in the file wraps every data key; the file provider opens
    # the database again, the token alone no longer does.
    output = keyed.ok("keys", "rotate-kek", "--to", "file", **on_token)

    assert f"{len(keys_before)} data keys re-wrapped under key file {keyed.key_file} version 2" in output
    assert keyed.kek_versions() == [1, 2]
    live = [k for k in keyed.data_keys() if k.state != "destroyed"]  # a destroyed key has nothing to wrap
    assert len(live) == len(keys_before)
    assert {(k.kek_provider, k.kek_version) for k in live} == {("file", 2)}
    assert keyed.opened() == opened_before
    assert keyed.app().test_client().get("/login").status_code == 200
    with pytest.raises(KeyFileError, match="does not open this database's data keys"):
        keyed.app(keys=token.keys_config())
