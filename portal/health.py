"""GET /healthz: 200 with JSON when the database answers, 503 when it does not."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

blueprint = Blueprint("health", __name__)
log = logging.getLogger("portal.health")


@blueprint.get("/healthz")
def healthz() -> ResponseReturnValue:
    try:
        with current_app.extensions["portal_db"].engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.warning("health check: database unreachable")
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200
