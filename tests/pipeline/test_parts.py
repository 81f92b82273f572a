"""Long mixed recordings in parts: cuts at pauses, parts kept on disk, a killed run resumed without redoing parts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np

from pipeline.decode import SAMPLE_RATE
from pipeline.parts import PartStore, cut_parts, pause_cut, transcribe_recording
from pipeline.transcribe import Transcriber
from tests.media import ROOT, sample_clip, write_audio


def speech_with_gaps(gaps_at: list[float], total: float, seed: int = 3) -> np.ndarray:
    """Noise as loud as speech everywhere but for a 0.5 s gap at each time in `gaps_at`."""
    audio = np.random.default_rng(seed).normal(0, 0.1, int(total * SAMPLE_RATE)).astype(np.float32)
    for t in gaps_at:
        audio[int(t * SAMPLE_RATE):int((t + 0.5) * SAMPLE_RATE)] = 0
    return audio


def test_the_cut_is_in_the_longest_pause_near_the_boundary():
    audio = speech_with_gaps([3.0], 10)
    audio[int(6 * SAMPLE_RATE):int(6.2 * SAMPLE_RATE)] = 0  # a shorter pause nearer the middle loses
    cut = pause_cut(audio, 2 * SAMPLE_RATE, 8 * SAMPLE_RATE)
    assert 3.0 * SAMPLE_RATE < cut < 3.5 * SAMPLE_RATE


def blocks(audio: np.ndarray, size: int = 3000):
    return (audio[i:i + size] for i in range(0, len(audio), size))


def test_parts_cover_the_stream_exactly_and_end_in_pauses():
    audio = speech_with_gaps([9.0, 21.0, 29.0], 36)
    parts = list(cut_parts(blocks(audio), part_s=10, search_s=2))
    assert np.array_equal(np.concatenate([a for _, a in parts]), audio)
    assert [s for s, _ in parts] == [0, *np.cumsum([len(a) for _, a in parts])[:-1]]
    for start, part in parts[:-1]:
        end = (start + len(part)) / SAMPLE_RATE
        assert any(t < end < t + 0.5 for t in (9.0, 21.0, 29.0))
    # A resumed run told the ends chosen before gets the same parts.
    again = list(cut_parts(blocks(audio, 7001), part_s=10, search_s=2, ends=[s + len(a) for s, a in parts[:2]]))
    assert [(s, len(a)) for s, a in again] == [(s, len(a)) for s, a in parts]


def test_a_recording_no_longer_than_a_part_and_its_margin_is_one_part():
    audio = speech_with_gaps([100.0], 329)
    assert [len(a) for _, a in cut_parts(blocks(audio, 16000))] == [len(audio)]


def test_a_part_store_forgets_parts_made_another_way(tmp_path):
    from pipeline.parts import PartResult

    store = PartStore(tmp_path, {"model": "a"})
    store.save(0, PartResult(0, 10, [], [], [], np.zeros((0, 256), np.float32)))
    assert list(PartStore(tmp_path, {"model": "a"}).done()) == [0]
    assert PartStore(tmp_path, {"model": "b"}).done() == {}


CHILD = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from pipeline.parts import transcribe_recording
    from pipeline.transcribe import Transcriber

    calls = 0
    real = Transcriber.pieces

    def pieces(self, *a, **k):
        global calls
        calls += 1
        if calls == 3:  # killed while the third part is being recognised
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self, *a, **k)

    Transcriber.pieces = pieces
    transcribe_recording(Path(sys.argv[1]), Transcriber(), participants=[], language="en",
                         work_dir=Path(sys.argv[2]), part_s=9, search_s=1.5)
""")


def test_a_job_killed_mid_way_resumes_without_redoing_finished_parts(tmp_path, monkeypatch):
    clip = sample_clip(36.0)
    # Pauses where the parts will end, so no word is cut in two whatever the run.
    silence = np.zeros(SAMPLE_RATE, dtype=np.float32)
    audio = np.concatenate([clip[:9 * SAMPLE_RATE], silence, clip[9 * SAMPLE_RATE:18 * SAMPLE_RATE], silence,
                            clip[18 * SAMPLE_RATE:27 * SAMPLE_RATE], silence, clip[27 * SAMPLE_RATE:]])
    source = write_audio(audio, tmp_path / "long.ogg")
    work = tmp_path / "parts"
    child = subprocess.run([sys.executable, "-c", CHILD, str(source), str(work)], cwd=ROOT,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert sorted(p.name for p in work.glob("part-*.json")) == ["part-00000.json", "part-00001.json"]

    transcriber = Transcriber()
    calls = []
    real = Transcriber.pieces
    monkeypatch.setattr(Transcriber, "pieces", lambda self, audio, **k: calls.append(len(audio)) or real(
        self, audio, **k))
    resumed = transcribe_recording(source, transcriber, participants=[], language="en", work_dir=work, part_s=9,
                                   search_s=1.5)
    assert len(calls) == 2  # the third part and the last; the first two came from disk
    calls.clear()
    whole = transcribe_recording(source, transcriber, participants=[], language="en", part_s=9, search_s=1.5)
    assert len(calls) == 4
    assert resumed == whole
    assert resumed[1] == len(audio) / SAMPLE_RATE
    text = " ".join(s.text for s in resumed[0]).lower()
    assert len(text.split()) > 40
