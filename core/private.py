"""Data files and folders only their owner can read: transcripts, voices, names and tokens live in them."""

from __future__ import annotations

import os
from pathlib import Path


def private_dir(path: Path, *, ours: bool = False) -> Path:
    """Make `path` (and missing parents) readable by its owner alone. An existing folder is tightened only when it
    is `ours` (Onno's data and blob folders), never one a user named for a database file."""
    path = Path(path)
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.chmod(0o700)  # mkdir's mode is cut by the umask
    elif ours and path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def private_sqlite(url: str) -> None:
    """Create a SQLite file 0600 in a private folder before SQLite does (its -wal and -shm files copy the main
    file's mode); tighten an existing one and its companions."""
    if not url.startswith("sqlite:///") or url.endswith(":memory:"):
        return
    db = Path(url.removeprefix("sqlite:///"))
    private_dir(db.parent)
    os.close(os.open(db, os.O_WRONLY | os.O_CREAT, 0o600))
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        if path.exists() and path.stat().st_mode & 0o077:
            path.chmod(0o600)
