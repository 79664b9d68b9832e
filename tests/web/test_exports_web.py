"""Exports over HTTP, each made for its reader (issue 6, "Exports"): two members with different clearances
export the same published minutes; each copy holds exactly what its reader may read, with the withheld
portions replaced by the notice, the copy's own banner at the top and bottom of every page, and the reader's
watermark on every page. Release markings (TLP) refuse what a reader may read but not take out; the pack
follows the same rules; every copy is registered and verifies."""

from __future__ import annotations

import io
import json
import re
import subprocess
import uuid
from pathlib import Path

import docx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.accounts.models import User
from portal.db import Database
from portal.enums import GOV_ONLY_CODE, Level, ReleaseMarking
from portal.exports import service as exports
from portal.exports.models import ExportRecord
from portal.meetings.forms import PartMarkingInput
from portal.minutes import drafting, workflow
from portal.minutes.drafting import PortionInput
from portal.minutes.service import minutes_of
from portal.security.audit import Actor
from portal.security.audit_models import AuditEntry
from tests.conftest import sign_in, user_by_email
from tests.exports_support import PartSpec, body_of
from tests.meetings_support import schedule_meeting, subject_of
from tests.minutes_support import add_attendee

SECRETARIAT = "sato@cao.example.jp"
CHAIR = "tanaka@meti.example.jp"
OBSERVER = "kobayashi@toto-u.example.jp"
COMPANY = "ito@toho-raremetals.example.jp"
NOTICE = "この部分は閲覧権限外のため省略されています"


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


#: (marker, heading, level, caveats, release, named readers): long bodies, so the copies run to pages.
PORTIONS = [
    ("EXP-P01", "開会", Level.PUBLIC, (), ReleaseMarking.CLEAR, ()),
    ("EXP-R02", "輸出管理措置の影響", Level.RESTRICTED, (), ReleaseMarking.GREEN, ()),
    ("EXP-C03", "国家備蓄の放出", Level.CONFIDENTIAL, (GOV_ONLY_CODE,), ReleaseMarking.GREEN, ()),
    ("EXP-R04", "需要家の在庫", Level.RESTRICTED, (), ReleaseMarking.GREEN, ()),
    ("EXP-S05", "同盟国からの通報", Level.CESI, (), ReleaseMarking.RED, (CHAIR,)),
    ("EXP-C06", "代替調達先", Level.CONFIDENTIAL, (), ReleaseMarking.GREEN, ()),
    ("EXP-R07", "今後の進め方", Level.RESTRICTED, (), ReleaseMarking.GREEN, ()),
]


def _body(marker: str, heading: str, level: Level) -> str:
    return body_of(PartSpec(marker, heading, level), sentences=40)


def publish_minutes(demo: Database, portions: list[tuple[object, ...]] = PORTIONS) -> uuid.UUID:
    """A meeting whose minutes the secretariat drafts, circulates, the chair approves, and sato publishes
    (through the services the pages call)."""
    with demo.session_scope() as session:
        meeting_id = schedule_meeting(session, title="輸出テスト会合")
    for email in (CHAIR, OBSERVER, COMPANY):
        add_attendee(demo, meeting_id, email)
    with demo.session_scope() as session:
        for author in {SECRETARIAT, CHAIR}:
            subject_of(session, author)  # both exist
        drafting.start_minutes(session, subject_of(session, SECRETARIAT), meeting_id)
    for marker, heading, level, caveats, release, readers in portions:
        author = CHAIR if level == Level.CESI else SECRETARIAT
        with demo.session_scope() as session:
            minutes = minutes_of(session, meeting_id)
            assert minutes is not None
            reader_ids = frozenset(
                session.scalars(select(User.id).where(User.email.in_(readers))).all()  # type: ignore[arg-type]
            )
            marking = PartMarkingInput(
                level=level,  # type: ignore[arg-type]
                release=release,  # type: ignore[arg-type]
                caveat_codes=frozenset(caveats),  # type: ignore[arg-type]
                reader_ids=reader_ids,
                release_organization_ids=frozenset(),
                reason="テストのための指定" if level >= Level.CONFIDENTIAL else None,  # type: ignore[operator]
            )
            drafting.add_portion(
                session,
                subject_of(session, author),
                meeting_id,
                minutes.version,
                PortionInput(str(heading), _body(str(marker), str(heading), level), marking),  # type: ignore[arg-type]
            )
    for step, email in (
        (workflow.circulate, SECRETARIAT),
        (workflow.approve, CHAIR),
        (workflow.publish, SECRETARIAT),
    ):
        with demo.session_scope() as session:
            minutes = minutes_of(session, meeting_id)
            assert minutes is not None
            step(session, subject_of(session, email), meeting_id, minutes.version)
    return meeting_id


