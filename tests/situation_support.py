"""Helpers for the tests of the rapid-response room (situation board, countermeasures)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from portal.db import Database
from portal.meetings.access import open_part
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.situation.models import Countermeasure, SituationReport
from tests.conftest import csrf_token, keyed_session

MINERALS = "重要鉱物分科会"
SECRETARIAT = "sato@cao.example.jp"
CHAIR = "tanaka@meti.example.jp"
MEMBER = "ito@toho-raremetals.example.jp"  # private company, CESI: 政府限り is not for him
ANALYST = "yoshida@icess.example.jp"  # CONFIDENTIAL
OBSERVER = "kobayashi@toto-u.example.jp"  # observer, RESTRICTED; English interface
OUTSIDER = "suzuki@mlit.example.jp"

#: A sentence of each withheld demo report.
STOCKPILE_REPORT = "国家備蓄(JOGMEC)のガリウム・ゲルマニウム在庫水準を確認"
ALLIED_REPORT = "同盟国政府から、輸出国が対象品目の追加"
SOURCING = "代替調達先の確保"
STOCKPILE_MEASURE = "国家備蓄ガリウムの放出"
RECYCLING = "製造工程スクラップからのリサイクル拡大"


def post(client: FlaskClient, path: str, data: dict[str, Any]) -> TestResponse:
    return client.post(path, data={"csrf_token": csrf_token(client, "/account"), **data})


def room_id(database: Database, name_ja: str = MINERALS) -> uuid.UUID:
    with database.session_scope() as session:
        found = session.scalar(select(Subcommittee.id).where(Subcommittee.name_ja == name_ja))
        assert found is not None
        return found


def report_form(**changes: Any) -> dict[str, Any]:
    """A report of now (Tokyo time, the demo users' zone): it leads the board."""
    now = datetime.now(ZoneInfo("Asia/Tokyo"))
    form: dict[str, Any] = {
        "day": now.date().isoformat(),
        "at": now.strftime("%H:%M"),
        "source": "財務省 関税局",
        "happened": "ゲルマニウム輸入通関で書類審査の強化が始まった。",
        "affected": "ゲルマニウム/光ファイバー",
        "severity": "2",
        "impact": "通関に数日の遅れが見込まれる。",
        "level": "1",
        "release": "GREEN",
    }
    form.update(changes)
    return form


def countermeasure_form(owner: uuid.UUID, **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "title": "需要家間の融通スキーム",
        "description": "在庫に余裕のある需要家から不足する需要家への融通を調整する。",
        "owner": str(owner),
        "level": "1",
        "release": "GREEN",
    }
    form.update(changes)
    return form


def adopt_form(version: int, owner: uuid.UUID, meeting: uuid.UUID, **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "status": "adopted",
        "note": "採択",
        "base_version": str(version),
        "action_title": "融通スキームの参加企業を募る",
        "action_owner": str(owner),
        "action_due_on": (date.today() + timedelta(days=10)).isoformat(),
        "action_meeting": str(meeting),
    }
    form.update(changes)
    return form


def countermeasure_id(database: Database, starts_with: str) -> uuid.UUID:
    """A countermeasure by its title (sealed: opened with a maintenance grant)."""
    with keyed_session(database.url) as session:
        for item in session.scalars(select(Countermeasure)):
            title = open_part(session, policy.maintenance_grant("countermeasure", item.id), item, "title")
            if title.startswith(starts_with):
                return item.id
    raise AssertionError(starts_with)


def report_texts(database: Database) -> dict[uuid.UUID, dict[str, str]]:
    with keyed_session(database.url) as session:
        found = {}
        for report in session.scalars(select(SituationReport)):
            grant = policy.maintenance_grant("situation_report", report.id)
            found[report.id] = {
                column: open_part(session, grant, report, column)
                for column in ("source", "happened", "affected", "impact")
            }
        return found
