"""Every way a document is listed, read or created, and who may do it.

Titles, bodies and classification reasons are sealed with the room's ``fields`` key; they open only with
the grant the policy gave for that very document.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, defer

from portal.accounts.caveats import Caveat
from portal.db import utcnow
from portal.documents.models import Document, DocumentCaveat, DocumentComment, DocumentReader, DocumentVersion
from portal.enums import Level, ReleaseMarking
from portal.rooms import service as rooms
from portal.rooms.models import Subcommittee
from portal.search import index as search_index
from portal.security import policy
from portal.security.crypto import IntegrityError, KeyDestroyed
from portal.security.keyring import keyring_of
from portal.security.policy import Grant, Marking, Subject

#: The blind index's kinds for a document's current text and for a comment (portal.search.kinds).
SEARCH_KIND_DOCUMENT = "document"
SEARCH_KIND_COMMENT = "comment"


def index_text(session: Session, document: Document, *, title: str, body: str, new: bool = False) -> None:
    """Replace the document's search tokens with those of its current title and body."""
    search_index.index_item(
        session, document.subcommittee_id, SEARCH_KIND_DOCUMENT, document.id, [title, body], replace=not new
    )


@dataclass(frozen=True)
class DocumentText:
    """A document's opened fields, for one request only (never cached)."""

    document: Document
    title: str
    body: str
    reason: str | None
    #: The room's keys were destroyed (crypto-shredding): the text is gone for good.
    destroyed: bool = False
    #: The stored value failed its integrity check (audited by the keyring); nothing is shown.
    integrity_failed: bool = False


def open_text(
    session: Session, grant: Grant, document: Document, with_body: bool = True, with_reason: bool = True
) -> DocumentText:
    keyring = keyring_of(session)
    try:
        title = keyring.open(session, grant, document.field_context("title"), document.title_sealed)
        body = (
            keyring.open(session, grant, document.field_context("body"), document.body_sealed)
            if with_body
            else ""
        )
        reason = None
        if with_body and with_reason and document.classification_reason_sealed is not None:
            reason = keyring.open(
                session,
                grant,
                document.field_context("classification_reason"),
                document.classification_reason_sealed,
            )
    except KeyDestroyed:
        return DocumentText(document, "", "", None, destroyed=True)
    return DocumentText(document, title, body, reason)


def seal_text(
    session: Session, grant: Grant, document: Document, *, title: str, body: str, reason: str | None
) -> None:
    keyring = keyring_of(session)
    room_id = document.subcommittee_id
    document.title_sealed = keyring.seal(session, grant, document.field_context("title"), title, room_id)
    document.body_sealed = keyring.seal(session, grant, document.field_context("body"), body, room_id)
    document.classification_reason_sealed = (
        keyring.seal(session, grant, document.field_context("classification_reason"), reason, room_id)
        if reason
        else None
    )


#: Documents on one page of a room's list.
DOCUMENTS_PER_PAGE = 50
#: The count behind "1–50 of N" reads at most this many visible documents past the page's start; beyond,
#: the page says "more than N". A room's page then costs the same with 500 documents or 50,000.
COUNT_AHEAD = 1000


