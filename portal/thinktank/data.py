"""The tables an output carries, as the analyst types them: validated row by row, and measured.

A supply-chain analysis carries its dependencies (material, stage, country, share %, alternative sources);
a risk assessment its risks (name, likelihood 1–5, impact 1–5). Either the whole text is valid and every
row is kept, or nothing is and :class:`DataError` lists each bad row with a translated message.
No Flask request here; messages are lazy strings, translated when shown.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

#: More rows than any analysis needs; a pasted file beyond it is refused rather than drawn.
MAX_ROWS = 1000
#: Shares of one material and stage may add up to a little more than 100 (rounding in the sources).
SHARE_SUM_TOLERANCE = 0.5
#: The most errors reported at once (the rest are counted).
MAX_ERRORS = 30

DEPENDENCY_HEADERS = frozenset({"material", "素材", "鉱物", "品目", "物資", "重要物資"})
RISK_HEADERS = frozenset({"risk", "リスク", "リスク名", "name"})


@dataclass(frozen=True)
class RowError:
    #: The line of the text the error is on (1 = the first line, a header counts).
    row: int
    message: LazyString | str

    def __str__(self) -> str:
        return str(self.message)


class DataError(Exception):
    """The text has bad rows; nothing of it was taken."""

    def __init__(self, errors: list[RowError], more: int = 0) -> None:
        super().__init__(f"{len(errors) + more} bad rows")
        self.errors = errors
        #: Errors beyond :data:`MAX_ERRORS`, counted but not listed.
        self.more = more


@dataclass(frozen=True)
class Dependency:
    material: str
    stage: str
    country: str
    #: Percent of the world's supply at this stage, 0–100.
    share: float
    alternatives: str = ""


@dataclass(frozen=True)
class Risk:
    name: str
    likelihood: int
    impact: int

    @property
    def score(self) -> int:
        return self.likelihood * self.impact


def _clean(cell: str) -> str:
    return unicodedata.normalize("NFKC", cell).strip()


def _number(cell: str) -> float | None:
    text = _clean(cell).removesuffix("%").replace(",", "").strip()
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None  # no NaN, no infinity


def _rows(text: str) -> list[tuple[int, list[str]]]:
    """Numbered, non-blank rows. A header row (its first cell a known column name) is skipped."""
    reader = csv.reader(io.StringIO(text.replace("\r\n", "\n").replace("\r", "\n")))
    return [(number, cells) for number, cells in enumerate(reader, start=1) if any(c.strip() for c in cells)]


def _drop_header(
    rows: list[tuple[int, list[str]]], headers: frozenset[str], number_column: int
) -> list[tuple[int, list[str]]]:
    """Skip a first row that names the columns: a known first column name, and no number where one goes."""
    if not rows:
        return rows
    cells = rows[0][1]
    named = _clean(cells[0]).casefold() in headers
    if named and (len(cells) <= number_column or _number(cells[number_column]) is None):
        return rows[1:]
    return rows


class _Collector:
    def __init__(self) -> None:
        self.errors: list[RowError] = []
        self.more = 0

    def add(self, row: int, message: LazyString) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(row, message))
        else:
            self.more += 1

    def raise_if_any(self) -> None:
        if self.errors:
            raise DataError(self.errors, self.more)


def _too_long(rows: list[tuple[int, list[str]]], found: _Collector) -> bool:
    if len(rows) > MAX_ROWS:
        found.add(
            rows[MAX_ROWS][0],
            _l("Row %(row)d: at most %(limit)d rows.", row=rows[MAX_ROWS][0], limit=MAX_ROWS),
        )
        return True
    return False


def parse_dependencies(text: str) -> list[Dependency]:
    """``material, stage, country, share %[, alternative sources]`` per line; a header line is optional."""
    found = _Collector()
    rows = _drop_header(_rows(text), DEPENDENCY_HEADERS, 3)
    if _too_long(rows, found):
        found.raise_if_any()
    dependencies: list[Dependency] = []
    totals: dict[tuple[str, str], float] = defaultdict(float)
    first_seen: dict[tuple[str, str, str], int] = {}
    for number, cells in rows:
        if len(cells) not in (4, 5):
            found.add(
                number,
                _l(
                    "Row %(row)d: expected 4 or 5 columns (material, stage, country, share %%, alternative "
                    "sources), found %(count)d.",
                    row=number,
                    count=len(cells),
                ),
            )
            continue
        material, stage, country = (_clean(cell) for cell in cells[:3])
        share = _number(cells[3])
        bad = False
        for value, message in (
            (material, _l("Row %(row)d: the material is missing.", row=number)),
            (stage, _l("Row %(row)d: the stage is missing.", row=number)),
            (country, _l("Row %(row)d: the country is missing.", row=number)),
        ):
            if not value:
                found.add(number, message)
                bad = True
        if share is None or not 0 <= share <= 100:
            found.add(number, _l("Row %(row)d: share must be a number between 0 and 100.", row=number))
            bad = True
        if bad or share is None:
            continue
        key = (material.casefold(), stage.casefold(), country.casefold())
        if key in first_seen:
            found.add(
                number,
                _l(
                    "Row %(row)d: %(material)s, %(stage)s, %(country)s is already in row %(first)d.",
                    row=number,
                    material=material,
                    stage=stage,
                    country=country,
                    first=first_seen[key],
                ),
            )
            continue
        first_seen[key] = number
        totals[key[:2]] += share
        total = f"{totals[key[:2]]:g}"
        if totals[key[:2]] > 100 + SHARE_SUM_TOLERANCE:
            found.add(
                number,
                _l(
                    "Row %(row)d: the shares of %(material)s (%(stage)s) add up to %(total)s%%, "
                    "more than 100.",
                    row=number,
                    material=material,
                    stage=stage,
                    total=total,
                ),
            )
            continue
        alternatives = _clean(cells[4]) if len(cells) == 5 else ""
        dependencies.append(Dependency(material, stage, country, share, alternatives))
    if not rows:
        found.add(1, _l("Row %(row)d: no rows were given.", row=1))
    found.raise_if_any()
    return dependencies


def _level_1_to_5(cell: str) -> int | None:
    value = _number(cell)
    if value is None or value != int(value) or not 1 <= value <= 5:
        return None
    return int(value)


def parse_risks(text: str) -> list[Risk]:
    """``risk, likelihood 1–5, impact 1–5`` per line; a header line is optional."""
    found = _Collector()
    rows = _drop_header(_rows(text), RISK_HEADERS, 1)
    if _too_long(rows, found):
        found.raise_if_any()
    risks: list[Risk] = []
    for number, cells in rows:
        if len(cells) != 3:
            found.add(
                number,
                _l(
                    "Row %(row)d: expected 3 columns (risk, likelihood, impact), found %(count)d.",
                    row=number,
                    count=len(cells),
                ),
            )
            continue
        name = _clean(cells[0])
        likelihood, impact = _level_1_to_5(cells[1]), _level_1_to_5(cells[2])
        if not name:
            found.add(number, _l("Row %(row)d: the risk's name is missing.", row=number))
        if likelihood is None:
            found.add(number, _l("Row %(row)d: likelihood must be a whole number from 1 to 5.", row=number))
        if impact is None:
            found.add(number, _l("Row %(row)d: impact must be a whole number from 1 to 5.", row=number))
        if name and likelihood is not None and impact is not None:
            risks.append(Risk(name, likelihood, impact))
    if not rows:
        found.add(1, _l("Row %(row)d: no rows were given.", row=1))
    found.raise_if_any()
    return risks


# --- concentration ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageShares:
    """One bar of the share chart: a material at one stage, its countries largest first."""

    material: str
    stage: str
    shares: tuple[tuple[str, float], ...]

    @property
    def reported(self) -> float:
        return min(100.0, sum(share for _country, share in self.shares))

    @property
    def hhi(self) -> float:
        return herfindahl_hirschman([share for _country, share in self.shares])


@dataclass(frozen=True)
class Concentration:
    """A material's concentration: the HHI of its most concentrated stage (the bottleneck)."""

    material: str
    stage: str
    hhi: float
    top_country: str
    top_share: float


