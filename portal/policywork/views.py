"""The work plan of a policy-coordination room: its page (timeline, table, themes) and its changes."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from portal.accounts.forms import ConfirmForm
from portal.db import request_session, utcnow
from portal.meetings.access import open_part
from portal.meetings.followup_forms import distinct_ids
from portal.meetings.followup_read import today_in
from portal.meetings.parts import current_marking
from portal.policywork import service
from portal.policywork.forms import MilestoneDoneForm, MilestoneForm, ThemeEditForm, ThemeForm
from portal.policywork.pages import locale, optional_id, prepare_marked_form, save
from portal.policywork.tools import timeline
from portal.security.web import current_subject, performs

blueprint = Blueprint("workplan", __name__)


def _theme_input(form: ThemeForm) -> service.ThemeInput:
    owner = optional_id(form.owner.data)
    return service.ThemeInput(
        title=form.title.data or "",
        description=form.description.data or "",
        owner_id=owner or uuid.UUID(int=0),
        marking=form.marking_input(),
    )


def _render_plan(
    room_id: uuid.UUID,
    theme_form: ThemeForm | None = None,
    milestone_forms: dict[uuid.UUID, MilestoneForm] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    session, subject = request_session(), current_subject()
    room = service.open_policy_room(session, subject, room_id)
    plan = service.work_plan(session, subject, room)
    can_manage = service.is_steward(subject, room)
    forms: dict[uuid.UUID, Any] = {}
    if can_manage:
        theme_form = prepare_marked_form(distinct_ids(theme_form or ThemeForm(formdata=None), "theme-"), room)
        given = milestone_forms or {}
        for entry in plan:
            if entry.readable:
                forms[entry.theme.id] = distinct_ids(
                    given.get(entry.theme.id) or MilestoneForm(formdata=None), f"milestone-{entry.theme.id}-"
                )
    return render_template(
        "policywork/plan.html",
        room=room,
        plan=plan,
        chart=timeline(plan, today_in(utcnow()), room.name(locale())),
        can_manage=can_manage,
        theme_form=theme_form,
        milestone_forms=forms,
        done_form=MilestoneDoneForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
    ), status


def _steward_room(room_id: uuid.UUID, rule: str) -> Any:
    session, subject = request_session(), current_subject()
    room = service.open_policy_room(session, subject, room_id)
    service.require_steward(session, subject, room, rule)
    return room


def _steward_theme(room_id: uuid.UUID, theme_id: uuid.UUID, rule: str) -> None:
    """A change to a theme or its milestones: the theme must be one the subject reads in this room (404)
    and the subject a steward (403), whatever the form holds."""
    session, subject = request_session(), current_subject()
    room = service.open_policy_room(session, subject, room_id)
    service.theme_of(session, subject, room, theme_id, rule)
    service.require_steward(session, subject, room, rule)


def _to_plan(room_id: uuid.UUID, anchor: str = "") -> ResponseReturnValue:
    return redirect(url_for("workplan.plan", room_id=room_id) + anchor)


@blueprint.get("/rooms/<uuid:room_id>/work-plan")
@login_required
@performs("workplan.read")
def plan(room_id: uuid.UUID) -> ResponseReturnValue:
    return _render_plan(room_id)


@blueprint.post("/rooms/<uuid:room_id>/work-plan/themes")
@login_required
@performs("workplan.theme_create")
def create_theme(room_id: uuid.UUID) -> ResponseReturnValue:
    room = _steward_room(room_id, "workplan.theme_create")
    form = prepare_marked_form(ThemeForm(), room)
    if not form.validate_on_submit():
        return _render_plan(room_id, theme_form=form, status=400)
    status = save(
        form, lambda: service.create_theme(request_session(), current_subject(), room_id, _theme_input(form))
    )
    if status is not None:
        return _render_plan(room_id, theme_form=form, status=status)
    flash(_("The theme was added to the work plan."), "success")
    return _to_plan(room_id)


@blueprint.route("/rooms/<uuid:room_id>/work-plan/themes/<uuid:theme_id>/edit", methods=["GET", "POST"])
@login_required
@performs("workplan.theme_edit")
def edit_theme(room_id: uuid.UUID, theme_id: uuid.UUID) -> ResponseReturnValue:
    session, subject = request_session(), current_subject()
    room = service.open_policy_room(session, subject, room_id)
    theme, grant = service.theme_of(session, subject, room, theme_id, "workplan.theme_edit")
    service.require_steward(session, subject, room, "workplan.theme_edit")
    form = prepare_marked_form(ThemeEditForm(), room)
    if not form.is_submitted():
        form.fill_from(current_marking(session, grant, theme))
        form.title.data = open_part(session, grant, theme, "title")
        form.description.data = open_part(session, grant, theme, "description")
        form.owner.data = str(theme.owner_id)
        form.base_version.data = str(theme.version)
        return _edit_page(room, theme, form)
    if not form.validate():
        return _edit_page(room, theme, form, 400)
    base = int(form.base_version.data) if (form.base_version.data or "").isdigit() else 0
    try:
        status = save(
            form,
            lambda: service.edit_theme(session, subject, room_id, theme_id, _theme_input(form), base),
        )
    except service.ThemeConflict as conflict:
        session.rollback()
        form.base_version.data = str(conflict.theme.version)
        return _edit_page(room, theme, form, 409, current_title=conflict.current_title)
    if status is not None:
        return _edit_page(room, theme, form, status)
    flash(_("The theme was saved."), "success")
    return _to_plan(room_id)


def _edit_page(
    room: Any, theme: Any, form: ThemeEditForm, status: int = 200, **extra: Any
) -> ResponseReturnValue:
    return render_template("policywork/theme_edit.html", room=room, theme=theme, form=form, **extra), status


@blueprint.post("/rooms/<uuid:room_id>/work-plan/themes/<uuid:theme_id>/delete")
@login_required
@performs("workplan.theme_delete")
def delete_theme(room_id: uuid.UUID, theme_id: uuid.UUID) -> ResponseReturnValue:
    _steward_theme(room_id, theme_id, "workplan.theme_delete")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    service.delete_theme(request_session(), current_subject(), room_id, theme_id)
    request_session().commit()
    flash(_("The theme was deleted."), "success")
    return _to_plan(room_id)


@blueprint.post("/rooms/<uuid:room_id>/work-plan/themes/<uuid:theme_id>/milestones")
@login_required
@performs("workplan.milestone_create")
def add_milestone(room_id: uuid.UUID, theme_id: uuid.UUID) -> ResponseReturnValue:
    session, subject = request_session(), current_subject()
    _steward_theme(room_id, theme_id, "workplan.milestone_create")
    form = MilestoneForm()
    if not form.validate_on_submit():
        return _render_plan(room_id, milestone_forms={theme_id: form}, status=400)
    assert form.due_on.data is not None
    new = service.MilestoneInput(form.title.data or "", form.due_on.data)
    status = save(form, lambda: service.add_milestone(session, subject, room_id, theme_id, new))
    if status is not None:
        return _render_plan(room_id, milestone_forms={theme_id: form}, status=status)
    flash(_("The milestone was added."), "success")
    return _to_plan(room_id, f"#theme-{theme_id}")


@blueprint.post("/rooms/<uuid:room_id>/work-plan/themes/<uuid:theme_id>/milestones/<uuid:milestone_id>/done")
@login_required
@performs("workplan.milestone_done")
def milestone_done(room_id: uuid.UUID, theme_id: uuid.UUID, milestone_id: uuid.UUID) -> ResponseReturnValue:
    _steward_theme(room_id, theme_id, "workplan.milestone_done")
    form = MilestoneDoneForm()
    if not form.validate_on_submit():
        abort(400)
    service.set_milestone_done(
        request_session(), current_subject(), room_id, theme_id, milestone_id, form.done.data == "1"
    )
    request_session().commit()
    flash(_("The milestone was updated."), "success")
    return _to_plan(room_id, f"#theme-{theme_id}")


@blueprint.post(
    "/rooms/<uuid:room_id>/work-plan/themes/<uuid:theme_id>/milestones/<uuid:milestone_id>/delete"
)
@login_required
@performs("workplan.milestone_delete")
def delete_milestone(room_id: uuid.UUID, theme_id: uuid.UUID, milestone_id: uuid.UUID) -> ResponseReturnValue:
    _steward_theme(room_id, theme_id, "workplan.milestone_delete")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    service.delete_milestone(request_session(), current_subject(), room_id, theme_id, milestone_id)
    request_session().commit()
    flash(_("The milestone was deleted."), "success")
    return _to_plan(room_id, f"#theme-{theme_id}")
