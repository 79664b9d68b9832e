"""Document pages: create one in a room, read one."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from portal.accounts.forms import ConfirmForm
from portal.accounts.models import User
from portal.db import request_session, utcnow
from portal.documents import attachments, classification, service
from portal.documents.forms import (
    AttachmentForm,
    CommentForm,
    DeclassifyForm,
    DocumentForm,
    EditForm,
    ReclassifyForm,
)
from portal.enums import Level, ReleaseMarking
from portal.errors import render_error
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
    return _render_document(room_id, document_id)


def _render_document(
    room_id: uuid.UUID,
    document_id: uuid.UUID,
    comment_form: CommentForm | None = None,
    status: int = 200,
    *,
    attachment_form: AttachmentForm | None = None,
    attachment_errors: list[str] | None = None,
    reclassify_form: ReclassifyForm | None = None,
    declassify_form: DeclassifyForm | None = None,
) -> ResponseReturnValue:
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
        can_edit=policy.decide_edit_document(subject, document).allowed,
        can_comment=policy.decide_comment(subject, document).allowed,
        comments=service.comments(request_session(), opened.grant, document),
        comment_form=comment_form or CommentForm(formdata=None),
        attachments=attachments.list_attachments(request_session(), opened.grant, document),
        attachment_form=attachment_form or AttachmentForm(formdata=None),
        attachment_errors=attachment_errors or [],
        reclassifications=classification.history(request_session(), opened.grant, document),
        can_declassify=policy.decide_declassify(subject, document).allowed,
        reclassify_form=reclassify_form or _reclassify_form(document.level),
        declassify_form=declassify_form or DeclassifyForm(formdata=None),
    ), status


def _reclassify_form(level: Level) -> ReclassifyForm:
    form = ReclassifyForm(formdata=None)
    form.level.data = int(level) if level != Level.PUBLIC else int(Level.RESTRICTED)
    return form


def _edit_page(room_id: uuid.UUID, document_id: uuid.UUID) -> tuple[Any, Any]:
    subject = current_subject()
    room = rooms.open_room(request_session(), subject, room_id)
    opened = service.open_document(request_session(), subject, document_id)
    if opened.document.subcommittee_id != room.id:
        abort(404)
    return room, opened


@blueprint.route("/rooms/<uuid:room_id>/documents/<uuid:document_id>/edit", methods=["GET", "POST"])
@login_required
@performs("document.edit")
def edit(room_id: uuid.UUID, document_id: uuid.UUID) -> ResponseReturnValue:
    room, opened = _edit_page(room_id, document_id)
    subject = current_subject()
    policy.require(
        request_session(),
        subject,
        policy.decide_edit_document(subject, opened.document),
        object_type="document",
        object_id=opened.document.id,
    )
    form = EditForm()
    if not form.is_submitted():
        form.title.data = opened.text.title
        form.body.data = opened.text.body
        form.base_version.data = str(opened.document.version)
    status = 200
    if form.validate_on_submit():
        try:
            service.edit_document(
                request_session(),
                subject,
                document_id,
                base_version=int(form.base_version.data or 0),
                title=form.title.data or "",
                body=form.body.data or "",
                summary=(form.summary.data or "").strip() or None,
            )
        except service.EditConflict as conflict:
            request_session().rollback()
            # Keep what the user typed; let them save it deliberately on top of the newer version.
            form.base_version.data = str(conflict.current_version)
            return (
                render_template(
                    "documents/conflict.html",
                    room=room,
                    document=opened.document,
                    form=form,
                    current=conflict.current,
                    current_version=conflict.current_version,
                    rows=service.side_by_side(conflict.current.body, form.body.data or ""),
                ),
                409,
            )
        request_session().commit()
        flash(_("The document was saved as a new version."), "success")
        return redirect(url_for("documents.show", room_id=room.id, document_id=document_id))
    elif form.is_submitted():
        status = 400
    return render_template("documents/edit.html", room=room, document=opened.document, form=form), status


@blueprint.get("/rooms/<uuid:room_id>/documents/<uuid:document_id>/history")
@login_required
@performs("document.read")
def history(room_id: uuid.UUID, document_id: uuid.UUID) -> ResponseReturnValue:
    room, opened = _edit_page(room_id, document_id)
    versions = service.versions(request_session(), opened.grant, opened.document)
    by_number = {v.version.number: v for v in versions}
    left = by_number.get(request.args.get("a", type=int) or 0)
    right = by_number.get(request.args.get("b", type=int) or 0)
    rows = service.side_by_side(left.body, right.body) if left and right else None
    subject = current_subject()
    return render_template(
        "documents/history.html",
        room=room,
        document=opened.document,
        text=opened.text,
        versions=versions,
        left=left,
        right=right,
        rows=rows,
        can_edit=policy.decide_edit_document(subject, opened.document).allowed,
        confirm_form=ConfirmForm(formdata=None),
    )


@blueprint.post("/rooms/<uuid:room_id>/documents/<uuid:document_id>/versions/<int:number>/restore")
@login_required
@performs("document.edit")
def restore(room_id: uuid.UUID, document_id: uuid.UUID, number: int) -> ResponseReturnValue:
    room, _opened = _edit_page(room_id, document_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    service.restore_version(request_session(), current_subject(), document_id, number)
    request_session().commit()
    flash(_("Version %(number)d was restored as a new version.", number=number), "success")
    return redirect(url_for("documents.history", room_id=room.id, document_id=document_id))


@blueprint.post("/rooms/<uuid:room_id>/documents/<uuid:document_id>/comments")
@login_required
@performs("document.comment")
def comment(room_id: uuid.UUID, document_id: uuid.UUID) -> ResponseReturnValue:
    room, _opened = _edit_page(room_id, document_id)
    form = CommentForm()
    if not form.validate_on_submit():
        return _render_document(room.id, document_id, comment_form=form, status=400)
    service.add_comment(request_session(), current_subject(), document_id, form.body.data or "")
    request_session().commit()
    flash(_("Your comment was added."), "success")
    return redirect(url_for("documents.show", room_id=room.id, document_id=document_id) + "#comments")


# --- attachments ------------------------------------------------------------------------------------


def _require(decide: Any, document: service.Document) -> None:
    """A change the user may not make on a document they can read: 403 before the form is looked at."""
    subject = current_subject()
    policy.require(
        request_session(), subject, decide(subject, document), object_type="document", object_id=document.id
    )


ATTACHMENT_REFUSALS = {
    "empty": _l("%(name)s is empty."),
    "not_allowed": _l(
        "%(name)s is not an accepted kind of file (PDF, Office documents, CSV, images, plain text)."
    ),
    "macros": _l("%(name)s contains macros; save it without macros and try again."),
}


@blueprint.post("/rooms/<uuid:room_id>/documents/<uuid:document_id>/attachments")
@login_required
@performs("document.attach")
def attach(room_id: uuid.UUID, document_id: uuid.UUID) -> ResponseReturnValue:
    room, opened = _edit_page(room_id, document_id)
    _require(policy.decide_edit_document, opened.document)
    form = AttachmentForm()
    if not form.validate_on_submit():
        return _render_document(room.id, document_id, status=400, attachment_form=form)
    uploads = [
        attachments.Upload(storage.stream, storage.filename or "")
        for storage in request.files.getlist(form.files.name)
        if storage.filename
    ]
    settings = current_app.config["PORTAL_SETTINGS"]
    try:
        attachments.add_attachments(
            request_session(), current_subject(), document_id, uploads, settings.max_request_mb * 1024 * 1024
        )
    except attachments.AttachmentRefused as refused:
        request_session().rollback()
        if refused.reason == "too_large":
            return render_error(413)
        message = ATTACHMENT_REFUSALS[refused.reason] % {"name": refused.filename}
        return _render_document(room.id, document_id, status=400, attachment_errors=[str(message)])
    request_session().commit()
    flash(_("%(count)d file(s) attached.", count=len(uploads)), "success")
    return redirect(url_for("documents.show", room_id=room.id, document_id=document_id) + "#attachments")


def _content_disposition(filename: str) -> str:
    """`attachment` always (never shown inline), with an ASCII fallback and the UTF-8 name (RFC 6266)."""
    fallback = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in '"\\;' else "_" for ch in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@blueprint.get("/rooms/<uuid:room_id>/documents/<uuid:document_id>/attachments/<uuid:attachment_id>")
@login_required
@performs("document.download")
def download(room_id: uuid.UUID, document_id: uuid.UUID, attachment_id: uuid.UUID) -> ResponseReturnValue:
    session = request_session()
    subject = current_subject()
    opened = attachments.open_download(session, subject, room_id, document_id, attachment_id)
    session.commit()  # the download is on the record before a byte is sent
    attachments.verify(session, opened)
    response = Response(
        stream_with_context(attachments.plaintext_chunks(session, opened)),
        mimetype=opened.attachment.content_type,
    )
    response.headers["Content-Disposition"] = _content_disposition(opened.filename)
    response.headers["Content-Length"] = str(opened.attachment.size)  # nosniff: on every response
    return response


# --- reclassification -------------------------------------------------------------------------------


def _change_classification(
    room_id: uuid.UUID,
    document_id: uuid.UUID,
    form: ReclassifyForm | DeclassifyForm,
    change: Callable[[], object],
    done: str,
) -> ResponseReturnValue:
    """Run a reclassification or declassification; a refusal shows the form again with the typed text and
    the reason (403), or answers 404 when the document is not to be known."""
    form_name = "reclassify_form" if isinstance(form, ReclassifyForm) else "declassify_form"
    if not form.validate_on_submit():
        return _render_document(room_id, document_id, status=400, **{form_name: form})
    try:
        change()
    except policy.AccessDenied as denied:
        request_session().rollback()
        if denied.conceal:
            raise
        form.form_errors.append(str(REASON_MESSAGES.get(denied.decision.reason, denied.decision.reason)))
        return _render_document(room_id, document_id, status=403, **{form_name: form})
    request_session().commit()
    flash(done, "success")
    return redirect(url_for("documents.show", room_id=room_id, document_id=document_id))


@blueprint.post("/rooms/<uuid:room_id>/documents/<uuid:document_id>/reclassify")
@login_required
@performs("document.reclassify")
def reclassify(room_id: uuid.UUID, document_id: uuid.UUID) -> ResponseReturnValue:
    room, opened = _edit_page(room_id, document_id)
    _require(policy.decide_edit_document, opened.document)
    form = ReclassifyForm()
    return _change_classification(
        room.id, document_id, form,
        lambda: classification.reclassify(
            request_session(), current_subject(), room, document_id,
            new_level=Level(form.level.data), reason=form.reason.data or "", review_on=form.review_on.data,
        ),
        _("The classification was changed."),
    )  # fmt: skip


@blueprint.post("/rooms/<uuid:room_id>/documents/<uuid:document_id>/declassify")
@login_required
@performs("document.declassify")
def declassify(room_id: uuid.UUID, document_id: uuid.UUID) -> ResponseReturnValue:
    room, opened = _edit_page(room_id, document_id)
    _require(policy.decide_declassify, opened.document)
    form = DeclassifyForm()
    return _change_classification(
        room.id, document_id, form,
        lambda: classification.declassify(
            request_session(), current_subject(), document_id, reason=form.reason.data or ""
        ),
        _("The document was declassified and is now public."),
    )  # fmt: skip
