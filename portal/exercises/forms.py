"""Forms of tabletop exercises (the marking fields come from PartMarkingForm)."""

from __future__ import annotations

import re
import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.documents.forms import CheckboxList
from portal.exercises.models import ExerciseStatus
from portal.exercises.run import RESPONSE_MAX
from portal.exercises.service import OFFSET_MAX, ROLE_MAX, TEXT_MAX, TITLE_MAX
from portal.meetings.findings import BODY_MAX
from portal.meetings.findings import TITLE_MAX as ACTION_TITLE_MAX
from portal.meetings.forms import PartMarkingForm

REQUIRED = _l("This field is required.")
OFFSET = re.compile(r"^\s*(?:T\s*\+\s*)?(\d{1,2}):([0-5]\d)\s*$", re.IGNORECASE)

STATUS_LABELS = {
    ExerciseStatus.PLANNED: _l("Planned"),
    ExerciseStatus.RUNNING: _l("Running"),
    ExerciseStatus.FINISHED: _l("Finished"),
}


class ExerciseForm(PartMarkingForm):
    title = StringField(_l("Title"), validators=[DataRequired(REQUIRED), Length(max=TITLE_MAX)])
    scenario = TextAreaField(
        _l("Scenario (Markdown)"), validators=[DataRequired(REQUIRED), Length(max=TEXT_MAX)],
        render_kw={"rows": 8},
    )  # fmt: skip
    held_on = DateField(_l("Date of the exercise"), validators=[DataRequired(REQUIRED)])
    facilitator = SelectField(_l("Facilitator"), choices=[], validators=[DataRequired(REQUIRED)])
    participants = CheckboxList(_l("Participants"), choices=[])
    base_version = HiddenField()

    def facilitator_id(self) -> uuid.UUID:
        return uuid.UUID(self.facilitator.data)

    def participant_ids(self) -> frozenset[uuid.UUID]:
        return frozenset(uuid.UUID(value) for value in self.participants.data or ())


def parse_offset(text: str) -> int | None:
    """ "T+1:30", "1:30" -> 90 minutes; None when it is not such a time."""
    match = OFFSET.match(text or "")
    return None if match is None else int(match.group(1)) * 60 + int(match.group(2))


class InjectForm(PartMarkingForm):
    offset = StringField(
        _l("Time (T+h:mm)"), validators=[DataRequired(REQUIRED)], default="T+0:00",
        description=_l("Minutes after the start of the exercise, for example T+0:30."),
    )  # fmt: skip
    text = TextAreaField(
        _l("Inject"), validators=[DataRequired(REQUIRED), Length(max=TEXT_MAX)], render_kw={"rows": 4}
    )
    sender = StringField(
        _l("From (role or organisation)"), validators=[DataRequired(REQUIRED), Length(max=ROLE_MAX)]
    )
    recipient = StringField(
        _l("To (role or organisation)"), validators=[DataRequired(REQUIRED), Length(max=ROLE_MAX)]
    )
    expected_action = TextAreaField(
        _l("Expected action"),
        validators=[DataRequired(REQUIRED), Length(max=TEXT_MAX)],
        render_kw={"rows": 3},
    )

    def validate_offset(self, field: StringField) -> None:
        minutes = parse_offset(field.data or "")
        if minutes is None or minutes > OFFSET_MAX:
            raise ValidationError(str(_l("Give the time as T+h:mm, at most T+48:00.")))

    def offset_minutes(self) -> int:
        minutes = parse_offset(self.offset.data or "")
        assert minutes is not None
        return minutes


class ResponseForm(FlaskForm):
    body = TextAreaField(
        _l("Your response"),
        validators=[DataRequired(REQUIRED), Length(max=RESPONSE_MAX)],
        render_kw={"rows": 3},
    )


class AfterActionForm(PartMarkingForm):
    finding = TextAreaField(
        _l("Finding (Markdown)"),
        validators=[DataRequired(REQUIRED), Length(max=BODY_MAX)],
        render_kw={"rows": 5},
    )
    action_title = StringField(_l("Action item (optional)"), validators=[Length(max=ACTION_TITLE_MAX)])
    action_owner = SelectField(_l("Owner"), choices=[], default="")
    action_due_on = DateField(_l("Due date"), validators=[Optional()])

    def validate_action_owner(self, field: SelectField) -> None:
        if (self.action_title.data or "").strip() and not field.data:
            raise ValidationError(str(_l("Choose the owner of the action item.")))

    def owner_id(self) -> uuid.UUID | None:
        return uuid.UUID(self.action_owner.data) if self.action_owner.data else None


class RiskFlagForm(FlaskForm):
    #: Choices: the room's risks this facilitator may read (set by the view from the register).
    risks = CheckboxList(
        _l("Affected risks"),
        choices=[],
        validators=[DataRequired(_l("Choose at least one risk."))],
    )
