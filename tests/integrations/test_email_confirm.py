"""Double opt-in for typed addresses, end to end: `/onno email` from chat mails a confirmation link to a real SMTP
server (aiosmtpd); until its inbox's owner follows it (GET page, POST button on `onno web`), no summary goes there."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter

from bots.discord import people as discord_people
from integrations.email import confirm
from storage import discord as discord_repo
from storage import mail
from tests.integrations import test_email
from tests.integrations.test_email import INFO, SECRET, Page, web
from tests.jobs.conftest import wait_for

MAYA, DANIEL = "maya@example.com", "daniel@example.com"
CHANNEL = 4242
app, meeting = test_email.app, test_email.meeting  # the fixtures (the SMTP server is tests/conftest.py's mailbox)


def guild(app) -> int:
    with app.session() as s:
        return discord_repo.guild_workspace(s, "G0CONFIRM", "Checkout team").id


def ask(app, ws_id: int, address: str, uid: int = 1, nick: str = "Maya") -> str:
    """`/onno email address:ADDRESS` from Discord member `uid`: the private answer."""
    return discord_people.email(app, ws_id, uid, nick, CHANNEL, address, None, False)


def row(app, ws_id: int, address: str) -> tuple[bool, bool] | None:
    """(confirmed, opted out) of the address on file, None when it isn't."""
    with app.session() as s:
        p = mail.person_by_email(s, ws_id, address)
        return None if p is None else (p.confirmed_at is not None, p.opted_out)


def link(received) -> str:
    """The confirmation link's path, the same in both parts."""
    text, html = received.part("plain"), received.part("html")
    [url] = re.findall(r"https://onno\.test/confirm/\S+", text)
    assert url in Page(html).hrefs
    return url.removeprefix("https://onno.test")


def summaries(app, mailbox, ws_id: int, meeting) -> Counter:
    """A meeting with Maya, Daniel and Lena mailed to its participants: who got a summary, so far."""
    app.runner.submit(meeting, INFO, targets=["email:participants"], workspace=ws_id)
    return Counter(r for m in mailbox.received if "X-Onno-Delivery" in m.message for r in m.rcpt_to)


def test_a_typed_address_gets_nothing_but_the_confirmation_until_its_owner_confirms(app, mailbox, meeting):
    ws_id = guild(app)
    answer = ask(app, ws_id, "Maya@Example.com")
    assert "once you confirm the address" in answer and "Check your inbox" in answer
    [mailed] = wait_for(lambda: mailbox.to(MAYA), 15, "the confirmation mail")
    msg = mailed.message
    assert msg.get_content_type() == "multipart/alternative" and "Confirm your address" in msg["Subject"]
    assert msg["To"].addresses[0].addr_spec == MAYA and msg["Auto-Submitted"] == "auto-generated"
    assert "Checkout team" in mailed.part("plain") and "as Maya" in mailed.part("plain")
    path = link(mailed)
    assert row(app, ws_id, MAYA) == (False, False)

    # Asking again within 10 minutes mails nothing new.
    assert "less than 10 minutes ago" in ask(app, ws_id, MAYA)
    assert "waiting for you to confirm" in discord_people.email(app, ws_id, 1, "Maya", CHANNEL, None, None, False)
    time.sleep(0.3)
    assert len(mailbox.to(MAYA)) == 1

    assert summaries(app, mailbox, ws_id, meeting) == {}  # not confirmed: not mailed

    # A link scanner's GET changes nothing; the page's button POSTs.
    [(status, page)] = web(app, ("GET", path))
    assert status == 200 and MAYA in page and '<form method="post"' in page and "<button" in page
    assert row(app, ws_id, MAYA) == (False, False)
    [(status, page), (again, _)] = web(app, ("POST", path), ("POST", path))
    assert (status, again) == (200, 200) and "Address confirmed" in page
    assert row(app, ws_id, MAYA) == (True, False)

    assert summaries(app, mailbox, ws_id, meeting) == {MAYA: 1}
    assert "Check your inbox" not in ask(app, ws_id, MAYA)  # confirmed: a rename needs no new link
    assert len(mailbox.to(MAYA)) == 2


