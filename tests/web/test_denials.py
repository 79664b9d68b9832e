"""Every refusal of the access policy, through HTTP with the demo data.

Each scenario asserts what the user sees (404 for reads, which conceal the object; 403 where the user
already knows the object, as in administration), and that the request left exactly one entry in the audit
trail: a denial with the expected reason code. Sign-in writes entries of its own, so the trail is counted
after signing in.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from portal.accounts.caveats import Caveat, UserCaveat
from portal.accounts.models import Clearance, User
from portal.db import Database, utcnow
from portal.demo import DEMO_PASSWORD, DOCUMENTS
from portal.documents.models import Document, DocumentReader
from portal.documents.service import seal_text
from portal.enums import Level, ReleaseMarking, RoomRole
from portal.rooms.models import Membership, Subcommittee
from portal.security import policy
from portal.security.audit_models import AuditEntry
from tests.conftest import (
    csrf_token,
    document_id_by_title,
    keyed_session,
    next_totp_code,
    sign_in,
    totp_secret_of,
    user_by_email,
)
from tests.web.support import (
    enrol,
    page_shape,
    session_cookie,
    submit_code,
    submit_password,
    text,
    translated,
)

MINERALS = "重要鉱物分科会"
AGI = "AGI分科会"
SHIPBUILDING = "造船分科会"
INFRASTRUCTURE = "重要インフラ機能停止分科会"

# --- looking things up ----------------------------------------------------------------------------


def room_id(database: Database, name_ja: str) -> uuid.UUID:
    with database.session_scope() as session:
        found = session.scalar(select(Subcommittee.id).where(Subcommittee.name_ja == name_ja))
    assert found is not None, name_ja
    return found


def document_id(database: Database, title: str) -> uuid.UUID:
    """Titles are sealed: found by opening them (as key maintenance does), not by a query."""
    found = document_id_by_title(database, title)
    assert found is not None, title
    return found


def document_path(database: Database, title: str) -> str:
    with database.session_scope() as session:
        document = session.get(Document, document_id(database, title))
        assert document is not None, title
        return f"/rooms/{document.subcommittee_id}/documents/{document.id}"


def membership_id(database: Database, email: str, room: uuid.UUID) -> uuid.UUID:
    with database.session_scope() as session:
        found = session.scalar(
            select(Membership.id)
            .join(User, User.id == Membership.user_id)
            .where(User.email == email, Membership.subcommittee_id == room)
        )
    assert found is not None
    return found


def expire_newest_clearance(database: Database, email: str, **values: Any) -> None:
    """Change the clearance that counts (the newest by granted_at)."""
    user = user_by_email(database, email)
    with database.session_scope() as session:
        newest = session.scalar(
            select(Clearance)
            .where(Clearance.user_id == user.id)
            .order_by(Clearance.granted_at.desc())
            .limit(1)
        )
        assert newest is not None, email
        for name, value in values.items():
            setattr(newest, name, value)


# --- the audit trail ------------------------------------------------------------------------------


def audit_head(database: Database) -> int:
    with database.session_scope() as session:
        return int(session.scalar(select(func.max(AuditEntry.seq))) or 0)


def entries_since(database: Database, seq: int) -> list[AuditEntry]:
    with database.session_scope() as session:
        entries = list(
            session.scalars(select(AuditEntry).where(AuditEntry.seq > seq).order_by(AuditEntry.seq))
        )
        session.expunge_all()
        return entries


def the_one_denial(
    database: Database,
    since: int,
    reason: str,
    *,
    actor: str,
    object_id: uuid.UUID | None = None,
    action: str | None = None,
) -> AuditEntry:
    """The request left exactly one entry, a denial with ``reason`` by ``actor`` (on ``object_id``)."""
    entries = entries_since(database, since)
    summary = [(e.action, e.allowed, e.reason, e.object_type, e.object_id) for e in entries]
    denials = [e for e in entries if not e.allowed]
    assert len(denials) == 1, summary
    assert len(entries) == 1, f"a denied request also recorded other entries: {summary}"
    entry = denials[0]
    assert entry.reason == reason, summary
    assert entry.actor_id == user_by_email(database, actor).id
    if object_id is not None:
        assert entry.object_id == str(object_id), summary
    if action is not None:
        assert entry.action == action, summary
    return entry


def assert_concealed(response: Any, *leaks: str) -> None:
    assert response.status_code == 404
    page = text(response)
    for leak in leaks:
        assert leak not in page


# --- reading documents ----------------------------------------------------------------------------


def test_a_clearance_expired_a_second_ago_no_longer_opens_a_restricted_document(
    client: FlaskClient, demo: Database
) -> None:
    reader = "watanabe@setouchi-zosen.example.jp"  # RESTRICTED, member of the shipbuilding room
    title = "海底ケーブル敷設船の国内供給能力"
    path = document_path(demo, title)
    sign_in(client, demo, reader)
    assert client.get(path).status_code == 200
    expire_newest_clearance(demo, reader, expires_at=utcnow() - timedelta(seconds=1))
    since = audit_head(demo)

    response = client.get(path)

    assert_concealed(response, title)
    the_one_denial(
        demo,
        since,
        "CLEARANCE_EXPIRED",
        actor=reader,
        object_id=document_id(demo, title),
        action="document.read",
    )


def test_a_clearance_revoked_by_the_secretariat_closes_the_document_at_once(
    app: Flask, demo: Database
) -> None:
    reader = "watanabe@setouchi-zosen.example.jp"
    title = "海底ケーブル敷設船の国内供給能力"
    path = document_path(demo, title)
    member = sign_in(app.test_client(), demo, reader)
    assert member.get(path).status_code == 200
    secretariat = sign_in(app.test_client(), demo, "sato@cao.example.jp")
    target = user_by_email(demo, reader).id
    revoked = secretariat.post(
        f"/admin/users/{target}/clearance/revoke",
        data={"csrf_token": csrf_token(secretariat, f"/admin/users/{target}"), "reason": "適性に疑義"},
    )
    assert revoked.status_code == 302, text(revoked)[:500]
    since = audit_head(demo)

    response = member.get(path)

    assert_concealed(response, title)
    the_one_denial(demo, since, "CLEARANCE_REVOKED", actor=reader, object_id=document_id(demo, title))


def test_cesi_is_closed_to_a_member_whose_organisation_lost_its_qualification(
    client: FlaskClient, demo: Database
) -> None:
    reader = "yamamoto@hokushin-power.example.jp"  # CESI, named reader; 北辰電力's qualification lapsed
    title = "重要インフラ事業者へのサイバー攻撃に関する通報"
    sign_in(client, demo, reader)
    since = audit_head(demo)

    response = client.get(document_path(demo, title))

    assert_concealed(response, title)
    entry = the_one_denial(demo, since, "ORG_NOT_QUALIFIED", actor=reader, object_id=document_id(demo, title))
    assert entry.level == Level.CESI


def test_a_missing_compartment_hides_the_document(client: FlaskClient, demo: Database) -> None:
    reader = "yoshida@icess.example.jp"  # CONFIDENTIAL, but does not hold MINERALS-SUPPLY
    title = "代替調達先候補の企業別評価"
    sign_in(client, demo, reader)
    since = audit_head(demo)

    response = client.get(document_path(demo, title))

    assert_concealed(response, title)
    the_one_denial(demo, since, "CAVEAT_MISSING", actor=reader, object_id=document_id(demo, title))


def test_government_only_is_closed_to_a_private_member(client: FlaskClient, demo: Database) -> None:
    reader = "ito@toho-raremetals.example.jp"  # CESI clearance, qualified company: still not government
    title = "国家備蓄の放出検討状況(政府限り)"
    sign_in(client, demo, reader)
    since = audit_head(demo)

    response = client.get(document_path(demo, title))

    assert_concealed(response, title)
    the_one_denial(demo, since, "GOV_ONLY", actor=reader, object_id=document_id(demo, title))


def test_a_member_not_on_the_named_reader_list_is_refused(app: Flask, demo: Database) -> None:
    minerals = room_id(demo, MINERALS)
    author = user_by_email(demo, "tanaka@meti.example.jp")
    title = "個別企業との協議メモ(指名閲覧者限り)"
    with keyed_session(demo.url) as session:
        document = Document(
            id=uuid.uuid4(),
            subcommittee_id=minerals,
            level=Level.CONFIDENTIAL,
            release=ReleaseMarking.AMBER,
            classified_by_id=author.id,
            created_by_id=author.id,
        )
        seal_text(
            session,
            policy.maintenance_grant("document", document.id),
            document,
            title=title,
            body="指名閲覧者だけが読む。",
            reason="個別企業の情報を含むため",
        )
        document.reader_links = [DocumentReader(user_id=author.id, added_by_id=author.id)]
        session.add(document)
    path = f"/rooms/{minerals}/documents/{document.id}"
    assert sign_in(app.test_client(), demo, author.email).get(path).status_code == 200
    # 佐藤: secretariat (government), CONFIDENTIAL clearance, member of the room; only the name is missing.
    reader = "sato@cao.example.jp"
    client = sign_in(app.test_client(), demo, reader)
    since = audit_head(demo)

    response = client.get(path)

    assert_concealed(response, title)
    the_one_denial(demo, since, "NOT_NAMED_READER", actor=reader, object_id=document.id)
    assert title not in text(client.get(f"/rooms/{minerals}"))  # nor is it listed


def test_a_member_removed_from_the_room_loses_the_room_and_its_documents(
    client: FlaskClient, demo: Database
) -> None:
    reader = "tanaka@meti.example.jp"
    minerals = room_id(demo, MINERALS)
    title = "ガリウム・ゲルマニウム輸出管理措置の影響整理(第1版)"
    path = document_path(demo, title)
    sign_in(client, demo, reader)
    assert client.get(f"/rooms/{minerals}").status_code == 200
    assert client.get(path).status_code == 200
    with demo.session_scope() as session:
        session.execute(
            update(Membership)
            .where(Membership.id == membership_id(demo, reader, minerals))
            .values(valid_to=utcnow() - timedelta(seconds=1))
        )

    since = audit_head(demo)
    room_page = client.get(f"/rooms/{minerals}")
    assert_concealed(room_page, MINERALS)
    the_one_denial(demo, since, "NOT_MEMBER", actor=reader, object_id=minerals, action="room.enter")

    since = audit_head(demo)
    document_page = client.get(path)
    assert_concealed(document_page, title)
    the_one_denial(
        demo, since, "NOT_MEMBER", actor=reader, object_id=document_id(demo, title), action="document.read"
    )


def test_the_secretariat_without_clearance_reads_only_public_material(
    client: FlaskClient, demo: Database
) -> None:
    reader = "kato@cao.example.jp"  # secretariat, member of the AGI room, no clearance at all
    sign_in(client, demo, reader)
    assert client.get(document_path(demo, "AGI分科会 設置趣旨")).status_code == 200
    title = "AGIリスク論点整理メモ"
    since = audit_head(demo)

    response = client.get(document_path(demo, title))

    assert_concealed(response, title)
    the_one_denial(demo, since, "CLEARANCE_MISSING", actor=reader, object_id=document_id(demo, title))


@pytest.mark.parametrize(
    "email", ["inoue@cao.example.jp", "matsumoto@cao.example.jp"], ids=["admin", "auditor"]
)
def test_administrator_and_auditor_read_no_content_even_with_a_seat(
    client: FlaskClient, demo: Database, email: str
) -> None:
    minerals = room_id(demo, MINERALS)
    title = "重要鉱物分科会 開催要領"  # PUBLIC: no clearance needed, so only the role can refuse it
    path = document_path(demo, title)
    sign_in(client, demo, email)

    since = audit_head(demo)
    assert_concealed(client.get(f"/rooms/{minerals}"), MINERALS)
    # Their role is checked before their seat: a role that reads no content enters no room at all.
    the_one_denial(demo, since, "ROLE_NO_CONTENT", actor=email, object_id=minerals, action="room.enter")

    with demo.session_scope() as session:
        session.add(
            Membership(
                subcommittee_id=minerals,
                user_id=user_by_email(demo, email).id,
                room_role=RoomRole.MEMBER,
                valid_from=utcnow() - timedelta(days=1),
            )
        )
    since = audit_head(demo)

    response = client.get(path)

    assert_concealed(response, title)
    the_one_denial(demo, since, "ROLE_NO_CONTENT", actor=email, object_id=document_id(demo, title))
    since = audit_head(demo)
    assert_concealed(client.get(f"/rooms/{minerals}"), MINERALS)
    the_one_denial(demo, since, "ROLE_NO_CONTENT", actor=email, object_id=minerals, action="room.enter")


@pytest.mark.parametrize(
    ("email", "title"),
    [
        ("ito@toho-raremetals.example.jp", "国家備蓄の放出検討状況(政府限り)"),
        ("yamamoto@hokushin-power.example.jp", "重要インフラ事業者へのサイバー攻撃に関する通報"),
        ("sato@cao.example.jp", "AGIリスク論点整理メモ"),  # a room she is not in
    ],
    ids=["gov_only", "org_not_qualified", "not_member"],
)
def test_a_refused_document_looks_exactly_like_one_that_does_not_exist(
    client: FlaskClient, demo: Database, email: str, title: str
) -> None:
    sign_in(client, demo, email)
    path = document_path(demo, title)
    room_part = path.rsplit("/", 1)[0]

    refused = client.get(path)
    nowhere = client.get(f"{room_part}/{uuid.uuid4()}")

    assert refused.status_code == nowhere.status_code == 404
    assert page_shape(refused) == page_shape(nowhere)


# --- administration: nobody grants anything to themselves ----------------------------------------


@dataclass(frozen=True)
class SelfGrant:
    path: str
    data: Callable[[Database], dict[str, str]]
    prepare: Callable[[Database, uuid.UUID], None] | None = None


def _hold_grid_ops(database: Database, user_id: uuid.UUID) -> None:
    with database.session_scope() as session:
        caveat = session.scalar(select(Caveat).where(Caveat.code == "GRID-OPS"))
        assert caveat is not None
        session.add(UserCaveat(user_id=user_id, caveat_id=caveat.id, granted_at=utcnow() - timedelta(days=1)))


def _held_id(database: Database, user_id: uuid.UUID) -> str:
    with database.session_scope() as session:
        return str(session.scalar(select(UserCaveat.id).where(UserCaveat.user_id == user_id)))


def _caveat_id(database: Database, code: str) -> str:
    with database.session_scope() as session:
        return str(session.scalar(select(Caveat.id).where(Caveat.code == code)))


SELF_GRANTS = {
    "clearance": SelfGrant(
        "/admin/users/{me}/clearance",
        lambda db: {
            "level": "3",
            "evaluation_reference": "SE-SELF-0001",
            "evaluated_on": "2025-09-01",
            "reason": "自分で付与",
        },
    ),
    "clearance_revoke": SelfGrant("/admin/users/{me}/clearance/revoke", lambda db: {"reason": "自分で取消"}),
    "membership": SelfGrant(
        "/admin/users/{me}/memberships", lambda db: {"room": str(room_id(db, AGI)), "room_role": "chair"}
    ),
    "compartment": SelfGrant(
        "/admin/users/{me}/compartments",
        lambda db: {"caveat": _caveat_id(db, "MINERALS-SUPPLY"), "reason": "自分で付与"},
    ),
    "compartment_revoke": SelfGrant(
        "/admin/users/{me}/compartments/{held}/revoke", lambda db: {}, _hold_grid_ops
    ),
    "membership_end": SelfGrant("/admin/memberships/{membership}/end", lambda db: {}),
    "suspension": SelfGrant("/admin/users/{me}/suspension", lambda db: {}),
}


def _grants_of(database: Database, user_id: uuid.UUID) -> tuple[object, ...]:
    """Everything a grant could change about a user."""
    now = utcnow()
    with database.session_scope() as session:
        user = session.get(User, user_id)
        assert user is not None
        return (
            [
                (c.level, c.expires_at, c.revoked_at)
                for c in sorted(user.clearances, key=lambda c: c.granted_at)
            ],
            sorted(
                (str(m.subcommittee_id), m.room_role.value, m.is_current(now))
                for m in session.scalars(select(Membership).where(Membership.user_id == user_id))
            ),
            sorted(
                (str(h.caveat_id), h.revoked_at is None)
                for h in session.scalars(select(UserCaveat).where(UserCaveat.user_id == user_id))
            ),
            user.is_suspended,
        )


@pytest.mark.parametrize("action", sorted(SELF_GRANTS))
def test_the_secretariat_cannot_grant_anything_to_itself(
    app: Flask, client: FlaskClient, demo: Database, action: str
) -> None:
    secretariat = "sato@cao.example.jp"
    me = user_by_email(demo, secretariat).id
    case = SELF_GRANTS[action]
    if case.prepare is not None:
        case.prepare(demo, me)
    path = case.path.format(
        me=me, held=_held_id(demo, me), membership=membership_id(demo, secretariat, room_id(demo, MINERALS))
    )
    sign_in(client, demo, secretariat)
    token = csrf_token(client, f"/admin/users/{me}")
    before = _grants_of(demo, me)
    since = audit_head(demo)

    response = client.post(path, data={"csrf_token": token, **case.data(demo)})

    assert response.status_code == 403, text(response)[:1000]
    assert translated(app, "Nobody can grant anything to themselves.") in text(response)
    entry = the_one_denial(demo, since, "SELF_GRANT", actor=secretariat, object_id=me)
    assert entry.object_type == "user"
    assert _grants_of(demo, me) == before
    assert client.get("/account").status_code == 200  # still signed in, still not suspended


# --- classifying ----------------------------------------------------------------------------------


@pytest.mark.parametrize("level", [Level.CONFIDENTIAL, Level.CESI], ids=lambda level: level.name)
def test_nobody_classifies_above_their_own_clearance(
    app: Flask, client: FlaskClient, demo: Database, level: Level
) -> None:
    author = "watanabe@setouchi-zosen.example.jp"  # RESTRICTED member of the shipbuilding room
    shipbuilding = room_id(demo, SHIPBUILDING)
    path = f"/rooms/{shipbuilding}/documents/new"
    title = f"敷設船の整備計画(区分{int(level)}で作成を試みる)"
    sign_in(client, demo, author)
    token = csrf_token(client, path)
    with demo.session_scope() as session:
        documents_before = session.scalar(select(func.count()).select_from(Document))
    since = audit_head(demo)

    response = client.post(
        path,
        data={
            "csrf_token": token,
            "title": title,
            "body": "整備計画の本文",
            "level": str(int(level)),
            "release": ReleaseMarking.AMBER.value,
            "readers": [str(user_by_email(demo, author).id)],
            "reason": "個別企業の情報を含むため",
        },
    )

    assert response.status_code == 403, text(response)[:1000]
    page = text(response)
    assert translated(app, "You cannot classify above your own clearance.") in page
    assert f'value="{title}"' in page  # the form is kept
    assert "整備計画の本文" in page
    entry = the_one_denial(demo, since, "CLASSIFY_ABOVE_CLEARANCE", actor=author, object_id=shipbuilding)
    assert entry.level == level
    assert title not in entry.detail
    with demo.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == documents_before
    assert document_id_by_title(demo, title) is None


def test_an_observer_reads_but_does_not_add_material(client: FlaskClient, demo: Database) -> None:
    observer = "kobayashi@toto-u.example.jp"  # observer in the AGI room
    agi = room_id(demo, AGI)
    sign_in(client, demo, observer)
    assert client.get(f"/rooms/{agi}").status_code == 200
    since = audit_head(demo)

    response = client.get(f"/rooms/{agi}/documents/new")

    assert response.status_code == 403  # the observer knows the room: refused, not concealed
    the_one_denial(demo, since, "OBSERVER_READ_ONLY", actor=observer, object_id=agi, action="document.create")


def test_a_room_holds_nothing_above_its_highest_level(
    app: Flask, client: FlaskClient, demo: Database
) -> None:
    author = "suzuki@mlit.example.jp"  # CONFIDENTIAL, chair of the shipbuilding room
    shipbuilding = room_id(demo, SHIPBUILDING)
    with demo.session_scope() as session:
        session.execute(
            update(Subcommittee).where(Subcommittee.id == shipbuilding).values(max_level=Level.RESTRICTED)
        )
    path = f"/rooms/{shipbuilding}/documents/new"
    sign_in(client, demo, author)
    token = csrf_token(client, path)
    since = audit_head(demo)

    response = client.post(
        path,
        data={
            "csrf_token": token,
            "title": "上限を超える文書",
            "level": str(int(Level.CONFIDENTIAL)),
            "release": ReleaseMarking.AMBER.value,
            "reason": "検証のため",
        },
    )

    assert response.status_code == 403
    assert translated(app, "This subcommittee may not hold material at that level.") in text(response)
    the_one_denial(demo, since, "ROOM_LEVEL_EXCEEDED", actor=author, object_id=shipbuilding)
    assert document_id_by_title(demo, "上限を超える文書") is None


@pytest.mark.parametrize(
    ("email", "path", "reason"),
    [
        ("tanaka@meti.example.jp", "/admin/users", "NOT_SECRETARIAT"),
        ("inoue@cao.example.jp", "/admin/", "NOT_SECRETARIAT"),  # the administrator role is not a bypass
        ("matsumoto@cao.example.jp", "/admin/organizations", "NOT_SECRETARIAT"),
        ("sato@cao.example.jp", "/audit/", "NOT_AUDITOR"),
        ("sato@cao.example.jp", "/audit/export.csv", "NOT_AUDITOR"),
        ("inoue@cao.example.jp", "/audit/verify", "NOT_AUDITOR"),
    ],
)
def test_administration_and_the_trail_refuse_other_roles(
    client: FlaskClient, demo: Database, email: str, path: str, reason: str
) -> None:
    sign_in(client, demo, email)
    since = audit_head(demo)

    response = client.get(path, buffered=True)

    assert response.status_code == 403
    the_one_denial(demo, since, reason, actor=email)


# --- the trail itself -----------------------------------------------------------------------------

TITLES_AND_BODIES = [spec.title for spec in DOCUMENTS] + [spec.body for spec in DOCUMENTS]


def test_the_auditor_sees_the_trail_but_never_a_title(app: Flask, demo: Database) -> None:
    # Activity first: classified reads (recorded when allowed) and refusals.
    reader = sign_in(app.test_client(), demo, "tanaka@meti.example.jp")
    read = [spec.title for spec in DOCUMENTS if spec.room == "minerals"]
    for title in read:
        assert reader.get(document_path(demo, title)).status_code == 200, title
    outsider = sign_in(app.test_client(), demo, "ito@toho-raremetals.example.jp")
    assert outsider.get(document_path(demo, "国家備蓄の放出検討状況(政府限り)")).status_code == 404
    auditor = sign_in(app.test_client(), demo, "matsumoto@cao.example.jp")

    pages = {
        "trail": auditor.get("/audit/"),
        "denied": auditor.get("/audit/?decision=denied"),
        "reads": auditor.get("/audit/?action=document.read"),
        "csv": auditor.get("/audit/export.csv", buffered=True),  # streamed: closed at once
        "verify": auditor.get("/audit/verify"),
    }

    for name, response in pages.items():
        assert response.status_code == 200, name
        content = text(response)
        for leaked in TITLES_AND_BODIES:
            assert leaked not in content, (name, leaked)
    assert pages["csv"].mimetype == "text/csv"
    # Not vacuous: the reads and the refusal are there, by id and reason code.
    for title in read:
        if any(spec.title == title and spec.level >= Level.CONFIDENTIAL for spec in DOCUMENTS):
            assert str(document_id(demo, title)) in text(pages["csv"]), title
            assert str(document_id(demo, title)) in text(pages["reads"]), title
    assert "GOV_ONLY" in text(pages["denied"])
    assert "GOV_ONLY" in text(pages["csv"])


def test_the_trail_never_holds_a_password_a_totp_secret_or_a_session_token(
    app: Flask, demo: Database
) -> None:
    new_password = "Shin-Kyogikai-2026-Passphrase"
    secrets: list[str] = []

    stranger = app.test_client()
    assert submit_password(stranger, "nobody@example.jp", DEMO_PASSWORD).status_code == 401
    assert submit_password(stranger, "tanaka@meti.example.jp", DEMO_PASSWORD + "-typo").status_code == 401
    fumbler = app.test_client()
    assert submit_password(fumbler, "tanaka@meti.example.jp").status_code == 302
    wrong = f"{(int(next_totp_code(demo, 'tanaka@meti.example.jp')) + 1) % 1_000_000:06d}"
    assert submit_code(fumbler, wrong).status_code == 401

    member = sign_in(app.test_client(), demo, "tanaka@meti.example.jp")
    changed = member.post(
        "/account/password",
        data={
            "csrf_token": csrf_token(member, "/account"),
            "current_password": DEMO_PASSWORD,
            "new_password": new_password,
            "confirm_password": new_password,
        },
    )
    assert changed.status_code == 302, text(changed)[:500]
    secret, recovery_codes = enrol(app.test_client(), "yamada@meti.example.jp")
    auditor = sign_in(app.test_client(), demo, "matsumoto@cao.example.jp")
    csv_export = text(auditor.get("/audit/export.csv", buffered=True))

    secrets += [DEMO_PASSWORD, new_password, secret, *recovery_codes]
    secrets += [token for token in (session_cookie(member), session_cookie(auditor)) if token]
    with demo.session_scope() as session:
        users = list(session.scalars(select(User)))
    totp_secrets = [found for user in users if (found := totp_secret_of(demo, user.email))]
    assert secret in totp_secrets  # the secrets, opened from their sealed columns
    secrets += totp_secrets + [user.password_hash for user in users if user.password_hash]
    with demo.session_scope() as session:
        entries = list(session.scalars(select(AuditEntry)))
        reasons = {entry.reason for entry in entries}
        stored = "\n".join(
            "|".join(str(getattr(entry, column.key)) for column in AuditEntry.__table__.columns)
            for entry in entries
        )

    assert {"BAD_CREDENTIALS", "MFA_FAILED"} <= reasons, reasons  # the failures were recorded ...
    for value in secrets:
        assert value not in stored  # ... but not what was typed, nor any secret
        assert value not in csv_export
