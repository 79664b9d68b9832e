"""The steps of the minutes, in order, and who takes each:

draft --circulate (steward)--> circulated --approve (the room's chair)--> approved --publish (steward)-->
published. A steward may take circulated or approved minutes back to draft ("revise": a new revision
number). Published minutes are locked; a correction (steward) starts a new draft revision based on the
published one, which goes through circulation, approval and publication again, while the published revision
stays readable (and is marked superseded once the correction is published).

Circulating tells the attendees (:func:`~portal.minutes.service.attendee_ids`) by e-mail, publishing tells
the room (:mod:`portal.notifications`: only the room, the kind of event and a link).

Attendees comment on the portions of circulated minutes they may read. A step out of order is refused with
a stable reason (:class:`~portal.minutes.service.StepRefused`); a step started from a stale version of the
minutes with :class:`~portal.minutes.service.StaleMinutes`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid

from sqlalchemy.orm import Session

from portal import notifications
from portal.db import utcnow
from portal.meetings import access
from portal.meetings.access import OpenedMeeting
from portal.minutes import guards, service
from portal.minutes.models import Minutes, MinutesRevision, MinutesState, PortionComment, PortionText
from portal.minutes.service import PORTION, StepRefused
from portal.security import policy
from portal.security.keyring import keyring_of
from portal.security.policy import Subject

#: Why a step is refused in each state (the step -> state -> reason).
OUT_OF_ORDER = {
    "circulate": {
        MinutesState.CIRCULATED: "ALREADY_CIRCULATED",
        MinutesState.APPROVED: "ALREADY_APPROVED",
        MinutesState.PUBLISHED: "ALREADY_PUBLISHED",
    },
    "approve": {
        MinutesState.DRAFT: "NOT_CIRCULATED",
        MinutesState.APPROVED: "ALREADY_APPROVED",
        MinutesState.PUBLISHED: "ALREADY_PUBLISHED",
    },
    "revise": {MinutesState.DRAFT: "ALREADY_DRAFT", MinutesState.PUBLISHED: "CORRECT_PUBLISHED"},
    "publish": {
        MinutesState.DRAFT: "NOT_APPROVED",
        MinutesState.CIRCULATED: "NOT_APPROVED",
        MinutesState.PUBLISHED: "ALREADY_PUBLISHED",
    },
    "correct": {
        MinutesState.DRAFT: "NOT_PUBLISHED",
        MinutesState.CIRCULATED: "NOT_PUBLISHED",
        MinutesState.APPROVED: "NOT_PUBLISHED",
    },
}


def _check_order(step: str, minutes: Minutes) -> None:
    refusal = OUT_OF_ORDER[step].get(minutes.state)
    if refusal is not None:
        raise StepRefused(refusal)


def _steward_step(
    session: Session, subject: Subject, meeting_id: uuid.UUID, base_version: int, step: str
) -> tuple[OpenedMeeting, Minutes]:
    opened = guards.require_steward(session, subject, meeting_id, f"minutes.{step}")
    minutes = guards.require_minutes(session, subject, opened)
    _check_order(step, minutes)
    guards.claim(session, minutes, base_version)
    return opened, minutes


def circulate(session: Session, subject: Subject, meeting_id: uuid.UUID, base_version: int) -> Minutes:
    """Send the draft to the attendees for review (they are told by e-mail once the transaction commits)."""
    opened, minutes = _steward_step(session, subject, meeting_id, base_version, "circulate")
    if not service.texts_at(minutes, minutes.revision):
        raise StepRefused("NO_PORTIONS")
    now = utcnow()
    service.working_revision(minutes).circulated_at = now
    minutes.state = MinutesState.CIRCULATED
    guards.record_step(session, subject, "minutes.circulate", minutes)
    notifications.queue(
        session, subject, notifications.EventKind.MINUTES_CIRCULATED, opened.meeting.id,
        recipient_ids=service.attendee_ids(session, opened.meeting, opened.room, now),
    )  # fmt: skip
    return minutes


def approve(session: Session, subject: Subject, meeting_id: uuid.UUID, base_version: int) -> Minutes:
    """The room's chair approves the circulated revision (only the chair: NOT_CHAIR otherwise, audited)."""
    opened = access.require_meeting(
        session, subject, meeting_id, decide=lambda s, _m, room: policy.decide_approve_minutes(s, room)
    )
    minutes = guards.require_minutes(session, subject, opened)
    _check_order("approve", minutes)
    guards.claim(session, minutes, base_version)
    revision = service.working_revision(minutes)
    revision.approved_by_id = subject.user_id
    revision.approved_at = utcnow()
    minutes.state = MinutesState.APPROVED
    guards.record_step(session, subject, "minutes.approve", minutes)
    return minutes


def _new_revision(minutes: Minutes, subject: Subject, based_on: int | None) -> None:
    minutes.revision += 1
    minutes.revisions.append(
        MinutesRevision(
            id=uuid.uuid4(), number=minutes.revision, based_on=based_on, created_by_id=subject.user_id
        )
    )
    minutes.state = MinutesState.DRAFT


def revise(session: Session, subject: Subject, meeting_id: uuid.UUID, base_version: int) -> Minutes:
    """Take circulated or approved minutes back to draft, as a new revision (the reviewed one is kept)."""
    _opened, minutes = _steward_step(session, subject, meeting_id, base_version, "revise")
    _new_revision(minutes, subject, based_on=None)
    guards.record_step(session, subject, "minutes.revise", minutes)
    return minutes


