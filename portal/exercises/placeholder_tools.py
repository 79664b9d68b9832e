"""TEMPORARY, branch feat7-ttx only — drop this module (and its import in ``portal.app``) at merge.

The risk register's branch registers the tools of risk-review rooms (``portal.risks``) and its
``rooms/_tools_risk_review.html`` includes ``exercises/_panel.html``. Until then the room page includes the
tools template only when a function is registered for the kind: this registers an empty context, and only
when nothing else has (so it never replaces the risk register's)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from portal.enums import SubcommitteeKind
from portal.rooms import tools
from portal.rooms.models import Subcommittee
from portal.security.policy import Subject


def _exercises_only(session: Session, subject: Subject, room: Subcommittee) -> dict[str, Any]:
    return {}


if SubcommitteeKind.RISK_REVIEW not in tools.TOOLS:
    tools.register(SubcommitteeKind.RISK_REVIEW)(_exercises_only)
