"""Every way an account changes: sign-in, MFA enrolment and use, passwords, sessions, language."""

from __future__ import annotations

import base64
import hmac
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.accounts.models import Clearance, LoginSession, Organization, RecoveryCode, User, UserRole
from portal.accounts.timezones import is_valid_zone
from portal.db import utcnow
from portal.enums import ClearanceBasis, Level, Role
from portal.security import audit, mfa, passwords, policy, throttle
from portal.security.audit import Actor
from portal.security.crypto import FieldContext
from portal.security.keyring import keyring_of
from portal.security.policy import Grant, clearance_state

SUPPORTED_LOCALES = ("ja", "en")


class AccountError(Exception):
    """A request about an account that cannot be done; ``code`` is stable and translated by the view."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def audit_account_event(
    session: Session,
    actor: Actor,
    action: str,
    *,
    allowed: bool = True,
    reason: str = "OK",
    user: User | None = None,
    survives_rollback: bool | None = None,
) -> None:
    """Record a sign-in or account event (never a password, code or secret)."""
    audit.record(
        session,
        audit.AuditEvent(
            actor=actor,
            action=action,
            allowed=allowed,
            rule=action,
            reason=reason,
            object_type="user" if user else None,
            object_id=str(user.id) if user else None,
            survives_rollback=(not allowed) if survives_rollback is None else survives_rollback,
        ),
    )


def normalize_email(email: str) -> str:
    return unicodedata.normalize("NFKC", email).strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


@dataclass(frozen=True)
class PasswordOutcome:
    #: ok, invalid, throttled
    status: str
    user: User | None = None
    locked_until: datetime | None = None


def check_password_sign_in(
    session: Session,
    email: str,
    password: str,
    ip_address: str,
    rules: throttle.ThrottleRules,
    now: datetime | None = None,
    actor: Actor | None = None,
) -> PasswordOutcome:
    """The first sign-in step. Unknown e-mails and wrong passwords look and cost the same."""
    now = now or utcnow()
    actor = actor or Actor(user_id=None, ip_address=ip_address)
    email = normalize_email(email)[:254]
    until = throttle.locked_until(session, email, ip_address, now)
    user = find_user_by_email(session, email)
    if until is not None:
        throttle.record_attempt(session, email, ip_address, "throttled", now)
        audit_account_event(session, actor, "session.sign_in", allowed=False, reason="THROTTLED", user=user)
        return PasswordOutcome("throttled", locked_until=until)
    password_ok = passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok or user.is_suspended:
        started = throttle.record_failure(session, email, ip_address, now, rules)
        reason = "ACCOUNT_SUSPENDED" if user is not None and password_ok else "BAD_CREDENTIALS"
        audit_account_event(session, actor, "session.sign_in", allowed=False, reason=reason, user=user)
        if started is not None:
            return PasswordOutcome("throttled", locked_until=started)
        return PasswordOutcome("invalid")
    throttle.record_attempt(session, email, ip_address, "success", now)
    if user.password_hash and passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return PasswordOutcome("ok", user=user)


@dataclass(frozen=True)
class SecondFactorOutcome:
    accepted: bool
    replayed: bool = False
    used_recovery_code: bool = False
    recovery_codes_left: int = 0


def check_second_factor(
    session: Session, user: User, code: str, at: float | None = None
) -> SecondFactorOutcome:
    """A TOTP code (never the same time step twice) or an unused recovery code."""
    secret = totp_secret(session, user, policy.grant_own_secrets(user.id))
    if secret is None:
        return SecondFactorOutcome(False)
    if mfa.looks_like_recovery_code(code):
        return _use_recovery_code(session, user, code)
    result = mfa.verify_totp(secret, code, user.totp_last_step, at=at)
    if result.accepted:
        user.totp_last_step = result.step
        session.flush()
        return SecondFactorOutcome(True)
    return SecondFactorOutcome(False, replayed=result.replayed)


def _use_recovery_code(session: Session, user: User, code: str) -> SecondFactorOutcome:
    digest = mfa.hash_recovery_code(code)
    unused = session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).all()
    match = None
    for row in unused:
        if hmac.compare_digest(row.code_hash, digest) and match is None:
            match = row
    if match is None:
        return SecondFactorOutcome(False)
    match.used_at = utcnow()
    session.flush()
    return SecondFactorOutcome(True, used_recovery_code=True, recovery_codes_left=len(unused) - 1)


def complete_enrolment(
    session: Session, user: User, secret: str, code: str, at: float | None = None
) -> list[str] | None:
    """Confirm a new TOTP secret with a code; return ten new recovery codes, or None if it is wrong."""
    result = mfa.verify_totp(secret, code, last_used_step=0, at=at)
    if not result.accepted:
        return None
    store_totp_secret(session, user, policy.grant_own_secrets(user.id), secret)
    user.totp_last_step = result.step
    user.mfa_enrolled_at = utcnow()
    codes = mfa.new_recovery_codes()
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.add_all(RecoveryCode(user_id=user.id, code_hash=mfa.hash_recovery_code(c)) for c in codes)
    session.flush()
    return codes


def change_password(
    session: Session, user: User, current_password: str, new_password: str, keep_session_id: uuid.UUID | None
) -> None:
    """Change the password and sign out every other session of the user."""
    if not passwords.verify_password(user.password_hash, current_password):
        raise AccountError("wrong_current_password")
    try:
        normalized = passwords.check_new_password(new_password)
    except passwords.PasswordRejected as rejected:
        raise AccountError(f"password_{rejected.code}") from rejected
    if user.email in normalized.casefold():
        raise AccountError("password_contains_email")
    user.password_hash = passwords.hash_password(normalized)
    user.password_changed_at = utcnow()
    revoke_other_sessions(session, user, keep_session_id)


def active_sessions(session: Session, user: User) -> list[LoginSession]:
    return list(
        session.scalars(
            select(LoginSession)
            .where(LoginSession.user_id == user.id, LoginSession.stage == "active")
            .order_by(LoginSession.last_seen_at.desc())
        )
    )


def purge_expired_sessions(session: Session, now: datetime, idle: timedelta, absolute: timedelta) -> None:
    """Delete session records that can no longer be used (anonymous ones included)."""
    session.execute(
        delete(LoginSession).where(
            (LoginSession.last_seen_at < now - idle) | (LoginSession.authenticated_at < now - absolute)
        )
    )


def revoke_other_sessions(session: Session, user: User, keep_session_id: uuid.UUID | None) -> int:
    statement = delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep_session_id is not None:
        statement = statement.where(LoginSession.id != keep_session_id)
    result = session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


def set_locale(user: User, locale: str) -> None:
    if locale not in SUPPORTED_LOCALES:
        raise AccountError("unknown_locale")
    user.locale = locale


def set_time_zone(session: Session, actor: Actor, user: User, zone: str) -> None:
    """Change where the user reads and types times; audited with the old and new zone (no content)."""
    if not is_valid_zone(zone):
        raise AccountError("unknown_time_zone")
    before = user.time_zone
    user.time_zone = zone
    audit.record(
        session,
        audit.AuditEvent(
            actor=actor, action="account.set_time_zone", allowed=True, rule="account.set_time_zone",
            reason="OK", object_type="user", object_id=str(user.id), detail={"from": before, "to": zone},
        ),
    )  # fmt: skip


def current_clearance(user: User, now: datetime) -> Clearance | None:
    """The clearance the policy applies now: the newest record decides (a revoked or lapsed newest record
    leaves none, even when an older, superseded record has not expired)."""
    state, newest = clearance_state(user.clearances, now)
    return newest if state == "valid" else None


def create_user(
    session: Session,
    *,
    email: str,
    display_name: str,
    organization: Organization,
    roles: list[Role],
    password: str | None,
    locale: str = "ja",
    is_demo: bool = False,
) -> User:
    email = normalize_email(email)
    if find_user_by_email(session, email) is not None:
        raise AccountError("email_taken")
    password_hash = None
    if password is not None:
        try:
            password_hash = passwords.hash_password(passwords.check_new_password(password))
        except passwords.PasswordRejected as rejected:
            raise AccountError(f"password_{rejected.code}") from rejected
    user = User(
        email=email,
        display_name=display_name,
        organization=organization,
        password_hash=password_hash,
        password_changed_at=utcnow() if password_hash else None,
        locale=locale,
        is_demo=is_demo,
    )
    user.role_rows = [UserRole(role=role) for role in roles]
    session.add(user)
    session.flush()
    return user


def record_clearance(
    session: Session,
    user: User,
    level: Level,
    *,
    granted_by: User | None,
    secrets_grant: Grant,
    evaluation_reference: str | None = None,
    evaluated_on: date | None = None,
    expires_at: datetime | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> Clearance:
    """Record a clearance. CESI rests on a suitability evaluation and lapses ten years after it."""
    now = now or utcnow()
    basis = ClearanceBasis.INTERNAL
    if level == Level.CESI:
        if not evaluation_reference or evaluated_on is None:
            raise AccountError("cesi_needs_evaluation")
        basis = ClearanceBasis.SUITABILITY_EVALUATION
        statutory_end = _ten_years_after(evaluated_on)
        expires_at = min(expires_at, statutory_end) if expires_at else statutory_end
    clearance = Clearance(
        id=uuid.uuid4(),
        user=user,
        user_id=user.id,
        level=level,
        basis=basis,
        evaluated_on=evaluated_on,
        granted_by_id=granted_by.id if granted_by else None,
        granted_at=now,
        expires_at=expires_at,
        reason=reason,
    )
    session.add(clearance)
    if evaluation_reference:
        clearance.evaluation_reference_sealed = keyring_of(session).seal(
            session, secrets_grant, clearance.reference_context(), evaluation_reference, None, "personal"
        )
    session.flush()
    return clearance


def evaluation_reference(session: Session, secrets_grant: Grant, clearance: Clearance) -> str | None:
    if clearance.evaluation_reference_sealed is None:
        return None
    return keyring_of(session).open(
        session, secrets_grant, clearance.reference_context(), clearance.evaluation_reference_sealed
    )


def totp_secret(session: Session, user: User, secrets_grant: Grant) -> str | None:
    """The user's TOTP secret, opened with a grant for their personal secrets."""
    if user.totp_secret_sealed is None:
        return None
    return keyring_of(session).open(session, secrets_grant, user.secret_context(), user.totp_secret_sealed)


