"""Findings and action items through the web: who reads what (withheld lines without their text), posting,
editing and deleting by the stewards, the owner's status changes with conflicts, denials with their audit
reasons, IDOR, CSRF, escaping, and the functions the exports call.

Demo data (第4回 of the minerals room): the stockpile finding and 田中's action item are CONFIDENTIAL and
政府限り; the sourcing and general findings and 伊藤's and 佐藤's action items are RESTRICTED."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from portal.accounts.models import Organization
from portal.db import Database
from portal.enums import Level, ReleaseMarking
from portal.meetings import findings
from portal.meetings.access import seal_part
from portal.meetings.followup_read import actions_for_reader, findings_for_reader
from portal.meetings.forms import PartMarkingInput
from portal.meetings.models import ActionItem, ActionStatus, AgendaItem, Finding, Meeting
from portal.security import policy
from portal.security.audit_models import AuditEntry
from tests.conftest import csrf_token, keyed_session, sign_in, user_by_email
from tests.followup_support import (
    DEMO_ACTIONS,
    DEMO_FINDINGS,
    action_id_by_title,
    action_titles,
    finding_bodies,
    finding_id_by_body,
    past_minerals_meeting,
    room_meetings,
    upcoming_minerals_meeting,
)
from tests.meetings_support import subject_of
from tests.unit.test_sanitize import XSS_CORPUS, assert_inert
from tests.web.support import id_problems, text, translated

SECRETARIAT = "sato@cao.example.jp"
CHAIR = "tanaka@meti.example.jp"
MEMBER = "ito@toho-raremetals.example.jp"  # private company, CESI: 政府限り is not for him
ANALYST = "yoshida@icess.example.jp"
OBSERVER = "kobayashi@toto-u.example.jp"  # RESTRICTED; English interface
OUTSIDER = "suzuki@mlit.example.jp"

WITHHELD_FINDING = "閲覧権限のない所見"
WITHHELD_ACTION = "閲覧権限のない行動項目"
#: A sentence of each demo text that must never reach a reader who may not read it.
STOCKPILE_SENTENCE = "国家備蓄(JOGMEC)の放出条件"
TANAKA_ACTION = DEMO_ACTIONS["tanaka"]
FINDING_BODY = re.compile(r'<div class="prose" data-testid="finding-body">(.*?)</div>', re.S)


def post(client: FlaskClient, path: str, data: dict[str, Any]) -> TestResponse:
    return client.post(path, data={"csrf_token": csrf_token(client, "/account"), **data})


def last_audit(database: Database, action: str | None = None) -> AuditEntry:
    with database.session_scope() as session:
        query = select(AuditEntry).order_by(AuditEntry.seq.desc())
        if action is not None:
            query = query.where(AuditEntry.action == action)
        entry = session.scalars(query).first()
        assert entry is not None
        session.expunge(entry)
        return entry


def finding_form(body: str, **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {"body": body, "agenda_item": "", "level": "1", "release": "GREEN"}
    form.update(changes)
    return form


def action_form(title: str, owner: uuid.UUID, **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "title": title,
        "owner": str(owner),
        "due_on": (date.today() + timedelta(days=10)).isoformat(),
        "status": "open",
        "finding": "",
        "level": "1",
        "release": "GREEN",
    }
    form.update(changes)
    return form


def count(database: Database, model: type[Any]) -> int:
    with database.session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def add_agenda_item(
    database: Database, meeting_id: uuid.UUID, title: str, level: Level = Level.RESTRICTED, readers: str = ""
) -> uuid.UUID:
    """An agenda item made as the agenda feature would (sealed under its level), without its pages."""
    with keyed_session(database.url) as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        origin = session.scalar(select(Organization.id).limit(1))
        assert origin is not None
        position = session.scalar(  # after the demo's own items, if any
            select(func.max(AgendaItem.position)).where(AgendaItem.meeting_id == meeting_id)
        )
        item = AgendaItem(
            id=uuid.uuid4(),
            meeting_id=meeting_id,
            position=int(position or 0) + 1,
            level=level,
            release=ReleaseMarking.GREEN,
            caveat_codes_text="",
            reader_ids_text=readers,
            release_organization_ids_text="",
            origin_organization_id=origin,
        )
        grant = policy.maintenance_grant("agenda_item", item.id)
        seal_part(session, grant, item, meeting.subcommittee_id, {"title": title, "presenter": "事務局"})
        session.add(item)
        return item.id


# --- who reads what --------------------------------------------------------------------------------


def test_each_reader_sees_only_what_they_may_read(app: Flask, demo: Database) -> None:
    path = f"/meetings/{past_minerals_meeting(demo)}/findings"
    chair = text(sign_in(app.test_client(), demo, CHAIR).get(path))
    assert STOCKPILE_SENTENCE in chair and TANAKA_ACTION in chair
    assert WITHHELD_FINDING not in chair and WITHHELD_ACTION not in chair
    assert chair.count('data-testid="finding"') == 3

    for email in (MEMBER, ANALYST):  # cleared, but 政府限り is for government people only
        page = text(sign_in(app.test_client(), demo, email).get(path))
        assert STOCKPILE_SENTENCE not in page and TANAKA_ACTION not in page, email
        assert page.count(WITHHELD_FINDING) == 1 and page.count(WITHHELD_ACTION) == 1, email
        assert "代替調達について" in page and DEMO_ACTIONS["ito"] in page, email
        assert "備蓄" not in page.split("finding-list")[1].split("</ol>")[0], email

    observer = sign_in(app.test_client(), demo, OBSERVER)
    page = text(observer.get(path))  # RESTRICTED: the CONFIDENTIAL parts are withheld
    assert STOCKPILE_SENTENCE not in page and TANAKA_ACTION not in page
    assert translated(app, "A finding you may not read", "en") in page
    assert translated(app, "An action item you may not read", "en") in page
    assert "ゲルマニウムは亜鉛精錬副産物" in page
    assert 'data-testid="finding-form"' not in page and 'data-testid="status-form"' not in page


def test_withheld_parts_are_not_audited_as_reads_and_confidential_reads_are(
    app: Flask, demo: Database
) -> None:
    path = f"/meetings/{past_minerals_meeting(demo)}/findings"
    gov_finding = finding_id_by_body(demo, DEMO_FINDINGS["gov_only"])
    sign_in(app.test_client(), demo, CHAIR).get(path)
    with demo.session_scope() as session:
        reads = session.scalars(select(AuditEntry).where(AuditEntry.object_id == str(gov_finding))).all()
        assert [(entry.action, entry.allowed) for entry in reads][-1] == ("finding.read", True)
        before = len(reads)
    sign_in(app.test_client(), demo, MEMBER).get(path)
    with demo.session_scope() as session:
        after = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.object_id == str(gov_finding))
        )
    assert after == before


def test_who_may_not_see_the_meeting_gets_404(app: Flask, demo: Database) -> None:
    meeting = past_minerals_meeting(demo)
    outsider = sign_in(app.test_client(), demo, OUTSIDER)
    assert outsider.get(f"/meetings/{meeting}/findings").status_code == 404
    assert last_audit(demo).reason == "NOT_MEMBER"
    response = post(outsider, f"/meetings/{meeting}/findings", finding_form("外部からの所見"))
    assert response.status_code == 404


# --- findings ------------------------------------------------------------------------------------------


def test_the_secretariat_posts_a_finding_under_its_marking(app: Flask, demo: Database) -> None:
    meeting = past_minerals_meeting(demo)
    steward = sign_in(app.test_client(), demo, SECRETARIAT)
    body = "**黒鉛**の輸出許可は平均45日を要している。"
    response = post(
        steward,
        f"/meetings/{meeting}/findings",
        finding_form(body, level="2", caveats="GOV_ONLY", release="AMBER+STRICT", reason="交渉上の立場"),
    )
    assert response.status_code == 302, text(response)[:2000]
    found = finding_id_by_body(demo, body)
    with demo.session_scope() as session:
        finding = session.get(Finding, found)
        assert finding is not None
        assert (finding.level, finding.caveat_codes, finding.position) == (
            Level.CONFIDENTIAL,
            {"GOV_ONLY"},
            4,
        )
        assert b"45" not in bytes(finding.body_sealed)
    entry = last_audit(demo, "finding.create")
    assert entry.allowed and entry.object_id == str(found) and entry.level == 2
    page = text(steward.get(f"/meetings/{meeting}/findings"))
    assert "<strong>黒鉛</strong>の輸出許可は平均45日" in page
    assert "平均45日" not in text(
        sign_in(app.test_client(), demo, MEMBER).get(f"/meetings/{meeting}/findings")
    )


def test_a_rejected_finding_keeps_what_was_typed(app: Flask, demo: Database) -> None:
    meeting = past_minerals_meeting(demo)
    steward = sign_in(app.test_client(), demo, SECRETARIAT)
    before = count(demo, Finding)
    typed = "理由なしの秘区分 MARKER-KEPT"
    response = post(steward, f"/meetings/{meeting}/findings", finding_form(typed, level="2"))
    assert response.status_code == 400
    page = text(response)
    assert translated(app, "A reason is required at Confidential and above.") in page
    assert "MARKER-KEPT" in page
    # Above one's own clearance: refused by the policy, audited, the text kept.
    response = post(steward, f"/meetings/{meeting}/findings", finding_form(typed, level="3", readers=[]))
    assert response.status_code == 400  # CESI must name readers: the form says so first
    cesi = finding_form(typed, level="3", reason="指定", readers=str(user_by_email(demo, CHAIR).id))
    response = post(steward, f"/meetings/{meeting}/findings", cesi)
    assert response.status_code == 403
    assert translated(app, "You cannot classify above your own clearance.") in text(response)
    assert "MARKER-KEPT" in text(response)
    assert last_audit(demo, "finding.create").reason == "CLASSIFY_ABOVE_CLEARANCE"
    assert count(demo, Finding) == before


def test_members_may_not_post_findings_or_action_items(app: Flask, demo: Database) -> None:
    meeting = past_minerals_meeting(demo)
    before = (count(demo, Finding), count(demo, ActionItem))
    ito = user_by_email(demo, MEMBER)
    for email in (MEMBER, ANALYST, OBSERVER):
        client = sign_in(app.test_client(), demo, email)
        page = text(client.get(f"/meetings/{meeting}/findings"))
        assert 'data-testid="finding-form"' not in page and 'data-testid="action-form"' not in page
        response = post(client, f"/meetings/{meeting}/findings", finding_form("構成員の所見"))
        assert response.status_code == 403, email
        entry = last_audit(demo)
        assert (entry.allowed, entry.reason, entry.rule) == (
            False,
            "NOT_SECRETARIAT_OR_CHAIR",
            "finding.create",
        )
        response = post(client, f"/meetings/{meeting}/actions", action_form("構成員の行動", ito.id))
        assert response.status_code == 403, email
        assert last_audit(demo).reason == "NOT_SECRETARIAT_OR_CHAIR"
        response = post(client, f"/meetings/{meeting}/findings", {})  # an empty form is refused the same
        assert response.status_code == 403, email
    assert (count(demo, Finding), count(demo, ActionItem)) == before


def test_a_finding_belongs_to_an_agenda_item_its_author_may_read(app: Flask, demo: Database) -> None:
    meeting = past_minerals_meeting(demo)
    with demo.session_scope() as session:  # the demo agenda's items come first
        number = 1 + int(
            session.scalar(
                select(func.count())
                .select_from(AgendaItem)
                .where(AgendaItem.meeting_id == meeting, AgendaItem.removed_at.is_(None))
            )
            or 0
        )
    readable = add_agenda_item(demo, meeting, "輸出許可の運用状況")
    named_only = add_agenda_item(
        demo, meeting, "同盟国からの通報(指名閲覧)", Level.CONFIDENTIAL, str(user_by_email(demo, CHAIR).id)
    )
    other_meeting = add_agenda_item(demo, upcoming_minerals_meeting(demo), "次回の議題")
    steward = sign_in(app.test_client(), demo, SECRETARIAT)
    page = text(steward.get(f"/meetings/{meeting}/findings"))
    assert f'<option value="{readable}">{number}. 輸出許可の運用状況</option>' in page
    assert str(named_only) not in page and "同盟国からの通報" not in page and str(other_meeting) not in page

    for refused in (named_only, other_meeting):
        response = post(
            steward, f"/meetings/{meeting}/findings", finding_form("議題の所見", agenda_item=str(refused))
        )
        assert response.status_code == 400
    response = post(
        steward, f"/meetings/{meeting}/findings", finding_form("議題の所見", agenda_item=str(readable))
    )
    assert response.status_code == 302
    page = text(sign_in(app.test_client(), demo, MEMBER).get(f"/meetings/{meeting}/findings"))
    assert (
        translated(app, "Agenda item %(number)d: %(title)s", number=number, title="輸出許可の運用状況")
        in page
    )

    # For the exports: the agenda item's position travels with the finding.
    with demo.session_scope() as session:
        entries = findings_for_reader(session, subject_of(session, MEMBER), meeting)
        tied = [entry for entry in entries if entry.agenda_item_id == readable]
        position = session.scalar(select(AgendaItem.position).where(AgendaItem.id == readable))
        assert len(tied) == 1 and tied[0].agenda_position == position and tied[0].body == "議題の所見"


def test_finding_bodies_render_inert(app: Flask, demo: Database) -> None:
    meeting = past_minerals_meeting(demo)
    steward = sign_in(app.test_client(), demo, SECRETARIAT)
    response = post(steward, f"/meetings/{meeting}/findings", finding_form("\n\n".join(XSS_CORPUS)))
    assert response.status_code == 302
    page = text(steward.get(f"/meetings/{meeting}/findings"))
    bodies = FINDING_BODY.findall(page)
    assert len(bodies) == 4
    assert_inert(bodies[-1])
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)


def test_the_secretariat_edits_a_finding_and_a_stale_edit_conflicts(app: Flask, demo: Database) -> None:
    meeting = past_minerals_meeting(demo)
    sourcing = finding_id_by_body(demo, DEMO_FINDINGS["sourcing"])
    path = f"/meetings/{meeting}/findings/{sourcing}/edit"
    steward = sign_in(app.test_client(), demo, SECRETARIAT)
    page = text(steward.get(path))
    digest = re.search(r'name="base_digest" type="hidden" value="([0-9a-f]{64})"', page)
    assert digest and "ゲルマニウムは亜鉛精錬副産物" in page

    chair = sign_in(app.test_client(), demo, CHAIR)
    chair_page = text(chair.get(path))
    chair_digest = re.search(r'name="base_digest" type="hidden" value="([0-9a-f]{64})"', chair_page)
    assert chair_digest
    response = post(chair, path, finding_form("座長による修正版", base_digest=chair_digest.group(1)))
    assert response.status_code == 302
    assert finding_bodies(demo)[sourcing] == "座長による修正版"
    assert last_audit(demo, "finding.edit").object_id == str(sourcing)

    response = post(
        steward, path, finding_form("事務局の古い版に基づく修正 MARKER-MINE", base_digest=digest.group(1))
    )
    assert response.status_code == 409
    page = text(response)
    assert "座長による修正版" in page and "MARKER-MINE" in page
    assert finding_bodies(demo)[sourcing] == "座長による修正版"
    fresh = re.search(r'name="base_digest" type="hidden" value="([0-9a-f]{64})"', page)
    assert fresh and fresh.group(1) != digest.group(1)
    response = post(steward, path, finding_form("事務局の版 MARKER-MINE", base_digest=fresh.group(1)))
    assert response.status_code == 302
    assert finding_bodies(demo)[sourcing] == "事務局の版 MARKER-MINE"


def test_editing_and_deleting_findings_is_for_stewards_who_read_them(app: Flask, demo: Database) -> None:
    meeting = past_minerals_meeting(demo)
    general = finding_id_by_body(demo, DEMO_FINDINGS["general"])
    gov_only = finding_id_by_body(demo, DEMO_FINDINGS["gov_only"])
    member = sign_in(app.test_client(), demo, MEMBER)
    assert member.get(f"/meetings/{meeting}/findings/{general}/edit").status_code == 403
    assert last_audit(demo).reason == "NOT_SECRETARIAT_OR_CHAIR"
    assert post(member, f"/meetings/{meeting}/findings/{general}/delete", {}).status_code == 403
    assert member.get(f"/meetings/{meeting}/findings/{gov_only}/edit").status_code == 404
    assert last_audit(demo).reason == "GOV_ONLY"
    assert post(member, f"/meetings/{meeting}/findings/{gov_only}/delete", {}).status_code == 404
    assert general in finding_bodies(demo) and gov_only in finding_bodies(demo)

    # A steward deletes; the action items that followed from it stay, untied.
    sourcing = finding_id_by_body(demo, DEMO_FINDINGS["sourcing"])
    steward = sign_in(app.test_client(), demo, SECRETARIAT)
    response = post(steward, f"/meetings/{meeting}/findings/{sourcing}/delete", {})
    assert response.status_code == 302
    assert sourcing not in finding_bodies(demo)
    ito_action = action_id_by_title(demo, DEMO_ACTIONS["ito"])
    with demo.session_scope() as session:
        item = session.get(ActionItem, ito_action)
        assert item is not None and item.finding_id is None
    entry = last_audit(demo, "finding.delete")
    assert entry.allowed and entry.object_id == str(sourcing)


def test_a_finding_of_another_meeting_answers_404(app: Flask, demo: Database) -> None:
    general = finding_id_by_body(demo, DEMO_FINDINGS["general"])
    upcoming = upcoming_minerals_meeting(demo)
    steward = sign_in(app.test_client(), demo, SECRETARIAT)
    assert steward.get(f"/meetings/{upcoming}/findings/{general}/edit").status_code == 404
    assert post(steward, f"/meetings/{upcoming}/findings/{general}/delete", {}).status_code == 404
    entry = last_audit(demo)
    assert (entry.allowed, entry.reason, entry.object_id) == (False, "NOT_FOUND", str(general))
    assert general in finding_bodies(demo)


# --- action items --------------------------------------------------------------------------------------


def test_the_secretariat_adds_an_action_item_for_a_member(app: Flask, demo: Database) -> None:
    meeting = past_minerals_meeting(demo)
    ito = user_by_email(demo, MEMBER)
    sourcing = finding_id_by_body(demo, DEMO_FINDINGS["sourcing"])
    title = "<script>alert('action')</script>カナダ産ゲルマニウムの調達条件を確認"
    steward = sign_in(app.test_client(), demo, SECRETARIAT)
    response = post(
        steward,
        f"/meetings/{meeting}/actions",
        action_form(title, ito.id, finding=str(sourcing), status="in_progress"),
    )
    assert response.status_code == 302, text(response)[:2000]
    created = action_id_by_title(demo, title)
    with demo.session_scope() as session:
        item = session.get(ActionItem, created)
        assert item is not None
        assert (item.owner_id, item.status, item.finding_id, item.version) == (
            ito.id, ActionStatus.IN_PROGRESS, sourcing, 1,
        )  # fmt: skip
    entry = last_audit(demo, "action.create")
    assert entry.allowed and json.loads(entry.detail)["owner"] == str(ito.id)
    page = text(sign_in(app.test_client(), demo, MEMBER).get(f"/meetings/{meeting}/findings"))
    assert "<script>alert('action')" not in page
    assert "&lt;script&gt;alert(&#39;action&#39;)&lt;/script&gt;カナダ産ゲルマニウム" in page


def test_an_action_item_s_owner_is_a_member_who_can_read_it(app: Flask, demo: Database) -> None:
    meeting = past_minerals_meeting(demo)
    steward = sign_in(app.test_client(), demo, SECRETARIAT)
    before = count(demo, ActionItem)
    outsider = user_by_email(demo, OUTSIDER)
    response = post(
        steward, f"/meetings/{meeting}/actions", action_form("部外者の担当 MARKER-KEPT", outsider.id)
    )
    assert response.status_code == 400 and "MARKER-KEPT" in text(response)
    observer = user_by_email(demo, OBSERVER)
    secret = action_form("秘の担当 MARKER-KEPT", observer.id, level="2", reason="備蓄の検討")
    response = post(steward, f"/meetings/{meeting}/actions", secret)
    assert response.status_code == 400
    assert translated(app, "The owner could not read an action item with this marking.") in text(response)
    assert "MARKER-KEPT" in text(response)
    assert count(demo, ActionItem) == before


def test_the_owner_changes_the_status_and_a_stale_change_conflicts(app: Flask, demo: Database) -> None:
    meeting = past_minerals_meeting(demo)
    ito_action = action_id_by_title(demo, DEMO_ACTIONS["ito"])
    path = f"/meetings/{meeting}/actions/{ito_action}/status"
    owner = sign_in(app.test_client(), demo, MEMBER)
    page = text(owner.get(f"/meetings/{meeting}/findings"))
    assert page.count('data-testid="status-form"') == 1  # his own only
    response = post(owner, path, {"status": "in_progress", "base_version": "1"})
    assert response.status_code == 302
    with demo.session_scope() as session:
        item = session.get(ActionItem, ito_action)
        assert item is not None and (item.status, item.version) == (ActionStatus.IN_PROGRESS, 2)
    entry = last_audit(demo, "action.status")
    assert json.loads(entry.detail) == {"from": "open", "to": "in_progress"}

    # The secretariat, on a page shown before that change, sets it done: refused as a conflict.
    steward = sign_in(app.test_client(), demo, SECRETARIAT)
    response = post(steward, path, {"status": "done", "base_version": "1"})
    assert response.status_code == 409
    page = text(response)
    assert translated(app, "In progress") in page and DEMO_ACTIONS["ito"] in page
    assert 'name="base_version" type="hidden" value="2"' in page
    with demo.session_scope() as session:
        item = session.get(ActionItem, ito_action)
        assert item is not None and item.status == ActionStatus.IN_PROGRESS
    response = post(
        steward, path, {"status": "done", "base_version": "2"}
    )  # deliberately, on the new version
    assert response.status_code == 302
    with demo.session_scope() as session:
        item = session.get(ActionItem, ito_action)
        assert item is not None and (item.status, item.version) == (ActionStatus.DONE, 3)


def test_only_the_owner_or_a_steward_changes_the_status(app: Flask, demo: Database) -> None:
    meeting = past_minerals_meeting(demo)
    ito_action = action_id_by_title(demo, DEMO_ACTIONS["ito"])
    tanaka_action = action_id_by_title(demo, DEMO_ACTIONS["tanaka"])
    analyst = sign_in(app.test_client(), demo, ANALYST)
    response = post(
        analyst, f"/meetings/{meeting}/actions/{ito_action}/status", {"status": "done", "base_version": "1"}
    )
    assert response.status_code == 403
    entry = last_audit(demo)
    assert (entry.allowed, entry.reason, entry.rule) == (False, "NOT_OWNER_OR_STEWARD", "action.status")
    # An item one may not read is not there at all.
    owner = sign_in(app.test_client(), demo, MEMBER)
    response = post(
        owner, f"/meetings/{meeting}/actions/{tanaka_action}/status", {"status": "done", "base_version": "1"}
    )
    assert response.status_code == 404
    assert last_audit(demo).reason == "GOV_ONLY"
    with demo.session_scope() as session:
        statuses = {item.id: item.status for item in session.scalars(select(ActionItem))}
    assert statuses[ito_action] == ActionStatus.OPEN and statuses[tanaka_action] == ActionStatus.IN_PROGRESS


def test_the_steward_edits_an_action_item_with_optimistic_concurrency(app: Flask, demo: Database) -> None:
    meeting = past_minerals_meeting(demo)
    ito_action = action_id_by_title(demo, DEMO_ACTIONS["ito"])
    path = f"/meetings/{meeting}/actions/{ito_action}/edit"
    sato = user_by_email(demo, SECRETARIAT)
    steward = sign_in(app.test_client(), demo, SECRETARIAT)
    page = text(steward.get(path))
    assert DEMO_ACTIONS["ito"] in page and 'name="base_version" type="hidden" value="1"' in page
    response = post(steward, path, action_form("担当替え: 事務局が確認する", sato.id, base_version="1"))
    assert response.status_code == 302
    with demo.session_scope() as session:
        item = session.get(ActionItem, ito_action)
        assert item is not None and (item.owner_id, item.version) == (sato.id, 2)
    assert action_titles(demo)[ito_action] == "担当替え: 事務局が確認する"
    response = post(steward, path, action_form("古い版から MARKER-MINE", sato.id, base_version="1"))
    assert response.status_code == 409
    assert "担当替え: 事務局が確認する" in text(response) and "MARKER-MINE" in text(response)
    assert action_titles(demo)[ito_action] == "担当替え: 事務局が確認する"


def test_deleting_an_action_item(app: Flask, demo: Database) -> None:
    meeting = past_minerals_meeting(demo)
    sato_action = action_id_by_title(demo, DEMO_ACTIONS["sato"])
    member = sign_in(app.test_client(), demo, MEMBER)
    assert post(member, f"/meetings/{meeting}/actions/{sato_action}/delete", {}).status_code == 403
    assert sato_action in action_titles(demo)
    chair = sign_in(app.test_client(), demo, CHAIR)
    assert post(chair, f"/meetings/{meeting}/actions/{sato_action}/delete", {}).status_code == 302
    assert sato_action not in action_titles(demo)
    assert last_audit(demo, "action.delete").object_id == str(sato_action)


def test_an_action_item_of_another_meeting_or_room_answers_404(app: Flask, demo: Database) -> None:
    past = past_minerals_meeting(demo)
    ito_action = action_id_by_title(demo, DEMO_ACTIONS["ito"])
    # An action item of the shipbuilding room (田中 sits there as a member, 鈴木 chairs it).
    ship_meeting = room_meetings(demo, "造船分科会")[0]
    with keyed_session(demo.url) as session:
        chair = subject_of(session, OUTSIDER)
        marking = PartMarkingInput(
            Level.RESTRICTED, ReleaseMarking.GREEN, frozenset(), frozenset(), frozenset(), None
        )
        ship_action = findings.create_action(
            session, chair, ship_meeting,
            findings.ActionInput("敷設船の船台確保の見通しを確認", user_by_email(demo, CHAIR).id, None,
                                 ActionStatus.OPEN, None, marking),
        ).id  # fmt: skip

    tanaka = sign_in(app.test_client(), demo, CHAIR)  # runs the minerals room
    for path in (
        f"/meetings/{upcoming_minerals_meeting(demo)}/actions/{ito_action}/edit",
        f"/meetings/{past}/actions/{ship_action}/edit",
    ):
        assert tanaka.get(path).status_code == 404, path
        assert last_audit(demo).reason == "NOT_FOUND"
    for path in (
        f"/meetings/{past}/actions/{ship_action}/status",
        f"/meetings/{past}/actions/{ship_action}/delete",
    ):
        assert post(tanaka, path, {"status": "done", "base_version": "1"}).status_code == 404, path
    assert (
        tanaka.get(f"/meetings/{ship_meeting}/actions/{ship_action}/edit").status_code == 403
    )  # not its chair
    assert (
        post(
            tanaka,
            f"/meetings/{ship_meeting}/actions/{ship_action}/status",
            {"status": "done", "base_version": "1"},
        ).status_code
        == 302
    )  # his own
    with demo.session_scope() as session:
        item = session.get(ActionItem, ship_action)
        assert item is not None and item.status == ActionStatus.DONE


def test_posts_without_the_csrf_token_change_nothing(app: Flask, demo: Database) -> None:
    meeting = past_minerals_meeting(demo)
    ito_action = action_id_by_title(demo, DEMO_ACTIONS["ito"])
    general = finding_id_by_body(demo, DEMO_FINDINGS["general"])
    steward = sign_in(app.test_client(), demo, SECRETARIAT)
    steward.get(f"/meetings/{meeting}/findings")
    before = (count(demo, Finding), count(demo, ActionItem))
    ito = user_by_email(demo, MEMBER)
    for path, data in (
        (f"/meetings/{meeting}/findings", finding_form("トークンなし")),
        (f"/meetings/{meeting}/actions", action_form("トークンなし", ito.id)),
        (f"/meetings/{meeting}/findings/{general}/delete", {}),
        (f"/meetings/{meeting}/actions/{ito_action}/delete", {}),
        (f"/meetings/{meeting}/actions/{ito_action}/status", {"status": "done", "base_version": "1"}),
    ):
        assert steward.post(path, data=data).status_code == 400, path
    assert (count(demo, Finding), count(demo, ActionItem)) == before
    with demo.session_scope() as session:
        item = session.get(ActionItem, ito_action)
        assert item is not None and item.status == ActionStatus.OPEN


# --- for the exports -------------------------------------------------------------------------------------


def test_the_export_functions_give_each_reader_their_own_view(demo: Database) -> None:
    meeting = past_minerals_meeting(demo)
    with keyed_session(demo.url) as session:
        for_chair = findings_for_reader(session, subject_of(session, CHAIR), meeting)
        for_observer = findings_for_reader(session, subject_of(session, OBSERVER), meeting)
        actions_chair = actions_for_reader(session, subject_of(session, CHAIR), meeting)
        actions_observer = actions_for_reader(session, subject_of(session, OBSERVER), meeting)
        assert [entry.readable for entry in for_chair] == [True, True, True]
        assert [entry.readable for entry in for_observer] == [False, True, True]
        assert for_observer[0].body is None and for_observer[0].finding.level == Level.CONFIDENTIAL
        assert for_chair[0].body == DEMO_FINDINGS["gov_only"]
        assert for_observer[0].finding.id == for_chair[0].finding.id
        assert all(entry.agenda_position is None for entry in for_chair)
        withheld = [entry for entry in actions_observer if not entry.readable]
        assert len(withheld) == 1 and withheld[0].title is None and withheld[0].owner_name is None
        assert all(entry.readable for entry in actions_chair)
        # the meeting's own action items (the demo has others, e.g. of a tabletop exercise's meeting record)
        of_meeting = set(session.scalars(select(ActionItem.id).where(ActionItem.meeting_id == meeting)))
        assert {entry.title for entry in actions_chair} == {
            title for item_id, title in action_titles(demo).items() if item_id in of_meeting
        }
        assert [entry.item.due_on for entry in actions_chair] == sorted(
            entry.item.due_on for entry in actions_chair
        )
        with pytest.raises(policy.AccessDenied) as refused:
            findings_for_reader(session, subject_of(session, OUTSIDER), meeting)
        assert refused.value.conceal and refused.value.decision.reason == "NOT_MEMBER"


def test_each_field_of_the_findings_page_has_its_own_id(app: Flask, demo: Database) -> None:
    """The finding form, the action form and every status form on one page: each label names its own field
    (they used to share ``level``, ``reason``, ``status``...), and a rejected form keeps them apart too."""
    meeting = past_minerals_meeting(demo)
    steward = sign_in(app.test_client(), demo, SECRETARIAT)
    page = text(steward.get(f"/meetings/{meeting}/findings"))
    assert page.count('data-testid="status-form"') >= 2
    assert id_problems(page) == []
    assert 'for="finding-level"' in page and 'for="action-level"' in page
    assert 'name="level"' in page and 'name="status"' in page  # what is posted is unchanged
    rejected = post(steward, f"/meetings/{meeting}/findings", finding_form("理由なし", level="2"))
    assert rejected.status_code == 400
    assert id_problems(text(rejected)) == []
    assert 'aria-describedby="finding-reason-error"' in text(rejected)
