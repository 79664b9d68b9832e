"""Password hashing (argon2id) and the password rules."""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MINIMUM_LENGTH = 12
MAXIMUM_LENGTH = 1024

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 "low memory" profile


class PasswordRejected(ValueError):
    """A new password breaks a rule; ``code`` says which (the view translates it)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def normalize(password: str) -> str:
    """NFKC, so the same password typed on a Japanese or a Latin keyboard layout hashes the same."""
    return unicodedata.normalize("NFKC", password)


@cache
def _common_passwords() -> frozenset[str]:
    text = resources.files("portal.security").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines() if line.strip())


def check_new_password(password: str) -> str:
    """Return the normalised password or raise :class:`PasswordRejected`."""
    normalized = normalize(password)
    if len(normalized) < MINIMUM_LENGTH:
        raise PasswordRejected("too_short")
    if len(normalized) > MAXIMUM_LENGTH:
        raise PasswordRejected("too_long")
    if normalized.casefold() in _common_passwords() or len(set(normalized)) < 4:
        raise PasswordRejected("too_common")
    return normalized


def hash_password(password: str) -> str:
    return _hasher.hash(normalize(password))


@cache
def _dummy_hash() -> str:
    return _hasher.hash("an unused password that only burns the same time")


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check a password; with no stored hash, spend the same time and answer False."""
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), normalize(password)) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def use_cost_profile(time_cost: int, memory_cost_kib: int) -> None:
    """Change the cost of new hashes (the test suite uses a cheap argon2id profile to stay fast)."""
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=1)
    _dummy_hash.cache_clear()
