"""Demo situation reports and countermeasures of the minerals room (重要鉱物分科会, rapid response), made
through the same services as the web forms (so the policy decides, the texts are sealed and the audit trail
records them). Drawn from the briefing: export controls on gallium and germanium, their effect on prices and
supply, the national stockpile, an allied notification.

Reports: six over the last five days, one 政府限り CONFIDENTIAL (stockpile levels), one CESI naming its
readers (田中, 伊藤). Countermeasures: alternative sourcing (adopted, with an action item in 第4回, tied to
its sourcing finding), stockpile release (under study, 政府限り), recycling (proposed).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.enums import GOV_ONLY_CODE, Level, ReleaseMarking
from portal.meetings.access import texts, view_parts
from portal.meetings.followup_read import today_in
from portal.meetings.forms import PartMarkingInput
from portal.meetings.models import Finding, Meeting
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.situation import countermeasures, service
from portal.situation.models import CountermeasureStatus

SATO = "sato@cao.example.jp"
TANAKA = "tanaka@meti.example.jp"
ITO = "ito@toho-raremetals.example.jp"
YOSHIDA = "yoshida@icess.example.jp"
YAMADA = "yamada@meti.example.jp"


def _marking(
    level: Level,
    caveats: frozenset[str] = frozenset(),
    reason: str | None = None,
    readers: frozenset[uuid.UUID] = frozenset(),
    release: ReleaseMarking = ReleaseMarking.GREEN,
) -> PartMarkingInput:
    return PartMarkingInput(level, release, caveats, readers, frozenset(), reason)


#: (author, hours ago, source, what happened, affected, severity, impact, marking key)
REPORTS = [
    (TANAKA, 118, "経済産業省 貿易管理部",
     "輸出国当局によるガリウム・ゲルマニウムの輸出許可審査が長期化。国内商社経由の申請で、"
     "通常45日程度の審査が90日を超える事例が複数確認された。",
     "ガリウム、ゲルマニウム/化合物半導体、光ファイバー", 3,
     "化合物半導体メーカーの在庫が薄い品目から、来月以降に調達不足が生じるおそれ。", "restricted"),
    (YOSHIDA, 96, "経済安全保障総合研究機構(市況分析)",
     "ガリウムの国際スポット価格が前週比で約25%上昇。ゲルマニウムも約15%上昇し、"
     "先物の引合いが急増している。",
     "ガリウム、ゲルマニウム/電子部品、赤外線光学", 2,
     "短期的な調達コストの上昇。中小需要家は価格転嫁が難しく、資金繰りへの影響を注視する必要がある。",
     "restricted"),
    (ITO, 70, "東邦レアメタル株式会社 調達部",
     "主要仕入先(海外精製事業者)から、次四半期のゲルマニウム出荷量を約3割削減するとの通知を受領。",
     "ゲルマニウム/光ファイバー、赤外線光学、太陽電池", 3,
     "当社の国内向け供給は当面継続できるが、次四半期後半から需要家への割当が必要になる見込み。",
     "restricted"),
    (SATO, 48, "内閣府 経済安全保障推進室",
     "国家備蓄(JOGMEC)のガリウム・ゲルマニウム在庫水準を確認。放出余力と優先配分先の試算を開始した。",
     "ガリウム、ゲルマニウム/国家備蓄", 3,
     "備蓄の在庫水準は公表前の政府内情報であり、開示は市場と交渉上の立場に影響する。", "gov_only"),
    (TANAKA, 20, "同盟国政府(外交ルート)",
     "同盟国政府から、輸出国が対象品目の追加(精製技術・関連装置)を検討しているとの通報を受けた。",
     "ガリウム、ゲルマニウム、関連精製技術/半導体製造装置", 4,
     "対象拡大の場合、代替調達先での増産計画にも影響が及ぶ。対応方針の前倒し検討が必要。", "cesi"),
    (SATO, 6, "内閣府 経済安全保障推進室(需要家調査)",
     "会員企業12社への緊急ヒアリングの中間結果:在庫は平均約3か月分、4社が2か月分未満。",
     "化合物半導体、パワー半導体、光ファイバー", 2,
     "2か月分未満の4社を優先して代替調達・備蓄放出の検討対象とする。", "restricted"),
]  # fmt: skip


def _sourcing_finding(
    session: Session, subject: policy.Subject, room: Subcommittee, meeting: Meeting
) -> uuid.UUID:
    rows = session.scalars(select(Finding).where(Finding.meeting_id == meeting.id)).all()
    for view in view_parts(session, subject, room.id, rows, object_type="finding", rule="finding.read"):
        opened = texts(session, view, ("body",))
        if opened is not None and opened["body"].startswith("**代替調達について**"):
            return view.part.id
    raise LookupError("the demo's sourcing finding")


def load(
    session: Session,
    users: dict[str, User],
    rooms: dict[str, Subcommittee],
    meetings: dict[str, Meeting],
    now: datetime,
) -> None:
    room = rooms["minerals"]
    markings = {
        "restricted": _marking(Level.RESTRICTED),
        "gov_only": _marking(
            Level.CONFIDENTIAL, frozenset({GOV_ONLY_CODE}), "備蓄の在庫水準は公表前の政府内情報のため",
            release=ReleaseMarking.AMBER_STRICT,
        ),
        "cesi": _marking(
            Level.CESI, frozenset(), "同盟国から重要経済安保情報として提供された通報のため",
            frozenset({users[TANAKA].id, users[ITO].id}), ReleaseMarking.RED,
        ),
    }  # fmt: skip
    for author, hours, source, happened, affected, severity, impact, key in REPORTS:
        subject = policy.load_subject(session, users[author], now)
        service.post_report(
            session, subject, room.id,
            service.NewReport(now - timedelta(hours=hours), source, happened, affected, impact, severity,
                              markings[key]),
        )  # fmt: skip

    steward = policy.load_subject(session, users[SATO], now)
    chair = policy.load_subject(session, users[TANAKA], now)
    past = meetings["minerals-4"]
    sourcing_finding = _sourcing_finding(session, steward, room, past)
    sourcing = countermeasures.propose(
        session, policy.load_subject(session, users[ITO], now), room.id,
        countermeasures.NewCountermeasure(
            "代替調達先の確保(豪州・ドイツのアルミナ精製副産物からのガリウム回収)",
            "豪州・ドイツのアルミナ精製事業者における副産物ガリウムの回収増産を、長期引取契約と"
            "設備投資支援の組合せで後押しする。ゲルマニウムはカナダの亜鉛精錬副産物からの回収を併せて検討する。",
            users[ITO].id, frozenset({sourcing_finding}), markings["restricted"],
        ),
        now - timedelta(days=4),
    )  # fmt: skip
    countermeasures.change_status(
        session, chair, room.id, sourcing.id, CountermeasureStatus.UNDER_STUDY,
        "第4回会合の所見を受けて検討に着手", 1, now=now - timedelta(days=3),
    )  # fmt: skip
    countermeasures.change_status(
        session, chair, room.id, sourcing.id, CountermeasureStatus.ADOPTED,
        "需要家調査の中間結果を踏まえ採択", 2,
        [countermeasures.AdoptionAction(
            "豪州・ドイツの回収事業者との長期引取契約に向けた官民協議の場を設定する", users[YAMADA].id,
            today_in(now) + timedelta(days=14), past.id,
        )],
        now=now - timedelta(hours=5),
    )  # fmt: skip
    stockpile = countermeasures.propose(
        session, steward, room.id,
        countermeasures.NewCountermeasure(
            "国家備蓄ガリウムの放出",
            "在庫が2か月分未満の需要家を優先して、国家備蓄(JOGMEC)からの放出を検討する。"
            "放出の時期・数量は市場への影響を考慮して決める。",
            users[TANAKA].id, frozenset(),
            _marking(Level.CONFIDENTIAL, frozenset({GOV_ONLY_CODE}),
                     "備蓄放出の検討は公表前の政府内検討事項のため", release=ReleaseMarking.AMBER_STRICT),
        ),
        now - timedelta(days=2),
    )  # fmt: skip
    countermeasures.change_status(
        session, steward, room.id, stockpile.id, CountermeasureStatus.UNDER_STUDY,
        "在庫水準の確認結果を受けて関係省庁で検討", 1, now=now - timedelta(days=1),
    )  # fmt: skip
    countermeasures.propose(
        session, policy.load_subject(session, users[YOSHIDA], now), room.id,
        countermeasures.NewCountermeasure(
            "製造工程スクラップからのリサイクル拡大",
            "光ファイバー・化合物半導体の製造工程スクラップからのゲルマニウム・ガリウム回収を拡大する。"
            "回収率の向上と国内再生事業者の設備増強を支援対象とする。",
            users[YOSHIDA].id, frozenset(), markings["restricted"],
        ),
        now - timedelta(hours=30),
    )  # fmt: skip
