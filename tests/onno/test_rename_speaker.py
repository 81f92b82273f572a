"""`onno meetings rename-speaker`: a voice nobody named gets its person; lines, owners and askers follow."""

from __future__ import annotations

import json

TRANSCRIPT = """\
[00:00:01] Maya: Morning. Can you give us the update on the invoices?
[00:00:05] Speaker 2: Sure. I'll send the invoice report to finance by Friday.
[00:00:10] Speaker 2: Who is looking at the failing export job?
[00:00:14] Maya: I'll look at the export job today.
"""


def stored(onno, meeting_id: int = 1) -> dict:
    return json.loads(onno("meetings", "show", str(meeting_id), "--format", "json").output)


def test_renaming_a_voice_renames_its_lines_its_tasks_and_its_questions(onno, tmp_path) -> None:
    source = tmp_path / "meeting.txt"
    source.write_text(TRANSCRIPT)
    assert onno("process", str(source), "--participants", "Maya", "--format", "json").exit_code == 0
    before = stored(onno)
    assert any(a["owner"] == "Speaker 2" for a in before["action_items"]), before["action_items"]
    out = onno("meetings", "rename-speaker", "1", "Speaker 2", "Daniel")
    assert out.exit_code == 0 and "Speaker 2 is now Daniel" in out.output
    after = stored(onno)
    assert [s["speaker"] for s in after["transcript"]] == ["Maya", "Daniel", "Daniel", "Maya"]
    assert [s["text"] for s in after["transcript"]] == [s["text"] for s in before["transcript"]]
    owners = {a["text"]: a["owner"] for a in after["action_items"]}
    assert "Daniel" in owners.values() and "Speaker 2" not in json.dumps(after)
    assert all(q["asked_by"] != "Speaker 2" for q in after["questions"])
    assert after["meeting"]["participants"] == ["Maya", "Daniel"]


def test_an_unknown_speaker_is_refused_with_the_meeting_s_speakers_and_nothing_changes(onno, tmp_path) -> None:
    source = tmp_path / "meeting.txt"
    source.write_text(TRANSCRIPT)
    onno("process", str(source), "--format", "json")
    before = stored(onno)
    out = onno("meetings", "rename-speaker", "1", "Speaker 3", "Daniel")
    assert out.exit_code == 1
    assert "no speaker 'Speaker 3'" in out.output and "Maya, Speaker 2" in out.output
    assert onno("meetings", "rename-speaker", "1", "Speaker 2", "  ").exit_code == 1
    assert onno("meetings", "rename-speaker", "9", "Speaker 2", "Daniel").exit_code == 1
    assert stored(onno) == before
