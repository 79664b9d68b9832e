"""Seed a database at scale for the HTTP benchmark, in one command:

    .venv/bin/python bench/seed.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench
        --documents 100000 --rooms 20 --users 2000

It creates the database (PostgreSQL: if missing; ``--recreate`` drops it first), migrates it to the head
revision, makes a key file, and loads: 40 organisations (government, secretariat, private firms with a
valid, lapsed or no 適合事業者 qualification, think tanks, universities), ``--users`` users with clearances
(none, RESTRICTED, CONFIDENTIAL, CESI resting on a suitability evaluation, expired), compartments, each user
in a few of the ``--rooms`` rooms (the three kinds in turn), and ``--documents`` documents with Japanese
titles and 400–800 character bodies: 20% PUBLIC, 50% RESTRICTED, 25% CONFIDENTIAL, 5% CESI (with named
readers), some 政府限り and some compartmented, each with its first version.

Every field is sealed for real, as the portal seals it: the same :class:`FieldContext` and the room's
``fields`` data key (``Document.field_context``, ``DocumentVersion.field_context``), TOTP secrets and
evaluation references with the ``personal`` key. Rows go in by bulk inserts, a batch of documents per
transaction; a run that stops resumes where it left off (the count of stored documents is kept in
``portal_meta``). Everything is deterministic from ``--seed`` except the keys and TOTP secrets.

Benchmark clients sign in as ``bench-reader-NN@bench.example.jp`` (government, CESI by suitability
evaluation, holding every compartment, member of several rooms) with :data:`BENCH_PASSWORD` and a TOTP
code computed from the secret in the manifest this writes: ``bench/results/seed-<database>.json`` (mode
0600, git-ignored). Other users have random secrets that are not kept anywhere.

Extra work per batch (the search indexer, attachments) plugs in as a :data:`BatchStep`: a callable
``step(batch: SeedBatch) -> None`` run inside the batch's transaction after the documents are stored. Add it
to :data:`BATCH_STEPS`, or name it on the command line: ``--step package.module:function`` (repeatable).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH.parent
for _path in (PROJECT_ROOT, BENCH):  # `python bench/seed.py` puts only bench/ on the path
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import scale_text  # noqa: E402
from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from portal import migrate  # noqa: E402
from portal.accounts.caveats import Caveat, UserCaveat  # noqa: E402
from portal.accounts.models import Clearance, Organization, User, UserRole  # noqa: E402
from portal.app import make_database  # noqa: E402
from portal.config import load_settings  # noqa: E402
from portal.db import Database  # noqa: E402
from portal.documents.models import Document, DocumentCaveat, DocumentReader, DocumentVersion  # noqa: E402
from portal.enums import (  # noqa: E402
    GOV_ONLY_CODE,
    CaveatKind,
    ClearanceBasis,
    Level,
    OrganizationKind,
    ReleaseMarking,
    Role,
    RoomRole,
)
from portal.meta import PortalMeta, get_meta, set_meta  # noqa: E402
from portal.rooms.models import Membership, Subcommittee  # noqa: E402
from portal.security import crypto, mfa, passwords, policy  # noqa: E402
from portal.security.crypto import DataKey, FieldContext  # noqa: E402
from portal.security.keyring import Keyring, keyring_of  # noqa: E402
from portal.security.keys import create_key_file  # noqa: E402

#: The benchmark readers' password (a published benchmark credential, like the demo's).
BENCH_PASSWORD = "Bench-Scale-Kyogikai-2026!"  # noqa: S105
BENCH_READERS = 16
RESULTS = BENCH / "results"
META_POPULATION = "bench_seed.population"
META_DOCUMENTS = "bench_seed.documents_done"
COMPARTMENTS = (
    ("MINERALS-SUPPLY", "重要鉱物 調達先情報", "Critical minerals: sourcing"),
    ("GRID-OPS", "電力系統 運用情報", "Power grid operations"),
    ("CHIP-FAB", "半導体 製造拠点情報", "Semiconductor fabs"),
    ("CABLE-ROUTES", "海底ケーブル 経路情報", "Submarine cable routes"),
)
#: Share of each level among the documents (DESIGN.md §2 levels).
LEVEL_WEIGHTS = ((Level.PUBLIC, 20), (Level.RESTRICTED, 50), (Level.CONFIDENTIAL, 25), (Level.CESI, 5))
RELEASE_BY_LEVEL = {
    Level.PUBLIC: (ReleaseMarking.CLEAR, ReleaseMarking.GREEN),
    Level.RESTRICTED: (ReleaseMarking.GREEN, ReleaseMarking.GREEN, ReleaseMarking.AMBER),
    Level.CONFIDENTIAL: (ReleaseMarking.AMBER, ReleaseMarking.AMBER_STRICT),
    Level.CESI: (ReleaseMarking.RED,),
}
#: The newest document was changed this long before the seeding; the others spread over two years.
SPAN = timedelta(days=730)


# --- the plan: who and what, deterministic from the seed ---------------------------------------------


def _uuid(rng: random.Random) -> uuid.UUID:
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
            _uuid(rng), "cao", "内閣府 経済安全保障推進室", "Cabinet Office", OrganizationKind.SECRETARIAT
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
            OrgPlan(_uuid(rng), f"gov{index}", name, f"Ministry {index}", OrganizationKind.GOVERNMENT)
        )
    for index in range(24):
        # 18 qualified, 3 lapsed, 3 never qualified.
        days = 700 if index < 18 else (-30 if index < 21 else 0)
        reference = f"TEKIGO-2025-{index:04d}" if days else None
        orgs.append(
            OrgPlan(
                _uuid(rng),
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
                _uuid(rng),
                f"tank{index}",
                f"経済安全保障研究所{index}",
                f"Think tank {index}",
                OrganizationKind.THINK_TANK,
            )
        )
    for index in range(3):
        orgs.append(
            OrgPlan(
                _uuid(rng),
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
    caveat_ids = {code: _uuid(rng) for code in [GOV_ONLY_CODE, *(c for c, _j, _e in COMPARTMENTS)]}
    room_plans = []
    for index in range(rooms):
        name_ja, name_en, kind, theme = scale_text.ROOMS[index % len(scale_text.ROOMS)]
        suffix = f" {index // len(scale_text.ROOMS) + 1}" if index >= len(scale_text.ROOMS) else ""
        room_plans.append(RoomPlan(_uuid(rng), index, name_ja + suffix, name_en + suffix, kind, theme))
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
                _uuid(rng),
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


# --- documents ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeededDocument:
    """One generated document, as stored (sealed) and in the clear, for the batch steps."""

    id: uuid.UUID
    version_id: uuid.UUID
    #: Position in the seeding order (0 is the most recently changed).
    index: int
    room_id: uuid.UUID
    level: Level
    release: ReleaseMarking
    title: str
    body: str
    reason: str | None
    author_id: uuid.UUID
    updated_at: datetime
    caveat_codes: tuple[str, ...]
    reader_ids: tuple[uuid.UUID, ...]


def plan_document(plan: Plan, index: int, newest: datetime) -> SeededDocument:
    rng = random.Random(plan.seed * 1_000_003 + index)
    room = plan.rooms[index % len(plan.rooms)]
    level = rng.choices([level for level, _w in LEVEL_WEIGHTS], weights=[w for _l, w in LEVEL_WEIGHTS])[0]
    if level == Level.CESI and len(room.cesi_readers) < 2:
        level = Level.CONFIDENTIAL
    authors = room.authors[level] or room.members
    author = rng.choice(authors)
    readers: tuple[uuid.UUID, ...] = ()
    if level == Level.CESI:
        named = rng.sample(room.cesi_readers, min(len(room.cesi_readers), rng.randint(2, 8)))
        readers = tuple(sorted({u.id for u in named} | {author.id}))
    caveats: tuple[str, ...] = ()
    if level in (Level.RESTRICTED, Level.CONFIDENTIAL):
        roll = rng.random()
        if roll < 0.05:
            caveats = (GOV_ONLY_CODE,)
        elif roll < 0.10:
            caveats = (rng.choice(COMPARTMENTS)[0],)
    generated = scale_text.document(rng, room.theme, cesi=level == Level.CESI)
    step = SPAN / max(1, 100_000)
    updated_at = newest - step * index - timedelta(seconds=rng.randint(0, 59))
    return SeededDocument(
        id=_uuid(rng),
        version_id=_uuid(rng),
        index=index,
        room_id=room.id,
        level=level,
        release=rng.choice(RELEASE_BY_LEVEL[level]),
        title=generated.title,
        body=generated.body,
        reason=generated.reason if level >= Level.CONFIDENTIAL else None,
        author_id=author.id,
        updated_at=updated_at,
        caveat_codes=caveats,
        reader_ids=readers,
    )


class FieldSealer:
    """Seals fields exactly as ``Keyring.seal`` does (the grant checked, the room's active ``fields`` key,
    the same :class:`FieldContext`), but looks each room's key up once instead of once a field."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.keyring: Keyring = keyring_of(session)
        self._keys: dict[uuid.UUID, DataKey] = {}

    def seal(self, grant: policy.Grant, context: FieldContext, plaintext: str, room_id: uuid.UUID) -> bytes:
        crypto.check_grant(grant, context)
        key = self._keys.get(room_id)
        if key is None:
            key = self._keys[room_id] = self.keyring.active_key(self.session, room_id, "fields")
        return crypto.seal(key, context, plaintext)


