"""Key operations for the operator (`portal keys ...`): status, KEK rotation, DEK rotation, shredding.

Every operation is audited. Re-sealing opens fields with a maintenance grant from the policy and seals
them again at once; nothing opened is shown, logged or kept.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, select
from sqlalchemy.orm import Session, object_session, sessionmaker

from portal.accounts.models import Clearance, User
from portal.documents.models import (
    AttachmentChunk,
    Document,
    DocumentAttachment,
    DocumentComment,
    DocumentReclassification,
    DocumentVersion,
)
from portal.exercises.models import Exercise, Inject, InjectResponse
from portal.meetings.models import (
    ActionItem,
    AgendaItem,
    AgendaRevision,
    AgendaRevisionEntry,
    Attendance,
    Finding,
    Meeting,
)
from portal.minutes.models import Minutes, Portion, PortionComment, PortionText
from portal.policywork.models import (
    Milestone,
    Recommendation,
    RecommendationTransition,
    WorkTheme,
)
from portal.risks.models import Risk, RiskProposal, RiskReview
from portal.rooms.models import Subcommittee
from portal.search import maintenance as search_maintenance
from portal.security import audit, crypto, policy
from portal.security.crypto import FieldContext
from portal.security.key_models import DataKeyRecord
from portal.security.keyring import Keyring, wrapping_context
from portal.security.keys import KeyProvider
from portal.situation.models import Countermeasure, CountermeasureTransition, SituationReport
from portal.thinktank.models import SEALED_FIELDS as OUTPUT_SEALED_FIELDS
from portal.thinktank.models import ThinkTankOutput


@dataclass(frozen=True)
class SealedColumn:
    model: type[Any]
    attribute: str
    #: The context a row's value is sealed under.
    context: Callable[[Any], FieldContext]
    purpose: str
    #: SQL condition: the rows of one room (None: the column is sealed with the system's key).
    in_room: Callable[[uuid.UUID], ColumnElement[bool]] | None = None
    #: The value is a file chunk (bytes, bound to its position), not a text field.
    chunk: bool = False
    #: The room of a row, for rows whose grant is not for a document (meetings and their parts).
    room: Callable[[Session, Any], uuid.UUID] | None = None

    def room_of(self, row: Any) -> uuid.UUID | None:
        """The room whose key seals this row's value (None: the system's key)."""
        if self.in_room is None:
            return None
        session = object_session(row)
        assert session is not None
        if self.room is not None:
            return self.room(session, row)
        document = session.get(Document, uuid.UUID(self.context(row).grant_object_id))
        assert document is not None
        return document.subcommittee_id

    def open(self, session: Session, keyring: Keyring, row: Any, grant: policy.Grant) -> str:
        """The plaintext (a chunk as hex) — for maintenance and tests only; nothing here is shown."""
        value = bytes(getattr(row, self.attribute))
        context = self.context(row)
        if self.chunk:
            return keyring.open_chunk(session, grant, context, row.position, row.final, value).hex()
        return keyring.open(session, grant, context, value)


def _document_in(room_id: uuid.UUID) -> Any:
    return select(Document.id).where(Document.subcommittee_id == room_id)


def _attachment_in(room_id: uuid.UUID) -> Any:
    return select(DocumentAttachment.id).where(DocumentAttachment.document_id.in_(_document_in(room_id)))


def _document_column(name: str) -> SealedColumn:
    return SealedColumn(
        Document, f"{name}_sealed", lambda d: d.field_context(name), "fields",
        lambda room: Document.subcommittee_id == room,
    )  # fmt: skip


def _version_column(name: str) -> SealedColumn:
    return SealedColumn(
        DocumentVersion, f"{name}_sealed", lambda v: v.field_context(name), "fields",
        lambda room: DocumentVersion.document_id.in_(_document_in(room)),
    )  # fmt: skip


def _attachment_column(name: str) -> SealedColumn:
    return SealedColumn(
        DocumentAttachment, f"{name}_sealed", lambda a: a.field_context(name), "fields",
        lambda room: DocumentAttachment.document_id.in_(_document_in(room)),
    )  # fmt: skip


def _meeting_in(room_id: uuid.UUID) -> Any:
    return select(Meeting.id).where(Meeting.subcommittee_id == room_id)


def _room_of_meeting(session: Session, meeting_id: uuid.UUID) -> uuid.UUID:
    meeting = session.get(Meeting, meeting_id)
    assert meeting is not None
    return meeting.subcommittee_id


def _portion_text_in(room_id: uuid.UUID) -> Any:
    return (
        select(PortionText.id)
        .join(Portion, Portion.id == PortionText.portion_id)
        .join(Minutes, Minutes.id == Portion.minutes_id)
        .where(Minutes.meeting_id.in_(_meeting_in(room_id)))
    )


def _room_of_portion_text(session: Session, text_id: uuid.UUID) -> uuid.UUID:
    text = session.get(PortionText, text_id)
    assert text is not None
    portion = session.get(Portion, text.portion_id)
    assert portion is not None
    minutes = session.get(Minutes, portion.minutes_id)
    assert minutes is not None
    return _room_of_meeting(session, minutes.meeting_id)


def _meeting_part_column(model: type[Any], name: str) -> SealedColumn:
    """A sealed column of a row that belongs to a meeting through ``meeting_id``."""
    return SealedColumn(
        model, f"{name}_sealed", lambda row: row.field_context(name), "fields",
        lambda room: model.meeting_id.in_(_meeting_in(room)),
        room=lambda session, row: _room_of_meeting(session, row.meeting_id),
    )  # fmt: skip


def _attendance_context(row: Attendance) -> FieldContext:
    session = object_session(row)
    assert session is not None
    meeting = session.get(Meeting, row.meeting_id)
    assert meeting is not None
    return row.field_context("proxy", int(meeting.level))


def _revision_entry_room(session: Session, entry: AgendaRevisionEntry) -> uuid.UUID:
    revision = session.get(AgendaRevision, entry.revision_id)
    assert revision is not None
    return _room_of_meeting(session, revision.meeting_id)


def _comment_context(comment: PortionComment) -> FieldContext:
    session = object_session(comment)
    assert session is not None
    text = session.get(PortionText, comment.portion_text_id)
    assert text is not None
    return comment.field_context("body", int(text.level))


def _room_rows(model: Any) -> Callable[[uuid.UUID], ColumnElement[bool]]:
    """The rows of a model that names its room (``subcommittee_id``)."""
    return lambda room: model.subcommittee_id == room


def _output_context(name: str) -> Callable[[Any], FieldContext]:
    return lambda output: output.field_context(name)


def _entry_context(name: str) -> Callable[[Any], FieldContext]:
    return lambda row: row.field_context(name)


def _own_room(session: Session, row: Any) -> uuid.UUID:
    return uuid.UUID(str(row.subcommittee_id))


def _transition_room(session: Session, row: CountermeasureTransition) -> uuid.UUID:
    item = session.get(Countermeasure, row.countermeasure_id)
    assert item is not None
    return item.subcommittee_id


def _exercise_in(room_id: uuid.UUID) -> Any:
    return select(Exercise.id).where(Exercise.subcommittee_id == room_id)


def _room_of_exercise(session: Session, exercise_id: uuid.UUID) -> uuid.UUID:
    exercise = session.get(Exercise, exercise_id)
    assert exercise is not None
    return exercise.subcommittee_id


def _room_of_inject(session: Session, inject_id: uuid.UUID) -> uuid.UUID:
    inject = session.get(Inject, inject_id)
    assert inject is not None
    return _room_of_exercise(session, inject.exercise_id)


#: Every sealed value in the database, with the key purpose that seals it and how to find a room's rows.
SEALED_COLUMNS = [
    _document_column("title"),
    _document_column("body"),
    _document_column("classification_reason"),
    _version_column("title"),
    _version_column("body"),
    _version_column("summary"),
    SealedColumn(
        DocumentComment, "body_sealed", lambda c: c.field_context(), "fields",
        lambda room: DocumentComment.document_id.in_(_document_in(room)),
    ),
    SealedColumn(
        DocumentReclassification, "reason_sealed", lambda r: r.field_context(), "fields",
        lambda room: DocumentReclassification.document_id.in_(_document_in(room)),
    ),
    _attachment_column("filename"),
    _attachment_column("checksum"),
    SealedColumn(
        AttachmentChunk, "data", lambda chunk: _chunk_context(chunk), "files",
        lambda room: AttachmentChunk.attachment_id.in_(_attachment_in(room)), chunk=True,
    ),
    SealedColumn(User, "totp_secret_sealed", lambda u: u.secret_context(), "personal"),
    SealedColumn(Clearance, "evaluation_reference_sealed", lambda c: c.reference_context(), "personal"),
    SealedColumn(
        Meeting, "title_sealed", lambda m: m.field_context("title"), "fields",
        lambda room: Meeting.subcommittee_id == room, room=lambda session, m: m.subcommittee_id,
    ),
    SealedColumn(
        Meeting, "place_sealed", lambda m: m.field_context("place"), "fields",
        lambda room: Meeting.subcommittee_id == room, room=lambda session, m: m.subcommittee_id,
    ),
    _meeting_part_column(AgendaItem, "title"),
    _meeting_part_column(AgendaItem, "classification_reason"),
    _meeting_part_column(Finding, "classification_reason"),
    _meeting_part_column(ActionItem, "classification_reason"),
    _meeting_part_column(AgendaItem, "presenter"),
    _meeting_part_column(Finding, "body"),
    _meeting_part_column(ActionItem, "title"),
    SealedColumn(
        Attendance, "proxy_sealed", _attendance_context, "fields",
        lambda room: Attendance.meeting_id.in_(_meeting_in(room)),
        room=lambda session, row: _room_of_meeting(session, row.meeting_id),
    ),
    *[
        SealedColumn(
            AgendaRevisionEntry, f"{name}_sealed", _entry_context(name), "fields",
            lambda room: AgendaRevisionEntry.revision_id.in_(
                select(AgendaRevision.id).where(AgendaRevision.meeting_id.in_(_meeting_in(room)))
            ),
            room=_revision_entry_room,
        )
        for name in ("title", "presenter", "classification_reason")
    ],
    *[
        SealedColumn(
            PortionText, f"{name}_sealed", _entry_context(name), "fields",
            lambda room: PortionText.id.in_(_portion_text_in(room)),
            room=lambda session, row: _room_of_portion_text(session, row.id),
        )
        for name in ("heading", "body", "classification_reason")
    ],
    SealedColumn(
        PortionComment, "body_sealed", _comment_context, "fields",
        lambda room: PortionComment.portion_text_id.in_(_portion_text_in(room)),
        room=lambda session, row: _room_of_portion_text(session, row.portion_text_id),
    ),
    # --- rapid-response rooms: situation reports, countermeasures and their history ---
    *[
        SealedColumn(
            SituationReport, f"{name}_sealed", _entry_context(name), "fields",
            lambda room: SituationReport.subcommittee_id == room, room=_own_room,
        )
        for name in ("source", "happened", "affected", "impact", "classification_reason")
    ],
    *[
        SealedColumn(
            Countermeasure, f"{name}_sealed", _entry_context(name), "fields",
            lambda room: Countermeasure.subcommittee_id == room, room=_own_room,
        )
        for name in ("title", "description", "classification_reason")
    ],
    SealedColumn(
        CountermeasureTransition, "note_sealed", _entry_context("note"), "fields",
        lambda room: CountermeasureTransition.countermeasure_id.in_(
            select(Countermeasure.id).where(Countermeasure.subcommittee_id == room)
        ),
        room=_transition_room,
    ),
    # --- policy-coordination rooms: the work plan and the recommendations ---
    *[
        SealedColumn(
            model, f"{name}_sealed", _entry_context(name), "fields",
            _room_rows(model),
            room=lambda session, row: row.subcommittee_id,
        )
        for model, names in (
            (WorkTheme, ("title", "description", "classification_reason")),
            (Recommendation, ("title", "body", "classification_reason")),
        )
        for name in names
    ],
    SealedColumn(
        Milestone, "title_sealed", _entry_context("title"), "fields",
        lambda room: Milestone.theme_id.in_(select(WorkTheme.id).where(WorkTheme.subcommittee_id == room)),
        room=lambda session, row: _room_of_theme(session, row.theme_id),
    ),
    SealedColumn(
        RecommendationTransition, "note_sealed", _entry_context("note"), "fields",
        lambda room: RecommendationTransition.recommendation_id.in_(
            select(Recommendation.id).where(Recommendation.subcommittee_id == room)
        ),
        room=lambda session, row: _room_of_recommendation(session, row.recommendation_id),
    ),
    # --- tabletop exercises (机上演習) ---
    *[
        SealedColumn(
            Exercise, f"{name}_sealed", _entry_context(name), "fields",
            lambda room: Exercise.subcommittee_id == room, room=lambda session, row: row.subcommittee_id,
        )
        for name in ("title", "scenario", "classification_reason")
    ],
    *[
        SealedColumn(
            Inject, f"{name}_sealed", _entry_context(name), "fields",
            lambda room: Inject.exercise_id.in_(_exercise_in(room)),
            room=lambda session, row: _room_of_exercise(session, row.exercise_id),
        )
        for name in ("text", "sender", "recipient", "expected_action", "classification_reason")
    ],
    SealedColumn(
        InjectResponse, "body_sealed", _entry_context("body"), "fields",
        lambda room: InjectResponse.inject_id.in_(
            select(Inject.id).where(Inject.exercise_id.in_(_exercise_in(room)))
        ),
        room=lambda session, row: _room_of_inject(session, row.inject_id),
    ),
    # Think-tank outputs belong to no room: the system's ``fields`` key (`rotate-dek system` re-seals them).
    *[
        SealedColumn(ThinkTankOutput, f"{name}_sealed", _output_context(name), "fields")
        for name in (*OUTPUT_SEALED_FIELDS, "classification_reason")
    ],
    # The risk register (risk-review rooms): risks, their reviews and proposed changes.
    *[
        SealedColumn(
            Risk, f"{name}_sealed", _entry_context(name), "fields",
            lambda room: Risk.subcommittee_id == room, room=lambda session, row: row.subcommittee_id,
        )
        for name in (
            "title", "scenario", "peacetime_measures", "emergency_measures", "review_flag",
            "classification_reason",
        )
    ],
    SealedColumn(
        RiskReview, "note_sealed", _entry_context("note"), "fields",
        lambda room: RiskReview.risk_id.in_(select(Risk.id).where(Risk.subcommittee_id == room)),
        room=lambda session, row: _room_of_risk(session, row.risk_id),
    ),
    *[
        SealedColumn(
            RiskProposal, f"{name}_sealed", _entry_context(name), "fields",
            lambda room: RiskProposal.subcommittee_id == room, room=lambda session, row: row.subcommittee_id,
        )
        for name in ("name", "decision_reason", "classification_reason")
    ],
]  # fmt: skip


def _room_of_risk(session: Session, risk_id: uuid.UUID) -> uuid.UUID:
    risk = session.get(Risk, risk_id)
    assert risk is not None
    return risk.subcommittee_id


def _room_of_theme(session: Session, theme_id: uuid.UUID) -> uuid.UUID:
    theme = session.get(WorkTheme, theme_id)
    assert theme is not None
    return theme.subcommittee_id


def _room_of_recommendation(session: Session, recommendation_id: uuid.UUID) -> uuid.UUID:
    item = session.get(Recommendation, recommendation_id)
    assert item is not None
    return item.subcommittee_id


def _chunk_context(chunk: AttachmentChunk) -> FieldContext:
    attachment = object_session(chunk).get(DocumentAttachment, chunk.attachment_id)  # type: ignore[union-attr]
    assert attachment is not None
    return attachment.chunk_context()


def _audit(session: Session, action: str, object_id: str, **detail: object) -> None:
    audit.record(
        session,
        audit.AuditEvent(
            actor=audit.Actor.system(),
            action=action,
            allowed=True,
            rule=action,
            reason="OK",
            object_type="keys",
            object_id=object_id,
            detail=dict(detail),
        ),
    )


def _rows(
    session: Session, column: SealedColumn, room_id: uuid.UUID | None, batch: int
) -> Iterator[list[Any]]:
    """Rows of a room (or the system's rows) with a value in this column, in id order, batch by batch."""
    model = column.model
    attribute = getattr(model, column.attribute)
    query = select(model).where(attribute.is_not(None))
    if room_id is not None:
        query = query.where(column.in_room(room_id) if column.in_room else false())
    elif column.in_room is not None:
        query = query.where(false())
    last: uuid.UUID | None = None
    while True:
        page = query.order_by(model.id).limit(batch)
        if last is not None:
            page = page.where(model.id > last)
        rows = list(session.scalars(page))
        if not rows:
            return
        yield rows
        last = rows[-1].id


# --- status ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyStatus:
    record: DataKeyRecord
    room_name: str
    rows: int


def status(session: Session) -> list[KeyStatus]:
    counts: Counter[uuid.UUID] = Counter()
    for column in SEALED_COLUMNS:
        for (value,) in session.execute(select(getattr(column.model, column.attribute))):
            if value is not None:
                counts[crypto.key_id_of(bytes(value))] += 1
    names = {room.id: room.name_ja for room in session.scalars(select(Subcommittee))}
    records = session.scalars(
        select(DataKeyRecord).order_by(
            DataKeyRecord.subcommittee_id, DataKeyRecord.purpose, DataKeyRecord.version
        )
    )
    statuses = []
    for record in records:
        room_name = names.get(record.subcommittee_id, "?") if record.subcommittee_id else "(system)"
        statuses.append(KeyStatus(record, room_name, counts[record.id]))
    return statuses


# --- KEK rotation ---------------------------------------------------------------------------------


def rotate_kek(session: Session, keyring: Keyring, target: KeyProvider | None = None) -> tuple[int, int]:
    """Re-wrap every live data key under a new KEK version (of ``target``, default: the same provider).

    No row data is touched. Returns (new KEK version, keys re-wrapped). The caller retires the old KEK
    versions after the commit (:func:`retire_old_keks`).
    """
    source = keyring.provider
    target = target or source
    version = target.add_version()
    rewrapped = 0
    for record in session.scalars(select(DataKeyRecord).where(DataKeyRecord.state != "destroyed")):
        material = keyring.key(session, record.id).material
        record.wrapped = target.wrap(version, material, wrapping_context(record))
        record.kek_provider = target.name
        record.kek_version = version
        rewrapped += 1
    _audit(session, "keys.rotate_kek", f"{target.name}:{version}", rewrapped=rewrapped, source=source.name)
    return version, rewrapped


def retire_old_keks(provider: KeyProvider, keep: int) -> list[int]:
    retired = [version for version in provider.versions() if version != keep]
    for version in retired:
        provider.retire(version)
    return retired


# --- DEK rotation ---------------------------------------------------------------------------------


def _live(session: Session, room_id: uuid.UUID | None, purpose: str) -> list[DataKeyRecord]:
    scope = (
        DataKeyRecord.subcommittee_id.is_(None)
        if room_id is None
        else DataKeyRecord.subcommittee_id == room_id
    )
    return list(
        session.scalars(
            select(DataKeyRecord)
            .where(scope, DataKeyRecord.purpose == purpose, DataKeyRecord.state != "destroyed")
            .order_by(DataKeyRecord.version)
        )
    )


def has_live_key(session: Session, room_id: uuid.UUID | None, purpose: str) -> bool:
    return bool(_live(session, room_id, purpose))


def begin_dek_rotation(
    session: Session, keyring: Keyring, room_id: uuid.UUID | None, purpose: str
) -> DataKeyRecord:
    """A new active key, unless an interrupted rotation left one whose predecessors still protect rows."""
    live = _live(session, room_id, purpose)
    active = [r for r in live if r.state == "active"]
    retiring = [r for r in live if r.state == "decrypt_only"]
    if active and retiring:
        return active[-1]  # resume
    if not live and session.scalar(
        select(DataKeyRecord.id)
        .where(
            DataKeyRecord.subcommittee_id.is_(None)
            if room_id is None
            else DataKeyRecord.subcommittee_id == room_id,
            DataKeyRecord.purpose == purpose,
            DataKeyRecord.state == "destroyed",
        )
        .limit(1)
    ):
        # Shredded: a new key would let new content be sealed in the room again (and the rows under the
        # destroyed key cannot be re-sealed anyway).
        raise crypto.KeyDestroyed("this room's keys were destroyed; there is nothing to rotate")
    record = keyring.create_key(session, room_id, purpose)
    _audit(session, "keys.rotate_dek", str(room_id or "system"), purpose=purpose, version=record.version)
    return record


def columns_for(room_id: uuid.UUID | None, purpose: str | None = None) -> list[SealedColumn]:
    return [
        c
        for c in SEALED_COLUMNS
        if (c.in_room is not None) == (room_id is not None) and purpose in (None, c.purpose)
    ]


def room_purposes(room_id: uuid.UUID | None) -> list[str]:
    """The key purposes whose values a rotation of this scope re-seals."""
    return sorted({c.purpose for c in columns_for(room_id)})


def count_to_reseal(session: Session, room_id: uuid.UUID | None, active_id: uuid.UUID, purpose: str) -> int:
    total = 0
    for column in columns_for(room_id, purpose):
        for rows in _rows(session, column, room_id, 500):
            total += sum(
                1 for row in rows if crypto.key_id_of(bytes(getattr(row, column.attribute))) != active_id
            )
    return total


def reseal_batches(
    factory: sessionmaker[Session],
    keyring: Keyring,
    room_id: uuid.UUID | None,
    batch: int = 100,
    purposes: list[str] | None = None,
) -> Iterator[int]:
    """Re-seal every value not yet under the active key, committing batch by batch; yields counts done.

    Safe to interrupt: a batch commits whole or not at all, and the old key stays until the end.
    """
    for column in columns_for(room_id):
        if purposes is not None and column.purpose not in purposes:
            continue
        with factory() as session:
            active = [r for r in _live(session, room_id, column.purpose) if r.state == "active"][-1]
            for rows in _rows(session, column, room_id, batch):
                done = 0
                for row in rows:
                    sealed = bytes(getattr(row, column.attribute))
                    if crypto.key_id_of(sealed) == active.id:
                        continue
                    context = column.context(row)
                    grant = policy.maintenance_grant(context.object_type, context.grant_object_id)
                    if column.chunk:
                        data = keyring.open_chunk(session, grant, context, row.position, row.final, sealed)
                        key = keyring.active_key(session, room_id, column.purpose)
                        row.data = crypto.seal_chunk(key, context, row.position, row.final, data)
                    else:
                        value = keyring.open(session, grant, context, sealed)
                        setattr(
                            row,
                            column.attribute,
                            keyring.seal(session, grant, context, value, room_id, column.purpose),
                        )
                    done += 1
                session.commit()
                if done:
                    yield done


def finish_dek_rotation(session: Session, keyring: Keyring, room_id: uuid.UUID | None, purpose: str) -> int:
    """Destroy the retired keys once no row needs them. Returns how many were destroyed."""
    active = [r for r in _live(session, room_id, purpose) if r.state == "active"][-1]
    if count_to_reseal(session, room_id, active.id, purpose):
        raise crypto.CryptoError("rows still sealed with a retiring key; run the rotation again")
    retired = [r for r in _live(session, room_id, purpose) if r.state == "decrypt_only"]
    for record in retired:
        keyring.destroy(session, record)
    _audit(session, "keys.rotate_dek_done", str(room_id or "system"), purpose=purpose, destroyed=len(retired))
    return len(retired)


# --- shredding ------------------------------------------------------------------------------------


def shred(session: Session, keyring: Keyring, room: Subcommittee) -> int:
    """Destroy every data key of the room: its sealed content is unreadable for good, and its search tokens
    (meaningless without the index key) are deleted."""
    records = list(
        session.scalars(
            select(DataKeyRecord).where(
                DataKeyRecord.subcommittee_id == room.id, DataKeyRecord.state != "destroyed"
            )
        )
    )
    for record in records:
        keyring.destroy(session, record)
    search_maintenance.drop_scope(session, room.id)
    _audit(session, "keys.shred", str(room.id), destroyed=len(records))
    return len(records)
