"""Plans gate intake: what a user sees when a plan does not cover a job, and the minutes metered."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from billing.accounts import reserve
from onno.cli import main
from storage import repository as repo
from tests import media
from tests.billing.conftest import billing_env

VTT = media.CORPUS / "dev-01-platform-standup.vtt"  # 3.5 minutes


@pytest.fixture
def cli(tmp_path, database_url, monkeypatch, fake_stripe):
    monkeypatch.setenv("ONNO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ONNO_DATABASE_URL", database_url)
    monkeypatch.setenv("ONNO_PUBLIC_URL", "https://onno.test")
    monkeypatch.delenv("ONNO_BROKER_URL", raising=False)
    for key, value in billing_env(fake_stripe).items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


def plan(cli) -> dict:
    return json.loads(cli("plan", "--format", "json").stdout)


def use_minutes(minutes: float) -> None:
    from onno.service import App

    app = App()
    with app.session() as s:
        reserve(s, repo.get_or_create_workspace(s), job_id=None, minutes=minutes)
    app.engine.dispose()


def test_free_plan_refuses_integrations_with_what_it_includes_and_an_upgrade_link(cli):
    out = cli("submit", str(VTT), "--deliver", "webhook:https://hooks.example.com/onno")
    assert out.exit_code == 1
    assert "The Free plan does not include webhook delivery." in out.stderr
    assert "Free: 120 minutes a month" in out.stderr and "Pro includes it: https://onno.test/billing/" in out.stderr
    assert "plan=pro" in out.stderr
    assert "No jobs yet" in cli("jobs", "list").stdout  # refused at intake: nothing stored
    assert plan(cli)["minutes_used"] == 0


def test_over_the_allowance_is_refused_before_anything_is_stored(cli):
    use_minutes(118)
    out = cli("submit", str(VTT))
    assert out.exit_code == 1
    assert "This recording is 4 min and the Free plan has 2 of its 120 minutes left" in out.stderr
    assert "Nothing was processed or stored" in out.stderr and "/billing/" in out.stderr
    assert "No jobs yet" in cli("jobs", "list").stdout
    out = cli("process", str(VTT))
    assert out.exit_code == 1 and "minutes left" in out.stderr


def test_minutes_are_reserved_at_intake_and_corrected_when_the_job_ends(cli, tmp_path):
    out = cli("submit", str(VTT), "--type", "standup")
    assert out.exit_code == 0, out.stderr
    used = plan(cli)["minutes_used"]
    assert used == pytest.approx(211.3 / 60, abs=0.1)  # the transcript's real length, settled at the end
    bad = tmp_path / "broken.ogg"
    bad.write_bytes(media.SAMPLE.read_bytes()[:5000])
    assert cli("submit", str(bad)).exit_code == 1
    assert plan(cli)["minutes_used"] == pytest.approx(used)  # a failed job costs nothing


def test_plan_shows_usage_and_links(cli):
    use_minutes(30)
    text = cli("plan").stdout
    assert "Free plan: 30 of 120 minutes used, 90 left" in text
    assert "Upgrade: https://onno.test/billing/" in text
    out = cli("plan", "upgrade", "pro")
    assert out.exit_code == 0 and out.stdout.strip() == "https://checkout.test/cs_test_1"


def test_two_uploads_at_the_limit_cannot_both_get_in(cli):
    """The minutes check and the reservation are one step per workspace: the second upload waits and is refused."""
    import threading
    import time

    from billing.accounts import lock_usage
    from billing.gate import PlanLimit
    from onno.service import App
    from pipeline.types import MeetingInfo

    use_minutes(115)  # 5 left: room for one 3.5-minute recording, not two
    app = App()
    outcome = {}

    def second_upload():
        try:
            outcome["job"] = app.runner.submit(VTT, MeetingInfo(title="second"))
        except PlanLimit as exc:
            outcome["refused"] = str(exc)

    with app.session() as s:  # the first upload, caught between its check and its commit
        ws = repo.get_or_create_workspace(s)
        lock_usage(s, ws)
        reserve(s, ws, job_id=None, minutes=3.5)
        rival = threading.Thread(target=second_upload)
        rival.start()
        time.sleep(1.0)
        assert rival.is_alive(), "the second upload did not wait for the first one's reservation"
    rival.join(60)
    app.engine.dispose()
    assert "refused" in outcome and "has 2 of its 120 minutes left" in outcome["refused"]
    assert "No jobs yet" in cli("jobs", "list").stdout
    assert plan(cli)["minutes_used"] == 118.5


def test_a_live_meeting_admitted_at_its_start_is_processed_even_past_the_allowance(cli):
    """Gated at intake, never half-way: a Discord meeting that ran over the minutes left is counted, not lost."""
    from billing.gate import PlanLimit
    from onno.service import App
    from pipeline.types import MeetingInfo

    use_minutes(119)
    app = App()
    with pytest.raises(PlanLimit):  # an upload of the same length is refused at intake
        app.runner.submit(VTT, MeetingInfo(title="upload"))
    job_id = app.runner.submit(VTT, MeetingInfo(title="live"), admitted=True)
    app.engine.dispose()
    assert json.loads(cli("jobs", "show", job_id, "--format", "json").stdout)["status"] == "done"
    assert plan(cli)["minutes_used"] > 120
