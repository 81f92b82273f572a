"""One speaker's audio, as it arrives, cut into utterances: Silero VAD (faster-whisper's copy) on 32 ms windows."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from pipeline.decode import SAMPLE_RATE

WINDOW = 512  # samples: the window Silero VAD takes at 16 kHz (32 ms)
WINDOW_S = WINDOW / SAMPLE_RATE
CONTEXT = 64  # samples of the previous window Silero sees with each window
# A chunk starting this much after the previous one ended follows a silence (Discord sends nothing while a member
# is quiet); less is arrival jitter, and the chunk is taken as following on.
GAP = 0.2


@dataclass(frozen=True)
class SegmenterConfig:
    """When an utterance starts and ends. Times in seconds."""

    threshold: float = 0.5  # speech probability that starts speech…
    neg_threshold: float = 0.35  # … and below which, once speaking, a window counts as silence
    end_silence: float = 0.5  # this much silence ends an utterance (pauses inside corpus turns: up to 0.48 s)
    soft_max: float = 10.0  # an utterance this long ends at the next short pause …
    split_silence: float = 0.2  # … of this length
    max_utterance: float = 15.0  # and is cut here even mid-word
    min_speech: float = 0.2  # utterances with less speech than this are dropped (clicks, coughs)
    pre_roll: float = 0.2  # audio kept before the first speech window (soft onsets) …
    post_roll: float = 0.15  # … and after the last one
    energy_floor: float = 1e-3  # windows quieter than this (peak, full scale 1) are silence without asking Silero
    reset_after: float = 1.0  # silence after which Silero's recurrent state starts afresh


@cache
def _silero():
    from faster_whisper.vad import get_vad_model

    return get_vad_model().session  # an onnxruntime session: run() is safe from several threads


def warm_up() -> None:
    """Load the VAD model now rather than on the first speech."""
    StreamVAD().prob(np.zeros(WINDOW, dtype=np.float32) + 0.01)


class StreamVAD:
    """Speech probability of consecutive 512-sample windows of one stream, keeping Silero's state between calls
    (equal, window by window, to faster-whisper's whole-file VAD)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)

    def prob(self, window: np.ndarray) -> float:
        x = np.concatenate([self._context, window]).astype(np.float32, copy=False)[None, :]
        out, self._h, self._c = _silero().run(None, {"input": x, "h": self._h, "c": self._c})
        self._context = window[-CONTEXT:]
        return float(out.reshape(-1)[0])

    def skip(self, window: np.ndarray) -> None:
        """A window judged silent without the model: only the context moves on."""
        self._context = window[-CONTEXT:]


@dataclass
class Utterance:
    """One stretch of one speaker's speech, ready to transcribe; times in meeting seconds."""

    speaker: str
    seq: int  # 0, 1, 2 … per speaker, in the order spoken
    start: float  # first speech window
    end: float  # end of the last speech window
    audio: np.ndarray  # 16 kHz mono float32, with pre- and post-roll
    ended_at: float = field(default_factory=time.monotonic)  # when the segmenter let it go (the pool's order)


class Segmenter:
    """Cuts one speaker's stream into utterances. Not thread-safe: the session serialises calls."""

    def __init__(self, speaker: str, config: SegmenterConfig | None = None) -> None:
        self.speaker = speaker
        self.config = config or SegmenterConfig()
        self.vad = StreamVAD()
        self.time: float | None = None  # meeting time at the end of the windows read so far
        self._pending = np.zeros(0, dtype=np.float32)  # samples short of a whole window
        self._pre: deque[np.ndarray] = deque(maxlen=max(1, round(self.config.pre_roll / WINDOW_S)))
        self._windows: list[np.ndarray] = []  # the utterance so far, pre-roll included
        self._onset = 0.0
        self._speech_end = 0.0
        self._speech_windows = 0
        self._last_speech_index = 0  # into _windows
        self._silence = 0.0  # silence since the last speech window
        self._quiet = 0.0  # silence the model has not seen (energy gate), for resetting its state
        self.speaking = False
        self._seq = 0

    @property
    def next_seq(self) -> int:
        return self._seq

    @property
    def buffered_until(self) -> float | None:
        """Meeting time up to which audio has arrived (read or waiting for a whole window)."""
        if self.time is None:
            return None
        return self.time + len(self._pending) / SAMPLE_RATE

    def feed(self, pcm: np.ndarray, t: float) -> list[Utterance]:
        """Take samples starting at meeting time `t`; return the utterances they ended.

        A chunk that starts later than the previous one ended (a sender that sends nothing while quiet, as
        Discord does) has silence in between; one that starts a little early is taken as following on.
        """
        pcm = np.asarray(pcm, dtype=np.float32).reshape(-1)
        done: list[Utterance] = []
        if self.time is None:
            self.time = t
        else:
            if t - self.buffered_until > GAP:
                done += self.silence_until(t)
        self._pending = np.concatenate([self._pending, pcm]) if len(self._pending) else pcm
        n = len(self._pending) // WINDOW
        for i in range(n):
            u = self._window(self._pending[i * WINDOW:(i + 1) * WINDOW])
            if u is not None:
                done.append(u)
        self._pending = self._pending[n * WINDOW:].copy()
        return done

    def silence_until(self, t: float) -> list[Utterance]:
        """Nothing arrived up to meeting time `t`: count it as silence (ending an utterance if long enough)."""
        if self.time is None:
            self.time = t
            return []
        done: list[Utterance] = []
        if len(self._pending):
            # Pad the partial window with silence so it is read, as the stream did go quiet after it.
            window = np.concatenate([self._pending, np.zeros(WINDOW - len(self._pending), dtype=np.float32)])
            self._pending = np.zeros(0, dtype=np.float32)
            u = self._window(window)
            if u is not None:
                done.append(u)
        gap = t - self.time
        if gap <= 0:
            return done
        if self.speaking:
            # Read the silence window by window only while it matters: until the utterance ends.
            zero = np.zeros(WINDOW, dtype=np.float32)
            while self.speaking and t - self.time >= WINDOW_S:
                u = self._window(zero)
                if u is not None:
                    done.append(u)
        rest = t - self.time
        if rest > 0:
            self._quiet += rest
            if self._quiet >= self.config.reset_after:
                self.vad.reset()
                self._quiet = 0.0
            self._pre.clear()
            self.time = t
        return done

    def flush(self) -> list[Utterance]:
        """The stream ended: the utterance under way (if any) ends with it."""
        done = self.silence_until(self.buffered_until) if self.time is not None else []
        if self.speaking:
            u = self._finish()
            if u is not None:
                done.append(u)
        return done

    def discard(self) -> None:
        """Forget the utterance under way and any audio held (a speaker who opted out)."""
        self._windows = []
        self._pre.clear()
        self._pending = np.zeros(0, dtype=np.float32)
        self.speaking = False
        self._seq += 1  # the discarded utterance's number is never delivered

    # --- window by window -------------------------------------------------------------------------------------

    def _window(self, w: np.ndarray) -> Utterance | None:
        c = self.config
        start = self.time
        self.time = start + WINDOW_S
        if float(np.abs(w).max(initial=0.0)) < c.energy_floor:
            p = 0.0
            self.vad.skip(w)
            self._quiet += WINDOW_S
            if self._quiet >= c.reset_after:
                self.vad.reset()
                self._quiet = 0.0
        else:
            p = self.vad.prob(w)
            self._quiet = 0.0
        if not self.speaking:
            if p < c.threshold:
                self._pre.append(w)
                return None
            self.speaking = True
            self._windows = [*self._pre, w]
            self._pre.clear()
            self._onset = start
            self._speech_end = self.time
            self._speech_windows = 1
            self._last_speech_index = len(self._windows) - 1
            self._silence = 0.0
            return None
        self._windows.append(w)
        if p >= c.neg_threshold:
            self._speech_end = self.time
            self._speech_windows += 1
            self._last_speech_index = len(self._windows) - 1
            self._silence = 0.0
        else:
            self._silence += WINDOW_S
        length = self.time - self._onset
        if self._silence >= c.end_silence or (length >= c.soft_max and self._silence >= c.split_silence):
            return self._finish()
        if length >= c.max_utterance:
            return self._finish(cut=True)
        return None

    def _finish(self, *, cut: bool = False) -> Utterance | None:
        c = self.config
        post = round(c.post_roll / WINDOW_S)
        keep = self._windows[: self._last_speech_index + 1 + post]
        tail = self._windows[self._last_speech_index + 1:]
        speech = self._speech_windows * WINDOW_S
        u = None
        if speech >= c.min_speech:
            u = Utterance(self.speaker, self._seq, round(self._onset, 3), round(self._speech_end, 3),
                          np.concatenate(keep))
            self._seq += 1
        self.speaking = False
        self._windows = []
        self._silence = 0.0
        # The silence read after the speech is the pre-roll of whatever comes next.
        self._pre.clear()
        for w in tail[-self._pre.maxlen:]:
            self._pre.append(w)
        if cut:
            # Cut mid-speech: the next utterance starts right here.
            self.speaking = True
            self._windows = []
            self._onset = self.time
            self._speech_end = self.time
            self._speech_windows = 0
            self._last_speech_index = -1
        return u
