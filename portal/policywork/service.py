"""The work plan of a policy-coordination room: themes (each with its own marking) and their milestones.

The room's stewards (its chair, or a secretariat member of the room) write the plan
(``policy.decide_steward_policy_room``); every member reads the themes their clearance, caveats and
need-to-know allow (``policy.decide_read_part``). A theme they may not read is a withheld line: no title, no
owner, no milestones. A milestone is sealed under its theme's level and opened with the theme's grant.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.db import utcnow
from portal.enums import SubcommitteeKind
from portal.meetings.access import open_part, require_part, seal_part, view_parts
from portal.meetings.forms import PartMarkingInput
from portal.meetings.parts import apply_marking, require_mark
from portal.policywork.models import Milestone, WorkTheme
from portal.rooms import service as rooms
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.crypto import IntegrityError, KeyDestroyed
from portal.security.policy import Grant, Subject

TITLE_MAX = 300
DESCRIPTION_MAX = 5000


class PolicyWorkRefused(Exception):
    """A theme, milestone or recommendation that cannot be saved as asked; ``code`` is translated by the
    view. EMPTY_TEXT, OWNER_NOT_MEMBER (the owner holds no seat in the room), OWNER_CANNOT_READ (the owner
    could not read the item under its marking), LINK_UNKNOWN (material not of this room or not readable)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class ThemeConflict(Exception):
    """The theme changed since the editor opened it; nothing was saved."""

    def __init__(self, theme: WorkTheme, current_title: str) -> None:
        super().__init__("theme changed")
        self.theme = theme
        self.current_title = current_title


@dataclass(frozen=True)
class ThemeInput:
    title: str
    description: str
    owner_id: uuid.UUID
    marking: PartMarkingInput


@dataclass(frozen=True)
class MilestoneInput:
    title: str
    due_on: date


# --- the room and its stewards ---------------------------------------------------------------------


def open_policy_room(session: Session, subject: Subject, room_id: uuid.UUID) -> Subcommittee:
    """A policy-coordination room the subject may enter; any other room answers 404 (audited)."""
    room = rooms.open_room(session, subject, room_id)
    if room.kind != SubcommitteeKind.POLICY_COORDINATION:
        policy.require(
            session, subject, policy.deny("room.enter", "NOT_POLICY_COORDINATION"), object_type="room",
            object_id=room.id, conceal=True,
        )  # fmt: skip
    return room


def is_steward(subject: Subject, room: Subcommittee) -> bool:
    return policy.decide_steward_policy_room(subject, room, "workplan.manage").allowed


def require_steward(session: Session, subject: Subject, room: Subcommittee, rule: str) -> policy.Decision:
    """A refusal is audited and answers 403."""
    decision = policy.decide_steward_policy_room(subject, room, rule)
    policy.require(session, subject, decision, object_type="room", object_id=room.id)
    return decision


def clean_title(title: str, limit: int = TITLE_MAX) -> str:
    cleaned = " ".join(title.split())
    if not cleaned:
        raise PolicyWorkRefused("EMPTY_TEXT")
    return cleaned[:limit]


def check_owner(
    session: Session, room: Subcommittee, part: object, owner_id: uuid.UUID, rule: str, now: datetime
) -> None:
    """The owner holds a seat in the room and could read the item under its marking."""
    seats = {member.user_id for member in rooms.current_members(session, room.id, now)}
    owner = session.get(User, owner_id)
    if owner is None or owner_id not in seats:
        raise PolicyWorkRefused("OWNER_NOT_MEMBER")
    owner_subject = policy.load_subject(session, owner, now)
    if not policy.decide_read_part(owner_subject, room.id, part, rule).allowed:  # type: ignore[arg-type]
        raise PolicyWorkRefused("OWNER_CANNOT_READ")


def not_found(session: Session, subject: Subject, rule: str, object_type: str, object_id: object) -> None:
    policy.require(
        session, subject, policy.deny(rule, "NOT_FOUND"), object_type=object_type, object_id=object_id,
        conceal=True,
    )  # fmt: skip


# --- themes ---------------------------------------------------------------------------------------


def theme_of(
    session: Session, subject: Subject, room: Subcommittee, theme_id: uuid.UUID, rule: str
) -> tuple[WorkTheme, Grant]:
    """A theme of this room that the subject may read (otherwise 404, audited)."""
    theme = session.get(WorkTheme, theme_id)
    if theme is None or theme.subcommittee_id != room.id:
        not_found(session, subject, rule, "work_theme", theme_id)
    assert theme is not None
    grant = require_part(session, subject, room.id, theme, object_type="work_theme", rule=rule)
    return theme, grant