@dataclass(frozen=True)
class DocumentPage:
    """One page of a room's documents, and how many the subject may read in the whole room."""

    items: list[DocumentText]
    page: int
    per_page: int
    #: Every document of the room this subject may read (hidden ones are never counted); with ``capped``, a
    #: lower bound: the count stopped ``COUNT_AHEAD`` documents past the page's start.
    total: int
    capped: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        """The position of the first item shown (1-based), 0 when nothing is shown."""
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def list_documents(
    session: Session, subject: Subject, room: Subcommittee, page: int = 1, per_page: int = DOCUMENTS_PER_PAGE
) -> DocumentPage:
    """One page of the room's documents this subject may read, newest change first.

    Filtered, counted and paged in SQL by the policy's filter, so nothing hidden is counted or shifts a
    page. A page past the end shows the last page; a page below 1 shows the first.
    """
    per_page = max(1, per_page)
    visible = and_(Document.subcommittee_id == room.id, policy.visible_documents(subject))
    limit = (max(1, page) - 1) * per_page + max(COUNT_AHEAD, per_page)
    counted = int(
        session.scalar(
            select(func.count()).select_from(select(Document.id).where(visible).limit(limit + 1).subquery())
        )
        or 0
    )
    capped = counted > limit
    total = min(counted, limit)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    documents = session.scalars(
        select(Document)
        # The list shows titles only: the bodies (most of a row's bytes) stay in the database.
        .options(defer(Document.body_sealed), defer(Document.classification_reason_sealed))
        .where(visible)
        # Stable: two documents changed at the same moment keep their order from page to page.
        .order_by(Document.updated_at.desc(), Document.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    listed = []
    for document in documents:
        try:
            listed.append(
                open_text(session, policy.grant_for_listed(subject, document), document, with_body=False)
            )
        except IntegrityError:
            # One altered row must not take the whole room page down; it is listed as failed (and audited).
            listed.append(DocumentText(document, "", "", None, integrity_failed=True))
    return DocumentPage(listed, page, per_page, total, capped)


@dataclass(frozen=True)
class OpenedDocument:
    document: Document
    grant: Grant
    text: DocumentText


def require_on_document(
    session: Session,
    subject: Subject,
    document_id: uuid.UUID,
    decide: Callable[[Subject, Document], policy.Decision],
) -> tuple[Document, Grant]:
    """Load a document and enforce one decision on it. A document the subject may not even read answers
    as if it did not exist (404); one they read but may not change this way answers 403."""
    document = session.get(Document, document_id)
    if document is None:
        raise policy.AccessDenied(policy.deny("document.read", "NOT_FOUND"), conceal=True)
    decision = decide(subject, document)
    readable = decision.allowed or policy.decide_read_document(subject, document).allowed
    grant = policy.require(
        session, subject, decision, object_type="document", object_id=document.id, level=document.level,
        conceal=not readable,
    )  # fmt: skip
    return document, grant


def open_document(session: Session, subject: Subject, document_id: uuid.UUID) -> OpenedDocument:
    """Read one document. Any denial answers as if it did not exist, and is audited."""
    document, grant = require_on_document(session, subject, document_id, policy.decide_read_document)
    return OpenedDocument(document, grant, open_text(session, grant, document))


@dataclass(frozen=True)
class NewDocument:
    title: str
    body: str
    level: Level
    release: ReleaseMarking
    caveat_codes: frozenset[str]
    reader_ids: frozenset[uuid.UUID]
    reason: str | None
    review_on: date | None


def create_document(session: Session, subject: Subject, room: Subcommittee, new: NewDocument) -> Document:
    room_decision = policy.decide_create_document(subject, room)
    policy.require(
        session,
        subject,
        room_decision,
        object_type="room",
        object_id=room.id,
        conceal=room.id not in subject.room_ids,
    )
    member_ids = {m.user_id for m in rooms.current_members(session, room.id, utcnow())}
    reader_ids = (
        new.reader_ids | {subject.user_id} if new.reader_ids or new.level == Level.CESI else frozenset()
    )
    marking = Marking(new.level, new.caveat_codes, frozenset(reader_ids), new.reason)
    document_id = uuid.uuid4()
    classify = policy.decide_classify(subject, room, marking, member_ids)
    # Audited against the room (a refused document never exists); the sealing grant is for the new document.
    policy.require(
        session,
        subject,
        classify,
        object_type="room",
        object_id=room.id,
        level=new.level,
        detail={"caveats": sorted(new.caveat_codes), "readers": len(reader_ids)},
    )
    grant = policy.grant_from(classify, subject, "document", document_id)
    caveats = session.scalars(select(Caveat).where(Caveat.code.in_(new.caveat_codes))).all()
    document = Document(
        id=document_id,
        subcommittee_id=room.id,
        level=new.level,
        release=new.release,
        classified_by_id=subject.user_id,
        review_on=new.review_on,
        created_by_id=subject.user_id,
    )
    seal_text(
        session,
        grant,
        document,
        title=new.title.strip(),
        body=new.body,
        reason=(new.reason or "").strip() or None,
    )
    document.caveat_links = [DocumentCaveat(caveat_id=caveat.id) for caveat in caveats]
    document.reader_links = [
        DocumentReader(user_id=user_id, added_by_id=subject.user_id) for user_id in reader_ids
    ]
    session.add(document)
    session.flush()
    record_version(
        session, grant, document, title=new.title.strip(), body=new.body, summary=None, author=subject.user_id
    )
    index_text(session, document, title=new.title.strip(), body=new.body, new=True)
    policy.record_change(
        session,
        subject,
        "document.create",
        object_type="document",
        object_id=document.id,
        level=document.level,
        detail={
            "room": str(room.id),
            "caveats": sorted(new.caveat_codes),
            "readers": sorted(str(r) for r in reader_ids),
            "release": new.release.value,
        },
    )
    return document


def selectable_caveats(session: Session, subject: Subject) -> list[Caveat]:
    """The caveats this subject may apply: compartments they hold, and 政府限り for government people."""
    caveats = session.scalars(select(Caveat).order_by(Caveat.code)).all()
    return [
        caveat
        for caveat in caveats
        if caveat.code in subject.compartments or (caveat.code == "GOV_ONLY" and subject.is_government)
    ]


# --- versions ---------------------------------------------------------------------------------------


class EditConflict(Exception):
    """The edit started from a version that is no longer the current one."""

    def __init__(self, current: DocumentText, current_version: int) -> None:
        super().__init__("stale edit")
        self.current = current
        self.current_version = current_version


@dataclass(frozen=True)
class VersionText:
    version: DocumentVersion
    title: str
    body: str
    summary: str | None


def record_version(
    session: Session,
    grant: Grant,
    document: Document,
    *,
    title: str,
    body: str,
    summary: str | None,
    author: uuid.UUID,
) -> DocumentVersion:
    keyring = keyring_of(session)
    version = DocumentVersion(
        id=uuid.uuid4(),
        document_id=document.id,
        number=document.version,
        level=document.level,
        created_by_id=author,
    )
    room = document.subcommittee_id
    version.title_sealed = keyring.seal(session, grant, version.field_context("title"), title, room)
    version.body_sealed = keyring.seal(session, grant, version.field_context("body"), body, room)
    version.summary_sealed = (
        keyring.seal(session, grant, version.field_context("summary"), summary, room) if summary else None
    )
    session.add(version)
    session.flush()
    return version


def edit_document(
    session: Session,
    subject: Subject,
    document_id: uuid.UUID,
    *,
    base_version: int,
    title: str,
    body: str,
    summary: str | None,
) -> Document:
    """Save a new version. An edit based on a stale version is refused (:class:`EditConflict`)."""
    document, grant = require_on_document(session, subject, document_id, policy.decide_edit_document)
    if base_version != document.version:
        raise EditConflict(open_text(session, grant, document), document.version)
    reason = open_text(session, grant, document).reason
    document.version += 1
    document.updated_at = utcnow()
    seal_text(session, grant, document, title=title.strip(), body=body, reason=reason)
    record_version(
        session, grant, document, title=title.strip(), body=body, summary=summary, author=subject.user_id
    )
    index_text(session, document, title=title.strip(), body=body)
    policy.record_change(
        session,
        subject,
        "document.edit",
        object_type="document",
        object_id=document.id,
        level=document.level,
        detail={"version": document.version},
    )
    return document


def versions(session: Session, grant: Grant, document: Document) -> list[VersionText]:
    keyring = keyring_of(session)
    found = session.scalars(
        select(DocumentVersion)
        .where(DocumentVersion.document_id == document.id)
        .order_by(DocumentVersion.number.desc())
    )
    texts = []
    for version in found:
        summary = None
        if version.summary_sealed is not None:
            summary = keyring.open(session, grant, version.field_context("summary"), version.summary_sealed)
        texts.append(
            VersionText(
                version,
                keyring.open(session, grant, version.field_context("title"), version.title_sealed),
                keyring.open(session, grant, version.field_context("body"), version.body_sealed),
                summary,
            )
        )
    return texts


def restore_version(session: Session, subject: Subject, document_id: uuid.UUID, number: int) -> Document:
    """Make an old version's text the current one, as a new version (nothing is overwritten)."""
    document, grant = require_on_document(session, subject, document_id, policy.decide_edit_document)
    old = next((v for v in versions(session, grant, document) if v.version.number == number), None)
    if old is None:
        raise policy.AccessDenied(policy.deny("document.edit", "NOT_FOUND"), conceal=True)
    return edit_document(
        session, subject, document_id, base_version=document.version, title=old.title, body=old.body,
        summary=f"restore v{number}",
    )  # fmt: skip


@dataclass(frozen=True)
class DiffRow:
    #: equal, changed, added, removed
    kind: str
    left: str
    right: str


def side_by_side(left: str, right: str) -> list[DiffRow]:
    """A line-by-line comparison for a readable two-column diff (the template escapes every cell)."""
    import difflib

    old, new = left.splitlines(), right.splitlines()
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            rows += [DiffRow("equal", line, line) for line in old[i1:i2]]
            continue
        left_lines, right_lines = old[i1:i2], new[j1:j2]
        for index in range(max(len(left_lines), len(right_lines))):
            a = left_lines[index] if index < len(left_lines) else ""
            b = right_lines[index] if index < len(right_lines) else ""
            kind = (
                "changed"
                if index < len(left_lines) and index < len(right_lines)
                else ("removed" if b == "" and a else "added")
            )
            rows.append(DiffRow(kind, a, b))
    return rows


# --- comments ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommentText:
    comment: DocumentComment
    author_name: str
    body: str


def add_comment(session: Session, subject: Subject, document_id: uuid.UUID, body: str) -> DocumentComment:
    document, grant = require_on_document(session, subject, document_id, policy.decide_comment)
    comment = DocumentComment(
        id=uuid.uuid4(), document_id=document.id, author_id=subject.user_id, level=document.level
    )
    comment.body_sealed = keyring_of(session).seal(
        session, grant, comment.field_context(), body.strip(), document.subcommittee_id
    )
    session.add(comment)
    session.flush()
    search_index.index_item(
        session, document.subcommittee_id, SEARCH_KIND_COMMENT, comment.id, [body.strip()], replace=False
    )
    policy.record_change(
        session,
        subject,
        "document.comment",
        object_type="document",
        object_id=document.id,
        level=document.level,
        detail={"comment": str(comment.id)},
    )
    return comment


def comments(session: Session, grant: Grant, document: Document) -> list[CommentText]:
    from portal.accounts.models import User

    keyring = keyring_of(session)
    rows = session.execute(
        select(DocumentComment, User.display_name)
        .join(User, User.id == DocumentComment.author_id)
        .where(DocumentComment.document_id == document.id)
        .order_by(DocumentComment.created_at)
    ).all()
    return [
        CommentText(comment, name, keyring.open(session, grant, comment.field_context(), comment.body_sealed))
        for comment, name in rows
    ]
