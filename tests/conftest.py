"""Shared fixtures: a migrated database on SQLite and (when PORTAL_TEST_DATABASE_URL is set) PostgreSQL,
an application per test, demo data, and a signed-in client helper.

Every database-backed test runs once per backend: the ``database_url`` fixture is parametrised.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, delete, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from portal import migrate
from portal.accounts.models import User
from portal.app import create_app
from portal.db import Base, Database
from portal.demo import DEMO_PASSWORD
from portal.demo import load as load_demo
from portal.security import mfa, passwords, policy
from portal.security.audit import GENESIS_HASH
from portal.security.keyring import Keyring
from portal.security.keys import FileKeyProvider, create_key_file

# argon2id still, but cheap: the suite hashes hundreds of passwords.
passwords.use_cost_profile(time_cost=1, memory_cost_kib=8 * 1024)

#: One key file for the whole run (created 0600 in a private temporary folder): every app, migration and
#: Database the suite makes uses it, through PORTAL_KEY_FILE.
TEST_KEY_DIRECTORY = Path(tempfile.mkdtemp(prefix="portal-test-keys-"))
TEST_KEY_FILE = TEST_KEY_DIRECTORY / "portal.key"
create_key_file(TEST_KEY_FILE)
os.environ["PORTAL_KEY_FILE"] = str(TEST_KEY_FILE)
os.environ.pop("PORTAL_KEY_PROVIDER", None)

POSTGRES_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _create_postgres_database(base_url: str) -> str:
    url = make_url(base_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = f"portal_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(url_text: str) -> None:
    url = make_url(url_text)
    name = url.database
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def fresh_database_url(backend: str, directory: Path) -> str:
    """An empty database of the given backend (the caller migrates it)."""
    if backend == "sqlite":
        return f"sqlite:///{directory / f'portal-{uuid.uuid4().hex[:8]}.sqlite3'}"
    assert POSTGRES_URL
    return _create_postgres_database(POSTGRES_URL)


def drop_database(url: str) -> None:
    if url.startswith("postgresql"):
        _drop_postgres_database(url)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = fresh_database_url(request.param, tmp_path_factory.mktemp(request.param))
    migrate.upgrade(url)
    yield url
    drop_database(url)


@pytest.fixture
def instance_path(tmp_path: Path) -> Path:
    path = tmp_path / "instance"
    path.mkdir()
    return path


def make_app(database_url: str, instance_path: Path, **overrides: Any) -> Flask:
    config: dict[str, Any] = {
        "database_url": database_url,
        "instance_path": str(instance_path),
        "key_file": str(TEST_KEY_FILE),
        "secret_key": "test-secret-key-that-is-long-enough-0123456789",
        "testing": {"TESTING": True},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    return create_app(config)


def _empty_all_tables(database: Database) -> None:
    """Empty every table between tests; the audit chain restarts at its genesis head."""
    with database.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name == "audit_entries" and connection.dialect.name == "postgresql":
                # DELETE is refused by the append-only trigger; TRUNCATE is the owner's privilege.
                connection.execute(text("TRUNCATE audit_entries"))
            elif table.name == "audit_chain_head":
                connection.execute(update(table).values(last_seq=0, last_hash=GENESIS_HASH))
            else:
                connection.execute(delete(table))


@pytest.fixture
def app(database_url: str, instance_path: Path) -> Iterator[Flask]:
    application = make_app(database_url, instance_path)
    yield application
    database: Database = application.extensions["portal_db"]
    _empty_all_tables(database)
    database.dispose()


@pytest.fixture
def database(app: Flask) -> Database:
    db: Database = app.extensions["portal_db"]
    return db


@pytest.fixture
def demo(database: Database) -> Database:
    with database.session_scope() as session:
        load_demo(session)
    return database


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token from a page's form (tests post like a browser does)."""
    page = client.get(path)
    match = CSRF_PATTERN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


