"""Secret calendar feed addresses: made, listed, revoked, and found again by their token.

The token is a bearer secret that a calendar app keeps and presents without signing in (no password, no
second factor). Only its SHA-256 is stored, so the database never holds a usable address; a fetch finds
the feed by the hash of what it presents, so no stored secret is ever compared byte by byte (no timing
leak), and a revoked feed or a suspended user answers 404 like an unknown address.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.meetings.models import CalendarFeed
from portal.security import audit
from portal.security.audit import Actor
from portal.security.policy import AccessDenied, deny

#: What a token looks like (secrets.token_urlsafe(32)); anything else is refused before any lookup.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewFeed:
    feed: CalendarFeed
    #: Shown once to the user; never stored.
    token: str


def create_feed(session: Session, user: User, actor: Actor) -> NewFeed:
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(id=uuid.uuid4(), user_id=user.id, token_hash=token_hash(token))
    session.add(feed)
    session.flush()
    _audit(session, actor, "calendar.feed_create", feed.id)
    return NewFeed(feed, token)


def active_feeds(session: Session, user: User) -> list[CalendarFeed]:
    return list(
        session.scalars(
            select(CalendarFeed)
            .where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
            .order_by(CalendarFeed.created_at)
        )
    )


def revoke_feed(session: Session, user: User, feed_id: uuid.UUID, actor: Actor, now: datetime) -> None:
    """Revoke one of the user's own active feeds; another user's or an unknown one answers 404 (audited)."""
    feed = session.get(CalendarFeed, feed_id)
    if feed is None or feed.user_id != user.id or feed.revoked_at is not None:
        reason = "NOT_FOUND" if feed is None or feed.revoked_at is not None else "NOT_OWNER"
        _deny(session, actor, "calendar.feed_revoke", reason, feed_id)
    assert feed is not None
    feed.revoked_at = now
    _audit(session, actor, "calendar.feed_revoke", feed.id)


@dataclass(frozen=True)
class OpenedFeed:
    feed: CalendarFeed
    user: User


def open_feed(session: Session, token: str, ip_address: str | None, now: datetime) -> OpenedFeed:
    """The feed and its user for a presented token. Unknown, revoked, or of a suspended user: 404, audited
    (the denial survives the rollback)."""
    rule = "calendar.feed"
    anonymous = Actor(user_id=None, ip_address=ip_address)
    feed = (
        session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == token_hash(token)))
        if TOKEN_PATTERN.fullmatch(token)
        else None
    )
    if feed is None:
        _deny(session, anonymous, rule, "UNKNOWN_TOKEN", None)
    assert feed is not None
    user = session.get(User, feed.user_id)
    assert user is not None
    owner = Actor(user_id=user.id, organization_id=user.organization_id, ip_address=ip_address)
    if feed.revoked_at is not None:
        _deny(session, owner, rule, "FEED_REVOKED", feed.id)
    if user.is_suspended:
        _deny(session, owner, rule, "ACCOUNT_SUSPENDED", feed.id)
    feed.last_used_at = now
    return OpenedFeed(feed, user)


def record_fetch(session: Session, opened: OpenedFeed, actor: Actor, events: int) -> None:
    _audit(session, actor, "calendar.feed", opened.feed.id, {"events": events})


def _audit(
    session: Session, actor: Actor, action: str, feed_id: uuid.UUID, detail: dict[str, object] | None = None
) -> None:
    audit.record(
        session,
        audit.AuditEvent(
            actor=actor,
            action=action,
            allowed=True,
            rule=action,
            reason="OK",
            object_type="calendar_feed",
            object_id=str(feed_id),
            detail=dict(detail or {}),
        ),
    )


def _deny(session: Session, actor: Actor, rule: str, reason: str, feed_id: uuid.UUID | None) -> None:
    decision = deny(rule, reason)
    audit.record(
        session,
        audit.AuditEvent(
            actor=actor,
            action=rule,
            allowed=False,
            rule=rule,
            reason=reason,
            object_type="calendar_feed",
            object_id=str(feed_id) if feed_id else None,
            survives_rollback=True,
        ),
    )
    raise AccessDenied(decision, conceal=True)
