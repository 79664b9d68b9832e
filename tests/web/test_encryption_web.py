"""Field-level encryption seen from outside: through the web interface and in the raw database.

* What a person types as a document's title, body or classification reason, a TOTP secret, and a
  suitability-evaluation reference never reach the database in the clear: not in the SQLite file nor its
  write-ahead log (read as they are, nothing checkpointed), not in a ``pg_dump`` of PostgreSQL, in none of
  the encodings a search would try (UTF-8, UTF-16, base64, hex). The portal still shows them.
* A sealed value moved in the database (swapped between documents, between the title and body of one
  document, or copied to another user) or relabelled (a document's level changed) does not open: the page is
  the integrity error page (no content, no stack trace), and the keyring audited the failure.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.engine import make_url
from werkzeug.test import TestResponse

from portal.accounts.models import Clearance, User
from portal.db import Database
from portal.demo import DOCUMENTS
from portal.documents.models import Document
from portal.enums import Level, ReleaseMarking
from portal.rooms.models import Subcommittee
from portal.security import mfa
from portal.security.audit_models import AuditEntry
from tests.conftest import (
    csrf_token,
    document_id_by_title,
    document_texts,
    evaluation_reference_of,
    sign_in,
    totp_secret_of,
    user_by_email,
)
from tests.web.support import is_signed_in, submit_code, submit_password, text

MINERALS = "重要鉱物分科会"
AUTHOR = "tanaka@meti.example.jp"  # CESI, chair of the minerals room: reads every document there
NOT_ENROLLED = "yamada@meti.example.jp"  # has no MFA in the demo data
SECRETARIAT = "sato@cao.example.jp"
CLEARED = "watanabe@setouchi-zosen.example.jp"  # gets a CESI clearance from the secretariat
VICTIM = "suzuki@mlit.example.jp"  # enrolled; gets the author's sealed TOTP secret copied onto his row

#: Kana and kanji for the Japanese markers (random, so that no other row can hold them by chance).
JAPANESE = (
    "あいうえおかきくけこさしすせそたちつてとなにぬねのアイウエオカキクケコ鉱物輸出規制備蓄調達評価通報"
)
TOTP_SECRET_ON_PAGE = re.compile(r'data-testid="totp-secret">([^<]+)<')
TRACEBACK_SIGNS = ("Traceback", 'File "', "IntegrityError", "InvalidTag", "site-packages")


def ascii_marker() -> str:
    return f"MARKER-{uuid.uuid4().hex}"


def japanese_marker() -> str:
    return "機密標識" + "".join(secrets.choice(JAPANESE) for _ in range(8))


def running_on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


# --- the raw database ------------------------------------------------------------------------------


def encodings(value: str) -> dict[str, list[bytes]]:
    """``value`` as a search of raw bytes would look for it.

    Base64 is searched at each of the three alignments a value can have inside a longer encoded stream:
    the encoding of ``utf8[offset:]`` cut to whole 3-byte groups appears verbatim in any base64 text that
    contains ``utf8`` at a position congruent to ``-offset`` modulo 3.
    """
    utf8 = value.encode()
    aligned = [utf8[offset:][: (len(utf8) - offset) // 3 * 3] for offset in range(3)]
    return {
        "utf-8": [utf8],
        "utf-16-le": [value.encode("utf-16-le")],
        "utf-16-be": [value.encode("utf-16-be")],
        "base64": [base64.b64encode(part) for part in aligned if part],
        "hex": [utf8.hex().encode(), utf8.hex().upper().encode()],
    }


def raw_database_bytes(url: str) -> bytes:
    """SQLite: the database file and its -wal file, byte for byte. PostgreSQL: ``pg_dump --data-only``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database, url
        path = Path(parsed.database)
        wal = path.with_name(path.name + "-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    pg_dump = shutil.which("pg_dump")
    assert pg_dump is not None  # checked by require_raw_reader before any work
    environment = {**os.environ, "PGPASSWORD": parsed.password or ""}
    dumped = subprocess.run(
        [
            pg_dump, "--data-only", "--no-owner",
            "-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432),
            "-U", parsed.username or "postgres", str(parsed.database),
        ],
        capture_output=True, env=environment, timeout=120, check=False,
    )  # fmt: skip
    assert dumped.returncode == 0, dumped.stderr.decode(errors="replace")
    return dumped.stdout


def require_raw_reader(url: str) -> None:
    if make_url(url).get_backend_name() == "sqlite" or shutil.which("pg_dump"):
        return
    message = "pg_dump is missing: install Debian's postgresql-client to read the PostgreSQL database raw"
    if running_on_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def leaks(raw: bytes, values: dict[str, str]) -> list[str]:
    return [
        f"{name} as {encoding}"
        for name, value in values.items()
        for encoding, forms in encodings(value).items()
        if any(form in raw for form in forms)
    ]


def test_the_encoding_search_finds_what_it_looks_for() -> None:
    """The search below is not vacuous: each encoding is found inside a longer text of that encoding."""
    marker = japanese_marker() + ascii_marker()
    for prefix in ("", "a", "ab"):
        stream = f"{prefix}前後{marker}後ろ"
        samples = {
            "utf-8": stream.encode(),
            "utf-16-le": stream.encode("utf-16-le"),
            "utf-16-be": stream.encode("utf-16-be"),
            "base64": base64.b64encode(stream.encode()),
            "hex": b"\\x" + stream.encode().hex().encode(),
        }
        for encoding, sample in samples.items():
            assert leaks(sample, {"marker": marker}) == [f"marker as {encoding}"], (prefix, encoding)


def room_id(database: Database, name_ja: str) -> uuid.UUID:
    with database.session_scope() as session:
        found = session.scalar(select(Subcommittee.id).where(Subcommittee.name_ja == name_ja))
    assert found is not None, name_ja
    return found


def test_no_sensitive_value_reaches_the_database_in_the_clear(
    app: Flask, demo: Database, database_url: str
) -> None:
    require_raw_reader(database_url)
    minerals = room_id(demo, MINERALS)
    values = {
        "title (ASCII)": ascii_marker(),
        "title (Japanese)": japanese_marker(),
        "body (ASCII)": ascii_marker(),
        "body (Japanese)": japanese_marker(),
        "reason (ASCII)": ascii_marker(),
        "reason (Japanese)": japanese_marker(),
        "evaluation reference": f"SE-{uuid.uuid4().hex[:16].upper()}",
    }
    title = f"{values['title (ASCII)']} {values['title (Japanese)']}"
    body = f"本文 {values['body (Japanese)']}\n{values['body (ASCII)']} 以上。"
    reason = f"{values['reason (Japanese)']} {values['reason (ASCII)']}"

    # A document, through the form.
    author = sign_in(app.test_client(), demo, AUTHOR)
    path = f"/rooms/{minerals}/documents/new"
    created = author.post(
        path,
        data={
            "csrf_token": csrf_token(author, path),
            "title": title,
            "body": body,
            "level": str(int(Level.RESTRICTED)),
            "release": ReleaseMarking.GREEN.value,
            "reason": reason,
        },
    )
    assert created.status_code == 302, text(created)[:1000]
    document_path = created.headers["Location"]
    assert re.fullmatch(rf"/rooms/{minerals}/documents/[0-9a-f-]{{36}}", document_path), document_path

    # A TOTP secret, through enrolment (the page shows it; until it is confirmed, it waits in the session).
    enrolling = app.test_client()
    assert submit_password(enrolling, NOT_ENROLLED).headers["Location"].endswith("/enrol")
    shown = TOTP_SECRET_ON_PAGE.search(text(enrolling.get("/enrol")))
    assert shown, "no TOTP secret on the enrolment page"
    secret = shown.group(1).replace(" ", "")
    assert leaks(raw_database_bytes(database_url), {"pending TOTP secret": secret}) == []
    confirmed = submit_code(enrolling, mfa.current_code(secret), "/enrol")
    assert confirmed.headers["Location"].endswith("/enrol/recovery-codes"), text(confirmed)[:500]
    values["TOTP secret"] = secret

    # A suitability-evaluation reference, recorded by the secretariat.
    cleared = user_by_email(demo, CLEARED)
    secretariat = sign_in(app.test_client(), demo, SECRETARIAT)
    admin_path = f"/admin/users/{cleared.id}"
    granted = secretariat.post(
        f"{admin_path}/clearance",
        data={
            "csrf_token": csrf_token(secretariat, admin_path),
            "level": str(int(Level.CESI)),
            "evaluation_reference": values["evaluation reference"],
            "evaluated_on": "2025-09-01",
            "reason": "適性評価の結果による",
        },
    )
    assert granted.status_code == 302, text(granted)[:1000]

    raw = raw_database_bytes(database_url)

    assert CLEARED.encode() in raw and AUTHOR.encode() in raw  # not vacuous: this is the database
    assert leaks(raw, values) == []
    # The portal itself still shows all of it to those allowed to see it.
    page = author.get(document_path)
    assert page.status_code == 200
    for name in ("title (ASCII)", "title (Japanese)", "body (ASCII)", "body (Japanese)"):
        assert values[name] in text(page), name
    assert values["reason (Japanese)"] in text(page)
    assert values["evaluation reference"] in text(secretariat.get(admin_path))
    assert totp_secret_of(demo, NOT_ENROLLED) == secret
    newest = max(clearances(demo, cleared.id), key=lambda clearance: clearance.granted_at)
    assert evaluation_reference_of(demo, newest.id) == values["evaluation reference"]


def clearances(database: Database, user_id: uuid.UUID) -> list[Clearance]:
    with database.session_scope() as session:
        found = list(session.scalars(select(Clearance).where(Clearance.user_id == user_id)))
        session.expunge_all()
        return found


# --- moved and relabelled ciphertext -----------------------------------------------------------------

READABLE_TITLES = [spec.title for spec in DOCUMENTS if spec.room == "minerals"]
ALL_TEXT = [spec.title for spec in DOCUMENTS] + [spec.body for spec in DOCUMENTS]


def title_of_level(level: Level) -> str:
    return next(spec.title for spec in DOCUMENTS if spec.room == "minerals" and spec.level == level)


def path_of(database: Database, document_id: uuid.UUID) -> str:
    with database.session_scope() as session:
        document = session.get(Document, document_id)
        assert document is not None
        return f"/rooms/{document.subcommittee_id}/documents/{document.id}"


def sealed_of(database: Database, document_id: uuid.UUID) -> tuple[bytes, bytes]:
    with database.engine.connect() as connection:
        row = connection.execute(
            select(Document.title_sealed, Document.body_sealed).where(Document.id == document_id)
        ).one()
    return bytes(row.title_sealed), bytes(row.body_sealed)


def set_sealed(database: Database, document_id: uuid.UUID, **values: bytes) -> None:
    """Write sealed columns directly, as someone with access to the database (not the portal) would."""
    with database.engine.begin() as connection:
        connection.execute(update(Document).where(Document.id == document_id).values(**values))


def integrity_failures(database: Database, object_type: str, object_id: uuid.UUID) -> list[AuditEntry]:
    with database.session_scope() as session:
        found = list(
            session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "crypto.open",
                    AuditEntry.reason == "INTEGRITY_FAILURE",
                    AuditEntry.object_type == object_type,
                    AuditEntry.object_id == str(object_id),
                )
            )
        )
        session.expunge_all()
        return found


