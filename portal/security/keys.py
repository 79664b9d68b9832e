"""Key providers: where the key-encryption key (KEK) lives. It never enters the database.

- ``file`` (default): random 256-bit keys in a file created with mode 0600 and refused when group or
  others can read it. Each line is one KEK version: ``portal-kek-v<N>:<base64>``.
- ``pkcs11``: AES-256 keys generated on a PKCS#11 token (tested with SoftHSM2) as non-extractable,
  sensitive objects labelled ``<prefix><N>``; wrapping and unwrapping run on the token.

Both wrap a data key with AES-256-GCM under associated data that names the key being wrapped.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
_LINE = re.compile(r"^portal-kek-v(\d+):([A-Za-z0-9+/=]+)$")


class KeyFileError(RuntimeError):
    """The key source is missing, malformed, unreadable or loose; the message is one line."""


class UnwrapError(RuntimeError):
    """A wrapped key does not open under the KEK: a wrong key, or altered data."""


class KeyProvider(Protocol):
    name: str

    def describe(self) -> str: ...

    def versions(self) -> list[int]: ...

    def current_version(self) -> int: ...

    def wrap(self, version: int, key: bytes, associated_data: bytes) -> bytes: ...

    def unwrap(self, version: int, wrapped: bytes, associated_data: bytes) -> bytes: ...

    def add_version(self) -> int: ...

    def retire(self, version: int) -> None: ...


# --- the key file ---------------------------------------------------------------------------------


def _write_private(path: Path, text: str) -> None:
    """Write atomically with mode 0600 (a temporary file renamed over the old one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _new_line(version: int) -> str:
    return f"portal-kek-v{version}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}\n"


def create_key_file(path: Path) -> bool:
    """Create the key file with one KEK if there is none; True when it was created. Never overwrites."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as handle:
        handle.write(_new_line(1))
    return True


def read_key_file(path: Path) -> dict[int, bytes]:
    """Every KEK version in the file; refuses a missing, malformed or group/other-readable file."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as error:
        raise KeyFileError(f"key file {path} does not exist; run `portal keys init`") from error
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"key file {path} is accessible by group or others; run chmod 600 {path}")
    keys: dict[int, bytes] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        match = _LINE.match(line.strip())
        if not match:
            raise KeyFileError(f"key file {path} line {number} is not a portal key")
        key = base64.b64decode(match.group(2))
        if len(key) != KEY_BYTES:
            raise KeyFileError(f"key file {path} line {number} does not hold a 256-bit key")
        keys[int(match.group(1))] = key
    if not keys:
        raise KeyFileError(f"key file {path} holds no key")
    return keys


def _gcm_wrap(kek: bytes, key: bytes, associated_data: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(kek).encrypt(nonce, key, associated_data)


def _gcm_unwrap(kek: bytes, wrapped: bytes, associated_data: bytes) -> bytes:
    if len(wrapped) < NONCE_BYTES + TAG_BYTES:  # AESGCM raises ValueError for a short nonce
        raise UnwrapError("the wrapped key is truncated")
    try:
        return AESGCM(kek).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], associated_data)
    except InvalidTag as error:
        raise UnwrapError("the wrapped key does not open under this KEK") from error


class FileKeyProvider:
    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._keys = read_key_file(path)

    def describe(self) -> str:
        return f"key file {self.path}"

    def versions(self) -> list[int]:
        return sorted(self._keys)

    def current_version(self) -> int:
        return max(self._keys)

    def _key(self, version: int) -> bytes:
        try:
            return self._keys[version]
        except KeyError as error:
            raise KeyFileError(f"{self.describe()} has no KEK version {version}") from error

    def wrap(self, version: int, key: bytes, associated_data: bytes) -> bytes:
        return _gcm_wrap(self._key(version), key, associated_data)

    def unwrap(self, version: int, wrapped: bytes, associated_data: bytes) -> bytes:
        return _gcm_unwrap(self._key(version), wrapped, associated_data)

    def _save(self) -> None:
        text = "".join(
            f"portal-kek-v{version}:{base64.b64encode(key).decode()}\n"
            for version, key in sorted(self._keys.items())
        )
        _write_private(self.path, text)

    def add_version(self) -> int:
        version = self.current_version() + 1
        self._keys[version] = secrets.token_bytes(KEY_BYTES)
        self._save()
        return version

    def retire(self, version: int) -> None:
        if version == self.current_version():
            raise KeyFileError("the current KEK cannot be retired")
        self._keys.pop(version, None)
        self._save()


# --- PKCS#11 --------------------------------------------------------------------------------------


#: Serialises every PKCS#11 session of this process (see :meth:`Pkcs11KeyProvider._session`).
_PKCS11_LOCK = threading.RLock()


@dataclass(frozen=True)
class Pkcs11Settings:
    module: str
    token_label: str
    user_pin: str
    key_label_prefix: str = "portal-kek-"


