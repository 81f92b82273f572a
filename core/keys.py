"""The secret key (ONNO_SECRET_KEY, or one kept in the data folder) and encryption at rest keyed from it."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

from core.errors import UserError, strings
from core.private import private_dir

MIN_CHARS = 16  # shorter keys are refused: anyone could guess them and sign links
GOOD_CHARS = 32  # what Onno makes itself; shorter ones get a warning at start


def key_hint() -> str:
    """What to do about a weak or missing key, as every surface says it."""
    return strings()["errors"]["secret_key_too_short"]["hint"]


def fernet(secret_key: str, purpose: bytes) -> Fernet:
    """A Fernet key of its own per purpose, so one kind of stored secret never opens another."""
    digest = hashlib.sha256(purpose + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def checked(key: str, where: str) -> str:
    """The key, or a UserError when it is too short to keep signed links unforgeable."""
    if len(key) < MIN_CHARS:
        raise UserError("secret_key_too_short", where=where, length=len(key), minimum=MIN_CHARS)
    return key


def stored_key(data_dir: Path) -> str:
    """The key kept in data_dir/secret.key, made on first use. Processes starting together on a fresh folder all
    end with the one key: each writes its own complete, synced file and links it into place, which only one can."""
    path = data_dir / "secret.key"
    if not path.exists():
        private_dir(data_dir, ours=True)
        tmp = data_dir / f".secret.key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_urlsafe(GOOD_CHARS).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # never replaces a key another process put there first
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return checked(path.read_text().strip(), str(path))
