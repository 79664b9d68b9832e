"""meetings minutes and exports

Revision ID: 688845da2e36
Revises: f1388fa22792
Created: 2026-12-02 14:53:23.144218
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "688845da2e36"
down_revision: str | None = "f1388fa22792"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_calendar_feeds_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
    )
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_feeds_user_id"), ["user_id"], unique=False)

    op.create_table(
        "meetings",
        sa.Column("subcommittee_id", sa.Uuid(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("title_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("place_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("scheduled", "cancelled", name="meetingstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("convened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("agenda_revision", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_meetings_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["subcommittee_id"], ["subcommittees.id"], name=op.f("fk_meetings_subcommittee_id_subcommittees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index("ix_meetings_room_starts", ["subcommittee_id", "starts_at"], unique=False)

    op.create_table(
        "agenda_items",
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("presenter_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
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
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_agenda_items_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["origin_organization_id"],
            ["organizations.id"],
            name=op.f("fk_agenda_items_origin_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_items")),
    )
    with op.batch_alter_table("agenda_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agenda_items_meeting_id"), ["meeting_id"], unique=False)

    op.create_table(
        "agenda_revisions",
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("published_by_id", sa.Uuid(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_agenda_revisions_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"], ["users.id"], name=op.f("fk_agenda_revisions_published_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_revisions")),
        sa.UniqueConstraint("meeting_id", "number", name=op.f("uq_agenda_revisions_meeting_id")),
    )
    op.create_table(
        "attendances",
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "response",
            sa.Enum("attend", "decline", "proxy", name="attendanceresponse", native_enum=False, length=32),
            nullable=True,
        ),
        sa.Column("proxy_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("present", sa.Boolean(), nullable=True),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_attendances_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_attendances_recorded_by_id_users")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_attendances_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendances")),
        sa.UniqueConstraint("meeting_id", "user_id", name=op.f("uq_attendances_meeting_id")),
    )
    with op.batch_alter_table("attendances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attendances_user_id"), ["user_id"], unique=False)

    op.create_table(
        "exports",
        sa.Column("reader_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("meeting_id", sa.Uuid(), nullable=True),
        sa.Column("subject", sa.String(length=16), nullable=False),
        sa.Column("file_format", sa.String(length=8), nullable=False),
        sa.Column("minutes_revision", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("highest_level", sa.Integer(), nullable=False),
        sa.Column("caveat_codes_text", sa.String(length=400), nullable=False),
        sa.Column("release", sa.String(length=16), nullable=False),
        sa.Column("included_parts", sa.Integer(), nullable=False),
        sa.Column("withheld_parts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name=op.f("fk_exports_meeting_id_meetings")),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_exports_organization_id_organizations")
        ),
        sa.ForeignKeyConstraint(["reader_id"], ["users.id"], name=op.f("fk_exports_reader_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exports")),
    )
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exports_reader_id"), ["reader_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_exports_sha256"), ["sha256"], unique=False)

    op.create_table(
        "minutes",
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "circulated",
                "approved",
                "published",
                name="minutesstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_minutes_created_by_id_users")),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_minutes_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_minutes")),
        sa.UniqueConstraint("meeting_id", name=op.f("uq_minutes_meeting_id")),
    )
    op.create_table(
        "agenda_links",
        sa.Column("agenda_item_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=True),
        sa.Column("output_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agenda_item_id"],
            ["agenda_items.id"],
            name=op.f("fk_agenda_links_agenda_item_id_agenda_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_agenda_links_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["output_id"], ["thinktank_outputs.id"], name=op.f("fk_agenda_links_output_id_thinktank_outputs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_links")),
    )
    with op.batch_alter_table("agenda_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agenda_links_agenda_item_id"), ["agenda_item_id"], unique=False)

    op.create_table(
        "agenda_revision_entries",
        sa.Column("revision_id", sa.Uuid(), nullable=False),
        sa.Column("agenda_item_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("presenter_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
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
            ["agenda_item_id"],
            ["agenda_items.id"],
            name=op.f("fk_agenda_revision_entries_agenda_item_id_agenda_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["origin_organization_id"],
            ["organizations.id"],
            name=op.f("fk_agenda_revision_entries_origin_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["agenda_revisions.id"],
            name=op.f("fk_agenda_revision_entries_revision_id_agenda_revisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_revision_entries")),
    )
    with op.batch_alter_table("agenda_revision_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agenda_revision_entries_revision_id"), ["revision_id"], unique=False
        )

    op.create_table(
        "findings",
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("agenda_item_id", sa.Uuid(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("body_sealed", sa.LargeBinary(), nullable=False),
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
            ["agenda_item_id"], ["agenda_items.id"], name=op.f("fk_findings_agenda_item_id_agenda_items")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_findings_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_findings_meeting_id_meetings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["origin_organization_id"],
            ["organizations.id"],
            name=op.f("fk_findings_origin_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_findings_meeting_id"), ["meeting_id"], unique=False)

    op.create_table(
        "minutes_portions",
        sa.Column("minutes_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["minutes_id"],
            ["minutes.id"],
            name=op.f("fk_minutes_portions_minutes_id_minutes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_minutes_portions")),
    )
    with op.batch_alter_table("minutes_portions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_minutes_portions_minutes_id"), ["minutes_id"], unique=False)

    op.create_table(
        "minutes_revisions",
        sa.Column("minutes_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("circulated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by_id", sa.Uuid(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_hash", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["users.id"], name=op.f("fk_minutes_revisions_approved_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_minutes_revisions_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["minutes_id"],
            ["minutes.id"],
            name=op.f("fk_minutes_revisions_minutes_id_minutes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_minutes_revisions")),
        sa.UniqueConstraint("minutes_id", "number", name=op.f("uq_minutes_revisions_minutes_id")),
    )
    op.create_table(
        "action_items",
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("finding_id", sa.Uuid(), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("title_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("open", "in_progress", "done", name="actionstatus", native_enum=False, length=32),
            nullable=False,
        ),
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
            ["created_by_id"], ["users.id"], name=op.f("fk_action_items_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["finding_id"], ["findings.id"], name=op.f("fk_action_items_finding_id_findings")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_action_items_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["origin_organization_id"],
            ["organizations.id"],
            name=op.f("fk_action_items_origin_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_action_items_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_items")),
    )
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_items_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_items_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "minutes_portion_texts",
        sa.Column("portion_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("heading_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("body_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("written_by_id", sa.Uuid(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
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
            ["origin_organization_id"],
            ["organizations.id"],
            name=op.f("fk_minutes_portion_texts_origin_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["portion_id"],
            ["minutes_portions.id"],
            name=op.f("fk_minutes_portion_texts_portion_id_minutes_portions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["written_by_id"], ["users.id"], name=op.f("fk_minutes_portion_texts_written_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_minutes_portion_texts")),
        sa.UniqueConstraint("portion_id", "revision", name=op.f("uq_minutes_portion_texts_portion_id")),
    )
    op.create_table(
        "minutes_portion_comments",
        sa.Column("portion_text_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("body_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_minutes_portion_comments_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["portion_text_id"],
            ["minutes_portion_texts.id"],
            name=op.f("fk_minutes_portion_comments_portion_text_id_minutes_portion_texts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_minutes_portion_comments")),
    )
    with op.batch_alter_table("minutes_portion_comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_minutes_portion_comments_portion_text_id"), ["portion_text_id"], unique=False
        )

    with op.batch_alter_table("subcommittees", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quorum", sa.Integer(), nullable=True))

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("time_zone", sa.String(length=64), server_default="Asia/Tokyo", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("time_zone")

    with op.batch_alter_table("subcommittees", schema=None) as batch_op:
        batch_op.drop_column("quorum")

    with op.batch_alter_table("minutes_portion_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_minutes_portion_comments_portion_text_id"))

    op.drop_table("minutes_portion_comments")
    op.drop_table("minutes_portion_texts")
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_items_owner_id"))
        batch_op.drop_index(batch_op.f("ix_action_items_meeting_id"))

    op.drop_table("action_items")
    op.drop_table("minutes_revisions")
    with op.batch_alter_table("minutes_portions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_minutes_portions_minutes_id"))

    op.drop_table("minutes_portions")
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_findings_meeting_id"))

    op.drop_table("findings")
    with op.batch_alter_table("agenda_revision_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_revision_entries_revision_id"))

    op.drop_table("agenda_revision_entries")
    with op.batch_alter_table("agenda_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_links_agenda_item_id"))

    op.drop_table("agenda_links")
    op.drop_table("minutes")
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exports_sha256"))
        batch_op.drop_index(batch_op.f("ix_exports_reader_id"))

    op.drop_table("exports")
    with op.batch_alter_table("attendances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attendances_user_id"))

    op.drop_table("attendances")
    op.drop_table("agenda_revisions")
    with op.batch_alter_table("agenda_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_items_meeting_id"))

    op.drop_table("agenda_items")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index("ix_meetings_room_starts")

    op.drop_table("meetings")
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_feeds_user_id"))

    op.drop_table("calendar_feeds")
