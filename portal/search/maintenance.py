"""Index maintenance from the operator's command line: rebuild a scope, rotate its index key, drop it.

Rebuilding opens every item of the scope with maintenance grants and stores only tokens; nothing opened is
shown, logged or kept. The index holds nothing that the sealed data does not, so it can always be rebuilt.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.search import index
from portal.search.kinds import KINDS
from portal.security import audit
from portal.security.key_models import DataKeyRecord
from portal.security.keyring import Keyring


@dataclass(frozen=True)
class Rebuilt:
    items: int
    tokens: int


def _audit(
    session: Session,
    action: str,
    scope_id: uuid.UUID | None,
    object_type: str = "search_index",
    **detail: object,
) -> None:
    audit.record(
        session,
        audit.AuditEvent(
            actor=audit.Actor.system(),
            action=action,
            allowed=True,
            rule=action,
            reason="OK",
            object_type=object_type,
            object_id=str(scope_id or "system"),
            detail=dict(detail),
        ),
    )


def drop_scope(session: Session, scope_id: uuid.UUID | None) -> int:
    """Delete every token of the scope's items (all kinds). Returns the rows deleted."""
    return sum(
        index.unindex_items(session, kind.name, kind.scope_item_ids(scope_id)) for kind in KINDS.values()
    )


def rebuild_scope(session: Session, scope_id: uuid.UUID | None) -> Rebuilt:
    """Replace the scope's tokens with tokens of its items' current text, under its active index key.

    A shredded room's items no longer open: its tokens are dropped and none are made (nor a key).
    """
    drop_scope(session, scope_id)
    items = tokens = 0
    key = None
    for kind in KINDS.values():
        for item_id, texts in kind.texts_for_rebuild(session, scope_id):
            key = key or index.index_key(session, scope_id)
            values = key.tokens(texts)
            tokens += index._insert(session, kind.name, item_id, values)
            items += 1
    _audit(session, "search.reindex", scope_id, items=items)
    return Rebuilt(items, tokens)


def scopes(session: Session) -> list[uuid.UUID | None]:
    """Every scope that may hold searchable items: each room, and the system scope."""
    from portal.rooms.models import Subcommittee

    rooms: list[uuid.UUID | None] = list(
        session.scalars(select(Subcommittee.id).order_by(Subcommittee.name_ja))
    )
    return [*rooms, None]


def rotate_index_key(session: Session, keyring: Keyring, scope_id: uuid.UUID | None) -> bool:
    """A new index key for the scope, its index rebuilt under it, the old key destroyed; one transaction.

    Tokens are derived data: unlike sealed fields, nothing needs the old key once the index is rebuilt.
    Returns False when the scope has no index key (nothing was ever indexed there).
    """
    scope = (
        DataKeyRecord.subcommittee_id.is_(None)
        if scope_id is None
        else DataKeyRecord.subcommittee_id == scope_id
    )
    live = list(
        session.scalars(
            select(DataKeyRecord).where(
                scope, DataKeyRecord.purpose == index.PURPOSE, DataKeyRecord.state != "destroyed"
            )
        )
    )
    if not live:
        return False
    record = keyring.create_key(session, scope_id, index.PURPOSE)
    _audit(session, "keys.rotate_dek", scope_id, "keys", purpose=index.PURPOSE, version=record.version)
    rebuild_scope(session, scope_id)
    for old in live:
        keyring.destroy(session, old)
    _audit(session, "keys.rotate_dek_done", scope_id, "keys", purpose=index.PURPOSE, destroyed=len(live))
    return True
