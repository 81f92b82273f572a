"""Notion: connect, create a board, deliver meetings as cards exactly once, pull the board back, rate limits,
broken connections; against a local server that checks every request as Notion's API (2025-09-03) would."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from core.errors import InputError
from integrations import deliver as outbound
from integrations.notion.models import NotionCard, NotionConnection
from integrations.notion.ratelimit import TokenBucket
from integrations.notion.schema import build_mapping
from onno.cli import main
from onno.service import App
from onno.settings import Settings
from pipeline.types import MeetingInfo
from storage import repository as repo
from storage.models import Delivery, Ticket, TicketHistory, utcnow
from tests.integrations.notion_fake import FakeNotion, NotionServer

SECRET = "test-secret-key-0123456789"
ONNO = Path(sys.executable).with_name("onno")
STANDUP = """\
[00:00:01] Maya: Morning everyone. Quick update on saved payment cards: that is finished and merged.
[00:00:09] Daniel: Great. I will write the release notes for the payment cards by Friday.
[00:00:17] Lena: I'll fix the flaky checkout test tomorrow.
[00:00:24] Maya: Daniel, can you also review the address autocomplete design by Wednesday?
[00:00:31] Daniel: Sure, I'll review the autocomplete design by Wednesday.
[00:00:38] Lena: Checkout error tracking is underway, I started on it yesterday.
"""
ACTIONS = ["Write the release notes for the payment cards", "Fix the flaky checkout test",
           "Review the address autocomplete design"]


@pytest.fixture
def notion():
    server = NotionServer(FakeNotion())
    fake = server.state
    # Each test its own integration token: rate-limit buckets are per token and process-wide, as in a worker.
    fake.token = fake.add_token(f"ntn_test_{uuid.uuid4().hex}")
    fake.maya = fake.add_user("Maya Cohen")
    fake.daniel = fake.add_user("Daniel Ruiz")  # Lena has no Notion account: her cards say her name in text
    yield server
    server.close()


@pytest.fixture
def board(notion):
    """A team's board as made in Notion, with the three tickets of the sample standup on it."""
    fake = notion.state
    db, ds = fake.add_board()
    fake.cards_by_title = {t: fake.add_card(ds, t, s) for t, s in [
        ("Saved payment cards", "In progress"), ("Checkout error tracking", "Not started"),
        ("Address autocomplete", "Not started")]}
    return db, ds


def make_settings(tmp_path, database_url, notion, **extra) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, secret_key=SECRET,
                    notion_api_url=notion.url, notion_rate=1000, delivery_backoff=0.05, inline_retry_wait=5,
                    **extra)


@pytest.fixture
def app(tmp_path, notion):
    a = App(make_settings(tmp_path, f"sqlite:///{tmp_path / 'onno.db'}", notion))
    yield a
    a.engine.dispose()


@pytest.fixture
def env(tmp_path, notion, monkeypatch):
    vars_ = {"ONNO_DATA_DIR": str(tmp_path / "data"), "ONNO_DATABASE_URL": f"sqlite:///{tmp_path / 'onno.db'}",
             "NOTION_API_URL": notion.url, "ONNO_SECRET_KEY": SECRET, "ONNO_NOTION_RATE": "1000",
             "ONNO_DELIVERY_BACKOFF": "0.05", "ONNO_INLINE_RETRY_WAIT": "5"}
    for k, v in vars_.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("ONNO_BROKER_URL", raising=False)
    monkeypatch.delenv("NOTION_TOKEN", raising=False)
    return vars_


@pytest.fixture
def cli(env):
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def transcript(tmp_path) -> Path:
    path = tmp_path / "standup.txt"
    path.write_text(STANDUP)
    return path


def info(title: str = "Checkout standup") -> MeetingInfo:
    return MeetingInfo(title=title, type="standup", date=dt.date(2026, 11, 16),
                       participants=["Maya", "Daniel", "Lena"])


