"""A language model as a findings labeller: the interface the shell hands in, and the fallback to the local engine.

The pipeline never talks to a network. The shell (onno/service.py) builds a labeller (integrations/llm/) and passes
it to `pipeline.run.analyse`; its replies go through the same assembly as the local engine's findings
(pipeline/findings/llm_merge.py), and any failure ends in the local engine's findings with the reason recorded.
"""

from __future__ import annotations

import logging
from typing import Protocol

from pipeline.findings.engine import extract_findings
from pipeline.findings.llm_merge import merge_replies
from pipeline.findings.llm_schema import ChunkReply
from pipeline.types import EngineInfo, Findings, MeetingInfo, Segment, Ticket

log = logging.getLogger(__name__)


class LabellerFailure(Exception):
    """The model gave no usable findings; the message is the fallback reason."""


class ModelLabeller(Protocol):
    """Labels a meeting's transcript lines with findings, one reply per chunk of lines it sent."""

    model: str  # recorded as engine.model

    def label(self, segments: list[Segment], info: MeetingInfo, board: list[Ticket],
              engine: EngineInfo) -> list[ChunkReply]:
        """Every chunk's reply, its segment indexes into `segments`; tokens and cost accumulate on `engine` even
        when it fails. Raises LabellerFailure (its message the reason) when there are no usable replies."""
        ...


def model_findings(segments: list[Segment], info: MeetingInfo, board: list[Ticket],
                   labeller: ModelLabeller) -> tuple[Findings, EngineInfo]:
    """Findings from the model; the local engine's, with the reason, when the model cannot give them."""
    engine = EngineInfo(name="llm", model=labeller.model)
    if not segments:
        return _fallback(segments, info, board, engine, "empty transcript")
    try:
        replies = labeller.label(segments, info, board, engine)
        findings = merge_replies(replies, segments, info, board)
    except LabellerFailure as exc:
        return _fallback(segments, info, board, engine, str(exc))
    except Exception as exc:  # any failure of the model path, even our own bug, must end in local findings
        log.exception("findings from %s failed", labeller.model)
        return _fallback(segments, info, board, engine, f"{type(exc).__name__}: {str(exc)[:200]}")
    log.info("findings from %s: %s, $%.4f", labeller.model, engine.usage, engine.cost_usd)
    return findings, engine


def _fallback(segments: list[Segment], info: MeetingInfo, board: list[Ticket], engine: EngineInfo,
              reason: str) -> tuple[Findings, EngineInfo]:
    log.warning("language model %s failed (%s); using the local findings engine", engine.model, reason)
    engine.name, engine.fallback_reason = "local", reason
    return extract_findings(segments, info, board), engine
