"""Every way an attachment is added, listed, checked and read, and who may do it.

A file's bytes are sealed in chunks of ``crypto.CHUNK_BYTES`` with the room's ``files`` key; each chunk
is bound to its file, its position and whether it is the last one. Uploads and downloads pass through
memory one chunk at a time, never whole. The SHA-256 of the plaintext is sealed beside the file and checked
before a single byte of a download is sent.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from portal.documents import filetypes
from portal.documents.models import AttachmentChunk, Document, DocumentAttachment
from portal.documents.service import require_on_document
from portal.security import crypto, policy
from portal.security.crypto import CHUNK_BYTES, FieldContext
from portal.security.keyring import keyring_of
from portal.security.policy import Grant, Subject


@dataclass(frozen=True)
class Upload:
    """A file as received: a seekable stream (Werkzeug spools large ones to disk) and the given name."""

    stream: IO[bytes]
    filename: str


class AttachmentRefused(Exception):
    """An upload that is not accepted; ``reason`` is a stable code the view translates."""

    def __init__(self, filename: str, reason: str) -> None:
        super().__init__(reason)
        self.filename = filename
        #: empty, not_allowed, macros, too_large
        self.reason = reason


@dataclass(frozen=True)
class AttachmentInfo:
    attachment: DocumentAttachment
    filename: str


def _size_of(stream: IO[bytes]) -> int:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size


def check_upload(upload: Upload, max_bytes: int) -> filetypes.FileKind:
    """Refuse an upload before anything is stored: too large, or not an allowed kind by its content."""
    if _size_of(upload.stream) > max_bytes:
        raise AttachmentRefused(upload.filename, "too_large")
    try:
        return filetypes.detect(upload.stream, upload.filename)
    except filetypes.UnsupportedFile as refused:
        raise AttachmentRefused(upload.filename, refused.reason) from refused


def _read_chunks(stream: IO[bytes]) -> Iterator[tuple[int, bool, bytes]]:
    """(position, final, bytes) chunk by chunk, reading one chunk ahead to know which is the last."""
    stream.seek(0)
    current = stream.read(CHUNK_BYTES)
    position = 0
    while True:
        following = stream.read(CHUNK_BYTES)
        yield position, not following, current
        if not following:
            return
        current, position = following, position + 1


def store(
    session: Session,
    grant: Grant,
    document: Document,
    upload: Upload,
    kind: filetypes.FileKind,
    author: uuid.UUID,
) -> DocumentAttachment:
    keyring = keyring_of(session)
    attachment = DocumentAttachment(
        id=uuid.uuid4(),
        document_id=document.id,
        level=document.level,
        kind=kind.code,
        content_type=kind.mime,
        size=_size_of(upload.stream),
        chunk_count=0,
        uploaded_by_id=author,
    )
    room = document.subcommittee_id
    filename = filetypes.safe_filename(upload.filename, kind)
    attachment.filename_sealed = keyring.seal(
        session, grant, attachment.field_context("filename"), filename, room
    )
    attachment.checksum_sealed = keyring.seal(
        session, grant, attachment.field_context("checksum"), _sha256(upload.stream), room
    )
    session.add(attachment)
    session.flush()
    context = attachment.chunk_context()
    key = keyring.file_key(session, grant, context, room)
    batch: list[dict[str, object]] = []
    for position, final, data in _read_chunks(upload.stream):
        sealed = crypto.seal_chunk(key, context, position, final, data)
        batch.append({"id": uuid.uuid4(), "attachment_id": attachment.id, "position": position,
                      "final": final, "data": sealed})  # fmt: skip
        attachment.chunk_count = position + 1
        if len(batch) == 4 or final:
            # Core inserts a few chunks at a time: the session keeps no copy, so memory stays bounded.
            session.execute(insert(AttachmentChunk), batch)
            batch = []
    session.flush()
    return attachment


def _sha256(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    stream.seek(0)
    while data := stream.read(CHUNK_BYTES):
        digest.update(data)
    return digest.hexdigest()


def add_attachments(
    session: Session, subject: Subject, document_id: uuid.UUID, uploads: list[Upload], max_bytes: int
) -> list[DocumentAttachment]:
    """Attach files to a document (anyone who may edit it). Every file is checked before any is stored:
    one refused file refuses the whole upload, so nothing is half-attached."""
    document, grant = require_on_document(session, subject, document_id, policy.decide_edit_document)
    kinds = [check_upload(upload, max_bytes) for upload in uploads]
    stored = [
        store(session, grant, document, upload, kind, subject.user_id)
        for upload, kind in zip(uploads, kinds, strict=True)
    ]
    for attachment in stored:
        policy.record_change(
            session,
            subject,
            "document.attach",
            object_type="document",
            object_id=document.id,
            level=document.level,
            detail={"attachment": str(attachment.id), "kind": attachment.kind, "size": attachment.size},
        )
    return stored


def list_attachments(session: Session, grant: Grant, document: Document) -> list[AttachmentInfo]:
    keyring = keyring_of(session)
    found = session.scalars(
        select(DocumentAttachment)
        .where(DocumentAttachment.document_id == document.id)
        .order_by(DocumentAttachment.uploaded_at, DocumentAttachment.id)
    )
    return [
        AttachmentInfo(
            attachment,
            keyring.open(session, grant, attachment.field_context("filename"), attachment.filename_sealed),
        )
        for attachment in found
    ]


@dataclass(frozen=True)
class Download:
    attachment: DocumentAttachment
    grant: Grant
    filename: str


def open_download(
    session: Session,
    subject: Subject,
    room_id: uuid.UUID,
    document_id: uuid.UUID,
    attachment_id: uuid.UUID,
) -> Download:
    """A download, decided and audited like a read of the document (every download is recorded, at any
    level). An attachment under another document's or room's address answers as if it did not exist."""
    document = session.get(Document, document_id)
    attachment = session.get(DocumentAttachment, attachment_id)
    if (
        document is None
        or attachment is None
        or attachment.document_id != document.id
        or document.subcommittee_id != room_id
    ):
        raise policy.AccessDenied(policy.deny("document.download", "NOT_FOUND"), conceal=True)
    decision = policy.decide_read_document(subject, document)
    grant = policy.require(
        session,
        subject,
        policy.Decision(decision.allowed, "document.download", decision.reason),
        object_type="document",
        object_id=document.id,
        level=document.level,
        conceal=True,
        record_allowed=True,
        detail={"attachment": str(attachment.id), "size": attachment.size},
    )
    filename = keyring_of(session).open(
        session, grant, attachment.field_context("filename"), attachment.filename_sealed
    )
    return Download(attachment, grant, filename)


def plaintext_chunks(session: Session, download: Download) -> Iterator[bytes]:
    """The file's bytes, one chunk at a time, each opened (and authenticated) as it is read."""
    keyring = keyring_of(session)
    attachment = download.attachment
    context = attachment.chunk_context()
    for position in range(attachment.chunk_count):
        row = session.execute(
            select(AttachmentChunk.final, AttachmentChunk.data).where(
                AttachmentChunk.attachment_id == attachment.id, AttachmentChunk.position == position
            )
        ).one_or_none()
        if row is None:
            keyring.audit_integrity(session, download.grant, context)
            raise crypto.IntegrityError(f"chunk {position} of attachment {attachment.id} is missing")
        final, data = row
        yield keyring.open_chunk(session, download.grant, context, position, final, data)
        if final != (position == attachment.chunk_count - 1):
            keyring.audit_integrity(session, download.grant, context)
            raise crypto.IntegrityError(f"attachment {attachment.id} has the wrong number of chunks")