def test_expired_forged_and_stale_links_say_so_and_confirm_nothing(app, mailbox):
    ws_id = guild(app)
    ask(app, ws_id, MAYA)
    path = link(wait_for(lambda: mailbox.to(MAYA), 15, "the confirmation mail")[0])
    token = path.rsplit("/", 1)[1]
    payload, sig = token.split(".")
    old = dt.datetime.now(dt.UTC) - confirm.VALID - dt.timedelta(minutes=1)
    expired = confirm.make_token(SECRET, ws_id, MAYA, old)
    from integrations.email.unsubscribe import make_token as unsubscribe_token
    forged = [confirm.make_token("another-key", ws_id, MAYA, dt.datetime.now(dt.UTC)), "garbage", f"{payload}.",
              f"{payload}.{sig[:-1]}{'A' if sig[-1] != 'A' else 'B'}",
              unsubscribe_token(SECRET, ws_id, MAYA)]  # another purpose's signature
    answers = web(app, *[(m, f"/confirm/{t}") for t in [expired, *forged] for m in ("GET", "POST")])
    assert [s for s, _ in answers] == [410, 410] + [404] * (len(answers) - 2)
    assert all("more than 7 days old" in p for _, p in answers[:2])
    assert all("not valid" in p for _, p in answers[2:])
    assert row(app, ws_id, MAYA) == (False, False)

    # Taken off file before the link was followed: nothing to confirm.
    assert "no longer e-mails maya@example.com" in discord_people.email(app, ws_id, 1, "Maya", CHANNEL, None, None,
                                                                        True)
    [(status, page)] = web(app, ("POST", path))
    assert status == 410 and "Nothing to confirm" in page and row(app, ws_id, MAYA) is None


def test_an_address_that_unsubscribed_comes_back_when_its_owner_confirms(app, mailbox, meeting):
    ws_id = guild(app)
    with app.session() as s:  # Daniel was on file and mailed, then unsubscribed with the link
        mail.add_person(s, discord_repo.guild_workspace(s, "G0CONFIRM"), "Daniel", DANIEL)
    assert summaries(app, mailbox, ws_id, meeting) == {DANIEL: 1}
    [summary] = mailbox.to(DANIEL)
    unsubscribe = str(summary.message["List-Unsubscribe"]).strip("<>").removeprefix("https://onno.test")
    [(status, _)] = web(app, ("POST", unsubscribe))
    assert status == 200 and row(app, ws_id, DANIEL) == (True, True)

    answer = ask(app, ws_id, DANIEL, uid=2, nick="Daniel")
    assert "Check your inbox" in answer and "confirming is how it gets e-mail again" in answer
    mailed = wait_for(lambda: [m for m in mailbox.to(DANIEL) if "/confirm/" in m.part("plain")], 15, "the mail")
    assert "had unsubscribed" in mailed[0].part("plain")
    assert row(app, ws_id, DANIEL) == (False, True)
    assert summaries(app, mailbox, ws_id, meeting) == {DANIEL: 1}  # still unsubscribed until confirmed

    path = link(mailed[0])
    [(_, page)] = web(app, ("GET", path))
    assert row(app, ws_id, DANIEL) == (False, True)
    [(status, page)] = web(app, ("POST", path))
    assert status == 200 and "Address confirmed" in page and row(app, ws_id, DANIEL) == (True, False)
    assert summaries(app, mailbox, ws_id, meeting) == {DANIEL: 2}

    # Unsubscribed again: the old confirmation link (sent before) can't bring it back.
    web(app, ("POST", unsubscribe))
    assert [s for s, _ in web(app, ("GET", path), ("POST", path))] == [410, 410]
    assert row(app, ws_id, DANIEL) == (True, True)


def test_trusted_rows_are_confirmed_at_once_and_no_smtp_sends_nothing(app, mailbox, meeting):
    ws_id = guild(app)
    with app.session() as s:
        ws = discord_repo.guild_workspace(s, "G0CONFIRM")
        # A Slack profile's address (`/onno email me`) and the CLI's: trusted, no confirmation mail.
        assert mail.put_on_file(s, ws, chat_user="U1", name="Maya", email=MAYA, verified=True).kind == "added"
        mail.add_person(s, ws, "Daniel", DANIEL)
    assert row(app, ws_id, MAYA) == (True, False) and row(app, ws_id, DANIEL) == (True, False)
    assert summaries(app, mailbox, ws_id, meeting) == {MAYA: 1, DANIEL: 1}

    app.settings.smtp_url = ""
    answer = ask(app, ws_id, "lena@example.com", uid=3, nick="Lena")
    assert "e-mail isn't set up" in answer and "Check your inbox" not in answer
    assert row(app, ws_id, "lena@example.com") == (False, False)
    time.sleep(0.3)
    assert not mailbox.to("lena@example.com")


def test_the_weekly_digest_skips_an_unconfirmed_address(tmp_path, database_url, mailbox):
    from onno.service import App
    from onno.settings import Settings
    from tests.integrations import test_digest

    a = App(Settings(**test_digest.base_settings(tmp_path, database_url, mailbox.url)))
    try:
        ws_id, _ = test_digest.hold_the_week(a, tmp_path)
        test_digest.put_on_file(a, ws_id, ("Maya", MAYA))
        with a.session() as s:  # typed in chat, never confirmed
            out = mail.put_on_file(s, test_digest.repo.workspace_by_id(s, ws_id), chat_user="7",
                                   name="Daniel", email=DANIEL, verified=False)
            assert out.kind == "pending"
        result = test_digest.run_cli(tmp_path, database_url, mailbox.url, "digest", "send")
        assert result.exit_code == 0, result.output
        assert Counter(r for m in mailbox.received for r in m.rcpt_to) == {MAYA: 1}
    finally:
        a.engine.dispose()
