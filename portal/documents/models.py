"""Documents: a room's clearance-tagged material, with caveats, named readers and a classification record."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.caveats import Caveat
from portal.db import Base, UUIDPrimaryKey, utcnow
from portal.enums import Level, ReleaseMarking
from portal.models_util import LevelType, enum_column_type
from portal.security.crypto import FieldContext


class Classified:
    """The marking every classified item carries: level, release marking and the classification record."""

    level: Mapped[Level] = mapped_column(LevelType(), default=Level.RESTRICTED, index=True)
    release: Mapped[ReleaseMarking] = mapped_column(
        enum_column_type(ReleaseMarking, length=16), default=ReleaseMarking.GREEN
    )
    classified_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    classified_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Sealed (it may describe the content). Required at CONFIDENTIAL and above (DESIGN.md §2).
    classification_reason_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: When the classification is to be reviewed or lifted.
    review_on: Mapped[date | None] = mapped_column(Date)


class Document(UUIDPrimaryKey, Classified, Base):
    __tablename__ = "documents"
    __table_args__ = (
        # A room's list, newest change first, paged: read in index order, never sorted whole. With the
        # level in it, the count of a room's visible documents reads only the index, however long the
        # bodies. It also serves every lookup by room (the foreign key): no separate index on the room.
        Index("ix_documents_room_updated", "subcommittee_id", "updated_at", "id", "level"),
    )

    subcommittee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subcommittees.id"))
    #: Sealed with the room's ``fields`` key, bound to this row, column and level.
    title_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Optimistic concurrency: an edit names the version it started from.
    version: Mapped[int] = mapped_column(Integer, default=1)

    caveat_links: Mapped[list[DocumentCaveat]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", back_populates="document"
    )
    reader_links: Mapped[list[DocumentReader]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", back_populates="document"
    )

    def field_context(self, column: str) -> FieldContext:
        return Document.context_of(self.id, self.level, column)

    @staticmethod
    def context_of(document_id: uuid.UUID, level: int, column: str) -> FieldContext:
        """A field's context from the row's id and level (for lists read as rows, not objects)."""
        return FieldContext("documents", column, document_id, int(level), "document")

    @property
    def caveats(self) -> list[Caveat]:
        return [link.caveat for link in self.caveat_links]

    @property
    def caveat_codes(self) -> frozenset[str]:
        return frozenset(link.caveat.code for link in self.caveat_links)

    @property
    def named_reader_ids(self) -> frozenset[uuid.UUID]:
        return frozenset(link.user_id for link in self.reader_links)


class DocumentCaveat(Base):
    __tablename__ = "document_caveats"

    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    caveat_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("caveats.id"), primary_key=True)

    document: Mapped[Document] = relationship(back_populates="caveat_links")
    caveat: Mapped[Caveat] = relationship(lazy="joined")


class DocumentReader(Base):
    """A named reader (need-to-know list). Each must be a member of the room when added."""

    __tablename__ = "document_readers"

    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    added_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    document: Mapped[Document] = relationship(back_populates="reader_links", foreign_keys=[document_id])


class DocumentVersion(UUIDPrimaryKey, Base):
    """One saved state of a document. Every edit adds one; restoring an old one adds a new one."""

    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    #: The level the text was sealed under (part of the associated data).
    level: Mapped[Level] = mapped_column(LevelType())
    #: Sealed with the room's key, opened with the document's grant.
    title_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    summary_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def field_context(self, column: str) -> FieldContext:
        return FieldContext(
            "document_versions", column, self.id, int(self.level), "document", self.document_id
        )


class DocumentComment(UUIDPrimaryKey, Base):
    """A room member's comment on a document, sealed like the body and opened with the document's grant."""

    __tablename__ = "document_comments"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    #: The document's level when written (part of the associated data).
    level: Mapped[Level] = mapped_column(LevelType())
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def field_context(self) -> FieldContext:
        return FieldContext(
            "document_comments", "body", self.id, int(self.level), "document", self.document_id
        )


class DocumentAttachment(UUIDPrimaryKey, Base):
    """A file attached to a document. Its bytes live sealed in :class:`AttachmentChunk` rows."""

    __tablename__ = "document_attachments"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    #: The document's level when sealed (part of the associated data of the name, checksum and chunks).
    level: Mapped[Level] = mapped_column(LevelType())
    #: The sanitised file name, sealed (a name can say as much as the content).
    filename_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    #: The kind detected from the content (filetypes.KINDS code) and the type it is served as.
    kind: Mapped[str] = mapped_column(String(16))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    chunk_count: Mapped[int] = mapped_column(Integer)
    #: SHA-256 of the plaintext (hex), sealed: verified before a download is sent; sealed so that a copy
    #: of the database cannot confirm that a known file is held here.
    checksum_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    def field_context(self, column: str) -> FieldContext:
        return FieldContext(
            "document_attachments", column, self.id, int(self.level), "document", self.document_id
        )

    def chunk_context(self) -> FieldContext:
        """Every chunk of the file shares this context; its position and finality are bound on top."""
        return FieldContext(
            "attachment_chunks", "data", self.id, int(self.level), "document", self.document_id
        )


class AttachmentChunk(UUIDPrimaryKey, Base):
    """One sealed piece (at most ``crypto.CHUNK_BYTES`` of plaintext) of an attachment, sealed with the
    room's ``files`` key."""

    __tablename__ = "attachment_chunks"
    __table_args__ = (UniqueConstraint("attachment_id", "position"),)

    #: Indexed by the unique (attachment_id, position) constraint.
    attachment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("document_attachments.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)
    #: The last chunk of the file (bound into the associated data, so a truncated file fails to open).
    final: Mapped[bool] = mapped_column(Boolean)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class DocumentReclassification(UUIDPrimaryKey, Base):
    """One change of a document's level (up, down, or declassification to PUBLIC), with its reason."""

    __tablename__ = "document_reclassifications"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    from_level: Mapped[Level] = mapped_column(LevelType())
    to_level: Mapped[Level] = mapped_column(LevelType())
    #: True for a declassification to PUBLIC (a separate, deliberate act).
    declassification: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Sealed under the new level, opened with the document's grant.
    reason_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    changed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    def field_context(self) -> FieldContext:
        return FieldContext(
            "document_reclassifications", "reason", self.id, int(self.to_level), "document", self.document_id
        )
