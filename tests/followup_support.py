"""Finding the demo's meetings, findings and action items (their texts are sealed: opened with maintenance
grants, the way the operator's key maintenance reads them)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from portal.db import Database, utcnow
from portal.meetings.access import open_part
from portal.meetings.followup_demo import GENERAL, SOURCING, STOCKPILE
from portal.meetings.models import ActionItem, Attendance, Finding, Meeting
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.keyring import keyring_of
from tests.conftest import keyed_session

MINERALS = "重要鉱物分科会"


def room_meetings(database: Database, room_name_ja: str = MINERALS) -> list[uuid.UUID]:
    """A room's meetings, earliest first."""
    with database.session_scope() as session:
        return list(
            session.scalars(
                select(Meeting.id)
                .join(Subcommittee, Subcommittee.id == Meeting.subcommittee_id)
                .where(Subcommittee.name_ja == room_name_ja)
                .order_by(Meeting.starts_at)
            )
        )


def past_minerals_meeting(database: Database) -> uuid.UUID:
    """第4回 (two weeks ago in the demo data)."""
    with database.session_scope() as session:
        found = session.scalar(
            select(Meeting.id)
            .join(Subcommittee, Subcommittee.id == Meeting.subcommittee_id)
            .where(Subcommittee.name_ja == MINERALS, Meeting.starts_at < utcnow())
        )
    assert found is not None
    return found


def upcoming_minerals_meeting(database: Database) -> uuid.UUID:
    """第5回 (next week in the demo data)."""
    with database.session_scope() as session:
        found = session.scalar(
            select(Meeting.id)
            .join(Subcommittee, Subcommittee.id == Meeting.subcommittee_id)
            .where(Subcommittee.name_ja == MINERALS, Meeting.starts_at > utcnow())
            .order_by(Meeting.starts_at)
            .limit(1)
        )
    assert found is not None
    return found


def finding_bodies(database: Database) -> dict[uuid.UUID, str]:
    with keyed_session(database.url) as session:
        return {
            finding.id: open_part(session, policy.maintenance_grant("finding", finding.id), finding, "body")
            for finding in session.scalars(select(Finding))
        }


def finding_id_by_body(database: Database, body: str) -> uuid.UUID:
    found = next((key for key, text in finding_bodies(database).items() if text == body), None)
    assert found is not None, body[:40]
    return found


def action_titles(database: Database) -> dict[uuid.UUID, str]:
    with keyed_session(database.url) as session:
        return {
            item.id: open_part(session, policy.maintenance_grant("action_item", item.id), item, "title")
            for item in session.scalars(select(ActionItem))
        }


def action_id_by_title(database: Database, starts_with: str) -> uuid.UUID:
    found = next((key for key, text in action_titles(database).items() if text.startswith(starts_with)), None)
    assert found is not None, starts_with
    return found


def proxy_names(database: Database, meeting_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """The proxies' names of a meeting's answers, by the member's id."""
    with keyed_session(database.url) as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        grant = policy.maintenance_grant("meeting", meeting_id)
        names = {}
        for attendance in session.scalars(select(Attendance).where(Attendance.meeting_id == meeting_id)):
            if attendance.proxy_sealed is not None:
                context = attendance.field_context("proxy", int(meeting.level))
                names[attendance.user_id] = keyring_of(session).open(
                    session, grant, context, attendance.proxy_sealed
                )
        return names


DEMO_FINDINGS = {"gov_only": STOCKPILE, "sourcing": SOURCING, "general": GENERAL}
#: The beginnings of the demo action items' titles, by owner.
DEMO_ACTIONS = {
    "tanaka": "国家備蓄ガリウムの放出条件案",
    "ito": "豪州・ドイツのアルミナ精製副産物",
    "sato": "会員企業から輸出許可の所要日数",
}
