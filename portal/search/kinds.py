"""What can be searched: a small registry of item kinds. No Flask.

A kind says, for its items: in which scopes (rooms, or the system scope) a subject may search them; how to
turn the items whose tokens matched into candidates the subject may read, in SQL, with the policy's own
filter (one SELECT of ``kind, item_id, sort_at``); how to open candidates with a per-object grant; and how
to list its items' texts for a rebuild (with maintenance grants). To add a kind (think-tank outputs, say),
subclass :class:`SearchKind`, index its items where its service seals their text
(:func:`portal.search.index.index_item`), and :func:`register` it.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import CTE, Select, and_, false, literal, select
from sqlalchemy.orm import Session

from portal.accounts.caveats import Caveat
from portal.documents.models import Document, DocumentCaveat, DocumentComment, DocumentReader
from portal.documents.service import SEARCH_KIND_COMMENT, SEARCH_KIND_DOCUMENT, open_text
from portal.enums import Level, ReleaseMarking
from portal.rooms.models import Subcommittee
from portal.security import crypto, policy
from portal.security.keyring import keyring_of
from portal.security.policy import Subject
from portal.thinktank.models import ThinkTankOutput
from portal.thinktank.service import SEARCH_KIND_OUTPUT, searchable_output_texts
from portal.thinktank.service import open_text as output_text

#: Rows read per batch when a scope is rebuilt.
REBUILD_BATCH = 500


@dataclass
class Hit:
    """An opened candidate: what the result shows, and the texts the query must occur in."""

    kind: str
    item_id: uuid.UUID
    sort_at: datetime
    title: str
    level: Level
    room: Subcommittee | None
    #: Where the result links to: an endpoint and its arguments (the view builds the URL), and an anchor.
    endpoint: str
    url_values: dict[str, Any]
    #: The matched texts (confirmation and snippet), in the order a snippet prefers them.
    texts: tuple[str, ...]
    #: The object whose read decision governs the item (for the audit trail).
    object_type: str
    object_id: uuid.UUID
    read_rule: str
    caveats: list[Caveat] = field(default_factory=list)
    release: ReleaseMarking | None = None
    anchor: str = ""


class SearchKind(ABC):
    #: Stored in ``search_tokens.item_kind`` (at most 16 characters).
    name: str

    @abstractmethod
    def scopes(self, subject: Subject) -> frozenset[uuid.UUID | None]:
        """The key scopes (rooms; None for the system) whose items this subject may find."""

    @abstractmethod
    def candidates(self, subject: Subject, matched: CTE) -> Select[Any, Any, Any]:
        """``kind, item_id, sort_at`` of the matched items (``matched.c.item_kind, matched.c.item_id``) that
        the policy's SQL filter lets this subject read."""

    @abstractmethod
    def open(self, session: Session, subject: Subject, item_ids: list[uuid.UUID]) -> dict[uuid.UUID, Hit]:
        """Open the candidates, each with the grant of its own per-object decision; any that is refused,
        destroyed or fails its integrity check is left out (never shown, never counted)."""

    @abstractmethod
    def scope_item_ids(self, scope_id: uuid.UUID | None) -> Select[uuid.UUID]:
        """The ids of this kind's items in a scope (to drop its tokens)."""

    @abstractmethod
    def texts_for_rebuild(
        self, session: Session, scope_id: uuid.UUID | None
    ) -> Iterator[tuple[uuid.UUID, list[str]]]:
        """Every item of the scope with its searchable texts, opened with maintenance grants."""


def _matched(matched: CTE, kind: str, item_id: Any) -> Any:
    return and_(matched.c.item_kind == kind, matched.c.item_id == item_id)


@dataclass(frozen=True, slots=True)
class ListedDocument:
    """A search candidate as the read decision sees it (:class:`policy.ReadableDocument`), from its row."""

    id: uuid.UUID
    subcommittee_id: uuid.UUID
    level: Level
    caveats: list[Caveat]
    named_reader_ids: frozenset[uuid.UUID]


