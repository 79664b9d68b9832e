"""A quick in-process check of the search path (no HTTP): seed N generated documents over R rooms, index
them, and time ``portal.search.service.search`` for a two-word Japanese query as a member of every room.

    .venv/bin/python bench/search_micro.py --url postgresql+psycopg://postgres@127.0.0.1:5432/search_micro \
        --documents 20000 --rooms 20 --match-share 0.02

The database is created (PostgreSQL) or a temporary SQLite file is used; it is dropped afterwards unless
``--keep``. Not part of `make bench` (a developer's check; the HTTP benchmark is separate).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import MINERALS, body_text
from portal import migrate
from portal.accounts.models import User
from portal.db import Database, utcnow
from portal.demo import load as load_demo
from portal.documents.models import Document
from portal.documents.service import SEARCH_KIND_DOCUMENT, seal_text
from portal.enums import Level, RoomRole, SubcommitteeKind
from portal.rooms.models import Membership, Subcommittee
from portal.search import index
from portal.search import service as search_service
from portal.search.models import SearchToken
from portal.security import policy
from portal.security.blind_index import parse_query
from portal.security.keyring import Keyring
from portal.security.keys import FileKeyProvider, create_key_file

QUERY = "レアアース 輸出規制"
MATCHING_SENTENCE = "レアアースの輸出規制が強化された場合の影響を点検する。"
#: Sentences that share bigrams with the query without holding its words (false-positive material).
NEAR_SENTENCES = ("輸出の規制について整理する。", "レアメタルとアースの扱いを確認する。")


def _database(url: str | None, directory: Path) -> tuple[str, bool]:
    if url is None:
        return f"sqlite:///{directory / 'search.sqlite3'}", False
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    return url, True


def seed(database: Database, documents: int, rooms: int, match_share: float) -> None:
    rng = random.Random(2026)
    with database.session_scope() as session:
        load_demo(session)
    with database.session_scope() as session:
        tanaka = session.scalar(select(User).where(User.email == "tanaka@meti.example.jp"))
        assert tanaka is not None
        room_ids = []
        for number in range(rooms):
            room = Subcommittee(
                kind=SubcommitteeKind.RAPID_RESPONSE,
                name_ja=f"試験分科会{number}",
                name_en=f"Bench room {number}",
                max_level=Level.CESI,
            )
            session.add(room)
            session.flush()
            session.add(
                Membership(
                    subcommittee_id=room.id,
                    user_id=tanaka.id,
                    room_role=RoomRole.MEMBER,
                    valid_from=utcnow() - timedelta(days=1),
                )
            )
            room_ids.append(room.id)
        author = tanaka.id
    started = time.perf_counter()
    batch = 500
    for start in range(0, documents, batch):
        with database.session_scope() as session:
            keys = {room: index.index_key(session, room) for room in room_ids}
            token_rows = []
            for number in range(start, min(start + batch, documents)):
                mineral = MINERALS[number % len(MINERALS)]
                body = body_text(rng, mineral, 560)
                if rng.random() < match_share:
                    body += MATCHING_SENTENCE
                elif rng.random() < 0.2:
                    body += rng.choice(NEAR_SENTENCES)
                title = f"{mineral} 検討資料 {number}"
                room = room_ids[number % len(room_ids)]
                document = Document(
                    id=uuid.uuid4(),
                    subcommittee_id=room,
                    level=Level.RESTRICTED,
                    classified_by_id=author,
                    created_by_id=author,
                    updated_at=utcnow() - timedelta(seconds=number),
                )
                seal_text(
                    session,
                    policy.maintenance_grant("document", document.id),
                    document,
                    title=title,
                    body=body,
                    reason=None,
                )
                session.add(document)
                for token in keys[room].tokens([title, body]):
                    token_rows.append(
                        {"token": token, "item_kind": SEARCH_KIND_DOCUMENT, "item_id": document.id}
                    )
            session.flush()
            for offset in range(0, len(token_rows), 10000):
                session.execute(insert(SearchToken), token_rows[offset : offset + 10000])
        print(f"\r{min(start + batch, documents)} documents ({time.perf_counter() - started:.0f} s)", end="")
    print()
    with database.engine.connect() as connection:
        if database.engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        else:
            connection.execute(text("ANALYZE"))
            connection.commit()


def measure(database: Database, rounds: int) -> None:
    with database.session_scope() as session:
        tanaka = session.scalar(select(User).where(User.email == "tanaka@meti.example.jp"))
        assert tanaka is not None
        tokens = session.scalar(select(text("count(*)")).select_from(SearchToken))
    print(f"search_tokens rows: {tokens}")
    timings, candidate_timings = [], []
    result = None
    for _round in range(rounds):
        with database.session_scope() as session:
            tanaka = session.scalar(select(User).where(User.email == "tanaka@meti.example.jp"))
            assert tanaka is not None
            subject = policy.load_subject(session, tanaka, utcnow())
            began = time.perf_counter()
            candidates = search_service._candidates(
                session,
                subject,
                parse_query(QUERY),
                list(search_service.KINDS.values()),
                search_service.CANDIDATE_LIMIT + 1,
            )
            candidate_timings.append(time.perf_counter() - began)
            began = time.perf_counter()
            result = search_service.search(session, subject, QUERY)
            timings.append(time.perf_counter() - began)
    assert result is not None

    def line(name: str, values: list[float]) -> str:
        ordered = sorted(values)
        p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
        return f"{name}: median {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"

    print(f"candidates: {len(candidates)}, confirmed total: {result.total}, capped: {result.capped}")
    print(line("candidate query only", candidate_timings))
    print(line("whole search (query, open, confirm, page of 20 with snippets)", timings))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", help="PostgreSQL URL (database is created); default: temporary SQLite")
    parser.add_argument("--documents", type=int, default=20000)
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--match-share", type=float, default=0.02)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--keep", action="store_true")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="search-micro-") as folder:
        directory = Path(folder)
        key_file = directory / "portal.key"
        create_key_file(key_file)
        import os

        os.environ["PORTAL_KEY_FILE"] = str(key_file)
        url, is_postgres = _database(arguments.url, directory)
        migrate.upgrade(url)
        database = Database(url, keyring=Keyring(FileKeyProvider(key_file)))
        try:
            seed(database, arguments.documents, arguments.rooms, arguments.match_share)
            measure(database, arguments.rounds)
        finally:
            database.dispose()
            if is_postgres and not arguments.keep:
                admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
                with admin.connect() as connection:
                    name = make_url(url).database
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
