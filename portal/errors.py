"""Error pages in the user's language, with a request id and never a stack trace."""

from __future__ import annotations

import logging
import uuid

from flask import Flask, g, render_template, request
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.security.crypto import IntegrityError, KeyDestroyed
from portal.security.policy import AccessDenied

log = logging.getLogger("portal.errors")

ERROR_TEXTS: dict[int, tuple[LazyString, LazyString]] = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
    403: (_l("Not allowed"), _l("You do not have permission to do this.")),
    404: (_l("Not found"), _l("There is nothing here, or you do not have access to it.")),
    405: (_l("Method not allowed"), _l("This address does not accept that kind of request.")),
    409: (_l("Conflict"), _l("Someone else changed this in the meantime.")),
    410: (
        _l("Destroyed"),
        _l("This subcommittee's keys were destroyed. Its content can no longer be read by anyone."),
    ),
    413: (
        _l("Too large"),
        _l("What you sent is larger than the portal accepts. Nothing was saved; try a smaller file."),
    ),
    429: (_l("Too many attempts"), _l("Too many attempts. Wait a while and try again.")),
    500: (
        _l("Something went wrong"),
        _l(
            "The portal could not complete the request. It has been logged; "
            "quote the request id if you ask for help."
        ),
    ),
    503: (_l("Unavailable"), _l("The portal is temporarily unavailable. Try again shortly.")),
}


def render_error(status: int, message: str | None = None) -> tuple[str, int]:
    title, default_message = ERROR_TEXTS.get(status, ERROR_TEXTS[500])
    if not g.get("request_id"):
        g.request_id = uuid.uuid4().hex
    return (
        render_template(
            "errors/error.html",
            status=status,
            title=title,
            message=message or default_message,
            request_id=g.get("request_id", ""),
        ),
        status,
    )


def _handle_http_exception(error: HTTPException) -> tuple[str, int] | HTTPException:
    status = error.code or 500
    if status < 400:
        return error
    if status not in ERROR_TEXTS:
        status = 500 if status >= 500 else 400
    return render_error(status)


def _handle_csrf(_error: CSRFError) -> tuple[str, int]:
    return render_error(
        400,
        str(_l("The form had expired or was not sent from this portal. Reload the page and try again.")),
    )


def _handle_unexpected(error: Exception) -> tuple[str, int]:
    if isinstance(error, HTTPException):
        return _handle_http_exception(error)  # type: ignore[return-value]
    log.exception("unhandled error request_id=%s path=%s", g.get("request_id", "-"), request.path)
    return render_error(500)


def _handle_denied(error: AccessDenied) -> tuple[str, int]:
    return render_error(404 if error.conceal else 403)


def _handle_integrity(error: IntegrityError) -> tuple[str, int]:
    # Already audited by the keyring; the operator's log gets the details, the user a clear message.
    log.error("integrity failure request_id=%s: %s", g.get("request_id", "-"), error)
    return render_error(
        500,
        str(_l("This item failed its integrity check: its stored data does not match where it belongs. "
               "Nothing was shown. The event was recorded; please tell the secretariat.")),
    )  # fmt: skip


def _handle_destroyed(_error: KeyDestroyed) -> tuple[str, int]:
    return render_error(410)


def init_app(app: Flask) -> None:
    app.register_error_handler(AccessDenied, _handle_denied)
    app.register_error_handler(IntegrityError, _handle_integrity)
    app.register_error_handler(KeyDestroyed, _handle_destroyed)
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(InternalServerError, _handle_unexpected)
    app.register_error_handler(Exception, _handle_unexpected)
