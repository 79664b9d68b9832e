"""Reading the minutes of a meeting, one reader at a time, and the rules every change shares.

Revisions. A revision is what was circulated, approved or published: while a revision is a draft, every save
that changes a portion writes that portion's text *at the current revision number* (replacing the text of the
same revision, if the portion already changed in this draft), so a draft never piles up rows. A new revision
number starts only when the steward takes circulated or approved minutes back to draft ("revise") or starts a
correction of published minutes. Revision *n* is, for every portion, its latest :class:`PortionText` with
``revision <= n``, unless that text says the portion was removed.

Who sees which revision. The room's stewards (its chair and its secretariat members) see every revision,
drafts included. An attendee of the meeting sees every revision that was circulated to them; any other
member who may see the meeting sees only published revisions. Inside a revision, each portion is decided for
the reader like any part of a meeting: one they may not read is a withheld line, never opened.

Review comments are shown with a portion only to those who may read that portion and who took part in the
review (stewards and attendees).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.enums import GOV_ONLY_CODE, RELEASE_ORDER, Level, ReleaseMarking
from portal.meetings import access
from portal.meetings.access import OpenedMeeting, PartView
from portal.meetings.models import Attendance, AttendanceResponse, Meeting
from portal.minutes.models import Minutes, MinutesRevision, Portion, PortionComment, PortionText
from portal.rooms import service as rooms
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.keyring import keyring_of
from portal.security.policy import Decision, Subject

#: The policy object type of a portion's text (its grants open the text and the comments on it).
PORTION = "portion"
#: Positions are spaced so that moving a portion changes only its own position (see drafting.move_portion).
POSITION_GAP = 1024


class StepRefused(Exception):
    """A step the minutes' state does not allow now (out of order, locked, nothing to circulate...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StaleMinutes(Exception):
    """The change started from a version of the minutes that is no longer the current one."""

    def __init__(self, current_version: int) -> None:
        super().__init__("stale minutes")
        self.current_version = current_version


class RevisionState(StrEnum):
    DRAFT = "draft"
    CIRCULATED = "circulated"
    APPROVED = "approved"
    PUBLISHED = "published"
    #: Published, then replaced by a later published correction (still readable).
    SUPERSEDED = "superseded"
    #: Circulated or approved, then taken back to draft as a new revision before publication.
    REVISED = "revised"


# --- who the reader is to these minutes ----------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """What the reader is to this meeting's minutes."""

    steward: bool
    attendee: bool
    chair: bool


def is_attendee(session: Session, subject: Subject, meeting: Meeting, room: Subcommittee) -> bool:
    """The room's chair and stewards, and members who took part: a recorded attendance decides when the
    secretariat has recorded one (present or absent); before that, the member's answer (attend, by proxy)."""
    if policy.decide_manage_meeting(subject, room).allowed:
        return True
    answer = session.scalar(
        select(Attendance).where(Attendance.meeting_id == meeting.id, Attendance.user_id == subject.user_id)
    )
    if answer is None:
        return False
    if answer.present is not None:
        return answer.present
    return answer.response in (AttendanceResponse.ATTEND, AttendanceResponse.PROXY)


def attendee_ids(session: Session, meeting: Meeting, room: Subcommittee, now: datetime) -> set[uuid.UUID]:
    """The room's current members who are attendees of the meeting by :func:`is_attendee` (to whom
    circulated minutes go)."""
    return {
        membership.user_id
        for membership in rooms.current_members(session, room.id, now)
        if is_attendee(session, policy.load_subject(session, membership.user, now), meeting, room)
    }


def standing_of(session: Session, subject: Subject, opened: OpenedMeeting) -> Standing:
    return Standing(
        steward=policy.decide_manage_meeting(subject, opened.room).allowed,
        attendee=is_attendee(session, subject, opened.meeting, opened.room),
        chair=policy.decide_approve_minutes(subject, opened.room).allowed,
    )


# --- revisions --------------------------------------------------------------------------------------


def minutes_of(session: Session, meeting_id: uuid.UUID) -> Minutes | None:
    return session.scalar(select(Minutes).where(Minutes.meeting_id == meeting_id))


def revision_row(minutes: Minutes, number: int) -> MinutesRevision | None:
    return next((revision for revision in minutes.revisions if revision.number == number), None)


def working_revision(minutes: Minutes) -> MinutesRevision:
    revision = revision_row(minutes, minutes.revision)
    assert revision is not None, "every minutes has a row for its working revision"
    return revision


def revision_state(minutes: Minutes, revision: MinutesRevision) -> RevisionState:
    if revision.published_at is not None:
        later = any(r.published_at is not None and r.number > revision.number for r in minutes.revisions)
        return RevisionState.SUPERSEDED if later else RevisionState.PUBLISHED
    if revision.number < minutes.revision:
        return RevisionState.REVISED
    if revision.approved_at is not None:
        return RevisionState.APPROVED
    if revision.circulated_at is not None:
        return RevisionState.CIRCULATED
    return RevisionState.DRAFT


