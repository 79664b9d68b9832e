"""Helpers of the key-management tests (tests/unit/test_key_management.py, tests/unit/test_pkcs11.py).

Every test gets a database of its own (migrated, demo data loaded) and a key file of its own: a copy of the
suite's ``TEST_KEY_FILE``, so the suite's helpers (``sign_in``, ``document_texts``) open its data until a
test rotates the KEK, and so a rotation never touches the key file every other test uses.

The ``portal`` command runs in-process through click's CliRunner (:class:`KeyedPortal`), or as a real
process (:meth:`KeyedPortal.spawn`) when a test must kill it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import migrate
from portal.cli import cli
from portal.config import _ENVIRONMENT_KEYS, PROJECT_ROOT
from portal.db import Database
from portal.demo import DEMO_PASSWORD
from portal.demo import load as load_demo
from portal.key_management import SEALED_COLUMNS
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.audit_models import AuditEntry
from portal.security.crypto import KeyDestroyed, key_id_of
from portal.security.key_models import DataKeyRecord
from portal.security.keyring import Keyring
from portal.security.keys import FileKeyProvider, KeyProvider, read_key_file
from tests.conftest import TEST_KEY_FILE, csrf_token, drop_database, fresh_database_url, make_app

VENV_BIN = Path(sys.executable).parent
PORTAL_COMMAND = VENV_BIN / "portal"
#: What an opened field reads as when its data key was destroyed.
DESTROYED = "<destroyed>"

#: (table, column, row id) of one sealed value.
FieldId = tuple[str, str, uuid.UUID]

#: Installed with PYTHONPATH into a `portal` process, it makes every seal slow (so a test can kill the
#: process in the middle of a rotation). It changes nothing else.
SLOW_SEAL_SITECUSTOMIZE = '''\
"""Test hook: slows down Keyring.seal by PORTAL_TEST_SEAL_DELAY seconds."""
import os
import time

from portal.security import keyring as _keyring

_DELAY = float(os.environ.get("PORTAL_TEST_SEAL_DELAY", "0"))
_seal = _keyring.Keyring.seal


def _slow_seal(self, *args, **kwargs):
    time.sleep(_DELAY)
    return _seal(self, *args, **kwargs)


_keyring.Keyring.seal = _slow_seal
'''


def copy_private(source: Path, target: Path) -> Path:
    """Copy a key file with mode 0600 (the provider refuses anything looser)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(source.read_bytes())
    return target


@dataclass(frozen=True)
class KeyRow:
    """A data key as the database holds it."""

    id: uuid.UUID
    room_id: uuid.UUID | None
    purpose: str
    version: int
    state: str
    kek_provider: str
    kek_version: int
    wrapped: bytes | None