def herfindahl_hirschman(shares_percent: list[float]) -> float:
    """The Herfindahl–Hirschman index on the 0–10000 scale: the sum of squared shares in percent.

    A share not reported (the rest up to 100) counts as spread over many small suppliers (adds nothing):
    the index is then a lower bound.
    """
    return sum(share * share for share in shares_percent)


def stage_shares(dependencies: list[Dependency]) -> list[StageShares]:
    """Bars in the order materials and stages first appear in the text."""
    grouped: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for dependency in dependencies:
        grouped.setdefault((dependency.material, dependency.stage), []).append(
            (dependency.country, dependency.share)
        )
    return [
        StageShares(material, stage, tuple(sorted(shares, key=lambda item: -item[1])))
        for (material, stage), shares in grouped.items()
    ]


def concentrations(dependencies: list[Dependency]) -> list[Concentration]:
    """One entry per material (in order of appearance), at its most concentrated stage."""
    worst: dict[str, StageShares] = {}
    for bar in stage_shares(dependencies):
        if bar.material not in worst or bar.hhi > worst[bar.material].hhi:
            worst[bar.material] = bar
    return [
        Concentration(
            bar.material,
            bar.stage,
            bar.hhi,
            bar.shares[0][0] if bar.shares else "",
            bar.shares[0][1] if bar.shares else 0.0,
        )
        for bar in worst.values()
    ]


# --- risk bands ---------------------------------------------------------------------------------------

#: Score (likelihood × impact) bands of the 5×5 matrix, as commonly drawn: upper bounds inclusive.
RISK_BANDS = (("low", 4), ("medium", 9), ("high", 16), ("critical", 25))


def risk_band(score: int) -> str:
    return next(band for band, upper in RISK_BANDS if score <= upper)
