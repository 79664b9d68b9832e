"""Attachments: uploaded by writers, checked by content, sealed in chunks, verified and audited when read."""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from pathlib import Path
from urllib.parse import quote

from flask.testing import FlaskClient
from sqlalchemy import delete, func, select, update
from werkzeug.test import TestResponse

from portal.db import Database
from portal.documents.models import AttachmentChunk, DocumentAttachment
from portal.security.audit_models import AuditEntry
from portal.security.crypto import CHUNK_BYTES
from tests.conftest import csrf_token, sign_in
from tests.unit.test_filetypes import DOCM, DOCX, PDF
from tests.web.conftest import AppFactory
from tests.web.support import text, translated
from tests.web.test_versions import _paths


def upload(client: FlaskClient, base: str, *files: tuple[bytes, str]) -> TestResponse:
    data: dict[str, object] = {
        "csrf_token": csrf_token(client, "/account"),
        "files": [(io.BytesIO(content), name) for content, name in files],
    }
    return client.post(f"{base}/attachments", data=data, content_type="multipart/form-data")


def attachment_ids(database: Database, document: uuid.UUID) -> list[uuid.UUID]:
    with database.session_scope() as session:
        return list(
            session.scalars(
                select(DocumentAttachment.id)
                .where(DocumentAttachment.document_id == document)
                .order_by(DocumentAttachment.uploaded_at)
            )
        )


def newest(database: Database, document: uuid.UUID) -> uuid.UUID:
    return attachment_ids(database, document)[-1]


def count(database: Database, model: type) -> int:
    with database.session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_several_files_upload_and_download_byte_for_byte(client: FlaskClient, demo: Database) -> None:
    base, document = _paths(demo)
    sign_in(client, demo, "tanaka@meti.example.jp")
    before = len(attachment_ids(demo, document))
    csv = "品目,国,シェア\nガリウム,中国,98\n".encode()
    response = upload(client, base, (PDF, "輸出管理 影響.pdf"), (DOCX, "memo.docx"), (csv, "shares.csv"))
    assert response.status_code == 302, text(response)[:400]
    ids = attachment_ids(demo, document)
    assert len(ids) == before + 3
    page = text(client.get(base))
    assert "輸出管理 影響.pdf" in page and "memo.docx" in page and "shares.csv" in page

    for attachment_id, content, mime, name in [
        (ids[-3], PDF, "application/pdf", "輸出管理 影響.pdf"),
        (
            ids[-2],
            DOCX,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "memo.docx",
        ),
        (ids[-1], csv, "text/csv", "shares.csv"),
    ]:
        got = client.get(f"{base}/attachments/{attachment_id}")
        assert got.status_code == 200
        assert got.get_data() == content
        assert got.mimetype == mime
        disposition = got.headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition
        assert got.headers["X-Content-Type-Options"] == "nosniff"
        assert got.headers["Cache-Control"] == "no-store"
    with demo.session_scope() as session:
        downloads = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "document.download", AuditEntry.allowed.is_(True))
        ).all()
        assert len(downloads) == 3
        assert {entry.object_id for entry in downloads} == {str(document)}
        attached = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "document.attach")
        )
        assert attached == 3


