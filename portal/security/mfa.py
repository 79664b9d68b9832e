"""Time-based one-time passwords (RFC 6238) with replay protection, and recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno

ISSUER = "Council Portal"
TIME_STEP_SECONDS = 30
#: Accept the previous and the next step as well, for clocks a little out of step.
ALLOWED_DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def new_secret() -> str:
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, account_name: str) -> str:
    return pyotp.TOTP(secret, interval=TIME_STEP_SECONDS).provisioning_uri(
        name=account_name, issuer_name=ISSUER
    )


def qr_svg_data_uri(uri: str) -> str:
    """The provisioning QR code as an SVG data URI (rendered here; no script, no external service)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2, dark="#1a1a1c", light="#ffffff"))


def current_code(secret: str, at: float | None = None) -> str:
    return str(pyotp.TOTP(secret, interval=TIME_STEP_SECONDS).at(at if at is not None else time.time()))


def normalize_code(code: str) -> str:
    return "".join(character for character in code if not character.isspace())


@dataclass(frozen=True)
class TotpResult:
    accepted: bool
    #: The time step the code belonged to (store it: a later code must be newer).
    step: int = 0
    replayed: bool = False


def verify_totp(secret: str, code: str, last_used_step: int, at: float | None = None) -> TotpResult:
    """Check a code against the steps around now; a step at or below ``last_used_step`` is a replay."""
    code = normalize_code(code)
    if len(code) != 6 or not code.isdigit():
        return TotpResult(accepted=False)
    now = time.time() if at is None else at
    totp = pyotp.TOTP(secret, interval=TIME_STEP_SECONDS)
    current_step = int(now // TIME_STEP_SECONDS)
    matched_step: int | None = None
    for step in range(current_step - ALLOWED_DRIFT_STEPS, current_step + ALLOWED_DRIFT_STEPS + 1):
        expected = totp.at(step * TIME_STEP_SECONDS)
        # Compare every candidate: the time taken does not depend on which one matches.
        if hmac.compare_digest(expected.encode(), code.encode()) and matched_step is None:
            matched_step = step
    if matched_step is None:
        return TotpResult(accepted=False)
    if matched_step <= last_used_step:
        return TotpResult(accepted=False, step=matched_step, replayed=True)
    return TotpResult(accepted=True, step=matched_step)


def new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def normalize_recovery_code(code: str) -> str:
    return "".join(character for character in code.lower() if character.isalnum())


def hash_recovery_code(code: str) -> str:
    return hashlib.sha256(normalize_recovery_code(code).encode()).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    return len(normalize_recovery_code(code)) == 10
