"""iCalendar files: one meeting for a signed-in reader, and a user's feed for their calendar app.

**The meeting's .ics** (signed in, with MFA) carries what that reader may see on the meeting page: the
title, the place, and the published agenda with each item the reader may not read as a withheld line.

**The feed** is fetched by a calendar app with a bearer secret in its address, outside sign-in and MFA, and
it ends up stored on phones and in cloud calendars. It therefore carries less than the reader may see:

- only meetings the user may see now (``policy.visible_meetings``: rooms they currently belong to, within
  their clearance), from :data:`FEED_PAST_DAYS` days ago on;
- the title and the place only of PUBLIC meetings; any other meeting reads
  「[取扱注意] 重要鉱物分科会 会議」 (the level in words and the room's name) with no place;
- never the agenda; always the link to the meeting in the portal, where the rest is read after sign-in.

The same meeting has the same UID in both, so a calendar app that holds both keeps one entry.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.enums import Level
from portal.i18n import LEVEL_LABELS
from portal.meetings import access
from portal.meetings.models import AgendaItem, Meeting, MeetingStatus
from portal.notifications import meeting_link
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.audit import Actor
from portal.security.policy import Subject

PRODUCT_ID = "-//Council Portal//Kyogikai Portal//JA"
#: How far back the feed reaches (calendar apps keep what they already fetched).
FEED_PAST_DAYS = 90
AGENDA_RULE = "agenda_item.read"


def meeting_uid(meeting_id: uuid.UUID) -> str:
    """Stable for the meeting's life: calendar apps update the entry rather than add another."""
    return f"meeting-{meeting_id}@council-portal"


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    return calendar


def _event(meeting: Meeting, summary: str, location: str | None, description: str, link: str) -> Event:
    event = Event()
    event.add("uid", meeting_uid(meeting.id))
    event.add("dtstamp", meeting.updated_at)
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.starts_at + timedelta(minutes=meeting.duration_minutes))
    event.add("summary", summary)
    if location:
        event.add("location", location)
    event.add("description", description)
    event.add("url", link)
    event.add("sequence", meeting.version)
    cancelled = meeting.status == MeetingStatus.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


# --- one meeting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingFile:
    content: bytes
    filename: str


def _agenda_lines(session: Session, subject: Subject, opened: access.OpenedMeeting) -> list[str]:
    """The published agenda as this reader may read it; an item they may not read is a withheld line."""
    meeting = opened.meeting
    if not meeting.agenda_published:
        return []
    items = session.scalars(
        select(AgendaItem)
        .where(AgendaItem.meeting_id == meeting.id, AgendaItem.removed_at.is_(None))
        .order_by(AgendaItem.position)
    ).all()
    views = access.view_parts(
        session, subject, opened.room.id, items, object_type="agenda_item", rule=AGENDA_RULE
    )
    lines = [_("Agenda:")]
    for number, view in enumerate(views, start=1):
        opened_texts = access.texts(session, view, ["title"])
        title = opened_texts["title"] if opened_texts else _("Agenda item withheld (you may not read it)")
        lines.append(f"{number}. {title}")
    return [*lines, ""]


def meeting_file(session: Session, subject: Subject, meeting_id: uuid.UUID, base: str) -> MeetingFile:
    """The .ics of one meeting for this reader (404, audited, for a meeting they may not see)."""
    opened = access.require_meeting(session, subject, meeting_id)
    meeting = opened.meeting
    link = meeting_link(base, meeting.id)
    description = "\n".join(
        [*_agenda_lines(session, subject, opened), _("In the portal: %(link)s", link=link)]
    )
    event = _event(
        meeting,
        summary=access.meeting_text(session, opened, "title"),
        location=access.meeting_text(session, opened, "place"),
        description=description,
        link=link,
    )
    calendar = _calendar(_("Council Portal"))
    calendar.add_component(event)
    policy.record_change(
        session, subject, "meeting.ics", object_type="meeting", object_id=meeting.id, level=meeting.level
    )
    local_date = meeting.starts_at.astimezone(policy.LOCAL_TIMEZONE).strftime("%Y%m%d")
    return MeetingFile(calendar.to_ical(), f"meeting-{local_date}.ics")


# --- the feed ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedFile:
    content: bytes
    events: int


def _feed_summary(opened: access.OpenedMeeting, session: Session, locale: str) -> str:
    meeting = opened.meeting
    if meeting.level == Level.PUBLIC:
        return access.meeting_text(session, opened, "title")
    return _(
        "[%(level)s] %(room)s meeting",
        level=str(LEVEL_LABELS[int(meeting.level)]),
        room=opened.room.name(locale),
    )


def feed_file(session: Session, user: User, actor: Actor, base: str, now: datetime) -> FeedFile:
    """The user's feed, in their language, under the cautious rule of this module's docstring."""
    locale = user.locale if user.locale in ("ja", "en") else "ja"
    subject = policy.load_subject(session, user, now, actor)
    meetings = session.scalars(
        select(Meeting)
        .where(policy.visible_meetings(subject), Meeting.starts_at >= now - timedelta(days=FEED_PAST_DAYS))
        .order_by(Meeting.starts_at)
    ).all()
    with force_locale(locale):
        calendar = _calendar(_("Council Portal"))
        count = 0
        for meeting in meetings:
            decision = policy.decide_see_meeting(subject, meeting)
            if not decision.allowed:  # the SQL filter and the decision agree; the decision has the last word
                continue
            room = session.get(Subcommittee, meeting.subcommittee_id)
            assert room is not None
            opened = access.OpenedMeeting(
                meeting, room, policy.grant_from(decision, subject, "meeting", meeting.id)
            )
            link = meeting_link(base, meeting.id)
            place = access.meeting_text(session, opened, "place") if meeting.level == Level.PUBLIC else None
            calendar.add_component(
                _event(
                    meeting,
                    summary=_feed_summary(opened, session, locale),
                    location=place,
                    description=_("Details in the portal (sign-in required): %(link)s", link=link),
                    link=link,
                )
            )
            count += 1
    return FeedFile(calendar.to_ical(), count)
