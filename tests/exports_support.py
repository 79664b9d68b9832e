"""Copies of one set of minutes for readers of different clearances, built as a builder would: what the
reader may not read is passed as a withheld part with nothing in it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from portal.enums import GOV_ONLY_CODE, Level, ReleaseMarking
from portal.exports.document import ExportDocument, ExportPart, ExportReader, ExportSection

SENTENCES = (
    "ガリウム及びゲルマニウムの輸出許可制の導入を受け、国内需要家の在庫水準と代替調達先の確保状況を確認した。",
    "経済産業省より、重要鉱物の安定供給確保に向けた備蓄制度の運用状況について説明があった。",
    "民間委員から、精錬工程の海外依存度が高く、短期的な代替は困難であるとの指摘があった。",
    "事務局は、次回会合までに需給見通しを更新し、影響の大きい品目を特定することとした。",
    "リサイクル由来の原料確保について、技術的課題と費用負担の在り方を議論した。",
    "同盟国・同志国との連携による供給網の多角化について、具体的な協力案件の進捗が報告された。",
)


@dataclass(frozen=True)
class PartSpec:
    marker: str
    heading: str
    level: Level
    caveats: frozenset[str] = frozenset()
    release: ReleaseMarking = ReleaseMarking.GREEN


#: Two sections of minutes; the markers are unique strings that let a test find each part's text.
SPECS: tuple[tuple[str, tuple[PartSpec, ...]], ...] = (
    (
        "1. 開会及び議事の確認",
        (
            PartSpec("部分A01", "開会", Level.PUBLIC, release=ReleaseMarking.CLEAR),
            PartSpec("部分A02", "前回議事録の確認", Level.RESTRICTED),
            PartSpec(
                "部分A03", "輸出管理措置の概要(政府限り)", Level.CONFIDENTIAL, frozenset({GOV_ONLY_CODE})
            ),
            PartSpec("部分A04", "国内在庫の状況", Level.RESTRICTED),
        ),
    ),
    (
        "2. ガリウム・ゲルマニウム輸出管理への対応",
        (
            PartSpec("部分B01", "需給見通し", Level.RESTRICTED),
            PartSpec(
                "部分B02",
                "重要経済安保情報に係る報告",
                Level.CESI,
                frozenset({"MINERALS-SUPPLY"}),
                ReleaseMarking.RED,
            ),
            PartSpec("部分B03", "代替調達先の検討", Level.RESTRICTED, release=ReleaseMarking.AMBER),
            PartSpec("部分B04", "備蓄放出の判断基準", Level.CONFIDENTIAL),
            PartSpec("部分B05", "リサイクル原料", Level.RESTRICTED),
            PartSpec("部分B06", "同志国との連携", Level.PUBLIC),
            PartSpec("部分B07", "今後の進め方", Level.RESTRICTED),
        ),
    ),
)


def body_of(spec: PartSpec, sentences: int = 14) -> str:
    """A part's text: its marker, then paragraphs of realistic Japanese (numbered: no two parts alike)."""
    lines = [f"{spec.marker}:{spec.heading}について協議した。"]
    for index in range(sentences):
        lines.append(f"({index + 1}){SENTENCES[(index + len(spec.marker)) % len(SENTENCES)]}")
        if index % 4 == 3:
            lines.append("")
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        if line:
            current.append(line)
        else:
            paragraphs.append("".join(current))
            current = []
    paragraphs.append("".join(current))
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)


@dataclass(frozen=True)
class Reader:
    name: str
    organisation: str
    clearance: Level
    caveats: frozenset[str]


TANAKA = Reader("田中 浩", "経済産業省", Level.CESI, frozenset({GOV_ONLY_CODE, "MINERALS-SUPPLY"}))
KOBAYASHI = Reader("小林 聡", "東都大学 先端政策研究センター", Level.RESTRICTED, frozenset())


def may_read(reader: Reader, spec: PartSpec) -> bool:
    return spec.level <= reader.clearance and spec.caveats <= reader.caveats


def build_copy(
    reader: Reader,
    locale: str = "ja",
    created_at: datetime | None = None,
    *,
    user_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
) -> ExportDocument:
    sections = []
    for heading, specs in SPECS:
        parts = [
            ExportPart(spec.heading, body_of(spec), spec.level, spec.caveats, spec.release)
            if may_read(reader, spec)
            else ExportPart.withheld_part()
            for spec in specs
        ]
        sections.append(ExportSection(heading, parts))
    return ExportDocument(
        title="第5回 重要鉱物分科会 議事録",
        subtitle="ガリウム・ゲルマニウム輸出管理への対応",
        meeting_name="第5回 重要鉱物分科会(2026年12月9日 10:00)",
        room_name="重要鉱物分科会",
        reader=ExportReader(
            user_id=user_id or uuid.uuid4(),
            name=reader.name,
            organisation=reader.organisation,
            organization_id=organization_id or uuid.uuid4(),
        ),
        created_at=created_at or datetime(2026, 12, 9, 3, 30, tzinfo=UTC),
        sections=sections,
        locale=locale,
        title_level=Level.RESTRICTED,
        caveat_names={"MINERALS-SUPPLY": "MINERALS-SUPPLY"},
    )


def all_specs() -> list[PartSpec]:
    return [spec for _heading, specs in SPECS for spec in specs]