def create_theme(
    session: Session, subject: Subject, room_id: uuid.UUID, new: ThemeInput, now: datetime | None = None
) -> WorkTheme:
    now = now or utcnow()
    room = open_policy_room(session, subject, room_id)
    require_steward(session, subject, room, "workplan.theme_create")
    theme = WorkTheme(id=uuid.uuid4(), subcommittee_id=room.id, created_by_id=subject.user_id, version=1)
    grant = require_mark(
        session, subject, room, new.marking, rule="workplan.theme_create", object_type="work_theme",
        object_id=theme.id,
    )  # fmt: skip
    title = clean_title(new.title)
    description = new.description.strip()[:DESCRIPTION_MAX]
    apply_marking(session, subject, grant, theme, room.id, new.marking)
    check_owner(session, room, theme, new.owner_id, "workplan.read", now)
    theme.owner_id = new.owner_id
    last = session.scalar(select(func.max(WorkTheme.position)).where(WorkTheme.subcommittee_id == room.id))
    theme.position = (last or 0) + 1
    theme.created_at = theme.updated_at = now
    seal_part(session, grant, theme, room.id, {"title": title, "description": description})
    session.add(theme)
    session.flush()
    policy.record_change(
        session, subject, "workplan.theme_create", object_type="work_theme", object_id=theme.id,
        level=theme.level, detail={"room": str(room.id), "caveats": sorted(theme.caveat_codes)},
    )  # fmt: skip
    return theme


def edit_theme(
    session: Session,
    subject: Subject,
    room_id: uuid.UUID,
    theme_id: uuid.UUID,
    change: ThemeInput,
    base_version: int,
    now: datetime | None = None,
) -> WorkTheme:
    """Re-word and re-mark a theme (its milestones are re-sealed under its new level). An edit based on an
    older version raises :class:`ThemeConflict`."""
    now = now or utcnow()
    room = open_policy_room(session, subject, room_id)
    theme, read_grant = theme_of(session, subject, room, theme_id, "workplan.theme_edit")
    require_steward(session, subject, room, "workplan.theme_edit")
    grant = require_mark(
        session, subject, room, change.marking, rule="workplan.theme_edit", object_type="work_theme",
        object_id=theme.id,
    )  # fmt: skip
    if theme.version != base_version:
        raise ThemeConflict(theme, open_part(session, read_grant, theme, "title"))
    title = clean_title(change.title)
    description = change.description.strip()[:DESCRIPTION_MAX]
    milestone_titles = {m.id: open_part(session, read_grant, m, "title") for m in theme.milestones}
    before = theme.level
    apply_marking(session, subject, grant, theme, room.id, change.marking)
    check_owner(session, room, theme, change.owner_id, "workplan.read", now)
    theme.owner_id = change.owner_id
    theme.updated_at = now
    theme.version += 1
    seal_part(session, grant, theme, room.id, {"title": title, "description": description})
    for milestone in theme.milestones:
        milestone.level = theme.level
        seal_part(session, grant, milestone, room.id, {"title": milestone_titles[milestone.id]})
    session.flush()
    policy.record_change(
        session, subject, "workplan.theme_edit", object_type="work_theme", object_id=theme.id,
        level=theme.level, detail={"from_level": int(before), "caveats": sorted(theme.caveat_codes)},
    )  # fmt: skip
    return theme


def delete_theme(session: Session, subject: Subject, room_id: uuid.UUID, theme_id: uuid.UUID) -> None:
    room = open_policy_room(session, subject, room_id)
    theme, _grant = theme_of(session, subject, room, theme_id, "workplan.theme_delete")
    require_steward(session, subject, room, "workplan.theme_delete")
    level = theme.level
    session.delete(theme)
    session.flush()
    policy.record_change(
        session, subject, "workplan.theme_delete", object_type="work_theme", object_id=theme_id, level=level,
        detail={"room": str(room.id)},
    )  # fmt: skip


# --- milestones -----------------------------------------------------------------------------------


