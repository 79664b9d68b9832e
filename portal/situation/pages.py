"""What the situation pages show: forms filled with this reader's choices, refusals in words, rendering.
The routes are in :mod:`portal.situation.views`."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from portal.accounts.forms import ConfirmForm
from portal.accounts.timezones import in_zone
from portal.db import request_session, utcnow
from portal.i18n import REASON_MESSAGES, user_time_zone
from portal.meetings.parts import InvalidMarking, fill_marking_choices
from portal.rooms import service as rooms
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.web import current_subject
from portal.situation import countermeasures, service
from portal.situation.forms import SEVERITY_LABELS, STATUS_LABELS, CountermeasureForm, ReportForm, StatusForm
from portal.situation.models import CountermeasureStatus

MESSAGES = {
    **REASON_MESSAGES,
    "NOT_RAPID_RESPONSE": _l("Only a rapid-response subcommittee keeps a situation board."),
    "NOT_SECRETARIAT_OR_CHAIR": _l("Only the secretariat or the subcommittee's chair does this."),
    "EMPTY_TEXT": _l("This field is required."),
    "BAD_SEVERITY": _l("Choose a severity from the list."),
    "UNKNOWN_CAVEAT": _l("Choose caveats from the list."),
    "OWNER_NOT_MEMBER": _l("The owner must be a current member of the subcommittee."),
    "OWNER_CANNOT_READ": _l("The owner could not read an item with this marking."),
    "FINDING_UNKNOWN": _l("Choose findings from the list."),
    "MEETING_UNKNOWN": _l("Choose a meeting of this subcommittee."),
    "STATUS_NOT_ALLOWED": _l("A countermeasure cannot move to that status from its current one."),
    "ADOPTION_NEEDS_ACTION": _l(
        "Adopting creates an action item: give its title, owner, due date and meeting."
    ),
}


def message(code: str) -> str:
    return str(MESSAGES.get(code, code))


def locale() -> str:
    return str(get_locale() or "ja")


def refusal_of(error: Exception) -> tuple[str, int] | None:
    """The message and status for a refused save, or None to let a concealed denial answer 404."""
    if isinstance(error, policy.AccessDenied):
        return None if error.conceal else (message(error.decision.reason), 403)
    if isinstance(error, InvalidMarking):
        return message(error.reason), 400
    if isinstance(error, service.SituationRefused):
        return message(error.code), 400
    return None


def save(form: Any, action: Any) -> int | None:
    """Run a save; on a refusal roll back, put the reason on the form and return the status to answer."""
    try:
        action()
    except (policy.AccessDenied, InvalidMarking, service.SituationRefused) as error:
        request_session().rollback()
        refusal = refusal_of(error)
        if refusal is None:
            raise
        form.form_errors.append(refusal[0])
        return refusal[1]
    request_session().commit()
    return None


def owner_choices(room: Subcommittee) -> list[tuple[str, str]]:
    roster = rooms.member_roster(request_session(), room.id, utcnow())
    seen: set[uuid.UUID] = set()
    owners = [("", "—")]
    for entry in roster:
        if entry.user_id not in seen:
            seen.add(entry.user_id)
            owners.append((str(entry.user_id), f"{entry.display_name} ({entry.organization(locale())})"))
    return owners


def render_board(
    room_id: uuid.UUID, form: ReportForm | None = None, status: int = 200
) -> ResponseReturnValue:
    """The board; showing it (200) records the visit, after working out what is new to the reader."""
    session = request_session()
    subject = current_subject()
    room = service.open_rapid_room(session, subject, room_id)
    board = service.board(session, subject, room)
    can_post = service.may_post(subject, room)
    if form is None:
        form = ReportForm(formdata=None)
        now = in_zone(utcnow(), user_time_zone())
        form.day.data = now.date()
        form.at.data = now.time().replace(second=0, microsecond=0, tzinfo=None)
    if can_post:
        fill_marking_choices(session, subject, form, room, locale())
    if status == 200:
        service.record_visit(session, subject, room.id, utcnow())
        session.commit()
    return render_template(
        "situation/board.html",
        room=room,
        board=board,
        form=form,
        can_post=can_post,
        severity_labels=SEVERITY_LABELS,
        can_convene=policy.decide_manage_meeting(subject, room, "meeting.convene").allowed,
    ), status


def prepare_countermeasure_form(form: CountermeasureForm, room: Subcommittee) -> None:
    session = request_session()
    subject = current_subject()
    fill_marking_choices(session, subject, form, room, locale())
    form.owner.choices = owner_choices(room)
    form.findings.choices = [
        (str(c.id), c.label) for c in countermeasures.readable_findings(session, subject, room)
    ]


def render_countermeasures(
    room_id: uuid.UUID, form: CountermeasureForm | None = None, status: int = 200
) -> ResponseReturnValue:
    session = request_session()
    subject = current_subject()
    room = service.open_rapid_room(session, subject, room_id)
    items = countermeasures.list_countermeasures(session, subject, room)
    can_propose = service.may_post(subject, room)
    form = form or CountermeasureForm(formdata=None)
    if can_propose:
        prepare_countermeasure_form(form, room)
    return render_template(
        "situation/countermeasures.html",
        room=room,
        items=items,
        form=form,
        can_propose=can_propose,
        status_labels=STATUS_LABELS,
        statuses=list(CountermeasureStatus),
    ), status


def render_countermeasure(
    room_id: uuid.UUID, item_id: uuid.UUID, form: StatusForm | None = None, status: int = 200, **extra: Any
) -> ResponseReturnValue:
    session = request_session()
    subject = current_subject()
    opened = countermeasures.open_countermeasure(session, subject, room_id, item_id)
    can_change = policy.decide_change_countermeasure(subject, opened.room, opened.item).allowed
    can_change = can_change and bool(countermeasures.NEXT[opened.item.status])
    if form is None:
        form = StatusForm(formdata=None)
        form.base_version.data = str(opened.item.version)
        form.action_due_on.data = in_zone(utcnow(), user_time_zone()).date() + timedelta(days=14)
        form.action_owner.data = str(opened.item.owner_id)
    nexts = countermeasures.NEXT[opened.item.status]
    form.status.choices = [(s.value, STATUS_LABELS[s]) for s in CountermeasureStatus if s in nexts]
    form.action_owner.choices = owner_choices(opened.room)
    meetings = countermeasures.room_meetings(session, subject, opened.room)
    form.action_meeting.choices = [("", "—"), *((str(mid), title) for mid, title in meetings)]
    if not form.action_meeting.data and opened.findings:
        form.action_meeting.data = str(opened.findings[0].meeting_id)
    return render_template(
        "situation/countermeasure.html",
        room=opened.room,
        opened=opened,
        form=form,
        can_change=can_change,
        status_labels=STATUS_LABELS,
        adopted=CountermeasureStatus.ADOPTED,
        confirm_form=ConfirmForm(formdata=None),
        **extra,
    ), status
