"""Every access decision, as a value: Decision(allowed, rule, reason). No Flask here.

A decision is made for a :class:`Subject` (who acts, with their clearance, compartments, organisation and
rooms resolved once per request) and a resource. Lists are filtered in SQL by filters built from the same
rules (:func:`visible_documents`), so a hidden item is never counted, paged or hinted at; a property-based
test holds the SQL filter and the per-object decision to the same answers.

Deny by default; secretariat and administrator roles are not bypasses.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from portal.accounts.caveats import Caveat, UserCaveat
from portal.accounts.models import Clearance, Organization, User
from portal.documents.models import Document, DocumentCaveat, DocumentReader
from portal.enums import (
    GOV_ONLY_CODE,
    CaveatKind,
    ClearanceBasis,
    Level,
    OrganizationKind,
    ReleaseMarking,
    Role,
    RoomRole,
    SubcommitteeKind,
)
from portal.meetings.models import ActionItem, Meeting
from portal.rooms.models import Membership, Subcommittee
from portal.security import audit
from portal.security.audit import Actor
from portal.thinktank.models import OutputAttachment, OutputCaveat, ThinkTankOutput

GOVERNMENT_KINDS = frozenset({OrganizationKind.GOVERNMENT, OrganizationKind.SECRETARIAT})
#: Roles that run or check the system and never read content.
NO_CONTENT_ROLES = frozenset({Role.ADMIN, Role.AUDITOR})
CONTENT_ROLES = frozenset({Role.SECRETARIAT, Role.MEMBER, Role.ANALYST})


@dataclass(frozen=True)
class Decision:
    allowed: bool
    #: Which rule decided (stable, for the audit trail).
    rule: str
    #: Stable reason code: OK, NOT_MEMBER, CLEARANCE_TOO_LOW, ...
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def allow(rule: str) -> Decision:
    return Decision(True, rule, "OK")


def deny(rule: str, reason: str) -> Decision:
    return Decision(False, rule, reason)


@dataclass(frozen=True)
class Subject:
    """Who acts, with everything the rules need, resolved at one moment ``now``."""

    user_id: uuid.UUID
    roles: frozenset[Role]
    organization_id: uuid.UUID
    organization_kind: OrganizationKind
    #: A valid 適合事業者 qualification (always True for government and secretariat organisations).
    organization_qualified: bool
    #: valid, none, expired, revoked
    clearance_state: str
    clearance_level: Level | None
    clearance_from_evaluation: bool
    compartments: frozenset[str]
    #: Rooms the user currently belongs to (not archived), and the role in each.
    room_roles: dict[uuid.UUID, RoomRole] = field(default_factory=dict)
    is_suspended: bool = False
    actor: Actor = field(default_factory=lambda: Actor(user_id=None))

    @property
    def room_ids(self) -> frozenset[uuid.UUID]:
        return frozenset(self.room_roles)

    @property
    def is_government(self) -> bool:
        return self.organization_kind in GOVERNMENT_KINDS

    @property
    def reads_content(self) -> bool:
        return (
            not self.is_suspended and bool(self.roles & CONTENT_ROLES) and not (self.roles & NO_CONTENT_ROLES)
        )

    @property
    def valid_level(self) -> Level | None:
        return self.clearance_level if self.clearance_state == "valid" else None

    @property
    def cesi_eligible(self) -> bool:
        return (
            self.valid_level == Level.CESI
            and self.clearance_from_evaluation
            and (self.is_government or self.organization_qualified)
        )


# --- building a subject ---------------------------------------------------------------------------


#: Calendar dates (a qualification's last valid day) are days in Japan.
LOCAL_TIMEZONE = ZoneInfo("Asia/Tokyo")


def organization_qualified(org: Organization, now: datetime) -> bool:
    if org.kind in GOVERNMENT_KINDS:
        return True
    if not org.qualification_reference or org.qualified_until is None:
        return False
    if org.qualification_revoked_at is not None and org.qualification_revoked_at <= now:
        return False
    return org.qualified_until >= now.astimezone(LOCAL_TIMEZONE).date()


def clearance_state(clearances: Iterable[Clearance], now: datetime) -> tuple[str, Clearance | None]:
    """The newest clearance record decides: a renewal is a new record; revoking marks the newest."""
    recorded = [c for c in clearances if c.granted_at <= now]
    if not recorded:
        return "none", None
    newest = max(recorded, key=lambda c: c.granted_at)
    if newest.revoked_at is not None and newest.revoked_at <= now:
        return "revoked", newest
    if newest.expires_at is not None and newest.expires_at <= now:
        return "expired", newest
    return "valid", newest


def load_subject(session: Session, user: User, now: datetime, actor: Actor | None = None) -> Subject:
    state, clearance = clearance_state(
        session.scalars(select(Clearance).where(Clearance.user_id == user.id)).all(), now
    )
    compartments = session.scalars(
        select(Caveat.code)
        .join(UserCaveat, UserCaveat.caveat_id == Caveat.id)
        .where(
            UserCaveat.user_id == user.id,
            Caveat.kind == CaveatKind.COMPARTMENT,
            or_(UserCaveat.revoked_at.is_(None), UserCaveat.revoked_at > now),
        )
    ).all()
    memberships = session.execute(
        select(Membership.subcommittee_id, Membership.room_role)
        .join(Subcommittee, Subcommittee.id == Membership.subcommittee_id)
        .where(
            Membership.user_id == user.id,
            Membership.valid_from <= now,
            or_(Membership.valid_to.is_(None), Membership.valid_to > now),
            Subcommittee.archived_at.is_(None),
        )
    ).all()
    room_roles: dict[uuid.UUID, RoomRole] = {}
    for room_id, role in memberships:
        if room_roles.get(room_id) != RoomRole.CHAIR:
            room_roles[room_id] = role
    organization = user.organization
    return Subject(
        user_id=user.id,
        roles=user.roles,
        organization_id=organization.id,
        organization_kind=organization.kind,
        organization_qualified=organization_qualified(organization, now),
        clearance_state=state,
        clearance_level=clearance.level if clearance else None,
        clearance_from_evaluation=bool(
            clearance and clearance.basis == ClearanceBasis.SUITABILITY_EVALUATION
        ),
        compartments=frozenset(compartments),
        room_roles=room_roles,
        is_suspended=user.is_suspended,
        actor=actor or Actor(user_id=user.id, organization_id=organization.id),
    )


# --- rooms ----------------------------------------------------------------------------------------


def visible_rooms(subject: Subject) -> ColumnElement[bool]:
    """SQL condition on Subcommittee: the rooms this subject may enter."""
    if not subject.reads_content or not subject.room_ids:
        return false()
    return and_(Subcommittee.id.in_(subject.room_ids), Subcommittee.archived_at.is_(None))


def decide_enter_room(subject: Subject, room: Subcommittee) -> Decision:
    if subject.is_suspended:
        return deny("room.enter", "ACCOUNT_SUSPENDED")
    if room.archived_at is not None:
        return deny("room.enter", "ROOM_ARCHIVED")
    if not subject.reads_content:
        return deny("room.enter", "ROLE_NO_CONTENT")
    if room.id not in subject.room_ids:
        return deny("room.enter", "NOT_MEMBER")
    return allow("room.enter")


# --- documents: reading ---------------------------------------------------------------------------


def _clearance_denial(subject: Subject, level: Level, rule: str) -> Decision | None:
    if level == Level.PUBLIC:
        return None
    if subject.clearance_state == "none":
        return deny(rule, "CLEARANCE_MISSING")
    if subject.clearance_state == "expired":
        return deny(rule, "CLEARANCE_EXPIRED")
    if subject.clearance_state == "revoked":
        return deny(rule, "CLEARANCE_REVOKED")
    if subject.valid_level is None or subject.valid_level < level:
        return deny(rule, "CLEARANCE_TOO_LOW")
    return None


class ReadableDocument(Protocol):
    """What the read decision looks at: a loaded :class:`Document`, or the few columns of one that a long
    list (search candidates) loads as rows instead of ORM objects. The decision is the same function."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def subcommittee_id(self) -> uuid.UUID: ...

    @property
    def level(self) -> Level: ...

    @property
    def caveats(self) -> Sequence[Caveat]: ...

    @property
    def named_reader_ids(self) -> frozenset[uuid.UUID]: ...


