"""A meeting of 重要鉱物分科会 made through the portal's own services, for the end-to-end export benchmark.

On a database with the demo loaded: 佐藤 (secretariat) schedules the meeting; 田中 (chair) writes the room's
long documents, the agenda (each item linked to two of them, one item to the demo's think-tank output too),
publishes it, and records findings and action items; 佐藤 drafts the minutes (田中 writes the portions only
he may mark: CESI and the MINERALS-SUPPLY compartment), circulates them, 田中 approves and 佐藤 publishes.
Every part is marked, sealed and audited exactly as the pages do it.

The text is realistic Japanese (``corpus.long_text``, from a fixed seed). The markings are chosen so that
the benchmark's reader, 伊藤 (a private company's member, CESI, MINERALS-SUPPLY, not government), reads most
of it and may export all he reads, while some parts are withheld from him: 政府限り (GOV_ONLY) parts, and
CESI parts that do not name him. Nothing here imports from tests/.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import corpus
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import User
from portal.db import Database, utcnow
from portal.documents import service as documents
from portal.enums import GOV_ONLY_CODE, Level, ReleaseMarking
from portal.meetings import agenda_changes, findings
from portal.meetings import service as meetings
from portal.meetings.agenda_changes import ItemInput
from portal.meetings.findings import ActionInput, FindingInput
from portal.meetings.forms import PartMarkingInput
from portal.meetings.models import ActionStatus
from portal.minutes import drafting, workflow
from portal.minutes.drafting import PortionInput
from portal.minutes.service import minutes_of
from portal.rooms.models import Subcommittee
from portal.security import policy
from portal.security.policy import Subject

SECRETARIAT = "sato@cao.example.jp"
CHAIR = "tanaka@meti.example.jp"
READER = "ito@toho-raremetals.example.jp"
ROOM = "Critical Minerals Subcommittee"
COMPARTMENT = "MINERALS-SUPPLY"
TOKYO = ZoneInfo("Asia/Tokyo")
MEETING_TITLE = "第6回 重要鉱物分科会(重要鉱物の備蓄と代替調達先の確保)"
REASON = "個別企業の取引情報及び政府内の検討過程を含むため"

TOPICS = (
    "前回議事録の確認", "ガリウムの需給見通し", "ゲルマニウムの在庫水準", "輸出許可審査の運用状況",
    "代替調達先の供給余力", "国家備蓄の放出基準", "リサイクル原料の活用", "同志国との共同備蓄",
    "製錬能力の国内確保", "価格動向と需要家への影響", "品質認証手続の簡素化", "業界団体への周知",
    "技術開発支援の在り方", "今後の進め方",
)  # fmt: skip
ACTIONS = (
    "需給見通しの更新(ガリウム・ゲルマニウム)", "需要家ヒアリングの追加実施", "備蓄放出基準(案)の作成",
    "同志国との事務レベル協議の日程調整", "リサイクル実証事業の公募要領の作成", "業界団体向け説明資料の作成",
    "品質認証手続の簡素化案の取りまとめ", "製錬設備更新支援の予算要求案", "価格動向の月次報告",
    "次回会合の議事次第(案)の作成",
)  # fmt: skip


@dataclass(frozen=True)
class Mark:
    """A part's marking as the benchmark plans it: who writes it and whether 伊藤 may read it."""

    level: Level
    release: ReleaseMarking = ReleaseMarking.GREEN
    caveats: frozenset[str] = frozenset()
    #: Named readers besides the author (emails); CESI and RED parts name readers.
    readers: tuple[str, ...] = ()
    #: TLP:AMBER: the reader's organisation may export it (the author's may anyway).
    amber_for_reader: bool = False
    #: The only one who may write it (a compartment or CESI part): the chair.
    by_chair: bool = False

    @property
    def withheld_from_reader(self) -> bool:
        return GOV_ONLY_CODE in self.caveats or (bool(self.readers) and READER not in self.readers)