def assert_integrity_error_page(response: TestResponse) -> None:
    """The page the portal answers when a field does not open: an error page without content or trace."""
    page = text(response)
    assert response.status_code == 500, page[:1000]
    assert "error-page" in page and 'data-testid="request-id"' in page
    for sign in TRACEBACK_SIGNS:
        assert sign not in page, sign
    for shown in ALL_TEXT:
        assert shown not in page, shown


def assert_one_failure_audited(
    database: Database, object_type: str, object_id: uuid.UUID, column: str, actor: str | None
) -> None:
    [entry] = integrity_failures(database, object_type, object_id)
    assert not entry.allowed
    assert json.loads(entry.detail) == {"column": column}
    expected_actor = user_by_email(database, actor).id if actor else None
    assert entry.actor_id == expected_actor


@pytest.fixture
def reader(app: Flask, demo: Database) -> FlaskClient:
    client = sign_in(app.test_client(), demo, AUTHOR)
    for title in READABLE_TITLES:  # everything opens before the database is touched
        document_id = document_id_by_title(demo, title)
        assert document_id is not None, title
        assert client.get(path_of(demo, document_id)).status_code == 200, title
    return client


def test_titles_swapped_between_two_documents_open_for_neither(reader: FlaskClient, demo: Database) -> None:
    first = document_id_by_title(demo, title_of_level(Level.RESTRICTED))
    second = document_id_by_title(demo, title_of_level(Level.PUBLIC))
    assert first is not None and second is not None
    first_title, _body = sealed_of(demo, first)
    second_title, _body = sealed_of(demo, second)
    set_sealed(demo, first, title_sealed=second_title)
    set_sealed(demo, second, title_sealed=first_title)

    for document_id in (first, second):
        assert_integrity_error_page(reader.get(path_of(demo, document_id)))
        assert_one_failure_audited(demo, "documents", document_id, "title", AUTHOR)


