"""Storage on SQLite and PostgreSQL: migrations match the models, meetings round-trip, boards keep history."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from pipeline.findings.summary import summarize_result
from pipeline.types import (
    ActionItem,
    Findings,
    MeetingInfo,
    MeetingResult,
    Metric,
    Note,
    Question,
    Segment,
    SuggestedQuestion,
    Ticket,
    TicketUpdate,
)
from storage import db
from storage import repository as repo
from storage.models import Finding, Meeting, TranscriptSegment
from storage.schema import metadata


@pytest.fixture
def engine(database_url):
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    yield engine
    engine.dispose()


def a_result(title="Weekly sync", updates=()) -> MeetingResult:
    findings = Findings(
        action_items=[ActionItem("Send the deck", "Ana", "2026-11-20", 3.5, "Ben")],
        questions=[Question("When do we ship?", "Ben", True, 7.0, "Ben")],
        suggested_questions=[SuggestedQuestion("What are the risks?", "risks", "important", "Not discussed.")],
        decisions=[Note("Ship on Monday", 9.0, "Ana")], blockers=[Note("Waiting on legal", 11.0, "Ben")],
        ticket_updates=list(updates), metrics=[Metric("mrr", 50000, "USD", 12.0, "Ana", "fifty thousand MRR")],
        summary="Shipping Monday.")
    return MeetingResult(info=MeetingInfo(title=title, type="planning", date=dt.date(2026, 11, 16),
                                          participants=["Ana", "Ben"]),
                         duration=30.0, transcript=[Segment(0.5, 4.0, "Ben, send the deck.", "Ana"),
                                                    Segment(4.5, 8.0, "When do we ship?", "Ben")],
                         findings=findings, source="tracks")


def test_migrations_create_exactly_the_models_schema(engine):
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_upgrade_twice_is_harmless(engine):
    db.upgrade(engine)


def test_meeting_round_trips_to_the_same_result(engine):
    result = a_result()
    with db.session_scope(engine) as s:
        meeting_id = repo.save_meeting(s, repo.get_or_create_workspace(s), result).id
    with db.session_scope(engine) as s:
        stored = repo.get_meeting(s, repo.get_or_create_workspace(s), meeting_id)
        assert repo.meeting_result_dict(stored) == result.to_dict()


def test_ticket_updates_move_cards_and_keep_history(engine):
    with db.session_scope(engine) as s:
        ws = repo.get_or_create_workspace(s)
        assert repo.import_board(s, ws, [Ticket("K-1", "Docs", "TODO"), Ticket("K-2", "Login", "DONE")]) == (2, 0)
        update = TicketUpdate("K-1", "TODO", "IN_PROGRESS", 5.0, "Ana", "the docs are underway")
        unknown = TicketUpdate("K-9", "TODO", "DONE", 6.0, "Ana", "not on this board")
        meeting = repo.save_meeting(s, ws, a_result(updates=[update, unknown]))
    with db.session_scope(engine) as s:
        ws = repo.get_or_create_workspace(s)
        assert [(t.key, t.status) for t in repo.list_tickets(s, ws)] == [("K-1", "IN_PROGRESS"), ("K-2", "DONE")]
        history = repo.ticket_history(s, ws, "K-1")
        assert [(h.from_status, h.to_status, h.source, h.meeting_id, h.evidence) for h in history] == [
            (None, "TODO", "import", None, ""), ("TODO", "IN_PROGRESS", "meeting", meeting.id, "the docs are underway")]


def test_board_import_upserts_by_key(engine):
    with db.session_scope(engine) as s:
        ws = repo.get_or_create_workspace(s)
        repo.import_board(s, ws, [Ticket("K-1", "Docs", "TODO")])
        assert repo.import_board(s, ws, [Ticket("K-1", "API docs", "DONE"), Ticket("K-3", "New", "TODO")]) == (1, 1)
        assert repo.import_board(s, ws, [Ticket("K-1", "API docs", "DONE")]) == (0, 0)
        assert repo.board(s, ws) == [Ticket("K-1", "API docs", "DONE"), Ticket("K-3", "New", "TODO")]


def test_workspaces_see_only_their_own(engine):
    with db.session_scope(engine) as s:
        a = repo.get_or_create_workspace(s, "T1", platform="slack", external_id="T1")
        b = repo.get_or_create_workspace(s, "T2", platform="slack", external_id="T2")
        meeting_id = repo.save_meeting(s, a, a_result()).id
        repo.import_board(s, a, [Ticket("K-1", "Docs", "TODO")])
        assert repo.get_meeting(s, b, meeting_id) is None
        assert repo.list_meetings(s, b) == [] and repo.board(s, b) == []
        assert repo.ticket_history(s, b, "K-1") == []
        assert repo.import_board(s, b, [Ticket("K-1", "Their docs", "DONE")]) == (1, 0)
        assert repo.board(s, a) == [Ticket("K-1", "Docs", "TODO")]


def test_a_failure_half_way_leaves_nothing_behind(engine):
    with pytest.raises(RuntimeError), db.session_scope(engine) as s:
        repo.save_meeting(s, repo.get_or_create_workspace(s), a_result())
        raise RuntimeError("crash after the rows were written")
    with db.session_scope(engine) as s:
        for model in (Meeting, TranscriptSegment, Finding):
            assert s.scalar(select(func.count()).select_from(model)) == 0


def test_recordings_are_tracked_and_forgotten(engine):
    with db.session_scope(engine) as s:
        ws = repo.get_or_create_workspace(s)
        rec = repo.add_recording(s, ws, kind="audio", filename="call.ogg", blob_key="ab" * 32, size=10)
        assert repo.blob_in_use(s, "ab" * 32)
        repo.mark_recording(s, rec, "failed", error="boom")
        other = repo.get_or_create_workspace(s, "other")
        assert repo.get_recording(s, other, rec.id) is None
        repo.delete_recording(s, rec)
        s.flush()
        assert not repo.blob_in_use(s, "ab" * 32)


def test_two_settings_changes_at_once_in_a_new_channel_both_stick(engine):
    """Two `/onno settings` at the same moment: no unique-constraint error, and neither change is lost."""
    import threading

    from storage import slack as slack_repo

    with db.session_scope(engine) as s:
        ws_id = repo.get_or_create_workspace(s, "team").id
    start, errors = threading.Barrier(2), []

    def change(key: str):
        try:
            start.wait()
            with db.session_scope(engine) as s:
                row = slack_repo.channel_settings(s, repo.workspace_by_id(s, ws_id), "C1", create=True)
                opts = dict(row.options or {})
                threading.Event().wait(0.3)  # both are inside their read-modify-write at once
                row.options = {**opts, key: True}
        except Exception as exc:  # surfaced below with the test's own message
            errors.append(exc)

    threads = [threading.Thread(target=change, args=(k,)) for k in ("email", "review_first")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with db.session_scope(engine) as s:
        row = slack_repo.channel_settings(s, repo.workspace_by_id(s, ws_id), "C1")
        assert row.options == {"email": True, "review_first": True}


def test_possible_action_items_go_out_only_once_a_person_keeps_them(engine):
    from storage import review as review_repo

    result = a_result()
    result.findings.possible_action_items = [ActionItem("Maybe book the venue", "Ben", None, 20.0, "Ben",
                                                        confidence=0.7, evidence="Maybe I book the venue.")]
    with db.session_scope(engine) as s:
        meeting = repo.save_meeting(s, repo.get_or_create_workspace(s), result)
        review_repo.start_review(s, meeting)
        meeting_id = meeting.id
    with db.session_scope(engine) as s:
        stored = repo.meeting_result_dict(repo.get_meeting(s, repo.get_or_create_workspace(s), meeting_id))
        assert stored == result.to_dict()  # round-trips, possible items and confidence included
        [(_f, state, _i), (possible, p_state, item)] = review_repo.reviewed_items(s, meeting_id)
        assert (state, p_state, item["confidence"]) == ("open", "possible", 0.7)
        out = review_repo.reviewed_result(s, meeting_id, stored, summarize=summarize_result)
        assert [a["text"] for a in out["action_items"]] == ["Send the deck"]
        assert "venue" not in out["summary"]
        review_repo.review_finding(s, possible, status="approved", user="ana")  # one click: Keep
    with db.session_scope(engine) as s:
        stored = repo.meeting_result_dict(repo.get_meeting(s, repo.get_or_create_workspace(s), meeting_id))
        out = review_repo.reviewed_result(s, meeting_id, stored, summarize=summarize_result)
        assert [a["text"] for a in out["action_items"]] == ["Send the deck", "Maybe book the venue"]
        assert out["possible_action_items"] == [] and "venue" in out["summary"].lower()
