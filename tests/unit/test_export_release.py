"""Release markings (TLP) decide who may take a part out of the portal: RED its named readers only,
AMBER+STRICT the people of its originating organisation, AMBER those and the organisations named on it.
A refusal names the reason and the parts by position, never their content."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from portal.db import Database
from portal.enums import Level, OrganizationKind, ReleaseMarking, Role
from portal.exports.service import ExportRefused, check_release, refusal_message, require_release
from portal.security.audit_models import AuditEntry
from portal.security.policy import Subject
from tests.meetings_support import subject_of

METI = uuid.uuid4()
TOHO = uuid.uuid4()
UNIVERSITY = uuid.uuid4()


@dataclass(frozen=True)
class Part:
    release: ReleaseMarking
    origin_organization_id: uuid.UUID = METI
    named_reader_ids: frozenset[uuid.UUID] = frozenset()
    release_organization_ids: frozenset[uuid.UUID] = frozenset()
    level: Level = Level.RESTRICTED
    caveat_codes: frozenset[str] = frozenset()
    id: uuid.UUID = METI  # any id: the release rules never look at it


def reader(organization_id: uuid.UUID) -> Subject:
    return Subject(
        user_id=uuid.uuid4(),
        roles=frozenset({Role.MEMBER}),
        organization_id=organization_id,
        organization_kind=OrganizationKind.PRIVATE,
        organization_qualified=True,
        clearance_state="valid",
        clearance_level=Level.CESI,
        clearance_from_evaluation=True,
        compartments=frozenset(),
    )


def test_green_and_clear_parts_go_to_anyone_who_reads_them() -> None:
    check = check_release(reader(UNIVERSITY), [Part(ReleaseMarking.GREEN), Part(ReleaseMarking.CLEAR)])

    assert check and check.decision.reason == "OK" and check.refused == ()


def test_red_only_for_named_readers() -> None:
    named = reader(TOHO)
    part = Part(ReleaseMarking.RED, named_reader_ids=frozenset({named.user_id}))

    assert check_release(named, [part])
    refused = check_release(reader(METI), [Part(ReleaseMarking.GREEN), part])  # even of the origin
    assert not refused
    assert (refused.decision.rule, refused.decision.reason) == ("export.release", "RELEASE_RESTRICTED")
    assert refused.positions == (2,)


def test_amber_strict_only_for_the_originating_organisation() -> None:
    part = Part(ReleaseMarking.AMBER_STRICT, release_organization_ids=frozenset({TOHO}))

    assert check_release(reader(METI), [part])
    assert not check_release(reader(TOHO), [part])  # a named organisation does not widen STRICT
    assert check_release(reader(UNIVERSITY), [part]).positions == (1,)


def test_amber_for_the_origin_and_the_named_organisations() -> None:
    part = Part(ReleaseMarking.AMBER, release_organization_ids=frozenset({TOHO}))

    assert check_release(reader(METI), [part])
    assert check_release(reader(TOHO), [part])
    assert check_release(reader(UNIVERSITY), [part]).positions == (1,)


def test_withheld_parts_are_not_in_the_copy_so_their_marking_does_not_count() -> None:
    red = Part(ReleaseMarking.RED)
    amber = Part(ReleaseMarking.AMBER)

    assert check_release(reader(UNIVERSITY), [Part(ReleaseMarking.GREEN), None, None])
    check = check_release(reader(UNIVERSITY), [Part(ReleaseMarking.GREEN), None, red, None, amber])
    assert check.positions == (3, 5)
    assert [part.release for part in check.refused] == [ReleaseMarking.RED, ReleaseMarking.AMBER]


def test_the_refusal_names_the_parts_by_position_and_the_reason() -> None:
    check = check_release(
        reader(UNIVERSITY),
        [
            Part(ReleaseMarking.RED),
            Part(ReleaseMarking.GREEN),
            Part(ReleaseMarking.AMBER),
            Part(ReleaseMarking.RED),
        ],
    )

    message = refusal_message(check)

    assert message.startswith("This export is refused by the release marking of some parts.")
    assert "Parts in positions 1, 4: TLP:RED parts may be exported only by their named readers." in message
    assert (
        "Parts in positions 3: TLP:AMBER parts may be exported only by people of the organisation" in message
    )


def test_require_release_audits_the_refusal_without_content(demo: Database) -> None:
    meeting_id = uuid.uuid4()
    with pytest.raises(ExportRefused) as refused, demo.session_scope() as session:
        subject = subject_of(session, "kobayashi@toto-u.example.jp")
        parts = [Part(ReleaseMarking.GREEN), None, Part(ReleaseMarking.AMBER_STRICT)]
        require_release(session, subject, parts, object_type="minutes", object_id=meeting_id)

    assert refused.value.check.positions == (3,)
    with demo.session_scope() as session:
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "export.release"))
        assert not entry.allowed
        assert (entry.reason, entry.object_type, entry.object_id) == (
            "RELEASE_RESTRICTED",
            "minutes",
            str(meeting_id),
        )
        assert json.loads(entry.detail) == {"positions": [3], "releases": ["AMBER+STRICT"]}

    with demo.session_scope() as session:
        subject = subject_of(session, "kobayashi@toto-u.example.jp")
        require_release(
            session, subject, [Part(ReleaseMarking.GREEN)], object_type="minutes", object_id=meeting_id
        )
