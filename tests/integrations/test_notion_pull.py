"""Notion pulls: the whole board once, then only the cards edited since the last pull, wherever it ran."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from integrations.errors import PermanentError
from integrations.notion import service
from integrations.notion.api import NotionAPI
from integrations.notion.models import NotionConnection
from onno.service import App
from tests.integrations.test_notion import (  # noqa: F401  (app and notion are fixtures)
    STANDUP,
    action_cards,
    app,
    connect,
    history,
    info,
    job,
    make_settings,
    notion,
    tickets,
)

LATER = """\
[00:00:01] Maya: Saved payment cards shipped last week, nothing more there.
[00:00:08] Lena: I will update the pricing page by Friday.
[00:00:15] Omar: I'll send the invoice reminders tomorrow.
"""


@pytest.fixture
def big_board(notion):  # noqa: F811
    """A board the team has used for a while: 119 cards, all last edited yesterday."""
    fake = notion.state
    db, ds = fake.add_board()
    fake.cards_by_title = {t: fake.add_card(ds, t, s) for t, s in [
        ("Saved payment cards", "In progress"), ("Checkout error tracking", "Not started"),
        ("Address autocomplete", "Not started")]}
    for i in range(116):
        fake.cards_by_title[f"Board card {i + 1}"] = fake.add_card(ds, f"Board card {i + 1}",
                                                                   ("Not started", "In progress", "Done")[i % 3])
    fake.backdate(dt.timedelta(days=1))
    return db, ds


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def queries(reqs: list[dict]) -> list[dict]:
    return [r for r in reqs if r["path"].endswith("/query")]


def writes(reqs: list[dict]) -> list[dict]:
    return [r for r in reqs if r["method"] in ("POST", "PATCH") and not r["path"].endswith("/query")]


def since_filter(r: dict) -> dt.datetime:
    """The on_or_after of a query's last-edited filter, as Notion's documented shape has it."""
    flt = r["body"]["filter"]
    assert set(flt) == {"timestamp", "last_edited_time"} and flt["timestamp"] == "last_edited_time"
    return dt.datetime.fromisoformat(flt["last_edited_time"]["on_or_after"].replace("Z", "+00:00"))


def test_a_second_delivery_asks_only_for_what_changed(app, notion, big_board, tmp_path):  # noqa: F811
    fake = notion.state
    db, ds = big_board
    connect(app, notion, db)
    full = queries(fake.requests)
    assert len(full) == 2 and all("filter" not in r["body"] for r in full)  # 119 cards: two pages of 100

    first = app.runner.submit(write(tmp_path, "standup.txt", STANDUP), info(), targets=["notion"])
    assert job(app, first)["deliveries"][0]["status"] == "delivered"
    # Between meetings someone finishes a card nobody's meeting touched, in Notion.
    fake.move(fake.cards_by_title["Board card 5"], "Done")
    begin = len(fake.requests)
    started = dt.datetime.now(dt.UTC)
    second = app.runner.submit(write(tmp_path, "later.txt", LATER), info("Billing sync"), targets=["notion"])
    assert job(app, second)["deliveries"][0]["status"] == "delivered"
    reqs = fake.requests[begin:]

    # One query before matching and one before the push, each a single page of just the recent edits: the
    # first meeting's cards and moves, and the card moved in Notion (pages known and unchanged are skipped).
    qs = queries(reqs)
    assert len(qs) == 2 and all(since_filter(r) < started - dt.timedelta(minutes=1) for r in qs)
    assert all(1 <= r["results"] <= 10 for r in qs)
    made = writes(reqs)
    assert [(r["method"], r["path"]) for r in made] == [("POST", "/v1/pages")] * 2  # two new action items
    delivery = reqs[max(i for i, r in enumerate(reqs) if r["method"] == "GET" and "/data_sources/" in r["path"]):]
    # The delivery: its schema read, one pull, the workspace's users (owners to match), then the cards.
    assert len(delivery) == len(made) + 3
    assert [r["path"] for r in delivery[:3]] == [f"/v1/data_sources/{ds}", f"/v1/data_sources/{ds}/query",
                                                 "/v1/users"]
    assert tickets(app)["Board card 5"].status == "DONE"
    assert history(app, "Board card 5")[-1] == ("IN_PROGRESS", "DONE", "notion")
    assert len(action_cards(fake, ds)) == 5 and fake.violations == []


def test_another_worker_reads_the_last_pull_from_the_database_and_a_lost_one_reads_all(
        app, notion, big_board, tmp_path, request):  # noqa: F811
    fake = notion.state
    db, ds = big_board
    connect(app, notion, db)
    with app.session() as s:
        ws = s.scalar(select(NotionConnection.workspace_id))
    fake.rename(fake.cards_by_title["Address autocomplete"], "Address autocomplete (v2)")
    # A second process on the same database (another worker, or this one restarted).
    other = App(make_settings(tmp_path, app.settings.database_url, notion))
    request.addfinalizer(other.engine.dispose)
    begin = len(fake.requests)
    report = service.sync(other, ws)
    [q] = queries(fake.requests[begin:])
    assert since_filter(q) and q["results"] == 1 and len(fake.requests) - begin == 2  # schema, one query
    assert (report.cards, report.read, report.full, len(report.renamed)) == (119, 1, False, 1)
    assert "Address autocomplete (v2)" in tickets(app)

    # The last pull's time lost (a connection stored before pulls were kept): the whole board, as before.
    with app.session() as s:
        s.scalar(select(NotionConnection)).pull_started_at = None
    begin = len(fake.requests)
    report = service.sync(other, ws)
    assert [r["body"].get("filter") for r in queries(fake.requests[begin:])] == [None, None]
    assert (report.cards, report.read, report.full) == (119, 119, True)
    assert "119 cards (whole board read): 0 new tickets, 0 moved, 0 renamed" in report.summary()


def test_a_mapping_changed_in_notion_reads_the_whole_board_again(app, notion, big_board):  # noqa: F811
    fake = notion.state
    db, ds = big_board
    connect(app, notion, db)
    with app.session() as s:
        ws = s.scalar(select(NotionConnection.workspace_id))
    fake.remove_property(ds, "Due")  # the schema read before the pull sees another mapping
    begin = len(fake.requests)
    assert service.sync(app, ws).full
    assert [r["body"].get("filter") for r in queries(fake.requests[begin:])] == [None, None]
    begin = len(fake.requests)
    assert not service.sync(app, ws).full and len(queries(fake.requests[begin:])) == 1


def test_a_card_deleted_in_notion_is_not_made_again(app, notion, big_board, tmp_path):  # noqa: F811
    fake = notion.state
    db, ds = big_board
    connect(app, notion, db)
    first = app.runner.submit(write(tmp_path, "standup.txt", STANDUP), info(), targets=["notion"])
    [gone] = [p["id"] for p in action_cards(fake, ds) if fake.value(p, "Name") == "Fix the flaky checkout test"]
    fake.trash(gone)
    fake.trash(fake.cards_by_title["Board card 7"])
    creates = len(fake.calls("POST", "^/v1/pages$"))
    with app.session() as s:
        ws = s.scalar(select(NotionConnection.workspace_id))
    report = service.sync(app, ws)
    assert (report.new_tickets, report.moved) == ([], [])
    assert len(fake.calls("POST", "^/v1/pages$")) == creates  # nothing re-created for the deleted cards
    assert job(app, first)["deliveries"][0]["status"] == "delivered"
    assert {"Fix the flaky checkout test", "Board card 7"} <= set(tickets(app))  # kept, as a full pull kept them
    assert len(action_cards(fake, ds)) == 2 and fake.violations == []


def test_the_fake_takes_the_documented_last_edited_filter_and_refuses_others(notion, big_board):  # noqa: F811
    fake = notion.state
    db, ds = big_board
    fake.move(fake.cards_by_title["Board card 1"], "Done")
    stamp = fake.pages[fake.cards_by_title["Board card 1"]]["last_edited_time"]
    assert stamp.endswith(":00.000Z")  # rounded down to the minute, as Notion's
    with NotionAPI(fake.token, base_url=notion.url, rate=1000) as api:
        since = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat(timespec="seconds")
        flt = {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": since}}
        assert [p["id"] for p in api.query(ds, filter=flt)] == [fake.cards_by_title["Board card 1"]]
        for bad in ({"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": "yesterday"}},
                    {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": 1700000000}},
                    {"timestamp": "last_edited_time", "on_or_after": since}):
            with pytest.raises(PermanentError) as exc:
                list(api.query(ds, filter=bad))
            assert exc.value.status == 400
    assert len(fake.violations) == 3
