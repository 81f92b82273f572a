"""The findings engine's rule stage on small hand-written meetings: dates, owners, exclusions, numbers, tickets,
questions. What the trained labeller then keeps, moves to "possible" or adds is tested in test_confidence.py."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.findings.dates import first_date
from pipeline.findings.engine import complete, meeting_people, rule_findings
from pipeline.findings.numbers import find_numbers, parse_number
from pipeline.findings.sentences import build_sentences
from pipeline.types import Findings, MeetingInfo, Segment, Ticket

MONDAY = dt.date(2027, 3, 8)  # a Monday


def extract_findings(segments: list[Segment], info: MeetingInfo, board: list[Ticket]) -> Findings:
    """The rule stage alone (and what is read off it): the engine before the labeller weighs its findings."""
    sentences = build_sentences(segments)
    people = meeting_people(info, (s.speaker for s in segments), sentences)
    return complete(rule_findings(sentences, people, info, board), sentences, info)


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
    ("two weeks from now", "2027-03-22"),
    ("a week from today", "2027-03-15"),     # not "today"
    ("by end of month", "2027-03-31"),
    ("by EOW", "2027-03-12"),
    ("on Thursday next week", "2027-03-18"),
    ("Friday of next week", "2027-03-19"),
    ("Tuesday the 23rd", "2027-03-23"),     # the date said wins over the weekday
    ("in a fortnight", "2027-03-22"),
    ("by mid-April", "2027-04-15"),
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
    ("a quarter of a million", 250_000),
    ("a million and a half", 1_500_000),
    ("half a percent", 0.5),
    ("nought point seven five", 0.75),
    ("$85,000, and", 85_000),
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


# --- rules for how people talk, on phrasings of their own -------------------------------------------------------

def test_a_figure_from_the_past_in_the_next_clause_leaves_the_current_one() -> None:
    f = meeting(("Omar", "ARR is 3.1 million dollars; two years ago it was around nine hundred thousand."),
                ("Omar", "Back in January churn was about four percent, now churn is 2.5 percent."),
                kind="investment_screening")
    assert {m.name: m.value for m in f.metrics} == {"arr": 3_100_000, "churn_rate": 2.5}


def test_money_said_with_the_runway_it_buys_is_the_burn() -> None:
    f = meeting(("Omar", "We spend roughly sixty thousand a month, which leaves us a year and a half of runway."),
                kind="investment_screening")
    assert {m.name: m.value for m in f.metrics} == {"burn_rate": 60_000, "runway_months": 18}


@pytest.mark.parametrize(("said", "want"), [
    ("If we cut marketing, burn drops to 90k a month.", {}),
    ("Gross margin sits at 71 percent, gross retention at 88 percent.", {"gross_margin": 71}),
    ("Those three accounts make up 40 percent of revenue, and we have 65 customers in total.", {"customers": 65}),
    ("The average customer lifetime is worth about $12,000 to us.", {"ltv": 12_000}),
    ("We're raising a million and a half on a ten million dollar cap.",
     {"raise_amount": 1_500_000, "valuation": 10_000_000}),
    ("Churn is half a percent a month.", {"churn_rate": 0.5}),
])
def test_metric_phrasings(said: str, want: dict) -> None:
    assert {m.name: m.value for m in meeting(("Omar", said), kind="investment_screening").metrics} == want


def test_work_put_to_the_room_belongs_to_whoever_takes_it() -> None:
    f = meeting(("Nora", "Can somebody chase the printer vendor about the broken tray?"),
                ("Omar", "I'll take it. I should have an answer by Thursday."),
                ("Nora", "We also need someone to renew the office insurance."),
                ("Priya", "Let me do that, I'll get it done in two weeks."),
                participants=["Nora", "Omar", "Priya"])
    got = [(a.text, a.owner, a.due, a.speaker, a.start) for a in f.action_items]
    assert got == [("Chase the printer vendor about the broken tray", "Omar", "2027-03-11", "Nora", 0.0),
                   ("Renew the office insurance", "Priya", "2027-03-22", "Nora", 8.0)]


def test_a_request_to_the_room_that_nobody_takes_is_not_assigned() -> None:
    f = meeting(("Nora", "Does anyone want to pair on the outage review?"), ("Priya", "Not me, sorry."),
                participants=["Nora", "Omar", "Priya"])
    assert f.action_items == []


@pytest.mark.parametrize(("said", "task", "owner"), [
    ("I'd like Omar to handle the customer call on Thursday.", "Handle the customer call", "Omar"),
    ("We need Priya to sign off the budget before Friday.", "Sign off the budget", "Priya"),
    ("Omar's going to chase legal about the NDA tomorrow.", "Chase legal about the NDA", "Omar"),
    ("Priya, would you mind reviewing the onboarding deck tomorrow?", "Review the onboarding deck", "Priya"),
])
def test_work_handed_to_a_named_person(said: str, task: str, owner: str) -> None:
    items = meeting(("Nora", said), participants=["Nora", "Omar", "Priya"]).action_items
    assert [(a.text, a.owner) for a in items] == [(task, owner)]
    assert items[0].due is not None


def test_lets_have_with_a_due_word_keeps_a_clean_task() -> None:
    f = meeting(("Nora", "Let's have Omar own the supplier contracts, due end of the month."),
                participants=["Nora", "Omar"])
    assert [(a.text, a.owner, a.due) for a in f.action_items] == [("Own the supplier contracts", "Omar", "2027-03-31")]


@pytest.mark.parametrize("said", [
    "I'll let you know if that changes.",
    "I'll try to keep this short.",
    "I'll have to skip Friday's demo.",
    "I'll need to think it over.",
    "I'll already have left by then.",
])
def test_promises_that_are_no_work(said: str) -> None:
    assert meeting(("Ruth", said), participants=["Ruth", "Marta"]).action_items == []


def test_try_to_keeps_the_work() -> None:
    f = meeting(("Ruth", "I'll try to finish the slides by Wednesday."), participants=["Ruth"])
    assert [(a.text, a.owner, a.due) for a in f.action_items] == [("Finish the slides", "Ruth", "2027-03-10")]


def test_a_date_in_a_purpose_clause_is_not_the_due_date_but_one_after_it_is() -> None:
    f = meeting(("Nora", "Omar, can you send the invoices, so finance can close the books on the 30th?"),
                ("Omar", "Sure."),
                ("Nora", "Priya, can you fix the header so it stops overlapping, Thursday's fine."),
                ("Priya", "Will do."), participants=["Nora", "Omar", "Priya"])
    assert [(a.owner, a.due) for a in f.action_items] == [("Omar", None), ("Priya", "2027-03-11")]


def test_a_task_ends_where_a_new_clause_runs_on_after_a_comma() -> None:
    f = meeting(("Nora", "Omar, can you book the venue by Friday, it's getting busy in spring."), ("Omar", "Yes."),
                participants=["Nora", "Omar"])
    assert [(a.text, a.owner, a.due) for a in f.action_items] == [("Book the venue", "Omar", "2027-03-12")]


def test_handing_over_the_floor_by_name_tells_who_speaks_next() -> None:
    segments = [Segment(0, 3, "Great, Omar, you're up.", None),
                Segment(4, 8, "The invoices are done. I'll send the summary to finance tomorrow.", None)]
    info = MeetingInfo(title="t", date=MONDAY, participants=["Nora", "Omar"])
    f = extract_findings(segments, info, [])
    assert [(a.owner, a.due) for a in f.action_items] == [("Omar", "2027-03-09")]


def test_a_reply_after_a_turn_gives_a_due_date_in_short_sentences() -> None:
    segments = [Segment(0, 3, "Do you want me to draft the hiring plan too?", None),
                Segment(3.5, 4.5, "Yes, please.", None), Segment(5, 6, "Keep it short.", None),
                Segment(6.5, 8, "Thursday is fine.", None)]
    f = extract_findings(segments, MeetingInfo(title="t", date=MONDAY), [])
    assert [(a.text, a.due) for a in f.action_items] == [("Draft the hiring plan", "2027-03-11")]


# --- questions whose question mark the recogniser lost, and answers ---------------------------------------------

def test_a_reply_that_only_fits_a_question_shows_one_was_asked() -> None:
    f = meeting(("Ava", "And has anyone looked at the flaky login test yet."), ("Ben", "Not yet, it's on my list."),
                ("Ava", "One thing I'm unsure about, the vendor charges per seat for guests."),
                ("Ben", "Good question, no idea."))
    assert [(q.asked_by, q.answered) for q in f.questions] == [("Ava", True), ("Ava", False)]


def test_a_reply_about_an_earlier_question_does_not_make_a_statement_a_question() -> None:
    f = meeting(("Ava", "What rate limit do we want per tenant?"), ("Ava", "Nobody has told me a number."),
                ("Ben", "Good question, I don't know."))
    assert [q.text for q in f.questions] == ["What rate limit do we want per tenant?"]


def test_a_question_run_on_into_a_statement_stops_at_the_statement() -> None:
    f = meeting(("Ava", "Who's running the demo, though, Carla is out all week."), ("Ben", "I can do it."))
    assert [(q.text, q.answered) for q in f.questions] == [("Who's running the demo, though?", True)]


def test_indirect_and_elliptic_questions() -> None:
    f = meeting(("Ava", "I was wondering whether the export handles time zones."), ("Ben", "It does, since March."),
                ("Ava", "Okay, and the pricing page."), ("Ben", "Still in design."))
    assert [(q.asked_by, q.answered) for q in f.questions] == [("Ava", True), ("Ava", True)]
    assert "time zones" in f.questions[0].text and "pricing page" in f.questions[1].text.lower()


@pytest.mark.parametrize("reply", ["Let me look that up after the call.", "Unclear at this point.",
                                   "That's still to be decided.", "I'll confirm with the vendor and circle back."])
def test_replies_that_defer_leave_the_question_open(reply: str) -> None:
    f = meeting(("Ava", "How many seats does the new contract include?"), ("Ben", reply))
    assert [q.answered for q in f.questions] == [False]


def test_a_short_answer_counts_whatever_is_said_after_it() -> None:
    f = meeting(("Ava", "What's the biggest risk for the launch?"),
                ("Ben", "Hiring, mostly. Nobody knows how long it takes to find senior people."))
    assert [q.answered for q in f.questions] == [True]


# --- tickets ----------------------------------------------------------------------------------------------------

TICKETS = [Ticket("OPS-7", "CSV export for invoices", "TODO"), Ticket("OPS-8", "Password reset emails", "DONE"),
           Ticket("OPS-9", "Dark mode", "TODO"), Ticket("OPS-10", "Release checklist", "IN_PROGRESS")]


@pytest.mark.parametrize(("said", "moves"), [
    ("We shipped the invoice export yesterday.", {("OPS-7", "DONE")}),
    ("The reset emails stopped working after Tuesday's deploy.", {("OPS-8", "IN_PROGRESS")}),
    ("Turns out the reset emails still fail for some domains.", {("OPS-8", "IN_PROGRESS")}),
    ("If the reset emails break again we roll back.", set()),
    ("Dark mode is ready for review.", {("OPS-9", "IN_PROGRESS")}),
    ("I talked to design about dark mode.", set()),
    ("The release checklist is in progress.", set()),      # where it already is
])
def test_ticket_moves_by_meaning(said: str, moves: set) -> None:
    f = meeting(("Zoe", said), board=TICKETS, participants=["Zoe"])
    assert {(u.key, u.to) for u in f.ticket_updates} == moves


def test_a_question_that_lost_its_mark_moves_no_ticket() -> None:
    f = meeting(("Zoe", "And has anyone started on dark mode yet."), ("Max", "Not yet."), board=TICKETS)
    assert f.ticket_updates == []
    assert len(f.questions) == 1


# --- decisions and sentences ------------------------------------------------------------------------------------

def test_a_decision_that_points_back_takes_the_topic_asked_about() -> None:
    f = meeting(("Ben", "And what about the legacy importer? That thing has been flaky for months."),
                ("Ava", "That one stays in the backlog."))
    assert len(f.decisions) == 1 and "legacy importer" in f.decisions[0].text
    assert "flaky" not in f.decisions[0].text


def test_someone_else_speaking_in_between_ends_a_speakers_sentence() -> None:
    segments = [Segment(0.0, 2.0, "Can you check the error logs", "Ava"), Segment(2.3, 2.8, "Sure", "Ben"),
                Segment(3.2, 5.0, "and the dashboard looks fine by the way", "Ava")]
    sentences = build_sentences(segments)
    assert [(s.speaker, s.text) for s in sentences] == [
        ("Ava", "Can you check the error logs"), ("Ben", "Sure"), ("Ava", "and the dashboard looks fine by the way")]
    assert [s.turn for s in sentences] == [0, 1, 2]


@pytest.mark.parametrize(("said", "decided"), [
    ("So we're agreed, the launch moves to the 14th.", True),
    ("Final call: no new features until the audit is done.", True),
    ("Let's not ship on Fridays anymore.", True),
    ("We'll stick with the current vendor for now.", True),
    ("Let's not get ahead of ourselves.", False),
    ("Please, let's not.", False),
    ("We could go with either vendor, I guess.", False),
])
def test_decision_phrasings(said: str, decided: bool) -> None:
    assert bool(meeting(("Ava", said)).decisions) is decided


def test_agreeing_to_a_proposal_decides_what_was_proposed() -> None:
    f = meeting(("Ava", "Should we switch the retro to every other week?"), ("Ben", "Yes, let's do that."),
                ("Ava", "We should tidy the wiki at some point."), ("Ben", "Agreed."),
                ("Ava", "I think we should freeze the schema on Friday."), ("Ben", "Yeah."))
    assert [(d.text, d.speaker, d.start) for d in f.decisions] == [
        ("Switch the retro to every other week", "Ben", 4.0)]


@pytest.mark.parametrize("said", ["Nothing is blocking me right now.", "No blockers on my side.",
                                  "I was stuck on the VPN yesterday, but it's fine now."])
def test_saying_there_is_no_blocker_is_no_blocker(said: str) -> None:
    assert meeting(("Ben", said)).blockers == []


@pytest.mark.parametrize("said", ["Let's move on to the budget.", "Let's take that offline.", "Next item, please.",
                                  "Very good, let's have a look.", "So, let's go back to the basic function.",
                                  "Let's park that for now.", "Can we take this offline?", "Let me check the time."])
def test_meeting_moves_are_not_decisions_or_tasks(said: str) -> None:
    f = meeting(("Ruth", "Should we take this offline?"), ("Marta", said), ("Ruth", "Yes, let's do that."))
    assert f.decisions == [] and f.action_items == []


def test_a_decision_put_as_a_question_and_agreed_to_is_a_decision() -> None:
    f = meeting(("Ava", "So we're going with the postal-code service?"), ("Ben", "Yes, let's."), ("Cat", "Agreed."))
    assert [(d.text, d.speaker) for d in f.decisions] == [("Go with the postal-code service", "Ben")]
    # A decision put back as a question is confirmed by a bare yes; a proposal needs more than that.
    f = meeting(("Ava", "We're sticking with the old invoice template, right?"), ("Ben", "Yeah."))
    assert [d.text for d in f.decisions] == ["Stick with the old invoice template"]
    assert meeting(("Ava", "Should we switch to weekly releases?"), ("Ben", "Yeah.")).decisions == []
    # Nobody agrees: nothing was decided.
    assert meeting(("Ava", "So we're going with the postal-code service?"),
                   ("Ben", "I'm not sure, the other one is cheaper.")).decisions == []


def test_a_verdict_on_a_topic_just_raised_names_the_topic() -> None:
    f = meeting(("Ava", "What about the dark mode toggle?"), ("Ben", "That one stays."))
    assert [d.text for d in f.decisions] == ["The dark mode toggle stays."]
    assert meeting(("Ava", "The dark mode toggle is odd."), ("Ben", "That one stays.")).decisions == []


# --- who a task's pronoun means ---------------------------------------------------------------------------------

def test_a_tasks_pronoun_names_the_person_spoken_of_before() -> None:
    f = meeting(("Ava", "Maria from finance still hasn't sent the invoice numbers."), ("Ben", "Okay."),
                ("Ava", "Ben, call her and ask for them by Friday."))
    assert [(a.text, a.owner) for a in f.action_items] == [("Call Maria and ask for them", "Ben")]
    f = meeting(("Ava", "The vendor contact is Priya at Acme."), ("Ben", "I'll email him her slides tomorrow."))
    assert [a.text for a in f.action_items] == ["Email Priya Priya's slides"]
    # A participant spoken of counts; the speaker and the person asked never are "her".
    f = meeting(("Ava", "Cat says the quote is late."), ("Ava", "Ben, can you chase her about it?"),
                participants=["Ava", "Ben", "Cat"])
    assert [a.text for a in f.action_items] == ["Chase Cat about it"]


def test_a_pronoun_nobody_was_named_for_stays_and_acme_is_no_person() -> None:
    f = meeting(("Ava", "The contract with Acme is ready."), ("Ava", "Ben, can you call her and ask?"))
    assert [a.text for a in f.action_items] == ["Call her and ask"]


def test_it_in_a_task_names_the_thing_its_speaker_just_named() -> None:
    f = meeting(("Ava", "Honestly, I'd have to check the exact number. I'll send it over this afternoon."),
                participants=["Ava", "Ben"])
    assert [a.text for a in f.action_items] == ["Send the exact number over"]
    # Another speaker's thing, or a question, is not what "it" means.
    f = meeting(("Ben", "Where is the exact number?"), ("Ava", "I'll send it over."))
    assert all("number" not in a.text for a in f.action_items)


def test_a_decision_asked_as_a_question_without_its_mark_is_no_decision() -> None:
    f = meeting(("Ava", "Um, should we go with the yellow case in the end"), ("Ben", "I'm not sure."))
    assert f.decisions == []
