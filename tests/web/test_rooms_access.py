"""Rooms: every demo user sees exactly their own rooms; any other room is indistinguishable from none."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from portal.accounts.models import User
from portal.db import Database, utcnow
from portal.demo import ROOMS, USERS, DemoUser
from portal.rooms.models import Membership, Subcommittee
from tests.conftest import sign_in
from tests.web.support import page_shape, text, translated

ENROLLED = [user for user in USERS if user.enrolled]
MEMBER = "tanaka@meti.example.jp"
NO_ROOMS = "You do not belong to any subcommittee yet. The secretariat adds members to rooms."
ROOM_LINK = re.compile(r'href="/rooms/([0-9a-f-]{36})"')


def _room_ids(database: Database) -> dict[str, uuid.UUID]:
    """Demo room key -> id."""
    with database.session_scope() as session:
        by_name = {
            name: room_id for name, room_id in session.execute(select(Subcommittee.name_ja, Subcommittee.id))
        }
    return {room.key: by_name[room.name_ja] for room in ROOMS}


def _membership_of(database: Database, email: str, room_id: uuid.UUID) -> uuid.UUID:
    with database.session_scope() as session:
        membership_id = session.scalar(
            select(Membership.id)
            .join(User, User.id == Membership.user_id)
            .where(User.email == email, Membership.subcommittee_id == room_id)
        )
    assert membership_id is not None
    return membership_id


def test_every_enrolled_demo_user_is_covered() -> None:
    assert len(ENROLLED) == len(USERS) - 1
    assert {"matsumoto@cao.example.jp", "inoue@cao.example.jp"} <= {user.email for user in ENROLLED}


def _check_rooms_of(app: Flask, client: FlaskClient, spec: DemoUser, ids: dict[str, uuid.UUID]) -> None:
    """Signed in as ``spec``: the overview lists exactly their rooms, which open; every other room is a 404
    exactly like a room that does not exist, and shows nothing of the room."""
    who = spec.email
    mine = {key for key, _role in spec.rooms}

    overview = client.get("/")

    assert overview.status_code == 200, who
    page = text(overview)
    assert set(ROOM_LINK.findall(page)) == {str(ids[key]) for key in mine}, who
    for room in ROOMS:
        if room.key in mine:
            assert (room.name_en if spec.locale == "en" else room.name_ja) in page, (who, room.key)
        else:
            assert room.name_ja not in page, (who, room.key)
            assert room.name_en not in page, (who, room.key)
    if not mine:
        assert translated(app, NO_ROOMS, spec.locale) in page, who

    nowhere = client.get(f"/rooms/{uuid.uuid4()}")
    assert nowhere.status_code == 404, who
    for room in ROOMS:
        response = client.get(f"/rooms/{ids[room.key]}")
        if room.key in mine:
            assert response.status_code == 200, (who, room.key)
            assert (room.name_en if spec.locale == "en" else room.name_ja) in text(response), (who, room.key)
        else:
            assert response.status_code == 404, (who, room.key)
            assert page_shape(response) == page_shape(nowhere), (who, room.key)
            for leaked in (room.name_ja, room.name_en, room.description_ja[:20], room.description_en[:40]):
                assert leaked not in text(response), (who, room.key)


def test_every_enrolled_demo_user_sees_exactly_their_rooms(app: Flask, demo: Database) -> None:
    ids = _room_ids(demo)
    for spec in ENROLLED:
        _check_rooms_of(app, sign_in(app.test_client(), demo, spec.email), spec, ids)


@pytest.mark.parametrize(
    "email", ["matsumoto@cao.example.jp", "inoue@cao.example.jp"], ids=["auditor", "admin"]
)
def test_auditor_and_administrator_see_no_rooms(
    app: Flask, client: FlaskClient, demo: Database, email: str
) -> None:
    sign_in(client, demo, email)

    page = text(client.get("/"))

    assert ROOM_LINK.findall(page) == []
    assert translated(app, NO_ROOMS) in page
    for room_id in _room_ids(demo).values():
        assert client.get(f"/rooms/{room_id}").status_code == 404


def test_an_ended_membership_closes_the_room(client: FlaskClient, demo: Database) -> None:
    ids = _room_ids(demo)
    sign_in(client, demo, MEMBER)
    assert client.get(f"/rooms/{ids['minerals']}").status_code == 200
    nowhere = client.get(f"/rooms/{uuid.uuid4()}")
    with demo.session_scope() as session:
        session.execute(
            update(Membership)
            .where(Membership.id == _membership_of(demo, MEMBER, ids["minerals"]))
            .values(valid_to=utcnow() - timedelta(minutes=1))
        )

    response = client.get(f"/rooms/{ids['minerals']}")

    assert response.status_code == 404
    assert page_shape(response) == page_shape(nowhere)
    overview = text(client.get("/"))
    assert "重要鉱物分科会" not in overview
    assert str(ids["minerals"]) not in overview
    assert client.get(f"/rooms/{ids['shipbuilding']}").status_code == 200  # the other membership stands


def test_a_membership_that_has_not_started_does_not_open_the_room(
    client: FlaskClient, demo: Database
) -> None:
    ids = _room_ids(demo)
    with demo.session_scope() as session:
        session.execute(
            update(Membership)
            .where(Membership.id == _membership_of(demo, MEMBER, ids["minerals"]))
            .values(valid_from=utcnow() + timedelta(days=1))
        )
    sign_in(client, demo, MEMBER)

    assert client.get(f"/rooms/{ids['minerals']}").status_code == 404
    assert "重要鉱物分科会" not in text(client.get("/"))


def test_an_archived_room_is_closed_to_its_members(app: Flask, demo: Database) -> None:
    ids = _room_ids(demo)
    with demo.session_scope() as session:
        session.execute(
            update(Subcommittee)
            .where(Subcommittee.id == ids["minerals"])
            .values(archived_at=utcnow() - timedelta(minutes=1))
        )

    for email in ("tanaka@meti.example.jp", "sato@cao.example.jp", "ito@toho-raremetals.example.jp"):
        client = sign_in(app.test_client(), demo, email)
        nowhere = client.get(f"/rooms/{uuid.uuid4()}")
        response = client.get(f"/rooms/{ids['minerals']}")
        assert response.status_code == 404, email
        assert page_shape(response) == page_shape(nowhere), email
        assert "重要鉱物分科会" not in text(client.get("/")), email


def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient, demo: Database) -> None:
    ids = _room_ids(demo)
    for path in ("/", "/account", f"/rooms/{ids['minerals']}", f"/rooms/{uuid.uuid4()}"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].endswith("/login"), path
        assert "重要鉱物分科会" not in text(response)


def test_a_malformed_room_id_is_not_found(client: FlaskClient, demo: Database) -> None:
    sign_in(client, demo, MEMBER)
    for path in ("/rooms/not-a-uuid", "/rooms/1", "/rooms/' OR 1=1 --"):
        assert client.get(path).status_code == 404, path
