"""Demo meetings: one upcoming meeting per demo room (and a past one in the minerals room), scheduled by the
room's secretariat or chair through the same service as the web form (so the policy decides and the audit
trail records them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.enums import Level
from portal.meetings import service
from portal.meetings.models import Meeting
from portal.rooms.models import Subcommittee
from portal.security import policy

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
    """Schedule the demo meetings; returns them by key (for the agenda, findings and minutes demos)."""
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
    return meetings
