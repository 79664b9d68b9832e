"""Password hashing (argon2id, NFKC) and the rules for new passwords."""

from __future__ import annotations

from importlib import resources

import pytest

from portal.security import passwords
from portal.security.passwords import PasswordRejected, check_new_password, hash_password, verify_password

HALF_WIDTH = "Kyogikai-Demo-2026!"
FULL_WIDTH = "Ｋｙｏｇｉｋａｉ－Ｄｅｍｏ－２０２６！"


def _rejection(password: str) -> str:
    with pytest.raises(PasswordRejected) as raised:
        check_new_password(password)
    return raised.value.code


def test_hash_is_argon2id_and_salted() -> None:
    first, second = hash_password(HALF_WIDTH), hash_password(HALF_WIDTH)
    assert first.startswith("$argon2id$")
    assert first != second
    assert HALF_WIDTH not in first


def test_right_and_wrong_password() -> None:
    stored = hash_password(HALF_WIDTH)
    assert verify_password(stored, HALF_WIDTH)
    assert not verify_password(stored, HALF_WIDTH.lower())
    assert not verify_password(stored, HALF_WIDTH + " ")
    assert not verify_password(stored, "")


def test_full_width_and_half_width_forms_are_the_same_password() -> None:
    assert FULL_WIDTH != HALF_WIDTH
    assert verify_password(hash_password(HALF_WIDTH), FULL_WIDTH)
    assert verify_password(hash_password(FULL_WIDTH), HALF_WIDTH)


def test_half_width_katakana_matches_full_width_katakana() -> None:
    full, half = "パスワードは長くて安全です2026", "ﾊﾟｽﾜｰﾄﾞは長くて安全です2026"
    assert verify_password(hash_password(full), half)
    assert verify_password(hash_password(half), full)
    assert check_new_password(half) == full


def test_unknown_user_verify_is_false() -> None:
    assert verify_password(None, HALF_WIDTH) is False
    assert verify_password(None, "") is False


def test_a_malformed_stored_hash_is_false_not_an_error() -> None:
    assert verify_password("not-a-hash", HALF_WIDTH) is False
    assert verify_password("$argon2id$v=19$m=8192,t=1,p=1$broken", HALF_WIDTH) is False


def test_minimum_length_is_twelve_characters() -> None:
    assert _rejection("Kz7#pQ2@wL9") == "too_short"  # 11
    assert check_new_password("Kz7#pQ2@wL9!") == "Kz7#pQ2@wL9!"  # 12
    assert passwords.MINIMUM_LENGTH == 12


def test_length_is_counted_after_normalisation() -> None:
    # Twelve full-width characters are twelve characters after NFKC as well.
    assert check_new_password("Ｋｚ７＃ｐＱ２＠ｗＬ９！") == "Kz7#pQ2@wL9!"
    assert _rejection("Ｋｚ７＃ｐＱ２＠ｗＬ９") == "too_short"


def test_too_long_is_refused() -> None:
    assert _rejection("aB3$" * 257) == "too_long"


def test_common_passwords_are_refused_in_any_case() -> None:
    listed = resources.files("portal.security").joinpath("common_passwords.txt").read_text("utf-8").split()
    long_enough = [entry for entry in listed if len(entry) >= 12]
    assert long_enough, "the list has entries of the minimum length"
    for entry in long_enough[:25]:
        assert _rejection(entry) == "too_common", entry
        assert _rejection(entry.upper()) == "too_common", entry
    assert _rejection("administrator123") == "too_common"


def test_passwords_with_too_few_different_characters_are_refused() -> None:
    assert _rejection("abababababababab") == "too_common"
    assert _rejection("zzzzzzzzzzzzzzzz") == "too_common"


def test_a_strong_password_is_accepted() -> None:
    assert check_new_password("Umi-no-hoshi-to-kaze-2026") == "Umi-no-hoshi-to-kaze-2026"
