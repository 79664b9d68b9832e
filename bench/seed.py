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
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

BENCH = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH.parent
for _path in (PROJECT_ROOT, BENCH):  # `python bench/seed.py` puts only bench/ on the path
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import scale_text  # noqa: E402
from scale_population import (  # noqa: E402
    BENCH_PASSWORD,
    BENCH_READERS,
    COMPARTMENTS,
    Plan,
    make_plan,
    random_uuid,
    store_population,
)
from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from portal import migrate  # noqa: E402
from portal.accounts.models import User  # noqa: E402
from portal.app import make_database  # noqa: E402
from portal.config import load_settings  # noqa: E402
from portal.db import Database  # noqa: E402
from portal.documents import attachments, filetypes  # noqa: E402
from portal.documents.models import (  # noqa: E402
    Document,
    DocumentAttachment,
    DocumentCaveat,
    DocumentReader,
    DocumentVersion,
)
from portal.documents.service import SEARCH_KIND_DOCUMENT  # noqa: E402
from portal.enums import (  # noqa: E402
    GOV_ONLY_CODE,
    Level,
    ReleaseMarking,
)
from portal.meta import PortalMeta, get_meta, set_meta  # noqa: E402
from portal.rooms.models import Membership, Subcommittee  # noqa: E402
from portal.search import index as search_index  # noqa: E402
from portal.search.models import SearchToken  # noqa: E402
from portal.security import crypto, policy  # noqa: E402
from portal.security.blind_index import IndexKey, token_texts  # noqa: E402
from portal.security.crypto import DataKey, FieldContext  # noqa: E402
from portal.security.keyring import Keyring, keyring_of  # noqa: E402
from portal.security.keys import create_key_file  # noqa: E402

RESULTS = BENCH / "results"
META_POPULATION = "bench_seed.population"
META_DOCUMENTS = "bench_seed.documents_done"
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
        id=random_uuid(rng),
        version_id=random_uuid(rng),
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


# --- the search index -----------------------------------------------------------------------------------

#: Token text -> token, per index key (its material): the generated text repeats its words, so each distinct
#: bigram is HMAC'd once per room instead of once per document. The tokens are the portal's own
#: (``IndexKey.token``); this is only a memo of a pure function.
_TOKEN_MEMO: dict[bytes, dict[str, int]] = {}


def document_tokens(key: IndexKey, title: str, body: str) -> set[int]:
    """The same tokens as ``index_key(...).tokens([title, body])`` (what ``documents.service`` stores)."""
    memo = _TOKEN_MEMO.setdefault(key.material, {})
    found = token_texts(title) | token_texts(body)
    tokens = set()
    for token_text in found:
        token = memo.get(token_text)
        if token is None:
            token = memo[token_text] = key.token(token_text)
        tokens.add(token)
    return tokens


def index_documents(batch: SeedBatch) -> None:
    """Each document's title and body in the blind index, as the portal indexes them on creation: the same
    tokeniser (``portal.security.blind_index``), the room's own index key (``portal.search.index.index_key``,
    which makes the room's ``index`` data key on first use), kind ``document``. Rows go in by COPY on
    PostgreSQL (a batch of 2,000 documents is about 700,000 rows), by executemany elsewhere."""
    session = batch.session
    keys: dict[uuid.UUID, IndexKey] = {}
    rows: list[tuple[int, str, uuid.UUID]] = []
    for seeded in batch.documents:
        key = keys.get(seeded.room_id)
        if key is None:
            key = keys[seeded.room_id] = search_index.index_key(session, seeded.room_id)
        tokens = document_tokens(key, seeded.title, seeded.body)
        rows.extend((token, SEARCH_KIND_DOCUMENT, seeded.id) for token in tokens)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        copy_sql = "COPY search_tokens (token, item_kind, item_id) FROM STDIN"
        with driver.cursor() as cursor, cursor.copy(copy_sql) as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
        return
    for start in range(0, len(rows), 20_000):
        session.execute(
            insert(SearchToken.__table__),
            [{"token": t, "item_kind": k, "item_id": i} for t, k, i in rows[start : start + 20_000]],
        )


#: A fresh PostgreSQL load fills ``search_tokens`` without its indexes and builds them at the end (the same
#: names and columns as the migration makes them); a resumed run keeps them.
DROP_SEARCH_INDEXES_SQL = (
    "ALTER TABLE search_tokens DROP CONSTRAINT IF EXISTS pk_search_tokens; "
    "DROP INDEX IF EXISTS ix_search_tokens_item"
)
CREATE_SEARCH_INDEXES_SQL = (
    "ALTER TABLE search_tokens ADD CONSTRAINT pk_search_tokens PRIMARY KEY (token, item_kind, item_id)",
    "CREATE INDEX ix_search_tokens_item ON search_tokens (item_kind, item_id)",
)


# --- attachments -------------------------------------------------------------------------------------------

#: One 20 MiB attachment per group of benchmark readers: reader n sits in rooms 5n..5n+3 (mod 20), so rooms
#: 0, 5, 10 and 15 give every reader one file in a room of theirs.
ATTACHMENT_BYTES = 20 * 1024 * 1024
ATTACHMENT_ROOM_STRIDE = 5
ATTACHMENT_NAME = "重要物資_輸入実績_明細.csv"


