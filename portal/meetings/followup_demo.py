"""Demo attendance, findings and action items of the minerals room, made through the same services as the web
forms (so the policy decides, the texts are sealed and the audit trail records them).

第4回 (two weeks ago): every answer and the recorded attendance (quorum met), three findings and three action
items (one overdue). 第5回 (next week): a few answers so far, one by proxy.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.enums import GOV_ONLY_CODE, Level, ReleaseMarking
from portal.meetings import attendance, findings
from portal.meetings.followup_read import today_in
from portal.meetings.forms import PartMarkingInput
from portal.meetings.models import ActionStatus, AttendanceResponse, Meeting
from portal.rooms.models import Subcommittee
from portal.security import policy

SECRETARIAT = "sato@cao.example.jp"
ATTEND, DECLINE, PROXY = AttendanceResponse.ATTEND, AttendanceResponse.DECLINE, AttendanceResponse.PROXY

#: (who, answer, proxy's name) for 第4回, and who was there.
PAST_ANSWERS = [
    ("tanaka@meti.example.jp", ATTEND, None),
    (SECRETARIAT, ATTEND, None),
    ("ito@toho-raremetals.example.jp", ATTEND, None),
    ("yoshida@icess.example.jp", PROXY, "木村 拓海(経済安全保障総合研究機構 主任研究員)"),
    ("yamada@meti.example.jp", DECLINE, None),
    ("kobayashi@toto-u.example.jp", ATTEND, None),
]
PAST_PRESENT = {
    "tanaka@meti.example.jp": True,
    SECRETARIAT: True,
    "ito@toho-raremetals.example.jp": True,
    "yoshida@icess.example.jp": True,  # through the proxy
    "yamada@meti.example.jp": False,
    "kobayashi@toto-u.example.jp": True,
}
UPCOMING_ANSWERS = [
    ("tanaka@meti.example.jp", ATTEND, None),
    (SECRETARIAT, ATTEND, None),
    ("ito@toho-raremetals.example.jp", PROXY, "山口 健(東邦レアメタル株式会社 調達部長)"),
    ("yamada@meti.example.jp", DECLINE, None),
]

STOCKPILE = (
    "**国家備蓄の放出について**\n\n"
    "ガリウムの国内在庫は主要需要家の平均で約3か月分と推計される。輸出許可の遅延が続く場合に備え、"
    "国家備蓄(JOGMEC)の放出条件と優先配分先(化合物半導体、パワー半導体)について関係省庁で検討を進める。"
    "放出の時期・数量は市場への影響を考慮し、公表まで政府内限りとする。"
)
SOURCING = (
    "**代替調達について**\n\n"
    "ゲルマニウムは亜鉛精錬副産物からの回収(国内・カナダ)と、光ファイバー製造工程のスクラップ再生により、"
    "当面の需要の一部を賄える見込み。ガリウムはアルミナ精製副産物からの回収(豪州・ドイツ)の増産余地を、"
    "民間委員の協力を得て確認する。"
)
GENERAL = (
    "**今後の進め方**\n\n"
    "輸出管理措置の運用実態(許可の所要日数、却下事例)を会員企業から継続的に収集し、"
    "次回会合(第5回)で影響の全体像と対応方針案を取りまとめる。"
)


def _marking(
    subject: policy.Subject, level: Level, caveats: frozenset[str] = frozenset(), reason: str | None = None
) -> PartMarkingInput:
    return PartMarkingInput(
        level=level,
        release=ReleaseMarking.AMBER_STRICT if GOV_ONLY_CODE in caveats else ReleaseMarking.GREEN,
        caveat_codes=caveats,
        reader_ids=frozenset(),
        release_organization_ids=frozenset(),
        reason=reason,
    )


def _answer(
    session: Session, users: dict[str, User], meeting: Meeting, answers: list[tuple[str, AttendanceResponse,
    str | None]], now: datetime,
) -> None:  # fmt: skip
    for email, response, proxy in answers:
        subject = policy.load_subject(session, users[email], now)
        attendance.answer(session, subject, meeting.id, response, proxy, now)


def load(
    session: Session,
    users: dict[str, User],
    rooms: dict[str, Subcommittee],
    meetings: dict[str, Meeting],
    now: datetime,
) -> None:
    """Answers, recorded attendance, findings and action items for the minerals meetings."""
    del rooms  # the meetings know their room
    past, upcoming = meetings["minerals-4"], meetings["minerals-5"]
    _answer(session, users, past, PAST_ANSWERS, now)
    steward = policy.load_subject(session, users[SECRETARIAT], now)
    attendance.record(
        session,
        steward,
        past.id,
        {users[email].id: present for email, present in PAST_PRESENT.items()},
        now,
    )
    _answer(session, users, upcoming, UPCOMING_ANSWERS, now)

    stockpile = findings.create_finding(
        session, steward, past.id,
        findings.FindingInput(
            STOCKPILE, None,
            _marking(steward, Level.CONFIDENTIAL, frozenset({GOV_ONLY_CODE}),
                     "備蓄放出の検討状況は市場に影響し、公表前の開示は国の交渉上の立場を損なうため"),
        ),
    )  # fmt: skip
    sourcing = findings.create_finding(
        session, steward, past.id, findings.FindingInput(SOURCING, None, _marking(steward, Level.RESTRICTED))
    )
    findings.create_finding(
        session, steward, past.id, findings.FindingInput(GENERAL, None, _marking(steward, Level.RESTRICTED))
    )

    today = today_in(now)
    actions = [
        ("tanaka@meti.example.jp", "国家備蓄ガリウムの放出条件案を関係省庁と調整し、次回会合で報告する",
         today - timedelta(days=3), ActionStatus.IN_PROGRESS, stockpile.id,
         _marking(steward, Level.CONFIDENTIAL, frozenset({GOV_ONLY_CODE}),
                  "備蓄放出の条件は公表前の政府内検討事項のため")),
        ("ito@toho-raremetals.example.jp",
         "豪州・ドイツのアルミナ精製副産物からのガリウム回収について、増産可能量と調達条件を確認する",
         today + timedelta(days=6), ActionStatus.OPEN, sourcing.id, _marking(steward, Level.RESTRICTED)),
        (SECRETARIAT, "会員企業から輸出許可の所要日数・却下事例を収集し、第5回会合の論点案を作成する",
         today + timedelta(days=3), ActionStatus.OPEN, None, _marking(steward, Level.RESTRICTED)),
    ]  # fmt: skip
    for owner, title, due_on, status, finding_id, marking in actions:
        findings.create_action(
            session,
            steward,
            past.id,
            findings.ActionInput(title, users[owner].id, due_on, status, finding_id, marking),
            now,
        )
