"""Document pages: create one in a room, read one."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from portal.accounts.models import User
from portal.db import request_session, utcnow
from portal.documents import service
from portal.documents.forms import DocumentForm
from portal.enums import Level, ReleaseMarking
from portal.i18n import REASON_MESSAGES
from portal.rooms import service as rooms
from portal.security import policy
from portal.security.web import current_subject, performs

blueprint = Blueprint("documents", __name__)


def _document_form(room_id: uuid.UUID) -> DocumentForm:
    subject = current_subject()
    form = DocumentForm()
    form.caveats.choices = [
        (c.code, f"{c.code} — {c.name('ja')}") for c in service.selectable_caveats(request_session(), subject)
    ]
    members = rooms.current_members(request_session(), room_id, utcnow())
    form.readers.choices = [
        (str(m.user_id), f"{m.user.display_name} ({m.user.organization.name_ja})") for m in members
    ]
    return form


@blueprint.route("/rooms/<uuid:room_id>/documents/new", methods=["GET", "POST"])
@login_required
@performs("document.create")
def create(room_id: uuid.UUID) -> ResponseReturnValue:
    subject = current_subject()
    room = rooms.open_room(request_session(), subject, room_id)
    policy.require(
        request_session(),
        subject,
        policy.decide_create_document(subject, room),
        object_type="room",
        object_id=room.id,
    )
    form = _document_form(room.id)
    status = 200
    if form.validate_on_submit():
        new = service.NewDocument(
            title=form.title.data or "",
            body=form.body.data or "",
            level=Level(form.level.data),
            release=ReleaseMarking(form.release.data),
            caveat_codes=frozenset(form.caveats.data or []),
            reader_ids=frozenset(uuid.UUID(value) for value in form.readers.data or []),
            reason=form.reason.data,
            review_on=form.review_on.data,
        )
        try:
            document = service.create_document(request_session(), subject, room, new)
        except policy.AccessDenied as denied:
            request_session().rollback()
            form.form_errors.append(str(REASON_MESSAGES.get(denied.decision.reason, denied.decision.reason)))
            status = 403
        else:
            request_session().commit()
            flash(_("The document was created."), "success")
            return redirect(url_for("documents.show", room_id=room.id, document_id=document.id))
    elif form.is_submitted():
        status = 400
    return render_template("documents/new.html", room=room, form=form), status


@blueprint.get("/rooms/<uuid:room_id>/documents/<uuid:document_id>")
@login_required
@performs("document.read")
def show(room_id: uuid.UUID, document_id: uuid.UUID) -> ResponseReturnValue:
    subject = current_subject()
    opened = service.open_document(request_session(), subject, document_id)
    document = opened.document
    if document.subcommittee_id != room_id:
        abort(404)
    room = rooms.open_room(request_session(), subject, room_id)
    readers = [request_session().get(User, reader_id) for reader_id in document.named_reader_ids]
    classified_by = request_session().get(User, document.classified_by_id)
    return render_template(
        "documents/show.html",
        room=room,
        document=document,
        text=opened.text,
        readers=readers,
        classified_by=classified_by,
    )
