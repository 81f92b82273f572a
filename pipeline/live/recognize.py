"""One short utterance to text, fast: the shared faster-whisper model's CTranslate2 engine on a shortened window.

faster-whisper pads every input to Whisper's 30 s window, and on a CPU the encoder pass over those 3,000 frames is
most of the time an utterance takes (tiny.en, 2 cores: ~0.4 s of ~0.5 s). CTranslate2's encoder takes shorter
inputs, so a live utterance is encoded over its own length plus a margin, at least 10 s: measured on 68 corpus
turns (2-core machine shared with other work), beam 5 gave WER 0.098 in ~0.35 s per turn against faster-whisper's
full window at 0.099 in ~0.9 s; windows shorter than 10 s lost accuracy (0.115 at length + 1 s), and greedy
decoding loops on short windows (WER 0.14 with a repeat guard, 0.6 without).
"""

from __future__ import annotations

import threading
import zlib

import numpy as np

from pipeline.transcribe import Transcriber

MIN_FRAMES = 1000  # 10 s of 10 ms feature frames
PAD_FRAMES = 200  # after the utterance
MAX_FRAMES = 3000  # Whisper's whole window
TOKENS_PER_SECOND = 8  # a generous bound on speech (fast English is ~6): stops a decoder that loops
# faster-whisper's rules for "this was not speech" and "this is a loop".
NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
MAX_COMPRESSION = 2.4


def compression_ratio(text: str) -> float:
    data = text.encode()
    return len(data) / max(1, len(zlib.compress(data)))


class Recognizer:
    """Text of one utterance (16 kHz mono float32) on the Transcriber's model; safe to call from several threads."""

    def __init__(self, transcriber: Transcriber, *, beam_size: int = 5) -> None:
        self.transcriber = transcriber
        self.beam_size = beam_size
        self._lock = threading.Lock()
        self._prompts: dict[str, tuple] = {}

    @property
    def model(self):
        return self.transcriber.model

    def _prompt(self, language: str) -> tuple:
        """The tokenizer, the decoder's start tokens and the tokens it may not produce, per language."""
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        with self._lock:
            if language not in self._prompts:
                model = self.model
                tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe",
                                      language=language if model.model.is_multilingual else "en")
                prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
                self._prompts[language] = tokenizer, prompt, get_suppressed_tokens(tokenizer, [-1])
            return self._prompts[language]

    def __call__(self, audio: np.ndarray, language: str = "en") -> str:
        if len(audio) == 0:
            return ""
        features = self.model.feature_extractor(audio)
        frames = min(MAX_FRAMES, max(MIN_FRAMES, features.shape[1] + PAD_FRAMES))
        text, looped = self._decode(features, frames, len(audio) / 16000, language)
        if looped and frames < MAX_FRAMES:
            # The decoder went round in circles: Whisper's full window, what it was trained on, usually does not.
            text, _ = self._decode(features, MAX_FRAMES, len(audio) / 16000, language)
        return text

    def _decode(self, features: np.ndarray, frames: int, seconds: float, language: str) -> tuple[str, bool]:
        import ctranslate2

        model = self.model
        tokenizer, prompt, suppress = self._prompt(language)
        window = np.zeros((1, features.shape[0], frames), dtype=np.float32)
        window[0, :, : min(frames, features.shape[1])] = features[:, :frames]
        max_length = min(448, len(prompt) + int(TOKENS_PER_SECOND * seconds) + 16)
        result = model.model.generate(ctranslate2.StorageView.from_array(window), [prompt],
                                      beam_size=self.beam_size, max_length=max_length, return_scores=True,
                                      return_no_speech_prob=True, suppress_blank=True, suppress_tokens=suppress)[0]
        tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
        text = tokenizer.decode(tokens).strip()
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1) if tokens else -10.0
        if result.no_speech_prob > NO_SPEECH_PROB and avg_logprob < LOW_LOGPROB:
            return "", False  # a cough or a door, not words
        return text, compression_ratio(text) > MAX_COMPRESSION or len(result.sequences_ids[0]) + len(prompt) >= max_length