def _pending_secret_context(user: User, purpose: str = "pending_totp_secret") -> FieldContext:
    # Not the column's own context: a pending secret cannot be copied into users.totp_secret_sealed.
    return FieldContext("users", purpose, user.id, 0, "user_secret")


def seal_recovery_codes(session: Session, user: User, codes: list[str]) -> str:
    """Fresh recovery codes, kept sealed in the server-side session until the user has seen them."""
    sealed = keyring_of(session).seal(
        session,
        policy.grant_own_secrets(user.id),
        _pending_secret_context(user, "pending_recovery_codes"),
        " ".join(codes),
        None,
        "personal",
    )
    return base64.b64encode(sealed).decode()


def open_recovery_codes(session: Session, user: User, stored: str) -> list[str]:
    return (
        keyring_of(session)
        .open(
            session,
            policy.grant_own_secrets(user.id),
            _pending_secret_context(user, "pending_recovery_codes"),
            base64.b64decode(stored),
        )
        .split()
    )


def seal_pending_secret(session: Session, user: User, secret: str) -> str:
    """A secret being enrolled, for the server-side session (stored in the database): sealed, base64.

    The caller commits: sealing may create the personal data key.
    """
    sealed = keyring_of(session).seal(
        session, policy.grant_own_secrets(user.id), _pending_secret_context(user), secret, None, "personal"
    )
    return base64.b64encode(sealed).decode()


def open_pending_secret(session: Session, user: User, stored: str) -> str:
    return keyring_of(session).open(
        session, policy.grant_own_secrets(user.id), _pending_secret_context(user), base64.b64decode(stored)
    )


def store_totp_secret(session: Session, user: User, secrets_grant: Grant, secret: str) -> None:
    user.totp_secret_sealed = keyring_of(session).seal(
        session, secrets_grant, user.secret_context(), secret, None, "personal"
    )


def _ten_years_after(day: date) -> datetime:
    try:
        end = day.replace(year=day.year + 10)
    except ValueError:  # 29 February
        end = day.replace(year=day.year + 10, day=28)
    return datetime(end.year, end.month, end.day, tzinfo=UTC)


def seconds_until(moment: datetime, now: datetime | None = None) -> int:
    return max(0, int((moment - (now or utcnow())) / timedelta(seconds=1)))
