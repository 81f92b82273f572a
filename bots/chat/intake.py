"""Upload intake for both bots: which files are recordings, the one size limit, a title, and the replies that say
why a file is not taken and what to do instead."""

from __future__ import annotations

from pathlib import PurePosixPath

from bots.names import title_from
from pipeline.run import AUDIO_SUFFIXES
from pipeline.transcripts import CAPTION_SUFFIXES, TRANSCRIPT_SUFFIXES

MEDIA = frozenset(s.lstrip(".") for s in AUDIO_SUFFIXES)
CAPTIONS = frozenset(s.lstrip(".") for s in CAPTION_SUFFIXES)
# Text, Word and JSON files are shared for many reasons: taken as transcripts only when someone asks for that file.
TEXT_TRANSCRIPTS = frozenset(s.lstrip(".") for s in TRANSCRIPT_SUFFIXES) - CAPTIONS
KNOWN = MEDIA | CAPTIONS | TEXT_TRANSCRIPTS
WHAT_TO_SEND = ("Share an audio or video file of the meeting, or its transcript (.vtt, .srt, .sbv, .docx, .txt or "
                "Whisper .json).")


def extension(name: str) -> str:
    return PurePosixPath(name or "").suffix.lower().lstrip(".")


def is_recording(name: str, *, mimetype: str = "", filetype: str = "", asked: bool = False) -> bool:
    """Audio, video or a caption file; a text or Word transcript too when someone `asked` for this file."""
    kinds = {(filetype or "").lower(), extension(name)}
    return (mimetype or "").lower().startswith(("audio/", "video/")) or bool(kinds & (MEDIA | CAPTIONS)) \
        or (asked and extension(name) in TEXT_TRANSCRIPTS)


def title(name: str, default: str) -> str:
    return title_from(name, set(KNOWN), default)


def max_bytes(settings) -> int:
    """The largest recording either bot takes (ONNO_CHAT_MAX_FILE_MB)."""
    return int(settings.chat_max_file_mb * 1e6)


def too_big(name: str, size: int | None, limit: int, *, bold: str = "*") -> str:
    got = f" ({size / 1e6:.0f} MB)" if size else ""
    return (f"{bold}{name}{bold} is too large{got}: I take recordings up to {limit / 1e6:.0f} MB. Trim it, or "
            "export the audio only (an .m4a or .ogg is a tenth the size of a video), and share that.")


def not_a_recording(name: str, kind: str | None, *, bold: str = "*") -> str:
    what = f" ({kind})" if kind else ""
    return f"{bold}{name}{bold} isn't a recording I can process{what}. {WHAT_TO_SEND}"
