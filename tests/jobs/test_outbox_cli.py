"""`onno outbox`: everything that left Onno or is waiting to (results, team notices), its state and its receipts."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from onno import notices
from onno.cli import main
from onno.service import App
from onno.settings import Settings
from storage import repository as repo
from tests import media
from tests.jobs.conftest import SECRET

VTT = media.CORPUS / "dev-01-platform-standup.vtt"


@pytest.fixture
def cli(tmp_path, database_url, monkeypatch):
    monkeypatch.setenv("ONNO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ONNO_DATABASE_URL", database_url)
    monkeypatch.setenv("ONNO_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("ONNO_DELIVERY_BACKOFF", "0.05")
    monkeypatch.delenv("ONNO_BROKER_URL", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


def test_outbox_lists_and_shows_results_and_notices_with_their_attempts_and_receipts(cli, receiver, tmp_path,
                                                                                     database_url):
    assert "Nothing has left Onno yet" in cli("outbox", "list").stdout
    receiver.answers = [503]  # the first try is refused for now, the second goes through
    out = cli("submit", str(VTT), "--type", "standup", "--deliver", f"webhook:{receiver.url}")
    assert out.exit_code == 0, out.output
    job_id = out.stdout.strip().splitlines()[-1]
    a = App(Settings(data_dir=tmp_path / "data", database_url=database_url))
    try:
        with a.session() as s:  # a team notice for this machine's workspace: nowhere to post it, so only logged
            key = notices.create(s, repo.get_or_create_workspace(s).id, key="test-notice", kind="test",
                                 text="Something the team must know.", hint="Do this.")
        notices.send_new(a, [key])
    finally:
        a.engine.dispose()

    listed = json.loads(cli("outbox", "list", "--format", "json").stdout)
    assert [(r["category"], r["status"]) for r in listed] == [("notice", "delivered"), ("result", "delivered")]
    notice, result = listed
    assert (result["kind"], result["what"], result["job_id"], result["attempts"]) == (
        "webhook", f"webhook:{receiver.url}", job_id, 2)
    assert [r["status"] for r in receiver.requests] == [503, 200] and receiver.requests[0]["key"] == result["key"]
    assert [(r["destination"], r["ref"]) for r in notice["receipts"]] == [("log", "logged")]

    text = cli("outbox", "list").stdout.splitlines()
    assert len(text) == 2 and "notice" in text[0] and "Something the team must know." in text[0]
    assert "result" in text[1] and "delivered" in text[1] and "2x" in text[1]
    assert f"(onno outbox show {result['id']})" in cli("jobs", "show", job_id).stdout
    shown = cli("outbox", "show", str(result["id"])).stdout
    assert f"onno jobs show {job_id}" in shown and "delivered after 2 attempt(s)" in shown
    assert "went     log: logged" in cli("outbox", "show", str(notice["id"])).stdout
    assert json.loads(cli("outbox", "show", str(notice["id"]), "--format", "json").stdout) == notice
    assert "Nothing failed in the outbox" in cli("outbox", "list", "--status", "failed").stdout
    out = cli("outbox", "show", "999")
    assert out.exit_code == 1 and "There is nothing 999 in the outbox" in out.stderr


def test_outbox_retry_sends_a_failed_result_again_and_refuses_what_went_out(cli, receiver):
    receiver.answers = [410]  # refused for good: failed at once
    out = cli("submit", str(VTT), "--type", "standup", "--deliver", f"webhook:{receiver.url}")
    assert out.exit_code == 0, out.output
    [item] = json.loads(cli("outbox", "list", "--status", "failed", "--format", "json").stdout)
    assert item["attempts"] == 1 and "410" in item["error"]

    out = cli("outbox", "retry", str(item["id"]))
    assert out.exit_code == 0 and f"Outbox {item['id']}: delivered after 1 attempt(s)" in out.stdout
    assert [r["status"] for r in receiver.requests] == [410, 200]
    assert len({r["key"] for r in receiver.requests}) == 1
    out = cli("outbox", "retry", str(item["id"]))
    assert out.exit_code == 1 and "is delivered; there is nothing to retry" in out.stderr
    assert len(receiver.requests) == 2


def test_outbox_retry_sends_a_team_notice_that_had_given_up(cli, tmp_path, database_url):
    from sqlalchemy import update

    from storage.notices import TeamNotice

    cli("outbox", "list")  # makes the database
    a = App(Settings(data_dir=tmp_path / "data", database_url=database_url))
    try:
        with a.session() as s:
            notices.create(s, repo.get_or_create_workspace(s).id, key="gave-up", kind="test", text="Told late.")
            s.execute(update(TeamNotice).values(status="failed", attempts=8, last_error="gave up after 8 attempts"))
    finally:
        a.engine.dispose()
    [item] = json.loads(cli("outbox", "list", "--status", "failed", "--format", "json").stdout)
    out = cli("outbox", "retry", str(item["id"]))
    assert out.exit_code == 0 and f"Outbox {item['id']}: delivered after 1 attempt(s)" in out.stdout
    shown = json.loads(cli("outbox", "show", str(item["id"]), "--format", "json").stdout)
    assert [r["destination"] for r in shown["receipts"]] == ["log"] and shown["error"] is None
