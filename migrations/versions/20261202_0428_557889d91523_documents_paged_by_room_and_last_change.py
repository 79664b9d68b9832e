"""documents paged by room and last change

The room's document list is paged newest change first: one index on (room, updated_at, id, level) reads a
page in order, and counts a room's visible documents from the index alone. It also serves every lookup by
room alone, so it replaces the index on the room.

Revision ID: 557889d91523
Revises: 5e7a1c9d2b34
Created: 2026-12-02 04:28:53.613181
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "557889d91523"
down_revision: str | None = "5e7a1c9d2b34"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        # The new index first: lookups by room are never without one.
        batch_op.create_index(
            "ix_documents_room_updated", ["subcommittee_id", "updated_at", "id", "level"], unique=False
        )
        batch_op.drop_index(batch_op.f("ix_documents_subcommittee_id"))


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_documents_subcommittee_id"), ["subcommittee_id"], unique=False)
        batch_op.drop_index("ix_documents_room_updated")
