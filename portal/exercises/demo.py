"""Demo tabletop exercises of the infrastructure room (重要インフラ機能停止分科会), made through the same
services as the web forms (the policy decides, the texts are sealed, the audit trail records them).

- Finished, three weeks ago: a wide-area power outage cascading to telecoms and payments; five injects (one
  政府限り, so the private participants meet it withheld), responses, two after-action findings with action
  items on the meeting record 「机上演習 …」.
- Planned, in a month: an earthquake scenario with three injects, one CESI for its named reader only.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.enums import GOV_ONLY_CODE, Level, ReleaseMarking
from portal.exercises import run, service
from portal.meetings.followup_read import today_in
from portal.meetings.forms import PartMarkingInput
from portal.meetings.models import Meeting
from portal.rooms.models import Subcommittee
from portal.security import policy

CHAIR = "takahashi@mic.example.jp"
SECRETARIAT = "sato@cao.example.jp"
SUZUKI = "suzuki@mlit.example.jp"
YAMAMOTO = "yamamoto@hokushin-power.example.jp"
YOSHIDA = "yoshida@icess.example.jp"
TOKYO = ZoneInfo("Asia/Tokyo")

FINISHED_TITLE = "広域停電から通信・決済への連鎖障害(令和7年度 第1回机上演習)"
FINISHED_SCENARIO = (
    "**想定**: 冬季の平日夕方、北辰電力管内で基幹送電線2ルートが同時に事故停止し、管内の約4割が停電する。"
    "停電は通信基地局・データセンターの非常用電源に依存する時間帯に入り、携帯通信と決済サービスに"
    "連鎖的な機能停止が広がる。\n\n"
    "**目的**: 電力→通信→決済の相互依存に沿って、事業者と関係省庁の初動・情報共有・優先順位付けを確認し、"
    "リスク登録簿の想定(影響範囲・復旧時間)を点検する。\n\n"
    "**前提**: 気温は氷点下。復旧見込みは当初不明。サイバー攻撃の可能性は否定されていない。"
)
FINISHED_INJECTS = [
    (0, "北辰電力 給電指令所", "分科会 全参加者",
     "17:05、基幹送電線2ルートが同時に事故停止。周波数低下リレーが動作し、管内の約40%(約250万戸)が停電。"
     "復旧見込みは未定。",
     "各事業者は被害状況を把握し所管省庁へ第一報。事務局は関係省庁の連絡体制を立ち上げる。",
     Level.RESTRICTED, ()),
    (30, "携帯通信事業者A社 ネットワーク運用センター", "総務省",
     "停電エリアの携帯基地局の約3割が非常用バッテリーで運用中。持続時間は3〜6時間。移動電源車は12台のみ。",
     "総務省は電源車・発電機の配備先を電力会社と調整し、病院・自治体庁舎周辺の基地局を優先する。",
     Level.RESTRICTED, ()),
    (90, "資金決済ネットワーク運営会社", "金融庁・事務局",
     "主要データセンター1拠点が自家発電に切替。燃料は約24時間分。通信回線の断により一部ATMとキャッシュレス決済が不通。",
     "燃料の優先供給要請の経路を確認し、代替拠点への切替判断の基準と顧客への周知を確認する。",
     Level.CONFIDENTIAL, ()),
    (180, "内閣官房(事態対処)", "関係省庁",
     "停電の48時間超の長期化が見込まれる。重要インフラ事業者への燃料優先供給の調整と、"
     "サイバー攻撃の可能性の調査を開始する。",
     "関係省庁は燃料供給の優先順位案を作成し、NISCと情報を共有する。公表内容は政府内で調整する。",
     Level.CONFIDENTIAL, (GOV_ONLY_CODE,)),
    (240, "北辰電力 給電指令所", "分科会 全参加者",
     "系統の段階的復旧を開始。需要急増による再停電を避けるため、通信・決済の重要拠点から順に送電する。",
     "各事業者は復旧の優先順位を確認し、利用者への情報発信を行う。", Level.RESTRICTED, ()),
]  # fmt: skip
#: (inject index, who, response)
RESPONSES = [
    (0, YAMAMOTO, "社内対策本部を設置。停電範囲と主要変電所の被害を確認中。30分以内に経済産業省へ第一報。"),
    (0, SUZUKI, "国土交通省として鉄道・道路の信号停止状況の把握を開始。"),
    (1, YOSHIDA,
     "基地局の優先順位付けには、避難所・医療機関の位置情報との重ね合わせが有効(研究機構で試算可能)。"),
    (2, SUZUKI, "燃料輸送のためタンクローリーの緊急通行車両確認を準備。"),
    (4, YAMAMOTO, "送電再開の順序を通信・決済事業者と共有。再停電に備え需要抑制の呼びかけ文案を準備。"),
]  # fmt: skip
FINDINGS = [
    ("**電源車の配備調整に時間を要した**\n\n"
     "基地局の非常用電源の持続時間(3〜6時間)に対し、電源車の配備先の調整に2時間以上を要した。"
     "電力・通信事業者間で配備の優先順位を平時に合意しておく必要がある。",
     Level.RESTRICTED, None,
     ("電力・通信事業者間の電源車配備の優先順位案を作成し、次回点検で報告する", CHAIR, 30)),
    ("**決済拠点の燃料確保**\n\n"
     "データセンターの燃料(約24時間分)は長期化シナリオでは不足する。燃料優先供給の要請経路が事業者ごとに"
     "異なり、初動で混乱した。要請経路を一本化し、リスク登録簿の復旧時間の想定を見直す。",
     Level.CONFIDENTIAL, "重要インフラ拠点の燃料備蓄量(脆弱性)に触れるため",
     ("重要インフラ事業者の燃料優先供給要請の経路を整理し、関係省庁と共有する", SECRETARIAT, 14)),
]  # fmt: skip

PLANNED_TITLE = "首都直下地震による重要インフラの複合障害(令和7年度 第2回机上演習)"
PLANNED_SCENARIO = (
    "**想定**: 平日午前に首都直下地震(M7.3)が発生。都心の変電所・通信局舎・データセンターが同時に被災し、"
    "電力・通信・決済の復旧が相互に依存して遅れる。\n\n"
    "**目的**: 複数インフラが同時に停止した場合の復旧優先順位と、官民の情報共有の手順を確認する。"
)
PLANNED_INJECTS = [
    (0, "気象庁・内閣府(防災)", "分科会 全参加者",
     "10:12、東京湾北部を震源とするM7.3の地震。都心部で震度6強。", "各事業者は被害の初動把握と第一報。",
     Level.RESTRICTED, ()),
    (45, "通信事業者B社", "総務省", "都心の通信局舎1か所が浸水により停止。固定・携帯とも広域で輻輳。",
     "総務省は代替ルートの確保状況を確認し、輻輳対策の周知を調整する。", Level.RESTRICTED, ()),
    (120, "同盟国政府", "総務省(高橋)",
     "被災に乗じた重要インフラへのサイバー攻撃の予兆情報(重要経済安保情報)。",
     "指定された取扱者の範囲で評価し、対処方針を決定する。", Level.CESI, ()),
]  # fmt: skip


def _marking(
    level: Level, caveats: tuple[str, ...] = (), reason: str | None = None, readers: frozenset = frozenset()
) -> PartMarkingInput:
    if level >= Level.CONFIDENTIAL and reason is None:
        reason = "重要インフラの脆弱性に触れるため"
    return PartMarkingInput(
        level=level,
        release=ReleaseMarking.AMBER_STRICT if GOV_ONLY_CODE in caveats else ReleaseMarking.GREEN,
        caveat_codes=frozenset(caveats),
        reader_ids=readers,
        release_organization_ids=frozenset(),
        reason=reason,
    )


def _add_injects(
    session: Session, chair: policy.Subject, exercise_id: object, injects: list, readers: frozenset
) -> None:
    for offset, sender, recipient, text, expected, level, caveats in injects:
        service.add_inject(
            session, chair, exercise_id,  # type: ignore[arg-type]
            service.InjectInput(offset, text, sender, recipient, expected,
                                _marking(level, caveats,
                                         readers=readers if level == Level.CESI else frozenset())),
        )  # fmt: skip


def load(
    session: Session,
    users: dict[str, User],
    rooms: dict[str, Subcommittee],
    meetings: dict[str, Meeting],
    now: datetime,
) -> None:
    del meetings  # the finished exercise makes its own meeting record
    room = rooms["infrastructure"]
    chair = policy.load_subject(session, users[CHAIR], now)
    participants = frozenset(users[email].id for email in (SUZUKI, YAMAMOTO, YOSHIDA, SECRETARIAT))
    started = (now - timedelta(days=21)).astimezone(TOKYO).replace(hour=14, minute=0, second=0, microsecond=0)

    finished = service.create_exercise(
        session, chair, room.id,
        service.ExerciseInput(FINISHED_TITLE, FINISHED_SCENARIO, started.date(), chair.user_id, participants,
                              _marking(Level.RESTRICTED)),
        now - timedelta(days=40),
    )  # fmt: skip
    _add_injects(session, chair, finished.id, FINISHED_INJECTS, frozenset())
    run.start(session, chair, finished.id, started)
    revealed = []
    for offset, *_rest in FINISHED_INJECTS:
        revealed.append(
            run.reveal_next(session, chair, finished.id, started + timedelta(minutes=offset // 4))
        )
    for index, email, text in RESPONSES:
        who = policy.load_subject(session, users[email], now)
        at = started + timedelta(minutes=FINISHED_INJECTS[index][0] // 4 + 5)
        run.respond(session, who, finished.id, revealed[index], text, at)
    run.finish(session, chair, finished.id, started + timedelta(minutes=90))
    today = today_in(now)
    for body, level, reason, (action, owner, days) in FINDINGS:
        run.add_after_action(
            session, chair, finished.id,
            run.AfterActionInput(body, _marking(level, reason=reason), action, users[owner].id,
                                 today + timedelta(days=days)),
            now - timedelta(days=20),
        )  # fmt: skip

    planned_on = (now + timedelta(days=30)).astimezone(TOKYO).date()
    players = frozenset(users[email].id for email in (SUZUKI, YAMAMOTO, YOSHIDA))
    planned = service.create_exercise(
        session, chair, room.id,
        service.ExerciseInput(PLANNED_TITLE, PLANNED_SCENARIO, planned_on, chair.user_id, players,
                              _marking(Level.RESTRICTED)),
        now - timedelta(days=2),
    )  # fmt: skip
    _add_injects(session, chair, planned.id, PLANNED_INJECTS, frozenset({chair.user_id}))
