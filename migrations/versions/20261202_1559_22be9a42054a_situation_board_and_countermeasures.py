"""situation board and countermeasures

Revision ID: 22be9a42054a
Revises: e02ee2358367
Created: 2026-12-02 15:59:04.825836
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "22be9a42054a"
down_revision: str | None = "e02ee2358367"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "countermeasures",
        sa.Column("subcommittee_id", sa.Uuid(), nullable=False),
        sa.Column("title_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("description_sealed", sa.LargeBinary(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "proposed",
                "under_study",
                "adopted",
                "rejected",
                name="countermeasurestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("finding_ids_text", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column(
            "release",
            sa.Enum(
                "CLEAR",
                "GREEN",
                "AMBER",
                "AMBER+STRICT",
                "RED",
                name="releasemarking",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("caveat_codes_text", sa.String(length=400), nullable=False),
        sa.Column("reader_ids_text", sa.Text(), nullable=False),
        sa.Column("release_organization_ids_text", sa.Text(), nullable=False),
        sa.Column("classification_reason_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("origin_organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_countermeasures_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["origin_organization_id"],
            ["organizations.id"],
            name=op.f("fk_countermeasures_origin_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_countermeasures_owner_id_users")),
        sa.ForeignKeyConstraint(
            ["subcommittee_id"],
            ["subcommittees.id"],
            name=op.f("fk_countermeasures_subcommittee_id_subcommittees"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_countermeasures")),
    )
    with op.batch_alter_table("countermeasures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_countermeasures_subcommittee_id"), ["subcommittee_id"], unique=False
        )

    op.create_table(
        "situation_board_visits",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("subcommittee_id", sa.Uuid(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subcommittee_id"],
            ["subcommittees.id"],
            name=op.f("fk_situation_board_visits_subcommittee_id_subcommittees"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_situation_board_visits_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "subcommittee_id", name=op.f("pk_situation_board_visits")),
    )
    op.create_table(
        "situation_reports",
        sa.Column("subcommittee_id", sa.Uuid(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("source_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("happened_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("affected_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("impact_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column(
            "release",
            sa.Enum(
                "CLEAR",
                "GREEN",
                "AMBER",
                "AMBER+STRICT",
                "RED",
                name="releasemarking",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("caveat_codes_text", sa.String(length=400), nullable=False),
        sa.Column("reader_ids_text", sa.Text(), nullable=False),
        sa.Column("release_organization_ids_text", sa.Text(), nullable=False),
        sa.Column("classification_reason_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("origin_organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_situation_reports_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["origin_organization_id"],
            ["organizations.id"],
            name=op.f("fk_situation_reports_origin_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["subcommittee_id"],
            ["subcommittees.id"],
            name=op.f("fk_situation_reports_subcommittee_id_subcommittees"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_situation_reports")),
    )
    with op.batch_alter_table("situation_reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_situation_reports_room_time", ["subcommittee_id", "reported_at"], unique=False
        )

    op.create_table(
        "countermeasure_transitions",
        sa.Column("countermeasure_id", sa.Uuid(), nullable=False),
        sa.Column(
            "from_status",
            sa.Enum(
                "proposed",
                "under_study",
                "adopted",
                "rejected",
                name="countermeasurestatus",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "proposed",
                "under_study",
                "adopted",
                "rejected",
                name="countermeasurestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("by_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("note_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("action_ids_text", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_id"], ["users.id"], name=op.f("fk_countermeasure_transitions_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["countermeasure_id"],
            ["countermeasures.id"],
            name=op.f("fk_countermeasure_transitions_countermeasure_id_countermeasures"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_countermeasure_transitions")),
    )
    with op.batch_alter_table("countermeasure_transitions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_countermeasure_transitions_countermeasure_id"), ["countermeasure_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("countermeasure_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_countermeasure_transitions_countermeasure_id"))

    op.drop_table("countermeasure_transitions")
    with op.batch_alter_table("situation_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_situation_reports_room_time")

    op.drop_table("situation_reports")
    op.drop_table("situation_board_visits")
    with op.batch_alter_table("countermeasures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_countermeasures_subcommittee_id"))

    op.drop_table("countermeasures")
