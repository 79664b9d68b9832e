"""The demo's risk register, read behind the interface (maintenance grants, as key maintenance does)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from portal.db import Database
from portal.meetings.access import open_part
from portal.risks.models import Risk, RiskProposal
from portal.rooms.models import Subcommittee
from portal.security import policy
from tests.conftest import keyed_session

INFRASTRUCTURE = "Critical Infrastructure Outage Subcommittee"


def infrastructure_room(database: Database) -> uuid.UUID:
    with database.session_scope() as session:
        room = session.scalar(
            select(Subcommittee).where(Subcommittee.name_ja == "重要インフラ機能停止分科会")
        )
        assert room is not None
        return room.id


def risk_titles(database: Database) -> dict[uuid.UUID, str]:
    with keyed_session(database.url) as session:
        return {
            risk.id: open_part(session, policy.maintenance_grant("risk", risk.id), risk, "title")
            for risk in session.scalars(select(Risk))
        }


def risk_id_by_title(database: Database, title: str) -> uuid.UUID:
    found = next((key for key, value in risk_titles(database).items() if value == title), None)
    assert found is not None, title
    return found


def proposal_names(database: Database) -> dict[uuid.UUID, str]:
    with keyed_session(database.url) as session:
        return {
            p.id: open_part(session, policy.maintenance_grant("risk_proposal", p.id), p, "name")
            for p in session.scalars(select(RiskProposal))
        }


def proposal_id_by_name(database: Database, name: str) -> uuid.UUID:
    found = next((key for key, value in proposal_names(database).items() if value == name), None)
    assert found is not None, name
    return found
