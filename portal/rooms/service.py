"""What a user can see of rooms: the list, one room, its members."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from portal.accounts.models import Organization, User
from portal.enums import RoomRole, SubcommitteeKind
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
    counts = dict(
        session.execute(
            select(Membership.subcommittee_id, func.count())
            .where(Membership.subcommittee_id.in_([room.id for room in rooms]), _current(now))
            .group_by(Membership.subcommittee_id)
        ).all()
    )
    return [
        RoomSummary(room, subject.room_roles[room.id].value, int(counts.get(room.id, 0)))
        for room in sorted(rooms, key=lambda r: KIND_ORDER[r.kind])
    ]


def _current(now: datetime) -> ColumnElement[bool]:
    return and_(Membership.valid_from <= now, or_(Membership.valid_to.is_(None), Membership.valid_to > now))


def current_members(session: Session, room_id: uuid.UUID, now: datetime) -> list[Membership]:
    return list(
        session.scalars(
            select(Membership)
            .where(Membership.subcommittee_id == room_id, _current(now))
            .order_by(Membership.sort_order)
        )
    )


@dataclass(frozen=True)
class RosterEntry:
    """A member as the room page lists them: no more than the page shows."""

    user_id: uuid.UUID
    display_name: str
    organization_ja: str
    organization_en: str
    room_role: RoomRole

    def organization(self, locale: str) -> str:
        return self.organization_en if locale == "en" else self.organization_ja


def member_roster(session: Session, room_id: uuid.UUID, now: datetime) -> list[RosterEntry]:
    """The room's current members for its page, in one query (a room has hundreds: loading each as a user
    with its organisation and roles cost more than the whole document list)."""
    rows = session.execute(
        select(
            Membership.user_id,
            User.display_name,
            Organization.name_ja,
            Organization.name_en,
            Membership.room_role,
        )
        .join(User, User.id == Membership.user_id)
        .join(Organization, Organization.id == User.organization_id)
        .where(Membership.subcommittee_id == room_id, _current(now))
        .order_by(Membership.sort_order, User.display_name)
    ).all()
    return [RosterEntry(*row) for row in rows]


def member_count(session: Session, room_id: uuid.UUID, now: datetime) -> int:
    """How many current members the room has (the room page links to the list)."""
    query = select(func.count()).select_from(Membership)
    return int(session.scalar(query.where(Membership.subcommittee_id == room_id, _current(now))) or 0)


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
