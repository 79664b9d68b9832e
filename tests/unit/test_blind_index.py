"""The blind index: normalising and tokenising Japanese and English, keys per room, and tokens only."""

from __future__ import annotations

import uuid

from portal.security.blind_index import (
    contains_all,
    derive_index_key,
    normalise,
    parse_query,
    token_texts,
)


def test_japanese_runs_become_overlapping_bigrams() -> None:
    assert token_texts("レアアース") == {"レア", "アア", "アー", "ース"}
    assert token_texts("輸出規制") == {"輸出", "出規", "規制"}


def test_latin_text_becomes_words_case_folded() -> None:
    assert token_texts("Rare-Earth export CONTROLS, 2025") == {"rare", "earth", "export", "controls", "2025"}
    assert token_texts("STRASSE") == token_texts("straße") == {"strasse"}


def test_mixed_text_splits_by_script_and_a_lone_character_is_a_unigram() -> None:
    assert token_texts("AGI分科会") == {"agi", "分科", "科会"}
    assert token_texts("第1版") == {"第", "1", "版"}
    # The middle dot and punctuation separate runs; they are never tokens.
    assert token_texts("ガリウム・ゲルマニウム") == token_texts("ガリウム ゲルマニウム")


def test_nfkc_folds_full_width_and_half_width_forms() -> None:
    assert normalise("ＡＢＣ") == "abc"
    assert token_texts("ＡＢＣ１２３") == {"abc123"}
    assert token_texts("ｶﾞﾘｳﾑ") == token_texts("ガリウム") == {"ガリ", "リウ", "ウム"}
    assert normalise("レアアース　輸出") == "レアアース 輸出"  # the ideographic space too


def test_queries_split_into_terms_and_short_ones_are_refused() -> None:
    query = parse_query("  レアアース　Export  export ")
    assert query.terms == ("レアアース", "export")
    assert query.token_texts == {"レア", "アア", "アー", "ース", "export"}
    assert not query.too_short
    for short in ("", "a", "鉱", "%", "_", "' --"):
        assert parse_query(short).too_short, short
    assert not parse_query("' OR 1=1 --").too_short  # plain words "or" and "1": searched as text


def test_confirmation_needs_every_term_as_written() -> None:
    text = normalise("輸出の話。出規は造語。規制の話。")
    # Every bigram of 輸出規制 is in the text, but the term is not: the candidate is not confirmed.
    assert token_texts("輸出規制") <= token_texts(text)
    assert not contains_all(text, parse_query("輸出規制").terms)
    assert contains_all(normalise("ＲＡＲＥ Earth の輸出規制"), parse_query("rare 輸出規制").terms)


def test_tokens_differ_between_rooms_and_keys() -> None:
    material = bytes(range(32))
    room_a, room_b = uuid.uuid4(), uuid.uuid4()
    key_a = derive_index_key(material, room_a)
    key_b = derive_index_key(material, room_b)
    key_system = derive_index_key(material, None)
    other_material = derive_index_key(bytes(32), room_a)
    texts = ["レアアース輸出規制 rare earth"]
    tokens = [key.tokens(texts) for key in (key_a, key_b, key_system, other_material)]
    assert len(tokens[0]) == len(token_texts(texts[0]))
    for index, one in enumerate(tokens):
        for other in tokens[index + 1 :]:
            assert not one & other
    assert key_a.tokens(texts) == derive_index_key(material, room_a).tokens(texts)  # deterministic
    assert all(-(2**63) <= token < 2**63 for token in tokens[0])


def test_snippets_mark_the_match_in_the_original_text_and_escape_the_rest() -> None:
    from portal.search.service import snippet

    expected = "&lt;i&gt;<mark>ＲＡＲＥ</mark>&lt;/i&gt; earth"
    assert str(snippet(("<i>ＲＡＲＥ</i> earth",), ("rare",))) == expected
    # ㈱ expands to (株) when normalised: positions are mapped back to the original characters.
    assert str(snippet(("㈱東邦の在庫",), ("在庫",))) == "㈱東邦の<mark>在庫</mark>"
    long = "前置き。" * 30 + "希土類の話。" + "後書き。" * 60
    shown = str(snippet((long,), ("希土類",)))
    assert shown.startswith("…") and shown.endswith("…") and "<mark>希土類</mark>" in shown