def pdf_pages(content: bytes, directory: Path, name: str) -> list[str]:
    path = directory / name
    path.write_bytes(content)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))  # type: ignore[union-attr]
    return [
        subprocess.run(
            ["pdftotext", "-layout", "-nodiag", "-f", str(n), "-l", str(n), str(path), "-"],
            capture_output=True, text=True, check=True,
        ).stdout
        for n in range(1, pages + 1)
    ]  # fmt: skip


def page_body(pages: list[str]) -> str:
    """The copy's running text: each page without its banner line on top and its last three lines (banner,
    watermark, page number), squeezed of white space so that a paragraph broken over pages reads whole."""
    kept = []
    for page in pages:
        lines = [line for line in page.splitlines() if line.strip()]
        kept.extend(lines[1:-3])
    return squeeze("".join(kept))


def download(client: FlaskClient, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data()


def included_markers(reader: str) -> set[str]:
    readable = {
        CHAIR: {"EXP-P01", "EXP-R02", "EXP-C03", "EXP-R04", "EXP-S05", "EXP-C06", "EXP-R07"},
        OBSERVER: {"EXP-P01", "EXP-R02", "EXP-R04", "EXP-R07"},
    }
    return readable[reader]


@pytest.fixture
def published(demo: Database) -> uuid.UUID:
    return publish_minutes(demo)


@pytest.mark.parametrize(
    ("email", "banner_word", "not_on_banner"),
    [(CHAIR, "重要経済安保情報", None), (OBSERVER, "取扱注意", "秘")],
)
def test_each_pdf_holds_what_its_reader_may_read_with_banner_and_watermark_on_every_page(
    app: Flask, demo: Database, published: uuid.UUID, tmp_path: Path, email: str, banner_word: str,
    not_on_banner: str | None,
) -> None:  # fmt: skip
    client = sign_in(app.test_client(), demo, email)
    content = download(client, f"/meetings/{published}/minutes/export.pdf")
    pages = pdf_pages(content, tmp_path, "copy.pdf")
    assert len(pages) >= 3
    user = user_by_email(demo, email)
    with demo.session_scope() as session:
        record = session.scalars(select(ExportRecord).where(ExportRecord.reader_id == user.id)).one()
        export_id = str(record.id)
        reader = session.get(User, user.id)
        assert reader is not None
        organisation = reader.organization.name(reader.locale)  # the copy is in the reader's language
    text = squeeze("".join(pages))
    expected = included_markers(email)
    for marker, *_rest in PORTIONS:
        assert (marker in text) == (marker in expected), marker
    assert text.count(NOTICE) == len(PORTIONS) - len(expected)
    for number, page in enumerate(pages, start=1):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        # The banner is the first line, and at the bottom above the watermark line and the page number.
        top, bottom = lines[0], lines[-3]
        assert export_id in lines[-2] and re.fullmatch(rf"{number}\s*/\s*{len(pages)}", lines[-1])
        for edge in (top, bottom):
            assert banner_word in edge, (number, edge)
            if not_on_banner:
                assert not_on_banner not in edge.replace(banner_word, ""), (number, edge)
        flat = squeeze(page)
        assert export_id in flat, number
        assert squeeze(user.display_name) in flat and squeeze(organisation) in flat, number


def test_the_two_copies_differ_exactly_by_the_withheld_portions(
    app: Flask, demo: Database, published: uuid.UUID, tmp_path: Path
) -> None:
    texts = {}
    for email in (CHAIR, OBSERVER):
        client = sign_in(app.test_client(), demo, email)
        content = download(client, f"/meetings/{published}/minutes/export.pdf")
        texts[email] = page_body(pdf_pages(content, tmp_path, f"{email}.pdf"))
    found = {email: {m for m, *_ in PORTIONS if m in text} for email, text in texts.items()}
    assert found[CHAIR] - found[OBSERVER] == {"EXP-C03", "EXP-S05", "EXP-C06"}
    assert found[OBSERVER] <= found[CHAIR]
    # Each included portion's whole text is in both copies alike.
    for marker, heading, level, *_ in PORTIONS:
        if marker in found[OBSERVER]:
            body = squeeze(_body(marker, heading, level))  # type: ignore[arg-type]
            assert body in texts[CHAIR] and body in texts[OBSERVER], marker


def test_each_docx_holds_what_its_reader_may_read_with_banner_and_watermark_in_header_and_footer(
    app: Flask, demo: Database, published: uuid.UUID
) -> None:
    for email, banner_word in ((CHAIR, "重要経済安保情報"), (OBSERVER, "取扱注意")):
        client = sign_in(app.test_client(), demo, email)
        opened = docx.Document(io.BytesIO(download(client, f"/meetings/{published}/minutes/export.docx")))
        body = squeeze("".join(p.text for p in opened.paragraphs))
        expected = included_markers(email)
        for marker, *_rest in PORTIONS:
            assert (marker in body) == (marker in expected), (email, marker)
        assert body.count(NOTICE) == len(PORTIONS) - len(expected)
        user = user_by_email(demo, email)
        for section in opened.sections:
            header = squeeze("".join(p.text for p in section.header.paragraphs))
            footer = squeeze("".join(p.text for p in section.footer.paragraphs))
            assert banner_word in header and banner_word in footer
            assert squeeze(user.display_name) in header + footer
        if email == OBSERVER:
            assert "秘" not in header.replace("取扱注意", "") and "重要経済安保情報" not in header


def test_markdown_copy_and_every_copy_verifies(app: Flask, demo: Database, published: uuid.UUID) -> None:
    client = sign_in(app.test_client(), demo, OBSERVER)
    markdown = download(client, f"/meetings/{published}/minutes/export.md").decode()
    assert "EXP-R02" in markdown and "EXP-C03" not in markdown and NOTICE in markdown
    with demo.session_scope() as session:
        result = exports.verify(session, markdown.encode(), Actor.system())
        assert result.unaltered
        altered = exports.verify(session, markdown.replace("EXP-R02", "EXP-X02").encode(), Actor.system())
        assert not altered.unaltered and altered.export_id == result.export_id
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "export.create").order_by(AuditEntry.seq.desc())
        ).first()
        assert entry is not None and entry.allowed
        assert "EXP-" not in str(entry.detail) and result.sha256 in str(entry.detail)


