"""A few worker threads transcribing utterances from any number of live meetings on one shared model, oldest
utterance first."""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pipeline.live.recognize import Recognizer
from pipeline.live.vad import Utterance
from pipeline.transcribe import Transcriber, WhisperConfig

log = logging.getLogger(__name__)

LIVE_BEAM_SIZE = 5  # see pipeline/live/recognize.py and scripts/bench_live.py
# One CPU thread per recognition: on the 2-core machine, four meetings at once had p95 latency 0.36 s with one
# thread against 0.64 s with both cores (tiny.en's short windows gain less from two threads than they lose to
# contention with the audio thread and the rest of the machine).
LIVE_CPU_THREADS = 1
Recognize = Callable[[np.ndarray, str], str]  # (16 kHz audio, language) -> text


def live_transcriber(config: WhisperConfig | None = None) -> Transcriber:
    """A Transcriber for live work: the configured model on LIVE_CPU_THREADS threads."""
    return Transcriber(dataclasses.replace(config or WhisperConfig(), cpu_threads=LIVE_CPU_THREADS))


@dataclass
class Job:
    """One utterance to transcribe and where its text goes (called on a pool thread; "" when nothing was heard
    or transcription failed)."""

    utterance: Utterance
    language: str
    deliver: Callable[[Utterance, str], None]
    owner: object = None  # the session that sent it, for cancelling its jobs


class TranscriptionPool:
    """Worker threads over one Transcriber. Jobs from every meeting wait in one queue ordered by when their
    utterance ended, so no meeting starves another.

    The shared model runs one recognition at a time (faster-whisper loads it with one CTranslate2 worker), so
    more pool workers only overlap recognition with the rest of the work (findings, event handlers): on the
    2-core machine two workers gave nothing measurable. `recognize` stands in for the model (tests).
    """

    def __init__(self, transcriber: Transcriber, *, workers: int = 1, beam_size: int = LIVE_BEAM_SIZE,
                 recognize: Recognize | None = None) -> None:
        self.transcriber = transcriber
        self.recognize = recognize or Recognizer(transcriber, beam_size=beam_size)
        self._heap: list[tuple[float, int, Job]] = []
        self._order = itertools.count()
        self._cv = threading.Condition()
        self._closed = False
        self._busy = 0
        self.transcribed = 0  # utterances done
        self.busy_seconds = 0.0  # time spent transcribing, for load reports
        self.timings: deque[tuple[float, float]] = deque(maxlen=10000)  # per utterance: (queued, recognising) s
        self._threads = [threading.Thread(target=self._work, name=f"onno-live-asr-{i}", daemon=True)
                         for i in range(max(1, workers))]
        for t in self._threads:
            t.start()

    def warm_up(self) -> None:
        """Load the model now, so the first utterance of a meeting does not wait for it."""
        from pipeline.live.vad import warm_up

        warm_up()
        self.recognize(np.zeros(16000, dtype=np.float32), "en")

    def submit(self, job: Job) -> None:
        with self._cv:
            if self._closed:
                raise RuntimeError("the transcription pool is closed")
            heapq.heappush(self._heap, (job.utterance.ended_at, next(self._order), job))
            self._cv.notify()

    def cancel(self, predicate: Callable[[Job], bool]) -> list[Job]:
        """Take the queued jobs that match out of the queue (those already running finish); return them."""
        with self._cv:
            gone = [j for _, _, j in self._heap if predicate(j)]
            if gone:
                self._heap = [e for e in self._heap if not predicate(e[2])]
                heapq.heapify(self._heap)
            return gone

    @property
    def queued(self) -> int:
        with self._cv:
            return len(self._heap)

    def close(self, *, wait: bool = True) -> None:
        """Stop taking jobs; with `wait`, finish the queued ones first."""
        with self._cv:
            self._closed = True
            if not wait:
                self._heap.clear()
            self._cv.notify_all()
        if wait:
            for t in self._threads:
                t.join()

    def _work(self) -> None:
        while True:
            with self._cv:
                while not self._heap and not self._closed:
                    self._cv.wait()
                if not self._heap:
                    return
                _, _, job = heapq.heappop(self._heap)
                self._busy += 1
            u = job.utterance
            began = time.monotonic()
            waited = began - u.ended_at
            try:
                text = self.recognize(u.audio, job.language)
            except Exception:  # a failed utterance must not stop the meeting
                log.exception("transcribing an utterance of %s failed", u.speaker)
                text = ""
            took = time.monotonic() - began
            with self._cv:
                self._busy -= 1
                self.transcribed += 1
                self.busy_seconds += took
                self.timings.append((waited, took))
            try:
                job.deliver(u, text)
            except Exception:
                log.exception("delivering an utterance of %s failed", u.speaker)
