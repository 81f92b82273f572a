"""Word-timed segments: a per-speaker track's recogniser segment is cut at pauses and sentence ends."""

from __future__ import annotations

from pipeline.transcribe import Word, split_words


def words(*spec: tuple[float, float, str]) -> list[Word]:
    return [Word(start, end, text) for start, end, text in spec]


def test_a_segment_that_runs_over_someone_elses_turn_is_cut_at_the_pause() -> None:
    # One recogniser segment from 1.0 to 14.0 s: two turns of the same speaker with another person in between.
    got = split_words(words((1.0, 1.3, " Can"), (1.3, 1.5, " you"), (1.5, 1.9, " check"), (1.9, 2.4, " it"),
                            (9.0, 9.4, " and"), (9.4, 9.8, " then"), (9.8, 10.3, " merge")), speaker="Ava")
    assert [(s.start, s.end, s.text, s.speaker) for s in got] == [(1.0, 2.4, "Can you check it", "Ava"),
                                                                  (9.0, 10.3, "and then merge", "Ava")]


def test_sentence_ends_cut_too_and_short_pauses_do_not() -> None:
    got = split_words(words((0.0, 0.4, " Done."), (0.6, 0.9, " Next"), (1.5, 1.8, " one"), (1.8, 2.0, " please")))
    assert [(s.start, s.end, s.text) for s in got] == [(0.0, 0.4, "Done."), (0.6, 2.0, "Next one please")]


def test_sentences_can_be_kept_together() -> None:
    got = split_words(words((0.0, 0.4, " Done."), (0.6, 0.9, " Next.")), at_sentence_end=False)
    assert [s.text for s in got] == ["Done. Next."]


def test_no_words_no_segments() -> None:
    assert split_words([]) == []
    assert split_words(words((0.0, 0.1, " "))) == []


def test_batched_decoding_gives_timed_words_in_order() -> None:
    from pipeline.transcribe import Transcriber, WhisperConfig
    from tests.media import sample_clip

    clip = sample_clip(12.0)
    pieces = Transcriber(WhisperConfig(batch_size=4)).pieces(clip, word_timing=True)
    said = " ".join(p.text for p in pieces).lower()
    assert "morning" in said and "start" in said
    times = [w.start for p in pieces for w in p.words]
    assert times == sorted(times) and times[0] >= 0 and times[-1] < 12.0
