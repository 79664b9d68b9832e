"""E-mail notifications about meetings: who is told, in which language, and when. The one mechanism by which
the services announce what happened to a meeting.

Services *queue* an event in the transaction that causes it, after the change (and its audit entry), with
the subject who made the change (its actor signs the ``notification.send`` audit entries)::

    notifications.queue(session, subject, EventKind.MEETING_CHANGED, meeting.id)
    notifications.queue(session, subject, EventKind.ACTION_ASSIGNED, action.meeting_id,
                        recipient_ids={action.owner_id})                              # None: the room

Who queues what:

- ``agenda_published``: ``meetings.agenda_changes.publish`` (the agenda's first publication), to the room;
- ``meeting_convened``: ``meetings.service.convene_meeting`` (招集, rapid-response rooms), to the room;
- ``meeting_changed``: ``meetings.service.edit_meeting`` and ``cancel_meeting``, and every change of a
  published agenda (``meetings.agenda_changes``: a new revision), to the room;
- ``minutes_circulated``: ``minutes.workflow.circulate``, to the attendees
  (``minutes.service.attendee_ids``);
- ``minutes_published``: ``minutes.workflow.publish`` (a correction's publication too), to the room;
- ``action_assigned``: ``meetings.findings.create_action``, and ``edit_action`` when the owner changes, to
  the owner only.

The mail goes out only **after that transaction commits** (an after-commit listener on the app's
session factory, installed by ``create_app``), synchronously, over one SMTP connection; a rollback forgets
the queue, and the same event queued twice in one transaction goes out once. Sending never breaks the
request: every failure is logged (an unreachable server fails the whole batch at once, not per member).
Links point at ``<portal_url or the request's address>/meetings/<id>``.

What a message carries is fixed here and is PUBLIC by construction: the room's name, the kind of event, the
meeting's date and time, and a link to the portal. Never a meeting title (a title may be RESTRICTED), a
place, an agenda item, a finding, an action item or anything sealed: this module never opens a sealed field
(it holds no grant).

Recipients are the room's current members (or the ids the service names, e.g. an action item's owner) who
are not suspended and may see the meeting *when the mail is sent* (``policy.decide_see_meeting``): someone
who may not see the meeting is not told it exists. Each message sent is audited as ``notification.send``
(recipient, kind; no content).
"""

from __future__ import annotations

import logging
import uuid
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import Flask, has_app_context, has_request_context, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from portal import mail
from portal.accounts.models import User
from portal.config import Settings
from portal.db import utcnow
from portal.meetings.models import Meeting
from portal.rooms import service as rooms
from portal.rooms.models import Subcommittee
from portal.security import audit, policy
from portal.security.audit import Actor
from portal.security.policy import Subject

log = logging.getLogger("portal.notifications")

_QUEUE_KEY = "portal_notifications"
TOKYO = ZoneInfo("Asia/Tokyo")
SUPPORTED_LOCALES = ("ja", "en")


class EventKind(StrEnum):
    AGENDA_PUBLISHED = "agenda_published"
    MEETING_CONVENED = "meeting_convened"
    MEETING_CHANGED = "meeting_changed"
    MINUTES_CIRCULATED = "minutes_circulated"
    MINUTES_PUBLISHED = "minutes_published"
    ACTION_ASSIGNED = "action_assigned"


EVENT_LABELS = {
    EventKind.AGENDA_PUBLISHED: _l("The agenda of a meeting was published"),
    EventKind.MEETING_CONVENED: _l("A meeting was convened"),
    EventKind.MEETING_CHANGED: _l("A meeting was changed"),
    EventKind.MINUTES_CIRCULATED: _l("Minutes were circulated for review"),
    EventKind.MINUTES_PUBLISHED: _l("Minutes were published"),
    EventKind.ACTION_ASSIGNED: _l("An action item was assigned to you"),
}

#: How a meeting's date reads in a message (Japan time, as the council meets in Tokyo).
DATE_PATTERNS = {"ja": "y年M月d日(E) H:mm", "en": "EEE d MMM y, HH:mm"}


@dataclass(frozen=True)
class Notification:
    """One event waiting for its transaction to commit."""

    kind: EventKind
    meeting_id: uuid.UUID
    #: None: the room's members who may see the meeting. Otherwise only these (still filtered the same way).
    recipient_ids: frozenset[uuid.UUID] | None
    actor: Actor = field(compare=False)


def queue(
    session: Session,
    subject: Subject,
    kind: EventKind | str,
    meeting_id: uuid.UUID,
    *,
    recipient_ids: set[uuid.UUID] | frozenset[uuid.UUID] | None = None,
) -> None:
    """Tell the meeting's room (or ``recipient_ids``) about ``kind`` once this transaction commits.

    The same event queued twice in one transaction is sent once. The room is the meeting's own: a caller
    cannot address another room's members.
    """
    notification = Notification(
        EventKind(kind),
        meeting_id,
        frozenset(recipient_ids) if recipient_ids is not None else None,
        subject.actor,
    )
    pending: list[Notification] = session.info.setdefault(_QUEUE_KEY, [])
    if notification not in pending:
        pending.append(notification)


