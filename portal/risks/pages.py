"""What the register's pages show: the room's tools panel (registered for risk-review rooms), the charts
with their words, and the messages of refusals."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.enums import RoomRole, SubcommitteeKind
from portal.i18n import REASON_MESSAGES
from portal.meetings.followup_read import today_in
from portal.risks import charts, register
from portal.risks.forms import INFRASTRUCTURE_LABELS, ProposeForm, RejectForm
from portal.risks.models import Infrastructure
from portal.rooms import tools
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.policy import Subject
from portal.thinktank import charts as thinktank_charts
from portal.thinktank import service as outputs
from portal.thinktank.data import Risk as ChartRisk
from portal.thinktank.models import OutputKind
from portal.thinktank.views import risk_band_labels

RISK_MESSAGES = {
    **REASON_MESSAGES,
    "NOT_SECRETARIAT_OR_CHAIR": _l("Only the secretariat or the subcommittee's chair does this."),
    "NOT_OWNER_OR_STEWARD": _l("Only the risk's owner, the secretariat or the chair reviews it."),
    "NOT_CHAIR": _l("Only the subcommittee's chair accepts or rejects proposed changes."),
    "NOT_RISK_REVIEW": _l("Only a risk-review subcommittee keeps a risk register."),
    "NOT_ATTACHED": _l("Attach the assessment to the subcommittee first."),
    "NOT_ANALYST_OR_STEWARD": _l("Only the assessment's analysts, the secretariat or the chair propose it."),
    "NOT_RISK_ASSESSMENT": _l("Only a risk assessment can be proposed into the register."),
    "NO_ROWS": _l("The assessment has no table of risks."),
    "ALREADY_PENDING": _l("Changes from this assessment already await the chair's decision."),
    "ALREADY_DECIDED": _l("This change has already been decided."),
    "OWNER_NOT_MEMBER": _l("The owner must be a current member of the subcommittee."),
    "OWNER_CANNOT_READ": _l("The owner could not read a risk with this marking."),
    "EMPTY_TITLE": _l("This field is required."),
    "EMPTY_NOTE": _l("This field is required."),
    "BAD_SCORE": _l("From 1 to 5."),
    "BAD_DEPENDENCY": _l("Choose dependencies from the list."),
    "BAD_INTERVAL": _l("From 1 to 3660 days."),
    "RETIRED": _l("This risk has been retired from the register."),
    "UNKNOWN_CAVEAT": _l("Choose caveats from the list."),
}


def message(code: str) -> str:
    return str(RISK_MESSAGES.get(code, code))


def infrastructure_labels() -> dict[str, str]:
    return {item.value: str(label) for item, label in INFRASTRUCTURE_LABELS.items()}


def heat_map(lines: list[register.RiskLine]) -> Any:
    """The readable risks at their residual position (where they stand with the measures in place)."""
    risks = [
        ChartRisk(line.title or "", line.risk.residual_likelihood, line.risk.residual_impact)
        for line in lines
    ]
    return thinktank_charts.heat_map(
        "chart-risk-heat-map",
        risks,
        thinktank_charts.HeatMapText(
            title=_("The register by residual likelihood and impact"),
            description=_(
                "A five by five matrix of the risks you may read, at their residual likelihood (1 left to 5 "
                "right) and impact (1 bottom to 5 top). Each cell shows how many risks it holds and their "
                "names; its colour is the band of the score. The same figures are in the table beside it."
            ),
            likelihood=_("Likelihood"),
            impact=_("Impact"),
            bands=risk_band_labels(),
        ),
        cell_width=120,
        cell_height=84,
    )


def dependency_graph(lines: list[register.RiskLine]) -> tuple[Any, list[charts.Edge]]:
    edges = charts.count_edges([line.risk.dependency_edges for line in lines])
    used = {edge.source for edge in edges} | {edge.target for edge in edges}
    nodes = [item.value for item in Infrastructure if item.value in used]
    if not edges:
        return None, edges
    svg = charts.dependency_graph(
        "chart-risk-dependencies",
        nodes,
        edges,
        charts.GraphText(
            title=_("Dependencies between infrastructures"),
            description=_(
                "Each box is an infrastructure; an arrow goes from an infrastructure to one that depends on "
                "it, and the number on it is how many of the risks you may read describe that dependency. "
                "The same figures are in the table beside it."
            ),
            labels=infrastructure_labels(),
            risks=_("risks"),
        ),
    )
    return svg, edges


def trend(entries: list[register.HistoryEntry], current: tuple[int, int], created: date) -> Any:
    """Scores over the risk's history: where it entered the register, then after each recorded change."""
    points = []
    if entries:
        first = entries[0].review
        points.append(
            charts.TrendPoint(format_date(created, "short"), first.score_before, first.residual_score_before)
        )
        for entry in entries:
            review = entry.review
            points.append(
                charts.TrendPoint(
                    format_date(review.reviewed_at, "short"), review.score_after, review.residual_score_after
                )
            )
    else:
        points.append(charts.TrendPoint(format_date(created, "short"), current[0], current[1]))
    return charts.trend_chart(
        "chart-risk-trend",
        points,
        charts.TrendText(
            title=_("Scores over the reviews"),
            description=_(
                "The inherent score (likelihood times impact, solid line with circles) and the residual "
                "score (dashed line with squares), from 0 to 25, when the risk entered the register and "
                "after each review or change. The same figures are in the history table below."
            ),
            inherent=_("Inherent score"),
            residual=_("Residual score"),
            score=_("score"),
        ),
    ), points


def proposable_outputs(session: Session, subject: Subject, room: Subcommittee) -> list[tuple[str, str]]:
    """Risk assessments attached to the room that the subject may propose into its register."""
    choices = []
    for text in outputs.list_for_room(session, subject, room):
        output = text.output
        if output.kind != OutputKind.RISK_ASSESSMENT or room.id not in output.attached_room_ids:
            continue
        if policy.decide_propose_assessment(subject, output, room).allowed:
            choices.append((str(output.id), text.title))
    return choices


@tools.register(SubcommitteeKind.RISK_REVIEW)
def risk_review_tools(session: Session, subject: Subject, room: Subcommittee) -> dict[str, Any]:
    """The room page's lead panel: the register, its heat map and dependency graph, reviews due, and the
    proposed changes awaiting the chair."""
    today = today_in(utcnow())
    kept = register.room_register(session, subject, room, today)
    graph, edges = dependency_graph(kept.readable)
    propose_form = ProposeForm(formdata=None)
    propose_form.output_id.choices = proposable_outputs(session, subject, room)
    return {
        "register": kept,
        "heat_map": heat_map(kept.readable),
        "graph": graph,
        "edges": edges,
        "infrastructures": infrastructure_labels(),
        "can_keep": policy.decide_keep_register(subject, room).allowed,
        "is_chair": subject.room_roles.get(room.id) == RoomRole.CHAIR,
        "proposals": register.room_proposals(session, subject, room, pending_only=True),
        "propose_form": propose_form,
        "reject_form": RejectForm(formdata=None),
        "today": today,
    }