def connect(app: App, notion: NotionServer, database_id: str, **kw):
    from integrations.notion import service

    with app.session() as s:
        ws_id = repo.get_or_create_workspace(s).id
    return service.connect(app, ws_id, token=notion.state.token, database=database_id, **kw)


def job(app: App, job_id: str) -> dict:
    from onno.jobs import job_dict
    from storage import jobs as jobs_repo

    with app.session() as s:
        return job_dict(jobs_repo.get_job(s, job_id))


def tickets(app: App) -> dict[str, Ticket]:
    with app.session() as s:
        return {t.title: t for t in repo.list_tickets(s, repo.get_or_create_workspace(s))}


def history(app: App, title: str) -> list[tuple]:
    with app.session() as s:
        t = s.scalar(select(Ticket).where(Ticket.title == title))
        return [(h.from_status, h.to_status, h.source) for h in
                s.scalars(select(TicketHistory).where(TicketHistory.ticket_id == t.id).order_by(TicketHistory.id))]


def action_cards(fake: FakeNotion, ds: str) -> list[dict]:
    return [p for p in fake.cards(ds) if fake.value(p, "Onno ID")]


# -- connecting -----------------------------------------------------------------------------------------------

def test_create_board_makes_a_ready_board_and_connects_it(cli, notion, tmp_path):
    fake = notion.state
    parent = fake.add_parent_page()
    out = cli("notion", "create-board", "--parent", parent.replace("-", ""), "--token", notion.state.token)
    assert out.exit_code == 0, out.output
    [db] = fake.databases.values()
    assert db["parent"] == {"type": "page_id", "page_id": parent}
    ds = fake.data_sources[db["data_sources"][0]["id"]]
    kinds = {n: p["type"] for n, p in ds["properties"].items()}
    assert kinds == {"Name": "title", "Status": "status", "Assignee": "people", "Owner": "rich_text",
                     "Due date": "date", "Meeting": "rich_text", "Link": "url", "Onno ID": "rich_text"}
    assert [o["name"] for o in ds["properties"]["Status"]["status"]["options"]] == ["Not started", "In progress",
                                                                                   "Done"]
    assert "Connected 'default'" in out.stdout and "TODO = 'Not started'" in out.stdout
    status = json.loads(cli("notion", "status", "--format", "json").stdout)
    assert status[0]["status"] == "ok" and status[0]["database_id"] == db["id"]
    # The token is kept encrypted: the database file never holds it in the clear.
    assert notion.state.token.encode() not in (tmp_path / "onno.db").read_bytes()
    assert fake.violations == []
    assert cli("notion", "disconnect").exit_code == 0
    assert "No Notion connection" in cli("notion", "status").stdout


def test_create_board_falls_back_to_a_select_where_status_cannot_be_created(cli, notion):
    fake = notion.state
    fake.reject_status_creation = True
    out = cli("notion", "create-board", "--parent", fake.add_parent_page(), "--token", notion.state.token, "--title", "Actions")
    assert out.exit_code == 0, out.output
    [ds] = fake.data_sources.values()
    status = ds["properties"]["Status"]
    assert status["type"] == "select"
    assert [o["name"] for o in status["select"]["options"]] == ["Not started", "In progress", "Done"]
    assert len(fake.violations) == 1  # the refused status property, as the real API refuses it


