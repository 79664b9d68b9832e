"""Search: Japanese and English, documents and comments, and nothing about what the user may not read.

The no-leak tests compare what a user sees (count, pages, snippets, the "more than" notice) before and after
items they may not read are added that match the same query: the pages must be identical.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select

from portal.accounts.models import User
from portal.db import Database, utcnow
from portal.documents import service as documents
from portal.enums import Level, ReleaseMarking
from portal.rooms.models import Subcommittee
from portal.search import index, maintenance
from portal.search import service as search_service
from portal.search.kinds import KINDS
from portal.search.models import SearchToken
from portal.security import policy
from portal.security.audit_models import AuditEntry
from portal.security.blind_index import parse_query
from tests.conftest import sign_in
from tests.web.support import text, translated

MINERALS = "重要鉱物分科会"
AGI = "AGI分科会"
TITLE_LINK = re.compile(r'<p class="search-result__title"><a href="([^"]+)">([^<]*)</a></p>')


def _subject(session, email: str) -> policy.Subject:  # type: ignore[no-untyped-def]
    user = session.scalar(select(User).where(User.email == email))
    assert user is not None
    return policy.load_subject(session, user, utcnow())


def create(
    database: Database,
    email: str,
    room_name: str,
    title: str,
    body: str,
    level: Level = Level.RESTRICTED,
    caveats: tuple[str, ...] = (),
    readers: tuple[str, ...] = (),
) -> uuid.UUID:
    """A document made through the service, as the form makes it."""
    with database.session_scope() as session:
        subject = _subject(session, email)
        room = session.scalar(select(Subcommittee).where(Subcommittee.name_ja == room_name))
        assert room is not None
        reader_ids = frozenset(
            session.scalars(select(User.id).where(User.email.in_(readers))).all() if readers else []
        )
        document = documents.create_document(
            session,
            subject,
            room,
            documents.NewDocument(
                title=title,
                body=body,
                level=level,
                release=ReleaseMarking.GREEN,
                caveat_codes=frozenset(caveats),
                reader_ids=reader_ids,
                reason="検索の試験" if level >= Level.CONFIDENTIAL else None,
                review_on=None,
            ),
        )
        return document.id


def comment(database: Database, email: str, document_id: uuid.UUID, body: str) -> None:
    with database.session_scope() as session:
        documents.add_comment(session, _subject(session, email), document_id, body)


def results_part(response) -> str:  # type: ignore[no-untyped-def]
    """What the search shows about what was found: from the count to the end of the page's content."""
    assert response.status_code == 200, response.status_code
    page = text(response)
    start = page.index('data-testid="search-count"')
    return page[start : page.index("</main>")]


