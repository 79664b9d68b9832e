"""Minutes pages: read a revision, draft portions, take the workflow's steps, review, compare revisions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select

from portal.accounts.caveats import Caveat
from portal.db import request_session
from portal.i18n import REASON_MESSAGES, RELEASE_LABELS
from portal.meetings import access
from portal.minutes import diff, drafting, service, workflow
from portal.minutes.forms import CommentForm, PortionForm, StepForm
from portal.minutes.service import RevisionState, StaleMinutes, StepRefused
from portal.security import policy
from portal.security.web import current_subject, performs

blueprint = Blueprint("minutes", __name__)

#: What the user is told when a step is refused (the shared access reasons come from portal.i18n).
MINUTES_MESSAGES = {
    **REASON_MESSAGES,
    "NOT_SECRETARIAT_OR_CHAIR": _l("Only the secretariat or the subcommittee's chair can do this."),
    "NOT_CHAIR": _l("Only the subcommittee's chair approves the minutes."),
    "NOT_ATTENDEE": _l("Only those who attended the meeting review the minutes."),
    "ALREADY_STARTED": _l("The minutes of this meeting have already been started."),
    "NOT_DRAFT": _l("The minutes can be changed only while they are a draft."),
    "NO_PORTIONS": _l("Add at least one portion before circulating the minutes."),
    "ALREADY_CIRCULATED": _l("The minutes have already been circulated."),
    "ALREADY_APPROVED": _l("The minutes have already been approved."),
    "ALREADY_PUBLISHED": _l("The minutes have already been published."),
    "NOT_CIRCULATED": _l("The minutes must be circulated for review first."),
    "NOT_APPROVED": _l("The chair must approve the minutes before they are published."),
    "ALREADY_DRAFT": _l("The minutes are already a draft."),
    "CORRECT_PUBLISHED": _l("Published minutes are locked: start a correction instead."),
    "NOT_PUBLISHED": _l("Only published minutes can be corrected."),
    "PORTION_WITHHELD": _l(
        "This move would also move a portion you are not cleared to read. "
        "Ask someone who may read it, or move another portion."
    ),
    "READER_NOT_MEMBER": _l("Every named reader must be a member of the subcommittee."),
    "UNKNOWN_CAVEAT": _l("Choose caveats from the list."),
}
STALE_MESSAGE = _l(
    "Someone changed the minutes while you were looking at them. Nothing was changed; look again."
)

STATE_LABELS = {
    RevisionState.DRAFT: _l("Draft"),
    RevisionState.CIRCULATED: _l("Circulated for review"),
    RevisionState.APPROVED: _l("Approved"),
    RevisionState.PUBLISHED: _l("Published"),
    RevisionState.SUPERSEDED: _l("Superseded by a correction"),
    RevisionState.REVISED: _l("Replaced by a later revision"),
}


def _message(reason: str) -> str:
    return str(MINUTES_MESSAGES.get(reason, reason))


def _locale() -> str:
    return str(get_locale() or "ja")


def _caveats(codes: frozenset[str]) -> list[Caveat]:
    if not codes:
        return []
    found = {c.code: c for c in request_session().scalars(select(Caveat).where(Caveat.code.in_(codes)))}
    return [found[code] for code in service.ordered_caveat_codes(codes) if code in found]


def _base_version(form: StepForm | PortionForm) -> int:
    return int(form.base_version.data or 0)


@blueprint.app_template_global("minutes_paragraphs")
def _paragraphs(body: str) -> list[list[str]]:
    return service.paragraphs(body)


def _comment_form(posted: CommentForm | None, portion_id: uuid.UUID) -> CommentForm:
    """The review form of one portion (ids unique on the page; a rejected one keeps its text)."""
    form = posted or CommentForm(formdata=None)
    form.body.id = form.body.label.field_id = f"comment-{portion_id}"
    return form


# --- reading ------------------------------------------------------------------------------------------


def _render_show(
    meeting_id: uuid.UUID,
    revision: int | None = None,
    *,
    status: int = 200,
    error: str | None = None,
    comment_form: CommentForm | None = None,
    comment_portion: uuid.UUID | None = None,
) -> ResponseReturnValue:
    session = request_session()
    page = service.minutes_page(session, current_subject(), meeting_id, revision)
    view, minutes, standing = page.view, page.minutes, page.standing
    working = minutes.state if minutes is not None and view is not None and view.is_working else None
    names = service.user_names(session, [view.revision.approved_by_id] if view else [])
    step_form = StepForm(formdata=None, base_version=str(minutes.version) if minutes else "")
    return render_template(
        "minutes/show.html",
        page=page,
        room=page.opened.room,
        meeting=page.opened.meeting,
        view=view,
        minutes=minutes,
        standing=standing,
        caveats=_caveats(view.marking.caveat_codes) if view else [],
        caveats_of=_caveats,
        state_labels=STATE_LABELS,
        release_labels=RELEASE_LABELS,
        approved_by=names.get(view.revision.approved_by_id)
        if view and view.revision.approved_by_id
        else None,
        step_form=step_form,
        comment_form_for=lambda portion_id: _comment_form(
            comment_form if portion_id == comment_portion else None, portion_id
        ),
        can_start=standing.steward and minutes is None,
        can_edit=standing.steward and working == "draft",
        can_circulate=standing.steward and working == "draft",
        can_revise=standing.steward and working in ("circulated", "approved"),
        can_approve=standing.chair and working == "circulated",
        can_publish=standing.steward and working == "approved",
        can_correct=standing.steward and working == "published",
        error=error,
    ), status


@blueprint.get("/meetings/<uuid:meeting_id>/minutes")
@login_required
@performs("minutes.read")
def show(meeting_id: uuid.UUID) -> ResponseReturnValue:
    return _render_show(meeting_id, request.args.get("revision", type=int))


@blueprint.get("/meetings/<uuid:meeting_id>/minutes/revisions")
@login_required
@performs("minutes.read")
def history(meeting_id: uuid.UUID) -> ResponseReturnValue:
    session = request_session()
    page = service.minutes_page(session, current_subject(), meeting_id)
    if page.minutes is None:
        service.not_found(session, current_subject(), meeting_id)
    assert page.minutes is not None
    names = service.user_names(
        session, [r.created_by_id for r in page.revisions] + [r.approved_by_id for r in page.revisions]
    )
    states = {r.number: service.revision_state(page.minutes, r) for r in page.revisions}
    numbers = [r.number for r in page.revisions]
    return render_template(
        "minutes/history.html",
        page=page,
        room=page.opened.room,
        meeting=page.opened.meeting,
        revisions=list(reversed(page.revisions)),
        states=states,
        state_labels=STATE_LABELS,
        names=names,
        default_a=numbers[-2] if len(numbers) > 1 else (numbers[-1] if numbers else None),
        default_b=numbers[-1] if numbers else None,
    )


@blueprint.get("/meetings/<uuid:meeting_id>/minutes/compare")
@login_required
@performs("minutes.read")
def compare(meeting_id: uuid.UUID) -> ResponseReturnValue:
    session = request_session()
    subject = current_subject()
    a, b = request.args.get("a", type=int), request.args.get("b", type=int)
    if a is None or b is None:
        page = service.minutes_page(session, subject, meeting_id)
        flash(_("Choose two revisions to compare."), "warning")
        return redirect(url_for("minutes.history", meeting_id=page.opened.meeting.id))
    comparison = diff.compare(session, subject, meeting_id, a, b)
    marking = service.combined(comparison.left.marking, comparison.right.marking)
    return render_template(
        "minutes/compare.html",
        comparison=comparison,
        marking=marking,
        caveats=_caveats(marking.caveat_codes),
        room=comparison.right.room,
        meeting=comparison.right.meeting,
        meeting_title=access.meeting_text(
            session, access.require_meeting(session, subject, meeting_id), "title"
        ),
        caveats_of=_caveats,
        state_labels=STATE_LABELS,
    )


# --- steps --------------------------------------------------------------------------------------------


def _step(
    meeting_id: uuid.UUID, run: Callable[[], Any], done: str, *, form: StepForm | None = None
) -> ResponseReturnValue:
    """Run a step from a button: a refusal shows the minutes page again with the reason (403 for the
    policy, 409 for the order of steps or a stale page), a success returns to the page."""
    session = request_session()
    form = form or StepForm()
    if not form.validate_on_submit():
        return _render_show(
            meeting_id, status=400, error=_("The form is out of date. Reload the page and try again.")
        )
    try:
        run()
    except policy.AccessDenied as denied:
        session.rollback()
        if denied.conceal:
            raise
        return _render_show(meeting_id, status=403, error=_message(denied.decision.reason))
    except StepRefused as refused:
        session.rollback()
        return _render_show(meeting_id, status=409, error=_message(refused.reason))
    except StaleMinutes:
        session.rollback()
        return _render_show(meeting_id, status=409, error=str(STALE_MESSAGE))
    session.commit()
    flash(done, "success")
    return redirect(url_for("minutes.show", meeting_id=meeting_id))


def _guard(
    meeting_id: uuid.UUID, decide: Callable[..., policy.Decision] | None = None
) -> ResponseReturnValue | None:
    """Before a form is looked at: 404 for a meeting one may not see; when the subject may not take this
    kind of step at all, the minutes page with the reason (403, audited)."""
    try:
        access.require_meeting(request_session(), current_subject(), meeting_id, decide=decide)
    except policy.AccessDenied as denied:
        if denied.conceal:
            raise
        request_session().rollback()
        return _render_show(meeting_id, status=403, error=_message(denied.decision.reason))
    return None


def _steward(rule: str) -> Callable[..., policy.Decision]:
    return lambda subject, _meeting, room: policy.decide_manage_meeting(subject, room, rule)


@blueprint.post("/meetings/<uuid:meeting_id>/minutes/start")
@login_required
@performs("minutes.start")
def start(meeting_id: uuid.UUID) -> ResponseReturnValue:
    refusal = _guard(meeting_id, _steward("minutes.start"))
    if refusal is not None:
        return refusal
    session = request_session()
    if not StepForm(base_version="0").validate_on_submit():
        return _render_show(meeting_id, status=400)
    try:
        drafting.start_minutes(session, current_subject(), meeting_id)
    except StepRefused:
        session.rollback()
        flash(_("The minutes of this meeting have already been started."), "info")
        return redirect(url_for("minutes.show", meeting_id=meeting_id))
    session.commit()
    flash(_("The minutes were started as a draft."), "success")
    return redirect(url_for("minutes.show", meeting_id=meeting_id))


def _workflow_step(
    meeting_id: uuid.UUID,
    step: Callable[..., Any],
    decide: Callable[..., policy.Decision],
    done: str,
) -> ResponseReturnValue:
    refusal = _guard(meeting_id, decide)
    if refusal is not None:
        return refusal
    form = StepForm()
    return _step(
        meeting_id,
        lambda: step(request_session(), current_subject(), meeting_id, _base_version(form)),
        done,
        form=form,
    )


@blueprint.post("/meetings/<uuid:meeting_id>/minutes/circulate")
@login_required
@performs("minutes.circulate")
def circulate(meeting_id: uuid.UUID) -> ResponseReturnValue:
    return _workflow_step(
        meeting_id, workflow.circulate, _steward("minutes.circulate"),
        _("The minutes were circulated to the attendees for review."),
    )  # fmt: skip


@blueprint.post("/meetings/<uuid:meeting_id>/minutes/approve")
@login_required
@performs("minutes.approve")
def approve(meeting_id: uuid.UUID) -> ResponseReturnValue:
    return _workflow_step(
        meeting_id, workflow.approve, lambda subject, _m, room: policy.decide_approve_minutes(subject, room),
        _("The minutes were approved."),
    )  # fmt: skip


@blueprint.post("/meetings/<uuid:meeting_id>/minutes/revise")
@login_required
@performs("minutes.revise")
def revise(meeting_id: uuid.UUID) -> ResponseReturnValue:
    return _workflow_step(
        meeting_id, workflow.revise, _steward("minutes.revise"),
        _("The minutes are a draft again, as a new revision."),
    )  # fmt: skip


@blueprint.post("/meetings/<uuid:meeting_id>/minutes/publish")
@login_required
@performs("minutes.publish")
def publish(meeting_id: uuid.UUID) -> ResponseReturnValue:
    return _workflow_step(
        meeting_id, workflow.publish, _steward("minutes.publish"),
        _("The minutes were published and locked."),
    )  # fmt: skip


@blueprint.post("/meetings/<uuid:meeting_id>/minutes/correct")
@login_required
@performs("minutes.correct")
def correct(meeting_id: uuid.UUID) -> ResponseReturnValue:
    return _workflow_step(
        meeting_id, workflow.start_correction, _steward("minutes.correct"),
        _("A correction was started as a new draft revision. The published minutes stay as they are."),
    )  # fmt: skip


@blueprint.post("/meetings/<uuid:meeting_id>/minutes/portions/<uuid:portion_id>/comments")
@login_required
@performs("minutes.review")
def comment(meeting_id: uuid.UUID, portion_id: uuid.UUID) -> ResponseReturnValue:
    access.require_meeting(request_session(), current_subject(), meeting_id)
    session = request_session()
    form = CommentForm()
    if not form.validate_on_submit():
        return _render_show(meeting_id, status=400, comment_form=form, comment_portion=portion_id)
    try:
        workflow.add_comment(session, current_subject(), meeting_id, portion_id, form.body.data or "")
    except policy.AccessDenied as denied:
        session.rollback()
        if denied.conceal:
            raise
        return _render_show(meeting_id, status=403, error=_message(denied.decision.reason))
    except StepRefused as refused:
        session.rollback()
        return _render_show(meeting_id, status=409, error=_message(refused.reason))
    session.commit()
    flash(_("Your review comment was added."), "success")
    return redirect(url_for("minutes.show", meeting_id=meeting_id) + f"#portion-{portion_id}")


# the drafting pages register on this blueprint
from portal.minutes import drafting_views  # noqa: E402, F401
