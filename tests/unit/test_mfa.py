"""TOTP (RFC 6238) with drift and replay protection, and recovery codes."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from portal.security import mfa

#: RFC 6238 appendix B: the SHA-1 seed "12345678901234567890", base32-encoded.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
#: (time, last six digits of the RFC's eight-digit SHA-1 value)
RFC_VECTORS = [
    (59, "287082"),
    (1111111109, "081804"),
    (1111111111, "050471"),
    (1234567890, "005924"),
    (2000000000, "279037"),
    (20000000000, "353130"),
]
NOW = 1_800_000_015.0  # the middle of a time step
STEP = int(NOW // mfa.TIME_STEP_SECONDS)


def _code_at_step(step: int, secret: str = RFC_SECRET) -> str:
    return mfa.current_code(secret, at=step * mfa.TIME_STEP_SECONDS)


@pytest.mark.parametrize(("at", "code"), RFC_VECTORS)
def test_codes_match_rfc_6238(at: int, code: str) -> None:
    assert mfa.current_code(RFC_SECRET, at=at) == code
    result = mfa.verify_totp(RFC_SECRET, code, last_used_step=0, at=at)
    assert result.accepted
    assert result.step == at // 30


@pytest.mark.parametrize("drift", [-1, 0, 1])
def test_one_step_of_drift_either_way_is_accepted(drift: int) -> None:
    result = mfa.verify_totp(RFC_SECRET, _code_at_step(STEP + drift), last_used_step=0, at=NOW)
    assert result.accepted
    assert result.step == STEP + drift


@pytest.mark.parametrize("drift", [-3, -2, 2, 3])
def test_more_drift_is_refused(drift: int) -> None:
    code = _code_at_step(STEP + drift)
    assert code not in {_code_at_step(STEP + near) for near in (-1, 0, 1)}  # no accidental collision
    result = mfa.verify_totp(RFC_SECRET, code, last_used_step=0, at=NOW)
    assert not result.accepted
    assert not result.replayed


def test_the_same_step_cannot_be_used_twice() -> None:
    code = _code_at_step(STEP)
    first = mfa.verify_totp(RFC_SECRET, code, last_used_step=0, at=NOW)
    assert first.accepted

    again = mfa.verify_totp(RFC_SECRET, code, last_used_step=first.step, at=NOW)

    assert not again.accepted
    assert again.replayed


def test_an_older_step_is_a_replay_too() -> None:
    result = mfa.verify_totp(RFC_SECRET, _code_at_step(STEP - 1), last_used_step=STEP, at=NOW)
    assert not result.accepted
    assert result.replayed


def test_a_newer_step_after_a_used_one_is_accepted() -> None:
    result = mfa.verify_totp(RFC_SECRET, _code_at_step(STEP + 1), last_used_step=STEP, at=NOW)
    assert result.accepted
    assert result.step == STEP + 1


def test_spaces_in_a_code_are_ignored() -> None:
    code = _code_at_step(STEP)
    assert mfa.verify_totp(RFC_SECRET, f" {code[:3]} {code[3:]} ", last_used_step=0, at=NOW).accepted


@pytest.mark.parametrize(
    "code",
    ["", "12345", "1234567", "12345a", "abcdef", "12-456", "+12345", "１２３４５６", "١٢٣٤٥٦", "0x1234"],
)
def test_codes_that_are_not_six_ascii_digits_are_refused(code: str) -> None:
    assert not mfa.verify_totp(RFC_SECRET, code, last_used_step=0, at=NOW).accepted


def test_full_width_digits_of_the_right_code_are_refused() -> None:
    code = _code_at_step(STEP)
    full_width = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert not mfa.verify_totp(RFC_SECRET, full_width, last_used_step=0, at=NOW).accepted


def test_new_secrets_are_random_base32_of_160_bits_or_more() -> None:
    first, second = mfa.new_secret(), mfa.new_secret()
    assert first != second
    assert re.fullmatch(r"[A-Z2-7]+", first)
    assert len(base64.b32decode(first)) * 8 >= 160


def test_provisioning_uri_names_the_issuer_and_account() -> None:
    uri = mfa.provisioning_uri(RFC_SECRET, "tanaka@meti.example.jp")
    assert uri.startswith("otpauth://totp/")
    assert f"secret={RFC_SECRET}" in uri
    assert "tanaka%40meti.example.jp" in uri or "tanaka@meti.example.jp" in uri


# --- recovery codes ----------------------------------------------------------------------------------


def test_ten_recovery_codes_in_the_documented_format() -> None:
    codes = mfa.new_recovery_codes()
    assert len(codes) == mfa.RECOVERY_CODE_COUNT == 10
    assert len(set(codes)) == 10
    for code in codes:
        # Five and five characters, lower case, without the look-alikes 0/o and 1/l/i.
        assert re.fullmatch(r"[a-hjkmnp-z2-9]{5}-[a-hjkmnp-z2-9]{5}", code), code
        assert mfa.looks_like_recovery_code(code)
    assert set(codes).isdisjoint(mfa.new_recovery_codes())


def test_recovery_code_hash_is_sha256_of_the_normalised_code() -> None:
    code = "abcde-fghjk"
    digest = mfa.hash_recovery_code(code)
    assert digest == hashlib.sha256(b"abcdefghjk").hexdigest()
    assert len(digest) == 64
    assert code not in digest
    # The way people type it back does not matter: case, hyphen, spaces.
    for typed in ("ABCDE-FGHJK", "abcdefghjk", " abcde fghjk ", "Abcde-Fghjk"):
        assert mfa.hash_recovery_code(typed) == digest, typed
    assert mfa.hash_recovery_code("abcde-fghjm") != digest


def test_a_totp_code_does_not_look_like_a_recovery_code() -> None:
    assert not mfa.looks_like_recovery_code("123456")
    assert not mfa.looks_like_recovery_code("123 456")
    assert mfa.looks_like_recovery_code("abcde-fghjk")
    assert not mfa.looks_like_recovery_code("abcde-fghj")
