"""`/onno email` in Slack through signed requests: members put themselves (and only themselves) on file with their
Slack profile address (users.info on the fake Web API) or a typed one, take themselves off, and an address that
unsubscribed through the mailed link never comes back without `/onno email me resubscribe`."""

from __future__ import annotations

from storage import mail
from storage import slack as slack_repo
from tests.bots.conftest import T1, TOKEN1
from tests.bots.slack_fake import member
from tests.bots.test_slack_files import CHANNEL, VTT, thread_replies
from tests.jobs.conftest import wait_for

MAYA = "maya@example.com"


def say(server, fake_slack, text: str, user: str = "U_MAYA", team: str = T1) -> str:
    """`/onno TEXT` from `user`; the private answer that came back through the response URL."""
    n = len(fake_slack.responses)
    assert server.command(team, text, user=user).status_code == 200
    wait_for(lambda: len(fake_slack.responses) > n, 15, f"the answer to /onno {text}")
    body = fake_slack.responses[n]["body"]
    assert body["response_type"] == "ephemeral" and body["replace_original"] is False
    return body["text"]


def on_file(server, team: str = T1) -> dict[str, tuple]:
    """Address -> (name, chat user, opted out), for the team's workspace."""
    with server.app.session() as s:
        ws = slack_repo.team_workspace(s, team)
        return {p.email: (p.name, p.chat_user, p.opted_out) for p in mail.list_people(s, ws)}


def test_members_put_themselves_on_file_and_take_themselves_off(slack_server, fake_slack):
    server = slack_server()
    shown = say(server, fake_slack, "email")
    assert "You're not on file" in shown and f"`/onno email me` puts you on file with your Slack address ({MAYA})" \
        in shown
    assert "E-mail summaries are *off* in <#C0000GEN1> (`/onno settings email on` turns them on)" in shown
    assert "E-mail isn't set up on this Onno yet (ONNO_SMTP_URL)" in shown

    added = say(server, fake_slack, "email me")
    assert f"You're on file as *Maya Chen* <mailto:{MAYA}|{MAYA}>." in added
    assert "meetings that name *Maya Chen* (or just *Maya*)" in added
    assert on_file(server) == {MAYA: ("Maya Chen", "U_MAYA", False)}
    [info] = [c for c in fake_slack.calls_to("users.info") if c["args"]["user"] == "U_MAYA"][:1]
    assert info["token"] == TOKEN1  # asked with the team's bot token

    # The name meetings know her by; quotes as Slack's clients type them are not part of it.
    assert "You're on file as *Maya*" in say(server, fake_slack, "email me as “Maya”")
    assert on_file(server) == {MAYA: ("Maya", "U_MAYA", False)}
    assert "The name after `as` is empty" in say(server, fake_slack, "email me as")

    # Another member can't take her address, nor take her off: each acts on their own row only.
    taken = say(server, fake_slack, f"email {MAYA} as Maya", user="U_DANIEL")
    assert "is on file for another member of this workspace" in taken
    assert "nothing to take off" in say(server, fake_slack, "email off", user="U_DANIEL")
    assert on_file(server) == {MAYA: ("Maya", "U_MAYA", False)}

    # A typed address, and a new one replacing it: one row per member.
    assert "You're on file as *Daniel Park* <mailto:dan@work.example|dan@work.example>" in \
        say(server, fake_slack, "email Dan@Work.example", user="U_DANIEL")
    moved = say(server, fake_slack, "email <mailto:dan@home.example|dan@home.example> as Dan", user="U_DANIEL")
    assert "You're on file as *Dan* <mailto:dan@home.example|dan@home.example>" in moved
    assert "Taken off file: dan@work.example." in moved
    assert on_file(server) == {MAYA: ("Maya", "U_MAYA", False), "dan@home.example": ("Dan", "U_DANIEL", False)}

    assert "is not an e-mail address" in say(server, fake_slack, "email dan@", user="U_DANIEL")
    assert "Usage: `/onno email`" in say(server, fake_slack, "email me please", user="U_DANIEL")
    assert "Only your Slack address can be resubscribed" in say(server, fake_slack, "email a@b.example resubscribe")
    assert on_file(server)["dan@home.example"] == ("Dan", "U_DANIEL", False)

    off = say(server, fake_slack, "email off")
    assert f"You're off file: Onno no longer e-mails {MAYA}." in off
    assert "You're not on file" in say(server, fake_slack, "email")
    assert MAYA not in on_file(server)
    # In a direct message with Onno there is no channel setting to speak of.
    n = len(fake_slack.responses)
    server.command(T1, "email", channel="D0000MAYA")
    wait_for(lambda: len(fake_slack.responses) > n, 15, "the answer in a DM")
    assert "E-mail summaries are" not in fake_slack.responses[n]["body"]["text"]


def test_a_row_put_on_file_by_the_operator(slack_server, fake_slack):
    """`onno people add` rows: the member whose Slack address it is sees and claims it; a typed address can't."""
    server = slack_server()
    with server.app.session() as s:
        mail.add_person(s, slack_repo.team_workspace(s, T1), "Lena N", "lena@example.com")
    assert "You're on file as *Lena N* <mailto:lena@example.com|lena@example.com>." in \
        say(server, fake_slack, "email", user="U_LENA")
    listed = say(server, fake_slack, "email lena@example.com", user="U_DANIEL")
    assert "is already on file (as *Lena N*), and your Slack profile doesn't show it as yours" in listed
    assert on_file(server) == {"lena@example.com": ("Lena N", None, False)}
    # Typing your own Slack address counts as `me`.
    assert "You're on file as *Lena Novak*" in say(server, fake_slack, "email LENA@example.com", user="U_LENA")
    assert on_file(server) == {"lena@example.com": ("Lena Novak", "U_LENA", False)}
    assert "no longer e-mails lena@example.com" in say(server, fake_slack, "email off", user="U_LENA")
    assert on_file(server) == {}


