"""The secretariat's administration: organisations, users, invitations, clearances, caveats, rooms and
memberships. Every operation asks the policy first (secretariat only, never for oneself) and is audited."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import distinct, func, or_, select
from sqlalchemy.orm import Session

from portal.accounts import service as accounts
from portal.accounts.caveats import Caveat, UserCaveat
from portal.accounts.models import Clearance, Invitation, Organization, User
from portal.db import utcnow
from portal.enums import CaveatKind, Level, OrganizationKind, Role, RoomRole, Sector, SubcommitteeKind
from portal.rooms.models import Membership, Subcommittee
from portal.security import passwords, policy
from portal.security.policy import Subject, clearance_state

INVITATION_LIFETIME = timedelta(hours=72)


class AdminError(Exception):
    """An administration request that cannot be done as asked; ``code`` is translated by the view."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _require(
    session: Session, subject: Subject, action: str, target: User | None = None, **detail: object
) -> None:
    policy.require(
        session,
        subject,
        policy.decide_administer(subject, action, target.id if target else None),
        object_type="user" if target else "administration",
        object_id=target.id if target else action,
        detail=detail,
    )


def _changed(
    session: Session, subject: Subject, action: str, object_type: str, object_id: object, **detail: object
) -> None:
    policy.record_change(
        session, subject, action, object_type=object_type, object_id=object_id, detail=detail
    )


# --- organisations --------------------------------------------------------------------------------


def create_organization(
    session: Session,
    subject: Subject,
    *,
    name_ja: str,
    name_en: str,
    kind: OrganizationKind,
    qualification_reference: str | None,
    qualified_until: date | None,
    sector: Sector | None = None,
) -> Organization:
    _require(session, subject, "admin.organization_create")
    if qualification_reference and kind != OrganizationKind.PRIVATE:
        raise AdminError("qualification_private_only")
    org = Organization(
        id=uuid.uuid4(),
        name_ja=name_ja.strip(),
        name_en=name_en.strip(),
        kind=kind,
        qualification_reference=(qualification_reference or "").strip() or None,
        qualified_until=qualified_until,
        sector=sector,
    )
    session.add(org)
    session.flush()
    _changed(session, subject, "admin.organization_create", "organization", org.id, kind=kind.value)
    return org


def set_sector(session: Session, subject: Subject, org: Organization, sector: Sector | None) -> None:
    """The sector an organisation speaks for (policy-coordination rooms show whose voice is missing)."""
    _require(session, subject, "admin.organization_sector")
    before = org.sector
    org.sector = sector
    session.flush()
    _changed(
        session, subject, "admin.organization_sector", "organization", org.id,
        before=before.value if before else None, after=sector.value if sector else None,
    )  # fmt: skip


def set_qualification(
    session: Session,
    subject: Subject,
    org: Organization,
    *,
    reference: str | None,
    valid_until: date | None,
    revoke: bool,
) -> None:
    _require(session, subject, "admin.qualification")
    if org.kind != OrganizationKind.PRIVATE:
        raise AdminError("qualification_private_only")
    if revoke:
        org.qualification_revoked_at = utcnow()
    else:
        if not reference or valid_until is None:
            raise AdminError("qualification_incomplete")
        org.qualification_reference = reference.strip()
        org.qualified_until = valid_until
        org.qualification_revoked_at = None
    _changed(
        session,
        subject,
        "admin.qualification_revoke" if revoke else "admin.qualification_set",
        "organization",
        org.id,
        valid_until=valid_until.isoformat() if valid_until else None,
    )


# --- users and invitations ------------------------------------------------------------------------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_user(
    session: Session,
    subject: Subject,
    *,
    email: str,
    display_name: str,
    organization: Organization,
    roles: list[Role],
    locale: str = "ja",
) -> tuple[User, str]:
    """Create the account (no password yet) and a one-time link valid for 72 hours; return the token."""
    _require(session, subject, "admin.invite")
    if not roles:
        raise AdminError("roles_required")
    try:
        user = accounts.create_user(
            session,
            email=email,
            display_name=display_name.strip(),
            organization=organization,
            roles=roles,
            password=None,
            locale=locale,
        )
    except accounts.AccountError as error:
        raise AdminError(error.code) from error
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        token_hash=token_digest(token),
        user_id=user.id,
        invited_by_id=subject.user_id,
        expires_at=utcnow() + INVITATION_LIFETIME,
    )
    session.add(invitation)
    session.flush()
    _changed(session, subject, "admin.invite", "user", user.id, roles=sorted(r.value for r in roles))
    return user, token


def find_invitation(session: Session, token: str, now: datetime) -> Invitation | None:
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == token_digest(token)))
    if invitation is None or not invitation.is_usable(now):
        return None
    return invitation