def test_drafts_are_not_exported(app: Flask, demo: Database) -> None:
    with demo.session_scope() as session:
        meeting_id = schedule_meeting(session, title="草案のみ")
        drafting.start_minutes(session, subject_of(session, SECRETARIAT), meeting_id)
    client = sign_in(app.test_client(), demo, SECRETARIAT)
    assert client.get(f"/meetings/{meeting_id}/minutes/export.pdf").status_code == 409


def test_release_markings_refuse_the_export_with_the_reason(app: Flask, demo: Database) -> None:
    # 佐藤 (内閣府) writes an AMBER+STRICT portion: people of 内閣府 may take it out; 伊藤 (a company) reads
    # it but may not export it.
    portions = [
        ("EXP-R10", "概要", Level.RESTRICTED, (), ReleaseMarking.GREEN, ()),
        ("EXP-R11", "内閣府限り", Level.RESTRICTED, (), ReleaseMarking.AMBER_STRICT, ()),
    ]
    meeting_id = publish_minutes(demo, portions)
    refused = sign_in(app.test_client(), demo, COMPANY).get(f"/meetings/{meeting_id}/minutes/export.pdf")
    assert refused.status_code == 403
    page = refused.get_data(as_text=True)
    assert "AMBER+STRICT" in page and "EXP-R11" not in page and "内閣府限り" not in page
    with demo.session_scope() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert entry is not None and not entry.allowed and entry.reason == "RELEASE_RESTRICTED"
        assert json.loads(entry.detail)["positions"] == [2]
        assert session.scalar(select(ExportRecord).where(ExportRecord.meeting_id == meeting_id)) is None
    # The secretariat's own organisation may take it out.
    download(sign_in(app.test_client(), demo, SECRETARIAT), f"/meetings/{meeting_id}/minutes/export.pdf")


