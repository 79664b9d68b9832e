"""Every access decision, as a value: Decision(allowed, rule, reason). No Flask here.

Lists are filtered in SQL by filters built from the same rules as the per-object decisions, so a hidden
item is never counted, paged or hinted at. The foundation holds the room rules; clearances, caveats and
named readers join them with the documents.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select

from portal.accounts.models import User
from portal.rooms.models import Membership, Subcommittee


@dataclass(frozen=True)
class Decision:
    allowed: bool
    #: Which rule decided (stable, for the audit trail).
    rule: str
    #: Stable reason code: OK, NOT_MEMBER, ROOM_ARCHIVED, ACCOUNT_SUSPENDED, ...
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def allow(rule: str) -> Decision:
    return Decision(True, rule, "OK")


def deny(rule: str, reason: str) -> Decision:
    return Decision(False, rule, reason)


def _current_membership_clause(user_id: uuid.UUID, now: datetime) -> ColumnElement[bool]:
    return and_(
        Membership.user_id == user_id,
        Membership.valid_from <= now,
        or_(Membership.valid_to.is_(None), Membership.valid_to > now),
    )


def visible_rooms_filter(user: User, now: datetime) -> ColumnElement[bool]:
    """SQL condition on Subcommittee: the rooms this user may enter right now."""
    if user.is_suspended:
        return Subcommittee.id.is_(None)
    member_rooms = select(Membership.subcommittee_id).where(_current_membership_clause(user.id, now))
    return and_(Subcommittee.id.in_(member_rooms), Subcommittee.archived_at.is_(None))


def decide_enter_room(
    user: User, room: Subcommittee, memberships: list[Membership], now: datetime
) -> Decision:
    """May ``user`` enter ``room``? ``memberships`` are the user's memberships of that room."""
    if user.is_suspended:
        return deny("room.enter", "ACCOUNT_SUSPENDED")
    if room.archived_at is not None:
        return deny("room.enter", "ROOM_ARCHIVED")
    if not any(
        m.user_id == user.id and m.subcommittee_id == room.id and m.is_current(now) for m in memberships
    ):
        return deny("room.enter", "NOT_MEMBER")
    return allow("room.enter")
