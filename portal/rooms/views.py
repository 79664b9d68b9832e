"""The member's overview (their rooms) and a room's page."""

from __future__ import annotations

import uuid

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import login_required

from portal.db import request_session, utcnow
from portal.documents import service as document_service
from portal.meetings import followup_read
from portal.meetings.views import room_panel as meetings_panel
from portal.risks import register as risk_register
from portal.rooms import service
from portal.rooms import tools as room_tools
from portal.security import policy
from portal.security.web import current_subject, performs
from portal.thinktank import service as output_service

blueprint = Blueprint("rooms", __name__)


@blueprint.get("/")
@login_required
@performs("room.list")
def overview() -> ResponseReturnValue:
    subject = current_subject()
    rooms = service.rooms_for(request_session(), subject, utcnow())
    my_open_actions = followup_read.my_actions(
        request_session(), subject, followup_read.today_in(utcnow()), open_only=True, limit=5
    )
    reviews_due = risk_register.reviews_due(request_session(), subject, followup_read.today_in(utcnow()))
    return render_template(
        "rooms/overview.html", rooms=rooms, my_open_actions=my_open_actions, reviews_due=reviews_due
    )


@blueprint.get("/rooms/<uuid:room_id>")
@login_required
@performs("room.enter")
def room(room_id: uuid.UUID) -> ResponseReturnValue:
    subject = current_subject()
    subcommittee = service.open_room(request_session(), subject, room_id)
    # The page shows the member count and links to the list (a room has hundreds: most of the page's HTML).
    member_count = service.member_count(request_session(), subcommittee.id, utcnow())
    documents = document_service.list_documents(
        request_session(), subject, subcommittee, page=request.args.get("page", 1, type=int)
    )
    return render_template(
        "rooms/room.html",
        room=subcommittee,
        member_count=member_count,
        documents=documents.items,
        document_page=documents,
        outputs=output_service.list_for_room(request_session(), subject, subcommittee),
        can_create=policy.decide_create_document(subject, subcommittee).allowed,
        **meetings_panel(subcommittee),
        tools=room_tools.context_for(request_session(), subject, subcommittee),
    )


@blueprint.get("/rooms/<uuid:room_id>/members")
@login_required
@performs("room.enter")
def members(room_id: uuid.UUID) -> ResponseReturnValue:
    """The room's members: decided like the room itself (a room one may not enter answers 404)."""
    subcommittee = service.open_room(request_session(), current_subject(), room_id)
    roster = service.member_roster(request_session(), subcommittee.id, utcnow())
    return render_template("rooms/members.html", room=subcommittee, members=roster)
