"""Key management with the file provider: `portal keys status | rotate-kek | rotate-dek | shred`, an
interrupted rotation, and refusing to start with a wrong or missing key. Runs on every backend.

Each test has a database of its own with the demo data and a copy of the suite's key file
(tests/keys_support.py). "Opened" values are read the way the key maintenance reads them: through the
keyring, with maintenance grants.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.documents.models import Document
from portal.documents.service import seal_text
from portal.enums import Level, ReleaseMarking
from portal.security import policy
from portal.security.crypto import key_id_of
from portal.security.keys import KeyFileError, create_key_file, read_key_file
from tests.conftest import BACKENDS, TEST_KEY_FILE, sign_in
from tests.keys_support import (
    DESTROYED,
    KeyedPortal,
    copy_private,
    parse_status,
    sign_in_with_code,
)
from tests.web.support import translated

MINERALS = "重要鉱物分科会"
AGI = "AGI分科会"
SHIPBUILDING = "造船分科会"
INFRASTRUCTURE = "重要インフラ機能停止分科会"
ROOMS_WITH_DOCUMENTS = (MINERALS, AGI, SHIPBUILDING, INFRASTRUCTURE)


@pytest.fixture(params=BACKENDS)
def keyed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyedPortal]:
    portal = KeyedPortal(request.param, tmp_path)
    yield portal
    portal.close()


#: The current title of a document (versions carry titles too).
DOCUMENT_TITLE = ("documents", "title")


def audit_details(keyed: KeyedPortal, action: str) -> list[tuple[str | None, dict[str, object]]]:
    return [(entry.object_id, json.loads(entry.detail)) for entry in keyed.audit(action)]


def titles(keyed: KeyedPortal) -> dict[str, uuid.UUID]:
    """Document titles (as opened) to document ids."""
    return {
        text: row_id
        for (table, column, row_id), text in keyed.opened().items()
        if (table, column) == DOCUMENT_TITLE
    }


#: Think-tank outputs: sealed with the system's ``fields`` key (they belong to no room).
OUTPUTS_TABLE = "thinktank_outputs"


# --- status ---------------------------------------------------------------------------------------


def test_status_lists_every_data_key_with_rows_that_add_up_to_the_sealed_values(keyed: KeyedPortal) -> None:
    output = keyed.ok("keys", "status")

    lines = parse_status(output)
    keys = {key.id: key for key in keyed.data_keys()}
    sealed = keyed.sealed()
    counts = keyed.key_counts()
    names = {keyed.room_id(name): name for name in ROOMS_WITH_DOCUMENTS}
    assert f"KEK: key file {keyed.key_file}, versions [1]" in output
    assert sorted(line.id for line in lines) == sorted(keys), output
    for line in lines:
        key = keys[line.id]
        assert line.room == (names[key.room_id] if key.room_id else "(system)")
        assert (line.purpose, line.version, line.state) == (key.purpose, key.version, key.state)
        assert (line.kek_provider, line.kek_version) == ("file", 1)
        assert line.rows == counts[line.id]
        # Search index keys make tokens (portal.search), not sealed values.
        assert line.rows > 0 if line.purpose != "index" else line.rows == 0
    assert sum(line.rows for line in lines) == len(sealed)
    # The demo data: a fields key for each room with documents and one for the system (think-tank outputs,
    # which belong to no room), one personal key for the whole system.
    assert sorted(line.room for line in lines if line.purpose == "fields") == sorted(
        [*ROOMS_WITH_DOCUMENTS, "(system)"]
    )
    assert [line.room for line in lines if line.purpose == "personal"] == ["(system)"]
    # ... and a files key where a file is attached (the minerals room's demo CSV).
    assert [line.room for line in lines if line.purpose == "files"] == [MINERALS]
    # ... and an index key per room with documents, and the system's (think-tank outputs are searchable).
    assert sorted(line.room for line in lines if line.purpose == "index") == sorted(
        [*ROOMS_WITH_DOCUMENTS, "(system)"]
    )
    assert {line.state for line in lines} == {"active"}
    # Per room, the rows of its keys are exactly the room's sealed values.
    for room_id, name in names.items():
        room_lines = [line for line in lines if line.room == name]
        assert sum(line.rows for line in room_lines) == sum(
            1 for room, _value in sealed.values() if room == room_id
        )


def test_status_refuses_a_key_file_that_does_not_open_the_database(
    keyed: KeyedPortal, tmp_path: Path
) -> None:
    other = tmp_path / "other" / "portal.key"
    create_key_file(other)

    output = keyed.refused("keys", "status", PORTAL_KEY_FILE=str(other))

    assert str(other) in output
    assert "does not open this database's data keys" in output


# --- KEK rotation ---------------------------------------------------------------------------------


def test_rotate_kek_rewraps_every_data_key_and_touches_no_sealed_row(
    keyed: KeyedPortal, tmp_path: Path
) -> None:
    keys_before = keyed.data_keys()
    sealed_before = keyed.sealed()
    opened_before = keyed.opened()
    old_key_file = copy_private(keyed.key_file, tmp_path / "old" / "portal.key")
    assert keyed.kek_versions() == [1]

    output = keyed.ok("keys", "rotate-kek")

    assert f"{len(keys_before)} data keys re-wrapped under KEK version 2; retired versions [1]" in output
    # The file holds the new version only, is still private, and the new KEK is new material.
    assert keyed.kek_versions() == [2]
    assert stat.S_IMODE(keyed.key_file.stat().st_mode) == 0o600
    assert read_key_file(keyed.key_file)[2] != read_key_file(old_key_file)[1]
    # Every data key re-wrapped under it; the keys themselves (ids, versions, states) are the same.
    keys_after = keyed.data_keys()
    assert [(k.id, k.room_id, k.purpose, k.version, k.state) for k in keys_after] == [
        (k.id, k.room_id, k.purpose, k.version, k.state) for k in keys_before
    ]
    for before, after in zip(keys_before, keys_after, strict=True):
        assert (before.kek_provider, before.kek_version) == ("file", 1)
        assert (after.kek_provider, after.kek_version) == ("file", 2)
        assert after.wrapped is not None
        assert after.wrapped != before.wrapped
    # No sealed byte changed, and everything opens under the new KEK.
    assert keyed.sealed() == sealed_before
    assert keyed.opened() == opened_before
    # The suite's own key file was not touched (the test rotated its private copy).
    assert read_key_file(TEST_KEY_FILE) == read_key_file(old_key_file)
    assert audit_details(keyed, "keys.rotate_kek") == [
        ("file:2", {"rewrapped": len(keys_before), "source": "file"})
    ]
    assert "audit chain intact" in keyed.ok("audit", "verify")

    # TOTP secrets open: `portal demo totp` prints a code, and the web sign-in accepts it.
    code = keyed.ok("demo", "totp", "tanaka@meti.example.jp").strip()
    assert re.fullmatch(r"\d{6}", code)
    sign_in_with_code(keyed.app().test_client(), "tanaka@meti.example.jp", code)

    # The retired KEK opens nothing any more: an app with the old key file refuses to start.
    with pytest.raises(KeyFileError, match=re.escape(str(old_key_file))):
        keyed.app(key_file=str(old_key_file))

    # A second rotation retires version 2 the same way.
    assert "retired versions [2]" in keyed.ok("keys", "rotate-kek")
    assert keyed.kek_versions() == [3]
    assert {key.kek_version for key in keyed.data_keys()} == {3}
    assert keyed.sealed() == sealed_before
    assert keyed.opened() == opened_before


def test_rotate_kek_with_a_key_file_that_does_not_open_the_database_changes_nothing(
    keyed: KeyedPortal, tmp_path: Path
) -> None:
    other = tmp_path / "other" / "portal.key"
    create_key_file(other)
    original = other.read_bytes()
    keys_before = keyed.data_keys()

    output = keyed.refused("keys", "rotate-kek", PORTAL_KEY_FILE=str(other))

    assert "does not open this database's data keys" in output
    assert other.read_bytes() == original
    assert keyed.kek_versions() == [1]
    assert keyed.data_keys() == keys_before
    assert keyed.audit("keys.rotate_kek") == []


# --- DEK rotation ---------------------------------------------------------------------------------


def test_rotate_dek_of_a_room_reseals_only_its_rows_and_destroys_the_old_key(keyed: KeyedPortal) -> None:
    minerals = keyed.room_id(MINERALS)
    (old,) = keyed.room_keys(minerals, "fields")
    (old_files,) = keyed.room_keys(minerals, "files")  # the demo room holds an attached file
    keys_before = keyed.data_keys()
    sealed_before = keyed.sealed()
    opened_before = keyed.opened()
    in_room = {field for field, (room, _value) in sealed_before.items() if room == minerals}
    chunks = {field for field in in_room if field[0] == "attachment_chunks"}
    assert len(in_room) > 10  # titles, bodies, reasons, versions, file names and chunks of the room
    assert chunks

    output = keyed.ok("keys", "rotate-dek", MINERALS, "--batch", "3")

    assert f"{len(in_room)} values re-sealed; 2 retired data keys destroyed" in output
    destroyed, new = keyed.room_keys(minerals, "fields")
    destroyed_files, new_files = keyed.room_keys(minerals, "files")
    assert (destroyed.id, destroyed.version, destroyed.state, destroyed.wrapped) == (
        old.id,
        1,
        "destroyed",
        None,
    )
    assert (destroyed_files.id, destroyed_files.state) == (old_files.id, "destroyed")
    assert (new.version, new.state, new_files.version, new_files.state) == (2, "active", 2, "active")
    sealed_after = keyed.sealed()
    assert set(sealed_after) == set(sealed_before)
    for field, (room, value) in sealed_after.items():
        if room == minerals:
            assert key_id_of(value) == (new_files.id if field in chunks else new.id), field
        else:
            assert value == sealed_before[field][1], f"{field} of another room changed"
    assert keyed.opened() == opened_before
    assert [k for k in keyed.data_keys() if k.room_id != minerals] == [
        k for k in keys_before if k.room_id != minerals
    ]
    # The room's search index key is replaced too; the index is rebuilt under the new one.
    assert "search index key replaced" in output
    assert [(k.version, k.state) for k in keyed.room_keys(minerals, "index")] == [
        (1, "destroyed"),
        (2, "active"),
    ]
    assert sorted(audit_details(keyed, "keys.rotate_dek"), key=str) == [
        (str(minerals), {"purpose": "fields", "version": 2}),
        (str(minerals), {"purpose": "files", "version": 2}),
        (str(minerals), {"purpose": "index", "version": 2}),
    ]
    assert sorted(audit_details(keyed, "keys.rotate_dek_done"), key=str) == [
        (str(minerals), {"destroyed": 1, "purpose": "fields"}),
        (str(minerals), {"destroyed": 1, "purpose": "files"}),
        (str(minerals), {"destroyed": 1, "purpose": "index"}),
    ]
    status = {line.id: line for line in parse_status(keyed.ok("keys", "status"))}
    assert (status[old.id].state, status[old.id].rows) == ("destroyed", 0)
    assert (status[new.id].state, status[new.id].rows) == ("active", len(in_room) - len(chunks))
    assert (status[new_files.id].state, status[new_files.id].rows) == ("active", len(chunks))

    # Again, naming the room in English: version 3; version 2 destroyed in turn.
    assert f"{len(in_room)} values re-sealed" in keyed.ok(
        "keys", "rotate-dek", "Critical Minerals Subcommittee"
    )
    assert [(k.version, k.state) for k in keyed.room_keys(minerals, "fields")] == [
        (1, "destroyed"),
        (2, "destroyed"),
        (3, "active"),
    ]
    assert keyed.opened() == opened_before


def test_rotate_dek_refuses_an_unknown_room(keyed: KeyedPortal) -> None:
    keys_before = keyed.data_keys()

    assert "no subcommittee" in keyed.refused("keys", "rotate-dek", "存在しない分科会")

    assert keyed.data_keys() == keys_before


def test_rotate_dek_system_reseals_totp_secrets_and_evaluation_references(keyed: KeyedPortal) -> None:
    (old,) = keyed.room_keys(None, "personal")
    (old_fields,) = keyed.room_keys(None, "fields")  # think-tank outputs belong to no room
    sealed_before = keyed.sealed()
    opened_before = keyed.opened()
    system = {field for field, (room, _value) in sealed_before.items() if room is None}
    outputs = {field for field in system if field[0] == OUTPUTS_TABLE}
    assert {table for table, _column, _row in system - outputs} == {"users", "clearances"}
    assert outputs

    output = keyed.ok("keys", "rotate-dek", "system")

    assert f"{len(system)} values re-sealed; 2 retired data keys destroyed" in output
    destroyed, new = keyed.room_keys(None, "personal")
    destroyed_fields, new_fields = keyed.room_keys(None, "fields")
    assert (destroyed.id, destroyed.state, destroyed.wrapped) == (old.id, "destroyed", None)
    assert (destroyed_fields.id, destroyed_fields.state) == (old_fields.id, "destroyed")
    assert (new.version, new.state) == (2, "active")
    for field, (_room, value) in keyed.sealed().items():
        if field in outputs:
            assert key_id_of(value) == new_fields.id, field
        elif field in system:
            assert key_id_of(value) == new.id, field
        else:  # the rooms' values: untouched
            assert value == sealed_before[field][1], f"field {field} changed"
    assert keyed.opened() == opened_before
    assert sorted(audit_details(keyed, "keys.rotate_dek"), key=str) == [
        ("system", {"purpose": "fields", "version": 2}),
        ("system", {"purpose": "index", "version": 2}),  # the outputs' search index, rebuilt
        ("system", {"purpose": "personal", "version": 2}),
    ]
    assert "search index key replaced" in output

    # Sign-in still works: `portal demo totp`, then the web sign-in with that code and with the suite's.
    code = keyed.ok("demo", "totp", "ito@toho-raremetals.example.jp").strip()
    assert re.fullmatch(r"\d{6}", code)
    app = keyed.app()
    sign_in_with_code(app.test_client(), "ito@toho-raremetals.example.jp", code)
    client = sign_in(app.test_client(), app.extensions["portal_db"], "tanaka@meti.example.jp")
    assert client.get("/account").status_code == 200


def add_documents(keyed: KeyedPortal, room_name: str, count: int) -> None:
    """``count`` more RESTRICTED documents in the room, sealed as the portal seals them."""
    room_id = keyed.room_id(room_name)
    with keyed.session() as session:
        author = session.scalar(select(User).where(User.email == "takahashi@mic.example.jp"))
        assert author is not None
        for number in range(count):
            document = Document(
                id=uuid.uuid4(),
                subcommittee_id=room_id,
                level=Level.RESTRICTED,
                release=ReleaseMarking.GREEN,
                classified_by_id=author.id,
                created_by_id=author.id,
            )
            seal_text(
                session,
                policy.maintenance_grant("document", document.id),
                document,
                title=f"追加資料 第{number:03d}号",
                body=f"分科会の検討資料 {number} の本文。",
                reason=None,
            )
            session.add(document)


def test_an_interrupted_rotation_loses_nothing_and_resumes(keyed: KeyedPortal, tmp_path: Path) -> None:
    agi = keyed.room_id(AGI)
    add_documents(keyed, AGI, 300)
    (old,) = keyed.room_keys(agi, "fields")
    sealed_before = keyed.sealed()
    opened_before = keyed.opened()
    in_room = {field for field, (room, _value) in sealed_before.items() if room == agi}
    assert len(in_room) > 600

    def moved_to(key_id: uuid.UUID) -> int:
        return sum(1 for room, value in keyed.sealed().values() if room == agi and key_id_of(value) == key_id)

    # A real `portal keys rotate-dek` process, one row per transaction, each seal slowed down; killed
    # (SIGKILL: no cleanup of any kind) once some but not all of the room's rows are under the new key.
    log = tmp_path / "rotate-dek.log"
    process = keyed.spawn_slow("keys", "rotate-dek", AGI, "--batch", "1", seal_delay=0.01, log=log)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, f"the rotation ended before it was interrupted: {log.read_text()}"
            assert time.monotonic() < deadline, f"the rotation made no progress: {log.read_text()}"
            keys = keyed.room_keys(agi, "fields")
            if len(keys) == 2 and moved_to(keys[1].id) >= 20:
                break
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)

    # Half done: the old key decrypt-only, the new one active; nothing lost, everything opens.
    retiring, new = keyed.room_keys(agi, "fields")
    assert (retiring.id, retiring.state) == (old.id, "decrypt_only")
    assert retiring.wrapped is not None
    assert (new.version, new.state) == (2, "active")
    moved = moved_to(new.id)
    assert 20 <= moved < len(in_room)
    sealed_half = keyed.sealed()
    assert {key_id_of(value) for room, value in sealed_half.values() if room == agi} == {old.id, new.id}
    assert {f: v for f, v in sealed_half.items() if v[0] != agi} == {
        f: v for f, v in sealed_before.items() if v[0] != agi
    }
    assert keyed.opened() == opened_before
    # ... also through the web: the app starts, and a member reads a document under each key.
    title_of = {
        row_id: text for (t, column, row_id), text in opened_before.items() if (t, column) == DOCUMENT_TITLE
    }
    title_keys = {
        row: key_id_of(value)
        for (t, column, row), (_room, value) in sealed_half.items()
        if (t, column) == DOCUMENT_TITLE
    }
    under_new = next(row for row, key_id in title_keys.items() if key_id == new.id)
    under_old = next(row for row, key_id in title_keys.items() if key_id == old.id)
    app = keyed.app()
    client = sign_in(app.test_client(), app.extensions["portal_db"], "takahashi@mic.example.jp")
    for document_id in (under_new, under_old):
        page = client.get(f"/rooms/{agi}/documents/{document_id}")
        assert page.status_code == 200
        assert title_of[document_id] in page.get_data(as_text=True)

    # Running the command again resumes with the same new key (no third one) and completes.
    output = keyed.ok("keys", "rotate-dek", AGI, "--batch", "50")

    assert f"{len(in_room) - moved} values re-sealed; 1 retired data keys destroyed" in output
    destroyed, active = keyed.room_keys(agi, "fields")
    assert (destroyed.id, destroyed.state, destroyed.wrapped) == (old.id, "destroyed", None)
    assert (active.id, active.state) == (new.id, "active")
    sealed_after = keyed.sealed()
    assert {key_id_of(value) for room, value in sealed_after.values() if room == agi} == {new.id}
    assert {f: v for f, v in sealed_after.items() if v[0] != agi} == {
        f: v for f, v in sealed_before.items() if v[0] != agi
    }
    assert keyed.opened() == opened_before
    assert audit_details(keyed, "keys.rotate_dek") == [
        (str(agi), {"purpose": "fields", "version": 2}),
        (str(agi), {"purpose": "index", "version": 2}),
    ]
    assert audit_details(keyed, "keys.rotate_dek_done") == [
        (str(agi), {"destroyed": 1, "purpose": "fields"}),
        (str(agi), {"destroyed": 1, "purpose": "index"}),
    ]


# --- shredding ------------------------------------------------------------------------------------


def test_shred_with_a_wrong_confirmation_destroys_nothing(keyed: KeyedPortal) -> None:
    keys_before = keyed.data_keys()
    opened_before = keyed.opened()

    for typed in ("造船", "Shipbuilding Subcommittee", f"{SHIPBUILDING} "):
        output = keyed.refused("keys", "shred", SHIPBUILDING, "--confirm", typed)
        assert "nothing was destroyed" in output

    assert keyed.data_keys() == keys_before
    assert keyed.opened() == opened_before
    assert keyed.audit("keys.shred") == []


def test_shred_destroys_the_room_keys_and_nothing_else(keyed: KeyedPortal) -> None:
    shipbuilding = keyed.room_id(SHIPBUILDING)
    infrastructure = keyed.room_id(INFRASTRUCTURE)
    keys_before = keyed.data_keys()
    sealed_before = keyed.sealed()
    opened_before = keyed.opened()
    room_titles = {
        text: row
        for (table, column, row), text in opened_before.items()
        if (table, column) == ("documents", "title")
        and sealed_before[(table, column, row)][0] == shipbuilding
    }
    assert len(room_titles) == 2

    output = keyed.ok("keys", "shred", SHIPBUILDING, "--confirm", SHIPBUILDING)

    assert f"2 data keys of {SHIPBUILDING} destroyed" in output  # its fields key and its search index key
    for key in keyed.room_keys(shipbuilding, "fields") + keyed.room_keys(shipbuilding, "index"):
        assert (key.state, key.wrapped) == ("destroyed", None)
    assert [k for k in keyed.data_keys() if k.room_id != shipbuilding] == [
        k for k in keys_before if k.room_id != shipbuilding
    ]
    assert keyed.sealed() == sealed_before  # shredding destroys keys, not rows
    for field, text in keyed.opened().items():
        if sealed_before[field][0] == shipbuilding:
            assert text == DESTROYED, field
        else:
            assert text == opened_before[field], field
    assert audit_details(keyed, "keys.shred") == [(str(shipbuilding), {"destroyed": 2})]
    status = parse_status(keyed.ok("keys", "status"))
    assert [
        (line.state, line.rows) for line in status if line.room == SHIPBUILDING and line.purpose == "index"
    ] == [("destroyed", 0)]
    assert [
        (line.state, line.rows) for line in status if line.room == SHIPBUILDING and line.purpose == "fields"
    ] == [("destroyed", sum(1 for room, _value in sealed_before.values() if room == shipbuilding))]
    assert {line.state for line in status if line.room != SHIPBUILDING} == {"active"}

    # The web: the room lists its documents as destroyed, each document page says so (not a 500), and
    # another room's documents read as before. 鈴木 chairs the shipbuilding room and sits in infrastructure.
    app = keyed.app()
    client = sign_in(app.test_client(), app.extensions["portal_db"], "suzuki@mlit.example.jp")
    destroyed_wording = translated(app, "Destroyed content")
    room_page = client.get(f"/rooms/{shipbuilding}")
    assert room_page.status_code == 200
    html = room_page.get_data(as_text=True)
    document_list = html.split('data-testid="document-list"', 1)[1].split("</ul>", 1)[0]
    assert document_list.count(destroyed_wording) == len(room_titles)
    # The room's meeting is listed as destroyed too (its title was sealed with the same keys).
    meeting_list = html.split('data-testid="upcoming-meetings"', 1)[1].split("</ul>", 1)[0]
    assert destroyed_wording in meeting_list and "海底ケーブル敷設船の確保" not in html
    for title, document_id in room_titles.items():
        assert title not in html
        page = client.get(f"/rooms/{shipbuilding}/documents/{document_id}")
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        assert 'data-testid="destroyed"' in body
        assert title not in body
    other_title = "電力・通信・決済 相互依存シナリオ(案)"
    other_id = titles(keyed)[other_title]
    assert other_title in client.get(f"/rooms/{infrastructure}").get_data(as_text=True)
    page = client.get(f"/rooms/{infrastructure}/documents/{other_id}")
    assert page.status_code == 200
    assert 'data-testid="destroyed"' not in page.get_data(as_text=True)
    assert other_title in page.get_data(as_text=True)

    # Nothing new can be sealed in the room: creating a document is refused, not a 500.
    new_page = client.get(f"/rooms/{shipbuilding}/documents/new")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', new_page.get_data(as_text=True))
    assert token
    created = client.post(
        f"/rooms/{shipbuilding}/documents/new",
        data={
            "csrf_token": token.group(1),
            "title": "新しい資料",
            "body": "本文",
            "level": "1",
            "release": "GREEN",
        },
    )
    assert created.status_code == 410
    assert keyed.sealed().keys() == sealed_before.keys()


def test_rotate_dek_of_a_shredded_room_is_refused_and_creates_no_key(keyed: KeyedPortal) -> None:
    shipbuilding = keyed.room_id(SHIPBUILDING)
    keyed.ok("keys", "shred", SHIPBUILDING, "--confirm", SHIPBUILDING)
    keys_before = keyed.data_keys()

    output = keyed.refused("keys", "rotate-dek", SHIPBUILDING)

    assert "destroyed" in output
    assert keyed.data_keys() == keys_before
    assert {key.state for key in keyed.room_keys(shipbuilding, "fields")} == {"destroyed"}


# --- a wrong or missing key -------------------------------------------------------------------------


def test_an_app_with_another_key_file_refuses_to_start_and_names_it(
    keyed: KeyedPortal, tmp_path: Path
) -> None:
    other = tmp_path / "other" / "portal.key"
    create_key_file(other)

    with pytest.raises(KeyFileError) as refused:
        keyed.app(key_file=str(other))

    message = str(refused.value)
    assert str(other) in message
    assert "does not open this database's data keys" in message
    assert "\n" not in message


def test_an_app_with_a_missing_or_loose_key_file_refuses_to_start(keyed: KeyedPortal, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "portal.key"
    with pytest.raises(KeyFileError, match=re.escape(f"key file {missing} does not exist")):
        keyed.app(key_file=str(missing))
    assert not missing.exists()  # starting never creates a key

    loose = copy_private(keyed.key_file, tmp_path / "loose" / "portal.key")
    loose.chmod(0o640)
    with pytest.raises(KeyFileError, match=re.escape(f"run chmod 600 {loose}")):
        keyed.app(key_file=str(loose))

    assert keyed.app().extensions["portal_db"].keyring.provider.describe() == f"key file {keyed.key_file}"


@pytest.mark.parametrize("problem", ["missing", "another key"])
def test_serve_refuses_a_missing_or_wrong_key_with_one_line(
    keyed: KeyedPortal, tmp_path: Path, problem: str
) -> None:
    key_file = tmp_path / "keys-for-serve" / "portal.key"
    if problem == "another key":
        create_key_file(key_file)

    result = keyed.run("serve", "--port", "9", env={"PORTAL_KEY_FILE": str(key_file)}, timeout=60)

    assert result.returncode == 1, result
    assert result.stderr.strip().splitlines() == [result.stderr.strip()], result.stderr
    assert result.stderr.startswith("portal: "), result.stderr
    assert str(key_file) in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "Council portal" not in result.stdout  # refused before announcing (or starting) gunicorn


# --- the search index from the command line ---------------------------------------------------------


def test_search_reindex_rebuilds_every_scope_from_the_sealed_data(keyed: KeyedPortal) -> None:
    from sqlalchemy import delete, func

    from portal.search.models import SearchToken

    def tokens() -> list[tuple[int, str, uuid.UUID]]:
        with keyed.session() as session:
            return sorted(
                session.execute(select(SearchToken.token, SearchToken.item_kind, SearchToken.item_id))
            )

    before = tokens()
    assert {kind for _token, kind, _item in before} == {"document", "output"}
    with keyed.session() as session:
        session.execute(delete(SearchToken))
        assert session.scalar(select(func.count()).select_from(SearchToken)) == 0

    output = keyed.ok("search", "reindex")

    assert tokens() == before  # the same tokens: same keys, same texts
    assert "system:" in output and f"{keyed.room_id(MINERALS)}:" in output
    # One room alone, by name; its tokens are replaced, the others' untouched.
    assert f"{keyed.room_id(AGI)}:" in keyed.ok("search", "reindex", AGI)
    assert tokens() == before
    client = sign_in(
        keyed.app().test_client(), keyed.app().extensions["portal_db"], "takahashi@mic.example.jp"
    )
    assert "AGIリスク論点整理メモ" in client.get("/search?q=計算資源").get_data(as_text=True)
    assert "no subcommittee" in keyed.refused("search", "reindex", "存在しない分科会")
