"""Review first in Slack: the thread reply says what waits, "not an action item" drops, "Approve & send" sends."""

from __future__ import annotations

import json

import pytest

from storage import mail as people
from storage import slack as slack_repo
from storage.models import Delivery
from tests.bots.conftest import T1
from tests.bots.test_slack_files import CHANNEL, VTT, share, thread_replies
from tests.integrations.mailbox import Mailbox
from tests.jobs.conftest import wait_for

MAYA = "maya@example.com"


@pytest.fixture
def mailbox():
    box = Mailbox().start()
    yield box
    box.stop()


def click(server, msg: dict, action_id: str, value: str, user: str = "U_MAYA"):
    return server.action(T1, {"user": {"id": user, "team_id": T1},
                              "container": {"type": "message", "message_ts": msg["ts"], "channel_id": CHANNEL},
                              "channel": {"id": CHANNEL}, "message": msg,
                              "actions": [{"action_id": action_id, "value": value, "type": "button"}]})


def test_review_first_holds_email_until_approve_and_send(slack_server, fake_slack, mailbox):
    server = slack_server(smtp_url=mailbox.url, mail_from="Onno <onno@onno.test>")
    with server.app.session() as s:
        people.add_person(s, slack_repo.team_workspace(s, T1), "Maya", MAYA)
    for text in ("settings email on", "settings review on"):
        server.command(T1, text)
    wait_for(lambda: len(fake_slack.responses) >= 2, 10, "the settings answers")
    assert "review first: on (this channel" in fake_slack.responses[-1]["body"]["text"]

    share(server, fake_slack, "F0VTTREV01", "checkout-standup.vtt", VTT.encode(), mimetype="text/vtt",
          filetype="vtt")
    wait_for(lambda: thread_replies(fake_slack), 60, "the results in the thread")
    server.drain()
    with server.app.session() as s:
        assert {d.target: d.status for d in s.query(Delivery)}["email:participants"] == "held"
    assert mailbox.received == []
    msg = fake_slack.messages[(CHANNEL, [ts for (c, ts), m in fake_slack.messages.items() if m["blocks"]][0])]
    text = json.dumps(msg["blocks"])
    assert "E-mail waits for your review" in text and "onno_review_approve" in text
    items = [b for b in msg["blocks"] if b.get("block_id", "").startswith("item-")]
    assert len(items) >= 2
    dropped = int(items[0]["block_id"].removeprefix("item-"))
    with server.app.session() as s:
        dropped_text = s.get(slack_repo.Finding, dropped).text
    meeting_id = next(b for b in msg["blocks"] if b.get("block_id", "").startswith("review-"))["block_id"][7:]

    click(server, msg, "onno_item_not_action", str(dropped))  # counts as a drop
    wait_for(lambda: any(c["args"].get("blocks") for c in fake_slack.calls_to("chat.update")), 10, "the mark")
    server.drain()
    assert mailbox.received == []

    click(server, msg, "onno_review_approve", meeting_id)
    wait_for(lambda: mailbox.to(MAYA), 30, "the e-mail")
    server.drain()
    [mail] = mailbox.to(MAYA)
    listed = mail.part("plain").split("ACTION ITEMS")[1].split("\n\n\n")[0]
    assert f"({len(items) - 1})" in listed.splitlines()[0] and dropped_text not in listed
    updated = [c for c in fake_slack.calls_to("chat.update") if c["args"].get("blocks")][-1]["args"]["blocks"]
    assert "Approved by <@U_MAYA>: sent to E-mail" in json.dumps(updated)
    assert not any(b.get("block_id") == f"review-{meeting_id}" for b in updated)

    n = len(fake_slack.responses)
    click(server, msg, "onno_review_approve", meeting_id)  # a second press sends nothing more
    wait_for(lambda: len(fake_slack.responses) > n, 10, "the answer")
    assert "Already approved" in fake_slack.responses[-1]["body"]["text"]
    assert len(mailbox.received) == 1
