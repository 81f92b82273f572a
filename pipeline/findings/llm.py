"""Findings from an OpenAI-compatible language model, falling back to the local engine whenever it fails."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError

from pipeline.findings.engine import extract_findings
from pipeline.findings.llm_merge import merge_replies
from pipeline.findings.llm_schema import METRIC_NAMES, ChunkReply, response_format
from pipeline.types import EngineInfo, Findings, MeetingInfo, Segment, Ticket

log = logging.getLogger(__name__)

# Segments repeated at the start of the next chunk, so a question at a chunk's end can be seen answered.
CHUNK_OVERLAP = 2


@dataclass(frozen=True)
class LLMConfig:
    """Which model to ask and how; onno.settings builds it from the ONNO_LLM_* variables."""

    model: str
    base_url: str | None = None  # None: OpenAI's own endpoint
    api_key: str = ""
    timeout: float = 60.0  # seconds per request
    max_chunk_tokens: int = 6000  # transcript tokens (estimated) per request
    price_input_per_mtok: float = 0.0  # USD per million prompt tokens
    price_output_per_mtok: float = 0.0  # USD per million completion tokens
    max_retries: int = 1
    breaker_failures: int = 3
    breaker_seconds: float = 300.0


class LLMFailure(Exception):
    """The model gave no usable findings; the message is the fallback reason."""


class CircuitBreaker:
    """Stops calling an endpoint after N failed meetings in a row; after a cool-down lets one trial through."""

    def __init__(self, failures: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.failures_allowed, self.seconds, self.clock = failures, seconds, clock
        self.failures = 0
        self.opened_at: float | None = None
        self.trial = False
        self.lock = threading.Lock()

    def allow(self) -> bool:
        with self.lock:
            if self.opened_at is None:
                return True
            if not self.trial and self.clock() - self.opened_at >= self.seconds:
                self.trial = True  # half-open: this caller's meeting decides whether it closes again
                return True
            return False

    def success(self) -> None:
        with self.lock:
            self.failures, self.opened_at, self.trial = 0, None, False

    def failure(self) -> None:
        with self.lock:
            self.failures += 1
            if self.trial or self.failures >= self.failures_allowed:
                self.opened_at = self.clock()
            self.trial = False


_breakers: dict[str | None, CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(config: LLMConfig) -> CircuitBreaker:
    """The process-wide breaker of the config's endpoint."""
    with _breakers_lock:
        breaker = _breakers.setdefault(config.base_url, CircuitBreaker(config.breaker_failures,
                                                                       config.breaker_seconds))
        breaker.failures_allowed, breaker.seconds = config.breaker_failures, config.breaker_seconds
        return breaker


def reset_breakers() -> None:
    """Forget every endpoint's failures (for tests)."""
    with _breakers_lock:
        _breakers.clear()


def estimate_tokens(text: str) -> int:
    # About four characters a token for English with GPT-style tokenizers; close enough to size chunks.
    return len(text) // 4 + 1


def clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


def transcript_lines(segments: list[Segment]) -> list[str]:
    """`[index] mm:ss Speaker: text` per segment; the index is how the model points back at a line."""
    return [f"[{i}] {clock(s.start)} " + (f"{s.speaker}: " if s.speaker else "") + s.text.strip()
            for i, s in enumerate(segments)]


def chunk_ranges(lines: list[str], max_tokens: int, overlap: int = CHUNK_OVERLAP) -> list[range]:
    """Index ranges of at most max_tokens of new lines each (a longer line goes alone), plus a little overlap."""
    # Each chunk after the first repeats up to `overlap` lines of the one before, within a quarter of the budget.
    sizes = [estimate_tokens(line) for line in lines]
    chunks: list[range] = []
    start = 0
    while start < len(lines):
        end, used = start, 0
        while end < len(lines) and (end == start or used + sizes[end] <= max_tokens):
            used += sizes[end]
            end += 1
        back, extra = start, 0
        while back > 0 and start - back < overlap and extra + sizes[back - 1] <= max_tokens // 4:
            back -= 1
            extra += sizes[back]
        chunks.append(range(back, end))
        start = end
    return chunks


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


