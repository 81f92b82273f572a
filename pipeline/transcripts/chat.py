"""Chat logs that people pass by mistake (Zoom's meeting chat, WhatsApp-style exports): typed, not said."""

from __future__ import annotations

import re

from core.errors import InputError

ZOOM_CHAT = re.compile(r"^\d{1,2}:\d{2}:\d{2}(?:\t[^\t\n]{1,80}:\t|\s+From\s+.{1,80}?\s+to\s+.{1,80}?:)", re.I)
DATED_CHAT = re.compile(r"^\[?\d{1,4}[./-]\d{1,2}[./-]\d{2,4},?\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp][Mm])?\]?"
                        r"\s*(?:-\s*)?[^:\n]{1,60}:\s")
SHARE = 0.3  # of the lines: a transcript may quote a chat line or two


def refuse_chat(text: str, name: str) -> None:
    """InputError when the text is a chat log rather than a transcript."""
    lines = [ln for ln in text.split("\n") if ln.strip()]
    zoom = sum(1 for ln in lines if ZOOM_CHAT.match(ln))
    dated = sum(1 for ln in lines if DATED_CHAT.match(ln))
    if zoom >= 2 and zoom >= SHARE * len(lines):
        raise InputError(f"{name} looks like a Zoom chat export ({zoom} typed messages: time, sender, message), not "
                         "a transcript of what was said.",
                         "Pass the transcript Zoom saves beside it (the .vtt file, 'Audio Transcript' in the cloud "
                         "recording), or the recording itself.")
    if dated >= 2 and dated >= SHARE * len(lines):
        raise InputError(f"{name} looks like a chat log ({dated} dated messages), not a transcript of a meeting.",
                         "Pass the meeting's recording, or the transcript your meeting tool exports "
                         "(.vtt, .srt, .docx or .txt).")
