"""Reclassification up or down records its reason and re-seals everything under the new level;
declassification to PUBLIC is a separate, explicit act of a classification authority."""

from __future__ import annotations

import io
import uuid

from flask.testing import FlaskClient
from sqlalchemy import select

from portal.db import Database
from portal.documents.models import (
    AttachmentChunk,
    Document,
    DocumentAttachment,
    DocumentComment,
    DocumentReclassification,
    DocumentVersion,
)
from portal.enums import Level
from portal.key_management import SEALED_COLUMNS
from portal.security import policy
from portal.security.audit_models import AuditEntry
from tests.conftest import csrf_token, keyed_session, sign_in
from tests.web.support import text, translated
from tests.web.test_versions import _paths


def post(client: FlaskClient, path: str, data: dict[str, object]) -> tuple[int, str]:
    response = client.post(path, data={"csrf_token": csrf_token(client, "/account"), **data})
    return response.status_code, text(response)


def level_of(database: Database, document: uuid.UUID) -> Level:
    with database.session_scope() as session:
        found = session.get(Document, document)
        assert found is not None
        return found.level


def sealed_rows(database: Database, document: uuid.UUID) -> dict[tuple[str, str, uuid.UUID], bytes]:
    """Every sealed value that belongs to the document (its text, versions, comments, attachments)."""
    values = {}
    with database.session_scope() as session:
        for column in SEALED_COLUMNS:
            if column.in_room is None:
                continue
            for row in session.scalars(select(column.model)):
                if column.context(row).grant_object_id == str(document):
                    value = getattr(row, column.attribute)
                    if value is not None:
                        values[(column.model.__tablename__, column.attribute, row.id)] = bytes(value)
    return values


def all_open_under_their_level(database: Database, document: uuid.UUID, level: Level) -> None:
    with keyed_session(database.url) as session:
        keyring = session.info["keyring"]
        grant = policy.maintenance_grant("document", document)
        for column in SEALED_COLUMNS:
            if column.in_room is None:
                continue
            for row in session.scalars(select(column.model)):
                context = column.context(row)
                if context.grant_object_id != str(document) or getattr(row, column.attribute) is None:
                    continue
                if not isinstance(row, DocumentReclassification):
                    assert context.level == int(level), (column.model.__tablename__, context)
                column.open(session, keyring, row, grant)  # raises if it does not open under its context


def test_raising_the_level_reseals_everything_and_narrows_the_readers(
    client: FlaskClient, demo: Database
) -> None:
    base, document = _paths(demo)
    sign_in(client, demo, "tanaka@meti.example.jp")
    assert post(client, f"{base}/comments", {"body": "比較のためのコメント"})[0] == 302
    files = {"files": [(io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "a.pdf")]}
    response = client.post(
        f"{base}/attachments", data={"csrf_token": csrf_token(client, "/account"), **files},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 302
    before = sealed_rows(demo, document)
    assert {table for table, _c, _r in before} >= {
        "documents", "document_versions", "document_comments", "document_attachments", "attachment_chunks",
    }  # fmt: skip

    reason = "個別企業の輸入実績を追記する予定のため"
    status, _page = post(client, f"{base}/reclassify", {"level": "2", "reason": reason})
    assert status == 302
    assert level_of(demo, document) == Level.CONFIDENTIAL
    after = sealed_rows(demo, document)
    assert set(before) <= set(after)
    assert all(after[key] != before[key] for key in before), "every value is sealed anew"
    all_open_under_their_level(demo, document, Level.CONFIDENTIAL)

    page = text(client.get(base))
    assert reason in page and 'data-testid="reclassification-history"' in page
    assert client.get(f"{base}/attachments/{_attachment(demo, document)}").get_data() == b"%PDF-1.4\n%%EOF\n"
    # kobayashi (RESTRICTED) read it before; now the document is gone for her, listed nowhere.
    reader = sign_in(client.application.test_client(), demo, "kobayashi@toto-u.example.jp")
    assert reader.get(base).status_code == 404
    room = base.split("/documents/")[0]
    assert "ガリウム・ゲルマニウム輸出管理措置" not in text(reader.get(room))
    with demo.session_scope() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "document.reclassify")).one()
        assert entry.level == int(Level.CONFIDENTIAL) and reason not in (entry.detail or "")