def test_title_and_body_swapped_within_a_document_do_not_open(reader: FlaskClient, demo: Database) -> None:
    document_id = document_id_by_title(demo, title_of_level(Level.RESTRICTED))
    assert document_id is not None
    title, body = sealed_of(demo, document_id)
    set_sealed(demo, document_id, title_sealed=body, body_sealed=title)

    assert_integrity_error_page(reader.get(path_of(demo, document_id)))
    assert_one_failure_audited(demo, "documents", document_id, "title", AUTHOR)


@pytest.mark.parametrize(
    ("level", "relabelled"),
    [(Level.CONFIDENTIAL, Level.RESTRICTED), (Level.RESTRICTED, Level.CONFIDENTIAL)],
    ids=["lowered", "raised"],
)
def test_a_level_changed_in_the_database_does_not_open(
    reader: FlaskClient, demo: Database, level: Level, relabelled: Level
) -> None:
    document_id = document_id_by_title(demo, title_of_level(level))
    assert document_id is not None
    with demo.engine.begin() as connection:
        connection.execute(update(Document).where(Document.id == document_id).values(level=relabelled))

    response = reader.get(path_of(demo, document_id))  # the reader clears both levels: the policy allows

    assert_integrity_error_page(response)
    assert_one_failure_audited(demo, "documents", document_id, "title", AUTHOR)


