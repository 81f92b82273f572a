"""Confidence and evidence: the trained labeller over the rule detectors, and its thresholds."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from pipeline.findings import extract_findings
from pipeline.findings.acts import KINDS, N_FEATURES, ActLabeller, Head, load_heads
from pipeline.findings.confidence import assess
from pipeline.findings.encoder import DIM, EncoderError
from pipeline.findings.engine import rule_findings
from pipeline.findings.people import People
from pipeline.findings.sentences import build_sentences
from pipeline.findings.text import clean_spoken, content_offset
from pipeline.types import MeetingInfo, Segment

MONDAY = dt.date(2027, 3, 8)


def segments(*turns: tuple[str, str]) -> list[Segment]:
    return [Segment(start=5.0 * i, end=5.0 * i + 4.5, text=text, speaker=speaker)
            for i, (speaker, text) in enumerate(turns)]


def run(*turns: tuple[str, str]):
    segs = segments(*turns)
    info = MeetingInfo(title="t", date=MONDAY, participants=sorted({s for s, _ in turns}))
    return extract_findings(segs, info, [])


class Zeros:
    """An encoder whose every embedding is zero: the heads below then answer from their bias alone."""

    def encode(self, texts):
        return np.zeros((len(texts), DIM), dtype=np.float32)


def constant(p: float, *, confident: float, possible: float) -> dict[str, Head]:
    bias = float(np.log(p / (1 - p)))
    return {k: Head(np.zeros(N_FEATURES, dtype=np.float32), bias, confident, possible, confident, confident, confident)
            for k in KINDS}


MEETING = (("Maya", "I'll send the signed contract to legal by Friday."),
           ("Daniel", "Okay. We decided to launch the beta in April."),
           ("Lena", "We're still waiting on the security review from the bank."),
           ("Daniel", "Okay."), ("Lena", "Sure."),  # too short to be anything: they keep the next one apart
           ("Maya", "Right, the quarterly numbers are looking healthy this time around."))


def assessed(heads: dict[str, Head]):
    segs = segments(*MEETING)
    info = MeetingInfo(title="t", date=MONDAY, participants=["Maya", "Daniel", "Lena"])
    sentences = build_sentences(segs)
    people = People(info.participants)
    f = rule_findings(sentences, people, info, [])
    assert f.action_items and f.decisions and f.blockers  # the rules found one of each
    assess(sentences, f, people, MONDAY, labeller=ActLabeller(heads=heads, encoder=Zeros()))
    return f


def test_unsure_findings_are_kept_apart_as_possible():
    f = assessed(constant(0.5, confident=0.7, possible=0.4))
    assert not f.action_items and not f.decisions and not f.blockers
    assert [a.text for a in f.possible_action_items][0].startswith("Send the signed contract")
    assert f.possible_decisions and f.possible_blockers
    assert all(x.confidence == 0.5 for x in f.possible_action_items + f.possible_decisions + f.possible_blockers)


def test_findings_below_the_possible_threshold_are_dropped():
    f = assessed(constant(0.2, confident=0.7, possible=0.4))
    assert not (f.action_items or f.decisions or f.blockers or f.possible_action_items or f.possible_decisions
                or f.possible_blockers)


def test_confident_sentences_no_rule_caught_become_findings_worded_from_the_sentence():
    f = assessed(constant(0.9, confident=0.7, possible=0.4))
    # The rules' own findings stay, with their sentence as evidence…
    contract = next(a for a in f.action_items if "contract" in a.text)
    assert contract.owner == "Maya" and contract.due == "2027-03-12"
    assert contract.evidence == "I'll send the signed contract to legal by Friday." and contract.end > contract.start
    # …and the sentence no rule read ("the quarterly numbers…") is now a blocker too, in its own words; not worded
    # as a decision, it is only a possible one.
    assert any(d.text.startswith("The quarterly numbers are looking healthy") for d in f.blockers)
    assert any(d.text.startswith("The quarterly numbers are looking healthy") for d in f.possible_decisions)
    assert not any(d.text.startswith("The quarterly numbers") for d in f.decisions)
    assert all(x.confidence == 0.9 for x in f.action_items + f.decisions + f.blockers)


def test_the_trained_model_keeps_a_plain_commitment_and_invents_nothing_in_small_talk():
    f = run(("Maya", "I'll send the signed contract to legal by Friday."),
            ("Daniel", "Great, thanks Maya."))
    [item] = f.action_items
    assert item.owner == "Maya" and item.due == "2027-03-12" and 0.0 <= item.confidence <= 1.0
    assert item.evidence == "I'll send the signed contract to legal by Friday."
    chat = run(("Maya", "How was your weekend?"), ("Daniel", "Lovely, we went hiking up by the lake."),
               ("Maya", "Oh nice, the weather was perfect for it."), ("Daniel", "It really was. Anyway."))
    assert not (chat.action_items or chat.decisions or chat.blockers)


def test_one_line_and_empty_meetings_give_no_findings():
    assert not run(("Maya", "Hello?")).action_items
    info = MeetingInfo(title="t", date=MONDAY)
    empty = extract_findings([], info, [])
    assert not (empty.action_items or empty.decisions or empty.blockers)


def test_a_missing_or_damaged_model_says_what_to_do(tmp_path):
    with pytest.raises(EncoderError, match="missing or damaged") as e:
        load_heads(tmp_path / "acts.json")
    assert "retrain" in e.value.hint
    (tmp_path / "acts.json").write_text("{not json")
    with pytest.raises(EncoderError, match="missing or damaged"):
        load_heads(tmp_path / "acts.json")
    (tmp_path / "acts.json").write_text(json.dumps({"feature_version": 0, "heads": {}}))
    with pytest.raises(EncoderError, match="trained for other features"):
        load_heads(tmp_path / "acts.json")


def test_the_shipped_model_loads_with_thresholds_in_order():
    heads = load_heads()
    for head in heads.values():
        sure = (head.confident, head.rule_hesitant, head.confident_hesitant)
        assert 0.0 < head.possible <= min(sure) and max(sure) < 1.0
        assert 0.0 <= head.rule < 1.0  # 0.0: what a rule finds in tidy talk is kept whatever the labeller says


@pytest.mark.parametrize(("said", "written"), [
    ("um for uh our designer, you're gonna be thinking about the components concept.",
     "For our designer, you're gonna be thinking about the components concept."),
    ("Um well this is the kick-off meeting for our our project.", "This is the kick-off meeting for our project."),
    ("So, um, I I will send it.", "I will send it."),
    ("Mm-hmm.", ""),
    ("The umbrella and the ermine stay.", "The umbrella and the ermine stay."),  # words that start like "um"/"er"
])
def test_spoken_words_are_written_as_a_note_taker_would(said, written):
    assert clean_spoken(said) == written


def test_a_finding_starts_where_its_words_do():
    segs = [Segment(0.0, 2.0, "Um and um", "A"), Segment(2.0, 6.0, "you will draw the new layout.", "A")]
    [sentence] = build_sentences(segs)
    assert sentence.start == 0.0
    assert sentence.time_at(content_offset(sentence.text)) == 2.0


def test_a_meeting_in_a_language_the_engine_does_not_read_gets_no_invented_findings_and_says_so():
    segs = segments(("Ana", "Je vais envoyer le contrat à l'équipe juridique vendredi."),
                    ("Luc", "D'accord, on a décidé de lancer la bêta en avril."))
    f = extract_findings(segs, MeetingInfo(title="t", date=MONDAY, participants=["Ana", "Luc"], language="fr"), [])
    assert not (f.action_items or f.decisions or f.blockers or f.questions or f.possible_action_items)
    assert "French" in f.summary and "English only" in f.summary


def test_a_task_handed_over_later_keeps_one_item_with_the_last_owner_and_date():
    from pipeline.findings.discourse import settle_handovers
    from pipeline.types import ActionItem

    guide = ActionItem("Write the migration guide for the analysts", "Ben", "2026-11-27", 30.0, "Ken",
                       evidence="Ben, could you write the migration guide for the analysts?")
    other = ActionItem("Chase IT about the service account", "Ken", None, 20.0, "Ken", evidence="I'll chase IT.")
    handed = ActionItem("Take the guide instead", "Ada", "2026-11-30", 40.0, "Ben",
                        evidence="Ada, could you take the guide instead?")
    [chase, kept] = settle_handovers([other, guide, handed])
    assert (kept.text, kept.owner, kept.due, kept.start) == (guide.text, "Ada", "2026-11-30", 30.0)
    assert guide.owner == "Ben" and chase is other  # nothing said before is changed in place
    # "instead" with nothing earlier it names is a task of its own.
    alone = ActionItem("Book the hall instead", "Ada", None, 50.0, "Ada", evidence="I'll book the hall instead.")
    assert settle_handovers([other, alone]) == [other, alone]


def test_the_engine_follows_a_hand_over_to_the_last_owner():
    f = run(("Ken", "Ben, could you write the migration guide for the analysts by end of next week?"),
            ("Ben", "I can do that. Actually, wait, I'm out Thursday and Friday."),
            ("Ben", "Ada, could you take the guide instead?"),
            ("Ada", "Sure, I'll take it."))
    guides = [a for a in f.action_items + f.possible_action_items if "guide" in a.text.lower()]
    assert [(a.owner, a.due) for a in guides] == [("Ada", "2027-03-19")]


MEETING_MOVES = ["Let's move on.", "Next item.", "Let's take that offline.", "I'll share my screen.",
                 "Let me just check the time.", "Okay, um, let's move on to the budget.",
                 "Can we take the pricing discussion offline?", "Let's wrap up for today."]


@pytest.mark.parametrize("said", MEETING_MOVES)
def test_lines_that_run_the_meeting_are_no_task_or_decision(said):
    turns = (("Maya", "The supplier quote came in this morning."), ("Daniel", said), ("Maya", "Sure."))
    f = run(*turns)
    assert not (f.action_items or f.decisions or f.possible_action_items or f.possible_decisions)


def test_work_said_like_a_meeting_move_is_still_work():
    f = run(("Maya", "Let me check the logs after lunch."), ("Daniel", "I'll share the deck with the client."))
    assert len(f.action_items + f.possible_action_items) == 2


def test_an_unresolved_pronoun_makes_a_task_less_sure():
    named = run(("Maya", "Maria from finance still hasn't sent the invoice numbers."), ("Daniel", "Right."),
                ("Maya", "Daniel, call her and ask for them by Friday."))
    unnamed = run(("Maya", "The invoice numbers are still missing."), ("Daniel", "Right."),
                  ("Maya", "Daniel, call her and ask for them by Friday."))
    [resolved] = named.action_items + named.possible_action_items
    [guess] = unnamed.action_items + unnamed.possible_action_items
    assert resolved.text == "Call Maria and ask for them" and guess.text == "Call her and ask for them"
    assert guess.confidence < 0.75 * 1.0 and resolved.confidence > guess.confidence


@pytest.mark.parametrize("said", ["I'll put it in there.", "I'll do that next time.", "I'll put four.",
                                  "I need to open mine.", "Can you can you just re explain me the"])
def test_a_task_too_vague_or_broken_off_to_act_on_is_never_delivered(said):
    f = run(("Maya", "The supplier quote came in this morning."), ("Daniel", said))
    assert not f.action_items


def test_hesitant_talk_is_told_from_further_than_the_labellers_own_look():
    from pipeline.findings.confidence import spontaneous
    # No "um" within three sentences of the fifth of these, but eight of the sixteen around it.
    um = [f"Um, so, we we looked at option {n}." for n in range(4)]
    plain = [f"Option {n} is fine." for n in range(4)]
    talk = [*um, *plain, "I'll put four.", *plain, *um]
    tidy = [f"We looked at option {n} yesterday." for n in range(14)]
    near, _ = spontaneous(build_sentences(segments(*(("Maya", t) for t in talk))))
    assert near[8]
    assert not any(flags.any() for flags in spontaneous(build_sentences(segments(*(("Maya", t) for t in tidy)))))


def test_amid_hesitant_talk_the_labellers_own_decision_must_be_said_as_one():
    turns = [("Maya", "Um, uh, so the the rubber case, yeah."), ("Daniel", "Uh, the the spongy one, um, maybe."),
             ("Maya", "Um, I I think it has to be the spongy rubber case then."), ("Daniel", "Uh, yeah, the the colour.")]
    segs = segments(*turns)
    sentences = build_sentences(segs)
    people = People(["Maya", "Daniel"])
    info = MeetingInfo(title="t", date=MONDAY, participants=["Maya", "Daniel"])
    f = rule_findings(sentences, people, info, [])
    assess(sentences, f, people, MONDAY,
           labeller=ActLabeller(heads=constant(0.9, confident=0.7, possible=0.4), encoder=Zeros()))
    assert [d.text for d in f.decisions] == ["I think it has to be the spongy rubber case then"]
    assert len(f.possible_decisions) >= 2


@pytest.mark.parametrize("said", ["I'll act as secretary for this meeting and just take minutes as we go through.",
                                  "So I will let you do your presentation.", "Okay then I'll meet you in half an hour.",
                                  "I'll direct you through the project."])
def test_running_the_meeting_is_no_task_even_with_more_said_after(said):
    f = run(("Maya", "The supplier quote came in this morning."), ("Daniel", said))
    assert not f.action_items


def test_amid_hesitant_talk_a_hedged_or_stumbling_finding_is_only_possible():
    from pipeline.findings.notes import said_as_decision
    assert said_as_decision("Um, we're going with the rubber case.")
    assert not said_as_decision("If we leave out those buttons, we'll go with the flat case.")
    assert not said_as_decision("Shall we go for the rubber case?")
    assert not said_as_decision("Let's move to the next slide.")
    assert not said_as_decision("Um, so, if we go with the rubber case, it costs more.")
    talk = [("Maya", f"Um, uh, the the option {n}, yeah.") for n in range(5)] + \
        [("Daniel", "So just um I will put these um minutes on the in the folder.")] + \
        [("Maya", f"Uh, the the colour {n}, um.") for n in range(5)]
    assert not run(*talk).action_items


def test_a_meeting_hesitant_so_far_counts_as_hesitant_talk_further_on():
    from pipeline.findings.confidence import spontaneous
    um = [f"Um, so, we we looked at option {n}." for n in range(12)]
    plain = [f"Option {n} is fine." for n in range(30)]
    sentences = build_sentences(segments(*(("Maya", t) for t in [*um, *plain])))
    near, so_far = spontaneous(sentences)
    assert not near[30] and so_far[30]  # twelve of the 39 so far: 31 %
    assert not so_far[:21].any()  # too few sentences yet to tell
    # The live engine's window counts the sentences before it.
    near_w, so_far_w = spontaneous(sentences[20:], before=(12, 20))
    assert (so_far_w == so_far[20:]).all() and not near_w[10:].any()


def test_amid_hesitant_talk_a_request_taken_up_is_still_work_and_one_put_to_nobody_only_possible():
    um = [("Maya", f"Um, uh, the the option {n}, yeah.") for n in range(4)]

    def delivered(*turns):
        sentences = build_sentences(segments(*turns))
        people = People(["Maya", "Daniel", "Lena"])
        info = MeetingInfo(title="t", date=MONDAY, participants=["Maya", "Daniel", "Lena"])
        f = rule_findings(sentences, people, info, [])
        assess(sentences, f, people, MONDAY,
               labeller=ActLabeller(heads=constant(0.9, confident=0.7, possible=0.4), encoder=Zeros()))
        return [a.text for a in f.action_items], [a.text for a in f.possible_action_items]

    taken = delivered(*um, ("Maya", "Um, could you look at my quarter plan?"), ("Daniel", "Sure, happy to."), *um)
    assert "Look at my quarter plan" in taken[0]
    left = delivered(*um, ("Maya", "Um, could you look at my quarter plan?"), ("Daniel", "Uh, the the colour."), *um)
    assert "Look at my quarter plan" not in left[0] and "Look at my quarter plan" in left[1]
