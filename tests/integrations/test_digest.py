"""Weekly digests, end to end: two meetings of last week through the real pipeline, the digest mailed to a real SMTP
server (aiosmtpd) and posted to the Slack fake, once per week, resumed after a crash, gated by the plan."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from billing.accounts import get_account
from core.links import meeting_url
from integrations.digest import weeks
from integrations.digest.schedule import due_digests
from integrations.digest.send import LEASE
from integrations.email.unsubscribe import read_token
from onno.cli import main
from onno.service import App
from onno.settings import Settings
from onno.sweeper import sweep_once
from pipeline.types import MeetingInfo, Ticket
from storage import digest as store
from storage import jobs as jobs_repo
from storage import mail as people
from storage import repository as repo
from storage import review as review_repo
from storage import slack as slack_repo
from storage.models import Finding, utcnow
from storage.slack import ActionItemMark
from tests.bots.conftest import T1, TOKEN1, fake_slack, slack_server  # noqa: F401  (fixtures)
from tests.integrations.mailbox import Mailbox
from tests.integrations.test_email import Page, web
from tests.jobs.conftest import wait_for

SECRET = "test-secret-key-0123456789"
FROM = "Onno <onno@onno.test>"
ONNO = Path(sys.executable).with_name("onno")
MAYA, DANIEL, LENA = "maya@example.com", "daniel@example.com", "lena@example.com"
CHANNEL = "C0000GEN1"
# Last week, whatever today is: its digest is due now (the send moment is Monday 00:00 UTC in these tests).
WEEK = weeks.previous(dt.datetime.now(dt.UTC).date())
MONDAY, NEXT_MONDAY = weeks.bounds(WEEK)
THURSDAY = MONDAY + dt.timedelta(days=3)
BOARD = [Ticket("CHK-7", "Saved payment cards", "IN_PROGRESS"), Ticket("CHK-9", "Checkout error tracking", "TODO"),
         Ticket("CHK-11", "Address autocomplete", "TODO")]
STANDUP = """WEBVTT

00:00:01.000 --> 00:00:05.000
<v Maya>Morning everyone. Let's go through the checkout work.

00:00:05.500 --> 00:00:11.000
<v Daniel>Saved payment cards are finished and merged.

00:00:11.500 --> 00:00:17.000
<v Daniel>I will write the tests for the payment step by Wednesday.

00:00:17.500 --> 00:00:23.000
<v Lena>I started on the address autocomplete yesterday.

00:00:23.500 --> 00:00:29.000
<v Maya>We decided to use the postal code lookup service, not build our own.

00:00:29.500 --> 00:00:35.000
<v Maya>Lena, can you send me the design for the error page by Friday?

00:00:35.500 --> 00:00:40.000
<v Lena>Yes, I will send you the error page design by Friday.

00:00:40.500 --> 00:00:46.000
<v Daniel>Who owns the checkout error tracking dashboard?
"""
SYNC = """WEBVTT

00:00:01.000 --> 00:00:05.000
<v Maya>Quick sync on the launch.

00:00:05.500 --> 00:00:11.000
<v Maya>I will book the launch retro by next Friday.

00:00:11.500 --> 00:00:17.000
<v Lena>Can we move the launch to a Tuesday?

00:00:17.500 --> 00:00:23.000
<v Daniel>Yes, we can move it to Tuesday the 1st.

00:00:23.500 --> 00:00:29.000
<v Maya>We agreed to launch on Tuesday the 1st of December.

00:00:29.500 --> 00:00:35.000
<v Daniel>Daniel here, I will update the status page tomorrow.

