"""The live engine: utterances cut from per-speaker audio, Discord audio converted, events from a shared pool."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from pipeline.board import read_board
from pipeline.decode import SAMPLE_RATE, decode_audio
from pipeline.live import Downsampler, LiveSession, SegmenterConfig, TranscriptionPool, discord_to_16k
from pipeline.live.pool import Job
from pipeline.live.vad import Segmenter, Utterance
from pipeline.transcribe import Transcriber
from pipeline.types import MeetingInfo, Segment
from tests.media import ROOT, SAMPLE_BOARD, SAMPLE_TRACKS

SR = SAMPLE_RATE
SCRIPT = json.loads((ROOT / "samples" / "standup.json").read_text())


def track(name: str) -> np.ndarray:
    return decode_audio(SAMPLE_TRACKS / f"{name}.ogg")


def clip(audio: np.ndarray, start: float, end: float) -> np.ndarray:
    return audio[int(start * SR):int(end * SR)]


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SR), dtype=np.float32)


def loud_span(audio: np.ndarray, offset: float) -> tuple[float, float]:
    """Where a clean (synthetic-voice) piece of speech is audible, by plain energy, in meeting seconds."""
    idx = np.flatnonzero(np.abs(audio) > 0.02)
    return offset + idx[0] / SR, offset + idx[-1] / SR


def chunks(audio: np.ndarray, seconds: float):
    n = int(seconds * SR)
    for i in range(0, len(audio), n):
        yield i / SR, audio[i:i + n]


def segment(audio: np.ndarray, config: SegmenterConfig | None = None, chunk_s: float = 0.02) -> list[Utterance]:
    seg = Segmenter("Maya", config)
    out = []
    for t, pcm in chunks(audio, chunk_s):
        out += seg.feed(pcm, t)
    return out + seg.flush()


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


# --- voice activity ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def speech_and_silence():
    """Two utterances 2 s apart; the second holds a 0.3 s pause (0.15 s inserted) that must not split it."""
    maya, daniel = track("Maya"), track("Daniel")
    a = clip(maya, 0.3, 6.8)
    b1, b2 = clip(maya, 22.0, 26.7), clip(daniel, 49.35, 53.9)
    parts = [silence(1.0), a, silence(2.0), b1, silence(0.15), b2, silence(1.5)]
    offsets = np.cumsum([0] + [len(p) / SR for p in parts])
    audio = np.concatenate(parts)
    expected = [loud_span(a, offsets[1]), (loud_span(b1, offsets[3])[0], loud_span(b2, offsets[5])[1])]
    return audio, expected


def test_speech_between_silences_becomes_one_utterance_each(speech_and_silence) -> None:
    audio, expected = speech_and_silence
    got = segment(audio)
    assert len(got) == 2
    for u, (start, end) in zip(got, expected, strict=True):
        assert abs(u.start - start) < 0.15 and abs(u.end - end) < 0.15
        assert u.speaker == "Maya"
        # The audio handed on is the speech with a little room either side, not the silences around it.
        assert u.end - u.start <= len(u.audio) / SR <= u.end - u.start + 0.5
    assert [u.seq for u in got] == [0, 1]


def test_chunk_size_does_not_change_the_utterances(speech_and_silence) -> None:
    audio, _ = speech_and_silence
    small = [(u.start, u.end, len(u.audio)) for u in segment(audio, chunk_s=0.02)]
    assert [(u.start, u.end, len(u.audio)) for u in segment(audio, chunk_s=0.1)] == small
    assert [(u.start, u.end, len(u.audio)) for u in segment(audio, chunk_s=0.037)] == small


def test_a_longer_pause_ends_an_utterance_and_a_long_one_is_cut() -> None:
    daniel = track("Daniel")
    b1, b2 = clip(daniel, 7.3, 13.9), clip(daniel, 14.6, 21.5)
    audio = np.concatenate([silence(0.5), b1, silence(0.9), b2, silence(1.0)])
    assert len(segment(audio)) == 2
    assert len(segment(audio, SegmenterConfig(end_silence=2.0, soft_max=30, max_utterance=30))) == 1
    # Past the soft limit, a pause shorter than end_silence is enough.
    assert len(segment(audio, SegmenterConfig(end_silence=2.0, soft_max=6, max_utterance=30))) == 2
    capped = segment(audio, SegmenterConfig(end_silence=2.0, soft_max=3.0, max_utterance=4.0))
    assert len(capped) >= 3
    assert all(u.end - u.start <= 4.0 + 0.05 for u in capped)
    assert all(a.end <= b.start + 1e-6 for a, b in pairwise(capped))


def test_silence_alone_gives_nothing() -> None:
    rng = np.random.default_rng(1)
    assert segment(silence(5.0)) == []
    assert segment((rng.standard_normal(5 * SR) * 1e-4).astype(np.float32)) == []


def test_a_sender_that_goes_quiet_ends_its_utterance_on_the_clock() -> None:
    # Discord sends nothing while a member is quiet: the gap before the next packet, or the clock, ends it.
    speech = clip(track("Maya"), 0.3, 6.8)
    seg = Segmenter("Maya")
    done = []
    for t, pcm in chunks(speech, 0.02):
        done += seg.feed(pcm, 10.0 + t)
    assert done == [] and seg.speaking
    done += seg.silence_until(10.0 + len(speech) / SR + 1.0)
    assert len(done) == 1 and not seg.speaking
    assert abs(done[0].end - (10.0 + loud_span(speech, 0)[1])) < 0.15
    # A packet after a gap: the gap was silence.
    seg2 = Segmenter("Maya")
    done2 = seg2.feed(speech, 0.0) + seg2.feed(speech[:SR // 10], 30.0)
    assert len(done2) == 1


# --- Discord audio ----------------------------------------------------------------------------------------------

def stereo_48k(left: np.ndarray, right: np.ndarray | None = None) -> bytes:
    right = left if right is None else right
    frames = np.stack([left, right], axis=1)
    return np.clip(frames * 32767, -32768, 32767).astype("<i2").tobytes()


def tone(freq: float, seconds: float, rate: int, amp: float = 0.5) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * freq * np.arange(int(seconds * rate)) / rate)).astype(np.float32)


def test_discord_48k_stereo_becomes_16k_mono() -> None:
    data = stereo_48k(tone(440, 1.0, 48000), tone(440, 1.0, 48000, amp=0.1))
    out = discord_to_16k(data)
    assert out.dtype == np.float32 and len(out) == 16000
    # Both channels mixed (mean amplitude 0.3), the same pitch at the new rate.
    steady = out[200:-200]
    assert abs(np.abs(steady).max() - 0.3) < 0.01
    spectrum = np.abs(np.fft.rfft(steady))
    assert abs(np.argmax(spectrum) * 16000 / len(steady) - 440) < 2
    # Above 8 kHz there is nothing left to alias back.
    assert np.abs(discord_to_16k(stereo_48k(tone(11000, 0.5, 48000)))[200:-200]).max() < 0.01


def test_discord_packets_convert_as_one_stream() -> None:
    data = stereo_48k(tone(300, 0.5, 48000) + tone(1700, 0.5, 48000, amp=0.2))
    whole = discord_to_16k(data)
    down = Downsampler()
    # 20 ms packets (3,840 bytes), then odd sizes that split frames and samples.
    pieces = [data[i:i + 3840] for i in range(0, 3840 * 10, 3840)]
    rest = data[3840 * 10:]
    pieces += [rest[i:i + 1001] for i in range(0, len(rest), 1001)]
    streamed = np.concatenate([down(p) for p in pieces])
    assert len(streamed) == len(whole)
    assert np.allclose(streamed, whole, atol=1e-5)


# --- sessions on the real model ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def transcriber() -> Transcriber:
    return Transcriber()


@pytest.fixture(scope="module")
def tracks() -> dict[str, np.ndarray]:
    return {name: track(name) for name in ("Maya", "Daniel", "Lena")}


def info() -> MeetingInfo:
    return MeetingInfo(title="Checkout standup", type="standup", participants=["Maya", "Daniel", "Lena"])


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict] = []
        self.lock = threading.Lock()

    def __call__(self, event: dict) -> None:
        with self.lock:
            self.events.append(event)

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e["type"] == kind]


def play(sessions: list[LiveSession], tracks: dict[str, np.ndarray], chunk_s: float = 0.1,
         speakers: list[str] | None = None, offset: float = 0.0) -> None:
    """Feed the tracks chunk by chunk, every speaker side by side, as fast as they go."""
    n = int(chunk_s * SR)
    length = max(len(a) for a in tracks.values())
    for i in range(0, length, n):
        for session in sessions:
            for name, audio in tracks.items():
                if speakers is None or name in speakers:
                    session.feed(name, audio[i:i + n], offset + i / SR)


@pytest.fixture(scope="module")
def standup(transcriber, tracks):
    """The sample standup played through one live session with its own pool."""
    rec = Recorder()
    board = read_board(SAMPLE_BOARD)
    session = LiveSession(info(), board, transcriber, on_event=rec, auto_tick=False)
    play([session], tracks)
    transcript = session.close()
    return session, rec, transcript


def test_events_carry_speaker_and_times_in_order_per_speaker(standup) -> None:
    _session, rec, _ = standup
    lines = rec.of("transcript")
    assert len(lines) >= 8
    for e in rec.events:
        assert e["speaker"] in {"Maya", "Daniel", "Lena"}
        assert isinstance(e["text"], str) and e["text"]
        assert 0 <= e["start"] <= e["end"] <= 61 and e["emitted_at"] >= 0
    for name in ("Maya", "Daniel", "Lena"):
        mine = [e for e in lines if e["speaker"] == name]
        assert mine, name
        assert [e["start"] for e in mine] == sorted(e["start"] for e in mine)
        assert all(a["end"] <= b["start"] for a, b in pairwise(mine))
    times = [e["emitted_at"] for e in rec.events]
    assert times == sorted(times)


def test_findings_arrive_as_events_after_their_line(standup) -> None:
    _session, rec, _ = standup
    kinds = {e["type"] for e in rec.events}
    assert {"action_item", "ticket_update"} <= kinds
    for e in rec.events:
        if e["type"] != "transcript":
            assert e["change"] in ("new", "changed", "removed") and isinstance(e["finding"], dict)
            line = [x for x in rec.events[:rec.events.index(e)] if x["type"] == "transcript"][-1]
            assert e["end"] == line["end"]
    moves = {e["finding"]["key"]: e["finding"]["to"] for e in rec.of("ticket_update") if e["change"] == "new"}
    assert moves.get("CHK-7") == "DONE"


def test_close_returns_a_transcript_that_covers_the_speech(standup, tracks) -> None:
    session, rec, transcript = standup
    assert [(s.start, s.end, s.text, s.speaker) for s in transcript] == sorted(
        (e["start"], e["end"], e["text"], e["speaker"]) for e in rec.of("transcript"))
    assert transcript == session.transcript()
    # Every stretch of speech in every track is inside a segment of its speaker.
    for name, audio in tracks.items():
        loud = np.flatnonzero(np.abs(audio) > 0.02) / SR
        mine = [s for s in transcript if s.speaker == name]
        inside = sum(any(s.start - 0.1 <= t <= s.end + 0.1 for s in mine) for t in loud[::200])
        assert inside / len(loud[::200]) > 0.97, name
    said = set().union(*(words(t["text"]) for t in SCRIPT["turns"]))
    heard = set().union(*(words(s.text) for s in transcript))
    assert len(said & heard) / len(said) > 0.7
    assert session.findings().action_items


def test_two_sessions_share_one_pool(transcriber, tracks) -> None:
    pool = TranscriptionPool(transcriber)
    first, second = Recorder(), Recorder()
    a = LiveSession(info(), [], transcriber, on_event=first, pool=pool, auto_tick=False)
    b = LiveSession(info(), [], transcriber, on_event=second, pool=pool, auto_tick=False)
    half = {name: audio[: 30 * SR] for name, audio in tracks.items()}
    play([a], half, speakers=["Maya", "Daniel"])
    play([b], half, speakers=["Daniel", "Lena"])
    ta, tb = a.close(), b.close()
    pool.close()
    assert {s.speaker for s in ta} == {"Maya", "Daniel"} and {s.speaker for s in tb} == {"Daniel", "Lena"}
    assert pool.transcribed == a.utterances + b.utterances
    assert [s.text for s in ta if s.speaker == "Daniel"] == [s.text for s in tb if s.speaker == "Daniel"]
    assert len(first.of("transcript")) == len(ta) and len(second.of("transcript")) == len(tb)


def test_a_dropped_speaker_is_neither_transcribed_nor_kept(transcriber, tracks) -> None:
    rec = Recorder()
    session = LiveSession(info(), [], transcriber, on_event=rec, auto_tick=False)
    part = {name: audio[: 25 * SR] for name, audio in tracks.items()}
    play([session], {n: a[: 10 * SR] for n, a in part.items()})
    session.drop_speaker("Daniel", forget=True)
    play([session], {n: a[10 * SR:] for n, a in part.items()}, offset=10.0)
    transcript = session.close()
    assert transcript and {s.speaker for s in transcript} == {"Maya"}
    assert all(s.speaker != "Daniel" for s in session.transcript())


def test_discord_audio_and_the_clock_give_lines_before_close(transcriber, tracks) -> None:
    rec = Recorder()
    now = [0.0]
    session = LiveSession(info(), [], transcriber, on_event=rec, clock=lambda: now[0], auto_tick=False)
    speech = clip(tracks["Maya"], 0.0, 7.0)
    up = np.repeat(speech, 3)  # crude 48 kHz; the converter's low-pass takes off what repeating adds
    data = stereo_48k(up)
    for i in range(0, len(data), 3840):  # 20 ms packets, then nothing: Discord's way of saying silence
        now[0] = (i + 3840) / 4 / 48000
        session.feed_discord("Maya", data[i:i + 3840], now[0] - 0.02)
    now[0] = 8.0
    session.tick()
    deadline = time.monotonic() + 60
    while not rec.of("transcript") and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = rec.of("transcript")
    assert len(lines) == 1 and lines[0]["speaker"] == "Maya"
    assert {"morning", "short", "today"} <= words(lines[0]["text"])
    assert abs(lines[0]["end"] - 6.52) < 0.2
    assert session.close() == [Segment(lines[0]["start"], lines[0]["end"], lines[0]["text"], "Maya")]


def test_the_clock_ends_utterances_even_when_packet_times_lag_behind_it(transcriber, tracks) -> None:
    # A bot that places packets by their RTP time: a second behind the session's clock here. Ticks while the
    # member talks must not cut them off; ticks after they stop must end the utterance.
    rec = Recorder()
    now = [0.0]
    pool = TranscriptionPool(transcriber, recognize=lambda audio, language: "words")
    session = LiveSession(info(), [], transcriber, on_event=rec, pool=pool, clock=lambda: now[0], auto_tick=False)
    speech = clip(tracks["Maya"], 0.3, 6.8)
    n = int(0.02 * SR)
    for k, i in enumerate(range(0, len(speech), n)):
        now[0] = 5.0 + (i + n) / SR
        session.feed("Maya", speech[i:i + n], now[0] - 0.02 - 1.0)
        if k % 5 == 0:
            session.tick()
    assert rec.of("transcript") == []
    for _ in range(15):
        now[0] += 0.1
        session.tick()
    deadline = time.monotonic() + 10
    while not rec.of("transcript") and time.monotonic() < deadline:
        time.sleep(0.02)
    lines = rec.of("transcript")
    assert len(lines) == 1
    assert abs(lines[0]["end"] - (4.0 + loud_span(speech, 0)[1])) < 0.15
    session.close()
    pool.close()
    assert len(rec.of("transcript")) == 1


# --- the pool's order -------------------------------------------------------------------------------------------

class Gated:
    """Stands in for the model: holds every call until released, and records the order of calls."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.order: list[float] = []

    def __call__(self, audio: np.ndarray, language: str) -> str:
        self.gate.wait(10)
        self.order.append(float(audio[0]))
        return f"words {audio[0]:g}"


