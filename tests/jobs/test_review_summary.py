"""A reviewed meeting's e-mail says its summary again from what goes out; after approval nothing changes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from onno.cli import main
from pipeline.findings.summary import summarize_result
from storage import repository as repo
from storage import review as review_repo
from tests.jobs.test_review import FROM, INFO, READER, app, meeting, review_first  # noqa: F401


def stored_result(app, meeting_id: int) -> tuple[dict, dict]:  # noqa: F811
    """(the result as found, the result as its held deliveries carry it)."""
    with app.session() as s:
        found = repo.meeting_result_dict(repo.get_meeting(s, repo.get_or_create_workspace(s), meeting_id))
        return found, review_repo.reviewed_result(s, meeting_id, found, summarize=summarize_result)


def test_a_dropped_item_leaves_the_summary_and_an_edit_enters_it(app, mailbox, meeting):  # noqa: F811
    review_first(app)
    job_id = app.runner.submit(meeting, INFO, targets=[f"email:{READER}"])
    with app.session() as s:
        from storage import jobs as jobs_repo

        meeting_id = jobs_repo.get_job(s, job_id).meeting_id
    found, as_sent = stored_result(app, meeting_id)
    assert "pricing" in found["summary"]
    assert as_sent["summary"] == found["summary"]  # reviewed but unchanged: the summary as it was found

    with app.session() as s:
        items = review_repo.action_items(s, meeting_id)
        review_repo.review_finding(s, next(f for f in items if "pricing" in f.text), status="dropped")
        review_repo.review_finding(s, next(f for f in items if "onboarding" in f.text),
                                   edits={"text": "Rewrite the welcome e-mail series"})
    _found, as_sent = stored_result(app, meeting_id)
    assert "pricing" not in as_sent["summary"] and "rewrite the welcome e-mail series" in as_sent["summary"]
    assert as_sent["summary"].startswith("Decided: ") and f" {len(items) - 1} action items: " in as_sent["summary"]

    assert len(app.runner.approve(meeting_id, user="maya")) == 1
    [mail] = mailbox.to(READER)
    text = " ".join(mail.part("plain").split())
    assert "pricing" not in text and "pricing" not in mail.part("html")
    assert "rewrite the welcome e-mail series" in text  # in the summary paragraph, as the summary words it

    with app.session() as s, pytest.raises(review_repo.ReviewClosed, match="what was sent is sent"):
        review_repo.review_finding(s, items[0], status="approved")  # what was sent is sent


def test_edits_are_checked_the_same_everywhere():
    edits, errors = review_repo.check_edits(text="  Book   the room ", owner="", due="2026-12-01")
    assert edits == {"text": "Book the room", "owner": None, "due": "2026-12-01"} and errors == {}
    edits, errors = review_repo.check_edits(text=" ", due="Friday")
    assert set(errors) == {"text", "due"} and edits == {}
    assert review_repo.check_edits(due="")[0] == {"due": None}  # empty: no due date


def test_cli_refuses_changes_after_approval(tmp_path, database_url, monkeypatch, mailbox, meeting):  # noqa: F811
    for key, value in {"ONNO_DATA_DIR": str(tmp_path / "data"), "ONNO_DATABASE_URL": database_url,
                       "ONNO_SMTP_URL": mailbox.url, "ONNO_MAIL_FROM": FROM, "ONNO_SECRET_KEY": "test-secret-key-0123456789",
                       "ONNO_PUBLIC_URL": "https://onno.test"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("ONNO_BROKER_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(main, ["settings", "review-first", "on"]).exit_code == 0
    out = runner.invoke(main, ["submit", str(meeting), "--title", "Launch planning", "--deliver", f"email:{READER}"])
    job_id = out.stdout.strip().splitlines()[-1]
    shown = runner.invoke(main, ["jobs", "show", job_id, "--format", "json"]).stdout
    import json

    meeting_id = str(json.loads(shown)["meeting_id"])
    bad = runner.invoke(main, ["review", meeting_id, "--due", "1", "next week"])
    assert bad.exit_code == 1 and "'next week' is not a date" in bad.stderr and "YYYY-MM-DD" in bad.stderr
    assert runner.invoke(main, ["review", meeting_id, "--approve"]).exit_code == 0
    late = runner.invoke(main, ["review", meeting_id, "--drop", "1"])
    assert late.exit_code == 1 and "what was sent is sent" in late.stderr
    assert len(mailbox.received) == 1
