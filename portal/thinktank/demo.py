"""Demo think-tank outputs, from the briefing: a supply-chain analysis of critical minerals, a risk review of
critical infrastructure, and a policy brief still awaiting confirmation. The figures are illustrative
round numbers in the shape of public statistics, not official data."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.enums import Level, ReleaseMarking
from portal.rooms.models import Subcommittee
from portal.search import index as search_index
from portal.security import policy
from portal.thinktank import data
from portal.thinktank.models import OutputAttachment, OutputKind, ThinkTankOutput
from portal.thinktank.service import SEARCH_KIND_OUTPUT, seal_fields

MINERAL_DEPENDENCIES = """material,stage,country,share,alternative sources
ガリウム,精錬,中国,98,日本・ドイツでの回収精製の再開
ガリウム,精錬,ロシア,1,
ガリウム,精錬,日本,0.5,
ガリウム,加工,日本,35,
ガリウム,加工,中国,30,
ガリウム,加工,米国,15,
ガリウム,加工,ドイツ,10,
ゲルマニウム,精錬,中国,68,カナダ・ベルギーの亜鉛製錬副産物
ゲルマニウム,精錬,ベルギー,10,
ゲルマニウム,精錬,ロシア,5,
ゲルマニウム,精錬,米国,5,
ゲルマニウム,精錬,カナダ,5,
黒鉛,採掘,中国,77,モザンビーク・マダガスカルの鉱山
黒鉛,採掘,モザンビーク,6,
黒鉛,採掘,マダガスカル,5,
黒鉛,採掘,ブラジル,4,
黒鉛,加工,中国,92,人造黒鉛の国内増産
黒鉛,加工,日本,3,
黒鉛,加工,韓国,3,
アンチモン,採掘,中国,48,豪州・オマーンの新規案件
アンチモン,採掘,タジキスタン,25,
アンチモン,採掘,ロシア,7,
アンチモン,採掘,トルコ,4,
アンチモン,精錬,中国,80,
アンチモン,精錬,ベトナム,6,
アンチモン,精錬,ベルギー,4,
レアアース,採掘,中国,69,豪州・米国の鉱山
レアアース,採掘,米国,12,
レアアース,採掘,ミャンマー,8,
レアアース,採掘,オーストラリア,5,
レアアース,精錬,中国,90,マレーシアの分離工場
レアアース,精錬,マレーシア,5,
レアアース,精錬,エストニア,1,
"""

INFRASTRUCTURE_RISKS = """risk,likelihood,impact
広域停電(ブラックアウト),2,5
ランサムウェアによる制御系停止,3,5
大規模地震による複合障害,2,5
通信事業者の大規模障害,3,4
海底ケーブルの同時切断,3,4
決済システムの停止,2,4
燃料供給の途絶,2,4
クラウド障害の連鎖,4,3
制御機器の部品供給途絶,4,3
データセンターの冷却停止,3,3
GPS時刻同期の妨害,2,3
変電所への物理攻撃,1,4
"""


@dataclass(frozen=True)
class DemoOutput:
    kind: OutputKind
    level: Level
    release: ReleaseMarking
    title: str
    summary: str
    authors: str
    method: str
    data_sources: str
    as_of: date
    version_label: str
    data_csv: str | None = None
    reason: str | None = None
    #: (room key, confirmed by e-mail or None for an offer awaiting confirmation)
    rooms: tuple[tuple[str, str | None], ...] = ()


ANALYST = "yoshida@icess.example.jp"

OUTPUTS = [
    DemoOutput(
        OutputKind.SUPPLY_CHAIN, Level.RESTRICTED, ReleaseMarking.GREEN,
        "重要鉱物5品目のサプライチェーン依存度分析(2025年度上期)",
        "ガリウム・ゲルマニウム・黒鉛・アンチモン・レアアースについて、採掘・精錬・加工の段階別に国別シェアを"
        "整理し、供給集中度(HHI)を算出した。\n\n"
        "- **精錬段階**の集中が特に高く、ガリウムは中国が約98%を占める。\n"
        "- 黒鉛の負極材向け加工、レアアースの分離精製も集中度が高い。\n"
        "- 代替調達先の候補を表の右端に示す。",
        "吉田 真理, 経済安全保障総合研究機構 サプライチェーン分析チーム",
        "公開統計と業界ヒアリングから段階別・国別の生産シェアを推計し、各段階のHHI(シェア%の二乗和)を"
        "算出。品目ごとに最も集中した段階を示す。",
        "USGS Mineral Commodity Summaries 2025、IEA Global Critical Minerals Outlook 2024、財務省貿易統計、"
        "業界団体ヒアリング(2025年7月)",
        date(2025, 9, 30), "1.2", MINERAL_DEPENDENCIES,
        rooms=(("minerals", "tanaka@meti.example.jp"),),
    ),
    DemoOutput(
        OutputKind.RISK_ASSESSMENT, Level.CONFIDENTIAL, ReleaseMarking.AMBER,
        "重要インフラ機能停止リスクの点検結果(2025年度)",
        "電力・通信・決済・燃料の相互依存を踏まえ、12の機能停止シナリオを発生可能性と影響度の5段階で評価した。"
        "影響度5のシナリオは、いずれも他インフラへの波及を伴う。机上演習(TTX)の題材として、"
        "ランサムウェアによる制御系停止と広域停電の連鎖を推奨する。",
        "吉田 真理, 経済安全保障総合研究機構 インフラリスク研究グループ",
        "過去10年の障害事例と事業者ヒアリングに基づき、発生可能性(1〜5)と影響度(1〜5)を専門家パネルで評定。"
        "スコアは両者の積。",
        "重要インフラ事業者ヒアリング(2025年6〜8月)、公表障害報告、内閣サイバーセキュリティセンター公表資料",
        date(2025, 10, 15), "2.0", INFRASTRUCTURE_RISKS,
        reason="重要インフラの脆弱性の評価を含むため",
        rooms=(("infrastructure", "sato@cao.example.jp"),),
    ),
    DemoOutput(
        OutputKind.POLICY_BRIEF, Level.RESTRICTED, ReleaseMarking.GREEN,
        "重要鉱物の備蓄と代替調達に関する政策提言",
        "備蓄の機動的な放出基準の明確化、同志国との共同調達枠組み、国内リサイクルの促進の3点を提言する。",
        "吉田 真理",
        "既存文献のレビューと主要国の制度比較。",
        "各国政府公表資料、JOGMEC公表資料",
        date(2025, 11, 1), "1.0",
        rooms=(("minerals", None),),
    ),
]  # fmt: skip


def load(session: Session, users: dict[str, User], rooms: dict[str, Subcommittee], now: datetime) -> None:
    analyst = users[ANALYST]
    for order, spec in enumerate(OUTPUTS):
        if spec.data_csv:  # the demo's own tables pass the same validation as a user's
            (data.parse_dependencies if spec.kind == OutputKind.SUPPLY_CHAIN else data.parse_risks)(
                spec.data_csv
            )
        moment = now - timedelta(days=20 - order * 5)
        output = ThinkTankOutput(
            id=uuid.uuid4(),
            kind=spec.kind,
            organization_id=analyst.organization_id,
            published_by_id=analyst.id,
            published_at=moment,
            as_of=spec.as_of,
            version_label=spec.version_label,
            level=spec.level,
            release=spec.release,
            classified_by_id=analyst.id,
            classified_at=moment,
        )
        seal_fields(
            session,
            policy.maintenance_grant("output", output.id),
            output,
            {
                "title": spec.title,
                "summary": spec.summary,
                "authors": spec.authors,
                "method": spec.method,
                "data_sources": spec.data_sources,
                "data_csv": spec.data_csv,
                "classification_reason": spec.reason,
            },
        )
        output.attachments = [
            OutputAttachment(
                subcommittee_id=rooms[room_key].id,
                proposed_by_id=analyst.id,
                proposed_at=moment,
                attached_by_id=users[steward].id if steward else None,
                attached_at=moment + timedelta(days=1) if steward else None,
            )
            for room_key, steward in spec.rooms
        ]
        session.add(output)
        session.flush()
        search_index.index_item(
            session, None, SEARCH_KIND_OUTPUT, output.id,
            [spec.summary, spec.title, spec.authors, spec.method, spec.data_sources], replace=False,
        )  # fmt: skip
    session.flush()
