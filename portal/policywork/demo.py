"""Demo content of the policy-coordination rooms, drawn from the briefing: the AGI room's work plan
(frontier-model risk assessment, the compute supply chain, the workforce) and recommendations at different
stages; the shipbuilding room's plan (cable-laying ships, shipyard workforce, steel) and a recommendation
submitted to the government. Everything is made through the services, as its stewards would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.documents.models import Document
from portal.enums import Level, ReleaseMarking, Sector
from portal.meetings import agenda_changes
from portal.meetings.followup_read import today_in
from portal.meetings.forms import PartMarkingInput
from portal.meetings.models import Meeting
from portal.policywork import recommendations, service
from portal.policywork.models import RecommendationStatus, allowed_moves
from portal.rooms.models import Subcommittee
from portal.security import policy

AGI_CHAIR = "takahashi@mic.example.jp"
SHIP_CHAIR = "suzuki@mlit.example.jp"


def _marking(level: Level, reason: str | None = None) -> PartMarkingInput:
    return PartMarkingInput(
        level=level, release=ReleaseMarking.GREEN if level < Level.CONFIDENTIAL else ReleaseMarking.AMBER,
        caveat_codes=frozenset(), reader_ids=frozenset(), release_organization_ids=frozenset(), reason=reason,
    )  # fmt: skip


@dataclass(frozen=True)
class DemoTheme:
    title: str
    description: str
    owner: str
    level: Level
    reason: str | None
    #: (title, days from today, done)
    milestones: tuple[tuple[str, int, bool], ...]


@dataclass(frozen=True)
class DemoRecommendation:
    title: str
    body: str
    owner: str
    level: Level
    reason: str | None
    sectors: frozenset[Sector]
    status: RecommendationStatus
    notes: tuple[str, ...] = ()
    link_documents: bool = False


AGI_THEMES = [
    DemoTheme(
        "フロンティアモデルのリスク評価",
        "汎用性の高い大規模AIモデルが重要インフラや研究開発に及ぼし得るリスクを、業種横断で評価する枠組みを検討する。",
        AGI_CHAIR,
        Level.RESTRICTED,
        None,
        (
            ("評価枠組み(案)の取りまとめ", -60, True),
            ("民間事業者ヒアリング(3社)", -12, True),
            ("中間報告", 45, False),
            ("最終報告", 150, False),
        ),
    ),
    DemoTheme(
        "計算資源のサプライチェーン(半導体・データセンター)",
        "先端半導体・HBM・データセンター用電力の調達依存と供給途絶時の影響を、シンクタンクの分析を踏まえて整理する。",
        AGI_CHAIR,
        Level.CONFIDENTIAL,
        "特定国への依存度と調達先の内訳を含むため",
        (
            ("GPU・HBMの調達依存度調査", -20, True),
            ("データセンター電力需要の見通し", 30, False),
            ("供給途絶シナリオの検討", 100, False),
        ),
    ),
    DemoTheme(
        "AI導入に伴う人材・雇用への影響",
        "AIの導入が産業人材の需給と育成に与える中長期の影響を把握し、官民の役割分担を検討する。",
        "kobayashi@toto-u.example.jp",
        Level.RESTRICTED,
        None,
        (("有識者ヒアリング", 20, False), ("論点整理", 90, False)),
    ),
]

AGI_RECOMMENDATIONS = [
    DemoRecommendation(
        "フロンティアAIモデルの安全性評価体制の整備に関する提言",
        "## 提言\n\n1. 重要インフラ事業者がAIモデルを導入する前に、"
        "**リスク評価**を行う共通の枠組みを整備する。\n"
        "2. 評価に必要な技術的知見を官民で共有する仕組みを設ける。\n",
        AGI_CHAIR,
        Level.RESTRICTED,
        None,
        frozenset({Sector.AI_IT, Sector.TELECOM, Sector.ACADEMIA}),
        RecommendationStatus.AGREED,
        ("分科会で審議を開始", "第3回分科会で合意"),
    ),
    DemoRecommendation(
        "計算資源の国内確保と供給途絶への備えに関する提言",
        "先端半導体とデータセンター用電力の確保に向け、**調達先の多角化**と備蓄・融通の仕組みを検討する。",
        AGI_CHAIR,
        Level.CONFIDENTIAL,
        "調達先の内訳と供給途絶シナリオを含むため",
        frozenset({Sector.SEMICONDUCTORS, Sector.ENERGY}),
        RecommendationStatus.DELIBERATION,
        ("シンクタンクの分析を受けて審議へ",),
    ),
    DemoRecommendation(
        "AI人材の育成・確保に関する提言(骨子)",
        "大学・研究機関と産業界の連携による人材育成プログラムの骨子。",
        "kobayashi@toto-u.example.jp",
        Level.RESTRICTED,
        None,
        frozenset({Sector.ACADEMIA, Sector.AI_IT, Sector.FINANCE}),
        RecommendationStatus.DRAFTED,
    ),
]

SHIP_THEMES = [
    DemoTheme(
        "海底ケーブル敷設船の確保",
        "海底ケーブルの敷設・修理に必要な船舶の国内保有隻数と建造能力を把握し、有事の修理体制を検討する。",
        SHIP_CHAIR,
        Level.RESTRICTED,
        None,
        (
            ("保有・建造能力の実態調査", -30, True),
            ("修理体制の課題整理", 40, False),
            ("建造支援策の取りまとめ", 120, False),
        ),
    ),
    DemoTheme(
        "造船所の人材確保",
        "設計・溶接等の技能人材の確保と育成に向けた官民の取組を検討する。",
        "watanabe@setouchi-zosen.example.jp",
        Level.RESTRICTED,
        None,
        (("造船所アンケート", -5, True), ("人材確保策の論点整理", 60, False)),
    ),
    DemoTheme(
        "鋼材の安定調達",
        "厚板等の鋼材の調達先と価格動向を把握し、供給途絶時の影響を分析する。",
        "tanaka@meti.example.jp",
        Level.CONFIDENTIAL,
        "調達先の個社情報を含むため",
        (("調達先の依存度分析", 15, False), ("代替調達の検討", 110, False)),
    ),
]

SHIP_RECOMMENDATIONS = [
    DemoRecommendation(
        "海底ケーブル敷設船の国内建造・保有体制の強化に関する提言",
        "## 提言\n\n- 敷設船の**計画的な建造**を支援する。\n"
        "- 有事の修理に備え、官民で船舶を融通する枠組みを設ける。\n",
        SHIP_CHAIR,
        Level.RESTRICTED,
        None,
        frozenset({Sector.SHIPBUILDING, Sector.SHIPPING, Sector.TELECOM}),
        RecommendationStatus.SUBMITTED,
        ("審議開始", "分科会で合意", "国土交通省・経済産業省へ提出"),
        link_documents=True,
    ),
    DemoRecommendation(
        "造船業の技能人材確保策に関する提言(素案)",
        "技能実習・育成就労制度の活用と、地域の教育機関との連携による人材確保の素案。",
        SHIP_CHAIR,
        Level.RESTRICTED,
        None,
        frozenset({Sector.SHIPBUILDING, Sector.ACADEMIA}),
        RecommendationStatus.DRAFTED,
    ),
]


def _themes(session: Session, users: dict[str, User], room: Subcommittee, chair: str, themes: list[DemoTheme],
            today: date, now: datetime) -> None:  # fmt: skip
    steward = policy.load_subject(session, users[chair], now)
    for spec in themes:
        theme = service.create_theme(
            session, steward, room.id,
            service.ThemeInput(
                spec.title, spec.description, users[spec.owner].id, _marking(spec.level, spec.reason)
            ),
            now,
        )  # fmt: skip
        for title, days, done in spec.milestones:
            milestone = service.add_milestone(
                session,
                steward,
                room.id,
                theme.id,
                service.MilestoneInput(title, today + timedelta(days=days)),
            )
            if done:
                service.set_milestone_done(session, steward, room.id, theme.id, milestone.id, True)


def _recommendations(session: Session, users: dict[str, User], room: Subcommittee, chair: str,
                     specs: list[DemoRecommendation], now: datetime) -> None:  # fmt: skip
    steward = policy.load_subject(session, users[chair], now)
    documents: frozenset[uuid.UUID] = frozenset()
    if any(spec.link_documents for spec in specs):
        readable = [d.id for d in agenda_changes.linkable_documents(session, steward, room)]
        documents = frozenset(
            session.scalars(
                select(Document.id)
                .where(Document.id.in_(readable), Document.level <= Level.RESTRICTED)
                .limit(1)
            )
        )
    for number, spec in enumerate(specs):
        start = now - timedelta(days=70 - number * 5)
        item = recommendations.create_recommendation(
            session, steward, room.id,
            recommendations.RecommendationInput(
                spec.title, spec.body, users[spec.owner].id, spec.sectors,
                documents if spec.link_documents else frozenset(), frozenset(),
                _marking(spec.level, spec.reason),
            ),
            start,
        )  # fmt: skip
        step = 0
        while item.status != spec.status:
            target = allowed_moves(item.status)[0]
            note = spec.notes[step] if step < len(spec.notes) else ""
            recommendations.move(
                session,
                steward,
                room.id,
                item.id,
                target,
                note,
                item.version,
                start + timedelta(days=14 * (step + 1)),
            )
            step += 1


def load(
    session: Session,
    users: dict[str, User],
    rooms: dict[str, Subcommittee],
    meetings: dict[str, Meeting],
    now: datetime,
) -> None:
    del meetings  # the plan and the recommendations stand apart from the meetings
    today = today_in(now)
    _themes(session, users, rooms["agi"], AGI_CHAIR, AGI_THEMES, today, now)
    _recommendations(session, users, rooms["agi"], AGI_CHAIR, AGI_RECOMMENDATIONS, now)
    _themes(session, users, rooms["shipbuilding"], SHIP_CHAIR, SHIP_THEMES, today, now)
    _recommendations(session, users, rooms["shipbuilding"], SHIP_CHAIR, SHIP_RECOMMENDATIONS, now)
