"""Agenda pages: add, edit, remove and move an item, publish, and the published revisions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Literal, cast

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from portal.accounts.forms import ConfirmForm
from portal.db import request_session
from portal.meetings import agenda, agenda_changes, agenda_revisions, service
from portal.meetings.access import OpenedMeeting
from portal.meetings.agenda_changes import ItemInput
from portal.meetings.forms import AgendaItemForm, MoveForm
from portal.meetings.parts import InvalidMarking, fill_marking_choices
from portal.meetings.views import caveats_named, explain_refusal, reason_message
from portal.security import policy
from portal.security.web import current_subject, performs

blueprint = Blueprint("agenda", __name__)
blueprint.register_error_handler(policy.AccessDenied, explain_refusal)

MARKING_ERRORS = {
    "READER_NOT_MEMBER": _l("Every named reader must be a member of the subcommittee."),
    "UNKNOWN_CAVEAT": _l("That caveat does not exist."),
}


@blueprint.errorhandler(service.MeetingCancelled)
def _cancelled(error: service.MeetingCancelled) -> ResponseReturnValue:
    request_session().rollback()
    flash(_("This meeting was cancelled; it no longer changes."), "error")
    return redirect(url_for("meetings.show", meeting_id=str(error)))


def length_warning(total: int, length: int) -> str | None:
    """Warned, never refused: an agenda may run over while it is being drafted."""
    if total <= length:
        return None
    return _(
        "The agenda items take %(total)d minutes, longer than the meeting's %(length)d minutes.",
        total=total,
        length=length,
    )


def _item_form(opened: OpenedMeeting, form: AgendaItemForm) -> AgendaItemForm:
    session, subject, room = request_session(), current_subject(), opened.room
    fill_marking_choices(session, subject, form, room, str(get_locale() or "ja"))
    form.documents.choices = [
        (str(d.id), d.title) for d in agenda_changes.linkable_documents(session, subject, room)
    ]
    form.outputs.choices = [
        (str(o.id), o.title) for o in agenda_changes.linkable_outputs(session, subject, room)
    ]
    return form


def _input(form: AgendaItemForm) -> ItemInput:
    return ItemInput(
        title=form.title.data or "",
        presenter=form.presenter.data or "",
        duration_minutes=int(form.duration_minutes.data or 0),
        marking=form.marking_input(),
        document_ids=form.document_ids(),
        output_ids=form.output_ids(),
    )


def _render_form(
    opened: OpenedMeeting, form: AgendaItemForm, status: int, item_id: uuid.UUID | None = None
) -> ResponseReturnValue:
    meeting = opened.meeting
    total = agenda.total_minutes(request_session(), meeting.id)
    return render_template(
        "meetings/agenda_item.html",
        room=opened.room,
        meeting=meeting,
        title=service.meeting_texts(request_session(), opened).title,
        form=form,
        item_id=item_id,
        total_minutes=total,
        warning=length_warning(total, meeting.duration_minutes),
    ), status


def _save(
    opened: OpenedMeeting, form: AgendaItemForm, save: Callable[[], object], item_id: uuid.UUID | None
) -> ResponseReturnValue:
    """Run an add or an edit; a refusal keeps what was typed, with the reason."""
    session = request_session()
    if not form.validate_on_submit():
        return _render_form(opened, form, 400 if form.is_submitted() else 200, item_id)
    try:
        save()
    except InvalidMarking as invalid:
        session.rollback()
        form.form_errors.append(str(MARKING_ERRORS.get(invalid.reason, invalid.reason)))
        return _render_form(opened, form, 400, item_id)
    except agenda_changes.InvalidLink:
        session.rollback()
        form.form_errors.append(_("Link only material of this subcommittee that you may read."))
        return _render_form(opened, form, 400, item_id)
    except policy.AccessDenied as denied:
        session.rollback()
        if denied.conceal:
            raise
        form.form_errors.append(reason_message(denied.decision.reason))
        return _render_form(opened, form, 403, item_id)
    meeting_id = opened.meeting.id
    session.commit()
    flash(_("The agenda was saved."), "success")
    warning = length_warning(agenda.total_minutes(session, meeting_id), opened.meeting.duration_minutes)
    if warning:
        flash(warning, "warning")
    return redirect(url_for("meetings.show", meeting_id=meeting_id) + "#agenda")


@blueprint.route("/meetings/<uuid:meeting_id>/agenda/items/new", methods=["GET", "POST"])
@login_required
@performs("agenda.edit")
def add_item(meeting_id: uuid.UUID) -> ResponseReturnValue:
    session, subject = request_session(), current_subject()
    opened = agenda_changes.open_for_change(session, subject, meeting_id)
    form = _item_form(opened, AgendaItemForm())
    return _save(
        opened, form, lambda: agenda_changes.add_item(session, subject, meeting_id, _input(form)), None
    )


@blueprint.route("/meetings/<uuid:meeting_id>/agenda/items/<uuid:item_id>/edit", methods=["GET", "POST"])
@login_required
@performs("agenda.edit")
def edit_item(meeting_id: uuid.UUID, item_id: uuid.UUID) -> ResponseReturnValue:
    session, subject = request_session(), current_subject()
    current = agenda_changes.item_for_edit(session, subject, meeting_id, item_id)
    form = _item_form(current.opened, AgendaItemForm())
    if not form.is_submitted():
        form.title.data = current.title
        form.presenter.data = current.presenter
        form.duration_minutes.data = current.item.duration_minutes
        form.fill_from(current.marking)
        offered_documents = {value for value, _label in form.documents.choices}
        offered_outputs = {value for value, _label in form.outputs.choices}
        form.documents.data = sorted(str(i) for i in current.document_ids if str(i) in offered_documents)
        form.outputs.data = sorted(str(i) for i in current.output_ids if str(i) in offered_outputs)
    return _save(
        current.opened,
        form,
        lambda: agenda_changes.edit_item(session, subject, meeting_id, item_id, _input(form)),
        item_id,
    )


@blueprint.post("/meetings/<uuid:meeting_id>/agenda/items/<uuid:item_id>/remove")
@login_required
@performs("agenda.edit")
def remove_item(meeting_id: uuid.UUID, item_id: uuid.UUID) -> ResponseReturnValue:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    agenda_changes.remove_item(request_session(), current_subject(), meeting_id, item_id)
    request_session().commit()
    flash(_("The item was removed from the agenda."), "success")
    return redirect(url_for("meetings.show", meeting_id=meeting_id) + "#agenda")


@blueprint.post("/meetings/<uuid:meeting_id>/agenda/items/<uuid:item_id>/move")
@login_required
@performs("agenda.edit")
def move_item(meeting_id: uuid.UUID, item_id: uuid.UUID) -> ResponseReturnValue:
    session, subject = request_session(), current_subject()
    # Who and which item first (404 / 403), then the form.
    opened = agenda_changes.open_for_change(session, subject, meeting_id)
    agenda_changes.find_item(session, opened, item_id)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    direction = cast(Literal["up", "down"], form.direction.data)
    agenda_changes.move_item(session, subject, meeting_id, item_id, direction)
    session.commit()
    return redirect(url_for("meetings.show", meeting_id=meeting_id) + "#agenda")


@blueprint.post("/meetings/<uuid:meeting_id>/agenda/publish")
@login_required
@performs("agenda.publish")
def publish(meeting_id: uuid.UUID) -> ResponseReturnValue:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    session = request_session()
    try:
        agenda_changes.publish(session, current_subject(), meeting_id)
    except agenda_changes.AlreadyPublished:
        session.rollback()
        flash(_("The agenda is already published; every change is published at once."), "warning")
    except agenda_changes.NothingToPublish:
        session.rollback()
        flash(_("Add at least one item before publishing the agenda."), "error")
    else:
        session.commit()
        flash(_("The agenda was published."), "success")
    return redirect(url_for("meetings.show", meeting_id=meeting_id) + "#agenda")


@blueprint.get("/meetings/<uuid:meeting_id>/agenda/revisions")
@login_required
@performs("agenda.read")
def revisions(meeting_id: uuid.UUID) -> ResponseReturnValue:
    session, subject = request_session(), current_subject()
    opened, text = service.open_meeting(session, subject, meeting_id)
    history = (
        agenda_revisions.revision_history(session, subject, opened) if opened.meeting.agenda_published else []
    )
    shown = [entry.entry for revision in history for entry in revision.entries if entry.readable]
    return render_template(
        "meetings/revisions.html",
        room=opened.room,
        meeting=opened.meeting,
        text=text,
        history=history,
        page_level=max([opened.meeting.level, *(entry.level for entry in shown)]),
        page_caveats=caveats_named(frozenset(code for entry in shown for code in entry.caveat_codes)),
    )
