"""What the model is told: the instructions, the meeting's facts and board, and numbered transcript lines."""

from __future__ import annotations

import datetime as dt

from pipeline.findings.llm_merge import LLM_CONFIDENT
from pipeline.findings.llm_schema import METRIC_NAMES
from pipeline.types import MeetingInfo, Segment, Ticket


def clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


def transcript_lines(segments: list[Segment]) -> list[str]:
    """`[index] mm:ss Speaker: text` per segment; the index is how the model points back at a line."""
    return [f"[{i}] {clock(s.start)} " + (f"{s.speaker}: " if s.speaker else "") + s.text.strip()
            for i, s in enumerate(segments)]


SYSTEM_PROMPT = f"""You take notes for a team's meeting. From the transcript lines you are given, extract the \
findings and reply with JSON matching the schema, nothing else.

Transcript lines look like `[index] mm:ss Speaker: text` (the speaker is left out when unknown). Every item you \
return gives `segment`: the [index] of the line where it is said (for a task agreed over several lines, the line \
where the task is first stated). Use only indexes of the lines shown.

Extract only what the words say; never invent. Empty lists are fine.
- action_items: work someone commits to or is asked to do. owner: the participant who will do it (the speaker \
for "I'll ...", the person addressed in "Maya, can you ..."), or null. due: the deadline as YYYY-MM-DD, resolving \
"Friday", "next Wednesday", "end of month" against the meeting date, or null.
- questions: real questions asked in the meeting. answered: whether someone answers it in these lines.
- decisions: what the meeting agreed or settled. blockers: what stops or delays work.
- confidence (action items, decisions, blockers): how sure you are, from 0 to 1, that the meeting really said \
it: 0.9 or more when it is said plainly ("I'll send the report by Friday", "so we go with the annual plan"), about \
0.5 when it is only floated, half agreed, or unclear who takes it ("maybe someone could look at that"), below 0.3 \
for a guess. Items under {LLM_CONFIDENT:g} are shown to the team as "possible" for a person to keep or drop, and \
never sent on by themselves, so do not round a doubt up.
- metrics: business figures stated as current facts, named only {", ".join(METRIC_NAMES)}. Money in USD, \
growth_rate and churn_rate in percent per month unless said otherwise, gross_margin in percent, runway_months in \
months, customers and headcount as counts.
- ticket_updates: status changes of tickets already on the board, said in passing ("the API docs are in \
progress now"): the board's key and the new status (TODO, IN_PROGRESS or DONE). New work is an action item, not \
a ticket update. certain: false when it is unclear which ticket or status is meant.
- summary: two or three sentences on what these lines settled."""


def user_prompt(info: MeetingInfo, board: list[Ticket], lines: list[str], part: int, parts: int) -> str:
    """The meeting's facts, the board before it, and one chunk of its transcript."""
    date: dt.date = info.date
    facts = [f"Meeting: {info.title} (type {info.type}), on {date.strftime('%A')} {date.isoformat()}.",
             "Participants: " + (", ".join(info.participants) or "not given") + "."]
    if board:
        facts.append("Board before the meeting:\n" + "\n".join(f"- {t.key} [{t.status}] {t.title}" for t in board))
    else:
        facts.append("Board before the meeting: empty (so no ticket_updates).")
    part_note = f" (part {part} of {parts}; the parts overlap by a few lines)" if parts > 1 else ""
    return "\n".join(facts) + f"\n\nTranscript{part_note}:\n" + "\n".join(lines)