def test_the_pack_holds_agenda_findings_actions_and_linked_text_for_its_reader(
    app: Flask, demo: Database, tmp_path: Path
) -> None:
    from tests.minutes_support import demo_minutes_meeting

    meeting_id = demo_minutes_meeting(demo)  # 第4回: published agenda, findings, action items
    client = sign_in(app.test_client(), demo, OBSERVER)
    pages = pdf_pages(download(client, f"/meetings/{meeting_id}/pack.pdf"), tmp_path, "pack.pdf")
    text = page_body(pages)
    assert NOTICE in text  # the CONFIDENTIAL and GOV_ONLY agenda item and finding are withheld
    assert "国家備蓄" not in text
    assert all("RESTRICTED" in page.splitlines()[0] for page in pages if page.strip())
    # The secretariat's copy holds what 小林's withholds.
    content = download(sign_in(app.test_client(), demo, SECRETARIAT), f"/meetings/{meeting_id}/pack.pdf")
    full = page_body(pdf_pages(content, tmp_path, "full.pdf"))
    assert "国家備蓄" in full and full.count(NOTICE) < text.count(NOTICE)
    for fmt in ("docx", "md"):
        download(client, f"/meetings/{meeting_id}/pack.{fmt}")


def test_the_pack_is_refused_to_a_reader_outside_an_amber_strict_origin(app: Flask, demo: Database) -> None:
    from tests.minutes_support import demo_minutes_meeting

    meeting_id = demo_minutes_meeting(demo)
    refused = sign_in(app.test_client(), demo, CHAIR).get(f"/meetings/{meeting_id}/pack.pdf")
    assert refused.status_code == 403
    assert "AMBER+STRICT" in refused.get_data(as_text=True)


@pytest.mark.parametrize(
    "email", ["takahashi@mic.example.jp", "matsumoto@cao.example.jp", "inoue@cao.example.jp"]
)
def test_people_outside_the_meeting_get_nothing(
    app: Flask, demo: Database, published: uuid.UUID, email: str
) -> None:
    client = sign_in(app.test_client(), demo, email)
    for url in (f"/meetings/{published}/minutes/export.pdf", f"/meetings/{published}/pack.pdf"):
        assert client.get(url).status_code == 404
    with demo.session_scope() as session:
        assert session.scalar(select(ExportRecord).where(ExportRecord.meeting_id == published)) is None


def test_an_unknown_format_is_not_found(app: Flask, demo: Database, published: uuid.UUID) -> None:
    client = sign_in(app.test_client(), demo, CHAIR)
    assert client.get(f"/meetings/{published}/minutes/export.exe").status_code == 404
