"""Tabletop exercises: planning (the exercise and its inject timeline) and reading them under the policy.

The room's stewards plan an exercise while it is planned (``policy.decide_plan_exercise``); each exercise
and inject is written under its own marking (``parts.require_mark``) and sealed. A reader who may not read
the exercise meets it as absent (404) or, in the room's list, as a withheld line; a withheld inject is a line
without its text. Running it and the after-action record are in :mod:`portal.exercises.run`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.db import utcnow
from portal.exercises.models import Exercise, ExerciseParticipant, ExerciseStatus, Inject, InjectResponse
from portal.meetings.access import PartView, open_part, require_part, seal_part, view_parts
from portal.meetings.forms import PartMarkingInput
from portal.meetings.parts import apply_marking, require_mark
from portal.rooms import service as rooms
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.policy import Grant, Subject

TITLE_MAX = 300
TEXT_MAX = 20_000
ROLE_MAX = 200
#: The longest timeline: two days of play.
OFFSET_MAX = 48 * 60


class ExerciseRefused(Exception):
    """An exercise or inject that cannot be saved or run as asked; ``code`` is translated by the view.

    EMPTY_TEXT, FACILITATOR_NOT_STEWARD (the facilitator must run the room's meetings and read the
    exercise), PARTICIPANT_NOT_MEMBER, PARTICIPANT_CANNOT_READ, NOT_PLANNED (the timeline is fixed once the
    exercise starts), NOT_RUNNING, NOT_FINISHED, NO_MORE_INJECTS."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class ExerciseConflict(Exception):
    """The exercise changed since the editor opened it (its version moved on); nothing was saved."""


@dataclass(frozen=True)
class ExerciseInput:
    title: str
    scenario: str
    held_on: date
    facilitator_id: uuid.UUID
    participant_ids: frozenset[uuid.UUID]
    marking: PartMarkingInput


@dataclass(frozen=True)
class InjectInput:
    offset_minutes: int
    text: str
    sender: str
    recipient: str
    expected_action: str
    marking: PartMarkingInput


@dataclass(frozen=True)
class OpenedExercise:
    exercise: Exercise
    room: Subcommittee
    grant: Grant
    participant_ids: frozenset[uuid.UUID]

    @property
    def status(self) -> ExerciseStatus:
        return self.exercise.status


INJECT_COLUMNS = ("text", "sender", "recipient", "expected_action")


def format_offset(minutes: int) -> str:
    """T+0:30 for 30 minutes."""
    return f"T+{minutes // 60}:{minutes % 60:02d}"


# --- loading ----------------------------------------------------------------------------------------


def _absent(session: Session, subject: Subject, rule: str, object_type: str, object_id: object) -> None:
    policy.require(
        session, subject, policy.deny(rule, "NOT_FOUND"), object_type=object_type, object_id=object_id,
        conceal=True,
    )  # fmt: skip


def participant_ids_of(session: Session, exercise_id: uuid.UUID) -> frozenset[uuid.UUID]:
    return frozenset(
        session.scalars(
            select(ExerciseParticipant.user_id).where(ExerciseParticipant.exercise_id == exercise_id)
        )
    )


def open_exercise(
    session: Session, subject: Subject, exercise_id: uuid.UUID, rule: str = "exercise.read"
) -> OpenedExercise:
    """An exercise the subject may read (its room, its marking); otherwise 404, audited."""
    exercise = session.get(Exercise, exercise_id)
    if exercise is None:
        _absent(session, subject, rule, "exercise", exercise_id)
    assert exercise is not None
    room = session.get(Subcommittee, exercise.subcommittee_id)
    assert room is not None
    grant = require_part(session, subject, room.id, exercise, object_type="exercise", rule=rule)
    return OpenedExercise(exercise, room, grant, participant_ids_of(session, exercise.id))


def exercise_texts(session: Session, opened: OpenedExercise) -> dict[str, str]:
    return {
        column: open_part(session, opened.grant, opened.exercise, column) for column in ("title", "scenario")
    }


