"""Reading the audit trail (auditors only): filtered lists, CSV, verification. Never content or titles."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.security import audit, policy
from portal.security.audit_models import AuditEntry
from portal.security.policy import Subject

PAGE_SIZE = 100
CSV_COLUMNS = (
    "seq", "at", "actor_id", "actor_email", "organization_id", "session_id", "ip_address", "action",
    "object_type", "object_id", "level", "allowed", "rule", "reason", "detail", "prev_hash", "hash",
)  # fmt: skip


@dataclass(frozen=True)
class AuditFilter:
    user_email: str | None = None
    action: str | None = None
    #: "allowed", "denied" or None for both
    decision: str | None = None
    since: date | None = None
    until: date | None = None


def require_auditor(session: Session, subject: Subject, action: str = "audit.view") -> None:
    policy.require(session, subject, policy.decide_view_audit(subject), object_type="audit", object_id=action)


def _conditions(session: Session, filters: AuditFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.user_email:
        user_id = session.scalar(select(User.id).where(User.email == filters.user_email.strip().lower()))
        conditions.append(AuditEntry.actor_id == (user_id or uuid.UUID(int=0)))
    if filters.action:
        conditions.append(AuditEntry.action.startswith(filters.action.strip(), autoescape=True))
    if filters.decision == "allowed":
        conditions.append(AuditEntry.allowed.is_(True))
    elif filters.decision == "denied":
        conditions.append(AuditEntry.allowed.is_(False))
    if filters.since:
        conditions.append(AuditEntry.at >= datetime.combine(filters.since, time.min, tzinfo=UTC))
    if filters.until:
        conditions.append(
            AuditEntry.at < datetime.combine(filters.until + timedelta(days=1), time.min, tzinfo=UTC)
        )
    return conditions


def _query(session: Session, filters: AuditFilter) -> Select[Any]:
    return (
        select(AuditEntry).where(and_(True, *_conditions(session, filters))).order_by(AuditEntry.seq.desc())
    )


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    pages: int
    emails: dict[uuid.UUID, str]


def _emails(session: Session, entries: list[AuditEntry]) -> dict[uuid.UUID, str]:
    ids = {entry.actor_id for entry in entries if entry.actor_id}
    if not ids:
        return {}
    return {row.id: row.email for row in session.execute(select(User.id, User.email).where(User.id.in_(ids)))}


def page_of_entries(session: Session, subject: Subject, filters: AuditFilter, page: int) -> AuditPage:
    require_auditor(session, subject)
    total = int(
        session.scalar(
            select(func.count()).select_from(AuditEntry).where(and_(True, *_conditions(session, filters)))
        )
        or 0
    )
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(max(1, page), pages)
    entries = list(session.scalars(_query(session, filters).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return AuditPage(entries, total, page, pages, _emails(session, entries))


def export_csv(session: Session, subject: Subject, filters: AuditFilter) -> Iterator[str]:
    """The filtered trail as CSV, streamed in batches; the export itself is audited."""
    require_auditor(session, subject, "audit.export")
    policy.record_change(
        session, subject, "audit.export", object_type="audit", object_id="csv",
        detail={"action": filters.action, "decision": filters.decision, "user": bool(filters.user_email)},
    )  # fmt: skip
    session.commit()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    last_seq: int | None = None
    while True:
        query = _query(session, filters).limit(1000)
        if last_seq is not None:
            query = query.where(AuditEntry.seq < last_seq)
        entries: list[AuditEntry] = list(session.scalars(query))
        if not entries:
            break
        emails = _emails(session, entries)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for entry in entries:
            writer.writerow(_csv_row(entry, emails))
        yield buffer.getvalue()
        last_seq = entries[-1].seq


def _csv_row(entry: AuditEntry, emails: dict[uuid.UUID, str]) -> list[object]:
    return [
        entry.seq,
        entry.at.isoformat(),
        entry.actor_id or "",
        emails.get(entry.actor_id, "") if entry.actor_id else "",
        entry.organization_id or "",
        entry.session_id or "",
        entry.ip_address or "",
        entry.action,
        entry.object_type or "",
        entry.object_id or "",
        "" if entry.level is None else entry.level,
        "allowed" if entry.allowed else "denied",
        entry.rule,
        entry.reason,
        entry.detail,
        entry.prev_hash,
        entry.hash,
    ]


def verification(session: Session, subject: Subject) -> audit.Verification:
    require_auditor(session, subject, "audit.verify")
    return audit.verify(session.get_bind())  # type: ignore[arg-type]
