"""Sign-in (password, then TOTP or enrolment), sign-out, the account page and the language switch."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.accounts import admin_service, service
from portal.accounts.admin_forms import AcceptInvitationForm
from portal.accounts.forms import (
    ConfirmForm,
    LocaleForm,
    LoginForm,
    PasswordChangeForm,
    SecondFactorForm,
    TimeZoneForm,
)
from portal.accounts.models import User
from portal.calendars import feeds as calendar_feeds
from portal.db import request_session, utcnow
from portal.errors import render_error
from portal.rooms import service as rooms_service
from portal.security import mfa, passwords, throttle
from portal.security.throttle import ThrottleRules
from portal.security.web import (
    current_actor,
    current_session,
    current_subject,
    login_manager,
    pending_user,
    performs,
)

blueprint = Blueprint("accounts", __name__)

ACCOUNT_ERRORS = {
    "wrong_current_password": _l("The current password is not correct."),
    "password_too_short": _l("Use at least 12 characters."),
    "password_too_long": _l("That password is too long."),
    "password_too_common": _l("That password is too common. Choose one that is harder to guess."),
    "password_contains_email": _l("The password must not contain your e-mail address."),
    "unknown_locale": _l("That language is not available."),
    "unknown_time_zone": _l("Choose a time zone from the list."),
}


def _throttle_rules() -> ThrottleRules:
    settings = current_app.config["PORTAL_SETTINGS"]
    return ThrottleRules(
        window=timedelta(minutes=settings.throttle_window_minutes),
        lockout=timedelta(minutes=settings.throttle_lockout_minutes),
        max_failures_per_account=settings.max_failures_per_account,
        max_failures_per_ip=settings.max_failures_per_ip,
    )


def _safe_next(target: str | None) -> str:
    """Only a local path may be a redirect target (no open redirect)."""
    if not target:
        return url_for("rooms.overview")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("rooms.overview")
    return target


@login_manager.unauthorized_handler
def _unauthorized() -> ResponseReturnValue:
    portal_session = current_session()
    if portal_session.expired_reason == "idle":
        minutes = current_app.config["PORTAL_SETTINGS"].idle_timeout_minutes
        flash(
            _(
                "You were signed out after %(minutes)d minutes without activity. Please sign in again.",
                minutes=minutes,
            ),
            "warning",
        )
    elif portal_session.expired_reason == "absolute":
        flash(_("Your session reached its maximum length. Please sign in again."), "warning")
    else:
        flash(_("Please sign in to continue."), "info")
    portal_session["next"] = request.full_path if request.method == "GET" else None
    return redirect(url_for("accounts.login"))


@blueprint.route("/login", methods=["GET", "POST"])
@performs("session.sign_in")
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("rooms.overview"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        outcome = service.check_password_sign_in(
            request_session(),
            form.email.data or "",
            form.password.data or "",
            request.remote_addr or "unknown",
            _throttle_rules(),
            actor=current_actor(),
        )
        request_session().commit()
        if outcome.status == "ok" and outcome.user is not None:
            user = outcome.user
            settings = current_app.config["PORTAL_SETTINGS"]
            service.purge_expired_sessions(
                request_session(),
                utcnow(),
                idle=timedelta(minutes=settings.idle_timeout_minutes),
                absolute=timedelta(hours=settings.absolute_timeout_hours),
            )
            request_session().commit()
            portal_session = current_session()
            portal_session["password_verified_at"] = utcnow().isoformat()
            portal_session.promote(user.id, "mfa" if user.mfa_enrolled else "enrol", utcnow())
            return redirect(url_for("accounts.second_factor" if user.mfa_enrolled else "accounts.enrol"))
        if outcome.status == "throttled":
            minutes = (
                max(1, -(-service.seconds_until(outcome.locked_until) // 60)) if outcome.locked_until else 15
            )
            form.form_errors.append(
                _(
                    "Too many failed sign-in attempts. Sign-in is paused; try again in %(minutes)d minutes.",
                    minutes=minutes,
                )
            )
            status = 429
        else:
            form.form_errors.append(_("The e-mail address or password is not correct."))
            status = 401
        form.password.data = ""
    elif request.method == "POST":
        status = 400
    return render_template("accounts/login.html", form=form), status


def _pending_or_restart() -> User | None:
    user = pending_user()
    if user is None:
        return None
    settings = current_app.config["PORTAL_SETTINGS"]
    started = current_session().get("password_verified_at")
    if not started or utcnow() - datetime.fromisoformat(started) > timedelta(
        minutes=settings.mfa_pending_minutes if current_session().stage == "mfa" else 30
    ):
        current_session().end()
        return None
    return user


def _finish_sign_in(user: User, target: str | None = None) -> ResponseReturnValue:
    portal_session = current_session()
    next_page = _safe_next(portal_session.pop("next", None))
    target = target or next_page
    portal_session.pop("password_verified_at", None)
    portal_session.pop("enrol_secret", None)
    portal_session.pop("enrol_secret_sealed", None)
    portal_session.promote(user.id, "active", utcnow())
    user.last_seen_at = utcnow()
    service.audit_account_event(request_session(), current_actor(), "session.sign_in", user=user)
    request_session().commit()
    return redirect(target)


@blueprint.route("/login/mfa", methods=["GET", "POST"])
@performs("session.second_factor")
def second_factor() -> ResponseReturnValue:
    user = _pending_or_restart()
    if user is None or current_session().stage != "mfa":
        flash(_("Please sign in again."), "info")
        return redirect(url_for("accounts.login"))
    form = SecondFactorForm()
    status = 200
    if form.validate_on_submit():
        outcome = service.check_second_factor(request_session(), user, form.code.data or "")
        if outcome.accepted:
            if outcome.used_recovery_code:
                flash(
                    _(
                        "You signed in with a recovery code. %(count)d codes are left.",
                        count=outcome.recovery_codes_left,
                    ),
                    "warning",
                )
            return _finish_sign_in(user)
        service.audit_account_event(
            request_session(),
            current_actor(),
            "session.second_factor",
            allowed=False,
            reason="MFA_REPLAY" if outcome.replayed else "MFA_FAILED",
            user=user,
        )
        request_session().rollback()
        # Wrong codes count toward the account's sign-in limit, like wrong passwords.
        locked = throttle.record_failure(
            request_session(), user.email, request.remote_addr or "unknown", utcnow(), _throttle_rules()
        )
        request_session().commit()
        if locked is not None:
            current_session().end()
            flash(_("Too many wrong codes. Sign-in is paused; try again later."), "error")
            return redirect(url_for("accounts.login"))
        if outcome.replayed:
            form.code.errors = [_("This code has already been used. Wait for the next code.")]
        else:
            form.code.errors = [_("The code is not correct.")]
        form.code.data = ""
        status = 401
    elif form.is_submitted():
        status = 400
    return render_template("accounts/mfa.html", form=form), status


@blueprint.route("/enrol", methods=["GET", "POST"])
@performs("account.mfa_enrol")
def enrol() -> ResponseReturnValue:
    user = _pending_or_restart()
    if user is None or current_session().stage != "enrol":
        flash(_("Please sign in again."), "info")
        return redirect(url_for("accounts.login"))
    portal_session = current_session()
    # The session is stored in the database: the secret being enrolled is kept there sealed only.
    portal_session.pop("enrol_secret", None)  # (plaintext, from before secrets were sealed)
    stored = portal_session.get("enrol_secret_sealed")
    if stored:
        secret = service.open_pending_secret(request_session(), user, stored)
    else:
        secret = mfa.new_secret()
        portal_session["enrol_secret_sealed"] = service.seal_pending_secret(request_session(), user, secret)
        request_session().commit()
    form = SecondFactorForm()
    status = 200
    if form.validate_on_submit():
        codes = service.complete_enrolment(request_session(), user, secret, form.code.data or "")
        if codes is not None:
            portal_session["recovery_codes_sealed"] = service.seal_recovery_codes(
                request_session(), user, codes
            )
            service.audit_account_event(request_session(), current_actor(), "account.mfa_enrol", user=user)
            return _finish_sign_in(user, url_for("accounts.recovery_codes"))
        form.code.errors = [_("The code is not correct. Check the time on your device and try again.")]
        form.code.data = ""
        status = 400
    uri = mfa.provisioning_uri(secret, user.email)
    return (
        render_template(
            "accounts/enrol.html",
            form=form,
            qr_data_uri=mfa.qr_svg_data_uri(uri),
            secret_groups=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        ),
        status,
    )


@blueprint.route("/enrol/recovery-codes", methods=["GET", "POST"])
@login_required
@performs("account.recovery_codes")
def recovery_codes() -> ResponseReturnValue:
    portal_session = current_session()
    form = ConfirmForm()
    if form.validate_on_submit():
        portal_session.pop("recovery_codes_sealed", None)
        return redirect(url_for("rooms.overview"))
    stored = portal_session.get("recovery_codes_sealed")
    if not stored:
        return redirect(url_for("rooms.overview"))
    codes = service.open_recovery_codes(request_session(), current_user, stored)
    return render_template("accounts/recovery_codes.html", codes=codes, form=form)


@blueprint.post("/logout")
@performs("session.sign_out")
def logout() -> ResponseReturnValue:
    form = ConfirmForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            service.audit_account_event(
                request_session(),
                current_actor(),
                "session.sign_out",
                user=current_user,
                survives_rollback=True,
            )
        current_session().end()
        flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))


def _render_account(
    password_form: PasswordChangeForm | None = None,
    status: int = 200,
    time_zone_form: TimeZoneForm | None = None,
) -> ResponseReturnValue:
    user: User = current_user
    now = utcnow()
    if time_zone_form is None:
        time_zone_form = TimeZoneForm(formdata=None)
        time_zone_form.time_zone.data = user.time_zone
    return (
        render_template(
            "accounts/account.html",
            user=user,
            clearance=service.current_clearance(user, now),
            compartments=admin_service.held_compartments(request_session(), user, now),
            rooms=rooms_service.rooms_for(request_session(), current_subject(), now),
            sessions=service.active_sessions(request_session(), user),
            calendar_feeds=calendar_feeds.active_feeds(request_session(), user),
            current_session_id=current_session().record_id,
            password_form=password_form or PasswordChangeForm(formdata=None),
            confirm_form=ConfirmForm(formdata=None),
            time_zone_form=time_zone_form,
            now=now,
        ),
        status,
    )


@blueprint.get("/account")
@login_required
@performs("account.view")
def account() -> ResponseReturnValue:
    return _render_account()


@blueprint.post("/account/time-zone")
@login_required
@performs("account.set_time_zone")
def set_time_zone() -> ResponseReturnValue:
    """Where the user reads and types times (meetings are entered and shown in this zone)."""
    form = TimeZoneForm()
    if not form.validate_on_submit():
        return _render_account(status=400, time_zone_form=form)
    service.set_time_zone(request_session(), current_actor(), current_user, form.time_zone.data or "")
    request_session().commit()
    flash(_("Times are now shown in %(zone)s.", zone=form.time_zone.data), "success")
    return redirect(url_for("accounts.account"))


@blueprint.post("/account/sessions/revoke-others")
@login_required
@performs("session.revoke_others")
def revoke_other_sessions() -> ResponseReturnValue:
    form = ConfirmForm()
    if form.validate_on_submit():
        count = service.revoke_other_sessions(request_session(), current_user, current_session().record_id)
        service.audit_account_event(
            request_session(), current_actor(), "session.revoke_others", user=current_user
        )
        request_session().commit()
        flash(_("Signed out of %(count)d other sessions.", count=count), "success")
    return redirect(url_for("accounts.account"))


@blueprint.post("/account/password")
@login_required
@performs("account.password_change")
def change_password() -> ResponseReturnValue:
    form = PasswordChangeForm()
    valid = form.validate_on_submit()
    user: User = current_user
    # Said together with the other problems, so the user fixes everything in one go.
    current = form.current_password.data
    if form.is_submitted() and current and not passwords.verify_password(user.password_hash, current):
        form.current_password.errors = [
            *form.current_password.errors,
            str(ACCOUNT_ERRORS["wrong_current_password"]),
        ]
        valid = False
    if valid:
        try:
            service.change_password(
                request_session(),
                current_user,
                form.current_password.data or "",
                form.new_password.data or "",
                keep_session_id=current_session().record_id,
            )
        except service.AccountError as error:
            request_session().rollback()
            target = form.current_password if error.code == "wrong_current_password" else form.new_password
            target.errors = [str(ACCOUNT_ERRORS[error.code])]
            return _render_account(form, 400)
        service.audit_account_event(
            request_session(), current_actor(), "account.password_change", user=current_user
        )
        request_session().commit()
        flash(_("Your password was changed. Every other session was signed out."), "success")
        return redirect(url_for("accounts.account"))
    return _render_account(form, 400)


@blueprint.route("/invite/<token>", methods=["GET", "POST"])
@performs("account.invitation_accept")
def accept_invitation(token: str) -> ResponseReturnValue:
    """A one-time link: set a password, then enrol MFA at once."""
    invitation = admin_service.find_invitation(request_session(), token, utcnow())
    if invitation is None:
        return render_error(
            404, str(_l("This invitation link is not valid. It may have expired or been used."))
        )
    form = AcceptInvitationForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = admin_service.accept_invitation(
                request_session(), invitation, form.password.data or "", current_actor()
            )
        except admin_service.AdminError as error:
            request_session().rollback()
            form.password.errors = [str(ACCOUNT_ERRORS[error.code])]
            status = 400
        else:
            request_session().commit()
            portal_session = current_session()
            portal_session["password_verified_at"] = utcnow().isoformat()
            portal_session.promote(user.id, "enrol", utcnow())
            return redirect(url_for("accounts.enrol"))
    elif form.is_submitted():
        status = 400
    return render_template("accounts/invitation.html", form=form, user=invitation.user), status


@blueprint.post("/locale")
@performs("account.set_locale")
def switch_locale() -> ResponseReturnValue:
    form = LocaleForm()
    if form.validate_on_submit() and form.locale.data in service.SUPPORTED_LOCALES:
        locale = form.locale.data
        current_session()["locale"] = locale
        if current_user.is_authenticated:
            service.set_locale(current_user, locale)
            request_session().commit()
    return redirect(_safe_next(form.next.data))
