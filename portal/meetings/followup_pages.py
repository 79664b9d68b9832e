"""What the attendance and findings pages show: their forms filled with the choices this reader has, the
pages rendered, and refusals put in words. The routes are in :mod:`portal.meetings.followup_views`."""

from __future__ import annotations

import uuid
from typing import Any

from flask import render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.accounts.forms import ConfirmForm
from portal.db import request_session, utcnow
from portal.i18n import REASON_MESSAGES
from portal.meetings import attendance, findings
from portal.meetings.followup_forms import (
    RESPONSE_LABELS,
    STATUS_LABELS,
    ActionForm,
    ActionStatusForm,
    AnswerForm,
    FindingForm,
    RecordAttendanceForm,
    distinct_ids,
    optional_id,
)
from portal.meetings.followup_read import FindingsPage, findings_page, today_in
from portal.meetings.models import ActionStatus, AttendanceResponse
from portal.meetings.parts import InvalidMarking, fill_marking_choices
from portal.rooms import service as rooms
from portal.security import policy
from portal.security.web import current_subject

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


def locale() -> str:
    return str(get_locale() or "ja")


def message(code: str) -> str:
    return str(FOLLOWUP_MESSAGES.get(code, code))


# --- attendance -------------------------------------------------------------------------------------


def render_attendance(
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


def none_choice() -> tuple[str, str]:
    return ("", "—")


def finding_choices(page: FindingsPage) -> list[tuple[str, str]]:
    choices = [none_choice()]
    for number, entry in enumerate(page.findings, start=1):
        if entry.readable and entry.body is not None:
            summary = " ".join(entry.body.split())
            summary = summary[:40] + ("…" if len(summary) > 40 else "")
            choices.append(
                (str(entry.finding.id), _("Finding %(number)d: %(summary)s", number=number, summary=summary))
            )
    return choices


def prepare_finding_form(form: FindingForm, page: FindingsPage) -> None:
    fill_marking_choices(request_session(), current_subject(), form, page.opened.room, locale())
    form.agenda_item.choices = [none_choice()] + [
        (str(ref.id), f"{ref.number}. {ref.title}")
        for ref in page.agenda.values()
        if ref.title is not None and not ref.removed
    ]


def prepare_action_form(form: ActionForm, page: FindingsPage) -> None:
    fill_marking_choices(request_session(), current_subject(), form, page.opened.room, locale())
    roster = rooms.member_roster(request_session(), page.opened.room.id, utcnow())
    seen: set[uuid.UUID] = set()
    owners = []
    for entry in roster:
        if entry.user_id not in seen:
            seen.add(entry.user_id)
            owners.append((str(entry.user_id), f"{entry.display_name} ({entry.organization(locale())})"))
    form.owner.choices = [none_choice(), *owners]
    form.finding.choices = finding_choices(page)


def page_of(meeting_id: uuid.UUID) -> FindingsPage:
    return findings_page(request_session(), current_subject(), meeting_id, today_in(utcnow()))


def render_findings(
    meeting_id: uuid.UUID,
    finding_form: FindingForm | None = None,
    action_form: ActionForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    page = page_of(meeting_id)
    finding_form = distinct_ids(finding_form or FindingForm(formdata=None), "finding-")
    action_form = distinct_ids(action_form or ActionForm(formdata=None), "action-")
    if page.can_manage:
        prepare_finding_form(finding_form, page)
        prepare_action_form(action_form, page)
    status_forms = {}
    for entry in page.actions:
        if entry.item.id in page.status_changeable:
            status_form = distinct_ids(ActionStatusForm(formdata=None), f"status-{entry.item.id}-")
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


def finding_input(form: FindingForm) -> findings.FindingInput:
    return findings.FindingInput(
        body=form.body.data or "",
        agenda_item_id=optional_id(form.agenda_item.data),
        marking=form.marking_input(),
    )


def action_input(form: ActionForm) -> findings.ActionInput:
    return findings.ActionInput(
        title=form.title.data or "",
        owner_id=uuid.UUID(form.owner.data),
        due_on=form.due_on.data,
        status=ActionStatus(form.status.data),
        finding_id=optional_id(form.finding.data),
        marking=form.marking_input(),
    )


def refusal_of(error: Exception) -> tuple[str, int] | None:
    """The message and status for a refused save, or None to let a concealed denial answer 404."""
    if isinstance(error, policy.AccessDenied):
        return None if error.conceal else (message(error.decision.reason), 403)
    if isinstance(error, InvalidMarking):
        return message(error.reason), 400
    if isinstance(error, findings.FollowupRefused):
        return message(error.code), 400
    return None


def save(form: Any, save: Any) -> int | None:
    """Run a save; on a refusal roll back, put the reason on the form and return the status to answer."""
    try:
        save()
    except (policy.AccessDenied, InvalidMarking, findings.FollowupRefused) as error:
        request_session().rollback()
        refusal = refusal_of(error)
        if refusal is None:
            raise
        form.form_errors.append(refusal[0])
        return refusal[1]
    request_session().commit()
    return None


def require_manage(page: FindingsPage, rule: str) -> None:
    """A form sent by someone who does not run the meeting is refused as such (403, audited), whatever it
    holds."""
    if not page.can_manage:
        subject = current_subject()
        policy.require(
            request_session(), subject, policy.decide_manage_meeting(subject, page.opened.room, rule),
            object_type="meeting", object_id=page.opened.meeting.id,
        )  # fmt: skip


def edit_page(
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


def version_of(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


def back_to(meeting_id: uuid.UUID, return_to: str | None) -> str:
    if return_to == "actions":
        return url_for("followup.my_actions_page")
    return url_for("followup.findings_list", meeting_id=meeting_id) + "#actions"