def decide_read_document(subject: Subject, document: ReadableDocument) -> Decision:
    """DESIGN.md §2, "Reading a document", rule by rule, in order."""
    rule = "document.read"
    if subject.is_suspended:
        return deny(rule, "ACCOUNT_SUSPENDED")
    if not subject.reads_content:
        return deny(rule, "ROLE_NO_CONTENT")
    if document.subcommittee_id not in subject.room_ids:
        return deny(rule, "NOT_MEMBER")
    denial = _clearance_denial(subject, document.level, rule)
    if denial is not None:
        return denial
    caveats = document.caveats
    if any(caveat.kind == CaveatKind.GOV_ONLY for caveat in caveats) and not subject.is_government:
        return deny(rule, "GOV_ONLY")
    compartments = {caveat.code for caveat in caveats if caveat.kind == CaveatKind.COMPARTMENT}
    if not compartments <= subject.compartments:
        return deny(rule, "CAVEAT_MISSING")
    readers = document.named_reader_ids
    if (readers or document.level == Level.CESI) and subject.user_id not in readers:
        return deny(rule, "NOT_NAMED_READER")
    if document.level == Level.CESI:
        if not subject.clearance_from_evaluation:
            return deny(rule, "NO_SUITABILITY_EVALUATION")
        if not (subject.is_government or subject.organization_qualified):
            return deny(rule, "ORG_NOT_QUALIFIED")
    return allow(rule)


def _caveats_held(subject: Subject, caveat_of_item: Select[Any]) -> ColumnElement[bool]:
    """SQL: the subject holds every compartment among the item's caveats (``caveat_of_item`` selects them,
    joined to :class:`Caveat`), and 政府限り only passes for government people."""
    missing_compartment = caveat_of_item.where(
        Caveat.kind == CaveatKind.COMPARTMENT, Caveat.code.not_in(subject.compartments or {""})
    )
    gov_only = caveat_of_item.where(Caveat.kind == CaveatKind.GOV_ONLY)
    return and_(~exists(missing_compartment), true() if subject.is_government else ~exists(gov_only))


def visible_documents(subject: Subject) -> ColumnElement[bool]:
    """SQL condition on Document, equal to :func:`decide_read_document` for every document."""
    if not subject.reads_content or not subject.room_ids:
        return false()
    level = subject.valid_level
    level_clause = Document.level <= int(level) if level is not None else Document.level == int(Level.PUBLIC)
    caveats_held = _caveats_held(
        subject,
        select(DocumentCaveat.document_id)
        .join(Caveat, Caveat.id == DocumentCaveat.caveat_id)
        .where(DocumentCaveat.document_id == Document.id),
    )
    # OFFSET 0 changes no result; it keeps PostgreSQL from turning this check (inside an OR) into a hash of
    # every named reader of every room, built on each query: a page of a room's list then probes the index
    # for the rows it reads, and costs the same with 10,000 documents or 100,000 (bench/README.md).
    any_reader = select(DocumentReader.document_id).where(DocumentReader.document_id == Document.id).offset(0)
    me_named = any_reader.where(DocumentReader.user_id == subject.user_id)
    return and_(
        Document.subcommittee_id.in_(subject.room_ids),
        level_clause,
        caveats_held,
        or_(and_(Document.level < int(Level.CESI), ~exists(any_reader)), exists(me_named)),
        true() if subject.cesi_eligible else Document.level < int(Level.CESI),
    )