def _theme_for_change(
    session: Session, subject: Subject, room_id: uuid.UUID, theme_id: uuid.UUID, rule: str
) -> tuple[Subcommittee, WorkTheme, Grant]:
    room = open_policy_room(session, subject, room_id)
    theme, _read = theme_of(session, subject, room, theme_id, rule)
    decision = require_steward(session, subject, room, rule)
    return room, theme, policy.grant_from(decision, subject, "work_theme", theme.id)


def add_milestone(
    session: Session, subject: Subject, room_id: uuid.UUID, theme_id: uuid.UUID, new: MilestoneInput
) -> Milestone:
    room, theme, grant = _theme_for_change(session, subject, room_id, theme_id, "workplan.milestone_create")
    milestone = Milestone(
        id=uuid.uuid4(), theme_id=theme.id, level=theme.level, due_on=new.due_on, done=False
    )
    seal_part(session, grant, milestone, room.id, {"title": clean_title(new.title)})
    session.add(milestone)
    session.flush()
    policy.record_change(
        session, subject, "workplan.milestone_create", object_type="work_milestone", object_id=milestone.id,
        level=theme.level, detail={"theme": str(theme.id), "due_on": new.due_on.isoformat()},
    )  # fmt: skip
    return milestone


def _milestone_of(
    session: Session, subject: Subject, theme: WorkTheme, milestone_id: uuid.UUID, rule: str
) -> Milestone:
    milestone = session.get(Milestone, milestone_id)
    if milestone is None or milestone.theme_id != theme.id:
        not_found(session, subject, rule, "work_milestone", milestone_id)
    assert milestone is not None
    return milestone


def set_milestone_done(
    session: Session,
    subject: Subject,
    room_id: uuid.UUID,
    theme_id: uuid.UUID,
    milestone_id: uuid.UUID,
    done: bool,
) -> Milestone:
    rule = "workplan.milestone_done"
    _room, theme, _grant = _theme_for_change(session, subject, room_id, theme_id, rule)
    milestone = _milestone_of(session, subject, theme, milestone_id, rule)
    milestone.done = done
    session.flush()
    policy.record_change(
        session, subject, rule, object_type="work_milestone", object_id=milestone.id, level=theme.level,
        detail={"done": done},
    )  # fmt: skip
    return milestone


def delete_milestone(
    session: Session, subject: Subject, room_id: uuid.UUID, theme_id: uuid.UUID, milestone_id: uuid.UUID
) -> None:
    rule = "workplan.milestone_delete"
    _room, theme, _grant = _theme_for_change(session, subject, room_id, theme_id, rule)
    milestone = _milestone_of(session, subject, theme, milestone_id, rule)
    session.delete(milestone)
    session.flush()
    policy.record_change(
        session, subject, rule, object_type="work_milestone", object_id=milestone_id, level=theme.level,
        detail={"theme": str(theme.id)},
    )  # fmt: skip


# --- reading the plan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MilestoneEntry:
    id: uuid.UUID
    title: str
    due_on: date
    done: bool


@dataclass(frozen=True)
class ThemeEntry:
    """A theme as one reader meets it; a withheld one has no title, owner or milestones."""

    theme: WorkTheme
    readable: bool
    title: str | None = None
    description: str | None = None
    owner_name: str | None = None
    milestones: tuple[MilestoneEntry, ...] = ()
    #: The room's keys were shredded or the row was altered: neither readable nor withheld.
    unavailable: bool = False


def work_plan(session: Session, subject: Subject, room: Subcommittee) -> list[ThemeEntry]:
    themes = session.scalars(
        select(WorkTheme).where(WorkTheme.subcommittee_id == room.id).order_by(WorkTheme.position)
    ).all()
    entries = []
    for view in view_parts(session, subject, room.id, themes, object_type="work_theme", rule="workplan.read"):
        theme = view.part
        if view.grant is None:
            entries.append(ThemeEntry(theme, False))
            continue
        owner = session.get(User, theme.owner_id)
        try:
            milestones = tuple(
                MilestoneEntry(m.id, open_part(session, view.grant, m, "title"), m.due_on, m.done)
                for m in theme.milestones
            )
            title = open_part(session, view.grant, theme, "title")
            description = open_part(session, view.grant, theme, "description")
        except (KeyDestroyed, IntegrityError):
            entries.append(ThemeEntry(theme, False, unavailable=True))
            continue
        entries.append(
            ThemeEntry(theme, True, title, description, owner.display_name if owner else None, milestones)
        )
    return entries
