"""Cutting a transcript into requests of a token budget each, overlapping a little."""

from __future__ import annotations

# Segments repeated at the start of the next chunk, so a question at a chunk's end can be seen answered.
CHUNK_OVERLAP = 2


def estimate_tokens(text: str) -> int:
    # About four characters a token for English with GPT-style tokenizers; close enough to size chunks.
    return len(text) // 4 + 1


def chunk_ranges(lines: list[str], max_tokens: int, overlap: int = CHUNK_OVERLAP) -> list[range]:
    """Index ranges of at most max_tokens of new lines each (a longer line goes alone), plus a little overlap."""
    # Each chunk after the first repeats up to `overlap` lines of the one before, within a quarter of the budget.
    sizes = [estimate_tokens(line) for line in lines]
    chunks: list[range] = []
    start = 0
    while start < len(lines):
        end, used = start, 0
        while end < len(lines) and (end == start or used + sizes[end] <= max_tokens):
            used += sizes[end]
            end += 1
        back, extra = start, 0
        while back > 0 and start - back < overlap and extra + sizes[back - 1] <= max_tokens // 4:
            back -= 1
            extra += sizes[back]
        chunks.append(range(back, end))
        start = end
    return chunks
