"""Review first in Discord: the result's last message is a review panel; Drop/Restore, Edit (a modal) and Approve &
send are answered by the real bot from INTERACTION_CREATE payloads the fake builds as Discord does.

The meeting is held the way any is: review first on for the server's workspace and an e-mail delivery beside the
Discord one (a real SMTP server takes it). Jobs run in-process on SQLite; the panel is posted by the delivery over
REST, before or without the bot, so every click shows it works from custom ids alone (as after a restart).
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from integrations.discord.adapter import target as discord_target
from pipeline.types import MeetingInfo
from storage import discord as discord_repo
from storage import review as review_repo
from tests.bots import discord_fake as F
from tests.bots.test_discord_bot import Harness, until
from tests.bots.test_slack_files import VTT

READER = "ana@example.com"
ADMIN = str(int(F.MEMBER_PERMISSIONS) | F.MANAGE_MESSAGES)
MORE = """
00:00:26.000 --> 00:00:30.000
<v Maya>I will book the launch retro for next Monday.

00:00:31.000 --> 00:00:35.000
<v Daniel>I'll update the status page before the launch on Thursday.

00:00:36.000 --> 00:00:40.000
<v Lena>I will ask the platform team for the logging access today.

00:00:41.000 --> 00:00:45.000
<v Maya>Daniel, can you send the pricing draft to legal by Friday?

00:00:45.500 --> 00:00:48.000
<v Daniel>Yes, I'll send the pricing draft to legal by Friday.
"""




def held_meeting(h: Harness, tmp_path, transcript: str) -> tuple[str, int]:
    """Review first on in the server; a meeting delivered to #standup and (held) by e-mail: (job id, meeting id)."""
    with h.app.session() as s:
        ws = discord_repo.guild_workspace(s, F.GUILD_ID, "Checkout team")
        review_repo.set_review_first(s, ws, True)
        ws_id = ws.id
    path = tmp_path / "standup.vtt"
    path.write_text(transcript)
    info = MeetingInfo(title="Checkout standup", type="standup", date=dt.date(2026, 11, 16), participants=[])
    job_id = h.app.runner.submit(path, info, workspace=ws_id,
                                 targets=[discord_target(F.TEXT_ID), f"email:{READER}"])
    with h.app.session() as s:
        from storage import jobs as jobs_repo

        job = jobs_repo.get_job(s, job_id)
        assert {d.target.partition(":")[0]: d.status for d in job.deliveries} == {"discord": "delivered",
                                                                                  "email": "held"}
        return job_id, job.meeting_id


def panel(fake: F.FakeDiscord) -> dict:
    [msg] = [m for m in fake.in_channel(F.TEXT_ID) if m["content"].startswith("**Action items**")]
    return msg


def custom_ids(msg: dict) -> list[list[str]]:
    return [[c["custom_id"] for c in row["components"]] for row in msg["components"]]


async def interact(h: Harness, payload: dict, what: str) -> dict:
    """Hand the bot an interaction as the gateway would; the callback it answered with."""
    h.gateway("INTERACTION_CREATE", payload)
    await until(lambda: h.fake.responses(payload["id"]), 20, what)
    return h.fake.responses(payload["id"])[0]


def private_text(fake: F.FakeDiscord, answer: dict) -> str:
    assert answer["type"] == 4 and answer["data"]["flags"] & F.EPHEMERAL, answer
    return answer["data"]["content"]


