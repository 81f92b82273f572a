"""Plans in Slack: `/onno plan` shows usage and links; a recording the plan does not cover gets the reason."""

from __future__ import annotations

from sqlalchemy import func, select

from billing.accounts import reserve
from storage import slack as slack_repo
from storage.models import Job, Recording
from tests.billing.conftest import API_KEY, PRICES, WEBHOOK_SECRET, FakeStripe
from tests.bots.conftest import T1
from tests.bots.test_slack_files import CHANNEL, VTT, share
from tests.jobs.conftest import wait_for


def billed(slack_server, stripe: FakeStripe):
    return slack_server(stripe_api_key=API_KEY, stripe_webhook_secret=WEBHOOK_SECRET, stripe_api_url=stripe.url,
                        stripe_price_pro=PRICES["pro"], stripe_price_team=PRICES["team"])


def use_minutes(server, minutes: float) -> None:
    with server.app.session() as s:
        reserve(s, slack_repo.team_workspace(s, T1), job_id=None, minutes=minutes)


def test_plan_command_shows_minutes_left_and_an_upgrade_link(slack_server, fake_slack):
    stripe = FakeStripe()
    try:
        server = billed(slack_server, stripe)
        use_minutes(server, 45)
        server.command(T1, "plan")
        wait_for(lambda: fake_slack.responses, 10, "the plan answer")
        text = fake_slack.responses[-1]["body"]["text"]
        assert "Free plan: 45 of 120 minutes used, 75 left" in text
        assert "Upgrade: https://onno.test/billing/" in text and "plan=pro" in text
    finally:
        stripe.close()


def test_recording_over_the_allowance_gets_the_reason_in_its_thread_and_no_job(slack_server, fake_slack):
    stripe = FakeStripe()
    try:
        server = billed(slack_server, stripe)
        use_minutes(server, 119.9)
        share(server, fake_slack, "F0OVER0001", "standup.vtt", VTT.encode(), mimetype="text/vtt")
        wait_for(lambda: [c for c in fake_slack.calls_to("chat.update") if "can't process" in c["args"]["text"]],
                 30, "the refusal")
        server.drain()
        [refusal] = [c["args"]["text"] for c in fake_slack.calls_to("chat.update") if "can't process" in
                     c["args"]["text"]]
        assert "Free plan has 0 of its 120 minutes left" in refusal and "https://onno.test/billing/" in refusal
        assert fake_slack.calls_to("chat.update")[-1]["args"]["channel"] == CHANNEL
        with server.app.session() as s:
            assert s.scalar(select(func.count()).select_from(Job)) == 0
            assert s.scalar(select(func.count()).select_from(Recording)) == 0
    finally:
        stripe.close()
