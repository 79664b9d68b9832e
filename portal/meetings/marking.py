"""The marking a meeting's parts carry (agenda items, findings, action items, minutes portions).

A part is read under the same rules as a document (``policy.decide_read_part``): its room, its level, its
caveats, its named readers. Caveats and readers are kept on the row as sorted, space-separated codes and ids:
a part's few caveats are always read with the part and never searched for, so no link table is needed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.enums import Level, ReleaseMarking
from portal.models_util import LevelType, enum_column_type


def join_codes(values: Iterable[object]) -> str:
    """Store a set of codes or ids: sorted, space-separated, no duplicates."""
    return " ".join(sorted({str(value) for value in values}))


class PartMarking:
    """Level, caveats, named readers and release marking of one part."""

    if TYPE_CHECKING:  # every part has a UUID primary key (UUIDPrimaryKey)
        id: uuid.UUID

    level: Mapped[Level] = mapped_column(LevelType(), default=Level.RESTRICTED)
    release: Mapped[ReleaseMarking] = mapped_column(
        enum_column_type(ReleaseMarking, length=16), default=ReleaseMarking.GREEN
    )
    #: Caveat codes (GOV_ONLY, compartments), space-separated.
    caveat_codes_text: Mapped[str] = mapped_column(String(400), default="")
    #: Named readers (user ids), space-separated; empty means every member cleared for the level. A RED part
    #: is exported only by its named readers.
    reader_ids_text: Mapped[str] = mapped_column(Text, default="")
    #: For TLP:AMBER, the organisations (ids) besides the originator's whose readers may export the part.
    release_organization_ids_text: Mapped[str] = mapped_column(Text, default="")
    #: Why the part is classified (sealed like its text); required at CONFIDENTIAL and above.
    classification_reason_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: The originating organisation: TLP:AMBER+STRICT parts are exported only by its people.
    origin_organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))

    @property
    def caveat_codes(self) -> frozenset[str]:
        return frozenset(self.caveat_codes_text.split())

    @property
    def named_reader_ids(self) -> frozenset[uuid.UUID]:
        return frozenset(uuid.UUID(value) for value in self.reader_ids_text.split())

    @property
    def release_organization_ids(self) -> frozenset[uuid.UUID]:
        return frozenset(uuid.UUID(value) for value in self.release_organization_ids_text.split())
