"""The dispatcher publishes to the broker of the settings it is given, not to one chosen when Onno was imported."""

from __future__ import annotations

import json

import redis

from onno.celery_app import CeleryDispatcher
from onno.service import App
from onno.settings import Settings


def test_a_dispatcher_publishes_to_the_broker_its_settings_name(redis_server, tmp_path):
    dispatcher = CeleryDispatcher(Settings(broker_url=redis_server.url))
    dispatcher.send("deliver", 42)
    dispatcher.send("transcribe", "job-1")
    queued = redis.Redis.from_url(redis_server.url)
    [deliver] = [json.loads(m) for m in queued.lrange("deliver", 0, -1)]
    [transcribe] = [json.loads(m) for m in queued.lrange("transcribe", 0, -1)]
    assert deliver["headers"]["task"] == "onno.deliver" and deliver["headers"]["argsrepr"] == "[42]"
    assert transcribe["headers"]["task"] == "onno.transcribe" and transcribe["headers"]["argsrepr"] == "['job-1']"


def test_an_app_given_a_broker_runs_its_jobs_through_that_broker(redis_server, tmp_path):
    app = App(Settings(broker_url=redis_server.url, data_dir=tmp_path))
    app.runner.dispatcher.send("extract", "job-2")
    assert redis.Redis.from_url(redis_server.url).llen("extract") == 1