def verify(session: Session, download: Download) -> None:
    """Check the whole file against its sealed SHA-256 before sending any of it; an altered, truncated or
    swapped file raises :class:`crypto.IntegrityError` (and is audited)."""
    keyring = keyring_of(session)
    attachment = download.attachment
    expected = keyring.open(
        session, download.grant, attachment.field_context("checksum"), attachment.checksum_sealed
    )
    digest = hashlib.sha256()
    size = 0
    for data in plaintext_chunks(session, download):
        digest.update(data)
        size += len(data)
    if size != attachment.size or not hmac.compare_digest(digest.hexdigest(), expected):
        keyring.audit_integrity(session, download.grant, attachment.chunk_context())
        raise crypto.IntegrityError(f"attachment {attachment.id} does not match its checksum")


# --- re-sealing (reclassification) ------------------------------------------------------------------


def _contexts(attachment: DocumentAttachment, level: int) -> dict[str, FieldContext]:
    return {
        "filename": attachment.field_context("filename").at_level(level),
        "checksum": attachment.field_context("checksum").at_level(level),
        "chunks": attachment.chunk_context().at_level(level),
    }


def reseal_for_level(session: Session, grant: Grant, document: Document, old_level: int) -> int:
    """Re-seal every attachment of the document under its new level (names, checksums and chunks)."""
    keyring = keyring_of(session)
    room = document.subcommittee_id
    count = 0
    for attachment in session.scalars(
        select(DocumentAttachment).where(DocumentAttachment.document_id == document.id)
    ).all():
        old = _contexts(attachment, old_level)
        filename = keyring.open(session, grant, old["filename"], attachment.filename_sealed)
        checksum = keyring.open(session, grant, old["checksum"], attachment.checksum_sealed)
        attachment.level = document.level
        new = _contexts(attachment, int(document.level))
        attachment.filename_sealed = keyring.seal(session, grant, new["filename"], filename, room)
        attachment.checksum_sealed = keyring.seal(session, grant, new["checksum"], checksum, room)
        key = keyring.file_key(session, grant, new["chunks"], room)
        for position in range(attachment.chunk_count):
            # One chunk in memory at a time, even for the largest file.
            chunk_id, final, data = session.execute(
                select(AttachmentChunk.id, AttachmentChunk.final, AttachmentChunk.data).where(
                    AttachmentChunk.attachment_id == attachment.id, AttachmentChunk.position == position
                )
            ).one()
            plain = keyring.open_chunk(session, grant, old["chunks"], position, final, data)
            session.execute(
                update(AttachmentChunk)
                .where(AttachmentChunk.id == chunk_id)
                .values(data=crypto.seal_chunk(key, new["chunks"], position, final, plain))
            )
        count += 1
    return count