# --- documents: classifying and creating ----------------------------------------------------------


@dataclass(frozen=True)
class Marking:
    """What a user asks to put on an item."""

    level: Level
    caveat_codes: frozenset[str]
    reader_ids: frozenset[uuid.UUID]
    reason: str | None


def _marking_denial(subject: Subject, marking: Marking, rule: str) -> Decision | None:
    """What every marking one applies must respect: one's own clearance, caveats one holds, a reason from
    CONFIDENTIAL up."""
    if marking.level > Level.PUBLIC and (subject.valid_level is None or subject.valid_level < marking.level):
        return deny(rule, "CLASSIFY_ABOVE_CLEARANCE")
    if marking.level == Level.CESI and not subject.cesi_eligible:
        return deny(rule, "CLASSIFY_ABOVE_CLEARANCE")
    if GOV_ONLY_CODE in marking.caveat_codes and not subject.is_government:
        return deny(rule, "CAVEAT_NOT_HELD")
    if not (marking.caveat_codes - {GOV_ONLY_CODE}) <= subject.compartments:
        return deny(rule, "CAVEAT_NOT_HELD")
    if marking.level >= Level.CONFIDENTIAL and not (marking.reason or "").strip():
        return deny(rule, "REASON_REQUIRED")
    return None


def decide_classify(
    subject: Subject, room: Subcommittee, marking: Marking, room_member_ids: set[uuid.UUID]
) -> Decision:
    """Nobody classifies above their own clearance or applies a caveat they do not hold."""
    rule = "document.classify"
    if marking.level > room.max_level:
        return deny(rule, "ROOM_LEVEL_EXCEEDED")
    denial = _marking_denial(subject, marking, rule)
    if denial is not None:
        return denial
    if not marking.reader_ids <= room_member_ids:
        return deny(rule, "READER_NOT_MEMBER")
    if marking.level == Level.CESI and not marking.reader_ids:
        return deny(rule, "CESI_NEEDS_READERS")
    return allow(rule)


def _decide_write(subject: Subject, document: Document, rule: str) -> Decision:
    """Writing to a document needs everything reading needs, and a seat that may write (not an observer's)."""
    read = decide_read_document(subject, document)
    if not read.allowed:
        return Decision(False, rule, read.reason)
    if subject.room_roles.get(document.subcommittee_id) == RoomRole.OBSERVER:
        return deny(rule, "OBSERVER_READ_ONLY")
    return allow(rule)


def decide_edit_document(subject: Subject, document: Document) -> Decision:
    return _decide_write(subject, document, "document.edit")


def decide_comment(subject: Subject, document: Document) -> Decision:
    return _decide_write(subject, document, "document.comment")


def decide_reclassify(
    subject: Subject,
    document: Document,
    room: Subcommittee,
    marking: Marking,
    room_member_ids: set[uuid.UUID],
) -> Decision:
    """Raising or lowering a level (not to PUBLIC): a writer of the document who may classify at the new
    level, with a reason whatever the level. Declassifying is :func:`decide_declassify`."""
    rule = "document.reclassify"
    write = _decide_write(subject, document, rule)
    if not write.allowed:
        return write
    if marking.level == Level.PUBLIC:
        return deny(rule, "DECLASSIFY_SEPARATELY")
    if not (marking.reason or "").strip():
        return deny(rule, "REASON_REQUIRED")
    classify = decide_classify(subject, room, marking, room_member_ids)
    if not classify.allowed:
        return Decision(False, rule, classify.reason)
    return allow(rule)


def decide_declassify(subject: Subject, document: Document) -> Decision:
    """Making a document PUBLIC is a separate, deliberate act of a classification authority: the room's
    chair, a secretariat member of the room, or whoever classified it — and never for CESI, whose
    designation is lifted by the government body that made it, outside the portal."""
    rule = "document.declassify"
    write = _decide_write(subject, document, rule)
    if not write.allowed:
        return write
    if document.level == Level.PUBLIC:
        return deny(rule, "ALREADY_PUBLIC")
    if document.level == Level.CESI:
        return deny(rule, "CESI_NOT_DECLASSIFIED_HERE")
    authority = (
        subject.room_roles.get(document.subcommittee_id) == RoomRole.CHAIR
        or Role.SECRETARIAT in subject.roles
        or subject.user_id == document.classified_by_id
    )
    if not authority:
        return deny(rule, "NOT_CLASSIFICATION_AUTHORITY")
    return allow(rule)


def decide_create_document(subject: Subject, room: Subcommittee) -> Decision:
    rule = "document.create"
    if subject.is_suspended:
        return deny(rule, "ACCOUNT_SUSPENDED")
    if not subject.reads_content:
        return deny(rule, "ROLE_NO_CONTENT")
    role = subject.room_roles.get(room.id)
    if role is None or room.archived_at is not None:
        return deny(rule, "NOT_MEMBER")
    if role == RoomRole.OBSERVER:
        return deny(rule, "OBSERVER_READ_ONLY")
    return allow(rule)


def decide_search(subject: Subject) -> Decision:
    """Searching needs a role that reads content; what it finds is filtered item by item."""
    if subject.is_suspended:
        return deny("search", "ACCOUNT_SUSPENDED")
    if not subject.reads_content:
        return deny("search", "ROLE_NO_CONTENT")
    return allow("search")


# --- administration and audit ---------------------------------------------------------------------


def decide_administer(subject: Subject, action: str, target_user_id: uuid.UUID | None = None) -> Decision:
    """The secretariat's administration. Nobody grants anything to themselves."""
    if subject.is_suspended:
        return deny(action, "ACCOUNT_SUSPENDED")
    if Role.SECRETARIAT not in subject.roles:
        return deny(action, "NOT_SECRETARIAT")
    if target_user_id is not None and target_user_id == subject.user_id:
        return deny(action, "SELF_GRANT")
    return allow(action)


