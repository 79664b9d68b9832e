"""Demo meetings: one upcoming meeting per demo room (and a past one in the minerals room), scheduled by the
room's secretariat or chair through the same service as the web form (so the policy decides and the audit
trail records them), with their agendas: items added, published and changed through the agenda service."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.documents.models import Document
from portal.documents.service import open_text as open_document_text
from portal.enums import GOV_ONLY_CODE, Level, ReleaseMarking
from portal.meetings import agenda_changes, service
from portal.meetings.forms import PartMarkingInput
from portal.meetings.models import Meeting
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.thinktank.demo import OUTPUTS
from portal.thinktank.models import ThinkTankOutput
from portal.thinktank.service import open_text as open_output_text

TOKYO = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class DemoMeeting:
    #: How the other demos (agenda, attendance, findings, minutes) find this meeting.
    key: str
    room: str
    scheduler: str
    title: str
    place: str
    days_ahead: int
    hour: int
    duration_minutes: int
    level: Level


MEETINGS = [
    DemoMeeting("minerals-4", "minerals", "sato@cao.example.jp",
                "第4回 重要鉱物分科会(輸出管理措置の影響把握と対応方針)",
                "中央合同庁舎第8号館 5階 共用会議室A", -14, 10, 120, Level.RESTRICTED),
    DemoMeeting("minerals-5", "minerals", "sato@cao.example.jp",
                "第5回 重要鉱物分科会(ガリウム・ゲルマニウム輸出管理への対応)",
                "中央合同庁舎第8号館 5階 共用会議室A / オンライン併用", 7, 10, 120, Level.RESTRICTED),
    DemoMeeting("infrastructure-3", "infrastructure", "sato@cao.example.jp",
                "第3回 重要インフラ機能停止分科会(相互依存シナリオの点検)",
                "中央合同庁舎第8号館 3階 会議室B", 14, 14, 90, Level.RESTRICTED),
    DemoMeeting("agi-2", "agi", "takahashi@mic.example.jp", "第2回 AGI分科会(業種横断リスクの論点整理)",
                "オンライン(Web会議)", 10, 15, 90, Level.PUBLIC),
    DemoMeeting("shipbuilding-4", "shipbuilding", "sato@cao.example.jp",
                "第4回 造船分科会(海底ケーブル敷設船の確保)",
                "国土交通省 11階 特別会議室", 21, 10, 120, Level.RESTRICTED),
]  # fmt: skip


def load(
    session: Session, users: dict[str, User], rooms: dict[str, Subcommittee], now: datetime
) -> dict[str, Meeting]:
    """Schedule the demo meetings and set their agendas; returns them by key (for the attendance, findings
    and minutes demos)."""
    meetings: dict[str, Meeting] = {}
    for spec in MEETINGS:
        subject = policy.load_subject(session, users[spec.scheduler], now)
        day = (now.astimezone(TOKYO) + timedelta(days=spec.days_ahead)).date()
        starts_at = datetime(day.year, day.month, day.day, spec.hour, 0, tzinfo=TOKYO)
        meetings[spec.key] = service.create_meeting(
            session,
            subject,
            rooms[spec.room],
            service.NewMeeting(spec.title, spec.place, starts_at, spec.duration_minutes, spec.level),
        )
    _load_agendas(session, users, meetings, now)
    return meetings


# --- agendas ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoItem:
    #: Who adds it: a steward of the room holding the item's caveats (the chair for MINERALS-SUPPLY).
    author: str
    title: str
    presenter: str
    minutes: int
    level: Level = Level.RESTRICTED
    release: ReleaseMarking = ReleaseMarking.GREEN
    caveats: tuple[str, ...] = ()
    reason: str | None = None
    documents: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()


SATO = "sato@cao.example.jp"
TANAKA = "tanaka@meti.example.jp"
TAKAHASHI = "takahashi@mic.example.jp"
#: 「重要鉱物5品目のサプライチェーン依存度分析(2025年度上期)」 and the infrastructure risk review.
SUPPLY_ANALYSIS = OUTPUTS[0].title
RISK_REVIEW = OUTPUTS[1].title

AGENDAS: dict[str, tuple[list[DemoItem], bool]] = {
    "minerals-4": ([
        DemoItem(SATO, "開会・議事の進め方", "事務局(内閣府 経済安全保障推進室)", 5,
                 Level.PUBLIC, ReleaseMarking.CLEAR, documents=("重要鉱物分科会 開催要領",)),
        DemoItem(TANAKA, "ガリウム・ゲルマニウム輸出管理措置の発表内容と対象品目", "経済産業省", 25),
        DemoItem(SATO, "需要家への影響把握のための調査設計", "事務局", 30,
                 documents=("ガリウム・ゲルマニウム輸出管理措置の影響整理(第1版)",)),
        DemoItem(SATO, "業界団体からのヒアリング結果", "東邦レアメタル株式会社", 30),
        DemoItem(TANAKA, "当面の対応方針(備蓄・代替調達の論点)", "経済産業省", 25),
    ], True),
    "minerals-5": ([
        DemoItem(SATO, "開会・前回(第4回)議事概要の確認", "事務局(内閣府 経済安全保障推進室)", 5,
                 Level.PUBLIC, ReleaseMarking.CLEAR),
        DemoItem(TANAKA, "ガリウム・ゲルマニウム輸出管理措置の最新動向", "経済産業省 田中", 20,
                 documents=("ガリウム・ゲルマニウム輸出管理措置の影響整理(第1版)",)),
        DemoItem(SATO, "国内需要家への影響調査の結果報告", "東邦レアメタル株式会社", 20),
        DemoItem(SATO, "シンクタンク報告:重要鉱物5品目のサプライチェーン依存度",
                 "経済安全保障総合研究機構 吉田", 25, outputs=(SUPPLY_ANALYSIS,)),
        DemoItem(TANAKA, "代替調達先の確保に向けた企業別の検討", "経済産業省 田中", 20, Level.CONFIDENTIAL,
                 ReleaseMarking.AMBER_STRICT, ("MINERALS-SUPPLY",), "個別企業の取引情報を扱うため",
                 documents=("代替調達先候補の企業別評価",)),
        DemoItem(SATO, "国家備蓄の放出に向けた検討(政府限り)", "経済産業省・内閣府", 15, Level.CONFIDENTIAL,
                 ReleaseMarking.AMBER, (GOV_ONLY_CODE,), "政府内の検討過程であるため",
                 documents=("国家備蓄の放出検討状況(政府限り)",)),
        DemoItem(SATO, "今後の対応方針と次回日程", "事務局", 10),
    ], True),
    "infrastructure-3": ([
        DemoItem(SATO, "電力・通信・決済の相互依存シナリオの点検", "総務省 高橋", 40,
                 documents=("電力・通信・決済 相互依存シナリオ(案)",)),
        DemoItem(SATO, "シンクタンクによるリスク点検結果の報告", "経済安全保障総合研究機構", 30,
                 Level.CONFIDENTIAL, ReleaseMarking.AMBER, reason="重要インフラの脆弱性に触れるため",
                 outputs=(RISK_REVIEW,)),
        DemoItem(SATO, "次回点検の範囲", "事務局", 15),
    ], True),
    "agi-2": ([
        DemoItem(TAKAHASHI, "業種横断リスクの論点整理", "総務省 高橋", 45,
                 documents=("AGIリスク論点整理メモ",)),
        DemoItem(TAKAHASHI, "今後の検討の進め方", "事務局", 20, Level.PUBLIC, ReleaseMarking.CLEAR),
    ], False),
    "shipbuilding-4": ([
        DemoItem(SATO, "海底ケーブル敷設船の国内供給能力", "国土交通省 鈴木", 45,
                 documents=("海底ケーブル敷設船の国内供給能力",)),
        DemoItem(SATO, "確保策の選択肢と費用の見通し", "国土交通省", 40),
        DemoItem(SATO, "意見交換", "全構成員", 30, Level.PUBLIC, ReleaseMarking.CLEAR),
    ], True),
}  # fmt: skip


def _titles(session: Session, room: Subcommittee) -> dict[str, uuid.UUID]:
    """The room's documents and every output, by title (opened for the demo loader only, with maintenance
    grants: the agenda service then checks that the adding steward may read what they link)."""
    found: dict[str, uuid.UUID] = {}
    for document in session.scalars(select(Document).where(Document.subcommittee_id == room.id)):
        grant = policy.maintenance_grant("document", document.id)
        found[open_document_text(session, grant, document, with_body=False).title] = document.id
    for output in session.scalars(select(ThinkTankOutput)):
        grant = policy.maintenance_grant("output", output.id)
        found[open_output_text(session, grant, output, full=False).title] = output.id
    return found


def _load_agendas(
    session: Session, users: dict[str, User], meetings: dict[str, Meeting], now: datetime
) -> None:
    subjects = {email: policy.load_subject(session, users[email], now) for email in (SATO, TANAKA, TAKAHASHI)}
    titles: dict[uuid.UUID, dict[str, uuid.UUID]] = {}
    for key, (items, published) in AGENDAS.items():
        meeting = meetings[key]
        room = session.get(Subcommittee, meeting.subcommittee_id)
        assert room is not None
        titles[meeting.id] = _titles(session, room)
        for spec in items:
            new = _item_input(spec, titles[meeting.id])
            agenda_changes.add_item(session, subjects[spec.author], meeting.id, new)
        if published:
            agenda_changes.publish(session, subjects[SATO if key != "agi-2" else TAKAHASHI], meeting.id)
    # After publication the secretariat shortens the impact survey and names its presenter: revision 2.
    minerals_5 = meetings["minerals-5"]
    spec = AGENDAS["minerals-5"][0][MINERALS_5_CHANGED]
    changed = DemoItem(spec.author, spec.title, "東邦レアメタル株式会社 伊藤", 15)
    item = agenda_changes.live_items(session, minerals_5.id)[MINERALS_5_CHANGED]
    new = _item_input(changed, titles[minerals_5.id])
    agenda_changes.edit_item(session, subjects[SATO], minerals_5.id, item.id, new)


#: The minerals-5 item changed after publication (0-based): the impact survey.
MINERALS_5_CHANGED = 2


def _item_input(spec: DemoItem, titles: dict[str, uuid.UUID]) -> agenda_changes.ItemInput:
    return agenda_changes.ItemInput(
        title=spec.title,
        presenter=spec.presenter,
        duration_minutes=spec.minutes,
        marking=PartMarkingInput(
            level=spec.level,
            release=spec.release,
            caveat_codes=frozenset(spec.caveats),
            reader_ids=frozenset(),
            release_organization_ids=frozenset(),
            reason=spec.reason,
        ),
        document_ids=frozenset(titles[title] for title in spec.documents),
        output_ids=frozenset(titles[title] for title in spec.outputs),
    )
