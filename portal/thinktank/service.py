"""Every way a think-tank output is listed, read, published, offered, attached and detached, and who may.

An output's title, summary, provenance text, classification reason and data are sealed with the system's
``fields`` key (an output belongs to no room); they open only with the grant the policy gave for that very
output. Every change is audited; reads at CONFIDENTIAL are audited by ``policy.require``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.caveats import Caveat
from portal.accounts.models import Organization, User
from portal.db import utcnow
from portal.enums import Level, ReleaseMarking, Role
from portal.rooms.models import Subcommittee
from portal.search import index as search_index
from portal.security import policy
from portal.security.crypto import IntegrityError, KeyDestroyed
from portal.security.keyring import keyring_of
from portal.security.policy import Grant, Marking, Subject
from portal.thinktank import data
from portal.thinktank.models import (
    SEALED_FIELDS,
    OutputAttachment,
    OutputCaveat,
    OutputKind,
    ThinkTankOutput,
)

#: Which kind of output carries which table, and the parser that validates it.
DATA_PARSERS: dict[OutputKind, Callable[[str], list[data.Dependency] | list[data.Risk]]] = {
    OutputKind.SUPPLY_CHAIN: data.parse_dependencies,
    OutputKind.RISK_ASSESSMENT: data.parse_risks,
}


@dataclass(frozen=True)
class OutputText:
    """An output's opened fields, for one request only (never cached)."""

    output: ThinkTankOutput
    title: str
    summary: str = ""
    authors: str = ""
    method: str = ""
    data_sources: str = ""
    data_csv: str = ""
    reason: str | None = None
    destroyed: bool = False
    integrity_failed: bool = False
    dependencies: list[data.Dependency] = field(default_factory=list)
    risks: list[data.Risk] = field(default_factory=list)


SYSTEM_SCOPE = None  # the system's keys: an output belongs to no room
#: The kind under which outputs are indexed for search (system scope).
SEARCH_KIND_OUTPUT = "output"


def searchable_output_texts(text: OutputText) -> tuple[str, ...]:
    """What search finds an output by, in the order a snippet prefers: summary, title, provenance."""
    return (text.summary, text.title, text.authors, text.method, text.data_sources)


def seal_fields(
    session: Session, grant: Grant, output: ThinkTankOutput, values: dict[str, str | None]
) -> None:
    keyring = keyring_of(session)
    for name in (*SEALED_FIELDS, "classification_reason"):
        value = values.get(name)
        sealed = (
            keyring.seal(session, grant, output.field_context(name), value, SYSTEM_SCOPE)
            if value is not None
            else None
        )
        setattr(output, f"{name}_sealed", sealed)


def open_text(session: Session, grant: Grant, output: ThinkTankOutput, full: bool = True) -> OutputText:
    keyring = keyring_of(session)

    def opened(name: str) -> str | None:
        sealed = getattr(output, f"{name}_sealed")
        return None if sealed is None else keyring.open(session, grant, output.field_context(name), sealed)

    try:
        title = opened("title") or ""
        if not full:
            return OutputText(output, title)
        values = {name: opened(name) or "" for name in SEALED_FIELDS if name != "title"}
        reason = opened("classification_reason")
    except KeyDestroyed:
        return OutputText(output, "", destroyed=True)
    dependencies: list[data.Dependency] = []
    risks: list[data.Risk] = []
    if values["data_csv"]:
        # Validated when published; parsed again on every read, so the data is never at rest in the clear.
        if output.kind == OutputKind.SUPPLY_CHAIN:
            dependencies = data.parse_dependencies(values["data_csv"])
        elif output.kind == OutputKind.RISK_ASSESSMENT:
            risks = data.parse_risks(values["data_csv"])
    return OutputText(
        output,
        title,
        summary=values["summary"],
        authors=values["authors"],
        method=values["method"],
        data_sources=values["data_sources"],
        data_csv=values["data_csv"],
        reason=reason,
        dependencies=dependencies,
        risks=risks,
    )


def _listed(session: Session, subject: Subject, outputs: list[ThinkTankOutput]) -> list[OutputText]:
    listed = []
    for output in outputs:
        try:
            listed.append(
                open_text(session, policy.grant_for_listed_output(subject, output), output, full=False)
            )
        except IntegrityError:
            listed.append(OutputText(output, "", integrity_failed=True))
    return listed


def list_outputs(session: Session, subject: Subject) -> list[OutputText]:
    """Every output the subject may read, newest first; filtered in SQL, so nothing hidden is counted."""
    outputs = session.scalars(
        select(ThinkTankOutput)
        .where(policy.visible_outputs(subject))
        .order_by(ThinkTankOutput.published_at.desc())
    ).all()
    return _listed(session, subject, list(outputs))


def list_for_room(session: Session, subject: Subject, room: Subcommittee) -> list[OutputText]:
    """Outputs attached (or offered) to this room that the subject may read."""
    in_room = select(OutputAttachment.output_id).where(
        OutputAttachment.subcommittee_id == room.id, OutputAttachment.detached_at.is_(None)
    )
    outputs = session.scalars(
        select(ThinkTankOutput)
        .where(ThinkTankOutput.id.in_(in_room), policy.visible_outputs(subject))
        .order_by(ThinkTankOutput.published_at.desc())
    ).all()
    return _listed(session, subject, list(outputs))