def test_drop_restore_edit_and_approve_from_the_panel(tmp_path, fake, mailbox):
    h = Harness(tmp_path, fake, smtp_url=mailbox.url, mail_from="Onno <onno@onno.test>")

    async def main():
        _job_id, meeting_id = held_meeting(h, tmp_path, VTT)
        assert mailbox.received == []
        msg = panel(fake)
        assert "E-mail waits for your review" in msg["content"]
        rows = custom_ids(msg)
        assert rows[-1] == [f"onno:review:approve:{meeting_id}"]
        assert 2 <= len(rows) - 1 <= 4 and all(len(r) == 2 for r in rows[:-1])  # a row per item: Edit, Drop
        body = "\n".join(m["content"] for m in fake.in_channel(F.TEXT_ID) if m["id"] != msg["id"])
        assert "**Action items**" not in body  # the panel lists them, once
        lines = msg["content"].splitlines()[2:]
        n_tests = next(i for i, line in enumerate(lines) if "payment step" in line)
        n_design = next(i for i, line in enumerate(lines) if "error page" in line)
        tests = rows[n_tests][1].rsplit(":", 1)[1]
        design_edit = rows[n_design][0]

        await h.start(sync_commands=False)  # the bot comes up after the panel was posted
        answer = await interact(h, fake.click(msg["id"], f"onno:review:drop:{tests}", uid=F.LENA), "the drop")
        assert answer["type"] == 7
        msg = fake.message(msg["id"])
        assert "~~" in msg["content"].splitlines()[2 + n_tests] and "*dropped*" in msg["content"]
        assert custom_ids(msg)[n_tests][1] == f"onno:review:restore:{tests}"
        await interact(h, fake.click(msg["id"], f"onno:review:restore:{tests}", uid=F.LENA), "the restore")
        assert "*dropped*" not in fake.message(msg["id"])["content"]
        await interact(h, fake.click(msg["id"], f"onno:review:drop:{tests}", uid=F.LENA), "the drop again")

        # Edit: a modal with the item as it stands; a due date that is not one changes nothing and says why.
        opened = fake.click(msg["id"], design_edit, uid=F.LENA)
        answer = await interact(h, opened, "the edit form")
        assert answer["type"] == 9 and answer["data"]["title"].startswith("Edit action item")
        prefilled = {f["custom_id"]: f.get("value") for _k, f in F.modal_fields(answer["data"])}
        assert "error page" in prefilled["text"] and prefilled["owner"] == "Lena"
        bad = await interact(h, fake.submit_modal(opened["id"], {"due": "31/12/2026"}, uid=F.LENA), "the refusal")
        assert "is not a date" in private_text(fake, bad) and "YYYY-MM-DD" in private_text(fake, bad)
        assert "(edited)" not in fake.message(msg["id"])["content"]
        ok = await interact(h, fake.submit_modal(opened["id"], {"text": "Send Maya the error page mock-ups",
                                                                "owner": "Daniel", "due": "2026-12-01"},
                                                 uid=F.LENA), "the edit")
        assert ok["type"] == 7
        line = fake.message(msg["id"])["content"].splitlines()[2 + n_design]
        assert "Send Maya the error page mock-ups — Daniel, due 2026-12-01 *(edited)*" in line

        # Approving needs Manage Messages (or having started the meeting); Lena has neither.
        late_form = fake.click(msg["id"], design_edit, uid=F.MAYA)
        await interact(h, late_form, "a form left open")
        no = await interact(h, fake.click(msg["id"], f"onno:review:approve:{meeting_id}", uid=F.LENA), "refusal")
        assert "Manage Messages" in private_text(fake, no) and mailbox.received == []
        yes = fake.click(msg["id"], f"onno:review:approve:{meeting_id}", uid=F.MAYA, permissions=ADMIN)
        assert (await interact(h, yes, "the approval"))["type"] == 6
        await until(lambda: mailbox.to(READER), 30, "the e-mail")
        await until(lambda: not fake.message(msg["id"])["components"], 10, "the panel to say it was approved")
        msg = fake.message(msg["id"])
        assert msg["content"].splitlines()[1] == f"✅ Approved by <@{F.MAYA}>: sent to E-mail."
        assert msg["components"] == []

        # What was sent is sent: the form left open can't save, and nothing more goes out.
        late = await interact(h, fake.submit_modal(late_form["id"], {"text": "Too late"}, uid=F.MAYA), "late")
        assert "what was sent is sent" in private_text(fake, late)
        return meeting_id

    try:
        asyncio.run(_closing(h, main))
    finally:
        h.app.engine.dispose()
    assert not fake.problems, fake.problems
    [mail] = mailbox.to(READER)
    text = " ".join(mail.part("plain").split())
    assert "Send Maya the error page mock-ups" in text
    assert "payment step" not in text  # the dropped item, in the list and in the summary