def test_a_large_file_is_sealed_in_chunks_and_nothing_readable_is_stored(
    client: FlaskClient, demo: Database
) -> None:
    base, document = _paths(demo)
    sign_in(client, demo, "tanaka@meti.example.jp")
    marker = f"MARKER-{uuid.uuid4().hex}".encode()
    line = ("機密の本文 " * 50 + "\n").encode()
    filler = (line * (3 * CHUNK_BYTES // len(line)))[: int(2.5 * CHUNK_BYTES)]
    content = marker + b"\n" + filler + marker
    name = f"秘密の資料{uuid.uuid4().hex[:6]}.txt"
    assert upload(client, base, (content, name)).status_code == 302
    attachment_id = newest(demo, document)
    with demo.session_scope() as session:
        attachment = session.get(DocumentAttachment, attachment_id)
        assert attachment is not None
        assert (attachment.chunk_count, attachment.size) == (3, len(content))
        assert name.encode() not in bytes(attachment.filename_sealed)
        assert hashlib.sha256(content).hexdigest().encode() not in bytes(attachment.checksum_sealed)
        chunks = session.scalars(
            select(AttachmentChunk).where(AttachmentChunk.attachment_id == attachment_id)
        )
        for chunk in chunks:
            assert marker not in bytes(chunk.data) and "機密".encode() not in bytes(chunk.data)
    got = client.get(f"{base}/attachments/{attachment_id}")
    assert got.status_code == 200 and got.get_data() == content
    if demo.url.startswith("sqlite:///"):
        raw = b"".join(
            Path(demo.url.removeprefix("sqlite:///") + suffix).read_bytes()
            for suffix in ("", "-wal")
            if os.path.exists(demo.url.removeprefix("sqlite:///") + suffix)
        )
        assert marker not in raw and name.encode() not in raw


def test_refused_kinds_store_nothing_and_say_why(client: FlaskClient, demo: Database) -> None:
    base, _document = _paths(demo)
    sign_in(client, demo, "tanaka@meti.example.jp")
    before = count(demo, DocumentAttachment), count(demo, AttachmentChunk)
    for content, name in [
        (b"<!DOCTYPE html><script>alert(1)</script>", "report.pdf"),
        (b"<svg onload=alert(1)></svg>", "chart.svg"),
        (b"MZ\x90\x00" + os.urandom(64), "setup.exe"),
    ]:
        response = upload(client, base, (PDF, "fine.pdf"), (content, name))  # one bad file refuses both
        assert response.status_code == 400
        assert 'data-testid="attachment-errors"' in text(response)
        assert name in text(response)
    response = upload(client, base, (DOCM, "macro.docx"))
    assert response.status_code == 400
    assert translated(client.application, "%(name)s contains macros; save it without macros and try again.",
                      name="macro.docx") in text(response)  # fmt: skip
    assert (count(demo, DocumentAttachment), count(demo, AttachmentChunk)) == before


def test_an_oversized_upload_gets_the_413_page(app_factory: AppFactory) -> None:
    app = app_factory(demo=True, uploads={"max_request_mb": 1})
    database: Database = app.extensions["portal_db"]
    client = sign_in(app.test_client(), database, "tanaka@meti.example.jp")
    base, _document = _paths(database)
    before = count(database, DocumentAttachment)
    for size in (1024 * 1024 + 1, 3 * 1024 * 1024):  # over the file limit; over the request limit too
        response = upload(client, base, (b"a" * size, "big.txt"))
        assert response.status_code == 413
        assert translated(app, "Too large") in text(response)
        assert "Traceback" not in text(response)
    assert count(database, DocumentAttachment) == before


def test_hostile_names_are_cleaned_and_shown_as_text(client: FlaskClient, demo: Database) -> None:
    base, document = _paths(demo)
    sign_in(client, demo, "tanaka@meti.example.jp")
    hostile = '../../<img src=x onerror=alert(1)>"; rm.txt'
    assert upload(client, base, (b"plain text\n", hostile)).status_code == 302
    page = text(client.get(base))
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" not in page  # "<>" replaced
    got = client.get(f"{base}/attachments/{newest(demo, document)}")
    disposition = got.headers["Content-Disposition"]
    assert "/" not in disposition.split("filename*=")[0] and "\n" not in disposition
    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.endswith(".txt") and not set(fallback) & set('<>"/\\;')


def test_observers_download_but_cannot_attach(client: FlaskClient, demo: Database) -> None:
    base, document = _paths(demo)
    sign_in(client, demo, "kobayashi@toto-u.example.jp")  # an observer of the minerals room
    attachment_id = attachment_ids(demo, document)[0]
    assert client.get(f"{base}/attachments/{attachment_id}").status_code == 200
    page = text(client.get(base))
    assert f'action="{base}/attachments"' not in page
    assert upload(client, base, (PDF, "x.pdf")).status_code == 403


def test_a_reader_without_access_gets_404_and_the_denial_is_audited(
    client: FlaskClient, demo: Database
) -> None:
    from tests.conftest import document_id_by_title

    # tanaka attaches a file to the compartmented document; yoshida lacks the compartment.
    base, _document = _paths(demo)
    compartment = document_id_by_title(demo, "代替調達先候補の企業別評価")
    hidden = base.rsplit("/", 1)[0] + f"/{compartment}"
    sign_in(client, demo, "tanaka@meti.example.jp")
    assert upload(client, hidden, (PDF, "候補.pdf")).status_code == 302
    attachment_id = newest(demo, compartment)
    other = sign_in(client.application.test_client(), demo, "yoshida@icess.example.jp")
    assert other.get(f"{hidden}/attachments/{attachment_id}").status_code == 404
    # the same id under a document the analyst can read does not leak it either
    assert other.get(f"{base}/attachments/{attachment_id}").status_code == 404
    with demo.session_scope() as session:
        denial = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "document.download", AuditEntry.allowed.is_(False))
        ).all()
        assert [entry.reason for entry in denial] == ["CAVEAT_MISSING"]