def require_plan(
    session: Session, subject: Subject, room: Subcommittee, rule: str, object_id: object
) -> None:
    """A steward of a risk-review room (a refusal is audited: 403, or 404 outside the room)."""
    policy.require(
        session, subject, policy.decide_plan_exercise(subject, room, rule), object_type="exercise",
        object_id=object_id, conceal=room.id not in subject.room_ids,
    )  # fmt: skip


def may_plan(subject: Subject, room: Subcommittee) -> bool:
    return policy.decide_plan_exercise(subject, room, "exercise.create").allowed


@dataclass(frozen=True)
class ListedExercise:
    view: PartView[Exercise]
    title: str | None


def list_for_room(session: Session, subject: Subject, room: Subcommittee) -> list[ListedExercise]:
    """The room's exercises, latest date first; those the reader may not read are withheld lines."""
    exercises = session.scalars(
        select(Exercise).where(Exercise.subcommittee_id == room.id).order_by(Exercise.held_on.desc())
    ).all()
    views = view_parts(session, subject, room.id, exercises, object_type="exercise", rule="exercise.read")
    return [
        ListedExercise(view, open_part(session, view.grant, view.part, "title") if view.grant else None)
        for view in views
    ]


# --- the exercise -----------------------------------------------------------------------------------


def _clean(text: str, limit: int, *, one_line: bool = False) -> str:
    cleaned = " ".join(text.split()) if one_line else text.strip()
    if not cleaned:
        raise ExerciseRefused("EMPTY_TEXT")
    return cleaned[:limit]


def _check_people(
    session: Session, room: Subcommittee, exercise: Exercise, facilitator_id: uuid.UUID,
    participant_ids: Iterable[uuid.UUID], now: datetime,
) -> frozenset[uuid.UUID]:  # fmt: skip
    """The facilitator is a steward of the room who may read the exercise; participants are current members
    who may read it. Returns the participants (never the facilitator)."""
    seats = {member.user_id for member in rooms.current_members(session, room.id, now)}

    def subject_of(user_id: uuid.UUID) -> Subject | None:
        user = session.get(User, user_id)
        return None if user is None or user_id not in seats else policy.load_subject(session, user, now)

    facilitator = subject_of(facilitator_id)
    if (
        facilitator is None
        or not policy.decide_plan_exercise(facilitator, room, "exercise.run").allowed
        or not policy.decide_read_part(facilitator, room.id, exercise, "exercise.read").allowed
    ):
        raise ExerciseRefused("FACILITATOR_NOT_STEWARD")
    chosen = frozenset(participant_ids) - {facilitator_id}
    for user_id in chosen:
        participant = subject_of(user_id)
        if participant is None:
            raise ExerciseRefused("PARTICIPANT_NOT_MEMBER")
        if not policy.decide_read_part(participant, room.id, exercise, "exercise.read").allowed:
            raise ExerciseRefused("PARTICIPANT_CANNOT_READ")
    return chosen


def _set_participants(session: Session, exercise_id: uuid.UUID, user_ids: frozenset[uuid.UUID]) -> None:
    session.execute(delete(ExerciseParticipant).where(ExerciseParticipant.exercise_id == exercise_id))
    for user_id in sorted(user_ids):
        session.add(ExerciseParticipant(exercise_id=exercise_id, user_id=user_id))


def _write_exercise(
    session: Session, subject: Subject, room: Subcommittee, exercise: Exercise, given: ExerciseInput,
    rule: str, now: datetime,
) -> None:  # fmt: skip
    grant = require_mark(
        session, subject, room, given.marking, rule=rule, object_type="exercise", object_id=exercise.id
    )
    title = _clean(given.title, TITLE_MAX, one_line=True)
    scenario = _clean(given.scenario, TEXT_MAX)
    apply_marking(session, subject, grant, exercise, room.id, given.marking)
    participants = _check_people(session, room, exercise, given.facilitator_id, given.participant_ids, now)
    exercise.facilitator_id = given.facilitator_id
    exercise.held_on = given.held_on
    exercise.updated_at = now
    seal_part(session, grant, exercise, room.id, {"title": title, "scenario": scenario})
    _set_participants(session, exercise.id, participants)