class DocumentKind(SearchKind):
    """A document's current title and body."""

    name = SEARCH_KIND_DOCUMENT

    def scopes(self, subject: Subject) -> frozenset[uuid.UUID | None]:
        return frozenset(subject.room_ids) if subject.reads_content else frozenset()

    def candidates(self, subject: Subject, matched: CTE) -> Select[Any, Any, Any]:
        return (
            select(
                literal(self.name).label("item_kind"),
                Document.id.label("item_id"),
                Document.updated_at.label("sort_at"),
            )
            .join(matched, _matched(matched, self.name, Document.id))
            .where(policy.visible_documents(subject))
        )

    def open(self, session: Session, subject: Subject, item_ids: list[uuid.UUID]) -> dict[uuid.UUID, Hit]:
        # Candidates are many (up to the service's limit): read as rows (the columns the decision, the
        # opening and the result need), with their caveats and named readers in one query each, instead of
        # ORM documents. Each still gets its own read decision and grant before its title and body open.
        rows = session.execute(
            select(
                Document.id,
                Document.subcommittee_id,
                Document.level,
                Document.release,
                Document.updated_at,
                Document.title_sealed,
                Document.body_sealed,
            ).where(Document.id.in_(item_ids))
        ).all()
        caveats: dict[uuid.UUID, list[Caveat]] = defaultdict(list)
        for document_id, caveat in session.execute(
            select(DocumentCaveat.document_id, Caveat)
            .join(Caveat, Caveat.id == DocumentCaveat.caveat_id)
            .where(DocumentCaveat.document_id.in_(item_ids))
        ):
            caveats[document_id].append(caveat)
        readers: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
        for document_id, user_id in session.execute(
            select(DocumentReader.document_id, DocumentReader.user_id).where(
                DocumentReader.document_id.in_(item_ids)
            )
        ):
            readers[document_id].add(user_id)
        rooms = _rooms(session, {row.subcommittee_id for row in rows})
        keyring = keyring_of(session)
        hits = {}
        for row in rows:
            document = ListedDocument(
                row.id,
                row.subcommittee_id,
                Level(row.level),
                caveats.get(row.id, []),
                frozenset(readers.get(row.id, ())),
            )
            try:
                grant = policy.grant_for_listed(subject, document)
                context = Document.context_of
                title = keyring.open(session, grant, context(row.id, row.level, "title"), row.title_sealed)
                body = keyring.open(session, grant, context(row.id, row.level, "body"), row.body_sealed)
            except (policy.AccessDenied, crypto.CryptoError):  # refused, shredded (KeyDestroyed) or altered
                continue
            hits[row.id] = Hit(
                kind=self.name,
                item_id=row.id,
                sort_at=row.updated_at,
                title=title,
                level=document.level,
                room=rooms.get(row.subcommittee_id),
                endpoint="documents.show",
                url_values={"room_id": row.subcommittee_id, "document_id": row.id},
                texts=(body, title),
                object_type="document",
                object_id=row.id,
                read_rule="document.read",
                caveats=list(document.caveats),
                release=row.release,
            )
        return hits

    def scope_item_ids(self, scope_id: uuid.UUID | None) -> Select[uuid.UUID]:
        return select(Document.id).where(Document.subcommittee_id == scope_id)

    def texts_for_rebuild(
        self, session: Session, scope_id: uuid.UUID | None
    ) -> Iterator[tuple[uuid.UUID, list[str]]]:
        if scope_id is None:
            return
        for document in _batches(
            session, select(Document).where(Document.subcommittee_id == scope_id), Document
        ):
            text = open_text(
                session, policy.maintenance_grant("document", document.id), document, with_reason=False
            )
            if not text.destroyed:
                yield document.id, [text.title, text.body]


class CommentKind(SearchKind):
    """A comment's body, found under the read decision of its document."""

    name = SEARCH_KIND_COMMENT

    def scopes(self, subject: Subject) -> frozenset[uuid.UUID | None]:
        return frozenset(subject.room_ids) if subject.reads_content else frozenset()

    def candidates(self, subject: Subject, matched: CTE) -> Select[Any, Any, Any]:
        return (
            select(
                literal(self.name).label("item_kind"),
                DocumentComment.id.label("item_id"),
                DocumentComment.created_at.label("sort_at"),
            )
            .join(matched, _matched(matched, self.name, DocumentComment.id))
            .join(Document, Document.id == DocumentComment.document_id)
            .where(policy.visible_documents(subject))
        )

    def open(self, session: Session, subject: Subject, item_ids: list[uuid.UUID]) -> dict[uuid.UUID, Hit]:
        rows = session.execute(
            select(DocumentComment, Document)
            .join(Document, Document.id == DocumentComment.document_id)
            .where(DocumentComment.id.in_(item_ids))
        ).all()
        rooms = _rooms(session, {document.subcommittee_id for _comment, document in rows})
        keyring = keyring_of(session)
        hits = {}
        for comment, document in rows:
            try:
                grant = policy.grant_for_listed(subject, document)
                title = open_text(session, grant, document, with_body=False)
                body = keyring.open(session, grant, comment.field_context(), comment.body_sealed)
            except (policy.AccessDenied, crypto.CryptoError):
                continue
            if title.destroyed:
                continue
            hits[comment.id] = Hit(
                kind=self.name,
                item_id=comment.id,
                sort_at=comment.created_at,
                title=title.title,
                level=document.level,
                room=rooms.get(document.subcommittee_id),
                endpoint="documents.show",
                url_values={"room_id": document.subcommittee_id, "document_id": document.id},
                texts=(body,),
                object_type="document",
                object_id=document.id,
                read_rule="document.read",
                caveats=document.caveats,
                release=document.release,
                anchor="comments",
            )
        return hits

    def scope_item_ids(self, scope_id: uuid.UUID | None) -> Select[uuid.UUID]:
        return (
            select(DocumentComment.id)
            .join(Document, Document.id == DocumentComment.document_id)
            .where(Document.subcommittee_id == scope_id)
        )

    def texts_for_rebuild(
        self, session: Session, scope_id: uuid.UUID | None
    ) -> Iterator[tuple[uuid.UUID, list[str]]]:
        if scope_id is None:
            return
        keyring = keyring_of(session)
        query = (
            select(DocumentComment)
            .join(Document, Document.id == DocumentComment.document_id)
            .where(Document.subcommittee_id == scope_id)
        )
        for comment in _batches(session, query, DocumentComment):
            grant = policy.maintenance_grant("document", comment.document_id)
            try:
                body = keyring.open(session, grant, comment.field_context(), comment.body_sealed)
            except crypto.KeyDestroyed:
                continue
            yield comment.id, [body]


