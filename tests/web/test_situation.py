"""The rapid-response room's situation board through the web: the room page leads with it, reports are
posted by members who write (not observers), withheld lines carry no text, what is new since the reader's
last visit is marked and counted, denials are audited, and every text is shown inert.

Demo (portal/situation/demo.py): six reports in the minerals room, one 政府限り CONFIDENTIAL (stockpile
levels), one CESI naming 田中 and 伊藤 (the allied notification)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import func, select

from portal.db import Database
from portal.security.audit_models import AuditEntry
from portal.situation.models import SituationReport
from tests.conftest import sign_in
from tests.situation_support import (
    ALLIED_REPORT,
    ANALYST,
    CHAIR,
    MEMBER,
    OBSERVER,
    OUTSIDER,
    SECRETARIAT,
    STOCKPILE_REPORT,
    post,
    report_form,
    report_texts,
    room_id,
)
from tests.unit.test_sanitize import XSS_CORPUS
from tests.web.support import text, translated


def reports(database: Database) -> int:
    with database.session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(SituationReport)) or 0)


def last_audit(database: Database, action: str) -> AuditEntry:
    with database.session_scope() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq.desc())
        ).first()
        assert entry is not None, action
        session.expunge(entry)
        return entry


def test_the_room_page_leads_with_the_board_the_countermeasures_and_convening(
    app: Flask, demo: Database
) -> None:
    room = room_id(demo)
    page = text(sign_in(app.test_client(), demo, CHAIR).get(f"/rooms/{room}"))
    panel_at = page.index('data-testid="rapid-response-tools"')
    assert panel_at < page.index(translated(app, "About this room"))
    panel = page[panel_at:].split("</section>")[0]
    assert translated(app, "New: %(count)d", count=6) in panel  # never looked at the board
    assert panel.count('data-testid="report"') == 5  # the latest five, all readable by the chair
    assert ALLIED_REPORT not in panel  # the panel shows the source and what is affected, not the text
    assert "同盟国政府(外交ルート)" in panel and 'data-testid="report-withheld"' not in panel
    assert f'href="/rooms/{room}/meetings/convene" data-testid="convene"' in panel
    assert "国家備蓄ガリウムの放出" in panel and "製造工程スクラップ" in panel  # open: under study, proposed
    assert "代替調達先の確保" not in panel.split('data-testid="open-countermeasures"')[1]  # adopted
    assert translated(app, "Severity") in panel and translated(app, "3 — Serious") in panel


def test_withheld_reports_show_no_text_to_the_observer_while_the_chair_reads_them(
    app: Flask, demo: Database
) -> None:
    room = room_id(demo)
    chair = text(sign_in(app.test_client(), demo, CHAIR).get(f"/rooms/{room}/situation"))
    assert chair.count('data-testid="report"') == 6 and 'data-testid="report-withheld"' not in chair
    assert STOCKPILE_REPORT in chair and ALLIED_REPORT in chair

    observer = text(sign_in(app.test_client(), demo, OBSERVER).get(f"/rooms/{room}/situation"))
    assert observer.count('data-testid="report-withheld"') == 2
    assert observer.count('data-testid="report"') == 4
    for secret in (STOCKPILE_REPORT, ALLIED_REPORT, "同盟国政府(外交ルート)", "在庫水準は公表前"):
        assert secret not in observer
    assert 'data-testid="report-form"' not in observer  # observers read, they do not post
    room_page = text(sign_in(app.test_client(), demo, OBSERVER).get(f"/rooms/{room}"))
    assert STOCKPILE_REPORT not in room_page and "同盟国政府(外交ルート)" not in room_page
    assert 'data-testid="report-withheld"' in room_page

    member = text(sign_in(app.test_client(), demo, MEMBER).get(f"/rooms/{room}/situation"))
    assert member.count('data-testid="report-withheld"') == 1  # 政府限り is not for a company
    assert ALLIED_REPORT in member and STOCKPILE_REPORT not in member  # a named CESI reader
    analyst = text(sign_in(app.test_client(), demo, ANALYST).get(f"/rooms/{room}/situation"))
    assert analyst.count('data-testid="report-withheld"') == 2  # CONFIDENTIAL: neither CESI nor 政府限り


def test_a_member_posts_a_report_in_their_time_zone_and_it_leads_the_board(
    app: Flask, demo: Database
) -> None:
    room = room_id(demo)
    member = sign_in(app.test_client(), demo, MEMBER)
    today = date.today()
    response = post(
        member, f"/rooms/{room}/situation", report_form(day=today.isoformat(), at="23:45", severity="4")
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/rooms/{room}/situation")
    with demo.session_scope() as session:
        newest = session.scalars(select(SituationReport).order_by(SituationReport.created_at.desc())).first()
        assert newest is not None and newest.severity == 4
        expected = datetime.combine(today, time(23, 45), tzinfo=ZoneInfo("Asia/Tokyo")).astimezone(UTC)
        assert newest.reported_at == expected
        newest_id = newest.id
    assert report_texts(demo)[newest_id]["source"] == "財務省 関税局"  # sealed, opened with the key
    entry = last_audit(demo, "situation.post")
    assert entry.allowed and entry.object_id == str(newest_id)
    board = text(sign_in(app.test_client(), demo, CHAIR).get(f"/rooms/{room}/situation"))
    first = board.split('data-testid="report"')[1]
    assert "ゲルマニウム輸入通関で書類審査の強化" in first and translated(app, "4 — Severe") in first


def test_observers_and_outsiders_cannot_post_and_the_refusal_is_audited(app: Flask, demo: Database) -> None:
    room = room_id(demo)
    before = reports(demo)
    observer = sign_in(app.test_client(), demo, OBSERVER)
    response = post(observer, f"/rooms/{room}/situation", report_form())
    assert response.status_code == 403
    entry = last_audit(demo, "situation.post")
    assert not entry.allowed and entry.reason == "OBSERVER_READ_ONLY"
    outsider = sign_in(app.test_client(), demo, OUTSIDER)
    assert post(outsider, f"/rooms/{room}/situation", report_form()).status_code == 404
    assert outsider.get(f"/rooms/{room}/situation").status_code == 404
    assert reports(demo) == before


def test_a_marking_above_ones_clearance_is_refused_and_audited(app: Flask, demo: Database) -> None:
    room = room_id(demo)
    before = reports(demo)
    analyst = sign_in(app.test_client(), demo, ANALYST)
    response = post(analyst, f"/rooms/{room}/situation", report_form(level="2", reason=""))
    assert response.status_code == 400  # the form asks for a reason first, keeping what was typed
    assert "ゲルマニウム輸入通関で書類審査の強化" in text(response)
    response = post(analyst, f"/rooms/{room}/situation", report_form(level="3", reason="通報", readers=[]))
    assert response.status_code == 400  # CESI names its readers
    with demo.session_scope() as session:
        from portal.accounts.models import User

        tanaka = session.scalar(select(User.id).where(User.email == CHAIR))
    response = post(
        analyst, f"/rooms/{room}/situation", report_form(level="3", reason="通報", readers=[str(tanaka)])
    )
    assert response.status_code == 403
    assert translated(app, "You cannot classify above your own clearance.") in text(response)
    entry = last_audit(demo, "situation.post")
    assert not entry.allowed and entry.reason == "CLASSIFY_ABOVE_CLEARANCE"
    assert reports(demo) == before


def test_bad_input_keeps_what_was_typed(app: Flask, demo: Database) -> None:
    room = room_id(demo)
    member = sign_in(app.test_client(), demo, MEMBER)
    response = post(member, f"/rooms/{room}/situation", report_form(happened="", source="独自の情報源"))
    assert response.status_code == 400
    page = text(response)
    assert 'value="独自の情報源"' in page and translated(app, "This field is required.") in page
    response = post(member, f"/rooms/{room}/situation", report_form(severity="9"))
    assert response.status_code == 400


def test_what_is_new_since_the_last_visit_is_marked_and_counted(app: Flask, demo: Database) -> None:
    room = room_id(demo)
    chair = sign_in(app.test_client(), demo, CHAIR)
    first = text(chair.get(f"/rooms/{room}/situation"))
    assert first.count('data-testid="new-report"') == 6  # the first visit: everything is new
    assert translated(app, "Your first visit: every report is new to you.") in first
    again = text(chair.get(f"/rooms/{room}/situation"))
    assert 'data-testid="new-report"' not in again
    assert translated(app, "New: %(count)d", count=0) in text(chair.get(f"/rooms/{room}"))

    member = sign_in(app.test_client(), demo, MEMBER)
    assert post(member, f"/rooms/{room}/situation", report_form()).status_code == 302
    room_page = text(chair.get(f"/rooms/{room}"))
    assert translated(app, "New: %(count)d", count=1) in room_page
    board = text(chair.get(f"/rooms/{room}/situation"))
    assert board.count('data-testid="new-report"') == 1
    newest = board.split('data-testid="report"')[1].split("</li>")[0]
    assert 'data-testid="new-report"' in newest and "ゲルマニウム輸入通関" in newest
    # The room page does not count as a visit of the board; the board does.
    assert 'data-testid="new-report"' not in text(chair.get(f"/rooms/{room}/situation"))


def test_a_withheld_new_report_is_counted_as_a_line_without_its_text(app: Flask, demo: Database) -> None:
    room = room_id(demo)
    observer = sign_in(app.test_client(), demo, OBSERVER)
    observer.get(f"/rooms/{room}/situation")
    secretariat = sign_in(app.test_client(), demo, SECRETARIAT)
    response = post(
        secretariat,
        f"/rooms/{room}/situation",
        report_form(
            level="2",
            reason="政府内の検討情報のため",
            caveats=["GOV_ONLY"],
            happened="放出候補の需要家リストを作成した。",
        ),
    )
    assert response.status_code == 302
    board = text(observer.get(f"/rooms/{room}/situation"))
    withheld_new = [
        line
        for line in board.split('data-testid="report-withheld"')[1:]
        if "new-report" in line.split("</li>")[0]
    ]
    assert len(withheld_new) == 1 and "放出候補の需要家リスト" not in board


def test_csrf_is_required(app: Flask, demo: Database) -> None:
    room = room_id(demo)
    member = sign_in(app.test_client(), demo, MEMBER)
    before = reports(demo)
    assert member.post(f"/rooms/{room}/situation", data=report_form()).status_code == 400
    assert reports(demo) == before


def test_markup_in_every_field_is_shown_inert(app: Flask, demo: Database) -> None:
    room = room_id(demo)
    member = sign_in(app.test_client(), demo, MEMBER)
    payload = " ".join(XSS_CORPUS)[:280]
    response = post(
        member,
        f"/rooms/{room}/situation",
        report_form(source=payload, happened=payload, affected=payload, impact=payload),
    )
    assert response.status_code == 302
    for path in (f"/rooms/{room}/situation", f"/rooms/{room}"):
        page = text(member.get(path))
        assert "&lt;script&gt;" in page
        assert not re.search(r"<script(?![^>]*\bsrc=)", page) and "<img src=x" not in page
        assert "<svg onload" not in page and "<iframe" not in page


def test_a_room_of_another_kind_has_no_board(app: Flask, demo: Database) -> None:
    infrastructure = room_id(demo, "重要インフラ機能停止分科会")
    secretariat = sign_in(app.test_client(), demo, SECRETARIAT)
    assert secretariat.get(f"/rooms/{infrastructure}/situation").status_code == 404
    assert post(secretariat, f"/rooms/{infrastructure}/situation", report_form()).status_code == 404
    entry = last_audit(demo, "situation.read")
    assert not entry.allowed and entry.reason == "NOT_RAPID_RESPONSE"