def attachment_csv(size: int, seed: int) -> IO[bytes]:
    """A realistic CSV (UTF-8, Japanese: date, ministry, item, country, quantity, value, note) of exactly
    ``size`` bytes, in a temporary file (never whole in memory)."""
    rng = random.Random(seed)
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (returned open; the caller closes it)
    header = "日付,所管,品目,相手国,数量(t),金額(千円),備考\n".encode()
    handle.write(header)
    written = len(header)
    items = [subject for subject in scale_text.SUBJECTS]
    countries = ["中国", "豪州", "米国", "チリ", "インドネシア", "南アフリカ", "ベトナム", "カナダ", "韓国"]
    ministries = ["経済産業省", "外務省", "財務省", "国土交通省", "防衛省", "内閣府"]
    notes = ["", "", "速報値", "確報値", "前年同期比で増加", "輸出規制の影響あり", "代替調達先を検討中"]
    day = datetime(2024, 4, 1)
    while True:
        day += timedelta(minutes=rng.randint(1, 30))
        line = (
            f"{day:%Y-%m-%d},{rng.choice(ministries)},{rng.choice(items)},{rng.choice(countries)},"
            f"{rng.randint(1, 90_000)},{rng.randint(100, 9_000_000)},{rng.choice(notes)}\n"
        ).encode()
        if written + len(line) > size - 64:
            break
        handle.write(line)
        written += len(line)
    padding = size - written
    handle.write(b"#" + b"-" * (padding - 2) + b"\n")
    handle.seek(0)
    return handle


def attach_downloads(batch: SeedBatch) -> None:
    """A 20 MiB CSV on the first PUBLIC document of rooms 0, 5, 10 and 15 (every benchmark reader belongs to
    one of them), stored through ``portal.documents.attachments.store`` (sealed in 256 KiB chunks with the
    room's ``files`` key, its checksum sealed beside it), with a maintenance grant. Runs in the batch holding
    the first documents; an attachment already there is reused. Records ``manifest["downloads"]``."""
    session = batch.session
    rooms = batch.plan.rooms[::ATTACHMENT_ROOM_STRIDE]
    wanted = {room.id: room for room in rooms}
    chosen: dict[uuid.UUID, SeededDocument] = {}
    for seeded in batch.documents:
        if seeded.room_id in wanted and seeded.room_id not in chosen and seeded.level == Level.PUBLIC:
            chosen[seeded.room_id] = seeded
    if len(chosen) < len(wanted) or batch.documents[0].index != 0:
        return
    downloads = []
    for room in rooms:
        seeded = chosen[room.id]
        document = session.get(Document, seeded.id)
        assert document is not None
        attachment = session.scalar(
            select(DocumentAttachment).where(DocumentAttachment.document_id == document.id).limit(1)
        )
        if attachment is None:
            with attachment_csv(ATTACHMENT_BYTES, batch.plan.seed + room.index) as stream:
                upload = attachments.Upload(stream, ATTACHMENT_NAME)
                kind = filetypes.detect(stream, ATTACHMENT_NAME)
                attachment = attachments.store(
                    session,
                    policy.maintenance_grant("document", document.id),
                    document,
                    upload,
                    kind,
                    seeded.author_id,
                )
        downloads.append(
            {
                "path": f"/rooms/{room.id}/documents/{document.id}/attachments/{attachment.id}",
                "bytes": attachment.size,
                "room": str(room.id),
            }
        )
    batch.manifest["downloads"] = downloads


#: Run in order for every batch, in its transaction (or pass ``--step module:function``); each gets a
#: :class:`SeedBatch`.
BATCH_STEPS: list[BatchStep] = [store_documents, index_documents, attach_downloads]


def load_step(spec: str) -> BatchStep:
    module_name, _, function_name = spec.partition(":")
    if not function_name:
        raise SystemExit(f"--step wants module:function, not {spec!r}")
    step: BatchStep = getattr(importlib.import_module(module_name), function_name)
    return step


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
        if 0 < done < options.documents:
            say(f"resuming at document {done:,}")
        bulk_tokens = (
            done == 0 and index_documents in options.steps and database.engine.dialect.name == "postgresql"
        )
        if bulk_tokens:  # a fresh load: build the token indexes once at the end, not row by row
            with database.engine.begin() as connection:
                connection.execute(text(DROP_SEARCH_INDEXES_SQL))
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
            with database.engine.begin() as connection:
                missing = not connection.scalar(
                    text("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_search_tokens_item'")
                )
                if missing:
                    say("building the search_tokens indexes")
                    connection.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
                    for statement in CREATE_SEARCH_INDEXES_SQL:
                        connection.execute(text(statement))
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
        if index_documents in options.steps:
            manifest["search_check"] = check_search(database, plan)
            say(f"search check: {manifest['search_check']}")
        manifest["seconds"] = round(time.monotonic() - began, 1)
        write_private(path, manifest)
        say(f"seeded in {manifest['seconds']} s: {manifest['counts']}; manifest {path}")
        return manifest
    finally:
        database.dispose()


SEARCH_CHECK_QUERY = "レアアース 輸出規制"


def check_search(database: Database, plan: Plan) -> dict[str, Any]:
    """A real search through the portal's service as the first benchmark reader: the index must find
    seeded documents (confirmed against their opened text)."""
    from portal.db import utcnow
    from portal.search import service as search_service

    reader = next(u for u in plan.users if u.bench_reader)
    with database.session_scope() as session:
        user = session.scalar(select(User).where(User.email == reader.email))
        assert user is not None, reader.email
        subject = policy.load_subject(session, user, utcnow())
        found = search_service.search(session, subject, SEARCH_CHECK_QUERY)
        session.rollback()  # the audit entries of the check are not kept
    if not found.results:
        raise SystemExit(f"search check: {SEARCH_CHECK_QUERY!r} found nothing (is index_documents a step?)")
    return {"query": SEARCH_CHECK_QUERY, "reader": reader.email, "total": found.total, "capped": found.capped}


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
