"""The agenda through the web: each reader sees only the items and material they may read (withheld lines
otherwise), drafts only for stewards, publication and revisions with what changed, adding, editing,
removing and moving items, the length warning; denials, IDOR, CSRF and escaping. On the demo data, whose
第5回 重要鉱物分科会 has a published agenda (revision 2) with CONFIDENTIAL items for 政府限り and for the
MINERALS-SUPPLY compartment."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from portal.db import Database
from portal.enums import Level, ReleaseMarking
from portal.meetings import agenda, agenda_changes
from portal.meetings.models import AgendaItem, AgendaRevision, Meeting
from portal.security import policy
from portal.security.audit_models import AuditEntry
from portal.thinktank.demo import OUTPUTS
from tests.conftest import csrf_token, document_id_by_title, output_id_by_title, sign_in
from tests.meetings_support import agenda_item_ids, demo_meeting_id, schedule_meeting, subject_of
from tests.web.support import text, translated

SECRETARIAT = "sato@cao.example.jp"  # CONFIDENTIAL, government: reads 政府限り, not MINERALS-SUPPLY
CHAIR = "tanaka@meti.example.jp"  # CESI, MINERALS-SUPPLY, government: reads every minerals item
MEMBER = "ito@toho-raremetals.example.jp"  # CESI, MINERALS-SUPPLY, private: not 政府限り
ANALYST = "yoshida@icess.example.jp"  # CONFIDENTIAL, think tank: neither caveat
OBSERVER = "kobayashi@toto-u.example.jp"  # RESTRICTED: no CONFIDENTIAL item
OUTSIDER = "takahashi@mic.example.jp"
AUDITOR = "matsumoto@cao.example.jp"

OPENING = "開会・前回(第4回)議事概要の確認"
TRENDS = "ガリウム・ゲルマニウム輸出管理措置の最新動向"
SURVEY = "国内需要家への影響調査の結果報告"
THINK_TANK = "シンクタンク報告:重要鉱物5品目のサプライチェーン依存度"
SOURCING = "代替調達先の確保に向けた企業別の検討"  # CONFIDENTIAL, MINERALS-SUPPLY
STOCKPILE = "国家備蓄の放出に向けた検討(政府限り)"  # CONFIDENTIAL, GOV_ONLY
CLOSING = "今後の対応方針と次回日程"
IMPACT_DOCUMENT = "ガリウム・ゲルマニウム輸出管理措置の影響整理(第1版)"
SOURCING_DOCUMENT = "代替調達先候補の企業別評価"
STOCKPILE_DOCUMENT = "国家備蓄の放出検討状況(政府限り)"
WITHHELD = "Agenda item withheld (not cleared)"


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None) -> TestResponse:
    return client.post(path, data={"csrf_token": csrf_token(client, "/account"), **(data or {})})


def item_form(**changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "title": "新しい議題",
        "presenter": "事務局",
        "duration_minutes": "10",
        "level": str(int(Level.RESTRICTED)),
        "release": ReleaseMarking.GREEN.value,
    }
    form.update(changes)
    return form


def agenda_html(page: str) -> str:
    """The agenda section of a meeting page (the tab bar and marking banners left out)."""
    return page.split('id="agenda"', 1)[1].split("</section>\n{{", 1)[0]


def revision_number(database: Database, meeting_id: uuid.UUID) -> int:
    with database.session_scope() as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        return meeting.agenda_revision


def last_audit(database: Database) -> AuditEntry:
    with database.session_scope() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert entry is not None
        session.expunge(entry)
        return entry


def says(app: Flask, page: str, message: str) -> str:
    """``message`` in the language the page is in (小林 reads the portal in English)."""
    match = re.search(r'<html lang="(\w+)"', page)
    assert match
    return translated(app, message, match.group(1))


def titles_in_order(page: str, titles: list[str]) -> list[str]:
    return sorted((title for title in titles if title in page), key=page.index)


# --- per reader ----------------------------------------------------------------------------------------


def test_each_reader_sees_the_items_they_may_read_and_withheld_lines_for_the_others(
    app: Flask, demo: Database
) -> None:
    minerals_5 = demo_meeting_id(demo, "minerals-5")
    every = [OPENING, TRENDS, SURVEY, THINK_TANK, SOURCING, STOCKPILE, CLOSING]
    pages = {
        email: text(sign_in(app.test_client(), demo, email).get(f"/meetings/{minerals_5}"))
        for email in (CHAIR, SECRETARIAT, MEMBER, ANALYST, OBSERVER)
    }
    expected_hidden = {
        CHAIR: set(),
        SECRETARIAT: {SOURCING},
        MEMBER: {STOCKPILE},
        ANALYST: {SOURCING, STOCKPILE},
        OBSERVER: {SOURCING, STOCKPILE},
    }
    for email, page in pages.items():
        hidden = expected_hidden[email]
        listed = page.split('data-testid="agenda"', 1)[1]  # the agenda itself, after what changed
        assert titles_in_order(listed, every) == [t for t in every if t not in hidden], email
        assert page.count(f'data-testid="withheld">{says(app, page, WITHHELD)}<') == len(hidden), email
        assert page.count('data-testid="agenda-item"') == 7, email  # every line in its place
    # The observer's withheld lines keep their place and duration, nothing else.
    observer = agenda_html(pages[OBSERVER])
    lines = re.findall(
        r'<li class="agenda__item[^"]*" data-testid="agenda-item">(.*?)</li>\n', observer, re.S
    )
    assert [("withheld" in line) for line in lines] == [False, False, False, False, True, True, False]
    assert "20 " in lines[4] or "20分" in lines[4]
    for line in lines[4:6]:
        assert "経済産業省" not in line and "href" not in line
    for secret in (SOURCING, STOCKPILE, SOURCING_DOCUMENT, STOCKPILE_DOCUMENT, "経済産業省・内閣府"):
        assert secret not in pages[OBSERVER]


def test_linked_material_shows_only_what_the_reader_may_read(app: Flask, demo: Database) -> None:
    minerals_5 = demo_meeting_id(demo, "minerals-5")
    # An item every member reads, linking material of several levels.
    with demo.session_scope() as session:
        secretariat = subject_of(session, SECRETARIAT)
        agenda_changes.add_item(
            session, secretariat, minerals_5,
            agenda_changes.ItemInput(
                "資料の確認", "事務局", 5, _marking(),
                document_ids=frozenset(
                    {_document(demo, IMPACT_DOCUMENT), _document(demo, STOCKPILE_DOCUMENT)}
                ),
                output_ids=frozenset({_output(demo, 0)}),
            ),
        )  # fmt: skip
    member = text(sign_in(app.test_client(), demo, MEMBER).get(f"/meetings/{minerals_5}"))
    chair = text(sign_in(app.test_client(), demo, CHAIR).get(f"/meetings/{minerals_5}"))
    assert "資料の確認" in member and "資料の確認" in chair
    assert STOCKPILE_DOCUMENT in chair and STOCKPILE_DOCUMENT not in member  # 政府限り: left out entirely
    assert IMPACT_DOCUMENT in member and OUTPUTS[0].title in member
    member_item = member.split('data-testid="agenda"', 1)[1].split("資料の確認", 1)[1].split("</ul>", 1)[0]
    assert member_item.count("<li>") == 2  # the readable document and the output; no placeholder
    assert f'href="/outputs/{_output(demo, 0)}"' in member


def _marking(level: Level = Level.RESTRICTED, caveats: frozenset[str] = frozenset()) -> Any:
    from portal.meetings.forms import PartMarkingInput

    return PartMarkingInput(
        level, ReleaseMarking.GREEN, caveats, frozenset(), frozenset(), "理由" if level >= 2 else None
    )


def _document(database: Database, title: str) -> uuid.UUID:
    found = document_id_by_title(database, title)
    assert found is not None, title
    return found


def _output(database: Database, index: int) -> uuid.UUID:
    found = output_id_by_title(database, OUTPUTS[index].title)
    assert found is not None
    return found


def test_agenda_for_reader_for_the_exports(demo: Database) -> None:
    minerals_5 = demo_meeting_id(demo, "minerals-5")
    with demo.session_scope() as session:
        chair = agenda.agenda_for_reader(session, subject_of(session, CHAIR), minerals_5, with_text=True)
        observer = agenda.agenda_for_reader(
            session, subject_of(session, OBSERVER), minerals_5, with_text=True
        )
        assert [e.title for e in chair] == [OPENING, TRENDS, SURVEY, THINK_TANK, SOURCING, STOCKPILE, CLOSING]
        assert [e.position for e in observer] == [1, 2, 3, 4, 5, 6, 7]
        withheld = [e for e in observer if not e.readable]
        assert [e.item.level for e in withheld] == [Level.CONFIDENTIAL, Level.CONFIDENTIAL]
        assert all(e.title is None and e.presenter is None and e.materials == () for e in withheld)
        assert [e.duration_minutes for e in withheld] == [20, 15]
        [sourcing_document] = chair[4].materials
        assert (sourcing_document.kind, sourcing_document.title) == ("document", SOURCING_DOCUMENT)
        assert sourcing_document.caveat_codes == frozenset({"MINERALS-SUPPLY"})
        assert sourcing_document.text and "供給余力" in sourcing_document.text
        [analysis] = chair[3].materials
        assert analysis.kind == "output" and analysis.text and "HHI" in analysis.text
        assert chair[2].presenter == "東邦レアメタル株式会社 伊藤" and chair[2].duration_minutes == 15
        # A meeting the reader may not see is concealed, as on the page.
        try:
            agenda.agenda_for_reader(session, subject_of(session, OUTSIDER), minerals_5)
        except policy.AccessDenied as denied:
            assert denied.conceal and denied.decision.reason == "NOT_MEMBER"
        else:
            raise AssertionError("an outsider read the agenda")


# --- drafts, publication, revisions --------------------------------------------------------------------


def test_a_draft_is_for_stewards_until_published(app: Flask, demo: Database) -> None:
    with demo.session_scope() as session:
        meeting_id = schedule_meeting(session, title="第7回")
    secretariat = sign_in(app.test_client(), demo, SECRETARIAT)
    member = sign_in(app.test_client(), demo, MEMBER)
    assert (
        post(
            secretariat, f"/meetings/{meeting_id}/agenda/items/new", item_form(title="下書きの議題")
        ).status_code
        == 302
    )

    draft = text(member.get(f"/meetings/{meeting_id}"))
    assert "下書きの議題" not in draft and 'data-testid="agenda-unpublished"' in draft
    assert translated(app, "The agenda has not been published yet.") in draft
    assert "下書きの議題" in text(secretariat.get(f"/meetings/{meeting_id}"))
    assert 'data-testid="agenda-unpublished"' in text(member.get(f"/meetings/{meeting_id}/agenda/revisions"))

    assert post(secretariat, f"/meetings/{meeting_id}/agenda/publish").status_code == 302

    published = text(member.get(f"/meetings/{meeting_id}"))
    assert "下書きの議題" in published and 'data-testid="agenda-published"' in published
    assert revision_number(demo, meeting_id) == 1
    with demo.session_scope() as session:
        [revision] = session.scalars(
            select(AgendaRevision).where(AgendaRevision.meeting_id == meeting_id)
        ).all()
        [entry] = revision.entries
        assert (
            entry.level == Level.RESTRICTED and b"\xe4\xb8\x8b\xe6\x9b\xb8" not in entry.title_sealed
        )  # 下書
    entry_audit = last_audit(demo)
    assert (entry_audit.action, entry_audit.object_id) == ("agenda.publish", str(meeting_id))
    # Publishing again changes nothing; an empty agenda is not published.
    assert post(secretariat, f"/meetings/{meeting_id}/agenda/publish").status_code == 302
    assert revision_number(demo, meeting_id) == 1
    with demo.session_scope() as session:
        empty = schedule_meeting(session, title="第8回")
    assert post(secretariat, f"/meetings/{empty}/agenda/publish").status_code == 302
    assert revision_number(demo, empty) == 0


def test_members_see_what_changed_and_the_history_per_reader(app: Flask, demo: Database) -> None:
    minerals_5 = demo_meeting_id(demo, "minerals-5")
    observer = sign_in(app.test_client(), demo, OBSERVER)
    page = text(observer.get(f"/meetings/{minerals_5}"))
    changes = page.split('data-testid="agenda-changes"', 1)[1].split("</ul>", 1)[0]
    # The demo's revision 2: the impact survey shortened and its presenter named.
    assert SURVEY in changes
    assert says(app, page, "Duration changed") in changes and says(app, page, "Presenter changed") in changes
    assert "東邦レアメタル株式会社 伊藤" in changes

    # The chair lengthens the 政府限り item: the observer is told of a change on a withheld line.
    chair = sign_in(app.test_client(), demo, CHAIR)
    stockpile = agenda_item_ids(demo, minerals_5)[STOCKPILE]
    edit_page = text(chair.get(f"/meetings/{minerals_5}/agenda/items/{stockpile}/edit"))
    assert STOCKPILE in edit_page and re.search(r'<input checked [^>]*value="GOV_ONLY"', edit_page)
    form = item_form(
        title=STOCKPILE, presenter="経済産業省・内閣府", duration_minutes="25",
        level=str(int(Level.CONFIDENTIAL)),
        release=ReleaseMarking.AMBER.value, caveats="GOV_ONLY", reason="政府内の検討過程であるため",
        documents=str(_document(demo, STOCKPILE_DOCUMENT)),
    )  # fmt: skip
    assert post(chair, f"/meetings/{minerals_5}/agenda/items/{stockpile}/edit", form).status_code == 302
    assert revision_number(demo, minerals_5) == 3

    page = text(observer.get(f"/meetings/{minerals_5}"))
    changes = page.split('data-testid="agenda-changes"', 1)[1].split("</ul>", 1)[0]
    assert says(app, page, WITHHELD) in changes and STOCKPILE not in page
    assert says(app, page, "Duration changed") in changes
    assert SURVEY not in changes  # only the latest revision against the one before
    chair_changes = text(chair.get(f"/meetings/{minerals_5}")).split('data-testid="agenda-changes"', 1)[1]
    assert STOCKPILE in chair_changes.split("</ul>", 1)[0]

    history = text(observer.get(f"/meetings/{minerals_5}/agenda/revisions"))
    assert history.count('data-testid="revision"') == 3
    assert STOCKPILE not in history and SOURCING not in history and "経済産業省・内閣府" not in history
    assert history.count(says(app, history, WITHHELD)) >= 3 * 2  # two withheld lines in every revision
    assert STOCKPILE in text(chair.get(f"/meetings/{minerals_5}/agenda/revisions"))


def test_adding_removing_retitling_and_moving_after_publication_each_publish_a_revision(
    app: Flask, demo: Database
) -> None:
    minerals_5 = demo_meeting_id(demo, "minerals-5")
    items = agenda_item_ids(demo, minerals_5)
    secretariat = sign_in(app.test_client(), demo, SECRETARIAT)
    member = sign_in(app.test_client(), demo, MEMBER)

    def latest_changes() -> str:
        return (
            text(member.get(f"/meetings/{minerals_5}"))
            .split('data-testid="agenda-changes"', 1)[1]
            .split("</ul>", 1)[0]
        )

    assert (
        post(
            secretariat, f"/meetings/{minerals_5}/agenda/items/new", item_form(title="追加の議題")
        ).status_code
        == 302
    )
    assert revision_number(demo, minerals_5) == 3
    assert "追加の議題" in latest_changes() and translated(app, "Item added") in latest_changes()

    edit = item_form(title="今後の対応方針(改)", presenter="事務局", duration_minutes="10")
    assert (
        post(secretariat, f"/meetings/{minerals_5}/agenda/items/{items[CLOSING]}/edit", edit).status_code
        == 302
    )
    changes = latest_changes()
    assert translated(app, "Retitled") in changes and CLOSING in changes and "今後の対応方針(改)" in changes

    assert (
        post(
            secretariat, f"/meetings/{minerals_5}/agenda/items/{items[THINK_TANK]}/move", {"direction": "up"}
        ).status_code
        == 302
    )
    changes = latest_changes()
    assert translated(app, "Moved") in changes and THINK_TANK in changes
    assert SURVEY not in changes  # shifted by the move, not moved itself
    page = text(member.get(f"/meetings/{minerals_5}"))
    assert page.index(THINK_TANK) < page.index(SURVEY)

    assert (
        post(secretariat, f"/meetings/{minerals_5}/agenda/items/{items[OPENING]}/remove").status_code == 302
    )
    changes = latest_changes()
    assert translated(app, "Removed") in changes and OPENING in changes
    assert (
        OPENING
        not in agenda_html(text(member.get(f"/meetings/{minerals_5}"))).split('data-testid="agenda"', 1)[1]
    )
    assert revision_number(demo, minerals_5) == 6
    with demo.session_scope() as session:
        removed = session.get(AgendaItem, items[OPENING])
        assert removed is not None and removed.removed_at is not None  # kept for the published revisions
        positions = [i.position for i in agenda.live_items(session, minerals_5)]
        assert positions == list(range(1, len(positions) + 1))
    audited = {e.action for e in _audit_entries(demo)}
    assert {"agenda.add_item", "agenda.edit_item", "agenda.move_item", "agenda.remove_item"} <= audited


def _audit_entries(database: Database) -> list[AuditEntry]:
    with database.session_scope() as session:
        found = list(session.scalars(select(AuditEntry)))
        session.expunge_all()
        return found


def test_a_steward_may_move_but_not_open_an_item_they_may_not_read(app: Flask, demo: Database) -> None:
    minerals_5 = demo_meeting_id(demo, "minerals-5")
    sourcing = agenda_item_ids(demo, minerals_5)[SOURCING]  # MINERALS-SUPPLY: the secretariat lacks it
    secretariat = sign_in(app.test_client(), demo, SECRETARIAT)
    page = text(secretariat.get(f"/meetings/{minerals_5}"))
    assert f"/agenda/items/{sourcing}/move" in page and f"/agenda/items/{sourcing}/edit" not in page

    assert secretariat.get(f"/meetings/{minerals_5}/agenda/items/{sourcing}/edit").status_code == 404
    assert last_audit(demo).reason == "CAVEAT_MISSING"
    assert post(secretariat, f"/meetings/{minerals_5}/agenda/items/{sourcing}/remove").status_code == 404
    assert (
        post(
            secretariat, f"/meetings/{minerals_5}/agenda/items/{sourcing}/move", {"direction": "down"}
        ).status_code
        == 302
    )
    # The snapshot still carries the item, copied without being shown: the chair reads it in revision 3.
    chair = sign_in(app.test_client(), demo, CHAIR)
    history = text(chair.get(f"/meetings/{minerals_5}/agenda/revisions"))
    revision_3 = history.split('id="revision-3"', 1)[1].split('data-testid="revision"', 1)[0]
    assert SOURCING in revision_3


def test_the_form_warns_when_the_items_exceed_the_meeting_without_refusing(
    app: Flask, demo: Database
) -> None:
    minerals_5 = demo_meeting_id(demo, "minerals-5")  # 120 minutes; the demo's items take 110
    chair = sign_in(app.test_client(), demo, CHAIR)
    form_page = text(chair.get(f"/meetings/{minerals_5}/agenda/items/new"))
    assert translated(app, "Agenda: %(total)d of %(length)d minutes", total=110, length=120) in form_page
    assert 'data-testid="length-warning"' not in form_page

    response = post(
        chair, f"/meetings/{minerals_5}/agenda/items/new", item_form(title="延長議題", duration_minutes="30")
    )

    assert response.status_code == 302
    warning = html.unescape(
        translated(
            app, "The agenda items take %(total)d minutes, longer than the meeting's %(length)d minutes.",
            total=140, length=120,
        )
    )  # fmt: skip
    page = html.unescape(text(chair.get(f"/meetings/{minerals_5}")))  # the flash, and the steward's view
    assert page.count(warning) == 2 and "延長議題" in page
    assert warning in html.unescape(text(chair.get(f"/meetings/{minerals_5}/agenda/items/new")))
    member_page = html.unescape(text(sign_in(app.test_client(), demo, MEMBER).get(f"/meetings/{minerals_5}")))
    assert warning not in member_page and "延長議題" in member_page


# --- refusals ---------------------------------------------------------------------------------------------


def test_marking_and_links_are_checked(app: Flask, demo: Database) -> None:
    minerals_5 = demo_meeting_id(demo, "minerals-5")
    secretariat = sign_in(app.test_client(), demo, SECRETARIAT)
    path = f"/meetings/{minerals_5}/agenda/items/new"
    before = revision_number(demo, minerals_5)
    refusals = [
        (item_form(level=str(int(Level.CESI)), readers=[]), 400),  # CESI names readers (form)
        (item_form(level=str(int(Level.CONFIDENTIAL))), 400),  # a reason is required
        (item_form(caveats="MINERALS-SUPPLY"), 400),  # not offered: not held
        (item_form(documents=str(_document(demo, SOURCING_DOCUMENT))), 400),  # not offered: not readable
        (item_form(documents=str(_document(demo, "AGIリスク論点整理メモ"))), 400),  # another room's
        (item_form(outputs=str(_output(demo, 2))), 400),  # offered to the room, not attached
        (item_form(title="", duration_minutes="0"), 400),
    ]
    for form, status in refusals:
        response = post(secretariat, path, form)
        assert response.status_code == status, (form, response.status_code)
    typed = post(secretariat, path, item_form(title="残る題名", presenter="残る説明者", duration_minutes="0"))
    assert 'value="残る題名"' in text(typed) and 'value="残る説明者"' in text(typed)
    cesi = post(
        secretariat,
        path,
        item_form(level=str(int(Level.CESI)), readers=[_user_id(demo, CHAIR)], reason="指定"),
    )
    assert cesi.status_code == 403 and translated(
        app, "You cannot classify above your own clearance."
    ) in text(cesi)
    assert revision_number(demo, minerals_5) == before
    with demo.session_scope() as session:  # the service checks the links itself, not only the form
        try:
            agenda_changes.add_item(
                session, subject_of(session, SECRETARIAT), minerals_5,
                agenda_changes.ItemInput(
                    "x", "y", 5, _marking(), document_ids=frozenset({_document(demo, SOURCING_DOCUMENT)})
                ),
            )  # fmt: skip
        except agenda_changes.InvalidLink:
            session.rollback()
        else:
            raise AssertionError("linked a document the writer may not read")


def _user_id(database: Database, email: str) -> str:
    from portal.accounts.models import User

    with database.session_scope() as session:
        user = session.scalar(select(User).where(User.email == email))
        assert user is not None
        return str(user.id)


def test_denials_are_answered_and_audited_with_their_reason(app: Flask, demo: Database) -> None:
    minerals_5 = demo_meeting_id(demo, "minerals-5")
    survey = agenda_item_ids(demo, minerals_5)[SURVEY]
    cases = [
        (MEMBER, "POST", f"/meetings/{minerals_5}/agenda/items/new", 403, "NOT_SECRETARIAT_OR_CHAIR"),
        (
            ANALYST,
            "GET",
            f"/meetings/{minerals_5}/agenda/items/{survey}/edit",
            403,
            "NOT_SECRETARIAT_OR_CHAIR",
        ),
        (
            OBSERVER,
            "POST",
            f"/meetings/{minerals_5}/agenda/items/{survey}/remove",
            403,
            "NOT_SECRETARIAT_OR_CHAIR",
        ),
        (MEMBER, "POST", f"/meetings/{minerals_5}/agenda/publish", 403, "NOT_SECRETARIAT_OR_CHAIR"),
        (OUTSIDER, "POST", f"/meetings/{minerals_5}/agenda/items/{survey}/move", 404, "NOT_MEMBER"),
        (OUTSIDER, "GET", f"/meetings/{minerals_5}/agenda/revisions", 404, "NOT_MEMBER"),
        (AUDITOR, "GET", f"/meetings/{minerals_5}/agenda/items/new", 404, "ROLE_NO_CONTENT"),
    ]
    for email, method, path, status, reason in cases:
        client = sign_in(app.test_client(), demo, email)
        response = (
            client.get(path) if method == "GET" else post(client, path, item_form() | {"direction": "up"})
        )
        assert response.status_code == status, (email, path, response.status_code)
        entry = last_audit(demo)
        assert (entry.allowed, entry.reason) == (False, reason), (email, path, entry.action, entry.reason)
    assert revision_number(demo, minerals_5) == 2


def test_an_item_of_another_meeting_answers_404(app: Flask, demo: Database) -> None:
    minerals_5 = demo_meeting_id(demo, "minerals-5")
    minerals_4 = demo_meeting_id(demo, "minerals-4")
    other = next(iter(agenda_item_ids(demo, minerals_4).values()))  # the chair may edit it on its own meeting
    chair = sign_in(app.test_client(), demo, CHAIR)
    assert chair.get(f"/meetings/{minerals_4}/agenda/items/{other}/edit").status_code == 200
    assert chair.get(f"/meetings/{minerals_5}/agenda/items/{other}/edit").status_code == 404
    assert post(chair, f"/meetings/{minerals_5}/agenda/items/{other}/edit", item_form()).status_code == 404
    assert post(chair, f"/meetings/{minerals_5}/agenda/items/{other}/remove").status_code == 404
    assert (
        post(chair, f"/meetings/{minerals_5}/agenda/items/{other}/move", {"direction": "up"}).status_code
        == 404
    )
    assert post(chair, f"/meetings/{minerals_5}/agenda/items/{uuid.uuid4()}/remove").status_code == 404
    agi_2 = demo_meeting_id(demo, "agi-2")  # another room's meeting
    assert post(chair, f"/meetings/{agi_2}/agenda/items/new", item_form()).status_code == 404
    assert revision_number(demo, minerals_5) == 2 and revision_number(demo, minerals_4) == 1
    with demo.session_scope() as session:
        item = session.get(AgendaItem, other)
        assert item is not None and item.removed_at is None and item.meeting_id == minerals_4


def test_agenda_changes_need_the_csrf_token(app: Flask, demo: Database) -> None:
    minerals_5 = demo_meeting_id(demo, "minerals-5")
    survey = agenda_item_ids(demo, minerals_5)[SURVEY]
    chair = sign_in(app.test_client(), demo, CHAIR)
    for path, data in [
        (f"/meetings/{minerals_5}/agenda/items/new", item_form()),
        (f"/meetings/{minerals_5}/agenda/items/{survey}/edit", item_form()),
        (f"/meetings/{minerals_5}/agenda/items/{survey}/remove", {}),
        (f"/meetings/{minerals_5}/agenda/items/{survey}/move", {"direction": "up"}),
        (f"/meetings/{minerals_5}/agenda/publish", {}),
    ]:
        assert chair.post(path, data=data).status_code == 400, path
    assert revision_number(demo, minerals_5) == 2


def test_markup_in_title_and_presenter_is_shown_as_text(app: Flask, demo: Database) -> None:
    minerals_5 = demo_meeting_id(demo, "minerals-5")
    chair = sign_in(app.test_client(), demo, CHAIR)
    form = item_form(title='<script>alert("x")</script>', presenter="<img src=x onerror=alert(1)>")
    assert post(chair, f"/meetings/{minerals_5}/agenda/items/new", form).status_code == 302
    member = sign_in(app.test_client(), demo, MEMBER)
    for page in (
        text(member.get(f"/meetings/{minerals_5}")),
        text(member.get(f"/meetings/{minerals_5}/agenda/revisions")),
    ):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert (
            "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
            and "&lt;img src=x onerror=alert(1)&gt;" in page
        )
