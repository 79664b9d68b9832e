"""From what a reader may read to an :class:`ExportDocument`: the minutes, and the meeting pack.

The builders take the per-reader views the meeting features already make (``minutes_for_reader``,
``agenda_for_reader``, ``findings_for_reader``, ``actions_for_reader``): a part the reader may not read
arrives here without its text and leaves as a withheld part. Nothing here opens a sealed field itself.
Every included part keeps its own marking, so the copy's banner is computed from what it really holds, and
the release check (TLP) sees every included part in document order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.caveats import Caveat
from portal.accounts.models import User
from portal.db import utcnow
from portal.documents.models import Document
from portal.enums import Level, ReleaseMarking
from portal.exports.document import ExportDocument, ExportPart, ExportSection
from portal.exports.service import reader_of
from portal.meetings import access
from portal.meetings.agenda import AgendaEntryView, LinkedMaterial, entries_for
from portal.meetings.followup_read import followup_for_reader
from portal.meetings.models import ActionStatus
from portal.minutes.service import MinutesView, latest_published, minutes_for_reader, minutes_of
from portal.security.policy import MarkedPart, Subject
from portal.thinktank.models import ThinkTankOutput

EXPORT_TIMEZONE_NAME = "Asia/Tokyo"


@dataclass(frozen=True)
class MaterialMarking:
    """A linked document's or output's marking in the shape the release rule reads (``MarkedPart``)."""

    id: uuid.UUID
    level: Level
    release: ReleaseMarking
    caveat_codes: frozenset[str]
    named_reader_ids: frozenset[uuid.UUID]
    origin_organization_id: uuid.UUID
    release_organization_ids: frozenset[uuid.UUID] = frozenset()


@dataclass
class BuiltExport:
    """A copy ready to render, with the marking of every part in document order (None: withheld), for
    the release check."""

    document: ExportDocument
    markings: list[MarkedPart | None] = field(default_factory=list)
    minutes_revision: int | None = None


class NothingToExport(Exception):
    """The minutes are not published yet (only a published revision is exported)."""


def _caveat_names(session: Session, locale: str) -> dict[str, str]:
    return {caveat.code: caveat.name(locale) for caveat in session.scalars(select(Caveat))}


def _meeting_heading(session: Session, opened: access.OpenedMeeting, zone: str) -> tuple[str, str]:
    title = access.meeting_text(session, opened, "title")
    when = opened.meeting.starts_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
    return title, f"{title} ({when} {zone})"


def minutes_export(
    session: Session, subject: Subject, user: User, meeting_id: uuid.UUID, revision: int | None, locale: str
) -> BuiltExport:
    """The minutes as this reader may read them: a published revision (the latest by default)."""
    opened = access.require_meeting(session, subject, meeting_id)
    minutes = minutes_of(session, meeting_id)
    if revision is None and minutes is not None:
        published = latest_published(minutes)
        revision = published.number if published is not None else None
    if minutes is None or revision is None:
        raise NothingToExport()
    view: MinutesView = minutes_for_reader(session, subject, meeting_id, revision)
    if view.revision.published_at is None:
        raise NothingToExport()
    title, meeting_name = _meeting_heading(session, opened, EXPORT_TIMEZONE_NAME)
    parts: list[ExportPart] = []
    markings: list[MarkedPart | None] = []
    for portion in view.portions:
        if not portion.readable:
            parts.append(ExportPart.withheld_part())
            markings.append(None)
            continue
        text = portion.text
        parts.append(
            ExportPart(
                portion.heading or None, portion.body or "", text.level, text.caveat_codes, text.release
            )
        )
        markings.append(text)
    published_on = view.revision.published_at.astimezone().strftime("%Y-%m-%d")
    document = ExportDocument(
        title=gettext("Minutes: %(title)s", title=title),
        subtitle=gettext("Revision %(number)d, published %(date)s", number=view.number, date=published_on),
        meeting_name=meeting_name,
        room_name=opened.room.name(locale),
        sections=[ExportSection(gettext("Minutes"), parts)],
        title_level=opened.meeting.level,
        caveat_names=_caveat_names(session, locale),
        reader=reader_of(user, locale),
        created_at=utcnow(),
        locale=locale,
    )
    return BuiltExport(document, markings, view.number)


def _material_marking(session: Session, material: LinkedMaterial) -> MaterialMarking:
    if material.kind == "document":
        document = session.get(Document, material.id)
        assert document is not None
        classifier = session.get(User, document.classified_by_id)
        assert classifier is not None
        return MaterialMarking(
            document.id, document.level, document.release, document.caveat_codes,
            document.named_reader_ids, classifier.organization_id,
        )  # fmt: skip
    output = session.get(ThinkTankOutput, material.id)
    assert output is not None
    return MaterialMarking(
        output.id, output.level, output.release, output.caveat_codes, frozenset(), output.organization_id
    )


def _agenda_part(entry: AgendaEntryView) -> ExportPart:
    item = entry.item
    heading = f"{entry.position}. {entry.title}"
    lines = [gettext("Presenter: %(name)s", name=entry.presenter or "—")]
    lines.append(gettext("%(minutes)d minutes", minutes=entry.duration_minutes))
    for material in entry.materials:
        lines.append(gettext("Material: %(title)s", title=material.title))
    return ExportPart(heading, "\n".join(lines), item.level, item.caveat_codes, item.release)


STATUS_LABELS = {
    ActionStatus.OPEN: "Open",
    ActionStatus.IN_PROGRESS: "In progress",
    ActionStatus.DONE: "Done",
}


def pack_export(
    session: Session, subject: Subject, user: User, meeting_id: uuid.UUID, locale: str
) -> BuiltExport:
    """The meeting pack: the agenda, the findings, the action items and the text of the linked material,
    each part as this reader may read it."""
    opened = access.require_meeting(session, subject, meeting_id)
    title, meeting_name = _meeting_heading(session, opened, EXPORT_TIMEZONE_NAME)
    markings: list[MarkedPart | None] = []
    sections: list[ExportSection] = []

    # The meeting is opened (and its reading audited) once; each part is then decided for this reader.
    agenda = entries_for(session, subject, opened, with_text=True)
    findings, actions = followup_for_reader(session, subject, opened)
    agenda_parts: list[ExportPart] = []
    materials: list[tuple[LinkedMaterial, MaterialMarking]] = []
    for entry in agenda:
        if not entry.readable:
            agenda_parts.append(ExportPart.withheld_part())
            markings.append(None)
            continue
        agenda_parts.append(_agenda_part(entry))
        markings.append(entry.item)
        for material in entry.materials:
            if material.id not in {seen.id for seen, _marking in materials}:
                materials.append((material, _material_marking(session, material)))
    sections.append(ExportSection(gettext("Agenda"), agenda_parts))

    finding_parts: list[ExportPart] = []
    for number, finding in enumerate(findings, start=1):
        if not finding.readable:
            finding_parts.append(ExportPart.withheld_part())
            markings.append(None)
            continue
        part = finding.finding
        heading = gettext("Finding %(number)d", number=number)
        finding_parts.append(
            ExportPart(heading, finding.body or "", part.level, part.caveat_codes, part.release)
        )
        markings.append(part)
    sections.append(ExportSection(gettext("Findings"), finding_parts))

    action_parts: list[ExportPart] = []
    for action in actions:
        if not action.readable:
            action_parts.append(ExportPart.withheld_part())
            markings.append(None)
            continue
        item = action.item
        due = item.due_on.isoformat() if item.due_on else "—"
        body = "\n".join(
            [
                gettext("Owner: %(name)s", name=action.owner_name or "—"),
                gettext("Due: %(date)s", date=due),
                gettext("Status: %(status)s", status=gettext(STATUS_LABELS[item.status])),
            ]
        )
        action_parts.append(ExportPart(action.title, body, item.level, item.caveat_codes, item.release))
        markings.append(item)
    sections.append(ExportSection(gettext("Action items"), action_parts))

    material_parts: list[ExportPart] = []
    for material, marking in materials:
        material_parts.append(
            ExportPart(
                material.title, material.text or "", marking.level, marking.caveat_codes, marking.release
            )
        )
        markings.append(marking)
    if material_parts:
        sections.append(ExportSection(gettext("Linked material"), material_parts))

    document = ExportDocument(
        title=gettext("Meeting pack: %(title)s", title=title),
        subtitle=opened.room.name(locale),
        meeting_name=meeting_name,
        room_name=opened.room.name(locale),
        sections=sections,
        title_level=opened.meeting.level,
        caveat_names=_caveat_names(session, locale),
        reader=reader_of(user, locale),
        created_at=utcnow(),
        locale=locale,
    )
    return BuiltExport(document, markings)