class KeyedPortal:
    """A database with demo data, its own key file and instance folder, and the `portal` command on them."""

    def __init__(self, backend: str, directory: Path) -> None:
        self.backend = backend
        self.directory = directory
        self.instance_path = directory / "instance"
        self.instance_path.mkdir(parents=True, exist_ok=True)
        self.key_file = copy_private(TEST_KEY_FILE, directory / "keys" / "portal.key")
        self.url = fresh_database_url(backend, directory)
        self.runner = CliRunner()
        self._apps: list[Flask] = []
        self._databases: list[Database] = []
        migrate.upgrade(self.url)
        with self.session() as session:
            load_demo(session)

    def close(self) -> None:
        for application in self._apps:
            application.extensions["portal_db"].dispose()
        for database in self._databases:
            database.dispose()
        drop_database(self.url)

    # --- the command ------------------------------------------------------------------------------

    def env(self, **extra: str | None) -> dict[str, str | None]:
        """PORTAL_DATABASE_URL, PORTAL_INSTANCE_PATH and PORTAL_KEY_FILE; every other PORTAL_* unset."""
        environment: dict[str, str | None] = dict.fromkeys(_ENVIRONMENT_KEYS)
        environment.update(
            PORTAL_CONFIG=None,
            FLASK_RUN_FROM_CLI=None,
            PORTAL_NEW_PASSWORD=None,
            PORTAL_DATABASE_URL=self.url,
            PORTAL_INSTANCE_PATH=str(self.instance_path),
            PORTAL_KEY_FILE=str(self.key_file),
        )
        environment.update(extra)
        return environment

    def __call__(self, *args: str, **extra_env: str | None) -> Result:
        return self.runner.invoke(cli, list(args), env=self.env(**extra_env))

    def ok(self, *args: str, **extra_env: str | None) -> str:
        result = self(*args, **extra_env)
        assert result.exit_code == 0, f"portal {' '.join(args)}: {result.output}\n{result.exception!r}"
        return result.output

    def refused(self, *args: str, **extra_env: str | None) -> str:
        result = self(*args, **extra_env)
        assert result.exit_code != 0, f"portal {' '.join(args)} should fail: {result.output}"
        return result.output + (str(result.exception) if result.exception else "")

    def process_env(self, **extra: str | None) -> dict[str, str]:
        """The environment of a real `portal` process: this one's, with :meth:`env` applied."""
        environment = dict(os.environ)
        for name, value in self.env(**extra).items():
            if value is None:
                environment.pop(name, None)
            else:
                environment[name] = value
        return environment

    def run(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 120.0
    ) -> subprocess.CompletedProcess[str]:
        """`.venv/bin/portal ARGS` as a process of its own, with :meth:`env` and ``env`` (its whole process
        group is killed on timeout)."""
        process = subprocess.Popen(
            [str(PORTAL_COMMAND), *args],
            env=self.process_env(**(env or {})),
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            raise AssertionError(
                f"portal {' '.join(args)} still ran after {timeout}s: {stdout}{stderr}"
            ) from None
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)

    def spawn_slow(self, *args: str, seal_delay: float, log: Path) -> subprocess.Popen[bytes]:
        """`.venv/bin/portal ARGS` in the background (its own process group; output to ``log``), every
        seal slowed down by ``seal_delay`` seconds."""
        hook = self.directory / "slow-seal"
        hook.mkdir(exist_ok=True)
        (hook / "sitecustomize.py").write_text(SLOW_SEAL_SITECUSTOMIZE)
        python_path = os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")]))
        with log.open("wb") as output:
            return subprocess.Popen(
                [str(PORTAL_COMMAND), *args],
                env=self.process_env(PYTHONPATH=python_path, PORTAL_TEST_SEAL_DELAY=str(seal_delay)),
                cwd=PROJECT_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    # --- the database and the application -----------------------------------------------------------

    def provider(self) -> KeyProvider:
        return FileKeyProvider(self.key_file)

    def keyring(self) -> Keyring:
        return Keyring(self.provider())

    def database(self, keyring: Keyring | None = None) -> Database:
        """A Database whose sessions seal and open with this portal's key file (disposed at the end)."""
        database = Database(self.url, keyring=keyring or self.keyring())
        self._databases.append(database)
        return database

    @contextmanager
    def session(self, keyring: Keyring | None = None) -> Iterator[Session]:
        """A committed session on a fresh keyring (so nothing comes from an earlier cache)."""
        database = Database(self.url, keyring=keyring or self.keyring())
        try:
            with database.session_scope() as session:
                yield session
        finally:
            database.dispose()

    def app(self, **overrides: Any) -> Flask:
        """The application on this database and key file (refuses to start when the keys do not open)."""
        instance = self.directory / f"web-{uuid.uuid4().hex[:8]}"
        instance.mkdir()
        overrides.setdefault("key_file", str(self.key_file))
        application = make_app(self.url, instance, **overrides)
        self._apps.append(application)
        return application

    def kek_versions(self) -> list[int]:
        return sorted(read_key_file(self.key_file))

    def room_id(self, name_ja: str) -> uuid.UUID:
        with self.session() as session:
            room_id = session.scalar(select(Subcommittee.id).where(Subcommittee.name_ja == name_ja))
        assert room_id is not None, name_ja
        return room_id

    def data_keys(self) -> list[KeyRow]:
        with self.session() as session:
            return [
                KeyRow(
                    record.id,
                    record.subcommittee_id,
                    record.purpose,
                    record.version,
                    record.state,
                    record.kek_provider,
                    record.kek_version,
                    bytes(record.wrapped) if record.wrapped is not None else None,
                )
                for record in session.scalars(
                    select(DataKeyRecord).order_by(
                        DataKeyRecord.subcommittee_id, DataKeyRecord.purpose, DataKeyRecord.version
                    )
                )
            ]

    def room_keys(self, room_id: uuid.UUID | None, purpose: str) -> list[KeyRow]:
        return [key for key in self.data_keys() if key.room_id == room_id and key.purpose == purpose]

    def sealed(self) -> dict[FieldId, tuple[uuid.UUID | None, bytes]]:
        """Every sealed value in the database: (room or None for personal secrets, the stored bytes)."""
        values: dict[FieldId, tuple[uuid.UUID | None, bytes]] = {}
        with self.session() as session:
            for column in SEALED_COLUMNS:
                table = column.model.__tablename__
                name = column.attribute.removesuffix("_sealed")
                for row in session.scalars(select(column.model)):
                    value = getattr(row, column.attribute)
                    if value is not None:
                        values[(table, name, row.id)] = (column.room_of(row), bytes(value))
        return values

    def opened(self, keyring: Keyring | None = None) -> dict[FieldId, str]:
        """Every sealed value opened (with maintenance grants); DESTROYED where its key was destroyed."""
        texts: dict[FieldId, str] = {}
        with self.session(keyring) as session:
            keyring_in_use = keyring or session.info["keyring"]
            for column in SEALED_COLUMNS:
                table = column.model.__tablename__
                name = column.attribute.removesuffix("_sealed")
                for row in session.scalars(select(column.model)):
                    value = getattr(row, column.attribute)
                    if value is None:
                        continue
                    context = column.context(row)
                    grant = policy.maintenance_grant(context.object_type, context.grant_object_id)
                    try:
                        texts[(table, name, row.id)] = column.open(session, keyring_in_use, row, grant)
                    except KeyDestroyed:
                        texts[(table, name, row.id)] = DESTROYED
        return texts

    def key_counts(self) -> Counter[uuid.UUID]:
        """How many sealed values each data key protects (read from the values' headers)."""
        return Counter(key_id_of(value) for _room, value in self.sealed().values())

    def audit(self, action: str) -> list[AuditEntry]:
        with self.session() as session:
            entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))
            session.expunge_all()
        return entries