def accept_invitation(session: Session, invitation: Invitation, password: str, actor: policy.Actor) -> User:
    """Set the invited user's password; MFA enrolment follows at once."""
    try:
        normalized = passwords.check_new_password(password)
    except passwords.PasswordRejected as rejected:
        raise AdminError(f"password_{rejected.code}") from rejected
    user = invitation.user
    if user.email in normalized.casefold():
        raise AdminError("password_contains_email")
    user.password_hash = passwords.hash_password(normalized)
    user.password_changed_at = utcnow()
    invitation.used_at = utcnow()
    accounts.audit_account_event(session, actor, "account.invitation_accept", user=user)
    return user


def set_suspended(session: Session, subject: Subject, user: User, suspended: bool) -> None:
    action = "admin.user_suspend" if suspended else "admin.user_reactivate"
    _require(session, subject, action, user)
    user.is_suspended = suspended
    if suspended:
        accounts.revoke_other_sessions(session, user, keep_session_id=None)
    _changed(session, subject, action, "user", user.id)


# --- clearances -----------------------------------------------------------------------------------


def grant_clearance(
    session: Session,
    subject: Subject,
    user: User,
    *,
    level: Level,
    evaluation_reference: str | None,
    evaluated_on: date | None,
    expires_at: datetime | None,
    reason: str,
) -> Clearance:
    """Grant or renew (a renewal is a new record that supersedes the previous one)."""
    _require(session, subject, "admin.clearance_grant", user, level=int(level))
    if not reason.strip():
        raise AdminError("reason_required")
    try:
        clearance = accounts.record_clearance(
            session,
            user,
            level,
            granted_by=session.get(User, subject.user_id),
            secrets_grant=policy.grant_from(
                policy.decide_administer(subject, "admin.clearance_grant", user.id),
                subject,
                "user_secret",
                user.id,
            ),
            evaluation_reference=(evaluation_reference or "").strip() or None,
            evaluated_on=evaluated_on,
            expires_at=expires_at,
            reason=reason.strip(),
        )
    except accounts.AccountError as error:
        raise AdminError(error.code) from error
    policy.record_change(
        session,
        subject,
        "admin.clearance_grant",
        object_type="user",
        object_id=user.id,
        level=level,
        detail={"basis": clearance.basis.value, "expires_at": expires_at.isoformat() if expires_at else None},
    )
    return clearance


def revoke_clearance(session: Session, subject: Subject, user: User, reason: str) -> None:
    _require(session, subject, "admin.clearance_revoke", user)
    if not reason.strip():
        raise AdminError("reason_required")
    state, newest = clearance_state(user.clearances, utcnow())
    if newest is None or state != "valid":
        raise AdminError("no_current_clearance")
    newest.revoked_at = utcnow()
    newest.reason = f"{newest.reason or ''}\n[revoked] {reason.strip()}".strip()
    policy.record_change(
        session, subject, "admin.clearance_revoke", object_type="user", object_id=user.id, level=newest.level
    )


# --- caveats --------------------------------------------------------------------------------------


def create_compartment(
    session: Session, subject: Subject, *, code: str, name_ja: str, name_en: str
) -> Caveat:
    _require(session, subject, "admin.caveat_create")
    code = code.strip().upper()
    if session.scalar(select(Caveat).where(Caveat.code == code)) is not None:
        raise AdminError("caveat_code_taken")
    caveat = Caveat(id=uuid.uuid4(), code=code, kind=CaveatKind.COMPARTMENT, name_ja=name_ja, name_en=name_en)
    session.add(caveat)
    session.flush()
    _changed(session, subject, "admin.caveat_create", "caveat", caveat.id, code=code)
    return caveat


def held_compartments(session: Session, user: User, now: datetime) -> list[UserCaveat]:
    return list(
        session.scalars(
            select(UserCaveat).where(
                UserCaveat.user_id == user.id,
                or_(UserCaveat.revoked_at.is_(None), UserCaveat.revoked_at > now),
            )
        )
    )


def grant_compartment(session: Session, subject: Subject, user: User, caveat: Caveat, reason: str) -> None:
    _require(session, subject, "admin.caveat_grant", user, caveat=caveat.code)
    if caveat.kind != CaveatKind.COMPARTMENT:
        raise AdminError("caveat_not_grantable")
    if any(held.caveat_id == caveat.id for held in held_compartments(session, user, utcnow())):
        raise AdminError("caveat_already_held")
    session.add(
        UserCaveat(
            user_id=user.id, caveat_id=caveat.id, granted_by_id=subject.user_id, reason=reason.strip() or None
        )
    )
    _changed(session, subject, "admin.caveat_grant", "user", user.id, caveat=caveat.code)


