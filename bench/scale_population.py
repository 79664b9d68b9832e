"""Who is in the scale benchmark's database: organisations, users with clearances and compartments, rooms
and memberships, planned deterministically from a seed (``make_plan``) and stored in bulk, sealed as the
portal seals them (``store_population``). Used by ``seed.py``."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import scale_text
from sqlalchemy import insert
from sqlalchemy.orm import Session

from portal.accounts.caveats import Caveat, UserCaveat
from portal.accounts.models import Clearance, Organization, User, UserRole
from portal.enums import (
    GOV_ONLY_CODE,
    CaveatKind,
    ClearanceBasis,
    Level,
    OrganizationKind,
    Role,
    RoomRole,
)
from portal.rooms.models import Membership, Subcommittee
from portal.security import mfa, passwords, policy
from portal.security.keyring import keyring_of

#: The benchmark readers' password (a published benchmark credential, like the demo's).
BENCH_PASSWORD = "Bench-Scale-Kyogikai-2026!"  # noqa: S105
BENCH_READERS = 16
COMPARTMENTS = (
    ("MINERALS-SUPPLY", "重要鉱物 調達先情報", "Critical minerals: sourcing"),
    ("GRID-OPS", "電力系統 運用情報", "Power grid operations"),
    ("CHIP-FAB", "半導体 製造拠点情報", "Semiconductor fabs"),
    ("CABLE-ROUTES", "海底ケーブル 経路情報", "Submarine cable routes"),
)


# --- the plan: who and what, deterministic from the seed ---------------------------------------------


def random_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


@dataclass
class OrgPlan:
    id: uuid.UUID
    key: str
    name_ja: str
    name_en: str
    kind: OrganizationKind
    qualification: str | None = None
    qualified_days: int = 0


@dataclass
class UserPlan:
    id: uuid.UUID
    email: str
    name: str
    org: OrgPlan
    role: Role
    clearance: Level | None
    evaluated: bool
    expired: bool
    compartments: tuple[str, ...]
    rooms: list[int] = field(default_factory=list)
    bench_reader: bool = False

    @property
    def cesi_eligible(self) -> bool:
        qualified = self.org.kind in policy.GOVERNMENT_KINDS or (
            self.org.qualification is not None and self.org.qualified_days > 0
        )
        return self.clearance == Level.CESI and self.evaluated and not self.expired and qualified


@dataclass
class RoomPlan:
    id: uuid.UUID
    index: int
    name_ja: str
    name_en: str
    kind: Any
    theme: tuple[str, ...]
    members: list[UserPlan] = field(default_factory=list)
    #: Members who may classify at each level (authors), and who may be named CESI readers.
    authors: dict[Level, list[UserPlan]] = field(default_factory=dict)
    cesi_readers: list[UserPlan] = field(default_factory=list)


@dataclass
class Plan:
    seed: int
    orgs: list[OrgPlan]
    users: list[UserPlan]
    rooms: list[RoomPlan]
    caveat_ids: dict[str, uuid.UUID]


def _organizations(rng: random.Random) -> list[OrgPlan]:
    orgs = [
        OrgPlan(
            random_uuid(rng),
            "cao",
            "内閣府 経済安全保障推進室",
            "Cabinet Office",
            OrganizationKind.SECRETARIAT,
        )
    ]
    ministries = (
        "経済産業省",
        "国土交通省",
        "総務省",
        "外務省",
        "財務省",
        "防衛省",
        "厚生労働省",
        "農林水産省",
        "警察庁",
    )
    for index, name in enumerate(ministries):
        orgs.append(
            OrgPlan(random_uuid(rng), f"gov{index}", name, f"Ministry {index}", OrganizationKind.GOVERNMENT)
        )
    for index in range(24):
        # 18 qualified, 3 lapsed, 3 never qualified.
        days = 700 if index < 18 else (-30 if index < 21 else 0)
        reference = f"TEKIGO-2025-{index:04d}" if days else None
        orgs.append(
            OrgPlan(
                random_uuid(rng),
                f"firm{index}",
                f"株式会社ベンチ産業{index:02d}",
                f"Bench Industries {index:02d}",
                OrganizationKind.PRIVATE,
                reference,
                days,
            )
        )
    for index in range(3):
        orgs.append(
            OrgPlan(
                random_uuid(rng),
                f"tank{index}",
                f"経済安全保障研究所{index}",
                f"Think tank {index}",
                OrganizationKind.THINK_TANK,
            )
        )
    for index in range(3):
        orgs.append(
            OrgPlan(
                random_uuid(rng),
                f"univ{index}",
                f"ベンチ大学{index} 政策研究センター",
                f"University {index}",
                OrganizationKind.ACADEMIA,
            )
        )
    return orgs


def _choose_org(rng: random.Random, orgs: list[OrgPlan]) -> OrgPlan:
    kind = rng.choices(
        [
            OrganizationKind.SECRETARIAT,
            OrganizationKind.GOVERNMENT,
            OrganizationKind.PRIVATE,
            OrganizationKind.THINK_TANK,
            OrganizationKind.ACADEMIA,
        ],
        weights=[3, 35, 45, 7, 10],
    )[0]
    return rng.choice([org for org in orgs if org.kind == kind])


def make_plan(seed: int, rooms: int, users: int) -> Plan:
    rng = random.Random(seed)
    orgs = _organizations(rng)
    caveat_ids = {code: random_uuid(rng) for code in [GOV_ONLY_CODE, *(c for c, _j, _e in COMPARTMENTS)]}
    room_plans = []
    for index in range(rooms):
        name_ja, name_en, kind, theme = scale_text.ROOMS[index % len(scale_text.ROOMS)]
        suffix = f" {index // len(scale_text.ROOMS) + 1}" if index >= len(scale_text.ROOMS) else ""
        room_plans.append(RoomPlan(random_uuid(rng), index, name_ja + suffix, name_en + suffix, kind, theme))
    user_plans = []
    government = [org for org in orgs if org.kind == OrganizationKind.GOVERNMENT]
    for index in range(users):
        reader = index < BENCH_READERS
        org = government[index % len(government)] if reader else _choose_org(rng, orgs)
        role = {
            OrganizationKind.SECRETARIAT: Role.SECRETARIAT,
            OrganizationKind.THINK_TANK: Role.ANALYST,
        }.get(org.kind, Role.MEMBER)
        level, expired = Level.CESI, False
        if not reader:
            choice = rng.choices(["none", "R", "C", "CESI", "expired"], weights=[8, 32, 35, 20, 5])[0]
            level = {
                "none": None,
                "R": Level.RESTRICTED,
                "C": Level.CONFIDENTIAL,
                "CESI": Level.CESI,
                "expired": Level.RESTRICTED,
            }[choice]
            expired = choice == "expired"
        compartments = (
            tuple(code for code, _j, _e in COMPARTMENTS)
            if reader
            else tuple(code for code, _j, _e in COMPARTMENTS if rng.random() < 0.15)
        )
        email = (
            f"bench-reader-{index:02d}@bench.example.jp"
            if reader
            else f"user-{index:04d}@{org.key}.example.jp"
        )
        user_plans.append(
            UserPlan(
                random_uuid(rng),
                email,
                f"ベンチ利用者{index:04d}",
                org,
                role,
                level,
                level == Level.CESI,
                expired,
                compartments,
                bench_reader=reader,
            )
        )
    # Memberships: each benchmark reader in 4 rooms (together they cover every room), others in 1–5.
    for index, user in enumerate(user_plans):
        if user.bench_reader:
            user.rooms = sorted({(index * 5 + step) % rooms for step in range(min(4, rooms))})
        else:
            count = min(rooms, rng.choices([1, 2, 3, 4, 5], weights=[15, 30, 30, 15, 10])[0])
            user.rooms = sorted(rng.sample(range(rooms), count))
        for room_index in user.rooms:
            room_plans[room_index].members.append(user)
    for room in room_plans:
        for level in Level:
            room.authors[level] = [
                u
                for u in room.members
                if level == Level.PUBLIC
                or (u.clearance is not None and not u.expired and u.clearance >= level)
            ]
        room.authors[Level.CESI] = [u for u in room.members if u.cesi_eligible]
        room.cesi_readers = room.authors[Level.CESI]
    return Plan(seed, orgs, user_plans, room_plans, caveat_ids)


# --- the population: organisations, users, rooms, memberships, caveats -------------------------------


def store_population(session: Session, plan: Plan, now: datetime) -> dict[str, str]:
    """Everything but the documents. Returns the benchmark readers' TOTP secrets by e-mail."""
    session.execute(
        insert(Organization.__table__),
        [
            {
                "id": o.id,
                "name_ja": o.name_ja,
                "name_en": o.name_en,
                "kind": o.kind,
                "qualification_reference": o.qualification,
                "qualified_until": (now + timedelta(days=o.qualified_days)).date()
                if o.qualification
                else None,
            }
            for o in plan.orgs
        ],
    )
    session.execute(
        insert(Subcommittee.__table__),
        [
            {
                "id": r.id,
                "kind": r.kind,
                "name_ja": r.name_ja,
                "name_en": f"{r.name_en} Subcommittee",
                "description_ja": "、".join(r.theme) + "に関する課題を検討する。",
                "description_en": f"Bench room {r.index}.",
                "max_level": Level.CESI,
            }
            for r in plan.rooms
        ],
    )
    session.execute(
        insert(Caveat.__table__),
        [
            {
                "id": plan.caveat_ids[GOV_ONLY_CODE],
                "code": GOV_ONLY_CODE,
                "kind": CaveatKind.GOV_ONLY,
                "name_ja": "政府限り",
                "name_en": "Government only",
            }
        ]
        + [
            {
                "id": plan.caveat_ids[code],
                "code": code,
                "kind": CaveatKind.COMPARTMENT,
                "name_ja": name_ja,
                "name_en": name_en,
            }
            for code, name_ja, name_en in COMPARTMENTS
        ],
    )
    # One real argon2id hash (the portal's own cost profile) for every account: hashing 2,000 would take
    # minutes and measure nothing the benchmark is about.
    password_hash = passwords.hash_password(BENCH_PASSWORD)
    keyring = keyring_of(session)
    known: dict[str, str] = {}
    user_rows, role_rows, clearance_rows, caveat_rows, membership_rows = [], [], [], [], []
    for order, plan_user in enumerate(plan.users):
        user = User(id=plan_user.id)
        secret = mfa.new_secret()
        if plan_user.bench_reader:
            known[plan_user.email] = secret
        user_rows.append(
            {
                "id": plan_user.id,
                "email": plan_user.email,
                "display_name": plan_user.name,
                "organization_id": plan_user.org.id,
                "password_hash": password_hash,
                "password_changed_at": now,
                "locale": "ja",
                "is_suspended": False,
                "mfa_enrolled_at": now,
                "totp_last_step": 0,
                "is_demo": False,
                "created_at": now,
                "totp_secret_sealed": keyring.seal(
                    session,
                    policy.maintenance_grant("user_secret", user.id),
                    user.secret_context(),
                    secret,
                    None,
                    "personal",
                ),
            }
        )
        role_rows.append({"user_id": plan_user.id, "role": plan_user.role})
        if plan_user.clearance is not None:
            clearance = Clearance(id=uuid.uuid4(), user_id=plan_user.id, level=plan_user.clearance)
            granted = now - timedelta(days=400)
            row = {
                "id": clearance.id,
                "user_id": plan_user.id,
                "level": plan_user.clearance,
                "basis": ClearanceBasis.INTERNAL,
                "granted_at": granted,
                "reason": "bench data",
                "expires_at": now - timedelta(days=1) if plan_user.expired else None,
                "evaluated_on": None,
                "evaluation_reference_sealed": None,
            }
            if plan_user.evaluated:
                evaluated_on = date(2025, 9, 1)
                row.update(
                    basis=ClearanceBasis.SUITABILITY_EVALUATION,
                    evaluated_on=evaluated_on,
                    expires_at=datetime(2035, 9, 1, tzinfo=UTC),
                    evaluation_reference_sealed=keyring.seal(
                        session,
                        policy.maintenance_grant("user_secret", plan_user.id),
                        clearance.reference_context(),
                        f"SE-2025-{order:05d}",
                        None,
                        "personal",
                    ),
                )
            clearance_rows.append(row)
        caveat_rows += [
            {
                "id": uuid.uuid4(),
                "user_id": plan_user.id,
                "caveat_id": plan.caveat_ids[code],
                "granted_at": now - timedelta(days=60),
            }
            for code in plan_user.compartments
        ]
        for room_index in plan_user.rooms:
            room = plan.rooms[room_index]
            chair = room.members[0] is plan_user
            observer = not chair and plan_user.org.kind == OrganizationKind.ACADEMIA
            role = RoomRole.CHAIR if chair else (RoomRole.OBSERVER if observer else RoomRole.MEMBER)
            membership_rows.append(
                {
                    "id": uuid.uuid4(),
                    "subcommittee_id": room.id,
                    "user_id": plan_user.id,
                    "room_role": role,
                    "valid_from": now - timedelta(days=90),
                    "sort_order": 0 if chair else 1 + order,
                }
            )
    for table, rows in (
        (User.__table__, user_rows),
        (UserRole.__table__, role_rows),
        (Clearance.__table__, clearance_rows),
        (UserCaveat.__table__, caveat_rows),
        (Membership.__table__, membership_rows),
    ):
        if rows:
            session.execute(insert(table), rows)
    # Each room's data keys, as the first document created in it would make them.
    for room in plan.rooms:
        keyring.active_key(session, room.id, "fields")
    return known
