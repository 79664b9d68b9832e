"""The blind index's one table: which item holds which token (never the token's text)."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base


class SearchToken(Base):
    """One token of one searchable item. The primary key leads with the token: a query reads only the
    postings of its own tokens, from the index alone.

    Nothing else is stored: the room, the level and the read decision come from the item itself (each kind
    joins its own table, see portal.search.kinds), so the table links no token to a room. No foreign keys:
    a token whose item is gone matches nothing, and a table this large is cheaper to fill without a check
    per row.
    """

    __tablename__ = "search_tokens"
    __table_args__ = (Index("ix_search_tokens_item", "item_kind", "item_id"),)

    #: HMAC-SHA256 of the token text under the scope's index key, truncated to 64 bits (signed).
    token: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    #: Which kind of item (document, comment, ...): a registered kind in portal.search.kinds.
    item_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    item_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
