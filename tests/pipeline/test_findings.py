"""The findings engine on small hand-written meetings: dates, owners, exclusions, numbers, tickets, questions."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.findings import extract_findings
from pipeline.findings.dates import first_date
from pipeline.findings.numbers import find_numbers, parse_number
from pipeline.findings.sentences import build_sentences
from pipeline.types import Findings, MeetingInfo, Segment, Ticket

MONDAY = dt.date(2027, 3, 8)  # a Monday


def meeting(*turns: tuple[str | None, str], kind: str = "general", board: list[Ticket] | None = None,
            date: dt.date = MONDAY, participants: list[str] | None = None) -> Findings:
    """Run the engine on turns spoken one after another, four seconds each."""
    segments = [Segment(start=4.0 * i, end=4.0 * i + 3.5, text=text, speaker=speaker)
                for i, (speaker, text) in enumerate(turns)]
    names = participants if participants is not None else sorted({s for s, _ in turns if s})
    info = MeetingInfo(title="Test meeting", type=kind, date=date, participants=names)
    return extract_findings(segments, info, board or [])


# --- dates ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("said", "due"), [
    ("by Friday", "2027-03-12"),
    ("this afternoon", "2027-03-08"),
    ("tomorrow", "2027-03-09"),
    ("next Wednesday", "2027-03-17"),       # said on a Monday: the Wednesday of next week
    ("by Wednesday", "2027-03-10"),
    ("end of the month", "2027-03-31"),
    ("in two weeks", "2027-03-22"),
    ("by the 20th", "2027-03-20"),
    ("by the 3rd", "2027-04-03"),           # already past this month: next month
    ("April 2nd", "2027-04-02"),
    ("by the end of next week", "2027-03-19"),
    ("on Monday", "2027-03-15"),            # a weekday names the next one, never today
    ("by end of day", "2027-03-08"),
    ("in a couple of days", "2027-03-10"),
])
def test_relative_deadlines_resolve_against_the_meeting_date(said: str, due: str) -> None:
    found = first_date(f"I'll send it {said}.", MONDAY)
    assert found is not None and found.date.isoformat() == due


def test_next_weekday_late_in_the_week_is_the_coming_one() -> None:
    thursday = dt.date(2027, 3, 11)
    assert first_date("next Tuesday", thursday).date == dt.date(2027, 3, 16)


@pytest.mark.parametrize("said", ["last Friday", "every Monday", "on Tuesday mornings", "the first version"])
def test_words_that_are_not_deadlines(said: str) -> None:
    assert first_date(said, MONDAY) is None


# --- numbers ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("said", "value"), [
    ("one point two million", 1_200_000),
    ("half a million", 500_000),
    ("fifty k", 50_000),
    ("a hundred and twenty", 120),
    ("three thousand four hundred", 3_400),
    ("$2.5M", 2_500_000),
    ("1,250", 1_250),
    ("two and a half percent", 2.5),
    ("seventy-five", 75),
])
def test_number_words(said: str, value: float) -> None:
    assert parse_number(said) == pytest.approx(value)


def test_units_are_read_next_to_numbers() -> None:
    units = [(n.value, n.unit) for n in find_numbers("We spend $40,000 on ads, churn is 3 percent, 9 months left")]
    assert units == [(40_000, "USD"), (3, "percent"), (9, "months")]


def test_metrics_are_named_from_the_words_around_them() -> None:
    f = meeting(
        ("Ines", "How are the numbers looking?"),
        ("Omar", "We're at one point two million dollars in annual recurring revenue, growing about five percent "
                 "a month."),
        ("Omar", "Churn is around two percent a month, and we have eighteen months of runway."),
        ("Ines", "And how many customers?"),
        ("Omar", "Forty customers, all paying annually. We're 22 people in total."),
        ("Ines", "What does it cost you to land a customer?"),
        ("Omar", "Acquisition cost is about fifteen thousand dollars, and gross margin is 70%."),
        kind="investment_screening")
    got = {m.name: m.value for m in f.metrics}
    assert got == {"arr": 1_200_000, "growth_rate": 5, "churn_rate": 2, "runway_months": 18, "customers": 40,
                   "headcount": 22, "cac": 15_000, "gross_margin": 70}
    assert all(m.start is not None and m.speaker == "Omar" for m in f.metrics)


def test_money_without_a_metric_name_is_not_a_metric() -> None:
    f = meeting(("Dana", "The offsite will cost about twelve thousand dollars."),
                ("Eli", "Last year it was around eight thousand."))
    assert f.metrics == []


# --- action items -----------------------------------------------------------------------------------------------

def test_owner_named_by_request_with_due_date() -> None:
    f = meeting(("Hana", "Priya, can you send the revised quote to the client by Thursday?"),
                ("Priya", "Sure, will do."))
    assert len(f.action_items) == 1
    item = f.action_items[0]
    assert (item.owner, item.due) == ("Priya", "2027-03-11")
    assert "revised quote" in item.text.lower()
    assert item.start == 0.0 and item.speaker == "Hana"


def test_owner_named_in_third_person_and_by_lets_have() -> None:
    f = meeting(("Hana", "Tom will update the onboarding wiki tomorrow."),
                ("Hana", "And let's have Ana own the database migration plan."),
                participants=["Hana", "Tom", "Ana"])
    owners = {a.owner: a for a in f.action_items}
    assert set(owners) == {"Tom", "Ana"}
    assert owners["Tom"].due == "2027-03-09"
    assert "migration plan" in owners["Ana"].text.lower()


def test_self_commitment_belongs_to_the_speaker() -> None:
    f = meeting(("Leo", "The venue still isn't booked."), ("Mia", "I'll book the venue by the end of the week."))
    assert [(a.owner, a.due) for a in f.action_items] == [("Mia", "2027-03-12")]


def test_self_commitment_without_speaker_has_no_owner() -> None:
    f = meeting((None, "I'll book the venue by the end of the week."))
    assert [(a.owner, a.due) for a in f.action_items] == [(None, "2027-03-12")]


def test_offer_taken_up_in_the_next_turn_is_the_offerer_task() -> None:
    f = meeting(("Sam", "Do you want me to draft the announcement?"), ("Kim", "Yes please. Monday is fine."))
    assert [(a.owner, a.due) for a in f.action_items] == [("Sam", "2027-03-15")]
    assert f.questions == []


def test_offer_turned_down_is_no_task() -> None:
    f = meeting(("Sam", "Should I draft the announcement?"), ("Kim", "No, marketing already has it."))
    assert f.action_items == []


def test_unnamed_request_goes_to_whoever_takes_it_up() -> None:
    f = meeting(("Kim", "Could you pull the usage numbers for March?"), ("Sam", "Sure, I can do that today."),
                participants=["Kim", "Sam", "Lou"])
    assert [(a.owner, a.due) for a in f.action_items] == [("Sam", "2027-03-08")]


def test_agreement_is_not_a_second_task() -> None:
    f = meeting(("Kim", "Lou, can you check the invoice totals?"), ("Lou", "Yes, I'll do it after lunch."))
    assert [(a.owner, a.due) for a in f.action_items] == [("Lou", "2027-03-08")]


@pytest.mark.parametrize("said", [
    "We could maybe rewrite the whole thing in Rust someday.",
    "I already sent the deck to the board.",
    "Marta fixed the build yesterday.",
    "I'll be honest, that demo was rough.",
    "Let me share my screen.",
    "I'm going to be a few minutes late.",
    "I'll go first then.",
    "I think I'll regret it if I don't.",
])
def test_hypotheticals_past_work_and_chatter_are_not_tasks(said: str) -> None:
    assert meeting(("Ruth", said), participants=["Ruth", "Marta"]).action_items == []


# --- questions --------------------------------------------------------------------------------------------------

def test_questions_and_whether_they_were_answered() -> None:
    f = meeting(
        ("Ava", "How long will the data migration take?"),
        ("Ben", "About three days if nothing breaks."),
        ("Ava", "Do we have a rollback plan?"),
        ("Ben", "Good question. I honestly don't know."),
        ("Ava", "You already told me that, remember?"),
        ("Ava", "Can everyone see my screen?"),
        ("Ben", "Who owns the vendor contract?"),
    )
    got = [(q.text, q.asked_by, q.answered) for q in f.questions]
    assert got == [("How long will the data migration take?", "Ava", True),
                   ("Do we have a rollback plan?", "Ava", False),
                   ("Who owns the vendor contract?", "Ben", False)]


def test_a_question_answered_only_by_its_asker_stays_open() -> None:
    f = meeting(("Ava", "What is the launch date? I keep hearing different things."),
                ("Ben", "No idea, honestly."))
    assert [q.answered for q in f.questions] == [False]


def test_requests_are_action_items_not_questions() -> None:
    f = meeting(("Ava", "Ben, could you send me the slides by Friday?"), ("Ben", "Sure."))
    assert f.questions == []
    assert f.action_items[0].owner == "Ben"


# --- decisions and blockers -------------------------------------------------------------------------------------

def test_decisions_and_blockers() -> None:
    f = meeting(
        ("Ivy", "Let's get started."),
        ("Jon", "I'm blocked on the export feature. The data team still hasn't given us the schema."),
        ("Ivy", "Okay. Then let's ship the beta without the export, and it goes into the next release."),
        ("Jon", "We agreed last month to drop the old API, by the way."),
    )
    assert len(f.decisions) == 1 and "ship the beta" in f.decisions[0].text
    assert len(f.blockers) == 1 and "schema" in f.blockers[0].text
    assert f.blockers[0].speaker == "Jon"


# --- tickets ----------------------------------------------------------------------------------------------------

BOARD = [Ticket("WEB-1", "Backend API documentation", "TODO"),
         Ticket("WEB-2", "Login page redesign", "IN_PROGRESS"),
         Ticket("WEB-3", "Password reset emails", "DONE"),
         Ticket("WEB-4", "Android app crash on startup", "TODO"),
         Ticket("WEB-5", "iOS app crash on startup", "TODO")]


def test_ticket_moves_are_matched_by_meaning() -> None:
    f = meeting(("Zoe", "The API docs are underway now."),
                ("Zoe", "And I finished the login page on Friday."),
                ("Max", "Bad news: the password reset emails are broken again."),
                board=BOARD)
    assert {(u.key, u.from_status, u.to) for u in f.ticket_updates} == {
        ("WEB-1", "TODO", "IN_PROGRESS"), ("WEB-2", "IN_PROGRESS", "DONE"), ("WEB-3", "DONE", "IN_PROGRESS")}


def test_mentions_plans_and_same_status_move_nothing() -> None:
    f = meeting(("Zoe", "The login page looks much cleaner."),
                ("Zoe", "I'm still working on the login page redesign."),
                ("Max", "I'll start the API documentation next week."),
                ("Max", "The API docs aren't done yet."),
                board=BOARD)
    assert f.ticket_updates == []


def test_ambiguous_ticket_goes_to_confirmation() -> None:
    f = meeting(("Max", "The app crash on startup is fixed."), board=BOARD)
    assert f.ticket_updates == []
    assert {u.key for u in f.unconfirmed_ticket_updates} == {"WEB-4", "WEB-5"}


# --- checklist --------------------------------------------------------------------------------------------------

def test_checklist_suggests_only_what_was_left_out() -> None:
    f = meeting(("Rep", "What's your budget for this?"),
                ("Buyer", "We set aside about twenty thousand a year."),
                ("Rep", "And what are you using right now?"),
                ("Buyer", "Mostly spreadsheets. The biggest problem is double bookings."),
                kind="sales")
    topics = {q.topic for q in f.suggested_questions}
    assert topics == {"timeline", "decision_process", "success_criteria", "next_steps"}
    assert all(q.priority in ("critical", "important", "follow_up") and q.reason for q in f.suggested_questions)


def test_unanswered_questions_become_follow_ups_apart_from_checklist_gaps() -> None:
    segments = [Segment(0, 3, "Do we have a rollback plan?", "Ava"), Segment(4, 7, "No idea.", "Ben")]
    info = MeetingInfo(title="t", date=MONDAY, participants=["Ava", "Ben"])
    f = extract_findings(segments, info, [])
    assert all(q.topic for q in f.suggested_questions)
    assert len(f.follow_ups) == 1 and "rollback plan" in f.follow_ups[0].text
    assert f.follow_ups[0].priority == "follow_up" and "Ava" in f.follow_ups[0].reason


# --- sentences and summary --------------------------------------------------------------------------------------

def test_unlabelled_segments_are_rejoined_into_sentences_with_their_times() -> None:
    segments = [Segment(0.0, 4.0, "So the invoice export is done and", None),
                Segment(4.0, 8.0, "merged. Can you review the docs by Friday?", None)]
    sentences = build_sentences(segments)
    assert [s.text for s in sentences] == ["So the invoice export is done and merged.",
                                           "Can you review the docs by Friday?"]
    assert sentences[0].start == 0.0 and 4.0 < sentences[1].start < 8.0


def test_split_turns_of_one_speaker_read_as_one_turn() -> None:
    segments = [Segment(0.0, 2.0, "Alice, can you update the", "Bob"), Segment(2.0, 4.0, "runbook by Friday?", "Bob"),
                Segment(5.0, 6.0, "Sure.", "Alice")]
    f = extract_findings(segments, MeetingInfo(title="t", date=MONDAY), [])
    assert [(a.owner, a.due) for a in f.action_items] == [("Alice", "2027-03-12")]


def test_summary_is_built_from_findings_only() -> None:
    f = meeting(("Ivy", "Let's ship the beta on Friday."), ("Jon", "I'll write the release notes tomorrow."))
    assert "ship the beta" in f.summary and "release notes" in f.summary
    empty = meeting(("Ivy", "Morning all."), ("Jon", "Morning."))
    assert "no decisions" in empty.summary.lower()


def test_names_are_learned_from_how_people_are_addressed_when_no_list_is_given() -> None:
    segments = [Segment(0, 3, "Okay. Dimitri, can you renew the SSL certificate by Friday?", None),
                Segment(4, 6, "Sure, no problem.", None)]
    f = extract_findings(segments, MeetingInfo(title="t", date=MONDAY), [])
    assert [(a.owner, a.due) for a in f.action_items] == [("Dimitri", "2027-03-12")]


@pytest.mark.parametrize("asked", ["Sorry, what was that?", "Does that make sense?", "Any questions?",
                                   "Why don't we take a short break?", "How was your weekend?", "Who's next?",
                                   "Is everyone okay with that?"])
def test_meeting_chatter_is_not_a_question(asked: str) -> None:
    assert meeting(("Ava", asked), ("Ben", "Sure.")).questions == []


def test_counts_need_to_count_the_whole() -> None:
    f = meeting(("Omar", "We have 3,000 customers, and two of our customers are in Canada."),
                ("Omar", "About 120 people work here, 60 of them engineers."), kind="investment_screening")
    assert {m.name: m.value for m in f.metrics} == {"customers": 3000, "headcount": 120}
