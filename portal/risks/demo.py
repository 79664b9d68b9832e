"""Demo risk register of 重要インフラ機能停止分科会 (risk review), made through the real services.

Eight assumed scenarios from the briefing's infrastructure-outage review (power → telecom → payments,
submarine cables, a cyberattack on the grid under the GRID-OPS compartment, satellite positioning, fuel,
data-centre cooling, …), with their dependencies, past reviews (two now overdue) and the think tank's
assessment 「重要インフラ機能停止リスクの点検結果」 proposed into the register, awaiting the chair.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.enums import Level, ReleaseMarking
from portal.meetings.followup_read import today_in
from portal.meetings.forms import PartMarkingInput
from portal.meetings.models import Meeting
from portal.risks import proposals, service
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.thinktank.models import OutputKind, ThinkTankOutput

CHAIR = "takahashi@mic.example.jp"
ANALYST = "yoshida@icess.example.jp"


@dataclass(frozen=True)
class DemoRisk:
    title: str
    scenario: str
    peacetime: str
    emergency: str
    scores: tuple[int, int, int, int]
    owner: str
    edges: str
    interval: int
    level: Level = Level.RESTRICTED
    caveats: tuple[str, ...] = ()
    reason: str | None = None
    #: Days since the last review was due (overdue), or None: due one interval after today.
    overdue_days: int | None = None
    #: Reviews in the past: (days ago, scores after, note).
    reviews: tuple[tuple[int, tuple[int, int, int, int], str], ...] = ()


RISKS = [
    DemoRisk(
        "広域停電(ブラックアウト)",
        "需給バランスの急変により広域停電が発生。基地局・局舎の非常用電源が数時間で枯渇し、携帯通信が停止。"
        "通信停止によりキャッシュレス決済と銀行ATMが利用不能となり、物流の受発注も滞る。",
        "系統運用者と通信・金融事業者の連絡体制の平時訓練。基地局の非常用電源の72時間化。",
        "優先復旧順位(通信局舎・金融センター)の適用、移動電源車の配備、現金供給の確保。",
        (2, 5, 2, 4),
        "yamamoto@hokushin-power.example.jp",
        "power>telecom telecom>payments power>data_centre",
        180,
        overdue_days=21,
        reviews=((200, (2, 5, 2, 4), "非常用電源の72時間化が進捗。残余影響度を4に引き下げ。"),),
    ),
    DemoRisk(
        "海底ケーブルの同時切断",
        "国際海底ケーブル複数本が近接海域で同時に切断され、国際通信容量が大幅に低下。"
        "海外クラウドに依存する決済・データセンター事業に波及。",
        "陸揚げ局の分散、修理船の確保(造船分科会と連携)、衛星回線によるバックアップ。",
        "通信の優先制御、修理船の緊急派遣、海外拠点との代替経路の確保。",
        (3, 4, 3, 3),
        "takahashi@mic.example.jp",
        "submarine_cable>telecom telecom>payments telecom>data_centre",
        120,
        reviews=(
            (150, (3, 4, 3, 4), "敷設・修理船の不足を確認。"),
            (
                30,
                (3, 4, 3, 3),
                "衛星回線のバックアップ契約締結により残余発生可能性は据え置き、影響度を引き下げ。",
            ),
        ),
    ),
    DemoRisk(
        "電力制御系へのサイバー攻撃",
        "ランサムウェアが系統制御システムに侵入し、複数の変電所の遠隔制御が不能となる。"
        "停電が通信・水道・決済に連鎖する。",
        "制御系ネットワークの分離、GRID-OPS関係者による脆弱性情報の共有、年2回の机上演習。",
        "手動運転への切替、関係機関への即時通報、被害範囲の隔離。",
        (3, 5, 2, 5),
        "suzuki@mlit.example.jp",
        "power>telecom power>water power>payments",
        90,
        Level.CONFIDENTIAL,
        ("GRID-OPS",),
        "重要インフラの脆弱性情報を含むため",
        reviews=((60, (3, 5, 2, 5), "制御系分離の完了を確認。影響度は据え置き。"),),
    ),
    DemoRisk(
        "GPS時刻同期の妨害",
        "衛星測位信号の妨害(ジャミング)により、通信網と決済システムの時刻同期が乱れ、物流の運行管理も停止する。",
        "準天頂衛星と地上時刻源の併用、妨害検知の監視。",
        "地上時刻源への切替、運行管理の手動化。",
        (2, 3, 2, 2),
        "takahashi@mic.example.jp",
        "satellite_positioning>telecom satellite_positioning>payments satellite_positioning>logistics",
        180,
        overdue_days=5,
    ),
    DemoRisk(
        "燃料供給の途絶",
        "海上輸送の途絶と製油所の停止が重なり、発電用燃料と非常用発電機の燃料が不足する。",
        "燃料備蓄の積み増し、中核給油所の指定、輸送ルートの複線化。",
        "優先供給先(病院・通信局舎・データセンター)への配分、備蓄の放出。",
        (2, 4, 2, 3),
        "suzuki@mlit.example.jp",
        "logistics>fuel fuel>power fuel>transport",
        180,
    ),
    DemoRisk(
        "データセンターの冷却停止",
        "猛暑と給水停止が重なり、データセンターの冷却が停止。クラウド上の決済・行政サービスが停止する。",
        "冷却設備の冗長化、給水の複線化、拠点間の自動切替。",
        "負荷の他拠点への移転、非常用給水車の手配。",
        (3, 3, 2, 3),
        "takahashi@mic.example.jp",
        "power>data_centre water>data_centre data_centre>payments",
        180,
    ),
    DemoRisk(
        "通信事業者の大規模障害",
        "設備更新時の設定誤りにより全国規模の通信障害が発生し、決済と物流の受発注が停止する。",
        "事業者間ローミングの整備、障害時の利用者周知の手順化。",
        "事業者間ローミングの発動、決済のオフライン処理。",
        (2, 4, 2, 3),
        "takahashi@mic.example.jp",
        "telecom>payments telecom>logistics",
        180,
    ),
    DemoRisk(
        "大規模地震による複合障害",
        "首都直下地震により電力・通信・水道・交通が同時に被災し、燃料輸送も途絶する。",
        "事業継続計画の相互確認、応援協定の締結。",
        "政府の緊急対策本部と事業者の連絡窓口の一本化。",
        (2, 5, 2, 4),
        "sato@cao.example.jp",
        "power>water power>telecom transport>fuel",
        365,
    ),
]


def _marking(spec: DemoRisk) -> PartMarkingInput:
    return PartMarkingInput(
        level=spec.level,
        release=ReleaseMarking.AMBER if spec.level >= Level.CONFIDENTIAL else ReleaseMarking.GREEN,
        caveat_codes=frozenset(spec.caveats),
        reader_ids=frozenset(),
        release_organization_ids=frozenset(),
        reason=spec.reason,
    )


def load(
    session: Session,
    users: dict[str, User],
    rooms: dict[str, Subcommittee],
    meetings: dict[str, Meeting] | object,
    now: datetime,
) -> None:
    room = rooms["infrastructure"]
    today = today_in(now)
    chair = policy.load_subject(session, users[CHAIR], now)
    for spec in RISKS:
        risk = service.create_risk(
            session,
            chair,
            room,
            service.RiskInput(
                title=spec.title,
                scenario=spec.scenario,
                peacetime_measures=spec.peacetime,
                emergency_measures=spec.emergency,
                scores=service.Scores(*(_before(spec) if spec.reviews else spec.scores)),
                owner_id=users[spec.owner].id,
                dependencies=service.parse_dependencies(spec.edges),
                review_interval_days=spec.interval,
                marking=_marking(spec),
            ),
        )
        risk.created_at = now - timedelta(days=400)
        for days_ago, after, note in spec.reviews:
            review = service.record_review(session, chair, risk.id, service.Scores(*after), note, today)
            review.reviewed_at = now - timedelta(days=days_ago)
            risk.next_review_on = today - timedelta(days=days_ago) + timedelta(days=spec.interval)
        if spec.overdue_days is not None:
            risk.next_review_on = today - timedelta(days=spec.overdue_days)
    session.flush()
    assessment = session.scalar(
        select(ThinkTankOutput).where(ThinkTankOutput.kind == OutputKind.RISK_ASSESSMENT)
    )
    if assessment is not None:
        analyst = policy.load_subject(session, users[ANALYST], now)
        proposals.propose_assessment(session, analyst, room.id, assessment.id)
    session.flush()


def _before(spec: DemoRisk) -> tuple[int, int, int, int]:
    """The scores the risk entered the register with: a step above its first review's result."""
    likelihood, impact, residual_likelihood, residual_impact = spec.reviews[0][1]
    return likelihood, impact, min(residual_likelihood + 1, 5), residual_impact
