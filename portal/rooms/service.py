"""What a user can see of rooms: the list, one room, its members."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.enums import SubcommitteeKind
from portal.rooms.models import Membership, Subcommittee
from portal.security import policy

KIND_ORDER = {
    SubcommitteeKind.RAPID_RESPONSE: 0,
    SubcommitteeKind.POLICY_COORDINATION: 1,
    SubcommitteeKind.RISK_REVIEW: 2,
}


class RoomNotFound(LookupError):
    """The room does not exist or the user may not know it exists (both answer 404)."""


@dataclass(frozen=True)
class RoomSummary:
    room: Subcommittee
    my_role: str
    member_count: int


def rooms_for(session: Session, user: User, now: datetime) -> list[RoomSummary]:
    rooms = session.scalars(
        select(Subcommittee).where(policy.visible_rooms_filter(user, now)).order_by(Subcommittee.name_ja)
    ).all()
    summaries = []
    for room in sorted(rooms, key=lambda r: KIND_ORDER[r.kind]):
        members = current_members(session, room.id, now)
        mine = next((m for m in members if m.user_id == user.id), None)
        summaries.append(RoomSummary(room, mine.room_role.value if mine else "", len(members)))
    return summaries


def current_members(session: Session, room_id: uuid.UUID, now: datetime) -> list[Membership]:
    memberships = session.scalars(
        select(Membership).where(Membership.subcommittee_id == room_id).order_by(Membership.sort_order)
    ).all()
    return [m for m in memberships if m.is_current(now)]


def open_room(session: Session, user: User, room_id: uuid.UUID, now: datetime) -> Subcommittee:
    """The room if the policy lets ``user`` in; otherwise :class:`RoomNotFound`, as for no room at all."""
    room = session.get(Subcommittee, room_id)
    if room is None:
        raise RoomNotFound(room_id)
    mine = session.scalars(
        select(Membership).where(Membership.subcommittee_id == room_id, Membership.user_id == user.id)
    ).all()
    decision = policy.decide_enter_room(user, room, list(mine), now)
    if not decision.allowed:
        raise RoomNotFound(room_id)
    return room
