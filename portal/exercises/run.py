"""Running a tabletop exercise and its after-action record.

The facilitator starts the exercise, reveals the injects one by one in timeline order and ends it
(``policy.decide_run_exercise``). Participants see the injects revealed so far and record their responses
(sealed under the inject's level). After the run, the facilitator's after-action findings become findings
(and action items) of a meeting record of the room, made on the first finding through
``meetings.service.create_meeting`` ("机上演習 <title>"), and the risks found affected are flagged for review
in the room's risk register (:func:`_flag_affected_risks`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.enums import Level
from portal.exercises.models import Exercise, ExerciseStatus, InjectResponse, RiskFlagRequest
from portal.exercises.service import (
    ExerciseRefused,
    OpenedExercise,
    exercise_texts,
    inject_of,
    open_exercise,
    ordered_injects,
)
from portal.meetings import findings
from portal.meetings import service as meetings
from portal.meetings.access import seal_part
from portal.meetings.forms import PartMarkingInput
from portal.meetings.models import ActionStatus, Finding, Meeting
from portal.security import policy
from portal.security.policy import Subject

RESPONSE_MAX = 10_000
TOKYO = ZoneInfo("Asia/Tokyo")


def require_run(session: Session, subject: Subject, opened: OpenedExercise, rule: str) -> None:
    """The facilitator (a refusal is audited: 403)."""
    policy.require(
        session, subject,
        policy.decide_run_exercise(subject, opened.room, opened.exercise.facilitator_id, rule),
        object_type="exercise", object_id=opened.exercise.id, level=opened.exercise.level,
    )  # fmt: skip


def may_run(subject: Subject, opened: OpenedExercise) -> bool:
    decision = policy.decide_run_exercise(
        subject, opened.room, opened.exercise.facilitator_id, "exercise.run"
    )
    return decision.allowed


def may_follow(subject: Subject, opened: OpenedExercise) -> bool:
    return policy.decide_follow_exercise(
        subject, opened.room, opened.exercise.facilitator_id, opened.participant_ids
    ).allowed


def _status_change(
    session: Session, subject: Subject, exercise_id: uuid.UUID, rule: str, expected: ExerciseStatus
) -> OpenedExercise:
    opened = open_exercise(session, subject, exercise_id, rule)
    require_run(session, subject, opened, rule)
    if opened.status != expected:
        raise ExerciseRefused(f"NOT_{expected.value.upper()}")
    return opened


def start(
    session: Session, subject: Subject, exercise_id: uuid.UUID, now: datetime | None = None
) -> Exercise:
    opened = _status_change(session, subject, exercise_id, "exercise.start", ExerciseStatus.PLANNED)
    exercise = opened.exercise
    exercise.status = ExerciseStatus.RUNNING
    exercise.started_at = now or utcnow()
    exercise.version += 1
    session.flush()
    policy.record_change(
        session,
        subject,
        "exercise.start",
        object_type="exercise",
        object_id=exercise.id,
        level=exercise.level,
    )
    return exercise


def reveal_next(
    session: Session, subject: Subject, exercise_id: uuid.UUID, now: datetime | None = None
) -> uuid.UUID:
    """Reveal the first inject of the timeline not yet revealed; returns its id."""
    opened = _status_change(session, subject, exercise_id, "exercise.reveal", ExerciseStatus.RUNNING)
    pending = [inject for inject in ordered_injects(session, exercise_id) if inject.revealed_at is None]
    if not pending:
        raise ExerciseRefused("NO_MORE_INJECTS")
    inject = pending[0]
    inject.revealed_at = now or utcnow()
    session.flush()
    policy.record_change(
        session, subject, "exercise.reveal", object_type="inject", object_id=inject.id, level=inject.level,
        detail={"exercise": str(opened.exercise.id), "offset": inject.offset_minutes},
    )  # fmt: skip
    return inject.id


def finish(
    session: Session, subject: Subject, exercise_id: uuid.UUID, now: datetime | None = None
) -> Exercise:
    opened = _status_change(session, subject, exercise_id, "exercise.finish", ExerciseStatus.RUNNING)
    exercise = opened.exercise
    exercise.status = ExerciseStatus.FINISHED
    exercise.finished_at = now or utcnow()
    exercise.version += 1
    session.flush()
    policy.record_change(
        session,
        subject,
        "exercise.finish",
        object_type="exercise",
        object_id=exercise.id,
        level=exercise.level,
    )
    return exercise


def respond(
    session: Session, subject: Subject, exercise_id: uuid.UUID, inject_id: uuid.UUID, body: str,
    now: datetime | None = None,
) -> InjectResponse:  # fmt: skip
    """A participant's response to a revealed inject they may read (an unrevealed one is absent: 404)."""
    opened = open_exercise(session, subject, exercise_id, "exercise.respond")
    inject, grant = inject_of(session, subject, opened, inject_id, "exercise.respond")
    if inject.revealed_at is None:
        policy.require(
            session, subject, policy.deny("exercise.respond", "NOT_REVEALED"), object_type="inject",
            object_id=inject.id, conceal=True,
        )  # fmt: skip
    decision = policy.decide_respond_inject(
        subject, opened.room, opened.participant_ids, opened.status == ExerciseStatus.RUNNING
    )
    policy.require(session, subject, decision, object_type="inject", object_id=inject.id, level=inject.level)
    text = body.strip()[:RESPONSE_MAX]
    if not text:
        raise ExerciseRefused("EMPTY_TEXT")
    response = InjectResponse(
        id=uuid.uuid4(), inject_id=inject.id, user_id=subject.user_id, level=inject.level,
        created_at=now or utcnow(),
    )  # fmt: skip
    seal_part(session, grant, response, opened.room.id, {"body": text})
    session.add(response)
    session.flush()
    policy.record_change(
        session, subject, "exercise.respond", object_type="inject", object_id=inject.id, level=inject.level,
        detail={"exercise": str(exercise_id), "response": str(response.id)},
    )  # fmt: skip
    return response


