"""Tabletop exercises (机上演習) of the infrastructure room through the web: planning by the stewards, the run
(reveal in order, participants see only what was revealed), responses, the after-action record (findings
and action items on the exercise's meeting record, affected risks flagged), denials with their audit
reasons, IDOR, CSRF, escaping, and what stays sealed in the database.

The room (重要インフラ機能停止分科会): 高橋 chairs it (CESI), 佐藤 is its secretariat member (CONFIDENTIAL);
鈴木, 山本 (private company, qualification lapsed) and 吉田 (analyst) are members. 田中 is in other rooms.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from portal.db import Database, utcnow
from portal.exercises import demo as exercises_demo
from portal.exercises.models import Exercise, Inject, InjectResponse, RiskFlagRequest
from portal.meetings.models import ActionItem, Finding, Meeting
from portal.rooms.models import Subcommittee
from portal.security.audit_models import AuditEntry
from tests.conftest import csrf_token, sign_in, user_by_email
from tests.unit.test_sanitize import XSS_CORPUS, assert_inert
from tests.web.support import text

TOKYO = ZoneInfo("Asia/Tokyo")

CHAIR = "takahashi@mic.example.jp"
SECRETARIAT = "sato@cao.example.jp"
MEMBER = "suzuki@mlit.example.jp"
PRIVATE = "yamamoto@hokushin-power.example.jp"
ANALYST = "yoshida@icess.example.jp"
OUTSIDER = "tanaka@meti.example.jp"
ROOM = "重要インフラ機能停止分科会"
EXERCISE_LINK = re.compile(r'<a href="/exercises/([0-9a-f-]{36})">(.*?)</a>')
#: The demo's 政府限り inject and the planned exercise's CESI inject: never in the page of a reader below.
GOV_ONLY_SENTENCE = "重要インフラ事業者への燃料優先供給の調整"
CESI_SENTENCE = "サイバー攻撃の予兆情報"


@pytest.fixture
def clients(app: Flask, demo: Database) -> dict[str, FlaskClient]:
    signed: dict[str, FlaskClient] = {}

    def client_of(email: str) -> FlaskClient:
        if email not in signed:
            signed[email] = sign_in(app.test_client(), demo, email)
        return signed[email]

    return _Clients(client_of)  # type: ignore[return-value]


class _Clients(dict):  # type: ignore[type-arg]
    def __init__(self, make: Any) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, email: str) -> FlaskClient:
        client: FlaskClient = self._make(email)
        self[email] = client
        return client


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None) -> TestResponse:
    return client.post(path, data={"csrf_token": csrf_token(client, "/account"), **(data or {})})


def room_id(database: Database) -> uuid.UUID:
    with database.session_scope() as session:
        found = session.scalar(select(Subcommittee.id).where(Subcommittee.name_ja == ROOM))
        assert found is not None
        return found


def listed_exercises(client: FlaskClient, database: Database) -> dict[str, str]:
    page = client.get(f"/rooms/{room_id(database)}")
    assert page.status_code == 200
    return {title: found for found, title in EXERCISE_LINK.findall(text(page))}


def demo_exercise(clients: dict[str, FlaskClient], demo: Database, title: str) -> str:
    return listed_exercises(clients[CHAIR], demo)[title]


def last_audit(database: Database, action: str) -> AuditEntry:
    with database.session_scope() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq.desc())
        ).first()
        assert entry is not None, action
        session.expunge(entry)
        return entry


def exercise_form(database: Database, title: str, participants: list[str], **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "title": title,
        "scenario": "送電網の事故停止から通信・決済へ連鎖する想定。",
        "held_on": "2027-01-20",
        "facilitator": str(user_by_email(database, CHAIR).id),
        "participants": [str(user_by_email(database, email).id) for email in participants],
        "level": "1",
        "release": "GREEN",
    }
    form.update(changes)
    return form


def inject_form(offset: str, body: str, **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "offset": offset, "text": body, "sender": "北辰電力", "recipient": "総務省",
        "expected_action": "初動の確認", "level": "1", "release": "GREEN",
    }  # fmt: skip
    form.update(changes)
    return form


def new_exercise(
    clients: dict[str, FlaskClient], demo: Database, title: str, participants: list[str],
    injects: list[tuple[str, str]],
) -> str:  # fmt: skip
    response = post(
        clients[CHAIR], f"/rooms/{room_id(demo)}/exercises/new", exercise_form(demo, title, participants)
    )
    assert response.status_code == 302, text(response)[:2000]
    exercise_id = response.headers["Location"].rsplit("/", 1)[-1]
    for offset, body in injects:
        added = post(clients[CHAIR], f"/exercises/{exercise_id}/injects/new", inject_form(offset, body))
        assert added.status_code == 302, text(added)[:2000]
    return exercise_id


def inject_ids(database: Database, exercise_id: str) -> list[str]:
    with database.session_scope() as session:
        return [
            str(found)
            for found in session.scalars(
                select(Inject.id)
                .where(Inject.exercise_id == uuid.UUID(exercise_id))
                .order_by(Inject.offset_minutes)
            )
        ]


# --- the room page and the demo ---------------------------------------------------------------------


def test_the_room_page_leads_with_its_exercises(clients: dict[str, FlaskClient], demo: Database) -> None:
    for email in (CHAIR, SECRETARIAT, MEMBER, PRIVATE, ANALYST):
        page = text(clients[email].get(f"/rooms/{room_id(demo)}"))
        assert 'data-testid="exercises-panel"' in page, email
        assert exercises_demo.FINISHED_TITLE in page and exercises_demo.PLANNED_TITLE in page, email
        # the tools come before the room's own sections
        assert page.index('data-testid="exercises-panel"') < page.index('id="documents-heading"')
    assert 'data-testid="new-exercise"' in text(clients[CHAIR].get(f"/rooms/{room_id(demo)}"))
    assert 'data-testid="new-exercise"' not in text(clients[MEMBER].get(f"/rooms/{room_id(demo)}"))


def test_the_demo_exercise_ran_to_its_findings(clients: dict[str, FlaskClient], demo: Database) -> None:
    exercise_id = demo_exercise(clients, demo, exercises_demo.FINISHED_TITLE)
    page = text(clients[MEMBER].get(f"/exercises/{exercise_id}"))
    assert page.count('data-testid="inject"') == 5
    offsets = re.findall(r'data-testid="inject-offset">(T\+\d+:\d\d)<', page)
    assert offsets == ["T+0:00", "T+0:30", "T+1:30", "T+3:00", "T+4:00"]
    assert page.count('data-testid="revealed-at"') == 5
    assert "社内対策本部を設置" in page  # a response
    assert GOV_ONLY_SENTENCE in page  # 鈴木 is government
    with demo.session_scope() as session:
        exercise = session.get(Exercise, uuid.UUID(exercise_id))
        assert exercise is not None and exercise.meeting_id is not None
        meeting_id = exercise.meeting_id
        assert len(session.scalars(select(Finding).where(Finding.meeting_id == meeting_id)).all()) == 2
        assert len(session.scalars(select(ActionItem).where(ActionItem.meeting_id == meeting_id)).all()) == 2
    findings_page = text(clients[MEMBER].get(f"/meetings/{meeting_id}/findings"))
    assert "電源車の配備調整に時間を要した" in findings_page
    assert f"机上演習 {exercises_demo.FINISHED_TITLE}" in findings_page


# --- planning: stewards only --------------------------------------------------------------------------


def test_a_steward_plans_an_exercise_and_its_timeline(
    clients: dict[str, FlaskClient], demo: Database
) -> None:
    exercise_id = new_exercise(
        clients, demo, "停電演習(計画)", [MEMBER, ANALYST],
        [("T+1:00", "第二の通報"), ("0:00", "最初の通報"), ("T+0:30", "中間の通報")],
    )  # fmt: skip
    assert last_audit(demo, "exercise.create").allowed
    page = text(clients[CHAIR].get(f"/exercises/{exercise_id}"))
    assert page.index("最初の通報") < page.index("中間の通報") < page.index("第二の通報")
    assert "停電演習(計画)" in page and "Planned" in page  # 高橋 reads English
    first, middle, last = inject_ids(demo, exercise_id)
    edited = post(clients[CHAIR], f"/exercises/{exercise_id}/injects/{middle}/edit",
                  inject_form("T+0:45", "修正した通報"))  # fmt: skip
    assert edited.status_code == 302
    assert last_audit(demo, "inject.edit").object_id == middle
    assert post(clients[SECRETARIAT], f"/exercises/{exercise_id}/injects/{last}/delete").status_code == 302
    page = text(clients[CHAIR].get(f"/exercises/{exercise_id}"))
    assert "修正した通報" in page and "中間の通報" not in page and "第二の通報" not in page
    assert "T+0:45" in page
    changed = post(
        clients[CHAIR], f"/exercises/{exercise_id}/edit",
        {**exercise_form(demo, "停電演習(改題)", [MEMBER]), "base_version": "1"},
    )  # fmt: skip
    assert changed.status_code == 302
    stale = post(
        clients[CHAIR], f"/exercises/{exercise_id}/edit",
        {**exercise_form(demo, "停電演習(古い版)", [MEMBER]), "base_version": "1"},
    )  # fmt: skip
    assert stale.status_code == 409 and "停電演習(古い版)" in text(stale)  # typed input kept
    assert post(clients[CHAIR], f"/exercises/{exercise_id}/delete").status_code == 302
    assert clients[CHAIR].get(f"/exercises/{exercise_id}").status_code == 404
    assert first  # the inject went with its exercise
    with demo.session_scope() as session:
        assert session.get(Inject, uuid.UUID(first)) is None


def test_a_rejected_form_keeps_the_input(clients: dict[str, FlaskClient], demo: Database) -> None:
    exercise_id = demo_exercise(clients, demo, exercises_demo.PLANNED_TITLE)
    response = post(
        clients[CHAIR], f"/exercises/{exercise_id}/injects/new", inject_form("soon", "書きかけの通報")
    )
    assert response.status_code == 400
    assert "書きかけの通報" in text(response) and "T+h:mm" in text(response)
    bad_facilitator = post(
        clients[CHAIR], f"/rooms/{room_id(demo)}/exercises/new",
        exercise_form(demo, "進行役が委員", [], facilitator=str(user_by_email(demo, MEMBER).id)),
    )  # fmt: skip
    assert bad_facilitator.status_code == 400 and "進行役が委員" in text(bad_facilitator)


def test_members_cannot_plan(clients: dict[str, FlaskClient], demo: Database) -> None:
    exercise_id = demo_exercise(clients, demo, exercises_demo.PLANNED_TITLE)
    room = room_id(demo)
    assert clients[MEMBER].get(f"/rooms/{room}/exercises/new").status_code == 403
    assert last_audit(demo, "exercise.create").reason == "NOT_SECRETARIAT_OR_CHAIR"
    assert (
        post(clients[MEMBER], f"/rooms/{room}/exercises/new", exercise_form(demo, "x", [])).status_code == 403
    )
    assert clients[ANALYST].get(f"/exercises/{exercise_id}/edit").status_code == 403
    assert last_audit(demo, "exercise.edit").reason == "NOT_SECRETARIAT_OR_CHAIR"
    assert (
        post(clients[MEMBER], f"/exercises/{exercise_id}/injects/new", inject_form("0:10", "x")).status_code
        == 403
    )
    assert last_audit(demo, "inject.create").reason == "NOT_SECRETARIAT_OR_CHAIR"
    [first, *_rest] = inject_ids(demo, exercise_id)
    assert post(clients[MEMBER], f"/exercises/{exercise_id}/injects/{first}/delete").status_code == 403
    assert post(clients[MEMBER], f"/exercises/{exercise_id}/delete").status_code == 403
    page = text(clients[MEMBER].get(f"/exercises/{exercise_id}"))
    assert 'data-testid="edit-exercise"' not in page and 'data-testid="add-inject"' not in page
    # a planned exercise shows its participants nothing of the timeline yet
    assert 'data-testid="inject"' not in page and "都心部で震度6強" not in page


def test_outside_the_room_an_exercise_does_not_exist(clients: dict[str, FlaskClient], demo: Database) -> None:
    exercise_id = demo_exercise(clients, demo, exercises_demo.FINISHED_TITLE)
    for email in (OUTSIDER, "matsumoto@cao.example.jp", "inoue@cao.example.jp"):
        assert clients[email].get(f"/exercises/{exercise_id}").status_code == 404, email
    assert last_audit(demo, "exercise.read").reason in {"NOT_MEMBER", "ROLE_NO_CONTENT"}
    assert clients[OUTSIDER].get(f"/exercises/{uuid.uuid4()}").status_code == 404
    assert post(clients[OUTSIDER], f"/rooms/{room_id(demo)}/exercises/new", {}).status_code == 404


# --- withheld injects ----------------------------------------------------------------------------------


def test_an_inject_above_the_reader_is_withheld(clients: dict[str, FlaskClient], demo: Database) -> None:
    planned = demo_exercise(clients, demo, exercises_demo.PLANNED_TITLE)
    chair_page = text(clients[CHAIR].get(f"/exercises/{planned}"))
    assert CESI_SENTENCE in chair_page
    steward_page = text(clients[SECRETARIAT].get(f"/exercises/{planned}"))  # CONFIDENTIAL, not named
    assert steward_page.count('data-testid="withheld-inject"') == 1
    assert CESI_SENTENCE not in steward_page and "都心部で震度6強" in steward_page
    cesi = inject_ids(demo, planned)[-1]
    assert clients[SECRETARIAT].get(f"/exercises/{planned}/injects/{cesi}/edit").status_code == 404
    assert last_audit(demo, "inject.edit").reason == "CLEARANCE_TOO_LOW"

    finished = demo_exercise(clients, demo, exercises_demo.FINISHED_TITLE)
    private_page = text(clients[PRIVATE].get(f"/exercises/{finished}"))  # 政府限り is not for a company
    assert private_page.count('data-testid="withheld-inject"') == 1
    assert GOV_ONLY_SENTENCE not in private_page and "携帯基地局の約3割" in private_page


# --- the run -------------------------------------------------------------------------------------------


def test_the_run_reveals_injects_in_order(clients: dict[str, FlaskClient], demo: Database) -> None:
    exercise_id = new_exercise(
        clients, demo, "三つの通報の演習", [MEMBER, PRIVATE],
        [("T+0:30", "二番目の通報"), ("T+0:00", "一番目の通報"), ("T+1:00", "三番目の通報")],
    )  # fmt: skip
    first, second, third = inject_ids(demo, exercise_id)
    participant, facilitator = clients[MEMBER], clients[CHAIR]
    assert 'data-testid="no-injects"' in text(participant.get(f"/exercises/{exercise_id}"))
    assert post(facilitator, f"/exercises/{exercise_id}/reveal").status_code == 302  # not running: refused
    assert "一番目の通報" not in text(participant.get(f"/exercises/{exercise_id}"))
    assert post(facilitator, f"/exercises/{exercise_id}/start").status_code == 302
    expected = ["一番目の通報", "二番目の通報", "三番目の通報"]
    for shown in range(1, 4):
        assert post(facilitator, f"/exercises/{exercise_id}/reveal").status_code == 302
        assert last_audit(demo, "exercise.reveal").object_id == [first, second, third][shown - 1]
        page = text(participant.get(f"/exercises/{exercise_id}"))
        for index, body in enumerate(expected):
            assert (body in page) == (index < shown), (shown, body)
        assert page.count('data-testid="revealed-at"') == shown
        assert "初動の確認" not in page  # the expected action stays with the planners until the end
    # the participant answers a revealed inject; an unrevealed one would not exist for them
    answered = post(
        participant, f"/exercises/{exercise_id}/injects/{second}/respond", {"body": "代替回線に切替"}
    )
    assert answered.status_code == 302
    assert "代替回線に切替" in text(clients[PRIVATE].get(f"/exercises/{exercise_id}"))
    assert post(facilitator, f"/exercises/{exercise_id}/finish").status_code == 302
    page = text(participant.get(f"/exercises/{exercise_id}"))
    assert "Finished" not in page and "終了" in page
    assert "初動の確認" in page  # revealed for the debrief
    late = post(participant, f"/exercises/{exercise_id}/injects/{second}/respond", {"body": "遅い回答"})
    assert late.status_code == 403
    assert last_audit(demo, "exercise.respond").reason == "EXERCISE_NOT_RUNNING"


def test_run_denials(clients: dict[str, FlaskClient], demo: Database) -> None:
    exercise_id = new_exercise(clients, demo, "拒否の確認", [MEMBER], [("0:00", "通報A"), ("0:10", "通報B")])
    first, second = inject_ids(demo, exercise_id)
    assert post(clients[MEMBER], f"/exercises/{exercise_id}/start").status_code == 403
    assert last_audit(demo, "exercise.start").reason == "NOT_SECRETARIAT_OR_CHAIR"
    assert post(clients[SECRETARIAT], f"/exercises/{exercise_id}/start").status_code == 403
    assert last_audit(demo, "exercise.start").reason == "NOT_FACILITATOR"
    assert post(clients[CHAIR], f"/exercises/{exercise_id}/start").status_code == 302
    # the plan is fixed once it runs
    edited = post(
        clients[CHAIR], f"/exercises/{exercise_id}/injects/{first}/edit", inject_form("0:05", "変更")
    )
    assert edited.status_code == 400
    assert post(clients[CHAIR], f"/exercises/{exercise_id}/reveal").status_code == 302
    # a member who does not take part sees no inject and cannot respond
    page = text(clients[ANALYST].get(f"/exercises/{exercise_id}"))
    assert 'data-testid="not-participant"' in page and "通報A" not in page
    refused = post(clients[ANALYST], f"/exercises/{exercise_id}/injects/{first}/respond", {"body": "x"})
    assert refused.status_code == 403
    assert last_audit(demo, "exercise.respond").reason == "NOT_PARTICIPANT"
    # the next inject is not revealed yet: for a participant it does not exist
    early = post(clients[MEMBER], f"/exercises/{exercise_id}/injects/{second}/respond", {"body": "x"})
    assert early.status_code == 404
    assert last_audit(demo, "exercise.respond").reason == "NOT_REVEALED"
    # outside the room
    assert post(clients[OUTSIDER], f"/exercises/{exercise_id}/reveal").status_code == 404


def test_an_inject_of_another_exercise_is_not_found(clients: dict[str, FlaskClient], demo: Database) -> None:
    planned = demo_exercise(clients, demo, exercises_demo.PLANNED_TITLE)
    finished = demo_exercise(clients, demo, exercises_demo.FINISHED_TITLE)
    foreign = inject_ids(demo, finished)[0]
    assert clients[CHAIR].get(f"/exercises/{planned}/injects/{foreign}/edit").status_code == 404
    assert last_audit(demo, "inject.edit").reason == "NOT_FOUND"
    assert post(clients[CHAIR], f"/exercises/{planned}/injects/{foreign}/delete").status_code == 404
    respond = post(clients[MEMBER], f"/exercises/{planned}/injects/{foreign}/respond", {"body": "x"})
    assert respond.status_code == 404
    with demo.session_scope() as session:
        assert session.get(Inject, uuid.UUID(foreign)) is not None


def test_posts_without_a_csrf_token_are_refused(clients: dict[str, FlaskClient], demo: Database) -> None:
    planned = demo_exercise(clients, demo, exercises_demo.PLANNED_TITLE)
    for path in (
        f"/exercises/{planned}/start",
        f"/exercises/{planned}/delete",
        f"/exercises/{planned}/reveal",
    ):
        assert clients[CHAIR].post(path).status_code == 400, path
    page = text(clients[CHAIR].get(f"/exercises/{planned}"))
    assert 'data-testid="start"' in page  # still planned


# --- after-action -----------------------------------------------------------------------------------


def test_after_action_findings_action_items_and_risk_flags(
    clients: dict[str, FlaskClient], demo: Database
) -> None:
    exercise_id = new_exercise(clients, demo, "事後検証の演習", [MEMBER], [("0:00", "通報")])
    facilitator = clients[CHAIR]
    early = post(facilitator, f"/exercises/{exercise_id}/after-action", {"finding": "早すぎる", "level": "1",
                                                                           "release": "GREEN"})  # fmt: skip
    assert early.status_code == 400  # not finished yet
    for step in ("start", "reveal", "finish"):
        assert post(facilitator, f"/exercises/{exercise_id}/{step}").status_code == 302
    assert clients[MEMBER].get(f"/exercises/{exercise_id}/after-action").status_code == 403
    assert last_audit(demo, "exercise.after_action").reason == "NOT_SECRETARIAT_OR_CHAIR"
    assert clients[SECRETARIAT].get(f"/exercises/{exercise_id}/after-action").status_code == 403
    assert last_audit(demo, "exercise.after_action").reason == "NOT_FACILITATOR"
    owner = user_by_email(demo, MEMBER)
    created = post(facilitator, f"/exercises/{exercise_id}/after-action", {
        "finding": "**連絡体制**の初動に遅れ", "action_title": "連絡網を更新する",
        "action_owner": str(owner.id),
        "action_due_on": "2027-02-01", "level": "1", "release": "GREEN",
    })  # fmt: skip
    assert created.status_code == 302, text(created)[:2000]
    second = post(facilitator, f"/exercises/{exercise_id}/after-action",
                  {"finding": "二つ目の所見", "level": "1", "release": "GREEN"})  # fmt: skip
    assert second.status_code == 302
    with demo.session_scope() as session:
        exercise = session.get(Exercise, uuid.UUID(exercise_id))
        assert exercise is not None and exercise.meeting_id is not None
        meeting = session.get(Meeting, exercise.meeting_id)
        assert meeting is not None
        meeting_id = meeting.id
        assert len(session.scalars(select(Finding).where(Finding.meeting_id == meeting_id)).all()) == 2
        [action] = session.scalars(select(ActionItem).where(ActionItem.meeting_id == meeting_id)).all()
        assert action.owner_id == owner.id and str(action.due_on) == "2027-02-01"
        assert action.finding_id is not None
    findings_page = text(clients[MEMBER].get(f"/meetings/{meeting_id}/findings"))
    assert "連絡網を更新する" in findings_page and "二つ目の所見" in findings_page
    assert "机上演習 事後検証の演習" in findings_page
    assert last_audit(demo, "finding.create").allowed and last_audit(demo, "action.create").allowed

    bad = post(facilitator, f"/exercises/{exercise_id}/risks", {"risks": "<script>"})
    assert bad.status_code == 400
    from tests.risks_support import risk_id_by_title

    risk = str(risk_id_by_title(demo, "海底ケーブルの同時切断"))
    other = str(risk_id_by_title(demo, "広域停電(ブラックアウト)"))
    flagged = post(facilitator, f"/exercises/{exercise_id}/risks", {"risks": [risk, other]})
    assert flagged.status_code == 302
    assert last_audit(demo, "exercise.flag_risks").allowed
    with demo.session_scope() as session:
        exercise = session.get(Exercise, uuid.UUID(exercise_id))
        assert exercise is not None and exercise.affected_risk_ids == [risk, other]
        requests = session.scalars(
            select(RiskFlagRequest).where(RiskFlagRequest.exercise_id == exercise.id)
        ).all()
        assert sorted(r.risk_id for r in requests) == sorted([risk, other])
        assert all(r.delivered_at is not None for r in requests)
    assert "海底ケーブルの同時切断" in text(clients[MEMBER].get(f"/exercises/{exercise_id}"))
    assert post(clients[MEMBER], f"/exercises/{exercise_id}/risks", {"risks": "R-1"}).status_code == 403


def test_after_action_flags_the_affected_risks_in_the_register(
    clients: dict[str, FlaskClient], demo: Database
) -> None:
    """The facilitator names the affected risks: each is due for review today in the room's register, with
    the exercise as the reason, and the request is recorded as delivered."""
    from portal.risks.models import Risk
    from tests.risks_support import risk_id_by_title

    exercise_id = demo_exercise(clients, demo, exercises_demo.FINISHED_TITLE)
    risk_id = risk_id_by_title(demo, "海底ケーブルの同時切断")
    with demo.session_scope() as session:
        before = session.get(Risk, risk_id)
        assert before is not None
        due_before = before.next_review_on
    response = post(clients[CHAIR], f"/exercises/{exercise_id}/risks", {"risks": str(risk_id)})
    assert response.status_code == 302
    with demo.session_scope() as session:
        risk = session.get(Risk, risk_id)
        assert risk is not None
        assert risk.next_review_on <= due_before and risk.next_review_on <= utcnow().astimezone(TOKYO).date()
        [request] = session.scalars(
            select(RiskFlagRequest).where(RiskFlagRequest.risk_id == str(risk_id))
        ).all()
        assert request.delivered_at is not None and request.reason.endswith(f"(exercise {exercise_id})")
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "risk.flag").order_by(AuditEntry.seq.desc())
        ).first()
        assert entry is not None and entry.object_id == str(risk_id)
    # Something that is not a risk id of the register is refused, and nothing is recorded.
    refused = post(clients[CHAIR], f"/exercises/{exercise_id}/risks", {"risks": "R-12"})
    assert refused.status_code == 400
    with demo.session_scope() as session:
        assert session.scalar(select(RiskFlagRequest).where(RiskFlagRequest.risk_id == "R-12")) is None


# --- escaping and sealing -----------------------------------------------------------------------------


def test_markup_in_every_text_is_inert(clients: dict[str, FlaskClient], demo: Database) -> None:
    payload = XSS_CORPUS[0]
    marker = "<script>alert(1)</script>"
    exercise_id = new_exercise(clients, demo, f"演習{marker}", [MEMBER], [])
    added = post(clients[CHAIR], f"/exercises/{exercise_id}/injects/new", inject_form(
        "0:00", f"通報{marker}", sender=f"送信{marker}", recipient=f"宛先{marker}",
        expected_action=f"期待{marker}",
    ))  # fmt: skip
    assert added.status_code == 302
    post(clients[CHAIR], f"/exercises/{exercise_id}/edit", {
        **exercise_form(demo, f"演習{marker}", [MEMBER], scenario=payload), "base_version": "1"})  # fmt: skip
    for step in ("start", "reveal"):
        post(clients[CHAIR], f"/exercises/{exercise_id}/{step}")
    [inject] = inject_ids(demo, exercise_id)
    post(clients[MEMBER], f"/exercises/{exercise_id}/injects/{inject}/respond", {"body": f"回答{marker}"})
    for email in (CHAIR, MEMBER):
        page = text(clients[email].get(f"/exercises/{exercise_id}"))
        assert marker not in page and "&lt;script&gt;" in page
        scenario = re.search(r'data-testid="scenario">(.*?)</div>', page, re.S)
        assert scenario is not None
        assert_inert(scenario.group(1))
    assert marker not in text(clients[CHAIR].get(f"/rooms/{room_id(demo)}"))


def test_texts_are_sealed_in_the_database(clients: dict[str, FlaskClient], demo: Database) -> None:
    exercise_id = new_exercise(clients, demo, "封緘確認の演習", [MEMBER], [("0:00", "封緘確認の通報")])
    post(clients[CHAIR], f"/exercises/{exercise_id}/start")
    post(clients[CHAIR], f"/exercises/{exercise_id}/reveal")
    [inject] = inject_ids(demo, exercise_id)
    post(clients[MEMBER], f"/exercises/{exercise_id}/injects/{inject}/respond", {"body": "封緘確認の回答"})
    with demo.session_scope() as session:
        exercise = session.get(Exercise, uuid.UUID(exercise_id))
        row = session.get(Inject, uuid.UUID(inject))
        [response] = session.scalars(
            select(InjectResponse).where(InjectResponse.inject_id == uuid.UUID(inject))
        )
        assert exercise is not None and row is not None
        stored = [exercise.title_sealed, exercise.scenario_sealed, row.text_sealed, row.sender_sealed,
                  row.expected_action_sealed, response.body_sealed]  # fmt: skip
    for value, plain in zip(stored, ["封緘確認の演習", "送電網", "封緘確認の通報", "北辰電力", "初動の確認",
                                     "封緘確認の回答"], strict=True):  # fmt: skip
        assert plain.encode() not in bytes(value)
