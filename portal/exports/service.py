"""Exports: the release-marking check, rendering, the register and its audit, and verifying a file.

The register keeps, for every copy, the SHA-256 of the exact bytes delivered, whom it was made for and
the marking it carried; never its content. `portal exports verify FILE` looks the file's hash up: a match
is an unaltered copy; otherwise the export id printed in the file (if any) says what it claims to be.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Organization, User
from portal.config import Settings
from portal.enums import Level, ReleaseMarking
from portal.exports.document import (
    EXPORT_TIMEZONE,
    LEVEL_WORDS_EN,
    LEVEL_WORDS_JA,
    ExportDocument,
    ExportReader,
)
from portal.exports.docx import render_docx
from portal.exports.markdown import render_markdown
from portal.exports.models import ExportRecord
from portal.exports.pdf import render_pdf
from portal.security import audit, policy
from portal.security.audit import Actor
from portal.security.policy import Decision, MarkedPart, Subject


class ExportContents(StrEnum):
    MINUTES = "minutes"
    PACK = "pack"


class ExportFormat(StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    MARKDOWN = "md"


MEDIA_TYPES = {
    ExportFormat.PDF: "application/pdf",
    ExportFormat.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ExportFormat.MARKDOWN: "text/markdown; charset=utf-8",
}


# --- release marking (TLP) ------------------------------------------------------------------------


@dataclass(frozen=True)
class RefusedPart:
    #: 1-based position in the sequence given to :func:`check_release` (document order).
    position: int
    release: ReleaseMarking
    reason: str


@dataclass(frozen=True)
class ReleaseCheck:
    """Whether the reader may take every included part out of the portal; if not, which parts (by
    position, never by content) and why."""

    decision: Decision
    refused: tuple[RefusedPart, ...] = ()

    def __bool__(self) -> bool:
        return self.decision.allowed

    @property
    def positions(self) -> tuple[int, ...]:
        return tuple(part.position for part in self.refused)


def check_release(subject: Subject, parts: Sequence[MarkedPart | None]) -> ReleaseCheck:
    """``policy.decide_release`` for every INCLUDED part. ``parts`` are all the copy's parts in document
    order, ``None`` for a withheld one (it is not in the copy, so its marking does not matter); positions
    in a refusal count from 1 over this sequence."""
    refused = []
    for position, part in enumerate(parts, start=1):
        if part is None:
            continue
        decision = policy.decide_release(subject, part)
        if not decision.allowed:
            refused.append(RefusedPart(position, part.release, decision.reason))
    if refused:
        return ReleaseCheck(policy.deny("export.release", refused[0].reason), tuple(refused))
    return ReleaseCheck(policy.allow("export.release"))


class ExportRefused(Exception):
    """The release marking forbids this export (already audited); ``check`` says which parts."""

    def __init__(self, check: ReleaseCheck) -> None:
        super().__init__(check.decision.reason)
        self.check = check


def require_release(
    session: Session,
    subject: Subject,
    parts: Sequence[MarkedPart | None],
    *,
    object_type: str,
    object_id: object,
) -> None:
    """:func:`check_release`, with a refusal audited (reason and positions, no content) and raised."""
    check = check_release(subject, parts)
    if check:
        return
    detail: dict[str, object] = {
        "positions": list(check.positions),
        "releases": sorted({part.release.value for part in check.refused}),
    }
    try:
        policy.require(
            session, subject, check.decision, object_type=object_type, object_id=object_id, detail=detail
        )
    except policy.AccessDenied as denied:
        raise ExportRefused(check) from denied


def refusal_message(check: ReleaseCheck) -> str:
    """The translated reason for the reader, naming the parts by position."""
    explanations = {
        ReleaseMarking.RED: gettext("TLP:RED parts may be exported only by their named readers."),
        ReleaseMarking.AMBER_STRICT: gettext(
            "TLP:AMBER+STRICT parts may be exported only by people of the organisation they come from."
        ),
        ReleaseMarking.AMBER: gettext(
            "TLP:AMBER parts may be exported only by people of the organisation they come from and of the "
            "organisations named on them."
        ),
    }
    lines = [gettext("This export is refused by the release marking of some parts.")]
    for release in (ReleaseMarking.RED, ReleaseMarking.AMBER_STRICT, ReleaseMarking.AMBER):
        positions = [str(part.position) for part in check.refused if part.release == release]
        if positions:
            lines.append(
                gettext(
                    "Parts in positions %(positions)s: %(explanation)s",
                    positions=", ".join(positions),
                    explanation=explanations[release],
                )
            )
    return " ".join(lines)


# --- rendering and the register -------------------------------------------------------------------


def reader_of(user: User, locale: str) -> ExportReader:
    """The reader a copy is made for, named as on the copy's watermark (organisation in the locale)."""
    organisation = user.organization.name_en if locale == "en" else user.organization.name_ja
    return ExportReader(user.id, user.display_name, organisation, user.organization_id)


