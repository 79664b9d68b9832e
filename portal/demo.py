"""Demo data drawn from the briefing: the secretariat, ministries, fictional companies, the think tank,
the four example subcommittees, and users in every role so that no single account sees everything."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import notifications
from portal.accounts import service as accounts
from portal.accounts.caveats import Caveat, UserCaveat
from portal.accounts.models import Organization, User
from portal.db import utcnow
from portal.documents import attachments, filetypes
from portal.documents.models import Document, DocumentCaveat, DocumentReader
from portal.documents.service import index_text, record_version, seal_text
from portal.enums import (
    GOV_ONLY_CODE,
    CaveatKind,
    Level,
    OrganizationKind,
    ReleaseMarking,
    Role,
    RoomRole,
    Sector,
    SubcommitteeKind,
)
from portal.exercises import demo as exercises_demo
from portal.meetings import demo as meetings_demo
from portal.meetings import followup_demo
from portal.meta import DEMO_DATABASE_KEY, get_meta, set_meta
from portal.minutes import demo as minutes_demo
from portal.policywork import demo as policywork_demo
from portal.risks import demo as risks_demo
from portal.rooms.models import Membership, Subcommittee
from portal.security import mfa, policy
from portal.situation import demo as situation_demo
from portal.thinktank import demo as thinktank_demo

#: Every demo account signs in with this password (it is printed by `portal demo accounts` too).
DEMO_PASSWORD = "Kyogikai-Demo-2026!"  # noqa: S105  (published demo credential)


class DemoError(RuntimeError):
    """Demo data cannot be loaded or read here."""


@dataclass(frozen=True)
class DemoOrg:
    key: str
    name_ja: str
    name_en: str
    kind: OrganizationKind
    qualification: str | None = None
    qualified_days: int = 0
    sector: Sector | None = None


ORGANIZATIONS = [
    DemoOrg(
        "cao",
        "内閣府 経済安全保障推進室",
        "Cabinet Office, Economic Security Office",
        OrganizationKind.SECRETARIAT,
        sector=Sector.GOVERNMENT,
    ),
    DemoOrg(
        "meti",
        "経済産業省",
        "Ministry of Economy, Trade and Industry",
        OrganizationKind.GOVERNMENT,
        sector=Sector.GOVERNMENT,
    ),
    DemoOrg(
        "mlit",
        "国土交通省",
        "Ministry of Land, Infrastructure, Transport and Tourism",
        OrganizationKind.GOVERNMENT,
        sector=Sector.GOVERNMENT,
    ),
    DemoOrg(
        "mic",
        "総務省",
        "Ministry of Internal Affairs and Communications",
        OrganizationKind.GOVERNMENT,
        sector=Sector.GOVERNMENT,
    ),
    DemoOrg(
        "toho",
        "東邦レアメタル株式会社",
        "Toho Rare Metals Co., Ltd.",
        OrganizationKind.PRIVATE,
        "TEKIGO-2025-0142",
        700,
        sector=Sector.MATERIALS,
    ),
    DemoOrg(
        "setouchi",
        "瀬戸内造船株式会社",
        "Setouchi Shipbuilding Co., Ltd.",
        OrganizationKind.PRIVATE,
        "TEKIGO-2025-0311",
        500,
        sector=Sector.SHIPBUILDING,
    ),
    DemoOrg(
        "hokushin",
        "北辰電力株式会社",
        "Hokushin Electric Power Co., Inc.",
        OrganizationKind.PRIVATE,
        "TEKIGO-2023-0077",
        -30,
        sector=Sector.ENERGY,
    ),
    DemoOrg(
        "mirai",
        "未来知能ラボ株式会社",
        "Mirai Intelligence Lab Inc.",
        OrganizationKind.PRIVATE,
        sector=Sector.AI_IT,
    ),
    DemoOrg(
        "tank",
        "経済安全保障総合研究機構",
        "Institute for Comprehensive Economic Security Studies",
        OrganizationKind.THINK_TANK,
        sector=Sector.THINK_TANK,
    ),
    DemoOrg(
        "univ",
        "東都大学 先端政策研究センター",
        "Toto University, Center for Advanced Policy Studies",
        OrganizationKind.ACADEMIA,
        sector=Sector.ACADEMIA,
    ),
]


@dataclass(frozen=True)
class DemoRoom:
    key: str
    kind: SubcommitteeKind
    name_ja: str
    name_en: str
    description_ja: str
    description_en: str


ROOMS = [
    DemoRoom(
        "minerals",
        SubcommitteeKind.RAPID_RESPONSE,
        "重要鉱物分科会",
        "Critical Minerals Subcommittee",
        "ガリウム・ゲルマニウム、黒鉛、アンチモン、レアアース等に対する輸出管理措置の実態と影響を把握し、"
        "代替調達・備蓄放出などの対策を迅速に検討する。",
        "Grasps the facts and impact of export controls on gallium, germanium, graphite, antimony and rare "
        "earths, and decides countermeasures such as alternative sourcing and stockpile release, fast.",
    ),
    DemoRoom(
        "agi",
        SubcommitteeKind.POLICY_COORDINATION,
        "AGI分科会",
        "AGI Subcommittee",
        "汎用人工知能がもたらす、いまだ顕在化していない業種横断のリスクを取り上げ、中長期の対応を検討する。",
        "Takes up cross-industry risks from artificial general intelligence that are not yet visible and "
        "considers medium- to long-term responses.",
    ),
    DemoRoom(
        "shipbuilding",
        SubcommitteeKind.POLICY_COORDINATION,
        "造船分科会",
        "Shipbuilding Subcommittee",
        "海底ケーブル敷設船を含む造船基盤の脆弱性と、重要航路の輸送網強靱化に向けた中長期の方策を検討する。",
        "Considers the vulnerabilities of the shipbuilding base, including cable-laying ships, and "
        "medium- to long-term measures for resilient transport on key sea routes.",
    ),
    DemoRoom(
        "infrastructure",
        SubcommitteeKind.RISK_REVIEW,
        "重要インフラ機能停止分科会",
        "Critical Infrastructure Outage Subcommittee",
        "電力・通信・決済などインフラ間の相互依存を踏まえたリスクシナリオを定期的に点検し、"
        "平時・有事の対策と机上演習(TTX)を行う。",
        "Periodically reviews risk scenarios that account for dependencies between power, telecoms and "
        "payments, with peacetime and emergency measures and tabletop exercises (TTX).",
    ),
]


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    org: str
    roles: tuple[Role, ...]
    clearance: Level | None
    rooms: tuple[tuple[str, RoomRole], ...]
    locale: str = "ja"
    enrolled: bool = True
    #: Days from now until the clearance expires; negative means it has already lapsed.
    clearance_days: int | None = None
    note: str = ""


USERS = [
    DemoUser(
        "sato@cao.example.jp",
        "佐藤 美咲",
        "cao",
        (Role.SECRETARIAT,),
        Level.CONFIDENTIAL,
        (
            ("minerals", RoomRole.MEMBER),
            ("shipbuilding", RoomRole.MEMBER),
            ("infrastructure", RoomRole.MEMBER),
        ),
        note="secretariat; not in the AGI room",
    ),
    DemoUser(
        "kato@cao.example.jp",
        "加藤 健一",
        "cao",
        (Role.SECRETARIAT,),
        None,
        (("agi", RoomRole.MEMBER),),
        note="secretariat without clearance",
    ),
    DemoUser(
        "tanaka@meti.example.jp",
        "田中 浩",
        "meti",
        (Role.MEMBER,),
        Level.CESI,
        (("minerals", RoomRole.CHAIR), ("shipbuilding", RoomRole.MEMBER)),
        note="ministry official, CESI",
    ),
    DemoUser(
        "suzuki@mlit.example.jp",
        "鈴木 由美",
        "mlit",
        (Role.MEMBER,),
        Level.CONFIDENTIAL,
        (("shipbuilding", RoomRole.CHAIR), ("infrastructure", RoomRole.MEMBER)),
    ),
    DemoUser(
        "takahashi@mic.example.jp",
        "高橋 誠",
        "mic",
        (Role.MEMBER,),
        Level.CESI,
        (("infrastructure", RoomRole.CHAIR), ("agi", RoomRole.CHAIR)),
        locale="en",
    ),
    DemoUser(
        "ito@toho-raremetals.example.jp",
        "伊藤 直樹",
        "toho",
        (Role.MEMBER,),
        Level.CESI,
        (("minerals", RoomRole.MEMBER),),
        note="private, qualified business",
    ),
    DemoUser(
        "watanabe@setouchi-zosen.example.jp",
        "渡辺 あかり",
        "setouchi",
        (Role.MEMBER,),
        Level.RESTRICTED,
        (("shipbuilding", RoomRole.MEMBER),),
    ),
    DemoUser(
        "yamamoto@hokushin-power.example.jp",
        "山本 拓也",
        "hokushin",
        (Role.MEMBER,),
        Level.CESI,
        (("infrastructure", RoomRole.MEMBER),),
        note="private, qualification lapsed",
    ),
    DemoUser(
        "nakamura@mirai-lab.example.jp",
        "中村 さくら",
        "mirai",
        (Role.MEMBER,),
        Level.RESTRICTED,
        (("agi", RoomRole.MEMBER),),
        clearance_days=-1,
        note="clearance expired",
    ),
    DemoUser(
        "kobayashi@toto-u.example.jp",
        "小林 聡",
        "univ",
        (Role.MEMBER,),
        Level.RESTRICTED,
        (("agi", RoomRole.OBSERVER), ("minerals", RoomRole.OBSERVER)),
        locale="en",
        note="academic observer",
    ),
    DemoUser(
        "yoshida@icess.example.jp",
        "吉田 真理",
        "tank",
        (Role.ANALYST,),
        Level.CONFIDENTIAL,
        (("minerals", RoomRole.MEMBER), ("infrastructure", RoomRole.MEMBER)),
        note="think-tank analyst",
    ),
    DemoUser(
        "yamada@meti.example.jp",
        "山田 花子",
        "meti",
        (Role.MEMBER,),
        Level.RESTRICTED,
        (("minerals", RoomRole.MEMBER),),
        enrolled=False,
        note="has not set up MFA yet: shows enrolment",
    ),
    DemoUser(
        "matsumoto@cao.example.jp",
        "松本 和也",
        "cao",
        (Role.AUDITOR,),
        None,
        (),
        note="auditor; reads no content",
    ),
    DemoUser(
        "inoue@cao.example.jp",
        "井上 隆",
        "cao",
        (Role.ADMIN,),
        None,
        (),
        note="administrator; reads no content",
    ),
]


#: Topic compartments, and who holds them.
COMPARTMENTS = [
    (
        "MINERALS-SUPPLY",
        "重要鉱物 調達先情報",
        "Critical minerals: sourcing",
        ("tanaka@meti.example.jp", "ito@toho-raremetals.example.jp"),
    ),
    (
        "GRID-OPS",
        "電力系統 運用情報",
        "Power grid operations",
        ("suzuki@mlit.example.jp", "takahashi@mic.example.jp"),
    ),
]


@dataclass(frozen=True)
class DemoDocument:
    room: str
    author: str
    level: Level
    release: ReleaseMarking
    title: str
    body: str
    caveats: tuple[str, ...] = ()
    readers: tuple[str, ...] = ()
    reason: str | None = None
    #: Files attached to the document: (file name, content).
    attachments: tuple[tuple[str, bytes], ...] = ()


#: Monthly imports (t) and unit prices: a small CSV a member would attach to the impact review.
IMPORTS_CSV = "\n".join(
    [
        "年月,品目,輸入量(t),単価(円/kg)",
        "2023-06,ガリウム,4.2,61000",
        "2023-09,ガリウム,1.1,78000",
        "2023-12,ガリウム,0.9,83000",
        "2023-06,ゲルマニウム,2.8,182000",
        "2023-09,ゲルマニウム,0.6,231000",
        "2023-12,ゲルマニウム,0.5,247000",
        "",
    ]
).encode()


DOCUMENTS = [
    DemoDocument("minerals", "sato@cao.example.jp", Level.PUBLIC, ReleaseMarking.CLEAR,
                 "重要鉱物分科会 開催要領", "分科会の目的、構成員、開催方法を定める。"),
    DemoDocument("minerals", "tanaka@meti.example.jp", Level.RESTRICTED, ReleaseMarking.GREEN,
                 "ガリウム・ゲルマニウム輸出管理措置の影響整理(第1版)",
                 "2023年8月の輸出管理措置開始以降の輸入量・価格の推移と、国内需要家への影響を整理する。",
                 attachments=(("ガリウム・ゲルマニウム輸入量推移.csv", IMPORTS_CSV),)),
    DemoDocument("minerals", "tanaka@meti.example.jp", Level.CONFIDENTIAL, ReleaseMarking.AMBER,
                 "国家備蓄の放出検討状況(政府限り)", "備蓄放出の判断基準と関係省庁の調整状況。",
                 caveats=("GOV_ONLY",), reason="政府内の検討過程であり、公表により判断に支障が生じるため"),
    DemoDocument("minerals", "tanaka@meti.example.jp", Level.CONFIDENTIAL, ReleaseMarking.AMBER_STRICT,
                 "代替調達先候補の企業別評価", "代替調達先候補の企業ごとの供給余力と契約条件の評価。",
                 caveats=("MINERALS-SUPPLY",), reason="個別企業の取引情報を含むため"),
    DemoDocument("minerals", "tanaka@meti.example.jp", Level.CESI, ReleaseMarking.RED,
                 "レアアース再輸出規制に関する同盟国からの通報", "同盟国から共有された規制運用の見通し。",
                 readers=("tanaka@meti.example.jp", "ito@toho-raremetals.example.jp"),
                 reason="重要経済安保情報に指定された情報を含むため"),
    DemoDocument("infrastructure", "takahashi@mic.example.jp", Level.RESTRICTED, ReleaseMarking.GREEN,
                 "電力・通信・決済 相互依存シナリオ(案)",
                 "広域停電が通信、さらに決済へ波及するシナリオと、各段階の影響の見積もり。"),
    DemoDocument("infrastructure", "takahashi@mic.example.jp", Level.CONFIDENTIAL, ReleaseMarking.AMBER,
                 "系統運用データに基づく脆弱箇所の点検結果", "需給調整に係る脆弱箇所の点検結果。",
                 caveats=("GRID-OPS",), reason="重要インフラの脆弱性情報を含むため"),
    DemoDocument("infrastructure", "takahashi@mic.example.jp", Level.CESI, ReleaseMarking.RED,
                 "重要インフラ事業者へのサイバー攻撃に関する通報", "攻撃の手口と想定される標的に関する情報。",
                 readers=("takahashi@mic.example.jp", "yamamoto@hokushin-power.example.jp"),
                 reason="重要経済安保情報に指定された情報を含むため"),
    DemoDocument("agi", "takahashi@mic.example.jp", Level.PUBLIC, ReleaseMarking.CLEAR,
                 "AGI分科会 設置趣旨", "業種横断のリスクを中長期の視点で検討する場として設置する。"),
    DemoDocument("agi", "takahashi@mic.example.jp", Level.RESTRICTED, ReleaseMarking.GREEN,
                 "AGIリスク論点整理メモ",
                 "計算資源の集中、重要インフラでの利用、サプライチェーンへの影響の論点。"),
    DemoDocument("shipbuilding", "suzuki@mlit.example.jp", Level.RESTRICTED, ReleaseMarking.GREEN,
                 "海底ケーブル敷設船の国内供給能力",
                 "国際通信の99%を担う光海底ケーブルの敷設役務の国内供給能力。"),
    DemoDocument("shipbuilding", "suzuki@mlit.example.jp", Level.CONFIDENTIAL, ReleaseMarking.AMBER,
                 "造船事業の譲渡に関する懸念事案(政府限り)", "事業譲渡が供給能力と技術流出に及ぼす影響。",
                 caveats=("GOV_ONLY",), reason="個別事案の検討過程であるため"),
]  # fmt: skip


def _load_caveats_and_documents(
    session: Session, users: dict[str, User], rooms: dict[str, Subcommittee], now: datetime
) -> None:
    caveats = {
        GOV_ONLY_CODE: Caveat(
            code=GOV_ONLY_CODE, kind=CaveatKind.GOV_ONLY, name_ja="政府限り", name_en="Government only"
        )
    }
    for code, name_ja, name_en, holders in COMPARTMENTS:
        caveats[code] = Caveat(code=code, kind=CaveatKind.COMPARTMENT, name_ja=name_ja, name_en=name_en)
        for email in holders:
            session.add(
                UserCaveat(user_id=users[email].id, caveat=caveats[code], granted_at=now - timedelta(days=60))
            )
    session.add_all(caveats.values())
    for order, spec in enumerate(DOCUMENTS):
        author = users[spec.author]
        moment = now - timedelta(days=30 - order)
        document = Document(
            id=uuid.uuid4(),
            subcommittee_id=rooms[spec.room].id,
            level=spec.level,
            release=spec.release,
            classified_by_id=author.id,
            classified_at=moment,
            created_by_id=author.id,
            created_at=moment,
            updated_at=moment,
        )
        grant = policy.maintenance_grant("document", document.id)
        seal_text(session, grant, document, title=spec.title, body=spec.body, reason=spec.reason)
        session.add(document)
        session.flush()
        record_version(
            session, grant, document, title=spec.title, body=spec.body, summary=None, author=author.id
        )
        index_text(session, document, title=spec.title, body=spec.body, new=True)
        document.caveat_links = [DocumentCaveat(caveat=caveats[code]) for code in spec.caveats]
        document.reader_links = [
            DocumentReader(user_id=users[email].id, added_by_id=author.id) for email in spec.readers
        ]
        session.add(document)
        for filename, content in spec.attachments:
            upload = attachments.Upload(io.BytesIO(content), filename)
            kind = filetypes.detect(upload.stream, filename)
            attachments.store(session, grant, document, upload, kind, author.id)


def is_demo_database(session: Session) -> bool:
    return get_meta(session, DEMO_DATABASE_KEY) == "true"


def database_is_empty(session: Session) -> bool:
    return not session.scalar(select(func.count()).select_from(User))


def load(session: Session) -> None:
    """Load the demo data into an empty database (refuses otherwise)."""
    if not database_is_empty(session):
        raise DemoError("the database already holds users; demo data goes only into an empty database")
    now = utcnow()
    organizations: dict[str, Organization] = {}
    for spec in ORGANIZATIONS:
        org = Organization(name_ja=spec.name_ja, name_en=spec.name_en, kind=spec.kind, sector=spec.sector)
        if spec.qualification:
            org.qualification_reference = spec.qualification
            org.qualified_until = (now + timedelta(days=spec.qualified_days)).date()
        organizations[spec.key] = org
        session.add(org)
    rooms: dict[str, Subcommittee] = {}
    for room_spec in ROOMS:
        room = Subcommittee(
            kind=room_spec.kind,
            name_ja=room_spec.name_ja,
            name_en=room_spec.name_en,
            description_ja=room_spec.description_ja,
            description_en=room_spec.description_en,
            max_level=Level.CESI,
        )
        rooms[room_spec.key] = room
        session.add(room)
    session.flush()
    secretariat = None
    users: dict[str, User] = {}
    for order, user_spec in enumerate(USERS):
        user = accounts.create_user(
            session,
            email=user_spec.email,
            display_name=user_spec.name,
            organization=organizations[user_spec.org],
            roles=list(user_spec.roles),
            password=DEMO_PASSWORD,
            locale=user_spec.locale,
            is_demo=True,
        )
        users[user_spec.email] = user
        if user_spec.enrolled:
            accounts.store_totp_secret(
                session, user, policy.maintenance_grant("user_secret", user.id), mfa.new_secret()
            )
            user.mfa_enrolled_at = now
        if secretariat is None and Role.SECRETARIAT in user_spec.roles:
            secretariat = user
        if user_spec.clearance is not None:
            expires = (
                now + timedelta(days=user_spec.clearance_days)
                if user_spec.clearance_days is not None
                else None
            )
            accounts.record_clearance(
                session,
                user,
                user_spec.clearance,
                granted_by=secretariat,
                secrets_grant=policy.maintenance_grant("user_secret", user.id),
                evaluation_reference=f"SE-2025-{order:04d}" if user_spec.clearance == Level.CESI else None,
                evaluated_on=date(2025, 9, 1) if user_spec.clearance == Level.CESI else None,
                expires_at=expires,
                reason="demo data",
                now=now - timedelta(days=400),
            )
        for room_key, room_role in user_spec.rooms:
            session.add(
                Membership(
                    subcommittee=rooms[room_key],
                    user=user,
                    room_role=room_role,
                    valid_from=now - timedelta(days=90),
                    sort_order=0 if room_role == RoomRole.CHAIR else 1 + order,
                )
            )
    session.flush()
    _load_caveats_and_documents(session, users, rooms, now)
    thinktank_demo.load(session, users, rooms, now)
    meetings = meetings_demo.load(session, users, rooms, now)
    followup_demo.load(session, users, rooms, meetings, now)
    # The followup (findings, action items) and agenda demos also take their meetings from `meetings`.
    minutes_demo.load(session, users, rooms, meetings, now)
    risks_demo.load(session, users, rooms, meetings, now)
    situation_demo.load(session, users, rooms, meetings, now)
    policywork_demo.load(session, users, rooms, meetings, now)
    # The demo's meetings were convened, published and assigned through the real services: nobody is to
    # be mailed about that history when the demo is loaded.
    exercises_demo.load(session, users, rooms, meetings, now)
    notifications.discard(session)
    set_meta(session, DEMO_DATABASE_KEY, "true")
    session.flush()


def accounts_listing() -> list[dict[str, Any]]:
    """The demo accounts as documented (no database needed)."""
    by_key = {org.key: org for org in ORGANIZATIONS}
    rooms = {room.key: room for room in ROOMS}
    listing = []
    for user_spec in USERS:
        listing.append(
            {
                "email": user_spec.email,
                "password": DEMO_PASSWORD,
                "name": user_spec.name,
                "roles": [role.value for role in user_spec.roles],
                "organization": by_key[user_spec.org].name_ja,
                "organization_en": by_key[user_spec.org].name_en,
                "clearance": user_spec.clearance.name if user_spec.clearance is not None else None,
                "clearance_expired": user_spec.clearance_days is not None and user_spec.clearance_days < 0,
                "rooms": [rooms[key].name_ja for key, _role in user_spec.rooms],
                "mfa_enrolled": user_spec.enrolled,
                "note": user_spec.note,
            }
        )
    return listing


def demo_totp(session: Session, email: str) -> str:
    """The current TOTP code of a demo account; refuses any other account or database."""
    if not is_demo_database(session):
        raise DemoError("this database was not created by `portal demo load`")
    user = accounts.find_user_by_email(session, email)
    if user is None or not user.is_demo:
        raise DemoError(f"{email} is not a demo account")
    grant = policy.grant_demo_secret(is_demo_database(session), user.id, user.is_demo)
    secret = accounts.totp_secret(session, user, grant)
    if secret is None:
        raise DemoError(f"{email} has not enrolled MFA yet; sign in to enrol it first")
    return mfa.current_code(secret)
