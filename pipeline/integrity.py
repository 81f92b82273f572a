"""Cheap structural checks that catch truncated files the decoders would silently accept."""

from __future__ import annotations

import struct
from pathlib import Path


def ogg_is_truncated(path: Path) -> bool:
    """True when the last Ogg page runs past the end of the file (an interrupted upload or copy)."""
    size = path.stat().st_size
    with path.open("rb") as f:
        pos = 0
        while pos < size:
            f.seek(pos)
            header = f.read(27)
            if len(header) < 27 or header[:4] != b"OggS":
                return True
            table = f.read(header[26])
            if len(table) < header[26]:
                return True
            pos += 27 + header[26] + sum(table)
        return pos > size


def wav_is_truncated(path: Path) -> bool:
    """True when a RIFF/WAVE data chunk claims more bytes than the file holds."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return False
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            chunk_id, chunk_size = struct.unpack("<4sI", f.read(8))
            if chunk_id == b"data":
                # 0 and 0xFFFFFFFF mean "unknown length" (streamed writers); nothing to check then.
                return chunk_size not in (0, 0xFFFFFFFF) and pos + 8 + chunk_size > size
            pos += 8 + chunk_size + (chunk_size & 1)
        return False


def looks_truncated(path: Path) -> bool:
    """Apply the structural check that fits the file's signature."""
    with path.open("rb") as f:
        magic = f.read(4)
    if magic == b"OggS":
        return ogg_is_truncated(path)
    if magic == b"RIFF":
        return wav_is_truncated(path)
    return False