def may_see_revision(revision: MinutesRevision, standing: Standing) -> bool:
    if standing.steward or revision.published_at is not None:
        return True
    return standing.attendee and revision.circulated_at is not None


def visible_revisions(minutes: Minutes, standing: Standing) -> list[MinutesRevision]:
    return [revision for revision in minutes.revisions if may_see_revision(revision, standing)]


def latest_published(minutes: Minutes) -> MinutesRevision | None:
    published = [revision for revision in minutes.revisions if revision.published_at is not None]
    return published[-1] if published else None


def page_revision(minutes: Minutes, standing: Standing) -> MinutesRevision | None:
    """What the minutes page opens on: the working revision for stewards, and for attendees while it is
    under review (circulated or approved); otherwise the latest published revision."""
    working = working_revision(minutes)
    if may_see_revision(working, standing):
        return working
    return latest_published(minutes)


def text_at(portion: Portion, number: int) -> PortionText | None:
    """The portion's latest text at or before revision ``number`` (possibly a removal)."""
    latest = None
    for text in portion.texts:  # ordered by revision
        if text.revision <= number:
            latest = text
    return latest


def texts_at(minutes: Minutes, number: int) -> list[PortionText]:
    """The portions of revision ``number``, in reading order (removed ones left out)."""
    current = [text_at(portion, number) for portion in minutes.portions]
    present = [text for text in current if text is not None and not text.removed]
    return sorted(present, key=lambda text: (text.position, str(text.portion_id)))


# --- the overall marking -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OverallMarking:
    """An item built from parts carries the highest level, the union of caveats and the most restrictive
    release marking of its parts (DESIGN.md §2)."""

    level: Level
    caveat_codes: frozenset[str]
    release: ReleaseMarking


def overall_marking(texts: Iterable[PortionText]) -> OverallMarking:
    """Of the given portions; minutes without portions are PUBLIC council material (TLP:GREEN)."""
    texts = list(texts)
    if not texts:
        return OverallMarking(Level.PUBLIC, frozenset(), ReleaseMarking.GREEN)
    return OverallMarking(
        level=max(text.level for text in texts),
        caveat_codes=frozenset().union(*(text.caveat_codes for text in texts)),
        release=max((text.release for text in texts), key=RELEASE_ORDER.index),
    )


def combined(*markings: OverallMarking) -> OverallMarking:
    """The marking of a page that shows several markings' content (a comparison of two revisions)."""
    return OverallMarking(
        level=max(marking.level for marking in markings),
        caveat_codes=frozenset().union(*(marking.caveat_codes for marking in markings)),
        release=max((marking.release for marking in markings), key=RELEASE_ORDER.index),
    )


def ordered_caveat_codes(codes: Iterable[str]) -> list[str]:
    """政府限り first, then the compartments by code (the order banners show them in)."""
    return sorted(codes, key=lambda code: (code != GOV_ONLY_CODE, code))


# --- one reader's view -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommentView:
    id: uuid.UUID
    author_name: str
    created_at: datetime
    body: str


@dataclass(frozen=True)
class PortionView:
    """One portion as this reader meets it. ``heading`` and ``body`` are None when it is withheld."""

    portion_id: uuid.UUID
    #: 1-based place in the revision's reading order.
    position: int
    readable: bool
    heading: str | None
    body: str | None
    #: The text row of this revision: its marking (level, caveat_codes, release, named_reader_ids,
    #: origin_organization_id, release_organization_ids) is on it.
    text: PortionText
    #: Why it is withheld, for the reader's own information (never shown to others).
    decision: Decision
    comments: list[CommentView]
    #: The reader may comment on it now (circulated minutes, an attendee who may read it).
    can_review: bool = False


@dataclass(frozen=True)
class MinutesView:
    meeting: Meeting
    room: Subcommittee
    minutes: Minutes
    revision: MinutesRevision
    state: RevisionState
    portions: list[PortionView]
    standing: Standing
    #: Over every portion of the revision, readable or not (the minutes' own marking).
    marking: OverallMarking

    @property
    def number(self) -> int:
        return self.revision.number

    @property
    def published_hash(self) -> str | None:
        return self.revision.published_hash

    @property
    def is_working(self) -> bool:
        return self.revision.number == self.minutes.revision

    @property
    def included_marking(self) -> OverallMarking:
        """Over the portions this reader actually reads (what a copy made for them contains)."""
        return overall_marking(view.text for view in self.portions if view.readable)

    @property
    def withheld_count(self) -> int:
        return sum(1 for view in self.portions if not view.readable)


def _comments(session: Session, view: PartView[PortionText]) -> list[CommentView]:
    assert view.grant is not None
    text = view.part
    keyring = keyring_of(session)
    rows = session.execute(
        select(PortionComment, User.display_name)
        .join(User, User.id == PortionComment.author_id)
        .where(PortionComment.portion_text_id == text.id)
        .order_by(PortionComment.created_at, PortionComment.id)
    ).all()
    return [
        CommentView(
            comment.id,
            name,
            comment.created_at,
            keyring.open(
                session, view.grant, comment.field_context("body", int(text.level)), comment.body_sealed
            ),
        )
        for comment, name in rows
    ]


