"""Forms of the situation board and the countermeasures (the marking fields come from PartMarkingForm)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.documents.forms import CheckboxList
from portal.meetings.forms import PartMarkingForm
from portal.situation.countermeasures import NOTE_MAX, TITLE_MAX
from portal.situation.models import CountermeasureStatus
from portal.situation.service import SOURCE_MAX, TEXT_MAX

REQUIRED = _l("This field is required.")

SEVERITY_LABELS = {
    1: _l("1 — Minor"),
    2: _l("2 — Moderate"),
    3: _l("3 — Serious"),
    4: _l("4 — Severe"),
}

STATUS_LABELS = {
    CountermeasureStatus.PROPOSED: _l("Proposed"),
    CountermeasureStatus.UNDER_STUDY: _l("Under study"),
    CountermeasureStatus.ADOPTED: _l("Adopted"),
    CountermeasureStatus.REJECTED: _l("Rejected"),
}


class ReportForm(PartMarkingForm):
    """A situation report. The date and time are in the user's own time zone."""

    day = DateField(_l("Date of the report"), validators=[DataRequired(REQUIRED)])
    at = TimeField(_l("Time of the report"), validators=[DataRequired(REQUIRED)])
    source = StringField(
        _l("Source organisation"), validators=[DataRequired(REQUIRED), Length(max=SOURCE_MAX)]
    )
    happened = TextAreaField(
        _l("What happened"), validators=[DataRequired(REQUIRED), Length(max=TEXT_MAX)], render_kw={"rows": 4}
    )
    affected = StringField(
        _l("Affected materials or sectors"), validators=[DataRequired(REQUIRED), Length(max=SOURCE_MAX * 3)]
    )
    severity = SelectField(
        _l("Severity"), coerce=int, choices=list(SEVERITY_LABELS.items()), default=2,
    )  # fmt: skip
    impact = TextAreaField(
        _l("Impact assessment"), validators=[DataRequired(REQUIRED), Length(max=TEXT_MAX)],
        render_kw={"rows": 4},
    )  # fmt: skip


class CountermeasureForm(PartMarkingForm):
    title = StringField(_l("Countermeasure"), validators=[DataRequired(REQUIRED), Length(max=TITLE_MAX)])
    description = TextAreaField(
        _l("Description"), validators=[DataRequired(REQUIRED), Length(max=TEXT_MAX)], render_kw={"rows": 4}
    )
    owner = SelectField(_l("Owner"), choices=[], validators=[DataRequired(REQUIRED)])
    findings = CheckboxList(_l("Linked findings"), choices=[])


class StatusForm(FlaskForm):
    """A status change; adopting fills the action item it creates."""

    status = SelectField(
        _l("New status"), choices=[(s.value, STATUS_LABELS[s]) for s in CountermeasureStatus]
    )
    note = TextAreaField(_l("Note"), validators=[Length(max=NOTE_MAX)], render_kw={"rows": 2})
    base_version = HiddenField(validators=[DataRequired()])
    action_title = StringField(_l("Action item"), validators=[Optional(), Length(max=500)])
    action_owner = SelectField(_l("Owner of the action item"), choices=[], validate_choice=False)
    action_due_on = DateField(_l("Due date"), validators=[Optional()])
    action_meeting = SelectField(_l("Meeting"), choices=[], validate_choice=False)

    def validate_base_version(self, field: HiddenField) -> None:
        if not str(field.data or "").isdigit():
            raise ValidationError(str(_l("The form is out of date; reload the page.")))

    def validate_action_title(self, field: StringField) -> None:
        if self.status.data == CountermeasureStatus.ADOPTED.value:
            missing = _l("Adopting creates an action item: give its title, owner, due date and meeting.")
            if not (field.data or "").strip() or not self.action_owner.data or not self.action_meeting.data:
                raise ValidationError(str(missing))
            if self.action_due_on.data is None:
                raise ValidationError(str(missing))
