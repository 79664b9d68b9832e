"""Calendar routes: a meeting's .ics, the secret feed a calendar app fetches, and managing one's feeds."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import notifications
from portal.accounts.forms import ConfirmForm
from portal.calendars import feeds, ics
from portal.db import request_session, utcnow
from portal.errors import render_error
from portal.security.audit import Actor
from portal.security.web import current_actor, current_subject, performs

blueprint = Blueprint("calendars", __name__)

CALENDAR_MIMETYPE = "text/calendar"


def _link_base() -> str:
    return notifications.link_base(current_app.config["PORTAL_SETTINGS"])


@blueprint.get("/meetings/<uuid:meeting_id>/meeting.ics")
@login_required
@performs("meeting.ics")
def meeting_ics(meeting_id: uuid.UUID) -> ResponseReturnValue:
    session = request_session()
    meeting_file = ics.meeting_file(session, current_subject(), meeting_id, _link_base())
    session.commit()
    response = Response(meeting_file.content, mimetype=CALENDAR_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{meeting_file.filename}"'
    return response  # Cache-Control: no-store is set on every response (portal.security.web)


@blueprint.get("/calendar/<token>.ics")
@performs("calendar.feed")
def feed(token: str) -> ResponseReturnValue:
    """No sign-in: the token is the credential (see portal.calendars.feeds for why that is acceptable)."""
    session = request_session()
    now = utcnow()
    opened = feeds.open_feed(session, token, request.remote_addr, now)
    user = opened.user
    actor = Actor(user_id=user.id, organization_id=user.organization_id, ip_address=request.remote_addr)
    feed_file = ics.feed_file(session, user, actor, _link_base(), now)
    feeds.record_fetch(session, opened, actor, feed_file.events)
    session.commit()
    response = Response(feed_file.content, mimetype=CALENDAR_MIMETYPE)
    response.headers["Content-Disposition"] = 'inline; filename="council-portal.ics"'
    return response


@blueprint.post("/account/calendar-feeds")
@login_required
@performs("calendar.feed_create")
def create_feed() -> ResponseReturnValue:
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_error(400)
    session = request_session()
    new = feeds.create_feed(session, current_user, current_actor())
    session.commit()
    address = _link_base() + url_for("calendars.feed", token=new.token)
    # Shown once, in this response only (never stored, never in a redirect or the session).
    return render_template("calendars/feed_created.html", address=address, feed=new.feed)


@blueprint.post("/account/calendar-feeds/<uuid:feed_id>/revoke")
@login_required
@performs("calendar.feed_revoke")
def revoke_feed(feed_id: uuid.UUID) -> ResponseReturnValue:
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_error(400)
    session = request_session()
    feeds.revoke_feed(session, current_user, feed_id, current_actor(), utcnow())
    session.commit()
    flash(_("The calendar address was revoked. Calendar apps using it get nothing more."), "success")
    return redirect(url_for("accounts.account"))
