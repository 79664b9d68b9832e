"""A meeting's attendance and its findings and action items; the reader's own action items across rooms."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from portal.accounts.forms import ConfirmForm
from portal.db import request_session, utcnow
from portal.meetings import attendance, findings
from portal.meetings.access import open_part, require_meeting
from portal.meetings.followup_forms import (
    RETURN_TO,
    STATUS_LABELS,
    ActionEditForm,
    ActionForm,
    ActionStatusForm,
    AnswerForm,
    FindingEditForm,
    FindingForm,
    RecordAttendanceForm,
    distinct_ids,
)
from portal.meetings.followup_pages import (
    action_input,
    back_to,
    edit_page,
    finding_input,
    message,
    page_of,
    prepare_action_form,
    prepare_finding_form,
    refusal_of,
    render_attendance,
    render_findings,
    require_manage,
    save,
    version_of,
)
from portal.meetings.followup_read import my_actions, today_in
from portal.meetings.models import ActionStatus, AttendanceResponse
from portal.meetings.parts import InvalidMarking, current_marking
from portal.security import policy
from portal.security.web import current_subject, performs

blueprint = Blueprint("followup", __name__)


@blueprint.get("/meetings/<uuid:meeting_id>/attendance")
@login_required
@performs("meeting.attendance")
def attendance_page(meeting_id: uuid.UUID) -> ResponseReturnValue:
    return render_attendance(meeting_id)


@blueprint.post("/meetings/<uuid:meeting_id>/attendance/answer")
@login_required
@performs("meeting.attendance_answer")
def answer(meeting_id: uuid.UUID) -> ResponseReturnValue:
    session = request_session()
    form = AnswerForm()
    if not form.validate_on_submit():
        return render_attendance(meeting_id, form, 400)
    try:
        attendance.answer(
            session, current_subject(), meeting_id, AttendanceResponse(form.response.data),
            form.proxy_name.data, utcnow(),
        )  # fmt: skip
    except attendance.AttendanceRefused as refused:
        session.rollback()
        form.form_errors.append(message(refused.code))
        return render_attendance(meeting_id, form, 400)
    session.commit()
    flash(_("Your answer was saved."), "success")
    return redirect(url_for("followup.attendance_page", meeting_id=meeting_id))


@blueprint.post("/meetings/<uuid:meeting_id>/attendance/record")
@login_required
@performs("meeting.attendance_record")
def record_attendance(meeting_id: uuid.UUID) -> ResponseReturnValue:
    session = request_session()
    subject = current_subject()
    sheet = attendance.attendance_sheet(session, subject, meeting_id, utcnow())
    form = RecordAttendanceForm.for_members([row.user_id for row in sheet.rows])
    if not form.validate_on_submit():
        abort(400)
    try:
        attendance.record(session, subject, meeting_id, form.presence(), utcnow())
    except attendance.AttendanceRefused as refused:
        session.rollback()
        flash(message(refused.code), "error")
        return redirect(url_for("followup.attendance_page", meeting_id=meeting_id))
    session.commit()
    flash(_("Attendance was recorded."), "success")
    return redirect(url_for("followup.attendance_page", meeting_id=meeting_id))


# --- findings and action items ------------------------------------------------------------------------


@blueprint.get("/meetings/<uuid:meeting_id>/findings")
@login_required
@performs("finding.list")
def findings_list(meeting_id: uuid.UUID) -> ResponseReturnValue:
    return render_findings(meeting_id)


@blueprint.post("/meetings/<uuid:meeting_id>/findings")
@login_required
@performs("finding.create")
def create_finding(meeting_id: uuid.UUID) -> ResponseReturnValue:
    page = page_of(meeting_id)
    form = FindingForm()
    prepare_finding_form(form, page)
    if not form.validate_on_submit():
        require_manage(page, "finding.create")
        return render_findings(meeting_id, finding_form=form, status=400)
    status = save(
        form,
        lambda: findings.create_finding(
            request_session(), current_subject(), meeting_id, finding_input(form)
        ),
    )
    if status is not None:
        return render_findings(meeting_id, finding_form=form, status=status)
    flash(_("The finding was posted."), "success")
    return redirect(url_for("followup.findings_list", meeting_id=meeting_id) + "#findings")


@blueprint.route("/meetings/<uuid:meeting_id>/findings/<uuid:finding_id>/edit", methods=["GET", "POST"])
@login_required
@performs("finding.edit")
def edit_finding(meeting_id: uuid.UUID, finding_id: uuid.UUID) -> ResponseReturnValue:
    session = request_session()
    subject = current_subject()
    page = page_of(meeting_id)
    finding, grant = findings.finding_of(session, subject, page.opened, finding_id, "finding.read")
    require_manage(page, "finding.edit")
    form = FindingEditForm()
    prepare_finding_form(form, page)
    if not form.is_submitted():
        form.fill_from(current_marking(session, grant, finding))
        form.body.data = open_part(session, grant, finding, "body")
        form.agenda_item.data = str(finding.agenda_item_id) if finding.agenda_item_id else ""
        form.base_digest.data = findings.finding_digest(finding)
        return edit_page("finding", page, form, finding)
    if not form.validate():
        return edit_page("finding", page, form, finding, 400)
    try:
        findings.edit_finding(
            session, subject, meeting_id, finding_id, finding_input(form), form.base_digest.data or ""
        )
    except findings.FindingConflict as conflict:
        session.rollback()
        form.base_digest.data = conflict.current_digest
        return edit_page("finding", page, form, finding, 409, current_body=conflict.current_body)
    except (policy.AccessDenied, InvalidMarking, findings.FollowupRefused) as error:
        session.rollback()
        refusal = refusal_of(error)
        if refusal is None:
            raise
        form.form_errors.append(refusal[0])
        return edit_page("finding", page, form, finding, refusal[1])
    session.commit()
    flash(_("The finding was saved."), "success")
    return redirect(url_for("followup.findings_list", meeting_id=meeting_id) + "#findings")


@blueprint.post("/meetings/<uuid:meeting_id>/findings/<uuid:finding_id>/delete")
@login_required
@performs("finding.delete")
def delete_finding(meeting_id: uuid.UUID, finding_id: uuid.UUID) -> ResponseReturnValue:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    findings.delete_finding(request_session(), current_subject(), meeting_id, finding_id)
    request_session().commit()
    flash(_("The finding was deleted."), "success")
    return redirect(url_for("followup.findings_list", meeting_id=meeting_id) + "#findings")


@blueprint.post("/meetings/<uuid:meeting_id>/actions")
@login_required
@performs("action.create")
def create_action(meeting_id: uuid.UUID) -> ResponseReturnValue:
    page = page_of(meeting_id)
    form = ActionForm()
    prepare_action_form(form, page)
    if not form.validate_on_submit():
        require_manage(page, "action.create")
        return render_findings(meeting_id, action_form=form, status=400)
    status = save(
        form,
        lambda: findings.create_action(request_session(), current_subject(), meeting_id, action_input(form)),
    )
    if status is not None:
        return render_findings(meeting_id, action_form=form, status=status)
    flash(_("The action item was added."), "success")
    return redirect(url_for("followup.findings_list", meeting_id=meeting_id) + "#actions")


@blueprint.route("/meetings/<uuid:meeting_id>/actions/<uuid:action_id>/edit", methods=["GET", "POST"])
@login_required
@performs("action.edit")
def edit_action(meeting_id: uuid.UUID, action_id: uuid.UUID) -> ResponseReturnValue:
    session = request_session()
    subject = current_subject()
    page = page_of(meeting_id)
    item, grant = findings.action_of(session, subject, page.opened, action_id, "action.read")
    require_manage(page, "action.edit")
    form = ActionEditForm()
    prepare_action_form(form, page)
    if not form.is_submitted():
        form.fill_from(current_marking(session, grant, item))
        form.title.data = open_part(session, grant, item, "title")
        form.owner.data = str(item.owner_id)
        form.due_on.data = item.due_on
        form.status.data = item.status.value
        form.finding.data = str(item.finding_id) if item.finding_id else ""
        form.base_version.data = str(item.version)
        return edit_page("action", page, form, item)
    if not form.validate():
        return edit_page("action", page, form, item, 400)
    try:
        findings.edit_action(
            session, subject, meeting_id, action_id, action_input(form), version_of(form.base_version.data)
        )
    except findings.ActionConflict as conflict:
        session.rollback()
        form.base_version.data = str(conflict.item.version)
        return edit_page(
            "action", page, form, item, 409, current_title=conflict.current_title,
            current_status=STATUS_LABELS[conflict.item.status],
        )  # fmt: skip
    except (policy.AccessDenied, InvalidMarking, findings.FollowupRefused) as error:
        session.rollback()
        refusal = refusal_of(error)
        if refusal is None:
            raise
        form.form_errors.append(refusal[0])
        return edit_page("action", page, form, item, refusal[1])
    session.commit()
    flash(_("The action item was saved."), "success")
    return redirect(url_for("followup.findings_list", meeting_id=meeting_id) + "#actions")


@blueprint.post("/meetings/<uuid:meeting_id>/actions/<uuid:action_id>/status")
@login_required
@performs("action.status")
def change_status(meeting_id: uuid.UUID, action_id: uuid.UUID) -> ResponseReturnValue:
    session = request_session()
    subject = current_subject()
    opened = require_meeting(session, subject, meeting_id)
    findings.action_of(session, subject, opened, action_id, "action.status")  # 404 before the form
    form = ActionStatusForm()
    return_to = form.return_to.data if form.return_to.data in RETURN_TO else "findings"
    if not form.validate_on_submit():
        abort(400)
    try:
        findings.change_status(
            session, subject, meeting_id, action_id, ActionStatus(form.status.data),
            version_of(form.base_version.data),
        )  # fmt: skip
    except findings.ActionConflict as conflict:
        session.rollback()
        retry = ActionStatusForm(formdata=None)
        retry.status.data = form.status.data
        retry.base_version.data = str(conflict.item.version)
        retry.return_to.data = return_to
        return render_template(
            "meetings/findings_status_conflict.html",
            meeting_id=meeting_id,
            item=conflict.item,
            current_title=conflict.current_title,
            current_status=STATUS_LABELS[conflict.item.status],
            wanted_status=STATUS_LABELS[ActionStatus(form.status.data)],
            form=retry,
            back=back_to(meeting_id, return_to),
        ), 409
    session.commit()
    flash(_("The status was changed."), "success")
    return redirect(back_to(meeting_id, return_to))


@blueprint.post("/meetings/<uuid:meeting_id>/actions/<uuid:action_id>/delete")
@login_required
@performs("action.delete")
def delete_action(meeting_id: uuid.UUID, action_id: uuid.UUID) -> ResponseReturnValue:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    findings.delete_action(request_session(), current_subject(), meeting_id, action_id)
    request_session().commit()
    flash(_("The action item was deleted."), "success")
    return redirect(url_for("followup.findings_list", meeting_id=meeting_id) + "#actions")


# --- my action items ------------------------------------------------------------------------------------


@blueprint.get("/actions")
@login_required
@performs("action.list")
def my_actions_page() -> ResponseReturnValue:
    subject = current_subject()
    items = my_actions(request_session(), subject, today_in(utcnow()))
    status_forms = {}
    for entry in items:
        if entry.can_change_status:
            form = distinct_ids(ActionStatusForm(formdata=None), f"status-{entry.item.id}-")
            form.status.data = entry.item.status.value
            form.base_version.data = str(entry.item.version)
            form.return_to.data = "actions"
            status_forms[entry.item.id] = form
    return render_template(
        "meetings/my_actions.html", items=items, status_forms=status_forms, status_labels=STATUS_LABELS
    )
