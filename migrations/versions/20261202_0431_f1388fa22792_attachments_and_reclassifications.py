"""document attachments (sealed in chunks) and reclassifications

Revision ID: f1388fa22792
Revises: e503e8bd46a7
Created: 2026-12-02 04:31:22.041872
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f1388fa22792"
down_revision: str | None = "e503e8bd46a7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_attachments",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("filename_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("checksum_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by_id", sa.Uuid(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_attachments_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_document_attachments_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_attachments")),
    )
    with op.batch_alter_table("document_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_attachments_document_id"), ["document_id"], unique=False
        )

    op.create_table(
        "document_reclassifications",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("from_level", sa.Integer(), nullable=False),
        sa.Column("to_level", sa.Integer(), nullable=False),
        sa.Column("declassification", sa.Boolean(), nullable=False),
        sa.Column("reason_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("changed_by_id", sa.Uuid(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"], name=op.f("fk_document_reclassifications_changed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_reclassifications_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_reclassifications")),
    )
    with op.batch_alter_table("document_reclassifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_reclassifications_document_id"), ["document_id"], unique=False
        )

    op.create_table(
        "attachment_chunks",
        sa.Column("attachment_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["document_attachments.id"],
            name=op.f("fk_attachment_chunks_attachment_id_document_attachments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment_chunks")),
        sa.UniqueConstraint("attachment_id", "position", name=op.f("uq_attachment_chunks_attachment_id")),
    )


def downgrade() -> None:
    op.drop_table("attachment_chunks")
    with op.batch_alter_table("document_reclassifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_reclassifications_document_id"))

    op.drop_table("document_reclassifications")
    with op.batch_alter_table("document_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_attachments_document_id"))

    op.drop_table("document_attachments")