def titles(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [title for _href, title in TITLE_LINK.findall(text(response))]


def count_of(app: Flask, response) -> int:  # type: ignore[no-untyped-def]
    match = re.search(r'data-testid="search-count">\s*([^<]*?)\s*</p>', text(response))
    assert match, "no count on the page"
    for total in range(200):
        if match.group(1).startswith(translated(app, "%(count)d results.", count=total)):
            return total
    raise AssertionError(match.group(1))


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(search_service, "PAGE_SIZE", 2)
    monkeypatch.setattr(search_service, "CANDIDATE_LIMIT", 4)
    yield


# --- finding ----------------------------------------------------------------------------------------


def test_japanese_and_english_queries_find_demo_documents(
    app: Flask, client: FlaskClient, demo: Database
) -> None:
    sign_in(client, demo, "tanaka@meti.example.jp")
    found = client.get("/search?q=輸出管理")
    assert titles(found) == ["ガリウム・ゲルマニウム輸出管理措置の影響整理(第1版)"]
    assert "<mark>輸出管理</mark>" in text(found)
    assert 'data-testid="search-kind"' in text(found)
    # Two terms: both must occur (not necessarily together); full-width input is folded.
    assert titles(client.get("/search?q=ガリウム　需要家")) == titles(found)
    assert titles(client.get("/search?q=ガリウム 造船")) == []
    # The member of two rooms finds in both; the level is shown with each result.
    assert set(titles(client.get("/search?q=供給能力"))) == {
        "海底ケーブル敷設船の国内供給能力",
        "造船事業の譲渡に関する懸念事案(政府限り)",
    }

    english = create(
        demo,
        "tanaka@meti.example.jp",
        MINERALS,
        "Rare-earth magnets: export licensing",
        "The EXPORT licence queue.",
    )
    for query in ("rare earth", "RARE-EARTH", "ｅｘｐｏｒｔ　licence", "Magnets"):
        response = client.get(f"/search?q={query}")
        assert titles(response) == ["Rare-earth magnets: export licensing"], query
    assert f"/documents/{english}" in text(client.get("/search?q=magnets"))

    takahashi = sign_in(app.test_client(), demo, "takahashi@mic.example.jp")
    assert sorted(titles(takahashi.get("/search?q=AGI"))) == ["AGIリスク論点整理メモ", "AGI分科会 設置趣旨"]


def test_comments_are_found_under_their_document(app: Flask, client: FlaskClient, demo: Database) -> None:
    document = create(demo, "tanaka@meti.example.jp", MINERALS, "在庫の確認", "在庫水準の確認。")
    comment(demo, "tanaka@meti.example.jp", document, "ネオジム磁石の在庫を確認したい <b>至急</b>")
    sign_in(client, demo, "yoshida@icess.example.jp")
    response = client.get("/search?q=ネオジム")
    page = text(response)
    assert titles(response) == [translated(app, "Comment on: %(title)s", title="在庫の確認")]
    assert f"/documents/{document}#comments" in page
    assert "<mark>ネオジム</mark>磁石の在庫を確認したい &lt;b&gt;至急&lt;/b&gt;" in page
    assert translated(app, "Comment") in page


def test_an_edit_replaces_the_documents_tokens(client: FlaskClient, demo: Database) -> None:
    document = create(demo, "tanaka@meti.example.jp", MINERALS, "旧題", "旧来の文言について。")
    with demo.session_scope() as session:
        documents.edit_document(
            session,
            _subject(session, "tanaka@meti.example.jp"),
            document,
            base_version=1,
            title="新題",
            body="刷新した文言について。",
            summary=None,
        )
    sign_in(client, demo, "tanaka@meti.example.jp")
    assert titles(client.get("/search?q=旧来")) == []
    assert titles(client.get("/search?q=刷新")) == ["新題"]


# --- nothing about the hidden ------------------------------------------------------------------------


def test_a_query_matching_only_hidden_items_shows_what_a_nonsense_query_shows(
    app: Flask, client: FlaskClient, demo: Database
) -> None:
    yoshida = sign_in(client, demo, "yoshida@icess.example.jp")
    tanaka = sign_in(app.test_client(), demo, "tanaka@meti.example.jp")
    nothing = results_part(yoshida.get("/search?q=存在しない語句"))
    # 企業別評価 (代替調達先…: MINERALS-SUPPLY, CAVEAT_MISSING for 吉田) and 備蓄放出 (政府限り: GOV_ONLY).
    for query in ("企業別評価", "備蓄放出", "同盟国"):
        assert count_of(app, tanaka.get(f"/search?q={query}")) == 1, query  # the query does match
        assert results_part(yoshida.get(f"/search?q={query}")) == nothing, query
    # A query matching a readable and a hidden item (the CESI 通報): the count is of the readable one only.
    assert count_of(app, tanaka.get("/search?q=輸出")) == 2
    both = yoshida.get("/search?q=輸出")
    assert count_of(app, both) == 1
    assert titles(both) == ["ガリウム・ゲルマニウム輸出管理措置の影響整理(第1版)"]


def test_counts_pages_snippets_and_the_limit_are_as_if_hidden_items_did_not_exist(
    app: Flask, demo: Database, small_pages: None
) -> None:
    query = "/search?q=希土類磁石"
    for number in range(3):
        create(
            demo,
            "tanaka@meti.example.jp",
            MINERALS,
            f"磁石の調達 {number}",
            f"第{number}報: 希土類磁石の在庫。",
        )
    readable = create(demo, "tanaka@meti.example.jp", MINERALS, "磁石の需要", "需要の整理。")
    comment(demo, "tanaka@meti.example.jp", readable, "希土類磁石の需要は増えている。")
    yoshida = sign_in(app.test_client(), demo, "yoshida@icess.example.jp")

    def seen() -> list[str]:
        return [results_part(yoshida.get(f"{query}&page={page}")) for page in (1, 2, 3)]

    before = seen()
    assert count_of(app, yoshida.get(query)) == 4
    assert len(titles(yoshida.get(f"{query}&page=2"))) == 2

    # Newer items 吉田 may not read, matching the same query: a compartment, 政府限り, CESI, another room,
    # and a comment on a hidden document.
    tanaka_email, secret = "tanaka@meti.example.jp", Level.CONFIDENTIAL
    hidden = [
        create(
            demo, tanaka_email, MINERALS, "秘 磁石", "希土類磁石 区画", secret, caveats=("MINERALS-SUPPLY",)
        ),
        create(demo, tanaka_email, MINERALS, "政府 磁石", "希土類磁石 政府", secret, caveats=("GOV_ONLY",)),
        create(
            demo, tanaka_email, MINERALS, "通報 磁石", "希土類磁石 指定", Level.CESI, readers=(tanaka_email,)
        ),
        create(demo, "takahashi@mic.example.jp", AGI, "AGI 磁石", "希土類磁石 AGI"),
    ]
    comment(demo, "tanaka@meti.example.jp", hidden[0], "希土類磁石について補足。")

    assert seen() == before
    tanaka = sign_in(app.test_client(), demo, "tanaka@meti.example.jp")
    capped = tanaka.get(query)  # 田中 reads 8 of them: more than the limit of 4 candidates
    assert translated(app, "More than %(count)d results.", count=4) in text(capped)
    assert translated(app, "More than %(count)d results.", count=4) not in before[0]
    with demo.session_scope() as session:
        trail = [f"{entry.action} {entry.detail}" for entry in session.scalars(select(AuditEntry))]
    assert not [entry for entry in trail if "希土類" in entry or "磁石" in entry], (
        "no query or text is audited"
    )
    assert any(entry.startswith("search.result") for entry in trail)  # 田中 was shown CONFIDENTIAL snippets


def test_false_positive_candidates_are_neither_shown_nor_counted(
    app: Flask, client: FlaskClient, demo: Database
) -> None:
    # Every bigram of 輸出規制 occurs, but not the word: a candidate by its tokens, refused on confirmation.
    scattered = create(demo, "tanaka@meti.example.jp", MINERALS, "散在", "輸出の話。出規は造語。規制の話。")
    # A token collision, made by hand: an unrelated document given the tokens of 磁性流体 in its room.
    unrelated = create(demo, "tanaka@meti.example.jp", MINERALS, "無関係", "関係のない本文。")
    with demo.session_scope() as session:
        room = session.scalar(select(Subcommittee.id).where(Subcommittee.name_ja == MINERALS))
        key = index.index_key(session, room)
        for token in key.tokens(["磁性流体"]):
            session.add(SearchToken(token=token, item_kind="document", item_id=unrelated))
    with demo.session_scope() as session:
        subject = _subject(session, "yoshida@icess.example.jp")
        kinds = list(KINDS.values())
        for words, document in (("輸出規制", scattered), ("磁性流体", unrelated)):
            candidates = search_service._candidates(session, subject, parse_query(words), kinds, 100)
            assert ("document", document) in candidates, words
    sign_in(client, demo, "yoshida@icess.example.jp")
    nothing = results_part(client.get("/search?q=存在しない語句"))
    assert results_part(client.get("/search?q=輸出規制")) == nothing
    assert results_part(client.get("/search?q=磁性流体")) == nothing


# --- input is text ------------------------------------------------------------------------------------


def test_a_payload_in_a_matching_body_is_escaped_in_the_snippet(client: FlaskClient, demo: Database) -> None:
    body = "<script>alert('x')</script> 危険語句の試験 <img src=x onerror=alert(1)> & \"引用\""
    create(demo, "tanaka@meti.example.jp", MINERALS, "<b>太字の題</b>", body)
    sign_in(client, demo, "tanaka@meti.example.jp")
    page = text(client.get("/search?q=危険語句"))
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>太字" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; <mark>危険語句</mark>の試験 &lt;img src=x" in page
    assert "&lt;b&gt;太字の題&lt;/b&gt;" in page


def test_sql_looking_queries_are_plain_text(app: Flask, client: FlaskClient, demo: Database) -> None:
    create(demo, "tanaka@meti.example.jp", MINERALS, "達成率", "達成率は100%です。件数は1000件。")
    sign_in(client, demo, "tanaka@meti.example.jp")
    too_short = translated(app, "Enter at least two characters to search.")
    for query in ("%", "_", "%%", "a", "鉱"):
        response = client.get("/search", query_string={"q": query})
        assert response.status_code == 200 and too_short in text(response), query
    for query in ("' OR 1=1 --", "%' OR '1'='1", "1; DROP TABLE documents; --", "\\"):
        response = client.get("/search", query_string={"q": query})
        assert response.status_code == 200, query
        assert titles(response) == [], query
    assert titles(client.get("/search", query_string={"q": "100%"})) == ["達成率"]
    assert titles(client.get("/search", query_string={"q": "10_%"})) == []
    assert count_of(app, client.get("/search?q=輸出")) == 2  # the tables are still there


def test_the_search_box_is_a_get_form_on_every_page_without_a_token(
    client: FlaskClient, demo: Database
) -> None:
    sign_in(client, demo, "tanaka@meti.example.jp")
    page = text(client.get("/account"))
    form = re.search(
        r'<form method="get" action="/search"[^>]*data-testid="site-search">(.*?)</form>', page, re.S
    )
    assert form and "csrf_token" not in form.group(1)
    # A fresh browser request with no token at all: a GET needs none.
    response = client.get("/search?q=開催要領")
    assert response.status_code == 200 and titles(response) == ["重要鉱物分科会 開催要領"]
    assert 'value="開催要領"' in text(response)
    assert "search-count" not in text(client.get("/search"))  # no query: the form only


def test_no_content_roles_have_no_search_box_and_are_refused(app: Flask, demo: Database) -> None:
    for email in ("inoue@cao.example.jp", "matsumoto@cao.example.jp"):
        browser = sign_in(app.test_client(), demo, email)
        assert 'data-testid="site-search"' not in text(browser.get("/account"))
        assert browser.get("/search?q=開催要領").status_code == 403


# --- maintenance ----------------------------------------------------------------------------------


def test_the_index_rebuilds_from_the_sealed_data(client: FlaskClient, demo: Database) -> None:
    document = create(demo, "tanaka@meti.example.jp", MINERALS, "再構築", "再構築の試験。")
    comment(demo, "tanaka@meti.example.jp", document, "再構築後のコメント。")
    with demo.session_scope() as session:
        before = session.scalar(select(func.count()).select_from(SearchToken))
        session.execute(delete(SearchToken))
    sign_in(client, demo, "tanaka@meti.example.jp")
    assert titles(client.get("/search?q=再構築")) == []
    with demo.session_scope() as session:
        rebuilt = [maintenance.rebuild_scope(session, scope) for scope in maintenance.scopes(session)]
    with demo.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(SearchToken)) == before
    assert sum(r.tokens for r in rebuilt) == before
    assert len(titles(client.get("/search?q=再構築"))) == 2


