"""Exported transcripts: WebVTT voice tags, SRT, plain `Name:` text, and malformed files."""

import pytest

from core.errors import InputError
from pipeline.transcripts import read_text, read_transcript

VTT = """WEBVTT
Kind: captions

NOTE exported by a meeting tool

1
00:00:01.200 --> 00:00:04.000 align:start
<v Alice>Let's start with the roadmap.</v>

2
00:01:05.000 --> 00:01:09.500
<v.loud Bob Smith>I&apos;ll send the
numbers by Friday.

00:01:10.000 --> 00:01:12.000
Carol: Sounds good.
"""


def test_vtt_voice_tags_and_prefixes_give_speakers():
    segs = read_text(VTT, "call.vtt")
    assert [(s.speaker, s.text) for s in segs] == [
        ("Alice", "Let's start with the roadmap."),
        ("Bob Smith", "I'll send the numbers by Friday."),
        ("Carol", "Sounds good."),
    ]
    assert segs[1].start == 65.0 and segs[1].end == 69.5


def test_srt_with_name_prefixes():
    srt = "1\n00:00:00,500 --> 00:00:02,000\nDana: Hello all.\n\n2\n00:00:02,500 --> 00:00:04,000\nNo name here.\n"
    segs = read_text(srt, "call.srt")
    assert [(s.speaker, s.text, s.start) for s in segs] == [("Dana", "Hello all.", 0.5), (None, "No name here.", 2.5)]


def test_plain_text_turns_get_increasing_estimated_times():
    segs = read_text("Alice: First point.\nand more of it\nBob: Second point here.\n")
    assert [(s.speaker, s.text) for s in segs] == [("Alice", "First point. and more of it"),
                                                   ("Bob", "Second point here.")]
    assert 0 == segs[0].start < segs[0].end < segs[1].start


def test_plain_text_uses_clock_stamps_when_present():
    segs = read_text("[00:01:30] Alice: Late start.\n[1:45] Bob: Indeed.")
    assert [s.start for s in segs] == [90.0, 105.0]
    assert [s.speaker for s in segs] == ["Alice", "Bob"]


def test_cues_without_the_webvtt_line_are_still_read(tmp_path):
    path = tmp_path / "meeting.vtt"
    path.write_text("1\n00:00:01.000 --> 00:00:02.000\nHi\n")
    assert [(s.start, s.text) for s in read_transcript(path)] == [(1.0, "Hi")]


def test_a_cue_that_ends_before_it_starts_is_kept_at_its_start(tmp_path):
    path = tmp_path / "meeting.vtt"
    path.write_text("WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nHi\n")
    assert [(s.start, s.end, s.text) for s in read_transcript(path)] == [(5.0, 5.0, "Hi")]


@pytest.mark.parametrize("text, message", [
    ("WEBVTT\n\n1\n00:00:01 -> 00:00:02\nHi\n", "no cues with a timing line"),
    ("WEBVTT\n\nNOTE nothing else\n", "no cues"),
    ("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<i></i>\n", "holds no spoken lines"),
    ("   \n\n", "is empty"),
])
def test_malformed_vtt_is_rejected_with_the_reason(tmp_path, text, message):
    path = tmp_path / "meeting.vtt"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as err:
        read_transcript(path)
    assert err.value.hint


def test_binary_transcript_is_rejected(tmp_path):
    path = tmp_path / "meeting.txt"
    path.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(InputError, match="UTF-8") as err:
        read_transcript(path)
    assert "Save the transcript as UTF-8" in err.value.hint
