"""The minutes' workflow over HTTP: drafted by the secretariat, circulated, reviewed by attendees, approved by
the chair, published and locked, corrected; steps out of order and by the wrong person are refused."""

from __future__ import annotations

import json
import re
import uuid

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from portal.db import Database
from portal.minutes import workflow
from portal.minutes.models import Minutes, Portion, PortionComment, PortionText
from portal.security.audit_models import AuditEntry
from tests.conftest import user_by_email
from tests.minutes_support import (
    ITO,
    KOBAYASHI,
    SATO,
    TANAKA,
    WITHHELD,
    YAMADA,
    YOSHIDA,
    add_attendee,
    add_portion,
    assert_message,
    browser,
    demo_minutes_meeting,
    last_audit,
    minutes_url,
    page_version,
    portion_form,
    portion_ids,
    post,
    step,
    upcoming_minerals_meeting,
)
from tests.web.support import text, translated


def _minutes(database: Database, meeting_id: uuid.UUID) -> tuple[str, int, int]:
    """(state, working revision, version) of a meeting's minutes."""
    with database.session_scope() as session:
        minutes = session.scalar(select(Minutes).where(Minutes.meeting_id == meeting_id))
        assert minutes is not None
        return minutes.state.value, minutes.revision, minutes.version


def _texts_by_portion(database: Database, portion_id: str) -> list[int]:
    with database.session_scope() as session:
        return list(
            session.scalars(
                select(PortionText.revision)
                .where(PortionText.portion_id == uuid.UUID(portion_id))
                .order_by(PortionText.revision)
            )
        )


def _edit(
    client: FlaskClient,
    meeting_id: uuid.UUID,
    portion_id: str,
    form: dict[str, object],
    version: str | None = None,
) -> TestResponse:
    return post(
        client,
        minutes_url(meeting_id, f"/portions/{portion_id}/edit"),
        {"base_version": version or page_version(client, meeting_id), **form},
    )


def _started(app: Flask, demo: Database) -> tuple[uuid.UUID, FlaskClient]:
    meeting_id = upcoming_minerals_meeting(demo)
    sato = browser(app, demo, SATO)
    assert post(sato, minutes_url(meeting_id, "/start")).status_code == 302
    return meeting_id, sato


