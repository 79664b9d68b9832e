"""Tabletop exercises: planning pages (stewards), the run page (facilitator and participants) and the
after-action page (facilitator). Views parse, call the services, render."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select

from portal.accounts.caveats import Caveat
from portal.accounts.forms import ConfirmForm
from portal.accounts.models import User
from portal.db import request_session, utcnow
from portal.exercises import run, service
from portal.exercises.forms import (
    STATUS_LABELS,
    AfterActionForm,
    ExerciseForm,
    InjectForm,
    ResponseForm,
    RiskFlagForm,
)
from portal.exercises.models import ExerciseStatus
from portal.exercises.service import (
    ExerciseConflict,
    ExerciseInput,
    ExerciseRefused,
    InjectInput,
    OpenedExercise,
)
from portal.meetings import findings
from portal.meetings.access import open_part
from portal.meetings.followup_pages import FOLLOWUP_MESSAGES, locale
from portal.meetings.parts import InvalidMarking, current_marking, fill_marking_choices
from portal.rooms import service as rooms
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.web import current_subject, performs

blueprint = Blueprint("exercises", __name__)

MESSAGES = {
    **FOLLOWUP_MESSAGES,
    "NOT_RISK_REVIEW": _l("Tabletop exercises belong to risk-review subcommittees."),
    "NOT_FACILITATOR": _l("Only the facilitator of the exercise does this."),
    "NOT_PARTICIPANT": _l("Only the participants of the exercise do this."),
    "FACILITATOR_NOT_STEWARD": _l(
        "The facilitator must be the chair or a secretariat member of the subcommittee "
        "who may read the exercise."
    ),
    "PARTICIPANT_NOT_MEMBER": _l("Participants must be current members of the subcommittee."),
    "PARTICIPANT_CANNOT_READ": _l("A participant could not read an exercise with this marking."),
    "NOT_PLANNED": _l("The exercise has started: its plan can no longer change."),
    "NOT_RUNNING": _l("The exercise is not running."),
    "NOT_FINISHED": _l("The after-action record is written once the exercise has ended."),
    "NO_MORE_INJECTS": _l("Every inject has been revealed."),
    "EXERCISE_NOT_RUNNING": _l("Responses are recorded while the exercise runs."),
}


def message(code: str) -> str:
    return str(MESSAGES.get(code, code))


def _save(form: Any, action: Callable[[], Any]) -> tuple[Any, int | None]:
    """Run a save; on a refusal roll back, put the reason on the form and return the status to answer."""
    try:
        result = action()
    except policy.AccessDenied as error:
        request_session().rollback()
        if error.conceal:
            raise
        form.form_errors.append(message(error.decision.reason))
        return None, 403
    except InvalidMarking as error:
        request_session().rollback()
        form.form_errors.append(message(error.reason))
        return None, 400
    except (ExerciseRefused, findings.FollowupRefused) as error:
        request_session().rollback()
        form.form_errors.append(message(error.code))
        return None, 400
    request_session().commit()
    return result, None


def _caveats(codes: frozenset[str]) -> list[Caveat]:
    if not codes:
        return []
    return list(request_session().scalars(select(Caveat).where(Caveat.code.in_(codes)).order_by(Caveat.code)))


def _names(user_ids: frozenset[uuid.UUID]) -> list[str]:
    if not user_ids:
        return []
    return list(
        request_session().scalars(
            select(User.display_name).where(User.id.in_(user_ids)).order_by(User.display_name)
        )
    )


def _room(room_id: uuid.UUID) -> Subcommittee:
    return rooms.open_room(request_session(), current_subject(), room_id)


# --- the exercise -----------------------------------------------------------------------------------


def _people_choices(form: ExerciseForm, room: Subcommittee) -> None:
    members = rooms.current_members(request_session(), room.id, utcnow())
    people = [
        (str(m.user_id), f"{m.user.display_name} ({m.user.organization.name(locale())})") for m in members
    ]
    form.facilitator.choices = [("", _("Choose…")), *people]
    form.participants.choices = people


def _exercise_form(room: Subcommittee, **kwargs: Any) -> ExerciseForm:
    form = ExerciseForm(**kwargs)
    fill_marking_choices(request_session(), current_subject(), form, room, locale())
    _people_choices(form, room)
    return form


def _exercise_input(form: ExerciseForm) -> ExerciseInput:
    return ExerciseInput(
        title=form.title.data or "", scenario=form.scenario.data or "", held_on=form.held_on.data,
        facilitator_id=form.facilitator_id(), participant_ids=form.participant_ids(),
        marking=form.marking_input(),
    )  # fmt: skip


@blueprint.route("/rooms/<uuid:room_id>/exercises/new", methods=["GET", "POST"])
@login_required
@performs("exercise.create")
def create(room_id: uuid.UUID) -> ResponseReturnValue:
    subject = current_subject()
    room = _room(room_id)
    service.require_plan(request_session(), subject, room, "exercise.create", room.id)
    form = _exercise_form(room)
    status = 200
    if form.is_submitted():
        status = 400
        if form.validate():
            exercise, refused = _save(
                form,
                lambda: service.create_exercise(request_session(), subject, room.id, _exercise_input(form)),
            )
            if refused is None:
                flash(_("The exercise was created."), "success")
                return redirect(url_for("exercises.show", exercise_id=exercise.id))
            status = refused
    return render_template("exercises/edit.html", room=room, form=form, exercise=None), status


@blueprint.get("/exercises/<uuid:exercise_id>")
@login_required
@performs("exercise.read")
def show(exercise_id: uuid.UUID) -> ResponseReturnValue:
    return _render_show(exercise_id)


def _render_show(
    exercise_id: uuid.UUID, response_form: ResponseForm | None = None, response_to: uuid.UUID | None = None,
    status: int = 200,
) -> ResponseReturnValue:  # fmt: skip
    session, subject = request_session(), current_subject()
    opened = service.open_exercise(session, subject, exercise_id)
    exercise = opened.exercise
    planner = service.may_plan(subject, opened.room)
    follower = run.may_follow(subject, opened)
    lines = service.timeline(session, subject, opened, whole=planner) if follower else []
    page = render_template(
        "exercises/show.html",
        room=opened.room, exercise=exercise, texts=service.exercise_texts(session, opened),
        caveats=_caveats(exercise.caveat_codes), status_labels=STATUS_LABELS,
        facilitator=_names(frozenset({exercise.facilitator_id})),
        participants=_names(opened.participant_ids), lines=lines,
        planner=planner, follower=follower, runner=run.may_run(subject, opened),
        participant=subject.user_id in opened.participant_ids,
        pending=sum(1 for line in lines if line.inject.revealed_at is None),
        response_form=response_form or ResponseForm(formdata=None), response_to=response_to,
        confirm=ConfirmForm(), risk_titles=_risk_titles(opened.room) if exercise.affected_risk_ids else {},
    )  # fmt: skip
    return page, status


@blueprint.route("/exercises/<uuid:exercise_id>/edit", methods=["GET", "POST"])
@login_required
@performs("exercise.edit")
def edit(exercise_id: uuid.UUID) -> ResponseReturnValue:
    session, subject = request_session(), current_subject()
    opened = service.open_exercise(session, subject, exercise_id, "exercise.edit")
    service.require_plan(session, subject, opened.room, "exercise.edit", exercise_id)
    form = _exercise_form(opened.room)
    if not form.is_submitted():
        texts = service.exercise_texts(session, opened)
        form.fill_from(current_marking(session, opened.grant, opened.exercise))
        form.title.data, form.scenario.data = texts["title"], texts["scenario"]
        form.held_on.data = opened.exercise.held_on
        form.facilitator.data = str(opened.exercise.facilitator_id)
        form.participants.data = sorted(str(user_id) for user_id in opened.participant_ids)
        form.base_version.data = str(opened.exercise.version)
        return render_template("exercises/edit.html", room=opened.room, form=form, exercise=opened.exercise)
    status = 400
    if form.validate():
        base = int(form.base_version.data) if str(form.base_version.data or "").isdigit() else 0
        try:
            _result, refused = _save(
                form,
                lambda: service.edit_exercise(session, subject, exercise_id, _exercise_input(form), base),
            )
        except ExerciseConflict:
            session.rollback()
            form.form_errors.append(
                _("Someone changed this exercise while you were editing. Nothing was saved; reload it.")
            )
            refused = 409
        if refused is None:
            flash(_("The exercise was saved."), "success")
            return redirect(url_for("exercises.show", exercise_id=exercise_id))
        status = refused
    return render_template(
        "exercises/edit.html", room=opened.room, form=form, exercise=opened.exercise
    ), status


@blueprint.post("/exercises/<uuid:exercise_id>/delete")
@login_required
@performs("exercise.delete")
def delete(exercise_id: uuid.UUID) -> ResponseReturnValue:
    form = ConfirmForm()
    if not form.validate():
        abort(400)
    room_id, refused = _save(
        form, lambda: service.delete_exercise(request_session(), current_subject(), exercise_id)
    )
    if refused == 403:
        abort(403)
    if refused is not None:
        flash(form.form_errors[0], "error")
        return redirect(url_for("exercises.show", exercise_id=exercise_id))
    flash(_("The exercise was deleted."), "success")
    return redirect(url_for("rooms.room", room_id=room_id))


# --- injects ----------------------------------------------------------------------------------------


def _inject_form(room: Subcommittee) -> InjectForm:
    form = InjectForm()
    fill_marking_choices(request_session(), current_subject(), form, room, locale())
    return form


def _inject_input(form: InjectForm) -> InjectInput:
    return InjectInput(
        offset_minutes=form.offset_minutes(), text=form.text.data or "", sender=form.sender.data or "",
        recipient=form.recipient.data or "", expected_action=form.expected_action.data or "",
        marking=form.marking_input(),
    )  # fmt: skip


def _planned(opened: OpenedExercise) -> OpenedExercise:
    session, subject = request_session(), current_subject()
    service.require_plan(session, subject, opened.room, "inject.create", opened.exercise.id)
    return opened


@blueprint.route("/exercises/<uuid:exercise_id>/injects/new", methods=["GET", "POST"])
@login_required
@performs("inject.create")
def add_inject(exercise_id: uuid.UUID) -> ResponseReturnValue:
    session, subject = request_session(), current_subject()
    opened = _planned(service.open_exercise(session, subject, exercise_id, "inject.create"))
    form = _inject_form(opened.room)
    status = 200
    if form.is_submitted():
        status = 400
        if form.validate():
            _result, refused = _save(
                form, lambda: service.add_inject(session, subject, exercise_id, _inject_input(form))
            )
            if refused is None:
                flash(_("The inject was added."), "success")
                return redirect(url_for("exercises.show", exercise_id=exercise_id) + "#timeline")
            status = refused
    texts = service.exercise_texts(session, opened)
    return render_template(
        "exercises/inject_edit.html", room=opened.room, exercise=opened.exercise, title=texts["title"],
        form=form, inject=None,
    ), status  # fmt: skip


@blueprint.route("/exercises/<uuid:exercise_id>/injects/<uuid:inject_id>/edit", methods=["GET", "POST"])
@login_required
@performs("inject.edit")
def edit_inject(exercise_id: uuid.UUID, inject_id: uuid.UUID) -> ResponseReturnValue:
    session, subject = request_session(), current_subject()
    opened = service.open_exercise(session, subject, exercise_id, "inject.edit")
    inject, grant = service.inject_of(session, subject, opened, inject_id, "inject.edit")
    _planned(opened)
    form = _inject_form(opened.room)
    status = 200
    if not form.is_submitted():
        form.fill_from(current_marking(session, grant, inject))
        form.offset.data = service.format_offset(inject.offset_minutes)
        for column in service.INJECT_COLUMNS:
            getattr(form, column).data = open_part(session, grant, inject, column)
    else:
        status = 400
        if form.validate():
            _result, refused = _save(
                form,
                lambda: service.edit_inject(session, subject, exercise_id, inject_id, _inject_input(form)),
            )
            if refused is None:
                flash(_("The inject was saved."), "success")
                return redirect(url_for("exercises.show", exercise_id=exercise_id) + "#timeline")
            status = refused
    texts = service.exercise_texts(session, opened)
    return render_template(
        "exercises/inject_edit.html", room=opened.room, exercise=opened.exercise, title=texts["title"],
        form=form, inject=inject,
    ), status  # fmt: skip


@blueprint.post("/exercises/<uuid:exercise_id>/injects/<uuid:inject_id>/delete")
@login_required
@performs("inject.delete")
def delete_inject(exercise_id: uuid.UUID, inject_id: uuid.UUID) -> ResponseReturnValue:
    form = ConfirmForm()
    if not form.validate():
        abort(400)
    _result, refused = _save(
        form, lambda: service.delete_inject(request_session(), current_subject(), exercise_id, inject_id)
    )
    if refused == 403:
        abort(403)
    if refused is not None:
        flash(form.form_errors[0], "error")
    else:
        flash(_("The inject was deleted."), "success")
    return redirect(url_for("exercises.show", exercise_id=exercise_id) + "#timeline")


# --- the run ----------------------------------------------------------------------------------------


def _run_step(exercise_id: uuid.UUID, step: Callable[[], Any], done: str) -> ResponseReturnValue:
    form = ConfirmForm()
    if not form.validate():
        abort(400)
    _result, refused = _save(form, step)
    if refused == 403:
        abort(403)
    if refused is not None:
        flash(form.form_errors[0], "error")
    else:
        flash(done, "success")
    return redirect(url_for("exercises.show", exercise_id=exercise_id) + "#timeline")


@blueprint.post("/exercises/<uuid:exercise_id>/start")
@login_required
@performs("exercise.start")
def start(exercise_id: uuid.UUID) -> ResponseReturnValue:
    step = lambda: run.start(request_session(), current_subject(), exercise_id)  # noqa: E731
    return _run_step(exercise_id, step, _("The exercise has started."))


@blueprint.post("/exercises/<uuid:exercise_id>/reveal")
@login_required
@performs("exercise.reveal")
def reveal(exercise_id: uuid.UUID) -> ResponseReturnValue:
    step = lambda: run.reveal_next(request_session(), current_subject(), exercise_id)  # noqa: E731
    return _run_step(exercise_id, step, _("The next inject was revealed."))


@blueprint.post("/exercises/<uuid:exercise_id>/finish")
@login_required
@performs("exercise.finish")
def finish(exercise_id: uuid.UUID) -> ResponseReturnValue:
    step = lambda: run.finish(request_session(), current_subject(), exercise_id)  # noqa: E731
    return _run_step(exercise_id, step, _("The exercise has ended."))


@blueprint.post("/exercises/<uuid:exercise_id>/injects/<uuid:inject_id>/respond")
@login_required
@performs("exercise.respond")
def respond(exercise_id: uuid.UUID, inject_id: uuid.UUID) -> ResponseReturnValue:
    session, subject = request_session(), current_subject()
    form = ResponseForm()
    if not form.validate():
        return _render_show(exercise_id, form, inject_id, 400)
    _result, refused = _save(
        form, lambda: run.respond(session, subject, exercise_id, inject_id, form.body.data or "")
    )
    if refused is not None:
        return _render_show(exercise_id, form, inject_id, refused)
    flash(_("Your response was recorded."), "success")
    return redirect(url_for("exercises.show", exercise_id=exercise_id) + f"#inject-{inject_id}")


# --- after-action -----------------------------------------------------------------------------------


def _after_action_page(
    opened: OpenedExercise, form: AfterActionForm, flag_form: RiskFlagForm, status: int
) -> Any:
    session = request_session()
    texts = service.exercise_texts(session, opened)
    return render_template(
        "exercises/after_action.html", room=opened.room, exercise=opened.exercise, title=texts["title"],
        form=form, flag_form=flag_form, flags=run.pending_flags(session, opened.exercise.id),
        risk_titles=_risk_titles(opened.room),
    ), status  # fmt: skip


def _risk_titles(room: Subcommittee) -> dict[str, str]:
    """The room's risks the reader may read, by id (the register decides each; withheld ones are absent)."""
    from portal.risks import register  # the register builds on meetings; imported when used

    lines = register.room_register(request_session(), current_subject(), room, utcnow().date()).readable
    return {str(line.risk.id): line.title or "" for line in lines}


