"""The tools a room's page leads with, by the room's kind (issue 7: each kind of subcommittee works
differently). Each kind's feature provides one function that returns the template context of its panel for
this reader; the room page includes ``rooms/_tools_<kind>.html`` with it.

A kind whose tools are not built yet has no entry: its page shows the documents and meetings only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from portal.enums import SubcommitteeKind
from portal.rooms.models import Subcommittee
from portal.security.policy import Subject

ToolsContext = Callable[[Session, Subject, Subcommittee], dict[str, Any]]

#: Filled by each kind's feature (see ``register``), imported by the app factory.
TOOLS: dict[SubcommitteeKind, ToolsContext] = {}


def register(kind: SubcommitteeKind) -> Callable[[ToolsContext], ToolsContext]:
    def decorate(function: ToolsContext) -> ToolsContext:
        TOOLS[kind] = function
        return function

    return decorate


def context_for(session: Session, subject: Subject, room: Subcommittee) -> dict[str, Any] | None:
    """The context of the room's tools panel for this reader, or None when its kind has none yet."""
    build = TOOLS.get(room.kind)
    return None if build is None else build(session, subject, room)