def sign_in_with_code(client: FlaskClient, email: str, code: str, password: str = DEMO_PASSWORD) -> None:
    """Password, then the given TOTP code (e.g. from `portal demo totp`), as the browser does it."""
    response = client.post(
        "/login", data={"csrf_token": csrf_token(client), "email": email, "password": password}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert response.headers["Location"].endswith("/login/mfa")
    response = client.post("/login/mfa", data={"csrf_token": csrf_token(client, "/login/mfa"), "code": code})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert client.get("/").status_code == 200


# --- status output ----------------------------------------------------------------------------------

STATUS_LINE = re.compile(
    r"^(?P<room>.+?)\s+(?P<purpose>fields|files|index|personal)\s+v(?P<version>\d+)\s+(?P<state>\w+)\s+"
    r"KEK (?P<provider>\w+):v(?P<kek_version>\d+)\s+rows\s+(?P<rows>\d+)\s+(?P<id>[0-9a-f-]{36})$"
)


@dataclass(frozen=True)
class StatusLine:
    room: str
    purpose: str
    version: int
    state: str
    kek_provider: str
    kek_version: int
    rows: int
    id: uuid.UUID


def parse_status(output: str) -> list[StatusLine]:
    """The key lines of `portal keys status` (the KEK line and the progress text are skipped)."""
    lines = []
    for line in output.splitlines():
        match = STATUS_LINE.match(line.strip())
        if match:
            lines.append(
                StatusLine(
                    match["room"].strip(),
                    match["purpose"],
                    int(match["version"]),
                    match["state"],
                    match["provider"],
                    int(match["kek_version"]),
                    int(match["rows"]),
                    uuid.UUID(match["id"]),
                )
            )
    return lines


# --- SoftHSM2 ---------------------------------------------------------------------------------------

SOFTHSM_MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)
SOFTHSM_TOKEN_LABEL = "portal-test"
SOFTHSM_USER_PIN = "1234"
SOFTHSM_SO_PIN = "5678"