00:00:35.500 --> 00:00:41.000
<v Lena>What is the budget for the launch ads?
"""
# What the two meetings leave open, done and dropped (see `hold_the_week`).
TESTS_ITEM, DESIGN_ITEM = "Write the tests for the payment step", "Send Maya the design for the error page"
RETRO_ITEM, STATUS_ITEM = "Book the launch retro", "Update the status page"


def base_settings(tmp_path: Path, database_url: str, smtp_url: str, **extra) -> dict:
    return dict(data_dir=tmp_path / "data", database_url=database_url, smtp_url=smtp_url, mail_from=FROM,
                public_url="https://onno.test", secret_key=SECRET, delivery_backoff=0.05, digest_weekday=1,
                digest_hour=0) | extra


@pytest.fixture
def app(tmp_path, database_url, mailbox):
    a = App(Settings(**base_settings(tmp_path, database_url, mailbox.url)))
    yield a
    a.engine.dispose()


def hold_the_week(app: App, tmp_path: Path, workspace: str | int = "local") -> tuple[int, list[int]]:
    """Last week's standup (Monday) and launch sync (Thursday) processed from VTT; Lena's design marked done in
    Slack on Thursday, Daniel's status page dropped in review. Returns the workspace id and the meeting ids."""
    meetings = []
    for name, text, info, board in (
            ("standup.vtt", STANDUP, MeetingInfo("Checkout standup", "standup", MONDAY, ["Maya", "Daniel", "Lena"]),
             BOARD),
            ("sync.vtt", SYNC, MeetingInfo("Launch sync", "planning", THURSDAY, ["Maya", "Daniel", "Lena"]), None)):
        path = tmp_path / name
        path.write_text(text)
        job_id = app.runner.submit(path, info, board=board, workspace=workspace)
        with app.session() as s:
            job = jobs_repo.get_job(s, job_id)
            assert job.status == "done", job.error
            meetings.append(job.meeting_id)
            ws_id = job.workspace_id
    with app.session() as s:
        ws = repo.workspace_by_id(s, ws_id)
        items = {f.text: f for f in s.scalars(select(Finding).where(Finding.meeting_id.in_(meetings),
                                                                     Finding.kind == "action_item"))}
        assert set(items) == {TESTS_ITEM, DESIGN_ITEM, RETRO_ITEM, STATUS_ITEM}
        slack_repo.mark_action_item(s, ws, items[DESIGN_ITEM], "done", "U_LENA")
        # ...and it was on Thursday afternoon of that week that Lena pressed "Done".
        s.execute(update(ActionItemMark).values(updated_at=dt.datetime.combine(THURSDAY, dt.time(15), dt.UTC)))
        review_repo.review_finding(s, items[STATUS_ITEM], status="dropped", user="cli")
    return ws_id, meetings


def put_on_file(app: App, ws_id: int, *entries: tuple[str, str]) -> None:
    with app.session() as s:
        ws = repo.workspace_by_id(s, ws_id)
        for name, address in entries:
            people.add_person(s, ws, name, address)