def test_the_whole_workflow(app: Flask, demo: Database) -> None:
    meeting_id = upcoming_minerals_meeting(demo)
    add_attendee(demo, meeting_id, ITO)
    add_attendee(demo, meeting_id, KOBAYASHI)
    sato, tanaka, ito, kobayashi = (browser(app, demo, email) for email in (SATO, TANAKA, ITO, KOBAYASHI))
    assert_message(app, sato.get(minutes_url(meeting_id)), "No minutes have been started for this meeting.")

    # the secretariat drafts: three portions, one of them 政府限り at 秘
    assert post(sato, minutes_url(meeting_id, "/start")).status_code == 302
    assert last_audit(demo, "minutes.start").allowed
    assert add_portion(sato, meeting_id, portion_form("開会", "第5回会合を開会した。")).status_code == 302
    secret = portion_form(
        "国家備蓄", "放出時期は政府内限りとする。", level=2, caveats="GOV_ONLY", reason="検討過程"
    )
    assert add_portion(sato, meeting_id, secret).status_code == 302
    assert add_portion(sato, meeting_id, portion_form("次回", "次回は来月に開催する。")).status_code == 302
    opening, stockpile, next_time = portion_ids(sato, meeting_id)
    page = text(sato.get(minutes_url(meeting_id)))
    banner = page.split('data-testid="marking-top"')[1].split("</div>")[0]
    assert translated(app, "Confidential") in banner and "政府限り" in banner  # the highest portion decides

    # drafts are for the stewards only
    for email, client in ((KOBAYASHI, kobayashi), (ITO, ito)):
        html = text(client.get(minutes_url(meeting_id)))
        assert "第5回会合を開会した" not in html and "次回は来月" not in html, email
        assert_message(
            app, client.get(minutes_url(meeting_id)), "No minutes have been published for this meeting yet."
        )
        assert client.get(minutes_url(meeting_id) + "?revision=1").status_code == 404

    # reorder, edit, remove (a portion written only in this draft leaves no row behind)
    moved = post(sato, minutes_url(meeting_id, f"/portions/{next_time}/move"),
                 {"base_version": page_version(sato, meeting_id), "direction": "up"})  # fmt: skip
    assert moved.status_code == 302
    assert portion_ids(sato, meeting_id) == [opening, next_time, stockpile]
    assert (
        _edit(
            sato, meeting_id, opening, portion_form("開会", "第5回会合を開会した。出席者は名簿のとおり。")
        ).status_code
        == 302
    )
    assert add_portion(sato, meeting_id, portion_form("余談", "削除される部分。")).status_code == 302
    extra = portion_ids(sato, meeting_id)[-1]
    removed = post(sato, minutes_url(meeting_id, f"/portions/{extra}/remove"),
                   {"base_version": page_version(sato, meeting_id)})  # fmt: skip
    assert removed.status_code == 302
    with demo.session_scope() as session:
        assert session.get(Portion, uuid.UUID(extra)) is None
    assert _texts_by_portion(demo, opening) == [1]  # edited in place: still one text for revision 1

    # circulate; attendees review the portions they may read
    assert step(sato, meeting_id, "circulate").status_code == 302
    assert _minutes(demo, meeting_id)[0] == "circulated"
    html = text(kobayashi.get(minutes_url(meeting_id)))
    assert "出席者は名簿のとおり" in html and "放出時期" not in html
    assert html.count(translated(app, WITHHELD, "en")) == 1
    comment_url = minutes_url(meeting_id, f"/portions/{opening}/comments")
    assert post(ito, comment_url, {"body": "出席者名簿の添付をお願いします。"}).status_code == 302
    assert "出席者名簿の添付をお願いします。" in text(tanaka.get(minutes_url(meeting_id)))
    assert "出席者名簿の添付をお願いします。" in text(kobayashi.get(minutes_url(meeting_id)))
    # ito may not read the 政府限り portion: commenting on it answers as if it were not there
    assert (
        post(ito, minutes_url(meeting_id, f"/portions/{stockpile}/comments"), {"body": "x"}).status_code
        == 404
    )
    assert last_audit(demo, "minutes.review").reason == "GOV_ONLY"

    # the chair approves; the secretariat publishes
    assert step(tanaka, meeting_id, "approve").status_code == 302
    assert step(sato, meeting_id, "publish").status_code == 302
    entry = last_audit(demo, "minutes.publish")
    with demo.session_scope() as session:
        minutes = session.scalar(select(Minutes).where(Minutes.meeting_id == meeting_id))
        assert minutes is not None and minutes.state.value == "published"
        first_hash = minutes.revisions[0].published_hash
        assert json.loads(entry.detail)["hash"] == first_hash == workflow.revision_hash(minutes, 1)
    assert first_hash in text(kobayashi.get(minutes_url(meeting_id)))

    # published minutes are locked
    locked = _edit(sato, meeting_id, opening, portion_form("開会", "書き換えの試み"))
    assert locked.status_code == 409
    assert_message(app, locked, "The minutes can be changed only while they are a draft.")
    assert "書き換えの試み" in text(locked)  # the user's text is kept on the refused form
    assert "書き換えの試み" not in text(kobayashi.get(minutes_url(meeting_id)))
    assert step(sato, meeting_id, "revise").status_code == 409

    # a correction: a new draft revision, circulated, approved and published again
    assert step(sato, meeting_id, "correct").status_code == 302
    assert _minutes(demo, meeting_id)[:2] == ("draft", 2)
    assert "第5回会合を開会した。出席者は名簿のとおり。" in text(
        kobayashi.get(minutes_url(meeting_id))
    )  # still rev 1
    assert kobayashi.get(minutes_url(meeting_id) + "?revision=2").status_code == 404
    assert (
        _edit(sato, meeting_id, next_time, portion_form("次回", "次回は再来月に開催する。")).status_code
        == 302
    )
    assert _texts_by_portion(demo, next_time) == [1, 2]
    for client, name in ((sato, "circulate"), (tanaka, "approve"), (sato, "publish")):
        assert step(client, meeting_id, name).status_code == 302, name
    assert "次回は再来月に開催する。" in text(kobayashi.get(minutes_url(meeting_id)))
    first = text(kobayashi.get(minutes_url(meeting_id) + "?revision=1"))
    assert "次回は来月に開催する。" in first and translated(app, "Superseded by a correction", "en") in first

    history = text(tanaka.get(minutes_url(meeting_id, "/revisions")))
    assert (
        translated(app, "Superseded by a correction") in history and translated(app, "Published") in history
    )
    with demo.session_scope() as session:
        minutes = session.scalar(select(Minutes).where(Minutes.meeting_id == meeting_id))
        assert minutes is not None
        assert minutes.revisions[1].based_on == 1 and minutes.revisions[1].published_hash not in (
            None,
            first_hash,
        )

    compared = text(kobayashi.get(minutes_url(meeting_id, "/compare?a=1&b=2")))
    assert (
        "<del>次回は来月に開催する。</del>" in compared and "<ins>次回は再来月に開催する。</ins>" in compared
    )
    assert compared.count(translated(app, WITHHELD, "en")) == 1 and "放出時期" not in compared


