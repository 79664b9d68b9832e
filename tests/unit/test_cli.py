"""The `portal` command, run in-process with click's CliRunner against a database of each backend."""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url

from portal.accounts.models import User
from portal.cli import cli
from portal.config import _ENVIRONMENT_KEYS
from portal.demo import DEMO_PASSWORD, ROOMS, USERS
from tests.conftest import BACKENDS, drop_database, fresh_database_url, make_app

NEW_PASSWORD = "Umi-no-hoshi-to-kaze-2026"


class Portal:
    """`portal ...` with PORTAL_DATABASE_URL and PORTAL_INSTANCE_PATH set, nothing else from outside."""

    def __init__(self, database_url: str, instance_path: Path) -> None:
        self.database_url = database_url
        self.instance_path = instance_path
        self.runner = CliRunner()

    def env(self, **extra: str) -> dict[str, str | None]:
        environment: dict[str, str | None] = dict.fromkeys(_ENVIRONMENT_KEYS)
        environment.update(
            PORTAL_CONFIG=None,
            FLASK_RUN_FROM_CLI=None,
            PORTAL_NEW_PASSWORD=None,
            PORTAL_DATABASE_URL=self.database_url,
            PORTAL_INSTANCE_PATH=str(self.instance_path),
        )
        environment.update(extra)
        return environment

    def __call__(self, *args: str, **extra_env: str) -> Result:
        return self.runner.invoke(cli, list(args), env=self.env(**extra_env))

    def ok(self, *args: str, **extra_env: str) -> str:
        result = self(*args, **extra_env)
        assert result.exit_code == 0, f"portal {' '.join(args)}: {result.output}\n{result.exception!r}"
        return result.output

    def refused(self, *args: str, **extra_env: str) -> str:
        result = self(*args, **extra_env)
        assert result.exit_code != 0, f"portal {' '.join(args)} should fail: {result.output}"
        return result.output + (str(result.exception) if result.exception else "")

    def user_count(self) -> int:
        url = make_url(self.database_url)
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                return int(connection.scalar(select(func.count()).select_from(User.__table__)) or 0)
        finally:
            engine.dispose()


@pytest.fixture(params=BACKENDS)
def portal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Portal]:
    url = fresh_database_url(request.param, tmp_path)
    instance = tmp_path / "instance"
    yield Portal(url, instance)
    drop_database(url)


@pytest.fixture
def offline(tmp_path: Path) -> Portal:
    """For commands that do not open the database (it is never created)."""
    return Portal(f"sqlite:///{tmp_path / 'unused.sqlite3'}", tmp_path / "instance")


@pytest.fixture
def migrated(portal: Portal) -> Portal:
    """As `make run` prepares a portal: the key file (in the instance folder), then the schema."""
    portal.ok("keys", "init")
    portal.ok("db", "upgrade")
    return portal


@pytest.fixture
def demo_portal(migrated: Portal) -> Portal:
    migrated.ok("demo", "load")
    return migrated


def test_db_upgrade_then_check(portal: Portal) -> None:
    portal.refused("db", "check")  # an empty database is behind the migrations

    assert "head" in portal.ok("db", "upgrade")

    assert "agree" in portal.ok("db", "check")
    assert portal.user_count() == 0


def test_demo_load(migrated: Portal) -> None:
    output = migrated.ok("demo", "load")
    assert str(len(USERS)) in output
    assert migrated.user_count() == len(USERS)

    # On a database that holds users: --if-empty succeeds and changes nothing; without it, refused.
    assert "not loaded" in migrated.ok("demo", "load", "--if-empty")
    assert migrated.user_count() == len(USERS)
    assert "already holds users" in migrated.refused("demo", "load")
    assert migrated.user_count() == len(USERS)


def test_demo_load_if_empty_loads_an_empty_database(migrated: Portal) -> None:
    assert str(len(USERS)) in migrated.ok("demo", "load", "--if-empty")
    assert migrated.user_count() == len(USERS)