def revoke_compartment(session: Session, subject: Subject, held: UserCaveat) -> None:
    user = session.get(User, held.user_id)
    assert user is not None
    _require(session, subject, "admin.caveat_revoke", user, caveat=held.caveat.code)
    held.revoked_at = utcnow()
    _changed(session, subject, "admin.caveat_revoke", "user", user.id, caveat=held.caveat.code)


# --- rooms and memberships ------------------------------------------------------------------------


def create_room(
    session: Session,
    subject: Subject,
    *,
    kind: SubcommitteeKind,
    name_ja: str,
    name_en: str,
    description_ja: str,
    description_en: str,
    max_level: Level,
) -> Subcommittee:
    _require(session, subject, "admin.room_create")
    room = Subcommittee(
        id=uuid.uuid4(),
        kind=kind,
        name_ja=name_ja.strip(),
        name_en=name_en.strip(),
        description_ja=description_ja.strip(),
        description_en=description_en.strip(),
        max_level=max_level,
    )
    session.add(room)
    session.flush()
    policy.record_change(
        session, subject, "admin.room_create", object_type="room", object_id=room.id, level=max_level,
        detail={"kind": kind.value},
    )  # fmt: skip
    return room


def archive_room(session: Session, subject: Subject, room: Subcommittee) -> None:
    _require(session, subject, "admin.room_archive")
    if room.archived_at is None:
        room.archived_at = utcnow()
    _changed(session, subject, "admin.room_archive", "room", room.id)


def voting_member_count(session: Session, room_id: uuid.UUID, now: datetime) -> int:
    """How many people hold a current chair or member seat (observers never count towards a quorum)."""
    return int(
        session.scalar(
            select(func.count(distinct(Membership.user_id))).where(
                Membership.subcommittee_id == room_id,
                Membership.room_role.in_([RoomRole.CHAIR, RoomRole.MEMBER]),
                Membership.valid_from <= now,
                or_(Membership.valid_to.is_(None), Membership.valid_to > now),
            )
        )
        or 0
    )


def set_quorum(session: Session, subject: Subject, room: Subcommittee, quorum: int | None) -> None:
    """Set a room's quorum (1 to its number of voting members), or clear it (None: a majority)."""
    _require(session, subject, "admin.room_quorum", room=str(room.id))
    if room.archived_at is not None:
        raise AdminError("room_archived")
    voting = voting_member_count(session, room.id, utcnow())
    if quorum is not None and not 1 <= quorum <= voting:
        raise AdminError("quorum_out_of_range")
    before = room.quorum
    room.quorum = quorum
    _changed(session, subject, "admin.room_quorum", "room", room.id, before=before, after=quorum)


def add_membership(
    session: Session, subject: Subject, room: Subcommittee, user: User, room_role: RoomRole
) -> Membership:
    _require(session, subject, "admin.membership_add", user, room=str(room.id))
    if room.archived_at is not None:
        raise AdminError("room_archived")
    now = utcnow()
    current = session.scalars(
        select(Membership).where(Membership.subcommittee_id == room.id, Membership.user_id == user.id)
    ).all()
    if any(m.is_current(now) for m in current):
        raise AdminError("already_member")
    membership = Membership(subcommittee_id=room.id, user_id=user.id, room_role=room_role, valid_from=now)
    session.add(membership)
    session.flush()
    _changed(
        session, subject, "admin.membership_add", "user", user.id, room=str(room.id), role=room_role.value
    )
    return membership


def end_membership(session: Session, subject: Subject, membership: Membership) -> None:
    user = session.get(User, membership.user_id)
    assert user is not None
    _require(session, subject, "admin.membership_end", user, room=str(membership.subcommittee_id))
    if membership.valid_to is None or membership.valid_to > utcnow():
        membership.valid_to = utcnow()
    _changed(session, subject, "admin.membership_end", "user", user.id, room=str(membership.subcommittee_id))


# --- lists for the pages --------------------------------------------------------------------------


def require_secretariat(session: Session, subject: Subject, action: str) -> None:
    """For pages that only show administration data: secretariat only, audited when refused."""
    _require(session, subject, action)


def all_organizations(session: Session) -> list[Organization]:
    return list(session.scalars(select(Organization).order_by(Organization.kind, Organization.name_ja)))


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.email)))


def all_rooms(session: Session) -> list[Subcommittee]:
    return list(
        session.scalars(select(Subcommittee).order_by(Subcommittee.archived_at.desc(), Subcommittee.name_ja))
    )


def all_caveats(session: Session) -> list[Caveat]:
    return list(session.scalars(select(Caveat).order_by(Caveat.code)))


def open_invitations(session: Session, now: datetime) -> list[Invitation]:
    return [
        invitation
        for invitation in session.scalars(select(Invitation).order_by(Invitation.created_at.desc()))
        if invitation.is_usable(now)
    ]