def test_steps_out_of_order_are_refused_with_a_reason(app: Flask, demo: Database) -> None:
    meeting_id, sato = _started(app, demo)
    tanaka = browser(app, demo, TANAKA)

    refused = step(sato, meeting_id, "circulate")  # nothing to circulate
    assert refused.status_code == 409
    assert_message(app, refused, "Add at least one portion before circulating the minutes.")
    assert add_portion(sato, meeting_id, portion_form("開会", "開会した。")).status_code == 302
    refused = step(tanaka, meeting_id, "approve")
    assert refused.status_code == 409
    assert_message(app, refused, "The minutes must be circulated for review first.")
    refused = step(sato, meeting_id, "publish")
    assert refused.status_code == 409
    assert_message(app, refused, "The chair must approve the minutes before they are published.")
    assert step(sato, meeting_id, "correct").status_code == 409
    assert _minutes(demo, meeting_id)[:2] == ("draft", 1)

    assert step(sato, meeting_id, "circulate").status_code == 302
    assert step(sato, meeting_id, "publish").status_code == 409  # circulated, not approved
    refused = add_portion(sato, meeting_id, portion_form("追加", "回覧後の追加"))
    assert refused.status_code == 409 and "回覧後の追加" in text(refused)
    # the steward takes it back to draft: a new revision; the circulated one is kept as it was
    assert step(sato, meeting_id, "revise").status_code == 302
    assert _minutes(demo, meeting_id)[:2] == ("draft", 2)
    assert step(tanaka, meeting_id, "approve").status_code == 409


def test_only_the_chair_approves_and_only_stewards_run_the_minutes(app: Flask, demo: Database) -> None:
    meeting_id, sato = _started(app, demo)
    assert add_portion(sato, meeting_id, portion_form("開会", "開会した。")).status_code == 302
    assert step(sato, meeting_id, "circulate").status_code == 302
    version = page_version(sato, meeting_id)

    for email in (ITO, SATO):  # a member; the secretariat (a steward, but not the chair)
        refused = post(
            browser(app, demo, email), minutes_url(meeting_id, "/approve"), {"base_version": version}
        )
        assert refused.status_code == 403
        assert_message(app, refused, "Only the subcommittee's chair approves the minutes.")
        entry = last_audit(demo, "minutes.approve")
        assert not entry.allowed and entry.reason == "NOT_CHAIR"
        assert str(entry.actor_id) == str(user_by_email(demo, email).id)
    for name in ("circulate", "revise", "publish", "correct"):
        refused = post(
            browser(app, demo, KOBAYASHI), minutes_url(meeting_id, f"/{name}"), {"base_version": version}
        )
        assert refused.status_code == 403, name
        assert last_audit(demo, f"minutes.{name}").reason == "NOT_SECRETARIAT_OR_CHAIR"
    kobayashi = browser(app, demo, KOBAYASHI)
    assert kobayashi.get(minutes_url(meeting_id, "/portions/new")).status_code == 403
    assert _minutes(demo, meeting_id) == ("circulated", 1, int(version))


