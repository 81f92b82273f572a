"""Typed values that flow between pipeline stages, and their JSON shape (shared/eval/RESULT_FORMAT.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

MEETING_TYPES = ("general", "standup", "planning", "retro", "product_review", "investment_screening", "sales",
                 "mentoring")
TICKET_STATUSES = ("TODO", "IN_PROGRESS", "DONE")
USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens", "requests")


def one_line(text: str) -> str:
    """A title or name as one line: line breaks, tabs and other control characters become single spaces (they
    would split an e-mail header or a listing)."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


@dataclass
class Segment:
    """A stretch of speech: seconds from the recording's start, the speaker's name when known."""

    start: float
    end: float
    text: str
    speaker: str | None = None


@dataclass
class Ticket:
    """A card on the team's board before the meeting."""

    key: str
    title: str
    status: str


@dataclass
class MeetingInfo:
    """What the caller tells us about a meeting."""

    title: str
    type: str = "general"
    date: dt.date = field(default_factory=dt.date.today)
    participants: list[str] = field(default_factory=list)
    language: str = "en"
    uploader: str | None = None  # who sent the recording, when known: a hint for naming its voices

    def __post_init__(self):
        # Sanitised at intake, whatever took the meeting in (CLI, Slack, Discord, a job's stored options).
        self.title = one_line(self.title)
        self.participants = [name for name in map(one_line, self.participants) if name]


@dataclass
class ActionItem:
    text: str
    owner: str | None = None
    due: str | None = None
    start: float | None = None
    speaker: str | None = None
    # How sure the findings engine is (0..1) and the sentence it rests on, which ends at `end`.
    confidence: float | None = None
    evidence: str = ""
    end: float | None = None


@dataclass
class Question:
    text: str
    asked_by: str | None = None
    answered: bool = False
    start: float | None = None
    speaker: str | None = None


@dataclass
class SuggestedQuestion:
    text: str
    topic: str | None = None
    priority: str = "important"
    reason: str = ""
    # A follow-up points at the question it raises again; a checklist gap has no evidence (None).
    start: float | None = None
    speaker: str | None = None


@dataclass
class Note:
    """A decision or a blocker: a short phrase and where it was said."""

    text: str
    start: float | None = None
    speaker: str | None = None
    confidence: float | None = None
    evidence: str = ""
    end: float | None = None


@dataclass
class TicketUpdate:
    key: str
    from_status: str
    to: str
    start: float | None = None
    speaker: str | None = None
    evidence: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["from"] = d.pop("from_status")
        return d


@dataclass
class Metric:
    name: str
    value: float
    unit: str
    start: float | None = None
    speaker: str | None = None
    evidence: str = ""


@dataclass
class Findings:
    """Everything the findings engine extracts from one transcript."""

    action_items: list[ActionItem] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    suggested_questions: list[SuggestedQuestion] = field(default_factory=list)
    # Questions asked in the meeting that nobody answered, to raise again; kept apart from the checklist gaps.
    follow_ups: list[SuggestedQuestion] = field(default_factory=list)
    decisions: list[Note] = field(default_factory=list)
    blockers: list[Note] = field(default_factory=list)
    ticket_updates: list[TicketUpdate] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    summary: str = ""
    # Ticket mentions that looked like status changes but were ambiguous: for a human to confirm.
    unconfirmed_ticket_updates: list[TicketUpdate] = field(default_factory=list)
    # Findings the engine is not sure of: shown for review as "possible", never delivered unless a person keeps them.
    possible_action_items: list[ActionItem] = field(default_factory=list)
    possible_decisions: list[Note] = field(default_factory=list)
    possible_blockers: list[Note] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = {k: [asdict(x) for x in v] for k, v in vars(self).items() if isinstance(v, list)}
        d["ticket_updates"] = [u.to_dict() for u in self.ticket_updates]
        d["unconfirmed_ticket_updates"] = [u.to_dict() for u in self.unconfirmed_ticket_updates]
        d["summary"] = self.summary
        return d


@dataclass
class EngineInfo:
    """Which findings engine produced the findings, why it fell back, and the language model's token use and cost."""

    name: str = "local"  # "llm" or "local"
    model: str | None = None
    fallback_reason: str | None = None
    usage: dict = field(default_factory=lambda: dict.fromkeys(USAGE_KEYS, 0))
    cost_usd: float = 0.0


@dataclass
class MeetingResult:
    """A processed meeting: its facts, transcript and findings."""

    info: MeetingInfo
    duration: float
    transcript: list[Segment]
    findings: Findings
    source: str = ""
    engine: EngineInfo = field(default_factory=EngineInfo)

    def to_dict(self) -> dict:
        meeting = {"title": self.info.title, "type": self.info.type, "date": self.info.date.isoformat(),
                   "duration": round(self.duration, 2), "language": self.info.language,
                   "participants": self.info.participants, "source": self.source}
        return {"meeting": meeting, "transcript": [asdict(s) for s in self.transcript], **self.findings.to_dict(),
                "engine": asdict(self.engine)}
