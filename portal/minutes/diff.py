"""A readable comparison of two revisions of the minutes, portion by portion, for one reader.

Portions are matched by identity across revisions: a portion is added, removed, moved (its order among the
portions of both revisions changed), changed (heading, text or marking) or unchanged. A portion the reader may
not read in either revision is a withheld line: nothing about it is compared or shown.
"""

from __future__ import annotations

import difflib
import uuid
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from portal.documents.service import DiffRow, side_by_side
from portal.minutes.models import PortionText
from portal.minutes.service import MinutesView, PortionView, minutes_for_reader
from portal.security.policy import Subject


@dataclass(frozen=True)
class PortionChange:
    portion_id: uuid.UUID
    #: added, removed, changed, moved, unchanged, withheld
    kind: str
    readable: bool
    left: PortionView | None
    right: PortionView | None
    moved: bool = False
    heading_changed: bool = False
    body_changed: bool = False
    marking_changed: bool = False
    rows: list[DiffRow] = field(default_factory=list)


@dataclass(frozen=True)
class Comparison:
    left: MinutesView
    right: MinutesView
    changes: list[PortionChange]

    @property
    def changed_count(self) -> int:
        return sum(1 for change in self.changes if change.kind not in ("unchanged", "withheld"))


def _marking(text: PortionText) -> tuple[object, ...]:
    return (
        text.level,
        text.release,
        text.caveat_codes,
        text.named_reader_ids,
        text.release_organization_ids,
        text.origin_organization_id,
    )


def _moved_ids(left: list[uuid.UUID], right: list[uuid.UUID]) -> set[uuid.UUID]:
    """Portions of both revisions that are not in the longest common order: those moved."""
    common = set(left) & set(right)
    a = [pid for pid in left if pid in common]
    b = [pid for pid in right if pid in common]
    kept: set[uuid.UUID] = set()
    for block in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_matching_blocks():
        kept.update(a[block.a : block.a + block.size])
    return common - kept


def _change(left: PortionView | None, right: PortionView | None, moved: bool) -> PortionChange:
    shown = right or left
    assert shown is not None
    readable = all(view.readable for view in (left, right) if view is not None)
    if not readable:
        return PortionChange(shown.portion_id, "withheld", False, None, None)
    if left is None or right is None:
        kind = "added" if left is None else "removed"
        rows = side_by_side(left.body or "" if left else "", right.body or "" if right else "")
        return PortionChange(shown.portion_id, kind, True, left, right, rows=rows)
    heading_changed = left.heading != right.heading
    body_changed = left.body != right.body
    marking_changed = _marking(left.text) != _marking(right.text)
    changed = heading_changed or body_changed or marking_changed
    kind = "changed" if changed else ("moved" if moved else "unchanged")
    return PortionChange(
        shown.portion_id, kind, True, left, right, moved, heading_changed, body_changed, marking_changed,
        side_by_side(left.body or "", right.body or "") if body_changed else [],
    )  # fmt: skip


def compare(session: Session, subject: Subject, meeting_id: uuid.UUID, a: int, b: int) -> Comparison:
    """Compare revision ``a`` (left) with revision ``b`` (right), both as the reader may see them (404 for a
    revision they may not see). Portions follow ``b``'s order; a removed one stands after the portion that
    preceded it in ``a``."""
    left = minutes_for_reader(session, subject, meeting_id, a)
    right = minutes_for_reader(session, subject, meeting_id, b)
    left_by_id = {view.portion_id: view for view in left.portions}
    right_by_id = {view.portion_id: view for view in right.portions}
    moved = _moved_ids(list(left_by_id), list(right_by_id))
    order: list[uuid.UUID] = list(right_by_id)
    for index, pid in enumerate(left_by_id):
        if pid in right_by_id:
            continue
        before = [other for other in list(left_by_id)[:index] if other in order]
        order.insert(order.index(before[-1]) + 1 if before else 0, pid)
    changes = [_change(left_by_id.get(pid), right_by_id.get(pid), pid in moved) for pid in order]
    return Comparison(left, right, changes)