def build_view(
    session: Session,
    subject: Subject,
    opened: OpenedMeeting,
    minutes: Minutes,
    revision: MinutesRevision,
    standing: Standing,
) -> MinutesView:
    """Decide every portion of ``revision`` for the subject; open only the readable ones."""
    texts = texts_at(minutes, revision.number)
    views = access.view_parts(
        session, subject, opened.room.id, texts, object_type=PORTION, rule="minutes.read"
    )
    state = revision_state(minutes, revision)
    reviewing = state == RevisionState.CIRCULATED
    portions = []
    for place, view in enumerate(views, start=1):
        opened_text = access.texts(session, view, ("heading", "body"))
        comments = (
            _comments(session, view)
            if opened_text is not None and (standing.steward or standing.attendee)
            else []
        )
        can_review = (
            reviewing
            and opened_text is not None
            and policy.decide_review_portion(subject, opened.room.id, view.part, standing.attendee).allowed
        )
        portions.append(
            PortionView(
                portion_id=view.part.portion_id,
                position=place,
                readable=opened_text is not None,
                heading=opened_text["heading"] if opened_text else None,
                body=opened_text["body"] if opened_text else None,
                text=view.part,
                decision=view.decision,
                comments=comments,
                can_review=can_review,
            )
        )
    return MinutesView(
        opened.meeting, opened.room, minutes, revision, state, portions, standing, overall_marking(texts)
    )


def not_found(session: Session, subject: Subject, object_id: object, rule: str = "minutes.read") -> None:
    """Answer 404 for minutes, a revision or a portion that is not there or not for this reader (audited)."""
    policy.require(
        session,
        subject,
        policy.deny(rule, "NOT_FOUND"),
        object_type="minutes",
        object_id=object_id,
        conceal=True,
    )


def minutes_for_reader(
    session: Session, subject: Subject, meeting_id: uuid.UUID, revision: int | None = None
) -> MinutesView:
    """The minutes of a meeting as ``subject`` may read them (for the minutes page and the exports).

    ``revision=None`` means: for the room's stewards, the working revision (the one being drafted,
    reviewed or last published); for everyone else, the latest published revision. A revision the reader
    may not see (a draft for a non-steward, a circulated revision for a non-attendee), a meeting without
    minutes, or a meeting the reader may not see answers 404 (``policy.AccessDenied``, audited).
    """
    opened = access.require_meeting(session, subject, meeting_id)
    minutes = minutes_of(session, meeting_id)
    if minutes is None:
        not_found(session, subject, meeting_id)
        raise AssertionError("unreachable")
    standing = standing_of(session, subject, opened)
    if revision is None:
        chosen = working_revision(minutes) if standing.steward else latest_published(minutes)
    else:
        chosen = revision_row(minutes, revision)
    if chosen is None or not may_see_revision(chosen, standing):
        not_found(session, subject, minutes.id)
        raise AssertionError("unreachable")
    return build_view(session, subject, opened, minutes, chosen, standing)


def paragraphs(body: str) -> list[list[str]]:
    """A plain-text body as paragraphs (split at blank lines), each a list of its lines."""
    found: list[list[str]] = []
    current: list[str] = []
    for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.strip():
            current.append(line)
        elif current:
            found.append(current)
            current = []
    if current:
        found.append(current)
    return found


def user_names(session: Session, user_ids: Sequence[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    ids = {user_id for user_id in user_ids if user_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()
    return {user_id: name for user_id, name in rows}


# --- the minutes page ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MinutesPage:
    """Everything the minutes page of a meeting shows to one reader."""

    opened: OpenedMeeting
    meeting_title: str
    minutes: Minutes | None
    standing: Standing
    #: None: no minutes yet, or none this reader may see yet.
    view: MinutesView | None
    revisions: list[MinutesRevision]


def minutes_page(
    session: Session, subject: Subject, meeting_id: uuid.UUID, revision: int | None = None
) -> MinutesPage:
    """The page opens on :func:`page_revision` unless a revision is asked for (404 if not seen by the
    reader)."""
    opened = access.require_meeting(session, subject, meeting_id)
    title = access.meeting_text(session, opened, "title")
    standing = standing_of(session, subject, opened)
    minutes = minutes_of(session, meeting_id)
    if minutes is None:
        if revision is not None:
            not_found(session, subject, meeting_id)
        return MinutesPage(opened, title, None, standing, None, [])
    chosen = page_revision(minutes, standing) if revision is None else revision_row(minutes, revision)
    if revision is not None and (chosen is None or not may_see_revision(chosen, standing)):
        not_found(session, subject, minutes.id)
    view = build_view(session, subject, opened, minutes, chosen, standing) if chosen is not None else None
    return MinutesPage(opened, title, minutes, standing, view, visible_revisions(minutes, standing))