def test_only_attendees_comment(app: Flask, demo: Database) -> None:
    meeting_id, sato = _started(app, demo)
    add_attendee(demo, meeting_id, YOSHIDA, present=False)  # answered "attend", recorded absent
    assert add_portion(sato, meeting_id, portion_form("開会", "開会した。")).status_code == 302
    [portion] = portion_ids(sato, meeting_id)
    url = minutes_url(meeting_id, f"/portions/{portion}/comments")
    assert (
        post(browser(app, demo, SATO), url, {"body": "草案へのコメント"}).status_code == 409
    )  # not circulated
    assert step(sato, meeting_id, "circulate").status_code == 302

    for email in (YAMADA, YOSHIDA):
        client = browser(app, demo, email)
        assert 'data-testid="comment-form"' not in text(client.get(minutes_url(meeting_id)))
        refused = post(client, url, {"body": "出席していない者のコメント"})
        assert refused.status_code == 403, email
        assert_message(app, refused, "Only those who attended the meeting review the minutes.")
        entry = last_audit(demo, "minutes.review")
        assert not entry.allowed and entry.reason == "NOT_ATTENDEE"
    with demo.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(PortionComment).where(
            PortionComment.portion_text_id.in_(select(PortionText.id).where(
                PortionText.portion_id == uuid.UUID(portion))))) == 0  # fmt: skip
    # the chair counts as an attendee
    assert post(browser(app, demo, TANAKA), url, {"body": "座長のコメント"}).status_code == 302


def test_a_stale_edit_gets_the_conflict_page_and_keeps_the_text(app: Flask, demo: Database) -> None:
    meeting_id, sato = _started(app, demo)
    assert add_portion(sato, meeting_id, portion_form("開会", "元の本文。")).status_code == 302
    [portion] = portion_ids(sato, meeting_id)
    seen = page_version(sato, meeting_id)
    tanaka = browser(app, demo, TANAKA)
    assert (
        _edit(tanaka, meeting_id, portion, portion_form("開会", "座長が先に直した本文。")).status_code == 302
    )

    conflict = _edit(sato, meeting_id, portion, portion_form("開会", "事務局が直した本文。"), version=seen)

    assert conflict.status_code == 409
    html = text(conflict)
    assert 'data-testid="conflict"' in html
    assert "座長が先に直した本文。" in html and "事務局が直した本文。" in html
    assert "座長が先に直した本文。" in text(sato.get(minutes_url(meeting_id)))  # nothing overwritten
    # the form now names the current version: saving again is a deliberate choice
    assert f'name="base_version" type="hidden" value="{int(seen) + 1}"' in html
    stale_step = post(sato, minutes_url(meeting_id, "/circulate"), {"base_version": seen})
    assert stale_step.status_code == 409 and _minutes(demo, meeting_id)[0] == "draft"


def test_two_changes_from_the_same_version_cannot_both_go_through(demo: Database) -> None:
    from portal.minutes import drafting, guards, service
    from portal.minutes.service import StaleMinutes
    from tests.meetings_support import subject_of

    meeting_id = upcoming_minerals_meeting(demo)
    with demo.session_scope() as session:
        minutes = drafting.start_minutes(session, subject_of(session, SATO), meeting_id)
        version = minutes.version
    with demo.session_scope() as session:
        minutes = service.minutes_of(session, meeting_id)
        assert minutes is not None
        guards.claim(session, minutes, version)
        try:
            guards.claim(session, minutes, version)
        except StaleMinutes as stale:
            assert stale.current_version == version + 1
        else:
            raise AssertionError("the second change from the same version went through")


