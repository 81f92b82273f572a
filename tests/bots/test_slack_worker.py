"""The same path with the job on a real `onno worker` (PostgreSQL, Redis): file_shared → thread reply."""

from __future__ import annotations

import json

from onno.service import App
from tests.bots.conftest import T1, TOKEN1, SlackServer, slack_settings
from tests.bots.test_slack_files import CHANNEL, SHARE_TS, thread_replies
from tests.jobs.conftest import Cluster, wait_for
from tests.media import SAMPLE


def test_file_shared_to_thread_reply_with_a_real_worker(tmp_path, postgres_url, redis_server, fake_slack):
    cluster = Cluster(tmp_path, postgres_url, redis_server.url)
    cluster.env.update({"SLACK_API_URL": fake_slack.api_url, "SLACK_BOT_TOKEN": TOKEN1,
                        "ONNO_SECRET_KEY": "test-secret-key-0123456789", "ONNO_PUBLIC_URL": "https://onno.test",
                        "ONNO_JOB_LEASE_SECONDS": "2"})
    server = None
    try:
        cluster.start_worker()
        server = SlackServer(App(slack_settings(tmp_path, fake_slack, database_url=postgres_url,
                                                broker_url=redis_server.url, job_lease_seconds=2)))
        fake_slack.add_file(T1, "F0WORKER01", "standup.ogg", SAMPLE.read_bytes(), channel=CHANNEL,
                            share_ts=SHARE_TS)
        event = {"type": "file_shared", "file_id": "F0WORKER01", "user_id": "U_MAYA", "channel_id": CHANNEL,
                 "file": {"id": "F0WORKER01"}, "event_ts": SHARE_TS}
        assert server.event(T1, event, event_id="EvWORKER1").status_code == 200
        assert server.event(T1, event, event_id="EvWORKER1", headers={"X-Slack-Retry-Num": "1"}).status_code == 200
        replies = wait_for(lambda: thread_replies(fake_slack), 180, "the results from the worker", every=0.5)
        server.drain()
        assert len(replies) == 1 and "<@U_LENA>" in json.dumps(replies[0]["args"]["blocks"])
        wait_for(lambda: any("Done" in (m["text"] or "") for m in fake_slack.messages.values()), 20,
                 "the progress message to say done")
        with cluster.app.session() as s:
            from sqlalchemy import func, select

            from storage.models import Job
            assert s.scalar(select(func.count()).select_from(Job)) == 1
        assert not fake_slack.problems
    finally:
        if server is not None:
            server.close()
        cluster.close()
