"""Group stretches of speech into speakers: agglomerative clustering with the count found from the data."""

from __future__ import annotations

import numpy as np

# Cosine distance at which two groups of stretches stop being merged (average linkage); tuned on the dev corpus,
# where 0.08 split voices and 0.15 merged two similar ones (scripts/bench_diarize.py).
THRESHOLD = 0.1
# A speaker with less than this share of the speech is folded into the nearest one: on its own it is mostly a
# stretch that holds two voices, a cough or laughter, not a person.
MIN_SHARE = 0.03
# Nor is a speaker with less than this much speech (seconds): in a short recording 3 % is a sentence or two.
MIN_SPEECH_S = 4.0
REFINE_ROUNDS = 5


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True).clip(1e-12)


def relabel(labels: np.ndarray) -> np.ndarray:
    """Labels 0..k-1 in order of first appearance."""
    order: dict[int, int] = {}
    for x in labels:
        order.setdefault(int(x), len(order))
    return np.array([order[int(x)] for x in labels], dtype=int)


def centres(emb: np.ndarray, weights: np.ndarray, labels: np.ndarray, ids) -> np.ndarray:
    """The speech-weighted mean voice of each speaker in `ids`."""
    return unit(np.stack([(emb[labels == k] * weights[labels == k, None]).sum(axis=0) for k in ids]))


def cluster(emb: np.ndarray, weights: np.ndarray, *, max_speakers: int | None = None,
            threshold: float = THRESHOLD, min_speech: float = MIN_SPEECH_S) -> np.ndarray:
    """A speaker label (0, 1, … in order of first speaking) for each L2-normalised embedding.

    `weights` is how many seconds of speech each embedding stands for: small groups are judged by their speech.
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    if len(emb) < 2:
        return np.zeros(len(emb), dtype=int)
    labels = fcluster(linkage(emb, method="average", metric="cosine"), t=threshold, criterion="distance") - 1
    labels = relabel(labels)
    for _ in range(REFINE_ROUNDS):
        speech = np.bincount(labels, weights=weights)
        keep = np.flatnonzero(speech >= max(MIN_SHARE * weights.sum(), min_speech))
        if max_speakers and len(keep) > max_speakers:
            # More voices than participants: the smallest go (their speech moves to the nearest kept voice).
            keep = keep[np.argsort(-speech[keep], kind="stable")[:max_speakers]]
        if len(keep) == 0:
            return np.zeros(len(emb), dtype=int)
        # Each stretch then moves to the voice it is nearest (a few rounds of weighted spherical k-means).
        new = relabel(np.argmax(emb @ centres(emb, weights, labels, keep).T, axis=1))
        if np.array_equal(new, labels):
            break
        labels = new
    return labels