def softhsm_module() -> str | None:
    return next((path for path in SOFTHSM_MODULE_CANDIDATES if Path(path).exists()), None)


def softhsm_missing() -> str | None:
    """Why SoftHSM2 cannot be used here (None when it can)."""
    if shutil.which("softhsm2-util") is None:
        return "softhsm2-util is not installed (Debian package softhsm2)"
    if softhsm_module() is None:
        return (
            f"the SoftHSM2 PKCS#11 module is not installed (looked in {', '.join(SOFTHSM_MODULE_CANDIDATES)})"
        )
    try:
        import pkcs11  # noqa: F401
    except ImportError:
        return "python-pkcs11 is not installed (pip install -e '.[dev]')"
    return None


@dataclass(frozen=True)
class SoftHsm:
    """A SoftHSM2 token in a folder of its own; SOFTHSM2_CONF names its configuration."""

    config: Path
    module: str
    token_label: str = SOFTHSM_TOKEN_LABEL
    user_pin: str = SOFTHSM_USER_PIN

    @classmethod
    def create(cls, directory: Path) -> SoftHsm:
        tokens = directory / "tokens"
        tokens.mkdir(parents=True)
        config = directory / "softhsm2.conf"
        config.write_text(
            f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
            "slots.removable = false\n"
        )
        module = softhsm_module()
        assert module is not None
        subprocess.run(
            [
                "softhsm2-util", "--init-token", "--free", "--label", SOFTHSM_TOKEN_LABEL,
                "--pin", SOFTHSM_USER_PIN, "--so-pin", SOFTHSM_SO_PIN,
            ],
            env={**os.environ, "SOFTHSM2_CONF": str(config)},
            check=True,
            capture_output=True,
            timeout=60,
        )  # fmt: skip
        return cls(config, module)

    def environment(self) -> dict[str, str]:
        """What `portal` needs to use this token (PORTAL_PKCS11_*), besides SOFTHSM2_CONF."""
        return {
            "PORTAL_PKCS11_MODULE": self.module,
            "PORTAL_PKCS11_TOKEN_LABEL": self.token_label,
            "PORTAL_PKCS11_PIN": self.user_pin,
        }

    def keys_config(self, prefix: str = "portal-kek-") -> dict[str, str]:
        """The [keys] section of an application that uses this token."""
        return {
            "provider": "pkcs11",
            "pkcs11_module": self.module,
            "pkcs11_token_label": self.token_label,
            "pkcs11_pin": self.user_pin,
            "pkcs11_key_label_prefix": prefix,
        }

    def labels(self) -> list[str]:
        """The labels of every object on the token."""
        import pkcs11

        token = pkcs11.lib(self.module).get_token(token_label=self.token_label)
        with token.open(user_pin=self.user_pin) as session:
            return sorted(str(obj[pkcs11.Attribute.LABEL]) for obj in session.get_objects())

    def clear(self) -> None:
        """Destroy every object on the token (between tests)."""
        import pkcs11

        token = pkcs11.lib(self.module).get_token(token_label=self.token_label)
        with token.open(user_pin=self.user_pin, rw=True) as session:
            for obj in list(session.get_objects()):
                obj.destroy()