@dataclass(frozen=True)
class OpenedOutput:
    output: ThinkTankOutput
    grant: Grant
    text: OutputText


def _load(session: Session, output_id: uuid.UUID) -> ThinkTankOutput:
    output = session.get(ThinkTankOutput, output_id)
    if output is None:
        raise policy.AccessDenied(policy.deny("output.read", "NOT_FOUND"), conceal=True)
    return output


def open_output(session: Session, subject: Subject, output_id: uuid.UUID) -> OpenedOutput:
    """Read one output. Any denial answers as if it did not exist, and is audited."""
    output = _load(session, output_id)
    grant = policy.require(
        session,
        subject,
        policy.decide_read_output(subject, output),
        object_type="output",
        object_id=output.id,
        level=output.level,
        conceal=True,
    )
    return OpenedOutput(output, grant, open_text(session, grant, output))


# --- publishing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewOutput:
    kind: OutputKind
    title: str
    summary: str
    authors: str
    method: str
    data_sources: str
    as_of: date
    version_label: str
    data_csv: str
    level: Level
    release: ReleaseMarking
    caveat_codes: frozenset[str]
    reason: str | None
    review_on: date | None
    #: Rooms the analyst offers the output to (a steward of each confirms).
    offer_to: frozenset[uuid.UUID]


class DataNotAllowed(Exception):
    """A table was given for a kind of output that carries none."""


def publish(session: Session, subject: Subject, new: NewOutput) -> ThinkTankOutput:
    """Publish an output; its table is validated whole (:class:`data.DataError`: nothing is kept)."""
    marking = Marking(new.level, new.caveat_codes, frozenset(), new.reason)
    output_id = uuid.uuid4()
    decision = policy.decide_publish_output(subject, marking)
    policy.require(
        session, subject, decision, object_type="output", object_id=output_id, level=new.level,
        detail={"caveats": sorted(new.caveat_codes), "kind": new.kind.value},
    )  # fmt: skip
    csv_text = new.data_csv.strip()
    if csv_text:
        parser = DATA_PARSERS.get(new.kind)
        if parser is None:
            raise DataNotAllowed(new.kind.value)
        parser(csv_text)
    grant = policy.grant_from(decision, subject, "output", output_id)
    now = utcnow()
    output = ThinkTankOutput(
        id=output_id,
        kind=new.kind,
        organization_id=subject.organization_id,
        published_by_id=subject.user_id,
        published_at=now,
        as_of=new.as_of,
        version_label=new.version_label.strip(),
        level=new.level,
        release=new.release,
        classified_by_id=subject.user_id,
        classified_at=now,
        review_on=new.review_on,
    )
    seal_fields(
        session,
        grant,
        output,
        {
            "title": new.title.strip(),
            "summary": new.summary,
            "authors": new.authors.strip(),
            "method": new.method,
            "data_sources": new.data_sources,
            "data_csv": csv_text or None,
            "classification_reason": (new.reason or "").strip() or None,
        },
    )
    search_index.index_item(
        session, SYSTEM_SCOPE, SEARCH_KIND_OUTPUT, output.id,
        [new.summary, new.title.strip(), new.authors.strip(), new.method, new.data_sources], replace=False,
    )  # fmt: skip
    caveats = session.scalars(select(Caveat).where(Caveat.code.in_(new.caveat_codes))).all()
    output.caveat_links = [OutputCaveat(caveat_id=caveat.id) for caveat in caveats]
    output.attachments = []
    session.add(output)
    session.flush()
    for room_id in sorted(new.offer_to):
        room = session.get(Subcommittee, room_id)
        if room is None:
            raise policy.AccessDenied(policy.deny("output.offer", "NOT_FOUND"), conceal=True)
        policy.require(
            session, subject, policy.decide_offer_output(subject, output, room),
            object_type="room", object_id=room.id, level=output.level,
        )  # fmt: skip
        output.attachments.append(
            OutputAttachment(subcommittee_id=room.id, proposed_by_id=subject.user_id, proposed_at=now)
        )
    session.flush()
    policy.record_change(
        session,
        subject,
        "output.publish",
        object_type="output",
        object_id=output.id,
        level=output.level,
        detail={
            "kind": new.kind.value,
            "caveats": sorted(new.caveat_codes),
            "release": new.release.value,
            "offered_to": sorted(str(room_id) for room_id in new.offer_to),
        },
    )
    return output


def selectable_caveats(session: Session, subject: Subject) -> list[Caveat]:
    caveats = session.scalars(select(Caveat).order_by(Caveat.code)).all()
    return [
        c
        for c in caveats
        if c.code in subject.compartments or (c.code == "GOV_ONLY" and subject.is_government)
    ]


