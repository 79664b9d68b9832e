"""The risk register of a risk-review room, over HTTP: the room's tools panel, adding and editing risks,
withheld rows, the charts' counts, reviews and their trend, reviews due, and the chair's decisions on
changes proposed from a think-tank assessment. Denials are asserted with their audit reasons."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.db import Database, utcnow
from portal.meetings.followup_read import today_in
from portal.risks import service
from portal.risks.models import ProposalStatus, ReviewSource, Risk, RiskProposal, RiskReview
from portal.security import policy
from portal.security.audit_models import AuditEntry
from tests.conftest import csrf_token, sign_in
from tests.meetings_support import subject_of
from tests.risks_support import infrastructure_room, proposal_id_by_name, risk_id_by_title, risk_titles
from tests.web.support import text

CHAIR = "takahashi@mic.example.jp"
SECRETARIAT = "sato@cao.example.jp"
ANALYST = "yoshida@icess.example.jp"
OWNER = "yamamoto@hokushin-power.example.jp"
GRID_RISK = "電力制御系へのサイバー攻撃"
BLACKOUT = "広域停電(ブラックアウト)"
GPS = "GPS時刻同期の妨害"
CABLE = "海底ケーブルの同時切断"


def _denials(database: Database, action: str) -> list[str]:
    with database.session_scope() as session:
        return list(
            session.scalars(
                select(AuditEntry.reason).where(AuditEntry.action == action, AuditEntry.allowed.is_(False))
            )
        )


def _risk(database: Database, risk_id: uuid.UUID) -> Risk:
    with database.session_scope() as session:
        risk = session.get(Risk, risk_id)
        assert risk is not None
        session.expunge(risk)
        return risk


def _risk_form(client: FlaskClient, path: str, owner_id: str, **values: object) -> dict[str, object]:
    form: dict[str, object] = {
        "csrf_token": csrf_token(client, path),
        "title": "港湾物流システムの停止",
        "scenario": "港湾の情報システムがランサムウェアで停止し、燃料と物資の輸送が滞る。",
        "likelihood": "3",
        "impact": "4",
        "residual_likelihood": "2",
        "residual_impact": "3",
        "peacetime_measures": "バックアップ運用の訓練",
        "emergency_measures": "手作業による荷役管理",
        "owner": owner_id,
        "dependencies": ["logistics>fuel", "telecom>logistics"],
        "review_interval_days": "90",
        "level": "1",
        "release": "GREEN",
    }
    form.update(values)
    return form


def _user_id(database: Database, email: str) -> str:
    with database.session_scope() as session:
        return str(subject_of(session, email).user_id)


# --- the room page leads with the register ----------------------------------------------------------


def test_the_room_page_leads_with_the_register_and_withholds_what_the_reader_may_not_read(
    demo: Database, client: FlaskClient
) -> None:
    room = infrastructure_room(demo)
    sign_in(client, demo, SECRETARIAT)  # 佐藤: CONFIDENTIAL, no GRID-OPS
    html = text(client.get(f"/rooms/{room}"))
    assert html.index('data-testid="risk-tools"') < html.index('id="documents-heading"')
    assert html.count('data-testid="risk-row"') == 7
    assert html.count('data-testid="risk-row-withheld"') == 1
    assert GRID_RISK not in html and "閲覧権限のないリスク" in html
    assert "閲覧権限のないリスク 1件" in html
    # The heat map draws exactly the readable risks; the graph counts only their dependencies.
    counts = [
        int(n)
        for n in re.findall(
            r'class="heat-cell[^"]*" data-likelihood="\d" data-impact="\d" data-count="(\d+)"', html
        )
    ]
    assert len(counts) == 25 and sum(counts) == 7
    edges = dict(
        ((s, t), int(n))
        for s, t, n in re.findall(r'data-source="(\w+)" data-target="(\w+)" data-count="(\d+)"', html)
    )
    with demo.session_scope() as session:
        readable = [
            r for r in session.scalars(select(Risk).where(Risk.subcommittee_id == room))
            if policy.decide_read_part(subject_of(session, SECRETARIAT), room, r, "risk.read")
        ]  # fmt: skip
        expected: dict[tuple[str, str], int] = {}
        for risk in readable:
            for edge in set(risk.dependency_edges):
                expected[edge] = expected.get(edge, 0) + 1
    assert edges == expected
    assert ("power", "payments") not in edges  # described only by the GRID-OPS risk
    assert '<title id="chart-risk-heat-map-title">' in html and 'data-testid="heat-map-table"' in html
    assert 'data-testid="dependency-table"' in html


def test_the_chair_with_the_compartment_sees_every_risk_and_the_proposals(
    demo: Database, client: FlaskClient
) -> None:
    room = infrastructure_room(demo)
    sign_in(client, demo, CHAIR)
    html = text(client.get(f"/rooms/{room}"))
    assert html.count('data-testid="risk-row"') == 8 and "risk-row-withheld" not in html
    assert GRID_RISK in html
    assert html.count('data-testid="proposal"') == 12
    assert html.count('data-testid="accept-proposal"') == 12


def test_overdue_reviews_are_highlighted_in_the_room_and_the_overview(
    demo: Database, client: FlaskClient
) -> None:
    room = infrastructure_room(demo)
    sign_in(client, demo, CHAIR)  # the chair stewards the room: every overdue risk
    room_html = text(client.get(f"/rooms/{room}"))
    due = room_html[room_html.index('data-testid="reviews-due"') :]
    due = due[: due.index("</div>")]
    assert BLACKOUT in due and GPS in due and due.count('data-testid="overdue"') == 2
    assert room_html.count('class="row--overdue"') == 2
    overview = text(client.get("/"))
    panel = overview[overview.index('data-testid="overview-reviews-due"') :]
    assert BLACKOUT in panel and GPS in panel and CABLE not in panel


@pytest.mark.parametrize(
    ("email", "sees"),
    [(OWNER, [BLACKOUT]), (ANALYST, []), ("suzuki@mlit.example.jp", []), (SECRETARIAT, [BLACKOUT, GPS])],
)
def test_the_overview_lists_reviews_due_for_owners_and_stewards_only(
    demo: Database, client: FlaskClient, email: str, sees: list[str]
) -> None:
    sign_in(client, demo, email)
    html = text(client.get("/"))
    if not sees:
        assert 'data-testid="overview-reviews-due"' not in html
        return
    panel = html[html.index('data-testid="overview-reviews-due"') :]
    for title in (BLACKOUT, GPS):
        assert (title in panel) == (title in sees)


def test_a_withheld_overdue_risk_is_not_listed_as_due(demo: Database, client: FlaskClient) -> None:
    grid = risk_id_by_title(demo, GRID_RISK)
    with demo.session_scope() as session:
        risk = session.get(Risk, grid)
        assert risk is not None
        risk.next_review_on = today_in(utcnow()) - timedelta(days=3)
    sign_in(client, demo, SECRETARIAT)  # a steward, but without GRID-OPS
    html = text(client.get("/"))
    assert GRID_RISK not in html
    panel = html[html.index('data-testid="overview-reviews-due"') :]
    assert panel[: panel.index("</section>")].count('data-testid="overdue"') == 2


# --- adding and editing risks ----------------------------------------------------------------------


def test_a_steward_adds_a_risk_sealed_and_audited(demo: Database, client: FlaskClient) -> None:
    room = infrastructure_room(demo)
    sign_in(client, demo, SECRETARIAT)
    path = f"/rooms/{room}/risks/new"
    response = client.post(path, data=_risk_form(client, path, _user_id(demo, OWNER)))
    assert response.status_code == 302, text(response)[:2000]
    risk_id = risk_id_by_title(demo, "港湾物流システムの停止")
    risk = _risk(demo, risk_id)
    assert (risk.likelihood, risk.impact, risk.residual_likelihood, risk.residual_impact) == (3, 4, 2, 3)
    assert risk.dependency_edges == [("logistics", "fuel"), ("telecom", "logistics")]
    assert risk.next_review_on == today_in(utcnow()) + timedelta(days=90)
    assert "港湾".encode() not in bytes(risk.title_sealed) + bytes(risk.scenario_sealed)
    with demo.session_scope() as session:
        assert session.scalar(
            select(AuditEntry.seq).where(
                AuditEntry.action == "risk.create", AuditEntry.object_id == str(risk_id)
            )
        )
    page = text(client.get(f"/risks/{risk_id}"))
    assert "港湾物流システムの停止" in page and "手作業による荷役管理" in page


def test_a_rejected_form_keeps_the_input(demo: Database, client: FlaskClient) -> None:
    room = infrastructure_room(demo)
    sign_in(client, demo, SECRETARIAT)
    path = f"/rooms/{room}/risks/new"
    response = client.post(path, data=_risk_form(client, path, _user_id(demo, OWNER), likelihood="9"))
    assert response.status_code == 400
    assert "港湾の情報システムがランサムウェアで停止" in text(response)
    assert "1から5の間で入力してください。" in text(response)


def test_the_owner_must_be_able_to_read_the_risk(demo: Database, client: FlaskClient) -> None:
    room = infrastructure_room(demo)
    sign_in(client, demo, CHAIR)
    path = f"/rooms/{room}/risks/new"
    form = _risk_form(
        client, path, _user_id(demo, SECRETARIAT), level="2", caveats="GRID-OPS", reason="脆弱性"
    )
    response = client.post(path, data=form)
    assert response.status_code == 400
    assert "owner could not read" in text(response)
    assert "港湾物流システムの停止" not in risk_titles(demo).values()


def test_xss_in_every_text_field_is_shown_inert(demo: Database, client: FlaskClient) -> None:
    room = infrastructure_room(demo)
    sign_in(client, demo, SECRETARIAT)
    path = f"/rooms/{room}/risks/new"
    payload = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    form = _risk_form(
        client, path, _user_id(demo, OWNER), title="X" + payload, scenario=payload,
        peacetime_measures=payload, emergency_measures=payload,
    )  # fmt: skip
    assert client.post(path, data=form).status_code == 302
    risk_id = risk_id_by_title(demo, "X" + payload)
    for page in (text(client.get(f"/risks/{risk_id}")), text(client.get(f"/rooms/{room}"))):
        assert "<script>alert(1)" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_member_who_is_not_a_steward_may_not_add_or_edit(demo: Database, client: FlaskClient) -> None:
    room = infrastructure_room(demo)
    sign_in(client, demo, ANALYST)
    assert client.get(f"/rooms/{room}/risks/new").status_code == 403
    cable = risk_id_by_title(demo, CABLE)
    assert client.get(f"/risks/{cable}/edit").status_code == 403
    assert _denials(demo, "risk.create") == ["NOT_SECRETARIAT_OR_CHAIR"]
    assert _denials(demo, "risk.edit") == ["NOT_SECRETARIAT_OR_CHAIR"]


def test_a_stale_edit_is_refused_with_a_conflict_keeping_the_input(
    demo: Database, client: FlaskClient
) -> None:
    cable = risk_id_by_title(demo, CABLE)
    sign_in(client, demo, CHAIR)
    path = f"/risks/{cable}/edit"
    form = _risk_form(
        client, path, _user_id(demo, CHAIR), title="海底ケーブルの同時切断(改)", base_version="1"
    )
    with demo.session_scope() as session:
        risk = session.get(Risk, cable)
        assert risk is not None
        risk.version += 5
    response = client.post(path, data=form)
    assert response.status_code == 409
    assert "海底ケーブルの同時切断(改)" in text(response)
    assert risk_titles(demo)[cable] == CABLE


def test_an_edit_of_the_scores_is_kept_in_the_history(demo: Database, client: FlaskClient) -> None:
    cable = risk_id_by_title(demo, CABLE)
    sign_in(client, demo, CHAIR)
    path = f"/risks/{cable}/edit"
    version = _risk(demo, cable).version
    form = _risk_form(
        client, path, _user_id(demo, CHAIR), title=CABLE, likelihood="4", base_version=str(version)
    )
    response = client.post(path, data=form)
    assert response.status_code == 302, text(response)[:3000]
    with demo.session_scope() as session:
        sources = [
            r.source
            for r in session.scalars(
                select(RiskReview).where(RiskReview.risk_id == cable).order_by(RiskReview.reviewed_at)
            )
        ]
    assert sources[-1] == ReviewSource.EDIT
    assert _risk(demo, cable).likelihood == 4


# --- reviews -----------------------------------------------------------------------------------------


def test_the_owner_reviews_an_overdue_risk_and_the_trend_follows(demo: Database, client: FlaskClient) -> None:
    blackout = risk_id_by_title(demo, BLACKOUT)
    before = _risk(demo, blackout)
    sign_in(client, demo, OWNER)
    page = text(client.get(f"/risks/{blackout}"))
    assert 'data-testid="overdue"' in page
    points_before = page.count('class="trend-point"')
    response = client.post(
        f"/risks/{blackout}/review",
        data={
            "csrf_token": csrf_token(client, f"/risks/{blackout}"),
            "likelihood": "2", "impact": "5", "residual_likelihood": "1", "residual_impact": "4",
            "note": "基地局の非常用電源の更新が完了。",
        },
    )  # fmt: skip
    assert response.status_code == 302
    after = _risk(demo, blackout)
    assert (after.residual_likelihood, after.residual_impact) == (1, 4)
    assert after.next_review_on == today_in(utcnow()) + timedelta(days=after.review_interval_days)
    with demo.session_scope() as session:
        review = session.scalars(
            select(RiskReview).where(RiskReview.risk_id == blackout).order_by(RiskReview.reviewed_at.desc())
        ).first()
        assert review is not None
        assert (review.residual_likelihood_before, review.residual_impact_before) == (
            before.residual_likelihood, before.residual_impact,
        )  # fmt: skip
        assert (review.residual_likelihood_after, review.residual_impact_after) == (1, 4)
        assert "非常用電源".encode() not in bytes(review.note_sealed)
        assert session.scalar(
            select(AuditEntry.seq).where(AuditEntry.action == "risk.review", AuditEntry.allowed)
        )
    page = text(client.get(f"/risks/{blackout}"))
    assert 'data-testid="overdue"' not in page
    assert page.count('class="trend-point"') == points_before + 2  # one more point on each line
    assert "基地局の非常用電源の更新が完了。" in page


def test_only_the_owner_or_a_steward_reviews(demo: Database, client: FlaskClient) -> None:
    blackout = risk_id_by_title(demo, BLACKOUT)
    sign_in(client, demo, ANALYST)
    data = {"csrf_token": csrf_token(client, "/account"), "likelihood": "1", "impact": "1",
            "residual_likelihood": "1", "residual_impact": "1", "note": "x"}  # fmt: skip
    assert client.post(f"/risks/{blackout}/review", data=data).status_code == 403
    assert _denials(demo, "risk.review") == ["NOT_OWNER_OR_STEWARD"]
    assert 'data-testid="review-form"' not in text(client.get(f"/risks/{blackout}"))


def test_a_review_without_the_csrf_token_is_refused(demo: Database, client: FlaskClient) -> None:
    blackout = risk_id_by_title(demo, BLACKOUT)
    sign_in(client, demo, OWNER)
    data = {"likelihood": "1", "impact": "1", "residual_likelihood": "1", "residual_impact": "1", "note": "x"}
    assert client.post(f"/risks/{blackout}/review", data=data).status_code == 400
    assert _risk(demo, blackout).residual_likelihood != 1


def test_risks_are_not_reachable_from_outside_the_room(demo: Database, client: FlaskClient) -> None:
    cable = risk_id_by_title(demo, CABLE)
    proposal = proposal_id_by_name(demo, BLACKOUT)
    sign_in(client, demo, "tanaka@meti.example.jp")  # not a member of the infrastructure room
    assert client.get(f"/risks/{cable}").status_code == 404
    token = csrf_token(client, "/account")
    data = {"csrf_token": token, "likelihood": "1", "impact": "1", "residual_likelihood": "1",
            "residual_impact": "1", "note": "x"}  # fmt: skip
    assert client.post(f"/risks/{cable}/review", data=data).status_code == 404
    assert client.post(f"/risk-proposals/{proposal}/accept", data={"csrf_token": token}).status_code == 404
    assert "NOT_MEMBER" in _denials(demo, "risk.read")
    assert _denials(demo, "risk.proposal.decide") == ["NOT_MEMBER"]


def test_flag_for_review_marks_risks_due_now_with_the_reason(demo: Database, client: FlaskClient) -> None:
    cable = risk_id_by_title(demo, CABLE)
    with demo.session_scope() as session:
        flagged = service.flag_for_review(
            session, subject_of(session, CHAIR), [cable], "机上演習で復旧手順の不備が判明"
        )
        assert [r.id for r in flagged] == [cable]
    assert _risk(demo, cable).next_review_on == today_in(utcnow())
    with pytest.raises(policy.AccessDenied) as refused, demo.session_scope() as session:
        service.flag_for_review(session, subject_of(session, ANALYST), [cable], "x")
    assert refused.value.decision.reason == "NOT_SECRETARIAT_OR_CHAIR"
    with demo.session_scope() as session:
        assert session.scalar(
            select(AuditEntry.seq).where(AuditEntry.action == "risk.flag", AuditEntry.allowed)
        )
    sign_in(client, demo, CHAIR)
    page = text(client.get(f"/risks/{cable}"))
    assert "机上演習で復旧手順の不備が判明" in page and 'data-testid="due"' in page


# --- proposals from a think-tank assessment ---------------------------------------------------------


def test_only_the_chair_decides_proposed_changes(demo: Database, client: FlaskClient) -> None:
    proposal = proposal_id_by_name(demo, "クラウド障害の連鎖")
    sign_in(client, demo, SECRETARIAT)
    token = csrf_token(client, "/account")
    assert client.post(f"/risk-proposals/{proposal}/accept", data={"csrf_token": token}).status_code == 403
    data = {"csrf_token": token, "reason": "重複"}
    assert client.post(f"/risk-proposals/{proposal}/reject", data=data).status_code == 403
    assert _denials(demo, "risk.proposal.decide") == ["NOT_CHAIR", "NOT_CHAIR"]
    with demo.session_scope() as session:
        found = session.get(RiskProposal, proposal)
        assert found is not None and found.status == ProposalStatus.PENDING


def test_the_chair_accepts_a_new_risk_and_an_update_and_rejects_one(
    demo: Database, client: FlaskClient
) -> None:
    room = infrastructure_room(demo)
    new = proposal_id_by_name(demo, "クラウド障害の連鎖")
    update = proposal_id_by_name(demo, "通信事業者の大規模障害")
    rejected = proposal_id_by_name(demo, "変電所への物理攻撃")
    telecom = risk_id_by_title(demo, "通信事業者の大規模障害")
    assert _risk(demo, telecom).likelihood == 2
    sign_in(client, demo, CHAIR)
    token = csrf_token(client, "/account")
    assert client.post(f"/risk-proposals/{new}/accept", data={"csrf_token": token}).status_code == 302
    assert client.post(f"/risk-proposals/{update}/accept", data={"csrf_token": token}).status_code == 302
    data = {"csrf_token": token, "reason": "既存の地震リスクに含めて点検する"}
    assert client.post(f"/risk-proposals/{rejected}/reject", data=data).status_code == 302
    created = risk_id_by_title(demo, "クラウド障害の連鎖")
    risk = _risk(demo, created)
    assert (risk.likelihood, risk.impact, int(risk.level)) == (4, 3, 2)  # the assessment's values and level
    assert _risk(demo, telecom).likelihood == 3
    with demo.session_scope() as session:
        statuses = {
            p.id: p
            for p in session.scalars(select(RiskProposal).where(RiskProposal.id.in_([new, update, rejected])))
        }
        assert statuses[new].status == ProposalStatus.ACCEPTED and statuses[new].result_risk_id == created
        assert statuses[update].status == ProposalStatus.ACCEPTED
        assert statuses[rejected].status == ProposalStatus.REJECTED
        assert b"\xe5\x9c\xb0\xe9\x9c\x87" not in bytes(statuses[rejected].decision_reason_sealed or b"")
        history = session.scalars(
            select(RiskReview).where(
                RiskReview.risk_id == telecom, RiskReview.source == ReviewSource.PROPOSAL
            )
        ).all()
        assert [(h.likelihood_before, h.likelihood_after) for h in history] == [(2, 3)]
        actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.allowed)))
    assert {"risk.proposal.accept", "risk.proposal.reject"} <= actions
    html = text(client.get(f"/rooms/{room}"))
    assert html.count('data-testid="proposal"') == 9
    # A change already decided is refused as such.
    response = client.post(f"/risk-proposals/{new}/accept", data={"csrf_token": token}, follow_redirects=True)
    assert "already been decided" in text(response)


def test_proposing_again_while_changes_are_pending_is_refused(demo: Database, client: FlaskClient) -> None:
    room = infrastructure_room(demo)
    with demo.session_scope() as session:
        output_id = session.scalar(select(RiskProposal.output_id).limit(1))
    sign_in(client, demo, ANALYST)
    html = text(client.get(f"/rooms/{room}"))
    assert 'data-testid="propose-form"' in html
    response = client.post(
        f"/rooms/{room}/risks/propose",
        data={"csrf_token": csrf_token(client, "/account"), "output_id": str(output_id)},
        follow_redirects=True,
    )
    assert "座長の決定待ち" in text(response)
    with demo.session_scope() as session:
        assert len(session.scalars(select(RiskProposal.id)).all()) == 12


def test_the_analyst_proposes_an_attached_assessment_once_the_chair_has_decided(
    demo: Database, client: FlaskClient
) -> None:
    room = infrastructure_room(demo)
    with demo.session_scope() as session:
        for proposal in session.scalars(select(RiskProposal)):
            proposal.status = ProposalStatus.REJECTED  # as if the chair had decided every change
        output_id = session.scalar(select(RiskProposal.output_id).limit(1))
    sign_in(client, demo, ANALYST)
    response = client.post(
        f"/rooms/{room}/risks/propose",
        data={"csrf_token": csrf_token(client, "/account"), "output_id": str(output_id)},
    )
    assert response.status_code == 302
    with demo.session_scope() as session:
        pending = session.scalars(
            select(RiskProposal).where(RiskProposal.status == ProposalStatus.PENDING)
        ).all()
        assert len(pending) == 12
        updates = [p for p in pending if p.risk_id is not None]
        assert len(updates) == 7  # the titles already in the register (吉田 reads every RESTRICTED risk)
        assert {int(p.level) for p in pending} == {2}  # the assessment's level
        assert session.scalar(
            select(AuditEntry.seq).where(AuditEntry.action == "risk.propose", AuditEntry.allowed)
        )
