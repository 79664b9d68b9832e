"""Situation reports (状況報告) of a rapid-response room: posting, the board as one reader sees it, and what
is new to them since their last visit.

Who posts: any member of the room whose seat writes (the chair, the secretariat, members, analysts), not
observers (``policy.decide_write_rapid_response``). A report is read under its marking; a reader who may not
read it meets a withheld line and its sealed texts are never opened for them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.accounts.caveats import Caveat
from portal.accounts.models import User
from portal.db import utcnow
from portal.enums import Level, SubcommitteeKind
from portal.meetings.access import PartView, seal_part, texts, view_parts
from portal.meetings.forms import PartMarkingInput
from portal.meetings.parts import InvalidMarking, apply_marking
from portal.rooms import service as rooms
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.policy import Grant, Marking, Subject
from portal.situation.models import SEVERITIES, BoardVisit, SituationReport

TEXT_MAX = 10_000
SOURCE_MAX = 300
REPORT_COLUMNS = ("source", "happened", "affected", "impact")


class SituationRefused(Exception):
    """Input the service refuses (``code`` is translated by the view): EMPTY_TEXT, BAD_SEVERITY, ..."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class NewReport:
    reported_at: datetime
    source: str
    happened: str
    affected: str
    impact: str
    severity: int
    marking: PartMarkingInput


def open_rapid_room(session: Session, subject: Subject, room_id: uuid.UUID) -> Subcommittee:
    """A rapid-response room the subject may enter; any other answers 404 (audited)."""
    room = rooms.open_room(session, subject, room_id)
    if room.kind != SubcommitteeKind.RAPID_RESPONSE:
        policy.require(
            session, subject, policy.deny("situation.read", "NOT_RAPID_RESPONSE"), object_type="room",
            object_id=room.id, conceal=True,
        )  # fmt: skip
    return room


def require_write(
    session: Session,
    subject: Subject,
    room: Subcommittee,
    marking: PartMarkingInput,
    *,
    rule: str,
    object_type: str,
    object_id: uuid.UUID,
) -> Grant:
    """Enforce writing a report or a countermeasure under ``marking`` (audited; 403 when refused) and return
    the grant that seals it. Named readers must be current members; caveats must exist."""
    member_ids = {m.user_id for m in rooms.current_members(session, room.id, utcnow())}
    if not marking.reader_ids <= member_ids:
        raise InvalidMarking("READER_NOT_MEMBER")
    known = set(session.scalars(select(Caveat.code).where(Caveat.code.in_(marking.caveat_codes))))
    if known != set(marking.caveat_codes):
        raise InvalidMarking("UNKNOWN_CAVEAT")
    reader_ids = marking.reader_ids | {subject.user_id} if marking.reader_ids else frozenset()
    decision = policy.decide_write_rapid_response(
        subject, room, Marking(marking.level, marking.caveat_codes, reader_ids, marking.reason), rule
    )
    policy.require(
        session, subject, decision, object_type=object_type, object_id=object_id, level=marking.level,
        detail={"caveats": sorted(marking.caveat_codes), "release": marking.release.value},
    )  # fmt: skip
    return policy.grant_from(decision, subject, object_type, object_id)


def may_post(subject: Subject, room: Subcommittee) -> bool:
    """Whether the page offers the form (the lowest marking; the service decides the one chosen)."""
    probe = Marking(Level.PUBLIC, frozenset(), frozenset(), None)
    return policy.decide_write_rapid_response(subject, room, probe, "situation.post").allowed


def clean(text: str, limit: int = TEXT_MAX) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise SituationRefused("EMPTY_TEXT")
    return cleaned[:limit]


