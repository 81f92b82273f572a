"""The `onno` command line end to end: real decoding, real speech recognition, real storage."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import media

REQUIRED = {"meeting", "transcript", "action_items", "questions", "suggested_questions", "decisions", "blockers",
            "ticket_updates", "metrics", "summary"}
SAMPLE_ARGS = ["--title", "Checkout team standup", "--type", "standup", "--date", "2026-11-16",
               "--participants", "Maya,Daniel,Lena", "--board", str(media.SAMPLE_BOARD)]


def stored_counts(onno) -> tuple[int, list]:
    meetings = json.loads(onno("meetings", "list", "--format", "json").output)
    return len(meetings), json.loads(onno("board", "list", "--format", "json").output)


def test_sample_recording_piped_prints_only_the_result_json(onno_env):
    """The installed entry point, as a user or script runs it: JSON on stdout, nothing else."""
    onno_bin = Path(sys.executable).with_name("onno")
    proc = subprocess.run([str(onno_bin), "process", str(media.SAMPLE), *SAMPLE_ARGS, "--format", "json"],
                          capture_output=True, text=True, env=onno_env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    result = json.loads(proc.stdout)
    assert result.keys() >= REQUIRED
    assert result["meeting"]["type"] == "standup" and result["meeting"]["date"] == "2026-11-16"
    assert 50 < result["meeting"]["duration"] < 65
    spoken = " ".join(s["text"] for s in result["transcript"]).lower()
    assert "payment card" in spoken and "logging access" in spoken and "postal code" in spoken
    # One mixed recording: voices told apart, named where what is said tells ("Lena, can you…" is answered by
    # Lena), anonymous otherwise.
    speakers = {s["speaker"] for s in result["transcript"]}
    assert len(speakers) >= 2 and all(s in {"Maya", "Daniel", "Lena"} or s.startswith("Speaker ") for s in speakers)
    answer = next(s for s in result["transcript"] if "no problem" in s["text"].lower())
    assert answer["speaker"] == "Lena"
    assert [s["start"] for s in result["transcript"]] == sorted(s["start"] for s in result["transcript"])
    assert result["action_items"], "the sample has several commitments"
    assert all(isinstance(a["start"], (int, float)) for a in result["action_items"])


def test_tracks_folder_gives_each_segment_its_speaker(onno):
    out = onno("process", str(media.SAMPLE_TRACKS), *SAMPLE_ARGS, "--format", "json")
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert {s["speaker"] for s in result["transcript"]} == {"Maya", "Daniel", "Lena"}
    first = result["transcript"][0]
    assert first["speaker"] == "Maya" and "morning" in first["text"].lower()
    daniel = " ".join(s["text"] for s in result["transcript"] if s["speaker"] == "Daniel").lower()
    assert "logging account" in daniel and "postal code" not in daniel


def test_meeting_is_stored_and_its_ticket_moves_update_the_board(onno):
    out = onno("process", str(media.SAMPLE_TRACKS), *SAMPLE_ARGS, "--format", "json")
    result = json.loads(out.output)
    listed = json.loads(onno("meetings", "list", "--format", "json").output)
    assert [m["title"] for m in listed] == ["Checkout team standup"]
    shown = json.loads(onno("meetings", "show", str(listed[0]["id"]), "--format", "json").output)
    assert shown == result
    board = {t["key"]: t for t in json.loads(onno("board", "list", "--format", "json", "--history").output)}
    assert set(board) == {"CHK-7", "CHK-9", "CHK-11"}
    for update in result["ticket_updates"]:
        assert board[update["key"]]["status"] == update["to"]
        moves = [h for h in board[update["key"]]["history"] if h["meeting_id"] == listed[0]["id"]]
        assert [(h["from"], h["to"]) for h in moves] == [(update["from"], update["to"])]
    text = onno("meetings", "show", str(listed[0]["id"]), "--format", "markdown").output
    assert text.startswith("# Checkout team standup") and "## Action items" in text


def test_vtt_transcript_needs_no_recognition(onno, tmp_path):
    vtt = tmp_path / "call.vtt"
    vtt.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Ana>Ben, can you send the invoice by Friday?\n\n"
                   "00:00:04.500 --> 00:00:06.000\n<v Ben>Sure, I will.\n")
    out = onno("process", str(vtt), "--date", "2026-11-16", "--format", "json")
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert [s["speaker"] for s in result["transcript"]] == ["Ana", "Ben"]
    assert result["meeting"]["participants"] == ["Ana", "Ben"]


def test_text_and_markdown_reports(onno, tmp_path):
    txt = tmp_path / "notes.txt"
    txt.write_text("Ana: We decided to ship the beta next week.\nBen: I'll write the release notes by Monday.\n")
    text = onno("process", str(txt), "--date", "2026-11-16", "--format", "text").output
    assert text.startswith("notes\n") and "Action items" in text and "[0:" in text
    md = onno("process", str(txt), "--date", "2026-11-16", "--format", "markdown").output
    assert md.startswith("# notes") and "## Transcript" in md


BAD_INPUTS = {
    "empty.ogg": (lambda d: media.written(d / "empty.ogg", b""), "empty"),
    "truncated.ogg": (lambda d: media.truncated(media.SAMPLE, d / "truncated.ogg"), "truncated"),
    "damaged.ogg": (lambda d: media.corrupted(media.SAMPLE, d / "damaged.ogg"), "damaged"),
    "notes.mp3": (lambda d: media.written(d / "notes.mp3", b"just some text"), "not a media file"),
    "screen.mp4": (lambda d: media.video_without_audio(d / "screen.mp4"), "no audio track"),
    "silence.wav": (lambda d: media.silent_wav(d / "silence.wav"), "No speech"),
    "broken.vtt": (lambda d: media.written(d / "broken.vtt", b"WEBVTT\n\n1\n00:01 --> soon\nHi\n"), "timing"),
    "missing.ogg": (lambda d: d / "missing.ogg", "no such file"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_gets_one_clear_message_and_stores_nothing(onno, onno_env, tmp_path, name):
    make, message = BAD_INPUTS[name]
    path = make(tmp_path)
    out = onno("process", str(path), *SAMPLE_ARGS[:-2])
    assert out.exit_code == 1
    assert message in out.output and out.output.startswith("Error: ")
    assert "Traceback" not in out.output
    assert stored_counts(onno) == (0, [])
    blobs = Path(onno_env["ONNO_DATA_DIR"]) / "blobs"
    assert not [p for p in blobs.rglob("*") if p.is_file()] if blobs.exists() else True


def test_unknown_type_and_bad_board_are_refused_before_any_work(onno, tmp_path):
    out = onno("process", str(media.SAMPLE), "--type", "brainstorm")
    assert out.exit_code == 2 and "brainstorm" in out.output and "standup" in out.output
    board = media.written(tmp_path / "board.json", b"[{\"key\": \"X-1\"}]")
    out = onno("process", str(media.SAMPLE), "--board", str(board))
    assert out.exit_code == 1 and "board.json" in out.output and "title" in out.output
    assert stored_counts(onno) == (0, [])


def test_board_import_and_list(onno, tmp_path):
    board = media.written(tmp_path / "b.json", json.dumps([
        {"key": "K-1", "title": "Docs", "status": "TODO"}, {"key": "K-2", "title": "Login", "status": "DONE"}]
    ).encode())
    assert "2 new, 0 updated" in onno("board", "import", str(board)).output
    board.write_text(json.dumps([{"key": "K-1", "title": "Docs", "status": "In progress"}]))
    assert "0 new, 1 updated" in onno("board", "import", str(board)).output
    listed = onno("board", "list").output
    assert "IN_PROGRESS (1)" in listed and "K-1" in listed and "DONE (1)" in listed


def test_show_unknown_meeting(onno):
    out = onno("meetings", "show", "999")
    assert out.exit_code == 1 and "no meeting 999" in out.output


def test_python_dash_m_onno_is_the_onno_command():
    out = subprocess.run([sys.executable, "-m", "onno", "meetings", "--help"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "list" in out.stdout and "show" in out.stdout


def test_process_and_submit_take_the_uploader_as_the_naming_hint(onno, tmp_path):
    from sqlalchemy import select

    from onno.jobs import meeting_info
    from onno.service import App
    from storage.models import Job

    vtt = tmp_path / "call.vtt"
    vtt.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Ana>Ben, can you send the invoice by Friday?\n")
    assert onno("process", str(vtt), "--uploader", "Ana", "--format", "json").exit_code == 0
    out = onno("submit", str(vtt), "--uploader", "  Ana   Lima ")
    assert out.exit_code == 0, out.output
    a = App()
    try:
        with a.session() as s:
            assert meeting_info(s.scalar(select(Job)).options).uploader == "Ana Lima"
    finally:
        a.engine.dispose()
    assert "--uploader" in onno("process", "--help").output
