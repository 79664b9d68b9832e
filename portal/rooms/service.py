"""What a user can see of rooms: the list, one room, its members."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.enums import SubcommitteeKind
from portal.rooms.models import Membership, Subcommittee
from portal.security import policy
from portal.security.policy import Subject

KIND_ORDER = {
    SubcommitteeKind.RAPID_RESPONSE: 0,
    SubcommitteeKind.POLICY_COORDINATION: 1,
    SubcommitteeKind.RISK_REVIEW: 2,
}


@dataclass(frozen=True)
class RoomSummary:
    room: Subcommittee
    my_role: str
    member_count: int


def rooms_for(session: Session, subject: Subject, now: datetime) -> list[RoomSummary]:
    rooms = session.scalars(
        select(Subcommittee).where(policy.visible_rooms(subject)).order_by(Subcommittee.name_ja)
    ).all()
    summaries = []
    for room in sorted(rooms, key=lambda r: KIND_ORDER[r.kind]):
        members = current_members(session, room.id, now)
        summaries.append(RoomSummary(room, subject.room_roles[room.id].value, len(members)))
    return summaries


def current_members(session: Session, room_id: uuid.UUID, now: datetime) -> list[Membership]:
    return list(
        session.scalars(
            select(Membership)
            .where(
                Membership.subcommittee_id == room_id,
                Membership.valid_from <= now,
                or_(Membership.valid_to.is_(None), Membership.valid_to > now),
            )
            .order_by(Membership.sort_order)
        )
    )


def open_room(session: Session, subject: Subject, room_id: uuid.UUID) -> Subcommittee:
    """The room if the policy lets the subject in; a denial is audited and concealed as a 404."""
    room = session.get(Subcommittee, room_id)
    if room is None:
        raise policy.AccessDenied(policy.deny("room.enter", "NOT_FOUND"), conceal=True)
    policy.require(
        session,
        subject,
        policy.decide_enter_room(subject, room),
        object_type="room",
        object_id=room.id,
        conceal=True,
    )
    return room
