"""Signed requests to the real handler: signatures, stale timestamps, commands, unknown input, plan, settings."""

from __future__ import annotations

import json
import time

from tests.bots.conftest import T1, sign
from tests.jobs.conftest import wait_for


def test_url_verification_and_good_signature(slack_server):
    server = slack_server()
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "legacy"}).encode()
    r = server.post("/slack/events", body, "application/json")
    assert r.status_code == 200 and r.json()["challenge"] == "abc123"


def test_bad_signature_and_stale_timestamp_are_rejected(slack_server, fake_slack):
    server = slack_server()
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "legacy"}).encode()
    assert server.post("/slack/events", body, "application/json", secret="not-the-secret").status_code == 401
    stale = int(time.time()) - 6 * 60  # Slack's replay window is five minutes
    assert server.post("/slack/events", body, "application/json", timestamp=stale).status_code == 401
    unsigned = server.http.post("/slack/events", content=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    # A signed body that was altered afterwards fails too.
    headers = {"Content-Type": "application/json", **sign(body)}
    assert server.http.post("/slack/events", content=body + b" ", headers=headers).status_code == 401
    r = server.command(T1, "help", secret="wrong")
    assert r.status_code == 401
    assert fake_slack.responses == []


def test_help_and_unknown_input_answer_privately_at_once(slack_server):
    server = slack_server()
    r = server.command(T1, "help")
    assert r.status_code == 200
    assert r.json()["response_type"] == "ephemeral" and "/onno ask QUESTION" in r.json()["text"]
    r = server.command(T1, "frobnicate the widgets")
    assert r.status_code == 200
    text = r.json()["text"]
    assert "I don't know `frobnicate`" in text and "/onno process" in text
    assert r.json()["response_type"] == "ephemeral"
    empty = server.command(T1, "")
    assert "/onno status" in empty.json()["text"]


def test_plan_says_billing_is_off(slack_server, fake_slack):
    server = slack_server()
    assert server.command(T1, "plan").status_code == 200
    wait_for(lambda: fake_slack.responses, 10, "the plan answer")
    answer = fake_slack.responses[-1]["body"]
    assert answer["response_type"] == "ephemeral" and "Billing is off here: no limits apply" in answer["text"]


def test_settings_meeting_type_per_channel(slack_server, fake_slack):
    server = slack_server()
    assert server.command(T1, "settings type standup").status_code == 200
    wait_for(lambda: fake_slack.responses, 10, "the settings answer")
    answer = fake_slack.responses[-1]["body"]
    assert answer["response_type"] == "ephemeral" and "`standup`" in answer["text"]
    server.command(T1, "settings type nonsense")
    wait_for(lambda: len(fake_slack.responses) == 2, 10, "the second answer")
    assert "one of: general, standup" in fake_slack.responses[-1]["body"]["text"]
    server.command(T1, "settings", channel="C0000DEV1")
    wait_for(lambda: len(fake_slack.responses) == 3, 10, "the third answer")
    assert "`general`" in fake_slack.responses[-1]["body"]["text"]  # another channel keeps the default


def test_status_meetings_tickets_and_ask_with_nothing_yet(slack_server, fake_slack):
    server = slack_server()
    for text in ("status", "meetings", "tickets", "ask who owns the pricing page"):
        assert server.command(T1, text).status_code == 200
    wait_for(lambda: len(fake_slack.responses) == 4, 10, "four answers")
    texts = " ".join(r["body"]["text"] for r in fake_slack.responses)
    assert "No recordings from this channel yet" in texts and "No meetings yet" in texts
    assert "No board yet" in texts and "Nothing in this workspace's meetings matches" in texts
    assert not fake_slack.problems


def test_plain_messages_are_acknowledged_and_ignored(slack_server, fake_slack):
    server = slack_server()
    r = server.event(T1, {"type": "message", "user": "U_MAYA", "text": "hi", "channel": "C0000GEN1",
                          "ts": "1700000000.000100", "channel_type": "channel"})
    assert r.status_code == 200
    server.drain()
    assert fake_slack.calls_to("chat.postMessage") == []


def test_workspace_wide_changes_are_for_admins_and_channel_settings_for_everyone(slack_server, fake_slack):
    """Daniel (a member) may set his channel up, not the workspace's boards, defaults, notices or digests."""
    from tests.bots.test_slack_people import say

    server = slack_server()
    refusal = "Only workspace admins and owners can change that"
    for text in ("notion disconnect default", "notion connect ntn_x", "settings review on workspace",
                 "settings notices here", "settings digest here"):
        assert refusal in say(server, fake_slack, text, user="U_DANIEL"), text
    assert "meeting type: `standup`" in say(server, fake_slack, "settings type standup", user="U_DANIEL")
    assert refusal not in say(server, fake_slack, "settings review on", user="U_DANIEL")
    shown = say(server, fake_slack, "notion", user="U_DANIEL")
    assert "A workspace admin or owner connects Notion boards" in shown
    # Maya is an admin: the same requests go through to their own answers.
    assert refusal not in say(server, fake_slack, "settings notices here")
    assert refusal not in say(server, fake_slack, "notion disconnect default")
    assert not fake_slack.problems
