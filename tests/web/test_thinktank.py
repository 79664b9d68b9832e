"""Think-tank outputs through the web: publishing, offering, attaching and detaching, who reads what, the
CSV validation, encryption at rest and escaping. On the demo data (DOMAIN.md's rooms and people)."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from werkzeug.test import TestResponse

from portal.accounts.models import Clearance
from portal.db import Database, utcnow
from portal.enums import ClearanceBasis, Level, ReleaseMarking
from portal.rooms.models import Subcommittee
from portal.security.audit_models import AuditEntry
from portal.thinktank.demo import OUTPUTS
from portal.thinktank.models import OutputAttachment, ThinkTankOutput
from tests.conftest import csrf_token, output_id_by_title, sign_in, user_by_email
from tests.web.support import text, translated
from tests.web.test_encryption_web import (
    ascii_marker,
    japanese_marker,
    leaks,
    raw_database_bytes,
    require_raw_reader,
)

ANALYST = "yoshida@icess.example.jp"
SECRETARIAT = "sato@cao.example.jp"
CHAIR = "tanaka@meti.example.jp"  # chairs the minerals room
PLAIN_MEMBER = "ito@toho-raremetals.example.jp"  # minerals member, CESI, not a chair
OBSERVER = "kobayashi@toto-u.example.jp"  # minerals observer, RESTRICTED
OUTSIDER = "suzuki@mlit.example.jp"  # not in the minerals room

GOOD_CSV = """material,stage,country,share,alternative sources
ガリウム,精錬,中国,98,回収精製
ガリウム,精錬,日本,1,
黒鉛,加工,中国,92,
"""


def room_id(database: Database, name_ja: str) -> uuid.UUID:
    with database.session_scope() as session:
        found = session.scalar(select(Subcommittee.id).where(Subcommittee.name_ja == name_ja))
    assert found is not None
    return found


def demo_output(database: Database, index: int) -> uuid.UUID:
    found = output_id_by_title(database, OUTPUTS[index].title)
    assert found is not None
    return found


def post(client: FlaskClient, path: str, data: dict[str, Any], page: str = "/account") -> TestResponse:
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def publish_form(**changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "kind": "supply_chain",
        "title": "黒鉛とガリウムの依存度(速報)",
        "summary": "速報版。",
        "authors": "吉田 真理",
        "method": "貿易統計から推計",
        "data_sources": "財務省貿易統計",
        "as_of": "2025-10-01",
        "version_label": "0.9",
        "data_csv": GOOD_CSV,
        "level": str(int(Level.RESTRICTED)),
        "release": ReleaseMarking.GREEN.value,
    }
    form.update(changes)
    return form


def audit_entries(database: Database, action: str) -> list[AuditEntry]:
    with database.session_scope() as session:
        found = list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        session.expunge_all()
        return found


def output_count(database: Database) -> int:
    with database.session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(ThinkTankOutput)) or 0)


# --- publishing ---------------------------------------------------------------------------------------


def test_an_analyst_publishes_and_offers_to_a_room(app: Flask, demo: Database) -> None:
    minerals = room_id(demo, "重要鉱物分科会")
    analyst = sign_in(app.test_client(), demo, ANALYST)

    response = post(analyst, "/outputs/new", publish_form(offer_to=[str(minerals)]), "/outputs/new")

    assert response.status_code == 302, text(response)[:2000]
    path = response.headers["Location"]
    assert re.fullmatch(r"/outputs/[0-9a-f-]{36}", path)
    page = text(analyst.get(path))
    assert "黒鉛とガリウムの依存度(速報)" in page
    assert 'id="chart-shares"' in page and 'id="chart-concentration"' in page
    assert 'data-testid="marking-top"' in page and 'data-testid="marking-bottom"' in page
    [entry] = audit_entries(demo, "output.publish")
    assert entry.allowed and entry.object_id == path.rsplit("/", 1)[1]
    assert json.loads(entry.detail)["offered_to"] == [str(minerals)]
    # Offered, not attached: the chair reads it to decide; a plain member does not see it yet.
    assert sign_in(app.test_client(), demo, CHAIR).get(path).status_code == 200
    member = sign_in(app.test_client(), demo, PLAIN_MEMBER)
    assert member.get(path).status_code == 404
    assert "黒鉛とガリウムの依存度" not in text(member.get(f"/rooms/{minerals}"))


def test_publishing_is_refused_to_anyone_but_an_analyst(app: Flask, demo: Database) -> None:
    for email in (CHAIR, SECRETARIAT):
        client = sign_in(app.test_client(), demo, email)
        assert client.get("/outputs/new").status_code == 403
        token = csrf_token(client, "/account")
        assert client.post("/outputs/new", data={"csrf_token": token, **publish_form()}).status_code == 403
    assert output_count(demo) == len(OUTPUTS)
    denials = [e for e in audit_entries(demo, "output.publish") if not e.allowed]
    assert denials and {e.reason for e in denials} == {"NOT_ANALYST"}


def test_an_analyst_cannot_publish_above_her_clearance(app: Flask, demo: Database) -> None:
    analyst = user_by_email(demo, ANALYST)
    with demo.session_scope() as session:  # a newer record lowers her clearance to RESTRICTED
        session.add(
            Clearance(
                user_id=analyst.id, level=Level.RESTRICTED, basis=ClearanceBasis.INTERNAL, granted_at=utcnow()
            )
        )
    client = sign_in(app.test_client(), demo, ANALYST)

    response = post(
        client,
        "/outputs/new",
        publish_form(level=str(int(Level.CONFIDENTIAL)), reason="個別企業の情報"),
        "/outputs/new",
    )

    assert response.status_code == 403
    assert translated(app, "You cannot classify above your own clearance.") in text(response)
    assert output_count(demo) == len(OUTPUTS)


def test_a_bad_csv_is_refused_row_by_row_and_the_text_is_kept(app: Flask, demo: Database) -> None:
    client = sign_in(app.test_client(), demo, ANALYST)
    lines = ["material,stage,country,share", "ガリウム,精錬,中国,98", "ガリウム,精錬,日本,abc"]
    bad = "\n".join([*lines, ",加工,中国,50", "ガリウム,精錬,米国,150", ""])

    response = post(client, "/outputs/new", publish_form(data_csv=bad), "/outputs/new")

    assert response.status_code == 400
    page = text(response)
    assert translated(app, "Row %(row)d: share must be a number between 0 and 100.", row=3) in page
    assert translated(app, "Row %(row)d: the material is missing.", row=4) in page
    assert translated(app, "Row %(row)d: share must be a number between 0 and 100.", row=5) in page
    assert "ガリウム,精錬,日本,abc" in page  # what the user typed is still in the form
    assert 'value="黒鉛とガリウムの依存度(速報)"' in page
    assert output_count(demo) == len(OUTPUTS)
    assert not [e for e in audit_entries(demo, "output.publish") if e.allowed]


def test_a_bad_risk_table_is_refused(app: Flask, demo: Database) -> None:
    client = sign_in(app.test_client(), demo, ANALYST)
    response = post(
        client,
        "/outputs/new",
        publish_form(kind="risk_assessment", data_csv="広域停電,2,6\n通信障害,0,3\n"),
        "/outputs/new",
    )
    assert response.status_code == 400
    page = text(response)
    assert translated(app, "Row %(row)d: impact must be a whole number from 1 to 5.", row=1) in page
    assert translated(app, "Row %(row)d: likelihood must be a whole number from 1 to 5.", row=2) in page
    assert output_count(demo) == len(OUTPUTS)


# --- attaching and detaching --------------------------------------------------------------------------


def test_the_secretariat_confirms_an_offer_and_the_room_reads_it(app: Flask, demo: Database) -> None:
    minerals = room_id(demo, "重要鉱物分科会")
    brief = demo_output(demo, 2)  # offered to the minerals room
    member = sign_in(app.test_client(), demo, PLAIN_MEMBER)
    assert member.get(f"/outputs/{brief}").status_code == 404
    secretariat = sign_in(app.test_client(), demo, SECRETARIAT)
    assert 'data-testid="attach-form"' in text(secretariat.get(f"/outputs/{brief}"))

    response = post(secretariat, f"/outputs/{brief}/attach", {"room_id": str(minerals)})

    assert response.status_code == 302
    assert member.get(f"/outputs/{brief}").status_code == 200
    assert OUTPUTS[2].title in text(member.get(f"/rooms/{minerals}"))
    [entry] = audit_entries(demo, "output.attach")
    assert entry.object_id == str(brief) and json.loads(entry.detail)["room"] == str(minerals)


def test_the_chair_attaches_to_his_room(app: Flask, demo: Database) -> None:
    minerals = room_id(demo, "重要鉱物分科会")
    brief = demo_output(demo, 2)
    chair = sign_in(app.test_client(), demo, CHAIR)
    assert post(chair, f"/outputs/{brief}/attach", {"room_id": str(minerals)}).status_code == 302
    assert len(audit_entries(demo, "output.attach")) == 1


def test_a_plain_member_may_not_attach_or_detach(app: Flask, demo: Database) -> None:
    minerals = room_id(demo, "重要鉱物分科会")
    supply = demo_output(demo, 0)  # attached to minerals: the member reads it
    member = sign_in(app.test_client(), demo, PLAIN_MEMBER)
    page = text(member.get(f"/outputs/{supply}"))
    assert 'data-testid="attach-form"' not in page and "/detach" not in page

    assert post(member, f"/outputs/{supply}/detach", {"room_id": str(minerals)}).status_code == 403
    assert post(member, f"/outputs/{supply}/attach", {"room_id": str(minerals)}).status_code == 403
    # a chair of another room is no steward here either
    shipbuilding = room_id(demo, "造船分科会")
    assert post(member, f"/outputs/{supply}/attach", {"room_id": str(shipbuilding)}).status_code == 403
    reasons = {e.reason for e in audit_entries(demo, "output.attach") + audit_entries(demo, "output.detach")}
    assert reasons == {"NOT_SECRETARIAT_OR_CHAIR", "NOT_MEMBER"}


def test_attaching_to_a_room_that_may_not_hold_the_level_is_refused(app: Flask, demo: Database) -> None:
    shipbuilding = room_id(demo, "造船分科会")
    with demo.session_scope() as session:
        session.execute(
            update(Subcommittee).where(Subcommittee.id == shipbuilding).values(max_level=Level.RESTRICTED)
        )
    risk = demo_output(demo, 1)  # CONFIDENTIAL; the secretariat reads it through the infrastructure room
    secretariat = sign_in(app.test_client(), demo, SECRETARIAT)
    page = text(secretariat.get(f"/outputs/{risk}"))
    assert f'value="{shipbuilding}"' not in page  # not offered as a choice

    response = post(secretariat, f"/outputs/{risk}/attach", {"room_id": str(shipbuilding)})

    assert response.status_code == 403
    [denial] = audit_entries(demo, "output.attach")
    assert not denial.allowed and denial.reason == "ROOM_LEVEL_EXCEEDED"
    with demo.session_scope() as session:
        attached = session.scalars(
            select(OutputAttachment).where(OutputAttachment.subcommittee_id == shipbuilding)
        ).all()
        assert attached == []


def test_detaching_is_audited_and_keeps_the_output(app: Flask, demo: Database) -> None:
    minerals = room_id(demo, "重要鉱物分科会")
    supply = demo_output(demo, 0)
    member = sign_in(app.test_client(), demo, PLAIN_MEMBER)
    assert member.get(f"/outputs/{supply}").status_code == 200
    secretariat = sign_in(app.test_client(), demo, SECRETARIAT)

    assert post(secretariat, f"/outputs/{supply}/detach", {"room_id": str(minerals)}).status_code == 302

    [entry] = audit_entries(demo, "output.detach")
    assert entry.allowed and entry.object_id == str(supply)
    assert output_count(demo) == len(OUTPUTS)
    with demo.session_scope() as session:
        [attachment] = session.scalars(
            select(OutputAttachment).where(OutputAttachment.output_id == supply)
        ).all()
        assert attachment.detached_at is not None and attachment.attached_at is not None
    assert member.get(f"/outputs/{supply}").status_code == 404
    assert OUTPUTS[0].title not in text(member.get(f"/rooms/{minerals}"))
    assert sign_in(app.test_client(), demo, ANALYST).get(f"/outputs/{supply}").status_code == 200


# --- reading ------------------------------------------------------------------------------------------


def test_room_members_see_attached_outputs_and_others_do_not(app: Flask, demo: Database) -> None:
    minerals = room_id(demo, "重要鉱物分科会")
    supply = demo_output(demo, 0)
    member = sign_in(app.test_client(), demo, PLAIN_MEMBER)
    room_page = text(member.get(f"/rooms/{minerals}"))
    assert OUTPUTS[0].title in room_page and OUTPUTS[2].title not in room_page  # the offer is not shown
    assert OUTPUTS[0].title in text(member.get("/outputs"))

    outsider = sign_in(app.test_client(), demo, OUTSIDER)
    assert outsider.get(f"/outputs/{supply}").status_code == 404
    assert OUTPUTS[0].title not in text(outsider.get("/outputs"))
    for email in ("matsumoto@cao.example.jp", "inoue@cao.example.jp"):  # auditor, admin: no content
        assert sign_in(app.test_client(), demo, email).get(f"/outputs/{supply}").status_code == 404


def test_a_reader_without_clearance_for_the_level_gets_404(app: Flask, demo: Database) -> None:
    minerals = room_id(demo, "重要鉱物分科会")
    risk = demo_output(demo, 1)  # CONFIDENTIAL
    secretariat = sign_in(app.test_client(), demo, SECRETARIAT)
    assert post(secretariat, f"/outputs/{risk}/attach", {"room_id": str(minerals)}).status_code == 302

    observer = sign_in(app.test_client(), demo, OBSERVER)  # RESTRICTED clearance
    assert observer.get(f"/outputs/{risk}").status_code == 404
    assert OUTPUTS[1].title not in text(observer.get(f"/rooms/{minerals}"))
    assert OUTPUTS[1].title not in text(observer.get("/outputs"))
    denials = [e for e in audit_entries(demo, "output.read") if not e.allowed]
    assert [e.reason for e in denials] == ["CLEARANCE_TOO_LOW"]
    # A member of the same room cleared for it reads it, and the read is recorded (CONFIDENTIAL).
    assert sign_in(app.test_client(), demo, PLAIN_MEMBER).get(f"/outputs/{risk}").status_code == 200
    assert any(e.allowed and e.object_id == str(risk) for e in audit_entries(demo, "output.read"))


# --- at rest and on the page --------------------------------------------------------------------------


def test_no_output_text_reaches_the_database_in_the_clear(
    app: Flask, demo: Database, database_url: str
) -> None:
    require_raw_reader(database_url)
    values = {
        "title": japanese_marker(),
        "summary": ascii_marker(),
        "method": japanese_marker(),
        "data sources": ascii_marker(),
        "authors": japanese_marker(),
        "material": japanese_marker(),
        "country": ascii_marker(),
        "reason": japanese_marker(),
    }
    client = sign_in(app.test_client(), demo, ANALYST)
    form = publish_form(
        title=f"題 {values['title']}",
        summary=f"本文 {values['summary']}",
        method=values["method"],
        data_sources=values["data sources"],
        authors=values["authors"],
        data_csv=f"{values['material']},精錬,{values['country']},60\n",
        level=str(int(Level.CONFIDENTIAL)),
        reason=values["reason"],
    )
    response = post(client, "/outputs/new", form, "/outputs/new")
    assert response.status_code == 302, text(response)[:2000]

    raw = raw_database_bytes(database_url)

    assert ANALYST.encode() in raw  # not vacuous: this is the database
    assert leaks(raw, values) == []
    page = text(client.get(response.headers["Location"]))
    for value in values.values():
        assert value in page


def test_hostile_names_come_out_inert(app: Flask, demo: Database) -> None:
    client = sign_in(app.test_client(), demo, ANALYST)
    hostile = '<script>alert("x")</script>'
    attribute = '" onmouseover="alert(1)'
    form = publish_form(
        title=f"XSS {hostile}",
        summary=f"<img src=x onerror=alert(1)> {hostile}",
        data_csv=f'"{hostile}",精錬,"{attribute}",70\n"<svg onload=alert(1)>",採掘,中国,50\n',
    )
    response = post(client, "/outputs/new", form, "/outputs/new")
    assert response.status_code == 302, text(response)[:2000]

    page = text(client.get(response.headers["Location"]))

    assert "<script>alert" not in page
    assert "<svg onload" not in page and "<img src=x" not in page
    assert 'onmouseover="alert' not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "&lt;svg onload=alert(1)&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # Markdown shows raw HTML as text
    listing = text(client.get("/outputs"))
    assert "<script>alert" not in listing


def test_only_analyses_with_tables_carry_one(app: Flask, demo: Database) -> None:
    client = sign_in(app.test_client(), demo, ANALYST)
    response = post(client, "/outputs/new", publish_form(kind="policy_brief"), "/outputs/new")
    assert response.status_code == 400
    message = "Only supply-chain analyses and risk assessments carry a data table."
    assert translated(app, message) in text(response)
    assert output_count(demo) == len(OUTPUTS)