def pending(session: Session) -> list[Notification]:
    """What this session will send when it commits (for tests and for services that want to look)."""
    return list(session.info.get(_QUEUE_KEY, []))


def discard(session: Session) -> None:
    """Forget what this session has queued (the demo loader: its history is no news to anyone)."""
    session.info.pop(_QUEUE_KEY, None)


# --- after the commit ------------------------------------------------------------------------------


def install(app: Flask) -> None:
    """Send queued notifications after each commit of the app's sessions; forget them on rollback."""
    database = app.extensions["portal_db"]
    settings: Settings = app.config["PORTAL_SETTINGS"]

    @event.listens_for(database.session_factory, "after_commit")
    def _after_commit(session: Session) -> None:
        queued: list[Notification] = session.info.pop(_QUEUE_KEY, [])
        if queued:
            deliver(app, settings, database.engine, queued)

    @event.listens_for(database.session_factory, "after_soft_rollback")
    def _after_rollback(session: Session, previous: Any) -> None:
        if previous.parent is None:  # the whole transaction, not a savepoint, was rolled back
            session.info.pop(_QUEUE_KEY, None)


def link_base(settings: Settings) -> str:
    """The portal's address for links: the configured one, else the current request's."""
    if settings.portal_url:
        return settings.portal_url
    if has_request_context():
        return request.host_url.rstrip("/")
    return ""


def meeting_link(base: str, meeting_id: uuid.UUID) -> str:
    return f"{base}/meetings/{meeting_id}"


def deliver(app: Flask, settings: Settings, engine: Engine, queued: list[Notification]) -> int:
    """Resolve recipients in a session of its own (the caller's has just committed), send, and audit each
    message sent. Returns how many were sent; never raises."""
    if not mail.is_enabled(settings):
        return 0
    try:
        base = link_base(settings)
        context: AbstractContextManager[Any] = nullcontext() if has_app_context() else app.app_context()
        with context, Session(bind=engine) as session:
            messages: list[tuple[Notification, User, mail.Outgoing]] = []
            for notification in queued:
                messages.extend(_messages_for(session, notification, base))
        sent = mail.send_all(settings, [outgoing for _n, _u, outgoing in messages])
        events = [
            _sent_event(notification, user)
            for (notification, user, _outgoing), accepted in zip(messages, sent, strict=True)
            if accepted
        ]
        audit.write(engine, events)
        return len(events)
    except Exception:
        log.exception("notifications could not be sent (%d events)", len(queued))
        return 0


def _sent_event(notification: Notification, user: User) -> audit.AuditEvent:
    return audit.AuditEvent(
        actor=notification.actor,
        action="notification.send",
        allowed=True,
        rule="notification.send",
        reason="OK",
        object_type="meeting",
        object_id=str(notification.meeting_id),
        detail={"recipient": str(user.id), "kind": notification.kind.value},
    )


def recipients(session: Session, notification: Notification, now: datetime) -> list[User]:
    """Current members of the meeting's room, not suspended, who may see the meeting (each once)."""
    meeting = session.get(Meeting, notification.meeting_id)
    if meeting is None:
        return []
    found: dict[uuid.UUID, User] = {}
    for membership in rooms.current_members(session, meeting.subcommittee_id, now):
        user = membership.user
        if user.id in found or user.is_suspended:
            continue
        if notification.recipient_ids is not None and user.id not in notification.recipient_ids:
            continue
        if policy.decide_see_meeting(policy.load_subject(session, user, now), meeting).allowed:
            found[user.id] = user
    return list(found.values())


def _messages_for(
    session: Session, notification: Notification, base: str
) -> list[tuple[Notification, User, mail.Outgoing]]:
    meeting = session.get(Meeting, notification.meeting_id)
    if meeting is None:
        return []
    room = session.get(Subcommittee, meeting.subcommittee_id)
    assert room is not None
    link = meeting_link(base, meeting.id)
    return [
        (notification, user, compose(notification.kind, room, meeting.starts_at, link, user))
        for user in recipients(session, notification, utcnow())
    ]


def compose(kind: EventKind, room: Subcommittee, starts_at: datetime, link: str, user: User) -> mail.Outgoing:
    """The message for one recipient, in their language. Takes only what may be said in a PUBLIC mail."""
    locale = user.locale if user.locale in SUPPORTED_LOCALES else "ja"
    with force_locale(locale):
        event_text = str(EVENT_LABELS[kind])
        room_name = room.name(locale)
        when = format_datetime(starts_at, DATE_PATTERNS[locale], tzinfo=TOKYO, locale=locale)
        subject = _("[Council Portal] %(room)s: %(event)s", room=room_name, event=event_text)
        body = "\n".join(
            [
                event_text,
                "",
                _("Subcommittee: %(room)s", room=room_name),
                _("Meeting date: %(date)s (Japan time)", date=when),
                "",
                _("Sign in to the portal to see the details:"),
                link,
                "",
                _(
                    "This message carries no classified content by design. Do not reply to it; "
                    "the portal is the only place where the meeting's material can be read."
                ),
                "",
            ]
        )
    return mail.Outgoing(user.email, subject, body)