class Pkcs11KeyProvider:
    """KEKs on a PKCS#11 token. The key material never leaves the token."""

    name = "pkcs11"

    def __init__(self, settings: Pkcs11Settings) -> None:
        try:
            import pkcs11
        except ImportError as error:  # pragma: no cover - the package is a dependency
            raise KeyFileError("the pkcs11 key provider needs the python-pkcs11 package") from error
        self.settings = settings
        try:
            self._lib = pkcs11.lib(settings.module)
            self._token = self._lib.get_token(token_label=settings.token_label)
        except Exception as error:
            raise KeyFileError(
                f"PKCS#11 token {settings.token_label!r} in {settings.module} is not available ({error})"
            ) from error

    def describe(self) -> str:
        return f"PKCS#11 token {self.settings.token_label!r} ({self.settings.module})"

    @contextmanager
    def _session(self, rw: bool = False) -> Iterator[Any]:
        """A logged-in session, one at a time in this process: PKCS#11 login state belongs to the whole
        application, so a second concurrent login fails (CKR_USER_ALREADY_LOGGED_IN) and closing any
        session logs every other one out."""
        with _PKCS11_LOCK:
            try:
                session = self._token.open(rw=rw, user_pin=self.settings.user_pin)
            except Exception as error:
                raise KeyFileError(
                    f"cannot open a session on {self.describe()} ({type(error).__name__})"
                ) from error
            with session:
                yield session

    def versions(self) -> list[int]:
        from pkcs11 import Attribute, KeyType, ObjectClass

        found = []
        with self._session() as session:
            for key in session.get_objects(
                {Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.AES}
            ):
                label = str(key[Attribute.LABEL])
                prefix = self.settings.key_label_prefix
                if label.startswith(prefix) and label[len(prefix) :].isdigit():
                    found.append(int(label[len(prefix) :]))
        return sorted(found)

    def current_version(self) -> int:
        versions = self.versions()
        if not versions:
            raise KeyFileError(f"{self.describe()} holds no portal KEK; run `portal keys init`")
        return max(versions)

    def _with_key(self, version: int, operation: Any) -> Any:
        from pkcs11 import KeyType, ObjectClass

        with self._session() as session:
            try:
                key = session.get_key(
                    label=f"{self.settings.key_label_prefix}{version}",
                    key_type=KeyType.AES,
                    object_class=ObjectClass.SECRET_KEY,
                )
            except Exception as error:
                raise KeyFileError(f"{self.describe()} has no KEK version {version}") from error
            return operation(key)

    def wrap(self, version: int, key: bytes, associated_data: bytes) -> bytes:
        from pkcs11 import Mechanism
        from pkcs11.mechanisms import GCMParams

        nonce = os.urandom(NONCE_BYTES)
        sealed = self._with_key(
            version,
            lambda kek: kek.encrypt(
                key, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(nonce, associated_data, 128)
            ),
        )
        return nonce + bytes(sealed)

    def unwrap(self, version: int, wrapped: bytes, associated_data: bytes) -> bytes:
        from pkcs11 import Mechanism
        from pkcs11.mechanisms import GCMParams

        nonce, body = wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:]

        def decrypt(kek: Any) -> bytes:
            try:
                return bytes(
                    kek.decrypt(
                        body,
                        mechanism=Mechanism.AES_GCM,
                        mechanism_param=GCMParams(nonce, associated_data, 128),
                    )
                )
            except Exception as error:
                raise UnwrapError("the wrapped key does not open under this KEK") from error

        result: bytes = self._with_key(version, decrypt)
        return result

    def add_version(self) -> int:
        from pkcs11 import Attribute, KeyType

        versions = self.versions()
        version = (max(versions) if versions else 0) + 1
        with self._session(rw=True) as session:
            session.generate_key(
                KeyType.AES,
                256,
                label=f"{self.settings.key_label_prefix}{version}",
                store=True,
                template={
                    Attribute.EXTRACTABLE: False,
                    Attribute.SENSITIVE: True,
                    Attribute.ENCRYPT: True,
                    Attribute.DECRYPT: True,
                    Attribute.TOKEN: True,
                },
            )
        return version

    def retire(self, version: int) -> None:
        from pkcs11 import KeyType, ObjectClass

        if version == self.current_version():
            raise KeyFileError("the current KEK cannot be retired")
        with self._session(rw=True) as session:
            key = session.get_key(
                label=f"{self.settings.key_label_prefix}{version}",
                key_type=KeyType.AES,
                object_class=ObjectClass.SECRET_KEY,
            )
            key.destroy()


def build_provider(
    kind: str,
    key_file: Path,
    pkcs11: Pkcs11Settings | None = None,
) -> KeyProvider:
    """The provider a configuration names (raises :class:`KeyFileError` with one line when unusable)."""
    if kind == "file":
        return FileKeyProvider(key_file)
    if kind == "pkcs11" and pkcs11 is not None:
        return Pkcs11KeyProvider(pkcs11)
    raise KeyFileError(f"unknown key provider {kind!r}")
