"""The language a transcript is in, by py3langid (its naive-Bayes model ships inside the package, 97 languages)."""

from __future__ import annotations

import functools

from pipeline.types import Segment

SAMPLE_CHARS = 20000  # spread over the meeting: enough for a sure guess, fast on a 2-hour file
MIN_LETTERS = 40  # below this ("Caption text #1") a guess is noise: keep the language the caller gave
MIN_CONFIDENCE = 0.6


@functools.cache
def identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def sample(segments: list[Segment]) -> str:
    """Up to SAMPLE_CHARS of the spoken text, taken evenly from start to end."""
    texts = [s.text for s in segments if s.text]
    total = sum(len(t) + 1 for t in texts)
    if total <= SAMPLE_CHARS:
        return " ".join(texts)
    step = total / SAMPLE_CHARS
    picked, budget, acc = [], 0.0, 0.0
    for t in texts:
        acc += (len(t) + 1) / step
        if acc - budget >= len(t) + 1 or not picked:
            picked.append(t)
            budget += len(t) + 1
    return " ".join(picked)[:SAMPLE_CHARS]


def transcript_language(segments: list[Segment]) -> str | None:
    """ISO 639-1 code of the transcript's language ('en', 'fr', 'zh'); None when the text is too short to tell."""
    text = sample(segments)
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return None
    lang, confidence = identifier().classify(text)
    return lang if confidence >= MIN_CONFIDENCE else None