def _flag_form(room: Subcommittee, **kwargs: Any) -> RiskFlagForm:
    form = RiskFlagForm(**kwargs)
    form.risks.choices = list(_risk_titles(room).items())
    return form


def _after_action_form(room: Subcommittee, **kwargs: Any) -> AfterActionForm:
    form = AfterActionForm(**kwargs)
    fill_marking_choices(request_session(), current_subject(), form, room, locale())
    members = rooms.current_members(request_session(), room.id, utcnow())
    form.action_owner.choices = [
        ("", _("No action item")),
        *[(str(m.user_id), m.user.display_name) for m in members],
    ]
    return form


def _opened_for_run(exercise_id: uuid.UUID, rule: str) -> OpenedExercise:
    session, subject = request_session(), current_subject()
    opened = service.open_exercise(session, subject, exercise_id, rule)
    run.require_run(session, subject, opened, rule)
    return opened


@blueprint.route("/exercises/<uuid:exercise_id>/after-action", methods=["GET", "POST"])
@login_required
@performs("exercise.after_action")
def after_action(exercise_id: uuid.UUID) -> ResponseReturnValue:
    session, subject = request_session(), current_subject()
    opened = _opened_for_run(exercise_id, "exercise.after_action")
    form = _after_action_form(opened.room)
    flag_form = _flag_form(opened.room, formdata=None)
    if not form.is_submitted():
        return _after_action_page(opened, form, flag_form, 200)
    if not form.validate():
        return _after_action_page(opened, form, flag_form, 400)
    given = run.AfterActionInput(
        finding=form.finding.data or "", marking=form.marking_input(),
        action_title=form.action_title.data or "",
        action_owner_id=form.owner_id(), action_due_on=form.action_due_on.data,
    )  # fmt: skip
    _result, refused = _save(form, lambda: run.add_after_action(session, subject, exercise_id, given))
    if refused is not None:
        return _after_action_page(opened, form, flag_form, refused)
    flash(_("The finding was recorded on the exercise's meeting."), "success")
    return redirect(url_for("exercises.after_action", exercise_id=exercise_id))


