"""Review first in Slack: the thread reply says what waits; Edit (a modal), Drop and Restore change what goes out,
"not an action item" drops too, and "Approve & send" sends, once; after that nothing changes."""

from __future__ import annotations

import json

from storage import mail as people
from storage import slack as slack_repo
from storage.models import Delivery
from tests.bots.conftest import T1
from tests.bots.test_slack_files import CHANNEL, VTT, share, thread_replies
from tests.jobs.conftest import wait_for

MAYA = "maya@example.com"


def click(server, msg: dict, action_id: str, value: str, user: str = "U_MAYA", *, home: str = T1,
          trigger: str = "1.2.3"):
    return server.action(T1, {"user": {"id": user, "team_id": home}, "trigger_id": trigger,
                              "container": {"type": "message", "message_ts": msg["ts"], "channel_id": CHANNEL},
                              "channel": {"id": CHANNEL}, "message": msg,
                              "actions": [{"action_id": action_id, "value": value, "type": "button"}]})


def held_meeting(server, fake_slack, mailbox) -> dict:
    """E-mail and review on in the channel, a recording shared: the thread reply, with the e-mail held."""
    with server.app.session() as s:
        people.add_person(s, slack_repo.team_workspace(s, T1), "Maya", MAYA)
    for n, text in enumerate(("settings email on", "settings review on"), 1):
        server.command(T1, text)  # one after the other: both would create the channel's settings row
        wait_for(lambda n=n: len(fake_slack.responses) >= n, 10, "the settings answer")
    share(server, fake_slack, "F0VTTREV01", "checkout-standup.vtt", VTT.encode(), mimetype="text/vtt",
          filetype="vtt")
    wait_for(lambda: thread_replies(fake_slack), 60, "the results in the thread")
    server.drain()
    assert mailbox.received == []
    ts = next(ts for (_c, ts), m in fake_slack.messages.items() if m["blocks"])
    return fake_slack.messages[(CHANNEL, ts)]


def item_ids(msg: dict) -> list[int]:
    return [int(b["block_id"].removeprefix("item-")) for b in msg["blocks"] if b.get("block_id", "").startswith("item-")]


def item_section(msg: dict, fid: int) -> str:
    """The text of the section drawn for action item `fid` (the block before its buttons)."""
    blocks = msg["blocks"]
    i = next(i for i, b in enumerate(blocks) if b.get("block_id") == f"item-{fid}")
    return blocks[i - 1]["text"]["text"]


def buttons(msg: dict, fid: int) -> list[str]:
    block = next((b for b in msg["blocks"] if b.get("block_id") == f"item-{fid}"), None)
    return [e["action_id"] for e in block["elements"]] if block else []


def updates(fake_slack) -> int:
    return len([c for c in fake_slack.calls_to("chat.update") if c["args"].get("blocks")])


def plain_mail(mail) -> str:
    return " ".join(mail.part("plain").split())


def test_review_first_holds_email_until_approve_and_send(slack_server, fake_slack, mailbox):
    server = slack_server(smtp_url=mailbox.url, mail_from="Onno <onno@onno.test>")
    with server.app.session() as s:
        people.add_person(s, slack_repo.team_workspace(s, T1), "Maya", MAYA)
    for n, text in enumerate(("settings email on", "settings review on"), 1):
        server.command(T1, text)  # one after the other: both would create the channel's settings row
        wait_for(lambda n=n: len(fake_slack.responses) >= n, 10, "the settings answer")
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
    # The summary paragraph is said again from what goes out: the dropped item is not named there either.
    assert "payment step" in dropped_text and "payment step" not in plain_mail(mail)
    assert "payment step" not in mail.part("html")
    updated = [c for c in fake_slack.calls_to("chat.update") if c["args"].get("blocks")][-1]["args"]["blocks"]
    assert "Approved by <@U_MAYA>: sent to E-mail" in json.dumps(updated)
    assert not any(b.get("block_id") == f"review-{meeting_id}" for b in updated)

    n = len(fake_slack.responses)
    click(server, msg, "onno_review_approve", meeting_id)  # a second press sends nothing more
    wait_for(lambda: len(fake_slack.responses) > n, 10, "the answer")
    assert "Already approved" in fake_slack.responses[-1]["body"]["text"]
    assert len(mailbox.received) == 1


