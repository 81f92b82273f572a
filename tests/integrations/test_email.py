"""E-mailed summaries, end to end: a job delivers to a real SMTP server (aiosmtpd), and the mail is read back."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import time
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner

from core.links import meeting_url
from integrations.email.unsubscribe import make_token, read_token
from onno.cli import main
from onno.service import App
from onno.settings import Settings
from onno.web import make_web_app
from pipeline.types import MeetingInfo
from storage import jobs as jobs_repo
from storage import mail as people
from storage import repository as repo
from storage.models import Delivery
from tests.integrations.mailbox import Mailbox

SECRET = "test-secret-key-0123456789"
FROM = "Onno <onno@onno.test>"
TITLE = "Launch <planning> & pricing"
# Said in the meeting, markup and all: it must reach the HTML part as text, never as markup.
TRANSCRIPT = """\
[00:00:01] Maya: Morning. Let's go through the launch checklist.
[00:00:06] Daniel: I'll send the <script>alert(1)</script> pricing draft & FAQ to legal by Friday.
[00:00:13] Maya: Great. Lena, can you update the onboarding emails by Wednesday?
[00:00:19] Lena: Yes, I'll update the onboarding emails by Wednesday.
[00:00:31] Maya: We decided to launch on the 1st of December.
[00:00:38] Lena: I'm blocked on the copy review, waiting on marketing.
[00:00:45] Maya: I will book the launch retro for next Monday.
[00:00:55] Lena: We still need to update the status page before launch.
[00:01:02] Daniel: Who signs off on the <i>final</i> price list?
"""
MAYA, DANIEL, LENA = "maya@example.com", "daniel@example.com", "lena@example.com"


def settings(tmp_path: Path, database_url: str, smtp_url: str, **extra) -> Settings:
    values = dict(data_dir=tmp_path / "data", database_url=database_url, smtp_url=smtp_url, mail_from=FROM,
                  public_url="https://onno.test", secret_key=SECRET, delivery_backoff=0.05, inline_retry_wait=5)
    return Settings(**(values | extra))


@pytest.fixture
def app(tmp_path, database_url, mailbox):
    a = App(settings(tmp_path, database_url, mailbox.url))
    yield a
    a.engine.dispose()


@pytest.fixture
def meeting(tmp_path) -> Path:
    path = tmp_path / "launch.txt"
    path.write_text(TRANSCRIPT)
    return path


INFO = MeetingInfo(title=TITLE, type="planning", date=dt.date(2026, 11, 16), participants=[])


def put_on_file(app: App, *people_: tuple[str, str]) -> None:
    with app.session() as s:
        ws = repo.get_or_create_workspace(s)
        for name, address in people_:
            people.add_person(s, ws, name, address)


def job_row(app: App, job_id: str) -> dict:
    from onno.jobs import job_dict

    with app.session() as s:
        return job_dict(jobs_repo.get_job(s, job_id))


def stored_result(app: App, job: dict) -> tuple[int, dict]:
    with app.session() as s:
        row = jobs_repo.get_job(s, job["id"])
        meeting = repo.get_meeting(s, repo.workspace_by_id(s, row.workspace_id), row.meeting_id)
        return row.workspace_id, repo.meeting_result_dict(meeting)


class Page(HTMLParser):
    """The HTML part as a reader's client sees it: the text chunks, the links, and any tag it should not have."""

    def __init__(self, html: str):
        super().__init__()
        self.chunks: list[str] = []
        self.hrefs: list[str] = []
        self.tags: set[str] = set()
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.hrefs += [v for k, v in attrs if k == "href"]

    def handle_data(self, data):
        if data.strip():
            self.chunks.append(" ".join(data.split()))


