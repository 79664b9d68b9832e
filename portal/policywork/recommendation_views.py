"""Recommendations (提言) of a policy-coordination room: the board by status, a recommendation's page with
its history, drafting one, and moving it along its lifecycle."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from portal.db import request_session
from portal.meetings import agenda_changes
from portal.policywork import recommendations, service
from portal.policywork.forms import STATUS_LABELS, RecommendationForm, TransitionForm
from portal.policywork.models import RecommendationStatus
from portal.policywork.pages import message, optional_id, prepare_marked_form, save
from portal.security import policy
from portal.security.web import current_subject, performs

blueprint = Blueprint("recommendations", __name__)


@blueprint.get("/rooms/<uuid:room_id>/recommendations")
@login_required
@performs("recommendation.list")
def board(room_id: uuid.UUID) -> ResponseReturnValue:
    session, subject = request_session(), current_subject()
    room = service.open_policy_room(session, subject, room_id)
    entries = recommendations.for_reader(session, subject, room)
    return render_template(
        "policywork/board.html",
        room=room,
        board=recommendations.board(entries),
        status_labels=STATUS_LABELS,
        can_manage=service.is_steward(subject, room),
    )


def _form_for(room: Any, form: RecommendationForm) -> RecommendationForm:
    session, subject = request_session(), current_subject()
    prepare_marked_form(form, room)
    form.documents.choices = [
        (str(d.id), d.title) for d in agenda_changes.linkable_documents(session, subject, room)
    ]
    form.outputs.choices = [
        (str(o.id), o.title) for o in agenda_changes.linkable_outputs(session, subject, room)
    ]
    return form


def _new_page(room: Any, form: RecommendationForm, status: int = 200) -> ResponseReturnValue:
    return render_template("policywork/recommendation_new.html", room=room, form=form), status


@blueprint.route("/rooms/<uuid:room_id>/recommendations/new", methods=["GET", "POST"])
@login_required
@performs("recommendation.create")
def create(room_id: uuid.UUID) -> ResponseReturnValue:
    session, subject = request_session(), current_subject()
    room = service.open_policy_room(session, subject, room_id)
    service.require_steward(session, subject, room, "recommendation.create")
    form = _form_for(room, RecommendationForm())
    if not form.is_submitted():
        return _new_page(room, form)
    if not form.validate():
        return _new_page(room, form, 400)
    created: list[uuid.UUID] = []

    def run() -> None:
        new = recommendations.RecommendationInput(
            title=form.title.data or "",
            body=form.body.data or "",
            owner_id=optional_id(form.owner.data) or uuid.UUID(int=0),
            sectors=form.sector_values(),
            document_ids=form.document_ids(),
            output_ids=form.output_ids(),
            marking=form.marking_input(),
        )
        created.append(recommendations.create_recommendation(session, subject, room_id, new).id)

    status = save(form, run)
    if status is not None:
        return _new_page(room, form, status)
    flash(_("The recommendation was drafted."), "success")
    return redirect(url_for("recommendations.show", room_id=room_id, recommendation_id=created[0]))


def _show(
    room_id: uuid.UUID,
    recommendation_id: uuid.UUID,
    form: TransitionForm | None = None,
    status: int = 200,
    **extra: Any,
) -> ResponseReturnValue:
    session, subject = request_session(), current_subject()
    page = recommendations.recommendation_page(session, subject, room_id, recommendation_id)
    if form is None:
        form = TransitionForm(formdata=None)
        form.base_version.data = str(page.item.version)
    form.target.choices = [(s.value, STATUS_LABELS[s]) for s in page.moves]
    return render_template(
        "policywork/recommendation.html",
        page=page,
        room=page.room,
        item=page.item,
        form=form,
        status_labels=STATUS_LABELS,
        lifecycle=list(RecommendationStatus),
        **extra,
    ), status


@blueprint.get("/rooms/<uuid:room_id>/recommendations/<uuid:recommendation_id>")
@login_required
@performs("recommendation.read")
def show(room_id: uuid.UUID, recommendation_id: uuid.UUID) -> ResponseReturnValue:
    return _show(room_id, recommendation_id)


@blueprint.post("/rooms/<uuid:room_id>/recommendations/<uuid:recommendation_id>/transition")
@login_required
@performs("recommendation.transition")
def transition(room_id: uuid.UUID, recommendation_id: uuid.UUID) -> ResponseReturnValue:
    session, subject = request_session(), current_subject()
    form = TransitionForm()
    if not form.validate_on_submit():
        room = service.open_policy_room(session, subject, room_id)
        recommendations.recommendation_of(
            session, subject, room, recommendation_id, "recommendation.transition"
        )
        service.require_steward(session, subject, room, "recommendation.transition")
        abort(400)
    target = RecommendationStatus(form.target.data)
    base = int(form.base_version.data) if (form.base_version.data or "").isdigit() else 0
    try:
        recommendations.move(session, subject, room_id, recommendation_id, target, form.note.data or "", base)
    except recommendations.RecommendationConflict as conflict:
        session.rollback()
        current = conflict.recommendation
        return render_template(
            "policywork/transition_conflict.html",
            room=service.open_policy_room(session, subject, room_id),
            item=current,
            current_title=conflict.current_title,
            current_status=STATUS_LABELS[current.status],
            wanted=STATUS_LABELS[target],
        ), 409
    except policy.AccessDenied as denied:
        session.rollback()
        if denied.conceal:
            raise
        form.form_errors.append(message(denied.decision.reason))
        # The refusal was audited by the service; the page says why.
        return _show(room_id, recommendation_id, form, 403)
    session.commit()
    flash(_("The recommendation is now: %(status)s", status=STATUS_LABELS[target]), "success")
    return redirect(url_for("recommendations.show", room_id=room_id, recommendation_id=recommendation_id))
