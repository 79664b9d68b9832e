"""Minutes, read by each reader: portions they may not read are withheld lines, never in the HTML; the banner
carries the highest level of the portions; the published hash is in the audit trail and can be recomputed
from the sealed rows; no text is stored in the clear."""

from __future__ import annotations

import json
import uuid

import pytest
from flask import Flask
from sqlalchemy import select, text

from portal.db import Database
from portal.enums import Level
from portal.minutes import service, workflow
from portal.minutes.demo import COMMENTS, PORTIONS
from portal.minutes.models import Minutes
from portal.security import policy
from tests.conftest import keyed_session
from tests.meetings_support import subject_of
from tests.minutes_support import (
    AUDITOR,
    ITO,
    KOBAYASHI,
    SATO,
    TAKAHASHI,
    TANAKA,
    WITHHELD,
    YOSHIDA,
    browser,
    demo_minutes_meeting,
    language,
    last_audit,
    minutes_url,
    portion_ids,
)
from tests.web.support import text as page_text
from tests.web.support import translated

SECRET_PORTIONS = {  # heading number -> who may read it among the minerals room's members
    4: "代替調達先の候補",  # CONFIDENTIAL, MINERALS-SUPPLY
    5: "国家備蓄の放出",  # CONFIDENTIAL, 政府限り
    6: "同盟国からの通報への対応",  # CESI, named readers 田中 and 伊藤, TLP:RED
}


def _phrases(number: int) -> list[str]:
    """Distinctive phrases of a demo portion: its heading and a piece of each paragraph."""
    spec = PORTIONS[number - 1]
    return [spec.heading, *(paragraph[:25] for paragraph in spec.body.split("\n\n"))]


def test_the_chair_reads_every_portion_and_the_banner_shows_the_highest_level(
    app: Flask, demo: Database
) -> None:
    page = browser(app, demo, TANAKA).get(minutes_url(demo_minutes_meeting(demo)))
    html = page_text(page)

    assert page.status_code == 200
    for number in range(1, len(PORTIONS) + 1):
        for phrase in _phrases(number):
            assert phrase in html, phrase
    assert translated(app, WITHHELD) not in html
    # CESI (one portion) decides the minutes' level, at the top and the bottom of the page
    cesi = translated(app, "Critical Economic Security Information")
    for position in ("top", "bottom"):
        banner = html.split(f'data-testid="marking-{position}"')[1].split("</div>")[0]
        assert cesi in banner and "TLP:RED" in banner
        assert "政府限り" in banner and "重要鉱物 調達先情報" in banner
    assert all(body in html for _email, _number, body in COMMENTS)


@pytest.mark.parametrize(
    ("email", "withheld"),
    [
        (KOBAYASHI, {4, 5, 6}),  # RESTRICTED clearance
        (YOSHIDA, {4, 5, 6}),  # CONFIDENTIAL, but no compartment, not government, no CESI
        (ITO, {5}),  # holds the compartment and is a named CESI reader, but not government
        (SATO, {4, 6}),  # government, CONFIDENTIAL, no compartment
    ],
)
def test_withheld_portions_are_never_in_the_html(
    app: Flask, demo: Database, email: str, withheld: set[int]
) -> None:
    client = browser(app, demo, email)
    meeting_id = demo_minutes_meeting(demo)

    html = page_text(client.get(minutes_url(meeting_id)))

    assert html.count(translated(app, WITHHELD, language(email))) == len(withheld)
    for number in range(1, len(PORTIONS) + 1):
        for phrase in _phrases(number):
            assert (phrase in html) is (number not in withheld), (number, phrase)
    # review comments follow their portion: 伊藤's comment is on 4
    assert (COMMENTS[0][2] in html) is (4 not in withheld)
    # every portion is listed (withheld ones as a line), in the same order as for the chair
    assert portion_ids(client, meeting_id) == portion_ids(browser(app, demo, TANAKA), meeting_id)
    # the compared revisions and the history never show them either
    assert all(
        phrase not in page_text(client.get(minutes_url(meeting_id, "/revisions"))) for phrase in _phrases(6)
    )


def test_minutes_for_reader_gives_the_exports_what_each_reader_may_read(demo: Database) -> None:
    meeting_id = demo_minutes_meeting(demo)
    with demo.session_scope() as session:
        view = service.minutes_for_reader(session, subject_of(session, KOBAYASHI), meeting_id)
        chair = service.minutes_for_reader(session, subject_of(session, TANAKA), meeting_id)

        assert view.number == 1 and view.state == service.RevisionState.PUBLISHED
        assert view.published_hash is not None and len(view.published_hash) == 64
        assert [p.position for p in view.portions] == list(range(1, 9))
        assert [p.readable for p in view.portions] == [n not in SECRET_PORTIONS for n in range(1, 9)]
        for portion in view.portions:
            if not portion.readable:
                assert portion.heading is None and portion.body is None and portion.comments == []
        assert [p.heading for p in chair.portions] == [spec.heading for spec in PORTIONS]
        cesi = chair.portions[5].text
        assert cesi.level == Level.CESI and cesi.release.value == "RED"
        assert {str(reader) for reader in cesi.named_reader_ids} == {
            str(subject_of(session, TANAKA).user_id),
            str(subject_of(session, ITO).user_id),
        }
        assert chair.portions[3].text.caveat_codes == {"MINERALS-SUPPLY"}
        assert chair.portions[3].text.release_organization_ids == {subject_of(session, ITO).organization_id}
        # the minutes' marking is over every portion; what a copy for the reader includes, over theirs
        assert view.marking.level == Level.CESI and view.included_marking.level == Level.RESTRICTED
        assert view.included_marking.caveat_codes == frozenset()
        assert chair.included_marking.caveat_codes == {"GOV_ONLY", "MINERALS-SUPPLY"}


