"""Countermeasure options of the rapid-response room through the web: proposing, the stewards' status changes
with their history, a stale change answering 409, adoption creating action items (in 「自分の行動項目」 of
their owner, under the countermeasure's marking), denials with their audit reasons, IDOR, CSRF, escaping.

Demo: 代替調達先の確保 (adopted, RESTRICTED), 国家備蓄ガリウムの放出 (under study, CONFIDENTIAL 政府限り),
製造工程スクラップからのリサイクル拡大 (proposed, RESTRICTED)."""

from __future__ import annotations

import re
import uuid

from flask import Flask
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.db import Database
from portal.meetings.models import ActionItem, Meeting
from portal.security.audit_models import AuditEntry
from portal.situation.models import Countermeasure, CountermeasureStatus
from tests.conftest import sign_in
from tests.followup_support import DEMO_FINDINGS, finding_id_by_body, past_minerals_meeting, room_meetings
from tests.situation_support import (
    ANALYST,
    CHAIR,
    MEMBER,
    OBSERVER,
    OUTSIDER,
    RECYCLING,
    SECRETARIAT,
    SOURCING,
    STOCKPILE_MEASURE,
    adopt_form,
    countermeasure_form,
    countermeasure_id,
    post,
    room_id,
)
from tests.unit.test_sanitize import XSS_CORPUS
from tests.web.support import text, translated


def user_id(database: Database, email: str) -> uuid.UUID:
    with database.session_scope() as session:
        found = session.scalar(select(User.id).where(User.email == email))
        assert found is not None
        return found


def last_audit(database: Database, action: str) -> AuditEntry:
    with database.session_scope() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq.desc())
        ).first()
        assert entry is not None, action
        session.expunge(entry)
        return entry


def count(database: Database, model: type) -> int:
    with database.session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def status_of(database: Database, item: uuid.UUID) -> tuple[CountermeasureStatus, int]:
    with database.session_scope() as session:
        row = session.get(Countermeasure, item)
        assert row is not None
        return row.status, row.version


def test_the_list_withholds_what_a_reader_may_not_read(app: Flask, demo: Database) -> None:
    room = room_id(demo)
    chair = text(sign_in(app.test_client(), demo, CHAIR).get(f"/rooms/{room}/countermeasures"))
    assert all(title in chair for title in (SOURCING, STOCKPILE_MEASURE, RECYCLING))
    assert 'data-testid="countermeasure-withheld"' not in chair
    for email in (OBSERVER, MEMBER, ANALYST):  # 政府限り: government people only
        page = text(sign_in(app.test_client(), demo, email).get(f"/rooms/{room}/countermeasures"))
        assert STOCKPILE_MEASURE not in page and page.count('data-testid="countermeasure-withheld"') == 1
        assert SOURCING in page and RECYCLING in page
    stockpile = countermeasure_id(demo, STOCKPILE_MEASURE)
    observer = sign_in(app.test_client(), demo, OBSERVER)
    assert observer.get(f"/rooms/{room}/countermeasures/{stockpile}").status_code == 404
    entry = last_audit(demo, "countermeasure.read")
    assert not entry.allowed and entry.reason in {"CLEARANCE_TOO_LOW", "GOV_ONLY"}
    assert 'data-testid="countermeasure-form"' not in text(observer.get(f"/rooms/{room}/countermeasures"))


def test_the_adopted_demo_option_shows_its_history_and_its_action_item(app: Flask, demo: Database) -> None:
    room = room_id(demo)
    sourcing = countermeasure_id(demo, SOURCING)
    page = text(sign_in(app.test_client(), demo, MEMBER).get(f"/rooms/{room}/countermeasures/{sourcing}"))
    history = page.split('data-testid="history"')[1].split("</ol>")[0]
    assert history.count("<li>") == 3 and "需要家調査の中間結果を踏まえ採択" in history
    assert "長期引取契約に向けた官民協議の場を設定する" in page.split('data-testid="adoption-actions"')[1]
    assert "代替調達について" in page  # the linked finding of 第4回
    assert 'data-testid="status-form"' not in page  # a member does not change the status; adopted is final


