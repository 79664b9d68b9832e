"""Changing a document's level: reclassification up or down, and declassification to PUBLIC.

The level is part of every sealed value's associated data, so a change of level re-seals everything the
document holds — its current text and reason, every version, every comment and every attachment — under
the new level, in the same transaction as the change itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.documents import attachments
from portal.documents.models import Document, DocumentComment, DocumentReclassification, DocumentVersion
from portal.documents.service import open_text, require_on_document, seal_text
from portal.enums import Level
from portal.rooms import service as rooms
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.keyring import keyring_of
from portal.security.policy import Grant, Marking, Subject


@dataclass(frozen=True)
class ReclassificationText:
    change: DocumentReclassification
    reason: str


def _reseal_history(session: Session, grant: Grant, document: Document) -> None:
    """Versions and comments are sealed under the document's level; move each to the new one. (A
    reclassification's own reason stays sealed under the level it set, which its row records.)"""
    keyring = keyring_of(session)
    room = document.subcommittee_id
    new_level = int(document.level)
    for version in session.scalars(
        select(DocumentVersion).where(DocumentVersion.document_id == document.id)
    ).all():
        old_level = int(version.level)
        for column in ("title", "body", "summary"):
            sealed = getattr(version, f"{column}_sealed")
            if sealed is None:
                continue
            value = keyring.open(session, grant, version.field_context(column).at_level(old_level), sealed)
            new_context = version.field_context(column).at_level(new_level)
            setattr(version, f"{column}_sealed", keyring.seal(session, grant, new_context, value, room))
        version.level = document.level
    for comment in session.scalars(
        select(DocumentComment).where(DocumentComment.document_id == document.id)
    ).all():
        value = keyring.open(session, grant, comment.field_context(), comment.body_sealed)
        comment.level = document.level
        comment.body_sealed = keyring.seal(session, grant, comment.field_context(), value, room)


def _apply(
    session: Session,
    subject: Subject,
    document: Document,
    grant: Grant,
    *,
    new_level: Level,
    reason: str,
    review_on: date | None,
    declassification: bool,
) -> DocumentReclassification:
    text = open_text(session, grant, document)
    old_level = document.level
    document.level = new_level
    document.classified_by_id = subject.user_id
    document.classified_at = utcnow()
    document.review_on = review_on
    seal_text(session, grant, document, title=text.title, body=text.body, reason=reason)
    _reseal_history(session, grant, document)
    resealed_files = attachments.reseal_for_level(session, grant, document, int(old_level))
    change = DocumentReclassification(
        id=uuid.uuid4(),
        document_id=document.id,
        from_level=old_level,
        to_level=new_level,
        declassification=declassification,
        changed_by_id=subject.user_id,
    )
    change.reason_sealed = keyring_of(session).seal(
        session, grant, change.field_context(), reason, document.subcommittee_id
    )
    session.add(change)
    session.flush()
    policy.record_change(
        session,
        subject,
        "document.declassify" if declassification else "document.reclassify",
        object_type="document",
        object_id=document.id,
        level=new_level,
        detail={"from": int(old_level), "to": int(new_level), "attachments": resealed_files},
    )
    return change


def reclassify(
    session: Session,
    subject: Subject,
    room: Subcommittee,
    document_id: uuid.UUID,
    *,
    new_level: Level,
    reason: str,
    review_on: date | None,
) -> DocumentReclassification:
    """Raise or lower a document's level (not to PUBLIC), recording why."""
    member_ids = {m.user_id for m in rooms.current_members(session, room.id, utcnow())}

    def decide(who: Subject, document: Document) -> policy.Decision:
        marking = Marking(new_level, document.caveat_codes, document.named_reader_ids, reason)
        return policy.decide_reclassify(who, document, room, marking, member_ids)

    document, grant = require_on_document(session, subject, document_id, decide)
    return _apply(
        session, subject, document, grant,
        new_level=new_level, reason=reason.strip(), review_on=review_on, declassification=False,
    )  # fmt: skip


def declassify(
    session: Session, subject: Subject, document_id: uuid.UUID, *, reason: str
) -> DocumentReclassification:
    """Make a document PUBLIC: a separate, explicit act with its own rule and audit entry."""
    document, grant = require_on_document(session, subject, document_id, policy.decide_declassify)
    return _apply(
        session, subject, document, grant,
        new_level=Level.PUBLIC, reason=reason.strip(), review_on=None, declassification=True,
    )  # fmt: skip


def history(session: Session, grant: Grant, document: Document) -> list[ReclassificationText]:
    keyring = keyring_of(session)
    changes = session.scalars(
        select(DocumentReclassification)
        .where(DocumentReclassification.document_id == document.id)
        .order_by(DocumentReclassification.changed_at.desc())
    )
    return [
        ReclassificationText(
            change, keyring.open(session, grant, change.field_context(), change.reason_sealed)
        )
        for change in changes
    ]