def test_an_altered_truncated_or_swapped_file_is_never_sent(client: FlaskClient, demo: Database) -> None:
    base, document = _paths(demo)
    sign_in(client, demo, "tanaka@meti.example.jp")
    first = (b"0123456789abcdef\n" * (CHUNK_BYTES // 8))[: CHUNK_BYTES + CHUNK_BYTES // 2]
    second = (b"fedcba9876543210\n" * (CHUNK_BYTES // 8))[: CHUNK_BYTES + 100]
    assert upload(client, base, (first, "a.txt"), (second, "b.txt")).status_code == 302
    a, b = attachment_ids(demo, document)[-2:]

    def chunk(attachment: uuid.UUID, position: int) -> bytes:
        with demo.session_scope() as session:
            found = session.scalar(
                select(AttachmentChunk.data).where(
                    AttachmentChunk.attachment_id == attachment, AttachmentChunk.position == position
                )
            )
            assert found is not None
            return bytes(found)

    def set_chunk(attachment: uuid.UUID, position: int, data: bytes) -> None:
        with demo.session_scope() as session:
            session.execute(
                update(AttachmentChunk)
                .where(AttachmentChunk.attachment_id == attachment, AttachmentChunk.position == position)
                .values(data=data)
            )

    def refused(attachment: uuid.UUID) -> None:
        response = client.get(f"{base}/attachments/{attachment}")
        assert response.status_code == 500
        assert "Content-Disposition" not in response.headers
        assert "integrity" in text(response) or "完全性" in text(response)
        assert first[:64] not in response.get_data() and second[:64] not in response.get_data()

    original = chunk(a, 0)
    flipped = bytearray(original)
    flipped[-1] ^= 1
    set_chunk(a, 0, bytes(flipped))  # altered
    refused(a)
    set_chunk(a, 0, chunk(b, 0))  # swapped in from another file
    refused(a)
    set_chunk(a, 0, original)
    assert client.get(f"{base}/attachments/{a}").get_data() == first  # restored: fine again
    with demo.session_scope() as session:  # truncated: the last chunk removed
        session.execute(
            delete(AttachmentChunk).where(AttachmentChunk.attachment_id == b, AttachmentChunk.position == 1)
        )
        session.execute(update(DocumentAttachment).where(DocumentAttachment.id == b).values(chunk_count=1))
    refused(b)
    with demo.session_scope() as session:
        failures = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.reason == "INTEGRITY_FAILURE")
        )
        assert failures and failures >= 3
