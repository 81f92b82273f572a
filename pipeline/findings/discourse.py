"""Discourse across the meeting: a task handed to someone else later on keeps one item, with the last word."""

from __future__ import annotations

import dataclasses
import re

from pipeline.findings.text import content_stems
from pipeline.types import ActionItem

# How people hand a task over: "Ada, could you take the guide instead?", "can you take that over?".
HANDOVER = re.compile(r"\b(?:instead|take\s+(?:it|that|this|them|\w+(?:\s+\w+)?)\s+over|hand(?:ing)?\s+(?:it|that|this)"
                      r"\s+(?:over\s+)?to|swap|over\s+to\s+you)\b", re.I)
# Words of the hand-over itself, not of the task it names.
HANDOVER_WORDS = {"take", "instead", "over", "hand", "handing", "swap", "guy", "bit", "part"}
WITHIN_S = 15 * 60.0  # a hand-over points back at a task said in the last quarter of an hour


def settle_handovers(items: list[ActionItem]) -> list[ActionItem]:
    """Fold a hand-over ("Ada, could you take the guide instead?") into the task it names, said before: that
    task gets the new owner, and the new due date when one was said; the hand-over is no second task."""
    out: list[ActionItem] = []
    for item in items:
        at = _handed_over(item, out) if HANDOVER.search(item.evidence or item.text) else None
        if at is None:
            out.append(item)
            continue
        earlier = out[at]
        sure = None if earlier.confidence is None or item.confidence is None else max(earlier.confidence,
                                                                                        item.confidence)
        out[at] = dataclasses.replace(earlier, owner=item.owner or earlier.owner, due=item.due or earlier.due,
                                      confidence=sure)
    return out


def _handed_over(item: ActionItem, before: list[ActionItem]) -> int | None:
    """Where in `before` is the latest earlier task that the hand-over names by one of its words."""
    words = content_stems(item.text) - HANDOVER_WORDS
    for at in range(len(before) - 1, -1, -1):
        prior = before[at]
        if item.start is not None and prior.start is not None and item.start - prior.start > WITHIN_S:
            break
        if words & content_stems(prior.text) and prior.owner != item.owner:
            return at
    return None
