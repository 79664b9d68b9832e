"""Think-tank output pages: the list, publishing, one output with its charts, attaching and detaching."""

from __future__ import annotations

import uuid

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from markupsafe import Markup

from portal.db import request_session
from portal.enums import Level, ReleaseMarking
from portal.i18n import REASON_MESSAGES
from portal.security import policy
from portal.security.web import current_subject, performs
from portal.thinktank import charts, data, service
from portal.thinktank.forms import KIND_LABELS, OutputForm, RoomChoiceForm
from portal.thinktank.models import OutputKind

blueprint = Blueprint("thinktank", __name__)

#: Refusals specific to outputs, with what the user is told (the shared ones come from portal.i18n).
OUTPUT_REASON_MESSAGES = {
    **REASON_MESSAGES,
    "NOT_ANALYST": _l("Only think-tank analysts publish outputs."),
    "OUTPUT_LEVEL_CAPPED": _l("Think-tank outputs go up to Confidential."),
    "NOT_SECRETARIAT_OR_CHAIR": _l("Only the secretariat or the subcommittee's chair attaches outputs."),
}
NOTHING_YET = policy.Marking(Level.PUBLIC, frozenset(), frozenset(), None)


def current_locale() -> str:
    return str(get_locale() or "ja")


def _reason(decision: policy.Decision) -> str:
    return str(OUTPUT_REASON_MESSAGES.get(decision.reason, decision.reason))


@blueprint.get("/outputs")
@login_required
@performs("output.list")
def index() -> ResponseReturnValue:
    subject = current_subject()
    outputs = service.list_outputs(request_session(), subject)
    may_publish = policy.decide_publish_output(subject, NOTHING_YET).allowed
    return render_template(
        "thinktank/index.html", outputs=outputs, kind_labels_output=KIND_LABELS, may_publish=may_publish
    )


def _output_form() -> OutputForm:
    subject = current_subject()
    session = request_session()
    form = OutputForm()
    form.caveats.choices = [
        (c.code, f"{c.code} — {c.name('ja')}") for c in service.selectable_caveats(session, subject)
    ]
    form.offer_to.choices = [
        (str(room.id), room.name(current_locale())) for room in service.offerable_rooms(session, subject)
    ]
    return form


@blueprint.route("/outputs/new", methods=["GET", "POST"])
@login_required
@performs("output.publish")
def publish() -> ResponseReturnValue:
    subject = current_subject()
    session = request_session()
    policy.require(
        session, subject, policy.decide_publish_output(subject, NOTHING_YET), object_type="output",
        object_id="new",
    )  # fmt: skip
    form = _output_form()
    status = 200
    row_errors: list[data.RowError] = []
    more_errors = 0
    if form.validate_on_submit():
        assert form.as_of.data is not None  # required by the form
        new = service.NewOutput(
            kind=OutputKind(form.kind.data),
            title=form.title.data or "",
            summary=form.summary.data or "",
            authors=form.authors.data or "",
            method=form.method.data or "",
            data_sources=form.data_sources.data or "",
            as_of=form.as_of.data,
            version_label=form.version_label.data or "",
            data_csv=form.data_csv.data or "",
            level=Level(form.level.data),
            release=ReleaseMarking(form.release.data),
            caveat_codes=frozenset(form.caveats.data or []),
            reason=form.reason.data,
            review_on=form.review_on.data,
            offer_to=frozenset(uuid.UUID(value) for value in form.offer_to.data or []),
        )
        try:
            output = service.publish(session, subject, new)
        except data.DataError as invalid:
            session.rollback()
            row_errors, more_errors = invalid.errors, invalid.more
            form.data_csv.errors = [_("Nothing was published: correct the rows below and send again.")]
            status = 400
        except service.DataNotAllowed:  # the form checks this first; the service holds the rule too
            session.rollback()
            form.data_csv.errors = [_("Only supply-chain analyses and risk assessments carry a data table.")]
            status = 400
        except policy.AccessDenied as denied:
            session.rollback()
            form.form_errors.append(_reason(denied.decision))
            status = 403
        else:
            session.commit()
            flash(_("The output was published."), "success")
            return redirect(url_for("thinktank.show", output_id=output.id))
    elif form.is_submitted():
        status = 400
    return render_template(
        "thinktank/new.html", form=form, row_errors=row_errors, more_errors=more_errors
    ), status


# --- one output ---------------------------------------------------------------------------------------