def test_a_member_proposes_and_the_stewards_move_it_with_a_history(app: Flask, demo: Database) -> None:
    room = room_id(demo)
    sourcing_finding = finding_id_by_body(demo, DEMO_FINDINGS["sourcing"])
    member = sign_in(app.test_client(), demo, MEMBER)
    response = post(
        member, f"/rooms/{room}/countermeasures",
        countermeasure_form(user_id(demo, MEMBER), findings=[str(sourcing_finding)]),
    )  # fmt: skip
    assert response.status_code == 302
    item = uuid.UUID(response.headers["Location"].rsplit("/", 1)[1])
    assert status_of(demo, item) == (CountermeasureStatus.PROPOSED, 1)
    entry = last_audit(demo, "countermeasure.create")
    assert entry.allowed and entry.object_id == str(item)

    # 伊藤 is not a steward: refused and audited.
    path = f"/rooms/{room}/countermeasures/{item}/status"
    response = post(member, path, {"status": "under_study", "base_version": "1", "note": ""})
    assert response.status_code == 403
    entry = last_audit(demo, "countermeasure.status")
    assert not entry.allowed and entry.reason == "NOT_SECRETARIAT_OR_CHAIR"

    chair = sign_in(app.test_client(), demo, CHAIR)
    response = post(chair, path, {"status": "under_study", "base_version": "1", "note": "需給の試算を依頼"})
    assert response.status_code == 302
    assert status_of(demo, item) == (CountermeasureStatus.UNDER_STUDY, 2)
    # The secretariat acts on the page it saw before the chair's change: 409, nothing saved.
    secretariat = sign_in(app.test_client(), demo, SECRETARIAT)
    response = post(secretariat, path, {"status": "rejected", "base_version": "1", "note": ""})
    assert response.status_code == 409 and 'data-testid="conflict"' in text(response)
    assert status_of(demo, item) == (CountermeasureStatus.UNDER_STUDY, 2)
    page = text(chair.get(f"/rooms/{room}/countermeasures/{item}"))
    history = page.split('data-testid="history"')[1].split("</ol>")[0]
    assert history.count("<li>") == 2 and "需給の試算を依頼" in history and "田中" in history
    assert "代替調達について" in page  # the linked finding


def test_adopting_creates_the_action_item_in_its_owners_list(app: Flask, demo: Database) -> None:
    room = room_id(demo)
    recycling = countermeasure_id(demo, RECYCLING)
    meeting = past_minerals_meeting(demo)
    path = f"/rooms/{room}/countermeasures/{recycling}/status"
    chair = sign_in(app.test_client(), demo, CHAIR)
    before = count(demo, ActionItem)
    # Adopting without its action item is refused, keeping what was typed.
    response = post(
        chair, path, adopt_form(1, user_id(demo, MEMBER), meeting, action_title="", note="検討済")
    )
    assert response.status_code == 400 and count(demo, ActionItem) == before
    assert status_of(demo, recycling)[0] == CountermeasureStatus.PROPOSED
    response = post(chair, path, adopt_form(1, user_id(demo, MEMBER), meeting))
    assert response.status_code == 302
    assert status_of(demo, recycling) == (CountermeasureStatus.ADOPTED, 2)
    assert count(demo, ActionItem) == before + 1
    with demo.session_scope() as session:
        action = session.scalars(select(ActionItem).order_by(ActionItem.created_at.desc())).first()
        assert (
            action is not None and action.meeting_id == meeting and action.owner_id == user_id(demo, MEMBER)
        )
        assert int(action.level) == 1
    entry = last_audit(demo, "action.create")
    assert entry.allowed
    owner = sign_in(app.test_client(), demo, MEMBER)
    assert "融通スキームの参加企業を募る" in text(owner.get("/actions"))
    # Adopted is final.
    response = post(chair, path, {"status": "rejected", "base_version": "2", "note": ""})
    assert response.status_code == 400
    assert translated(app, "A countermeasure cannot move to that status from its current one.") in text(
        response
    )


def test_adoption_refuses_a_meeting_of_another_room_and_an_owner_who_could_not_read(
    app: Flask, demo: Database
) -> None:
    room = room_id(demo)
    recycling = countermeasure_id(demo, RECYCLING)
    stockpile = countermeasure_id(demo, STOCKPILE_MEASURE)
    path = f"/rooms/{room}/countermeasures/{recycling}/status"
    chair = sign_in(app.test_client(), demo, CHAIR)
    ship_meeting = room_meetings(demo, "造船分科会")[0]
    before = count(demo, ActionItem)
    response = post(chair, path, adopt_form(1, user_id(demo, MEMBER), ship_meeting))
    assert response.status_code == 400
    assert translated(app, "Choose a meeting of this subcommittee.") in text(response)
    # The stockpile option is 政府限り: 伊藤 (a company) could not read the action item it would create.
    secretariat = sign_in(app.test_client(), demo, SECRETARIAT)
    response = post(
        secretariat, f"/rooms/{room}/countermeasures/{stockpile}/status",
        adopt_form(2, user_id(demo, MEMBER), past_minerals_meeting(demo)),
    )  # fmt: skip
    assert response.status_code == 400
    assert translated(app, "The owner could not read an item with this marking.") in text(response)
    assert count(demo, ActionItem) == before
    assert status_of(demo, stockpile)[0] == CountermeasureStatus.UNDER_STUDY


