"""Forms of the sign-in flow and the account page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from portal.accounts.timezones import COMMON_TIME_ZONES, is_valid_zone
from portal.security import passwords

REQUIRED = _l("This field is required.")


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=1024)])


class SecondFactorForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(REQUIRED), Length(max=20)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True},
    )


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(REQUIRED), Length(max=1024)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        _l("New password again"),
        validators=[DataRequired(REQUIRED), EqualTo("new_password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_new_password(self, field: PasswordField) -> None:
        try:
            passwords.check_new_password(field.data or "")
        except passwords.PasswordRejected as rejected:
            raise ValidationError(str(PASSWORD_RULE_MESSAGES[rejected.code])) from rejected


PASSWORD_RULE_MESSAGES = {
    "too_short": _l("Use at least 12 characters."),
    "too_long": _l("That password is too long."),
    "too_common": _l("That password is too common. Choose one that is harder to guess."),
}


class LocaleForm(FlaskForm):
    locale = HiddenField(validators=[DataRequired(REQUIRED)])
    next = HiddenField()


class ConfirmForm(FlaskForm):
    """A button that changes state: only the CSRF token travels with it."""


class TimeZoneForm(FlaskForm):
    """Where the user reads and types times (meetings are stored in UTC)."""

    time_zone = SelectField(
        _l("Time zone"),
        choices=[(zone, zone) for zone in COMMON_TIME_ZONES],
        validators=[DataRequired(REQUIRED)],
    )

    def validate_time_zone(self, field: SelectField) -> None:
        if not is_valid_zone(field.data or ""):
            raise ValidationError(str(_l("Choose a time zone from the list.")))