@blueprint.post("/exercises/<uuid:exercise_id>/risks")
@login_required
@performs("exercise.flag_risks")
def flag_risks(exercise_id: uuid.UUID) -> ResponseReturnValue:
    session, subject = request_session(), current_subject()
    opened = _opened_for_run(exercise_id, "exercise.flag_risks")
    flag_form = _flag_form(opened.room)
    if not flag_form.validate():
        return _after_action_page(opened, _after_action_form(opened.room, formdata=None), flag_form, 400)

    def flag() -> list[str]:
        return run.flag_affected_risks(session, subject, exercise_id, list(flag_form.risks.data or ()))

    _result, refused = _save(flag_form, flag)
    if refused is not None:
        return _after_action_page(opened, _after_action_form(opened.room, formdata=None), flag_form, refused)
    flash(_("The affected risks were flagged for review."), "success")
    return redirect(url_for("exercises.after_action", exercise_id=exercise_id))


# --- the room's panel -------------------------------------------------------------------------------


@blueprint.app_template_global("exercise_panel")
def exercise_panel(room: Subcommittee) -> dict[str, Any]:
    """The context of ``exercises/_panel.html`` for the current reader (the room page includes it)."""
    session, subject = request_session(), current_subject()
    return {
        "exercises": service.list_for_room(session, subject, room),
        "can_plan": service.may_plan(subject, room),
        "status_labels": STATUS_LABELS,
        "status_running": ExerciseStatus.RUNNING,
    }
