"""The export register: a copy is recorded (and audited) by the SHA-256 of its exact bytes; `verify` and
`portal exports verify FILE` tell an unaltered copy (and for whom it was made) from an altered one (with
the export id it claims) and from a file that is no export at all."""

from __future__ import annotations

import io
import json
import os
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from portal.accounts.models import User
from portal.cli import cli
from portal.config import _ENVIRONMENT_KEYS
from portal.db import Database
from portal.enums import Level, ReleaseMarking
from portal.exports import service
from portal.exports.document import ExportDocument
from portal.exports.docx import render_docx
from portal.exports.markdown import render_markdown
from portal.exports.models import ExportRecord
from portal.exports.pdf import render_pdf
from portal.exports.service import ExportContents, ExportFormat, VerifyStatus
from portal.meetings.models import Meeting
from portal.security.audit import Actor
from portal.security.audit_models import AuditEntry
from tests.exports_support import KOBAYASHI, TANAKA, Reader, build_copy
from tests.meetings_support import subject_of

RENDERERS: dict[ExportFormat, Callable[[ExportDocument], bytes]] = {
    ExportFormat.PDF: render_pdf,
    ExportFormat.DOCX: render_docx,
    ExportFormat.MARKDOWN: render_markdown,
}


@dataclass(frozen=True)
class Recorded:
    document: ExportDocument
    content: bytes
    record_id: uuid.UUID


def record(database: Database, email: str, reader: Reader, file_format: ExportFormat) -> Recorded:
    with database.session_scope() as session:
        subject = subject_of(session, email)
        meeting_id = session.scalars(select(Meeting.id)).first()
        document = build_copy(reader, user_id=subject.user_id, organization_id=subject.organization_id)
        content = RENDERERS[file_format](document)
        row = service.record_export(
            session, subject, ExportContents.MINUTES, document, file_format, content, meeting_id=meeting_id
        )
        return Recorded(document, content, row.id)


def verify(database: Database, content: bytes) -> service.VerifyResult:
    with database.session_scope() as session:
        return service.verify(session, content, Actor.system())


def audit_entries(database: Database, action: str) -> list[AuditEntry]:
    with database.session_scope() as session:
        entries = list(
            session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq))
        )
        session.expunge_all()
        return entries


def flip_byte(content: bytes, offset: int) -> bytes:
    return content[:offset] + bytes([content[offset] ^ 0x01]) + content[offset + 1 :]


def test_record_keeps_the_hash_reader_and_marking_and_audits_no_content(demo: Database) -> None:
    recorded = record(demo, "kobayashi@toto-u.example.jp", KOBAYASHI, ExportFormat.PDF)

    with demo.session_scope() as session:
        row = session.get(ExportRecord, recorded.document.export_id)
        assert row is not None
        assert row.id == recorded.record_id
        assert row.sha256 == service.sha256_of(recorded.content)
        assert row.size_bytes == len(recorded.content)
        assert (row.subject, row.file_format) == ("minutes", "pdf")
        assert row.highest_level == Level.RESTRICTED
        assert (row.caveat_codes_text, row.release) == ("", ReleaseMarking.AMBER.value)
        assert (row.included_parts, row.withheld_parts) == (8, 3)
        assert row.reader_id == recorded.document.reader.user_id
        assert row.meeting_id is not None
    (entry,) = audit_entries(demo, "export.create")
    detail = json.loads(entry.detail)
    assert entry.object_type == "export" and entry.object_id == str(recorded.document.export_id)
    assert entry.actor_id == recorded.document.reader.user_id
    assert entry.level == int(Level.RESTRICTED)
    assert detail["sha256"] == service.sha256_of(recorded.content)
    assert detail["export_id"] == str(recorded.document.export_id)
    assert detail["reader_id"] == str(recorded.document.reader.user_id)
    assert detail["levels_included"] == [0, 1]
    assert (detail["included_parts"], detail["withheld_parts"]) == (8, 3)
    # No content: neither a title, a heading nor a word of any part's text.
    assert "部分" not in entry.detail and "議事録" not in entry.detail and "ガリウム" not in entry.detail


def test_a_copy_is_made_for_the_one_who_asks(demo: Database) -> None:
    with demo.session_scope() as session:
        subject = subject_of(session, "tanaka@meti.example.jp")
        someone_else = build_copy(TANAKA)
        with pytest.raises(ValueError, match="made for the subject"):
            service.record_export(
                session,
                subject,
                ExportContents.PACK,
                someone_else,
                ExportFormat.MARKDOWN,
                render_markdown(someone_else),
                meeting_id=None,
            )


