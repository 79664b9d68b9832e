"""Every route declares the action it performs, and an authorization matrix holds for every route and role.

The matrix requests every (endpoint, method) of ``app.url_map`` as every demo role, with real ids from the
demo data and, for POST, a valid CSRF token and an empty or minimal body, and compares the status (and, for
redirects, where to) with an explicit table. A route added without a row in the table fails the test.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.caveats import Caveat, UserCaveat
from portal.accounts.models import Organization, User
from portal.config import PROJECT_ROOT
from portal.db import Database, utcnow
from portal.documents.models import DocumentAttachment
from portal.meetings.models import AgendaItem, Meeting
from portal.rooms.models import Membership, Subcommittee
from portal.security.web import UNDECLARED_ALLOWED, declared_action
from portal.thinktank.demo import OUTPUTS
from tests.conftest import csrf_token, document_id_by_title, output_id_by_title, sign_in
from tests.followup_support import (
    DEMO_ACTIONS,
    DEMO_FINDINGS,
    action_id_by_title,
    finding_id_by_body,
    past_minerals_meeting,
    room_meetings,
    upcoming_minerals_meeting,
)
from tests.risks_support import proposal_id_by_name, risk_id_by_title
from tests.situation_support import SOURCING, STOCKPILE_MEASURE, countermeasure_id
from tests.web.support import text

#: Endpoints that act before anyone is signed in; they may be declared too (and are).
SIGN_IN_ENDPOINTS = frozenset(
    {"accounts.login", "accounts.second_factor", "accounts.enrol", "accounts.accept_invitation"}
)
IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})


def _routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - IGNORED_METHODS
    }


def test_every_route_declares_its_action(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    offenders = sorted(
        endpoint
        for endpoint in endpoints - UNDECLARED_ALLOWED
        if not declared_action(app, endpoint)  # None, or an empty declaration
    )
    if offenders:
        print("routes without a declared action (@performs):", *offenders, sep="\n  ")
    assert not offenders, f"routes without a declared action (@performs): {offenders}"
    assert endpoints >= SIGN_IN_ENDPOINTS
    assert endpoints >= UNDECLARED_ALLOWED, "UNDECLARED_ALLOWED names an endpoint that does not exist"


# --- the matrix -----------------------------------------------------------------------------------

ANONYMOUS = "anonymous"
SECRETARIAT = "secretariat"
MEMBER = "member"
ANALYST = "analyst"
AUDITOR = "auditor"
ADMIN = "admin"
ACCOUNTS = {
    SECRETARIAT: "sato@cao.example.jp",
    MEMBER: "tanaka@meti.example.jp",
    ANALYST: "yoshida@icess.example.jp",
    AUDITOR: "matsumoto@cao.example.jp",
    ADMIN: "inoue@cao.example.jp",
}
ROLES = (ANONYMOUS, *ACCOUNTS)
SIGNED_IN = tuple(ACCOUNTS)


@dataclass(frozen=True)
class Expect:
    status: int
    #: For a redirect: the path it leads to (may name ids, e.g. "/admin/users/{target_user}").
    location: str | None = None

    def __str__(self) -> str:
        return f"{self.status} -> {self.location}" if self.location else str(self.status)


OK = Expect(200)
BAD_REQUEST = Expect(400)
FORBIDDEN = Expect(403)
NOT_FOUND = Expect(404)
TO_LOGIN = Expect(302, "/login")
TO_OVERVIEW = Expect(302, "/")


def to(path: str) -> Expect:
    return Expect(302, path)


def rows(
    *,
    anonymous: Expect = TO_LOGIN,
    signed_in: Expect | None = None,
    **by_role: Expect,
) -> dict[str, Expect]:
    """Expectations for every role: ``signed_in`` for every signed-in role unless given by name."""
    expected = {ANONYMOUS: anonymous}
    for role in SIGNED_IN:
        value = by_role.get(role, signed_in)
        assert value is not None, f"no expectation for {role}"
        expected[role] = value
    return expected


def secretariat_only(secretariat: Expect) -> dict[str, Expect]:
    return rows(signed_in=FORBIDDEN, secretariat=secretariat)


def auditor_only() -> dict[str, Expect]:
    return rows(signed_in=FORBIDDEN, auditor=OK)


@dataclass(frozen=True)
class Case:
    endpoint: str
    method: str
    #: URL arguments: parameter name -> key of the ids found in the demo data.
    arguments: dict[str, str]
    expected: dict[str, Expect]
    note: str = ""


# Rooms: the minerals room has the secretariat (佐藤), the member (田中, chair) and the analyst (吉田) in it;
# the AGI room has none of the representatives. Changes made by the secretariat's POSTs hit objects no
# other row depends on (鈴木's account, membership and compartment; the shipbuilding room).
EVERYONE_NOT_FOUND = rows(anonymous=NOT_FOUND, signed_in=NOT_FOUND)
RESTRICTED_DOCUMENT = {"room_id": "minerals", "document_id": "restricted"}
MINERALS_MEMBERS = {SECRETARIAT: OK, MEMBER: OK, ANALYST: OK, AUDITOR: NOT_FOUND, ADMIN: NOT_FOUND}
# --- meetings and agenda ---
#: The minerals room's stewards (the secretariat, and the member who chairs it); the analyst is a member.
MINERALS_STEWARDS = {**MINERALS_MEMBERS, ANALYST: FORBIDDEN}
MINERALS_STEWARDS_POST = {**MINERALS_STEWARDS, SECRETARIAT: BAD_REQUEST, MEMBER: BAD_REQUEST}
AGENDA_ITEM = {"meeting_id": "meeting", "item_id": "agenda_item"}
INFRASTRUCTURE_ITEM = {"meeting_id": "infrastructure_meeting", "item_id": "infrastructure_item"}
# --- risk register ---
RISK_MEMBERS = {SECRETARIAT: OK, MEMBER: NOT_FOUND, ANALYST: OK, AUDITOR: NOT_FOUND, ADMIN: NOT_FOUND}
RISK_STEWARDS = {**RISK_MEMBERS, ANALYST: FORBIDDEN}
ROOM_PAGE = to("/rooms/{infrastructure}")


def risk_rows(base: dict[str, Expect], **overrides: Expect) -> dict[str, Expect]:
    return rows(**{**base, **overrides})


# --- policy-coordination rooms ---
SHIP_READERS = {SECRETARIAT: OK, MEMBER: OK, ANALYST: NOT_FOUND, AUDITOR: NOT_FOUND, ADMIN: NOT_FOUND}
SHIP_STEWARDS = {**SHIP_READERS, MEMBER: FORBIDDEN}
SHIP_STEWARDS_POST = {**SHIP_STEWARDS, SECRETARIAT: BAD_REQUEST}
SHIP_THEME = {"room_id": "shipbuilding", "theme_id": "ship_theme"}
SHIP_RECOMMENDATION = {"room_id": "shipbuilding", "recommendation_id": "ship_recommendation"}
AGI_RECOMMENDATION_VIA_SHIP = {"room_id": "shipbuilding", "recommendation_id": "agi_recommendation"}
# --- tabletop exercises ---
TTX_PLANNED = {"exercise_id": "ttx_planned"}
TTX_FINISHED = {"exercise_id": "ttx_finished"}
#: In the infrastructure room: 佐藤 and 吉田; 田中 (member) is not.
TTX_MEMBERS = {SECRETARIAT: OK, MEMBER: NOT_FOUND, ANALYST: OK, AUDITOR: NOT_FOUND, ADMIN: NOT_FOUND}
TTX_STEWARD_PAGE = {**TTX_MEMBERS, ANALYST: FORBIDDEN}
TTX_STEWARD_FORM = {**TTX_STEWARD_PAGE, SECRETARIAT: BAD_REQUEST}
TTX_FACILITATOR_ONLY = {**TTX_MEMBERS, SECRETARIAT: FORBIDDEN, ANALYST: FORBIDDEN}
CASES: list[Case] = [
    # signing in and out
    Case("accounts.login", "GET", {}, rows(anonymous=OK, signed_in=TO_OVERVIEW)),
    Case("accounts.login", "POST", {}, rows(anonymous=BAD_REQUEST, signed_in=TO_OVERVIEW)),
    Case("accounts.second_factor", "GET", {}, rows(signed_in=TO_LOGIN)),
    Case("accounts.second_factor", "POST", {}, rows(signed_in=TO_LOGIN)),
    Case("accounts.enrol", "GET", {}, rows(signed_in=TO_LOGIN)),
    Case("accounts.enrol", "POST", {}, rows(signed_in=TO_LOGIN)),
    Case("accounts.recovery_codes", "GET", {}, rows(signed_in=TO_OVERVIEW)),
    Case("accounts.recovery_codes", "POST", {}, rows(signed_in=TO_OVERVIEW)),
    Case("accounts.accept_invitation", "GET", {"token": "invalid_token"}, EVERYONE_NOT_FOUND),
    Case("accounts.accept_invitation", "POST", {"token": "invalid_token"}, EVERYONE_NOT_FOUND),
    Case("accounts.switch_locale", "POST", {}, rows(anonymous=TO_OVERVIEW, signed_in=TO_OVERVIEW)),
    # the account
    Case("accounts.account", "GET", {}, rows(signed_in=OK)),
    Case("accounts.revoke_other_sessions", "POST", {}, rows(signed_in=to("/account"))),
    Case("accounts.change_password", "POST", {}, rows(signed_in=BAD_REQUEST)),
    # rooms and documents
    Case("rooms.overview", "GET", {}, rows(signed_in=OK)),
    Case("rooms.room", "GET", {"room_id": "minerals"}, rows(**MINERALS_MEMBERS), "a room of theirs"),
    Case("rooms.room", "GET", {"room_id": "agi"}, rows(signed_in=NOT_FOUND), "a room they are not in"),
    Case("rooms.room", "GET", {"room_id": "no_room"}, rows(signed_in=NOT_FOUND), "no such room"),
    Case("rooms.members", "GET", {"room_id": "minerals"}, rows(**MINERALS_MEMBERS), "a room of theirs"),
    Case("rooms.members", "GET", {"room_id": "agi"}, rows(signed_in=NOT_FOUND), "a room they are not in"),
    Case("rooms.members", "GET", {"room_id": "no_room"}, rows(signed_in=NOT_FOUND), "no such room"),
    Case("documents.create", "GET", {"room_id": "minerals"}, rows(**MINERALS_MEMBERS)),
    Case(
        "documents.create",
        "POST",
        {"room_id": "minerals"},
        rows(signed_in=BAD_REQUEST, auditor=NOT_FOUND, admin=NOT_FOUND),
        "an empty form",
    ),
    Case("documents.create", "GET", {"room_id": "agi"}, rows(signed_in=NOT_FOUND)),
    Case("documents.create", "POST", {"room_id": "agi"}, rows(signed_in=NOT_FOUND)),
    Case(
        "documents.show",
        "GET",
        {"room_id": "minerals", "document_id": "restricted"},
        rows(**MINERALS_MEMBERS),
        "RESTRICTED, no caveats",
    ),
    Case(
        "documents.show",
        "GET",
        {"room_id": "minerals", "document_id": "gov_only"},
        rows(signed_in=NOT_FOUND, secretariat=OK, member=OK),
        "CONFIDENTIAL, 政府限り",
    ),
    Case(
        "documents.show",
        "GET",
        {"room_id": "minerals", "document_id": "compartment"},
        rows(signed_in=NOT_FOUND, member=OK),
        "CONFIDENTIAL, MINERALS-SUPPLY",
    ),
    Case(
        "documents.show",
        "GET",
        {"room_id": "minerals", "document_id": "cesi"},
        rows(signed_in=NOT_FOUND, member=OK),
        "CESI, named readers",
    ),
    Case(
        "documents.show",
        "GET",
        {"room_id": "agi", "document_id": "restricted"},
        rows(signed_in=NOT_FOUND),
        "a readable document under another room's address",
    ),
    Case(
        "documents.show",
        "GET",
        {"room_id": "minerals", "document_id": "no_document"},
        rows(signed_in=NOT_FOUND),
        "no such document",
    ),
    Case("documents.edit", "GET", RESTRICTED_DOCUMENT, rows(**MINERALS_MEMBERS)),
    Case(
        "documents.edit",
        "POST",
        {"room_id": "minerals", "document_id": "restricted"},
        rows(signed_in=BAD_REQUEST, auditor=NOT_FOUND, admin=NOT_FOUND),
        "an empty form",
    ),
    Case(
        "documents.edit",
        "GET",
        {"room_id": "minerals", "document_id": "gov_only"},
        rows(signed_in=NOT_FOUND, secretariat=OK, member=OK),
        "CONFIDENTIAL, 政府限り",
    ),
    Case("documents.history", "GET", RESTRICTED_DOCUMENT, rows(**MINERALS_MEMBERS)),
    Case(
        "documents.comment",
        "POST",
        RESTRICTED_DOCUMENT,
        rows(signed_in=BAD_REQUEST, auditor=NOT_FOUND, admin=NOT_FOUND),
        "an empty comment",
    ),
    Case(
        "documents.comment",
        "POST",
        {"room_id": "minerals", "document_id": "compartment"},
        rows(signed_in=NOT_FOUND, member=BAD_REQUEST),
        "a document they may not read",
    ),
    Case(
        "documents.history",
        "GET",
        {"room_id": "minerals", "document_id": "compartment"},
        rows(signed_in=NOT_FOUND, member=OK),
        "CONFIDENTIAL, MINERALS-SUPPLY",
    ),
    Case(
        "documents.restore",
        "POST",
        {"room_id": "minerals", "document_id": "restricted", "number": "version_1"},
        rows(
            signed_in=NOT_FOUND,
            secretariat=to("/rooms/{minerals}/documents/{restricted}/history"),
            member=to("/rooms/{minerals}/documents/{restricted}/history"),
            analyst=to("/rooms/{minerals}/documents/{restricted}/history"),
        ),
        "restore version 1 as a new version",
    ),
    Case(
        "documents.restore",
        "POST",
        {"room_id": "minerals", "document_id": "restricted", "number": "no_version"},
        rows(signed_in=NOT_FOUND),
        "no such version",
    ),
    # attachments and reclassification
    Case(
        "documents.attach",
        "POST",
        RESTRICTED_DOCUMENT,
        rows(signed_in=BAD_REQUEST, auditor=NOT_FOUND, admin=NOT_FOUND),
        "no file chosen",
    ),
    Case(
        "documents.attach",
        "POST",
        {"room_id": "minerals", "document_id": "compartment"},
        rows(signed_in=NOT_FOUND, member=BAD_REQUEST),
        "a document they may not read",
    ),
    Case(
        "documents.download",
        "GET",
        {"room_id": "minerals", "document_id": "restricted", "attachment_id": "attachment"},
        rows(**MINERALS_MEMBERS),
        "the demo CSV",
    ),
    Case(
        "documents.download",
        "GET",
        {"room_id": "minerals", "document_id": "gov_only", "attachment_id": "attachment"},
        rows(signed_in=NOT_FOUND),
        "an attachment under another document's address",
    ),
    Case(
        "documents.download",
        "GET",
        {"room_id": "agi", "document_id": "restricted", "attachment_id": "attachment"},
        rows(signed_in=NOT_FOUND),
        "under another room's address",
    ),
    Case(
        "documents.download",
        "GET",
        {"room_id": "minerals", "document_id": "restricted", "attachment_id": "no_document"},
        rows(signed_in=NOT_FOUND),
        "no such attachment",
    ),
    Case(
        "documents.reclassify",
        "POST",
        RESTRICTED_DOCUMENT,
        rows(signed_in=BAD_REQUEST, auditor=NOT_FOUND, admin=NOT_FOUND),
        "an empty form",
    ),
    Case(
        "documents.reclassify",
        "POST",
        {"room_id": "minerals", "document_id": "cesi"},
        rows(signed_in=NOT_FOUND, member=BAD_REQUEST),
        "CESI, named readers",
    ),
    Case(
        "documents.declassify",
        "POST",
        RESTRICTED_DOCUMENT,
        rows(signed_in=BAD_REQUEST, analyst=FORBIDDEN, auditor=NOT_FOUND, admin=NOT_FOUND),
        "an empty form; the analyst is no classification authority",
    ),
    Case(
        "documents.declassify",
        "POST",
        {"room_id": "minerals", "document_id": "cesi"},
        rows(signed_in=NOT_FOUND, member=FORBIDDEN),
        "CESI is not declassified in the portal",
    ),
    # search: every content role searches (results are filtered item by item); no-content roles are refused
    Case("search.search", "GET", {}, rows(signed_in=OK, auditor=FORBIDDEN, admin=FORBIDDEN), "no query"),
    # think-tank outputs: the supply-chain analysis is attached to the minerals room, the risk assessment
    # (CONFIDENTIAL) to the infrastructure room, the policy brief only offered to the minerals room
    Case("thinktank.index", "GET", {}, rows(signed_in=OK), "lists only readable outputs (none for some)"),
    Case("thinktank.publish", "GET", {}, rows(signed_in=FORBIDDEN, analyst=OK)),
    Case("thinktank.publish", "POST", {}, rows(signed_in=FORBIDDEN, analyst=BAD_REQUEST), "an empty form"),
    Case("thinktank.show", "GET", {"output_id": "supply_output"}, rows(**MINERALS_MEMBERS), "attached"),
    Case(
        "thinktank.show",
        "GET",
        {"output_id": "risk_output"},
        rows(signed_in=NOT_FOUND, secretariat=OK, analyst=OK),
        "CONFIDENTIAL, attached to a room the member is not in",
    ),
    Case(
        "thinktank.show",
        "GET",
        {"output_id": "brief_output"},
        rows(signed_in=NOT_FOUND, secretariat=OK, member=OK, analyst=OK),
        "offered: the room's stewards and the publishing analysts read it",
    ),
    Case("thinktank.show", "GET", {"output_id": "no_output"}, rows(signed_in=NOT_FOUND), "no such output"),
    Case(
        "thinktank.attach",
        "POST",
        {"output_id": "supply_output"},
        rows(signed_in=BAD_REQUEST, auditor=NOT_FOUND, admin=NOT_FOUND),
        "no room chosen",
    ),
    Case(
        "thinktank.attach",
        "POST",
        {"output_id": "risk_output"},
        rows(signed_in=NOT_FOUND, secretariat=BAD_REQUEST, analyst=BAD_REQUEST),
        "an output the member may not read",
    ),
    Case(
        "thinktank.detach",
        "POST",
        {"output_id": "supply_output"},
        rows(signed_in=BAD_REQUEST, auditor=NOT_FOUND, admin=NOT_FOUND),
        "no room chosen",
    ),
    # administration
    Case("admin.index", "GET", {}, secretariat_only(OK)),
    Case("admin.organizations", "GET", {}, secretariat_only(OK)),
    Case("admin.create_organization", "POST", {}, secretariat_only(BAD_REQUEST)),
    Case(
        "admin.set_qualification",
        "POST",
        {"organization_id": "organization"},
        secretariat_only(to("/admin/organizations")),
        "no reference given: refused with a message",
    ),
    Case("admin.users", "GET", {}, secretariat_only(OK)),
    Case("admin.invite", "POST", {}, secretariat_only(BAD_REQUEST)),
    Case("admin.user_detail", "GET", {"user_id": "target_user"}, secretariat_only(OK)),
    Case("admin.grant_clearance", "POST", {"user_id": "target_user"}, secretariat_only(BAD_REQUEST)),
    Case("admin.revoke_clearance", "POST", {"user_id": "target_user"}, secretariat_only(BAD_REQUEST)),
    Case("admin.grant_compartment", "POST", {"user_id": "target_user"}, secretariat_only(BAD_REQUEST)),
    Case(
        "admin.revoke_compartment",
        "POST",
        {"user_id": "target_user", "held_id": "held_compartment"},
        secretariat_only(to("/admin/users/{target_user}")),
    ),
    Case("admin.add_membership", "POST", {"user_id": "target_user"}, secretariat_only(BAD_REQUEST)),
    Case(
        "admin.end_membership",
        "POST",
        {"membership_id": "target_membership"},
        secretariat_only(to("/admin/users/{target_user}")),
    ),
    Case(
        "admin.toggle_suspension",
        "POST",
        {"user_id": "target_user"},
        secretariat_only(to("/admin/users/{target_user}")),
    ),
    Case("admin.caveats", "GET", {}, secretariat_only(OK)),
    Case("admin.create_caveat", "POST", {}, secretariat_only(BAD_REQUEST)),
    Case("admin.rooms", "GET", {}, secretariat_only(OK)),
    Case("admin.create_room", "POST", {}, secretariat_only(BAD_REQUEST)),
    # --- policy-coordination rooms: work plan and recommendations (shipbuilding) ---
    # 佐藤 is a secretariat member of the shipbuilding room (a steward), 田中 a member (reads, may not write),
    # 吉田 is not in it; the auditor and the administrator read no content. The AGI room's items asked for
    # through the shipbuilding room answer 404; a rapid-response room has no work plan (404). This block comes
    # before the shipbuilding room is archived (admin.archive_room).
    Case("workplan.plan", "GET", {"room_id": "shipbuilding"}, rows(**SHIP_READERS)),
    Case("workplan.plan", "GET", {"room_id": "agi"}, rows(signed_in=NOT_FOUND)),
    Case("workplan.plan", "GET", {"room_id": "minerals"}, rows(signed_in=NOT_FOUND), "rapid response"),
    Case("workplan.create_theme", "POST", {"room_id": "shipbuilding"}, rows(**SHIP_STEWARDS_POST)),
    Case("workplan.edit_theme", "GET", SHIP_THEME, rows(**SHIP_STEWARDS)),
    Case("workplan.edit_theme", "POST", SHIP_THEME, rows(**SHIP_STEWARDS_POST)),
    Case("workplan.edit_theme", "GET", {"room_id": "shipbuilding", "theme_id": "agi_theme"},
         rows(signed_in=NOT_FOUND), "another room's theme"),
    Case("workplan.add_milestone", "POST", SHIP_THEME, rows(**SHIP_STEWARDS_POST)),
    Case("workplan.milestone_done", "POST", {**SHIP_THEME, "milestone_id": "ship_milestone"},
         rows(**SHIP_STEWARDS_POST)),
    Case("workplan.delete_milestone", "POST", {**SHIP_THEME, "milestone_id": "ship_milestone"},
         rows(**{**SHIP_STEWARDS, SECRETARIAT: to("/rooms/{shipbuilding}/work-plan")})),
    Case("workplan.delete_theme", "POST", {"room_id": "shipbuilding", "theme_id": "agi_theme"},
         rows(signed_in=NOT_FOUND), "another room's theme"),
    Case("workplan.delete_theme", "POST", {"room_id": "shipbuilding", "theme_id": "ship_workforce_theme"},
         rows(**{**SHIP_READERS, SECRETARIAT: to("/rooms/{shipbuilding}/work-plan"), MEMBER: NOT_FOUND}),
         "deleted by the secretariat first"),
    Case("recommendations.board", "GET", {"room_id": "shipbuilding"}, rows(**SHIP_READERS)),
    Case("recommendations.board", "GET", {"room_id": "agi"}, rows(signed_in=NOT_FOUND)),
    Case("recommendations.create", "GET", {"room_id": "shipbuilding"}, rows(**SHIP_STEWARDS)),
    Case("recommendations.create", "POST", {"room_id": "shipbuilding"}, rows(**SHIP_STEWARDS_POST)),
    Case("recommendations.show", "GET", SHIP_RECOMMENDATION, rows(**SHIP_READERS)),
    Case("recommendations.show", "GET", AGI_RECOMMENDATION_VIA_SHIP,
         rows(signed_in=NOT_FOUND), "another room's recommendation"),
    Case("recommendations.transition", "POST", SHIP_RECOMMENDATION, rows(**SHIP_STEWARDS_POST)),
    Case("recommendations.transition", "POST",
         {"room_id": "shipbuilding", "recommendation_id": "agi_recommendation"}, rows(signed_in=NOT_FOUND)),
    Case("admin.set_sector", "POST", {"organization_id": "organization"}, secretariat_only(BAD_REQUEST)),
    Case("admin.archive_room", "POST", {"room_id": "shipbuilding"}, secretariat_only(to("/admin/rooms"))),
    # the audit trail
    Case("audit.trail", "GET", {}, auditor_only()),
    Case("audit.export", "GET", {}, auditor_only()),
    Case("audit.verify", "GET", {}, auditor_only()),
    # served to everyone
    Case("health.healthz", "GET", {}, rows(anonymous=OK, signed_in=OK)),
    Case("static", "GET", {"filename": "static_file"}, rows(anonymous=OK, signed_in=OK)),
    # --- calendars ---
    Case("calendars.meeting_ics", "GET", {"meeting_id": "minerals_meeting"}, rows(**MINERALS_MEMBERS),
         "RESTRICTED, their room"),
    Case("calendars.meeting_ics", "GET", {"meeting_id": "agi_meeting"}, rows(signed_in=NOT_FOUND),
         "PUBLIC, a room they are not in"),
    Case("calendars.meeting_ics", "GET", {"meeting_id": "no_meeting"}, rows(signed_in=NOT_FOUND),
         "no such meeting"),
    Case("calendars.feed", "GET", {"token": "bogus_feed_token"}, EVERYONE_NOT_FOUND,
         "no sign-in: the token is the credential"),
    Case("calendars.create_feed", "POST", {}, rows(signed_in=OK), "the address is shown once"),
    Case("calendars.revoke_feed", "POST", {"feed_id": "no_feed"}, rows(signed_in=NOT_FOUND),
         "not a feed of theirs"),
    # --- risk register (risk-review rooms) ---
    # 佐藤 (secretariat) keeps the infrastructure room's register; 吉田 (analyst) is a member there, not a
    # steward; 田中 is not in the room. The GRID-OPS risk is read by neither 佐藤 nor 吉田 (no compartment).
    # Only the chair (高橋, not a matrix role) decides proposals: others get NOT_CHAIR or 404.
    Case("risks.create", "GET", {"room_id": "infrastructure"}, risk_rows(RISK_STEWARDS, secretariat=OK)),
    Case("risks.create", "POST", {"room_id": "infrastructure"},
         risk_rows(RISK_STEWARDS, secretariat=BAD_REQUEST), "an empty form"),
    Case("risks.create", "GET", {"room_id": "minerals"},
         risk_rows(MINERALS_MEMBERS, secretariat=FORBIDDEN, member=FORBIDDEN, analyst=FORBIDDEN),
         "not a risk-review room"),
    Case("risks.show", "GET", {"risk_id": "infrastructure_risk"}, rows(**RISK_MEMBERS)),
    Case("risks.show", "GET", {"risk_id": "grid_risk"}, rows(signed_in=NOT_FOUND), "GRID-OPS: not held"),
    Case("risks.show", "GET", {"risk_id": "no_risk"}, rows(signed_in=NOT_FOUND), "no such risk"),
    Case("risks.edit", "GET", {"risk_id": "infrastructure_risk"}, risk_rows(RISK_STEWARDS, secretariat=OK)),
    Case("risks.edit", "POST", {"risk_id": "infrastructure_risk"},
         risk_rows(RISK_STEWARDS, secretariat=BAD_REQUEST), "an empty form"),
    Case("risks.edit", "GET", {"risk_id": "grid_risk"}, rows(signed_in=NOT_FOUND), "GRID-OPS: not held"),
    Case("risks.review", "POST", {"risk_id": "infrastructure_risk"},
         risk_rows(RISK_STEWARDS, secretariat=BAD_REQUEST), "an empty form; 吉田 is not the owner"),
    Case("risks.retire", "POST", {"risk_id": "retire_risk"},
         risk_rows(RISK_STEWARDS, secretariat=ROOM_PAGE), "retired once, by 佐藤"),
    Case("risks.propose", "POST", {"room_id": "infrastructure"},
         risk_rows(RISK_MEMBERS, secretariat=ROOM_PAGE, analyst=ROOM_PAGE),
         "no assessment chosen: back to the register"),
    Case("risks.accept", "POST", {"proposal_id": "pending_proposal"},
         risk_rows(RISK_STEWARDS, analyst=FORBIDDEN, secretariat=FORBIDDEN), "NOT_CHAIR"),
    Case("risks.reject", "POST", {"proposal_id": "pending_proposal"},
         risk_rows(RISK_STEWARDS, analyst=FORBIDDEN, secretariat=FORBIDDEN), "NOT_CHAIR"),
    Case("risks.accept", "POST", {"proposal_id": "no_proposal"}, rows(signed_in=NOT_FOUND), "no such change"),
    # --- situation board and countermeasures (rapid-response rooms) ---
    # The minerals room's board: every member posts (the analyst too); the stewards (佐藤, 田中) change a
    # countermeasure's status. 国家備蓄ガリウムの放出 is CONFIDENTIAL, 政府限り (not the analyst's).
    # Rooms of other kinds have no board. Every POST here is empty: nothing changes.
    Case("situation.board", "GET", {"room_id": "minerals"}, rows(**MINERALS_MEMBERS)),
    Case("situation.board", "GET", {"room_id": "infrastructure"}, rows(signed_in=NOT_FOUND),
         "a risk-review room has no board"),
    Case("situation.post_report", "POST", {"room_id": "minerals"},
         rows(signed_in=BAD_REQUEST, auditor=NOT_FOUND, admin=NOT_FOUND), "an empty form"),
    Case("situation.post_report", "POST", {"room_id": "agi"}, rows(signed_in=NOT_FOUND),
         "a room they are not in"),
    Case("situation.countermeasure_list", "GET", {"room_id": "minerals"}, rows(**MINERALS_MEMBERS)),
    Case("situation.propose", "POST", {"room_id": "minerals"},
         rows(signed_in=BAD_REQUEST, auditor=NOT_FOUND, admin=NOT_FOUND), "an empty form"),
    Case("situation.countermeasure", "GET", {"room_id": "minerals", "item_id": "sourcing_measure"},
         rows(**MINERALS_MEMBERS)),
    Case("situation.countermeasure", "GET", {"room_id": "minerals", "item_id": "stockpile_measure"},
         rows(signed_in=NOT_FOUND, secretariat=OK, member=OK), "CONFIDENTIAL, 政府限り"),
    Case("situation.countermeasure", "GET", {"room_id": "infrastructure", "item_id": "sourcing_measure"},
         rows(signed_in=NOT_FOUND), "a countermeasure under another room's address"),
    Case("situation.change_status", "POST", {"room_id": "minerals", "item_id": "sourcing_measure"},
         rows(signed_in=BAD_REQUEST, analyst=FORBIDDEN, auditor=NOT_FOUND, admin=NOT_FOUND),
         "no version sent; the analyst is not a steward"),
    # --- tabletop exercises ---
    # The infrastructure room: 高橋 (chair, not a matrix role) facilitates both demo exercises; 佐藤
    # (secretariat) plans them but does not run them (NOT_FACILITATOR); 吉田 (analyst) takes part; 田中 is not
    # in the room.
    # Nothing here changes an exercise: the finished one refuses deletion, the planned one gets empty forms.
    Case("exercises.create", "GET", {"room_id": "infrastructure"}, rows(**TTX_STEWARD_PAGE)),
    Case("exercises.create", "POST", {"room_id": "infrastructure"}, rows(**TTX_STEWARD_FORM),
         "an empty form"),
    Case("exercises.show", "GET", TTX_PLANNED, rows(**TTX_MEMBERS)),
    Case("exercises.show", "GET", TTX_FINISHED, rows(**TTX_MEMBERS)),
    Case("exercises.show", "GET", {"exercise_id": "no_exercise"}, rows(signed_in=NOT_FOUND)),
    Case("exercises.edit", "GET", TTX_PLANNED, rows(**TTX_STEWARD_PAGE)),
    Case("exercises.edit", "POST", TTX_PLANNED, rows(**TTX_STEWARD_FORM), "an empty form"),
    Case("exercises.delete", "POST", TTX_FINISHED,
         rows(**{**TTX_FACILITATOR_ONLY, SECRETARIAT: to("/exercises/{ttx_finished}")}),
         "a finished exercise is a record: refused with a message"),
    Case("exercises.add_inject", "GET", TTX_PLANNED, rows(**TTX_STEWARD_PAGE)),
    Case("exercises.add_inject", "POST", TTX_PLANNED, rows(**TTX_STEWARD_FORM), "an empty form"),
    Case("exercises.edit_inject", "GET", {**TTX_PLANNED, "inject_id": "ttx_inject"},
         rows(**TTX_STEWARD_PAGE)),
    Case("exercises.edit_inject", "GET", {**TTX_PLANNED, "inject_id": "ttx_cesi_inject"},
         rows(signed_in=NOT_FOUND), "CESI, named reader 高橋 only"),
    Case("exercises.edit_inject", "GET", {**TTX_PLANNED, "inject_id": "ttx_finished_inject"},
         rows(signed_in=NOT_FOUND), "an inject under another exercise's address"),
    Case("exercises.edit_inject", "POST", {**TTX_PLANNED, "inject_id": "ttx_inject"},
         rows(**TTX_STEWARD_FORM), "an empty form"),
    Case("exercises.delete_inject", "POST", {**TTX_FINISHED, "inject_id": "ttx_finished_inject"},
         rows(**{**TTX_FACILITATOR_ONLY, SECRETARIAT: to("/exercises/{ttx_finished}")}),
         "the plan of a finished exercise is fixed"),
    Case("exercises.start", "POST", TTX_FINISHED, rows(**TTX_FACILITATOR_ONLY)),
    Case("exercises.reveal", "POST", TTX_FINISHED, rows(**TTX_FACILITATOR_ONLY)),
    Case("exercises.finish", "POST", TTX_FINISHED, rows(**TTX_FACILITATOR_ONLY)),
    Case("exercises.respond", "POST", {**TTX_FINISHED, "inject_id": "ttx_finished_inject"},
         rows(**{**TTX_MEMBERS, SECRETARIAT: BAD_REQUEST, ANALYST: BAD_REQUEST}), "an empty response"),
    Case("exercises.after_action", "GET", TTX_FINISHED, rows(**TTX_FACILITATOR_ONLY)),
    Case("exercises.after_action", "POST", TTX_FINISHED, rows(**TTX_FACILITATOR_ONLY)),
    Case("exercises.flag_risks", "POST", TTX_FINISHED, rows(**TTX_FACILITATOR_ONLY)),
    # --- exports (第4回: published minutes, agenda, findings, action items) ---
    # Every copy is made for its reader; 田中 reads the pack's AMBER+STRICT parts of 内閣府 but may not take
    # them out (RELEASE_RESTRICTED, 403); 吉田 does not read them, so his copy leaves them out and is allowed.
    Case("exports.minutes_file", "GET", {"meeting_id": "past_meeting", "name": "format_pdf"},
         rows(**MINERALS_MEMBERS)),
    Case("exports.minutes_file", "GET", {"meeting_id": "agi_meeting", "name": "format_pdf"},
         rows(signed_in=NOT_FOUND), "a meeting of a room they are not in"),
    Case("exports.minutes_file", "GET", {"meeting_id": "past_meeting", "name": "format_exe"},
         rows(signed_in=NOT_FOUND), "no such format"),
    Case("exports.pack_file", "GET", {"meeting_id": "past_meeting", "name": "format_pdf"},
         rows(**{**MINERALS_MEMBERS, MEMBER: FORBIDDEN})),
    Case("exports.pack_file", "GET", {"meeting_id": "no_meeting", "name": "format_docx"},
         rows(signed_in=NOT_FOUND), "no such meeting"),
    # --- attendance, findings and action items ---
    # 第4回 of the minerals room (past): 佐藤 (secretariat) and 田中 (chair) run it; 吉田 (analyst) is in it.
    # Its findings: general and sourcing (RESTRICTED), stockpile (CONFIDENTIAL, 政府限り: not the analyst).
    Case("followup.attendance_page", "GET", {"meeting_id": "past_meeting"}, rows(**MINERALS_MEMBERS)),
    Case("followup.attendance_page", "GET", {"meeting_id": "agi_meeting"}, rows(signed_in=NOT_FOUND),
         "a meeting of a room they are not in"),
    Case("followup.attendance_page", "GET", {"meeting_id": "no_meeting"}, rows(signed_in=NOT_FOUND)),
    Case("followup.answer", "POST", {"meeting_id": "past_meeting"},
         rows(signed_in=BAD_REQUEST, auditor=NOT_FOUND, admin=NOT_FOUND), "no answer chosen"),
    Case("followup.answer", "POST", {"meeting_id": "agi_meeting"}, rows(signed_in=NOT_FOUND)),
    Case("followup.record_attendance", "POST", {"meeting_id": "past_meeting"},
         rows(secretariat=to("/meetings/{past_meeting}/attendance"),
              member=to("/meetings/{past_meeting}/attendance"), analyst=FORBIDDEN, auditor=NOT_FOUND,
              admin=NOT_FOUND),
         "nothing chosen: nothing changes; the analyst does not run meetings"),
    Case("followup.findings_list", "GET", {"meeting_id": "past_meeting"}, rows(**MINERALS_MEMBERS)),
    Case("followup.findings_list", "GET", {"meeting_id": "agi_meeting"}, rows(signed_in=NOT_FOUND)),
    Case("followup.create_finding", "POST", {"meeting_id": "past_meeting"},
         rows(signed_in=BAD_REQUEST, analyst=FORBIDDEN, auditor=NOT_FOUND, admin=NOT_FOUND), "an empty form"),
    Case("followup.edit_finding", "GET", {"meeting_id": "past_meeting", "finding_id": "sourcing_finding"},
         rows(signed_in=OK, analyst=FORBIDDEN, auditor=NOT_FOUND, admin=NOT_FOUND)),
    Case("followup.edit_finding", "GET", {"meeting_id": "past_meeting", "finding_id": "gov_finding"},
         rows(signed_in=NOT_FOUND, secretariat=OK, member=OK), "CONFIDENTIAL, 政府限り"),
    Case("followup.edit_finding", "GET", {"meeting_id": "upcoming_meeting", "finding_id": "sourcing_finding"},
         rows(signed_in=NOT_FOUND), "a finding under another meeting's address"),
    Case("followup.edit_finding", "POST", {"meeting_id": "past_meeting", "finding_id": "sourcing_finding"},
         rows(signed_in=BAD_REQUEST, analyst=FORBIDDEN, auditor=NOT_FOUND, admin=NOT_FOUND), "an empty form"),
    Case("followup.delete_finding", "POST", {"meeting_id": "upcoming_meeting", "finding_id": "gov_finding"},
         rows(signed_in=NOT_FOUND), "a finding under another meeting's address"),
    Case("followup.delete_finding", "POST", {"meeting_id": "past_meeting", "finding_id": "general_finding"},
         rows(signed_in=NOT_FOUND, secretariat=to("/meetings/{past_meeting}/findings")),
         "deleted by the secretariat; gone for the others"),
    Case("followup.create_action", "POST", {"meeting_id": "past_meeting"},
         rows(signed_in=BAD_REQUEST, analyst=FORBIDDEN, auditor=NOT_FOUND, admin=NOT_FOUND), "an empty form"),
    Case("followup.edit_action", "GET", {"meeting_id": "past_meeting", "action_id": "ito_action"},
         rows(signed_in=OK, analyst=FORBIDDEN, auditor=NOT_FOUND, admin=NOT_FOUND)),
    Case("followup.edit_action", "GET", {"meeting_id": "upcoming_meeting", "action_id": "ito_action"},
         rows(signed_in=NOT_FOUND), "an action item under another meeting's address"),
    Case("followup.edit_action", "POST", {"meeting_id": "past_meeting", "action_id": "ito_action"},
         rows(signed_in=BAD_REQUEST, analyst=FORBIDDEN, auditor=NOT_FOUND, admin=NOT_FOUND), "an empty form"),
    Case("followup.change_status", "POST", {"meeting_id": "past_meeting", "action_id": "ito_action"},
         rows(signed_in=BAD_REQUEST, auditor=NOT_FOUND, admin=NOT_FOUND), "no version sent"),
    Case("followup.change_status", "POST", {"meeting_id": "past_meeting", "action_id": "tanaka_action"},
         rows(signed_in=NOT_FOUND, secretariat=BAD_REQUEST, member=BAD_REQUEST), "CONFIDENTIAL, 政府限り"),
    Case("followup.delete_action", "POST", {"meeting_id": "upcoming_meeting", "action_id": "sato_action"},
         rows(signed_in=NOT_FOUND), "an action item under another meeting's address"),
    Case("followup.delete_action", "POST", {"meeting_id": "past_meeting", "action_id": "sato_action"},
         rows(signed_in=NOT_FOUND, secretariat=to("/meetings/{past_meeting}/findings")),
         "deleted by the secretariat; gone for the others"),
    Case("followup.my_actions_page", "GET", {}, rows(signed_in=OK), "only one's own, readable or withheld"),
    Case("admin.set_quorum", "POST", {"room_id": "agi"}, secretariat_only(to("/admin/rooms")),
         "empty: a majority (the shipbuilding room is archived above)"),
    # --- meetings and agenda ---
    # 第5回 重要鉱物分科会 (minerals, rapid response; agenda published): the secretariat and the member (the
    # chair) run it, the analyst is a plain member. The infrastructure meeting takes the state-changing POSTs
    # (the secretariat runs it, the analyst is a plain member, the member is not in that room; the
    # shipbuilding room is archived by an earlier row).
    Case("meetings.create", "GET", {"room_id": "minerals"}, rows(**MINERALS_STEWARDS)),
    Case("meetings.create", "POST", {"room_id": "minerals"}, rows(**MINERALS_STEWARDS_POST), "empty form"),
    Case("meetings.create", "GET", {"room_id": "agi"}, rows(signed_in=NOT_FOUND), "a room they are not in"),
    Case("meetings.convene", "GET", {"room_id": "minerals"}, rows(**MINERALS_STEWARDS)),
    Case("meetings.convene", "POST", {"room_id": "minerals"}, rows(**MINERALS_STEWARDS_POST), "empty form"),
    Case(
        "meetings.convene", "POST", {"room_id": "infrastructure"},
        rows(signed_in=NOT_FOUND, secretariat=FORBIDDEN, analyst=FORBIDDEN),
        "policy coordination: not convened at short notice (NOT_RAPID_RESPONSE)",
    ),
    Case("meetings.show", "GET", {"meeting_id": "meeting"}, rows(**MINERALS_MEMBERS)),
    Case("meetings.show", "GET", {"meeting_id": "agi_meeting"}, rows(signed_in=NOT_FOUND), "other room"),
    Case("meetings.show", "GET", {"meeting_id": "no_meeting"}, rows(signed_in=NOT_FOUND), "no such meeting"),
    Case("meetings.edit", "GET", {"meeting_id": "meeting"}, rows(**MINERALS_STEWARDS)),
    Case("meetings.edit", "POST", {"meeting_id": "meeting"}, rows(**MINERALS_STEWARDS_POST), "empty form"),
    Case("meetings.edit", "GET", {"meeting_id": "agi_meeting"}, rows(signed_in=NOT_FOUND), "other room"),
    Case("agenda.add_item", "GET", {"meeting_id": "meeting"}, rows(**MINERALS_STEWARDS)),
    Case("agenda.add_item", "POST", {"meeting_id": "meeting"}, rows(**MINERALS_STEWARDS_POST), "empty form"),
    Case("agenda.add_item", "POST", {"meeting_id": "agi_meeting"}, rows(signed_in=NOT_FOUND), "other room"),
    Case("agenda.edit_item", "GET", AGENDA_ITEM, rows(**MINERALS_STEWARDS)),
    Case("agenda.edit_item", "POST", AGENDA_ITEM, rows(**MINERALS_STEWARDS_POST), "empty form"),
    Case(
        "agenda.edit_item", "GET", {"meeting_id": "meeting", "item_id": "sourcing_item"},
        rows(signed_in=NOT_FOUND, member=OK, analyst=FORBIDDEN),
        "CONFIDENTIAL, MINERALS-SUPPLY: the secretariat may not read it",
    ),
    Case(
        "agenda.edit_item", "GET", {"meeting_id": "meeting", "item_id": "other_meeting_item"},
        rows(signed_in=NOT_FOUND, analyst=FORBIDDEN), "another meeting's item under this meeting's address",
    ),
    Case("agenda.move_item", "POST", AGENDA_ITEM, rows(**MINERALS_STEWARDS_POST), "no direction"),
    Case(
        "agenda.move_item", "POST", {"meeting_id": "meeting", "item_id": "other_meeting_item"},
        rows(signed_in=NOT_FOUND, analyst=FORBIDDEN), "another meeting's item under this meeting's address",
    ),
    Case(
        "agenda.remove_item", "POST", {"meeting_id": "other_meeting_item_meeting", "item_id": "agenda_item"},
        rows(signed_in=NOT_FOUND, analyst=FORBIDDEN), "this meeting's item under another meeting's address",
    ),
    Case(
        "agenda.remove_item", "POST", INFRASTRUCTURE_ITEM,
        rows(signed_in=NOT_FOUND, secretariat=to("/meetings/{infrastructure_meeting}"), analyst=FORBIDDEN),
        "removed by the secretariat; the analyst is no steward there",
    ),
    Case(
        "agenda.publish", "POST", {"meeting_id": "meeting"},
        rows(
            signed_in=NOT_FOUND, secretariat=to("/meetings/{meeting}"), member=to("/meetings/{meeting}"),
            analyst=FORBIDDEN,
        ),
        "already published: nothing changes",
    ),
    Case("agenda.revisions", "GET", {"meeting_id": "meeting"}, rows(**MINERALS_MEMBERS)),
    Case("agenda.revisions", "GET", {"meeting_id": "agi_meeting"}, rows(signed_in=NOT_FOUND), "other room"),
    Case(
        "meetings.cancel", "POST", {"meeting_id": "infrastructure_meeting"},
        rows(signed_in=NOT_FOUND, secretariat=to("/meetings/{infrastructure_meeting}"), analyst=FORBIDDEN),
        "cancelled by the secretariat; the analyst is no steward there",
    ),
    Case("meetings.cancel", "POST", {"meeting_id": "agi_meeting"}, rows(signed_in=NOT_FOUND), "other room"),
    Case("accounts.set_time_zone", "POST", {}, rows(signed_in=BAD_REQUEST), "no zone chosen"),
    # last: it ends the session every later request would need
    Case("accounts.logout", "POST", {}, rows(anonymous=TO_LOGIN, signed_in=TO_LOGIN)),
]  # fmt: skip


# --- minutes ---
# The demo minutes of 第4回 (minerals) are published: stewards (佐藤, 田中) get past the policy and meet the
# locked minutes (409) or an empty form (400); the analyst (吉田) is no steward (403); only the chair (田中)
# passes the approval's check. 第5回 has no minutes. Nothing here changes the demo minutes.
MINUTES = {"meeting_id": "minutes_meeting"}
UPCOMING = {"meeting_id": "upcoming_meeting"}
MINUTES_PAGE = "/meetings/{minutes_meeting}/minutes"
MINUTES_PORTION = {"meeting_id": "minutes_meeting", "portion_id": "minutes_portion"}
NO_CONTENT_404 = {AUDITOR: NOT_FOUND, ADMIN: NOT_FOUND}
STEWARDS = {SECRETARIAT: BAD_REQUEST, MEMBER: BAD_REQUEST, ANALYST: FORBIDDEN, **NO_CONTENT_404}
STEWARDS_LOCKED = {SECRETARIAT: Expect(409), MEMBER: Expect(409), ANALYST: FORBIDDEN, **NO_CONTENT_404}
MINUTES_CASES: list[Case] = [
    Case("minutes.show", "GET", MINUTES, rows(**MINERALS_MEMBERS), "published minutes"),
    Case("minutes.show", "GET", UPCOMING, rows(**MINERALS_MEMBERS), "no minutes yet"),
    Case("minutes.show", "GET", {"meeting_id": "no_meeting"}, rows(signed_in=NOT_FOUND), "no such meeting"),
    Case("minutes.show", "GET", {"meeting_id": "agi_meeting"}, rows(signed_in=NOT_FOUND), "another room's"),
    Case("minutes.history", "GET", MINUTES, rows(**MINERALS_MEMBERS)),
    Case("minutes.history", "GET", UPCOMING, rows(signed_in=NOT_FOUND), "no minutes"),
    Case("minutes.compare", "GET", {**MINUTES, "a": "version_1", "b": "version_1"}, rows(**MINERALS_MEMBERS)),
    Case("minutes.compare", "GET", {**MINUTES, "a": "version_1", "b": "no_version"},
         rows(signed_in=NOT_FOUND), "no such revision"),
    Case("minutes.start", "POST", MINUTES,
         rows(secretariat=to(MINUTES_PAGE), member=to(MINUTES_PAGE), analyst=FORBIDDEN, **NO_CONTENT_404),
         "already started: back to the minutes"),
    Case("minutes.add_portion", "GET", MINUTES, rows(**STEWARDS_LOCKED), "published minutes are locked"),
    Case("minutes.add_portion", "POST", MINUTES, rows(**STEWARDS), "an empty form"),
    Case("minutes.edit_portion", "GET", MINUTES_PORTION, rows(**STEWARDS_LOCKED), "locked"),
    Case("minutes.edit_portion", "POST", MINUTES_PORTION, rows(**STEWARDS), "an empty form"),
    Case("minutes.edit_portion", "GET", {"meeting_id": "upcoming_meeting", "portion_id": "minutes_portion"},
         rows(signed_in=NOT_FOUND, analyst=FORBIDDEN), "a portion under another meeting's address"),
    Case("minutes.edit_portion", "GET", {"meeting_id": "minutes_meeting", "portion_id": "no_meeting"},
         rows(signed_in=NOT_FOUND, analyst=FORBIDDEN), "no such portion"),
    Case("minutes.remove_portion", "POST", MINUTES_PORTION, rows(**STEWARDS), "an empty form"),
    Case("minutes.move_portion", "POST", MINUTES_PORTION, rows(**STEWARDS), "an empty form"),
    Case("minutes.comment", "POST", MINUTES_PORTION, rows(signed_in=BAD_REQUEST, **NO_CONTENT_404), "empty"),
    Case("minutes.circulate", "POST", MINUTES, rows(**STEWARDS), "an empty form"),
    Case("minutes.approve", "POST", MINUTES,
         rows(signed_in=FORBIDDEN, member=BAD_REQUEST, **NO_CONTENT_404), "only the chair approves"),
    Case("minutes.revise", "POST", MINUTES, rows(**STEWARDS), "an empty form"),
    Case("minutes.publish", "POST", MINUTES, rows(**STEWARDS), "an empty form"),
    Case("minutes.correct", "POST", MINUTES, rows(**STEWARDS), "an empty form"),
]  # fmt: skip
CASES[-1:-1] = MINUTES_CASES  # before the sign-out, which must stay last


def _minutes_ids(session: Session) -> dict[str, str]:
    from portal.meetings.models import Meeting
    from portal.minutes.models import Minutes
    from portal.minutes.service import texts_at

    minutes = session.scalar(select(Minutes))
    assert minutes is not None
    meeting = session.get(Meeting, minutes.meeting_id)
    assert meeting is not None
    upcoming = session.scalar(
        select(Meeting.id)
        .where(Meeting.subcommittee_id == meeting.subcommittee_id, Meeting.id != meeting.id)
        .order_by(Meeting.starts_at.desc())
    )
    agi = session.scalar(
        select(Meeting.id).join(Subcommittee, Subcommittee.id == Meeting.subcommittee_id)
        .where(Subcommittee.name_ja == "AGI分科会")
    )  # fmt: skip
    return {
        "minutes_meeting": str(meeting.id),
        "upcoming_meeting": str(upcoming),
        "agi_meeting": str(agi),
        "no_meeting": str(uuid.uuid4()),
        "minutes_portion": str(texts_at(minutes, 1)[0].portion_id),
    }


def _situation_ids(database: Database) -> dict[str, str]:
    return {
        "sourcing_measure": str(countermeasure_id(database, SOURCING)),
        "stockpile_measure": str(countermeasure_id(database, STOCKPILE_MEASURE)),
    }


def _exercise_ids(session: Session) -> dict[str, str]:
    """The demo's two exercises of the infrastructure room (planned: the later date) and their injects."""
    from portal.exercises.models import Exercise, Inject

    room = session.scalar(select(Subcommittee.id).where(Subcommittee.name_ja == "重要インフラ機能停止分科会"))
    finished, planned = session.scalars(
        select(Exercise.id).where(Exercise.subcommittee_id == room).order_by(Exercise.held_on)
    ).all()

    def injects(exercise_id: uuid.UUID) -> list[str]:
        query = select(Inject.id).where(Inject.exercise_id == exercise_id).order_by(Inject.offset_minutes)
        return [str(found) for found in session.scalars(query)]

    return {
        "ttx_planned": str(planned),
        "ttx_finished": str(finished),
        "ttx_inject": injects(planned)[0],
        "ttx_cesi_inject": injects(planned)[-1],
        "ttx_finished_inject": injects(finished)[0],
        "no_exercise": str(uuid.uuid4()),
        "infrastructure": str(room),
    }