def decide_view_audit(subject: Subject) -> Decision:
    if subject.is_suspended:
        return deny("audit.view", "ACCOUNT_SUSPENDED")
    if Role.AUDITOR not in subject.roles:
        return deny("audit.view", "NOT_AUDITOR")
    return allow("audit.view")


# --- enforcing ------------------------------------------------------------------------------------


class AccessDenied(Exception):
    """A denial, already audited. ``conceal``: answer as if the object did not exist (404)."""

    def __init__(self, decision: Decision, conceal: bool) -> None:
        super().__init__(decision.reason)
        self.decision = decision
        self.conceal = conceal


@dataclass(frozen=True)
class Grant:
    """Proof that the policy allowed this action on this object; opening sealed fields needs one."""

    decision: Decision
    user_id: uuid.UUID
    object_type: str
    object_id: str
    level: Level | None


def require(
    session: Session,
    subject: Subject,
    decision: Decision,
    *,
    object_type: str,
    object_id: object,
    level: Level | None = None,
    conceal: bool = False,
    record_allowed: bool = False,
    detail: dict[str, object] | None = None,
) -> Grant:
    """Enforce a decision: audit a denial (it survives the rollback) and raise, or return a grant.

    ``record_allowed`` audits an allowed read (reads of CONFIDENTIAL and above are always recorded).
    """
    if not decision.allowed or record_allowed or (level is not None and level >= Level.CONFIDENTIAL):
        audit.record(
            session,
            audit.AuditEvent(
                actor=subject.actor,
                action=decision.rule,
                allowed=decision.allowed,
                rule=decision.rule,
                reason=decision.reason,
                object_type=object_type,
                object_id=str(object_id),
                level=int(level) if level is not None else None,
                detail=dict(detail or {}),
                survives_rollback=True,
            ),
        )
    if not decision.allowed:
        raise AccessDenied(decision, conceal)
    return Grant(decision, subject.user_id, object_type, str(object_id), level)


def grant_own_secrets(user_id: uuid.UUID) -> Grant:
    """A user's own personal secrets (their TOTP secret) open for their own sign-in and enrolment only."""
    return Grant(allow("account.own_secret"), user_id, "user_secret", str(user_id), None)


def grant_demo_secret(is_demo_database: bool, user_id: uuid.UUID, is_demo_user: bool) -> Grant:
    """`portal demo totp`: only for demo accounts in a database made by `portal demo load`."""
    if not (is_demo_database and is_demo_user):
        raise AccessDenied(deny("demo.totp", "NOT_DEMO"), conceal=False)
    return Grant(allow("demo.totp"), user_id, "user_secret", str(user_id), None)


def maintenance_grant(object_type: str, object_id: object) -> Grant:
    """Key maintenance from the operator's command line (rotation, migration): re-seals, shows nothing.

    Only ``portal keys ...`` and migrations ask for it; their runs are audited as key operations.
    """
    return Grant(allow("keys.maintenance"), uuid.UUID(int=0), object_type, str(object_id), None)


def grant_from(decision: Decision, subject: Subject, object_type: str, object_id: object) -> Grant:
    """A grant from a decision already enforced (and audited) by :func:`require` in the same operation."""
    if not decision.allowed:
        raise AccessDenied(decision, conceal=False)
    return Grant(decision, subject.user_id, object_type, str(object_id), None)


def grant_for_listed(subject: Subject, document: ReadableDocument) -> Grant:
    """A document that the SQL filter listed: the per-object decision confirms it before any title opens."""
    decision = decide_read_document(subject, document)
    if not decision.allowed:
        raise AccessDenied(decision, conceal=True)
    return Grant(decision, subject.user_id, "document", str(document.id), document.level)


def record_change(
    session: Session,
    subject: Subject,
    action: str,
    *,
    object_type: str,
    object_id: object,
    level: Level | None = None,
    detail: dict[str, object] | None = None,
) -> None:
    """Audit a change; written only if the change commits."""
    audit.record(
        session,
        audit.AuditEvent(
            actor=subject.actor,
            action=action,
            allowed=True,
            rule=action,
            reason="OK",
            object_type=object_type,
            object_id=str(object_id),
            level=int(level) if level is not None else None,
            detail=dict(detail or {}),
        ),
    )


# --- think-tank outputs ---------------------------------------------------------------------------
#
# An output belongs to its publishing organisation, not to a room. Its analysts read it; a room's members
# read it once the secretariat or the room's chair has confirmed an attachment to that room; the stewards
# of a room it was offered to read it to decide. Clearance and caveats hold exactly as for documents.
# Outputs stop at CONFIDENTIAL: CESI needs named readers and a handler register, which outputs do not keep
# (an analysis that must be CESI is shared as a CESI document in a room instead).

#: The highest level an output may carry.
OUTPUT_MAX_LEVEL = Level.CONFIDENTIAL


def steward_room_ids(subject: Subject) -> frozenset[uuid.UUID]:
    """Rooms where the subject confirms attachments: the rooms they chair, and, for the secretariat, every
    room they currently belong to."""
    if Role.SECRETARIAT in subject.roles:
        return subject.room_ids
    return frozenset(room for room, role in subject.room_roles.items() if role == RoomRole.CHAIR)


def _is_publisher(subject: Subject, output: ThinkTankOutput) -> bool:
    return Role.ANALYST in subject.roles and subject.organization_id == output.organization_id


def _caveat_denial(subject: Subject, caveats: Iterable[Caveat], rule: str) -> Decision | None:
    caveats = list(caveats)
    if any(caveat.kind == CaveatKind.GOV_ONLY for caveat in caveats) and not subject.is_government:
        return deny(rule, "GOV_ONLY")
    compartments = {caveat.code for caveat in caveats if caveat.kind == CaveatKind.COMPARTMENT}
    if not compartments <= subject.compartments:
        return deny(rule, "CAVEAT_MISSING")
    return None


