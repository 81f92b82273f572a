"""The live findings engine: one utterance at a time, the right deltas, and in the end the batch engine's result."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from pipeline.findings import extract_findings
from pipeline.findings.live import FindingsDelta, LiveFindings
from pipeline.transcripts import read_transcript
from pipeline.types import MeetingInfo, Segment, Ticket

MONDAY = dt.date(2027, 3, 8)
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "dev"
BOARD = [Ticket("OPS-1", "Database backup automation", "TODO"),
         Ticket("OPS-2", "Staging cluster upgrade", "IN_PROGRESS"),
         Ticket("OPS-3", "Alerting runbook", "DONE")]


def segments(*turns: tuple[str | None, str]) -> list[Segment]:
    return [Segment(start=5.0 * i, end=5.0 * i + 4.0, text=text, speaker=speaker)
            for i, (speaker, text) in enumerate(turns)]


def feed(live: LiveFindings, segs: list[Segment]) -> list[FindingsDelta]:
    return [live.add(s) for s in segs]


def info(kind: str = "standup", participants: list[str] | None = None) -> MeetingInfo:
    return MeetingInfo(title="Ops sync", type=kind, date=MONDAY,
                       participants=participants if participants is not None else ["Gwen", "Hugo", "Iris"])


def test_each_utterance_reports_what_it_added() -> None:
    live = LiveFindings(info(), BOARD)
    d = feed(live, segments(
        ("Gwen", "Hugo, could you rotate the API keys before Thursday?"),
        ("Hugo", "Sure."),
        ("Iris", "How long does the staging upgrade still need?"),
        ("Hugo", "About two more days, it's halfway through."),
        ("Iris", "The backup automation is underway now, by the way."),
    ))
    # The task is reported once, by the request or, when the labeller waits for the answer, by the agreement;
    # an agreement is not a second task.
    tasks = [a for delta in d[:2] for a in delta.new.action_items]
    assert [(a.owner, a.due) for a in tasks] == [("Hugo", "2027-03-11")]
    assert tasks[0].speaker == "Gwen" and tasks[0].start == 0.0
    assert not any(delta.new.action_items for delta in d[2:])
    assert [q.text for q in d[2].new.questions] == ["How long does the staging upgrade still need?"]
    assert d[2].new.questions[0].answered is False
    assert [q.text for q in d[3].answered] == ["How long does the staging upgrade still need?"]
    assert [(u.key, u.from_status, u.to) for u in d[4].new.ticket_updates] == [("OPS-1", "TODO", "IN_PROGRESS")]
    assert d[4].new.ticket_updates[0].speaker == "Iris" and d[4].new.ticket_updates[0].start == 20.0


def test_covering_a_checklist_topic_removes_its_suggestion() -> None:
    live = LiveFindings(info("sales", ["Rep", "Buyer"]))
    assert "budget" in {q.topic for q in live.findings().suggested_questions}
    d = feed(live, segments(("Rep", "Thanks for joining."), ("Rep", "What budget have you set aside for this?")))
    assert not d[0].removed.suggested_questions
    assert [q.topic for q in d[1].removed.suggested_questions] == ["budget"]
    assert "budget" not in {q.topic for q in live.findings().suggested_questions}


def test_a_sentence_cut_across_two_segments_is_read_whole() -> None:
    live = LiveFindings(info(participants=["Gwen", "Hugo"]))
    first, second = feed(live, [Segment(0.0, 2.0, "Gwen, can you update the", "Hugo"),
                                Segment(2.0, 4.0, "staging runbook by Friday?", "Hugo")])
    items = live.findings().action_items
    assert [(a.owner, a.due) for a in items] == [("Gwen", "2027-03-12")]
    assert "runbook" in items[0].text
    touched = second.new.action_items + second.changed.action_items
    assert touched and touched[0].due == "2027-03-12"


def test_a_retracted_finding_is_reported_removed() -> None:
    # "I'm blocked" is a blocker until the same sentence goes on to say it is no longer so.
    live = LiveFindings(info(participants=["Gwen"]))
    first = live.add(Segment(0.0, 2.0, "I was stuck on the VPN", "Gwen"))
    second = live.add(Segment(2.0, 4.0, "certificate, if that matters.", "Gwen"))
    assert first.new.blockers == [] or second.removed.blockers
    assert live.findings().blockers == extract_findings(live.segments, live.info, []).blockers


def test_nothing_to_report_is_an_empty_delta() -> None:
    live = LiveFindings(info())
    assert not live.add(Segment(0.0, 1.0, "   ", "Gwen"))
    assert not live.add(Segment(1.0, 2.0, "Morning, everyone.", "Gwen"))


def _same_as_batch(segs: list[Segment], meeting: MeetingInfo, board: list[Ticket]) -> None:
    live = LiveFindings(meeting, board)
    for s in segs:
        live.add(s)
    batch = extract_findings(segs, meeting, board)
    assert live.findings().to_dict() == batch.to_dict()


def test_final_findings_equal_the_batch_engine_on_a_hand_written_meeting() -> None:
    segs = segments(
        ("Gwen", "Morning. Let's start with the upgrade."),
        ("Hugo", "The staging cluster upgrade is done, finally."),
        ("Gwen", "Great. Iris, can you write the migration notes by Wednesday?"),
        ("Iris", "Yes. I'm blocked on access to the billing database though."),
        ("Hugo", "I'll sort out your access this afternoon."),
        ("Gwen", "Do we have a rollback plan for the backups?"),
        ("Iris", "Not yet."),
        ("Gwen", "Then let's keep the old backup job running until the end of the month."),
        ("Hugo", "Who owns the alerting runbook now?"),
        ("Gwen", "Good question, no idea."),
    )
    _same_as_batch(segs, info(), BOARD)


def test_final_findings_equal_the_batch_engine_without_speakers_or_names() -> None:
    segs = segments(
        (None, "Okay. Dimitri, can you renew the certificate by Friday?"),
        (None, "Sure, no problem. How long is the new one valid?"),
        (None, "A year, I think. And the backup automation is underway now."),
    )
    _same_as_batch(segs, MeetingInfo(title="t", date=MONDAY), BOARD)


def test_per_speaker_segments_arriving_out_of_order_still_end_up_as_batch() -> None:
    segs = [Segment(0.0, 3.0, "Hugo, can you check the alert thresholds?", "Gwen"),
            Segment(6.0, 8.0, "And update the runbook too.", "Gwen"),
            Segment(3.5, 5.5, "Sure, I'll do it today.", "Hugo")]  # a track that lags behind
    live = LiveFindings(info())
    for s in segs:
        live.add(s)
    assert live.findings().to_dict() == extract_findings(segs, info(), []).to_dict()


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not checked out")
@pytest.mark.parametrize("vtt", sorted(CORPUS.glob("*.vtt")) if CORPUS.is_dir() else [], ids=lambda p: p.stem)
def test_final_findings_equal_the_batch_engine_on_the_corpus(vtt: Path) -> None:
    script = json.loads(vtt.with_suffix(".json").read_text())
    meeting = MeetingInfo(title=script["title"], type=script["type"], date=dt.date.fromisoformat(script["date"]),
                          participants=[p["name"] for p in script["participants"]])
    board = [Ticket(**t) for t in script.get("board_before", [])]
    _same_as_batch(read_transcript(vtt), meeting, board)


def test_every_finding_carries_where_and_who() -> None:
    live = LiveFindings(info(), BOARD)
    for s in segments(("Gwen", "Hugo, can you check the alert thresholds by Friday?"), ("Hugo", "Will do."),
                      ("Iris", "What is our churn rate?"), ("Gwen", "The backup automation is underway now."),
                      ("Hugo", "We agreed to freeze deploys on Fridays."), ("Iris", "I'm stuck on the VPN.")):
        live.add(s)
    f = live.findings()
    items = [*f.action_items, *f.questions, *f.decisions, *f.blockers, *f.ticket_updates, *f.follow_ups]
    assert len(items) >= 5
    assert all(x.start is not None and x.speaker for x in items)


def test_decisions_taken_across_turns_end_up_as_batch() -> None:
    segs = segments(
        ("Gwen", "So we're going with the postal-code service?"),
        ("Hugo", "Yes, let's."),
        ("Iris", "Agreed."),
        ("Gwen", "What about the dark mode toggle?"),
        ("Hugo", "That one stays."),
        ("Iris", "Let's move on."),
        ("Gwen", "Hugo, call her and ask for the invoice numbers."),
    )
    _same_as_batch(segs, info(), BOARD)
    decisions = LiveFindings(info(), BOARD)
    for s in segs:
        decisions.add(s)
    assert [d.text.rstrip(".") for d in decisions.findings().decisions] == [
        "Go with the postal-code service", "The dark mode toggle stays"]


def test_a_long_hesitant_meeting_ends_up_as_batch() -> None:
    # Hesitant from the start, then long plain stretches: how hesitant the meeting was so far decides the
    # thresholds there, and the live engine, reading a window, must count the sentences before it the same way.
    turns: list[tuple[str | None, str]] = []
    for n in range(12):
        turns.append(("Gwen", f"Um, so, the the option {n}, uh, yeah."))
        turns.append(("Hugo", f"Option {n} looks fine to me."))
        turns.append(("Iris", f"Option {n} is on the list."))
    turns[31] = ("Iris", "Hugo, can you price the rubber case by Friday?")
    turns += [("Gwen", "Let's go with the rubber case."), ("Hugo", "I'll send the drawings over tomorrow.")]
    _same_as_batch(segments(*turns), info(), BOARD)