def _rooms(session: Session, room_ids: set[uuid.UUID]) -> dict[uuid.UUID, Subcommittee]:
    if not room_ids:
        return {}
    return {
        room.id: room for room in session.scalars(select(Subcommittee).where(Subcommittee.id.in_(room_ids)))
    }


def _batches(session: Session, query: Select[Any], model: Any) -> Iterator[Any]:
    """Rows of a query in id order, a batch at a time (a room may hold many thousands)."""
    last: uuid.UUID | None = None
    while True:
        page = query.order_by(model.id).limit(REBUILD_BATCH)
        if last is not None:
            page = page.where(model.id > last)
        rows = list(session.scalars(page))
        if not rows:
            return
        yield from rows
        last = rows[-1].id


class OutputKind(SearchKind):
    """A think-tank output's title, summary and provenance. Outputs belong to no room: they are indexed in
    the system scope and found under their own read decision (attached rooms, clearance, caveats)."""

    name = SEARCH_KIND_OUTPUT

    def scopes(self, subject: Subject) -> frozenset[uuid.UUID | None]:
        return frozenset({None}) if subject.reads_content else frozenset()

    def candidates(self, subject: Subject, matched: CTE) -> Select[Any, Any, Any]:
        return (
            select(
                literal(self.name).label("item_kind"),
                ThinkTankOutput.id.label("item_id"),
                ThinkTankOutput.published_at.label("sort_at"),
            )
            .join(matched, _matched(matched, self.name, ThinkTankOutput.id))
            .where(policy.visible_outputs(subject))
        )

    def open(self, session: Session, subject: Subject, item_ids: list[uuid.UUID]) -> dict[uuid.UUID, Hit]:
        outputs = session.scalars(select(ThinkTankOutput).where(ThinkTankOutput.id.in_(item_ids))).all()
        hits = {}
        for output in outputs:
            try:
                grant = policy.grant_for_listed_output(subject, output)
                text = output_text(session, grant, output)
            except (policy.AccessDenied, crypto.CryptoError):
                continue
            if text.destroyed:
                continue
            hits[output.id] = Hit(
                kind=self.name,
                item_id=output.id,
                sort_at=output.published_at,
                title=text.title,
                level=output.level,
                room=None,
                endpoint="thinktank.show",
                url_values={"output_id": output.id},
                texts=searchable_output_texts(text),
                object_type="output",
                object_id=output.id,
                read_rule="output.read",
                caveats=output.caveats,
                release=output.release,
            )
        return hits

    def scope_item_ids(self, scope_id: uuid.UUID | None) -> Select[uuid.UUID]:
        query = select(ThinkTankOutput.id)
        return query if scope_id is None else query.where(false())

    def texts_for_rebuild(
        self, session: Session, scope_id: uuid.UUID | None
    ) -> Iterator[tuple[uuid.UUID, list[str]]]:
        if scope_id is not None:
            return
        for output in _batches(session, select(ThinkTankOutput), ThinkTankOutput):
            text = output_text(session, policy.maintenance_grant("output", output.id), output)
            if not text.destroyed:
                yield output.id, list(searchable_output_texts(text))


KINDS: dict[str, SearchKind] = {}


def register(kind: SearchKind) -> SearchKind:
    if len(kind.name) > 16:
        raise ValueError(f"kind name {kind.name!r} is longer than search_tokens.item_kind")
    KINDS[kind.name] = kind
    return kind


DOCUMENTS = register(DocumentKind())
COMMENTS = register(CommentKind())
OUTPUTS = register(OutputKind())
