"""A few worker threads transcribing utterances from any number of live meetings on one shared model, oldest
utterance first."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.live.vad import Utterance
from pipeline.transcribe import Transcriber

log = logging.getLogger(__name__)

# Greedy decoding: on tiny.en it takes ~0.40 s per corpus utterance against ~0.56 s with beam 5 (2-core machine),
# which is what keeps four meetings at once under the latency goal (scripts/bench_live.py).
LIVE_BEAM_SIZE = 1


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

    The Transcriber serialises calls to its model, so more than one worker only overlaps the rest of the work
    (findings, event handlers) with recognition; one worker with all cores is the fastest for one utterance.
    """

    def __init__(self, transcriber: Transcriber, *, workers: int = 1, beam_size: int = LIVE_BEAM_SIZE) -> None:
        self.transcriber = transcriber
        self.beam_size = beam_size
        self._heap: list[tuple[float, int, Job]] = []
        self._order = itertools.count()
        self._cv = threading.Condition()
        self._closed = False
        self._busy = 0
        self.transcribed = 0  # utterances done
        self.busy_seconds = 0.0  # time spent transcribing, for load reports
        self._threads = [threading.Thread(target=self._work, name=f"onno-live-asr-{i}", daemon=True)
                         for i in range(max(1, workers))]
        for t in self._threads:
            t.start()

    def warm_up(self) -> None:
        """Load the model now, so the first utterance of a meeting does not wait for it."""
        from pipeline.live.vad import warm_up

        warm_up()
        _ = self.transcriber.model

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
            try:
                segments = self.transcriber.transcribe(u.audio, speaker=u.speaker, language=job.language,
                                                       word_timing=False, beam_size=self.beam_size)
                text = " ".join(s.text.strip() for s in segments if s.text.strip())
            except Exception:  # a failed utterance must not stop the meeting
                log.exception("transcribing an utterance of %s failed", u.speaker)
                text = ""
            took = time.monotonic() - began
            with self._cv:
                self._busy -= 1
                self.transcribed += 1
                self.busy_seconds += took
            try:
                job.deliver(u, text)
            except Exception:
                log.exception("delivering an utterance of %s failed", u.speaker)