def user_by_email(database: Database, email: str) -> User:
    with database.session_scope() as session:
        user = session.scalar(select(User).where(User.email == email))
        assert user is not None, email
        session.expunge(user)
        return user


def next_totp_code(database: Database, email: str) -> str:
    """A code the server will accept now: resets the replay marker first (tests sign in many times)."""
    with database.session_scope() as session:
        session.execute(update(User).where(User.email == email).values(totp_last_step=0))
    secret = totp_secret_of(database, email)
    assert secret
    return mfa.current_code(secret)


def sign_in(
    client: FlaskClient, database: Database, email: str, password: str = DEMO_PASSWORD
) -> FlaskClient:
    """Password, then TOTP, exactly as the browser does it. Asserts that sign-in succeeded."""
    response = client.post(
        "/login", data={"csrf_token": csrf_token(client), "email": email, "password": password}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert response.headers["Location"].endswith("/login/mfa")
    token = csrf_token(client, "/login/mfa")
    response = client.post("/login/mfa", data={"csrf_token": token, "code": next_totp_code(database, email)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# --- reading sealed fields in tests ----------------------------------------------------------------
# The portal opens a sealed field only with a grant from its policy. Tests look behind the interface the
# way the operator's key maintenance does: with a maintenance grant, through the same keyring.


def keyring_for_tests() -> Keyring:
    return Keyring(FileKeyProvider(TEST_KEY_FILE))


def keyed_database(url: str) -> Database:
    """A Database whose sessions can seal and open fields (as the app's do). The caller disposes it."""
    return Database(url, keyring=keyring_for_tests())


@contextmanager
def keyed_session(url: str) -> Iterator[Session]:
    """One committed session of a short-lived keyed Database (its engine is disposed afterwards)."""
    database = keyed_database(url)
    try:
        with database.session_scope() as session:
            yield session
    finally:
        database.dispose()


def totp_secret_of(database: Database, email: str) -> str | None:
    from portal.accounts.service import totp_secret

    with keyed_session(database.url) as session:
        user = session.scalar(select(User).where(User.email == email))
        assert user is not None, email
        return totp_secret(session, user, policy.maintenance_grant("user_secret", user.id))


def evaluation_reference_of(database: Database, clearance_id: uuid.UUID) -> str | None:
    """A clearance's suitability-evaluation reference, opened with a maintenance grant."""
    from portal.accounts.models import Clearance
    from portal.accounts.service import evaluation_reference

    with keyed_session(database.url) as session:
        clearance = session.get(Clearance, clearance_id)
        assert clearance is not None, clearance_id
        grant = policy.maintenance_grant("user_secret", clearance.user_id)
        return evaluation_reference(session, grant, clearance)


def document_texts(database: Database) -> dict[uuid.UUID, tuple[str, str]]:
    """Every document's (title, body), opened with maintenance grants."""
    from portal.documents.models import Document
    from portal.documents.service import open_text

    texts = {}
    with keyed_session(database.url) as session:
        for document in session.scalars(select(Document)):
            opened = open_text(session, policy.maintenance_grant("document", document.id), document)
            texts[document.id] = (opened.title, opened.body)
    return texts


def document_id_by_title(database: Database, title: str) -> uuid.UUID | None:
    return next((key for key, (found, _body) in document_texts(database).items() if found == title), None)


def output_titles(database: Database) -> dict[uuid.UUID, str]:
    """Every think-tank output's title, opened with maintenance grants."""
    from portal.thinktank.models import ThinkTankOutput
    from portal.thinktank.service import open_text as open_output_text

    with keyed_session(database.url) as session:
        return {
            output.id: open_output_text(session, policy.maintenance_grant("output", output.id), output).title
            for output in session.scalars(select(ThinkTankOutput))
        }


def output_id_by_title(database: Database, title: str) -> uuid.UUID | None:
    return next((key for key, found in output_titles(database).items() if found == title), None)
