"""Plain-text transcripts: Otter, Zoom 'Save transcript', Rev/Descript, Meet, podcast and WhisperX text layouts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.transcripts import speakers
from pipeline.transcripts.markup import CLOCK, seconds
from pipeline.types import Segment

# Plain text without times: turns are spread at a typical speaking rate so findings still point somewhere.
WORDS_PER_SECOND = 2.5
PREAMBLE = 4  # lines of title, date and duration a meeting tool puts above the first turn
# A line of its own that opens a turn whose words follow on the next lines.
HEADERS = (
    ("wall", re.compile(rf"^\[(?P<name>[^\]]{{1,60}})\]\s+(?P<t>{CLOCK})\s*$")),  # Zoom: "[Name] 11:02:09"
    ("otter", re.compile(rf"^(?P<name>\S.{{0,60}}?)\s{{2,}}(?P<t>{CLOCK})\s*$")),  # Otter, Teams .docx
    ("rev", re.compile(rf"^(?P<name>\S.{{0,60}}?)\s*:?\s*[(\[](?P<t>{CLOCK})[)\]]\s*:?\s*$")),  # "Name (00:01:02):"
    ("dash", re.compile(rf"^(?P<name>\S.{{0,60}}?)\s+[-–|·]\s+(?P<t>{CLOCK})\s*$")),  # "Name - 00:05"
    ("clock-dash", re.compile(rf"^[\[(]?(?P<t>{CLOCK})[\])]?\s+[-–|·]\s+(?P<name>[^\W\d_][^\[\]():]{{0,59}}?)\s*$")),  # "0:05 - Name"
)
# Google Meet's clock every few minutes, or a time range above the words it times.
CLOCK_ONLY = re.compile(rf"^[\[(]?(?P<t>{CLOCK})(?:\s*(?:-|–|-->)\s*{CLOCK})?[\])]?$")
# "00:00:04 text", "[00:01:30] Name: text", "[0:00:06.8 - 0:00:07.2] SPEAKER_00 - text"
STAMPED = re.compile(rf"^(?:[\[(](?P<t>{CLOCK})(?:\s*(?:-|–|-->)\s*(?P<e>{CLOCK}))?[\])]|(?P<t2>{CLOCK})"
                     rf"(?:\s*(?:-|–|-->)\s*(?P<e2>{CLOCK}))?)\s+(?P<rest>\S.*)$")
# Descript and Rev with the words on the same line: "Jane Doe (00:01:02): words".
REV_INLINE = re.compile(rf"^(?P<name>[^()\[\]:]{{1,60}}?)\s*[(\[](?P<t>{CLOCK})[)\]]\s*:\s*(?P<rest>\S.*)$")
DASHED = re.compile(r"^(?P<label>(?:SPEAKER|Speaker)[ _]?\d{1,3}|UNKNOWN|Unknown Speaker)\s+[-–]\s+(?P<rest>.*)$")
FOOTERS = re.compile(r"^(?:Transcribed by (?:https?://)?otter\.ai|Transcribed by https?://\S+|"
                     r"Transcript(?:ion)? (?:by|from) (?:Rev|Descript|Fireflies)\b.*)$", re.I)


@dataclass
class Turn:
    """What one speaker said at one point: its clock stamps (seconds or None), its label and lines."""

    start: float | None
    end: float | None = None
    label: str | None = None
    header: bool = False
    words: list[str] = field(default_factory=list)
    follows: bool = False  # on the line right after the previous turn's: its continuation unless it names a speaker


def header_of(line: str) -> tuple[str, str, float] | None:
    """(layout, name, start) for a turn header line."""
    for layout, pattern in HEADERS:
        m = pattern.match(line)
        # With the clock first the rest may be words ("00:04 - But did you"): only a name reads as a header.
        name = m["name"].strip() if m else ""
        if m and speakers.plausible(name, loose=True) and not re.fullmatch(CLOCK, name) \
                and (layout != "clock-dash" or speakers.named(name)):
            return layout, name, seconds(m["t"])
    return None


def turns_of(text: str) -> tuple[list[Turn], str | None]:
    """The file's turns (labels not yet judged) and the header layout it uses, if any."""
    turns: list[Turn] = []
    layout, pending, blank = None, None, True
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            blank = True
            continue
        if FOOTERS.match(line):
            continue
        head = header_of(line)
        if head:
            layout = layout or head[0]
            turns.append(Turn(head[2], label=head[1], header=True))
        elif (clock := CLOCK_ONLY.match(line)) and ":" in clock["t"]:
            name = name_above(turns, blank)
            if name:  # Fireflies and some Teams .docx: the name, then the clock, then the words
                layout = layout or "name-clock"
                turns.append(Turn(seconds(clock["t"]), label=name, header=True))
            else:
                pending = seconds(clock["t"])
        elif (inline := REV_INLINE.match(line)) and speakers.plausible(inline["name"].strip()):
            turns.append(Turn(seconds(inline["t"]), label=inline["name"].strip(), header=True,
                              words=[inline["rest"]]))
        elif stamped := STAMPED.match(line):
            end = stamped["e"] or stamped["e2"]
            turn = Turn(seconds(stamped["t"] or stamped["t2"]), seconds(end) if end else None)
            turns.append(labelled(turn, stamped["rest"]))
        elif turns and turns[-1].header and not turns[-1].words:
            turns[-1].words.append(line)
        else:
            turn = labelled(Turn(pending, follows=not blank), line)
            # A line with no label continues a header's turn, or a labelled turn it follows without a blank line;
            # elsewhere (Whisper's .txt: one segment a line) it is a segment of its own.
            if turn.label is None and turns and (turns[-1].header or (not blank and turns[-1].label is not None)):
                turns[-1].words.append(line)
            else:
                turns.append(turn)
                pending = None
        blank = False
    turns = [t for t in turns if t.words]
    if layout:  # a title, date and duration above the first header (Teams .docx) are not speech
        first = next((i for i, t in enumerate(turns) if t.header), 0)
        if first <= PREAMBLE and all(t.label is None and t.start is None for t in turns[:first]):
            turns = turns[first:]
    return turns, layout


