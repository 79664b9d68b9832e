"""The panel a policy-coordination room's page leads with: the work plan's timeline, the recommendations
board summary and the sectors represented (and missing) among the room's members."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Organization, User
from portal.db import utcnow
from portal.enums import Sector, SubcommitteeKind
from portal.meetings.followup_read import today_in
from portal.policywork import recommendations
from portal.policywork.charts import TimelineMark, TimelineRow, TimelineWords, timeline_svg
from portal.policywork.forms import STATUS_LABELS
from portal.policywork.service import ThemeEntry, is_steward, work_plan
from portal.rooms import tools
from portal.rooms.models import Subcommittee
from portal.rooms.service import current_members
from portal.security.policy import Subject


@dataclass(frozen=True)
class SectorCount:
    sector: Sector | None  # None: members whose organisation names no sector
    members: int


def sectors_present(session: Session, room_id: uuid.UUID, now: datetime) -> list[SectorCount]:
    """The sectors of the room's current members' organisations, with how many members speak for each."""
    member_ids = [m.user_id for m in current_members(session, room_id, now)]
    if not member_ids:
        return []
    sectors = session.scalars(
        select(Organization.sector)
        .join(User, User.organization_id == Organization.id)
        .where(User.id.in_(member_ids))
    ).all()
    counts = Counter(sectors)
    order = list(Sector)
    known = sorted((s for s in counts if s is not None), key=order.index)
    listed = [SectorCount(s, counts[s]) for s in known]
    if None in counts:
        listed.append(SectorCount(None, counts[None]))
    return listed


def missing_sectors(
    present: list[SectorCount], entries: list[recommendations.RecommendationEntry]
) -> list[Sector]:
    """不在のセクター: sectors concerned by recommendations this reader reads that no member represents."""
    have = {count.sector for count in present}
    concerned = {sector for entry in entries if entry.readable for sector in entry.item.sectors}
    order = list(Sector)
    return sorted(concerned - have, key=order.index)


def timeline_rows(plan: list[ThemeEntry]) -> list[TimelineRow]:
    return [
        TimelineRow(entry.title, tuple(TimelineMark(m.title, m.due_on, m.done) for m in entry.milestones))
        if entry.readable
        else TimelineRow(None)
        for entry in plan
    ]


def timeline(plan: list[ThemeEntry], today: date, room_name: str) -> Markup:
    words = TimelineWords(
        title=_("Work plan of %(room)s", room=room_name),
        description=_(
            "Timeline of %(count)d themes by month, with their milestones (filled: done) and today's date.",
            count=len(plan),
        ),
        withheld=_("Theme you may not read"),
        today=_("Today"),
        done=_("done"),
        open=_("not done"),
    )
    return timeline_svg(timeline_rows(plan), today, words)


@tools.register(SubcommitteeKind.POLICY_COORDINATION)
def panel(session: Session, subject: Subject, room: Subcommittee) -> dict[str, Any]:
    from flask_babel import get_locale

    now = utcnow()
    today = today_in(now)
    plan = work_plan(session, subject, room)
    entries = recommendations.for_reader(session, subject, room)
    present = sectors_present(session, room.id, now)
    return {
        "plan": plan,
        "timeline": timeline(plan, today, room.name(str(get_locale() or "ja"))),
        "board": recommendations.board(entries),
        "present": present,
        "missing": missing_sectors(present, entries),
        "can_manage": is_steward(subject, room),
        "today": today,
        "status_labels": STATUS_LABELS,
    }
