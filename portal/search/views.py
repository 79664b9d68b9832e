"""The search page: one box for everything the user may read."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import login_required

from portal.db import request_session
from portal.search import service
from portal.security import policy
from portal.security.blind_index import MAX_QUERY_CHARS
from portal.security.web import current_subject, performs

blueprint = Blueprint("search", __name__)


@blueprint.get("/search")
@login_required
@performs("search")
def search() -> ResponseReturnValue:
    subject = current_subject()
    policy.require(
        request_session(), subject, policy.decide_search(subject), object_type="search", object_id="-"
    )
    raw = request.args.get("q", "")[:MAX_QUERY_CHARS]
    page = request.args.get("page", 1, type=int) or 1
    found = None
    if raw.strip():
        found = service.search(
            request_session(),
            subject,
            raw,
            page,
            page_size=service.PAGE_SIZE,
            candidate_limit=service.CANDIDATE_LIMIT,
        )
    return render_template("search/results.html", q=raw, found=found)
