"""A circuit breaker per endpoint, so a dead model server is not asked again for every meeting."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from integrations.llm.config import LLMConfig


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