@dataclass
class SeedBatch:
    """What a batch step gets: the open session (the batch commits after every step has run), the documents
    of this batch in the clear and as stored, and the run's shared state."""

    session: Session
    documents: Sequence[SeededDocument]
    plan: Plan
    sealer: FieldSealer
    #: Written to the manifest at the end: a step may record what the benchmark needs (e.g. attachment ids).
    manifest: dict[str, Any]


BatchStep = Callable[[SeedBatch], None]


def store_documents(batch: SeedBatch) -> None:
    """Documents, their first versions, caveats and named readers: sealed, in bulk inserts."""
    document_rows, version_rows, caveat_rows, reader_rows = [], [], [], []
    for seeded in batch.documents:
        document = Document(id=seeded.id, level=seeded.level, subcommittee_id=seeded.room_id)
        version = DocumentVersion(id=seeded.version_id, document_id=seeded.id, level=seeded.level)
        grant = policy.maintenance_grant("document", seeded.id)
        seal = batch.sealer.seal
        document_rows.append(
            {
                "id": seeded.id,
                "subcommittee_id": seeded.room_id,
                "level": seeded.level,
                "release": seeded.release,
                "classified_by_id": seeded.author_id,
                "classified_at": seeded.updated_at,
                "classification_reason_sealed": (
                    seal(
                        grant, document.field_context("classification_reason"), seeded.reason, seeded.room_id
                    )
                    if seeded.reason
                    else None
                ),
                "review_on": None,
                "title_sealed": seal(grant, document.field_context("title"), seeded.title, seeded.room_id),
                "body_sealed": seal(grant, document.field_context("body"), seeded.body, seeded.room_id),
                "created_by_id": seeded.author_id,
                "created_at": seeded.updated_at,
                "updated_at": seeded.updated_at,
                "version": 1,
            }
        )
        version_rows.append(
            {
                "id": seeded.version_id,
                "document_id": seeded.id,
                "number": 1,
                "level": seeded.level,
                "title_sealed": seal(grant, version.field_context("title"), seeded.title, seeded.room_id),
                "body_sealed": seal(grant, version.field_context("body"), seeded.body, seeded.room_id),
                "summary_sealed": None,
                "created_by_id": seeded.author_id,
                "created_at": seeded.updated_at,
            }
        )
        caveat_rows += [
            {"document_id": seeded.id, "caveat_id": batch.plan.caveat_ids[code]}
            for code in seeded.caveat_codes
        ]
        reader_rows += [
            {
                "document_id": seeded.id,
                "user_id": user_id,
                "added_by_id": seeded.author_id,
                "added_at": seeded.updated_at,
            }
            for user_id in seeded.reader_ids
        ]
    session = batch.session
    session.execute(insert(Document.__table__), document_rows)
    session.execute(insert(DocumentVersion.__table__), version_rows)
    if caveat_rows:
        session.execute(insert(DocumentCaveat.__table__), caveat_rows)
    if reader_rows:
        session.execute(insert(DocumentReader.__table__), reader_rows)


