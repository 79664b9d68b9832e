"""Writing a part's marking: decided by the policy, checked against the room, applied to the row."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.caveats import Caveat
from portal.accounts.models import Organization
from portal.db import utcnow
from portal.documents import service as documents
from portal.meetings.access import open_part
from portal.meetings.forms import PartMarkingForm, PartMarkingInput
from portal.meetings.marking import PartMarking, join_codes
from portal.rooms import service as rooms
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.keyring import keyring_of
from portal.security.policy import Grant, Marking, Subject


class InvalidMarking(Exception):
    """The marking names readers who are not members of the room, or caveats that do not exist."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def require_mark(
    session: Session,
    subject: Subject,
    room: Subcommittee,
    marking: PartMarkingInput,
    *,
    rule: str,
    object_type: str,
    object_id: uuid.UUID,
) -> Grant:
    """Enforce the write of a part under ``marking`` (audited if refused; refusals answer 403) and return
    the grant that seals the part. Named readers must be current members of the room; caveats must exist."""
    member_ids = {m.user_id for m in rooms.current_members(session, room.id, utcnow())}
    if not marking.reader_ids <= member_ids:
        raise InvalidMarking("READER_NOT_MEMBER")
    known = set(session.scalars(select(Caveat.code).where(Caveat.code.in_(marking.caveat_codes))))
    if known != set(marking.caveat_codes):
        raise InvalidMarking("UNKNOWN_CAVEAT")
    reader_ids = marking.reader_ids | {subject.user_id} if marking.reader_ids else frozenset()
    decision = policy.decide_mark_part(
        subject, room, Marking(marking.level, marking.caveat_codes, reader_ids, marking.reason), rule
    )
    policy.require(
        session, subject, decision, object_type=object_type, object_id=object_id, level=marking.level,
        detail={"caveats": sorted(marking.caveat_codes), "release": marking.release.value},
    )  # fmt: skip
    return policy.grant_from(decision, subject, object_type, object_id)


def apply_marking(
    session: Session,
    subject: Subject,
    grant: Grant,
    part: PartMarking,
    room_id: uuid.UUID,
    marking: PartMarkingInput,
) -> None:
    """Set the marking columns of a part (its id set) and seal its reason. The author is always among the
    named readers of a part that names readers, as for documents. Seal the part's text after this: the
    level is bound into every sealed value."""
    part.level = marking.level
    part.release = marking.release
    part.caveat_codes_text = join_codes(marking.caveat_codes)
    readers = marking.reader_ids | {subject.user_id} if marking.reader_ids else frozenset()
    part.reader_ids_text = join_codes(readers)
    part.release_organization_ids_text = join_codes(marking.release_organization_ids)
    part.origin_organization_id = subject.organization_id
    reason_context = part.field_context("classification_reason")  # type: ignore[attr-defined]
    part.classification_reason_sealed = (
        keyring_of(session).seal(session, grant, reason_context, marking.reason, room_id)
        if marking.reason
        else None
    )


def current_marking(session: Session, grant: Grant, part: PartMarking) -> PartMarkingInput:
    """A readable part's marking, for an edit form."""
    reason = (
        open_part(session, grant, part, "classification_reason")  # type: ignore[arg-type]
        if part.classification_reason_sealed is not None
        else None
    )
    return PartMarkingInput(
        level=part.level,
        release=part.release,
        caveat_codes=part.caveat_codes,
        reader_ids=part.named_reader_ids,
        release_organization_ids=part.release_organization_ids,
        reason=reason,
    )


def fill_marking_choices(
    session: Session, subject: Subject, form: PartMarkingForm, room: Subcommittee, locale: str
) -> None:
    """Offer only caveats the subject holds, the room's current members, every organisation, and levels up
    to what the room may hold."""
    form.caveats.choices = [
        (c.code, f"{c.code} — {c.name(locale)}") for c in documents.selectable_caveats(session, subject)
    ]
    members = rooms.current_members(session, room.id, utcnow())
    form.readers.choices = [
        (str(m.user_id), f"{m.user.display_name} ({m.user.organization.name(locale)})") for m in members
    ]
    organizations = session.scalars(select(Organization).order_by(Organization.name_ja)).all()
    form.release_organizations.choices = [(str(o.id), o.name(locale)) for o in organizations]
    form.level.choices = [
        (value, label) for value, label in form.level.choices if value <= int(room.max_level)
    ]