def render(document: ExportDocument, file_format: ExportFormat, settings: Settings) -> bytes:
    """The copy in one format, with the configured fonts."""
    if file_format == ExportFormat.PDF:
        return render_pdf(document, settings.export_font_path or None)
    if file_format == ExportFormat.DOCX:
        return render_docx(document, settings.export_docx_font)
    return render_markdown(document)


def sha256_of(file_bytes: bytes) -> str:
    return hashlib.sha256(file_bytes).hexdigest()


def record_export(
    session: Session,
    subject: Subject,
    contents: ExportContents,
    document: ExportDocument,
    file_format: ExportFormat,
    file_bytes: bytes,
    *,
    meeting_id: uuid.UUID | None,
    minutes_revision: int | None = None,
) -> ExportRecord:
    """Register the copy exactly as delivered and audit it (``export.create``: export id, reader, levels
    included, SHA-256; no content). A copy is made for the one who asks for it."""
    if (
        document.reader.user_id != subject.user_id
        or document.reader.organization_id != subject.organization_id
    ):
        raise ValueError("an export is made for the subject who asks for it")
    banner = document.banner
    digest = sha256_of(file_bytes)
    record = ExportRecord(
        id=document.export_id,
        reader_id=document.reader.user_id,
        organization_id=document.reader.organization_id,
        meeting_id=meeting_id,
        subject=contents.value,
        file_format=file_format.value,
        minutes_revision=minutes_revision,
        sha256=digest,
        size_bytes=len(file_bytes),
        highest_level=banner.level,
        caveat_codes_text=" ".join(banner.caveat_codes),
        release=banner.release.value,
        included_parts=document.included_count,
        withheld_parts=document.withheld_count,
        created_at=document.created_at,
    )
    session.add(record)
    policy.record_change(
        session,
        subject,
        "export.create",
        object_type="export",
        object_id=document.export_id,
        level=banner.level,
        detail={
            "export_id": str(document.export_id),
            "reader_id": str(document.reader.user_id),
            "organization_id": str(document.reader.organization_id),
            "meeting_id": str(meeting_id) if meeting_id else None,
            "subject": contents.value,
            "format": file_format.value,
            "levels_included": [int(level) for level in document.included_levels],
            "highest_level": int(banner.level),
            "caveats": list(banner.caveat_codes),
            "release": banner.release.value,
            "included_parts": document.included_count,
            "withheld_parts": document.withheld_count,
            "sha256": digest,
        },
    )
    session.flush()
    return record


@dataclass(frozen=True)
class RenderedExport:
    record: ExportRecord
    content: bytes
    media_type: str
    file_name: str


def export_document(
    session: Session,
    subject: Subject,
    contents: ExportContents,
    document: ExportDocument,
    file_format: ExportFormat,
    settings: Settings,
    *,
    meeting_id: uuid.UUID | None,
    minutes_revision: int | None = None,
) -> RenderedExport:
    """Render and register in one step (after :func:`require_release`)."""
    content = render(document, file_format, settings)
    record = record_export(
        session,
        subject,
        contents,
        document,
        file_format,
        content,
        meeting_id=meeting_id,
        minutes_revision=minutes_revision,
    )
    day = document.created_at.astimezone(EXPORT_TIMEZONE)
    file_name = f"{contents.value}-{day:%Y%m%d}-{str(document.export_id)[:8]}.{file_format.value}"
    return RenderedExport(record, content, MEDIA_TYPES[file_format], file_name)


