"""Forms: publishing an output, attaching it to a room and detaching it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.documents.forms import REQUIRED, CheckboxList
from portal.enums import Level, ReleaseMarking
from portal.i18n import LEVEL_LABELS, RELEASE_LABELS
from portal.security.policy import OUTPUT_MAX_LEVEL
from portal.thinktank.models import OutputKind

KIND_LABELS = {
    OutputKind.SUPPLY_CHAIN: _l("Supply-chain analysis"),
    OutputKind.RISK_ASSESSMENT: _l("Risk assessment"),
    OutputKind.SCENARIO: _l("Scenario"),
    OutputKind.POLICY_BRIEF: _l("Policy brief"),
}


class OutputForm(FlaskForm):
    kind = SelectField(
        _l("Kind of output"),
        choices=[(kind.value, label) for kind, label in KIND_LABELS.items()],
        default=OutputKind.SUPPLY_CHAIN.value,
    )
    title = StringField(_l("Title"), validators=[DataRequired(REQUIRED), Length(max=300)])
    summary = TextAreaField(_l("Summary"), validators=[Length(max=100_000)], render_kw={"rows": 8})
    authors = StringField(_l("Authors"), validators=[DataRequired(REQUIRED), Length(max=500)])
    method = TextAreaField(
        _l("Method"), validators=[DataRequired(REQUIRED), Length(max=5000)], render_kw={"rows": 3}
    )
    data_sources = TextAreaField(
        _l("Data sources"), validators=[DataRequired(REQUIRED), Length(max=5000)], render_kw={"rows": 3}
    )
    as_of = DateField(_l("Date of the analysis"), validators=[DataRequired(REQUIRED)])
    version_label = StringField(
        _l("Version"), validators=[DataRequired(REQUIRED), Length(max=40)], default="1.0"
    )
    data_csv = TextAreaField(
        _l("Data (CSV)"),
        validators=[Length(max=200_000)],
        render_kw={"rows": 10, "spellcheck": "false"},
    )
    level = SelectField(
        _l("Classification level"),
        coerce=int,
        choices=[(int(level), LEVEL_LABELS[int(level)]) for level in Level if level <= OUTPUT_MAX_LEVEL],
        default=int(Level.RESTRICTED),
    )
    release = SelectField(
        _l("Release marking (TLP)"),
        choices=[(marking.value, RELEASE_LABELS[marking]) for marking in ReleaseMarking],
        default=ReleaseMarking.GREEN.value,
    )
    caveats = CheckboxList(_l("Caveats"), choices=[])
    reason = TextAreaField(
        _l("Reason for the classification"), validators=[Length(max=2000)], render_kw={"rows": 2}
    )
    review_on = DateField(_l("Review or declassify on"), validators=[Optional()])
    offer_to = CheckboxList(_l("Offer to subcommittees"), choices=[])

    def validate_reason(self, field: TextAreaField) -> None:
        if (
            self.level.data is not None
            and self.level.data >= Level.CONFIDENTIAL
            and not (field.data or "").strip()
        ):
            raise ValidationError(str(_l("A reason is required at Confidential and above.")))

    def validate_data_csv(self, field: TextAreaField) -> None:
        carries_data = self.kind.data in {OutputKind.SUPPLY_CHAIN.value, OutputKind.RISK_ASSESSMENT.value}
        if (field.data or "").strip() and not carries_data:
            raise ValidationError(
                str(_l("Only supply-chain analyses and risk assessments carry a data table."))
            )


class RoomChoiceForm(FlaskForm):
    """Attach to, or detach from, one room. The choice is checked by the policy, not by the form, so that a
    room the user may not steward is refused with a reason (403) rather than as a malformed request."""

    room_id = SelectField(_l("Subcommittee"), choices=[], validate_choice=False)

    def validate_room_id(self, field: SelectField) -> None:
        import uuid

        try:
            uuid.UUID(str(field.data or ""))
        except ValueError:
            raise ValidationError(str(REQUIRED)) from None
