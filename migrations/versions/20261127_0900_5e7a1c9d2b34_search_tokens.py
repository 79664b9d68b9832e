"""search tokens (the blind index)

Revision ID: 5e7a1c9d2b34
Revises: dcd04ff8e406
Created: 2026-11-27 09:00:00.000000

The index starts empty: building it needs the key-encryption key and opens every item, which is the work of
`portal search reindex` (run it once after this upgrade on a database with content). New and edited items
are indexed as they are saved.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e7a1c9d2b34"
down_revision: str | None = "dcd04ff8e406"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_tokens",
        sa.Column("token", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("item_kind", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("token", "item_kind", "item_id", name=op.f("pk_search_tokens")),
    )
    with op.batch_alter_table("search_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_search_tokens_item", ["item_kind", "item_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("search_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_search_tokens_item")
    op.drop_table("search_tokens")
