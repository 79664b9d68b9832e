"""The form for a new document, with its marking."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    MultipleFileField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.enums import Level, ReleaseMarking
from portal.i18n import LEVEL_LABELS, RELEASE_LABELS

REQUIRED = _l("This field is required.")


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DocumentForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(REQUIRED), Length(max=300)])
    body = TextAreaField(_l("Text"), validators=[Length(max=200_000)], render_kw={"rows": 12})
    level = SelectField(
        _l("Classification level"),
        coerce=int,
        choices=[(int(level), LEVEL_LABELS[int(level)]) for level in Level],
        default=int(Level.RESTRICTED),
    )
    release = SelectField(
        _l("Release marking (TLP)"),
        choices=[(marking.value, RELEASE_LABELS[marking]) for marking in ReleaseMarking],
        default=ReleaseMarking.GREEN.value,
    )
    caveats = CheckboxList(_l("Caveats"), choices=[])
    readers = CheckboxList(_l("Named readers (need-to-know)"), choices=[])
    reason = TextAreaField(
        _l("Reason for the classification"), validators=[Length(max=2000)], render_kw={"rows": 2}
    )
    review_on = DateField(_l("Review or declassify on"), validators=[Optional()])

    def validate_reason(self, field: TextAreaField) -> None:
        if (
            self.level.data is not None
            and self.level.data >= Level.CONFIDENTIAL
            and not (field.data or "").strip()
        ):
            raise ValidationError(str(_l("A reason is required at Confidential and above.")))

    def validate_readers(self, field: CheckboxList) -> None:
        if self.level.data == Level.CESI and not field.data:
            raise ValidationError(str(_l("Critical Economic Security Information must name its readers.")))


class EditForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(REQUIRED), Length(max=300)])
    body = TextAreaField(_l("Text"), validators=[Length(max=200_000)], render_kw={"rows": 16})
    summary = StringField(_l("What changed"), validators=[Length(max=300)])
    #: The version the edit started from (optimistic concurrency).
    base_version = HiddenField(validators=[DataRequired(REQUIRED)])


class CommentForm(FlaskForm):
    body = TextAreaField(
        _l("Comment"), validators=[DataRequired(REQUIRED), Length(max=10_000)], render_kw={"rows": 3}
    )


class AttachmentForm(FlaskForm):
    files = MultipleFileField(_l("Files"), validators=[DataRequired(_l("Choose at least one file."))])


class ReclassifyForm(FlaskForm):
    level = SelectField(
        _l("New classification level"),
        coerce=int,
        choices=[(int(level), LEVEL_LABELS[int(level)]) for level in Level if level != Level.PUBLIC],
    )
    reason = TextAreaField(
        _l("Reason for the change"),
        validators=[DataRequired(_l("Say why the classification changes.")), Length(max=2000)],
        render_kw={"rows": 2},
    )
    review_on = DateField(_l("Review or declassify on"), validators=[Optional()])


class DeclassifyForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for declassification"),
        validators=[DataRequired(_l("Say why the document may be made public.")), Length(max=2000)],
        render_kw={"rows": 2},
    )
    confirm = BooleanField(
        _l("I confirm that this document may be read by every member of the room, without clearance."),
        validators=[DataRequired(_l("Confirm the declassification."))],
    )
