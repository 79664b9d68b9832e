"""The situation board and the countermeasures of a rapid-response room (即応型)."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from portal.accounts.timezones import NonexistentLocalTime, local_to_utc
from portal.db import request_session
from portal.enums import Level
from portal.i18n import user_time_zone
from portal.meetings.parts import InvalidMarking, fill_marking_choices
from portal.security import policy
from portal.security.web import current_subject, performs
from portal.situation import countermeasures, service
from portal.situation.forms import CountermeasureForm, ReportForm, StatusForm
from portal.situation.models import CountermeasureStatus
from portal.situation.pages import (
    locale,
    prepare_countermeasure_form,
    refusal_of,
    render_board,
    render_countermeasure,
    render_countermeasures,
    save,
)

blueprint = Blueprint("situation", __name__)


@blueprint.get("/rooms/<uuid:room_id>/situation")
@login_required
@performs("situation.read")
def board(room_id: uuid.UUID) -> ResponseReturnValue:
    return render_board(room_id)


@blueprint.post("/rooms/<uuid:room_id>/situation")
@login_required
@performs("situation.post")
def post_report(room_id: uuid.UUID) -> ResponseReturnValue:
    session = request_session()
    subject = current_subject()
    room = service.open_rapid_room(session, subject, room_id)
    form = ReportForm()
    if service.may_post(subject, room):
        fill_marking_choices(session, subject, form, room, locale())
    if not service.may_post(subject, room) or not form.validate_on_submit():
        return _refuse_or_redisplay(room_id, form)
    assert form.day.data is not None and form.at.data is not None
    try:
        reported_at = local_to_utc(form.day.data, form.at.data, user_time_zone())
    except NonexistentLocalTime:
        form.at.errors = [str(_l("That time does not exist in your time zone."))]
        return render_board(room_id, form, 400)
    new = service.NewReport(
        reported_at=reported_at,
        source=form.source.data or "",
        happened=form.happened.data or "",
        affected=form.affected.data or "",
        impact=form.impact.data or "",
        severity=int(form.severity.data or 0),
        marking=form.marking_input(),
    )
    status = save(form, lambda: service.post_report(session, subject, room_id, new))
    if status is not None:
        return render_board(room_id, form, status)
    flash(_("The situation report was posted."), "success")
    return redirect(url_for("situation.board", room_id=room_id))


def _refuse_or_redisplay(room_id: uuid.UUID, form: ReportForm) -> ResponseReturnValue:
    """A report from someone who may not post is refused as such (403, audited), whatever it holds."""
    _require_write(room_id, "situation.post")
    return render_board(room_id, form, 400)


@blueprint.get("/rooms/<uuid:room_id>/countermeasures")
@login_required
@performs("countermeasure.list")
def countermeasure_list(room_id: uuid.UUID) -> ResponseReturnValue:
    return render_countermeasures(room_id)


@blueprint.post("/rooms/<uuid:room_id>/countermeasures")
@login_required
@performs("countermeasure.create")
def propose(room_id: uuid.UUID) -> ResponseReturnValue:
    session = request_session()
    subject = current_subject()
    room = service.open_rapid_room(session, subject, room_id)
    form = CountermeasureForm()
    if service.may_post(subject, room):
        prepare_countermeasure_form(form, room)
    if not service.may_post(subject, room) or not form.validate_on_submit():
        _require_write(room_id, "countermeasure.create")
        return render_countermeasures(room_id, form, 400)
    new = countermeasures.NewCountermeasure(
        title=form.title.data or "",
        description=form.description.data or "",
        owner_id=uuid.UUID(form.owner.data),
        finding_ids=frozenset(uuid.UUID(value) for value in form.findings.data or ()),
        marking=form.marking_input(),
    )
    created: list[uuid.UUID] = []
    status = save(form, lambda: created.append(countermeasures.propose(session, subject, room_id, new).id))
    if status is not None:
        return render_countermeasures(room_id, form, status)
    flash(_("The countermeasure was proposed."), "success")
    return redirect(url_for("situation.countermeasure", room_id=room_id, item_id=created[0]))


def _require_write(room_id: uuid.UUID, rule: str) -> None:
    """Refuse (403, audited) someone whose seat does not write here; a writer passes."""
    session = request_session()
    subject = current_subject()
    room = service.open_rapid_room(session, subject, room_id)
    probe = policy.Marking(Level.PUBLIC, frozenset(), frozenset(), None)
    policy.require(
        session, subject, policy.decide_write_rapid_response(subject, room, probe, rule),
        object_type="room", object_id=room.id,
    )  # fmt: skip


@blueprint.get("/rooms/<uuid:room_id>/countermeasures/<uuid:item_id>")
@login_required
@performs("countermeasure.read")
def countermeasure(room_id: uuid.UUID, item_id: uuid.UUID) -> ResponseReturnValue:
    return render_countermeasure(room_id, item_id)


@blueprint.post("/rooms/<uuid:room_id>/countermeasures/<uuid:item_id>/status")
@login_required
@performs("countermeasure.status")
def change_status(room_id: uuid.UUID, item_id: uuid.UUID) -> ResponseReturnValue:
    session = request_session()
    subject = current_subject()
    room = service.open_rapid_room(session, subject, room_id)
    item, _grant = countermeasures.countermeasure_of(session, subject, room, item_id, "countermeasure.status")
    policy.require(
        session, subject, policy.decide_change_countermeasure(subject, room, item),
        object_type="countermeasure", object_id=item.id, level=item.level,
    )  # fmt: skip
    form = StatusForm()
    form.status.choices = [(s.value, s.value) for s in CountermeasureStatus]
    if not form.validate_on_submit():
        if not form.base_version.data:
            abort(400)
        return render_countermeasure(room_id, item_id, form, 400)
    to_status = CountermeasureStatus(form.status.data)
    adoption = None
    if to_status == CountermeasureStatus.ADOPTED:
        assert form.action_due_on.data is not None
        try:
            adoption = [
                countermeasures.AdoptionAction(
                    title=form.action_title.data or "",
                    owner_id=uuid.UUID(form.action_owner.data or ""),
                    due_on=form.action_due_on.data,
                    meeting_id=uuid.UUID(form.action_meeting.data or ""),
                )
            ]
        except ValueError:
            abort(400)
    base = int(form.base_version.data or 0)
    try:
        countermeasures.change_status(
            session, subject, room_id, item_id, to_status, form.note.data or "", base, adoption
        )
    except countermeasures.CountermeasureConflict as conflict:
        session.rollback()
        return render_countermeasure(
            room_id, item_id, form, 409, conflict_status=conflict.item.status, wanted_status=to_status
        )
    except (policy.AccessDenied, InvalidMarking, service.SituationRefused) as error:
        session.rollback()
        refusal = refusal_of(error)
        if refusal is None:
            raise
        form.form_errors.append(refusal[0])
        return render_countermeasure(room_id, item_id, form, refusal[1])
    session.commit()
    flash(_("The status was changed."), "success")
    return redirect(url_for("situation.countermeasure", room_id=room_id, item_id=item_id))
