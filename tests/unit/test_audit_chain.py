"""The audit trail's hash chain: verification, tampering, the `portal audit verify` command, denials that
outlive their transaction's rollback, and many concurrent writers that never fork the chain.

Every test runs on SQLite and, with PORTAL_TEST_DATABASE_URL, on PostgreSQL, where the append-only
trigger is asserted before a superuser disables it to tamper. The ``database`` fixture empties the
table and resets the chain head after each test, so every test starts at the genesis.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, Engine, delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from portal.accounts.models import User
from portal.cli import cli
from portal.db import Database, utcnow
from portal.enums import Level, OrganizationKind, Role
from portal.security import audit, policy
from portal.security.audit import GENESIS_HASH, Actor, AuditEvent
from portal.security.audit_models import AuditChainHead, AuditEntry
from portal.security.policy import AccessDenied, Subject

TRIGGER = "audit_entries_append_only"


# --- helpers --------------------------------------------------------------------------------------


def _event(number: int, action: str = "test.write", survives_rollback: bool = False) -> AuditEvent:
    """A varied entry: identifiers, a level, a decision and a small JSON detail with Japanese text."""
    return AuditEvent(
        actor=Actor(
            user_id=uuid.uuid4(),
            organization_id=uuid.uuid4(),
            session_id=uuid.uuid4() if number % 2 else None,
            ip_address="192.0.2.10",
        ),
        action=action,
        allowed=number % 3 != 0,
        rule=action,
        reason="OK" if number % 3 != 0 else "NOT_MEMBER",
        object_type="room" if number % 2 else None,
        object_id=str(uuid.uuid4()) if number % 2 else None,
        level=number % 4 if number % 5 else None,
        detail={"number": number, "分科会": "重要鉱物"},
        survives_rollback=survives_rollback,
    )


def _write(engine: Engine, count: int) -> None:
    assert audit.write(engine, [_event(number) for number in range(1, count + 1)]) == list(
        range(1, count + 1)
    )


def _is_postgresql(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _entries(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(select(AuditEntry.__table__).order_by(AuditEntry.seq)).mappings().all()
    return [dict(row) for row in rows]


def _count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def _assert_append_only(engine: Engine, seq: int) -> None:
    """On PostgreSQL the trigger refuses UPDATE and DELETE of an entry (SQLite has no such trigger)."""
    if not _is_postgresql(engine):
        return
    with pytest.raises(DBAPIError, match=r"append-only \(UPDATE refused\)"), engine.begin() as connection:
        connection.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(reason="TAMPERED"))
    with pytest.raises(DBAPIError, match=r"append-only \(DELETE refused\)"), engine.begin() as connection:
        connection.execute(delete(AuditEntry).where(AuditEntry.seq == seq))


@contextmanager
def _tampering(engine: Engine) -> Iterator[Connection]:
    """A transaction in which the append-only trigger is off (PostgreSQL, as the superuser).

    Disabling, tampering and re-enabling commit together; if the block fails, the rollback restores the
    trigger too (DDL is transactional on PostgreSQL).
    """
    with engine.begin() as connection:
        if _is_postgresql(engine):
            connection.execute(text(f"ALTER TABLE audit_entries DISABLE TRIGGER {TRIGGER}"))
        yield connection
        if _is_postgresql(engine):
            connection.execute(text(f"ALTER TABLE audit_entries ENABLE TRIGGER {TRIGGER}"))


def _trigger_enabled(engine: Engine) -> bool:
    with engine.connect() as connection:
        state = connection.scalar(
            text("SELECT tgenabled FROM pg_trigger WHERE tgname = :name"), {"name": TRIGGER}
        )
    return state == "O"


def _subject(user: User | None = None) -> Subject:
    """A member with no clearance; built in memory (no database work)."""
    user_id = user.id if user else uuid.uuid4()
    organization_id = user.organization_id if user else uuid.uuid4()
    return Subject(
        user_id=user_id,
        roles=frozenset({Role.MEMBER}),
        organization_id=organization_id,
        organization_kind=OrganizationKind.PRIVATE,
        organization_qualified=False,
        clearance_state="none",
        clearance_level=None,
        clearance_from_evaluation=False,
        compartments=frozenset(),
        actor=Actor(user_id=user_id, organization_id=organization_id, ip_address="192.0.2.20"),
    )


def _deny(session: Any, subject: Subject, object_id: object) -> None:
    with pytest.raises(AccessDenied):
        policy.require(
            session,
            subject,
            policy.deny("document.read", "CLEARANCE_MISSING"),
            object_type="document",
            object_id=object_id,
            level=Level.CONFIDENTIAL,
        )


# --- (a) an intact chain --------------------------------------------------------------------------


def test_an_empty_chain_verifies(database: Database) -> None:
    result = audit.verify(database.engine)
    assert result == audit.Verification(True, 0)


@pytest.mark.parametrize("count", [1, 37])
def test_written_entries_verify(database: Database, count: int) -> None:
    _write(database.engine, count)

    result = audit.verify(database.engine)

    assert result.ok, result
    assert result.checked == count
    assert result.first_broken_seq is None and result.problem is None
    entries = _entries(database.engine)
    assert [entry["seq"] for entry in entries] == list(range(1, count + 1))
    assert entries[0]["prev_hash"] == GENESIS_HASH
    for previous, entry in itertools.pairwise(entries):
        assert entry["prev_hash"] == previous["hash"]
    with database.engine.connect() as connection:
        head = connection.execute(select(AuditChainHead.last_seq, AuditChainHead.last_hash)).one()
    assert (head.last_seq, head.last_hash) == (count, entries[-1]["hash"])


def test_verification_walks_across_batches(database: Database) -> None:
    _write(database.engine, 23)
    assert audit.verify(database.engine, batch=5) == audit.Verification(True, 23)


def test_entries_written_in_separate_transactions_continue_one_chain(database: Database) -> None:
    for number in range(1, 6):
        assert audit.write(database.engine, [_event(number)]) == [number]
    assert audit.write(database.engine, []) == []
    assert audit.verify(database.engine) == audit.Verification(True, 5)


# --- (b) tampering --------------------------------------------------------------------------------


def test_altering_a_reason_breaks_the_chain_at_that_entry(database: Database) -> None:
    engine = database.engine
    _write(engine, 10)
    _assert_append_only(engine, 4)
    assert audit.verify(engine).ok, "a refused change must leave the chain intact"

    with _tampering(engine) as connection:
        connection.execute(update(AuditEntry).where(AuditEntry.seq == 4).values(reason="OK_FORGED"))
    if _is_postgresql(engine):
        assert _trigger_enabled(engine)

    result = audit.verify(engine)
    assert not result.ok
    assert result.first_broken_seq == 4
    assert result.checked == 3
    assert result.problem == "entry altered (hash mismatch)"


def test_altering_the_time_breaks_the_chain_at_that_entry(database: Database) -> None:
    engine = database.engine
    _write(engine, 6)
    original = _entries(engine)[5 - 1]["at"]

    with _tampering(engine) as connection:
        connection.execute(
            update(AuditEntry).where(AuditEntry.seq == 5).values(at=original - timedelta(seconds=1))
        )

    result = audit.verify(engine)
    assert (result.ok, result.first_broken_seq, result.checked) == (False, 5, 4)


def test_flipping_a_denial_to_allowed_is_detected(database: Database) -> None:
    engine = database.engine
    _write(engine, 6)  # entries 3 and 6 are denials
    assert _entries(engine)[2]["allowed"] is False

    with _tampering(engine) as connection:
        connection.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(allowed=True, reason="OK"))

    assert audit.verify(engine).first_broken_seq == 3


def test_rewriting_an_entry_with_a_fresh_hash_breaks_the_next_link(database: Database) -> None:
    engine = database.engine
    _write(engine, 8)
    forged = _entries(engine)[3 - 1]
    forged["reason"] = "OK_FORGED"
    forged_hash = audit.entry_hash(forged)

    with _tampering(engine) as connection:
        connection.execute(
            update(AuditEntry).where(AuditEntry.seq == 3).values(reason="OK_FORGED", hash=forged_hash)
        )

    result = audit.verify(engine)
    assert (result.ok, result.first_broken_seq, result.checked) == (False, 4, 3)
    assert result.problem == "link to the previous entry broken"


def test_deleting_a_middle_entry_breaks_the_chain_at_its_seq(database: Database) -> None:
    engine = database.engine
    _write(engine, 9)
    _assert_append_only(engine, 5)
    assert _count(engine) == 9

    with _tampering(engine) as connection:
        connection.execute(delete(AuditEntry).where(AuditEntry.seq == 5))

    result = audit.verify(engine)
    assert (result.ok, result.first_broken_seq, result.checked) == (False, 5, 4)
    assert result.problem == "missing entry"


def test_deleting_the_newest_entry_is_detected_through_the_head(database: Database) -> None:
    engine = database.engine
    _write(engine, 4)

    with _tampering(engine) as connection:
        connection.execute(delete(AuditEntry).where(AuditEntry.seq == 4))

    result = audit.verify(engine)
    assert (result.ok, result.first_broken_seq, result.checked) == (False, 4, 3)
    assert result.problem == "entries missing at the end of the chain"


# --- (c) the command line -------------------------------------------------------------------------


def _run_verify(database_url: str, instance: Path) -> Any:
    runner = CliRunner()
    return runner.invoke(
        cli,
        ["audit", "verify"],
        env={"PORTAL_DATABASE_URL": database_url, "PORTAL_INSTANCE_PATH": str(instance), "PORTAL_ENV": None},
        catch_exceptions=False,
    )


def test_cli_verify_reports_an_intact_chain(database: Database, database_url: str, tmp_path: Path) -> None:
    _write(database.engine, 12)

    result = _run_verify(database_url, tmp_path / "cli-instance")

    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    assert "12 entries verified" in result.output


def test_cli_verify_fails_naming_the_broken_entry(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    _write(database.engine, 12)
    with _tampering(database.engine) as connection:
        connection.execute(update(AuditEntry).where(AuditEntry.seq == 7).values(reason="OK_FORGED"))

    result = _run_verify(database_url, tmp_path / "cli-instance")

    assert result.exit_code != 0
    assert "intact" not in result.output
    assert "audit chain broken at entry 7" in result.output
    assert "6 entries before it verified" in result.output


# --- (d) denials survive their transaction's rollback; changes do not -----------------------------


def _actions(engine: Engine) -> list[tuple[str, bool, str]]:
    return [(entry["action"], entry["allowed"], entry["reason"]) for entry in _entries(engine)]


def test_a_denial_survives_the_rollback_and_a_change_does_not(demo: Database) -> None:
    before = len(_entries(demo.engine))  # the demo's own changes (meetings scheduled through the service)
    session = demo.session_factory()
    try:
        user = session.scalar(select(User).where(User.email == "watanabe@setouchi-zosen.example.jp"))
        assert user is not None
        user_id = user.id
        subject = policy.load_subject(session, user, utcnow())
        policy.record_change(session, subject, "admin.test_change", object_type="user", object_id=user.id)
        document_id = uuid.uuid4()
        _deny(session, subject, document_id)
        session.rollback()
    finally:
        session.close()

    entries = _entries(demo.engine)[before:]
    assert [(e["action"], e["allowed"], e["reason"]) for e in entries] == [
        ("document.read", False, "CLEARANCE_MISSING")
    ]
    assert entries[0]["actor_id"] == user_id
    assert entries[0]["object_id"] == str(document_id)
    assert entries[0]["level"] == int(Level.CONFIDENTIAL)
    assert audit.verify(demo.engine) == audit.Verification(True, before + 1)


def test_a_change_queued_and_rolled_back_is_not_written(database: Database) -> None:
    session = database.session_factory()
    try:
        session.execute(select(1))
        policy.record_change(session, _subject(), "admin.test_change", object_type="user", object_id="x")
        session.rollback()
    finally:
        session.close()
    assert _count(database.engine) == 0
    assert audit.verify(database.engine) == audit.Verification(True, 0)


def test_a_denial_inside_session_scope_is_written_when_the_error_propagates(database: Database) -> None:
    subject = _subject()
    with pytest.raises(AccessDenied), database.session_scope() as session:
        policy.record_change(session, subject, "admin.test_change", object_type="user", object_id="x")
        policy.require(
            session, subject, policy.deny("room.enter", "NOT_MEMBER"), object_type="room", object_id="r1"
        )
    assert _actions(database.engine) == [("room.enter", False, "NOT_MEMBER")]


def test_a_commit_writes_every_queued_event_in_order(database: Database) -> None:
    subject = _subject()
    with database.session_scope() as session:
        policy.record_change(session, subject, "admin.first", object_type="user", object_id="x")
        policy.record_change(session, subject, "admin.second", object_type="user", object_id="y")
    assert _actions(database.engine) == [("admin.first", True, "OK"), ("admin.second", True, "OK")]
    assert audit.verify(database.engine).ok


def test_a_denial_queued_after_a_commit_survives_rollback_and_close(database: Database) -> None:
    session = database.session_factory()
    try:
        session.execute(select(1))
        session.commit()  # the work so far is done; no transaction is open now
        _deny(session, _subject(), "after-commit")
        session.rollback()
    finally:
        session.close()
    assert _actions(database.engine) == [("document.read", False, "CLEARANCE_MISSING")]


# --- (e) concurrent writers -----------------------------------------------------------------------


def _concurrent_writers(database_url: str, writers: int, per_writer: int) -> None:
    """``writers`` threads, each with its own Database (engine, pool, sessions), committing one event per
    transaction through the session queue, all released at once."""
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def work(number: int) -> None:
        own = Database(database_url)
        try:
            barrier.wait(timeout=30)
            subject = _subject()
            for item in range(per_writer):
                with own.session_scope() as session:
                    policy.record_change(
                        session, subject, f"test.writer{number}", object_type="item", object_id=item
                    )
        except BaseException as error:  # reported to the main thread below
            errors.append(error)
        finally:
            own.dispose()

    threads = [
        threading.Thread(target=work, args=(number,), name=f"writer-{number}") for number in range(writers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    assert not errors, errors


def _assert_one_unbroken_chain(engine: Engine, writers: int, per_writer: int) -> None:
    total = writers * per_writer
    result = audit.verify(engine)
    assert result.ok, result
    assert result.checked == total
    entries = _entries(engine)
    assert [entry["seq"] for entry in entries] == list(range(1, total + 1))
    assert len({entry["prev_hash"] for entry in entries}) == total, "two entries share a predecessor: a fork"
    assert len({entry["hash"] for entry in entries}) == total
    for number in range(writers):
        mine = [entry for entry in entries if entry["action"] == f"test.writer{number}"]
        assert sorted(int(entry["object_id"]) for entry in mine) == list(range(per_writer))
    with engine.connect() as connection:
        head = connection.execute(select(AuditChainHead.last_seq, AuditChainHead.last_hash)).one()
    assert (head.last_seq, head.last_hash) == (total, entries[-1]["hash"])


def test_a_thousand_entries_from_eight_concurrent_writers_form_one_chain(
    database: Database, database_url: str
) -> None:
    if not _is_postgresql(database.engine):
        pytest.skip("SQLite has one writer at a time; the full concurrency test runs on PostgreSQL")
    _concurrent_writers(database_url, writers=8, per_writer=125)
    _assert_one_unbroken_chain(database.engine, writers=8, per_writer=125)


def test_concurrent_writers_on_sqlite_form_one_chain(database: Database, database_url: str) -> None:
    if _is_postgresql(database.engine):
        pytest.skip("the smaller SQLite variant; PostgreSQL runs the full test")
    _concurrent_writers(database_url, writers=4, per_writer=30)
    _assert_one_unbroken_chain(database.engine, writers=4, per_writer=30)