def test_a_move_never_touches_a_portion_the_steward_cannot_read(app: Flask, demo: Database) -> None:
    """Positions are spaced: moving a portion past a CESI portion the secretariat cannot read leaves that
    portion's text as it is; only when the spacing is used up would it have to move, which is refused."""
    meeting_id, sato = _started(app, demo)
    tanaka = browser(app, demo, TANAKA)
    readers = [str(user_by_email(demo, email).id) for email in (TANAKA, ITO)]
    assert add_portion(sato, meeting_id, portion_form("X", "一つ目")).status_code == 302
    cesi = portion_form(
        "C", "指名閲覧者のみの部分", level=3, release="RED", readers=readers, reason="外国政府提供"
    )
    assert add_portion(tanaka, meeting_id, cesi).status_code == 302
    assert add_portion(sato, meeting_id, portion_form("Y", "三つ目")).status_code == 302
    assert add_portion(sato, meeting_id, portion_form("Z", "四つ目")).status_code == 302
    assert step(sato, meeting_id, "circulate").status_code == 302
    assert step(sato, meeting_id, "revise").status_code == 302  # revision 2: every text is from revision 1
    x, c, y, z = portion_ids(sato, meeting_id)

    def move_up(client: FlaskClient, portion: str) -> TestResponse:
        return post(client, minutes_url(meeting_id, f"/portions/{portion}/move"),
                    {"base_version": page_version(client, meeting_id), "direction": "up"})  # fmt: skip

    assert move_up(sato, y).status_code == 302 and move_up(sato, z).status_code == 302
    assert portion_ids(sato, meeting_id) == [x, y, z, c]
    assert _texts_by_portion(demo, c) == [1]  # the CESI portion was not rewritten
    refusal = None
    for _attempt in range(20):  # halve the space between X and the next portion until none is left
        order = portion_ids(sato, meeting_id)
        response = move_up(sato, order[2])
        if response.status_code != 302:
            refusal = response
            break
    assert refusal is not None and refusal.status_code == 409
    assert_message(app, refusal, "This move would also move a portion you are not cleared to read. "
                   "Ask someone who may read it, or move another portion.")  # fmt: skip
    assert _texts_by_portion(demo, c) == [1]
    # the chair, who reads every portion, can make the same move: the draft is renumbered
    stuck = portion_ids(tanaka, meeting_id)
    assert move_up(tanaka, stuck[2]).status_code == 302
    assert portion_ids(tanaka, meeting_id) == [stuck[0], stuck[2], stuck[1], c]
    assert _texts_by_portion(demo, c) == [1, 2]
    html = text(tanaka.get(minutes_url(meeting_id)))
    assert "指名閲覧者のみの部分" in html  # re-sealed for revision 2 and still readable


def test_a_portion_of_other_minutes_answers_404(app: Flask, demo: Database) -> None:
    meeting_id, sato = _started(app, demo)
    assert add_portion(sato, meeting_id, portion_form("開会", "開会した。")).status_code == 302
    other_meeting = demo_minutes_meeting(demo)
    foreign = portion_ids(browser(app, demo, TANAKA), other_meeting)[0]
    version = page_version(sato, meeting_id)
    tails = {
        f"/portions/{foreign}/edit": portion_form("乗っ取り", "他の議事録の部分"),
        f"/portions/{foreign}/remove": {},
        f"/portions/{foreign}/move": {"direction": "up"},
    }
    for tail, form in tails.items():
        response = post(sato, minutes_url(meeting_id, tail), {"base_version": version, **form})
        assert response.status_code == 404, (tail, response.headers.get("Location"))
        assert last_audit(demo, "minutes.read").reason == "NOT_FOUND"
    assert sato.get(minutes_url(meeting_id, f"/portions/{foreign}/edit")).status_code == 404
    assert step(sato, meeting_id, "circulate").status_code == 302
    add_attendee(demo, meeting_id, ITO)
    ito = browser(app, demo, ITO)
    assert (
        post(ito, minutes_url(meeting_id, f"/portions/{foreign}/comments"), {"body": "x"}).status_code == 404
    )
    # and nothing changed on the other minutes
    assert portion_ids(browser(app, demo, TANAKA), other_meeting)[0] == foreign
    assert _texts_by_portion(demo, foreign) == [1]


def _circulations(database: Database) -> int:
    with database.session_scope() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "minutes.circulate")
            )
            or 0
        )


def test_a_step_without_the_csrf_token_changes_nothing(app: Flask, demo: Database) -> None:
    meeting_id, sato = _started(app, demo)
    assert add_portion(sato, meeting_id, portion_form("開会", "開会した。")).status_code == 302
    before, circulations = _minutes(demo, meeting_id), _circulations(demo)

    for tail in ("/circulate", "/portions/new"):
        response = sato.post(
            minutes_url(meeting_id, tail), data={"base_version": str(before[2]), "body": "x"}
        )
        assert response.status_code == 400
    assert _minutes(demo, meeting_id) == before
    assert _circulations(demo) == circulations
    assert step(sato, meeting_id, "circulate").status_code == 302  # with the token it goes through
    assert _circulations(demo) == circulations + 1


