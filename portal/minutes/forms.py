"""Forms of the minutes: a portion with its marking, a workflow step, a review comment."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp

from portal.documents.forms import REQUIRED
from portal.meetings.forms import PartMarkingForm

VERSION = Regexp(r"^\d{1,9}$", message=_l("The form is out of date. Reload the page and try again."))


class PortionForm(PartMarkingForm):
    heading = StringField(_l("Heading (optional)"), validators=[Length(max=300)])
    body = TextAreaField(
        _l("Text"), validators=[DataRequired(REQUIRED), Length(max=50_000)], render_kw={"rows": 10}
    )
    #: The version of the minutes the edit started from (optimistic concurrency).
    base_version = HiddenField(validators=[DataRequired(REQUIRED), VERSION])


class StepForm(FlaskForm):
    """A button that changes the minutes (a step, a removal): the version it was shown at travels with it."""

    base_version = HiddenField(validators=[DataRequired(REQUIRED), VERSION])


class MoveForm(StepForm):
    direction = SelectField(choices=[("up", "up"), ("down", "down")], validators=[DataRequired(REQUIRED)])


class CommentForm(FlaskForm):
    body = TextAreaField(
        _l("Review comment"), validators=[DataRequired(REQUIRED), Length(max=10_000)], render_kw={"rows": 3}
    )