def _uncovered(app: Flask) -> list[tuple[str, str]]:
    return sorted(_routes(app) - {(case.endpoint, case.method) for case in CASES})


def test_the_table_covers_every_route(app: Flask) -> None:
    routes = _routes(app)
    covered = {(case.endpoint, case.method) for case in CASES}
    missing = _uncovered(app)
    if missing:
        print("routes without a row in the authorization matrix:", *missing, sep="\n  ")
    assert not missing, f"add these routes to CASES in {__file__}: {missing}"
    assert not covered - routes, f"rows for routes that do not exist: {sorted(covered - routes)}"
    for case in CASES:
        assert set(case.expected) == set(ROLES), case


# --- ids from the demo data -----------------------------------------------------------------------


def _policywork_ids(database: Database) -> dict[str, str]:
    from portal.policywork.models import Milestone
    from tests.policywork_support import (
        CABLE_RECOMMENDATION,
        SAFETY_RECOMMENDATION,
        recommendation_id,
        theme_id,
    )

    cable = theme_id(database, "海底ケーブル敷設船の確保")
    with database.session_scope() as session:
        milestone = session.scalars(select(Milestone.id).where(Milestone.theme_id == cable).limit(1)).one()
    return {
        "ship_theme": str(cable),
        "ship_milestone": str(milestone),
        "ship_workforce_theme": str(theme_id(database, "造船所の人材確保")),
        "agi_theme": str(theme_id(database, "フロンティアモデルのリスク評価")),
        "ship_recommendation": str(recommendation_id(database, CABLE_RECOMMENDATION)),
        "agi_recommendation": str(recommendation_id(database, SAFETY_RECOMMENDATION)),
    }