def action_groups(text: str) -> dict[str, list[str]]:
    """The plain-text part's action items by owner heading, in the order they appear."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("ACTION ITEMS"))
    groups: dict[str, list[str]] = {}
    owner = None
    for line in lines[start + 1:]:
        if line.isupper():  # the next section
            break
        if line and not line.startswith(" "):
            owner = line
            groups[owner] = []
        elif line.startswith("  - "):
            groups[owner].append(line[4:])
    return groups


def test_participants_on_file_get_a_multipart_summary_linking_every_line_to_its_moment(app, mailbox, meeting):
    put_on_file(app, ("Maya", MAYA), ("Daniel", "Daniel@Example.com"))  # Lena has no address on file
    job = job_row(app, app.runner.submit(meeting, INFO, targets=["email:participants"]))
    [delivery] = job["deliveries"]
    assert (delivery["status"], delivery["error"], delivery["attempts"]) == ("delivered", None, 1)
    assert sorted(r for m in mailbox.received for r in m.rcpt_to) == [DANIEL, MAYA]
    ws_id, result = stored_result(app, job)
    assert {a["owner"] for a in result["action_items"]} == {"Maya", "Daniel", "Lena"}

    [mail] = mailbox.to(MAYA)
    msg = mail.message
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert mail.mail_from == "onno@onno.test" and str(msg["From"]) == FROM
    assert msg["To"].addresses[0].display_name == "Maya" and msg["To"].addresses[0].addr_spec == MAYA
    assert msg["Subject"] == f"{TITLE} (16 Nov): 3 action items"
    rcpt = hashlib.sha256(MAYA.encode()).hexdigest()[:12]
    assert msg["Message-ID"] == f"<{delivery['key']}.{rcpt}@onno.test>"
    assert msg["Auto-Submitted"] == "auto-generated"
    # RFC 8058 one-click unsubscribe: an https URL in List-Unsubscribe, and the One-Click POST marker.
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = str(msg["List-Unsubscribe"]).strip("<>")
    assert unsubscribe.startswith("https://onno.test/unsubscribe/")
    assert read_token(SECRET, unsubscribe.rsplit("/", 1)[1]) == (ws_id, MAYA)

    html, text = mail.part("html"), mail.part("plain")
    page = Page(html)
    # Every finding with a moment links to it, in both parts; the meeting page and the unsubscribe link too.
    assert meeting_url(app.settings, ws_id, job["meeting_id"]) in page.hrefs
    assert meeting_url(app.settings, ws_id, job["meeting_id"]) in text
    said = (result["action_items"] + result["decisions"] + result["blockers"] + result["follow_ups"]
            + [q for q in result["questions"] if not q["answered"]])
    assert len(said) >= 6
    for item in said:
        moment = meeting_url(app.settings, ws_id, job["meeting_id"], at=item["start"])
        assert moment in page.hrefs and moment in text, item
    assert unsubscribe in page.hrefs and unsubscribe in text
    # What was said is text in HTML: escaped, never markup. The plain part keeps it as said.
    assert page.tags.isdisjoint({"script", "i", "img", "style", "link", "iframe"})
    assert "&lt;script&gt;alert(1)&lt;/script&gt; pricing draft &amp; FAQ" in html
    assert "&lt;i&gt;final&lt;/i&gt;" in html and "Launch &lt;planning&gt; &amp; pricing" in html
    assert "Send the <script>alert(1)</script> pricing draft & FAQ to legal" in text
    # Action items grouped by owner, the reader's own first, each with its due date.
    groups = action_groups(text)
    assert list(groups) == ["Maya (you)", "Daniel", "Lena"]
    assert groups["Maya (you)"] == ["Book the launch retro"]
    assert groups["Daniel"] == ["Send the <script>alert(1)</script> pricing draft & FAQ to legal"]
    assert groups["Lena"] == ["Update the onboarding emails"]
    assert "due Fri 20 Nov" in text and "due Fri 20 Nov" in page.chunks
    heading = page.chunks.index("Action items")
    assert page.chunks[heading + 2: heading + 4] == ["Maya", "(you)"]
    for section in ("DECISIONS (1)", "BLOCKERS (1)", "UNANSWERED QUESTIONS (1)", "WORTH ASKING NEXT"):
        assert section in text
    assert "Who signs off on the <i>final</i> price list?" in text and "asked by Daniel" in text
    assert "Follow up: Who signs off" not in text  # not said twice: it is listed as unanswered
    assert "[important] What could make us miss the plan" in text  # a suggested question, with its priority
    for title in ("Decisions", "Blockers", "Unanswered questions", "Worth asking next"):
        assert title in page.chunks

    [daniel] = mailbox.to(DANIEL)
    assert list(action_groups(daniel.part("plain")))[0] == "Daniel (you)"
    assert daniel.message["Message-ID"] != msg["Message-ID"]


def test_a_deferred_recipient_is_retried_alone_and_no_one_is_mailed_twice(app, mailbox, meeting):
    put_on_file(app, ("Maya", MAYA), ("Daniel", DANIEL), ("Lena", LENA))
    mailbox.answers[DANIEL] = ["451 4.3.0 Mailbox busy, try again later"]
    job = job_row(app, app.runner.submit(meeting, INFO, targets=["email:participants"]))
    [delivery] = job["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 2)
    assert [reply[:3] for address, reply in mailbox.rcpt_log if address == DANIEL] == ["451", "250"]
    assert Counter(r for m in mailbox.received for r in m.rcpt_to) == {MAYA: 1, DANIEL: 1, LENA: 1}

    # The outbox row sent again, as after a crash before its receipt was written: every reader is on record.
    with app.session() as s:
        row = s.query(Delivery).one()
        row.status, row.next_attempt_at, delivery_id = "pending", row.created_at, row.id
    app.runner.run("deliver", delivery_id)
    assert len(mailbox.received) == 3 and job_row(app, job["id"])["deliveries"][0]["status"] == "delivered"
    with app.session() as s:
        sent = people.sends_for(s, delivery["key"])
    assert {a: r.status for a, r in sent.items()} == {MAYA: "sent", DANIEL: "sent", LENA: "sent"}
    assert all(r.reply.startswith("250") for r in sent.values())


def test_a_server_that_is_down_leaves_the_delivery_pending_and_retry_sends_it(tmp_path, database_url, meeting):
    box = Mailbox()  # not listening yet
    app = App(settings(tmp_path, database_url, box.url, inline_retry_wait=0))
    try:
        put_on_file(app, ("Maya", MAYA))
        job_id = app.runner.submit(meeting, INFO, targets=["email:participants"])
        [delivery] = job_row(app, job_id)["deliveries"]
        assert delivery["status"] == "pending" and f"could not connect to 127.0.0.1:{box.port}" in delivery["error"]
        box.start()
        time.sleep(0.2)  # the retry comes due (backoff 0.05 s)
        app.runner.retry(job_id)
        [delivery] = job_row(app, job_id)["deliveries"]
        assert delivery["status"] == "delivered" and [r.rcpt_to for r in box.received] == [[MAYA]]
    finally:
        box.stop()
        app.engine.dispose()


def test_a_550_for_one_address_fails_only_that_one_and_a_fixed_address_gets_it_on_retry(app, mailbox, meeting):
    put_on_file(app, ("Maya", MAYA), ("Daniel", DANIEL), ("Lena", LENA))
    mailbox.refuse[DANIEL] = "550 5.1.1 <daniel@example.com>: Recipient address rejected: mailbox unavailable"
    job_id = app.runner.submit(meeting, INFO, targets=["email:participants"])
    [delivery] = job_row(app, job_id)["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("failed", 1)
    assert "sent to 2 of 3" in delivery["error"] and "daniel@example.com (550 5.1.1" in delivery["error"]
    assert Counter(r for m in mailbox.received for r in m.rcpt_to) == {MAYA: 1, LENA: 1}

    app.runner.retry(job_id)  # nothing has changed: the refused address is not tried again, no one mailed twice
    assert job_row(app, job_id)["deliveries"][0]["status"] == "failed"
    assert len(mailbox.received) == 2 and sum(a == DANIEL for a, _ in mailbox.rcpt_log) == 1

    with app.session() as s:  # the address is fixed on file
        people.remove_person(s, repo.get_or_create_workspace(s), DANIEL)
    put_on_file(app, ("Daniel", "dan@example.com"))
    app.runner.retry(job_id)
    assert job_row(app, job_id)["deliveries"][0]["status"] == "delivered"
    assert Counter(r for m in mailbox.received for r in m.rcpt_to) == {MAYA: 1, LENA: 1, "dan@example.com": 1}


def test_people_who_unsubscribed_are_never_mailed_and_explicit_addresses_are(app, mailbox, meeting):
    put_on_file(app, ("Maya", MAYA), ("Daniel", DANIEL))
    with app.session() as s:
        people.opt_out(s, repo.get_or_create_workspace(s).id, "MAYA@example.com")
    targets = ["email:participants", f"email:{MAYA}", "email:guest@example.org"]
    job = job_row(app, app.runner.submit(meeting, INFO, targets=targets))
    status = {d["target"]: (d["status"], d["error"]) for d in job["deliveries"]}
    assert status["email:participants"] == ("delivered", None)
    assert status[f"email:{MAYA}"][0] == "failed" and "maya@example.com unsubscribed" in status[f"email:{MAYA}"][1]
    assert status["email:guest@example.org"] == ("delivered", None)
    assert sorted(r for m in mailbox.received for r in m.rcpt_to) == [DANIEL, "guest@example.org"]
    [guest] = mailbox.to("guest@example.org")
    assert list(action_groups(guest.part("plain")))[0] == "Daniel"  # no "you" for a reader the meeting doesn't know


def test_nobody_on_file_or_no_smtp_fails_the_delivery_with_what_to_do(tmp_path, database_url, meeting):
    app = App(settings(tmp_path, database_url, ""))
    try:
        job = job_row(app, app.runner.submit(meeting, INFO, targets=["email:participants"]))
        assert "set ONNO_SMTP_URL" in job["deliveries"][0]["error"]
        app.settings.smtp_url = "smtp://127.0.0.1:9"
        job = job_row(app, app.runner.submit(meeting, INFO, targets=["email:participants"]))
        [delivery] = job["deliveries"]
        assert delivery["status"] == "failed" and "no one to e-mail" in delivery["error"]
        assert "Maya has no address on file" in delivery["error"] and "onno people add" in delivery["error"]
    finally:
        app.engine.dispose()


def web(app: App, *requests: tuple[str, str]) -> list[tuple[int, str]]:
    async def go():
        out = []
        async with TestClient(TestServer(make_web_app(app))) as client:
            for method, path in requests:
                if method == "POST":  # what a mail client's one-click sends (RFC 8058 section 3.2)
                    response = await client.post(path, data="List-Unsubscribe=One-Click",
                                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
                else:
                    response = await client.get(path)
                out.append((response.status, await response.text()))
        return out

    return asyncio.run(go())


def opted_out(app: App) -> dict[str, bool]:
    with app.session() as s:
        return {p.email: p.opted_out for p in people.list_people(s, repo.get_or_create_workspace(s))}


def test_one_click_unsubscribe_through_the_web_app(app, mailbox, meeting):
    put_on_file(app, ("Maya", MAYA), ("Daniel", DANIEL))
    app.runner.submit(meeting, INFO, targets=["email:participants"])
    [mail] = mailbox.to(MAYA)
    path = str(mail.message["List-Unsubscribe"]).strip("<>").removeprefix("https://onno.test")
    token = path.rsplit("/", 1)[1]
    [(status, page)] = web(app, ("GET", path))
    # A GET (a link scanner, a preview) only asks; the button POSTs to the same URL.
    assert status == 200 and MAYA in page and '<form method="post"' in page and "<button" in page
    assert opted_out(app) == {MAYA: False, DANIEL: False}
    # The link as written in the visible footer is the same one.
    assert f'href="https://onno.test{path}"' in mail.part("html")

    payload, sig = token.split(".")
    forged = [make_token("another-key", 1, DANIEL), f"{make_token(SECRET, 1, DANIEL).split('.')[0]}.{sig}",
              f"{payload}.{sig[:-1]}{'A' if sig[-1] != 'A' else 'B'}", "garbage", f"{payload}."]
    answers = web(app, *[(m, f"/unsubscribe/{t}") for t in forged for m in ("GET", "POST")])
    assert [s for s, _ in answers] == [404] * len(answers)
    assert all("not valid" in page for _, page in answers)
    assert opted_out(app) == {MAYA: False, DANIEL: False}

    [(status, page), (again, _)] = web(app, ("POST", path), ("POST", path))
    assert (status, again) == (200, 200) and "You are unsubscribed" in page
    assert opted_out(app) == {MAYA: True, DANIEL: False}

    app.runner.submit(meeting, INFO, targets=["email:participants"])
    assert Counter(r for m in mailbox.received for r in m.rcpt_to) == {MAYA: 1, DANIEL: 2}


def test_cli_people_and_submit_deliver_email_participants_in_process(tmp_path, database_url, mailbox, meeting,
                                                                       monkeypatch):
    for key, value in {"DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url, "SMTP_URL": mailbox.url,
                       "MAIL_FROM": FROM, "PUBLIC_URL": "https://onno.test", "SECRET_KEY": SECRET}.items():
        monkeypatch.setenv(f"ONNO_{key}", value)
    monkeypatch.delenv("ONNO_BROKER_URL", raising=False)
    runner = CliRunner()

    def onno(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    assert onno("people", "list").stdout.startswith("No one on file yet")
    assert onno("people", "add", "Maya", "Maya@Example.com").stdout.strip() == "Added Maya <maya@example.com>."
    assert onno("people", "add", "Daniel Berg", DANIEL).exit_code == 0  # "Daniel" in the meeting
    bad = onno("people", "add", "Lena", "lena-at-example")
    assert bad.exit_code == 1 and "not an e-mail address" in bad.stderr
    listed = onno("people", "list").stdout
    assert "Daniel Berg  daniel@example.com" in listed and "maya@example.com" in listed

    out = onno("submit", str(meeting), "--title", TITLE, "--type", "planning", "--date", "2026-11-16",
               "--deliver", "email:participants")
    assert out.exit_code == 0, out.output
    assert "email:participants: delivered" in out.stderr
    assert sorted(r for m in mailbox.received for r in m.rcpt_to) == [DANIEL, MAYA]
    [daniel] = mailbox.to(DANIEL)
    assert daniel.message["To"].addresses[0].display_name == "Daniel Berg"
    assert list(action_groups(daniel.part("plain")))[0] == "Daniel (you)"

    refused = onno("submit", str(meeting), "--deliver", "email:nobody")
    assert refused.exit_code == 1 and "Bad email target" in refused.stderr

    # A Slack team's people are put on file by its workspace id, which `onno workspaces` lists.
    from onno.service import App
    from storage import slack as slack_repo

    a = App()
    with a.session() as s:
        team_id = slack_repo.team_workspace(s, "T0TEAM", "Acme").id
    a.engine.dispose()
    assert f"{team_id:>4}  slack    Acme  (T0TEAM)" in onno("workspaces").stdout
    assert onno("people", "add", "Omar", "omar@example.com", "--workspace", str(team_id)).exit_code == 0
    assert "omar@example.com" in onno("people", "list", "--workspace", str(team_id)).stdout
    assert "omar@example.com" not in onno("people", "list").stdout  # not this machine's own workspace
    from storage import mail

    a = App()
    with a.session() as s:  # an address typed in Slack waits for its confirmation
        mail.put_on_file(s, repo.workspace_by_id(s, team_id), chat_user="U_ANA", name="Ana", email="ana@example.com",
                         verified=False)
    a.engine.dispose()
    listed = onno("people", "list", "--workspace", str(team_id)).stdout
    assert "ana@example.com  (waiting to confirm)" in listed and "omar@example.com\n" in listed
    missing = onno("people", "list", "--workspace", "999")
    assert missing.exit_code == 1 and "There is no workspace 999" in missing.stderr


def test_a_title_with_line_breaks_is_one_line_at_intake_and_in_the_subject(app, mailbox, meeting):
    """CR/LF in a title used to make every delivery impossible (retried as transient eight times)."""
    put_on_file(app, ("Maya", MAYA))
    info = MeetingInfo(title="Launch\r\nBcc: evil@example.com\n\tplanning", type="planning",
                       date=dt.date(2026, 11, 16), participants=["Maya\r\n", "\n"])
    job = job_row(app, app.runner.submit(meeting, info, targets=["email:participants"]))
    [delivery] = job["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 1)
    [mail] = mailbox.received
    assert mail.message["Subject"].startswith("Launch Bcc: evil@example.com planning (16 Nov)")
    assert mail.message["Bcc"] is None and mail.rcpt_to == [MAYA]
    _, result = stored_result(app, job)
    assert result["meeting"]["title"] == "Launch Bcc: evil@example.com planning"
    assert result["meeting"]["participants"] == ["Maya"]
    listed = CliRunner().invoke(main, ["meetings", "list"], env={"ONNO_DATA_DIR": str(app.settings.data_dir),
                                                                 "ONNO_DATABASE_URL": app.settings.database_url})
    assert len(listed.output.strip().splitlines()) == 1


def test_a_header_the_mail_library_refuses_fails_once_as_permanent(app, mailbox, meeting):
    put_on_file(app, ("Maya", MAYA))
    with app.session() as s:  # an address stored before addresses were checked: it cannot be a header
        people.person_by_email(s, repo.get_or_create_workspace(s), MAYA).email = MAYA + "\r\nBcc: evil@example.com"
    job = job_row(app, app.runner.submit(meeting, INFO, targets=["email:participants"]))
    [delivery] = job["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("failed", 1)
    assert "could not be written" in delivery["error"] and "onno jobs retry" in delivery["error"]
    assert mailbox.received == []
