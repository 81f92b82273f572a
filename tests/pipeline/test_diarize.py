"""Speaker diarization of one mixed recording: real voices in, speakers, split segments and names out."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.decode import SAMPLE_RATE, decode_audio
from pipeline.diarize import transcribe_speakers
from pipeline.diarize.assign import speaker_segments
from pipeline.diarize.naming import name_speakers
from pipeline.diarize.turns import Turn, diarize
from pipeline.transcribe import Piece, Transcriber, Word
from pipeline.types import Segment
from tests import media

# Two espeak voices (Linda en+f2, Josh en-us+m1) taking turns, with the true turn times beside it.
MEETING = media.CORPUS / "dev-06-screening-summit-routing"
CLIP_S = 45.0
needs_corpus = pytest.mark.skipif(not MEETING.with_suffix(".ogg").exists(), reason="the shared corpus is absent")


@pytest.fixture(scope="module")
def clip() -> tuple[np.ndarray, list[dict]]:
    audio = decode_audio(MEETING.with_suffix(".ogg"))[: int(CLIP_S * SAMPLE_RATE)]
    turns = json.loads(MEETING.with_suffix(".timing.json").read_text())["turns"]
    return audio, [t for t in turns if t["end"] <= CLIP_S]


def speaker_at(turns: list[Turn], t: float) -> int | None:
    return next((x.speaker for x in turns if x.start <= t <= x.end), None)


@needs_corpus
def test_two_voices_are_found_as_two_speakers_who_take_turns(clip) -> None:
    audio, truth = clip
    turns = diarize(audio)
    assert len({t.speaker for t in turns}) == 2
    # Each true turn's middle is given to one found speaker, the same one for the same person, and the two
    # people get different speakers.
    found = {(t["speaker"], speaker_at(turns, (t["start"] + t["end"]) / 2)) for t in truth}
    assert len(found) == 2 and len({f for _, f in found}) == 2 and None not in {f for _, f in found}


@needs_corpus
def test_the_participant_list_bounds_the_speaker_count(clip) -> None:
    audio, _ = clip
    assert {t.speaker for t in diarize(audio, max_speakers=1)} == {0}


def test_silence_has_no_speakers() -> None:
    assert diarize(np.zeros(3 * SAMPLE_RATE, dtype=np.float32)) == []


def words(*spec: tuple[float, float, str]) -> list[Word]:
    return [Word(start, end, text) for start, end, text in spec]


def test_a_turn_change_inside_a_recogniser_segment_splits_it() -> None:
    piece = Piece(0.0, 3.0, "How big are they? About forty people.",
                  words((0.0, 0.3, " How"), (0.3, 0.5, " big"), (0.5, 0.7, " are"), (0.7, 1.0, " they?"),
                        (1.3, 1.6, " About"), (1.6, 2.0, " forty"), (2.0, 2.6, " people.")))
    turns = [Turn(0.0, 1.1, 0), Turn(1.2, 3.0, 1)]
    got = speaker_segments([piece], turns)
    assert [(s.speaker, s.text, s.start, s.end) for s in got] == [
        ("Speaker 1", "How big are they?", 0.0, 1.0), ("Speaker 2", "About forty people.", 1.3, 2.6)]


def test_a_word_in_a_gap_between_turns_goes_to_the_nearest_turn() -> None:
    piece = Piece(0.0, 4.0, "Yes. Right.", words((0.0, 0.4, " Yes."), (3.1, 3.4, " Right.")))
    got = speaker_segments([piece], [Turn(2.9, 3.5, 1), Turn(0.1, 0.5, 0)])
    assert [(s.speaker, s.text) for s in got] == [("Speaker 1", "Yes."), ("Speaker 2", "Right.")]


def test_a_piece_without_word_times_is_kept_whole_with_the_voice_of_its_span() -> None:
    pieces = [Piece(0.0, 1.0, "Morning all.", words((0.0, 0.4, " Morning"), (0.4, 0.9, " all."))),
              Piece(1.2, 3.0, "Sure, I'll do the migration by Friday.", []),
              Piece(3.2, 3.4, "", [])]
    got = speaker_segments(pieces, [Turn(0.0, 1.1, 0), Turn(1.1, 2.5, 1), Turn(2.5, 3.0, 0)])
    assert [(s.speaker, s.text, s.start, s.end) for s in got] == [
        ("Speaker 1", "Morning all.", 0.0, 0.9), ("Speaker 2", "Sure, I'll do the migration by Friday.", 1.2, 3.0)]


def said(*lines: tuple[str, str]) -> list[Segment]:
    return [Segment(start=float(i), end=i + 0.9, text=text, speaker=who) for i, (who, text) in enumerate(lines)]


def test_voices_are_named_from_introductions_being_asked_and_being_thanked() -> None:
    segments = said(("Speaker 1", "Hi all, it's Maya. Lena, can you start?"),
                    ("Speaker 2", "Sure, the build is green."),
                    ("Speaker 1", "Good. Daniel?"),
                    ("Speaker 3", "I merged the cards."),
                    ("Speaker 1", "Thanks, Daniel."))
    assert [s.speaker for s in name_speakers(segments, ["Maya", "Daniel", "Lena"])] == [
        "Maya", "Lena", "Maya", "Daniel", "Maya"]


def test_a_voice_nothing_points_at_stays_anonymous_and_names_are_not_given_twice() -> None:
    segments = said(("Speaker 1", "Hi, it's Maya here."), ("Speaker 2", "Morning."), ("Speaker 3", "Hello."),
                    ("Speaker 2", "Maya's ticket is done."))
    named = name_speakers(segments, ["Maya", "Daniel", "Lena"])
    assert [s.speaker for s in named] == ["Maya", "Speaker 2", "Speaker 3", "Speaker 2"]


def test_the_last_voice_takes_the_last_name_when_counts_match() -> None:
    segments = said(("Speaker 1", "Okay Josh, give me the short version."), ("Speaker 2", "Sure, they sell software."))
    assert [s.speaker for s in name_speakers(segments, ["Linda", "Josh"])] == ["Linda", "Josh"]
    # Without a participant list nobody is named.
    assert [s.speaker for s in name_speakers(segments, [])] == ["Speaker 1", "Speaker 2"]


def test_names_the_recogniser_misspelled_still_name_voices() -> None:
    segments = said(("Speaker 1", "Okay. Asia, do you want to share your screen?"),
                    ("Speaker 2", "Yes, one second."),
                    ("Speaker 1", "Right, Catherine is right, we keep the old order."),
                    ("Speaker 3", "Good."),
                    ("Speaker 1", "Great, thanks Catherine."))
    assert [s.speaker for s in name_speakers(segments, ["Oliver", "Aisha", "Katrin"])] == [
        "Oliver", "Aisha", "Oliver", "Katrin", "Oliver"]
    # A sentence's first word is capitalised whatever it is: "Same." is not Sam.
    segments = said(("Speaker 1", "Same. The payroll thing worries me."), ("Speaker 2", "It does."))
    assert [s.speaker for s in name_speakers(segments, ["Sam", "Karen", "Maria"])] == ["Speaker 1", "Speaker 2"]


def test_fillers_and_names_at_the_end_address_the_next_voice_and_a_question_after_thanks_too() -> None:
    segments = said(("Speaker 1", "Um, so, Priya, how are the translations?"),
                    ("Speaker 2", "German is back."),
                    ("Speaker 1", "Great, thanks. And the crash key, is that yours, right Nikhil?"),
                    ("Speaker 3", "It is mine."))
    assert [s.speaker for s in name_speakers(segments, ["Greta", "Priya", "Nikhil", "Tomas"])] == [
        "Speaker 1", "Priya", "Speaker 1", "Nikhil"]


def test_speaking_of_two_people_addresses_neither_and_a_short_reply_in_the_askers_voice_tells_nothing() -> None:
    segments = said(("Speaker 1", "Let's have Ethan and Mark share it."),
                    ("Speaker 2", "That works for me."),
                    ("Speaker 3", "Chris, can you send me the list by Tuesday?"),
                    ("Speaker 3", "Sure, no problem."),
                    ("Speaker 1", "Good."))
    named = name_speakers(segments, ["Ethan", "Mark", "Chris", "Laura"])
    assert named[1].speaker == "Speaker 2" and named[4].speaker == "Speaker 1"


def test_the_voice_that_takes_on_work_given_by_name_is_that_person() -> None:
    segments = said(("Speaker 1", "Lena, can you take the database migration?"),
                    ("Speaker 2", "Wait, what about the old tables?"),
                    ("Speaker 3", "Sure, I'll do the migration by Friday."))
    # The one who speaks next only asked something; the one who took the migration on is Lena.
    assert [s.speaker for s in name_speakers(segments, ["Maya", "Lena", "Daniel"])] == [
        "Speaker 1", "Speaker 2", "Lena"]
    segments = said(("Speaker 1", "Michael will update the runbook by Wednesday."), ("Speaker 2", "Okay."),
                    ("Speaker 3", "Yes, I'll update the runbook tonight."))
    assert [s.speaker for s in name_speakers(segments, ["Sarah", "Michael", "Peter", "Sophie"])] == [
        "Speaker 1", "Speaker 2", "Michael"]
    # Work the asker's own voice goes on about, or other work taken on, tells nothing.
    segments = said(("Speaker 1", "Michael will update the runbook by Wednesday."),
                    ("Speaker 1", "And I'll update the runbook's diagram."),
                    ("Speaker 2", "I'll send the invoices by Wednesday."))
    assert [s.speaker for s in name_speakers(segments, ["Sarah", "Michael", "Peter", "Sophie"])] == [
        "Speaker 1", "Speaker 1", "Speaker 2"]


def test_work_given_in_one_clause_of_two_and_the_floor_handed_over_by_name() -> None:
    segments = said(("Speaker 1", "Let's have Ethan and Mark share it."),
                    ("Speaker 1", "Ethan writes the test plan, and Mark builds the refund logic."),
                    ("Speaker 2", "That works. I can have the refund logic done by the end of the month."))
    people = ["Laura", "Mark", "Emma", "Ethan"]
    assert [s.speaker for s in name_speakers(segments, people)][2] == "Mark"
    # What someone wants is done by somebody else, asked or spoken of.
    segments = said(("Speaker 1", "Emma, do you want the report by Friday?"), ("Speaker 3", "Yes."),
                    ("Speaker 2", "I'll send the report tonight."))
    assert [s.speaker for s in name_speakers(segments, people)][2] == "Speaker 2"
    segments = said(("Speaker 1", "Emma wants the report by Friday."), ("Speaker 2", "I'll send the report tonight."))
    assert [s.speaker for s in name_speakers(segments, people)][1] == "Speaker 2"
    segments = said(("Speaker 1", "Welcome. Lucy is going to show us the new flow."),
                    ("Speaker 2", "Thanks, let me share my screen."), ("Speaker 3", "Looks good."))
    assert [s.speaker for s in name_speakers(segments, ["Susan", "Lucy", "Marcus", "Chris"])] == [
        "Speaker 1", "Lucy", "Speaker 3"]


def test_a_request_the_recogniser_cut_in_two_still_asks_the_next_voice() -> None:
    segments = said(("Speaker 1", "Peter, can you review the draft by Friday,"), ("Speaker 1", "once it's ready?"),
                    ("Speaker 2", "Yeah, no problem."))
    assert [s.speaker for s in name_speakers(segments, ["Sarah", "Peter", "Sophie", "Michael"])] == [
        "Speaker 1", "Speaker 1", "Peter"]


def test_a_name_two_voices_have_equal_claim_to_goes_to_neither() -> None:
    segments = said(("Speaker 1", "I can take Sunday."), ("Speaker 2", "Okay. Thanks, Rahul."),
                    ("Speaker 2", "Rahul, you pulled the numbers?"), ("Speaker 3", "I did."))
    assert [s.speaker for s in name_speakers(segments, ["Joanna", "Rahul", "Fiona", "Mei"])] == [
        "Speaker 1", "Speaker 2", "Speaker 2", "Speaker 3"]


def test_the_uploader_is_a_hint_for_the_voice_that_opens_the_meeting_never_against_what_is_said() -> None:
    segments = said(("Speaker 1", "Okay, let's start. Mark, how is the bug?"), ("Speaker 2", "Fixed."),
                    ("Speaker 3", "Good to hear."))
    people = ["Laura", "Mark", "Emma"]
    assert [s.speaker for s in name_speakers(segments, people)] == ["Speaker 1", "Mark", "Speaker 3"]
    # The host sent the recording: the opener is Laura, and the last voice the last name.
    assert [s.speaker for s in name_speakers(segments, people, uploader="Laura")] == ["Laura", "Mark", "Emma"]
    # Mark sent it, but the opener speaks to Mark: the hint does not outweigh that.
    assert [s.speaker for s in name_speakers(segments, people, uploader="Mark")][:2] == ["Speaker 1", "Mark"]


def test_the_uploader_is_the_voice_that_calls_on_the_others_and_the_one_voice_left_unnamed() -> None:
    segments = said(("Speaker 1", "Hi all."), ("Speaker 2", "Okay, let's start. Mark, how is the bug?"),
                    ("Speaker 3", "Fixed."), ("Speaker 2", "Emma, and the designs?"), ("Speaker 4", "Halfway there."))
    # The voice calling on people is the host's, not the first to speak.
    assert [s.speaker for s in name_speakers(segments, ["Laura", "Mark", "Emma"], uploader="Laura")] == [
        "Speaker 1", "Laura", "Mark", "Laura", "Emma"]
    segments = said(("Speaker 1", "Hi, it's Laura. Mark, how is the bug?"), ("Speaker 2", "Fixed."),
                    ("Speaker 3", "Good to hear."))
    people = ["Laura", "Mark", "Emma", "Sam"]
    assert [s.speaker for s in name_speakers(segments, people)] == ["Laura", "Mark", "Speaker 3"]
    # Emma sent it and every other voice has its name: the one left is hers.
    assert [s.speaker for s in name_speakers(segments, people, uploader="Emma")] == ["Laura", "Mark", "Emma"]
    # …not when what it said speaks against it.
    segments[2] = Segment(2.0, 2.9, "Good to hear, Emma will be glad.", "Speaker 3")
    assert [s.speaker for s in name_speakers(segments, people, uploader="Emma")][2] == "Speaker 3"


@needs_corpus
def test_a_mixed_recording_with_participants_gives_named_speakers(clip) -> None:
    audio, _ = clip
    segments = transcribe_speakers(audio, Transcriber(), participants=["Linda", "Josh"], language="en")
    by_speaker = {s.speaker for s in segments}
    assert by_speaker == {"Linda", "Josh"}
    text = {s.speaker: " ".join(x.text for x in segments if x.speaker == s.speaker).lower() for s in segments}
    assert "how big are they" in text["Linda"] and "bakeries" in text["Josh"]
    assert "bakeries" not in text["Linda"]
