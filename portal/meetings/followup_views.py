"""A meeting's attendance and its findings and action items; the reader's own action items across rooms."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from portal.accounts.forms import ConfirmForm
from portal.db import request_session, utcnow
from portal.i18n import REASON_MESSAGES
from portal.meetings import attendance, findings
from portal.meetings.access import open_part, require_meeting
from portal.meetings.followup_forms import (
    RESPONSE_LABELS,
    RETURN_TO,
    STATUS_LABELS,
    ActionEditForm,
    ActionForm,
    ActionStatusForm,
    AnswerForm,
    FindingEditForm,
    FindingForm,
    RecordAttendanceForm,
    optional_id,
)
from portal.meetings.followup_read import FindingsPage, findings_page, my_actions, today_in
from portal.meetings.models import ActionStatus, AttendanceResponse
from portal.meetings.parts import InvalidMarking, current_marking, fill_marking_choices
from portal.rooms import service as rooms
from portal.security import policy
from portal.security.web import current_subject, performs

blueprint = Blueprint("followup", __name__)

#: What the user is told when an answer, a record, a finding or an action item is refused.
FOLLOWUP_MESSAGES = {
    **REASON_MESSAGES,
    "NOT_SECRETARIAT_OR_CHAIR": _l("Only the secretariat or the subcommittee's chair does this."),
    "NOT_OWNER_OR_STEWARD": _l("Only the owner, the secretariat or the chair changes the status."),
    "MEETING_CANCELLED": _l("This meeting was cancelled."),
    "NOT_STARTED": _l("Attendance is recorded once the meeting has begun."),
    "NOT_A_MEMBER": _l("Only current members of the subcommittee take part."),
    "PROXY_NAME_REQUIRED": _l("Give the name of the person attending in your place."),
    "PROXY_NAME_TOO_LONG": _l("The proxy's name is too long."),
    "AGENDA_ITEM_UNKNOWN": _l("Choose an agenda item of this meeting."),
    "FINDING_UNKNOWN": _l("Choose a finding of this meeting."),
    "OWNER_NOT_MEMBER": _l("The owner must be a current member of the subcommittee."),
    "OWNER_CANNOT_READ": _l("The owner could not read an action item with this marking."),
    "EMPTY_TEXT": _l("This field is required."),
    "UNKNOWN_CAVEAT": _l("Choose caveats from the list."),
}


def _locale() -> str:
    return str(get_locale() or "ja")


def _message(code: str) -> str:
    return str(FOLLOWUP_MESSAGES.get(code, code))


# --- attendance -------------------------------------------------------------------------------------


def _render_attendance(
    meeting_id: uuid.UUID, answer_form: AnswerForm | None = None, status: int = 200
) -> ResponseReturnValue:
    sheet = attendance.attendance_sheet(request_session(), current_subject(), meeting_id, utcnow())
    if answer_form is None:
        answer_form = AnswerForm(formdata=None)
        if sheet.mine is not None and sheet.mine.response is not None:
            answer_form.response.data = sheet.mine.response.value
            answer_form.proxy_name.data = sheet.mine.proxy_name or ""
    record_form = RecordAttendanceForm.for_members([row.user_id for row in sheet.rows], formdata=None)
    record_form.fill({row.user_id: row.present for row in sheet.rows})
    return render_template(
        "meetings/attendance.html",
        sheet=sheet,
        meeting=sheet.opened.meeting,
        room=sheet.opened.room,
        answer_form=answer_form,
        record_form=record_form,
        response_labels=RESPONSE_LABELS,
        proxy=AttendanceResponse.PROXY,
    ), status


@blueprint.get("/meetings/<uuid:meeting_id>/attendance")
@login_required
@performs("meeting.attendance")
def attendance_page(meeting_id: uuid.UUID) -> ResponseReturnValue:
    return _render_attendance(meeting_id)


@blueprint.post("/meetings/<uuid:meeting_id>/attendance/answer")
@login_required
@performs("meeting.attendance_answer")
def answer(meeting_id: uuid.UUID) -> ResponseReturnValue:
    session = request_session()
    form = AnswerForm()
    if not form.validate_on_submit():
        return _render_attendance(meeting_id, form, 400)
    try:
        attendance.answer(
            session, current_subject(), meeting_id, AttendanceResponse(form.response.data),
            form.proxy_name.data, utcnow(),
        )  # fmt: skip
    except attendance.AttendanceRefused as refused:
        session.rollback()
        form.form_errors.append(_message(refused.code))
        return _render_attendance(meeting_id, form, 400)
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
        flash(_message(refused.code), "error")
        return redirect(url_for("followup.attendance_page", meeting_id=meeting_id))
    session.commit()
    flash(_("Attendance was recorded."), "success")
    return redirect(url_for("followup.attendance_page", meeting_id=meeting_id))


# --- findings and action items ------------------------------------------------------------------------


def _none_choice() -> tuple[str, str]:
    return ("", "—")


def _finding_choices(page: FindingsPage) -> list[tuple[str, str]]:
    choices = [_none_choice()]
    for number, entry in enumerate(page.findings, start=1):
        if entry.readable and entry.body is not None:
            summary = " ".join(entry.body.split())
            summary = summary[:40] + ("…" if len(summary) > 40 else "")
            choices.append(
                (str(entry.finding.id), _("Finding %(number)d: %(summary)s", number=number, summary=summary))
            )
    return choices


def _prepare_finding_form(form: FindingForm, page: FindingsPage) -> None:
    fill_marking_choices(request_session(), current_subject(), form, page.opened.room, _locale())
    form.agenda_item.choices = [_none_choice()] + [
        (str(ref.id), f"{ref.number}. {ref.title}")
        for ref in page.agenda.values()
        if ref.title is not None and not ref.removed
    ]


def _prepare_action_form(form: ActionForm, page: FindingsPage) -> None:
    fill_marking_choices(request_session(), current_subject(), form, page.opened.room, _locale())
    roster = rooms.member_roster(request_session(), page.opened.room.id, utcnow())
    seen: set[uuid.UUID] = set()
    owners = []
    for entry in roster:
        if entry.user_id not in seen:
            seen.add(entry.user_id)
            owners.append((str(entry.user_id), f"{entry.display_name} ({entry.organization(_locale())})"))
    form.owner.choices = [_none_choice(), *owners]
    form.finding.choices = _finding_choices(page)


def _page(meeting_id: uuid.UUID) -> FindingsPage:
    return findings_page(request_session(), current_subject(), meeting_id, today_in(utcnow()))


def _render_findings(
    meeting_id: uuid.UUID,
    finding_form: FindingForm | None = None,
    action_form: ActionForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    page = _page(meeting_id)
    finding_form = finding_form or FindingForm(formdata=None)
    action_form = action_form or ActionForm(formdata=None)
    if page.can_manage:
        _prepare_finding_form(finding_form, page)
        _prepare_action_form(action_form, page)
    status_forms = {}
    for entry in page.actions:
        if entry.item.id in page.status_changeable:
            status_form = ActionStatusForm(formdata=None)
            status_form.status.data = entry.item.status.value
            status_form.base_version.data = str(entry.item.version)
            status_forms[entry.item.id] = status_form
    return render_template(
        "meetings/findings.html",
        page=page,
        meeting=page.opened.meeting,
        room=page.opened.room,
        finding_form=finding_form,
        action_form=action_form,
        status_forms=status_forms,
        status_labels=STATUS_LABELS,
        done=ActionStatus.DONE,
        confirm_form=ConfirmForm(formdata=None),
    ), status


@blueprint.get("/meetings/<uuid:meeting_id>/findings")
@login_required
@performs("finding.list")
def findings_list(meeting_id: uuid.UUID) -> ResponseReturnValue:
    return _render_findings(meeting_id)


def _finding_input(form: FindingForm) -> findings.FindingInput:
    return findings.FindingInput(
        body=form.body.data or "",
        agenda_item_id=optional_id(form.agenda_item.data),
        marking=form.marking_input(),
    )


def _action_input(form: ActionForm) -> findings.ActionInput:
    return findings.ActionInput(
        title=form.title.data or "",
        owner_id=uuid.UUID(form.owner.data),
        due_on=form.due_on.data,
        status=ActionStatus(form.status.data),
        finding_id=optional_id(form.finding.data),
        marking=form.marking_input(),
    )


def _refusal(error: Exception) -> tuple[str, int] | None:
    """The message and status for a refused save, or None to let a concealed denial answer 404."""
    if isinstance(error, policy.AccessDenied):
        return None if error.conceal else (_message(error.decision.reason), 403)
    if isinstance(error, InvalidMarking):
        return _message(error.reason), 400
    if isinstance(error, findings.FollowupRefused):
        return _message(error.code), 400
    return None


def _save(form: Any, save: Any) -> int | None:
    """Run a save; on a refusal roll back, put the reason on the form and return the status to answer."""
    try:
        save()
    except (policy.AccessDenied, InvalidMarking, findings.FollowupRefused) as error:
        request_session().rollback()
        refusal = _refusal(error)
        if refusal is None:
            raise
        form.form_errors.append(refusal[0])
        return refusal[1]
    request_session().commit()
    return None


@blueprint.post("/meetings/<uuid:meeting_id>/findings")
@login_required
@performs("finding.create")
def create_finding(meeting_id: uuid.UUID) -> ResponseReturnValue:
    page = _page(meeting_id)
    form = FindingForm()
    _prepare_finding_form(form, page)
    if not form.validate_on_submit():
        _require_manage(page, "finding.create")
        return _render_findings(meeting_id, finding_form=form, status=400)
    status = _save(
        form,
        lambda: findings.create_finding(
            request_session(), current_subject(), meeting_id, _finding_input(form)
        ),
    )
    if status is not None:
        return _render_findings(meeting_id, finding_form=form, status=status)
    flash(_("The finding was posted."), "success")
    return redirect(url_for("followup.findings_list", meeting_id=meeting_id) + "#findings")


def _require_manage(page: FindingsPage, rule: str) -> None:
    """A form sent by someone who does not run the meeting is refused as such (403, audited), whatever it
    holds."""
    if not page.can_manage:
        subject = current_subject()
        policy.require(
            request_session(), subject, policy.decide_manage_meeting(subject, page.opened.room, rule),
            object_type="meeting", object_id=page.opened.meeting.id,
        )  # fmt: skip


def _edit_page(
    template_kind: str, page: FindingsPage, form: Any, part: Any, status: int = 200, **extra: Any
) -> ResponseReturnValue:
    return render_template(
        "meetings/findings_edit.html",
        kind=template_kind,
        page=page,
        meeting=page.opened.meeting,
        room=page.opened.room,
        form=form,
        part=part,
        caveats=[page.caveats[code] for code in sorted(part.caveat_codes) if code in page.caveats],
        **extra,
    ), status


@blueprint.route("/meetings/<uuid:meeting_id>/findings/<uuid:finding_id>/edit", methods=["GET", "POST"])
@login_required
@performs("finding.edit")
def edit_finding(meeting_id: uuid.UUID, finding_id: uuid.UUID) -> ResponseReturnValue:
    session = request_session()
    subject = current_subject()
    page = _page(meeting_id)
    finding, grant = findings.finding_of(session, subject, page.opened, finding_id, "finding.read")
    _require_manage(page, "finding.edit")
    form = FindingEditForm()
    _prepare_finding_form(form, page)
    if not form.is_submitted():
        form.fill_from(current_marking(session, grant, finding))
        form.body.data = open_part(session, grant, finding, "body")
        form.agenda_item.data = str(finding.agenda_item_id) if finding.agenda_item_id else ""
        form.base_digest.data = findings.finding_digest(finding)
        return _edit_page("finding", page, form, finding)
    if not form.validate():
        return _edit_page("finding", page, form, finding, 400)
    try:
        findings.edit_finding(
            session, subject, meeting_id, finding_id, _finding_input(form), form.base_digest.data or ""
        )
    except findings.FindingConflict as conflict:
        session.rollback()
        form.base_digest.data = conflict.current_digest
        return _edit_page("finding", page, form, finding, 409, current_body=conflict.current_body)
    except (policy.AccessDenied, InvalidMarking, findings.FollowupRefused) as error:
        session.rollback()
        refusal = _refusal(error)
        if refusal is None:
            raise
        form.form_errors.append(refusal[0])
        return _edit_page("finding", page, form, finding, refusal[1])
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
    page = _page(meeting_id)
    form = ActionForm()
    _prepare_action_form(form, page)
    if not form.validate_on_submit():
        _require_manage(page, "action.create")
        return _render_findings(meeting_id, action_form=form, status=400)
    status = _save(
        form,
        lambda: findings.create_action(request_session(), current_subject(), meeting_id, _action_input(form)),
    )
    if status is not None:
        return _render_findings(meeting_id, action_form=form, status=status)
    flash(_("The action item was added."), "success")
    return redirect(url_for("followup.findings_list", meeting_id=meeting_id) + "#actions")


@blueprint.route("/meetings/<uuid:meeting_id>/actions/<uuid:action_id>/edit", methods=["GET", "POST"])
@login_required
@performs("action.edit")
def edit_action(meeting_id: uuid.UUID, action_id: uuid.UUID) -> ResponseReturnValue:
    session = request_session()
    subject = current_subject()
    page = _page(meeting_id)
    item, grant = findings.action_of(session, subject, page.opened, action_id, "action.read")
    _require_manage(page, "action.edit")
    form = ActionEditForm()
    _prepare_action_form(form, page)
    if not form.is_submitted():
        form.fill_from(current_marking(session, grant, item))
        form.title.data = open_part(session, grant, item, "title")
        form.owner.data = str(item.owner_id)
        form.due_on.data = item.due_on
        form.status.data = item.status.value
        form.finding.data = str(item.finding_id) if item.finding_id else ""
        form.base_version.data = str(item.version)
        return _edit_page("action", page, form, item)
    if not form.validate():
        return _edit_page("action", page, form, item, 400)
    try:
        findings.edit_action(
            session, subject, meeting_id, action_id, _action_input(form), _version(form.base_version.data)
        )
    except findings.ActionConflict as conflict:
        session.rollback()
        form.base_version.data = str(conflict.item.version)
        return _edit_page(
            "action", page, form, item, 409, current_title=conflict.current_title,
            current_status=STATUS_LABELS[conflict.item.status],
        )  # fmt: skip
    except (policy.AccessDenied, InvalidMarking, findings.FollowupRefused) as error:
        session.rollback()
        refusal = _refusal(error)
        if refusal is None:
            raise
        form.form_errors.append(refusal[0])
        return _edit_page("action", page, form, item, refusal[1])
    session.commit()
    flash(_("The action item was saved."), "success")
    return redirect(url_for("followup.findings_list", meeting_id=meeting_id) + "#actions")


def _version(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


def _back(meeting_id: uuid.UUID, return_to: str | None) -> str:
    if return_to == "actions":
        return url_for("followup.my_actions_page")
    return url_for("followup.findings_list", meeting_id=meeting_id) + "#actions"


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
            _version(form.base_version.data),
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
            back=_back(meeting_id, return_to),
        ), 409
    session.commit()
    flash(_("The status was changed."), "success")
    return redirect(_back(meeting_id, return_to))


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
            form = ActionStatusForm(formdata=None)
            form.status.data = entry.item.status.value
            form.base_version.data = str(entry.item.version)
            form.return_to.data = "actions"
            status_forms[entry.item.id] = form
    return render_template(
        "meetings/my_actions.html", items=items, status_forms=status_forms, status_labels=STATUS_LABELS
    )
