"""Dialogue-act labelling: how likely each sentence is an action item, a decision or a blocker.

A small logistic head per kind reads the sentence's embedding (all-MiniLM-L6-v2, pipeline/findings/encoder.py),
its neighbours' embeddings, a few shape features and whether a rule detector anchored a finding there. The heads
are trained by scripts/train_findings.py on real meetings (AMI, train split) and scripted ones, and live in
models/acts.json with the thresholds chosen on held-out meetings. Features only look three sentences either side,
so the live engine, which re-reads a window around each new utterance, scores a sentence as the batch engine does.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.findings.encoder import DIM, EncoderError, default_encoder
from pipeline.findings.sentences import Sentence
from pipeline.findings.text import HESITATION, word_count

KINDS = ("action", "decision", "blocker")
FEATURE_VERSION = 3
HEADS_PATH = Path(__file__).with_name("models") / "acts.json"
# Context: the sentence before, the one after, and the two before / after those (averaged).
CONTEXT = ((-1,), (1,), (-2, -3), (2, 3))
REACH = 3  # sentences either side a feature looks at
SHAPE = ("question", "words", "short", "same_prev", "same_next", "rule_action", "rule_decision", "rule_blocker",
         "hesitant_near", "words_near", "tidy_rule_action", "tidy_rule_decision", "tidy_rule_blocker")
N_FEATURES = DIM * (1 + len(CONTEXT)) + len(SHAPE)
HESITANT = 0.25  # share of nearby sentences with an "um"/"uh" from which talk counts as hesitant


@dataclass
class Scores:
    """Per sentence: the probability of each kind, and whether the talk around it is hesitant."""

    p: dict[str, np.ndarray]
    hesitant: np.ndarray


@dataclass
class Head:
    """One kind's logistic head and its probability thresholds: for a confident finding of the labeller's own
    and for one a rule detector also found, each in tidy talk and amid hesitations (hand transcripts of real
    talk, where rule patterns catch fragments and the model is calibrated differently), and for a possible one."""

    weights: np.ndarray
    bias: float
    confident: float
    possible: float
    rule: float
    rule_hesitant: float
    confident_hesitant: float

    def sure(self, *, rule: bool, hesitant: bool) -> float:
        """The threshold a finding must reach to be delivered."""
        if rule:
            return self.rule_hesitant if hesitant else self.rule
        return self.confident_hesitant if hesitant else self.confident

    def probability(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(x @ self.weights + self.bias)))


def hesitant_rows(x: np.ndarray) -> np.ndarray:
    """Which rows of a feature matrix are sentences amid hesitant talk."""
    return x[:, DIM * (1 + len(CONTEXT)) + SHAPE.index("hesitant_near")] >= HESITANT


def load_heads(path: Path = HEADS_PATH) -> dict[str, Head]:
    """The trained heads; a missing or damaged file says how to get it back."""
    hint = "Reinstall Onno (pip install -e .), or retrain with scripts/train_findings.py."
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("feature_version") != FEATURE_VERSION:
            raise EncoderError(f"The findings model {path.name} was trained for other features "
                               f"(version {data.get('feature_version')}, this Onno reads {FEATURE_VERSION}).", hint)
        heads = {}
        for kind in KINDS:
            h = data["heads"][kind]
            w = np.asarray(h["weights"], dtype=np.float32)
            if w.shape != (N_FEATURES,):
                raise ValueError(f"{kind}: {w.shape[0]} weights, expected {N_FEATURES}")
            heads[kind] = Head(w, float(h["bias"]), float(h["confident"]), float(h["possible"]), float(h["rule"]),
                               float(h["rule_hesitant"]), float(h["confident_hesitant"]))
        return heads
    except EncoderError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise EncoderError(f"The findings model {path} is missing or damaged ({e}).", hint) from e


def shape_features(sentences: list[Sentence], cues: dict[str, set[int]]) -> np.ndarray:
    """Per sentence: question, length, same speaker as its neighbours, which rule detectors fired there, and how
    the talk around it goes (hesitant, fragmentary speech like a hand transcript's, or tidy sentences)."""
    n_words = [word_count(s.text) for s in sentences]
    hesitant = [bool(HESITATION.search(s.text)) for s in sentences]
    out = np.zeros((len(sentences), len(SHAPE)), dtype=np.float32)
    for i, s in enumerate(sentences):
        n = n_words[i]
        prev = sentences[i - 1] if i > 0 else None
        nxt = sentences[i + 1] if i + 1 < len(sentences) else None
        near = range(max(0, i - REACH), min(len(sentences), i + REACH + 1))
        rules = [i in cues.get(kind, ()) for kind in KINDS]
        hesitant_near = sum(hesitant[j] for j in near) / len(near)
        # A rule's word means more in tidy talk than amid hesitations, where its patterns catch fragments.
        out[i] = (s.is_question, min(n, 40) / 20, n <= 3,
                  prev is not None and prev.speaker == s.speaker, nxt is not None and nxt.speaker == s.speaker,
                  *rules, hesitant_near, min(sum(n_words[j] for j in near) / len(near), 40) / 20,
                  *(r * (1.0 - hesitant_near) for r in rules))
    return out


def features(sentences: list[Sentence], embeddings: np.ndarray, cues: dict[str, set[int]]) -> np.ndarray:
    """The feature matrix of a run of sentences: own embedding, context embeddings, shape."""
    n = len(sentences)
    parts = [embeddings]
    for offsets in CONTEXT:
        ctx = np.zeros((n, DIM), dtype=np.float32)
        for i in range(n):
            near = [i + o for o in offsets if 0 <= i + o < n]
            if near:
                ctx[i] = embeddings[near].mean(axis=0)
        parts.append(ctx)
    parts.append(shape_features(sentences, cues))
    return np.hstack(parts) if n else np.zeros((0, N_FEATURES), dtype=np.float32)


class ActLabeller:
    """Scores sentences for every kind; remembers recent embeddings, so live re-reads embed only new text."""

    CACHE = 4096

    def __init__(self, heads: dict[str, Head] | None = None, encoder=None) -> None:
        self.heads = heads if heads is not None else load_heads()
        self._encoder = encoder
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embeddings of texts, from the cache where seen before."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            vectors = (self._encoder or default_encoder()).encode(missing)
            with self._lock:
                for t, v in zip(missing, vectors, strict=True):
                    self._cache[t] = v
                while len(self._cache) > self.CACHE:
                    self._cache.popitem(last=False)
        with self._lock:
            rows = [self._cache.get(t) for t in texts]
        if any(r is None for r in rows):  # evicted meanwhile by another thread: encode those again
            return (self._encoder or default_encoder()).encode(texts)
        return np.stack(rows) if rows else np.zeros((0, DIM), dtype=np.float32)

    def score(self, sentences: list[Sentence], cues: dict[str, set[int]]) -> Scores:
        """Probability per sentence of each kind."""
        return self.score_features(features(sentences, self.embed([s.text for s in sentences]), cues))

    def score_features(self, x: np.ndarray) -> Scores:
        return Scores({kind: head.probability(x) for kind, head in self.heads.items()}, hesitant_rows(x))


_default: ActLabeller | None = None
_default_lock = threading.Lock()


def default_labeller() -> ActLabeller:
    """One labeller per process, made on first use (the encoder loads in about half a second)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = ActLabeller()
    return _default
