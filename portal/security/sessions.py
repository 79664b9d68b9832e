"""Server-side sessions: the cookie holds a random token; the record, keyed by its SHA-256, holds the rest.

Timeouts (idle and absolute) are enforced here, on every request, before any view runs. Signing in
replaces the token (no session fixation); signing out deletes the record.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete, select
from werkzeug.datastructures import CallbackDict

from portal.accounts.models import LoginSession
from portal.db import Database, utcnow

COOKIE_NAME = "portal_session"
#: last_seen_at is written at most this often, so reading a page is not a database write every time.
LAST_SEEN_GRANULARITY = timedelta(seconds=30)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PortalSession(CallbackDict[str, Any], SessionMixin):
    """The session dictionary plus who is signed in, at which stage."""

    def __init__(self, initial: dict[str, Any] | None = None, record: LoginSession | None = None) -> None:
        def on_update(_self: Any) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.modified = False
        self.record_id: uuid.UUID | None = record.id if record else None
        self.user_id: uuid.UUID | None = record.user_id if record else None
        self.stage: str = record.stage if record else "anonymous"
        self.authenticated_at: datetime | None = record.authenticated_at if record else None
        self.last_seen_at: datetime | None = record.last_seen_at if record else None
        self.rotate_requested = False
        self.delete_requested = False
        #: Set when the previous session ended by timeout, so the sign-in page can say so.
        self.expired_reason: str | None = None

    # The three transitions a view may ask for.
    def promote(self, user_id: uuid.UUID, stage: str, now: datetime) -> None:
        """Move to a new sign-in stage under a new token (the old one stops working at once)."""
        self.user_id = user_id
        self.stage = stage
        # A CSRF token seen before this step must not work after it: Flask-WTF makes a new one.
        self.pop("csrf_token", None)
        if stage == "active":
            self.authenticated_at = now
        self.rotate_requested = True
        self.modified = True

    def end(self) -> None:
        self.clear()
        self.delete_requested = True
        self.modified = True

    @property
    def is_signed_in(self) -> bool:
        return self.stage == "active" and self.user_id is not None


class ServerSideSessionInterface(SessionInterface):
    def __init__(self, database: Database, idle: timedelta, absolute: timedelta) -> None:
        self.database = database
        self.idle = idle
        self.absolute = absolute

    def _timed_out(self, record: LoginSession, now: datetime) -> str | None:
        if now - record.last_seen_at > self.idle:
            return "idle"
        if record.authenticated_at is not None and now - record.authenticated_at > self.absolute:
            return "absolute"
        return None

    def open_session(self, app: Flask, request: Request) -> PortalSession:
        token = request.cookies.get(COOKIE_NAME)
        if not token or len(token) > 100:
            return PortalSession()
        now = utcnow()
        with self.database.session_scope() as db:
            record = db.scalar(select(LoginSession).where(LoginSession.token_hash == token_digest(token)))
            if record is None:
                return PortalSession()
            reason = self._timed_out(record, now)
            if reason is not None:
                was_signed_in = record.user_id is not None
                db.delete(record)
                fresh = PortalSession()
                fresh.expired_reason = reason if was_signed_in else None
                return fresh
            session = PortalSession(json.loads(record.data or "{}"), record)
        return session

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, PortalSession)
        from flask import request

        name = COOKIE_NAME
        cookie_options: dict[str, Any] = {
            "httponly": True,
            "samesite": app.config["SESSION_COOKIE_SAMESITE"],
            "secure": self._secure(app, request),
            "path": "/",
        }
        now = utcnow()
        with self.database.session_scope() as db:
            if session.delete_requested:
                if session.record_id is not None:
                    db.execute(delete(LoginSession).where(LoginSession.id == session.record_id))
                response.delete_cookie(name, path="/", samesite=cookie_options["samesite"])
                return
            if session.record_id is None and not session.modified and not session.expired_reason:
                return
            if session.record_id is None or session.rotate_requested:
                self._store_under_new_token(db, session, request, response, now, cookie_options)
                return
            record = db.get(LoginSession, session.record_id)
            if record is None:  # revoked from elsewhere while this request ran
                response.delete_cookie(name, path="/")
                return
            if session.modified:
                record.data = json.dumps(dict(session))
                record.user_id = session.user_id
                record.stage = session.stage
            if session.modified or now - record.last_seen_at > LAST_SEEN_GRANULARITY:
                record.last_seen_at = now

    def _store_under_new_token(
        self,
        db: Any,
        session: PortalSession,
        request: Request,
        response: Response,
        now: datetime,
        cookie_options: dict[str, Any],
    ) -> None:
        created_at = now
        if session.record_id is not None:
            old = db.get(LoginSession, session.record_id)
            if old is not None:
                created_at = old.created_at
                db.delete(old)
                db.flush()
        token = secrets.token_urlsafe(32)
        record = LoginSession(
            token_hash=token_digest(token),
            user_id=session.user_id,
            stage=session.stage,
            created_at=created_at,
            authenticated_at=session.authenticated_at,
            last_seen_at=now,
            ip_address=request.remote_addr,
            user_agent=(request.user_agent.string or "")[:300],
            data=json.dumps(dict(session)),
        )
        db.add(record)
        db.flush()
        session.record_id = record.id
        response.set_cookie(COOKIE_NAME, token, **cookie_options)

    @staticmethod
    def _secure(app: Flask, request: Request) -> bool:
        mode = app.config["PORTAL_SETTINGS"].cookie_secure
        return mode == "always" or (mode == "auto" and request.is_secure)