def test_the_database_holds_no_token_text(app: Flask, demo: Database) -> None:
    marker_latin, marker_japanese = f"zq{uuid.uuid4().hex[:10]}", "固有標識語彙"
    create(demo, "tanaka@meti.example.jp", MINERALS, marker_latin, f"{marker_japanese} {marker_latin}")
    with demo.session_scope() as session:
        rows = session.execute(select(SearchToken.token, SearchToken.item_kind, SearchToken.item_id)).all()
    assert rows and all(isinstance(token, int) for token, _kind, _item in rows)
    assert {kind for _token, kind, _item in rows} <= {"document", "comment", "output"}
    if demo.url.startswith("sqlite"):
        demo.engine.dispose()  # checkpoint the WAL into the file
        raw = Path(demo.url.removeprefix("sqlite:///")).read_bytes()
        for marker in (marker_latin, marker_japanese, "固有", "標識"):
            assert marker.encode() not in raw, marker


# --- think-tank outputs -----------------------------------------------------------------------------

SUPPLY_CHAIN = "重要鉱物5品目のサプライチェーン依存度分析(2025年度上期)"
RISK_REVIEW = "重要インフラ機能停止リスクの点検結果(2025年度)"
POLICY_BRIEF = "重要鉱物の備蓄と代替調達に関する政策提言"