def test_connect_reads_the_schema_maps_it_and_pulls_the_board(cli, notion, app):
    fake = notion.state
    db, ds = fake.add_board({"Task": {"title": {}}, "Stage": {"select": {"options": [
        {"name": "Backlog"}, {"name": "Doing"}, {"name": "Shipped"}]}}, "Owner": {"people": {}},
        "Deadline": {"date": {}}, "Ticket": {"unique_id": {"prefix": "WEB"}}})
    fake.add_card(ds, "Dark mode", "Doing")
    fake.add_card(ds, "Old idea", None)  # no stage: a column we do not map, left alone
    out = cli("notion", "connect", "--token", notion.state.token, "--database", f"https://www.notion.so/acme/Board-{db.replace('-', '')}?v=1")
    assert out.exit_code == 0, out.output
    mapping = fake.data_sources[ds]["properties"]
    assert mapping["Onno ID"]["type"] == "rich_text"  # added: retries find cards by it
    with app.session() as s:
        conn = s.scalar(select(NotionConnection))
        m = conn.mapping
    assert (m["title"], m["status"], m["status_type"], m["assignee_people"], m["due"], m["key"]) == (
        "Task", "Stage", "select", "Owner", "Deadline", "Ticket")
    assert m["to_notion"] == {"TODO": "Backlog", "IN_PROGRESS": "Doing", "DONE": "Shipped"}
    [ticket] = tickets(app).values()
    assert (ticket.key, ticket.title, ticket.status) == ("WEB-1", "Dark mode", "IN_PROGRESS")
    assert history(app, "Dark mode") == [(None, "IN_PROGRESS", "notion")]
    assert fake.violations == []


def test_connect_takes_the_status_names_and_properties_it_is_given(cli, notion, app):
    fake = notion.state
    db, _ = fake.add_board({"Item": {"title": {}}, "Lane": {"select": {"options": [
        {"name": "Icebox"}, {"name": "Building"}, {"name": "Live"}, {"name": "Released"}]}},
        "Who": {"rich_text": {}}})
    out = cli("notion", "connect", "--token", notion.state.token, "--database", db, "--property", "status=Lane",
              "--property", "assignee=Who", "--status", "TODO=Icebox", "--status", "IN_PROGRESS=Building",
              "--status", "DONE=Live,Released")
    assert out.exit_code == 0, out.output
    with app.session() as s:
        m = s.scalar(select(NotionConnection)).mapping
    assert m["assignee_text"] == "Who" and m["assignee_people"] is None
    assert m["to_notion"]["DONE"] == "Live" and m["from_notion"]["Released"] == "DONE"
    bad = cli("notion", "connect", "--token", notion.state.token, "--database", db, "--property", "status=Lane",
              "--property", "due=Lane")
    assert bad.exit_code == 1 and "needs one of: date" in bad.stderr
    wrong = cli("notion", "connect", "--token", "ntn_wrong", "--database", db)
    assert wrong.exit_code == 1 and "401" in wrong.stderr


def test_status_mapping_follows_the_status_groups_whatever_the_options_are_called():
    ds = {"properties": {"Name": {"type": "title", "title": {}}, "Status": {"type": "status", "status": {
        "options": [{"id": "a", "name": "Queued"}, {"id": "b", "name": "Building"}, {"id": "c", "name": "QA"},
                    {"id": "d", "name": "Shipped"}],
        "groups": [{"name": "To-do", "option_ids": ["a"]}, {"name": "In progress", "option_ids": ["b", "c"]},
                   {"name": "Complete", "option_ids": ["d"]}]}}}}
    m = build_mapping(ds)
    assert m.to_notion == {"TODO": "Queued", "IN_PROGRESS": "Building", "DONE": "Shipped"}
    assert m.state_of("QA") == "IN_PROGRESS" and m.state_of("shipped") == "DONE" and m.state_of("Other") is None


# -- delivering a meeting -------------------------------------------------------------------------------------