def decide_read_output(subject: Subject, output: ThinkTankOutput) -> Decision:
    rule = "output.read"
    if subject.is_suspended:
        return deny(rule, "ACCOUNT_SUSPENDED")
    if not subject.reads_content:
        return deny(rule, "ROLE_NO_CONTENT")
    attached_here = output.attached_room_ids & subject.room_ids
    offered_to_me = output.proposed_room_ids & steward_room_ids(subject)
    if not (_is_publisher(subject, output) or attached_here or offered_to_me):
        return deny(rule, "NOT_MEMBER")
    if output.level > OUTPUT_MAX_LEVEL:
        return deny(rule, "OUTPUT_LEVEL_CAPPED")
    denial = _clearance_denial(subject, output.level, rule)
    if denial is not None:
        return denial
    denial = _caveat_denial(subject, output.caveats, rule)
    return denial if denial is not None else allow(rule)  # (a denial is falsy: no `or` here)


def visible_outputs(subject: Subject) -> ColumnElement[bool]:
    """SQL condition on ThinkTankOutput, equal to :func:`decide_read_output` for every output."""
    if not subject.reads_content:
        return false()
    level = subject.valid_level
    public_only = ThinkTankOutput.level == int(Level.PUBLIC)
    level_clause = ThinkTankOutput.level <= int(level) if level is not None else public_only
    current = select(OutputAttachment.output_id).where(
        OutputAttachment.output_id == ThinkTankOutput.id, OutputAttachment.detached_at.is_(None)
    )
    stewarded = steward_room_ids(subject)
    reachable = or_(
        ThinkTankOutput.organization_id == subject.organization_id
        if Role.ANALYST in subject.roles
        else false(),
        exists(
            current.where(
                OutputAttachment.attached_at.is_not(None),
                OutputAttachment.subcommittee_id.in_(subject.room_ids),
            )
        )
        if subject.room_ids
        else false(),
        exists(
            current.where(
                OutputAttachment.attached_at.is_(None), OutputAttachment.subcommittee_id.in_(stewarded)
            )
        )
        if stewarded
        else false(),
    )
    caveats_held = _caveats_held(
        subject,
        select(OutputCaveat.output_id)
        .join(Caveat, Caveat.id == OutputCaveat.caveat_id)
        .where(OutputCaveat.output_id == ThinkTankOutput.id),
    )
    return and_(reachable, ThinkTankOutput.level <= int(OUTPUT_MAX_LEVEL), level_clause, caveats_held)


def decide_publish_output(subject: Subject, marking: Marking) -> Decision:
    """Analysts publish within their own clearance and caveats, up to CONFIDENTIAL."""
    rule = "output.publish"
    if subject.is_suspended:
        return deny(rule, "ACCOUNT_SUSPENDED")
    if not subject.reads_content:
        return deny(rule, "ROLE_NO_CONTENT")
    if Role.ANALYST not in subject.roles:
        return deny(rule, "NOT_ANALYST")
    if marking.level > OUTPUT_MAX_LEVEL:
        return deny(rule, "OUTPUT_LEVEL_CAPPED")
    denial = _marking_denial(subject, marking, rule)
    return denial if denial is not None else allow(rule)


def decide_offer_output(subject: Subject, output: ThinkTankOutput, room: Subcommittee) -> Decision:
    """The publishing analysts offer an output to a room they belong to (a steward then confirms)."""
    rule = "output.offer"
    read = decide_read_output(subject, output)
    if not read.allowed:
        return Decision(False, rule, read.reason)
    if not _is_publisher(subject, output):
        return deny(rule, "NOT_ANALYST")
    if room.id not in subject.room_ids:
        return deny(rule, "NOT_MEMBER")
    if output.level > room.max_level:
        return deny(rule, "ROOM_LEVEL_EXCEEDED")
    return allow(rule)


def _decide_steward(subject: Subject, output: ThinkTankOutput, room: Subcommittee, rule: str) -> Decision:
    read = decide_read_output(subject, output)
    if not read.allowed:
        return Decision(False, rule, read.reason)
    if room.archived_at is not None or room.id not in subject.room_ids:
        return deny(rule, "NOT_MEMBER")
    if room.id not in steward_room_ids(subject):
        return deny(rule, "NOT_SECRETARIAT_OR_CHAIR")
    return allow(rule)


def decide_attach_output(subject: Subject, output: ThinkTankOutput, room: Subcommittee) -> Decision:
    """The secretariat (a member of that room) or the room's chair attaches an output they can read, and
    only if the room may hold its level."""
    decision = _decide_steward(subject, output, room, "output.attach")
    if decision.allowed and output.level > room.max_level:
        return deny("output.attach", "ROOM_LEVEL_EXCEEDED")
    return decision


def decide_detach_output(subject: Subject, output: ThinkTankOutput, room: Subcommittee) -> Decision:
    return _decide_steward(subject, output, room, "output.detach")


def grant_for_listed_output(subject: Subject, output: ThinkTankOutput) -> Grant:
    """An output the SQL filter listed: the per-object decision confirms it before any title opens."""
    decision = decide_read_output(subject, output)
    if not decision.allowed:
        raise AccessDenied(decision, conceal=True)
    return Grant(decision, subject.user_id, "output", str(output.id), output.level)


# --- meetings and their parts ---------------------------------------------------------------------
#
# A meeting is seen by the members of its room cleared for the meeting's level (its title and place). Its
# parts (agenda items, findings, action items, minutes portions) are each read under the rules for a
# document: room, level, caveats, named readers, CESI. A part one may not read is shown as a withheld line.
# The secretariat members of the room and its chair run the meeting; only the chair approves minutes.


