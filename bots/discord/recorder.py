"""Each speaker's audio on disk while the meeting runs, flushed every few seconds; a tracks folder at the end.

A live meeting's folder lives under the blob dir (`discord-live/<meeting id>/`): one Ogg Opus file per member,
named by user id (display names can hold anything), and `speakers.json` naming them. If the bot dies, a restarted
one builds the tracks folder (`Maya.ogg`, `Daniel.ogg` …) from what is there and submits it like any other job.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from pathlib import Path

from bots.discord.ogg import OggOpusWriter, repair

FLUSH_EVERY = 5.0  # seconds; the promise is at most 10 s of audio lost if the process dies
LIVE_DIR = "discord-live"


def meeting_folder(blob_dir: Path, meeting_id: int) -> Path:
    return Path(blob_dir) / LIVE_DIR / str(meeting_id)


class TrackRecorder:
    """Per-speaker Ogg Opus writers for one meeting; safe to call from the voice thread and a flusher at once."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.writers: dict[str, OggOpusWriter] = {}
        self.names: dict[str, str] = load_names(self.folder)
        self.lock = threading.Lock()
        self.closed = False
        self.excluded: set[str] = set()  # opted out: nothing of theirs is written, even a packet already in flight

    def write(self, user_id: int | str, name: str, opus: bytes, t: float) -> bool:
        """Append a packet at `t` seconds on the meeting's clock; True when this is the speaker's first."""
        key = str(user_id)
        with self.lock:
            if self.closed or key in self.excluded:
                return False
            first = key not in self.writers
            if first:
                self.writers[key] = OggOpusWriter(self.folder / f"{key}.ogg")
                if self.names.get(key) != name:
                    self.names[key] = name
                    self._save_names()
            self.writers[key].write(opus, at=int(round(t * 48000)))
            return first

    def flush(self) -> None:
        with self.lock:
            for w in self.writers.values():
                w.flush()

    def discard(self, user_id: int | str) -> None:
        """A member opted out mid-meeting: their audio so far is deleted, not kept."""
        key = str(user_id)
        with self.lock:
            self.excluded.add(key)
            w = self.writers.pop(key, None)
            if w is not None:
                w.close()
            (self.folder / f"{key}.ogg").unlink(missing_ok=True)
            if self.names.pop(key, None) is not None:
                self._save_names()

    def allow(self, user_id: int | str) -> None:
        """Opted back in: their audio is written again from now on."""
        with self.lock:
            self.excluded.discard(str(user_id))

    def close(self) -> None:
        with self.lock:
            for w in self.writers.values():
                w.close()
            self.closed = True

    def _save_names(self) -> None:
        tmp = self.folder / "speakers.json.tmp"
        tmp.write_text(json.dumps(self.names, ensure_ascii=False, indent=1))
        os.replace(tmp, self.folder / "speakers.json")


def load_names(folder: Path) -> dict[str, str]:
    path = Path(folder) / "speakers.json"
    try:
        return {str(k): str(v) for k, v in json.loads(path.read_text()).items()}
    except (OSError, ValueError):
        return {}


def safe_name(name: str) -> str:
    """A display name as a file stem the tracks reader will take as the speaker's name."""
    name = re.sub(r"[\x00-\x1f/\\:*?\"<>|]+", " ", name).strip().strip(".")
    return re.sub(r"\s+", " ", name)[:80] or "Speaker"


def build_tracks(folder: Path, dest: Path, *, names: dict[str, str] | None = None,
                 exclude: set[str] = frozenset()) -> list[str]:
    """Copy the recorded tracks into `dest` as `<Display Name>.ogg`; return the speakers' names.

    Files cut short by a crash are trimmed to their last whole page first; opted-out members are left out.
    """
    names = {**load_names(folder), **(names or {})}
    dest.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    speakers: list[str] = []
    for path in sorted(Path(folder).glob("*.ogg")):
        user_id = path.stem
        if user_id in exclude:
            continue
        repair(path)
        if path.stat().st_size <= 200:  # headers only: they never said anything
            continue
        stem = base = safe_name(names.get(user_id, f"Speaker {user_id[-4:]}"))
        n = 2
        while stem.lower() in taken:
            stem, n = f"{base} ({n})", n + 1
        taken.add(stem.lower())
        shutil.copyfile(path, dest / f"{stem}.ogg")
        speakers.append(stem)
    return speakers
