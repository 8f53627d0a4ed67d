"""Split articles into overlapping passages, the unit that search ranks."""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"\S+")

PASSAGE_WORDS = 200
OVERLAP_WORDS = 50


@dataclass(frozen=True, slots=True)
class Passage:
    """A window of an article's text, with its position among that article's passages."""

    article_id: str
    ordinal: int
    text: str


def split_passages(
    article_id: str,
    text: str,
    *,
    size: int = PASSAGE_WORDS,
    overlap: int = OVERLAP_WORDS,
) -> list[Passage]:
    """Cut ``text`` into windows of ``size`` words, each sharing ``overlap`` words with the last.

    A short tail (under half a window) is merged into the window before it, so
    no passage is a fragment of a few words. An empty text yields one empty
    passage, so that a title-only article can still be found by its title.
    """
    if size <= 0 or not 0 <= overlap < size:
        raise ValueError(f"invalid chunking: size={size}, overlap={overlap}")
    # Word spans, so that a passage keeps the line breaks of its text.
    spans = [match.span() for match in _WORD.finditer(text)]
    if len(spans) <= size + size // 2:
        return [Passage(article_id, 0, text.strip())]

    step = size - overlap
    starts = list(range(0, len(spans) - overlap, step))
    # Drop a last window that would hold less than half a window of new words.
    if len(starts) > 1 and len(spans) - starts[-1] < size // 2 + overlap:
        starts.pop()
    passages = []
    for ordinal, start in enumerate(starts):
        end = start + size if ordinal < len(starts) - 1 else len(spans)
        passages.append(Passage(article_id, ordinal, text[spans[start][0] : spans[end - 1][1]]))
    return passages
