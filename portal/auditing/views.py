"""The auditor's pages: the trail with filters, CSV export, and the chain's verification status."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue
from flask_login import login_required

from portal.auditing import service
from portal.db import request_session, utcnow
from portal.security.web import current_subject, performs

blueprint = Blueprint("audit", __name__, url_prefix="/audit")


def _date(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _filters() -> service.AuditFilter:
    decision = request.args.get("decision") or None
    return service.AuditFilter(
        user_email=(request.args.get("user") or "").strip()[:254] or None,
        action=(request.args.get("action") or "").strip()[:64] or None,
        decision=decision if decision in {"allowed", "denied"} else None,
        since=_date("since"),
        until=_date("until"),
    )


@blueprint.get("/")
@login_required
@performs("audit.view")
def trail() -> ResponseReturnValue:
    filters = _filters()
    page = request.args.get("page", "1")
    result = service.page_of_entries(
        request_session(), current_subject(), filters, int(page) if page.isdigit() else 1
    )
    return render_template("audit/trail.html", result=result, filters=filters, args=request.args)


@blueprint.get("/export.csv")
@login_required
@performs("audit.export")
def export() -> ResponseReturnValue:
    session = request_session()
    rows = service.export_csv(session, current_subject(), _filters())
    first = next(rows)  # runs the policy check (and its audit entry) before the response starts
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")

    def body() -> Iterator[str]:
        # The request's teardown closes the session when the view returns, before the rows stream; the
        # reads below begin a new transaction on it, which nothing else would end: close it here.
        try:
            yield first
            yield from rows
        finally:
            session.close()

    return Response(
        stream_with_context(body()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
    )


@blueprint.get("/verify")
@login_required
@performs("audit.verify")
def verify() -> ResponseReturnValue:
    result = service.verification(request_session(), current_subject())
    return render_template("audit/verify.html", result=result)