def test_delivery_creates_a_card_per_action_item_and_moves_the_tickets_cards(database_url, tmp_path, notion, board,
                                                                                 transcript, request):
    fake = notion.state
    db, ds = board
    app = App(make_settings(tmp_path, database_url, notion))
    request.addfinalizer(app.engine.dispose)
    connect(app, notion, db)
    job_id = app.runner.submit(transcript, info(), targets=["notion"])
    j = job(app, job_id)
    assert j["status"] == "done" and j["deliveries"][0]["target"] == "notion:default"
    assert j["deliveries"][0]["status"] == "delivered", j["deliveries"][0]["error"]
    assert fake.violations == []

    cards = {fake.value(p, "Name"): p for p in action_cards(fake, ds)}
    assert sorted(cards) == sorted(ACTIONS)
    notes = cards["Write the release notes for the payment cards"]
    assert fake.value(notes, "Status") == "Not started"
    assert fake.value(notes, "Assignee") == [fake.daniel]
    assert fake.value(notes, "Due") == "2026-11-20"
    assert fake.value(notes, "Onno ID") == f"ONNO-{j['meeting_id']}-1"
    intro, quote = notes["children"][0]["paragraph"]["rich_text"], notes["children"][1]["quote"]["rich_text"]
    link = intro[1]["text"]["link"]["url"]
    assert link.startswith("http://127.0.0.1:8080/meetings/") and link.endswith("#t9")  # the moment it was said
    assert "Checkout standup" in intro[0]["text"]["content"] and "0:09" in intro[0]["text"]["content"]
    assert quote[0]["text"]["content"].startswith("Daniel: Great. I will write the release notes")
    lena = cards["Fix the flaky checkout test"]
    assert fake.value(lena, "Assignee") == []  # no Notion account and no text property: said in the card
    assert "Owner: Lena" in lena["children"][-1]["paragraph"]["rich_text"][0]["text"]["content"]
    review = cards["Review the address autocomplete design"]
    assert fake.value(review, "Assignee") == [fake.daniel] and fake.value(review, "Due") == "2026-11-18"

    # Ticket updates moved the existing cards; the pull before the push did not undo the meeting's moves.
    by_title = {fake.value(p, "Name"): p for p in fake.cards(ds)}
    assert fake.value(by_title["Saved payment cards"], "Status") == "Done"
    assert fake.value(by_title["Checkout error tracking"], "Status") == "In progress"
    assert fake.value(by_title["Address autocomplete"], "Status") == "Not started"
    assert history(app, "Saved payment cards") == [(None, "IN_PROGRESS", "notion"), ("IN_PROGRESS", "DONE", "meeting")]
    # The new cards are on our board too, so the next meeting can move them.
    t = tickets(app)
    assert t["Fix the flaky checkout test"].status == "TODO" and t["Fix the flaky checkout test"].key.startswith("ONNO-")
    with app.session() as s:
        assert s.query(NotionCard).filter(NotionCard.finding_id.is_not(None), NotionCard.page_id.is_not(None)).count() == 3


def test_the_board_is_pulled_before_matching_so_a_card_moved_in_notion_counts(app, notion, board, transcript):
    fake = notion.state
    db, ds = board
    connect(app, notion, db)
    # Someone finished "Checkout error tracking" in Notion after the last pull; the meeting then says it is
    # underway. Matching sees DONE -> IN_PROGRESS as a move back, from the board as the team left it.
    fake.move(fake.cards_by_title["Checkout error tracking"], "Done")
    job_id = app.runner.submit(transcript, info(), targets=["notion"])
    assert job(app, job_id)["deliveries"][0]["status"] == "delivered"
    assert ("TODO", "DONE", "notion") in history(app, "Checkout error tracking")


def test_a_retried_delivery_creates_no_duplicates(app, notion, board, transcript):
    fake = notion.state
    db, ds = board
    connect(app, notion, db)
    job_id = app.runner.submit(transcript, info(), targets=["notion"])
    assert len(action_cards(fake, ds)) == 3
    creates = len(fake.calls("POST", "^/v1/pages$"))
    with app.session() as s:  # the same delivery sent again, as after a lost receipt
        d = s.scalar(select(Delivery).where(Delivery.job_id == job_id))
        d.status, d.next_attempt_at, delivery_id = "pending", utcnow(), d.id
    app.runner.deliver(delivery_id)
    assert job(app, job_id)["deliveries"][0]["status"] == "delivered"
    assert len(action_cards(fake, ds)) == 3 and len(fake.calls("POST", "^/v1/pages$")) == creates
    assert fake.violations == []


