"""The marking fields every part of a meeting carries (agenda items, findings, action items, portions)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from portal.documents.forms import CheckboxList
from portal.enums import Level, ReleaseMarking
from portal.i18n import LEVEL_LABELS, RELEASE_LABELS


class PartMarkingForm(FlaskForm):
    """A base form: subclasses add their own text fields. Choices of caveats, readers and organisations are
    set by the view (:func:`portal.meetings.parts.fill_marking_choices`)."""

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
    release_organizations = CheckboxList(_l("Organisations that may export it (TLP:AMBER)"), choices=[])
    reason = TextAreaField(
        _l("Reason for the classification"), validators=[Length(max=2000)], render_kw={"rows": 2}
    )

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
        if self.release.data == ReleaseMarking.RED.value and not field.data:
            raise ValidationError(str(_l("A TLP:RED part must name its readers.")))

    def marking_input(self) -> PartMarkingInput:
        return PartMarkingInput(
            level=Level(self.level.data),
            release=ReleaseMarking(self.release.data),
            caveat_codes=frozenset(self.caveats.data or ()),
            reader_ids=frozenset(uuid.UUID(value) for value in self.readers.data or ()),
            release_organization_ids=frozenset(
                uuid.UUID(value) for value in self.release_organizations.data or ()
            ),
            reason=(self.reason.data or "").strip() or None,
        )

    def fill_from(self, marking: PartMarkingInput) -> None:
        """Show a part's current marking (editing)."""
        self.level.data = int(marking.level)
        self.release.data = marking.release.value
        self.caveats.data = sorted(marking.caveat_codes)
        self.readers.data = sorted(str(value) for value in marking.reader_ids)
        self.release_organizations.data = sorted(str(value) for value in marking.release_organization_ids)
        self.reason.data = marking.reason or ""


@dataclass(frozen=True)
class PartMarkingInput:
    level: Level
    release: ReleaseMarking
    caveat_codes: frozenset[str]
    reader_ids: frozenset[uuid.UUID]
    release_organization_ids: frozenset[uuid.UUID]
    reason: str | None


# --- meetings and their agenda ----------------------------------------------------------------------------

REQUIRED = _l("This field is required.")
#: The longest meeting the form takes (a day-long workshop).
MAX_MEETING_MINUTES = 12 * 60


def _meeting_level_choices() -> list[tuple[int, str]]:
    """A meeting's level covers its title and place; it is never CESI (that belongs on the parts)."""
    return [(int(level), LEVEL_LABELS[int(level)]) for level in Level if level < Level.CESI]


class MeetingForm(FlaskForm):
    """Scheduling a meeting. The date and time are in the user's own time zone."""

    title = StringField(_l("Title"), validators=[DataRequired(REQUIRED), Length(max=300)])
    day = DateField(_l("Date"), validators=[DataRequired(REQUIRED)])
    start = TimeField(_l("Start time"), validators=[DataRequired(REQUIRED)])
    duration_minutes = IntegerField(
        _l("Length (minutes)"),
        validators=[
            InputRequired(REQUIRED),
            NumberRange(5, MAX_MEETING_MINUTES, _l("Between %(min)s and %(max)s minutes.")),
        ],
        default=120,
    )
    place = StringField(
        _l("Place or online meeting link"), validators=[DataRequired(REQUIRED), Length(max=1000)]
    )
    level = SelectField(
        _l("Classification level of the title and place"),
        coerce=int,
        choices=_meeting_level_choices(),
        default=int(Level.RESTRICTED),
    )


class MeetingEditForm(MeetingForm):
    #: The meeting's version the edit started from (optimistic concurrency).
    base_version = HiddenField()


class ConveneForm(MeetingForm):
    """招集: the same fields; the defaults are today, within hours, one hour long."""

    duration_minutes = IntegerField(
        _l("Length (minutes)"),
        validators=[
            InputRequired(REQUIRED),
            NumberRange(5, MAX_MEETING_MINUTES, _l("Between %(min)s and %(max)s minutes.")),
        ],
        default=60,
    )


class AgendaItemForm(PartMarkingForm):
    """An agenda item: its text, its length, its marking and the material linked to it. The material offered
    is only what the user may read (set by the view)."""

    title = StringField(_l("Agenda item"), validators=[DataRequired(REQUIRED), Length(max=300)])
    presenter = StringField(_l("Presenter"), validators=[Length(max=200)])
    duration_minutes = IntegerField(
        _l("Duration (minutes)"),
        validators=[
            InputRequired(REQUIRED),
            NumberRange(1, MAX_MEETING_MINUTES, _l("Between %(min)s and %(max)s minutes.")),
        ],
        default=10,
    )
    documents = CheckboxList(_l("Linked documents of this subcommittee"), choices=[])
    outputs = CheckboxList(_l("Linked think-tank outputs"), choices=[])

    def document_ids(self) -> frozenset[uuid.UUID]:
        return frozenset(uuid.UUID(value) for value in self.documents.data or ())

    def output_ids(self) -> frozenset[uuid.UUID]:
        return frozenset(uuid.UUID(value) for value in self.outputs.data or ())


class MoveForm(FlaskForm):
    direction = SelectField(choices=[("up", "up"), ("down", "down")], validators=[DataRequired(REQUIRED)])
