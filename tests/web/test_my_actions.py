"""My action items across rooms (/actions and the overview): one's own items only, in the rooms one holds a
seat in now, soonest due first, overdue ones marked, and an item one may no longer read withheld (never its
title). Demo data: 田中 owns an overdue CONFIDENTIAL 政府限り item of the minerals room's 第4回."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from portal.accounts.models import Clearance, User
from portal.db import Database, utcnow
from portal.enums import ClearanceBasis, Level, ReleaseMarking
from portal.meetings import findings
from portal.meetings.forms import PartMarkingInput
from portal.meetings.models import ActionItem, ActionStatus
from portal.rooms.models import Membership, Subcommittee
from portal.security.audit_models import AuditEntry
from tests.conftest import csrf_token, keyed_session, sign_in, user_by_email
from tests.followup_support import DEMO_ACTIONS, action_id_by_title, past_minerals_meeting, room_meetings
from tests.meetings_support import subject_of
from tests.web.support import id_problems, text, translated

CHAIR = "tanaka@meti.example.jp"  # minerals chair, shipbuilding member
MEMBER = "ito@toho-raremetals.example.jp"
SECRETARIAT = "sato@cao.example.jp"
SHIPBUILDING_CHAIR = "suzuki@mlit.example.jp"
RESTRICTED = PartMarkingInput(
    Level.RESTRICTED, ReleaseMarking.GREEN, frozenset(), frozenset(), frozenset(), None
)


def post(client: FlaskClient, path: str, data: dict[str, Any]) -> TestResponse:
    return client.post(path, data={"csrf_token": csrf_token(client, "/account"), **data})


def shipbuilding_action(database: Database, title: str, due_on: date | None) -> uuid.UUID:
    """An action item for 田中 in the shipbuilding room, added by its chair (鈴木)."""
    meeting = room_meetings(database, "造船分科会")[0]
    with keyed_session(database.url) as session:
        return findings.create_action(
            session,
            subject_of(session, SHIPBUILDING_CHAIR),
            meeting,
            findings.ActionInput(
                title, user_by_email(database, CHAIR).id, due_on, ActionStatus.OPEN, None, RESTRICTED
            ),
        ).id


def rows_of(page: str) -> list[str]:
    return re.findall(r'<tr data-testid="my-action(?:-withheld)?">(.*?)</tr>', page, re.S)


def test_my_action_items_across_rooms_soonest_first(app: Flask, demo: Database) -> None:
    soon = date.today() + timedelta(days=1)
    shipbuilding_action(demo, "敷設船の船台確保の見通しを確認", soon)
    shipbuilding_action(demo, "期限のない検討事項", None)
    chair = sign_in(app.test_client(), demo, CHAIR)
    page = text(chair.get("/actions"))
    rows = rows_of(page)
    assert len(rows) == 3
    assert DEMO_ACTIONS["tanaka"] in rows[0] and "重要鉱物分科会" in rows[0]  # overdue: first
    assert 'data-testid="overdue"' in rows[0]
    assert (
        "敷設船の船台確保" in rows[1] and "造船分科会" in rows[1] and 'data-testid="overdue"' not in rows[1]
    )
    assert "期限のない検討事項" in rows[2]
    assert "第4回 重要鉱物分科会" in rows[0] and "第4回 造船分科会" in rows[1]
    assert f'href="/meetings/{past_minerals_meeting(demo)}/findings#actions"' in rows[0]
    # Nobody else's items.
    for owner in ("ito", "sato"):
        assert DEMO_ACTIONS[owner] not in page
    # One status form per item, each select with its own id.
    assert page.count('data-testid="status-form"') == 3
    assert id_problems(page) == []


def test_the_overview_lists_my_open_items_with_the_overdue_marked(app: Flask, demo: Database) -> None:
    chair = sign_in(app.test_client(), demo, CHAIR)
    page = text(chair.get("/"))
    panel = page.split('data-testid="my-actions-panel"')[1]
    assert DEMO_ACTIONS["tanaka"] in panel and 'data-testid="overdue"' in panel
    assert translated(app, "Overdue") in panel
    # Done items leave the overview but stay on /actions.
    tanaka_action = action_id_by_title(demo, DEMO_ACTIONS["tanaka"])
    meeting = past_minerals_meeting(demo)
    response = post(
        chair,
        f"/meetings/{meeting}/actions/{tanaka_action}/status",
        {"status": "done", "base_version": "1", "return_to": "actions"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/actions")
    assert DEMO_ACTIONS["tanaka"] not in text(chair.get("/"))
    assert translated(app, "No open action items.") in text(chair.get("/"))
    listed = text(chair.get("/actions"))
    assert DEMO_ACTIONS["tanaka"] in listed and 'data-testid="overdue"' not in listed


def test_an_item_whose_level_i_no_longer_hold_is_withheld(app: Flask, demo: Database) -> None:
    tanaka = user_by_email(demo, CHAIR)
    with demo.session_scope() as session:
        session.add(
            Clearance(
                id=uuid.uuid4(),
                user_id=tanaka.id,
                level=Level.RESTRICTED,
                basis=ClearanceBasis.INTERNAL,
                granted_at=utcnow(),
                reason="lowered for the test",
            )
        )
    chair = sign_in(app.test_client(), demo, CHAIR)
    for path in ("/actions", "/"):
        page = text(chair.get(path))
        assert DEMO_ACTIONS["tanaka"] not in page, path
        assert "国家備蓄" not in page, path
        assert translated(app, "An action item you may not read") in page, path
        assert "第4回 重要鉱物分科会" in page, path  # the meeting itself is RESTRICTED: still seen
    assert 'data-testid="status-form"' not in text(chair.get("/actions"))
    # And he can no longer change it.
    tanaka_action = action_id_by_title(demo, DEMO_ACTIONS["tanaka"])
    response = post(
        chair, f"/meetings/{past_minerals_meeting(demo)}/actions/{tanaka_action}/status",
        {"status": "done", "base_version": "1"},
    )  # fmt: skip
    assert response.status_code == 404
    with demo.session_scope() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert entry is not None and entry.reason == "CLEARANCE_TOO_LOW"
        item = session.get(ActionItem, tanaka_action)
        assert item is not None and item.status == ActionStatus.IN_PROGRESS


def test_a_meeting_i_may_no_longer_see_is_withheld_too(app: Flask, demo: Database) -> None:
    tanaka = user_by_email(demo, CHAIR)
    with demo.session_scope() as session:
        session.execute(update(Clearance).where(Clearance.user_id == tanaka.id).values(revoked_at=utcnow()))
    page = text(sign_in(app.test_client(), demo, CHAIR).get("/actions"))
    assert DEMO_ACTIONS["tanaka"] not in page and "第4回 重要鉱物分科会" not in page
    assert translated(app, "A meeting you may not see") in page
    assert "重要鉱物分科会" in page  # the room he sits in


def test_items_of_a_room_i_left_are_not_listed(app: Flask, demo: Database) -> None:
    shipbuilding_action(demo, "退任後は見えない項目", date.today())
    tanaka = user_by_email(demo, CHAIR)
    with demo.session_scope() as session:
        ship = session.scalar(select(Subcommittee.id).where(Subcommittee.name_ja == "造船分科会"))
        session.execute(
            update(Membership)
            .where(Membership.user_id == tanaka.id, Membership.subcommittee_id == ship)
            .values(valid_to=utcnow())
        )
    page = text(sign_in(app.test_client(), demo, CHAIR).get("/actions"))
    assert "退任後は見えない項目" not in page
    assert len(rows_of(page)) == 1


def test_a_member_sees_only_their_own_and_changes_its_status_from_the_list(
    app: Flask, demo: Database
) -> None:
    member = sign_in(app.test_client(), demo, MEMBER)
    page = text(member.get("/actions"))
    assert DEMO_ACTIONS["ito"] in page
    assert DEMO_ACTIONS["tanaka"] not in page and DEMO_ACTIONS["sato"] not in page
    assert page.count('data-testid="status-form"') == 1
    ito_action = action_id_by_title(demo, DEMO_ACTIONS["ito"])
    response = post(
        member, f"/meetings/{past_minerals_meeting(demo)}/actions/{ito_action}/status",
        {"status": "in_progress", "base_version": "1", "return_to": "https://evil.example/"},
    )  # fmt: skip
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/meetings/{past_minerals_meeting(demo)}/findings#actions")


def test_roles_without_content_have_no_action_items(app: Flask, demo: Database) -> None:
    for email in ("matsumoto@cao.example.jp", "inoue@cao.example.jp", "kato@cao.example.jp"):
        page = text(sign_in(app.test_client(), demo, email).get("/actions"))
        assert translated(app, "You have no action items.", locale=_locale(demo, email)) in page, email
        assert rows_of(page) == []


def _locale(database: Database, email: str) -> str:
    with database.session_scope() as session:
        return str(session.scalar(select(User.locale).where(User.email == email)))
