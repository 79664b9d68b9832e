"""The SQL filter for think-tank outputs and the per-output decision agree (DESIGN.md §2), generated.

The users, rooms and memberships come from the document property test's generator (every role, clearance
history, compartment and membership period); each world adds outputs published by one of its users'
organisations, of every level (CESI too, which no output may carry), with caveats, and with attachments to
rooms in every state: confirmed, offered, and either of those detached. For every (user, output) pair,
``output.id in select(...).where(policy.visible_outputs(subject))`` must equal
``policy.decide_read_output(subject, output).allowed``, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.caveats import Caveat
from portal.db import Database, utcnow
from portal.enums import GOV_ONLY_CODE, CaveatKind, Level, OrganizationKind, ReleaseMarking, Role, RoomRole
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.thinktank.models import OutputAttachment, OutputCaveat, OutputKind, ThinkTankOutput
from tests.unit.test_policy_property import (
    COMPARTMENT_CODES,
    ROOM_COUNT,
    World,
    WorldSpec,
    _caveats,
    build_world,
    policy_database,  # noqa: F401  (the fixture)
    rolled_back_session,
    worlds,
)

ATTACHMENT_STATES = ("confirmed", "offered", "detached", "declined")


@dataclass(frozen=True)
class OutputSpec:
    #: Index of the user whose organisation publishes it.
    publisher: int
    level: Level
    gov_only: bool
    compartments: frozenset[int]
    #: (room index, state)
    attachments: tuple[tuple[int, str], ...]


@st.composite
def output_worlds(draw: st.DrawFn) -> tuple[WorldSpec, tuple[OutputSpec, ...]]:
    world = draw(worlds())
    outputs = st.builds(
        OutputSpec,
        publisher=st.integers(0, len(world.users) - 1),
        level=st.sampled_from(list(Level)),
        gov_only=st.sampled_from([False, False, True]),
        compartments=st.one_of(
            st.just(frozenset[int]()), st.frozensets(st.integers(0, len(COMPARTMENT_CODES) - 1), max_size=2)
        ),
        attachments=st.lists(
            st.tuples(st.integers(0, ROOM_COUNT - 1), st.sampled_from(ATTACHMENT_STATES)), max_size=3
        ).map(tuple),
    )
    return world, tuple(draw(st.lists(outputs, min_size=1, max_size=4)))


def build_outputs(session: Session, world: World, specs: tuple[OutputSpec, ...]) -> list[ThinkTankOutput]:
    caveats = _caveats(session)
    now = world.now
    built = []
    for spec in specs:
        publisher = world.users[spec.publisher]
        output = ThinkTankOutput(
            id=uuid.uuid4(),
            kind=OutputKind.SCENARIO,
            organization_id=publisher.organization_id,
            published_by_id=publisher.id,
            published_at=now - timedelta(days=3),
            as_of=now.date(),
            version_label="1",
            level=spec.level,
            release=ReleaseMarking.GREEN,
            classified_by_id=publisher.id,
            classified_at=now - timedelta(days=3),
            # The policy never opens a field: any bytes stand in for the sealed ones.
            title_sealed=b"x",
            summary_sealed=b"x",
            authors_sealed=b"x",
            method_sealed=b"x",
            data_sources_sealed=b"x",
        )
        codes = [COMPARTMENT_CODES[c] for c in sorted(spec.compartments)] + (
            [GOV_ONLY_CODE] if spec.gov_only else []
        )
        output.caveat_links = [OutputCaveat(caveat_id=caveats[code].id) for code in codes]
        output.attachments = [
            OutputAttachment(
                subcommittee_id=world.rooms[room].id,
                proposed_by_id=publisher.id,
                proposed_at=now - timedelta(days=2),
                attached_at=now - timedelta(days=1) if state in {"confirmed", "detached"} else None,
                attached_by_id=publisher.id if state in {"confirmed", "detached"} else None,
                detached_at=now - timedelta(hours=1) if state in {"detached", "declined"} else None,
            )
            for room, state in spec.attachments
        ]
        built.append(output)
    session.add_all(built)
    session.flush()
    session.expire_all()
    return [session.get(ThinkTankOutput, output.id) for output in built]  # type: ignore[misc]


def test_output_filter_and_decision_agree(policy_database: Database) -> None:  # noqa: F811
    reasons: Counter[str] = Counter()

    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(generated=output_worlds())
    def agree(generated: tuple[WorldSpec, tuple[OutputSpec, ...]]) -> None:
        spec, output_specs = generated
        with rolled_back_session(policy_database) as session:
            world = build_world(session, spec, utcnow())
            outputs = build_outputs(session, world, output_specs)
            ids = {output.id for output in outputs}
            for user in world.users:
                subject = policy.load_subject(session, user, world.now)
                listed = set(
                    session.scalars(select(ThinkTankOutput.id).where(policy.visible_outputs(subject)))
                )
                assert listed <= ids
                for output in outputs:
                    decision = policy.decide_read_output(subject, output)
                    assert (output.id in listed) == decision.allowed, (
                        f"SQL lists={output.id in listed} but decision={decision} for {subject} and output "
                        f"level={output.level!r} caveats={sorted(output.caveat_codes)} "
                        f"attached={output.attached_room_ids} offered={output.proposed_room_ids}"
                    )
                    if output.level > policy.OUTPUT_MAX_LEVEL:
                        assert not decision.allowed
                    reasons[decision.reason] += 1

    agree()
    # Not vacuous: outputs were both listed and hidden, for the rules' different reasons.
    assert reasons["OK"] > 20, reasons
    for reason in ("NOT_MEMBER", "ROLE_NO_CONTENT", "OUTPUT_LEVEL_CAPPED", "GOV_ONLY"):
        assert reasons[reason] > 0, reasons
    assert any(reason.startswith("CLEARANCE_") for reason in reasons), reasons


# --- the rules, one by one, on hand-made cases -------------------------------------------------------------

ROOM_A, ROOM_B = uuid.uuid4(), uuid.uuid4()
THINK_TANK, MINISTRY = uuid.uuid4(), uuid.uuid4()


def subject(**changes: object) -> policy.Subject:
    values: dict[str, object] = {
        "user_id": uuid.uuid4(),
        "roles": frozenset({Role.MEMBER}),
        "organization_id": MINISTRY,
        "organization_kind": OrganizationKind.GOVERNMENT,
        "organization_qualified": True,
        "clearance_state": "valid",
        "clearance_level": Level.CONFIDENTIAL,
        "clearance_from_evaluation": False,
        "compartments": frozenset({"PROP-ALPHA"}),
        "room_roles": {ROOM_A: RoomRole.MEMBER},
    }
    values.update(changes)
    return policy.Subject(**values)  # type: ignore[arg-type]


@dataclass
class FakeOutput:
    """What the read rule looks at, without a database."""

    level: Level = Level.RESTRICTED
    organization_id: uuid.UUID = THINK_TANK
    attached_room_ids: frozenset[uuid.UUID] = frozenset({ROOM_A})
    proposed_room_ids: frozenset[uuid.UUID] = frozenset()
    caveats: tuple[Caveat, ...] = ()


def caveat(code: str) -> Caveat:
    kind = CaveatKind.GOV_ONLY if code == GOV_ONLY_CODE else CaveatKind.COMPARTMENT
    return Caveat(code=code, kind=kind, name_ja=code, name_en=code)


def reason(who: policy.Subject, output: FakeOutput) -> str:
    return policy.decide_read_output(who, output).reason  # type: ignore[arg-type]


def test_the_read_rule_case_by_case() -> None:
    analyst = {"roles": frozenset({Role.ANALYST}), "organization_id": THINK_TANK, "room_roles": {}}
    assert reason(subject(), FakeOutput()) == "OK"
    assert reason(subject(room_roles={ROOM_B: RoomRole.MEMBER}), FakeOutput()) == "NOT_MEMBER"
    assert reason(subject(**analyst), FakeOutput(attached_room_ids=frozenset())) == "OK"  # the publisher
    assert reason(subject(**{**analyst, "organization_id": MINISTRY}), FakeOutput()) == "NOT_MEMBER"
    # an offer: the room's chair and the secretariat in it read it; a plain member does not
    offered = FakeOutput(attached_room_ids=frozenset(), proposed_room_ids=frozenset({ROOM_A}))
    assert reason(subject(), offered) == "NOT_MEMBER"
    assert reason(subject(room_roles={ROOM_A: RoomRole.CHAIR}), offered) == "OK"
    assert reason(subject(roles=frozenset({Role.SECRETARIAT})), offered) == "OK"
    assert reason(subject(roles=frozenset({Role.AUDITOR})), FakeOutput()) == "ROLE_NO_CONTENT"
    assert reason(subject(is_suspended=True), FakeOutput()) == "ACCOUNT_SUSPENDED"
    assert reason(subject(clearance_level=Level.RESTRICTED), FakeOutput(level=Level.CONFIDENTIAL)) == (
        "CLEARANCE_TOO_LOW"
    )
    assert reason(subject(clearance_state="none"), FakeOutput(level=Level.PUBLIC)) == "OK"
    assert reason(subject(clearance_level=Level.CESI), FakeOutput(level=Level.CESI)) == "OUTPUT_LEVEL_CAPPED"
    assert reason(subject(), FakeOutput(caveats=(caveat(GOV_ONLY_CODE),))) == "OK"
    private = subject(organization_kind=OrganizationKind.PRIVATE)
    assert reason(private, FakeOutput(caveats=(caveat(GOV_ONLY_CODE),))) == "GOV_ONLY"
    assert reason(subject(), FakeOutput(caveats=(caveat("PROP-BRAVO"),))) == "CAVEAT_MISSING"
    assert reason(subject(), FakeOutput(caveats=(caveat("PROP-ALPHA"),))) == "OK"


def test_attaching_needs_a_steward_a_reader_and_a_room_that_holds_the_level() -> None:
    room = Subcommittee(id=ROOM_A, max_level=Level.CONFIDENTIAL)
    chair = subject(room_roles={ROOM_A: RoomRole.CHAIR})
    attach = policy.decide_attach_output
    assert attach(chair, FakeOutput(), room).reason == "OK"  # type: ignore[arg-type]
    assert attach(subject(), FakeOutput(), room).reason == "NOT_SECRETARIAT_OR_CHAIR"  # type: ignore[arg-type]
    low_room = Subcommittee(id=ROOM_A, max_level=Level.RESTRICTED)
    confidential = FakeOutput(level=Level.CONFIDENTIAL)
    assert attach(chair, confidential, low_room).reason == "ROOM_LEVEL_EXCEEDED"  # type: ignore[arg-type]
    unreadable = FakeOutput(caveats=(caveat("PROP-BRAVO"),))
    assert attach(chair, unreadable, room).reason == "CAVEAT_MISSING"  # type: ignore[arg-type]
    publish = policy.decide_publish_output
    analyst = subject(roles=frozenset({Role.ANALYST}), organization_id=THINK_TANK)
    marking = policy.Marking(Level.CONFIDENTIAL, frozenset(), frozenset(), "理由")
    assert publish(analyst, marking).reason == "OK"
    assert publish(subject(), marking).reason == "NOT_ANALYST"
    assert publish(analyst, policy.Marking(Level.CONFIDENTIAL, frozenset(), frozenset(), " ")).reason == (
        "REASON_REQUIRED"
    )
    cesi = policy.Marking(Level.CESI, frozenset(), frozenset(), "理由")
    assert publish(subject(roles=frozenset({Role.ANALYST}), clearance_level=Level.CESI), cesi).reason == (
        "OUTPUT_LEVEL_CAPPED"
    )
    assert publish(
        analyst, policy.Marking(Level.RESTRICTED, frozenset({GOV_ONLY_CODE}), frozenset(), None)
    ).reason == (
        "OK"  # the think tank here is a government organisation in this subject
    )