@pytest.mark.parametrize(
    ("email", "query", "expected"),
    [
        # attached to the minerals room: its members find it, observers included
        ("tanaka@meti.example.jp", "精錬段階", [SUPPLY_CHAIN]),
        ("kobayashi@toto-u.example.jp", "精錬段階", [SUPPLY_CHAIN]),
        ("kato@cao.example.jp", "精錬段階", []),  # the AGI room only
        # CONFIDENTIAL, attached to the infrastructure room
        ("suzuki@mlit.example.jp", "ランサムウェア", [RISK_REVIEW]),
        ("watanabe@setouchi-zosen.example.jp", "ランサムウェア", []),
        # offered to the minerals room, not yet confirmed: its chair and the analyst read it, a member not
        ("tanaka@meti.example.jp", "共同調達", [POLICY_BRIEF]),
        ("yoshida@icess.example.jp", "共同調達", [POLICY_BRIEF]),
        ("ito@toho-raremetals.example.jp", "共同調達", []),
    ],
)
def test_outputs_are_found_by_those_who_may_read_them(
    client: FlaskClient, demo: Database, email: str, query: str, expected: list[str]
) -> None:
    sign_in(client, demo, email)
    response = client.get(f"/search?q={query}")
    assert titles(response) == expected
    if expected:
        assert "<mark>" in results_part(response)
        assert "/outputs/" in text(response)
