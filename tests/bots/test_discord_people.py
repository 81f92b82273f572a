"""`/onno email` in Discord through the fake gateway and REST API: members put themselves (and only themselves) on file
with a typed address under their server name, take themselves off, and a recording in a channel with e-mail on is
mailed to them through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import re

from aiohttp.test_utils import TestClient, TestServer

from onno.web import make_web_app
from storage import discord as discord_repo
from storage import mail
from tests.bots import discord_fake as F
from tests.bots import test_discord_bot
from tests.bots.test_discord_bot import Harness, until
from tests.bots.test_discord_settings import CHANNEL_MANAGER, _closing, opt, upload

pytestmark = test_discord_bot.pytestmark

MAYA, DANIEL = "maya@example.com", "daniel@example.com"


def off() -> dict:
    return {"name": "off", "type": 5, "value": True}


def on_file(h: Harness) -> dict[str, tuple]:
    """Address -> (name, chat user, opted out), for the server's workspace."""
    with h.app.session() as s:
        ws = discord_repo.guild_workspace(s, F.GUILD_ID, "Checkout team")
        return {p.email: (p.name, p.chat_user, p.opted_out) for p in mail.list_people(s, ws)}


def run(h: Harness, main) -> None:
    try:
        asyncio.run(_closing(h, main))
    finally:
        h.app.engine.dispose()
    assert not h.fake.problems, h.fake.problems


def test_members_put_only_themselves_on_file(tmp_path, fake):
    h = Harness(tmp_path, fake)

    async def main():
        await h.start(sync_commands=True)
        [onno] = fake.commands
        command = next(o for o in onno["options"] if o["name"] == "email")
        options = {o["name"]: (o["type"], bool(o.get("required"))) for o in command["options"]}
        assert options == {"address": (3, False), "name": (3, False), "off": (5, False)}

        shown = await h.command("email")
        assert "You're not on file" in shown and "`/onno email address:you@example.com`" in shown
        assert "it files you as **Maya**, your name in this server" in shown
        assert f"E-mail summaries are **off** in <#{F.TEXT_ID}>" in shown and "ONNO_SMTP_URL" in shown

        # A typed address waits for its inbox's owner to confirm it; without SMTP no link can be mailed.
        added = await h.command("email", [opt("address", " Maya@Example.com ")])
        assert "You're on file as **Maya** (maya@example.com), once you confirm the address." in added
        assert "e-mail isn't set up, so nothing is mailed" in added
        assert on_file(h) == {MAYA: ("Maya", str(F.MAYA), False)}
        assert "You're on file as **Maya** (maya@example.com), waiting for you to confirm" in \
            await h.command("email")

        # The server nickname is the name meetings show; `name:` overrides it.
        daniel = await h.command("email", [opt("address", DANIEL)], uid=F.DANIEL, nick="Dani")
        assert "You're on file as **Dani** (daniel@example.com)" in daniel
        renamed = await h.command("email", [opt("name", "Daniel  Park")], uid=F.DANIEL, nick="Dani")
        assert "You're on file as **Daniel Park**" in renamed
        assert on_file(h)[DANIEL] == ("Daniel Park", str(F.DANIEL), False)

        # Lena can neither take Maya's address nor take her off; `name:` alone needs an address first.
        taken = await h.command("email", [opt("address", MAYA)], uid=F.LENA)
        assert "maya@example.com is on file for another member of this server" in taken
        assert "nothing to take off" in await h.command("email", [off()], uid=F.LENA)
        assert "Give your address too: `/onno email address:you@example.com name:Lena`" in \
            await h.command("email", [opt("name", "Lena")], uid=F.LENA)
        assert on_file(h) == {MAYA: ("Maya", str(F.MAYA), False), DANIEL: ("Daniel Park", str(F.DANIEL), False)}

        # Nor a row whoever runs Onno put on file (`onno people add`): a typed address proves nothing.
        with h.app.session() as s:
            mail.add_person(s, discord_repo.guild_workspace(s, F.GUILD_ID), "Lena N", "lena@example.com")
        listed = await h.command("email", [opt("address", "lena@example.com")], uid=F.LENA)
        assert "already on file (as **Lena N**), put there by whoever runs Onno" in listed
        assert on_file(h)["lena@example.com"] == ("Lena N", None, False)

        assert "is not an e-mail address" in await h.command("email", [opt("address", "maya@example")])
        assert "`off` takes no other option" in await h.command("email", [off(), opt("address", MAYA)])
        assert "The name is empty" in await h.command("email", [opt("name", "  ")])

        # A new address replaces the old one; off takes it off.
        moved = await h.command("email", [opt("address", "maya@home.example")])
        assert "Taken off file: maya@example.com." in moved
        assert "Onno no longer e-mails maya@home.example" in await h.command("email", [off()])
        assert set(on_file(h)) == {DANIEL, "lena@example.com"}

        # An address that unsubscribed (the mailed link) stays so until its inbox's owner confirms it again.
        with h.app.session() as s:
            mail.opt_out(s, discord_repo.guild_workspace(s, F.GUILD_ID).id, DANIEL)
        shown = await h.command("email", uid=F.DANIEL)
        assert "but that address unsubscribed on" in shown and "mails it a link to confirm" in shown
        again = await h.command("email", [opt("address", DANIEL)], uid=F.DANIEL)
        assert "once you confirm the address" in again and "e-mail isn't set up" in again
        assert on_file(h)[DANIEL] == ("Daniel", str(F.DANIEL), True)  # still unsubscribed: nobody confirmed
        assert "had unsubscribed, and stays unsubscribed" in await h.command("email", [off()], uid=F.DANIEL)
        assert on_file(h)[DANIEL] == ("Daniel", None, True)

    run(h, main)


def test_on_file_from_discord_then_an_upload_is_mailed(tmp_path, fake, mailbox):
    h = Harness(tmp_path, fake, smtp_url=mailbox.url, mail_from="Onno <onno@onno.test>")

    async def main():
        await h.start(sync_commands=False)
        added = await h.command("email", [opt("address", MAYA)])
        assert "You're on file as **Maya**" in added and "Check your inbox" in added
        # Her inbox confirms the typed address: the mailed link's page, then its button.
        await until(lambda: mailbox.to(MAYA), 30, "the confirmation mail")
        [mailed] = mailbox.to(MAYA)
        [url] = re.findall(r"https://onno\.test/confirm/\S+", mailed.part("plain"))
        async with TestClient(TestServer(make_web_app(h.app))) as client:
            path = url.removeprefix("https://onno.test")
            assert "Confirm your address" in await (await client.get(path)).text()
            assert "Address confirmed" in await (await client.post(path)).text()
        ok = await h.command("settings", [opt("email", "on")], permissions=CHANNEL_MANAGER)
        assert "(1 person on file for this server)" in ok and "⚠️" not in ok
        assert f"E-mail summaries are **on** in <#{F.TEXT_ID}>." in await h.command("email")

        options, resolved = upload(fake)
        reply = await h.command("process", options, resolved=resolved, uid=F.LENA)
        assert "Processing **standup.vtt**" in reply
        await until(lambda: len(mailbox.to(MAYA)) == 2, 60, "the summary e-mail")
        await until(lambda: not h.bot.tasks, 60, "the job")

    run(h, main)
    [_, summary] = mailbox.received  # Daniel and Lena speak too, but only Maya is on file
    assert summary.rcpt_to == [MAYA] and "Maya" in str(summary.message["To"]) and "X-Onno-Delivery" in summary.message