def test_a_create_carried_out_but_never_answered_is_found_not_repeated(app, notion, board, transcript):
    """The create happens in Notion, the answer is lost (connection dropped): the retry finds the card."""
    fake = notion.state
    db, ds = board
    connect(app, notion, db)
    fake.drop_after_create = 1
    job_id = app.runner.submit(transcript, info(), targets=["notion"])
    [d] = job(app, job_id)["deliveries"]
    assert d["status"] == "delivered" and d["attempts"] == 2
    assert len(action_cards(fake, ds)) == 3 and len(fake.calls("POST", "^/v1/pages$")) == 3
    with app.session() as s:  # the pull before the retry found the card by its Onno ID and recorded it
        rows = s.scalars(select(NotionCard).where(NotionCard.onno_id.is_not(None))).all()
        assert len(rows) == 3 and all(r.page_id and r.ticket_id and r.state == "linked" for r in rows)
    assert history(app, ACTIONS[0]) == [(None, "TODO", "meeting")]


def test_without_an_onno_id_property_a_lost_answer_is_found_by_title(app, notion, board, transcript):
    """Someone deleted the Onno ID column: the card whose answer was lost is looked up by its title."""
    fake = notion.state
    db, ds = board
    connect(app, notion, db)
    fake.remove_property(ds, "Onno ID")
    fake.drop_after_create = 1
    job_id = app.runner.submit(transcript, info(), targets=["notion"])
    [d] = job(app, job_id)["deliveries"]
    assert d["status"] == "delivered" and d["attempts"] == 2
    titles = sorted(fake.value(p, "Name") for p in fake.cards(ds))
    assert titles == sorted(ACTIONS + ["Saved payment cards", "Checkout error tracking", "Address autocomplete"])
    queries = [r["body"].get("filter") for r in fake.calls("POST", "/query$") if r["body"]]
    assert {"property": "Name", "title": {"equals": ACTIONS[0]}} in queries
    with app.session() as s:
        assert s.query(NotionCard).count() == 6 and s.query(NotionCard).filter(NotionCard.page_id.is_(None)).count() == 0
    assert fake.violations == []


