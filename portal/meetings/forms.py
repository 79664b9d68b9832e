"""The marking fields every part of a meeting carries (agenda items, findings, action items, portions)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import Length, ValidationError

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
