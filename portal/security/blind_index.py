"""The blind index: searchable tokens that never hold the text they stand for. No Flask, no database.

Text is normalised (NFKC, then case folding) and cut into token texts: Latin, digit and other
space-separated scripts as whole words; Japanese (kanji, hiragana, katakana) as overlapping character
bigrams, a lone character as a unigram. Each token text becomes ``HMAC-SHA256(index key, text)`` truncated
to 8 bytes, stored as a signed 64-bit integer. The index key is derived with HKDF from the room's ``index``
data key, so the same word has unrelated tokens in two rooms, and destroying or rotating that data key makes
the room's tokens meaningless.

What the tokens still reveal to someone holding the database (and not the keys): how many distinct tokens
an item has, which items of the same room share a token, and how often a token occurs. That is the price of
searching without decrypting every item; the text itself, and any link between rooms, stay hidden.

Matching on tokens is approximate (a truncated HMAC may collide; bigrams may sit apart in the text), so every
candidate is confirmed against its opened text with :func:`contains_all` before it is shown or counted.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

TOKEN_BYTES = 8
#: A query is cut to this many terms and characters: the work of a search stays bounded.
MAX_QUERY_TERMS = 8
MAX_QUERY_CHARS = 200
#: A query must hold at least this many characters (after normalising) to be searched.
MIN_QUERY_CHARS = 2
_INFO_PREFIX = b"portal-blind-index-v1|"


def normalise(text: str) -> str:
    """NFKC (full-width ＡＢＣ and half-width ｶﾅ become ABC and カナ), then case folding, then NFKC again
    (folding can leave a string that is no longer in NFKC form)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def is_japanese(character: str) -> bool:
    """Kanji, hiragana and katakana (with the prolonged sound mark; not the middle dot ・)."""
    code = ord(character)
    return (
        0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0x3400 <= code <= 0x4DBF  # extension A
        or 0x20000 <= code <= 0x2FA1F  # extensions B-F, compatibility supplement
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or code in (0x3005, 0x3006, 0x3007)  # 々 〆 〇
        or 0x3041 <= code <= 0x309F  # hiragana
        or 0x30A1 <= code <= 0x30FA  # katakana
        or 0x30FC <= code <= 0x30FF  # ー ヽ ヾ ヿ
    )


def _runs(normalised: str) -> Iterable[tuple[bool, str]]:
    """Maximal runs of Japanese characters (True) and of other letters and digits (False)."""
    current: list[str] = []
    japanese = False
    for character in normalised:
        if is_japanese(character):
            kind: bool | None = True
        elif character.isalnum():
            kind = False
        else:
            kind = None
        if current and kind is not japanese:
            yield japanese, "".join(current)
            current = []
        if kind is not None:
            japanese = kind
            current.append(character)
    if current:
        yield japanese, "".join(current)


def token_texts(text: str) -> set[str]:
    """The token texts of a text (normalised here): words, and bigrams (or a unigram) of Japanese runs."""
    found: set[str] = set()
    for japanese, run in _runs(normalise(text)):
        if not japanese or len(run) == 1:
            found.add(run)
        else:
            found.update(run[index : index + 2] for index in range(len(run) - 1))
    return found


@dataclass(frozen=True)
class IndexKey:
    """The key that turns token texts into tokens for one scope (a room, or None for the system)."""

    scope_id: uuid.UUID | None
    material: bytes

    def token(self, token_text: str) -> int:
        digest = hmac.new(self.material, token_text.encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:TOKEN_BYTES], "big", signed=True)

    def tokens(self, texts: Iterable[str]) -> set[int]:
        found: set[str] = set()
        for text in texts:
            found |= token_texts(text)
        return {self.token(token_text) for token_text in found}


def derive_index_key(data_key_material: bytes, scope_id: uuid.UUID | None) -> IndexKey:
    """HKDF-SHA256 from the scope's ``index`` data key; the info names the purpose and the scope."""
    scope = str(scope_id) if scope_id is not None else "system"
    material = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO_PREFIX + scope.encode()
    ).derive(data_key_material)
    return IndexKey(scope_id, material)


@dataclass(frozen=True)
class Query:
    """A parsed query: normalised terms (every one must occur) and the token texts they need."""

    terms: tuple[str, ...]
    token_texts: frozenset[str]

    @property
    def too_short(self) -> bool:
        return sum(len(term) for term in self.terms) < MIN_QUERY_CHARS or not self.token_texts


def parse_query(raw: str) -> Query:
    """Terms split on white space (after NFKC, so the ideographic space splits too), duplicates dropped."""
    terms: list[str] = []
    for part in normalise(raw[:MAX_QUERY_CHARS]).split():
        if part not in terms and token_texts(part):
            terms.append(part)
    terms = terms[:MAX_QUERY_TERMS]
    needed: set[str] = set()
    for term in terms:
        needed |= token_texts(term)
    return Query(tuple(terms), frozenset(needed))


def contains_all(normalised_text: str, terms: Iterable[str]) -> bool:
    """The confirmation: every normalised term occurs in the normalised text, as written."""
    return all(term in normalised_text for term in terms)
