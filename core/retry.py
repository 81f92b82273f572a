"""When to try again what did not go out: one backoff for everything that leaves Onno."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Doubling from `base` seconds, capped at `cap`, never sooner than the receiver's Retry-After; `max_attempts`
    tries in all."""

    base: float = 5.0
    cap: float = 600.0
    max_attempts: int = 8

    @classmethod
    def of(cls, settings) -> RetryPolicy:
        """The policy the settings give (`delivery_backoff`, `delivery_backoff_max`, `delivery_max_attempts`)."""
        return cls(settings.delivery_backoff, settings.delivery_backoff_max, settings.delivery_max_attempts)

    def wait(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds before the next try, after `attempts` tries (Retry-After as core.http.retry_after reads it)."""
        return max(min(self.cap, self.base * 2 ** max(0, attempts - 1)), retry_after or 0.0)

    def exhausted(self, attempts: int) -> bool:
        """Whether `attempts` tries are all this policy allows."""
        return attempts >= self.max_attempts
