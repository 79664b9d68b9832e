"""Think-tank outputs and the subcommittees they are attached to.

An output belongs to its publishing organisation, not to a room: it is sealed with the system's ``fields``
key and reaches a room's members only through a confirmed attachment (see ``policy.decide_read_output``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.caveats import Caveat
from portal.db import Base, UUIDPrimaryKey, utcnow
from portal.documents.models import Classified
from portal.models_util import enum_column_type
from portal.security.crypto import FieldContext


class OutputKind(StrEnum):
    SUPPLY_CHAIN = "supply_chain"
    RISK_ASSESSMENT = "risk_assessment"
    SCENARIO = "scenario"
    POLICY_BRIEF = "policy_brief"


#: Sealed text fields of an output, by column stem (``<stem>_sealed``).
SEALED_FIELDS = ("title", "summary", "authors", "method", "data_sources", "data_csv")


class ThinkTankOutput(UUIDPrimaryKey, Classified, Base):
    __tablename__ = "thinktank_outputs"

    kind: Mapped[OutputKind] = mapped_column(enum_column_type(OutputKind))
    #: The publishing organisation: its analysts read the output wherever (or whether) it is attached.
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    published_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The date the analysis speaks for (provenance), not when it was uploaded.
    as_of: Mapped[date] = mapped_column(Date)
    #: The analysts' own version label, e.g. "1.0" or "2025-Q3 rev.2" (provenance; not sealed).
    version_label: Mapped[str] = mapped_column(String(40))
    #: Sealed with the system ``fields`` key, bound to this row, column and level.
    title_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    #: Markdown, rendered only through portal.security.sanitize.
    summary_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    authors_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    method_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    data_sources_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    #: The CSV as the analyst gave it (dependencies for a supply-chain analysis, the risk register for a
    #: risk assessment), sealed; parsed again on every read, so the charts never exist in the clear at rest.
    data_csv_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)

    caveat_links: Mapped[list[OutputCaveat]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", back_populates="output"
    )
    attachments: Mapped[list[OutputAttachment]] = relationship(
        cascade="all, delete-orphan",
        lazy="selectin",
        back_populates="output",
        order_by="OutputAttachment.proposed_at",
    )

    def field_context(self, column: str) -> FieldContext:
        return FieldContext("thinktank_outputs", column, self.id, int(self.level), "output")

    @property
    def caveats(self) -> list[Caveat]:
        return [link.caveat for link in self.caveat_links]

    @property
    def caveat_codes(self) -> frozenset[str]:
        return frozenset(link.caveat.code for link in self.caveat_links)

    @property
    def current_attachments(self) -> list[OutputAttachment]:
        return [a for a in self.attachments if a.detached_at is None]

    @property
    def attached_room_ids(self) -> frozenset[uuid.UUID]:
        """Rooms whose members read the output (confirmed attachments)."""
        return frozenset(a.subcommittee_id for a in self.current_attachments if a.is_confirmed)

    @property
    def proposed_room_ids(self) -> frozenset[uuid.UUID]:
        """Rooms the output was offered to, awaiting the secretariat's or the chair's confirmation."""
        return frozenset(a.subcommittee_id for a in self.current_attachments if not a.is_confirmed)


class OutputCaveat(Base):
    __tablename__ = "thinktank_output_caveats"

    output_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("thinktank_outputs.id", ondelete="CASCADE"), primary_key=True
    )
    caveat_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("caveats.id"), primary_key=True)

    output: Mapped[ThinkTankOutput] = relationship(back_populates="caveat_links")
    caveat: Mapped[Caveat] = relationship(lazy="joined")


class OutputAttachment(UUIDPrimaryKey, Base):
    """An output offered to, then attached to, a subcommittee. Detaching sets ``detached_at``; the row and
    the output stay (the history of where an output was shown is kept)."""

    __tablename__ = "thinktank_output_attachments"

    output_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("thinktank_outputs.id", ondelete="CASCADE"), index=True
    )
    subcommittee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subcommittees.id"), index=True)
    #: Who offered the output to the room (the publishing analyst, or the steward who attached it directly).
    proposed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set when the secretariat or the room's chair confirms: only then do the room's members read it.
    attached_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    attached_at: Mapped[datetime | None]
    detached_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    detached_at: Mapped[datetime | None]

    output: Mapped[ThinkTankOutput] = relationship(back_populates="attachments")

    @property
    def is_confirmed(self) -> bool:
        return self.attached_at is not None
