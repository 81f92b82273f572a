"""Notion's rate limit holds across worker processes: with a Redis broker they share one schedule per token."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from integrations.notion.ratelimit import Paused, SharedBucket, TokenBucket, bucket_for
from integrations.notion.service import make_api
from onno.settings import Settings
from tests.jobs.conftest import RedisServer

TAKE_FOUR = """
import json, sys, time
from integrations.notion.ratelimit import bucket_for
bucket = bucket_for("secret_token", float(sys.argv[2]), sys.argv[1])
times = []
for _ in range(4):
    bucket.acquire()
    times.append(time.time())
print(json.dumps(times))
"""


@pytest.fixture
def redis_url(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server.url
    server.stop()


def test_three_processes_together_keep_to_the_rate(redis_url):
    rate = 10.0
    procs = [subprocess.Popen([sys.executable, "-c", TAKE_FOUR, redis_url, str(rate)], stdout=subprocess.PIPE,
                              text=True) for _ in range(3)]
    times = sorted(t for p in procs for t in json.loads(p.communicate(timeout=60)[0]))
    assert len(times) == 12
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    # One slot every 100 ms across all three; a few ms of scheduling noise either way.
    assert min(gaps) > 0.08, gaps
    assert times[-1] - times[0] >= 11 * 0.1 - 0.05


def test_a_retry_after_seen_by_one_process_holds_back_the_others(redis_url):
    import redis

    first = SharedBucket(redis.Redis.from_url(redis_url), "token-a", 3.0)
    second = SharedBucket(redis.Redis.from_url(redis_url), "token-a", 3.0)
    other_token = SharedBucket(redis.Redis.from_url(redis_url), "token-b", 3.0)
    first.pause(30)
    with pytest.raises(Paused) as waited:
        second.acquire(max_pause=5)
    assert 25 < waited.value.remaining <= 30
    assert other_token.acquire(max_pause=5) == 0.0  # each integration has its own limit


def test_workers_use_the_shared_bucket_and_the_laptop_its_own(redis_url, tmp_path):
    shared = make_api(Settings(data_dir=tmp_path, broker_url=redis_url), "secret_x")
    alone = make_api(Settings(data_dir=tmp_path, broker_url=""), "secret_x")
    assert isinstance(shared.bucket, SharedBucket) and isinstance(alone.bucket, TokenBucket)
    assert bucket_for("secret_x", 3.0, redis_url) is shared.bucket  # one per process and token


def test_redis_going_away_falls_back_to_this_process_alone(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    bucket = bucket_for("secret_y", 50.0, server.url)
    bucket.acquire()
    server.stop()
    assert bucket.acquire(max_pause=1) >= 0.0  # still limited, by the local bucket, and no error
