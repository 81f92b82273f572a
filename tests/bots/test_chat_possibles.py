"""Possible findings (the engine was unsure) under review first, in Slack and Discord: action items, decisions and
blockers each kept or dropped; what is kept goes out on approval, what is dropped or left does not."""

from __future__ import annotations

import asyncio
import json

from storage import discord as discord_repo
from storage import mail as people
from storage import slack as slack_repo
from storage.models import Finding
from tests.bots import discord_fake as F
from tests.bots import test_discord_bot
from tests.bots.conftest import T1, answer
from tests.bots.test_discord_bot import Harness, until
from tests.bots.test_discord_review import custom_ids, interact
from tests.bots.test_discord_settings import ADMIN, _closing, opt, upload
from tests.bots.test_slack_files import CHANNEL, VTT, share, thread_replies
from tests.bots.test_slack_review import click, item_ids, item_section
from tests.jobs.conftest import wait_for

pytestmark = test_discord_bot.pytestmark
MAYA = "maya@example.com"
KEPT_ITEM, KEPT_DECISION, DROPPED_BLOCKER = ("Send Maya the error page design", "Use the postal code lookup service",
                                             "The checkout page status is unclear")


def kinds(app, ids: list[int]) -> dict[str, int]:
    with app.session() as s:
        return {s.get(Finding, i).kind: i for i in ids}


def sent(mail) -> str:
    return " ".join(mail.part("plain").split())


def test_slack_shows_possibles_and_keeps_or_drops_each_before_approve(slack_server, fake_slack, mailbox, llm):
    server = slack_server(smtp_url=mailbox.url, mail_from="Onno <onno@onno.test>", **llm.settings)
    with server.app.session() as s:
        people.add_person(s, slack_repo.team_workspace(s, T1), "Maya", MAYA)
    answer(server, fake_slack, "settings email on")
    assert "review first: on (this channel" in answer(server, fake_slack, "settings review on")
    share(server, fake_slack, "F0POSSIB01", "standup.vtt", VTT.encode(), mimetype="text/vtt", filetype="vtt")
    wait_for(lambda: thread_replies(fake_slack), 60, "the results in the thread")
    server.drain()
    [ts] = [ts for (_c, ts), m in fake_slack.messages.items() if m["blocks"] and m["thread_ts"]]
    msg = fake_slack.messages[(CHANNEL, ts)]
    assert "*Possible* (3): Onno is not sure; only what you keep is sent" in json.dumps(msg["blocks"])
    found = kinds(server.app, item_ids(msg))
    assert set(found) == {"action_item", "possible_action_item", "possible_decision", "possible_blocker"}
    item, decision, blocker = found["possible_action_item"], found["possible_decision"], found["possible_blocker"]
    assert item_section(msg, decision).startswith(f"❔ Decision: {KEPT_DECISION}")
    assert item_section(msg, blocker).startswith(f"❔ Blocker: {DROPPED_BLOCKER}")

    n = len(fake_slack.responses)
    for action, fid in (("onno_item_restore", item), ("onno_item_restore", decision), ("onno_item_drop", blocker)):
        click(server, msg, action, str(fid))
        server.drain()
    msg = fake_slack.messages[(CHANNEL, ts)]
    assert item_section(msg, item).startswith(f"✓ {KEPT_ITEM}") and "_kept: sent with the rest_" in \
        item_section(msg, item)
    assert item_section(msg, decision).startswith(f"✓ Decision: {KEPT_DECISION}")
    assert item_section(msg, blocker).startswith(f"~Blocker: {DROPPED_BLOCKER}")
    assert fake_slack.responses[n:] == []  # no refusal said to the person who clicked
    assert mailbox.received == []

    meeting_id = next(b for b in msg["blocks"] if b.get("block_id", "").startswith("review-"))["block_id"][7:]
    click(server, msg, "onno_review_approve", meeting_id)
    [mail] = wait_for(lambda: mailbox.to(MAYA), 30, "the e-mail")
    server.drain()
    assert KEPT_ITEM in sent(mail) and KEPT_DECISION in sent(mail) and DROPPED_BLOCKER not in sent(mail)
    assert not fake_slack.problems


def test_discord_panel_keeps_or_drops_possible_decisions_and_blockers(tmp_path, fake, mailbox, llm):
    h = Harness(tmp_path, fake, smtp_url=mailbox.url, mail_from="Onno <onno@onno.test>", **llm.settings)
    with h.app.session() as s:
        people.add_person(s, discord_repo.guild_workspace(s, F.GUILD_ID, "Checkout team"), "Maya", MAYA)

    async def main():
        await h.start(sync_commands=False)
        await h.command("settings", [opt("email", "on"), opt("review", "on")], permissions=ADMIN)
        options, resolved = upload(fake)
        await h.command("process", options, resolved=resolved)
        await until(lambda: not h.bot.tasks, 60, "the job")
        [panel] = [m for m in fake.in_channel(F.TEXT_ID) if m["content"].startswith("**Action items**")]
        lines = panel["content"].splitlines()
        assert lines[2].startswith("1. Write the tests for the payment step — Daniel")
        assert lines[3].startswith(f"2. ❔ {KEPT_ITEM} — Lena") and lines[3].endswith("*possible: not sent unless kept*")
        assert lines[4].startswith(f"3. ❔ Decision: {KEPT_DECISION}")
        assert lines[5].startswith(f"4. ❔ Blocker: {DROPPED_BLOCKER}")
        rows = custom_ids(panel)
        assert [len(r) for r in rows] == [2, 2, 2, 2, 1]  # Edit/Drop, then Keep/Drop for each possible, Approve
        keep_item, keep_decision, drop_blocker = rows[1][0], rows[2][0], rows[3][1]
        assert ":restore:" in keep_item and ":restore:" in keep_decision and ":drop:" in drop_blocker
        for cid in (keep_item, keep_decision, drop_blocker):
            await interact(h, fake.click(panel["id"], cid, uid=F.MAYA), "the change")
        lines = fake.message(panel["id"])["content"].splitlines()
        assert lines[3].startswith(f"2. {KEPT_ITEM} — Lena") and lines[4] == f"3. Decision: {KEPT_DECISION} *kept*"
        assert lines[5] == f"4. ~~Blocker: {DROPPED_BLOCKER}~~ *dropped*"
        rows = custom_ids(fake.message(panel["id"]))
        assert [len(r) for r in rows] == [2, 2, 1, 1, 1]  # a decision or blocker is never edited
        await interact(h, fake.click(panel["id"], rows[-1][0], uid=F.MAYA), "the approval")
        await until(lambda: mailbox.to(MAYA), 30, "the e-mail")

    try:
        asyncio.run(_closing(h, main))
    finally:
        h.app.engine.dispose()
    [mail] = mailbox.to(MAYA)
    assert KEPT_ITEM in sent(mail) and KEPT_DECISION in sent(mail) and DROPPED_BLOCKER not in sent(mail)
    assert not fake.problems, fake.problems