def create_exercise(
    session: Session, subject: Subject, room_id: uuid.UUID, new: ExerciseInput, now: datetime | None = None
) -> Exercise:
    now = now or utcnow()
    room = session.get(Subcommittee, room_id)
    if room is None:
        _absent(session, subject, "exercise.create", "room", room_id)
    assert room is not None
    exercise = Exercise(
        id=uuid.uuid4(), subcommittee_id=room.id, created_by_id=subject.user_id, created_at=now, version=1,
        status=ExerciseStatus.PLANNED, affected_risk_ids_text="",
    )  # fmt: skip
    require_plan(session, subject, room, "exercise.create", exercise.id)
    _write_exercise(session, subject, room, exercise, new, "exercise.create", now)
    session.add(exercise)
    session.flush()
    policy.record_change(
        session, subject, "exercise.create", object_type="exercise", object_id=exercise.id,
        level=exercise.level, detail={"room": str(room.id), "participants": len(new.participant_ids)},
    )  # fmt: skip
    return exercise


def _require_planned(opened: OpenedExercise) -> None:
    if opened.status != ExerciseStatus.PLANNED:
        raise ExerciseRefused("NOT_PLANNED")


def edit_exercise(
    session: Session, subject: Subject, exercise_id: uuid.UUID, change: ExerciseInput, base_version: int,
    now: datetime | None = None,
) -> Exercise:  # fmt: skip
    now = now or utcnow()
    opened = open_exercise(session, subject, exercise_id, "exercise.edit")
    require_plan(session, subject, opened.room, "exercise.edit", exercise_id)
    _require_planned(opened)
    exercise = opened.exercise
    if exercise.version != base_version:
        raise ExerciseConflict()
    before = exercise.level
    _write_exercise(session, subject, opened.room, exercise, change, "exercise.edit", now)
    exercise.version += 1
    session.flush()
    policy.record_change(
        session, subject, "exercise.edit", object_type="exercise", object_id=exercise.id,
        level=exercise.level, detail={"from_level": int(before)},
    )  # fmt: skip
    return exercise


def delete_exercise(session: Session, subject: Subject, exercise_id: uuid.UUID) -> uuid.UUID:
    """A planned exercise only (a run one is a record); returns its room's id."""
    opened = open_exercise(session, subject, exercise_id, "exercise.delete")
    require_plan(session, subject, opened.room, "exercise.delete", exercise_id)
    _require_planned(opened)
    level = opened.exercise.level
    session.delete(opened.exercise)
    session.flush()
    policy.record_change(
        session, subject, "exercise.delete", object_type="exercise", object_id=exercise_id, level=level,
        detail={"room": str(opened.room.id)},
    )  # fmt: skip
    return opened.room.id


# --- injects ----------------------------------------------------------------------------------------


def inject_of(
    session: Session, subject: Subject, opened: OpenedExercise, inject_id: uuid.UUID, rule: str
) -> tuple[Inject, Grant]:
    """An inject of this exercise that the subject may read (otherwise 404, audited)."""
    inject = session.get(Inject, inject_id)
    if inject is None or inject.exercise_id != opened.exercise.id:
        _absent(session, subject, rule, "inject", inject_id)
    assert inject is not None
    grant = require_part(session, subject, opened.room.id, inject, object_type="inject", rule=rule)
    return inject, grant


def _write_inject(
    session: Session, subject: Subject, opened: OpenedExercise, inject: Inject, given: InjectInput, rule: str
) -> None:
    grant = require_mark(
        session, subject, opened.room, given.marking, rule=rule, object_type="inject", object_id=inject.id
    )
    values = {
        "text": _clean(given.text, TEXT_MAX),
        "sender": _clean(given.sender, ROLE_MAX, one_line=True),
        "recipient": _clean(given.recipient, ROLE_MAX, one_line=True),
        "expected_action": _clean(given.expected_action, TEXT_MAX),
    }
    inject.offset_minutes = max(0, min(OFFSET_MAX, given.offset_minutes))
    apply_marking(session, subject, grant, inject, opened.room.id, given.marking)
    seal_part(session, grant, inject, opened.room.id, values)


