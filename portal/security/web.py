"""The web side of the security core: request ids, security headers, CSRF, sign-in state.

Views never read the session record directly: they ask for :func:`current_session` and call its
transitions (promote, end).
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, g, request, session
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from portal.accounts.models import User
from portal.db import request_session, utcnow
from portal.security.audit import Actor
from portal.security.policy import Subject, load_subject
from portal.security.sessions import PortalSession

log = logging.getLogger("portal.request")

csrf = CSRFProtect()
login_manager = LoginManager()

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def current_session() -> PortalSession:
    assert isinstance(session, PortalSession)
    return session


@login_manager.request_loader
def _load_user_from_session(_request: Any) -> User | None:
    portal_session = current_session()
    if not portal_session.is_signed_in:
        return None
    user = request_session().get(User, portal_session.user_id)
    if user is None or user.is_suspended:
        portal_session.end()
        return None
    return user


def current_actor() -> Actor:
    """Who is acting, from where (for the audit trail)."""
    user_id = current_session().user_id
    organization_id = None
    if current_user and current_user.is_authenticated:
        organization_id = current_user.organization_id
    return Actor(
        user_id=user_id,
        organization_id=organization_id,
        session_id=current_session().record_id,
        ip_address=request.remote_addr,
    )


def current_subject() -> Subject:
    """The signed-in user as the policy sees them, resolved once per request."""
    subject: Subject | None = g.get("_portal_subject")
    if subject is None:
        if not current_user or not current_user.is_authenticated:
            raise RuntimeError("current_subject() needs a signed-in user (use @login_required)")
        subject = load_subject(request_session(), current_user, utcnow(), current_actor())
        g._portal_subject = subject
    return subject


#: endpoint function -> the action it performs (checked for every route by a test).
ROUTE_ACTIONS: dict[str, str] = {}
#: Endpoints that need no declared action: they act before anyone is signed in, or serve files.
UNDECLARED_ALLOWED = frozenset({"static", "health.healthz"})

ViewFunction = TypeVar("ViewFunction", bound=Callable[..., Any])


def performs(action: str) -> Callable[[ViewFunction], ViewFunction]:
    """Declare the action a route performs (for the route-coverage test and the audit trail)."""

    def decorate(view: ViewFunction) -> ViewFunction:
        view.portal_action = action  # type: ignore[attr-defined]
        return view

    return decorate


def declared_action(app: Flask, endpoint: str) -> str | None:
    view = app.view_functions.get(endpoint)
    return getattr(view, "portal_action", None)


def pending_user() -> User | None:
    """The user between the password and the second factor (stage mfa or enrol), if any."""
    portal_session = current_session()
    if portal_session.stage not in {"mfa", "enrol"} or portal_session.user_id is None:
        return None
    user = request_session().get(User, portal_session.user_id)
    if user is None or user.is_suspended:
        return None
    return user


def _assign_request_id() -> None:
    incoming = request.headers.get("X-Request-Id", "")
    # Accept a proxy's id only when it is short and plain; otherwise make our own.
    if 8 <= len(incoming) <= 64 and incoming.replace("-", "").isalnum():
        g.request_id = incoming
    else:
        g.request_id = uuid.uuid4().hex
    g.csp_nonce = secrets.token_urlsafe(16)


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if not request.path.startswith("/static/"):
        # Every page may carry a signed-in user's data: never store it anywhere.
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    headers["X-Request-Id"] = g.get("request_id", "")
    return response


def _log_request(response: Response) -> Response:
    log.info(
        "%s %s %s request_id=%s",
        request.method,
        request.path,
        response.status_code,
        g.get("request_id", "-"),
    )
    return response


def init_app(app: Flask) -> None:
    # First, so that even a request refused by the CSRF check (400) or the size limit (413) has an id.
    app.before_request(_assign_request_id)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = None  # the server-side session already binds the sign-in
    app.after_request(_security_headers)
    app.after_request(_log_request)
