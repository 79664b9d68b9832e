"""Meeting pages: schedule one in a room, convene one at short notice (招集), read, edit and cancel it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select

from portal.accounts.caveats import Caveat
from portal.accounts.forms import ConfirmForm
from portal.accounts.timezones import NonexistentLocalTime, in_zone, local_to_utc
from portal.db import request_session, utcnow
from portal.enums import Level
from portal.errors import render_error
from portal.i18n import REASON_MESSAGES, user_time_zone
from portal.meetings import agenda, service
from portal.meetings.forms import ConveneForm, MeetingEditForm, MeetingForm
from portal.meetings.models import Meeting
from portal.rooms import service as rooms
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.web import current_subject, performs

blueprint = Blueprint("meetings", __name__)

MEETING_REASONS = {
    "NOT_SECRETARIAT_OR_CHAIR": _l("Only the chair or the secretariat of this subcommittee can do this."),
    "NOT_RAPID_RESPONSE": _l("Only a rapid-response subcommittee convenes meetings at short notice."),
    "MEETING_LEVEL_CAPPED": _l(
        "A meeting's title and place are at most Confidential; mark the agenda items instead."
    ),
}
#: A meeting convened at short notice starts now or later (a few minutes' slack for typing the form).
CONVENE_SLACK = timedelta(minutes=15)


def reason_message(reason: str) -> str:
    return str(MEETING_REASONS.get(reason) or REASON_MESSAGES.get(reason) or reason)


def explain_refusal(denied: policy.AccessDenied) -> ResponseReturnValue:
    """A refusal on a meeting page says why (403, already audited); a concealed one stays a plain 404."""
    if denied.conceal:
        return render_error(404)
    return render_error(403, reason_message(denied.decision.reason))


blueprint.register_error_handler(policy.AccessDenied, explain_refusal)


def caveats_named(codes: frozenset[str]) -> list[Caveat]:
    """The caveats of some codes, for the marking banner (which names them in the reader's language)."""
    if not codes:
        return []
    return list(request_session().scalars(select(Caveat).where(Caveat.code.in_(codes)).order_by(Caveat.code)))


@dataclass(frozen=True)
class MeetingSection:
    """One tab of a meeting's pages."""

    key: str
    label: str
    url: str
    #: The endpoint of the section's own page (its tab is then marked as the current page).
    endpoint: str


#: The tabs every page of a meeting shows, in order: (key, label, endpoint).
SECTIONS = (
    ("agenda", _l("Agenda"), "meetings.show"),
    ("attendance", _l("Attendance"), "followup.attendance_page"),
    ("findings", _l("Findings and action items"), "followup.findings_list"),
    ("minutes", _l("Minutes"), "minutes.show"),
)


@blueprint.app_template_global("meeting_sections")
def meeting_sections(meeting_id: uuid.UUID) -> list[MeetingSection]:
    """The tab bar of a meeting's pages (``templates/meetings/_tabs.html``)."""
    return [
        MeetingSection(key, str(label), url_for(endpoint, meeting_id=meeting_id), endpoint)
        for key, label, endpoint in SECTIONS
    ]


def _limit_levels(form: MeetingForm, room: Subcommittee) -> None:
    form.level.choices = [
        (value, label) for value, label in form.level.choices if value <= int(room.max_level)
    ]


def _starts_at(form: MeetingForm) -> datetime | None:
    """The typed date and time, read in the user's zone; None (with the error on the form) if that wall
    clock time does not exist there."""
    assert form.day.data is not None and form.start.data is not None
    try:
        return local_to_utc(form.day.data, form.start.data, user_time_zone())
    except NonexistentLocalTime:
        form.start.errors = [*form.start.errors, str(_l("That time does not exist in your time zone."))]
        return None


def _new_meeting(form: MeetingForm, starts_at: datetime) -> service.NewMeeting:
    return service.NewMeeting(
        title=form.title.data or "",
        place=form.place.data or "",
        starts_at=starts_at,
        duration_minutes=int(form.duration_minutes.data or 0),
        level=Level(form.level.data),
    )


def _steward_room(room_id: uuid.UUID, rule: str) -> Subcommittee:
    """A room of the user's (404 otherwise) whose meetings they run (403 otherwise, audited)."""
    subject = current_subject()
    room = rooms.open_room(request_session(), subject, room_id)
    policy.require(
        request_session(), subject, policy.decide_manage_meeting(subject, room, rule),
        object_type="room", object_id=room.id,
    )  # fmt: skip
    return room


@blueprint.route("/rooms/<uuid:room_id>/meetings/new", methods=["GET", "POST"])
@login_required
@performs("meeting.schedule")
def create(room_id: uuid.UUID) -> ResponseReturnValue:
    room = _steward_room(room_id, "meeting.schedule")
    form = MeetingForm()
    _limit_levels(form, room)
    if not form.is_submitted():
        form.day.data = in_zone(utcnow(), user_time_zone()).date() + timedelta(days=7)
        form.start.data = time(10, 0)
    status = 200
    if form.validate_on_submit():
        starts_at = _starts_at(form)
        if starts_at is not None:
            try:
                meeting = service.create_meeting(
                    request_session(), current_subject(), room, _new_meeting(form, starts_at)
                )
            except policy.AccessDenied as denied:
                request_session().rollback()
                form.form_errors.append(reason_message(denied.decision.reason))
                return render_template("meetings/new.html", room=room, form=form), 403
            request_session().commit()
            flash(_("The meeting was scheduled."), "success")
            return redirect(url_for("meetings.show", meeting_id=meeting.id))
        status = 400
    elif form.is_submitted():
        status = 400
    return render_template("meetings/new.html", room=room, form=form), status


def convene_form_with_defaults() -> ConveneForm:
    """招集's form as the room page shows it: today, two hours from now (on the half hour)."""
    form = ConveneForm(formdata=None)
    now = in_zone(utcnow(), user_time_zone())
    soon = (now + timedelta(hours=2)).replace(second=0, microsecond=0)
    soon += timedelta(minutes=(30 - soon.minute % 30) % 30)
    form.day.data = soon.date()
    form.start.data = soon.time().replace(tzinfo=None)
    return form


@blueprint.route("/rooms/<uuid:room_id>/meetings/convene", methods=["GET", "POST"])
@login_required
@performs("meeting.convene")
def convene(room_id: uuid.UUID) -> ResponseReturnValue:
    """招集: one step, from the room page of a rapid-response room."""
    subject = current_subject()
    room = rooms.open_room(request_session(), subject, room_id)
    # Refused for any other kind of room, or anyone but its stewards, before the form is looked at.
    policy.require(
        request_session(), subject, policy.decide_convene_meeting(subject, room, Level.PUBLIC),
        object_type="room", object_id=room.id,
    )  # fmt: skip
    form = ConveneForm() if request.method == "POST" else convene_form_with_defaults()
    _limit_levels(form, room)
    status = 200
    if form.validate_on_submit():
        starts_at = _starts_at(form)
        if starts_at is not None and starts_at < utcnow() - CONVENE_SLACK:
            form.start.errors = [*form.start.errors, str(_l("A meeting cannot be convened in the past."))]
            starts_at = None
        if starts_at is not None:
            try:
                meeting = service.convene_meeting(
                    request_session(), subject, room, _new_meeting(form, starts_at)
                )
            except policy.AccessDenied as denied:
                request_session().rollback()
                form.form_errors.append(reason_message(denied.decision.reason))
                return render_template("meetings/convene.html", room=room, form=form), 403
            request_session().commit()
            flash(_("The meeting was convened. Members are to be notified at once."), "success")
            return redirect(url_for("meetings.show", meeting_id=meeting.id))
        status = 400
    elif form.is_submitted():
        status = 400
    return render_template("meetings/convene.html", room=room, form=form), status


@blueprint.get("/meetings/<uuid:meeting_id>")
@login_required
@performs("meeting.read")
def show(meeting_id: uuid.UUID) -> ResponseReturnValue:
    subject = current_subject()
    session = request_session()
    opened, text = service.open_meeting(session, subject, meeting_id)
    page = agenda.agenda_page(session, subject, opened)
    meeting = opened.meeting
    return render_template(
        "meetings/show.html",
        room=opened.room,
        meeting=meeting,
        text=text,
        agenda=page,
        page_level=max(meeting.level, page.highest_level),
        page_caveats=caveats_named(page.caveat_codes),
        item_caveats={
            entry.item.id: caveats_named(entry.item.caveat_codes) for entry in page.entries if entry.readable
        },
        cancel_form=ConfirmForm(formdata=None),
        publish_form=ConfirmForm(formdata=None),
        can_edit=page.steward and meeting.status != "cancelled",
    )


def _fill(form: MeetingEditForm, meeting: Meeting, text: service.MeetingText) -> None:
    local = in_zone(meeting.starts_at, user_time_zone())
    form.title.data = text.title
    form.place.data = text.place
    form.day.data = local.date()
    form.start.data = local.time().replace(tzinfo=None)
    form.duration_minutes.data = meeting.duration_minutes
    form.level.data = int(meeting.level)
    form.base_version.data = str(meeting.version)


def _version(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        return 0


@blueprint.route("/meetings/<uuid:meeting_id>/edit", methods=["GET", "POST"])
@login_required
@performs("meeting.edit")
def edit(meeting_id: uuid.UUID) -> ResponseReturnValue:
    subject = current_subject()
    session = request_session()
    opened, text = service.open_meeting(session, subject, meeting_id)
    policy.require(
        session, subject, policy.decide_manage_meeting(subject, opened.room, "meeting.edit"),
        object_type="meeting", object_id=meeting_id,
    )  # fmt: skip
    meeting, room = opened.meeting, opened.room
    if meeting.status == "cancelled":
        flash(_("This meeting was cancelled; it no longer changes."), "error")
        return redirect(url_for("meetings.show", meeting_id=meeting_id))
    form = MeetingEditForm()
    _limit_levels(form, room)
    if not form.is_submitted():
        _fill(form, meeting, text)
    status = 200
    if form.validate_on_submit():
        starts_at = _starts_at(form)
        if starts_at is None:
            return render_template("meetings/edit.html", room=room, meeting=meeting, form=form), 400
        change = service.MeetingChange(
            base_version=_version(form.base_version.data),
            title=form.title.data or "",
            place=form.place.data or "",
            starts_at=starts_at,
            duration_minutes=int(form.duration_minutes.data or 0),
            level=Level(form.level.data),
        )
        try:
            service.edit_meeting(session, subject, meeting_id, change)
        except service.MeetingConflict as conflict:
            session.rollback()
            # Keep what the user typed; they may save it deliberately on top of the newer version.
            current = conflict.current
            form.base_version.data = str(current.meeting.version)
            return render_template(
                "meetings/conflict.html", room=room, meeting=current.meeting, current=current, form=form
            ), 409
        except policy.AccessDenied as denied:
            session.rollback()
            if denied.conceal:
                raise
            form.form_errors.append(reason_message(denied.decision.reason))
            return render_template("meetings/edit.html", room=room, meeting=meeting, form=form), 403
        session.commit()
        flash(_("The meeting was changed."), "success")
        return redirect(url_for("meetings.show", meeting_id=meeting_id))
    elif form.is_submitted():
        status = 400
    return render_template("meetings/edit.html", room=room, meeting=meeting, form=form), status


@blueprint.post("/meetings/<uuid:meeting_id>/cancel")
@login_required
@performs("meeting.cancel")
def cancel(meeting_id: uuid.UUID) -> ResponseReturnValue:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    service.cancel_meeting(request_session(), current_subject(), meeting_id)
    request_session().commit()
    flash(_("The meeting was cancelled."), "success")
    return redirect(url_for("meetings.show", meeting_id=meeting_id))


def room_panel(room: Subcommittee) -> dict[str, object]:
    """What the room page shows of its meetings (its template variables)."""
    subject = current_subject()
    listed = service.room_meetings(request_session(), subject, room.id, utcnow())
    can_convene = policy.decide_convene_meeting(subject, room, Level.PUBLIC).allowed
    return {
        "upcoming_meetings": listed.upcoming,
        "past_meetings": listed.past,
        "can_schedule": policy.decide_manage_meeting(subject, room, "meeting.schedule").allowed,
        "can_convene": can_convene,
        "convene_form": _convene_form_for(room) if can_convene else None,
    }


def _convene_form_for(room: Subcommittee) -> ConveneForm:
    form = convene_form_with_defaults()
    _limit_levels(form, room)
    return form
