"""Forms of the secretariat's administration pages."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    Field,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.enums import Level, OrganizationKind, Role, RoomRole, Sector, SubcommitteeKind
from portal.i18n import (
    LEVEL_LABELS,
    ORGANIZATION_KIND_LABELS,
    ROLE_LABELS,
    ROOM_ROLE_LABELS,
    SECTOR_LABELS,
    SUBCOMMITTEE_KIND_LABELS,
)

REQUIRED = _l("This field is required.")
#: One @, something before it, a dotted domain after it, no spaces. (wtforms' Email validator needs the
#: email_validator package, which the portal does not depend on: it raised on every invitation.)
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _add_error(field: Field, message: object) -> bool:
    """Show ``message`` under ``field`` unless it already shows an error; False, for ``validate``."""
    if not field.errors:
        field.errors = [str(message)]
    return False


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class OrganizationForm(FlaskForm):
    name_ja = StringField(_l("Name (Japanese)"), validators=[DataRequired(REQUIRED), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(REQUIRED), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=[(k.value, ORGANIZATION_KIND_LABELS[k]) for k in OrganizationKind])
    qualification_reference = StringField(
        _l("Qualification certificate (適合事業者)"), validators=[Optional(), Length(max=100)]
    )
    qualified_until = DateField(_l("Qualification valid until"), validators=[Optional()])
    #: Optional: a form without it (or with "—") records no sector.
    sector = SelectField(_l("Sector"), choices=[], validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sector.choices = sector_choices()

    def sector_value(self) -> Sector | None:
        return Sector(self.sector.data) if self.sector.data else None

    def validate(self, extra_validators: Any = None) -> bool:
        # Cross-field rules run here, not in validate_<field>: Optional() ends an empty field's
        # validation before such a method would run.
        valid = bool(super().validate(extra_validators))
        if (self.qualification_reference.data or "").strip() and self.qualified_until.data is None:
            valid = _add_error(self.qualified_until, _l("Give the last day the qualification is valid."))
        return valid


def sector_choices() -> list[tuple[str, Any]]:
    """No sector recorded, or one of the controlled vocabulary (Sector)."""
    return [("", "—"), *((sector.value, SECTOR_LABELS[sector]) for sector in Sector)]


class SectorForm(FlaskForm):
    sector = SelectField(_l("Sector"), choices=[])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sector.choices = sector_choices()


class QualificationForm(FlaskForm):
    reference = StringField(
        _l("Qualification certificate (適合事業者)"), validators=[Optional(), Length(max=100)]
    )
    valid_until = DateField(_l("Qualification valid until"), validators=[Optional()])
    #: "set" or "revoke": which of the form's two buttons was pressed.
    action = StringField(default="set")


class InvitationForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[
            DataRequired(REQUIRED),
            Regexp(EMAIL_PATTERN, message=_l("Enter a valid e-mail address.")),
            Length(max=254),
        ],
    )
    display_name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=200)])
    organization = SelectField(_l("Organisation"), choices=[])
    roles = CheckboxList(
        _l("Roles"),
        choices=[(r.value, ROLE_LABELS[r]) for r in Role],
        validators=[DataRequired(_l("Choose at least one role."))],
    )
    locale = SelectField(_l("Language"), choices=[("ja", "日本語"), ("en", "English")])


class AcceptInvitationForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(REQUIRED), Length(max=1024)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        _l("New password again"),
        validators=[DataRequired(REQUIRED), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class ClearanceForm(FlaskForm):
    level = SelectField(
        _l("Level"),
        coerce=int,
        choices=[(int(level), LEVEL_LABELS[int(level)]) for level in Level if level > 0],
    )
    evaluation_reference = StringField(
        _l("Suitability evaluation reference (適性評価)"), validators=[Optional(), Length(max=100)]
    )
    evaluated_on = DateField(_l("Evaluated on"), validators=[Optional()])
    expires_on = DateField(_l("Expires on"), validators=[Optional()])
    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(REQUIRED), Length(max=2000)], render_kw={"rows": 2}
    )

    def validate(self, extra_validators: Any = None) -> bool:
        # Cross-field rules run here, not in validate_<field>: Optional() ends an empty field's
        # validation before such a method would run.
        valid = bool(super().validate(extra_validators))
        if self.level.data == Level.CESI:
            if not (self.evaluation_reference.data or "").strip():
                valid = _add_error(
                    self.evaluation_reference,
                    _l("Critical Economic Security Information needs a suitability evaluation."),
                )
            if self.evaluated_on.data is None:
                valid = _add_error(self.evaluated_on, _l("Give the date of the suitability evaluation."))
        return valid


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(REQUIRED), Length(max=2000)], render_kw={"rows": 2}
    )


class CompartmentGrantForm(FlaskForm):
    caveat = SelectField(_l("Compartment"), choices=[])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=2000)])


class CaveatForm(FlaskForm):
    code = StringField(
        _l("Caveat code"),
        validators=[
            DataRequired(REQUIRED),
            Length(max=40),
            Regexp(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", message=_l("Use letters, digits, - and _ only.")),
        ],
    )
    name_ja = StringField(_l("Name (Japanese)"), validators=[DataRequired(REQUIRED), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(REQUIRED), Length(max=200)])

    def validate_code(self, field: StringField) -> None:
        if (field.data or "").strip().upper() == "GOV_ONLY":
            raise ValidationError(str(_l("This code is reserved.")))


class RoomForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[(k.value, SUBCOMMITTEE_KIND_LABELS[k]) for k in SubcommitteeKind])
    name_ja = StringField(_l("Name (Japanese)"), validators=[DataRequired(REQUIRED), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(REQUIRED), Length(max=200)])
    description_ja = TextAreaField(
        _l("Description (Japanese)"), validators=[Length(max=5000)], render_kw={"rows": 3}
    )
    description_en = TextAreaField(
        _l("Description (English)"), validators=[Length(max=5000)], render_kw={"rows": 3}
    )
    max_level = SelectField(
        _l("Highest level allowed"),
        coerce=int,
        choices=[(int(level), LEVEL_LABELS[int(level)]) for level in Level],
        default=int(Level.CONFIDENTIAL),
    )


class QuorumForm(FlaskForm):
    """A room's quorum: members (chairs and members, not observers) present for the meeting to decide."""

    quorum = StringField(
        _l("Quorum"),
        validators=[
            Optional(),
            Regexp(r"^\s*\d{1,4}\s*$", message=_l("Enter a whole number, or leave it empty for a majority.")),
        ],
        render_kw={"inputmode": "numeric", "size": 4},
    )

    def quorum_value(self) -> int | None:
        text = (self.quorum.data or "").strip()
        return int(text) if text else None


class MembershipForm(FlaskForm):
    room = SelectField(_l("Subcommittee"), choices=[])
    room_role = SelectField(
        _l("Role in the room"), choices=[(r.value, ROOM_ROLE_LABELS[r]) for r in RoomRole]
    )
