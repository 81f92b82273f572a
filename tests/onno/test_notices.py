"""Team notices: told once, in the team's Slack or Discord channel, through the real handlers and the fakes of
Slack, Discord, Notion and Stripe (a broken board, a failed payment, a lapsed grace period, rate limits)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid

import pytest
from sqlalchemy import select

from billing.accounts import get_account
from core.clock import aware
from onno import notices
from onno.service import App
from onno.settings import Settings
from onno.sweeper import sweep_once
from storage import discord as discord_repo
from storage import notices as notices_repo
from storage import repository as repo
from storage import slack as slack_repo
from storage.notices import TeamNotice
from tests.billing.conftest import API_KEY, PRICES, WEBHOOK_SECRET, event, fake_stripe, signed  # noqa: F401
from tests.bots import discord_fake
from tests.bots.conftest import T1, fake_slack, slack_server  # noqa: F401
from tests.bots.test_slack_files import VTT
from tests.jobs.conftest import wait_for

GEN, DEV = "C0000GEN1", "C0000DEV1"


# -- helpers ----------------------------------------------------------------------------------------------------------


def posts(fake, needle: str, channel: str | None = None) -> list[dict]:
    """Top-level messages (not thread replies) the app posted whose text holds `needle`."""
    return [c["args"] for c in fake.calls_to("chat.postMessage")
            if needle in (c["args"].get("text") or "") and not c["args"].get("thread_ts")
            and (channel is None or c["args"].get("channel") == channel)]


def stored(fake, needle: str) -> list[dict]:
    """Messages Slack really holds (a call answered 429 is not among them)."""
    with fake.lock:
        return [m for m in fake.messages.values() if needle in (m.get("text") or "") and not m.get("thread_ts")]


def notice_rows(app, kind: str | None = None) -> list[TeamNotice]:
    with app.session() as s:
        q = select(TeamNotice).order_by(TeamNotice.id)
        if kind:
            q = q.where(TeamNotice.kind == kind)
        return list(s.scalars(q))


def settled(app, kind: str) -> list[TeamNotice]:
    """The notices of a kind once none is pending or being sent any more."""
    rows = notice_rows(app, kind)
    return rows if rows and all(r.status in ("delivered", "failed") for r in rows) else []


def team_ws(app) -> int:
    with app.session() as s:
        return slack_repo.team_workspace(s, T1).id


def command(server, fake, text: str, channel: str) -> str:
    before = len(fake.responses)
    assert server.command(T1, text, channel=channel).status_code == 200
    wait_for(lambda: len(fake.responses) > before, 10, f"the answer to /onno {text}")
    return fake.responses[-1]["body"]["text"]


def share(server, fake, file_id: str, ts: str, channel: str = GEN):
    fake.add_file(T1, file_id, f"{file_id.lower()}.vtt", VTT.encode(), channel=channel, share_ts=ts,
                  mimetype="text/vtt", filetype="vtt")
    r = server.event(T1, {"type": "file_shared", "file_id": file_id, "user_id": "U_MAYA", "channel_id": channel,
                          "file": {"id": file_id}, "event_ts": ts}, event_id=f"Ev{file_id}")
    assert r.status_code == 200


def thread_results(fake, channel: str = GEN) -> list[dict]:
    return [c for c in fake.calls_to("chat.postMessage")
            if c["args"].get("channel") == channel and c["args"].get("thread_ts") and c["args"].get("blocks")]


def tell(app, ws_id: int, text: str, key: str | None = None) -> str:
    """A notice made and sent the way the hooks do it: written in a transaction, then sent at once."""
    with app.session() as s:
        made = notices.create(s, ws_id, key=key or f"test-{uuid.uuid4().hex[:8]}", kind="test", text=text,
                              hint="Nothing to do.")
    notices.send_new(app, [made])
    return made


def post_stripe(server, evt: dict):
    body, header = signed(evt)
    r = server.http.post("/stripe/webhook", content=body,
                         headers={"Stripe-Signature": header, "Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    return r.json()["outcome"]


# -- fixtures ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def billed_slack(database_url, slack_server, fake_stripe):  # noqa: F811
    """`onno web` with Slack (team one) and Stripe, on each database; payments fail into a 1-second grace."""
    def start(**overrides):
        return slack_server(database_url=database_url, stripe_api_key=API_KEY, stripe_webhook_secret=WEBHOOK_SECRET,
                            stripe_api_url=fake_stripe.url, stripe_price_pro=PRICES["pro"],
                            stripe_price_team=PRICES["team"], **overrides)
    return start


def failed_payment(server, fake_stripe, ws_id: int, event_id: str = "evt_fail") -> dict:  # noqa: F811
    """Team one on Pro, then its renewal payment fails (Stripe: the subscription is past due)."""
    fake_stripe.subscribe("sub_1", plan="pro", workspace_id=ws_id)
    checkout = event("evt_checkout", "checkout.session.completed",
                     {"id": "cs_test_1", "object": "checkout.session", "mode": "subscription", "customer": "cus_1",
                      "subscription": "sub_1", "client_reference_id": str(ws_id), "status": "complete"})
    assert post_stripe(server, checkout) == "applied"
    fake_stripe.subscribe("sub_1", plan="pro", status="past_due", workspace_id=ws_id)
    invoice = {"id": "in_1", "object": "invoice", "customer": "cus_1",
               "parent": {"type": "subscription_details", "subscription_details": {"subscription": "sub_1"}}}
    return event(event_id, "invoice.payment_failed", invoice)


# -- Notion ---------------------------------------------------------------------------------------------------------


def test_a_revoked_notion_token_across_two_meetings_posts_one_slack_message(database_url, slack_server,  # noqa: F811
                                                                            fake_slack, notion):  # noqa: F811
    from integrations.notion import service

    server = slack_server(database_url=database_url, notion_api_url=notion.url, notion_rate=1000,
                          delivery_backoff=0.05)
    fake = notion.state
    db, _ = fake.add_board(title="Sprint board")
    ws_id = team_ws(server.app)
    service.connect(server.app, ws_id, token=fake.token, database=db)
    assert "Notion: on (`default`)" in command(server, fake_slack, "settings notion default", GEN)
    fake.tokens.clear()  # revoked in Notion

    share(server, fake_slack, "F0NOTION01", "1763900000.000100")
    share(server, fake_slack, "F0NOTION02", "1763900000.000200")
    wait_for(lambda: len(thread_results(fake_slack)) == 2, 90, "both meetings' results in their threads")
    server.drain()
    [row] = wait_for(lambda: settled(server.app, "notion_broken"), 30, "the notice sent")

    told = posts(fake_slack, "Onno can no longer reach the Notion board")
    assert len(told) == 1, told
    assert told[0]["channel"] == GEN  # where the team's recordings are processed
    assert "“Sprint board”" in told[0]["text"] and "revoked" in told[0]["text"]
    assert "`onno notion connect`" in told[0]["text"]
    assert row.status == "delivered" and list(row.destinations) == [f"slack:{GEN}"]
    assert row.key.startswith("notion-broken-")
    assert sweep_once(server.app)["notices"] == 0  # nothing left to send
    assert len(posts(fake_slack, "Onno can no longer reach")) == 1
    assert not fake_slack.problems


# -- billing --------------------------------------------------------------------------------------------------------


def test_a_failed_payment_replayed_posts_one_message_with_the_grace_date(billed_slack, fake_slack,  # noqa: F811
                                                                         fake_stripe):  # noqa: F811
    server = billed_slack()
    ws_id = team_ws(server.app)
    assert "team notices: this channel" in command(server, fake_slack, "settings notices here", DEV)
    failed = failed_payment(server, fake_stripe, ws_id)
    assert post_stripe(server, failed) == "applied"
    assert post_stripe(server, failed) == "duplicate"  # Stripe redelivers the same event
    again = {**failed, "id": "evt_fail_retry"}  # Stripe's next charge attempt fails too: a new event, same invoice
    assert post_stripe(server, again) == "applied"
    [row] = wait_for(lambda: settled(server.app, "payment_failed"), 30, "the notice sent")

    with server.app.session() as s:
        acct = get_account(s, repo.workspace_by_id(s, ws_id))
        grace = aware(acct.grace_until)
    [told] = posts(fake_slack, "A payment failed")
    assert told["channel"] == DEV
    assert f"stays on until {grace:%d %b %Y}" in told["text"]
    assert f"https://onno.test/billing/{ws_id}/manage?sig=" in told["text"]
    assert row.status == "delivered" and row.attempts == 1
    sweep_once(server.app)
    assert len(posts(fake_slack, "A payment failed")) == 1


def test_grace_expiry_posts_one_downgrade_notice_from_the_sweeper(billed_slack, fake_slack, fake_stripe):  # noqa: F811
    server = billed_slack(billing_grace_days=1 / 86400)  # a one-second grace period
    ws_id = team_ws(server.app)
    command(server, fake_slack, "settings notices here", GEN)
    assert post_stripe(server, failed_payment(server, fake_stripe, ws_id)) == "applied"
    wait_for(lambda: settled(server.app, "payment_failed"), 30, "the payment notice sent")
    with server.app.session() as s:
        grace = aware(get_account(s, repo.workspace_by_id(s, ws_id)).grace_until)
    wait_for(lambda: time.time() > grace.timestamp(), 10, "the grace period to pass")

    assert sweep_once(server.app)["notices"] == 1
    [told] = posts(fake_slack, "on the Free plan now", GEN)
    assert "The Pro subscription was not paid by the end of its grace period" in told["text"]
    assert f"https://onno.test/billing/{ws_id}/manage?sig=" in told["text"]
    [row] = notice_rows(server.app, "downgraded")
    assert row.status == "delivered" and row.key.startswith("downgraded-")
    assert sweep_once(server.app)["notices"] == 0
    # Stripe then gives up and cancels the subscription: the same downgrade, not told again.
    fake_stripe.subscribe("sub_1", plan="pro", status="canceled", workspace_id=ws_id)
    gone = event("evt_deleted", "customer.subscription.deleted", dict(fake_stripe.subscriptions["sub_1"]))
    assert post_stripe(server, gone) == "applied"
    sweep_once(server.app)
    assert len(posts(fake_slack, "on the Free plan now")) == 1
    assert len(notice_rows(server.app, "downgraded")) == 1


def test_a_cancellation_inside_the_grace_period_is_told_once(billed_slack, fake_slack, fake_stripe):  # noqa: F811
    server = billed_slack()  # the default grace: a week, so only Stripe's cancellation ends it
    ws_id = team_ws(server.app)
    command(server, fake_slack, "settings notices here", GEN)
    assert post_stripe(server, failed_payment(server, fake_stripe, ws_id)) == "applied"
    fake_stripe.subscribe("sub_1", plan="pro", status="canceled", workspace_id=ws_id)
    gone = event("evt_deleted", "customer.subscription.deleted", dict(fake_stripe.subscriptions["sub_1"]))
    assert post_stripe(server, gone) == "applied"
    [row] = wait_for(lambda: settled(server.app, "downgraded"), 30, "the downgrade notice sent")
    [told] = posts(fake_slack, "on the Free plan now", GEN)
    assert "was cancelled after the failed payment" in told["text"]
    assert f"https://onno.test/billing/{ws_id}/upgrade?sig=" in told["text"] and "plan=pro" in told["text"]
    assert row.status == "delivered"
    assert sweep_once(server.app)["notices"] == 0  # the account is no longer overdue: nothing more to tell


# -- sending ----------------------------------------------------------------------------------------------------------


def test_slack_429_then_ok_delivers_once(database_url, slack_server, fake_slack):  # noqa: F811
    server = slack_server(database_url=database_url, delivery_backoff=0.05)
    ws_id = team_ws(server.app)
    command(server, fake_slack, "settings notices here", GEN)
    fake_slack.fail_next("chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"},
                         when=lambda args: "Slow down" in (args.get("text") or ""))
    key = tell(server.app, ws_id, "Slow down, then say it once.")
    [row] = notice_rows(server.app)
    assert row.key == key and row.status == "pending" and row.attempts == 1 and "rate limited" in row.last_error
    assert aware(row.next_attempt_at) - aware(row.created_at) >= dt.timedelta(seconds=0.9)  # Slack's Retry-After
    assert stored(fake_slack, "Slow down") == []

    def swept():
        sweep_once(server.app)
        return settled(server.app, "test")

    [row] = wait_for(swept, 30, "the retry from the sweeper")
    assert row.status == "delivered" and row.attempts == 2 and row.last_error is None
    assert len(posts(fake_slack, "Slow down")) == 2  # the 429, then the one that went through
    assert len(stored(fake_slack, "Slow down")) == 1
    sweep_once(server.app)
    assert len(stored(fake_slack, "Slow down")) == 1


def test_senders_racing_for_one_notice_post_it_once(database_url, slack_server, fake_slack):  # noqa: F811
    server = slack_server(database_url=database_url)
    ws_id = team_ws(server.app)
    command(server, fake_slack, "settings notices here", GEN)
    with server.app.session() as s:  # written, not yet sent: the inline sender and sweepers of workers meet here
        notices.create(s, ws_id, key="race-1", kind="test", text="Only once, please.")
        notice_id = notices_repo.notice_by_key(s, "race-1").id
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def sender():
        barrier.wait()
        outcomes.append(notices.send(server.app, notice_id))

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["delivered", "skipped", "skipped", "skipped"]
    assert len(posts(fake_slack, "Only once, please.")) == 1
    assert notices.send(server.app, notice_id) == "skipped"  # delivered: never sent again
    assert len(posts(fake_slack, "Only once, please.")) == 1


def test_the_notices_channel_setting_is_respected(database_url, slack_server, fake_slack, caplog):  # noqa: F811
    server = slack_server(database_url=database_url)
    ws_id = team_ws(server.app)
    share(server, fake_slack, "F0SETTING1", "1763900000.000300")  # GEN: the channel with the latest recording
    wait_for(lambda: thread_results(fake_slack), 90, "the meeting's result")
    server.drain()
    tell(server.app, ws_id, "First notice.")
    assert [p["channel"] for p in posts(fake_slack, "First notice.")] == [GEN]

    assert "team notices: this channel" in command(server, fake_slack, "settings notices here", DEV)
    assert f"team notices: <#{DEV}>" in command(server, fake_slack, "settings", GEN)
    tell(server.app, ws_id, "Second notice.")
    assert [p["channel"] for p in posts(fake_slack, "Second notice.")] == [DEV]

    assert "team notices: off" in command(server, fake_slack, "settings notices off", DEV)
    with caplog.at_level(logging.ERROR, logger="onno.notices"):
        tell(server.app, ws_id, "Third notice.")
    assert posts(fake_slack, "Third notice.") == []
    assert any("Third notice." in r.getMessage() for r in caplog.records)

    assert "latest recording" in command(server, fake_slack, "settings notices auto", DEV)
    tell(server.app, ws_id, "Fourth notice.")
    assert [p["channel"] for p in posts(fake_slack, "Fourth notice.")] == [GEN]
    assert "Usage: `/onno settings notices here`" in command(server, fake_slack, "settings notices loud", DEV)
    assert [r.status for r in notice_rows(server.app)] == ["delivered"] * 4
    assert not fake_slack.problems


def test_no_channel_anywhere_is_logged_once_and_not_retried(tmp_path, database_url, caplog):
    app = App(Settings(data_dir=tmp_path / "data", database_url=database_url, secret_key="test-secret-key-0123456789"))
    try:
        with app.session() as s:
            ws_id = repo.get_or_create_workspace(s).id  # the CLI's workspace: no chat channel at all
        with caplog.at_level(logging.ERROR, logger="onno.notices"):
            key = tell(app, ws_id, "Nobody to tell.")
            assert tell(app, ws_id, "Nobody to tell, again.", key=key) is None  # the same key: a no-op
        [row] = notice_rows(app)
        assert row.status == "delivered" and list(row.destinations) == ["log"] and row.attempts == 1
        logged = [r for r in caplog.records if "Nobody to tell" in r.getMessage()]
        assert len(logged) == 1 and logged[0].levelno == logging.ERROR
        assert sweep_once(app)["notices"] == 0
        assert notice_rows(app)[0].attempts == 1
    finally:
        app.engine.dispose()


def test_a_channel_slack_refuses_fails_the_notice_without_retrying(slack_server, fake_slack, caplog):  # noqa: F811
    server = slack_server()
    ws_id = team_ws(server.app)
    command(server, fake_slack, "settings notices here", "C0000GONE")  # a channel the bot is not in any more
    with caplog.at_level(logging.ERROR, logger="onno.notices"):
        tell(server.app, ws_id, "Into the void.")
    [row] = notice_rows(server.app)
    assert row.status == "failed" and "channel_not_found" in row.last_error
    assert any("Into the void." in r.getMessage() for r in caplog.records)  # the text is not lost: it is logged
    assert sweep_once(server.app)["notices"] == 0
    assert len(posts(fake_slack, "Into the void.")) == 1


# -- Discord ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def discord():
    fake = discord_fake.FakeDiscord()
    yield fake
    fake.close()


def test_a_discord_server_is_told_in_its_latest_live_meetings_channel(tmp_path, database_url, discord):
    app = App(Settings(data_dir=tmp_path / "data", database_url=database_url, secret_key="test-secret-key-0123456789",
                       discord_token=discord_fake.TOKEN, discord_api_url=discord.api_url, delivery_backoff=0.05))
    try:
        with app.session() as s:
            ws = discord_repo.guild_workspace(s, discord_fake.GUILD_ID)
            s.add(discord_repo.DiscordLiveMeeting(workspace_id=ws.id, guild_id=str(discord_fake.GUILD_ID),
                                                  voice_channel_id=str(discord_fake.VOICE_ID),
                                                  text_channel_id=str(discord_fake.TEXT_ID), title="Standup",
                                                  folder="live/1", status="submitted"))
            ws_id = ws.id
        discord.fail_next("POST", r"/channels/\d+/messages$", 503, {"message": "upstream", "code": 0})
        tell(app, ws_id, "Said on Discord.")
        [row] = notice_rows(app)
        assert row.status == "pending" and "503" in row.last_error

        def swept():
            sweep_once(app)
            return settled(app, "test")

        [row] = wait_for(swept, 30, "the retry")
        [msg] = [m for m in discord.in_channel(discord_fake.TEXT_ID) if "Said on Discord." in m["content"]]
        assert msg["allowed_mentions"] == {"parse": []}
        assert row.status == "delivered" and list(row.destinations) == [f"discord:{discord_fake.TEXT_ID}"]
        assert not discord.problems
    finally:
        app.engine.dispose()


def test_creating_a_notice_twice_in_one_transaction_keeps_one(tmp_path, database_url):
    app = App(Settings(data_dir=tmp_path / "data", database_url=database_url, secret_key="test-secret-key-0123456789"))
    try:
        with app.session() as s:
            ws_id = repo.get_or_create_workspace(s).id
            assert notices_repo.create_notice(s, ws_id, key="k-1", kind="test", text="one")
            assert not notices_repo.create_notice(s, ws_id, key="k-1", kind="test", text="two")
            s.flush()  # the transaction is still usable after the ignored insert (PostgreSQL too)
            assert notices_repo.notice_by_key(s, "k-1").text == "one"
        assert len(notice_rows(app)) == 1
    finally:
        app.engine.dispose()
