"""Outgoing e-mail (off unless SMTP is configured). Messages carry links, never classified content."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from portal.config import Settings

log = logging.getLogger("portal.mail")


def send(settings: Settings, to: str, subject: str, body: str) -> bool:
    """Send one plain-text message; False when mail is off or the server refuses (logged, never raised)."""
    host = settings.smtp_host
    if not host:
        return False
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(host, settings.smtp_port, timeout=10) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        log.exception("could not send mail (subject %r)", subject)
        return False
    return True


def send_invitation(settings: Settings, to: str, link: str) -> bool:
    body = (
        "協議会ポータルへの招待が届いています。72時間以内に次のリンクからパスワードを設定し、2段階認証を登録してください。\n"
        "You have been invited to the Council Portal. Within 72 hours, open this link to set a password and "
        "two-step sign-in:\n\n"
        f"{link}\n"
    )
    return send(settings, to, "協議会ポータルへの招待 / Invitation to the Council Portal", body)
