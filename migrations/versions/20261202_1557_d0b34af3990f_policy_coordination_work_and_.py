"""policy coordination work and recommendations

Revision ID: d0b34af3990f
Revises: 22be9a42054a
Created: 2026-12-02 15:57:40.889003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d0b34af3990f"
down_revision: str | None = "22be9a42054a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recommendations",
        sa.Column("subcommittee_id", sa.Uuid(), nullable=False),
        sa.Column("title_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("body_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "drafted",
                "deliberation",
                "agreed",
                "submitted",
                "reflected",
                name="recommendationstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("sector_codes_text", sa.String(length=400), nullable=False),
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
            ["created_by_id"], ["users.id"], name=op.f("fk_recommendations_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["origin_organization_id"],
            ["organizations.id"],
            name=op.f("fk_recommendations_origin_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_recommendations_owner_id_users")),
        sa.ForeignKeyConstraint(
            ["subcommittee_id"],
            ["subcommittees.id"],
            name=op.f("fk_recommendations_subcommittee_id_subcommittees"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendations")),
    )
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recommendations_subcommittee_id"), ["subcommittee_id"], unique=False
        )

    op.create_table(
        "work_themes",
        sa.Column("subcommittee_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("description_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
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
            ["created_by_id"], ["users.id"], name=op.f("fk_work_themes_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["origin_organization_id"],
            ["organizations.id"],
            name=op.f("fk_work_themes_origin_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_work_themes_owner_id_users")),
        sa.ForeignKeyConstraint(
            ["subcommittee_id"],
            ["subcommittees.id"],
            name=op.f("fk_work_themes_subcommittee_id_subcommittees"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_themes")),
    )
    with op.batch_alter_table("work_themes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_themes_subcommittee_id"), ["subcommittee_id"], unique=False)

    op.create_table(
        "recommendation_links",
        sa.Column("recommendation_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=True),
        sa.Column("output_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_recommendation_links_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["output_id"],
            ["thinktank_outputs.id"],
            name=op.f("fk_recommendation_links_output_id_thinktank_outputs"),
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
            name=op.f("fk_recommendation_links_recommendation_id_recommendations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_links")),
    )
    with op.batch_alter_table("recommendation_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recommendation_links_recommendation_id"), ["recommendation_id"], unique=False
        )

    op.create_table(
        "recommendation_transitions",
        sa.Column("recommendation_id", sa.Uuid(), nullable=False),
        sa.Column(
            "from_status",
            sa.Enum(
                "drafted",
                "deliberation",
                "agreed",
                "submitted",
                "reflected",
                name="recommendationstatus",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "drafted",
                "deliberation",
                "agreed",
                "submitted",
                "reflected",
                name="recommendationstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("note_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_recommendation_transitions_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
            name=op.f("fk_recommendation_transitions_recommendation_id_recommendations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_transitions")),
    )
    with op.batch_alter_table("recommendation_transitions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recommendation_transitions_recommendation_id"), ["recommendation_id"], unique=False
        )

    op.create_table(
        "work_milestones",
        sa.Column("theme_id", sa.Uuid(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("title_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["work_themes.id"],
            name=op.f("fk_work_milestones_theme_id_work_themes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_milestones")),
    )
    with op.batch_alter_table("work_milestones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_milestones_theme_id"), ["theme_id"], unique=False)

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "sector",
                sa.Enum(
                    "energy",
                    "telecom",
                    "finance",
                    "semiconductors",
                    "shipbuilding",
                    "shipping",
                    "materials",
                    "ai_it",
                    "academia",
                    "government",
                    "think_tank",
                    name="sector",
                    native_enum=False,
                    length=32,
                ),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("sector")

    with op.batch_alter_table("work_milestones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_milestones_theme_id"))

    op.drop_table("work_milestones")
    with op.batch_alter_table("recommendation_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recommendation_transitions_recommendation_id"))

    op.drop_table("recommendation_transitions")
    with op.batch_alter_table("recommendation_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recommendation_links_recommendation_id"))

    op.drop_table("recommendation_links")
    with op.batch_alter_table("work_themes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_themes_subcommittee_id"))

    op.drop_table("work_themes")
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recommendations_subcommittee_id"))

    op.drop_table("recommendations")