def test_demo_accounts_json(offline: Portal) -> None:
    lines = offline.ok("demo", "accounts", "--json").splitlines()

    assert len(lines) == len(USERS)
    rooms = {room.key: room.name_ja for room in ROOMS}
    for line, spec in zip(lines, USERS, strict=True):
        entry = json.loads(line)
        assert {"email", "password", "roles", "organization", "clearance", "rooms"} <= set(entry)
        assert entry["email"] == spec.email
        assert entry["password"] == DEMO_PASSWORD
        assert entry["roles"] == [role.value for role in spec.roles]
        assert entry["organization"]
        assert entry["clearance"] == (spec.clearance.name if spec.clearance is not None else None)
        assert entry["rooms"] == [rooms[key] for key, _role in spec.rooms]


def test_demo_totp_prints_a_code_the_server_accepts(demo_portal: Portal, tmp_path: Path) -> None:
    code = demo_portal.ok("demo", "totp", "tanaka@meti.example.jp").strip()
    assert re.fullmatch(r"\d{6}", code)

    web_instance = tmp_path / "web"
    web_instance.mkdir()
    # The server opens the secret with the same key file as the command did.
    app = make_app(
        demo_portal.database_url, web_instance, key_file=str(demo_portal.instance_path / "portal.key")
    )
    try:
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert token
        response = client.post(
            "/login",
            data={"csrf_token": token.group(1), "email": "tanaka@meti.example.jp", "password": DEMO_PASSWORD},
        )
        assert response.headers["Location"].endswith("/login/mfa")
        page = client.get("/login/mfa").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert token
        response = client.post("/login/mfa", data={"csrf_token": token.group(1), "code": code})
        assert response.status_code == 302
        assert client.get("/").status_code == 200
    finally:
        app.extensions["portal_db"].dispose()


def test_demo_totp_refuses_accounts_that_are_not_demo_accounts(demo_portal: Portal) -> None:
    demo_portal.ok(
        "users", "create", "--email", "new.person@meti.example.jp", "--name", "新井 一郎",
        "--organization", "経済産業省", "--role", "member",
        PORTAL_NEW_PASSWORD=NEW_PASSWORD,
    )  # fmt: skip

    assert "not a demo account" in demo_portal.refused("demo", "totp", "new.person@meti.example.jp")
    assert "not a demo account" in demo_portal.refused("demo", "totp", "nobody@meti.example.jp")
    assert "not enrolled" in demo_portal.refused("demo", "totp", "yamada@meti.example.jp")


def test_demo_totp_refuses_a_database_not_made_by_demo_load(migrated: Portal) -> None:
    migrated.ok(
        "users", "create-organization", "--name-ja", "経済産業省", "--name-en", "METI", "--kind", "government"
    )
    migrated.ok(
        "users", "create", "--email", "tanaka@meti.example.jp", "--name", "田中 浩",
        "--organization", "経済産業省", "--role", "member",
        PORTAL_NEW_PASSWORD=NEW_PASSWORD,
    )  # fmt: skip

    output = migrated.refused("demo", "totp", "tanaka@meti.example.jp")

    assert "not created by `portal demo load`" in output
    assert not re.search(r"^\d{6}$", output, re.MULTILINE)


def test_users_create_refuses_a_weak_password(demo_portal: Portal) -> None:
    output = demo_portal.refused(
        "users", "create", "--email", "weak@meti.example.jp", "--name", "弱 パスワード",
        "--organization", "経済産業省", "--role", "member",
        PORTAL_NEW_PASSWORD="password",
    )  # fmt: skip
    assert "password_too_short" in output
    assert demo_portal.user_count() == len(USERS)


def test_keys_init_creates_a_private_file_and_never_overwrites_it(offline: Portal) -> None:
    key_file = offline.instance_path / "portal.key"

    assert "created" in offline.ok("keys", "init")

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    original = key_file.read_bytes()
    assert original.startswith(b"portal-kek-v1:")
    assert "present" in offline.ok("keys", "init")
    assert key_file.read_bytes() == original
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_keys_init_refuses_a_key_file_others_can_read(offline: Portal) -> None:
    key_file = offline.instance_path / "portal.key"
    offline.ok("keys", "init")
    original = key_file.read_bytes()
    key_file.chmod(0o644)

    output = offline.refused("keys", "init")

    assert "chmod 600" in output
    assert key_file.read_bytes() == original
