"""Every transcript a user has: each format, encoding and phrasing edge case, the real exports, the language."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import zipfile
from pathlib import Path

import docx
import pytest

from core.errors import InputError
from pipeline.run import Transcript, analyse, input_kind, transcribe_source
from pipeline.transcripts import TRANSCRIPT_SUFFIXES, read_text, read_transcript, transcript_language
from pipeline.types import MeetingInfo, Segment

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = ROOT.parent / "shared" / "corpus" / "exports"
FRENCH = ("00:00:01.000 --> 00:00:05.000\nClaire: Bonjour à tous, on commence la réunion de planification.\n\n"
          "00:00:05.000 --> 00:00:09.000\nMarc: Je termine la page de paiement avant vendredi, c'est promis.\n\n"
          "00:00:09.000 --> 00:00:14.000\nClaire: Très bien, et qui s'occupe des tests de la nouvelle version ?\n")


def said(segments: list[Segment]) -> list[tuple]:
    return [(s.speaker, s.text) for s in segments]


# -- encodings -------------------------------------------------------------------------------------------------

SRT = "1\n00:00:01,000 --> 00:00:03,000\nRègle numéro un : on ne parle pas du café.\n\n" \
      "2\n00:00:03,500 --> 00:00:05,000\nDéjà vu, señor — naïve façade.\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252"])
def test_every_encoding_reads_the_same(tmp_path, encoding):
    path = tmp_path / "film.srt"
    text = SRT.replace("\n", "\r\n") if encoding == "cp1252" else SRT
    path.write_bytes(text.encode(encoding, errors="strict"))
    segs = read_transcript(path)
    assert said(segs) == [(None, "Règle numéro un : on ne parle pas du café."),
                          (None, "Déjà vu, señor — naïve façade.")]


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b" \r\n\t\n", "is empty"),
    (b"ID3\x03\x00\x00\x00\x00\x0f\x76" + bytes(range(256)) * 4, "not readable text"),
    (b"\xff\xfe\x00\x81garbage", "not readable text"),
])
def test_what_is_not_text_is_refused_with_a_hint(tmp_path, content, message):
    path = tmp_path / "meeting.txt"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as err:
        read_transcript(path)
    assert err.value.hint


# -- WebVTT ----------------------------------------------------------------------------------------------------

def test_vtt_markup_is_dropped_but_a_literal_less_than_stays():
    segs = read_text("WEBVTT\n\n00:01.000 --> 00:02.000 align:start position:0%\n"
                     "<c.colorE5E5E5>latency < 200ms</c> and 2<3,5>1 <00:01.500><b>fine</b> &amp; done\n",
                     "x.vtt")
    assert said(segs) == [(None, "latency < 200ms and 2<3,5>1 fine & done")]


def test_a_timing_line_right_after_a_cue_starts_the_next_cue():
    segs = read_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nfirst\n00:00:02.000 --> 00:00:03.000\nsecond\n",
                     "x.vtt")
    assert [(s.start, s.text) for s in segs] == [(1.0, "first"), (2.0, "second")]


def test_notes_styles_ids_and_old_teams_timings():
    segs = read_text("WEBVTT - Meeting\n\nSTYLE\n::cue { color: red }\n\nNOTE\nConfidence: 0.9\nduration: 1\n\n"
                     "3f1a-22/14-0\n0:0:0.0 --> 0:0:0.570\n<v Yuri Bakulin>There you go.</v>\n\n"
                     "0:0:0.570 --> 0:0:2.5\n<v Adrian Petrescu>Why hello there.\n", "x.vtt")
    assert [(s.start, s.end, s.speaker, s.text) for s in segs] == [
        (0.0, 0.57, "Yuri Bakulin", "There you go."), (0.57, 2.5, "Adrian Petrescu", "Why hello there.")]


def test_youtube_rolling_captions_give_each_line_once():
    cue = "{a} --> {b} align:start position:0%\n{text}\n\n"
    body = "".join(cue.format(a=a, b=b, text=t) for a, b, t in [
        ("00:00:00.080", "00:00:01.300", " \nwhen<00:00:00.199><c> I</c><00:00:00.280><c> started</c>"),
        ("00:00:01.300", "00:00:01.310", "when I started\n "),
        ("00:00:01.310", "00:00:03.000", "when I started\nthe<00:00:01.600><c> job</c>"),
        ("00:00:03.000", "00:00:03.010", "the job\n "),
    ])
    segs = read_text("WEBVTT\nKind: captions\nLanguage: en\n\n" + body, "x.vtt")
    assert [(s.start, s.text) for s in segs] == [(0.08, "when I started"), (1.31, "the job")]


def test_zoom_names_as_written_with_affiliations_apart():
    lines = ["Etan (Nimbus): We shipped it.", "terence: ok from Prysm.", "Toni Wahrstätter: Looks good…",
             "Dima Gusakov | Lido: One question.", "jochem-brouwer: Next.", "Etan (Nimbus): Again.",
             "terence: Sure.", "Toni Wahrstätter: Fine.", "Dima Gusakov | Lido: Thanks.", "jochem-brouwer: Done.",
             "O'Brien-Smith: A note: nothing else."]
    body = "".join(f"{i}\n00:00:{i:02d}.000 --> 00:00:{i + 1:02d}.000\n{line}\n\n" for i, line in enumerate(lines, 1))
    segs = read_text("WEBVTT\n\n" + body, "x.vtt")
    assert {s.speaker for s in segs} == {"Etan", "terence", "Toni Wahrstätter", "Dima Gusakov", "jochem-brouwer",
                                         "O'Brien-Smith"}
    assert segs[-1].text == "A note: nothing else."
    assert not any(":" in s.text for s in segs[:-1])


def test_whisperx_speaker_labels_in_cues():
    segs = read_text("WEBVTT\n\n00:00.000 --> 00:02.000\n[SPEAKER_01]: Hola, bon dia.\n\n"
                     "00:02.000 --> 00:04.000\n[SPEAKER_00]: Bon dia.\n", "x.vtt")
    assert said(segs) == [("SPEAKER_01", "Hola, bon dia."), ("SPEAKER_00", "Bon dia.")]


# -- SubRip and SubViewer --------------------------------------------------------------------------------------

def test_srt_without_numbers_with_tags_and_ass_overrides():
    segs = read_text("00:00:01,000 --> 00:00:02,000 X1:100 X2:200 Y1:1 Y2:2\n{\\an8}<font color=\"red\">Top</font>"
                     "\\Nline\\hend\n\n00:00:02,000 --> 00:00:02,000\n<i>Hide these tags: {\\pos(1,2)}gone</i>\n",
                     "x.srt")
    assert said(segs) == [(None, "Top line end"), (None, "Hide these tags: gone")]


def test_a_one_off_colon_in_subtitles_is_not_a_speaker():
    segs = read_text("1\n00:00:01,000 --> 00:00:02,000\nRègle numéro un: on ne parle pas\n\n"
                     "2\n00:00:02,000 --> 00:00:03,000\nOK.\n", "film.srt")
    assert [s.speaker for s in segs] == [None, None]


def test_sbv_with_a_backwards_last_cue(tmp_path):
    path = tmp_path / "captions.sbv"
    path.write_text("0:00:00.378,0:00:02.000\nCaption one\n\n0:00:17.484,0:00:16.543\nCaption two\nline two\n")
    segs = read_transcript(path)
    assert [(s.start, s.end, s.text) for s in segs] == [(0.378, 2.0, "Caption one"),
                                                        (17.484, 17.484, "Caption two line two")]


# -- text layouts ----------------------------------------------------------------------------------------------

def test_otter_headers_paragraphs_unknown_speaker_and_footer():
    segs = read_text("Emma  0:00  \nWelcome to the show.\n\nUnknown Speaker  0:35  \nI'm Kelly.\nSecond para.\n\n"
                     "Sidney  1:02:32  \nBye.\n\nTranscribed by https://otter.ai\n", "otter.txt")
    assert [(s.start, s.speaker, s.text) for s in segs] == [
        (0.0, "Emma", "Welcome to the show."), (35.0, None, "I'm Kelly. Second para."), (3752.0, "Sidney", "Bye.")]


def test_zoom_saved_transcript_counts_from_the_first_turn():
    segs = read_text("[Johnny Doe] 11:02:09\nHow you doing?\n\n[Janet Dough] 11:02:44\nFine… thanks.\n", "z.txt")
    assert [(s.start, s.speaker, s.text) for s in segs] == [(0.0, "Johnny Doe", "How you doing?"),
                                                            (35.0, "Janet Dough", "Fine… thanks.")]


def test_teams_text_cues_with_speaker_lines():
    segs = read_text("00:00:00.000 --> 00:00:10.120\nClient RepA\nWe load the file.\n"
                     "00:00:11.150 --> 00:00:15.930\n+12*******65\nUh.\n00:00:16.000 --> 00:00:18.000\nClient RepA\n"
                     "Yes.\n00:00:18.000 --> 00:00:19.000\n+12*******65\nOkay.\n", "teams.txt")
    assert said(segs) == [("Client RepA", "We load the file."), ("+12*******65", "Uh."), ("Client RepA", "Yes."),
                          ("+12*******65", "Okay.")]


def test_rev_meet_and_pyannote_layouts():
    rev = read_text("Jane Doe (00:00:05):\nHello there.\n\nJohn (00:01:09):\nHi Jane.\n", "rev.txt")
    assert [(s.start, s.speaker) for s in rev] == [(5.0, "Jane Doe"), (69.0, "John")]
    meet = read_text("00:00:00\n\nAlice Smith: Welcome all.\nBob Jones: Thanks.\n00:05:00\nAlice Smith: Next.\n",
                     "meet.txt")
    assert [(s.speaker, s.text) for s in meet] == [("Alice Smith", "Welcome all."), ("Bob Jones", "Thanks."),
                                                   ("Alice Smith", "Next.")]
    assert meet[-1].start == 300.0
    diarized = read_text("[0:00:06.835000 - 0:00:07.235000] SPEAKER_00 -  Hello.\n"
                         "[0:39:31.194000 - 0:39:31.814000] UNKNOWN - Yeah\n", "pyannote.txt")
    assert [(s.start, s.end, s.speaker, s.text) for s in diarized] == [(6.835, 7.235, "SPEAKER_00", "Hello."),
                                                                       (2371.194, 2371.814, None, "Yeah")]


def test_fireflies_descript_and_whisper_text_layouts():
    fireflies = read_text("Alice Smith\n00:05\nHello team.\n\nBob Jones\n01:10\nHi.\nMore from Bob.\n", "ff.txt")
    assert [(s.start, s.speaker, s.text) for s in fireflies] == [(5.0, "Alice Smith", "Hello team."),
                                                                 (70.0, "Bob Jones", "Hi. More from Bob.")]
    descript = read_text("Jane Doe (00:00:05): Hello there.\nJohn (00:00:09): Hi Jane.\n", "d.txt")
    assert [(s.start, s.speaker, s.text) for s in descript] == [(5.0, "Jane Doe", "Hello there."),
                                                                (9.0, "John", "Hi Jane.")]
    ranges = read_text("00:00:01 - 00:00:05\nHello there.\n\n00:00:05 - 00:00:09\nSecond.\n", "ranges.txt")
    assert [(s.start, s.text) for s in ranges] == [(1.0, "Hello there."), (5.0, "Second.")]
    whisper = read_text(" Bonjour à tous.\n On commence.\n Merci.\n", "whisper.txt")
    assert [s.text for s in whisper] == ["Bonjour à tous.", "On commence.", "Merci."]


def test_two_line_subtitles_are_not_taken_for_speaker_lines():
    cues = "".join(f"00:00:{i:02d}.000 --> 00:00:{i + 1:02d}.000\nI don't know\nwhat you mean {i}\n\n"
                   for i in range(1, 6))
    segs = read_text(cues + "00:00:09.000 --> 00:00:10.000\nAnother line\nand more\n", "subs.srt")
    assert all(s.speaker is None for s in segs) and segs[0].text == "I don't know what you mean 1"


def test_lines_like_remember_or_note_are_not_speakers():
    segs = read_text("Alice: Let us start.\nRemember: the deadline is Friday.\nBob: Agreed.\nAgenda: two items.\n"
                     "Alice: Good.\n", "notes.txt")
    assert said(segs) == [("Alice", "Let us start. Remember: the deadline is Friday."),
                          ("Bob", "Agreed. Agenda: two items."), ("Alice", "Good.")]


def test_untimed_whisperx_paragraphs_one_segment_each():
    segs = read_text("SPEAKER_03: all right welcome back\n\nSPEAKER_00: thanks\n\nUNKNOWN: Okay.\n\n"
                     "SPEAKER_03: so\n", "wx.txt")
    assert said(segs) == [("SPEAKER_03", "all right welcome back"), ("SPEAKER_00", "thanks"), (None, "Okay."),
                          ("SPEAKER_03", "so")]
    assert all(a.end <= b.start for a, b in zip(segs, segs[1:], strict=False))


@pytest.mark.parametrize("chat, message", [
    ("00:02:30\tDima Gusakov | Lido:\tGM\n00:02:35\tMega | Lambda:\tgm\n00:03:44\tMario Vega:\tgm all\n",
     "Zoom chat"),
    ("12/01/2024, 10:02 - Ana: hi\n12/01/2024, 10:03 - Bo: hey\n12/01/2024, 10:04 - Ana: call?\n", "chat log"),
])
def test_chat_logs_are_refused_with_what_to_pass_instead(tmp_path, chat, message):
    path = tmp_path / "chat.txt"
    path.write_text(chat)
    with pytest.raises(InputError, match=message) as err:
        read_transcript(path)
    assert "transcript" in err.value.hint


# -- Word and JSON ---------------------------------------------------------------------------------------------

def test_teams_docx_transcript(tmp_path):
    document = docx.Document()
    for line in ["Weekly sync", "October 5, 2026, 2:03PM", "Jane Doe   0:03", "Hello everyone.",
                 "John Smith   0:10", "Hi, I'll send the notes by Friday.", "Jane Doe   1:02:05", "Thanks."]:
        document.add_paragraph(line)
    path = tmp_path / "Weekly sync.docx"
    document.save(path)
    segs = read_transcript(path)
    assert [(s.start, s.speaker, s.text) for s in segs] == [
        (3.0, "Jane Doe", "Hello everyone."), (10.0, "John Smith", "Hi, I'll send the notes by Friday."),
        (3725.0, "Jane Doe", "Thanks.")]  # the title and date above the first turn are not speech


def test_a_zip_that_is_not_a_word_file_is_refused(tmp_path):
    path = tmp_path / "export.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(InputError, match="not a Word document"):
        read_transcript(path)


def test_whisper_json_outputs(tmp_path):
    openai = {"text": "Bonjour.", "language": "fr",
              "segments": [{"id": 0, "start": 0.5, "end": 1.5, "text": " Bonjour.", "speaker": "SPEAKER_00"}]}
    cpp = {"result": {"language": "en"},
           "transcription": [{"timestamps": {"from": "00:00:01,000", "to": "00:00:02,500"},
                              "offsets": {"from": 1000, "to": 2500}, "text": " Hello."}]}
    for name, data, want in [("a.json", openai, (0.5, 1.5, "SPEAKER_00", "Bonjour.")),
                             ("b.json", cpp, (1.0, 2.5, None, "Hello."))]:
        path = tmp_path / name
        path.write_text(json.dumps(data))
        assert [(s.start, s.end, s.speaker, s.text) for s in read_transcript(path)] == [want]
    other = tmp_path / "board.json"
    other.write_text('{"tickets": []}')
    with pytest.raises(InputError, match="not a Whisper transcript"):
        read_transcript(other)


def test_new_suffixes_are_transcripts(tmp_path):
    for suffix in (".sbv", ".docx", ".json", ".md", ".txt", ".vtt", ".srt"):
        assert suffix in TRANSCRIPT_SUFFIXES
        assert input_kind(tmp_path / f"meeting{suffix}") == "transcript"


# -- language --------------------------------------------------------------------------------------------------

def test_language_detected_and_too_short_to_tell():
    assert transcript_language(read_text(FRENCH, "x.vtt")) == "fr"
    assert transcript_language([Segment(0, 1, "Caption text #1")]) is None
    chinese = "我共享一下屏幕。可以的,可以的。那个谁讲,可以听得听吗?我们开始讨论这篇论文的方法部分吧。下周再看实验结果。"
    assert transcript_language([Segment(0, 1, chinese)]) == "zh"


def test_the_detected_language_reaches_the_result_and_survives_the_job_store(tmp_path):
    path = tmp_path / "réunion.vtt"
    path.write_text("WEBVTT\n\n" + FRENCH)
    info = MeetingInfo(title="Réunion", date=dt.date(2026, 11, 2))
    transcript = Transcript.from_dict(json.loads(json.dumps(transcribe_source(path, info).to_dict())))
    assert transcript.language == "fr"
    result = analyse(transcript, info, []).to_dict()
    assert result["meeting"]["language"] == "fr"
    assert result["meeting"]["participants"] == ["Claire", "Marc"]


# -- the real exports ------------------------------------------------------------------------------------------

def scorer():
    spec = importlib.util.spec_from_file_location("score_exports", ROOT / "scripts" / "score_exports.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CASES = json.loads((EXPORTS / "expected.json").read_text()) if EXPORTS.is_dir() else []


@pytest.mark.skipif(not CASES, reason="the shared exports are not checked out")
@pytest.mark.parametrize("case", CASES, ids=[c["file"][:50] for c in CASES])
def test_real_export_reads_as_expected(case):
    path = EXPORTS / case["file"]
    if not case["accept"]:
        with pytest.raises(InputError):
            read_transcript(path)
        return
    segments = read_transcript(path)
    assert scorer().problems(case, segments) == []
    language = transcript_language(segments)
    assert language in (None, scorer().expected_language(path.stem))


def test_detection_goes_by_content_not_by_an_arrow_or_a_bracket_in_speech():
    otter = read_text("Emma  0:00\nWe moved A --> B last week.\n\nKelly  0:05\nRight.\n", "otter.md")
    assert [(s.speaker, s.text) for s in otter] == [("Emma", "We moved A --> B last week."), ("Kelly", "Right.")]
    zoom = read_text("[Johnny Doe] 11:02:09\nHi.\n", "saved.txt")
    assert [(s.speaker, s.text) for s in zoom] == [("Johnny Doe", "Hi.")]
    srt_named_vtt = read_text("1\n00:00:01,000 --> 00:00:02,000\nHello.\n", "captions.vtt")
    assert [(s.start, s.text) for s in srt_named_vtt] == [(1.0, "Hello.")]


def test_names_in_any_script_titles_and_guest_tags():
    segs = read_text("WEBVTT\n\n00:01.000 --> 00:02.000\n<v.first.loud Esme Smith (Guest)>Hi there</v>\n\n"
                     "00:02.000 --> 00:03.000\n李雷：你好，我们开始吧。\n\n00:03.000 --> 00:04.000\n李雷：好的。\n\n"
                     "00:04.000 --> 00:05.000\nDr. Jane Smith: Right.\n", "x.vtt")
    assert said(segs) == [("Esme Smith", "Hi there"), ("李雷", "你好，我们开始吧。"), ("李雷", "好的。"),
                          ("Dr. Jane Smith", "Right.")]


def test_clock_then_name_headers_and_a_docx_of_teams_cues(tmp_path):
    fathom = read_text("0:05 - Alice Smith\nHello team.\n\n1:10 - Bob Jones\nHi.\n\n00:01:20 - But did you know\n",
                       "fathom.txt")
    assert [(s.start, s.speaker, s.text) for s in fathom] == [(5.0, "Alice Smith", "Hello team."),
                                                              (70.0, "Bob Jones", "Hi."),
                                                              (80.0, None, "- But did you know")]
    document = docx.Document()
    for line in ["0:0:0.0 --> 0:0:3.120", "Jane Doe", "Hello everyone.", "0:0:3.120 --> 0:0:5.0", "John Smith",
                 "Hi Jane."]:
        document.add_paragraph(line)
    path = tmp_path / "teams.docx"
    document.save(path)
    assert [(s.start, s.speaker, s.text) for s in read_transcript(path)] == [
        (0.0, "Jane Doe", "Hello everyone."), (3.12, "John Smith", "Hi Jane.")]