def test_a_totp_secret_copied_to_another_user_signs_nobody_in(app: Flask, demo: Database) -> None:
    """Someone who can write the database copies his own sealed secret onto another user's row, to sign in
    as that user with his own authenticator app. The secret does not open there."""
    own_secret = totp_secret_of(demo, AUTHOR)
    assert own_secret
    victim = user_by_email(demo, VICTIM)
    with demo.engine.begin() as connection:
        copied = connection.scalar(select(User.totp_secret_sealed).where(User.email == AUTHOR))
        assert copied is not None
        connection.execute(update(User).where(User.id == victim.id).values(totp_secret_sealed=bytes(copied)))
    client = app.test_client()
    assert submit_password(client, VICTIM).status_code == 302

    response = submit_code(client, mfa.current_code(own_secret))

    assert response.status_code != 302
    page = text(response)
    assert response.status_code == 500, page[:1000]
    assert "error-page" in page
    for sign in TRACEBACK_SIGNS:
        assert sign not in page, sign
    assert own_secret not in page
    assert not is_signed_in(client)
    assert_one_failure_audited(demo, "users", victim.id, "totp_secret", VICTIM)
    # The author's own sign-in is untouched.
    sign_in(app.test_client(), demo, AUTHOR)
    assert document_texts(demo)  # and every document still opens
