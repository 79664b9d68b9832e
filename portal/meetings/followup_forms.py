"""Forms of attendance, findings and action items (the marking fields come from PartMarkingForm)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.meetings.attendance import PROXY_NAME_MAX
from portal.meetings.findings import BODY_MAX, TITLE_MAX
from portal.meetings.forms import PartMarkingForm
from portal.meetings.models import ActionStatus, AttendanceResponse

REQUIRED = _l("This field is required.")

FormT = TypeVar("FormT", bound=FlaskForm)

RESPONSE_LABELS = {
    AttendanceResponse.ATTEND: _l("Attend"),
    AttendanceResponse.DECLINE: _l("Decline"),
    AttendanceResponse.PROXY: _l("By proxy"),
}

STATUS_LABELS = {
    ActionStatus.OPEN: _l("Open"),
    ActionStatus.IN_PROGRESS: _l("In progress"),
    ActionStatus.DONE: _l("Done"),
}

PRESENCE_CHOICES = [("", _l("Not recorded")), ("present", _l("Present")), ("absent", _l("Absent"))]

#: Where a status change returns to (a fixed choice, never a URL from the request).
RETURN_TO = ("findings", "actions")


class AnswerForm(FlaskForm):
    response = RadioField(
        _l("Your answer"),
        choices=[(response.value, RESPONSE_LABELS[response]) for response in AttendanceResponse],
        validators=[DataRequired(REQUIRED)],
    )
    proxy_name = StringField(_l("Proxy (name and organisation)"), validators=[Length(max=PROXY_NAME_MAX)])

    def validate_proxy_name(self, field: StringField) -> None:
        if self.response.data == AttendanceResponse.PROXY.value and not (field.data or "").strip():
            raise ValidationError(str(_l("Give the name of the person attending in your place.")))


class RecordAttendanceForm(FlaskForm):
    """One choice per current member (present, absent, not recorded), built for the room's members."""

    PREFIX = "present_"

    @classmethod
    def for_members(cls, user_ids: Iterable[uuid.UUID], **kwargs: Any) -> RecordAttendanceForm:
        fields = {
            f"{cls.PREFIX}{user_id.hex}": SelectField(choices=PRESENCE_CHOICES, default="")
            for user_id in user_ids
        }
        form_class = type("RecordAttendanceFormFor", (cls,), fields)
        form: RecordAttendanceForm = form_class(**kwargs)
        return form

    def field_of(self, user_id: uuid.UUID) -> Any:
        return self[f"{self.PREFIX}{user_id.hex}"]

    def fill(self, presence: dict[uuid.UUID, bool | None]) -> None:
        for user_id, present in presence.items():
            self.field_of(user_id).data = "" if present is None else "present" if present else "absent"

    def presence(self) -> dict[uuid.UUID, bool | None]:
        """The choices sent (a member the form did not carry is left as recorded)."""
        chosen: dict[uuid.UUID, bool | None] = {}
        for name, field in self._fields.items():
            if name.startswith(self.PREFIX) and field.raw_data:
                value = field.data or ""
                chosen[uuid.UUID(name.removeprefix(self.PREFIX))] = None if not value else value == "present"
        return chosen


class FindingForm(PartMarkingForm):
    body = TextAreaField(
        _l("Finding (Markdown)"),
        validators=[DataRequired(REQUIRED), Length(max=BODY_MAX)],
        render_kw={"rows": 6},
    )
    agenda_item = SelectField(_l("Agenda item"), choices=[])


class FindingEditForm(FindingForm):
    base_digest = HiddenField()


def status_choices() -> list[tuple[str, Any]]:
    return [(status.value, STATUS_LABELS[status]) for status in ActionStatus]


class ActionForm(PartMarkingForm):
    title = StringField(_l("Action item"), validators=[DataRequired(REQUIRED), Length(max=TITLE_MAX)])
    owner = SelectField(_l("Owner"), choices=[], validators=[DataRequired(REQUIRED)])
    due_on = DateField(_l("Due date"), validators=[Optional()])
    status = SelectField(_l("Status"), choices=status_choices(), default=ActionStatus.OPEN.value)
    finding = SelectField(_l("Finding it follows from"), choices=[])


class ActionEditForm(ActionForm):
    base_version = HiddenField()


class ActionStatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=status_choices())
    base_version = HiddenField(validators=[DataRequired()])
    return_to = HiddenField(default="findings")

    def validate_base_version(self, field: HiddenField) -> None:
        if not str(field.data or "").isdigit():
            raise ValidationError(str(_l("The form is out of date; reload the page.")))


def distinct_ids(form: FormT, prefix: str) -> FormT:
    """Give a form's fields ids of their own (the names stay, so what is posted does not change). The
    findings page shows the finding form, the action form and one status form per action item: without
    this they share ids (``level``, ``reason``, ``status``...) and a label names another form's field."""
    for field in form:
        field.id = field.label.field_id = f"{prefix}{field.name}"
    return form


def optional_id(value: str | None) -> uuid.UUID | None:
    """A chosen id from a select whose first choice is none (the choices were checked by the form)."""
    return uuid.UUID(value) if value else None