def add_inject(session: Session, subject: Subject, exercise_id: uuid.UUID, new: InjectInput) -> Inject:
    opened = open_exercise(session, subject, exercise_id, "inject.create")
    require_plan(session, subject, opened.room, "inject.create", exercise_id)
    _require_planned(opened)
    inject = Inject(id=uuid.uuid4(), exercise_id=exercise_id, created_at=utcnow())
    _write_inject(session, subject, opened, inject, new, "inject.create")
    session.add(inject)
    session.flush()
    policy.record_change(
        session, subject, "inject.create", object_type="inject", object_id=inject.id, level=inject.level,
        detail={"exercise": str(exercise_id), "offset": inject.offset_minutes},
    )  # fmt: skip
    return inject


def edit_inject(
    session: Session, subject: Subject, exercise_id: uuid.UUID, inject_id: uuid.UUID, change: InjectInput
) -> Inject:
    opened = open_exercise(session, subject, exercise_id, "inject.edit")
    inject, _grant = inject_of(session, subject, opened, inject_id, "inject.edit")
    require_plan(session, subject, opened.room, "inject.edit", exercise_id)
    _require_planned(opened)
    before = inject.level
    _write_inject(session, subject, opened, inject, change, "inject.edit")
    session.flush()
    policy.record_change(
        session, subject, "inject.edit", object_type="inject", object_id=inject.id, level=inject.level,
        detail={"from_level": int(before), "offset": inject.offset_minutes},
    )  # fmt: skip
    return inject


def delete_inject(session: Session, subject: Subject, exercise_id: uuid.UUID, inject_id: uuid.UUID) -> None:
    opened = open_exercise(session, subject, exercise_id, "inject.delete")
    inject, _grant = inject_of(session, subject, opened, inject_id, "inject.delete")
    require_plan(session, subject, opened.room, "inject.delete", exercise_id)
    _require_planned(opened)
    level = inject.level
    session.delete(inject)
    session.flush()
    policy.record_change(
        session, subject, "inject.delete", object_type="inject", object_id=inject_id, level=level,
        detail={"exercise": str(exercise_id)},
    )  # fmt: skip


def ordered_injects(session: Session, exercise_id: uuid.UUID) -> list[Inject]:
    """The timeline: by time offset, then in the order they were written."""
    return list(
        session.scalars(
            select(Inject)
            .where(Inject.exercise_id == exercise_id)
            .order_by(Inject.offset_minutes, Inject.created_at, Inject.id)
        )
    )


# --- the timeline as one reader sees it ------------------------------------------------------------


@dataclass(frozen=True)
class ResponseLine:
    author: str
    body: str
    created_at: datetime
    own: bool


@dataclass(frozen=True)
class InjectLine:
    inject: Inject
    offset: str
    #: None for a withheld inject (the reader may not read it: its text is never opened).
    texts: dict[str, str] | None
    responses: list[ResponseLine]


def _responses(session: Session, subject: Subject, grant: Grant, inject: Inject) -> list[ResponseLine]:
    rows = session.execute(
        select(InjectResponse, User.display_name)
        .join(User, User.id == InjectResponse.user_id)
        .where(InjectResponse.inject_id == inject.id)
        .order_by(InjectResponse.created_at, InjectResponse.id)
    ).all()
    return [
        ResponseLine(name, open_part(session, grant, response, "body"), response.created_at,
                     response.user_id == subject.user_id)
        for response, name in rows
    ]  # fmt: skip


def timeline(session: Session, subject: Subject, opened: OpenedExercise, *, whole: bool) -> list[InjectLine]:
    """``whole``: every inject (the stewards' plan); otherwise only those revealed so far, in order."""
    injects = ordered_injects(session, opened.exercise.id)
    if not whole:
        injects = [inject for inject in injects if inject.revealed_at is not None]
    lines = []
    for view in view_parts(
        session, subject, opened.room.id, injects, object_type="inject", rule="inject.read"
    ):
        inject = view.part
        if view.grant is None:
            lines.append(InjectLine(inject, format_offset(inject.offset_minutes), None, []))
            continue
        texts = {column: open_part(session, view.grant, inject, column) for column in INJECT_COLUMNS}
        responses = _responses(session, subject, view.grant, inject) if inject.revealed_at else []
        lines.append(InjectLine(inject, format_offset(inject.offset_minutes), texts, responses))
    return lines
