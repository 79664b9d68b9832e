"""Forms of the work plan and the recommendations (the marking fields come from PartMarkingForm)."""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.documents.forms import CheckboxList
from portal.enums import Sector
from portal.i18n import SECTOR_LABELS
from portal.meetings.forms import PartMarkingForm
from portal.policywork.models import RecommendationStatus
from portal.policywork.recommendations import BODY_MAX, NOTE_MAX
from portal.policywork.service import DESCRIPTION_MAX, TITLE_MAX

REQUIRED = _l("This field is required.")

STATUS_LABELS = {
    RecommendationStatus.DRAFTED: _l("Drafted"),
    RecommendationStatus.DELIBERATION: _l("Under deliberation"),
    RecommendationStatus.AGREED: _l("Agreed"),
    RecommendationStatus.SUBMITTED: _l("Submitted to the government"),
    RecommendationStatus.REFLECTED: _l("Reflected in policy"),
}


class ThemeForm(PartMarkingForm):
    title = StringField(_l("Theme"), validators=[DataRequired(REQUIRED), Length(max=TITLE_MAX)])
    description = TextAreaField(
        _l("Description"), validators=[Length(max=DESCRIPTION_MAX)], render_kw={"rows": 3}
    )
    owner = SelectField(_l("Owner"), validators=[DataRequired(REQUIRED)], choices=[])


class ThemeEditForm(ThemeForm):
    base_version = HiddenField()


class MilestoneForm(FlaskForm):
    title = StringField(_l("Milestone"), validators=[DataRequired(REQUIRED), Length(max=TITLE_MAX)])
    due_on = DateField(_l("Date"), validators=[DataRequired(REQUIRED)])


class MilestoneDoneForm(FlaskForm):
    done = SelectField(choices=[("1", "1"), ("0", "0")], validators=[DataRequired(REQUIRED)])


class RecommendationForm(PartMarkingForm):
    title = StringField(_l("Title"), validators=[DataRequired(REQUIRED), Length(max=TITLE_MAX)])
    body = TextAreaField(
        _l("Text (Markdown)"),
        validators=[DataRequired(REQUIRED), Length(max=BODY_MAX)],
        render_kw={"rows": 8},
    )
    owner = SelectField(_l("Owner"), validators=[DataRequired(REQUIRED)], choices=[])
    sectors = CheckboxList(
        _l("Sectors concerned"), choices=[(sector.value, SECTOR_LABELS[sector]) for sector in Sector]
    )
    documents = CheckboxList(_l("Linked documents of this subcommittee"), choices=[])
    outputs = CheckboxList(_l("Linked think-tank outputs"), choices=[])

    def sector_values(self) -> frozenset[Sector]:
        return frozenset(Sector(value) for value in self.sectors.data or ())

    def document_ids(self) -> frozenset[uuid.UUID]:
        return frozenset(uuid.UUID(value) for value in self.documents.data or ())

    def output_ids(self) -> frozenset[uuid.UUID]:
        return frozenset(uuid.UUID(value) for value in self.outputs.data or ())


class TransitionForm(FlaskForm):
    target = SelectField(
        _l("Move to"),
        choices=[(status.value, STATUS_LABELS[status]) for status in RecommendationStatus],
        validators=[DataRequired(REQUIRED)],
    )
    note = TextAreaField(_l("Note"), validators=[Length(max=NOTE_MAX)], render_kw={"rows": 2})
    base_version = HiddenField()
