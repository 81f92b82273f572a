"""A rate limit per Notion integration token: in Redis for every worker process, or per process without one.

Notion allows an average of about three requests per second per integration. With a Redis broker the
schedule lives in Redis (`SharedBucket`), so N workers delivering to the same integration together keep to
the rate; without one (the laptop default, one process) each process keeps its own `TokenBucket`. Either
way the 429 answers Notion may still send carry Retry-After and are honoured.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time

log = logging.getLogger(__name__)


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


# One atomic step in Redis, on Redis's clock: take the next free slot (one every 1/rate seconds, not before a
# pause Notion asked for) unless it is further away than the caller will wait. Returns the wait in ms, or
# -(wait in ms) - 1 when it is too far and nothing was taken.
_TAKE = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or 0), tonumber(redis.call('GET', KEYS[2]) or 0))
local wait = slot - now
if wait > tonumber(ARGV[2]) then return -wait - 1 end
redis.call('SET', KEYS[1], slot + tonumber(ARGV[1]), 'PX', tonumber(ARGV[1]) + wait + 60000)
return wait
"""
_PAUSE = """
local t = redis.call('TIME')
local until_ms = t[1] * 1000 + math.floor(t[2] / 1000) + tonumber(ARGV[1])
if until_ms > tonumber(redis.call('GET', KEYS[1]) or 0) then
  redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]) + 60000)
end
return until_ms
"""


class SharedBucket:
    """The same schedule as TokenBucket (burst of one, `pause` holds everyone), kept in Redis for all processes."""

    def __init__(self, client, key: str, rate: float, *, sleep=time.sleep):
        self.interval_ms = max(1, round(1000 / float(rate)))
        self.keys = [f"onno:notion-rate:{key}:next", f"onno:notion-rate:{key}:paused"]
        self.take = client.register_script(_TAKE)
        self.hold = client.register_script(_PAUSE)
        self.sleep = sleep
        self.local = TokenBucket(rate, sleep=sleep)  # while Redis cannot be reached

    def acquire(self, max_pause: float = float("inf")) -> float:
        """Reserve the next slot and sleep until it; raise Paused when it is further off than `max_pause`."""
        import redis

        limit = 2**53 if max_pause == float("inf") else int(max_pause * 1000)
        try:
            wait_ms = int(self.take(keys=self.keys, args=[self.interval_ms, limit]))
        except redis.RedisError as exc:  # the broker is away for a moment: keep to the rate in this process
            log.warning("Notion rate limit: Redis unreachable (%s); limiting this process only", exc)
            return self.local.acquire(max_pause)
        if wait_ms < 0:
            raise Paused((-wait_ms - 1) / 1000)
        if wait_ms:
            self.sleep(wait_ms / 1000)
        return wait_ms / 1000

    def pause(self, seconds: float) -> None:
        """Notion said slow down: no process using this token sends anything for `seconds`."""
        import redis

        self.local.pause(seconds)
        try:
            self.hold(keys=self.keys[1:], args=[max(1, int(seconds * 1000))])
        except redis.RedisError as exc:
            log.warning("Notion rate limit: Redis unreachable (%s); pausing this process only", exc)


_buckets: dict[tuple[str, float, str], TokenBucket | SharedBucket] = {}
_buckets_lock = threading.Lock()


def bucket_for(token: str, rate: float, redis_url: str = "") -> TokenBucket | SharedBucket:
    """The bucket of one integration token (keyed by a hash: the token itself is not kept): shared through
    Redis when `redis_url` is a Redis URL, else this process's own."""
    digest = hashlib.sha256(token.encode()).hexdigest()[:24]
    shared = redis_url if redis_url.startswith(("redis://", "rediss://", "unix://")) else ""
    key = (digest, float(rate), shared)
    with _buckets_lock:
        bucket = _buckets.get(key)
        if bucket is None:
            if shared:
                import redis

                client = redis.Redis.from_url(shared, socket_timeout=5, socket_connect_timeout=5)
                bucket = SharedBucket(client, digest, rate)
            else:
                bucket = TokenBucket(rate)
            _buckets[key] = bucket
        return bucket
