"""Review first: Notion and e-mail wait for a person's approval; then what was approved goes out, once."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from onno.cli import main
from onno.service import App
from onno.settings import Settings
from onno.sweeper import sweep_once
from pipeline.findings.summary import summarize_result
from pipeline.types import MeetingInfo
from storage import jobs as jobs_repo
from storage import repository as repo
from storage import review as review_repo
from storage.models import Delivery
from tests.jobs.conftest import SECRET

FROM = "Onno <onno@onno.test>"
READER = "ana@example.com"
TRANSCRIPT = """\
[00:00:01] Maya: Morning. Let's go through the launch checklist.
[00:00:06] Daniel: I'll send the pricing draft and FAQ to legal by Friday.
[00:00:13] Maya: Great. Lena, can you update the onboarding emails by Wednesday?
[00:00:19] Lena: Yes, I'll update the onboarding emails by Wednesday.
[00:00:31] Maya: We decided to launch on the 1st of December.
[00:00:45] Maya: I will book the launch retro for next Monday.
"""
INFO = MeetingInfo(title="Launch planning", type="planning", date=dt.date(2026, 11, 16), participants=[])


@pytest.fixture
def app(tmp_path, database_url, mailbox):
    a = App(Settings(data_dir=tmp_path / "data", database_url=database_url, webhook_secret=SECRET,
                     smtp_url=mailbox.url, mail_from=FROM, public_url="https://onno.test", secret_key="test-secret-key-0123456789",
                     delivery_backoff=0.05, inline_retry_wait=5))
    yield a
    a.engine.dispose()


@pytest.fixture
def meeting(tmp_path) -> Path:
    path = tmp_path / "launch.txt"
    path.write_text(TRANSCRIPT)
    return path


def review_first(app: App, on: bool = True) -> None:
    with app.session() as s:
        review_repo.set_review_first(s, repo.get_or_create_workspace(s), on)


def job_row(app: App, job_id: str) -> dict:
    from onno.jobs import job_dict

    with app.session() as s:
        return job_dict(jobs_repo.get_job(s, job_id))


def statuses(job: dict) -> dict[str, str]:
    return {d["target"].partition(":")[0]: d["status"] for d in job["deliveries"]}


def test_off_by_default_everything_goes_at_once(app, mailbox, receiver, meeting):
    job = job_row(app, app.runner.submit(meeting, INFO, targets=[f"webhook:{receiver.url}", f"email:{READER}"]))
    assert statuses(job) == {"webhook": "delivered", "email": "delivered"}
    assert len(mailbox.to(READER)) == 1
    assert app.runner.approve(job["meeting_id"]) == []  # never held: nothing to release


def test_held_until_approved_then_sent_once_with_only_the_approved_items(app, mailbox, receiver, meeting):
    review_first(app)
    job_id = app.runner.submit(meeting, INFO, targets=[f"webhook:{receiver.url}", f"email:{READER}"])
    job = job_row(app, job_id)
    assert statuses(job) == {"webhook": "delivered", "email": "held"}
    assert mailbox.received == []
    [hook] = receiver.requests  # the review surface gets everything found, at once
    found = hook["body"]["result"]["action_items"]
    assert len(found) >= 3

    meeting_id = job["meeting_id"]
    with app.session() as s:
        items = review_repo.action_items(s, meeting_id)
        drop = next(f for f in items if "pricing" in f.text)
        edit = next(f for f in items if "onboarding" in f.text)
        dropped_text = drop.text
        review_repo.review_finding(s, drop, status="dropped", user="maya")
        review_repo.review_finding(s, edit, edits={"text": "Rewrite the welcome e-mail series", "owner": "Lena",
                                                   "due": "2026-11-25"}, user="maya")
    assert mailbox.received == []  # reviewing is not approving

    released = app.runner.approve(meeting_id, user="maya")
    assert len(released) == 1
    assert statuses(job_row(app, job_id)) == {"webhook": "delivered", "email": "delivered"}
    [mail] = mailbox.to(READER)
    listed = mail.part("plain").split("ACTION ITEMS")[1].split("DECISIONS")[0]
    assert listed.startswith(f" ({len(found) - 1})")
    assert "Rewrite the welcome e-mail series\n    due Wed 25 Nov" in listed.replace("\r\n", "\n")
    assert dropped_text not in listed and "pricing" not in listed
    with app.session() as s:
        out = review_repo.reviewed_result(s, meeting_id, repo.meeting_result_dict(
            repo.get_meeting(s, repo.get_or_create_workspace(s), meeting_id)), summarize=summarize_result)
    texts = [i["text"] for i in out["action_items"]]
    assert dropped_text not in texts and "Rewrite the welcome e-mail series" in texts
    assert len(texts) == len(found) - 1

    assert app.runner.approve(meeting_id, user="maya") == []  # approving twice sends nothing more
    app.runner.retry(job_id)
    assert len(mailbox.received) == 1 and len(receiver.requests) == 1


def test_the_sweeper_and_retry_leave_held_rows_alone(app, mailbox, meeting):
    review_first(app)
    job_id = app.runner.submit(meeting, INFO, targets=[f"email:{READER}"])
    with app.session() as s:  # held long ago: a pending row this old would be resent
        for d in s.query(Delivery).filter_by(job_id=job_id):
            d.enqueued_at = d.next_attempt_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    assert sweep_once(app)["deliveries"] == 0
    assert "nothing to retry" in app.runner.retry(job_id)
    app.runner.run("deliver", _delivery_id(app, job_id))  # a stray message for it: not claimable while held
    assert statuses(job_row(app, job_id)) == {"email": "held"} and mailbox.received == []


def _delivery_id(app: App, job_id: str) -> int:
    with app.session() as s:
        return s.query(Delivery.id).filter_by(job_id=job_id).scalar()


def test_cli_settings_review_and_approve(tmp_path, database_url, monkeypatch, mailbox, meeting):
    for key, value in {"ONNO_DATA_DIR": str(tmp_path / "data"), "ONNO_DATABASE_URL": database_url,
                       "ONNO_SMTP_URL": mailbox.url, "ONNO_MAIL_FROM": FROM, "ONNO_SECRET_KEY": "test-secret-key-0123456789",
                       "ONNO_PUBLIC_URL": "https://onno.test"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("ONNO_BROKER_URL", raising=False)
    runner = CliRunner()

    def cli(*args):
        out = runner.invoke(main, list(args), catch_exceptions=False)
        assert out.exit_code == 0, out.output
        return out

    assert "off" in cli("settings", "review-first").stdout
    assert "on" in cli("settings", "review-first", "on").stdout
    out = cli("submit", str(meeting), "--title", "Launch planning", "--deliver", f"email:{READER}")
    job_id = out.stdout.strip().splitlines()[-1]
    assert "held for review" in out.stderr
    job = json.loads(cli("jobs", "show", job_id, "--format", "json").stdout)
    assert job["deliveries"][0]["status"] == "held"
    assert "held for review" in cli("jobs", "show", job_id).stdout
    meeting_id = str(job["meeting_id"])
    listing = cli("review", meeting_id).stdout
    assert "  1. " in listing and f"email:{READER}" in listing and mailbox.received == []
    lines = [line for line in listing.splitlines() if line[:5].strip().rstrip(".").isdigit()]
    n_pricing = next(str(i) for i, line in enumerate(lines, 1) if "pricing" in line)
    n_other = next(str(i) for i, line in enumerate(lines, 1) if "pricing" not in line)
    out = cli("review", meeting_id, "--drop", n_pricing, "--edit", n_other, "Book the retro room",
              "--owner", n_other, "Sam", "--due", n_other, "2026-12-01", "--approve").stdout
    assert "[dropped]" in out and "Book the retro room — Sam, due 2026-12-01" in out
    assert "sending 1 held delivery" in out
    [mail] = mailbox.to(READER)
    assert "Book the retro room" in mail.part("plain")
    assert "Already approved" in cli("review", meeting_id, "--approve").stdout
    assert len(mailbox.received) == 1
    bad = runner.invoke(main, ["review", meeting_id, "--drop", "99"])
    assert bad.exit_code == 1 and "no action item 99" in bad.stderr
