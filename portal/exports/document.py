"""What an export holds, already decided for one reader: the neutral structure every renderer takes.

The builder (minutes, meeting pack) decides what the reader may read and opens only that; this module
and the renderers never open sealed data. A withheld part carries no heading and no body: there is
nothing of it to leak. The banner of a copy is computed from what the copy actually includes.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from portal.enums import GOV_ONLY_CODE, RELEASE_ORDER, Level, ReleaseMarking

#: Times on a copy are shown in Japan's time, whatever the server's zone.
EXPORT_TIMEZONE = ZoneInfo("Asia/Tokyo")

#: Level words as on the portal's banner (DESIGN.md §2); a copy in English shows both.
LEVEL_WORDS_JA = {
    Level.PUBLIC: "公開",
    Level.RESTRICTED: "取扱注意",
    Level.CONFIDENTIAL: "秘",
    Level.CESI: "重要経済安保情報",
}
LEVEL_WORDS_EN = {
    Level.PUBLIC: "PUBLIC",
    Level.RESTRICTED: "RESTRICTED",
    Level.CONFIDENTIAL: "CONFIDENTIAL",
    Level.CESI: "CRITICAL ECONOMIC SECURITY INFORMATION",
}
CAVEAT_WORDS = {"ja": {GOV_ONLY_CODE: "政府限り"}, "en": {GOV_ONLY_CODE: "GOV ONLY"}}

WITHHELD_NOTICE_JA = "この部分は閲覧権限外のため省略されています"
WITHHELD_NOTICE_EN = "This portion is withheld: you are not cleared to read it."

#: A copy with no part in it is council material all the same: TLP:GREEN (the council).
EMPTY_RELEASE = ReleaseMarking.GREEN

#: The line that carries the export id in every format; `portal exports verify` looks for it.
EXPORT_ID_TAG = "export-id:"


@dataclass(frozen=True)
class ExportReader:
    """Whom the copy is made for (the person exporting it)."""

    user_id: uuid.UUID
    name: str
    organisation: str
    organization_id: uuid.UUID


@dataclass(frozen=True)
class ExportPart:
    """One part (a portion of the minutes, an agenda item, a finding, a linked document's text).

    ``body`` is plain text: paragraphs separated by blank lines. A withheld part has neither heading nor
    body; build it with :meth:`withheld_part`.
    """

    heading: str | None
    body: str
    level: Level
    caveat_codes: frozenset[str] = frozenset()
    release: ReleaseMarking = ReleaseMarking.GREEN
    withheld: bool = False

    def __post_init__(self) -> None:
        if self.withheld and (self.heading or self.body):
            raise ValueError("a withheld part carries no heading and no body")

    @classmethod
    def withheld_part(cls) -> ExportPart:
        return cls(heading=None, body="", level=Level.PUBLIC, withheld=True)


@dataclass(frozen=True)
class ExportSection:
    heading: str
    parts: list[ExportPart]


@dataclass(frozen=True)
class Banner:
    """The marking of one copy: the highest level, the caveats and the most restrictive release included."""

    level: Level
    caveat_codes: tuple[str, ...]
    release: ReleaseMarking

    def words(self, locale: str, caveat_names: Mapping[str, str] | None = None) -> str:
        """The banner line, e.g. ``秘 | 政府限り | TLP:AMBER``."""
        level = LEVEL_WORDS_JA[self.level]
        if locale == "en":
            level = f"{LEVEL_WORDS_EN[self.level]} ({level})"
        caveats = [caveat_label(code, locale, caveat_names) for code in self.caveat_codes]
        return " | ".join([level, *caveats, f"TLP:{self.release.value}"])


def caveat_label(code: str, locale: str, caveat_names: Mapping[str, str] | None = None) -> str:
    if caveat_names and code in caveat_names:
        return caveat_names[code]
    return CAVEAT_WORDS.get(locale, CAVEAT_WORDS["ja"]).get(code, code)


def most_restrictive(markings: Iterable[ReleaseMarking]) -> ReleaseMarking | None:
    ranked = [RELEASE_ORDER.index(marking) for marking in markings]
    return RELEASE_ORDER[max(ranked)] if ranked else None


def banner_of(parts: Iterable[ExportPart], title_level: Level = Level.PUBLIC) -> Banner:
    """The copy's banner from its INCLUDED parts only (withheld parts add nothing), and the level of the
    title (a meeting's title and place carry the meeting's level)."""
    included = [part for part in parts if not part.withheld]
    level = max([title_level, *(part.level for part in included)])
    caveats = sorted(set().union(*(part.caveat_codes for part in included)))
    release = most_restrictive(part.release for part in included) or EMPTY_RELEASE
    return Banner(Level(level), tuple(caveats), release)


@dataclass(frozen=True)
class ExportDocument:
    """A whole copy for one reader."""

    title: str
    subtitle: str
    meeting_name: str
    room_name: str
    reader: ExportReader
    created_at: datetime
    sections: list[ExportSection]
    locale: str = "ja"
    export_id: uuid.UUID = field(default_factory=uuid.uuid4)
    #: The level of what the title and subtitle reveal (the meeting's level).
    title_level: Level = Level.PUBLIC
    #: Display names of caveat codes (e.g. compartments' names); a code without one is shown as is.
    caveat_names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            raise ValueError("created_at must be timezone-aware")
        if self.locale not in {"ja", "en"}:
            raise ValueError(f"unsupported locale {self.locale!r}")

    @property
    def parts(self) -> list[ExportPart]:
        return [part for section in self.sections for part in section.parts]

    @property
    def banner(self) -> Banner:
        return banner_of(self.parts, self.title_level)

    @property
    def included_count(self) -> int:
        return sum(1 for part in self.parts if not part.withheld)

    @property
    def withheld_count(self) -> int:
        return sum(1 for part in self.parts if part.withheld)

    @property
    def included_levels(self) -> list[Level]:
        return sorted({part.level for part in self.parts if not part.withheld})

    def banner_line(self) -> str:
        return self.banner.words(self.locale, self.caveat_names)

    def local_time(self) -> str:
        return self.created_at.astimezone(EXPORT_TIMEZONE).strftime("%Y-%m-%d %H:%M JST")

    def reader_line(self) -> str:
        """Whom the copy is made for, and when."""
        reader = f"{self.reader.name} ({self.reader.organisation})"
        if self.locale == "en":
            return f"Made for {reader} · {self.local_time()}"
        return f"閲覧者 {reader} · 出力 {self.local_time()}"

    def watermark_line(self) -> str:
        """Who the copy is for, when, and its export id: printed on every page."""
        return f"{self.reader_line()} · {EXPORT_ID_TAG}{self.export_id}"

    def withheld_notice(self) -> str:
        if self.locale == "en":
            return f"{WITHHELD_NOTICE_JA} / {WITHHELD_NOTICE_EN}"
        return WITHHELD_NOTICE_JA

    def portion_mark(self, part: ExportPart) -> str:
        """The marking shown at the head of an included part, e.g. ``(秘 | 政府限り | TLP:AMBER)``."""
        own = Banner(part.level, tuple(sorted(part.caveat_codes)), part.release)
        return f"({own.words(self.locale, self.caveat_names)})"


_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str) -> str:
    """Text as every format can carry it: line breaks normalised, control characters dropped."""
    return _CONTROL_CHARACTERS.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def paragraphs(body: str) -> list[str]:
    """Plain text to paragraphs: blank lines separate them; single line breaks stay inside one."""
    blocks = [block.strip("\n") for block in re.split(r"\n[ \t\u3000]*\n", clean_text(body))]
    return [block for block in blocks if block.strip()]
