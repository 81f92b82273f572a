"""The language of a recording: told from the speech, English kept on tiny.en, others on the multilingual base."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from pipeline.run import transcribe_source
from pipeline.transcribe import Transcriber
from pipeline.types import MeetingInfo
from pipeline.whisper_base import MODEL_SIZE, model_dir
from tests.media import SAMPLE

FRENCH = Path(__file__).parent / "data" / "fr-planning.ogg"  # espeak-ng -v fr, 15 s


def info() -> MeetingInfo:
    return MeetingInfo(title="Réunion", date=dt.date(2026, 11, 2))


def test_the_base_model_is_joined_once_from_its_two_packages(tmp_path):
    folder = Path(model_dir(tmp_path))
    model = folder / "model.bin"
    assert model.stat().st_size == MODEL_SIZE
    assert {p.name for p in folder.iterdir()} == {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}
    written = model.stat().st_mtime_ns
    assert model_dir(tmp_path) == str(folder) and model.stat().st_mtime_ns == written


def test_a_french_recording_is_transcribed_in_french():
    transcript = transcribe_source(FRENCH, info())
    assert transcript.language == "fr"
    text = " ".join(s.text for s in transcript.segments).lower()
    assert "bonjour" in text and "planification" in text


def test_an_english_recording_stays_on_tiny_en():
    transcriber = Transcriber()
    transcript = transcribe_source(SAMPLE, info(), transcriber=transcriber)
    assert transcript.language == "en"
    assert not transcriber.model_for("en").model.is_multilingual
    assert transcriber.model_for("fr").model.is_multilingual


def test_silence_keeps_the_callers_language():
    assert Transcriber().spoken_language(np.zeros(16000 * 5, dtype=np.float32), "de") == "de"