def _demo_ids(database: Database) -> dict[str, str]:
    with database.session_scope() as session:

        def one(statement: object) -> str:
            found = session.scalar(statement)  # type: ignore[call-overload]
            assert found is not None, statement
            return str(found)

        def room(name_ja: str) -> str:
            return one(select(Subcommittee.id).where(Subcommittee.name_ja == name_ja))

        def document(title: str) -> str:
            found = document_id_by_title(database, title)  # titles are sealed: opened, not queried
            assert found is not None, title
            return str(found)

        def output(title: str) -> str:
            found = output_id_by_title(database, title)
            assert found is not None, title
            return str(found)

        target = session.scalar(select(User).where(User.email == "suzuki@mlit.example.jp"))
        assert target is not None
        ids = {
            "minerals": room("重要鉱物分科会"),
            "agi": room("AGI分科会"),
            "shipbuilding": room("造船分科会"),
            "no_room": str(uuid.uuid4()),
            "restricted": document("ガリウム・ゲルマニウム輸出管理措置の影響整理(第1版)"),
            "gov_only": document("国家備蓄の放出検討状況(政府限り)"),
            "compartment": document("代替調達先候補の企業別評価"),
            "cesi": document("レアアース再輸出規制に関する同盟国からの通報"),
            "no_document": str(uuid.uuid4()),
            "attachment": one(select(DocumentAttachment.id).limit(1)),
            "organization": one(select(Organization.id).where(Organization.name_en.startswith("Hokushin"))),
            "target_user": str(target.id),
            "target_membership": one(select(Membership.id).where(Membership.user_id == target.id).limit(1)),
            "held_compartment": one(
                select(UserCaveat.id)
                .join(Caveat, Caveat.id == UserCaveat.caveat_id)
                .where(UserCaveat.user_id == target.id, Caveat.code == "GRID-OPS")
            ),
            "supply_output": output(OUTPUTS[0].title),
            "risk_output": output(OUTPUTS[1].title),
            "brief_output": output(OUTPUTS[2].title),
            "no_output": str(uuid.uuid4()),
            "invalid_token": "not-a-valid-invitation-token",
            "version_1": "1",
            "no_version": "99",
            # --- calendars ---
            "minerals_meeting": one(
                select(Meeting.id)
                .join(Subcommittee, Subcommittee.id == Meeting.subcommittee_id)
                .where(Subcommittee.name_ja == "重要鉱物分科会", Meeting.starts_at > utcnow())
            ),
            "agi_meeting": one(
                select(Meeting.id)
                .join(Subcommittee, Subcommittee.id == Meeting.subcommittee_id)
                .where(Subcommittee.name_ja == "AGI分科会")
            ),
            "no_meeting": str(uuid.uuid4()),
            "bogus_feed_token": "A" * 43,
            "no_feed": str(uuid.uuid4()),
            # --- attendance, findings and action items ---
            **_followup_ids(database),
            # --- exports ---
            "format_pdf": "pdf",
            "format_docx": "docx",
            "format_exe": "exe",
            # --- risk register ---
            "infrastructure_risk": str(risk_id_by_title(database, "海底ケーブルの同時切断")),
            "grid_risk": str(risk_id_by_title(database, "電力制御系へのサイバー攻撃")),
            "retire_risk": str(risk_id_by_title(database, "大規模地震による複合障害")),
            "no_risk": str(uuid.uuid4()),
            "pending_proposal": str(proposal_id_by_name(database, "広域停電(ブラックアウト)")),
            "no_proposal": str(uuid.uuid4()),
            # --- situation board and countermeasures ---
            **_situation_ids(database),
            # --- policy-coordination rooms ---
            **_policywork_ids(database),
            # --- tabletop exercises ---
            **_exercise_ids(session),
            # --- minutes ---
            **_minutes_ids(session),
        }

        # --- meetings and agenda ---
        def meetings_of(room_key: str) -> list[str]:  # earliest first: minerals-4, minerals-5
            return [
                str(found)
                for found in session.scalars(
                    select(Meeting.id)
                    .where(Meeting.subcommittee_id == uuid.UUID(ids[room_key]))
                    .order_by(Meeting.starts_at)
                )
            ]

        def items_of(meeting_key: str) -> list[str]:  # in agenda order
            return [
                str(found)
                for found in session.scalars(
                    select(AgendaItem.id)
                    .where(AgendaItem.meeting_id == uuid.UUID(ids[meeting_key]))
                    .order_by(AgendaItem.position)
                )
            ]

        minerals_4, ids["meeting"] = meetings_of("minerals")
        ids["other_meeting_item_meeting"] = minerals_4
        [ids["agi_meeting"]] = meetings_of("agi")
        ids["infrastructure"] = room("重要インフラ機能停止分科会")
        # the last: 第3回 (upcoming); the tabletop exercise's meeting record is in the past
        ids["infrastructure_meeting"] = meetings_of("infrastructure")[-1]
        ids["no_meeting"] = str(uuid.uuid4())
        minerals_5_items = items_of("meeting")  # see portal/meetings/demo.py AGENDAS
        ids["agenda_item"] = minerals_5_items[2]  # 国内需要家への影響調査の結果報告 (RESTRICTED)
        ids["sourcing_item"] = minerals_5_items[4]  # 代替調達先の確保… (CONFIDENTIAL, MINERALS-SUPPLY)
        ids["other_meeting_item"] = items_of("other_meeting_item_meeting")[0]
        ids["infrastructure_item"] = items_of("infrastructure_meeting")[-1]
    static_files = sorted(p for p in (PROJECT_ROOT / "static").rglob("*") if p.is_file())
    assert static_files, "no static file to request"
    ids["static_file"] = Path(static_files[0]).relative_to(PROJECT_ROOT / "static").as_posix()
    return ids


