"""The shortest path through the foundation: sign in with TOTP and see one's rooms."""

from __future__ import annotations

from flask.testing import FlaskClient

from portal.db import Database
from tests.conftest import sign_in


def test_member_signs_in_and_sees_rooms(client: FlaskClient, demo: Database) -> None:
    sign_in(client, demo, "tanaka@meti.example.jp")
    page = client.get("/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "重要鉱物分科会" in text
    assert "造船分科会" in text
    assert "AGI分科会" not in text


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}