def post_report(session: Session, subject: Subject, room_id: uuid.UUID, new: NewReport) -> SituationReport:
    room = open_rapid_room(session, subject, room_id)
    report = SituationReport(id=uuid.uuid4(), subcommittee_id=room.id, created_by_id=subject.user_id)
    grant = require_write(
        session, subject, room, new.marking, rule="situation.post", object_type="situation_report",
        object_id=report.id,
    )  # fmt: skip
    if new.severity not in SEVERITIES:
        raise SituationRefused("BAD_SEVERITY")
    values = {
        "source": " ".join(clean(new.source, SOURCE_MAX).split()),
        "happened": clean(new.happened),
        "affected": clean(new.affected, SOURCE_MAX * 3),
        "impact": clean(new.impact),
    }
    report.reported_at = new.reported_at
    report.severity = new.severity
    report.created_at = utcnow()
    apply_marking(session, subject, grant, report, room.id, new.marking)
    seal_part(session, grant, report, room.id, values)
    session.add(report)
    session.flush()
    policy.record_change(
        session, subject, "situation.post", object_type="situation_report", object_id=report.id,
        level=report.level, detail={"room": str(room.id), "severity": report.severity,
                                    "caveats": sorted(report.caveat_codes)},
    )  # fmt: skip
    return report


# --- the board ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportForReader:
    report: SituationReport
    #: The opened texts, or None for a withheld line.
    texts: dict[str, str] | None
    author_name: str | None
    is_new: bool

    @property
    def readable(self) -> bool:
        return self.texts is not None


@dataclass(frozen=True)
class Board:
    room: Subcommittee
    reports: list[ReportForReader]
    #: The reader's previous visit (None: never looked).
    last_seen: datetime | None
    caveats: dict[str, Caveat]

    @property
    def new_count(self) -> int:
        return sum(1 for entry in self.reports if entry.is_new)

    def caveats_of(self, part: SituationReport) -> list[Caveat]:
        return [self.caveats[code] for code in sorted(part.caveat_codes) if code in self.caveats]


def last_visit(session: Session, subject: Subject, room_id: uuid.UUID) -> datetime | None:
    visit = session.get(BoardVisit, (subject.user_id, room_id))
    return None if visit is None else visit.seen_at


def record_visit(session: Session, subject: Subject, room_id: uuid.UUID, now: datetime) -> None:
    visit = session.get(BoardVisit, (subject.user_id, room_id))
    if visit is None:
        session.add(BoardVisit(user_id=subject.user_id, subcommittee_id=room_id, seen_at=now))
    else:
        visit.seen_at = now
    session.flush()


def is_new(report: SituationReport, last_seen: datetime | None) -> bool:
    """New to the reader: posted after their last look at the board (everything, if they never looked)."""
    return last_seen is None or report.created_at > last_seen


def _views(
    session: Session, subject: Subject, room: Subcommittee, limit: int | None
) -> list[PartView[SituationReport]]:
    query = (
        select(SituationReport)
        .where(SituationReport.subcommittee_id == room.id)
        .order_by(SituationReport.reported_at.desc(), SituationReport.created_at.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return view_parts(
        session,
        subject,
        room.id,
        session.scalars(query),
        object_type="situation_report",
        rule="situation.read",
    )


def _names(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()
    return {row[0]: row[1] for row in rows}


def board(session: Session, subject: Subject, room: Subcommittee, *, limit: int | None = None) -> Board:
    """The room's reports, newest first, as this reader meets them (withheld lines without text)."""
    last_seen = last_visit(session, subject, room.id)
    views = _views(session, subject, room, limit)
    names = _names(session, {v.part.created_by_id for v in views if v.readable})
    entries = [
        ReportForReader(
            report=view.part,
            texts=texts(session, view, REPORT_COLUMNS),
            author_name=names.get(view.part.created_by_id) if view.readable else None,
            is_new=is_new(view.part, last_seen),
        )
        for view in views
    ]
    known = {code for view in views if view.readable for code in view.part.caveat_codes}
    caveats = (
        {c.code: c for c in session.scalars(select(Caveat).where(Caveat.code.in_(known)))} if known else {}
    )
    return Board(room, entries, last_seen, caveats)


def new_count(session: Session, subject: Subject, room: Subcommittee) -> int:
    """Reports posted since the reader's last visit (withheld ones too: the reader sees their lines)."""
    last_seen = last_visit(session, subject, room.id)
    query = (
        select(func.count()).select_from(SituationReport).where(SituationReport.subcommittee_id == room.id)
    )
    if last_seen is not None:
        query = query.where(SituationReport.created_at > last_seen)
    return int(session.scalar(query) or 0)
