"""tabletop exercises

Revision ID: 8c0a6d50053d
Revises: d0b34af3990f
Created: 2026-12-02 15:59:50.433700
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8c0a6d50053d"
down_revision: str | None = "d0b34af3990f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exercises",
        sa.Column("subcommittee_id", sa.Uuid(), nullable=False),
        sa.Column("title_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("scenario_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("facilitator_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("planned", "running", "finished", name="exercisestatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("meeting_id", sa.Uuid(), nullable=True),
        sa.Column("affected_risk_ids_text", sa.Text(), nullable=False),
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
            ["created_by_id"], ["users.id"], name=op.f("fk_exercises_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["facilitator_id"], ["users.id"], name=op.f("fk_exercises_facilitator_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_exercises_meeting_id_meetings")
        ),
        sa.ForeignKeyConstraint(
            ["origin_organization_id"],
            ["organizations.id"],
            name=op.f("fk_exercises_origin_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["subcommittee_id"], ["subcommittees.id"], name=op.f("fk_exercises_subcommittee_id_subcommittees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exercises")),
    )
    with op.batch_alter_table("exercises", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exercises_subcommittee_id"), ["subcommittee_id"], unique=False)

    op.create_table(
        "exercise_injects",
        sa.Column("exercise_id", sa.Uuid(), nullable=False),
        sa.Column("offset_minutes", sa.Integer(), nullable=False),
        sa.Column("text_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("sender_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("recipient_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("expected_action_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("revealed_at", sa.DateTime(timezone=True), nullable=True),
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
            ["exercise_id"],
            ["exercises.id"],
            name=op.f("fk_exercise_injects_exercise_id_exercises"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["origin_organization_id"],
            ["organizations.id"],
            name=op.f("fk_exercise_injects_origin_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exercise_injects")),
    )
    with op.batch_alter_table("exercise_injects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exercise_injects_exercise_id"), ["exercise_id"], unique=False)

    op.create_table(
        "exercise_participants",
        sa.Column("exercise_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["exercise_id"],
            ["exercises.id"],
            name=op.f("fk_exercise_participants_exercise_id_exercises"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_exercise_participants_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exercise_participants")),
        sa.UniqueConstraint("exercise_id", "user_id", name=op.f("uq_exercise_participants_exercise_id")),
    )
    with op.batch_alter_table("exercise_participants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exercise_participants_user_id"), ["user_id"], unique=False)

    op.create_table(
        "exercise_risk_flags",
        sa.Column("exercise_id", sa.Uuid(), nullable=False),
        sa.Column("risk_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("requested_by_id", sa.Uuid(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["exercise_id"],
            ["exercises.id"],
            name=op.f("fk_exercise_risk_flags_exercise_id_exercises"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_exercise_risk_flags_requested_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exercise_risk_flags")),
    )
    with op.batch_alter_table("exercise_risk_flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exercise_risk_flags_exercise_id"), ["exercise_id"], unique=False)

    op.create_table(
        "exercise_responses",
        sa.Column("inject_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("body_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inject_id"],
            ["exercise_injects.id"],
            name=op.f("fk_exercise_responses_inject_id_exercise_injects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_exercise_responses_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exercise_responses")),
    )
    with op.batch_alter_table("exercise_responses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exercise_responses_inject_id"), ["inject_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("exercise_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exercise_responses_inject_id"))

    op.drop_table("exercise_responses")
    with op.batch_alter_table("exercise_risk_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exercise_risk_flags_exercise_id"))

    op.drop_table("exercise_risk_flags")
    with op.batch_alter_table("exercise_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exercise_participants_user_id"))

    op.drop_table("exercise_participants")
    with op.batch_alter_table("exercise_injects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exercise_injects_exercise_id"))

    op.drop_table("exercise_injects")
    with op.batch_alter_table("exercises", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exercises_subcommittee_id"))

    op.drop_table("exercises")
