"""Renaming a speaker of a stored meeting: the transcript, the findings' speakers, owners, askers and summary follow."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from core.errors import InputError
from pipeline.diarize.assign import is_anonymous
from storage.models import Meeting

PERSON_FIELDS = ("speaker", "owner", "asked_by")


@dataclass
class Renamed:
    """What a rename changed: transcript lines, findings, and the findings whose owner is now someone else."""

    lines: int = 0
    findings: int = 0
    new_owner: list[int] = field(default_factory=list)  # finding ids


def rename_speaker(s: Session, meeting: Meeting, old: str, new: str) -> Renamed:
    """Give `old`'s lines and findings the name `new` in the database. Merges when `new` speaks too.

    Only the stored meeting changes; onno.speakers.rename_speaker also sends what was delivered again."""
    new = " ".join(new.split())
    speakers = list(dict.fromkeys(g.speaker for g in meeting.segments if g.speaker))
    if old not in speakers:
        raise InputError(f"Meeting {meeting.id} has no speaker {old!r}.",
                         f"Its speakers are: {', '.join(speakers) or 'none (no speakers were told apart)'}.")
    if not new or len(new) > 200:
        raise InputError("The new name is empty or longer than 200 characters.", "Give the person's name.")
    done = Renamed()
    if new == old:
        return done
    for g in meeting.segments:
        if g.speaker == old:
            g.speaker, done.lines = new, done.lines + 1
    # "Send Speaker 3 the design": only our own placeholder is replaced inside texts, never words people said.
    in_text = re.compile(rf"\b{re.escape(old)}\b") if is_anonymous(old) else None
    for f in meeting.findings:
        data = dict(f.data)
        if data.get("owner") == old:
            done.new_owner.append(f.id)
        for key in PERSON_FIELDS:
            if data.get(key) == old:
                data[key] = new
        if in_text and isinstance(data.get("text"), str):
            data["text"] = in_text.sub(new, data["text"])
        if data != f.data:
            f.data, done.findings = data, done.findings + 1
            f.speaker = data.get("speaker", f.speaker)
            f.text = data.get("text", f.text) if isinstance(data.get("text"), str) else f.text
    if in_text:
        meeting.summary = in_text.sub(new, meeting.summary)
    people = [new if p == old else p for p in meeting.participants]
    if new not in people and not is_anonymous(new):
        people.append(new)
    meeting.participants = list(dict.fromkeys(people))
    s.flush()
    return done