class MarkedPart(Protocol):
    """What the rules look at on a part of a meeting (see ``portal.meetings.marking.PartMarking``)."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def level(self) -> Level: ...

    @property
    def release(self) -> ReleaseMarking: ...

    @property
    def caveat_codes(self) -> frozenset[str]: ...

    @property
    def named_reader_ids(self) -> frozenset[uuid.UUID]: ...

    @property
    def origin_organization_id(self) -> uuid.UUID: ...

    @property
    def release_organization_ids(self) -> frozenset[uuid.UUID]: ...


def _content_denial(subject: Subject, rule: str) -> Decision | None:
    if subject.is_suspended:
        return deny(rule, "ACCOUNT_SUSPENDED")
    if not subject.reads_content:
        return deny(rule, "ROLE_NO_CONTENT")
    return None


def decide_see_meeting(subject: Subject, meeting: Meeting) -> Decision:
    rule = "meeting.read"
    denial = _content_denial(subject, rule)
    if denial is not None:
        return denial
    if meeting.subcommittee_id not in subject.room_ids:
        return deny(rule, "NOT_MEMBER")
    denial = _clearance_denial(subject, meeting.level, rule)
    return denial if denial is not None else allow(rule)


def visible_meetings(subject: Subject) -> ColumnElement[bool]:
    """SQL condition on Meeting, equal to :func:`decide_see_meeting` for every meeting."""
    if not subject.reads_content or not subject.room_ids:
        return false()
    level = subject.valid_level
    level_clause = Meeting.level <= int(level) if level is not None else Meeting.level == int(Level.PUBLIC)
    return and_(Meeting.subcommittee_id.in_(subject.room_ids), level_clause)


def decide_read_part(subject: Subject, room_id: uuid.UUID, part: MarkedPart, rule: str) -> Decision:
    """A part of a meeting, rule by rule as :func:`decide_read_document` (caveats by their codes)."""
    denial = _content_denial(subject, rule)
    if denial is not None:
        return denial
    if room_id not in subject.room_ids:
        return deny(rule, "NOT_MEMBER")
    denial = _clearance_denial(subject, part.level, rule)
    if denial is not None:
        return denial
    codes = part.caveat_codes
    if GOV_ONLY_CODE in codes and not subject.is_government:
        return deny(rule, "GOV_ONLY")
    if not (codes - {GOV_ONLY_CODE}) <= subject.compartments:
        return deny(rule, "CAVEAT_MISSING")
    readers = part.named_reader_ids
    if (readers or part.level == Level.CESI) and subject.user_id not in readers:
        return deny(rule, "NOT_NAMED_READER")
    if part.level == Level.CESI:
        if not subject.clearance_from_evaluation:
            return deny(rule, "NO_SUITABILITY_EVALUATION")
        if not (subject.is_government or subject.organization_qualified):
            return deny(rule, "ORG_NOT_QUALIFIED")
    return allow(rule)


def decide_manage_meeting(subject: Subject, room: Subcommittee, rule: str = "meeting.manage") -> Decision:
    """Schedule, change and run a room's meetings: the room's chair, or a secretariat member of the room."""
    denial = _content_denial(subject, rule)
    if denial is not None:
        return denial
    if room.archived_at is not None or room.id not in subject.room_ids:
        return deny(rule, "NOT_MEMBER")
    if room.id not in steward_room_ids(subject):
        return deny(rule, "NOT_SECRETARIAT_OR_CHAIR")
    return allow(rule)


def decide_mark_part(subject: Subject, room: Subcommittee, marking: Marking, rule: str) -> Decision:
    """Write a part under a marking: manage the meeting, within one's own clearance and caveats, and within
    what the room may hold."""
    decision = decide_manage_meeting(subject, room, rule)
    if not decision.allowed:
        return decision
    denial = _marking_denial(subject, marking, rule)
    if denial is not None:
        return denial
    if marking.level > room.max_level:
        return deny(rule, "ROOM_LEVEL_EXCEEDED")
    return allow(rule)


def decide_answer_attendance(subject: Subject, meeting: Meeting) -> Decision:
    """Members answer for themselves (observers too: they may attend, they do not vote)."""
    decision = decide_see_meeting(subject, meeting)
    return Decision(decision.allowed, "meeting.attendance", decision.reason)


def decide_approve_minutes(subject: Subject, room: Subcommittee) -> Decision:
    rule = "minutes.approve"
    denial = _content_denial(subject, rule)
    if denial is not None:
        return denial
    if room.archived_at is not None or room.id not in subject.room_ids:
        return deny(rule, "NOT_MEMBER")
    if subject.room_roles.get(room.id) != RoomRole.CHAIR:
        return deny(rule, "NOT_CHAIR")
    return allow(rule)


def decide_review_portion(
    subject: Subject, room_id: uuid.UUID, part: MarkedPart, is_attendee: bool
) -> Decision:
    """Comment on a portion of circulated minutes: an attendee of the meeting who may read the portion."""
    rule = "minutes.review"
    read = decide_read_part(subject, room_id, part, rule)
    if not read.allowed:
        return read
    if not is_attendee:
        return deny(rule, "NOT_ATTENDEE")
    return allow(rule)


def decide_release(subject: Subject, part: MarkedPart) -> Decision:
    """Whether the subject may take this part out of the portal in an export (TLP 2.0, DESIGN.md §2):
    RED only its named readers; AMBER+STRICT only people of its originating organisation; AMBER people of
    the originating organisation and of the organisations named on it; GREEN and CLEAR anyone who reads it."""
    rule = "export.release"
    if part.release == ReleaseMarking.RED and subject.user_id not in part.named_reader_ids:
        return deny(rule, "RELEASE_RESTRICTED")
    if part.release == ReleaseMarking.AMBER_STRICT and subject.organization_id != part.origin_organization_id:
        return deny(rule, "RELEASE_RESTRICTED")
    if part.release == ReleaseMarking.AMBER and subject.organization_id not in (
        part.release_organization_ids | {part.origin_organization_id}
    ):
        return deny(rule, "RELEASE_RESTRICTED")
    return allow(rule)


def grant_for_part(subject: Subject, decision: Decision, object_type: str, part: MarkedPart) -> Grant:
    """A part already decided readable (withheld parts are never opened)."""
    if not decision.allowed:
        raise AccessDenied(decision, conceal=True)
    return Grant(decision, subject.user_id, object_type, str(part.id), part.level)


def decide_schedule_meeting(subject: Subject, room: Subcommittee, level: Level) -> Decision:
    """Schedule or change a meeting at ``level``: manage the room's meetings, within one's own clearance
    and what the room may hold (a meeting's level covers only its title and place: no reason is asked)."""
    rule = "meeting.schedule"
    decision = decide_manage_meeting(subject, room, rule)
    if not decision.allowed:
        return decision
    if level > Level.PUBLIC and (subject.valid_level is None or subject.valid_level < level):
        return deny(rule, "CLASSIFY_ABOVE_CLEARANCE")
    if level == Level.CESI:
        return deny(rule, "MEETING_LEVEL_CAPPED")
    if level > room.max_level:
        return deny(rule, "ROOM_LEVEL_EXCEEDED")
    return allow(rule)


def decide_change_action_status(subject: Subject, room: Subcommittee, item: ActionItem) -> Decision:
    """Change an action item's status: someone who reads the item and is its owner, or who runs the room's
    meetings (its chair or a secretariat member of the room)."""
    rule = "action.status"
    read = decide_read_part(subject, room.id, item, rule)
    if not read.allowed:
        return read
    if item.owner_id == subject.user_id:
        return allow(rule)
    manage = decide_manage_meeting(subject, room, rule)
    if not manage.allowed:
        return deny(rule, "NOT_OWNER_OR_STEWARD")
    return allow(rule)


def decide_convene_meeting(subject: Subject, room: Subcommittee, level: Level) -> Decision:
    """招集: convene a meeting at short notice. Only a rapid-response room works this way (the others meet
    on a schedule); otherwise as for scheduling."""
    rule = "meeting.convene"
    decision = decide_schedule_meeting(subject, room, level)
    if not decision.allowed:
        return Decision(False, rule, decision.reason)
    if room.kind != SubcommitteeKind.RAPID_RESPONSE:
        return deny(rule, "NOT_RAPID_RESPONSE")
    return allow(rule)


# --- the risk register of risk-review rooms (issue 7) -------------------------------------------------
#
# A risk is read like a part of a meeting (room, level, caveats, named readers, CESI). The room's stewards
# (its chair, or a secretariat member of the room) keep the register; a risk's owner or a steward reviews
# it; the publishing analyst (a member of the room) or a steward proposes an attached assessment into the
# register, and only the chair accepts or rejects each proposed change.


def decide_keep_register(subject: Subject, room: Subcommittee, rule: str = "risk.manage") -> Decision:
    """Add, change or retire a room's risks: a steward of a risk-review room."""
    decision = decide_manage_meeting(subject, room, rule)
    if not decision.allowed:
        return decision
    if room.kind != SubcommitteeKind.RISK_REVIEW:
        return deny(rule, "NOT_RISK_REVIEW")
    return allow(rule)


def decide_mark_risk(subject: Subject, room: Subcommittee, marking: Marking, rule: str) -> Decision:
    """Write a risk under a marking: keep the register, within one's clearance and caveats and the room's
    highest level."""
    decision = decide_keep_register(subject, room, rule)
    if not decision.allowed:
        return decision
    return decide_mark_part(subject, room, marking, rule)


def decide_review_risk(
    subject: Subject, room: Subcommittee, risk: MarkedPart, owner_id: uuid.UUID
) -> Decision:
    """Record a review: someone who reads the risk and is its owner or a steward of the room."""
    rule = "risk.review"
    read = decide_read_part(subject, room.id, risk, rule)
    if not read.allowed:
        return read
    if room.archived_at is not None:
        return deny(rule, "NOT_MEMBER")
    if owner_id == subject.user_id:
        return allow(rule)
    if room.id not in steward_room_ids(subject):
        return deny(rule, "NOT_OWNER_OR_STEWARD")
    return allow(rule)


def decide_propose_assessment(subject: Subject, output: ThinkTankOutput, room: Subcommittee) -> Decision:
    """Propose a risk assessment into a room's register: it reads the output, the output is attached to the
    room, and the subject is its publishing analyst and a member of the room, or a steward of the room."""
    rule = "risk.propose"
    read = decide_read_output(subject, output)
    if not read.allowed:
        return Decision(False, rule, read.reason)
    if room.archived_at is not None or room.id not in subject.room_ids:
        return deny(rule, "NOT_MEMBER")
    if room.kind != SubcommitteeKind.RISK_REVIEW:
        return deny(rule, "NOT_RISK_REVIEW")
    if room.id not in output.attached_room_ids:
        return deny(rule, "NOT_ATTACHED")
    if not (_is_publisher(subject, output) or room.id in steward_room_ids(subject)):
        return deny(rule, "NOT_ANALYST_OR_STEWARD")
    return allow(rule)


def decide_settle_proposal(subject: Subject, room: Subcommittee, proposal: MarkedPart) -> Decision:
    """Accept or reject a proposed change: the room's chair, who reads it."""
    rule = "risk.proposal.decide"
    read = decide_read_part(subject, room.id, proposal, rule)
    if not read.allowed:
        return read
    if room.archived_at is not None:
        return deny(rule, "NOT_MEMBER")
    if subject.room_roles.get(room.id) != RoomRole.CHAIR:
        return deny(rule, "NOT_CHAIR")
    return allow(rule)


# --- rapid-response rooms: situation board and countermeasures -------------------------------------
#
# Reports and countermeasures are parts with a marking, read as any part (``decide_read_part``). Any member of
# a rapid-response room whose seat writes (not an observer) posts situation reports and proposes
# countermeasures, within their clearance, caveats and the room's ceiling. Only the room's stewards (its chair
# or a secretariat member of the room) change a countermeasure's status; adopting one creates action items
# under the meetings' rules.


def decide_write_rapid_response(
    subject: Subject, room: Subcommittee, marking: Marking, rule: str
) -> Decision:
    """Post a situation report or propose a countermeasure under ``marking``."""
    denial = _content_denial(subject, rule)
    if denial is not None:
        return denial
    role = subject.room_roles.get(room.id)
    if role is None or room.archived_at is not None:
        return deny(rule, "NOT_MEMBER")
    if room.kind != SubcommitteeKind.RAPID_RESPONSE:
        return deny(rule, "NOT_RAPID_RESPONSE")
    if role == RoomRole.OBSERVER:
        return deny(rule, "OBSERVER_READ_ONLY")
    denial = _marking_denial(subject, marking, rule)
    if denial is not None:
        return denial
    if marking.level > room.max_level:
        return deny(rule, "ROOM_LEVEL_EXCEEDED")
    return allow(rule)


def decide_change_countermeasure(subject: Subject, room: Subcommittee, part: MarkedPart) -> Decision:
    """Move a countermeasure between statuses: a steward of the room who reads it."""
    rule = "countermeasure.status"
    read = decide_read_part(subject, room.id, part, rule)
    if not read.allowed:
        return read
    manage = decide_manage_meeting(subject, room, rule)
    if not manage.allowed:
        return manage
    return allow(rule)


# --- policy-coordination rooms (issue 7): work plan and recommendations ----------------------------------


def decide_steward_policy_room(subject: Subject, room: Subcommittee, rule: str) -> Decision:
    """Write a policy-coordination room's work plan (themes, milestones) and its recommendations: the
    room's stewards (its chair, or a secretariat member of the room), as for its meetings; only in a room
    of that kind."""
    decision = decide_manage_meeting(subject, room, rule)
    if not decision.allowed:
        return decision
    if room.kind != SubcommitteeKind.POLICY_COORDINATION:
        return deny(rule, "NOT_POLICY_COORDINATION")
    return allow(rule)


def decide_move_recommendation(
    subject: Subject, room: Subcommittee, part: MarkedPart, allowed_move: bool
) -> Decision:
    """Move a recommendation along its lifecycle (drafted → under deliberation → agreed → submitted →
    reflected; or from deliberation back to drafting): a steward who reads it, one step at a time
    (``allowed_move``: the lifecycle permits this step from the current status)."""
    rule = "recommendation.transition"
    read = decide_read_part(subject, room.id, part, rule)
    if not read.allowed:
        return read
    decision = decide_steward_policy_room(subject, room, rule)
    if not decision.allowed:
        return decision
    if not allowed_move:
        return deny(rule, "TRANSITION_NOT_ALLOWED")
    return allow(rule)


# --- tabletop exercises (机上演習) of risk-review rooms -------------------------------------------
#
# An exercise and each of its injects carry a part marking and are read like a meeting's parts. The room's
# stewards plan them (while the exercise is planned); the facilitator (a steward named on the exercise)
# runs it and writes the after-action record; participants (members of the room) see the injects revealed
# so far and record their responses. Nobody else in the room sees the run: the injects are the exercise.


def decide_plan_exercise(subject: Subject, room: Subcommittee, rule: str) -> Decision:
    """Create, edit and delete exercises and their injects: the room's stewards, in a risk-review room."""
    decision = decide_manage_meeting(subject, room, rule)
    if not decision.allowed:
        return decision
    if room.kind != SubcommitteeKind.RISK_REVIEW:
        return deny(rule, "NOT_RISK_REVIEW")
    return allow(rule)


def decide_run_exercise(
    subject: Subject, room: Subcommittee, facilitator_id: uuid.UUID, rule: str
) -> Decision:
    """Start, reveal, finish and write the after-action: the exercise's facilitator, a steward still."""
    decision = decide_manage_meeting(subject, room, rule)
    if not decision.allowed:
        return decision
    if subject.user_id != facilitator_id:
        return deny(rule, "NOT_FACILITATOR")
    return allow(rule)


def decide_follow_exercise(
    subject: Subject,
    room: Subcommittee,
    facilitator_id: uuid.UUID,
    participant_ids: frozenset[uuid.UUID],
    rule: str = "exercise.follow",
) -> Decision:
    """See the revealed injects and the responses: the participants, the facilitator and the stewards."""
    denial = _content_denial(subject, rule)
    if denial is not None:
        return denial
    if room.id not in subject.room_ids:
        return deny(rule, "NOT_MEMBER")
    if (
        subject.user_id in participant_ids
        or subject.user_id == facilitator_id
        or room.id in steward_room_ids(subject)
    ):
        return allow(rule)
    return deny(rule, "NOT_PARTICIPANT")


def decide_respond_inject(
    subject: Subject, room: Subcommittee, participant_ids: frozenset[uuid.UUID], running: bool
) -> Decision:
    """Record a response: a participant, while the exercise runs (reading the inject is decided apart)."""
    rule = "exercise.respond"
    denial = _content_denial(subject, rule)
    if denial is not None:
        return denial
    if room.id not in subject.room_ids:
        return deny(rule, "NOT_MEMBER")
    if subject.user_id not in participant_ids:
        return deny(rule, "NOT_PARTICIPANT")
    if not running:
        return deny(rule, "EXERCISE_NOT_RUNNING")
    return allow(rule)
