"""Writing the blind index, and the index keys of each scope. No Flask.

Services call :func:`index_item` whenever an item's searchable text is sealed (created, edited, restored),
with the texts they just sealed; nothing else ever sees plaintext here, and only tokens are stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import Select, and_, delete, insert, or_, select
from sqlalchemy.orm import Session

from portal.search.models import SearchToken
from portal.security.blind_index import IndexKey, derive_index_key
from portal.security.key_models import DataKeyRecord
from portal.security.keyring import keyring_of

PURPOSE = "index"
#: Rows per INSERT when many items are indexed at once.
INSERT_BATCH = 5000


def index_key(session: Session, scope_id: uuid.UUID | None) -> IndexKey:
    """The scope's index key for writing: made (its data key created) on first use."""
    data_key = keyring_of(session).active_key(session, scope_id, PURPOSE)
    return derive_index_key(data_key.material, scope_id)


def query_keys(session: Session, scope_ids: Iterable[uuid.UUID | None]) -> list[IndexKey]:
    """The index keys of these scopes for searching, in one query. A scope with no index key yet has no
    tokens to find, so none is created here (a search never writes a key)."""
    scopes = set(scope_ids)
    rooms = [scope for scope in scopes if scope is not None]
    conditions = [DataKeyRecord.subcommittee_id.in_(rooms)] if rooms else []
    if None in scopes:
        conditions.append(DataKeyRecord.subcommittee_id.is_(None))
    if not conditions:
        return []
    records = session.scalars(
        select(DataKeyRecord).where(
            or_(*conditions), DataKeyRecord.purpose == PURPOSE, DataKeyRecord.state == "active"
        )
    ).all()
    keyring = keyring_of(session)
    return [
        derive_index_key(keyring.key(session, record.id).material, record.subcommittee_id)
        for record in records
    ]


def _insert(session: Session, kind: str, item_id: uuid.UUID, tokens: Iterable[int]) -> int:
    rows = [{"token": token, "item_kind": kind, "item_id": item_id} for token in tokens]
    for start in range(0, len(rows), INSERT_BATCH):
        session.execute(insert(SearchToken), rows[start : start + INSERT_BATCH])
    return len(rows)


def index_item(
    session: Session,
    scope_id: uuid.UUID | None,
    kind: str,
    item_id: uuid.UUID,
    texts: Sequence[str],
    *,
    replace: bool = True,
) -> int:
    """Replace the item's tokens with those of ``texts`` (under the scope's index key). Returns how many."""
    if replace:
        unindex_item(session, kind, item_id)
    return _insert(session, kind, item_id, index_key(session, scope_id).tokens(texts))


def unindex_item(session: Session, kind: str, item_id: uuid.UUID) -> None:
    session.execute(delete(SearchToken).where(SearchToken.item_kind == kind, SearchToken.item_id == item_id))


def unindex_items(session: Session, kind: str, item_ids: Select[uuid.UUID]) -> int:
    """Remove the tokens of every item of ``kind`` that the select names (e.g. all of a room's)."""
    result = session.execute(
        delete(SearchToken)
        .where(and_(SearchToken.item_kind == kind, SearchToken.item_id.in_(item_ids)))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