# --- verifying a file -----------------------------------------------------------------------------


class VerifyStatus(StrEnum):
    #: The exact bytes of a registered export.
    UNALTERED = "unaltered"
    #: Not a registered file, but it carries an export id: altered, or made to look like an export.
    ALTERED = "altered"
    #: Neither its hash nor an export id: not an export of this portal.
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class VerifyResult:
    status: VerifyStatus
    sha256: str
    #: The register's export id (unaltered), or the id the file claims (altered; may be unknown here).
    export_id: uuid.UUID | None
    message: str
    record: ExportRecord | None = None

    @property
    def unaltered(self) -> bool:
        return self.status == VerifyStatus.UNALTERED


_EXPORT_ID = re.compile(rb"export-id:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")


def claimed_export_id(file_bytes: bytes) -> uuid.UUID | None:
    """The export id a file carries: in the bytes (PDF metadata, Markdown) or in a DOCX's parts (core
    properties first). Best effort on damaged files: each DOCX part is tried on its own."""
    found = _EXPORT_ID.search(file_bytes)
    if found:
        return uuid.UUID(found.group(1).decode())
    if not file_bytes.startswith(b"PK"):
        return None
    try:
        archive = zipfile.ZipFile(io.BytesIO(file_bytes))
        names = sorted(archive.namelist(), key=lambda name: name != "docProps/core.xml")
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    for name in names:
        if not name.endswith(".xml"):
            continue
        try:
            found = _EXPORT_ID.search(archive.read(name))
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
            continue
        if found:
            return uuid.UUID(found.group(1).decode())
    return None


def _describe(session: Session, record: ExportRecord) -> str:
    reader = session.get(User, record.reader_id)
    organisation = session.get(Organization, record.organization_id)
    reader_name = reader.display_name if reader else str(record.reader_id)
    organisation_name = organisation.name_ja if organisation else str(record.organization_id)
    when = record.created_at.astimezone(EXPORT_TIMEZONE)
    caveats = f", caveats {record.caveat_codes_text}" if record.caveat_codes_text else ""
    level = Level(record.highest_level)
    return (
        f"made for {reader_name} ({organisation_name}) at {when:%Y-%m-%d %H:%M} JST, export id {record.id}, "
        f"{record.subject} as {record.file_format}, highest level {LEVEL_WORDS_JA[level]} "
        f"({LEVEL_WORDS_EN[level]}){caveats}, TLP:{record.release}, "
        f"{record.included_parts} parts included, {record.withheld_parts} withheld"
    )


def verify(session: Session, file_bytes: bytes, actor: Actor) -> VerifyResult:
    """Whether these bytes are an unaltered export, and for whom it was made; audited (``export.verify``)."""
    digest = sha256_of(file_bytes)
    record = session.scalars(
        select(ExportRecord).where(ExportRecord.sha256 == digest).order_by(ExportRecord.created_at)
    ).first()
    if record is not None:
        result = VerifyResult(
            VerifyStatus.UNALTERED,
            digest,
            record.id,
            f"unaltered export: {_describe(session, record)}",
            record,
        )
    else:
        claimed = claimed_export_id(file_bytes)
        if claimed is None:
            result = VerifyResult(VerifyStatus.UNKNOWN, digest, None, "not an export of this portal")
        else:
            claimed_record = session.get(ExportRecord, claimed)
            if claimed_record is not None:
                message = (
                    f"altered or not an export: claims export id {claimed}, "
                    f"{_describe(session, claimed_record)}; its SHA-256 does not match that export's"
                )
            else:
                message = (
                    f"altered or not an export: claims export id {claimed}, which this portal never issued"
                )
            result = VerifyResult(VerifyStatus.ALTERED, digest, claimed, message, claimed_record)
    audit.record(
        session,
        audit.AuditEvent(
            actor=actor,
            action="export.verify",
            allowed=True,
            rule="export.verify",
            reason="OK",
            object_type="export",
            object_id=str(result.export_id) if result.export_id else None,
            detail={"status": result.status.value, "sha256": digest},
        ),
    )
    return result
