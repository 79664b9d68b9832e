"""Helpers of the policy-coordination tests: the demo rooms' ids and the sealed titles behind them (read the
way key maintenance does, with a maintenance grant)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from portal.db import Database
from portal.meetings.access import open_part
from portal.policywork.models import Recommendation, WorkTheme
from portal.rooms.models import Subcommittee
from portal.security import policy
from tests.conftest import keyed_session

AGI = "AGI Subcommittee"
SHIPBUILDING = "Shipbuilding Subcommittee"
MINERALS = "Critical Minerals Subcommittee"
AGI_CHAIR = "takahashi@mic.example.jp"
AGI_OBSERVER = "kobayashi@toto-u.example.jp"  # RESTRICTED, English interface
AGI_SECRETARIAT = "kato@cao.example.jp"  # secretariat member of the AGI room, no clearance
SHIP_CHAIR = "suzuki@mlit.example.jp"
SHIP_SECRETARIAT = "sato@cao.example.jp"
SHIP_MEMBER = "tanaka@meti.example.jp"  # a member, not a steward
SHIP_COMPANY = "watanabe@setouchi-zosen.example.jp"  # RESTRICTED
COMPUTE_THEME = "計算資源のサプライチェーン(半導体・データセンター)"  # CONFIDENTIAL
COMPUTE_RECOMMENDATION = "計算資源の国内確保と供給途絶への備えに関する提言"  # CONFIDENTIAL, deliberation
SAFETY_RECOMMENDATION = "フロンティアAIモデルの安全性評価体制の整備に関する提言"  # RESTRICTED, agreed
CABLE_RECOMMENDATION = "海底ケーブル敷設船の国内建造・保有体制の強化に関する提言"  # submitted
STEEL_THEME = "鋼材の安定調達"  # CONFIDENTIAL


def room_id(database: Database, name_en: str) -> uuid.UUID:
    with database.session_scope() as session:
        found = session.scalar(select(Subcommittee.id).where(Subcommittee.name_en == name_en))
        assert found is not None, name_en
        return found


def theme_titles(database: Database) -> dict[uuid.UUID, str]:
    with keyed_session(database.url) as session:
        return {
            theme.id: open_part(session, policy.maintenance_grant("work_theme", theme.id), theme, "title")
            for theme in session.scalars(select(WorkTheme))
        }


def theme_id(database: Database, title: str) -> uuid.UUID:
    return next(i for i, t in theme_titles(database).items() if t == title)


def recommendation_titles(database: Database) -> dict[uuid.UUID, str]:
    with keyed_session(database.url) as session:
        return {
            item.id: open_part(session, policy.maintenance_grant("recommendation", item.id), item, "title")
            for item in session.scalars(select(Recommendation))
        }


def recommendation_id(database: Database, title: str) -> uuid.UUID:
    return next(i for i, t in recommendation_titles(database).items() if t == title)