def test_idor_other_rooms_and_findings_they_may_not_link(app: Flask, demo: Database) -> None:
    room = room_id(demo)
    agi = room_id(demo, "AGI分科会")
    infrastructure = room_id(demo, "重要インフラ機能停止分科会")
    sourcing = countermeasure_id(demo, SOURCING)
    secretariat = sign_in(app.test_client(), demo, SECRETARIAT)
    # A countermeasure asked for under another room's address.
    assert secretariat.get(f"/rooms/{infrastructure}/countermeasures/{sourcing}").status_code == 404
    assert secretariat.get(f"/rooms/{room}/countermeasures/{uuid.uuid4()}").status_code == 404
    response = post(secretariat, f"/rooms/{infrastructure}/countermeasures/{sourcing}/status",
                    {"status": "rejected", "base_version": "3"})  # fmt: skip
    assert response.status_code == 404
    outsider = sign_in(app.test_client(), demo, OUTSIDER)
    assert outsider.get(f"/rooms/{room}/countermeasures").status_code == 404
    assert outsider.get(f"/rooms/{room}/countermeasures/{sourcing}").status_code == 404
    chair = sign_in(app.test_client(), demo, CHAIR)
    assert chair.get(f"/rooms/{agi}/countermeasures").status_code == 404
    # A finding of another room's meeting (or one the proposer may not read) is not offered nor taken.
    with demo.session_scope() as session:
        from portal.meetings.models import Finding

        other = session.scalar(
            select(Finding.id)
            .join(Meeting, Meeting.id == Finding.meeting_id)
            .where(Meeting.subcommittee_id != room)
        )
    gov_finding = finding_id_by_body(demo, DEMO_FINDINGS["gov_only"])
    member = sign_in(app.test_client(), demo, MEMBER)
    before = count(demo, Countermeasure)
    for finding in [f for f in (other, gov_finding) if f is not None]:
        response = post(member, f"/rooms/{room}/countermeasures",
                        countermeasure_form(user_id(demo, MEMBER), findings=[str(finding)]))  # fmt: skip
        assert response.status_code == 400
    assert count(demo, Countermeasure) == before


def test_observers_do_not_propose_and_the_refusal_is_audited(app: Flask, demo: Database) -> None:
    room = room_id(demo)
    before = count(demo, Countermeasure)
    observer = sign_in(app.test_client(), demo, OBSERVER)
    response = post(observer, f"/rooms/{room}/countermeasures", countermeasure_form(user_id(demo, OBSERVER)))
    assert response.status_code == 403
    entry = last_audit(demo, "countermeasure.create")
    assert not entry.allowed and entry.reason == "OBSERVER_READ_ONLY"
    assert count(demo, Countermeasure) == before


def test_csrf_is_required(app: Flask, demo: Database) -> None:
    room = room_id(demo)
    recycling = countermeasure_id(demo, RECYCLING)
    chair = sign_in(app.test_client(), demo, CHAIR)
    before = count(demo, Countermeasure)
    assert (
        chair.post(
            f"/rooms/{room}/countermeasures", data=countermeasure_form(user_id(demo, CHAIR))
        ).status_code
        == 400
    )
    response = chair.post(f"/rooms/{room}/countermeasures/{recycling}/status",
                          data={"status": "under_study", "base_version": "1"})  # fmt: skip
    assert response.status_code == 400
    assert count(demo, Countermeasure) == before
    assert status_of(demo, recycling) == (CountermeasureStatus.PROPOSED, 1)


def test_markup_is_shown_inert(app: Flask, demo: Database) -> None:
    room = room_id(demo)
    payload = " ".join(XSS_CORPUS)[:290]
    chair = sign_in(app.test_client(), demo, CHAIR)
    form = countermeasure_form(user_id(demo, CHAIR), title=payload, description=payload)
    response = post(chair, f"/rooms/{room}/countermeasures", form)
    assert response.status_code == 302
    item = response.headers["Location"].rsplit("/", 1)[1]
    response = post(chair, f"/rooms/{room}/countermeasures/{item}/status",
                    {"status": "under_study", "base_version": "1", "note": payload})  # fmt: skip
    assert response.status_code == 302
    for path in (f"/rooms/{room}/countermeasures/{item}", f"/rooms/{room}/countermeasures", f"/rooms/{room}"):
        page = text(chair.get(path))
        assert "&lt;script&gt;" in page, path
        assert not re.search(r"<script(?![^>]*\bsrc=)", page) and "<img src=x" not in page
        assert "<svg onload" not in page and "<iframe" not in page
