#!/usr/bin/env python3
"""Render corpus-format meeting scripts (participants with espeak-ng voices, turns) to a mixed .ogg and a
.timing.json of who spoke when, as in ../shared/corpus/dev; for checking diarization on meetings of one's own.

    python3 scripts/make_corpus_meeting.py samples/naming/*.json

Needs espeak-ng (Debian package); audio is resampled and encoded with PyAV, a dependency of the product.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

RATE = 16000
GAP_S = 0.6  # silence between turns, as make_sample.py leaves


def speak(text: str, voice: str, speed: int, tmp: Path) -> np.ndarray:
    """16 kHz mono float samples of `text` spoken by espeak-ng."""
    wav = tmp / "turn.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text], check=True)
    resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
    with av.open(str(wav)) as container:
        frames = [f for frame in container.decode(audio=0) for f in resampler.resample(frame)]
    frames += resampler.resample(None)
    return np.concatenate([f.to_ndarray().reshape(-1) for f in frames])


def write_ogg(audio: np.ndarray, dest: Path) -> None:
    with av.open(str(dest), "w", format="ogg") as out:
        stream = out.add_stream("libopus", rate=48000, layout="mono")
        stream.bit_rate = 24000
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
        frame = av.AudioFrame.from_ndarray((audio.clip(-1, 1) * 32767).astype(np.int16)[None], format="s16",
                                           layout="mono")
        frame.sample_rate, frame.time_base = RATE, Fraction(1, RATE)
        for f in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def render(script_path: Path) -> None:
    script = json.loads(script_path.read_text())
    voices = {p["name"]: p for p in script["participants"]}
    gap = np.zeros(int(GAP_S * RATE), dtype=np.float32)
    pieces, turns, t = [gap], [], GAP_S
    with tempfile.TemporaryDirectory() as tmp:
        for i, turn in enumerate(script["turns"]):
            p = voices[turn["speaker"]]
            speech = speak(turn["text"], p["voice"], p.get("speed", 160), Path(tmp))
            turns.append({"turn": i, "speaker": turn["speaker"], "start": round(t, 3),
                          "end": round(t + len(speech) / RATE, 3)})
            pieces += [speech, gap]
            t += (len(speech) + len(gap)) / RATE
    write_ogg(np.concatenate(pieces), script_path.with_suffix(".ogg"))
    timing = {"id": script["id"], "duration": round(t, 3), "turns": turns}
    script_path.with_suffix(".timing.json").write_text(json.dumps(timing, indent=1) + "\n")
    print(f"wrote {script_path.with_suffix('.ogg')} ({t:.1f} s) and its .timing.json")


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        render(Path(arg))