def name_above(turns: list[Turn], blank: bool) -> str | None:
    """The lone name on the line just above a clock line, taken off the turn it was read into."""
    if not turns or blank or not turns[-1].words:
        return None
    last = turns[-1]
    line = last.words[-1]
    alone = len(last.words) > 1 or (not last.header and last.label is None and last.start is None)
    if not (alone and speakers.plausible(line) and speakers.named(line)):
        return None
    last.words.pop()
    if not last.words:
        turns.pop()
    return line


def labelled(turn: Turn, line: str) -> Turn:
    """The turn with the line's speaker label (a candidate, judged later over the file) and its words."""
    dashed = DASHED.match(line)
    found = (dashed["label"], dashed["rest"].strip()) if dashed else speakers.split_label(line)
    if found and found[1]:
        turn.label, line = found
    turn.words.append(line)
    return turn


def read(text: str, name: str) -> list[Segment]:
    """Turns with speakers and times; a label that is not a speaker goes back into the words."""
    turns, layout = turns_of(text)
    inline = [t.label if not t.header else None for t in turns]
    names = speakers.accepted(inline, sum(1 for t in turns if not t.header))
    kept: list[Turn] = []
    for turn in turns:
        if not turn.header and turn.label and turn.label not in names:
            turn.words[0], turn.label = f"{turn.label}: {turn.words[0]}", None
            if turn.follows and kept and turn.start is None:
                kept[-1].words += turn.words
                continue
        kept.append(turn)
    turns = kept
    if layout == "wall":  # Zoom's saved transcript stamps the time of day: count from the first turn
        first = next((t.start for t in turns if t.start is not None), 0.0)
        for turn in turns:
            turn.start = None if turn.start is None else max(0.0, turn.start - first)
    return timed(turns)


def timed(turns: list[Turn]) -> list[Segment]:
    """Segments: a turn without a stamp starts after the last one, lasting as long as its words take to say."""
    segments: list[Segment] = []
    cursor = 0.0
    for i, turn in enumerate(turns):
        words = " ".join(turn.words)
        length = max(1.0, len(words.split()) / WORDS_PER_SECOND)
        start = turn.start if turn.start is not None else cursor
        later = turns[i + 1].start if i + 1 < len(turns) else None
        end = turn.end if turn.end is not None else later if later is not None and later > start else start + length
        segments.append(Segment(start=round(start, 3), end=round(max(end, start), 3), text=words,
                                speaker=speakers.person(turn.label) if turn.label else None))
        cursor = max(cursor, start + length + 0.5) if turn.start is None else start + length + 0.5
    return segments
