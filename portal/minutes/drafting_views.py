"""Drafting pages of the minutes (on the ``minutes`` blueprint): add, edit, remove and move portions."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from portal.db import request_session
from portal.documents.service import side_by_side
from portal.meetings import access, parts
from portal.minutes import drafting, guards
from portal.minutes.forms import MoveForm, PortionForm, StepForm
from portal.minutes.service import StaleMinutes, StepRefused
from portal.minutes.views import _guard, _locale, _message, _render_show, _step, _steward, blueprint
from portal.security import policy
from portal.security.web import current_subject, performs


def _portion_form(meeting_id: uuid.UUID) -> tuple[PortionForm, access.OpenedMeeting]:
    """The form, with the marking choices this steward may use in this room (403 for non-stewards)."""
    session = request_session()
    subject = current_subject()
    opened = guards.require_steward(session, subject, meeting_id, "minutes.edit")
    guards.require_minutes(session, subject, opened)
    form = PortionForm()
    parts.fill_marking_choices(session, subject, form, opened.room, _locale())
    return form, opened


def _input(form: PortionForm) -> drafting.PortionInput:
    return drafting.PortionInput(form.heading.data or "", form.body.data or "", form.marking_input())


def _render_form(
    form: PortionForm,
    opened: access.OpenedMeeting,
    portion_id: uuid.UUID | None,
    status: int,
    *,
    error: str | None = None,
    conflict: drafting.EditablePortion | None = None,
) -> ResponseReturnValue:
    if error:
        form.form_errors.append(error)
    return render_template(
        "minutes/portion_form.html",
        form=form,
        room=opened.room,
        meeting=opened.meeting,
        meeting_title=access.meeting_text(request_session(), opened, "title"),
        portion_id=portion_id,
        conflict=conflict,
        rows=side_by_side(conflict.body, form.body.data or "") if conflict else None,
    ), status


def _save(
    form: PortionForm,
    opened: access.OpenedMeeting,
    portion_id: uuid.UUID | None,
    save: Callable[[], object],
    done: str,
) -> ResponseReturnValue:
    """Save a portion; every refusal shows the form again with what the user typed."""
    session = request_session()
    meeting_id = opened.meeting.id
    if not form.validate_on_submit():
        return _render_form(form, opened, portion_id, 400 if form.is_submitted() else 200)
    try:
        save()
    except parts.InvalidMarking as invalid:
        session.rollback()
        return _render_form(form, opened, portion_id, 400, error=_message(invalid.reason))
    except policy.AccessDenied as denied:
        session.rollback()
        if denied.conceal:
            raise
        return _render_form(form, opened, portion_id, 403, error=_message(denied.decision.reason))
    except StepRefused as refused:
        session.rollback()
        return _render_form(form, opened, portion_id, 409, error=_message(refused.reason))
    except StaleMinutes as stale:
        session.rollback()
        current = None
        if portion_id is not None:
            try:
                current = drafting.portion_for_edit(session, current_subject(), meeting_id, portion_id)
            except StepRefused as refused:
                return _render_form(form, opened, portion_id, 409, error=_message(refused.reason))
        # Keep what the user typed; a second save is a deliberate choice on top of the newer minutes.
        form.base_version.data = str(stale.current_version)
        return _render_form(form, opened, portion_id, 409, conflict=current)
    session.commit()
    flash(done, "success")
    return redirect(url_for("minutes.show", meeting_id=meeting_id))


@blueprint.route("/meetings/<uuid:meeting_id>/minutes/portions/new", methods=["GET", "POST"])
@login_required
@performs("minutes.edit")
def add_portion(meeting_id: uuid.UUID) -> ResponseReturnValue:
    form, opened = _portion_form(meeting_id)
    minutes = guards.require_minutes(request_session(), current_subject(), opened)
    if not form.is_submitted():
        if minutes.state != "draft":
            return _render_show(meeting_id, status=409, error=_message("NOT_DRAFT"))
        form.base_version.data = str(minutes.version)
    return _save(
        form, opened, None,
        lambda: drafting.add_portion(
            request_session(), current_subject(), meeting_id, int(form.base_version.data or 0), _input(form)
        ),
        _("The portion was added to the draft."),
    )  # fmt: skip


@blueprint.route(
    "/meetings/<uuid:meeting_id>/minutes/portions/<uuid:portion_id>/edit", methods=["GET", "POST"]
)
@login_required
@performs("minutes.edit")
def edit_portion(meeting_id: uuid.UUID, portion_id: uuid.UUID) -> ResponseReturnValue:
    form, opened = _portion_form(meeting_id)
    if not form.is_submitted():
        try:
            current = drafting.portion_for_edit(request_session(), current_subject(), meeting_id, portion_id)
        except StepRefused as refused:
            return _render_show(meeting_id, status=409, error=_message(refused.reason))
        form.heading.data = current.heading
        form.body.data = current.body
        form.fill_from(current.marking)
        form.base_version.data = str(current.version)
    return _save(
        form, opened, portion_id,
        lambda: drafting.edit_portion(
            request_session(), current_subject(), meeting_id, portion_id, int(form.base_version.data or 0),
            _input(form),
        ),
        _("The portion was saved."),
    )  # fmt: skip


@blueprint.post("/meetings/<uuid:meeting_id>/minutes/portions/<uuid:portion_id>/remove")
@login_required
@performs("minutes.edit")
def remove_portion(meeting_id: uuid.UUID, portion_id: uuid.UUID) -> ResponseReturnValue:
    refusal = _guard(meeting_id, _steward("minutes.edit"))
    if refusal is not None:
        return refusal
    form = StepForm()
    return _step(
        meeting_id,
        lambda: drafting.remove_portion(
            request_session(), current_subject(), meeting_id, portion_id, int(form.base_version.data or 0)
        ),
        _("The portion was removed from the draft."),
        form=form,
    )


@blueprint.post("/meetings/<uuid:meeting_id>/minutes/portions/<uuid:portion_id>/move")
@login_required
@performs("minutes.edit")
def move_portion(meeting_id: uuid.UUID, portion_id: uuid.UUID) -> ResponseReturnValue:
    refusal = _guard(meeting_id, _steward("minutes.edit"))
    if refusal is not None:
        return refusal
    form = MoveForm()
    return _step(
        meeting_id,
        lambda: drafting.move_portion(
            request_session(), current_subject(), meeting_id, portion_id, int(form.base_version.data or 0),
            -1 if form.direction.data == "up" else 1,
        ),
        _("The portion was moved."),
        form=form,
    )  # fmt: skip
