#!/usr/bin/env python3
"""Render a meeting script (samples/standup.json) to speech: a mixed .ogg, per-speaker tracks and a board file.

Needs the Debian packages espeak-ng and ffmpeg:  python3 scripts/make_sample.py samples/standup.json
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

RATE = 16000
GAP_S = 0.6  # silence between turns, as in a calm meeting


def speak(text: str, voice: str, speed: int, out: Path) -> bytes:
    """Raw 16 kHz mono 16-bit samples of `text` spoken by espeak-ng."""
    raw = out.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text], check=True)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(raw), "-ar", str(RATE), "-ac", "1",
                    "-sample_fmt", "s16", str(out)], check=True)
    with wave.open(str(out)) as w:
        return w.readframes(w.getnframes())


def write_ogg(pcm: bytes, dest: Path, tmp: Path) -> None:
    wav = tmp / (dest.stem + ".wav")
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), "-c:a", "libopus", "-b:a", "24k",
                    str(dest)], check=True)


def main(script_path: str) -> None:
    script_file = Path(script_path)
    script = json.loads(script_file.read_text())
    voices = {p["name"]: p for p in script["participants"]}
    base = script_file.with_suffix("")
    gap = b"\0\0" * int(GAP_S * RATE)
    mixed = bytearray(gap)
    tracks = {name: bytearray(gap) for name in voices}
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        for i, turn in enumerate(script["turns"]):
            p = voices[turn["speaker"]]
            pcm = speak(turn["text"], p["voice"], p.get("speed", 160), tmp / f"turn{i}.wav") + gap
            mixed += pcm
            for name in tracks:
                tracks[name] += pcm if name == turn["speaker"] else b"\0" * len(pcm)
        write_ogg(bytes(mixed), base.with_suffix(".ogg"), tmp)
        track_dir = base.with_suffix(".tracks")
        track_dir.mkdir(exist_ok=True)
        for name, pcm in tracks.items():
            write_ogg(bytes(pcm), track_dir / f"{name}.ogg", tmp)
    base.with_suffix(".board.json").write_text(json.dumps(script["board"], indent=2) + "\n")
    print(f"wrote {base}.ogg ({len(mixed) / 2 / RATE:.1f} s), {track_dir}/, {base}.board.json")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "samples/standup.json")
