"""seal sensitive fields

Creates the data-key table and replaces the plaintext columns that hold content or personal secrets
(document titles, bodies and classification reasons; TOTP secrets; suitability-evaluation references) with
sealed ones, encrypting the rows already there. The downgrade decrypts them back.

The key provider comes from the portal's configuration (the key file or PKCS#11 token), or from
``config.attributes["keyring"]`` when a caller (a test) passes one.

Revision ID: 3c1d2e4f5a6b
Revises: fa871d6a45a0
Created: 2026-11-26 21:15:00
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.orm import Session

revision: str = "3c1d2e4f5a6b"
down_revision: str | None = "fa871d6a45a0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, plaintext column, sealed column, object type, level column or None, room column or None)
FIELDS = [
    ("documents", "title", "title_sealed", "document", "level", "subcommittee_id"),
    ("documents", "body", "body_sealed", "document", "level", "subcommittee_id"),
    (
        "documents",
        "classification_reason",
        "classification_reason_sealed",
        "document",
        "level",
        "subcommittee_id",
    ),
    ("users", "totp_secret", "totp_secret_sealed", "user_secret", None, None),
    ("clearances", "evaluation_reference", "evaluation_reference_sealed", "user_secret", "level", None),
]
PLAINTEXT_TYPES = {"title": sa.String(300), "body": sa.Text(), "classification_reason": sa.Text(),
                   "totp_secret": sa.String(64), "evaluation_reference": sa.String(100)}  # fmt: skip
NOT_NULL = {"title", "body"}


def _keyring() -> Any:
    given = context.config.attributes.get("keyring")
    if given is not None:
        return given
    from portal.app import make_keyring
    from portal.config import load_settings

    return make_keyring(load_settings())


def _contexts(table: str, column: str, row: Any, object_type: str, level_column: str | None) -> Any:
    from portal.security.crypto import FieldContext

    level = int(getattr(row, level_column)) if level_column else 0
    owner = row.user_id if table == "clearances" else None
    return FieldContext(table, column, _uuid(row.id), level, object_type, _uuid(owner) if owner else None)


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _rows(bind: Any, table: str, columns: list[str]) -> list[Any]:
    return list(bind.execute(sa.text(f"SELECT {', '.join(columns)} FROM {table}")))  # noqa: S608


def upgrade() -> None:
    op.create_table(
        "data_keys",
        sa.Column("subcommittee_id", sa.Uuid(), nullable=True),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("kek_provider", sa.String(length=16), nullable=False),
        sa.Column("kek_version", sa.Integer(), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subcommittee_id"], ["subcommittees.id"], name=op.f("fk_data_keys_subcommittee_id_subcommittees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_keys")),
    )
    with op.batch_alter_table("data_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_keys_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_data_keys_subcommittee_id"), ["subcommittee_id"], unique=False)
    for table, _plain, sealed, *_rest in FIELDS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(sealed, sa.LargeBinary(), nullable=True))

    bind = op.get_bind()
    from portal.security.policy import maintenance_grant

    keyring = None
    with Session(bind=bind) as session:
        for table, plain, sealed, object_type, level_column, room_column in FIELDS:
            columns = ["id", plain] + [c for c in (level_column, room_column) if c]
            columns += ["user_id"] if table == "clearances" else []
            for row in _rows(bind, table, columns):
                value = getattr(row, plain)
                if value is None:
                    continue
                keyring = keyring or _keyring()
                field = _contexts(table, plain, row, object_type, level_column)
                grant = maintenance_grant(object_type, field.grant_object_id)
                room = _uuid(getattr(row, room_column)) if room_column else None
                blob = keyring.seal(session, grant, field, value, room, "fields" if room else "personal")
                session.flush()
                bind.execute(
                    sa.text(f"UPDATE {table} SET {sealed} = :blob WHERE id = :id").bindparams(  # noqa: S608
                        sa.bindparam("blob", type_=sa.LargeBinary()), sa.bindparam("id", type_=sa.Uuid())
                    ),
                    {"blob": blob, "id": _uuid(row.id)},
                )
        session.flush()
    for table, plain, sealed, *_rest in FIELDS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(plain)
            if plain in NOT_NULL:
                batch_op.alter_column(sealed, existing_type=sa.LargeBinary(), nullable=False)


def downgrade() -> None:
    for table, plain, _sealed, *_rest in FIELDS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(plain, PLAINTEXT_TYPES[plain], nullable=True))
    bind = op.get_bind()
    from portal.security.policy import maintenance_grant

    keyring = None
    with Session(bind=bind) as session:
        for table, plain, sealed, object_type, level_column, _room in FIELDS:
            columns = ["id", sealed] + ([level_column] if level_column else [])
            columns += ["user_id"] if table == "clearances" else []
            for row in _rows(bind, table, columns):
                blob = getattr(row, sealed)
                if blob is None:
                    continue
                keyring = keyring or _keyring()
                field = _contexts(table, plain, row, object_type, level_column)
                value = keyring.open(
                    session, maintenance_grant(object_type, field.grant_object_id), field, bytes(blob)
                )
                bind.execute(
                    sa.text(f"UPDATE {table} SET {plain} = :value WHERE id = :id").bindparams(  # noqa: S608
                        sa.bindparam("id", type_=sa.Uuid())
                    ),
                    {"value": value, "id": _uuid(row.id)},
                )
    for table, plain, sealed, *_rest in FIELDS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(sealed)
            if plain in NOT_NULL:
                batch_op.alter_column(plain, existing_type=PLAINTEXT_TYPES[plain], nullable=False)
    with op.batch_alter_table("data_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_keys_subcommittee_id"))
        batch_op.drop_index(batch_op.f("ix_data_keys_state"))
    op.drop_table("data_keys")
