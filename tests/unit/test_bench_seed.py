"""The scale benchmark's seeder, small and on SQLite: what it stores is sealed as the portal seals it (the
portal's own services open it), the benchmark readers can sign in, extra batch steps run, and a second run
resumes without duplicating anything. (The benchmark itself never runs in the test suite.)"""

from __future__ import annotations

import importlib.util
import json
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import func, select

from portal.accounts import service as accounts
from portal.accounts.models import User
from portal.db import utcnow
from portal.documents import service as documents
from portal.documents.models import Document, DocumentVersion
from portal.rooms.models import Subcommittee
from portal.security import policy

ROOT = Path(__file__).resolve().parents[2]


def _seed_module() -> ModuleType:
    if "bench_seed" in sys.modules:
        return sys.modules["bench_seed"]
    spec = importlib.util.spec_from_file_location("bench_seed", ROOT / "bench" / "seed.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_seed"] = module
    spec.loader.exec_module(module)
    return module


def test_seeds_sealed_documents_that_the_portal_opens_and_resumes(tmp_path: Path) -> None:
    seed = _seed_module()
    batches: list[int] = []

    def count_batch(batch: Any) -> None:
        batches.append(len(batch.documents))
        batch.manifest.setdefault("steps_ran", 0)
        batch.manifest["steps_ran"] += 1

    options = seed.Options(
        database_url=f"sqlite:///{tmp_path / 'bench.sqlite3'}",
        documents=50,
        rooms=3,
        users=24,
        batch_size=20,
        instance=tmp_path,
        manifest=tmp_path / "manifest.json",
        steps=[seed.store_documents, count_batch],
        quiet=True,
    )

    manifest = seed.seed(options)

    assert batches == [20, 20, 10]
    assert manifest["extras"]["steps_ran"] == 3
    assert manifest["counts"]["documents"] == manifest["counts"]["document_versions"] == 50
    assert manifest["counts"]["users"] == 24
    assert (tmp_path / "manifest.json").stat().st_mode & 0o077 == 0
    assert json.loads((tmp_path / "manifest.json").read_text())["secrets"].keys() == {
        reader["email"] for reader in manifest["readers"]
    }

    database, _instance, _key = seed.open_database(options)
    try:
        with database.session_scope() as session:
            reader = manifest["readers"][0]
            user = session.scalar(select(User).where(User.email == reader["email"]))
            assert user is not None and user.mfa_enrolled
            secret = accounts.totp_secret(session, user, policy.grant_own_secrets(user.id))
            assert secret == manifest["secrets"][user.email]
            subject = policy.load_subject(session, user, utcnow())
            assert subject.cesi_eligible
            room = session.get(Subcommittee, uuid.UUID(reader["rooms"][0]))
            assert room is not None
            listed = documents.list_documents(session, subject, room, per_page=100)
            in_room = session.scalars(select(Document).where(Document.subcommittee_id == room.id)).all()
            readable = [d for d in in_room if policy.decide_read_document(subject, d).allowed]
            assert listed.total == len(readable) > 0
            assert all(item.title and not item.integrity_failed for item in listed.items)
            opened = documents.open_document(session, subject, listed.items[0].document.id)
            assert 400 <= len(opened.text.body) <= 800
            (version,) = documents.versions(session, opened.grant, opened.document)
            assert (version.title, version.body) == (opened.text.title, opened.text.body)
            session.rollback()
    finally:
        database.dispose()

    options.documents = 60
    batches.clear()
    again = seed.seed(options)

    assert batches == [10]
    assert again["counts"]["documents"] == again["counts"]["document_versions"] == 60
    database, _instance, _key = seed.open_database(options)
    try:
        with database.session_scope() as session:
            assert session.scalar(select(func.count(func.distinct(DocumentVersion.document_id)))) == 60
            stored = set(session.scalars(select(Document.id)))
    finally:
        database.dispose()

    # A step added after seeding runs over the stored documents alone, regenerated exactly (same ids).
    seen: list[uuid.UUID] = []
    options.only_steps = [lambda batch: seen.extend(d.id for d in batch.documents)]
    seed.seed(options)

    assert len(seen) == 60 and set(seen) == stored


def test_the_index_and_attachment_steps_store_what_the_portal_finds_and_serves(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """The search step stores exactly the tokens the portal's own indexer makes (the seeder's search check
    then finds documents through ``search.service``); the attachment step stores a file the portal opens."""
    from portal.documents import attachments
    from portal.documents.models import DocumentAttachment
    from portal.search import index as search_index
    from portal.search.models import SearchToken

    seed = _seed_module()
    monkeypatch.setattr(seed, "ATTACHMENT_BYTES", 2 * 1024 * 1024 + 123)
    options = seed.Options(
        database_url=f"sqlite:///{tmp_path / 'bench.sqlite3'}",
        documents=60,
        rooms=3,
        users=24,
        batch_size=30,
        instance=tmp_path,
        manifest=tmp_path / "manifest.json",
        steps=[seed.store_documents, seed.index_documents, seed.attach_downloads],
        quiet=True,
    )

    manifest = seed.seed(options)

    assert manifest["search_check"]["total"] > 0
    [download] = manifest["extras"]["downloads"]  # 3 rooms: room 0 only
    assert download["bytes"] == 2 * 1024 * 1024 + 123
    database, _instance, _key = seed.open_database(options)
    try:
        with database.session_scope() as session:
            document = session.scalars(select(Document).limit(1)).one()
            stored = set(session.scalars(select(SearchToken.token).where(SearchToken.item_id == document.id)))
            text = documents.open_text(session, policy.maintenance_grant("document", document.id), document)
            key = search_index.index_key(session, document.subcommittee_id)
            expected = key.tokens([text.title, text.body])
            assert stored == expected
            attachment = session.scalars(select(DocumentAttachment)).one()
            assert download["path"].endswith(f"/attachments/{attachment.id}")
            grant = policy.maintenance_grant("document", attachment.document_id)
            opened = attachments.Download(attachment, grant, "x.csv")
            attachments.verify(session, opened)
            data = b"".join(attachments.plaintext_chunks(session, opened))
            assert len(data) == download["bytes"] and data.startswith("日付,所管".encode())
    finally:
        database.dispose()
