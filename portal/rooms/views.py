"""The member's overview (their rooms) and a room's page."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from portal.accounts.models import User
from portal.db import request_session, utcnow
from portal.rooms import service

blueprint = Blueprint("rooms", __name__)


@blueprint.get("/")
@login_required
def overview() -> ResponseReturnValue:
    user: User = current_user
    return render_template("rooms/overview.html", rooms=service.rooms_for(request_session(), user, utcnow()))


@blueprint.get("/rooms/<uuid:room_id>")
@login_required
def room(room_id: uuid.UUID) -> ResponseReturnValue:
    user: User = current_user
    now = utcnow()
    try:
        subcommittee = service.open_room(request_session(), user, room_id, now)
    except service.RoomNotFound:
        abort(404)
    members = service.current_members(request_session(), subcommittee.id, now)
    return render_template("rooms/room.html", room=subcommittee, members=members)
