"""A token bucket per Notion integration token, shared by every thread of this process.

Notion allows an average of about three requests per second per integration. Each process keeps its own
buckets: N worker processes delivering to the same integration may together send N times the rate; the
429 answers that follow carry Retry-After and are honoured, so this costs time, not deliveries.
"""

from __future__ import annotations

import hashlib
import threading
import time


class Paused(Exception):
    """Notion asked this token to wait longer than the caller will sleep."""

    def __init__(self, remaining: float):
        super().__init__(f"rate limited for another {remaining:.0f} s")
        self.remaining = remaining


class TokenBucket:
    """`rate` requests per second, at most `burst` back to back; `pause` holds everyone back.

    The default burst of one spaces requests evenly (3/s: one every 333 ms), so no second ever sees more
    than the rate; Notion tolerates short bursts, but there is nothing to gain from them here.
    """

    def __init__(self, rate: float, burst: float | None = None, *, clock=time.monotonic, sleep=time.sleep):
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else 1.0)
        self.tokens = self.burst
        self.clock, self.sleep = clock, sleep
        self.updated = clock()
        self.paused_until = 0.0
        self.lock = threading.Lock()

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def acquire(self, max_pause: float = float("inf")) -> float:
        """Take one token, sleeping until there is one; return how long we waited.

        Paused for longer than `max_pause` (a long Retry-After): raise Paused at once instead of sleeping.
        """
        waited = 0.0
        while True:
            with self.lock:
                now = self.clock()
                self._refill(now)
                if now < self.paused_until:
                    wait = self.paused_until - now
                    if wait > max_pause:
                        raise Paused(wait)
                elif self.tokens >= 1.0 - 1e-9:  # float dust must not leave us waiting for nothing
                    self.tokens = max(0.0, self.tokens - 1.0)
                    return waited
                else:
                    wait = (1.0 - self.tokens) / self.rate
            self.sleep(wait)
            waited += wait

    def pause(self, seconds: float) -> None:
        """Notion said slow down: nobody using this token sends anything for `seconds`."""
        with self.lock:
            now = self.clock()
            self._refill(now)
            self.paused_until = max(self.paused_until, now + seconds)
            self.tokens = 0.0


_buckets: dict[tuple[str, float], TokenBucket] = {}
_buckets_lock = threading.Lock()


def bucket_for(token: str, rate: float) -> TokenBucket:
    """The process-wide bucket of one integration token (keyed by a hash: the token itself is not kept)."""
    key = (hashlib.sha256(token.encode()).hexdigest()[:24], float(rate))
    with _buckets_lock:
        bucket = _buckets.get(key)
        if bucket is None:
            bucket = _buckets[key] = TokenBucket(rate)
        return bucket
