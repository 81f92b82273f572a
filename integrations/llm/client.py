"""The findings labeller that asks an OpenAI-compatible chat-completions endpoint, one strict-JSON request a chunk."""

from __future__ import annotations

import json

from pydantic import ValidationError

from integrations.llm.breaker import breaker_for
from integrations.llm.chunks import chunk_ranges
from integrations.llm.config import LLMConfig
from integrations.llm.prompts import SYSTEM_PROMPT, transcript_lines, user_prompt
from pipeline.findings.labeller import LabellerFailure
from pipeline.findings.llm_schema import ChunkReply, response_format
from pipeline.types import EngineInfo, MeetingInfo, Segment, Ticket


class OpenAILabeller:
    """pipeline.findings.labeller.ModelLabeller over the OpenAI SDK, behind the endpoint's circuit breaker."""

    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        self.model = config.model

    def label(self, segments: list[Segment], info: MeetingInfo, board: list[Ticket],
              engine: EngineInfo) -> list[ChunkReply]:
        """Every chunk's reply; LabellerFailure with a short reason when any request or reply fails."""
        breaker = breaker_for(self.config)
        if not breaker.allow():
            raise LabellerFailure("circuit open")
        try:
            replies = self.ask(segments, info, board, engine)
        except Exception as exc:  # any failure, even our own bug, counts against the endpoint and ends in a reason
            breaker.failure()
            raise LabellerFailure(failure_reason(exc, self.config)) from exc
        finally:
            engine.cost_usd = self.config.cost_usd(engine.usage)
        breaker.success()
        return replies

    def ask(self, segments: list[Segment], info: MeetingInfo, board: list[Ticket],
            engine: EngineInfo) -> list[ChunkReply]:
        """Every chunk's reply, or the first failure raised as is; usage accumulates on engine."""
        from openai import OpenAI

        config = self.config
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
                replies.append(ask_chunk(client, config, messages, chunk, engine))
        return replies


def ask_chunk(client, config: LLMConfig, messages: list[dict], chunk: range, engine: EngineInfo) -> ChunkReply:
    """One request for one chunk; its tokens are counted even when the reply turns out unusable."""
    engine.usage["requests"] += 1
    completion = client.chat.completions.create(model=config.model, messages=messages,
                                                response_format=response_format())
    if completion.usage is not None:
        engine.usage["prompt_tokens"] += completion.usage.prompt_tokens or 0
        engine.usage["completion_tokens"] += completion.usage.completion_tokens or 0
        engine.usage["total_tokens"] = engine.usage["prompt_tokens"] + engine.usage["completion_tokens"]
    if not completion.choices:
        raise LabellerFailure("invalid output: no choices in the reply")
    choice = completion.choices[0]
    if choice.message.refusal:
        raise LabellerFailure(f"refused: {choice.message.refusal[:200]}")
    if choice.finish_reason == "length":
        raise LabellerFailure("invalid output: cut off at the completion token limit")
    if not choice.message.content:
        raise LabellerFailure("invalid output: empty reply")
    return ChunkReply.model_validate_json(choice.message.content, context={"segments": chunk})


def failure_reason(exc: Exception, config: LLMConfig) -> str:
    """A short fallback reason for the meeting's record."""
    import openai

    if isinstance(exc, LabellerFailure):
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