def _attachment(database: Database, document: uuid.UUID) -> uuid.UUID:
    with database.session_scope() as session:
        found = session.scalar(
            select(DocumentAttachment.id)
            .where(DocumentAttachment.document_id == document)
            .order_by(DocumentAttachment.uploaded_at.desc())
        )
        assert found is not None
        return found


def test_a_reason_is_required_and_the_form_keeps_what_was_typed(client: FlaskClient, demo: Database) -> None:
    base, document = _paths(demo)
    sign_in(client, demo, "tanaka@meti.example.jp")
    status, page = post(
        client, f"{base}/reclassify", {"level": "2", "reason": "  ", "review_on": "2027-04-01"}
    )
    assert status == 400
    assert translated(client.application, "Say why the classification changes.") in page
    assert 'value="2027-04-01"' in page
    assert level_of(demo, document) == Level.RESTRICTED


def test_nobody_reclassifies_above_their_clearance_or_to_public_by_the_back_door(
    client: FlaskClient, demo: Database
) -> None:
    base, document = _paths(demo)
    sign_in(client, demo, "sato@cao.example.jp")  # CONFIDENTIAL
    status, page = post(client, f"{base}/reclassify", {"level": "3", "reason": "指定のため"})
    assert status == 403
    assert translated(client.application, "You cannot classify above your own clearance.") in page
    assert "指定のため" in page  # kept
    status, _page = post(client, f"{base}/reclassify", {"level": "0", "reason": "公開のため"})
    assert status == 400  # PUBLIC is not a choice here: declassification is its own act
    assert level_of(demo, document) == Level.RESTRICTED
    observer = sign_in(client.application.test_client(), demo, "kobayashi@toto-u.example.jp")
    assert post(observer, f"{base}/reclassify", {"level": "2", "reason": "x"})[0] == 403
    with demo.session_scope() as session:
        reasons = session.scalars(
            select(AuditEntry.reason).where(
                AuditEntry.action == "document.reclassify", AuditEntry.allowed.is_(False)
            )
        ).all()
        assert "CLASSIFY_ABOVE_CLEARANCE" in reasons


def test_declassification_is_explicit_and_only_for_an_authority(client: FlaskClient, demo: Database) -> None:
    base, document = _paths(demo)
    analyst = sign_in(client.application.test_client(), demo, "yoshida@icess.example.jp")
    status, _page = post(analyst, f"{base}/declassify", {"reason": "公表済み", "confirm": "y"})
    assert status == 403
    sign_in(client, demo, "tanaka@meti.example.jp")  # the room's chair
    status, page = post(client, f"{base}/declassify", {"reason": "公表済みの統計のみとなったため"})
    assert status == 400 and "公表済みの統計のみとなったため" in page  # not confirmed: kept, nothing done
    assert level_of(demo, document) == Level.RESTRICTED
    status, _page = post(
        client, f"{base}/declassify", {"reason": "公表済みの統計のみとなったため", "confirm": "y"}
    )
    assert status == 302
    assert level_of(demo, document) == Level.PUBLIC
    all_open_under_their_level(demo, document, Level.PUBLIC)
    with demo.session_scope() as session:
        change = session.scalars(
            select(DocumentReclassification).where(DocumentReclassification.document_id == document)
        ).one()
        assert (change.from_level, change.to_level, change.declassification) == (
            Level.RESTRICTED, Level.PUBLIC, True,
        )  # fmt: skip
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "document.declassify")).all()
        assert sorted((e.allowed, e.reason) for e in entries) == [
            (False, "NOT_CLASSIFICATION_AUTHORITY"),
            (True, "OK"),
        ]
        # versions and comments moved with it
        assert {v.level for v in session.scalars(select(DocumentVersion))} >= {Level.PUBLIC}
        assert all(
            c.level == Level.PUBLIC
            for c in session.scalars(select(DocumentComment).where(DocumentComment.document_id == document))
        )
        assert session.scalar(select(AttachmentChunk.id).limit(1)) is not None


def test_cesi_is_not_declassified_in_the_portal(client: FlaskClient, demo: Database) -> None:
    from tests.conftest import document_id_by_title

    base, _document = _paths(demo)
    cesi = document_id_by_title(demo, "レアアース再輸出規制に関する同盟国からの通報")
    path = base.rsplit("/", 1)[0] + f"/{cesi}"
    sign_in(client, demo, "tanaka@meti.example.jp")
    status, _page = post(client, f"{path}/declassify", {"reason": "x", "confirm": "y"})
    assert status == 403
    assert level_of(demo, cesi) == Level.CESI