PUBLIC = Mark(Level.PUBLIC, ReleaseMarking.CLEAR)
RESTRICTED = Mark(Level.RESTRICTED)
AMBER = Mark(Level.RESTRICTED, ReleaseMarking.AMBER, amber_for_reader=True)
CONFIDENTIAL = Mark(Level.CONFIDENTIAL)
GOV_ONLY = Mark(Level.CONFIDENTIAL, caveats=frozenset({GOV_ONLY_CODE}))
COMPARTMENTED = Mark(Level.CONFIDENTIAL, caveats=frozenset({COMPARTMENT}), by_chair=True)
CESI_NAMED = Mark(
    Level.CESI, ReleaseMarking.RED, frozenset({COMPARTMENT}), (CHAIR, READER), by_chair=True
)  # fmt: skip
CESI_NOT_NAMED = Mark(Level.CESI, ReleaseMarking.RED, frozenset({COMPARTMENT}), (CHAIR,), by_chair=True)

#: Minutes portions, in turn: 2 of 16 withheld from the reader (GOV_ONLY, a CESI part not naming him).
PORTION_MARKS = (
    PUBLIC, RESTRICTED, RESTRICTED, CONFIDENTIAL, AMBER, GOV_ONLY, RESTRICTED, COMPARTMENTED,
    RESTRICTED, CESI_NAMED, RESTRICTED, CONFIDENTIAL, PUBLIC, CESI_NOT_NAMED, RESTRICTED, CONFIDENTIAL,
)  # fmt: skip
#: Agenda items (one GOV_ONLY item withheld, its documents with it) and their two documents each.
ITEM_MARKS = (
    PUBLIC, RESTRICTED, RESTRICTED, GOV_ONLY, RESTRICTED, CONFIDENTIAL, COMPARTMENTED, RESTRICTED,
    CONFIDENTIAL, RESTRICTED, AMBER, RESTRICTED,
)  # fmt: skip
DOCUMENT_MARKS = (RESTRICTED, CONFIDENTIAL, RESTRICTED, COMPARTMENTED, RESTRICTED, GOV_ONLY, CESI_NAMED)
FINDING_MARKS = (RESTRICTED, CONFIDENTIAL, GOV_ONLY, AMBER, COMPARTMENTED, CESI_NOT_NAMED, RESTRICTED)
ACTION_MARKS = (RESTRICTED, RESTRICTED, CONFIDENTIAL, GOV_ONLY, RESTRICTED, COMPARTMENTED)


@dataclass(frozen=True)
class Sizes:
    minutes_portions: int = 150
    #: Characters of one portion's text: drawn between these (paragraphs of whole sentences).
    portion_chars: tuple[int, int] = (230, 530)
    agenda_items: int = 12
    documents_per_item: int = 2
    #: Characters of one linked document's text.
    document_chars: tuple[int, int] = (12_500, 16_500)
    findings: int = 10
    finding_chars: tuple[int, int] = (1_200, 2_000)
    actions: int = 10


@dataclass
class BenchMeeting:
    meeting_id: uuid.UUID
    reader_id: uuid.UUID
    planned: dict[str, dict[str, int]] = field(default_factory=dict)


def _count(marks: list[Mark]) -> dict[str, int]:
    withheld = sum(mark.withheld_from_reader for mark in marks)
    return {"parts": len(marks), "withheld_from_reader": withheld}


