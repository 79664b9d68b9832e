"""Export downloads: the minutes and the meeting pack, made for the one who asks, in PDF, DOCX or Markdown.

Each request builds the copy from what this reader may read (withheld parts become the notice), checks the
release marking of every included part (a refusal names the parts by position and is audited), renders,
registers the copy (export id, SHA-256) and sends it as an attachment that no cache keeps.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, abort, current_app, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.db import request_session
from portal.errors import render_error
from portal.exports import builders, service
from portal.exports.service import ExportContents, ExportFormat, ExportRefused
from portal.security.web import current_subject, performs

blueprint = Blueprint("exports", __name__)

FORMATS = {fmt.value: fmt for fmt in ExportFormat}


def _format(name: str) -> ExportFormat:
    found = FORMATS.get(name)
    if found is None:
        abort(404)
    return found


def _locale() -> str:
    return "en" if str(get_locale() or "ja") == "en" else "ja"


def _deliver(built: builders.BuiltExport, contents: ExportContents, fmt: ExportFormat, meeting_id: uuid.UUID
             ) -> ResponseReturnValue:  # fmt: skip
    session = request_session()
    subject = current_subject()
    try:
        service.require_release(
            session, subject, built.markings, object_type=contents.value, object_id=meeting_id
        )
    except ExportRefused as refused:
        return render_error(403, service.refusal_message(refused.check))
    rendered = service.export_document(
        session, subject, contents, built.document, fmt, current_app.config["PORTAL_SETTINGS"],
        meeting_id=meeting_id, minutes_revision=built.minutes_revision,
    )  # fmt: skip
    session.commit()
    response = Response(rendered.content, mimetype=rendered.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{rendered.file_name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/meetings/<uuid:meeting_id>/minutes/export.<name>")
@login_required
@performs("export.minutes")
def minutes_file(meeting_id: uuid.UUID, name: str) -> ResponseReturnValue:
    fmt = _format(name)
    revision = request.args.get("revision", type=int)
    try:
        built = builders.minutes_export(
            request_session(), current_subject(), current_user, meeting_id, revision, _locale()
        )
    except builders.NothingToExport:
        return render_error(409, _("Only published minutes can be exported."))
    return _deliver(built, ExportContents.MINUTES, fmt, meeting_id)


@blueprint.get("/meetings/<uuid:meeting_id>/pack.<name>")
@login_required
@performs("export.pack")
def pack_file(meeting_id: uuid.UUID, name: str) -> ResponseReturnValue:
    fmt = _format(name)
    built = builders.pack_export(request_session(), current_subject(), current_user, meeting_id, _locale())
    return _deliver(built, ExportContents.PACK, fmt, meeting_id)