def test_people_outside_the_room_and_no_content_roles_get_404(app: Flask, demo: Database) -> None:
    meeting_id = demo_minutes_meeting(demo)
    for email in (TAKAHASHI, AUDITOR):
        client = browser(app, demo, email)
        for tail in ("", "/revisions", "/compare?a=1&b=1"):
            assert client.get(minutes_url(meeting_id, tail)).status_code == 404
    assert browser(app, demo, TANAKA).get(minutes_url(uuid.uuid4())).status_code == 404
    assert browser(app, demo, TANAKA).get(minutes_url(meeting_id) + "?revision=7").status_code == 404


def test_the_published_hash_is_in_the_audit_trail_and_reproducible(demo: Database) -> None:
    entry = last_audit(demo, "minutes.publish")
    detail = json.loads(entry.detail)
    with demo.session_scope() as session:
        minutes = session.scalar(select(Minutes))
        assert minutes is not None
        revision = service.working_revision(minutes)
        assert detail["hash"] == revision.published_hash == workflow.revision_hash(minutes, 1)
        assert entry.object_id == str(minutes.id) and entry.level == int(Level.CESI)
        published_by = subject_of(session, SATO).user_id
    assert str(entry.actor_id) == str(published_by)
    # no content in the audit trail, only identifiers and codes
    for spec in PORTIONS:
        assert spec.heading not in entry.detail and spec.body[:10] not in entry.detail
    # the hash is over the sealed bytes: changing one stored byte changes it
    with demo.session_scope() as session:
        minutes = session.scalar(select(Minutes))
        assert minutes is not None
        row = service.texts_at(minutes, 1)[0]
        sealed = bytearray(row.body_sealed)
        sealed[-1] ^= 1
        row.body_sealed = bytes(sealed)
        assert workflow.revision_hash(minutes, 1) != detail["hash"]
        session.rollback()


def test_sealed_texts_are_not_in_raw_database_rows(demo: Database) -> None:
    with demo.session_scope() as session:
        raw = b"".join(
            repr(tuple(row)).encode() + b"".join(v for v in row if isinstance(v, bytes))
            for table in ("minutes_portion_texts", "minutes_portion_comments")
            for row in session.execute(text(f"SELECT * FROM {table}")).all()
        )
    assert raw
    for spec in PORTIONS:
        for phrase in (spec.heading, spec.body[:12], *((spec.reason and [spec.reason]) or [])):
            assert phrase.encode() not in raw, phrase
    for _email, _number, body in COMMENTS:
        assert body[:12].encode() not in raw


def test_a_maintenance_key_opens_the_sealed_portions_bound_to_their_row_and_level(demo: Database) -> None:
    """What is stored is the text itself (sealed), not a copy elsewhere: opened with the operator's keys."""
    from portal.meetings.access import open_part

    with keyed_session(demo.url) as session:
        minutes = session.scalar(select(Minutes))
        assert minutes is not None
        headings = [
            open_part(session, policy.maintenance_grant("portion", t.id), t, "heading")
            for t in service.texts_at(minutes, 1)
        ]
    assert headings == [spec.heading for spec in PORTIONS]


def test_markup_in_headings_bodies_and_comments_is_shown_inert(app: Flask, demo: Database) -> None:
    from tests.minutes_support import (
        add_attendee,
        add_portion,
        post,
        step,
        upcoming_minerals_meeting,
    )

    meeting_id = upcoming_minerals_meeting(demo)
    add_attendee(demo, meeting_id, ITO)
    sato = browser(app, demo, SATO)
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>"><b>bold</b>'
    assert post(sato, minutes_url(meeting_id, "/start")).status_code == 302
    assert add_portion(sato, meeting_id, {"heading": payload, "body": f"{payload}\n\n{payload}", "level": 1,
                                          "release": "GREEN"}).status_code == 302  # fmt: skip
    assert step(sato, meeting_id, "circulate").status_code == 302
    ito = browser(app, demo, ITO)
    [portion] = portion_ids(ito, meeting_id)
    assert (
        post(ito, minutes_url(meeting_id, f"/portions/{portion}/comments"), {"body": payload}).status_code
        == 302
    )

    for client in (sato, ito):
        html = page_text(client.get(minutes_url(meeting_id)))
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>bold</b>" not in html
        assert (
            html.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") == 4
        )  # heading, 2 paragraphs, comment