@pytest.mark.parametrize("file_format", list(ExportFormat))
def test_verify_unaltered_altered_and_foreign_files(demo: Database, file_format: ExportFormat) -> None:
    recorded = record(demo, "tanaka@meti.example.jp", TANAKA, file_format)
    export_id = recorded.document.export_id

    unaltered = verify(demo, recorded.content)
    assert unaltered.status == VerifyStatus.UNALTERED and unaltered.unaltered
    assert unaltered.export_id == export_id
    assert "unaltered export: made for 田中 浩 (経済産業省) at 2026-12-09 12:30 JST" in unaltered.message
    assert f"export id {export_id}" in unaltered.message
    assert "重要経済安保情報" in unaltered.message and "TLP:RED" in unaltered.message
    assert "caveats GOV_ONLY MINERALS-SUPPLY" in unaltered.message

    altered = verify(demo, altered_copy(recorded.content, file_format))
    assert altered.status == VerifyStatus.ALTERED and not altered.unaltered
    assert altered.export_id == export_id
    assert altered.message.startswith(
        f"altered or not an export: claims export id {export_id}, made for 田中 浩"
    )
    assert "does not match" in altered.message

    foreign = verify(demo, os.urandom(4096))
    assert foreign.status == VerifyStatus.UNKNOWN and foreign.export_id is None
    assert foreign.message == "not an export of this portal"

    statuses = [json.loads(entry.detail)["status"] for entry in audit_entries(demo, "export.verify")]
    assert statuses == ["unaltered", "altered", "unknown"]


def altered_copy(content: bytes, file_format: ExportFormat) -> bytes:
    """One byte changed in the copy's text (for a DOCX: inside the body part, as stored in the archive)."""
    if file_format != ExportFormat.DOCX:
        return flip_byte(content, len(content) // 2)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        member = archive.getinfo("word/document.xml")
    data_start = member.header_offset + 30 + len(member.filename.encode()) + len(member.extra)
    return flip_byte(content, data_start + member.compress_size // 2)


def test_a_forged_export_id_is_one_this_portal_never_issued(demo: Database) -> None:
    forged = build_copy(KOBAYASHI)

    result = verify(demo, render_markdown(forged))

    assert result.status == VerifyStatus.ALTERED
    assert result.message == (
        f"altered or not an export: claims export id {forged.export_id}, which this portal never issued"
    )


def test_the_two_readers_copies_are_different_exports(demo: Database) -> None:
    tanaka = record(demo, "tanaka@meti.example.jp", TANAKA, ExportFormat.PDF)
    kobayashi = record(demo, "kobayashi@toto-u.example.jp", KOBAYASHI, ExportFormat.PDF)

    assert verify(demo, tanaka.content).export_id == tanaka.document.export_id
    result = verify(demo, kobayashi.content)
    assert result.export_id == kobayashi.document.export_id
    assert "made for 小林 聡 (東都大学 先端政策研究センター)" in result.message
    assert tanaka.content != kobayashi.content


# --- the command ----------------------------------------------------------------------------------


def run_verify(database: Database, instance: Path, path: Path) -> tuple[int, str]:
    environment: dict[str, str | None] = dict.fromkeys(_ENVIRONMENT_KEYS)
    environment.update(
        PORTAL_CONFIG=None,
        FLASK_RUN_FROM_CLI=None,
        PORTAL_DATABASE_URL=database.engine.url.render_as_string(hide_password=False),
        PORTAL_INSTANCE_PATH=str(instance),
        PORTAL_KEY_FILE=os.environ["PORTAL_KEY_FILE"],
    )
    result = CliRunner().invoke(cli, ["exports", "verify", str(path)], env=environment)
    return result.exit_code, result.output


def test_portal_exports_verify_exit_codes(demo: Database, tmp_path: Path) -> None:
    recorded = record(demo, "tanaka@meti.example.jp", TANAKA, ExportFormat.PDF)
    instance = tmp_path / "cli-instance"
    original = tmp_path / "minutes.pdf"
    original.write_bytes(recorded.content)
    altered = tmp_path / "altered.pdf"
    altered.write_bytes(flip_byte(recorded.content, len(recorded.content) // 2))
    foreign = tmp_path / "holiday.jpg"
    foreign.write_bytes(os.urandom(2048))

    code, output = run_verify(demo, instance, original)
    assert code == 0, output
    assert "unaltered export: made for 田中 浩 (経済産業省)" in output
    assert f"export id {recorded.document.export_id}" in output

    code, output = run_verify(demo, instance, altered)
    assert code == 1, output
    assert f"claims export id {recorded.document.export_id}" in output

    code, output = run_verify(demo, instance, foreign)
    assert code == 3, output
    assert "not an export of this portal" in output

    assert len(audit_entries(demo, "export.verify")) == 3


def test_reader_of_names_the_reader_as_the_watermark_does(demo: Database) -> None:
    with demo.session_scope() as session:
        user = session.scalars(select(User).where(User.email == "kobayashi@toto-u.example.jp")).one()

        japanese, english = service.reader_of(user, "ja"), service.reader_of(user, "en")

        assert (japanese.user_id, japanese.organization_id) == (user.id, user.organization_id)
        assert (japanese.name, japanese.organisation) == ("小林 聡", "東都大学 先端政策研究センター")
        assert english.organisation == user.organization.name_en != japanese.organisation
