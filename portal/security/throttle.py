"""Sign-in throttling: too many failures on one account or from one address lock it for a while.

Attempts on unknown e-mails count exactly like attempts on known ones, so throttling reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from portal.accounts.models import LoginAttempt, LoginLockout


@dataclass(frozen=True)
class ThrottleRules:
    window: timedelta
    lockout: timedelta
    max_failures_per_account: int
    max_failures_per_ip: int


def locked_until(session: Session, email: str, ip_address: str, now: datetime) -> datetime | None:
    """When the current lockout of this account or address ends, or None if neither is locked."""
    return session.scalar(
        select(func.max(LoginLockout.locked_until)).where(
            LoginLockout.locked_until > now,
            or_(
                (LoginLockout.scope == "account") & (LoginLockout.subject == email),
                (LoginLockout.scope == "ip") & (LoginLockout.subject == ip_address),
            ),
        )
    )


def _failures_since(session: Session, column: InstrumentedAttribute[str], value: str, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(column == value, LoginAttempt.outcome == "failure", LoginAttempt.attempted_at > since)
        )
        or 0
    )


def _count_start(session: Session, scope: str, subject: str, window_start: datetime) -> datetime:
    """Failures before the end of the previous lockout were already punished; count after it."""
    previous_end = session.scalar(
        select(func.max(LoginLockout.locked_until)).where(
            LoginLockout.scope == scope, LoginLockout.subject == subject
        )
    )
    return max(window_start, previous_end) if previous_end else window_start


def record_attempt(session: Session, email: str, ip_address: str, outcome: str, now: datetime) -> None:
    session.add(LoginAttempt(email=email, ip_address=ip_address, outcome=outcome, attempted_at=now))
    session.flush()


def record_failure(
    session: Session, email: str, ip_address: str, now: datetime, rules: ThrottleRules
) -> datetime | None:
    """Record a failed attempt; return the end of a lockout if this failure started one."""
    record_attempt(session, email, ip_address, "failure", now)
    window_start = now - rules.window
    started: datetime | None = None
    account_since = _count_start(session, "account", email, window_start)
    last_success = session.scalar(
        select(func.max(LoginAttempt.attempted_at)).where(
            LoginAttempt.email == email, LoginAttempt.outcome == "success"
        )
    )
    if last_success and last_success > account_since:
        account_since = last_success
    if _failures_since(session, LoginAttempt.email, email, account_since) >= rules.max_failures_per_account:
        started = now + rules.lockout
        session.add(LoginLockout(scope="account", subject=email, locked_until=started))
    ip_since = _count_start(session, "ip", ip_address, window_start)
    if _failures_since(session, LoginAttempt.ip_address, ip_address, ip_since) >= rules.max_failures_per_ip:
        started = now + rules.lockout
        session.add(LoginLockout(scope="ip", subject=ip_address, locked_until=started))
    session.flush()
    return started
