"""What the work plan and recommendation pages share: forms filled with this reader's choices, refusals put
in words, and saves that roll back on a refusal (routes: :mod:`views`, :mod:`recommendation_views`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from portal.db import request_session, utcnow
from portal.i18n import REASON_MESSAGES
from portal.meetings.parts import InvalidMarking, fill_marking_choices
from portal.policywork.service import PolicyWorkRefused
from portal.rooms import service as rooms
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.web import current_subject

MESSAGES = {
    **REASON_MESSAGES,
    "NOT_SECRETARIAT_OR_CHAIR": _l("Only the secretariat or the subcommittee's chair does this."),
    "NOT_POLICY_COORDINATION": _l(
        "Only a policy-coordination subcommittee has a work plan and recommendations."
    ),
    "TRANSITION_NOT_ALLOWED": _l(
        "A recommendation moves one step at a time (or from deliberation back to drafting)."
    ),
    "OWNER_NOT_MEMBER": _l("The owner must be a current member of the subcommittee."),
    "OWNER_CANNOT_READ": _l("The owner could not read an item with this marking."),
    "LINK_UNKNOWN": _l("Choose material from the list."),
    "EMPTY_TEXT": _l("This field is required."),
    "UNKNOWN_CAVEAT": _l("Choose caveats from the list."),
}


def message(code: str) -> str:
    return str(MESSAGES.get(code, code))


def locale() -> str:
    return str(get_locale() or "ja")


def owner_choices(room: Subcommittee) -> list[tuple[str, str]]:
    seen: set[uuid.UUID] = set()
    choices = [("", "—")]
    for entry in rooms.member_roster(request_session(), room.id, utcnow()):
        if entry.user_id not in seen:
            seen.add(entry.user_id)
            choices.append((str(entry.user_id), f"{entry.display_name} ({entry.organization(locale())})"))
    return choices


def prepare_marked_form(form: Any, room: Subcommittee) -> Any:
    fill_marking_choices(request_session(), current_subject(), form, room, locale())
    form.owner.choices = owner_choices(room)
    return form


def save(form: Any, action: Callable[[], object]) -> int | None:
    """Run a save; on a refusal roll back, put the reason on the form and return the status to answer (a
    concealed denial still answers 404)."""
    try:
        action()
    except policy.AccessDenied as denied:
        request_session().rollback()
        if denied.conceal:
            raise
        form.form_errors.append(message(denied.decision.reason))
        return 403
    except InvalidMarking as invalid:
        request_session().rollback()
        form.form_errors.append(message(invalid.reason))
        return 400
    except PolicyWorkRefused as refused:
        request_session().rollback()
        form.form_errors.append(message(refused.code))
        return 400
    request_session().commit()
    return None


def optional_id(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None