def test_many_items_are_picked_from_a_select_and_clicks_survive_a_restart(tmp_path, fake, mailbox):
    h = Harness(tmp_path, fake, smtp_url=mailbox.url, mail_from="Onno <onno@onno.test>")

    async def main():
        job_id, meeting_id = held_meeting(h, tmp_path, VTT + MORE)
        msg = panel(fake)
        n = len(msg["content"].splitlines()) - 2
        assert n > 4
        [[pick], [approve]] = custom_ids(msg)  # a select menu, and Approve & send
        assert pick == f"onno:review:pick:{meeting_id}" and approve == f"onno:review:approve:{meeting_id}"
        options = msg["components"][0]["components"][0]["options"]
        assert len(options) == n and options[0]["label"].startswith("1. ")
        third = options[2]["value"]

        await h.start(sync_commands=False)
        await interact(h, fake.click(msg["id"], pick, uid=F.DANIEL, values=[third]), "the pick")
        msg = fake.message(msg["id"])
        assert custom_ids(msg)[1] == [f"onno:review:edit:{third}", f"onno:review:drop:{third}"]
        assert [o["default"] for o in msg["components"][0]["components"][0]["options"]][2] is True
        await interact(h, fake.click(msg["id"], f"onno:review:drop:{third}", uid=F.DANIEL), "the drop")
        msg = fake.message(msg["id"])
        assert custom_ids(msg)[1] == [f"onno:review:edit:{third}", f"onno:review:restore:{third}"]
        assert "~~" in msg["content"].splitlines()[4]
        opened = fake.click(msg["id"], f"onno:review:edit:{third}", uid=F.DANIEL)
        await interact(h, opened, "the edit form")

        # Outside the server (a DM): refused.
        dm = fake.click(msg["id"], f"onno:review:restore:{third}", uid=F.DANIEL, guild=False)
        assert "server it belongs to" in private_text(fake, await interact(h, dm, "the refusal"))

        # The bot restarts with the edit form still open: its Save is answered by the new process.
        await h.bot.close()
        await h.start(sync_commands=False)
        await interact(h, fake.submit_modal(opened["id"], {"owner": ""}, uid=F.DANIEL), "the edit")
        assert "— unassigned" in fake.message(msg["id"])["content"].splitlines()[4]

        # Daniel started this meeting (it was his /onno join): he may approve without Manage Messages.
        with h.app.session() as s:
            s.add(discord_repo.DiscordLiveMeeting(
                workspace_id=discord_repo.guild_workspace(s, F.GUILD_ID).id, guild_id=str(F.GUILD_ID),
                voice_channel_id=str(F.VOICE_ID), text_channel_id=str(F.TEXT_ID), thread_id=None,
                started_by=str(F.DANIEL), title="Checkout standup", type="standup", folder="x", speakers={},
                status="done", job_id=job_id))
        await interact(h, fake.click(msg["id"], approve, uid=F.DANIEL), "the approval")
        await until(lambda: mailbox.to(READER), 30, "the e-mail")
        await until(lambda: not fake.message(msg["id"])["components"], 10, "the panel to say it was approved")
        return options[2]["label"]

    try:
        dropped = asyncio.run(_closing(h, main))
    finally:
        h.app.engine.dispose()
    assert not fake.problems, fake.problems
    [mail] = mailbox.to(READER)
    assert dropped.split(". ", 1)[1][:30] not in " ".join(mail.part("plain").split())


def test_the_fake_refuses_components_discord_would(fake):
    app_msg = {"content": "x", "components": [{"type": 1, "components": [
        {"type": 2, "style": 1, "label": "x" * 81, "custom_id": "a"}]}]}
    with pytest.raises(F.CallError, match="label"):
        fake._message(F.TEXT_ID, app_msg)
    six = [{"type": 1, "components": [{"type": 2, "style": 1, "label": "b", "custom_id": f"c{i}"}]}
           for i in range(6)]
    with pytest.raises(F.CallError, match="5 or fewer"):
        F.check_components(six)
    with pytest.raises(F.CallError, match="title"):
        F.check_modal({"custom_id": "m", "title": "t" * 46, "components": [
            {"type": 18, "label": "Text", "component": {"type": 4, "custom_id": "text", "style": 1}}]})
    with pytest.raises(F.CallError, match="custom_id"):
        F.check_components([{"type": 1, "components": [{"type": 2, "style": 1, "label": "b",
                                                         "custom_id": "x" * 101}]}])


async def _closing(h: Harness, main):
    try:
        return await main()
    finally:
        if h.bot is not None:
            await h.bot.close()