def offerable_rooms(session: Session, subject: Subject) -> list[Subcommittee]:
    """The rooms an analyst may offer an output to: their own current rooms."""
    return list(
        session.scalars(
            select(Subcommittee).where(policy.visible_rooms(subject)).order_by(Subcommittee.name_ja)
        )
    )


@dataclass(frozen=True)
class Publisher:
    name: str
    organization: Organization


def publisher_of(session: Session, output: ThinkTankOutput) -> Publisher:
    user = session.get(User, output.published_by_id)
    organization = session.get(Organization, output.organization_id)
    assert user is not None and organization is not None  # foreign keys
    return Publisher(user.display_name, organization)


# --- where an output is shown ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """Where an output is attached or offered, as far as this reader may know, and what they may change."""

    #: (attachment, room) for the rooms the reader belongs to (the publishing analysts see every room).
    attachments: list[tuple[OutputAttachment, Subcommittee]]
    #: Rooms whose attachment the reader may end (or whose offer they may decline).
    detachable: frozenset[uuid.UUID]
    #: Rooms the reader may attach the output to now.
    attachable: list[Subcommittee]


def placement(session: Session, subject: Subject, output: ThinkTankOutput) -> Placement:
    publisher = Role.ANALYST in subject.roles and subject.organization_id == output.organization_id
    shown = {
        a.subcommittee_id
        for a in output.current_attachments
        if publisher or a.subcommittee_id in subject.room_ids
    }
    rooms = {
        room.id: room for room in session.scalars(select(Subcommittee).where(Subcommittee.id.in_(shown)))
    }
    attachments = [
        (a, rooms[a.subcommittee_id]) for a in output.current_attachments if a.subcommittee_id in rooms
    ]
    stewarded = policy.steward_room_ids(subject)
    candidates = session.scalars(
        select(Subcommittee).where(Subcommittee.id.in_(stewarded)).order_by(Subcommittee.name_ja)
    )
    return Placement(
        attachments=attachments,
        detachable=frozenset(
            room_id
            for room_id in rooms
            if policy.decide_detach_output(subject, output, rooms[room_id]).allowed
        ),
        attachable=[
            room
            for room in candidates
            if room.id not in output.attached_room_ids
            and policy.decide_attach_output(subject, output, room).allowed
        ],
    )


# --- attaching and detaching --------------------------------------------------------------------------


class AlreadyAttached(Exception):
    """The output is already attached to that room."""


def _require_on_room(
    session: Session,
    subject: Subject,
    output_id: uuid.UUID,
    room_id: uuid.UUID,
    decide: Callable[[Subject, ThinkTankOutput, Subcommittee], policy.Decision],
) -> tuple[ThinkTankOutput, Subcommittee]:
    """Load both and enforce the decision: an output the subject may not read answers 404; one they read
    but may not attach or detach there answers 403 (a room they cannot enter is not named)."""
    output = _load(session, output_id)
    readable = policy.decide_read_output(subject, output).allowed
    room = session.get(Subcommittee, room_id)
    if room is None:
        raise policy.AccessDenied(policy.deny("output.attach", "NOT_FOUND"), conceal=not readable)
    policy.require(
        session, subject, decide(subject, output, room), object_type="output", object_id=output.id,
        level=output.level, conceal=not readable, detail={"room": str(room.id)},
    )  # fmt: skip
    return output, room


def attach(session: Session, subject: Subject, output_id: uuid.UUID, room_id: uuid.UUID) -> OutputAttachment:
    """Confirm an offer to the room, or attach directly. The room's members read the output from now on."""
    output, room = _require_on_room(session, subject, output_id, room_id, policy.decide_attach_output)
    current = next((a for a in output.current_attachments if a.subcommittee_id == room.id), None)
    if current is not None and current.is_confirmed:
        raise AlreadyAttached(str(room.id))
    now = utcnow()
    if current is None:
        current = OutputAttachment(subcommittee_id=room.id, proposed_by_id=subject.user_id, proposed_at=now)
        output.attachments.append(current)
    current.attached_by_id = subject.user_id
    current.attached_at = now
    session.flush()
    policy.record_change(
        session, subject, "output.attach", object_type="output", object_id=output.id, level=output.level,
        detail={"room": str(room.id), "attachment": str(current.id)},
    )  # fmt: skip
    return current


class NotAttached(Exception):
    """The output is neither attached nor offered to that room."""


def detach(session: Session, subject: Subject, output_id: uuid.UUID, room_id: uuid.UUID) -> OutputAttachment:
    """End an attachment (or decline an offer). The output and the record of the attachment stay."""
    output, room = _require_on_room(session, subject, output_id, room_id, policy.decide_detach_output)
    current = next((a for a in output.current_attachments if a.subcommittee_id == room.id), None)
    if current is None:
        raise NotAttached(str(room.id))
    current.detached_by_id = subject.user_id
    current.detached_at = utcnow()
    session.flush()
    policy.record_change(
        session, subject, "output.detach", object_type="output", object_id=output.id, level=output.level,
        detail={"room": str(room.id), "attachment": str(current.id), "was_confirmed": current.is_confirmed},
    )  # fmt: skip
    return current