def _reason(exc: Exception, config: LLMConfig) -> str:
    """A short fallback reason for the meeting's record."""
    import openai

    if isinstance(exc, LLMFailure):
        return str(exc)
    if isinstance(exc, openai.APITimeoutError):
        return f"timeout after {config.timeout:g} s"
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}: {str(exc.message)[:200]}"
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        return f"connection error: {str(cause)[:200] or type(cause).__name__}"
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"invalid output: {exc.error_count()} error(s), first {where + ': ' if where else ''}{first['msg']}"[:300]
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid response: the endpoint's reply is not JSON ({exc.msg})"
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def _ask_chunk(client, config: LLMConfig, messages: list[dict], chunk: range, engine: EngineInfo) -> ChunkReply:
    """One request for one chunk; its tokens are counted even when the reply turns out unusable."""
    engine.usage["requests"] += 1
    completion = client.chat.completions.create(model=config.model, messages=messages,
                                                response_format=response_format())
    if completion.usage is not None:
        engine.usage["prompt_tokens"] += completion.usage.prompt_tokens or 0
        engine.usage["completion_tokens"] += completion.usage.completion_tokens or 0
        engine.usage["total_tokens"] = engine.usage["prompt_tokens"] + engine.usage["completion_tokens"]
    if not completion.choices:
        raise LLMFailure("invalid output: no choices in the reply")
    choice = completion.choices[0]
    if choice.message.refusal:
        raise LLMFailure(f"refused: {choice.message.refusal[:200]}")
    if choice.finish_reason == "length":
        raise LLMFailure("invalid output: cut off at the completion token limit")
    if not choice.message.content:
        raise LLMFailure("invalid output: empty reply")
    return ChunkReply.model_validate_json(choice.message.content, context={"segments": chunk})


def ask_model(segments: list[Segment], info: MeetingInfo, board: list[Ticket], config: LLMConfig,
              engine: EngineInfo) -> list[ChunkReply]:
    """Every chunk's reply, or the first failure raised as is; usage accumulates on engine."""
    from openai import OpenAI

    lines = transcript_lines(segments)
    chunks = chunk_ranges(lines, config.max_chunk_tokens)
    # Local servers (Ollama, llama.cpp) need no key, but the client insists on one.
    with OpenAI(base_url=config.base_url, api_key=config.api_key or "unused", timeout=config.timeout,
                max_retries=config.max_retries) as client:
        replies = []
        for n, chunk in enumerate(chunks, 1):
            messages = [{"role": "system", "content": SYSTEM_PROMPT},
                        {"role": "user", "content": user_prompt(info, board, lines[chunk.start:chunk.stop], n,
                                                                len(chunks))}]
            replies.append(_ask_chunk(client, config, messages, chunk, engine))
    return replies


def llm_findings(segments: list[Segment], info: MeetingInfo, board: list[Ticket],
                 config: LLMConfig) -> tuple[Findings, EngineInfo]:
    """Findings from the model; the local engine's, with the reason, when the model cannot give them."""
    engine = EngineInfo(name="llm", model=config.model)
    breaker = breaker_for(config)
    if not segments:
        return _fallback(segments, info, board, engine, config, "empty transcript")
    if not breaker.allow():
        return _fallback(segments, info, board, engine, config, "circuit open")
    try:
        replies = ask_model(segments, info, board, config, engine)
        findings = merge_replies(replies, segments, info, board)
    except Exception as exc:  # any failure of the model path, even our own bug, must end in local findings
        breaker.failure()
        return _fallback(segments, info, board, engine, config, _reason(exc, config))
    breaker.success()
    _cost(engine, config)
    log.info("findings from %s: %s, $%.4f", config.model, engine.usage, engine.cost_usd)
    return findings, engine


def _fallback(segments: list[Segment], info: MeetingInfo, board: list[Ticket], engine: EngineInfo,
              config: LLMConfig, reason: str) -> tuple[Findings, EngineInfo]:
    log.warning("language model %s failed (%s); using the local findings engine", config.model, reason)
    engine.name, engine.fallback_reason = "local", reason
    _cost(engine, config)
    return extract_findings(segments, info, board), engine


def _cost(engine: EngineInfo, config: LLMConfig) -> None:
    usage = engine.usage
    engine.cost_usd = round(usage["prompt_tokens"] * config.price_input_per_mtok / 1e6
                            + usage["completion_tokens"] * config.price_output_per_mtok / 1e6, 6)
