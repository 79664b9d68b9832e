"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1), what it received decoded, and meeting parts with
sealed texts to look for in what was sent."""

from __future__ import annotations

import email
import email.policy
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from portal.enums import Level, ReleaseMarking
from portal.meetings import access, parts
from portal.meetings.forms import PartMarkingInput
from portal.meetings.models import ActionItem, AgendaItem, Finding, Meeting
from portal.rooms.models import Subcommittee
from tests.meetings_support import subject_of


@dataclass(frozen=True)
class Received:
    mail_from: str
    recipients: tuple[str, ...]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        content = self.message.get_body(("plain",))
        assert content is not None
        return str(content.get_content())  # type: ignore[attr-defined]

    def decoded(self) -> str:
        """Every header (RFC 2047 decoded) and the body (base64 / quoted-printable decoded)."""
        message = self.message
        headers = "\n".join(f"{name}: {value}" for name, value in message.items())
        return f"{headers}\n\n{self.body}"


@dataclass
class SmtpSink:
    """What the server accepted; ``refuse`` makes it answer every message with a permanent failure."""

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[Received] = field(default_factory=list)
    refuse: bool = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return "554 5.7.1 Message refused"
        self.messages.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def settings(self, **extra: Any) -> dict[str, Any]:
        return {"smtp_host": self.host, "smtp_port": self.port, **extra}

    def by_recipient(self) -> dict[str, Received]:
        found: dict[str, Received] = {}
        for received in self.messages:
            for recipient in received.recipients:
                assert recipient not in found, f"{recipient} got two messages"
                found[recipient] = received
        return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[SmtpSink]:
    sink = SmtpSink(port=free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


# --- meeting parts with sealed texts -------------------------------------------------------------------


def _marking(level: Level) -> PartMarkingInput:
    reason = "試験のための指定" if level >= Level.CONFIDENTIAL else None
    return PartMarkingInput(level, ReleaseMarking.GREEN, frozenset(), frozenset(), frozenset(), reason)


def _mark(
    session: Session, email_address: str, meeting: Meeting, part: Any, level: Level, object_type: str
) -> tuple[Any, Subcommittee]:
    subject = subject_of(session, email_address)
    room = session.get(Subcommittee, meeting.subcommittee_id)
    assert room is not None
    marking = _marking(level)
    grant = parts.require_mark(
        session,
        subject,
        room,
        marking,
        rule=f"{object_type}.write",
        object_type=object_type,
        object_id=part.id,
    )
    parts.apply_marking(session, subject, grant, part, room.id, marking)
    return grant, room


def add_agenda_item(
    session: Session,
    meeting_id: uuid.UUID,
    title: str,
    level: Level = Level.RESTRICTED,
    *,
    position: int = 0,
    presenter: str = "事務局",
    email_address: str = "sato@cao.example.jp",
) -> uuid.UUID:
    meeting = session.get(Meeting, meeting_id)
    assert meeting is not None
    item = AgendaItem(id=uuid.uuid4(), meeting_id=meeting_id, position=position, duration_minutes=10)
    grant, room = _mark(session, email_address, meeting, item, level, "agenda_item")
    access.seal_part(session, grant, item, room.id, {"title": title, "presenter": presenter})
    session.add(item)
    session.flush()
    return item.id


def add_finding(
    session: Session, meeting_id: uuid.UUID, body: str, level: Level = Level.RESTRICTED
) -> uuid.UUID:
    meeting = session.get(Meeting, meeting_id)
    assert meeting is not None
    author = subject_of(session, "sato@cao.example.jp")
    finding = Finding(id=uuid.uuid4(), meeting_id=meeting_id, created_by_id=author.user_id)
    grant, room = _mark(session, "sato@cao.example.jp", meeting, finding, level, "finding")
    access.seal_part(session, grant, finding, room.id, {"body": body})
    session.add(finding)
    session.flush()
    return finding.id


def add_action_item(
    session: Session, meeting_id: uuid.UUID, title: str, owner_id: uuid.UUID, level: Level = Level.RESTRICTED
) -> uuid.UUID:
    meeting = session.get(Meeting, meeting_id)
    assert meeting is not None
    author = subject_of(session, "sato@cao.example.jp")
    action = ActionItem(
        id=uuid.uuid4(), meeting_id=meeting_id, owner_id=owner_id, created_by_id=author.user_id
    )
    grant, room = _mark(session, "sato@cao.example.jp", meeting, action, level, "action_item")
    access.seal_part(session, grant, action, room.id, {"title": title})
    session.add(action)
    session.flush()
    return action.id