def test_when_slack_gives_no_address(slack_server, fake_slack):
    server = slack_server()
    nomail = member("U_NOMAIL", "Ana Silva")
    del nomail["profile"]["email"]  # what users.info answers without users:read.email
    fake_slack.members[T1].append(nomail)
    answer = say(server, fake_slack, "email me", user="U_NOMAIL")
    assert "Slack didn't give me your e-mail address" in answer and "`users:read.email`" in answer
    assert "`/onno email you@example.com`" in answer
    assert "You're not on file, so Onno doesn't e-mail you meeting summaries. `/onno email you@example.com` puts " \
        "you on file (Slack doesn't tell me your address)." in say(server, fake_slack, "email", user="U_NOMAIL")
    # The typed address still takes her Slack name.
    assert "You're on file as *Ana Silva* <mailto:ana@example.org|ana@example.org>" in \
        say(server, fake_slack, "email ana@example.org", user="U_NOMAIL")

    fake_slack.fail_next("users.info", 200, {"ok": False, "error": "missing_scope", "needed": "users:read",
                                             "provided": "commands"})
    assert "lacks the `users:read` permission" in say(server, fake_slack, "email me")
    assert MAYA not in on_file(server)
    assert not fake_slack.problems


def share(server, fake_slack, file_id: str, ts: str) -> None:
    """A transcript shared in the channel (message ts `ts`); returns once the notes are in its thread."""
    fake_slack.add_file(T1, file_id, "checkout-standup.vtt", VTT.encode(), channel=CHANNEL, share_ts=ts,
                        mimetype="text/vtt", filetype="vtt")
    server.event(T1, {"type": "file_shared", "file_id": file_id, "user_id": "U_DANIEL", "channel_id": CHANNEL,
                      "file": {"id": file_id}, "event_ts": ts}, event_id=f"Ev{file_id}")
    wait_for(lambda: thread_replies(fake_slack, thread=ts), 60, "the notes in the thread")
    server.drain()


def test_on_file_from_slack_then_mailed_then_unsubscribed_stays_so(slack_server, fake_slack, mailbox):
    """`/onno email me`, a recording in a channel with e-mail on: the summary reaches her mailbox. After she
    unsubscribes with the mailed link, `/onno email me` does not undo it; only `me resubscribe` does."""
    server = slack_server(smtp_url=mailbox.url, mail_from="Onno <onno@onno.test>")
    assert "nobody is on file yet: each person says `/onno email me`" in say(server, fake_slack, "settings email on")
    assert "You're on file as *Maya Chen*" in say(server, fake_slack, "email me")
    shown = say(server, fake_slack, "settings")
    assert "e-mail summaries: on" in shown and "nobody is on file" not in shown
    assert "E-mail summaries are *on* in <#C0000GEN1>." in say(server, fake_slack, "email")

    share(server, fake_slack, "F0PEOPLE01", "1763900000.000301")
    [first] = wait_for(lambda: mailbox.to(MAYA), 30, "the summary e-mail")
    assert "Maya Chen" in str(first.message["To"]) and mailbox.received == [first]  # nobody else is on file

    # A typed address is mailed a link to confirm it, once per 10 minutes, and no summary until it is confirmed.
    typed = say(server, fake_slack, "email dan@work.example", user="U_DANIEL")
    assert "Check your inbox: I mailed dan@work.example a link to confirm it's yours" in typed
    [link] = mailbox.to("dan@work.example")
    assert "https://onno.test/confirm/" in link.part("plain") and "Confirm your address" in link.part("html")
    assert "less than 10 minutes ago" in say(server, fake_slack, "email dan@work.example", user="U_DANIEL")
    assert "waiting for you to confirm" in say(server, fake_slack, "email", user="U_DANIEL")

    path = str(first.message["List-Unsubscribe"]).strip("<>").removeprefix("https://onno.test")
    page = server.http.post(path, content=b"List-Unsubscribe=One-Click",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert page.status_code == 200 and "You are unsubscribed" in page.text
    assert on_file(server)[MAYA] == ("Maya Chen", "U_MAYA", True)

    shown = say(server, fake_slack, "email")
    assert "but that address unsubscribed on" in shown and "`/onno email me resubscribe`" in shown
    again = say(server, fake_slack, "email me")
    assert f"{MAYA} unsubscribed from Onno's e-mail on" in again and "stays unsubscribed: I changed nothing" in again
    assert "`/onno email me resubscribe`" in again
    assert "I changed nothing" in say(server, fake_slack, "email me as Maya")
    assert on_file(server)[MAYA] == ("Maya Chen", "U_MAYA", True)
    # Off keeps the address, unsubscribed: off file for her, never mailed.
    assert f"You're off file. {MAYA} had unsubscribed, and stays unsubscribed." in say(server, fake_slack, "email off")
    assert on_file(server)[MAYA] == ("Maya Chen", None, True)
    share(server, fake_slack, "F0PEOPLE02", "1763900000.000302")
    assert len(mailbox.to(MAYA)) == 1

    back = say(server, fake_slack, "email me resubscribe")
    assert "Welcome back: you're on file again as *Maya Chen*" in back
    assert on_file(server)[MAYA] == ("Maya Chen", "U_MAYA", False)
    share(server, fake_slack, "F0PEOPLE03", "1763900000.000303")
    wait_for(lambda: len(mailbox.to(MAYA)) == 2, 30, "the summary e-mail after resubscribing")
    assert mailbox.to("dan@work.example") == [link]  # Daniel Park spoke, but never confirmed his address
    assert not fake_slack.problems