def _kinds(client: FlaskClient, meeting_id: uuid.UUID, a: int, b: int) -> list[str]:
    html = text(client.get(minutes_url(meeting_id, f"/compare?a={a}&b={b}")))
    return re.findall(r'data-testid="change" data-kind="(\w+)"', html)


def test_the_comparison_names_added_removed_moved_and_changed_portions(app: Flask, demo: Database) -> None:
    meeting_id, sato = _started(app, demo)
    add_attendee(demo, meeting_id, KOBAYASHI)
    for heading in ("A", "B", "C"):
        assert add_portion(sato, meeting_id, portion_form(heading, f"{heading}の本文")).status_code == 302
    secret = portion_form("D", "Dの本文(政府限り)", level=2, caveats="GOV_ONLY", reason="検討過程")
    assert add_portion(sato, meeting_id, secret).status_code == 302
    a, b, c, d = portion_ids(sato, meeting_id)
    assert step(sato, meeting_id, "circulate").status_code == 302
    assert step(sato, meeting_id, "revise").status_code == 302
    # revision 2: B removed, E added, C moved to the top, A raised to 秘 (same words)
    assert post(sato, minutes_url(meeting_id, f"/portions/{b}/remove"),
                {"base_version": page_version(sato, meeting_id)}).status_code == 302  # fmt: skip
    assert add_portion(sato, meeting_id, portion_form("E", "Eの本文")).status_code == 302
    for _ in range(2):
        move = {"base_version": page_version(sato, meeting_id), "direction": "up"}
        assert post(sato, minutes_url(meeting_id, f"/portions/{c}/move"), move).status_code == 302
    raised = portion_form("A", "Aの本文", level=2, reason="個別の検討内容を含むため")
    assert _edit(sato, meeting_id, a, raised).status_code == 302
    assert step(sato, meeting_id, "circulate").status_code == 302
    e = portion_ids(sato, meeting_id)[-1]
    assert portion_ids(sato, meeting_id) == [c, a, d, e]

    # order: revision 2's, with B after A where it stood in revision 1
    assert _kinds(sato, meeting_id, 1, 2) == ["moved", "changed", "removed", "unchanged", "added"]
    html = text(sato.get(minutes_url(meeting_id, "/compare?a=1&b=2")))
    assert translated(app, "Marking changed") in html and "Bの本文" in html and "Eの本文" in html
    # 小林 (取扱注意) read A in revision 1 but not in revision 2, and never D: both are withheld lines
    kobayashi = browser(app, demo, KOBAYASHI)
    assert _kinds(kobayashi, meeting_id, 1, 2) == ["moved", "withheld", "removed", "withheld", "added"]
    compared = text(kobayashi.get(minutes_url(meeting_id, "/compare?a=1&b=2")))
    assert "Aの本文" not in compared and "Dの本文" not in compared
    assert compared.count(translated(app, WITHHELD, "en")) == 2


def test_a_steward_marks_a_portion_only_within_their_clearance(app: Flask, demo: Database) -> None:
    meeting_id, sato = _started(app, demo)
    readers = [str(user_by_email(demo, email).id) for email in (TANAKA, ITO)]
    cesi = portion_form(
        "通報", "同盟国からの通報の内容", level=3, release="RED", readers=readers, reason="提供国との取決め"
    )

    refused = add_portion(sato, meeting_id, cesi)  # 佐藤 holds 秘 (CONFIDENTIAL)

    assert refused.status_code == 403
    assert_message(app, refused, "You cannot classify above your own clearance.")
    assert "同盟国からの通報の内容" in text(refused)  # the typed text is kept
    assert last_audit(demo, "minutes.edit").reason == "CLASSIFY_ABOVE_CLEARANCE"
    assert portion_ids(sato, meeting_id) == []
    assert add_portion(browser(app, demo, TANAKA), meeting_id, cesi).status_code == 302
    assert len(portion_ids(sato, meeting_id)) == 1
    assert translated(app, WITHHELD) in text(sato.get(minutes_url(meeting_id)))