# --- after-action -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AfterActionInput:
    finding: str
    marking: PartMarkingInput
    #: An action item for the finding (optional): its title, owner and due date.
    action_title: str
    action_owner_id: uuid.UUID | None
    action_due_on: date | None


def _meeting_title(opened: OpenedExercise, title: str) -> tuple[str, Level]:
    """The record's title names the exercise unless the exercise's marking is narrower than a meeting's
    (caveats, named readers, or CESI): then a plain title, so the meeting list reveals nothing more."""
    exercise = opened.exercise
    narrow = exercise.caveat_codes or exercise.named_reader_ids or exercise.level > Level.CONFIDENTIAL
    level = min(exercise.level, Level.CONFIDENTIAL)
    return ("机上演習(事後検証)" if narrow else f"机上演習 {title}"), Level(level)


def record_meeting(session: Session, subject: Subject, opened: OpenedExercise) -> Meeting:
    """The exercise's meeting record (made once, on the first after-action finding)."""
    exercise = opened.exercise
    if exercise.meeting_id is not None:
        meeting = session.get(Meeting, exercise.meeting_id)
        assert meeting is not None
        return meeting
    title, level = _meeting_title(opened, exercise_texts(session, opened)["title"])
    starts_at = exercise.started_at or datetime.combine(exercise.held_on, time(10, 0), TOKYO)
    if starts_at.tzinfo is None:
        starts_at = starts_at.replace(tzinfo=ZoneInfo("UTC"))
    ended = exercise.finished_at or starts_at + timedelta(hours=2)
    if ended.tzinfo is None:
        ended = ended.replace(tzinfo=ZoneInfo("UTC"))
    minutes = max(5, min(12 * 60, int((ended - starts_at).total_seconds() // 60)))
    meeting = meetings.create_meeting(
        session, subject, opened.room,
        meetings.NewMeeting(title=title, place="机上演習(協議会ポータル)", starts_at=starts_at,
                            duration_minutes=minutes, level=level),
    )  # fmt: skip
    exercise.meeting_id = meeting.id
    session.flush()
    return meeting


def add_after_action(
    session: Session, subject: Subject, exercise_id: uuid.UUID, given: AfterActionInput,
    now: datetime | None = None,
) -> Finding:  # fmt: skip
    """One after-action finding (and its action item, if one is given) on the exercise's meeting record.
    The meetings' own services decide, seal and audit them; a refusal raises their FollowupRefused."""
    opened = _status_change(session, subject, exercise_id, "exercise.after_action", ExerciseStatus.FINISHED)
    meeting = record_meeting(session, subject, opened)
    finding = findings.create_finding(
        session, subject, meeting.id, findings.FindingInput(given.finding, None, given.marking)
    )
    if given.action_title.strip():
        if given.action_owner_id is None:
            raise findings.FollowupRefused("OWNER_NOT_MEMBER")
        findings.create_action(
            session, subject, meeting.id,
            findings.ActionInput(given.action_title, given.action_owner_id, given.action_due_on,
                                 ActionStatus.OPEN, finding.id, given.marking),
            now,
        )  # fmt: skip
    policy.record_change(
        session, subject, "exercise.after_action", object_type="exercise", object_id=exercise_id,
        level=opened.exercise.level, detail={"meeting": str(meeting.id), "finding": str(finding.id)},
    )  # fmt: skip
    return finding


def flag_affected_risks(
    session: Session,
    subject: Subject,
    exercise_id: uuid.UUID,
    risk_ids: list[str],
    now: datetime | None = None,
) -> list[str]:
    """The facilitator names the risks the exercise found affected: kept on the exercise and flagged for
    review in the register. Returns the ids newly added."""
    opened = _status_change(session, subject, exercise_id, "exercise.flag_risks", ExerciseStatus.FINISHED)
    exercise = opened.exercise
    known = set(exercise.affected_risk_ids)
    added = [risk_id for risk_id in risk_ids if risk_id not in known]
    if not added:
        return []
    exercise.affected_risk_ids_text = " ".join([*exercise.affected_risk_ids, *added])
    _flag_affected_risks(session, subject, exercise, added, now or utcnow())
    session.flush()
    policy.record_change(
        session, subject, "exercise.flag_risks", object_type="exercise", object_id=exercise.id,
        level=exercise.level, detail={"risks": added},
    )  # fmt: skip
    return added


def _flag_affected_risks(
    session: Session, subject: Subject, exercise: Exercise, risk_ids: list[str], now: datetime
) -> None:
    """Every flag is kept as a :class:`RiskFlagRequest` and handed to the risk register at once
    (``portal.risks.service.flag_for_review``: the facilitator must read each risk and keep the register;
    a refusal of any one refuses all, audited). A delivered request records when."""
    from portal.risks import service as risks  # the register builds on meetings; imported when used

    reason = f"机上演習の事後検証 (exercise {exercise.id})"
    requests = [
        RiskFlagRequest(exercise_id=exercise.id, risk_id=risk_id, reason=reason,
                        requested_by_id=subject.user_id, requested_at=now)
        for risk_id in risk_ids
    ]  # fmt: skip
    session.add_all(requests)
    risks.flag_for_review(session, subject, [uuid.UUID(risk_id) for risk_id in risk_ids], reason)
    for request in requests:
        request.delivered_at = now


def pending_flags(session: Session, exercise_id: uuid.UUID) -> list[RiskFlagRequest]:
    return list(
        session.scalars(
            select(RiskFlagRequest)
            .where(RiskFlagRequest.exercise_id == exercise_id)
            .order_by(RiskFlagRequest.requested_at, RiskFlagRequest.risk_id)
        )
    )
