"""Outgoing e-mail (off unless SMTP is configured). Messages carry links, never classified content."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from portal.config import Settings

log = logging.getLogger("portal.mail")


@dataclass(frozen=True)
class Outgoing:
    to: str
    subject: str
    body: str


def is_enabled(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def _message(settings: Settings, outgoing: Outgoing) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = outgoing.to
    message["Subject"] = outgoing.subject
    message.set_content(outgoing.body)
    return message


def send_all(settings: Settings, messages: Sequence[Outgoing]) -> list[bool]:
    """Send plain-text messages over one connection; for each, whether the server accepted it.

    Mail off: nothing is sent (all False). A refused message fails alone; a server that cannot be reached
    or drops the connection fails the rest at once (no wait per message). Logged, never raised.
    """
    sent = [False] * len(messages)
    host = settings.smtp_host
    if not host or not messages:
        return sent
    try:
        with smtplib.SMTP(host, settings.smtp_port, timeout=10) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            for index, outgoing in enumerate(messages):
                try:
                    smtp.send_message(_message(settings, outgoing))
                except smtplib.SMTPServerDisconnected:
                    raise
                except smtplib.SMTPException:
                    log.exception("the mail server refused a message (subject %r)", outgoing.subject)
                    smtp.rset()
                else:
                    sent[index] = True
    except (OSError, smtplib.SMTPException):
        log.exception("could not send mail (%d of %d sent)", sum(sent), len(messages))
    return sent


def send(settings: Settings, to: str, subject: str, body: str) -> bool:
    """Send one plain-text message; False when mail is off or the server refuses (logged, never raised)."""
    return send_all(settings, [Outgoing(to, subject, body)])[0]


def send_invitation(settings: Settings, to: str, link: str) -> bool:
    body = (
        "協議会ポータルへの招待が届いています。72時間以内に次のリンクからパスワードを設定し、2段階認証を登録してください。\n"
        "You have been invited to the Council Portal. Within 72 hours, open this link to set a password and "
        "two-step sign-in:\n\n"
        f"{link}\n"
    )
    return send(settings, to, "協議会ポータルへの招待 / Invitation to the Council Portal", body)
