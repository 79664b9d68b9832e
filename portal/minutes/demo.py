"""Demo minutes: the published minutes of the past minerals meeting (第4回), drafted in portion-marked
portions by the secretariat (佐藤) and the chair (田中, who writes what only he may mark), circulated,
reviewed by attendees, approved by the chair and published by the secretariat, all through the same
services as the web pages (so the policy decides and the audit trail records every step)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.enums import GOV_ONLY_CODE, Level, ReleaseMarking
from portal.meetings.forms import PartMarkingInput
from portal.meetings.models import Attendance, AttendanceResponse, Meeting
from portal.minutes import drafting, service, workflow
from portal.minutes.models import Minutes, PortionComment
from portal.rooms.models import Subcommittee
from portal.security import policy

SECRETARIAT = "sato@cao.example.jp"
CHAIR = "tanaka@meti.example.jp"
#: Who attended 第4回 (answered "attend" and recorded present).
ATTENDEES = (
    SECRETARIAT,
    CHAIR,
    "ito@toho-raremetals.example.jp",
    "yoshida@icess.example.jp",
    "kobayashi@toto-u.example.jp",
)


@dataclass(frozen=True)
class DemoPortion:
    author: str
    heading: str
    body: str
    level: Level
    release: ReleaseMarking = ReleaseMarking.GREEN
    caveats: tuple[str, ...] = ()
    readers: tuple[str, ...] = ()
    #: TLP:AMBER: the organisations (by a member's e-mail) whose people may export it besides the origin's.
    release_to: tuple[str, ...] = ()
    reason: str | None = None


PORTIONS = [
    DemoPortion(
        SECRETARIAT,
        "1. 開会",
        "事務局(内閣府 経済安全保障推進室)より開会を宣言し、田中座長の進行により議事を行った。"
        "出席者は別添名簿のとおり。\n\n"
        "本日の議題は、(1)ガリウム・ゲルマニウム輸出管理措置の国内産業への影響、(2)代替調達先の候補、"
        "(3)国家備蓄の放出、(4)同盟国からの通報への対応、(5)今後の進め方、の5点である。",
        Level.RESTRICTED,
    ),
    DemoPortion(
        SECRETARIAT,
        "2. 会議の概要(公表用)",
        "重要鉱物分科会は第4回会合を開催し、重要鉱物の輸出管理措置が国内産業に与える影響の把握と、"
        "供給確保に向けた対応方針について議論した。",
        Level.PUBLIC,
        ReleaseMarking.CLEAR,
    ),
    DemoPortion(
        SECRETARIAT,
        "3. ガリウム・ゲルマニウム輸出管理措置の国内産業への影響",
        "経済産業省より、輸出許可制の導入以降、ガリウム・ゲルマニウムの輸入量が前年同期比で大きく減少していること、"
        "化合物半導体および赤外線光学部品のメーカーで在庫の取り崩しが進んでいることが報告された。\n\n"
        "委員からは、在庫が概ね3〜6か月分にとどまる企業があり、許可取得の遅れが続けば生産調整に至るおそれがある、"
        "との指摘があった。",
        Level.RESTRICTED,
    ),
    DemoPortion(
        CHAIR,
        "4. 代替調達先の候補",
        "東邦レアメタル株式会社より、亜鉛製錬の副産物からのガリウム回収について、国内製錬所2か所で"
        "年間計約20トン規模の増産余地があるとの説明があった。\n\n"
        "ゲルマニウムについては、北米およびアフリカの鉱山2社と長期引取契約の協議を進めており、価格条件の調整が残っている。"
        "委員からは、回収設備への投資支援の要否を次回までに整理するよう求める意見があった。",
        Level.CONFIDENTIAL,
        ReleaseMarking.AMBER,
        caveats=("MINERALS-SUPPLY",),
        release_to=("ito@toho-raremetals.example.jp",),
        reason="個別企業の調達先および取引条件を含むため",
    ),
    DemoPortion(
        SECRETARIAT,
        "5. 国家備蓄の放出",
        "経済産業省より、ガリウムの国家備蓄について、需給の逼迫が続く場合の放出の手順と放出量の考え方が説明された。"
        "放出の判断は価格動向と主要需要家の在庫水準を踏まえて行い、第一段階として備蓄量の一部を入札により放出する案を軸に検討する。\n\n"
        "放出の時期は市場への影響を考慮し、決定まで政府内限りの扱いとする。",
        Level.CONFIDENTIAL,
        caveats=(GOV_ONLY_CODE,),
        reason="政府内の検討過程であり、公表により市場に影響を与えるおそれがあるため",
    ),
    DemoPortion(
        CHAIR,
        "6. 同盟国からの通報への対応",
        "同盟国政府より、レアアース関連品目の再輸出規制の強化が検討されている旨の通報があった。"
        "通報の内容および提供元は、提供国との取決めにより指名された者に限り共有する。\n\n"
        "対応として、関係企業の調達計画への影響評価を非公開で実施し、提供国と協議の上、次回会合までに対応方針案をまとめる。",
        Level.CESI,
        ReleaseMarking.RED,
        readers=(CHAIR, "ito@toho-raremetals.example.jp"),
        reason="外国政府から秘密として提供された情報を含むため",
    ),
    DemoPortion(
        SECRETARIAT,
        "7. 今後の進め方",
        "(1)事務局は、主要需要家の在庫水準を月次で把握する仕組みを整える。\n"
        "(2)経済産業省は、代替調達に向けた支援策の選択肢を整理し、次回会合で報告する。\n"
        "(3)次回(第5回)会合は、ガリウム・ゲルマニウム輸出管理への対応を主な議題として開催する。",
        Level.RESTRICTED,
    ),
    DemoPortion(
        SECRETARIAT,
        "8. 閉会",
        "田中座長より、本日の議論を踏まえて事務局が議事録案を作成し、出席者の確認を経て確定する旨が述べられ、閉会した。",
        Level.RESTRICTED,
    ),
]

#: Review comments made while the draft was circulated: (author, portion number from 1, text).
COMMENTS = [
    (
        "ito@toho-raremetals.example.jp",
        4,
        "回収設備の増強には2年程度を要する見込みである点を追記いただけますでしょうか。",
    ),
    (
        "kobayashi@toto-u.example.jp",
        3,
        "「概ね3〜6か月分」の根拠となる調査の時点を明記すると分かりやすいと思います。",
    ),
]


def _add_attendance(session: Session, meeting: Meeting, users: dict[str, User]) -> None:
    for email in ATTENDEES:
        user = users[email]
        exists = session.scalar(
            select(Attendance.id).where(Attendance.meeting_id == meeting.id, Attendance.user_id == user.id)
        )
        if exists is None:  # the attendance demo may have recorded it already
            session.add(
                Attendance(
                    meeting_id=meeting.id, user_id=user.id, response=AttendanceResponse.ATTEND, present=True
                )
            )
    session.flush()


def _marking(spec: DemoPortion, users: dict[str, User]) -> PartMarkingInput:
    return PartMarkingInput(
        level=spec.level,
        release=spec.release,
        caveat_codes=frozenset(spec.caveats),
        reader_ids=frozenset(users[email].id for email in spec.readers),
        release_organization_ids=frozenset(users[email].organization_id for email in spec.release_to),
        reason=spec.reason,
    )


def load(
    session: Session,
    users: dict[str, User],
    rooms: dict[str, Subcommittee],
    meetings: dict[str, Meeting],
    now: datetime,
) -> Minutes:
    """Publish the minutes of meetings["minerals-4"] (revision 1) and return them."""
    meeting = meetings["minerals-4"]
    assert meeting.subcommittee_id == rooms["minerals"].id
    _add_attendance(session, meeting, users)

    def subject(email: str) -> policy.Subject:
        return policy.load_subject(session, users[email], now)

    minutes = drafting.start_minutes(session, subject(SECRETARIAT), meeting.id)
    portion_ids = []
    for spec in PORTIONS:
        new = drafting.PortionInput(spec.heading, spec.body, _marking(spec, users))
        portion = drafting.add_portion(session, subject(spec.author), meeting.id, minutes.version, new)
        portion_ids.append(portion.id)
    workflow.circulate(session, subject(SECRETARIAT), meeting.id, minutes.version)
    for email, number, body in COMMENTS:
        workflow.add_comment(session, subject(email), meeting.id, portion_ids[number - 1], body)
    workflow.approve(session, subject(CHAIR), meeting.id, minutes.version)
    workflow.publish(session, subject(SECRETARIAT), meeting.id, minutes.version)
    _date_the_steps(session, minutes, now)
    return minutes


def _date_the_steps(session: Session, minutes: Minutes, now: datetime) -> None:
    """The meeting was two weeks ago: the draft followed it, and the review took a week (the published hash
    covers the portions, not these dates)."""
    drafted = now - timedelta(days=13)
    minutes.created_at = drafted
    for portion in minutes.portions:
        portion.created_at = drafted
        for text in portion.texts:
            text.written_at = drafted
            comments = select(PortionComment).where(PortionComment.portion_text_id == text.id)
            for comment in session.scalars(comments):
                comment.created_at = now - timedelta(days=9)
    revision = service.working_revision(minutes)
    revision.created_at = drafted
    revision.circulated_at = now - timedelta(days=11)
    revision.approved_at = now - timedelta(days=7)
    revision.published_at = now - timedelta(days=6)
    minutes.updated_at = revision.published_at
    session.flush()