def block(text: str, heading: str) -> list[str]:
    """The `  - ` lines (and their notes) under a plain-text heading such as 'DECISIONS (2)', up to the next one."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    out: list[str] = []
    for line in lines[start + 1:]:
        if line and line == line.upper() and not line.startswith(" ") and re.search(r"\(\d+\)", line):
            break
        if line.startswith("  - ") or line.startswith("    ") and not line.strip().startswith("http"):
            out.append(line.strip().removeprefix("- "))
    return out


def digests(app: App) -> list[store.Digest]:
    with app.session() as s:
        return list(s.scalars(select(store.Digest).order_by(store.Digest.id)))


def test_one_digest_a_week_by_mail_to_each_reader_and_in_the_slack_channel(slack_server, fake_slack,  # noqa: F811
                                                                          tmp_path, mailbox):
    server = slack_server(**base_settings(tmp_path, f"sqlite:///{tmp_path / 'onno.db'}", mailbox.url))
    app = server.app
    with app.session() as s:
        ws_id = slack_repo.team_workspace(s, T1).id
    _, (standup, sync) = hold_the_week(app, tmp_path, ws_id)
    put_on_file(app, ws_id, ("Maya", MAYA), ("Daniel Berg", DANIEL), ("Lena", LENA))
    with app.session() as s:
        people.opt_out(s, ws_id, LENA)

    # Billing is off here: nothing goes out until the team opts in, from Slack, naming the channel.
    assert sweep_once(app)["digests"] == 0
    server.command(T1, "settings digest here", channel=CHANNEL)
    wait_for(lambda: fake_slack.responses, 10, "the settings answer")
    assert f"Weekly digest: here in <#{CHANNEL}>, every Monday after 00:00 UTC" in \
        fake_slack.responses[-1]["body"]["text"]
    server.command(T1, "settings", channel=CHANNEL)
    wait_for(lambda: len(fake_slack.responses) > 1, 10, "the settings list")
    assert "• weekly digest: on, every Monday after 00:00 UTC: last week's digest to 2 people on file by " \
           f"e-mail and <#{CHANNEL}>" in fake_slack.responses[-1]["body"]["text"]
    server.drain()

    assert sweep_once(app)["digests"] == 1
    assert sweep_once(app)["digests"] == 0  # the week's digest exists: a second sweep sends nothing
    [row] = digests(app)
    assert (row.week, row.status, row.emailed, row.slack_channel, row.note) == (WEEK, "sent", 2, CHANNEL, None)
    assert sorted(r for m in mailbox.received for r in m.rcpt_to) == [DANIEL, MAYA]  # Lena unsubscribed

    [daniel] = mailbox.to(DANIEL)
    msg = daniel.message
    assert msg["Subject"].startswith(f"Weekly digest, {MONDAY.day}") and "2 meetings, 2 open items (1 overdue)" \
        in msg["Subject"] and msg["Subject"].endswith("1 yours")
    assert msg["To"].addresses[0].display_name == "Daniel Berg"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert read_token(SECRET, str(msg["List-Unsubscribe"]).strip("<>").rsplit("/", 1)[1]) == (ws_id, DANIEL)
    assert msg["X-Onno-Delivery"] == row.key
    text, html = daniel.part("plain"), daniel.part("html")
    # Daniel's own open item first, overdue and marked so; the item dropped in review nowhere.
    assert text.index("YOUR OPEN ITEMS (1), 1 OVERDUE") < text.index("EVERYONE ELSE'S OPEN ITEMS (1)")
    due = MONDAY + dt.timedelta(days=2)
    assert block(text, "YOUR OPEN ITEMS") == [f"[OVERDUE] {TESTS_ITEM}",
                                              f"was due {due:%a} {due.day} {due:%b} · Checkout standup"]
    retro_due = THURSDAY + dt.timedelta(days=8)
    assert block(text, "EVERYONE ELSE'S OPEN ITEMS")[-2:] == [
        RETRO_ITEM, f"due {retro_due:%a} {retro_due.day} {retro_due:%b} · Launch sync"]
    assert STATUS_ITEM not in text and STATUS_ITEM not in html
    assert block(text, "DONE THIS WEEK (2)") == [DESIGN_ITEM, "Lena · marked done in Slack · Checkout standup",
                                                 "CHK-7 Saved payment cards",
                                                 "ticket moved to DONE · Checkout standup"]
    assert block(text, "DECISIONS (2)")[::2] == ["We decided to use the postal code lookup service, not build our "
                                                 "own.", "We agreed to launch on Tuesday the 1st of December."]
    assert block(text, "UNANSWERED QUESTIONS (2)") == [
        "Who owns the checkout error tracking dashboard?", "asked by Daniel · Checkout standup",
        "What is the budget for the launch ads?", "asked by Lena · Launch sync"]  # the answered one is not there
    assert block(text, "TICKETS MOVED (1)")[0] == "CHK-11 Address autocomplete: todo → in progress"
    assert block(text, "MEETINGS HELD (2)")[::2] == ["Checkout standup", "Launch sync"]
    assert "minutes processed this month" in text
    page = Page(html)
    for meeting in (standup, sync):
        link = meeting_url(app.settings, ws_id, meeting)
        assert link in page.hrefs and link in text
    assert "overdue" in page.chunks and "Your open items" in page.chunks

    [maya] = mailbox.to(MAYA)
    assert block(maya.part("plain"), "YOUR OPEN ITEMS (1)")[0] == RETRO_ITEM  # not overdue: no mark
    assert "OVERDUE" not in maya.part("plain").split("EVERYONE ELSE'S")[0]

    [post] = fake_slack.calls_to("chat.postMessage")
    args = post["args"]
    assert post["token"] == TOKEN1 and args["channel"] == CHANNEL and not args.get("thread_ts")
    assert fake_slack.problems == []
    blocks = args["blocks"] if isinstance(args["blocks"], list) else json.loads(args["blocks"])
    flat = "\n".join(b.get("text", {}).get("text", "") if b["type"] != "context" else b["elements"][0]["text"]
                     for b in blocks)
    assert len(blocks) <= 12 and "*🔴 Overdue* (1)" in flat and f"{TESTS_ITEM} — <@U_DANIEL>" in flat
    assert "*✅ Done this week* (2)" in flat and "*Unanswered questions* (2)" in flat and STATUS_ITEM not in flat
    assert f"<{meeting_url(app.settings, ws_id, standup)}|Checkout standup>" in flat

    assert sweep_once(app)["digests"] == 0  # nor any later sweep that week
    assert len(mailbox.received) == 2 and len(fake_slack.calls_to("chat.postMessage")) == 1


def test_a_send_that_dies_after_the_first_reader_resumes_with_only_the_second(app, tmp_path, database_url):
    box = HoldingMailbox(hold=MAYA).start()
    app.settings.smtp_url = box.url
    try:
        ws_id, _ = hold_the_week(app, tmp_path)
        put_on_file(app, ws_id, ("Maya", MAYA), ("Daniel", DANIEL))  # mailed in this order: Daniel, Maya
        proc = subprocess.Popen([str(ONNO), "digest", "send", "--week", WEEK], env=cli_env(tmp_path, database_url,
                                                                                             box.url),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            wait_for(lambda: box.holding.is_set() or proc.poll() is not None, 60, "the second reader's message")
            assert proc.poll() is None, proc.communicate()
            os.killpg(proc.pid, signal.SIGKILL)  # dies mid-send: Daniel mailed and on record, Maya not
            proc.wait(10)
        finally:
            box.release.set()
        assert [r.rcpt_to for r in box.received] == [[DANIEL]]
        [row] = digests(app)
        assert row.status == "sending"
        assert due_digests(app) == 0  # its sender may still be at it: nobody takes it over before its lease ends
        assert due_digests(app, now=utcnow() + dt.timedelta(seconds=LEASE + 1)) == 1
        assert Counter(r for m in box.received for r in m.rcpt_to) == {DANIEL: 1, MAYA: 1}
        [row] = digests(app)
        assert (row.status, row.emailed, row.attempts) == ("sent", 2, 2)

        out = run_cli(tmp_path, database_url, box.url, "digest", "send", "--week", WEEK)
        assert out.exit_code == 0 and f"The digest of {WEEK} went out already, to 2 people by e-mail" in out.stdout
        assert len(box.received) == 2
        again = run_cli(tmp_path, database_url, box.url, "digest", "send", "--week", WEEK, "--again")
        assert again.exit_code == 0 and "Sent the digest" in again.stdout and "to 2 people by e-mail" in again.stdout
        assert Counter(r for m in box.received for r in m.rcpt_to) == {DANIEL: 2, MAYA: 2}
        ids = [m.message["Message-ID"] for m in box.to(MAYA)]
        assert ids[0] != ids[1]  # a new round is a new message, not a resend of the old one
    finally:
        box.release.set()
        box.stop()


def test_a_deferred_reader_is_retried_alone(app, mailbox, tmp_path):
    ws_id, _ = hold_the_week(app, tmp_path)
    put_on_file(app, ws_id, ("Maya", MAYA), ("Daniel", DANIEL))
    mailbox.answers[MAYA] = ["451 4.3.0 Mailbox busy, try again later"]
    out = run_cli(tmp_path, app.settings.database_url, mailbox.url, "digest", "send")
    assert out.exit_code == 1 and "reached 1 person by e-mail so far" in out.stderr and "451 4.3.0" in out.stderr
    [row] = digests(app)
    assert row.status == "pending"
    wait_for(lambda: due_digests(app), 5, "the retry to come due")
    assert Counter(r for m in mailbox.received for r in m.rcpt_to) == {DANIEL: 1, MAYA: 1}
    assert digests(app)[0].status == "sent"


def test_an_empty_week_is_skipped_and_digests_are_opt_in_without_billing(app, mailbox, tmp_path):
    put_on_file(app, resolve_local(app), ("Maya", MAYA))
    assert sweep_once(app)["digests"] == 0 and digests(app) == []  # not turned on
    assert "Weekly digest: on" in run_cli(tmp_path, app.settings.database_url, mailbox.url, "digest", "on").stdout
    assert due_digests(app) == 1
    [row] = digests(app)
    assert row.status == "skipped" and "no meetings" in row.note and mailbox.received == []
    assert due_digests(app) == 0
    preview = run_cli(tmp_path, app.settings.database_url, mailbox.url, "digest", "preview")
    assert f"Nothing happened in {WEEK}" in preview.stdout
    assert "Weekly digest: off" in run_cli(tmp_path, app.settings.database_url, mailbox.url, "digest",
                                           "off").stdout


def test_free_plan_gets_no_digest_and_send_says_it_needs_team(tmp_path, database_url, mailbox):
    app = App(Settings(**base_settings(tmp_path, database_url, mailbox.url, stripe_api_key="sk_test_onno")))
    try:
        ws_id, _ = hold_the_week(app, tmp_path)
        put_on_file(app, ws_id, ("Maya", MAYA))
        assert due_digests(app) == 0 and digests(app) == []
        out = run_cli(tmp_path, database_url, mailbox.url, "digest", "send", STRIPE_API_KEY="sk_test_onno")
        assert out.exit_code == 1 and "The Free plan does not include weekly digests." in out.stderr
        assert f"Team includes them: https://onno.test/billing/{ws_id}/upgrade?sig=" in out.stderr
        assert out.stderr.rstrip().endswith("&plan=team")
        assert mailbox.received == [] and digests(app) == []

        with app.session() as s:  # what Stripe's webhook leaves after the upgrade to Team
            acct = get_account(s, repo.workspace_by_id(s, ws_id), create=True)
            acct.plan, acct.status = "team", "active"
        assert due_digests(app) == 1  # on by default on Team: no opt-in needed
        [mail] = mailbox.to(MAYA)
        assert re.search(r"Team plan: \d+ of 6000 minutes used", " ".join(mail.part("plain").split()))
    finally:
        app.engine.dispose()


def test_the_unsubscribe_link_in_a_digest_works_through_the_web_app(app, mailbox, tmp_path):
    ws_id, _ = hold_the_week(app, tmp_path)
    put_on_file(app, ws_id, ("Maya", MAYA), ("Daniel", DANIEL))
    assert run_cli(tmp_path, app.settings.database_url, mailbox.url, "digest", "send").exit_code == 0
    [mail] = mailbox.to(MAYA)
    path = str(mail.message["List-Unsubscribe"]).strip("<>").removeprefix("https://onno.test")
    assert f'href="https://onno.test{path}"' in mail.part("html")
    [(status, page), (posted, done)] = web(app, ("GET", path), ("POST", path))
    assert (status, posted) == (200, 200) and MAYA in page and "You are unsubscribed" in done
    with app.session() as s:
        assert people.person_by_email(s, ws_id, MAYA).opted_out
    out = run_cli(tmp_path, app.settings.database_url, mailbox.url, "digest", "send", "--again")
    assert "to 1 person by e-mail" in out.stdout
    assert Counter(r for m in mailbox.received for r in m.rcpt_to) == {MAYA: 1, DANIEL: 2}


def test_a_first_name_two_people_on_file_share_is_neither_ones(app, mailbox, tmp_path):
    ws_id, _ = hold_the_week(app, tmp_path)
    put_on_file(app, ws_id, ("Daniel Berg", DANIEL), ("Daniel Kim", "dkim@example.com"), ("Maya Chen", MAYA))
    assert run_cli(tmp_path, app.settings.database_url, mailbox.url, "digest", "send").exit_code == 0
    assert len(mailbox.received) == 3
    for address in (DANIEL, "dkim@example.com"):
        [mail] = mailbox.to(address)
        assert "YOUR OPEN ITEMS" not in mail.part("plain") and TESTS_ITEM in mail.part("plain")
    [maya] = mailbox.to(MAYA)
    assert block(maya.part("plain"), "YOUR OPEN ITEMS (1)")[0] == RETRO_ITEM


def test_preview_prints_the_digest_as_a_reader_gets_it(app, mailbox, tmp_path):
    hold_the_week(app, tmp_path)
    out = run_cli(tmp_path, app.settings.database_url, mailbox.url, "digest", "preview", "--week",
                  WEEK.replace("-", "").lower(), "--as", "Maya")
    assert out.exit_code == 0, out.output
    assert out.stdout.startswith("Subject: Weekly digest") and "YOUR OPEN ITEMS (1)" in out.stdout
    html = run_cli(tmp_path, app.settings.database_url, mailbox.url, "digest", "preview", "--format", "html")
    assert html.stdout.startswith("<!DOCTYPE html>") and "Open action items" in html.stdout
    bad = run_cli(tmp_path, app.settings.database_url, mailbox.url, "digest", "preview", "--week", "2026-W60")
    assert bad.exit_code == 2 and "is not an ISO week" in bad.stderr and "2026-W47" in bad.stderr
    assert mailbox.received == []
    with app.session() as s:
        assert s.scalar(select(func.count()).select_from(store.Digest)) == 0


# -- helpers -------------------------------------------------------------------------------------------------------


class HoldingMailbox(Mailbox):
    """Leaves the message for one address unanswered (its sender gets killed meanwhile) until released."""

    def __init__(self, *, hold: str, **kwargs):
        super().__init__(**kwargs)
        self.hold = hold
        self.holding, self.release = threading.Event(), threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if self.hold in envelope.rcpt_tos and not self.release.is_set():
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.4.2 Connection dropped"
        return await super().handle_DATA(server, session, envelope)


def cli_env(tmp_path: Path, database_url: str, smtp_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONNO_", "STRIPE_", "SLACK_"))}
    values = {"DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url, "SMTP_URL": smtp_url,
              "MAIL_FROM": FROM, "PUBLIC_URL": "https://onno.test", "SECRET_KEY": SECRET, "DIGEST_HOUR": "0",
              "DELIVERY_BACKOFF": "0.05"}
    return env | {f"ONNO_{k}": v for k, v in values.items()} | extra


def run_cli(tmp_path: Path, database_url: str, smtp_url: str, *args: str, **extra: str):
    env = cli_env(tmp_path, database_url, smtp_url, **extra)
    unset = {k: None for k in os.environ if k not in env}  # CliRunner adds to the environment; these it removes
    return CliRunner(env=env | unset).invoke(main, list(args), catch_exceptions=False)


def resolve_local(app: App) -> int:
    with app.session() as s:
        return repo.get_or_create_workspace(s).id