def test_the_pool_takes_the_oldest_utterance_first_across_meetings(transcriber) -> None:
    model = Gated()
    pool = TranscriptionPool(transcriber, recognize=model)
    got: list[tuple[str, str]] = []
    done = threading.Event()

    def deliver(u: Utterance, text: str) -> None:
        got.append((u.speaker, text))
        if len(got) == 4:
            done.set()

    def job(meeting: str, ended: float) -> Job:
        audio = np.full(SR, ended, dtype=np.float32)  # the recogniser tells them apart by their samples
        return Job(Utterance(meeting, 0, 0.0, 1.0, audio, ended_at=ended), "en", deliver)

    pool.submit(job("A", 1.0))  # taken at once; the worker waits at the gate
    time.sleep(0.2)
    for meeting, ended in (("B", 9.0), ("C", 2.0), ("D", 5.0)):
        pool.submit(job(meeting, ended))
    model.gate.set()
    assert done.wait(10)
    pool.close()
    assert model.order == [1.0, 2.0, 5.0, 9.0]
    assert got == [("A", "words 1"), ("C", "words 2"), ("D", "words 5"), ("B", "words 9")]


# --- the command ------------------------------------------------------------------------------------------------

def test_live_sim_prints_events_as_json_lines() -> None:
    onno = Path(sys.executable).with_name("onno")
    done = subprocess.run([str(onno), "live-sim", str(SAMPLE_TRACKS), "--speed", "20", "--type", "standup",
                           "--board", str(SAMPLE_BOARD), "--format", "jsonl"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert events and all(list(e)[:7] == ["meeting", "type", "speaker", "text", "start", "end", "emitted_at"]
                          for e in events)
    assert {e["meeting"] for e in events} == {"standup.tracks"}
    assert len([e for e in events if e["type"] == "transcript"]) >= 8
    assert [e for e in events if e["type"] in ("action_item", "question", "decision", "blocker", "ticket_update")]
    assert "utterances" in done.stderr


def test_live_sim_refuses_what_is_not_a_tracks_folder(tmp_path) -> None:
    onno = Path(sys.executable).with_name("onno")
    done = subprocess.run([str(onno), "live-sim", str(tmp_path / "missing")], capture_output=True, text=True)
    assert done.returncode == 1 and done.stdout == "" and "not a folder" in done.stderr