def test_a_process_killed_between_create_and_recording_leaves_no_duplicate(app, notion, board, transcript, env):
    """SIGKILL `onno submit` while Notion holds the answer to a create; the delivery then runs again."""
    fake = notion.state
    db, ds = board
    connect(app, notion, db)
    fake.block_after_create = 1
    proc = subprocess.Popen([str(ONNO), "submit", str(transcript), "--type", "standup", "--date", "2026-11-16",
                             "--participants", "Maya,Daniel,Lena", "--deliver", "notion"],
                            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        assert fake.created_event.wait(60), "the first card was never created"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        fake.release.set()
    assert len(action_cards(fake, ds)) == 1
    with app.session() as s:  # time passes: the dead process's lease on the delivery lapses
        d = s.scalar(select(Delivery))
        assert d.status == "sending"
        d.lease_expires_at, delivery_id = utcnow() - dt.timedelta(seconds=1), d.id
    app.runner.deliver(delivery_id)
    with app.session() as s:
        assert s.get(Delivery, delivery_id).status == "delivered"
    assert sorted(fake.value(p, "Name") for p in action_cards(fake, ds)) == sorted(ACTIONS)
    assert len(fake.calls("POST", "^/v1/pages$")) == 3  # one per action item, the first one before the kill


# -- pulling the board ----------------------------------------------------------------------------------------

def test_sync_pulls_cards_moved_renamed_and_added_in_notion(cli, app, notion, board):
    fake = notion.state
    db, ds = board
    connect(app, notion, db)
    fake.move(fake.cards_by_title["Address autocomplete"], "Done")
    fake.rename(fake.cards_by_title["Saved payment cards"], "Saved payment cards (v2)")
    fake.add_card(ds, "Apple Pay", "In progress")
    out = cli("notion", "sync")
    assert out.exit_code == 0, out.output
    assert "1 new tickets, 1 moved, 1 renamed" in out.stdout
    t = tickets(app)
    assert t["Address autocomplete"].status == "DONE" and t["Apple Pay"].status == "IN_PROGRESS"
    assert "Saved payment cards (v2)" in t
    assert history(app, "Address autocomplete")[-1] == ("TODO", "DONE", "notion")
    again = cli("notion", "sync")
    assert "0 new tickets, 0 moved, 0 renamed" in again.stdout
    board_json = json.loads(cli("board", "list", "--format", "json", "--history").stdout)
    moved = next(r for r in board_json if r["title"] == "Address autocomplete")
    assert moved["history"][-1]["source"] == "notion"


def test_the_sweeper_pulls_each_board_periodically_and_once_per_interval(tmp_path, notion, board):
    """Cards moved in Notion between meetings reach the tickets without anyone asking."""
    import datetime as dt

    from integrations.notion.models import NotionConnection
    from onno.sweeper import sweep_once

    a = App(make_settings(tmp_path, f"sqlite:///{tmp_path / 'onno.db'}", notion, notion_pull_interval=600))
    fake = notion.state
    connect(a, notion, board[0])
    fake.move(fake.cards_by_title["Address autocomplete"], "Done")
    assert sweep_once(a)["boards"] == 0  # pulled at connect, less than the interval ago
    assert tickets(a)["Address autocomplete"].status == "TODO"
    with a.session() as s:  # the interval passes
        conn = s.scalars(select(NotionConnection)).one()
        conn.last_synced_at -= dt.timedelta(seconds=601)
    assert sweep_once(a)["boards"] == 1
    assert tickets(a)["Address autocomplete"].status == "DONE"
    assert history(a, "Address autocomplete")[-1] == ("TODO", "DONE", "notion")
    before = len(fake.requests)
    assert sweep_once(a)["boards"] == 0 and len(fake.requests) == before
    a.engine.dispose()


def test_sync_maps_imported_tickets_to_cards_by_title(app, notion, board):
    """Tickets imported from a board file before Notion was connected get the cards with their titles."""
    from pipeline.types import Ticket as BoardTicket

    db, ds = board
    with app.session() as s:
        repo.import_board(s, repo.get_or_create_workspace(s), [
            BoardTicket("CHK-7", "Saved payment cards", "IN_PROGRESS"), BoardTicket("CHK-9", "Checkout error tracking",
                                                                                     "TODO")])
    report = connect(app, notion, db)
    assert "1 new tickets" in report.sync_summary
    t = tickets(app)
    assert t["Saved payment cards"].key == "CHK-7" and t["Checkout error tracking"].key == "CHK-9"
    with app.session() as s:
        linked = {c.ticket_id for c in s.scalars(select(NotionCard))}
    assert {t["Saved payment cards"].id, t["Checkout error tracking"].id} <= linked


# -- rate limits and broken connections -----------------------------------------------------------------------

def test_429_and_529_with_retry_after_are_honoured(app, notion, board, transcript):
    fake = notion.state
    db, ds = board
    connect(app, notion, db)
    fake.fail("POST", "^/v1/pages$", 429, retry_after=1)
    fake.fail("PATCH", "^/v1/pages/", 529, retry_after=0)
    job_id = app.runner.submit(transcript, info(), targets=["notion"])
    [d] = job(app, job_id)["deliveries"]
    assert d["status"] == "delivered" and d["attempts"] == 1  # short waits are slept in-process
    statuses = [r["status"] for r in fake.calls("POST", "^/v1/pages$")]
    assert statuses[-4:] == [429, 200, 200, 200]
    assert 529 in [r["status"] for r in fake.calls("PATCH")]
    assert len(action_cards(fake, ds)) == 3


def test_a_long_retry_after_goes_back_to_the_outbox_with_that_delay(app, notion, board, transcript):
    fake = notion.state
    db, ds = board
    connect(app, notion, db)
    fake.fail("POST", "/query$", 429, retry_after=120, times=2)
    before = utcnow()
    job_id = app.runner.submit(transcript, info(), targets=["notion"])
    with app.session() as s:
        d = s.scalar(select(Delivery).where(Delivery.job_id == job_id))
        # The wait said is what is left of Notion's 120 s when the outbox takes over (a slow machine reads less).
        said = re.search(r"retry after (\d+) s", d.last_error)
        assert d.status == "pending" and said and 100 <= int(said.group(1)) <= 120 and d.response_status == 429
        assert d.next_attempt_at.replace(tzinfo=d.next_attempt_at.tzinfo or dt.UTC) >= before + dt.timedelta(seconds=119)
    assert action_cards(fake, ds) == []


def test_a_revoked_token_marks_the_connection_broken_and_says_so_once(app, cli, notion, board, transcript, caplog):
    fake = notion.state
    db, ds = board
    connect(app, notion, db)
    fake.tokens.clear()  # revoked in Notion
    with caplog.at_level(logging.ERROR, logger="integrations.notion.service"):
        first = app.runner.submit(transcript, info(), targets=["notion"])
        sent = len(fake.requests)
        second = app.runner.submit(transcript, info("Next standup"), targets=["notion"])
    [d1], [d2] = job(app, first)["deliveries"], job(app, second)["deliveries"]
    assert d1["status"] == "failed" and d1["attempts"] == 1 and "401" in d1["error"] and "revoked" in d1["error"]
    assert d2["status"] == "failed" and "broken since" in d2["error"] and "reported then" in d2["error"]
    assert len(fake.requests) == sent  # the broken connection sent nothing for the second meeting
    assert len([r for r in caplog.records if "is broken" in r.getMessage()]) == 1
    out = cli("notion", "status")
    assert out.exit_code == 2 and "BROKEN since" in out.stdout and "revoked" in out.stdout
    fake.add_token(notion.state.token)  # a new token; connecting again clears the flag
    assert cli("notion", "connect", "--token", notion.state.token, "--database", db).exit_code == 0
    assert cli("notion", "status").exit_code == 0


def test_a_deleted_board_marks_the_connection_broken(app, notion, board, transcript):
    fake = notion.state
    db, ds = board
    connect(app, notion, db)
    fake.delete_database(db)
    job_id = app.runner.submit(transcript, info(), targets=["notion"])
    [d] = job(app, job_id)["deliveries"]
    assert d["status"] == "failed" and "deleted" in d["error"] and "object_not_found" in d["error"]
    with app.session() as s:
        conn = s.scalar(select(NotionConnection))
        assert conn.status == "broken" and "deleted" in conn.broken_reason


def test_no_connection_fails_the_delivery_with_what_to_do(app, transcript):
    job_id = app.runner.submit(transcript, info(), targets=["notion:sales"])
    [d] = job(app, job_id)["deliveries"]
    assert d["status"] == "failed" and "No Notion connection 'sales'" in d["error"] and "onno notion connect" in d["error"]


def test_targets_are_checked_at_intake():
    assert outbound.normalise_target("notion") == "notion:default"
    assert outbound.normalise_target("notion:team-board") == "notion:team-board"
    with pytest.raises(InputError):
        outbound.normalise_target("notion:no spaces please")


def test_the_token_bucket_spaces_requests_and_pauses_for_retry_after():
    now = [0.0]
    times = []

    def sleep(seconds):
        now[0] += seconds

    bucket = TokenBucket(3.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(10):
        bucket.acquire()
        times.append(now[0])
    assert times[0] == 0.0 and times[-1] == pytest.approx(3.0)  # 10 requests: one per 1/3 s
    assert all(b - a == pytest.approx(1 / 3) for a, b in zip(times, times[1:], strict=False))
    bucket.pause(5.0)
    start = now[0]
    bucket.acquire()
    assert now[0] - start == pytest.approx(5.0)
