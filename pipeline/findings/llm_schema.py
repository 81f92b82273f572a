"""The reply a language model must give for one transcript chunk: pydantic models and their strict JSON schema."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

METRIC_NAMES = ("mrr", "arr", "revenue", "growth_rate", "cac", "ltv", "churn_rate", "burn_rate", "runway_months",
                "gross_margin", "customers", "headcount", "raise_amount", "valuation")

Text = Annotated[str, Field(min_length=1, max_length=500)]
CONFIDENCE = ("How sure you are, from 0 to 1, that the meeting said this: 0.9 or more when said plainly, about 0.5 "
              "when only floated, half agreed or unclear, below 0.3 for a guess.")
Confidence = Annotated[float, Field(ge=0.0, le=1.0, description=CONFIDENCE)]


class _Item(BaseModel):
    """Every item points at the transcript line it came from, so it keeps that line's time and speaker."""

    model_config = ConfigDict(extra="forbid")

    segment: int = Field(description="The [index] of the transcript line the item was said in.")

    @field_validator("segment")
    @classmethod
    def _in_chunk(cls, value: int, info: ValidationInfo) -> int:
        # An index outside the lines we sent cannot be mapped back to a time: the reply is invalid.
        allowed = (info.context or {}).get("segments")
        if allowed is not None and value not in allowed:
            raise ValueError(f"segment {value} is not one of the transcript lines sent ({allowed.start}-"
                             f"{allowed.stop - 1})")
        return value


class ActionItemOut(_Item):
    text: Text = Field(description="The task, as a short imperative phrase.")
    owner: str | None = Field(description="Participant who will do it, or null.")
    due: str | None = Field(description="Deadline as an ISO date YYYY-MM-DD, or null.")
    confidence: Confidence

    @field_validator("due")
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        if value is not None:
            dt.date.fromisoformat(value)
        return value


class QuestionOut(_Item):
    text: Text
    asked_by: str | None = Field(description="Participant who asked, or null.")
    answered: bool = Field(description="Whether someone in the meeting answered it.")


class NoteOut(_Item):
    text: Text
    confidence: Confidence


class MetricOut(_Item):
    name: Literal[METRIC_NAMES]  # type: ignore[valid-type]
    # The unit follows from the name (as in the local engine), so the model gives only the number in it.
    value: float = Field(description="In USD for money, percent for rates (5 for 5%), months for runway, "
                                     "a plain count for customers and headcount.")
    evidence: str = Field(description="The words that state it.")


class TicketUpdateOut(_Item):
    key: str = Field(description="Key of a ticket on the board.")
    to: Literal["TODO", "IN_PROGRESS", "DONE"]
    certain: bool = Field(description="False when it is unclear which ticket or status was meant.")
    evidence: str = Field(description="The words that state the change.")


class ChunkReply(BaseModel):
    """What the model finds in one chunk of the transcript."""

    model_config = ConfigDict(extra="forbid")

    action_items: list[ActionItemOut]
    questions: list[QuestionOut]
    decisions: list[NoteOut]
    blockers: list[NoteOut]
    metrics: list[MetricOut]
    ticket_updates: list[TicketUpdateOut]
    summary: str = Field(description="Two or three sentences on what this part of the meeting settled.")


UNSENT = ("default", "title", "minLength", "maxLength", "minimum", "maximum")


def _strict(node: object) -> object:
    """OpenAI's strict mode: every property required, no extra keys, and no defaults or titles."""
    # Length and number limits are not accepted by every strict-mode server; pydantic still checks them on the
    # reply, and the descriptions say them to the model.
    if isinstance(node, list):
        return [_strict(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: ({name: _strict(p) for name, p in v.items()} if k in ("properties", "$defs") else _strict(v))
           for k, v in node.items() if k not in UNSENT}
    if out.get("type") == "object" and "properties" in out:
        out["required"] = list(out["properties"])
        out["additionalProperties"] = False
    return out


def response_format() -> dict:
    """The `response_format` parameter that asks for a ChunkReply."""
    schema = _strict(ChunkReply.model_json_schema())
    return {"type": "json_schema", "json_schema": {"name": "meeting_findings", "strict": True, "schema": schema}}