def _followup_ids(database: Database) -> dict[str, str]:
    agi_meetings = room_meetings(database, "AGI分科会")
    assert agi_meetings
    return {
        "past_meeting": str(past_minerals_meeting(database)),
        "upcoming_meeting": str(upcoming_minerals_meeting(database)),
        "agi_meeting": str(agi_meetings[0]),
        "no_meeting": str(uuid.uuid4()),
        "sourcing_finding": str(finding_id_by_body(database, DEMO_FINDINGS["sourcing"])),
        "general_finding": str(finding_id_by_body(database, DEMO_FINDINGS["general"])),
        "gov_finding": str(finding_id_by_body(database, DEMO_FINDINGS["gov_only"])),
        "ito_action": str(action_id_by_title(database, DEMO_ACTIONS["ito"])),
        "tanaka_action": str(action_id_by_title(database, DEMO_ACTIONS["tanaka"])),
        "sato_action": str(action_id_by_title(database, DEMO_ACTIONS["sato"])),
    }


@dataclass
class Browser:
    client: FlaskClient
    token: str


def _browsers(app: Flask, database: Database) -> dict[str, Browser]:
    """One client per role, signed in once, with the CSRF token of its session."""
    anonymous = app.test_client()
    browsers = {ANONYMOUS: Browser(anonymous, csrf_token(anonymous, "/login"))}
    for role, email in ACCOUNTS.items():
        client = sign_in(app.test_client(), database, email)
        browsers[role] = Browser(client, csrf_token(client, "/account"))
    return browsers


