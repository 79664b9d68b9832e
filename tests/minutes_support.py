"""Helpers for the minutes tests: the demo minutes, signed-in clients, posting forms like the browser."""

from __future__ import annotations

import re
import uuid

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from portal.db import Database
from portal.meetings.models import Attendance, AttendanceResponse, Meeting
from portal.minutes.models import Minutes
from portal.security.audit_models import AuditEntry
from tests.conftest import csrf_token, sign_in
from tests.web.support import enrol, text, translated

SATO = "sato@cao.example.jp"
TANAKA = "tanaka@meti.example.jp"
ITO = "ito@toho-raremetals.example.jp"
YOSHIDA = "yoshida@icess.example.jp"
KOBAYASHI = "kobayashi@toto-u.example.jp"
YAMADA = "yamada@meti.example.jp"
AUDITOR = "matsumoto@cao.example.jp"
TAKAHASHI = "takahashi@mic.example.jp"

WITHHELD = "This portion is withheld: you are not cleared to read it"
#: Demo accounts that chose the English interface.
ENGLISH = frozenset({KOBAYASHI, TAKAHASHI})


def language(email: str) -> str:
    return "en" if email in ENGLISH else "ja"


PORTION_ID = re.compile(r'id="portion-([0-9a-f-]{36})"')
VERSION_INPUT = re.compile(r'name="base_version" type="hidden" value="(\d+)"')


def demo_minutes_meeting(database: Database) -> uuid.UUID:
    """The past minerals meeting (第4回), whose minutes the demo publishes."""
    with database.session_scope() as session:
        meeting_id = session.scalar(
            select(Minutes.meeting_id)
            .join(Meeting, Meeting.id == Minutes.meeting_id)
            .order_by(Meeting.starts_at)
        )
        assert meeting_id is not None
        return meeting_id


def upcoming_minerals_meeting(database: Database) -> uuid.UUID:
    """第5回 (no minutes yet): the minerals meeting that starts last."""
    with database.session_scope() as session:
        past = demo_minutes_meeting(database)
        room_id = session.scalar(select(Meeting.subcommittee_id).where(Meeting.id == past))
        meeting_id = session.scalar(
            select(Meeting.id).where(Meeting.subcommittee_id == room_id).order_by(Meeting.starts_at.desc())
        )
        assert meeting_id is not None and meeting_id != past
        return meeting_id


def add_attendee(database: Database, meeting_id: uuid.UUID, email: str, present: bool | None = True) -> None:
    from portal.accounts.models import User

    with database.session_scope() as session:
        user = session.scalar(select(User).where(User.email == email))
        assert user is not None
        row = session.scalar(
            select(Attendance).where(Attendance.meeting_id == meeting_id, Attendance.user_id == user.id)
        )
        if row is None:  # the attendance demo answered for some members already
            row = Attendance(meeting_id=meeting_id, user_id=user.id)
            session.add(row)
        row.response = AttendanceResponse.ATTEND
        row.present = present


def browser(app: Flask, database: Database, email: str) -> FlaskClient:
    client = app.test_client()
    if email == YAMADA:  # has not set up MFA yet: enrols on first sign-in
        enrol(client, email)
        return client
    return sign_in(client, database, email)


def minutes_url(meeting_id: uuid.UUID, tail: str = "") -> str:
    return f"/meetings/{meeting_id}/minutes{tail}"


def page_version(client: FlaskClient, meeting_id: uuid.UUID) -> str:
    """The version of the minutes the page shows (what its buttons send)."""
    match = VERSION_INPUT.search(text(client.get(minutes_url(meeting_id))))
    assert match, "no step button on the minutes page"
    return match.group(1)


def post(client: FlaskClient, url: str, data: dict[str, object] | None = None) -> TestResponse:
    return client.post(url, data={"csrf_token": csrf_token(client, "/account"), **(data or {})})


def step(client: FlaskClient, meeting_id: uuid.UUID, name: str) -> TestResponse:
    """Press a workflow button (circulate, approve, revise, publish, correct) as the page shows it."""
    return post(
        client, minutes_url(meeting_id, f"/{name}"), {"base_version": page_version(client, meeting_id)}
    )


def portion_form(heading: str, body: str, level: int = 1, **marking: object) -> dict[str, object]:
    return {"heading": heading, "body": body, "level": level, "release": "GREEN", **marking}


def add_portion(client: FlaskClient, meeting_id: uuid.UUID, form: dict[str, object]) -> TestResponse:
    return post(
        client,
        minutes_url(meeting_id, "/portions/new"),
        {"base_version": page_version(client, meeting_id), **form},
    )


def portion_ids(client: FlaskClient, meeting_id: uuid.UUID, query: str = "") -> list[str]:
    """Portion ids in reading order, as the page lists them to this reader (withheld ones included)."""
    return PORTION_ID.findall(text(client.get(minutes_url(meeting_id) + query)))


def last_audit(database: Database, action: str) -> AuditEntry:
    with database.session_scope() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq.desc())
        ).first()
        assert entry is not None, action
        session.expunge(entry)
        return entry


def assert_message(app: Flask, response: TestResponse, message: str) -> None:
    """The message, in the reader's language (小林 and 高橋 read English, everyone else Japanese)."""
    page = text(response)
    assert translated(app, message, "ja") in page or translated(app, message, "en") in page, page[:3000]
