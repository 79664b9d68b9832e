"""The rapid-response room's panel on the room page: the latest reports with what is new to the reader, the
open countermeasures by status, and 招集 (convening at short notice) one click away."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from portal.enums import SubcommitteeKind
from portal.rooms import tools
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.policy import Subject
from portal.situation import countermeasures, service
from portal.situation.forms import SEVERITY_LABELS, STATUS_LABELS
from portal.situation.models import CountermeasureStatus

LATEST = 5


@tools.register(SubcommitteeKind.RAPID_RESPONSE)
def rapid_response_tools(session: Session, subject: Subject, room: Subcommittee) -> dict[str, Any]:
    board = service.board(session, subject, room, limit=LATEST)
    items = countermeasures.list_countermeasures(session, subject, room)
    open_items = [entry for entry in items if entry.item.status in countermeasures.OPEN_STATUSES]
    return {
        "board": board,
        "new_count": service.new_count(session, subject, room),
        "open_countermeasures": open_items,
        "counts": countermeasures.open_count_by_status(items),
        "statuses": list(CountermeasureStatus),
        "status_labels": STATUS_LABELS,
        "severity_labels": SEVERITY_LABELS,
        "can_post": service.may_post(subject, room),
        "can_convene": policy.decide_manage_meeting(subject, room, "meeting.convene").allowed,
    }
