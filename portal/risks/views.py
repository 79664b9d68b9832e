"""The risk register's routes: a risk's page (text, scores, history and trend, the review form), adding,
editing and retiring risks, recording reviews, proposing an assessment and the chair's decisions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import login_required

from portal.accounts.forms import ConfirmForm
from portal.accounts.models import User
from portal.db import request_session, utcnow
from portal.meetings.followup_read import today_in
from portal.meetings.parts import InvalidMarking, current_marking, fill_marking_choices
from portal.risks import pages, proposals, register, service
from portal.risks.forms import ProposeForm, RejectForm, ReviewForm, RiskEditForm, RiskForm, dependency_choices
from portal.risks.models import Risk, RiskProposal
from portal.rooms import service as rooms
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.web import current_subject, performs

blueprint = Blueprint("risks", __name__)

REGISTER_ANCHOR = "#risk-register"


def _locale() -> str:
    return str(get_locale() or "ja")


def _prepare(form: RiskForm, room: Subcommittee) -> None:
    session, subject = request_session(), current_subject()
    fill_marking_choices(session, subject, form, room, _locale())
    form.owner.choices = [
        (str(m.user_id), m.user.display_name) for m in rooms.current_members(session, room.id, utcnow())
    ]
    form.dependencies.choices = [(value, str(label)) for value, label in dependency_choices()]


def _input(form: RiskForm) -> service.RiskInput:
    return service.RiskInput(
        title=form.title.data or "",
        scenario=form.scenario.data or "",
        peacetime_measures=form.peacetime_measures.data or "",
        emergency_measures=form.emergency_measures.data or "",
        scores=service.Scores(
            form.likelihood.data or 0,
            form.impact.data or 0,
            form.residual_likelihood.data or 0,
            form.residual_impact.data or 0,
        ),
        owner_id=uuid.UUID(form.owner.data),
        dependencies=service.parse_dependencies(" ".join(form.dependencies.data or ())),
        review_interval_days=form.review_interval_days.data or 0,
        marking=form.marking_input(),
        next_review_on=form.next_review_on.data,
    )


def _save(form: Any, action: Callable[[], object]) -> int | None:
    """Run a save; on a refusal roll back, put the reason on the form and return the status to answer."""
    try:
        action()
    except service.RiskConflict:
        request_session().rollback()
        form.form_errors.append(
            _(
                "The risk was changed by someone else since you opened it. Your text is kept below; "
                "review the current risk and save again."
            )
        )
        return 409
    except (policy.AccessDenied, InvalidMarking, service.RiskRefused) as error:
        request_session().rollback()
        if isinstance(error, policy.AccessDenied):
            if error.conceal:
                raise
            form.form_errors.append(pages.message(error.decision.reason))
            return 403
        code = error.reason if isinstance(error, InvalidMarking) else error.code
        form.form_errors.append(pages.message(code))
        return 400
    request_session().commit()
    return None


def _require_keep(room: Subcommittee, rule: str) -> None:
    subject = current_subject()
    policy.require(
        request_session(), subject, policy.decide_keep_register(subject, room, rule), object_type="room",
        object_id=room.id,
    )  # fmt: skip


@blueprint.route("/rooms/<uuid:room_id>/risks/new", methods=["GET", "POST"])
@login_required
@performs("risk.create")
def create(room_id: uuid.UUID) -> ResponseReturnValue:
    session, subject = request_session(), current_subject()
    room = rooms.open_room(session, subject, room_id)
    _require_keep(room, "risk.create")
    form = RiskForm()
    _prepare(form, room)
    if not form.is_submitted():
        form.owner.data = str(subject.user_id)
    status = 200
    if form.validate_on_submit():
        created: list[Risk] = []
        status = (
            _save(form, lambda: created.append(service.create_risk(session, subject, room, _input(form))))
            or 0
        )
        if not status:
            flash(_("The risk was added to the register."), "success")
            return redirect(url_for("risks.show", risk_id=created[0].id))
    elif form.is_submitted():
        status = 400
    return render_template("risks/form.html", form=form, room=room, risk=None), status or 200


@blueprint.get("/risks/<uuid:risk_id>")
@login_required
@performs("risk.read")
def show(risk_id: uuid.UUID) -> ResponseReturnValue:
    return _render_show(risk_id)


def _render_show(
    risk_id: uuid.UUID, review_form: ReviewForm | None = None, status: int = 200
) -> ResponseReturnValue:
    session, subject = request_session(), current_subject()
    opened = service.open_risk(session, subject, risk_id)
    risk = opened.risk
    entries = register.history(session, opened)
    trend, points = pages.trend(entries, (risk.score, risk.residual_score), risk.created_at)
    if review_form is None:
        review_form = ReviewForm(formdata=None)
        review_form.likelihood.data, review_form.impact.data = risk.likelihood, risk.impact
        review_form.residual_likelihood.data = risk.residual_likelihood
        review_form.residual_impact.data = risk.residual_impact
    owner = session.get(User, risk.owner_id)
    today = today_in(utcnow())
    return render_template(
        "risks/show.html",
        risk=risk,
        room=opened.room,
        texts=service.risk_texts(session, opened),
        flag=service.review_flag(session, opened),
        owner_name=owner.display_name if owner else "",
        history=entries,
        trend=trend,
        trend_points=points,
        infrastructures=pages.infrastructure_labels(),
        review_form=review_form,
        can_review=policy.decide_review_risk(subject, opened.room, risk, risk.owner_id).allowed
        and risk.retired_at is None,
        can_keep=policy.decide_keep_register(subject, opened.room).allowed,
        due=risk.next_review_on <= today,
        overdue=risk.next_review_on < today,
    ), status


@blueprint.route("/risks/<uuid:risk_id>/edit", methods=["GET", "POST"])
@login_required
@performs("risk.edit")
def edit(risk_id: uuid.UUID) -> ResponseReturnValue:
    session, subject = request_session(), current_subject()
    opened = service.open_risk(session, subject, risk_id, "risk.edit")
    _require_keep(opened.room, "risk.edit")
    risk = opened.risk
    form = RiskEditForm()
    _prepare(form, opened.room)
    if not form.is_submitted():
        texts = service.risk_texts(session, opened)
        for name, value in texts.items():
            getattr(form, name).data = value
        for name in (
            "likelihood",
            "impact",
            "residual_likelihood",
            "residual_impact",
            "review_interval_days",
            "next_review_on",
        ):
            getattr(form, name).data = getattr(risk, name)
        form.owner.data = str(risk.owner_id)
        form.dependencies.data = [f"{a}>{b}" for a, b in risk.dependency_edges]
        form.base_version.data = str(risk.version)
        form.fill_from(current_marking(session, opened.grant, risk))
        return render_template("risks/form.html", form=form, room=opened.room, risk=risk)
    status = 400
    if form.validate_on_submit():
        base = int(form.base_version.data) if (form.base_version.data or "").isdigit() else -1
        status = _save(form, lambda: service.edit_risk(session, subject, risk_id, _input(form), base)) or 0
        if not status:
            flash(_("The risk was saved."), "success")
            return redirect(url_for("risks.show", risk_id=risk_id))
    return render_template("risks/form.html", form=form, room=opened.room, risk=risk), status


@blueprint.post("/risks/<uuid:risk_id>/retire")
@login_required
@performs("risk.retire")
def retire(risk_id: uuid.UUID) -> ResponseReturnValue:
    session = request_session()
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return redirect(url_for("risks.show", risk_id=risk_id))
    risk = service.retire_risk(session, current_subject(), risk_id)
    session.commit()
    flash(_("The risk was retired from the register; its history is kept."), "success")
    return redirect(url_for("rooms.room", room_id=risk.subcommittee_id) + REGISTER_ANCHOR)


@blueprint.post("/risks/<uuid:risk_id>/review")
@login_required
@performs("risk.review")
def review(risk_id: uuid.UUID) -> ResponseReturnValue:
    session, subject = request_session(), current_subject()
    form = ReviewForm()
    if not form.validate_on_submit():
        opened = service.open_risk(session, subject, risk_id, "risk.review")
        decision = policy.decide_review_risk(subject, opened.room, opened.risk, opened.risk.owner_id)
        policy.require(session, subject, decision, object_type="risk", object_id=risk_id)
        return _render_show(risk_id, form, 400)
    after = service.Scores(
        form.likelihood.data or 0,
        form.impact.data or 0,
        form.residual_likelihood.data or 0,
        form.residual_impact.data or 0,
    )
    status = _save(
        form, lambda: service.record_review(session, subject, risk_id, after, form.note.data or "")
    )
    if status:
        return _render_show(risk_id, form, status)
    flash(_("The review was recorded."), "success")
    return redirect(url_for("risks.show", risk_id=risk_id) + "#risk-history")


@blueprint.post("/rooms/<uuid:room_id>/risks/propose")
@login_required
@performs("risk.propose")
def propose(room_id: uuid.UUID) -> ResponseReturnValue:
    """Refusals by the policy answer 403/404 (audited); a refused assessment comes back as a message."""
    session, subject = request_session(), current_subject()
    form = ProposeForm()
    room = rooms.open_room(session, subject, room_id)
    target = url_for("rooms.room", room_id=room_id) + REGISTER_ANCHOR
    output_id = _uuid(form.output_id.data or "")
    if not form.validate_on_submit() and form.csrf_token.errors:
        flash(_("The form has expired. Please try again."), "error")
        return redirect(target)
    if output_id is None:
        flash(_("Choose a risk assessment."), "error")
        return redirect(target)
    try:
        made = proposals.propose_assessment(session, subject, room.id, output_id)
    except service.RiskRefused as refused:
        session.rollback()
        flash(pages.message(refused.code), "error")
        return redirect(target)
    session.commit()
    flash(
        _("%(count)d changes were proposed; the chair accepts or rejects each.", count=len(made)), "success"
    )
    return redirect(target)


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _back_to_room(proposal_id: uuid.UUID) -> str:
    proposal = request_session().get(RiskProposal, proposal_id)
    if proposal is None:
        return url_for("rooms.overview")
    return url_for("rooms.room", room_id=proposal.subcommittee_id) + REGISTER_ANCHOR


@blueprint.post("/risk-proposals/<uuid:proposal_id>/accept")
@login_required
@performs("risk.proposal.decide")
def accept(proposal_id: uuid.UUID) -> ResponseReturnValue:
    session = request_session()
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return redirect(_back_to_room(proposal_id))
    try:
        proposals.accept_proposal(session, current_subject(), proposal_id)
    except service.RiskRefused as refused:
        session.rollback()
        flash(pages.message(refused.code), "error")
        return redirect(_back_to_room(proposal_id))
    session.commit()
    flash(_("The change was accepted into the register."), "success")
    return redirect(_back_to_room(proposal_id))


@blueprint.post("/risk-proposals/<uuid:proposal_id>/reject")
@login_required
@performs("risk.proposal.decide")
def reject(proposal_id: uuid.UUID) -> ResponseReturnValue:
    session = request_session()
    form = RejectForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            flash(_("The form has expired. Please try again."), "error")
            return redirect(_back_to_room(proposal_id))
        # Decide first: a reader who may not decide is refused as such, whatever the form holds.
        proposal = session.get(RiskProposal, proposal_id)
        if proposal is not None:
            proposals.require_settle(session, current_subject(), proposal_id)
        flash(_("Give the reason for rejecting the change."), "error")
        return redirect(_back_to_room(proposal_id))
    try:
        proposals.reject_proposal(session, current_subject(), proposal_id, form.reason.data or "")
    except service.RiskRefused as refused:
        session.rollback()
        flash(pages.message(refused.code), "error")
        return redirect(_back_to_room(proposal_id))
    session.commit()
    flash(_("The change was rejected; the proposal is kept with your reason."), "success")
    return redirect(_back_to_room(proposal_id))
