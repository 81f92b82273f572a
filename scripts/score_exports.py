#!/usr/bin/env python3
"""Score the transcript importer on the real exports in shared/corpus/exports against their expected.json.

    .venv/bin/python scripts/score_exports.py [EXPORTS_DIR]

One line per file (right / wrong with the reasons / refused with the message), then one line per format and a
summary. A file is right when the importer does what expected.json says: refuses it when `accept` is false;
otherwise gives the expected number of segments, the expected speakers (labels in `unknown_speaker_labels` may
also be left unnamed), the first and last start within 0.05 s (where given), every `must_contain` string and no
`must_not_contain` string. The detected language is printed beside each file, and scored against the language
SOURCES.md gives for the files that say one. A development tool: measures, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.errors import InputError  # noqa: E402
from pipeline.transcripts import read_transcript  # noqa: E402

# The language of each file whose SOURCES.md line (or its text) says it is not English.
NOT_ENGLISH = {"Softcatala__whisper-ctranslate2__dosparlants": "ca", "linto-ai__whisper-timestamped__": "fr",
               "TomGhostSmith__MeetingTranscribe__sample": "zh", "byroot__pysrt__windows-1252": "fr",
               "glut23__webvtt-py__styles2": "fr", "glut23__webvtt-py__comments": "sv"}
TOLERANCE = 0.05


def expected_language(name: str) -> str:
    """The language a correct reading detects, by the file's name prefix ('en' for the rest)."""
    return next((lang for prefix, lang in NOT_ENGLISH.items() if name.startswith(prefix)), "en")


def detect(segments) -> str | None:
    """The language the importer detects (None: too short to tell, or an importer without detection)."""
    try:
        from pipeline.transcripts import transcript_language
    except ImportError:
        return None
    return transcript_language(segments)


def problems(case: dict, segments) -> list[str]:
    """What differs between a reading and the expected one; empty when the reading is right."""
    out = []
    if len(segments) != case["segments"]:
        out.append(f"{len(segments)} segments, expected {case['segments']}")
    unknown = set(case.get("unknown_speaker_labels", []))
    speakers = {s.speaker for s in segments if s.speaker} - unknown
    if speakers != set(case["speakers"]):
        missing, extra = sorted(set(case["speakers"]) - speakers), sorted(speakers - set(case["speakers"]))
        out.append(f"speakers missing {missing[:4]} extra {extra[:4]}")
    for key, value in (("first_start", segments[0].start if segments else None),
                       ("last_start", segments[-1].start if segments else None)):
        if case[key] is not None and (value is None or abs(value - case[key]) > TOLERANCE):
            out.append(f"{key} {value}, expected {case[key]}")
    texts = [s.text for s in segments]
    joined = " ".join(texts)
    out += [f"lacks {s!r}" for s in case["must_contain"] if s not in joined]
    out += [f"holds {s!r}" for s in case["must_not_contain"]
            if any(s in t for t in texts) or any(s in (x.speaker or "") for x in segments)]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exports", nargs="?", type=Path, default=ROOT.parent / "shared" / "corpus" / "exports")
    args = parser.parse_args()
    cases = json.loads((args.exports / "expected.json").read_text())
    tally, per_format, languages = Counter(), {}, Counter()
    for case in cases:
        path = args.exports / case["file"]
        try:
            segments = read_transcript(path)
        except InputError as exc:
            verdict, detail, lang = ("right" if not case["accept"] else "refused"), str(exc), None
        else:
            if not case["accept"]:
                verdict, detail = "wrong", f"read as {len(segments)} segments, expected a refusal"
            else:
                found = problems(case, segments)
                verdict, detail = ("wrong", "; ".join(found)) if found else ("right", "")
            lang = detect(segments)
        if case["accept"] and verdict != "refused":
            languages["unsure" if lang is None else "right" if lang == expected_language(path.stem) else "wrong"] += 1
        tally[verdict] += 1
        per_format.setdefault(case["format"], Counter())[verdict] += 1
        print(f"{verdict:8} {case['format']:16} lang={lang or '-':3} {case['file'][:70]}"
              + (f"\n         {detail[:300]}" if detail else ""))
    print()
    for fmt, counts in sorted(per_format.items()):
        print(f"  {fmt:16} right {counts['right']}/{sum(counts.values())}")
    print(f"\n{len(cases)} files: {tally['right']} read right, {tally['wrong']} wrong, {tally['refused']} refused"
          + f"; language: {languages['right']} right, {languages['wrong']} wrong, {languages['unsure']} too short "
            "to tell (the caller's is kept)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
