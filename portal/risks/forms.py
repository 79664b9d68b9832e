"""Forms of the risk register: a risk (with its marking), a review, a proposal and the chair's decision."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.documents.forms import CheckboxList
from portal.meetings.forms import PartMarkingForm
from portal.risks.models import Infrastructure

REQUIRED = _l("This field is required.")
SCORE_RANGE = _l("From 1 to 5.")

#: Labels of the controlled list of infrastructures.
INFRASTRUCTURE_LABELS = {
    Infrastructure.POWER: _l("Electric power"),
    Infrastructure.TELECOM: _l("Telecommunications"),
    Infrastructure.PAYMENTS: _l("Payments and finance"),
    Infrastructure.LOGISTICS: _l("Logistics"),
    Infrastructure.WATER: _l("Water supply"),
    Infrastructure.FUEL: _l("Fuel"),
    Infrastructure.DATA_CENTRE: _l("Data centres"),
    Infrastructure.SATELLITE_POSITIONING: _l("Satellite positioning"),
    Infrastructure.SUBMARINE_CABLE: _l("Submarine cables"),
    Infrastructure.TRANSPORT: _l("Transport"),
}


def _score(label: object) -> IntegerField:
    return IntegerField(
        label, validators=[InputRequired(REQUIRED), NumberRange(1, 5, SCORE_RANGE)], default=3
    )


def dependency_choices() -> list[tuple[str, str]]:
    """Every edge between two infrastructures, "source>target", labelled "A → B"."""
    return [
        (f"{a.value}>{b.value}", f"{INFRASTRUCTURE_LABELS[a]} → {INFRASTRUCTURE_LABELS[b]}")
        for a in Infrastructure
        for b in Infrastructure
        if a != b
    ]


class RiskForm(PartMarkingForm):
    title = StringField(_l("Risk"), validators=[DataRequired(REQUIRED), Length(max=300)])
    scenario = TextAreaField(_l("Assumed scenario"), validators=[Length(max=20000)], render_kw={"rows": 5})
    likelihood = _score(_l("Likelihood (inherent)"))
    impact = _score(_l("Impact (inherent)"))
    residual_likelihood = _score(_l("Likelihood (residual)"))
    residual_impact = _score(_l("Impact (residual)"))
    peacetime_measures = TextAreaField(
        _l("Peacetime measures"), validators=[Length(max=20000)], render_kw={"rows": 3}
    )
    emergency_measures = TextAreaField(
        _l("Emergency measures"), validators=[Length(max=20000)], render_kw={"rows": 3}
    )
    owner = SelectField(_l("Owner"), choices=[], validators=[DataRequired(REQUIRED)])
    dependencies = CheckboxList(_l("Dependencies between infrastructures"), choices=[])
    review_interval_days = IntegerField(
        _l("Review interval (days)"),
        validators=[InputRequired(REQUIRED), NumberRange(1, 3660, _l("From 1 to 3660 days."))],
        default=180,
    )
    next_review_on = DateField(_l("Next review"), validators=[Optional()])


class RiskEditForm(RiskForm):
    base_version = HiddenField()


class ReviewForm(FlaskForm):
    likelihood = _score(_l("Likelihood (inherent)"))
    impact = _score(_l("Impact (inherent)"))
    residual_likelihood = _score(_l("Likelihood (residual)"))
    residual_impact = _score(_l("Impact (residual)"))
    note = TextAreaField(
        _l("Review note"), validators=[DataRequired(REQUIRED), Length(max=20000)], render_kw={"rows": 3}
    )


class ProposeForm(FlaskForm):
    output_id = SelectField(_l("Risk assessment"), choices=[], validators=[DataRequired(REQUIRED)])


class RejectForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for rejecting"),
        validators=[DataRequired(REQUIRED), Length(max=2000)],
        render_kw={"rows": 2},
    )