def _url(app: Flask, case: Case, ids: dict[str, str]) -> str:
    with app.test_request_context():
        return url_for(case.endpoint, **{name: ids[key] for name, key in case.arguments.items()})


def test_authorization_matrix(app: Flask, demo: Database) -> None:
    assert not _uncovered(app), f"routes without a row in CASES: {_uncovered(app)}"
    ids = _demo_ids(demo)
    browsers = _browsers(app, demo)
    failures: list[str] = []
    for case in CASES:  # route by route, every role: each state-changing POST runs once, as the secretariat
        url = _url(app, case, ids)
        for role in ROLES:
            browser = browsers[role]
            if case.method == "GET":
                response = browser.client.get(url, buffered=True)
            else:
                response = browser.client.post(url, data={"csrf_token": browser.token}, buffered=True)
            expected = case.expected[role]
            location = urlsplit(response.headers.get("Location", "")).path or None
            wanted = expected.location.format(**ids) if expected.location else None
            if response.status_code != expected.status or (wanted is not None and location != wanted):
                got = f"{response.status_code}" + (f" -> {location}" if location else "")
                what = f"{case.endpoint}, {case.note}" if case.note else case.endpoint
                failures.append(f"{case.method} {url} ({what}) as {role}: expected {expected}, got {got}")
            if response.status_code == 500:
                failures.append(f"  500 page: {text(response)[:300]}")
    assert not failures, "\n".join(["authorization matrix differs:", *failures])
