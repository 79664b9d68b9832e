"""The `portal` command: db, demo, users, audit, keys, search, exports, serve."""

from __future__ import annotations

import json
import os
import sys
import uuid
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup

from portal import migrate
from portal.config import Settings, UnsafeConfiguration, load_settings
from portal.db import Database


def _create_app() -> Flask:
    from portal.app import create_app

    # Commands open the keys only when they need them: `portal keys init` must run before a key exists.
    return create_app(verify_keys=False)


def _settings() -> Settings:
    settings: Settings = current_app.config["PORTAL_SETTINGS"]
    return settings


def _database() -> Database:
    database: Database = current_app.extensions["portal_db"]
    return database


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def cli() -> None:
    """協議会ポータル (council portal) administration."""


# --- database -------------------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Schema migrations (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the schema to REVISION (default: head)."""
    _settings().instance_path.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(_settings().database_url, revision)
    click.echo(f"database at revision {revision}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION (for example -1 or base)."""
    migrate.downgrade(_settings().database_url, revision)
    click.echo(f"database downgraded to {revision}")


@db.command("check")
def db_check() -> None:
    """Fail if the models differ from the newest migration."""
    from alembic.util.exc import CommandError

    try:
        migrate.check(_settings().database_url)
    except CommandError as error:
        raise click.ClickException(f"models and migrations differ: {str(error)[:300]}") from error
    click.echo("models and migrations agree")


@db.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--empty", is_flag=True, help="Write an empty revision instead of autogenerating.")
def db_revision(message: str, empty: bool) -> None:
    """Write a new migration from the difference between models and database."""
    migrate.revision(_settings().database_url, message, autogenerate=not empty)


# --- demo -----------------------------------------------------------------------------------------


@cli.group()
def demo() -> None:
    """Demo data drawn from the briefing."""


@demo.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing (successfully) when the database holds users.")
def demo_load(if_empty: bool) -> None:
    """Load demo organisations, rooms and accounts into an empty database."""
    from portal import demo as demo_data

    with _database().session_scope() as session:
        if not demo_data.database_is_empty(session):
            if if_empty:
                click.echo("database already holds data; demo data not loaded")
                return
            raise click.ClickException(
                "the database already holds users; demo data goes only into an empty one"
            )
        demo_data.load(session)
    click.echo(f"demo data loaded: {len(demo_data.USERS)} accounts; list them with `portal demo accounts`")


@demo.command("accounts")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def demo_accounts(as_json: bool) -> None:
    """List the demo accounts (e-mail, password, roles, organisation, clearance, rooms)."""
    from portal import demo as demo_data

    listing = demo_data.accounts_listing()
    if as_json:
        for entry in listing:
            click.echo(json.dumps(entry, ensure_ascii=False))
        return
    click.echo(f"password for every demo account: {demo_data.DEMO_PASSWORD}")
    for entry in listing:
        rooms = ", ".join(entry["rooms"]) or "—"
        click.echo(
            f"{entry['email']:<38} {','.join(entry['roles']):<12} "
            f"{entry['clearance'] or '—':<13} {entry['organization']} | {rooms}"
        )


@demo.command("totp")
@click.argument("email")
def demo_totp(email: str) -> None:
    """Print the current TOTP code of a demo account (refuses for any other account)."""
    from portal import demo as demo_data

    with _database().session_scope() as session:
        try:
            click.echo(demo_data.demo_totp(session, email))
        except demo_data.DemoError as error:
            raise click.ClickException(str(error)) from error


# --- users ----------------------------------------------------------------------------------------


@cli.group()
def users() -> None:
    """Accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--organization", required=True, help="Organisation name (Japanese or English) or id.")
@click.option(
    "--role", "roles", multiple=True, required=True, help="secretariat, member, analyst, auditor, admin"
)
@click.option("--locale", default="ja", type=click.Choice(["ja", "en"]))
@click.password_option(help="Read from the prompt, or PORTAL_NEW_PASSWORD.", envvar="PORTAL_NEW_PASSWORD")
def users_create(
    email: str, display_name: str, organization: str, roles: tuple[str, ...], locale: str, password: str
) -> None:
    """Create a user; they set up MFA at their first sign-in."""
    from sqlalchemy import or_, select

    from portal.accounts import service
    from portal.accounts.models import Organization
    from portal.enums import Role

    try:
        parsed_roles = [Role(role) for role in roles]
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--role") from error
    with _database().session_scope() as session:
        org = session.scalar(
            select(Organization).where(
                or_(Organization.name_ja == organization, Organization.name_en == organization)
            )
        )
        if org is None:
            raise click.ClickException(f"no organisation named {organization!r}")
        try:
            user = service.create_user(
                session,
                email=email,
                display_name=display_name,
                organization=org,
                roles=parsed_roles,
                password=password,
                locale=locale,
            )
        except service.AccountError as error:
            raise click.ClickException(error.code) from error
        click.echo(f"created {user.email} ({user.id})")


@users.command("create-organization")
@click.option("--name-ja", required=True)
@click.option("--name-en", required=True)
@click.option(
    "--kind",
    required=True,
    type=click.Choice(["secretariat", "government", "private", "think_tank", "academia"]),
)
def users_create_organization(name_ja: str, name_en: str, kind: str) -> None:
    """Create an organisation (the first one, before any administration page exists)."""
    from portal.accounts.models import Organization
    from portal.enums import OrganizationKind

    with _database().session_scope() as session:
        org = Organization(name_ja=name_ja, name_en=name_en, kind=OrganizationKind(kind))
        session.add(org)
        session.flush()
        click.echo(f"created organisation {org.name_en} ({org.id})")


# --- audit ----------------------------------------------------------------------------------------


@cli.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
def audit_verify() -> None:
    """Walk the hash chain; fail at the first broken link."""
    from portal.security import audit as audit_log

    result = audit_log.verify(_database().engine)
    if not result.ok:
        raise click.ClickException(
            f"audit chain broken at entry {result.first_broken_seq}: {result.problem} "
            f"({result.checked} entries before it verified)"
        )
    click.echo(f"audit chain intact: {result.checked} entries verified")


# --- keys -----------------------------------------------------------------------------------------


@cli.group()
def keys() -> None:
    """The key-encryption key."""


@keys.command("init")
def keys_init() -> None:
    """Create the KEK if there is none: the key file (mode 0600) or a key on the PKCS#11 token."""
    from portal.security.keys import create_key_file, read_key_file

    settings = _settings()
    if settings.key_provider == "pkcs11":
        provider = _keyring().provider
        if provider.versions():
            click.echo(f"KEK present: {provider.describe()} (version {provider.current_version()})")
        else:
            click.echo(f"KEK created: {provider.describe()} (version {provider.add_version()})")
        return
    path = settings.key_file
    created = create_key_file(path)
    read_key_file(path)  # refuses a file with loose permissions
    click.echo(f"key file {'created' if created else 'present'}: {path}")


def _keyring() -> Any:
    return _database().keyring


def _room_scope(session: Any, room: str) -> Any:
    """A room by id or name (Japanese or English), or None for "system" (the personal-secrets key)."""
    from sqlalchemy import or_, select

    from portal.rooms.models import Subcommittee

    if room == "system":
        return None
    try:
        found = session.get(Subcommittee, uuid.UUID(room))
    except ValueError:
        found = session.scalar(
            select(Subcommittee).where(or_(Subcommittee.name_ja == room, Subcommittee.name_en == room))
        )
    if found is None:
        raise click.ClickException(f"no subcommittee {room!r}")
    return found


@keys.command("status")
def keys_status() -> None:
    """Keys, versions, states, and how many sealed values each still protects."""
    from portal import key_management

    keyring = _keyring()
    with _database().session_scope() as session:
        keyring.verify(session)
        click.echo(f"KEK: {keyring.provider.describe()}, versions {keyring.provider.versions()}")
        for entry in key_management.status(session):
            record = entry.record
            click.echo(
                f"{entry.room_name:<28} {record.purpose:<9} v{record.version:<3} {record.state:<13} "
                f"KEK {record.kek_provider}:v{record.kek_version:<3} rows {entry.rows:>7}  {record.id}"
            )


@keys.command("rotate-kek")
@click.option(
    "--to", "target_kind", type=click.Choice(["file", "pkcs11"]), help="Move the KEK to this provider."
)
def keys_rotate_kek(target_kind: str | None) -> None:
    """New KEK version; every data key re-wrapped; the old KEK retired. No row data is touched."""
    from portal import key_management
    from portal.app import make_keyring

    keyring = _keyring()
    settings = _settings()
    target = None
    if target_kind and target_kind != keyring.provider.name:
        from dataclasses import replace

        target = make_keyring(replace(settings, key_provider=target_kind)).provider
    with _database().session_scope() as session:
        keyring.verify(session)
        version, count = key_management.rotate_kek(session, keyring, target)
    provider = target or keyring.provider
    if target is None:
        retired = key_management.retire_old_keks(provider, keep=version)
        click.echo(f"{count} data keys re-wrapped under KEK version {version}; retired versions {retired}")
    else:
        click.echo(
            f"{count} data keys re-wrapped under {provider.describe()} version {version}. "
            f"Set keys.provider = {target_kind!r} (PORTAL_KEY_PROVIDER) now; the old KEK is no longer used."
        )
    keyring.cache.forget()


@keys.command("rotate-dek")
@click.argument("room")
@click.option("--batch", default=100, show_default=True, help="Rows re-sealed per transaction.")
def keys_rotate_dek(room: str, batch: int) -> None:
    """New data key for ROOM (id, name, or "system"); its rows re-sealed in batches. Safe to interrupt:
    run it again and it resumes."""
    from portal import key_management

    database = _database()
    keyring = _keyring()
    with database.session_scope() as session:
        keyring.verify(session)
        scope = _room_scope(session, room)
        room_id = scope.id if scope is not None else None
        # Every purpose the scope has a key for (a room that never held a file has no files key).
        purposes = [
            p
            for p in key_management.room_purposes(room_id)
            if key_management.has_live_key(session, room_id, p)
        ] or ["fields" if room_id else "personal"]  # none live: a first key, or a shredded room's refusal
        active = {p: key_management.begin_dek_rotation(session, keyring, room_id, p).id for p in purposes}
    with database.session_scope() as session:
        total = sum(key_management.count_to_reseal(session, room_id, key, p) for p, key in active.items())
    with click.progressbar(length=total, label="re-sealing", show_pos=True) as bar:
        for done in key_management.reseal_batches(
            database.session_factory, keyring, room_id, batch, purposes
        ):
            bar.update(done)
    with database.session_scope() as session:
        destroyed = sum(key_management.finish_dek_rotation(session, keyring, room_id, p) for p in purposes)
    click.echo(f"{total} values re-sealed; {destroyed} retired data keys destroyed")
    from portal.search import maintenance

    with database.session_scope() as session:
        if maintenance.rotate_index_key(session, keyring, room_id):
            click.echo("search index key replaced; the index was rebuilt under it and the old key destroyed")


@keys.command("shred")
@click.argument("room")
@click.option("--confirm", "confirmation", help="The room's Japanese name, typed to confirm (else prompted).")
def keys_shred(room: str, confirmation: str | None) -> None:
    """Destroy ROOM's data keys: its content becomes permanently unreadable (crypto-shredding)."""
    from portal import key_management

    database = _database()
    with database.session_scope() as session:
        scope = _room_scope(session, room)
        if scope is None:
            raise click.ClickException("the system key is not shredded this way")
        typed = confirmation or click.prompt(f"Type the room's name ({scope.name_ja}) to destroy its keys")
        if typed != scope.name_ja:
            raise click.ClickException("the name does not match; nothing was destroyed")
        destroyed = key_management.shred(session, _keyring(), scope)
    click.echo(f"{destroyed} data keys of {scope.name_ja} destroyed; its content can no longer be read")


# --- search ---------------------------------------------------------------------------------------


@cli.group()
def search() -> None:
    """The search index (blind index of the sealed text)."""


@search.command("reindex")
@click.argument("room", required=False)
def search_reindex(room: str | None) -> None:
    """Rebuild the search index of ROOM (id or name), or of every room and the system scope, from the
    sealed data. Each scope is rebuilt in one transaction."""
    from portal.search import maintenance

    database = _database()
    with database.session_scope() as session:
        _keyring().verify(session)
        scopes = [_scope_id(_room_scope(session, room))] if room else maintenance.scopes(session)
    for scope_id in scopes:
        with database.session_scope() as session:
            rebuilt = maintenance.rebuild_scope(session, scope_id)
        click.echo(f"{scope_id or 'system'}: {rebuilt.items} items, {rebuilt.tokens} tokens")


def _scope_id(scope: Any) -> uuid.UUID | None:
    return scope.id if scope is not None else None


# --- exports --------------------------------------------------------------------------------------

#: `portal exports verify` exits 0 for an unaltered export, 1 for an altered file (it claims an export id),
#: 3 for a file that is not an export (2 is click's usage error).
VERIFY_EXIT_CODES = {"unaltered": 0, "altered": 1, "unknown": 3}


@cli.group()
def exports() -> None:
    """Exports (PDF, DOCX, Markdown) made for their readers."""


@exports.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
def exports_verify(file: str) -> None:
    """Whether FILE is an unaltered export of this portal, and for whom it was made (exit 0 only then)."""
    from portal.exports import service as export_service
    from portal.security.audit import Actor

    with open(file, "rb") as handle:
        file_bytes = handle.read()
    with _database().session_scope() as session:
        result = export_service.verify(session, file_bytes, Actor.system())
        click.echo(f"{file}: {result.message}")
        click.echo(f"sha256 {result.sha256}")
    sys.exit(VERIFY_EXIT_CODES[result.status.value])


# --- serve ----------------------------------------------------------------------------------------


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=lambda: int(os.environ.get("PORT", "5000")), show_default="PORT or 5000")
@click.option("--workers", default=2, show_default=True)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the portal with gunicorn."""
    from portal.app import check_keys

    settings = _settings()
    check_keys(current_app._get_current_object())  # type: ignore[attr-defined]
    url = f"http://{host}:{port}"
    click.echo(f"協議会ポータル / Council portal: {url}")
    if not settings.is_production:
        click.echo("demo accounts: `.venv/bin/portal demo accounts` (and README, 'Demo accounts')")
        click.echo("a demo account's current code: `.venv/bin/portal demo totp EMAIL`")
    sys.stdout.flush()
    arguments = [
        sys.executable, "-m", "gunicorn", "portal.wsgi:app",
        "--bind", f"{host}:{port}", "--workers", str(workers),
        "--access-logfile", "-", "--forwarded-allow-ips", "127.0.0.1",
        # gunicorn's control socket defaults to one path per OS user; keep this instance's to itself.
        "--control-socket", str(settings.instance_path / "gunicorn.ctl"),
    ]  # fmt: skip
    os.execv(sys.executable, arguments)  # noqa: S606  (replace this process with gunicorn)


def main() -> None:
    from portal.security.crypto import CryptoError
    from portal.security.keys import KeyFileError

    try:
        load_settings()
        cli.main(prog_name="portal", standalone_mode=True)
    except (UnsafeConfiguration, KeyFileError, CryptoError) as error:
        click.echo(f"portal: {error}", err=True)
        sys.exit(1)
