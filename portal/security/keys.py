"""Key providers. The key-encryption key (KEK) never enters the database.

The file provider keeps a random 256-bit key in a file created with mode 0600. The PKCS#11 provider
arrives with the encryption issue.
"""

from __future__ import annotations

import base64
import os
import secrets
import stat
from pathlib import Path

KEY_BYTES = 32
_HEADER = "portal-kek-v1:"


class KeyFileError(RuntimeError):
    """The key file is missing, malformed or readable by others."""


def create_key_file(path: Path) -> bool:
    """Create the key file if there is none; True when it was created. Never overwrites."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as handle:
        handle.write(_HEADER + base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode() + "\n")
    return True


def read_key_file(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as error:
        raise KeyFileError(f"key file {path} does not exist; run `portal keys init`") from error
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"key file {path} is accessible by group or others; chmod 600 it")
    text = path.read_text().strip()
    if not text.startswith(_HEADER):
        raise KeyFileError(f"key file {path} is not a portal key file")
    key = base64.b64decode(text[len(_HEADER) :])
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"key file {path} does not hold a {KEY_BYTES * 8}-bit key")
    return key