def start_correction(session: Session, subject: Subject, meeting_id: uuid.UUID, base_version: int) -> Minutes:
    """Correct published minutes: a new draft revision based on the published one."""
    _opened, minutes = _steward_step(session, subject, meeting_id, base_version, "correct")
    published = minutes.revision
    _new_revision(minutes, subject, based_on=published)
    guards.record_step(session, subject, "minutes.correct", minutes, {"based_on": published})
    return minutes


def publish(session: Session, subject: Subject, meeting_id: uuid.UUID, base_version: int) -> Minutes:
    """Publish the approved revision: it is locked, and the SHA-256 of its sealed portions is kept on the
    revision and in the audit trail (the steward need not be able to read every portion: the hash is over
    the sealed bytes). The room is told by e-mail once the transaction commits."""
    opened, minutes = _steward_step(session, subject, meeting_id, base_version, "publish")
    revision = service.working_revision(minutes)
    digest = revision_hash(minutes, revision.number)
    revision.published_at = utcnow()
    revision.published_hash = digest
    minutes.state = MinutesState.PUBLISHED
    guards.record_step(
        session, subject, "minutes.publish", minutes, {"hash": digest, "based_on": revision.based_on}
    )
    notifications.queue(session, subject, notifications.EventKind.MINUTES_PUBLISHED, opened.meeting.id)
    return minutes


# --- the published hash --------------------------------------------------------------------------------

HASH_FORMAT = "portal-minutes-v1"


def _encoded(sealed: bytes | None) -> str | None:
    return base64.b64encode(bytes(sealed)).decode("ascii") if sealed is not None else None


def canonical_revision(minutes: Minutes, number: int) -> bytes:
    """The canonical form of a revision: every portion in reading order with its ids, position, marking and
    the *sealed* bytes of its heading, body and reason (so it is computed and checked without plaintext, and
    any change to a stored value changes it). JSON, sorted keys, no spaces, ASCII."""
    portions = [
        {
            "portion": str(text.portion_id),
            "text": str(text.id),
            "revision": text.revision,
            "position": text.position,
            "level": int(text.level),
            "release": text.release.value,
            "caveats": sorted(text.caveat_codes),
            "readers": sorted(str(reader) for reader in text.named_reader_ids),
            "release_organizations": sorted(str(org) for org in text.release_organization_ids),
            "origin_organization": str(text.origin_organization_id),
            "heading": _encoded(text.heading_sealed),
            "body": _encoded(text.body_sealed),
            "reason": _encoded(text.classification_reason_sealed),
        }
        for text in service.texts_at(minutes, number)
    ]
    document = {
        "format": HASH_FORMAT,
        "minutes": str(minutes.id),
        "meeting": str(minutes.meeting_id),
        "revision": number,
        "portions": portions,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def revision_hash(minutes: Minutes, number: int) -> str:
    """SHA-256 (hex) of :func:`canonical_revision`."""
    return hashlib.sha256(canonical_revision(minutes, number)).hexdigest()


# --- review comments ----------------------------------------------------------------------------------


def add_comment(
    session: Session, subject: Subject, meeting_id: uuid.UUID, portion_id: uuid.UUID, body: str
) -> PortionComment:
    """An attendee's comment on a portion of the circulated revision, sealed at the portion's level.

    A portion the subject may not read answers 404 (as if absent); a reader who did not attend, 403 with
    NOT_ATTENDEE; minutes that are not circulated, :class:`StepRefused` (NOT_CIRCULATED)."""
    opened = access.require_meeting(session, subject, meeting_id)
    minutes = guards.require_minutes(session, subject, opened)
    portion = guards.require_portion(session, subject, minutes, portion_id)
    text = service.text_at(portion, minutes.revision)
    if text is None or text.removed:
        service.not_found(session, subject, portion_id, "minutes.review")
        raise AssertionError("unreachable")
    attendee = service.is_attendee(session, subject, opened.meeting, opened.room)
    decision = policy.decide_review_portion(subject, opened.room.id, text, attendee)
    readable = policy.decide_read_part(subject, opened.room.id, text, "minutes.review").allowed
    grant = policy.require(
        session,
        subject,
        decision,
        object_type=PORTION,
        object_id=text.id,
        level=text.level,
        conceal=not readable,
    )
    if minutes.state != MinutesState.CIRCULATED:
        raise StepRefused("NOT_CIRCULATED")
    return _seal_comment(session, subject, opened.room.id, text, grant, body)


def _seal_comment(
    session: Session,
    subject: Subject,
    room_id: uuid.UUID,
    text: PortionText,
    grant: policy.Grant,
    body: str,
) -> PortionComment:
    comment = PortionComment(id=uuid.uuid4(), portion_text_id=text.id, author_id=subject.user_id)
    comment.body_sealed = keyring_of(session).seal(
        session, grant, comment.field_context("body", int(text.level)), body.strip(), room_id
    )
    session.add(comment)
    session.flush()
    policy.record_change(
        session, subject, "minutes.comment", object_type=PORTION, object_id=text.id, level=text.level,
        detail={"comment": str(comment.id), "portion": str(text.portion_id)},
    )  # fmt: skip
    return comment