#: Run in order for every batch, in its transaction. The lead adds the search indexer and attachments here
#: (or passes ``--step module:function``); each gets a :class:`SeedBatch`.
BATCH_STEPS: list[BatchStep] = [store_documents]


def load_step(spec: str) -> BatchStep:
    module_name, _, function_name = spec.partition(":")
    if not function_name:
        raise SystemExit(f"--step wants module:function, not {spec!r}")
    step: BatchStep = getattr(importlib.import_module(module_name), function_name)
    return step


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


# --- running ------------------------------------------------------------------------------------------


def ensure_database(url: str, recreate: bool) -> None:
    """PostgreSQL: create the database if it does not exist (``recreate``: drop it first)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            if recreate:
                for suffix in ("", "-wal", "-shm"):
                    with contextlib.suppress(FileNotFoundError):
                        Path(parsed.database + suffix).unlink()
        return
    name = parsed.database
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            if recreate:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def database_label(url: str) -> str:
    parsed = make_url(url)
    return Path(parsed.database or "memory").stem


def manifest_path(url: str) -> Path:
    return RESULTS / f"seed-{database_label(url)}.json"


def write_private(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1, default=str)


@dataclass
class Options:
    database_url: str
    documents: int = 100_000
    rooms: int = 20
    users: int = 2_000
    seed: int = 2026
    batch_size: int = 2_000
    instance: Path | None = None
    recreate: bool = False
    steps: list[BatchStep] = field(default_factory=lambda: list(BATCH_STEPS))
    manifest: Path | None = None
    quiet: bool = False
    #: Run only these steps over the documents already stored (e.g. a search indexer added after seeding).
    only_steps: list[BatchStep] = field(default_factory=list)


def open_database(options: Options) -> tuple[Database, Path, Path]:
    instance = options.instance or RESULTS / f"instance-{database_label(options.database_url)}"
    instance.mkdir(parents=True, exist_ok=True)
    key_file = instance / "portal.key"
    if not key_file.exists():
        create_key_file(key_file)
    settings = load_settings(
        {"database_url": options.database_url, "instance_path": str(instance), "key_file": str(key_file)},
        environ={},
    )
    return make_database(settings), instance, key_file


def run_steps_over_stored(
    database: Database,
    plan: Plan,
    newest: datetime,
    stored: int,
    options: Options,
    manifest: dict[str, Any],
    say: Callable[[str], None],
) -> None:
    """Run ``options.only_steps`` over the documents already stored, batch by batch. The plan regenerates
    each document exactly (ids and text are deterministic from the seed), so nothing is read back."""
    for start in range(0, stored, options.batch_size):
        count = min(options.batch_size, stored - start)
        with database.session_scope() as session:
            batch = SeedBatch(
                session,
                [plan_document(plan, index, newest) for index in range(start, start + count)],
                plan,
                FieldSealer(session),
                manifest["extras"],
            )
            for step in options.only_steps:
                step(batch)
        say(f"  steps run over {start + count:,}/{stored:,} stored documents")


def seed(options: Options) -> dict[str, Any]:
    """Seed (or resume seeding) and write the manifest; returns it."""

    def say(message: str) -> None:
        if not options.quiet:
            print(message, file=sys.stderr, flush=True)

    began = time.monotonic()
    ensure_database(options.database_url, options.recreate)
    migrate.upgrade(options.database_url)
    database, instance, key_file = open_database(options)
    path = options.manifest or manifest_path(options.database_url)
    parameters = {
        "documents": options.documents,
        "rooms": options.rooms,
        "users": options.users,
        "seed": options.seed,
    }
    plan = make_plan(options.seed, options.rooms, options.users)
    try:
        with database.session_scope() as session:
            stored = get_meta(session, META_POPULATION)
            if stored is None:
                if session.scalar(select(func.count()).select_from(User)):
                    raise SystemExit("the database holds users not seeded by bench/seed.py; use --recreate")
                say(
                    f"population: {len(plan.orgs)} organisations, {options.users} users, "
                    f"{options.rooms} rooms"
                )
                now = datetime.now(UTC)
                secrets = store_population(session, plan, now)
                set_meta(session, META_POPULATION, json.dumps({**parameters, "at": now.isoformat()}))
                set_meta(session, META_DOCUMENTS, "0")
                manifest: dict[str, Any] = {"secrets": secrets, "newest": now.isoformat(), "extras": {}}
            else:
                previous = json.loads(stored)
                if {k: previous[k] for k in ("rooms", "users", "seed")} != {
                    k: parameters[k] for k in ("rooms", "users", "seed")
                }:
                    raise SystemExit(f"the database was seeded with {previous}; use --recreate")
                manifest = json.loads(path.read_text(encoding="utf-8"))
                say(f"resuming: the population is there ({previous})")
        manifest.update(
            database_url=options.database_url,
            instance=str(instance),
            key_file=str(key_file),
            password=BENCH_PASSWORD,
            parameters=parameters,
            rooms=[
                {"id": str(r.id), "name": r.name_ja, "kind": r.kind.value, "members": len(r.members)}
                for r in plan.rooms
            ],
            readers=[
                {"email": u.email, "rooms": [str(plan.rooms[i].id) for i in u.rooms]}
                for u in plan.users
                if u.bench_reader
            ],
        )
        write_private(path, manifest)
        newest = datetime.fromisoformat(manifest["newest"])
        with database.session_scope() as session:
            done = int(get_meta(session, META_DOCUMENTS) or 0)
        if options.only_steps:
            run_steps_over_stored(database, plan, newest, done, options, manifest, say)
            write_private(path, manifest)
            return manifest
        if done:
            say(f"resuming at document {done:,}")
        started, first = time.monotonic(), done
        while done < options.documents:
            count = min(options.batch_size, options.documents - done)
            with database.session_scope() as session:
                batch = SeedBatch(
                    session,
                    [plan_document(plan, index, newest) for index in range(done, done + count)],
                    plan,
                    FieldSealer(session),
                    manifest["extras"],
                )
                for step in options.steps:
                    step(batch)
                session.execute(
                    PortalMeta.__table__.update()
                    .where(PortalMeta.key == META_DOCUMENTS)
                    .values(value=str(done + count))
                )
            done += count
            rate = (done - first) / max(1e-9, time.monotonic() - started)
            say(
                f"  {done:,}/{options.documents:,} documents, {rate:,.0f}/s, "
                f"about {(options.documents - done) / max(rate, 1e-9):,.0f} s left"
            )
        write_private(path, manifest)
        if database.engine.dialect.name == "postgresql":
            say("VACUUM ANALYZE (statistics for the planner, the visibility map for index-only scans)")
            with database.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        with database.session_scope() as session:
            manifest["counts"] = {
                "documents": session.scalar(select(func.count()).select_from(Document)),
                "document_versions": session.scalar(select(func.count()).select_from(DocumentVersion)),
                "users": session.scalar(select(func.count()).select_from(User)),
                "rooms": session.scalar(select(func.count()).select_from(Subcommittee)),
                "memberships": session.scalar(select(func.count()).select_from(Membership)),
            }
            manifest["levels"] = {
                Level(level).name: count
                for level, count in session.execute(
                    select(Document.level, func.count()).group_by(Document.level)
                )
            }
        manifest["seconds"] = round(time.monotonic() - began, 1)
        write_private(path, manifest)
        say(f"seeded in {manifest['seconds']} s: {manifest['counts']}; manifest {path}")
        return manifest
    finally:
        database.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--batch-size", type=int, default=2_000)
    parser.add_argument("--instance", type=Path, help="folder for the key file (default bench/results/...)")
    parser.add_argument("--recreate", action="store_true", help="drop the database first")
    parser.add_argument("--step", action="append", default=[], help="extra batch step, module:function")
    parser.add_argument(
        "--only-step",
        action="append",
        default=[],
        help="run only this step (module:function) over the documents already stored, then stop",
    )
    arguments = parser.parse_args(argv)
    if arguments.users < BENCH_READERS + 4:
        parser.error(f"--users must be at least {BENCH_READERS + 4}")
    seed(
        Options(
            database_url=arguments.database_url,
            documents=arguments.documents,
            rooms=arguments.rooms,
            users=arguments.users,
            seed=arguments.seed,
            batch_size=arguments.batch_size,
            instance=arguments.instance,
            recreate=arguments.recreate,
            steps=[*BATCH_STEPS, *(load_step(spec) for spec in arguments.step)],
            only_steps=[load_step(spec) for spec in arguments.only_step],
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