class Writer:
    """The services, called as the pages call them, by the demo people who would do it."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.users = {user.email: user for user in session.scalars(select(User))}
        room = session.scalar(select(Subcommittee).where(Subcommittee.name_en == ROOM))
        assert room is not None, ROOM
        self.room = room

    def subject(self, email: str) -> Subject:
        return policy.load_subject(self.session, self.users[email], utcnow())

    def author(self, mark: Mark) -> str:
        return CHAIR if mark.by_chair else SECRETARIAT

    def marking(self, mark: Mark) -> PartMarkingInput:
        reader_org = self.users[READER].organization_id
        return PartMarkingInput(
            level=mark.level,
            release=mark.release,
            caveat_codes=mark.caveats,
            reader_ids=frozenset(self.users[email].id for email in mark.readers),
            release_organization_ids=frozenset({reader_org}) if mark.amber_for_reader else frozenset(),
            reason=REASON if mark.level >= Level.CONFIDENTIAL else None,
        )


def _mineral(number: int) -> str:
    return corpus.MINERALS[number % len(corpus.MINERALS)]


def schedule(database: Database) -> uuid.UUID:
    with database.session_scope() as session:
        writer = Writer(session)
        starts = datetime.now(TOKYO).replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=3)
        meeting = meetings.create_meeting(
            session,
            writer.subject(SECRETARIAT),
            writer.room,
            meetings.NewMeeting(MEETING_TITLE, "中央合同庁舎 第8号館 会議室A", starts, 180, Level.RESTRICTED),
        )
        return meeting.id


def write_documents(database: Database, rng: random.Random, sizes: Sizes) -> list[tuple[uuid.UUID, Mark]]:
    """The room documents the agenda links to (by the chair: he may mark every one of them)."""
    written = []
    count = sizes.agenda_items * sizes.documents_per_item
    for number in range(count):
        mark = DOCUMENT_MARKS[number % len(DOCUMENT_MARKS)]
        mineral = _mineral(number)
        topic = corpus.TOPICS[(number * 3) % len(corpus.TOPICS)]
        with database.session_scope() as session:
            writer = Writer(session)
            document = documents.create_document(
                session,
                writer.subject(CHAIR),
                writer.room,
                documents.NewDocument(
                    title=f"資料{number + 1} {mineral} {topic}({rng.choice(corpus.EDITIONS)})",
                    body=corpus.long_text(rng, mineral, rng.randint(*sizes.document_chars)),
                    level=mark.level,
                    release=mark.release if mark.release != ReleaseMarking.RED else ReleaseMarking.GREEN,
                    caveat_codes=mark.caveats,
                    reader_ids=frozenset(writer.users[email].id for email in mark.readers),
                    reason=REASON if mark.level >= Level.CONFIDENTIAL else None,
                    review_on=date.today() + timedelta(days=365),
                ),
            )
            written.append((document.id, mark))
    return written


def write_agenda(
    database: Database, meeting_id: uuid.UUID, linked: list[tuple[uuid.UUID, Mark]], sizes: Sizes
) -> list[Mark]:
    """The chair's agenda, published. A GOV_ONLY item takes GOV_ONLY documents only; the others take two
    documents each in turn (the ones the reader may not read are left out of his pack)."""
    marks = [ITEM_MARKS[number % len(ITEM_MARKS)] for number in range(sizes.agenda_items)]
    restricted_docs = [doc for doc in linked if GOV_ONLY_CODE not in doc[1].caveats]
    gov_only_docs = [doc for doc in linked if GOV_ONLY_CODE in doc[1].caveats]
    output_id = None
    with database.session_scope() as session:
        writer = Writer(session)
        outputs = agenda_changes.linkable_outputs(session, writer.subject(CHAIR), writer.room)
        output_id = outputs[0].id if outputs else None
    for number, mark in enumerate(marks):
        pool = gov_only_docs if GOV_ONLY_CODE in mark.caveats and gov_only_docs else restricted_docs
        chosen = [pool.pop(0)[0] for _ in range(sizes.documents_per_item) if pool]
        if number == len(marks) - 1:  # whatever is left, so every document is linked once
            chosen += [doc_id for doc_id, _mark in restricted_docs + gov_only_docs]
        with database.session_scope() as session:
            writer = Writer(session)
            agenda_changes.add_item(
                session,
                writer.subject(CHAIR),
                meeting_id,
                ItemInput(
                    title=TOPICS[number % len(TOPICS)],
                    presenter=["経済産業省 田中", "内閣府 佐藤", "東邦レアメタル 伊藤"][number % 3],
                    duration_minutes=15,
                    marking=writer.marking(mark),
                    document_ids=frozenset(chosen),
                    output_ids=frozenset({output_id}) if output_id and number == 1 else frozenset(),
                ),
            )
    with database.session_scope() as session:
        agenda_changes.publish(session, Writer(session).subject(CHAIR), meeting_id)
    return marks


def write_followup(
    database: Database, meeting_id: uuid.UUID, rng: random.Random, sizes: Sizes
) -> tuple[list[Mark], list[Mark]]:
    finding_marks = [FINDING_MARKS[number % len(FINDING_MARKS)] for number in range(sizes.findings)]
    action_marks = [ACTION_MARKS[number % len(ACTION_MARKS)] for number in range(sizes.actions)]
    with database.session_scope() as session:
        writer = Writer(session)
        chair = writer.subject(CHAIR)
        finding_ids = []
        for number, mark in enumerate(finding_marks):
            body = corpus.long_text(rng, _mineral(number), rng.randint(*sizes.finding_chars), headed=False)
            finding = findings.create_finding(
                session, chair, meeting_id, FindingInput(body, None, writer.marking(mark))
            )
            finding_ids.append(finding.id)
        owners = (READER, SECRETARIAT, CHAIR)
        for number, mark in enumerate(action_marks):
            owner = owners[number % len(owners)]
            if mark.by_chair or GOV_ONLY_CODE in mark.caveats:
                owner = CHAIR  # an owner must read the item
            findings.create_action(
                session,
                chair,
                meeting_id,
                ActionInput(
                    title=ACTIONS[number % len(ACTIONS)],
                    owner_id=writer.users[owner].id,
                    due_on=date.today() + timedelta(days=14 * (number + 1)),
                    status=(ActionStatus.OPEN, ActionStatus.IN_PROGRESS, ActionStatus.DONE)[number % 3],
                    finding_id=None,
                    marking=writer.marking(mark),
                ),
            )
    return finding_marks, action_marks


def write_minutes(database: Database, meeting_id: uuid.UUID, rng: random.Random, sizes: Sizes) -> list[Mark]:
    """Drafted portion by portion (one request each, as the page does), circulated, approved, published."""
    with database.session_scope() as session:
        drafting.start_minutes(session, Writer(session).subject(SECRETARIAT), meeting_id)
    marks = [PORTION_MARKS[number % len(PORTION_MARKS)] for number in range(sizes.minutes_portions)]
    for number, mark in enumerate(marks):
        heading = f"{number + 1}. {TOPICS[number % len(TOPICS)]}"
        body = corpus.long_text(rng, _mineral(number), rng.randint(*sizes.portion_chars), headed=False)
        with database.session_scope() as session:
            writer = Writer(session)
            minutes = minutes_of(session, meeting_id)
            assert minutes is not None
            drafting.add_portion(
                session,
                writer.subject(writer.author(mark)),
                meeting_id,
                minutes.version,
                PortionInput(heading, body, writer.marking(mark)),
            )
    for step, email in (
        (workflow.circulate, SECRETARIAT),
        (workflow.approve, CHAIR),
        (workflow.publish, SECRETARIAT),
    ):
        with database.session_scope() as session:
            minutes = minutes_of(session, meeting_id)
            assert minutes is not None
            step(session, Writer(session).subject(email), meeting_id, minutes.version)
    return marks


def build(database: Database, sizes: Sizes | None = None, seed: int = 2026) -> BenchMeeting:
    """The whole meeting; returns its id, the reader's id and what was planned (parts, withheld)."""
    sizes = sizes or Sizes()
    rng = random.Random(seed)
    meeting_id = schedule(database)
    linked = write_documents(database, rng, sizes)
    item_marks = write_agenda(database, meeting_id, linked, sizes)
    finding_marks, action_marks = write_followup(database, meeting_id, rng, sizes)
    portion_marks = write_minutes(database, meeting_id, rng, sizes)
    with database.session_scope() as session:
        reader = session.scalar(select(User).where(User.email == READER))
        assert reader is not None
        reader_id = reader.id
    return BenchMeeting(
        meeting_id,
        reader_id,
        {
            "minutes_portions": _count(portion_marks),
            "agenda_items": _count(item_marks),
            "documents": _count([mark for _id, mark in linked]),
            "findings": _count(finding_marks),
            "action_items": _count(action_marks),
        },
    )