def test_edit_drop_and_restore_from_the_thread_then_nothing_after_approval(slack_server, fake_slack, mailbox):
    server = slack_server(smtp_url=mailbox.url, mail_from="Onno <onno@onno.test>")
    msg = held_meeting(server, fake_slack, mailbox)
    design, tests = None, None
    for fid in item_ids(msg):
        assert buttons(msg, fid) == ["onno_item_done", "onno_item_edit", "onno_item_drop"]
        text = item_section(msg, fid)
        design = fid if "error page" in text else design
        tests = fid if "payment step" in text else tests
    assert design and tests, msg["blocks"]
    meeting_id = next(b for b in msg["blocks"] if b.get("block_id", "").startswith("review-"))["block_id"][7:]

    # Edit: a modal with the item as it stands, opened with the click's trigger.
    click(server, msg, "onno_item_edit", str(design), trigger=fake_slack.issue_trigger())
    wait_for(lambda: fake_slack.calls_to("views.open"), 10, "the edit modal")
    assert not fake_slack.problems, fake_slack.problems
    [view] = fake_slack.views.values()
    assert view["title"]["text"].startswith("Edit action item") and view["callback_id"] == "onno_item_edit"
    fields = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert "error page" in fields["text"]["initial_value"] and fields["owner"]["initial_value"] == "Lena"
    assert fields["due"]["type"] == "datepicker" and fields["due"]["initial_date"][:4] == "2026"

    # Empty text: the modal stays open and says what to fix under the field; nothing is saved.
    bad = server.action(T1, fake_slack.submission(view["id"], {"text": "   "}, user="U_MAYA", team=T1))
    assert bad.status_code == 200 and bad.json()["response_action"] == "errors"
    assert "can't be empty" in bad.json()["errors"]["text"]
    server.drain()
    assert updates(fake_slack) == 0

    ok = server.action(T1, fake_slack.submission(view["id"], {"text": "Send Maya the error page mock-ups",
                                                               "owner": "Daniel", "due": "2026-12-01"},
                                                  user="U_MAYA", team=T1))
    assert ok.status_code == 200 and not ok.content.strip(), ok.text  # an empty 200 closes the modal
    wait_for(lambda: updates(fake_slack) >= 1, 10, "the edited item in the thread")
    server.drain()
    msg = fake_slack.messages[(CHANNEL, msg["ts"])]
    line = item_section(msg, design)
    assert "Send Maya the error page mock-ups" in line and "<@U_DANIEL>" in line and "2026-12-01" in line
    assert "_(edited)_" in line

    # Drop is undoable: Restore brings it back, a second Drop takes it out again.
    click(server, msg, "onno_item_drop", str(tests))
    wait_for(lambda: updates(fake_slack) >= 2, 10, "the drop")
    server.drain()
    msg = fake_slack.messages[(CHANNEL, msg["ts"])]
    assert "_dropped_" in item_section(msg, tests) and buttons(msg, tests) == ["onno_item_restore"]
    click(server, msg, "onno_item_restore", str(tests))
    wait_for(lambda: updates(fake_slack) >= 3, 10, "the restore")
    server.drain()
    msg = fake_slack.messages[(CHANNEL, msg["ts"])]
    assert item_section(msg, tests).startswith("☐ ") and "onno_item_drop" in buttons(msg, tests)
    click(server, msg, "onno_item_drop", str(tests))
    wait_for(lambda: updates(fake_slack) >= 4, 10, "the second drop")
    server.drain()
    msg = fake_slack.messages[(CHANNEL, msg["ts"])]

    # Someone from another organisation (a shared channel) can't review this workspace's meeting.
    n = len(fake_slack.responses)
    click(server, msg, "onno_item_edit", str(design), user="U_OTHER", home="T0000BBBB",
          trigger=fake_slack.issue_trigger())
    wait_for(lambda: len(fake_slack.responses) > n, 10, "the refusal")
    assert "Only members of the workspace" in fake_slack.responses[-1]["body"]["text"]
    assert len(fake_slack.calls_to("views.open")) == 1

    click(server, msg, "onno_review_approve", meeting_id)
    wait_for(lambda: mailbox.to(MAYA), 30, "the e-mail")
    server.drain()
    [mail] = mailbox.to(MAYA)
    text = plain_mail(mail)
    assert "Send Maya the error page mock-ups" in text and "payment step" not in text
    msg = fake_slack.messages[(CHANNEL, msg["ts"])]
    assert buttons(msg, design) == ["onno_item_done"] and buttons(msg, tests) == []  # what was sent is sent

    # After approval: Edit answers privately that it is too late; an edit form left open can't save.
    click(server, msg, "onno_item_edit", str(design), trigger=fake_slack.issue_trigger())
    wait_for(lambda: "what was sent is sent" in fake_slack.responses[-1]["body"]["text"], 10, "the refusal")
    assert fake_slack.responses[-1]["body"]["response_type"] == "ephemeral"
    late = server.action(T1, fake_slack.submission(view["id"], {"text": "Too late"}, user="U_MAYA", team=T1))
    assert "what was sent is sent" in late.json()["errors"]["text"]
    click(server, msg, "onno_item_restore", str(tests))
    wait_for(lambda: fake_slack.responses[-1]["body"]["text"].count("what was sent is sent") and
             len([r for r in fake_slack.responses if "what was sent is sent" in r["body"]["text"]]) >= 2, 10,
             "the second refusal")
    server.drain()
    assert len(mailbox.received) == 1 and not fake_slack.problems, fake_slack.problems
