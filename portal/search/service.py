"""Searching everything a subject may read. No Flask.

1. The query becomes terms and token texts (:mod:`portal.security.blind_index`); for every scope the subject
   may search, the token texts become that scope's tokens (each room's own index key).
2. One SQL statement finds the candidates: items holding all of the query's tokens, joined to their own
   table and filtered by the policy's SQL filter, in a stable order (newest first), at most
   ``candidate_limit`` of them.
3. Each candidate is opened with the grant of its per-object decision, and confirmed: its normalised text
   must contain every term. Only confirmed items are counted, paged and shown.

A hidden item never reaches step 3, and the limit in step 2 applies after the policy's filter, so what a
subject sees (results, total, pages, snippets, the "more than" notice) is the same as if every item they
may not read did not exist.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

from markupsafe import Markup, escape
from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from portal.enums import Level
from portal.search.index import query_keys
from portal.search.kinds import KINDS, Hit, SearchKind
from portal.search.models import SearchToken
from portal.security import audit
from portal.security.blind_index import Query, contains_all, normalise, parse_query
from portal.security.policy import Subject

PAGE_SIZE = 20
#: At most this many candidates (after the policy's filter) are opened and confirmed per search. When more
#: match, the page says so ("more than N") and asks for a narrower query.
CANDIDATE_LIMIT = 200
#: Ids per SELECT when candidates are opened.
OPEN_BATCH = 500
SNIPPET_BEFORE = 30
SNIPPET_LENGTH = 140


@dataclass(frozen=True)
class Result:
    hit: Hit
    snippet: Markup


@dataclass(frozen=True)
class SearchPage:
    query: Query
    results: list[Result]
    #: Confirmed results (all of them, or those among the first ``candidate_limit`` candidates).
    total: int
    page: int
    page_size: int
    #: More candidates matched than were confirmed: ``total`` is a lower bound.
    capped: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _candidates(
    session: Session, subject: Subject, query: Query, kinds: list[SearchKind], limit: int
) -> list[tuple[str, uuid.UUID]]:
    scopes: set[uuid.UUID | None] = set()
    for kind in kinds:
        scopes |= kind.scopes(subject)
    keys = query_keys(session, scopes)
    if not keys or not query.token_texts:
        return []
    tokens = {key.token(text) for key in keys for text in query.token_texts}
    # An item holds only its own scope's tokens, so "all n tokens of one scope" is a count of n (or more,
    # should a 64-bit token of another scope collide with one of its own: confirmation sorts that out).
    matched = (
        select(SearchToken.item_kind, SearchToken.item_id)
        .where(SearchToken.token.in_(tokens))
        .group_by(SearchToken.item_kind, SearchToken.item_id)
        .having(func.count() >= len(query.token_texts))
        .cte("matched")
    )
    candidates = union_all(*(kind.candidates(subject, matched) for kind in kinds)).subquery("candidates")
    rows = session.execute(
        select(candidates.c.item_kind, candidates.c.item_id)
        .order_by(candidates.c.sort_at.desc(), candidates.c.item_kind, candidates.c.item_id)
        .limit(limit)
    ).all()
    return [(str(kind), uuid.UUID(str(item_id))) for kind, item_id in rows]


def _open(
    session: Session, subject: Subject, candidates: list[tuple[str, uuid.UUID]]
) -> dict[tuple[str, uuid.UUID], Hit]:
    by_kind: dict[str, list[uuid.UUID]] = defaultdict(list)
    for kind_name, item_id in candidates:
        by_kind[kind_name].append(item_id)
    opened: dict[tuple[str, uuid.UUID], Hit] = {}
    for kind_name, ids in by_kind.items():
        kind = KINDS[kind_name]
        for start in range(0, len(ids), OPEN_BATCH):
            for item_id, hit in kind.open(session, subject, ids[start : start + OPEN_BATCH]).items():
                opened[(kind_name, item_id)] = hit
    return opened


def search(
    session: Session,
    subject: Subject,
    raw_query: str,
    page: int = 1,
    *,
    page_size: int = PAGE_SIZE,
    candidate_limit: int = CANDIDATE_LIMIT,
) -> SearchPage:
    query = parse_query(raw_query)
    page = max(1, page)
    if query.too_short:
        return SearchPage(query, [], 0, page, page_size)
    kinds = list(KINDS.values())
    candidates = _candidates(session, subject, query, kinds, candidate_limit + 1)
    capped = len(candidates) > candidate_limit
    candidates = candidates[:candidate_limit]
    opened = _open(session, subject, candidates)
    confirmed = [
        hit
        for hit in (opened.get(candidate) for candidate in candidates)
        if hit is not None and contains_all(normalise("\n".join(hit.texts)), query.terms)
    ]
    shown = confirmed[(page - 1) * page_size : page * page_size]
    _audit_classified(session, subject, shown)
    results = [Result(hit, snippet(hit.texts, query.terms)) for hit in shown]
    return SearchPage(query, results, len(confirmed), page, page_size, capped)


def _audit_classified(session: Session, subject: Subject, shown: list[Hit]) -> None:
    """A snippet of CONFIDENTIAL or higher is a read, recorded like one (never the query or any text)."""
    for hit in shown:
        if hit.level >= Level.CONFIDENTIAL:
            audit.record(
                session,
                audit.AuditEvent(
                    actor=subject.actor,
                    action="search.result",
                    allowed=True,
                    rule=hit.read_rule,
                    reason="OK",
                    object_type=hit.object_type,
                    object_id=str(hit.object_id),
                    level=int(hit.level),
                    detail={"kind": hit.kind, "item": str(hit.item_id)},
                    survives_rollback=True,
                ),
            )


# --- snippets -------------------------------------------------------------------------------------


def _normalised_with_offsets(text: str) -> tuple[str, list[int]]:
    """The text normalised character by character, and for each normalised character its original index."""
    whole = normalise(text)
    if len(whole) == len(text):  # the common case (no character expands or merges): positions are kept
        return whole, list(range(len(text)))
    parts: list[str] = []
    offsets: list[int] = []
    for index, character in enumerate(text):
        normalised = normalise(character)
        parts.append(normalised)
        offsets.extend([index] * len(normalised))
    return "".join(parts), offsets


def _spans(text: str, terms: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where the terms occur in ``text``, as (start, end) in the original characters."""
    normalised, offsets = _normalised_with_offsets(text)
    spans = []
    for term in terms:
        start = normalised.find(term)
        while start != -1:
            end = start + len(term)
            spans.append((offsets[start], offsets[end - 1] + 1))
            start = normalised.find(term, end)
    return sorted(spans)


def snippet(texts: tuple[str, ...], terms: tuple[str, ...]) -> Markup:
    """A window of plain text around the first match, HTML-escaped, each match in ``<mark>``."""
    flat, spans = "", []
    for text in texts:
        flat = " ".join(text.split())
        spans = _spans(flat, terms)
        if spans:
            break
    else:
        flat = " ".join(texts[0].split()) if texts else ""
    start = max(0, spans[0][0] - SNIPPET_BEFORE) if spans else 0
    end = min(len(flat), start + SNIPPET_LENGTH)
    pieces: list[Markup] = [Markup("…")] if start > 0 else []
    position = start
    for span_start, span_end in spans:
        span_start, span_end = max(span_start, position), min(span_end, end)
        if span_start >= span_end:
            continue
        pieces.append(escape(flat[position:span_start]))
        pieces.append(Markup("<mark>") + escape(flat[span_start:span_end]) + Markup("</mark>"))
        position = span_end
    pieces.append(escape(flat[position:end]))
    if end < len(flat):
        pieces.append(Markup("…"))
    return Markup("").join(pieces)
