"""Which model to ask and how, and what its tokens cost."""

from __future__ import annotations

from dataclasses import dataclass


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

    def cost_usd(self, usage: dict) -> float:
        """What the tokens in `usage` cost at this config's prices."""
        return round(usage["prompt_tokens"] * self.price_input_per_mtok / 1e6
                     + usage["completion_tokens"] * self.price_output_per_mtok / 1e6, 6)