def _charts(text: service.OutputText) -> dict[str, Markup]:
    """The output's charts, with their words in the reader's language."""
    drawn: dict[str, Markup] = {}
    if text.dependencies:
        threshold = current_app.config["PORTAL_SETTINGS"].thinktank_hhi_threshold
        shown_threshold = f"{threshold:,}"
        drawn["shares"] = charts.share_bars(
            "chart-shares",
            data.stage_shares(text.dependencies),
            charts.ShareChartText(
                title=_("Share of supply by country, per material and stage"),
                description=_(
                    "Stacked bars, one per material and stage, each adding up to 100 percent: a segment per "
                    "country, largest first; the grey rest is not attributed to a listed country. The "
                    "same figures are in the table below the chart."
                ),
                others=_("Other countries"),
                rest=_("Not reported"),
            ),
        )
        drawn["concentration"] = charts.concentration_bars(
            "chart-concentration",
            data.concentrations(text.dependencies),
            threshold,
            charts.ConcentrationChartText(
                title=_("Supply concentration per material (Herfindahl–Hirschman index)"),
                description=_(
                    "One bar per material at its most concentrated stage, on the 0 to 10,000 scale; "
                    "materials above the threshold of %(threshold)s are drawn dark and marked.",
                    threshold=shown_threshold,
                ),
                threshold=_("threshold %(threshold)s", threshold=shown_threshold),
                above=_("▲ above threshold"),
            ),
        )
    if text.risks:
        drawn["heat_map"] = charts.heat_map(
            "chart-heat-map",
            text.risks,
            charts.HeatMapText(
                title=_("Risks by likelihood and impact"),
                description=_(
                    "A five by five matrix: likelihood from 1 (left) to 5 (right), impact from 1 (bottom) "
                    "to 5 (top). Each cell shows how many risks it holds and their names; its colour is the "
                    "band of likelihood times impact. The same figures are in the table below."
                ),
                likelihood=_("Likelihood"),
                impact=_("Impact"),
                bands=risk_band_labels(),
            ),
        )
    return drawn


def risk_band_labels() -> dict[str, str]:
    return {
        "low": _("Low (1–4)"),
        "medium": _("Medium (5–9)"),
        "high": _("High (10–16)"),
        "critical": _("Critical (20–25)"),
    }


def _render_output(output_id: uuid.UUID, status: int = 200) -> ResponseReturnValue:
    subject = current_subject()
    session = request_session()
    opened = service.open_output(session, subject, output_id)
    output = opened.output
    placement = service.placement(session, subject, output)
    attach_form = RoomChoiceForm(formdata=None)
    attach_form.room_id.choices = [
        (str(room.id), room.name(current_locale())) for room in placement.attachable
    ]
    return render_template(
        "thinktank/show.html",
        output=output,
        text=opened.text,
        charts=_charts(opened.text),
        kind_label=KIND_LABELS[output.kind],
        publisher=service.publisher_of(session, output),
        placement=placement,
        attach_form=attach_form,
        detach_form=RoomChoiceForm(formdata=None),
        risk_bands=risk_band_labels(),
        threshold=current_app.config["PORTAL_SETTINGS"].thinktank_hhi_threshold,
        concentrations=data.concentrations(opened.text.dependencies),
        risk_band=data.risk_band,
    ), status


@blueprint.get("/outputs/<uuid:output_id>")
@login_required
@performs("output.read")
def show(output_id: uuid.UUID) -> ResponseReturnValue:
    return _render_output(output_id)


def _room_change(output_id: uuid.UUID, change: str) -> ResponseReturnValue:
    subject = current_subject()
    session = request_session()
    service.open_output(session, subject, output_id)  # 404 for an output the subject may not read
    form = RoomChoiceForm()
    if not form.validate_on_submit():
        flash(_("Choose a subcommittee."), "error")
        return _render_output(output_id, status=400)
    room_id = uuid.UUID(str(form.room_id.data))
    try:
        if change == "attach":
            service.attach(session, subject, output_id, room_id)
            message = _("The output was attached to the subcommittee.")
        else:
            service.detach(session, subject, output_id, room_id)
            message = _("The output was detached from the subcommittee. It still exists.")
    except service.AlreadyAttached:
        session.rollback()
        flash(_("The output is already attached to that subcommittee."), "warning")
        return redirect(url_for("thinktank.show", output_id=output_id))
    except service.NotAttached:
        session.rollback()
        flash(_("The output is not attached to that subcommittee."), "warning")
        return redirect(url_for("thinktank.show", output_id=output_id))
    session.commit()
    flash(message, "success")
    return redirect(url_for("thinktank.show", output_id=output_id))


@blueprint.post("/outputs/<uuid:output_id>/attach")
@login_required
@performs("output.attach")
def attach(output_id: uuid.UUID) -> ResponseReturnValue:
    return _room_change(output_id, "attach")


@blueprint.post("/outputs/<uuid:output_id>/detach")
@login_required
@performs("output.detach")
def detach(output_id: uuid.UUID) -> ResponseReturnValue:
    return _room_change(output_id, "detach")
