"""Policy-coordination rooms through the web: the room's panel (timeline, board summary, sectors), the work
plan's themes and milestones written by the stewards, recommendations moved along their lifecycle with a
history, forbidden skips and stale moves, withheld items for a member below their level, denials with their
audit reasons, IDOR, CSRF and escaping."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from portal.accounts.models import Organization
from portal.db import Database
from portal.enums import Sector
from portal.policywork.models import Milestone, Recommendation, RecommendationTransition, WorkTheme
from portal.security.audit_models import AuditEntry
from tests.conftest import csrf_token, sign_in
from tests.policywork_support import (
    AGI,
    AGI_CHAIR,
    AGI_OBSERVER,
    CABLE_RECOMMENDATION,
    COMPUTE_RECOMMENDATION,
    COMPUTE_THEME,
    MINERALS,
    SAFETY_RECOMMENDATION,
    SHIP_CHAIR,
    SHIP_COMPANY,
    SHIP_MEMBER,
    SHIP_SECRETARIAT,
    SHIPBUILDING,
    STEEL_THEME,
    recommendation_id,
    recommendation_titles,
    room_id,
    theme_id,
    theme_titles,
)
from tests.unit.test_sanitize import assert_inert
from tests.web.support import text, translated

XSS = ["<script>alert(1)</script>", '<img src=x onerror="alert(1)">', "<svg onload=alert(1)>"]


def post(client: FlaskClient, path: str, data: dict[str, Any]) -> TestResponse:
    return client.post(path, data={"csrf_token": csrf_token(client, "/account"), **data})


def last_audit(database: Database, action: str) -> AuditEntry:
    with database.session_scope() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq.desc())
        ).first()
        assert entry is not None, action
        session.expunge(entry)
        return entry


def theme_form(title: str, owner: uuid.UUID, **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "title": title, "description": "説明", "owner": str(owner), "level": "1", "release": "GREEN",
    }  # fmt: skip
    form.update(changes)
    return form


def recommendation_form(title: str, owner: uuid.UUID, **changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "title": title, "body": "本文", "owner": str(owner), "sectors": ["energy"], "level": "1",
        "release": "GREEN",
    }  # fmt: skip
    form.update(changes)
    return form


def user_id(database: Database, email: str) -> uuid.UUID:
    from tests.conftest import user_by_email

    return user_by_email(database, email).id


def version_of(database: Database, item_id: uuid.UUID) -> int:
    with database.session_scope() as session:
        item = session.get(Recommendation, item_id)
        assert item is not None
        return item.version


def status_of(database: Database, item_id: uuid.UUID) -> str:
    with database.session_scope() as session:
        item = session.get(Recommendation, item_id)
        assert item is not None
        return item.status.value


# --- the room's panel -----------------------------------------------------------------------------------


def test_the_room_page_leads_with_the_timeline_the_board_and_the_sectors(
    client: FlaskClient, demo: Database
) -> None:
    agi = room_id(demo, AGI)
    sign_in(client, demo, AGI_CHAIR)
    html = text(client.get(f"/rooms/{agi}"))
    tools = html.index('data-testid="policy-tools"')
    assert tools < html.index('id="documents-heading"') and tools < html.index('id="meetings-heading"')
    svg = re.search(r'<svg[^>]*id="work-plan-timeline".*?</svg>', html, re.S)
    assert svg is not None
    assert 'role="img"' in svg.group(0) and "<title" in svg.group(0) and "<desc" in svg.group(0)
    assert "style=" not in svg.group(0) and "<script" not in svg.group(0)
    assert COMPUTE_THEME in svg.group(0)  # the chair reads every theme
    assert 'data-testid="work-plan-table"' in html
    for status in ("drafted", "deliberation", "agreed", "submitted", "reflected"):
        assert f'data-testid="board-{status}"' in html
    assert SAFETY_RECOMMENDATION in html
    present = html.split('data-testid="sectors-present"', 1)[1].split("</ul>", 1)[0]
    assert translated(client.application, "Government (sector)", "en") in present  # 高橋 reads English
    missing = html.split('data-testid="sectors-missing"', 1)[1].split("</ul>", 1)[0]
    for sector in ("Semiconductors", "Energy", "Telecommunications", "Finance"):
        assert translated(client.application, sector, "en") in missing
    assert translated(client.application, "AI and IT", "en") not in missing  # 未来知能ラボ sits in the room


def test_shipbuilding_sectors_present_and_missing(client: FlaskClient, demo: Database) -> None:
    sign_in(client, demo, SHIP_CHAIR)
    html = text(client.get(f"/rooms/{room_id(demo, SHIPBUILDING)}"))
    present = html.split('data-testid="sectors-present"', 1)[1].split("</ul>", 1)[0]
    app = client.application
    assert (
        f"{translated(app, 'Government (sector)')} ({translated(app, '%(count)d members', count=3)})"
        in present
    )
    assert f"{translated(app, 'Shipbuilding')} ({translated(app, '%(count)d members', count=1)})" in present
    missing = html.split('data-testid="sectors-missing"', 1)[1].split("</ul>", 1)[0]
    assert translated(app, "Shipping") in missing and translated(app, "Telecommunications") in missing
    assert translated(app, "Shipbuilding") not in missing
    assert CABLE_RECOMMENDATION in html  # submitted to the government


def test_a_member_below_the_level_meets_withheld_rows_without_titles(
    client: FlaskClient, demo: Database
) -> None:
    agi = room_id(demo, AGI)
    sign_in(client, demo, AGI_OBSERVER)
    for path in (f"/rooms/{agi}", f"/rooms/{agi}/work-plan", f"/rooms/{agi}/recommendations"):
        response = client.get(path)
        assert response.status_code == 200, path
        html = text(response)
        assert COMPUTE_THEME not in html and COMPUTE_RECOMMENDATION not in html, path
        assert "データセンター電力需要の見通し" not in html  # a milestone of the withheld theme
    html = text(client.get(f"/rooms/{agi}"))
    assert 'data-testid="withheld-theme"' in html and 'data-testid="withheld-recommendation"' in html
    assert translated(client.application, "Theme you may not read", "en") in html
    svg = re.search(r"<svg.*?</svg>", html, re.S)
    assert svg is not None and translated(client.application, "Theme you may not read", "en") in svg.group(0)
    # The sectors of a withheld recommendation do not show as missing either.
    missing = html.split('data-testid="sectors-missing"', 1)[1].split("</ul>", 1)[0]
    assert translated(client.application, "Semiconductors", "en") not in missing
    # Asked for by its id, the withheld recommendation answers 404 (audited).
    hidden = recommendation_id(demo, COMPUTE_RECOMMENDATION)
    assert client.get(f"/rooms/{agi}/recommendations/{hidden}").status_code == 404
    entry = last_audit(demo, "recommendation.read")
    assert (entry.allowed, entry.reason, entry.object_id) == (False, "CLEARANCE_TOO_LOW", str(hidden))
    # Not the observer's panel: no forms.
    assert 'data-testid="new-recommendation"' not in html


def test_the_steel_theme_is_withheld_from_the_company_member(client: FlaskClient, demo: Database) -> None:
    sign_in(client, demo, SHIP_COMPANY)
    html = text(client.get(f"/rooms/{room_id(demo, SHIPBUILDING)}/work-plan"))
    assert STEEL_THEME not in html and "調達先の依存度分析" not in html
    assert "海底ケーブル敷設船の確保" in html


# --- themes and milestones ------------------------------------------------------------------------------


def test_stewards_write_themes_and_milestones(client: FlaskClient, demo: Database) -> None:
    agi = room_id(demo, AGI)
    chair = user_id(demo, AGI_CHAIR)
    sign_in(client, demo, AGI_CHAIR)
    response = post(client, f"/rooms/{agi}/work-plan/themes", theme_form("量子計算の影響", chair))
    assert response.status_code == 302, text(response)[:3000]
    created = theme_id(demo, "量子計算の影響")
    assert last_audit(demo, "workplan.theme_create").object_id == str(created)
    base = f"/rooms/{agi}/work-plan/themes/{created}"
    due = (date.today() + timedelta(days=40)).isoformat()
    assert post(client, f"{base}/milestones", {"title": "論点整理", "due_on": due}).status_code == 302
    with demo.session_scope() as session:
        milestone = session.scalars(select(Milestone).where(Milestone.theme_id == created)).one()
        milestone_id = milestone.id
        assert b"\xe8\xab\x96\xe7\x82\xb9" not in bytes(milestone.title_sealed)  # 論点 is sealed
    assert post(client, f"{base}/milestones/{milestone_id}/done", {"done": "1"}).status_code == 302
    page = text(client.get(f"/rooms/{agi}/work-plan"))
    assert "論点整理" in page and "量子計算の影響" in page
    # An edit raises the level: the milestone is re-sealed with its theme and still reads.
    form = theme_form(
        "量子計算の影響(改)", chair, level="2", reason="未公表の研究計画を含むため", base_version="1"
    )
    assert post(client, f"{base}/edit", form).status_code == 302
    with demo.session_scope() as session:
        assert session.get(Milestone, milestone_id).level == 2  # type: ignore[union-attr]
    page = text(client.get(f"/rooms/{agi}/work-plan"))
    assert "量子計算の影響(改)" in page and "論点整理" in page
    # A stale edit is a conflict and keeps the input.
    stale = post(client, f"{base}/edit", {**form, "title": "古い版からの変更", "base_version": "1"})
    assert stale.status_code == 409 and "古い版からの変更" in text(stale)
    assert post(client, f"{base}/milestones/{milestone_id}/delete", {}).status_code == 302
    assert post(client, f"{base}/delete", {}).status_code == 302
    with demo.session_scope() as session:
        assert session.get(WorkTheme, created) is None
    assert last_audit(demo, "workplan.theme_delete").allowed


def test_a_rejected_theme_form_keeps_the_input(client: FlaskClient, demo: Database) -> None:
    agi = room_id(demo, AGI)
    sign_in(client, demo, AGI_CHAIR)
    response = post(
        client,
        f"/rooms/{agi}/work-plan/themes",
        theme_form("秘密の題目", user_id(demo, AGI_CHAIR), level="2"),
    )
    assert response.status_code == 400
    html = text(response)
    assert 'value="秘密の題目"' in html
    assert translated(client.application, "A reason is required at Confidential and above.", "en") in html
    # An owner who could not read the theme is refused in words.
    observer = user_id(demo, AGI_OBSERVER)
    form = theme_form("観察者には読めない題目", observer, level="2", reason="理由")
    response = post(client, f"/rooms/{agi}/work-plan/themes", form)
    assert response.status_code == 400
    assert translated(
        client.application, "The owner could not read an item with this marking.", "en"
    ) in text(response)


@pytest.mark.parametrize("email", [SHIP_MEMBER, SHIP_COMPANY])
def test_members_who_are_not_stewards_may_not_write_the_plan(
    client: FlaskClient, demo: Database, email: str
) -> None:
    ship = room_id(demo, SHIPBUILDING)
    sign_in(client, demo, email)
    response = post(client, f"/rooms/{ship}/work-plan/themes", theme_form("x", user_id(demo, email)))
    assert response.status_code == 403
    entry = last_audit(demo, "workplan.theme_create")
    assert (entry.allowed, entry.reason) == (False, "NOT_SECRETARIAT_OR_CHAIR")
    cable = theme_id(demo, "海底ケーブル敷設船の確保")
    due = date.today().isoformat()
    assert (
        post(
            client, f"/rooms/{ship}/work-plan/themes/{cable}/milestones", {"title": "x", "due_on": due}
        ).status_code
        == 403
    )
    assert last_audit(demo, "workplan.milestone_create").reason == "NOT_SECRETARIAT_OR_CHAIR"
    cable_rec = recommendation_id(demo, CABLE_RECOMMENDATION)
    response = post(
        client, f"/rooms/{ship}/recommendations/{cable_rec}/transition",
        {"target": "reflected", "note": "", "base_version": str(version_of(demo, cable_rec))},
    )  # fmt: skip
    assert response.status_code == 403
    assert last_audit(demo, "recommendation.transition").reason == "NOT_SECRETARIAT_OR_CHAIR"
    assert status_of(demo, cable_rec) == "submitted"


def test_idor_other_rooms_and_other_kinds(client: FlaskClient, demo: Database) -> None:
    agi, ship, minerals = room_id(demo, AGI), room_id(demo, SHIPBUILDING), room_id(demo, MINERALS)
    sign_in(client, demo, SHIP_SECRETARIAT)  # in shipbuilding and minerals, not in AGI
    assert client.get(f"/rooms/{agi}/work-plan").status_code == 404
    assert client.get(f"/rooms/{minerals}/work-plan").status_code == 404  # a rapid-response room
    assert last_audit(demo, "room.enter").reason == "NOT_POLICY_COORDINATION"
    agi_rec = recommendation_id(demo, SAFETY_RECOMMENDATION)
    assert client.get(f"/rooms/{ship}/recommendations/{agi_rec}").status_code == 404
    assert last_audit(demo, "recommendation.read").reason == "NOT_FOUND"
    response = post(
        client, f"/rooms/{ship}/recommendations/{agi_rec}/transition",
        {"target": "submitted", "note": "", "base_version": str(version_of(demo, agi_rec))},
    )  # fmt: skip
    assert response.status_code == 404 and status_of(demo, agi_rec) == "agreed"
    agi_theme = theme_id(demo, "フロンティアモデルのリスク評価")
    assert post(client, f"/rooms/{ship}/work-plan/themes/{agi_theme}/delete", {}).status_code == 404
    assert client.get(f"/rooms/{ship}/work-plan/themes/{agi_theme}/edit").status_code == 404
    with demo.session_scope() as session:
        assert session.get(WorkTheme, agi_theme) is not None


def test_posts_without_a_csrf_token_are_refused(client: FlaskClient, demo: Database) -> None:
    ship = room_id(demo, SHIPBUILDING)
    sign_in(client, demo, SHIP_CHAIR)
    cable_rec = recommendation_id(demo, CABLE_RECOMMENDATION)
    before = len(theme_titles(demo))
    assert (
        client.post(
            f"/rooms/{ship}/work-plan/themes", data=theme_form("x", user_id(demo, SHIP_CHAIR))
        ).status_code
        == 400
    )
    response = client.post(
        f"/rooms/{ship}/recommendations/{cable_rec}/transition",
        data={"target": "reflected", "base_version": str(version_of(demo, cable_rec))},
    )
    assert response.status_code == 400 and status_of(demo, cable_rec) == "submitted"
    assert len(theme_titles(demo)) == before


# --- recommendations ------------------------------------------------------------------------------------


def move(
    client: FlaskClient, demo: Database, path: str, item: uuid.UUID, target: str, note: str = ""
) -> TestResponse:
    return post(
        client,
        f"{path}/transition",
        {"target": target, "note": note, "base_version": str(version_of(demo, item))},
    )


def test_a_recommendation_goes_through_its_lifecycle_with_a_history(
    client: FlaskClient, demo: Database
) -> None:
    agi = room_id(demo, AGI)
    sign_in(client, demo, AGI_CHAIR)
    response = post(
        client,
        f"/rooms/{agi}/recommendations/new",
        recommendation_form("AI監査制度の創設", user_id(demo, AGI_CHAIR), sectors=["finance", "ai_it"]),
    )
    assert response.status_code == 302, text(response)[:2000]
    item = recommendation_id(demo, "AI監査制度の創設")
    path = f"/rooms/{agi}/recommendations/{item}"
    assert response.headers["Location"].endswith(path)
    steps = [
        ("deliberation", "審議入り"),
        ("drafted", "差し戻し"),
        ("deliberation", "再審議"),
        ("agreed", "合意"),
        ("submitted", "内閣府へ提出"),
        ("reflected", "基本方針に反映"),
    ]
    for target, note in steps:
        response = move(client, demo, path, item, target, note)
        assert response.status_code == 302, (target, text(response)[:2000])
        assert status_of(demo, item) == target
        entry = last_audit(demo, "recommendation.transition")
        detail = json.loads(entry.detail) if isinstance(entry.detail, str) else entry.detail
        assert entry.allowed and detail["to"] == target
    html = text(client.get(path))
    history = html.split('data-testid="history"', 1)[1].split("</table>", 1)[0]
    assert history.count("<tr>") == 1 + 1 + len(steps)  # the header, the drafting, each move
    for _target, note in steps:
        assert note in history
    with demo.session_scope() as session:
        notes = session.scalars(
            select(RecommendationTransition.note_sealed).where(
                RecommendationTransition.recommendation_id == item
            )
        ).all()
        assert all(n is None or "内閣府".encode() not in bytes(n) for n in notes)
    # Reflected is the end: no form, and a post to move it further is refused.
    assert 'data-testid="transition-form"' not in html
    assert move(client, demo, path, item, "drafted").status_code == 403
    assert last_audit(demo, "recommendation.transition").reason == "TRANSITION_NOT_ALLOWED"
    board = text(client.get(f"/rooms/{agi}/recommendations"))
    reflected = board.split('data-testid="column-reflected"', 1)[1].split("</ul>", 1)[0]
    assert "AI監査制度の創設" in reflected


@pytest.mark.parametrize(
    ("start", "target"), [("drafted", "agreed"), ("agreed", "drafted"), ("agreed", "reflected")]
)
def test_forbidden_skips_are_refused_and_audited(
    client: FlaskClient, demo: Database, start: str, target: str
) -> None:
    agi = room_id(demo, AGI)
    title = {"drafted": "AI人材の育成・確保に関する提言(骨子)", "agreed": SAFETY_RECOMMENDATION}[start]
    item = recommendation_id(demo, title)
    sign_in(client, demo, AGI_CHAIR)
    response = move(client, demo, f"/rooms/{agi}/recommendations/{item}", item, target)
    assert response.status_code == 403
    assert translated(
        client.application,
        "A recommendation moves one step at a time (or from deliberation back to drafting).",
        "en",
    ) in text(response)
    entry = last_audit(demo, "recommendation.transition")
    assert (entry.allowed, entry.reason, entry.object_id) == (False, "TRANSITION_NOT_ALLOWED", str(item))
    assert status_of(demo, item) == start


def test_a_stale_move_meets_the_conflict_page(client: FlaskClient, demo: Database) -> None:
    agi = room_id(demo, AGI)
    item = recommendation_id(demo, SAFETY_RECOMMENDATION)
    path = f"/rooms/{agi}/recommendations/{item}"
    sign_in(client, demo, AGI_CHAIR)
    old = version_of(demo, item)
    assert move(client, demo, path, item, "submitted").status_code == 302
    response = post(
        client, f"{path}/transition", {"target": "submitted", "note": "", "base_version": str(old)}
    )
    assert response.status_code == 409
    assert 'data-testid="conflict"' in text(response)
    assert status_of(demo, item) == "submitted"


def test_links_offer_only_readable_material(client: FlaskClient, demo: Database) -> None:
    ship = room_id(demo, SHIPBUILDING)
    sign_in(client, demo, SHIP_COMPANY)
    cable_rec = recommendation_id(demo, CABLE_RECOMMENDATION)
    html = text(client.get(f"/rooms/{ship}/recommendations/{cable_rec}"))
    assert 'data-testid="recommendation-links"' in html  # the RESTRICTED document is his to read
    client = sign_in(client.application.test_client(), demo, SHIP_CHAIR)
    response = post(
        client,
        f"/rooms/{ship}/recommendations/new",
        recommendation_form("不明な資料", user_id(demo, SHIP_CHAIR), documents=[str(uuid.uuid4())]),
    )
    assert response.status_code == 400 and 'value="不明な資料"' in text(response)


def test_text_fields_are_shown_inert(client: FlaskClient, demo: Database) -> None:
    agi = room_id(demo, AGI)
    chair = user_id(demo, AGI_CHAIR)
    sign_in(client, demo, AGI_CHAIR)
    for number, payload in enumerate(XSS):
        title = f"XSS題{number} {payload}"
        assert (
            post(
                client, f"/rooms/{agi}/work-plan/themes", theme_form(title, chair, description=payload)
            ).status_code
            == 302
        )
        created = theme_id(demo, title)
        due = date.today().isoformat()
        assert (
            post(
                client,
                f"/rooms/{agi}/work-plan/themes/{created}/milestones",
                {"title": payload, "due_on": due},
            ).status_code
            == 302
        )
        rec_title = f"XSS提言{number} {payload}"
        assert (
            post(
                client,
                f"/rooms/{agi}/recommendations/new",
                recommendation_form(rec_title, chair, body=payload),
            ).status_code
            == 302
        )
        item = recommendation_id(demo, rec_title)
        path = f"/rooms/{agi}/recommendations/{item}"
        assert move(client, demo, path, item, "deliberation", payload).status_code == 302
        page = text(client.get(path))
        body = page.split('data-testid="recommendation-body">', 1)[1].split("</div>", 1)[0]
        assert_inert(body)
        assert payload not in page
    for path in (f"/rooms/{agi}", f"/rooms/{agi}/work-plan", f"/rooms/{agi}/recommendations"):
        html = text(client.get(path))
        for payload in XSS:
            assert payload not in html, path
        assert "<script>alert" not in html and "onerror=" not in html.replace("onerror=&#34;", "")


def test_the_admin_sector_field_keeps_input_and_saves(client: FlaskClient, demo: Database) -> None:
    sign_in(client, demo, SHIP_SECRETARIAT)
    form = {"name_ja": "", "name_en": "Nippon Undersea Cable", "kind": "private", "sector": "telecom"}
    response = post(client, "/admin/organizations", form)
    assert response.status_code == 400
    html = text(response)
    assert 'value="Nippon Undersea Cable"' in html and re.search(
        r'<option selected value="telecom">|<option value="telecom" selected>', html
    )
    form["name_ja"] = "日本海底ケーブル株式会社"
    assert post(client, "/admin/organizations", form).status_code == 302
    with demo.session_scope() as session:
        org = session.scalars(
            select(Organization).where(Organization.name_en == "Nippon Undersea Cable")
        ).one()
        assert org.sector == Sector.TELECOM
        org_id = org.id
    assert post(client, f"/admin/organizations/{org_id}/sector", {"sector": "shipping"}).status_code == 302
    with demo.session_scope() as session:
        assert session.get(Organization, org_id).sector == Sector.SHIPPING  # type: ignore[union-attr]
    assert last_audit(demo, "admin.organization_sector").allowed
    assert post(client, f"/admin/organizations/{org_id}/sector", {"sector": "nonsense"}).status_code == 400
    client = sign_in(client.application.test_client(), demo, SHIP_MEMBER)
    assert post(client, f"/admin/organizations/{org_id}/sector", {"sector": "energy"}).status_code == 403
    assert last_audit(demo, "admin.organization_sector").reason == "NOT_SECRETARIAT"


def test_every_demo_organisation_has_a_sector(demo: Database) -> None:
    with demo.session_scope() as session:
        assert all(org.sector is not None for org in session.scalars(select(Organization)))


def test_demo_titles_are_sealed(demo: Database) -> None:
    titles = set(theme_titles(demo).values()) | set(recommendation_titles(demo).values())
    assert COMPUTE_THEME in titles and CABLE_RECOMMENDATION in titles
    with demo.session_scope() as session:
        raw = b"".join(bytes(t) for t in session.scalars(select(WorkTheme.title_sealed)))
    assert "計算資源".encode() not in raw
