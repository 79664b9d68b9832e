"""risk register

Revision ID: e02ee2358367
Revises: 688845da2e36
Created: 2026-12-02 15:57:25.924515
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e02ee2358367"
down_revision: str | None = "688845da2e36"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "risks",
        sa.Column("subcommittee_id", sa.Uuid(), nullable=False),
        sa.Column("title_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("scenario_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("peacetime_measures_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("emergency_measures_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("likelihood", sa.Integer(), nullable=False),
        sa.Column("impact", sa.Integer(), nullable=False),
        sa.Column("residual_likelihood", sa.Integer(), nullable=False),
        sa.Column("residual_impact", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("dependency_edges_text", sa.Text(), nullable=False),
        sa.Column("review_interval_days", sa.Integer(), nullable=False),
        sa.Column("next_review_on", sa.Date(), nullable=False),
        sa.Column("review_flag_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_risks_created_by_id_users")),
        sa.ForeignKeyConstraint(
            ["origin_organization_id"],
            ["organizations.id"],
            name=op.f("fk_risks_origin_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_risks_owner_id_users")),
        sa.ForeignKeyConstraint(
            ["subcommittee_id"], ["subcommittees.id"], name=op.f("fk_risks_subcommittee_id_subcommittees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risks")),
    )
    with op.batch_alter_table("risks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_risks_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_risks_subcommittee_id"), ["subcommittee_id"], unique=False)

    op.create_table(
        "risk_proposals",
        sa.Column("subcommittee_id", sa.Uuid(), nullable=False),
        sa.Column("output_id", sa.Uuid(), nullable=False),
        sa.Column("risk_id", sa.Uuid(), nullable=True),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("name_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("likelihood", sa.Integer(), nullable=False),
        sa.Column("impact", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "accepted", "rejected", name="proposalstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("proposed_by_id", sa.Uuid(), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("result_risk_id", sa.Uuid(), nullable=True),
        sa.Column("batch", sa.String(length=36), nullable=False),
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
            ["decided_by_id"], ["users.id"], name=op.f("fk_risk_proposals_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["origin_organization_id"],
            ["organizations.id"],
            name=op.f("fk_risk_proposals_origin_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["output_id"],
            ["thinktank_outputs.id"],
            name=op.f("fk_risk_proposals_output_id_thinktank_outputs"),
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"], ["users.id"], name=op.f("fk_risk_proposals_proposed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["result_risk_id"], ["risks.id"], name=op.f("fk_risk_proposals_result_risk_id_risks")
        ),
        sa.ForeignKeyConstraint(["risk_id"], ["risks.id"], name=op.f("fk_risk_proposals_risk_id_risks")),
        sa.ForeignKeyConstraint(
            ["subcommittee_id"],
            ["subcommittees.id"],
            name=op.f("fk_risk_proposals_subcommittee_id_subcommittees"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_proposals")),
    )
    with op.batch_alter_table("risk_proposals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_proposals_subcommittee_id"), ["subcommittee_id"], unique=False
        )

    op.create_table(
        "risk_reviews",
        sa.Column("risk_id", sa.Uuid(), nullable=False),
        sa.Column(
            "source",
            sa.Enum("review", "edit", "proposal", name="reviewsource", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("likelihood_before", sa.Integer(), nullable=False),
        sa.Column("impact_before", sa.Integer(), nullable=False),
        sa.Column("residual_likelihood_before", sa.Integer(), nullable=False),
        sa.Column("residual_impact_before", sa.Integer(), nullable=False),
        sa.Column("likelihood_after", sa.Integer(), nullable=False),
        sa.Column("impact_after", sa.Integer(), nullable=False),
        sa.Column("residual_likelihood_after", sa.Integer(), nullable=False),
        sa.Column("residual_impact_after", sa.Integer(), nullable=False),
        sa.Column("note_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("reviewed_by_id", sa.Uuid(), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"], ["users.id"], name=op.f("fk_risk_reviews_reviewed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["risk_id"], ["risks.id"], name=op.f("fk_risk_reviews_risk_id_risks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_reviews")),
    )
    with op.batch_alter_table("risk_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_risk_reviews_risk_id"), ["risk_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("risk_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_reviews_risk_id"))

    op.drop_table("risk_reviews")
    with op.batch_alter_table("risk_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_proposals_subcommittee_id"))

    op.drop_table("risk_proposals")
    with op.batch_alter_table("risks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risks_subcommittee_id"))
        batch_op.drop_index(batch_op.f("ix_risks_owner_id"))

    op.drop_table("risks")
