"""Moving between a meeting's pages: the agenda, attendance, findings and minutes pages show the same tab bar,
every tab leads to a page the member may open, the current tab is marked, and the breadcrumb leads back to
the meeting and its room."""

from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.db import Database
from tests.conftest import sign_in
from tests.followup_support import MINERALS, past_minerals_meeting, room_meetings
from tests.meetings_support import room_by_name
from tests.web.support import text

ITO = "ito@toho-raremetals.example.jp"  # member, CESI
KOBAYASHI = "kobayashi@toto-u.example.jp"  # observer, RESTRICTED, English

#: The sections in their order: (key, the path of the section's page under /meetings/<id>).
SECTIONS = [("agenda", ""), ("attendance", "/attendance"), ("findings", "/findings"), ("minutes", "/minutes")]

_NAV = re.compile(r'<nav class="tabs"[^>]*data-testid="meeting-sections">(.*?)</nav>', re.S)
_TAB = re.compile(r'<a href="([^"]+)" data-section="([a-z]+)"( aria-current="(page|true)")?>')
_BREADCRUMB = re.compile(r'<nav class="breadcrumb"[^>]*>(.*?)</nav>', re.S)
_LINK = re.compile(r'<a href="([^"]+)">')


def tabs_of(page: str) -> list[tuple[str, str, str | None]]:
    """(href, section, aria-current) of each tab of the page's one tab bar."""
    bars = _NAV.findall(page)
    assert len(bars) == 1, f"{len(bars)} tab bars"
    return [(href, key, current or None) for href, key, _attribute, current in _TAB.findall(bars[0])]


def breadcrumb_links(page: str) -> list[str]:
    crumbs = _BREADCRUMB.findall(page)
    assert len(crumbs) == 1
    return _LINK.findall(crumbs[0])


def minerals_room(database: Database) -> uuid.UUID:
    with database.session_scope() as session:
        return room_by_name(session, "Critical Minerals Subcommittee").id


@pytest.mark.parametrize("email", [ITO, KOBAYASHI])
def test_every_tab_of_every_meeting_page_leads_to_an_open_page(
    app: Flask, demo: Database, email: str
) -> None:
    client = sign_in(app.test_client(), demo, email)
    room = minerals_room(demo)
    meetings = room_meetings(demo, MINERALS)
    assert len(meetings) >= 2  # the past meeting (minutes published) and the upcoming one
    for meeting_id in meetings:
        base = f"/meetings/{meeting_id}"
        expected_tabs = [(f"{base}{suffix}", key) for key, suffix in SECTIONS]
        for key, suffix in SECTIONS:
            page = client.get(f"{base}{suffix}")
            assert page.status_code == 200, (email, key, page.status_code)
            html = text(page)
            tabs = tabs_of(html)
            assert [(href, section) for href, section, _current in tabs] == expected_tabs
            # This section's tab, and no other, is marked as the current page.
            assert [(section, current) for _href, section, current in tabs if current] == [(key, "page")]
            for href, section, _current in tabs:
                assert client.get(href).status_code == 200, (email, key, section)
            assert_breadcrumb_leads_back(client, html, meeting_id, room, own_page=not suffix)


def assert_breadcrumb_leads_back(
    client: FlaskClient, html: str, meeting_id: uuid.UUID, room: uuid.UUID, *, own_page: bool
) -> None:
    links = breadcrumb_links(html)
    assert f"/rooms/{room}" in links
    if not own_page:  # the meeting's page names the meeting as the current crumb, without a link
        assert f"/meetings/{meeting_id}" in links
    for link in links:
        assert client.get(link).status_code == 200, link


def test_pages_under_a_section_mark_their_section(app: Flask, demo: Database) -> None:
    """The agenda's revision history and the minutes' history sit under their tab (aria-current="true",
    not "page": the tab leads elsewhere) and lead back to the meeting."""
    client = sign_in(app.test_client(), demo, ITO)
    meeting_id = past_minerals_meeting(demo)
    room = minerals_room(demo)
    for path, section in [
        (f"/meetings/{meeting_id}/agenda/revisions", "agenda"),
        (f"/meetings/{meeting_id}/minutes/revisions", "minutes"),
    ]:
        page = client.get(path)
        assert page.status_code == 200, path
        html = text(page)
        marked = [(key, current) for _href, key, current in tabs_of(html) if current]
        assert marked == [(section, "true")]
        assert_breadcrumb_leads_back(client, html, meeting_id, room, own_page=False)


def test_a_steward_editing_a_finding_stays_under_the_findings_tab(app: Flask, demo: Database) -> None:
    client = sign_in(app.test_client(), demo, "sato@cao.example.jp")
    meeting_id = past_minerals_meeting(demo)
    findings_page = text(client.get(f"/meetings/{meeting_id}/findings"))
    edit = re.search(rf'href="(/meetings/{meeting_id}/findings/[0-9a-f-]+/edit)"', findings_page)
    assert edit is not None
    html = text(client.get(edit.group(1)))
    assert [(key, current) for _href, key, current in tabs_of(html) if current] == [("findings", "true")]
    links = breadcrumb_links(html)
    assert f"/meetings/{meeting_id}" in links and f"/meetings/{meeting_id}/findings" in links
