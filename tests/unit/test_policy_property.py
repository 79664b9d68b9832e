"""The SQL list filter and the per-document decision agree (DESIGN.md §2), for generated users and documents.

Hypothesis generates small worlds (organisations of every kind with valid, lapsed or revoked 適合事業者
qualifications; users with any roles, clearance histories, compartments, suspensions and memberships,
including ended ones and one in an archived room; documents of every level with caveats and named readers),
inserts them into the real database (SQLite and PostgreSQL) in one transaction that is rolled back at the end
of each example, and checks for every (user, document) pair that

* ``document.id in select(Document).where(policy.visible_documents(subject))`` equals
  ``policy.decide_read_document(subject, document).allowed``, and
* the decision's reason is the one an independent restatement of the rules, computed from the generated
  specification rather than from the Subject, gives.

Rooms are held to the same standard (``visible_rooms`` against ``decide_enter_room``).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.caveats import Caveat, UserCaveat
from portal.accounts.models import Clearance, Organization, User, UserRole
from portal.db import Database, utcnow
from portal.documents.models import Document, DocumentCaveat, DocumentReader
from portal.enums import (
    GOV_ONLY_CODE,
    CaveatKind,
    ClearanceBasis,
    Level,
    OrganizationKind,
    ReleaseMarking,
    Role,
    RoomRole,
    SubcommitteeKind,
)
from portal.rooms.models import Membership, Subcommittee
from portal.security import policy

#: Pairs checked per backend must reach this many (the brief: at least 500 generated cases).
MINIMUM_PAIRS = 500
MAX_EXAMPLES = 300
COMPARTMENT_CODES = ("PROP-ALPHA", "PROP-BRAVO", "PROP-CHARLIE")
#: Rooms 0 and 1 are open; room 2 is archived.
ARCHIVED_ROOM = 2
ROOM_COUNT = 3

GOVERNMENT = frozenset({OrganizationKind.GOVERNMENT, OrganizationKind.SECRETARIAT})
CONTENT_ROLES = frozenset({Role.SECRETARIAT, Role.MEMBER, Role.ANALYST})
NO_CONTENT_ROLES = frozenset({Role.ADMIN, Role.AUDITOR})

# --- the specification of a world -----------------------------------------------------------------


@dataclass(frozen=True)
class ClearanceSpec:
    level: Level
    basis: ClearanceBasis
    #: "past" or "future" (a record granted in the future does not count yet)
    granted: str
    #: "none", "future", "second_later", "now", "second_ago", "past"
    expiry: str
    #: "no", "future", "now", "past"
    revoked: str


@dataclass(frozen=True)
class MembershipSpec:
    room: int
    role: RoomRole
    #: "current", "until_later", "starts_now", "ended", "ends_now", "not_started"
    period: str


@dataclass(frozen=True)
class UserSpec:
    organization_kind: OrganizationKind
    #: "none", "valid", "until_today", "lapsed", "revoked", "revoked_later", "no_reference"
    qualification: str
    roles: frozenset[Role]
    #: In order of granting: the last recorded one is the newest.
    clearances: tuple[ClearanceSpec, ...]
    #: (compartment index, "held" | "revoked" | "revoked_now" | "revoked_later")
    compartments: tuple[tuple[int, str], ...]
    #: A (never legitimately granted) user-caveat row for 政府限り: it must not open anything.
    holds_gov_only_row: bool
    suspended: bool
    memberships: tuple[MembershipSpec, ...]


@dataclass(frozen=True)
class DocumentSpec:
    room: int
    level: Level
    gov_only: bool
    compartments: frozenset[int]
    #: Indices into the world's users.
    readers: frozenset[int]


@dataclass(frozen=True)
class WorldSpec:
    users: tuple[UserSpec, ...]
    documents: tuple[DocumentSpec, ...]


CURRENT_PERIODS = frozenset({"current", "until_later", "starts_now"})
HELD_STATES = frozenset({"held", "revoked_later"})
QUALIFIED_STATES = frozenset({"valid", "until_today", "revoked_later"})


def weighted(*choices: tuple[object, int]) -> st.SearchStrategy[object]:
    """Pick among values with integer weights (the first value is also where shrinking goes)."""
    return st.sampled_from([value for value, weight in choices for _ in range(weight)])


# The weights lean towards users who pass the early rules, so that the deep ones (compartments, named
# readers, suitability evaluation, qualification) are reached often; every value still occurs.
clearance_specs = st.builds(
    ClearanceSpec,
    level=weighted((Level.CESI, 3), (Level.CONFIDENTIAL, 2), (Level.RESTRICTED, 1), (Level.PUBLIC, 1)),
    basis=st.sampled_from(list(ClearanceBasis)),
    granted=weighted(("past", 5), ("future", 1)),
    expiry=weighted(
        ("none", 3), ("future", 2), ("second_later", 1), ("now", 1), ("second_ago", 1), ("past", 1)
    ),
    revoked=weighted(("no", 6), ("future", 1), ("now", 1), ("past", 1)),
)

membership_specs = st.builds(
    MembershipSpec,
    room=weighted((0, 2), (1, 2), (ARCHIVED_ROOM, 1)),
    role=st.sampled_from(list(RoomRole)),
    period=weighted(
        ("current", 4),
        ("until_later", 1),
        ("starts_now", 1),
        ("ended", 1),
        ("ends_now", 1),
        ("not_started", 1),
    ),
)

role_sets = st.one_of(
    weighted(*[(frozenset({role}), 3) for role in sorted(CONTENT_ROLES)]),
    st.frozensets(st.sampled_from(list(Role)), max_size=3),
)


#: How each field of a user is drawn when it is drawn at random.
USER_FIELDS: dict[str, st.SearchStrategy[object]] = {
    "roles": role_sets,
    "clearances": st.lists(clearance_specs, max_size=2).map(tuple),
    "compartments": st.lists(
        st.tuples(
            st.integers(0, len(COMPARTMENT_CODES) - 1),
            weighted(("held", 4), ("revoked", 1), ("revoked_now", 1), ("revoked_later", 1)),
        ),
        max_size=3,
    ).map(tuple),
    "holds_gov_only_row": st.booleans(),
    "suspended": weighted((False, 2), (True, 1)),
    "memberships": st.lists(membership_specs, max_size=3).map(tuple),
}
organization_kinds = st.sampled_from(list(OrganizationKind))
qualifications = st.sampled_from(
    ["none", "valid", "until_today", "lapsed", "revoked", "revoked_later", "no_reference"]
)


@st.composite
def user_specs(draw: st.DrawFn) -> UserSpec:
    """Either a user drawn field by field, or a well-equipped one with up to two fields drawn at random.

    Drawing every field independently rarely gets a user past the early rules; the well-equipped user
    with a few random changes reaches every rule, down to the 適合事業者 qualification.
    """
    organization = {"organization_kind": draw(organization_kinds), "qualification": draw(qualifications)}
    if draw(weighted((False, 3), (True, 1))):
        return UserSpec(**organization, **{name: draw(field) for name, field in USER_FIELDS.items()})  # type: ignore[arg-type]
    user = UserSpec(
        **organization,  # type: ignore[arg-type]
        roles=frozenset({draw(st.sampled_from(sorted(CONTENT_ROLES)))}),
        clearances=(
            ClearanceSpec(
                Level.CESI,
                draw(weighted((ClearanceBasis.SUITABILITY_EVALUATION, 4), (ClearanceBasis.INTERNAL, 1))),
                "past",
                "none",
                "no",
            ),
        ),
        compartments=tuple((index, "held") for index in range(len(COMPARTMENT_CODES))),
        holds_gov_only_row=False,
        suspended=False,
        memberships=(
            MembershipSpec(0, draw(st.sampled_from(list(RoomRole))), "current"),
            MembershipSpec(1, draw(st.sampled_from(list(RoomRole))), "current"),
        ),
    )
    for name in sorted(draw(st.sets(st.sampled_from(sorted(USER_FIELDS)), max_size=2))):
        user = replace(user, **{name: draw(USER_FIELDS[name])})
    return user


@st.composite
def worlds(draw: st.DrawFn) -> WorldSpec:
    users = tuple(draw(st.lists(user_specs(), min_size=2, max_size=4)))
    everyone = st.integers(0, len(users) - 1)
    documents = st.builds(
        DocumentSpec,
        room=weighted((0, 3), (1, 2), (ARCHIVED_ROOM, 1)),
        level=st.sampled_from(list(Level)),
        gov_only=weighted((False, 2), (True, 1)),
        compartments=st.one_of(
            st.just(frozenset[int]()),
            st.frozensets(st.integers(0, len(COMPARTMENT_CODES) - 1), min_size=1, max_size=2),
        ),
        readers=st.one_of(st.just(frozenset[int]()), st.frozensets(everyone, min_size=1)),
    )
    return WorldSpec(users, tuple(draw(st.lists(documents, min_size=2, max_size=6))))


# --- the world in the database --------------------------------------------------------------------


@dataclass
class World:
    now: datetime
    rooms: list[Subcommittee]
    users: list[User]
    documents: list[Document]


def _moment(now: datetime, when: str) -> datetime | None:
    return {
        "none": None,
        "no": None,
        "future": now + timedelta(days=30),
        "second_later": now + timedelta(seconds=1),
        "now": now,
        "second_ago": now - timedelta(seconds=1),
        "past": now - timedelta(days=3),
    }[when]


def _organization(spec: UserSpec, index: int, now: datetime) -> Organization:
    org = Organization(
        id=uuid.uuid4(), name_ja=f"組織{index}", name_en=f"Organisation {index}", kind=spec.organization_kind
    )
    today = now.astimezone(policy.LOCAL_TIMEZONE).date()  # a qualification's last day is a day in Japan
    if spec.qualification != "none":
        org.qualification_reference = None if spec.qualification == "no_reference" else f"TEKIGO-P-{index}"
        org.qualified_until = {
            "valid": today + timedelta(days=200),
            "until_today": today,
            "lapsed": today - timedelta(days=1),
            "revoked": today + timedelta(days=200),
            "revoked_later": today + timedelta(days=200),
            "no_reference": today + timedelta(days=200),
        }[spec.qualification]
        if spec.qualification == "revoked":
            org.qualification_revoked_at = now - timedelta(seconds=1)
        elif spec.qualification == "revoked_later":
            org.qualification_revoked_at = now + timedelta(days=1)
    return org


def _caveats(session: Session) -> dict[str, Caveat]:
    """GOV_ONLY and the compartments, reusing rows that happen to exist (codes are unique)."""
    wanted = {GOV_ONLY_CODE: CaveatKind.GOV_ONLY} | dict.fromkeys(COMPARTMENT_CODES, CaveatKind.COMPARTMENT)
    existing = {c.code: c for c in session.scalars(select(Caveat).where(Caveat.code.in_(wanted)))}
    for code, kind in wanted.items():
        if code not in existing:
            existing[code] = Caveat(id=uuid.uuid4(), code=code, kind=kind, name_ja=code, name_en=code)
            session.add(existing[code])
    assert all(existing[code].kind == kind for code, kind in wanted.items())
    return existing


def build_world(session: Session, spec: WorldSpec, now: datetime) -> World:
    """Insert the world (without committing) and return its rows as loaded back from the database."""
    caveats = _caveats(session)
    rooms = [
        Subcommittee(
            id=uuid.uuid4(),
            kind=SubcommitteeKind.RISK_REVIEW,
            name_ja=f"検証室{i}",
            name_en=f"Property room {i}",
            max_level=Level.CESI,
            archived_at=now - timedelta(days=1) if i == ARCHIVED_ROOM else None,
        )
        for i in range(ROOM_COUNT)
    ]
    organizations = [_organization(user, i, now) for i, user in enumerate(spec.users)]
    session.add_all(rooms + organizations)
    session.flush()

    users = []
    for i, user_spec in enumerate(spec.users):
        user = User(
            id=uuid.uuid4(),
            email=f"property-{i}-{uuid.uuid4().hex[:8]}@example.jp",
            display_name=f"利用者{i}",
            organization_id=organizations[i].id,
            is_suspended=user_spec.suspended,
        )
        user.role_rows = [UserRole(role=role) for role in user_spec.roles]
        users.append(user)
    session.add_all(users)
    session.flush()

    for user, user_spec in zip(users, spec.users, strict=True):
        for order, clearance in enumerate(user_spec.clearances):
            # Distinct grant moments, later in the list = newer (ties would make "newest" ambiguous).
            granted_at = (
                now + timedelta(days=1 + order)
                if clearance.granted == "future"
                else now - timedelta(days=100 - order)
            )
            session.add(
                Clearance(
                    id=uuid.uuid4(),
                    user_id=user.id,
                    level=clearance.level,
                    basis=clearance.basis,
                    granted_at=granted_at,
                    expires_at=_moment(now, clearance.expiry),
                    revoked_at=_moment(now, clearance.revoked),
                )
            )
        for index, state in user_spec.compartments:
            revoked_at = {"held": None, "revoked": now - timedelta(days=1), "revoked_now": now}.get(
                state, now + timedelta(days=1)
            )
            session.add(
                UserCaveat(
                    id=uuid.uuid4(),
                    user_id=user.id,
                    caveat_id=caveats[COMPARTMENT_CODES[index]].id,
                    granted_at=now - timedelta(days=10),
                    revoked_at=revoked_at,
                )
            )
        if user_spec.holds_gov_only_row:
            session.add(
                UserCaveat(
                    id=uuid.uuid4(),
                    user_id=user.id,
                    caveat_id=caveats[GOV_ONLY_CODE].id,
                    granted_at=now - timedelta(days=10),
                )
            )
        for membership in user_spec.memberships:
            valid_from, valid_to = {
                "current": (now - timedelta(days=10), None),
                "until_later": (now - timedelta(days=10), now + timedelta(days=1)),
                "starts_now": (now, None),
                "ended": (now - timedelta(days=10), now - timedelta(seconds=1)),
                "ends_now": (now - timedelta(days=10), now),
                "not_started": (now + timedelta(seconds=1), None),
            }[membership.period]
            session.add(
                Membership(
                    id=uuid.uuid4(),
                    subcommittee_id=rooms[membership.room].id,
                    user_id=user.id,
                    room_role=membership.role,
                    valid_from=valid_from,
                    valid_to=valid_to,
                )
            )
    session.flush()

    documents = []
    for document_spec in spec.documents:
        document = Document(
            id=uuid.uuid4(),
            subcommittee_id=rooms[document_spec.room].id,
            # The policy never opens a field: any non-null bytes stand in for the sealed title and body.
            title_sealed=b"x",
            body_sealed=b"x",
            level=document_spec.level,
            release=ReleaseMarking.GREEN,
            classified_by_id=users[0].id,
            classified_at=now - timedelta(days=5),
            created_by_id=users[0].id,
            created_at=now - timedelta(days=5),
            updated_at=now - timedelta(days=5),
        )
        codes = [COMPARTMENT_CODES[c] for c in sorted(document_spec.compartments)]
        if document_spec.gov_only:
            codes.append(GOV_ONLY_CODE)
        document.caveat_links = [DocumentCaveat(caveat_id=caveats[code].id) for code in codes]
        document.reader_links = [DocumentReader(user_id=users[r].id) for r in sorted(document_spec.readers)]
        documents.append(document)
    session.add_all(documents)
    session.flush()

    # Decide on what the database holds, as a request would, not on the Python objects just built.
    session.expire_all()
    return World(
        now=now,
        rooms=[_reload(session, Subcommittee, room.id) for room in rooms],
        users=[_reload(session, User, user.id) for user in users],
        documents=[_reload(session, Document, document.id) for document in documents],
    )


Loaded = TypeVar("Loaded")


def _reload(session: Session, model: type[Loaded], object_id: uuid.UUID) -> Loaded:
    found = session.get(model, object_id)
    assert found is not None
    return found


# --- the rules restated from the specification ----------------------------------------------------


def _clearance_state(user: UserSpec) -> tuple[str, ClearanceSpec | None]:
    recorded = [c for c in user.clearances if c.granted != "future"]
    if not recorded:
        return "none", None
    newest = recorded[-1]
    if newest.revoked in {"past", "now"}:
        return "revoked", newest
    if newest.expiry in {"past", "now", "second_ago"}:
        return "expired", newest
    return "valid", newest


def expected_reason(world: WorldSpec, user_index: int, document_index: int) -> str:
    """DESIGN.md §2 "Reading a document", in the order of the reason codes, from the spec alone."""
    user = world.users[user_index]
    document = world.documents[document_index]
    if user.suspended:
        return "ACCOUNT_SUSPENDED"
    if not (user.roles & CONTENT_ROLES) or user.roles & NO_CONTENT_ROLES:
        return "ROLE_NO_CONTENT"
    rooms = {m.room for m in user.memberships if m.period in CURRENT_PERIODS and m.room != ARCHIVED_ROOM}
    if document.room not in rooms:
        return "NOT_MEMBER"
    state, clearance = _clearance_state(user)
    if document.level > Level.PUBLIC:
        if state != "valid":
            return {"none": "CLEARANCE_MISSING", "expired": "CLEARANCE_EXPIRED"}.get(
                state, "CLEARANCE_REVOKED"
            )
        assert clearance is not None
        if clearance.level < document.level:
            return "CLEARANCE_TOO_LOW"
    government = user.organization_kind in GOVERNMENT
    if document.gov_only and not government:
        return "GOV_ONLY"
    held = {index for index, held_state in user.compartments if held_state in HELD_STATES}
    if not document.compartments <= held:
        return "CAVEAT_MISSING"
    if (document.readers or document.level == Level.CESI) and user_index not in document.readers:
        return "NOT_NAMED_READER"
    if document.level == Level.CESI:
        assert clearance is not None
        if clearance.basis != ClearanceBasis.SUITABILITY_EVALUATION:
            return "NO_SUITABILITY_EVALUATION"
        if not government and user.qualification not in QUALIFIED_STATES:
            return "ORG_NOT_QUALIFIED"
    return "OK"


# --- the check ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    user: User
    document: Document
    decision: policy.Decision
    listed: bool


def check_world(session: Session, world: World) -> list[Outcome]:
    """Assert, for every (user, document) pair, that the SQL filter and the decision agree."""
    example_ids = {document.id for document in world.documents}
    room_ids = {room.id for room in world.rooms}
    outcomes = []
    for user in world.users:
        subject = policy.load_subject(session, user, world.now)
        listed = set(session.scalars(select(Document.id).where(policy.visible_documents(subject))))
        assert listed <= example_ids, "the filter lists a document of a room the user was never in"
        for document in world.documents:
            decision = policy.decide_read_document(subject, document)
            assert (document.id in listed) == decision.allowed, (
                f"SQL filter lists={document.id in listed} but decision={decision} for subject={subject} "
                f"document(level={document.level!r}, caveats={sorted(document.caveat_codes)}, "
                f"readers={len(document.named_reader_ids)}, named={user.id in document.named_reader_ids})"
            )
            outcomes.append(Outcome(user, document, decision, document.id in listed))
        entered = set(session.scalars(select(Subcommittee.id).where(policy.visible_rooms(subject))))
        assert entered <= room_ids, "the filter opens a room the user was never in"
        for room in world.rooms:
            assert (room.id in entered) == policy.decide_enter_room(subject, room).allowed, (subject, room)
    return outcomes


@pytest.fixture
def policy_database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@contextmanager
def rolled_back_session(database: Database) -> Iterator[Session]:
    """One transaction per world: everything inserted is gone afterwards, on both backends."""
    session = database.session_factory()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def test_sql_filter_and_decision_agree(policy_database: Database) -> None:
    reasons: Counter[str] = Counter()
    examples = 0

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(spec=worlds())
    def agree(spec: WorldSpec) -> None:
        nonlocal examples
        with rolled_back_session(policy_database) as session:
            world = build_world(session, spec, utcnow())
            outcomes = check_world(session, world)
            for outcome in outcomes:
                u = world.users.index(outcome.user)
                d = world.documents.index(outcome.document)
                assert outcome.decision.reason == expected_reason(spec, u, d), (
                    f"user {u} document {d}: policy says {outcome.decision.reason}, "
                    f"the rules say {expected_reason(spec, u, d)}"
                )
                reasons[outcome.decision.reason] += 1
        examples += 1

    agree()

    pairs = sum(reasons.values())
    print(f"\n{examples} examples, {pairs} (user, document) pairs: {dict(sorted(reasons.items()))}")
    assert examples >= 100
    assert pairs >= MINIMUM_PAIRS
    # The generator reaches deep into the rules, not only the first refusals.
    assert reasons["OK"] >= 50, reasons
    assert len(reasons) >= 9, reasons


# --- hand-written edge cases ----------------------------------------------------------------------


def _reader(**changes: object) -> UserSpec:
    """A government member of room 0 with a valid CONFIDENTIAL clearance and no compartments."""
    base = UserSpec(
        organization_kind=OrganizationKind.GOVERNMENT,
        qualification="none",
        roles=frozenset({Role.MEMBER}),
        clearances=(ClearanceSpec(Level.CONFIDENTIAL, ClearanceBasis.INTERNAL, "past", "none", "no"),),
        compartments=(),
        holds_gov_only_row=False,
        suspended=False,
        memberships=(MembershipSpec(0, RoomRole.MEMBER, "current"),),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _document(**changes: object) -> DocumentSpec:
    base = DocumentSpec(
        room=0, level=Level.RESTRICTED, gov_only=False, compartments=frozenset(), readers=frozenset()
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _decide(database: Database, spec: WorldSpec, now: datetime | None = None) -> list[Outcome]:
    """Every (user, document) outcome of ``spec``; the agreement is asserted on the way."""
    with rolled_back_session(database) as session:
        world = build_world(session, spec, now or utcnow())
        outcomes = check_world(session, world)
        for outcome in outcomes:
            u, d = world.users.index(outcome.user), world.documents.index(outcome.document)
            assert outcome.decision.reason == expected_reason(spec, u, d)
        return outcomes


@pytest.mark.parametrize(
    ("expiry", "reason"),
    [
        ("now", "CLEARANCE_EXPIRED"),
        ("second_ago", "CLEARANCE_EXPIRED"),
        ("second_later", "OK"),
        ("none", "OK"),
    ],
)
def test_a_clearance_expiring_exactly_now_has_expired(
    policy_database: Database, expiry: str, reason: str
) -> None:
    clearance = ClearanceSpec(Level.CONFIDENTIAL, ClearanceBasis.INTERNAL, "past", expiry, "no")
    spec = WorldSpec(
        users=(_reader(clearances=(clearance,)), _reader()),
        documents=(_document(level=Level.RESTRICTED), _document(level=Level.PUBLIC)),
    )

    restricted, public = _decide(policy_database, spec)[:2]

    assert restricted.decision.reason == reason
    assert restricted.listed == (reason == "OK")
    assert public.decision.allowed and public.listed  # PUBLIC needs no clearance at all


def test_a_revoked_renewal_is_not_saved_by_the_older_record(policy_database: Database) -> None:
    older = ClearanceSpec(Level.CESI, ClearanceBasis.SUITABILITY_EVALUATION, "past", "none", "no")
    newer = ClearanceSpec(Level.CONFIDENTIAL, ClearanceBasis.INTERNAL, "past", "none", "now")
    spec = WorldSpec(users=(_reader(clearances=(older, newer)), _reader()), documents=(_document(),))

    outcome = _decide(policy_database, spec)[0]

    assert outcome.decision.reason == "CLEARANCE_REVOKED"
    assert not outcome.listed


@pytest.mark.parametrize(
    ("kind", "qualification", "reason"),
    [
        (OrganizationKind.PRIVATE, "revoked", "ORG_NOT_QUALIFIED"),
        (OrganizationKind.PRIVATE, "lapsed", "ORG_NOT_QUALIFIED"),
        (OrganizationKind.PRIVATE, "no_reference", "ORG_NOT_QUALIFIED"),
        (OrganizationKind.PRIVATE, "none", "ORG_NOT_QUALIFIED"),
        (OrganizationKind.THINK_TANK, "revoked", "ORG_NOT_QUALIFIED"),
        (OrganizationKind.PRIVATE, "revoked_later", "OK"),
        (OrganizationKind.PRIVATE, "until_today", "OK"),
        (OrganizationKind.PRIVATE, "valid", "OK"),
        (OrganizationKind.GOVERNMENT, "revoked", "OK"),
        (OrganizationKind.SECRETARIAT, "none", "OK"),
    ],
)
def test_cesi_needs_a_qualified_organisation_for_private_members(
    policy_database: Database, kind: OrganizationKind, qualification: str, reason: str
) -> None:
    cesi = ClearanceSpec(Level.CESI, ClearanceBasis.SUITABILITY_EVALUATION, "past", "future", "no")
    spec = WorldSpec(
        users=(_reader(organization_kind=kind, qualification=qualification, clearances=(cesi,)), _reader()),
        documents=(_document(level=Level.CESI, readers=frozenset({0})),),
    )

    outcome = _decide(policy_database, spec)[0]

    assert outcome.decision.reason == reason
    assert outcome.listed == (reason == "OK")


def test_cesi_on_an_internal_clearance_is_not_enough(policy_database: Database) -> None:
    internal = ClearanceSpec(Level.CESI, ClearanceBasis.INTERNAL, "past", "none", "no")
    spec = WorldSpec(
        users=(_reader(clearances=(internal,)), _reader()),
        documents=(_document(level=Level.CESI, readers=frozenset({0})), _document(level=Level.CONFIDENTIAL)),
    )

    cesi, confidential = _decide(policy_database, spec)[:2]

    assert cesi.decision.reason == "NO_SUITABILITY_EVALUATION" and not cesi.listed
    assert confidential.decision.allowed and confidential.listed


def test_cesi_without_named_readers_is_readable_by_nobody(policy_database: Database) -> None:
    cesi = ClearanceSpec(Level.CESI, ClearanceBasis.SUITABILITY_EVALUATION, "past", "none", "no")
    spec = WorldSpec(
        users=(_reader(clearances=(cesi,)), _reader(clearances=(cesi,))),
        documents=(_document(level=Level.CESI),),
    )

    outcomes = _decide(policy_database, spec)

    assert [o.decision.reason for o in outcomes] == ["NOT_NAMED_READER", "NOT_NAMED_READER"]
    assert not any(o.listed for o in outcomes)


def test_empty_compartments_against_documents_with_and_without_them(policy_database: Database) -> None:
    spec = WorldSpec(
        users=(
            _reader(),  # holds nothing
            _reader(compartments=((0, "revoked"),)),  # held once, revoked
            _reader(compartments=((0, "revoked_now"),)),  # revoked at this very moment
            _reader(compartments=((0, "held"),), organization_kind=OrganizationKind.PRIVATE),
            _reader(holds_gov_only_row=True, organization_kind=OrganizationKind.PRIVATE),
        ),
        documents=(
            _document(),  # no caveats at all
            _document(compartments=frozenset({0})),
            _document(gov_only=True),  # 政府限り is not a compartment
            _document(gov_only=True, compartments=frozenset({0})),
        ),
    )

    outcomes = _decide(policy_database, spec)
    reasons = [[outcomes[u * 4 + d].decision.reason for d in range(4)] for u in range(5)]

    assert reasons == [
        ["OK", "CAVEAT_MISSING", "OK", "CAVEAT_MISSING"],
        ["OK", "CAVEAT_MISSING", "OK", "CAVEAT_MISSING"],
        ["OK", "CAVEAT_MISSING", "OK", "CAVEAT_MISSING"],
        ["OK", "OK", "GOV_ONLY", "GOV_ONLY"],
        # A user-caveat row for 政府限り does not make a private member a government one.
        ["OK", "CAVEAT_MISSING", "GOV_ONLY", "GOV_ONLY"],
    ]
