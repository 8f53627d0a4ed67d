"""The default provider: quotes the passage sentences that best match the question.

It runs offline and states nothing that is not in the passages: every
sentence of its reply is copied from one of them, and it names the article
it quotes. When the quoted article says an action is done by the support
team, the reply says how to ask for it instead of inventing steps.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ...knowledge.text import tokens
from .base import ContextPassage, ProviderError, ProviderReply

MODEL = "extractive"
MAX_SENTENCES = 3
MAX_SENTENCE_CHARS = 400

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])|\n+")
_STAFF_ONLY = re.compile(
    r"\b(?:only (?:by )?(?:our |the )?support(?: team)?|support team (?:can|will|handles?)|"
    r"(?:contact|ask|email|write to) (?:our |the )?support|on request|by request|"
    r"cannot be done (?:yourself|in the app|from the dashboard))\b",
    re.IGNORECASE,
)


def _is_heading(sentence: str, title: str) -> bool:
    """Tell headings apart from statements: a question, the title, or a short unpunctuated line."""
    if sentence.endswith("?") or sentence.casefold() == title.casefold():
        return True
    return len(sentence.split()) < 6 and not sentence.endswith((".", "!", ":"))


def split_sentences(text: str) -> list[str]:
    pieces = [piece.strip() for piece in _SENTENCE_END.split(text)]
    return [piece for piece in pieces if len(piece) >= 3]


class ExtractiveProvider:
    """Compose a reply from the sentences of the first passage that share the question's terms."""

    name = "extractive"

    async def generate(
        self,
        *,
        question: str,
        history: Sequence[tuple[str, str]],
        passages: Sequence[ContextPassage],
        instructions: str | None = None,
    ) -> ProviderReply:
        if not passages:
            raise ProviderError("no passages to quote from")
        question_terms = set(tokens(question))
        passage = passages[0]
        sentences = list(
            dict.fromkeys(
                s
                for s in split_sentences(passage.text)
                if len(s) <= MAX_SENTENCE_CHARS and not _is_heading(s, passage.title)
            )
        )
        if not sentences:
            # Only questions or over-long sentences: quote the passage's opening words.
            sentences = [passage.text[:MAX_SENTENCE_CHARS].rsplit(" ", 1)[0]]

        scored = []
        for position, sentence in enumerate(sentences):
            overlap = len(question_terms & set(tokens(sentence)))
            scored.append((overlap, -position, sentence))
        best = sorted(scored, reverse=True)[:MAX_SENTENCES]
        chosen = [sentence for overlap, _, sentence in sorted(best, key=lambda s: -s[1]) if overlap]
        if not chosen:
            chosen = [sentences[0]]

        quoted = " ".join(chosen)
        lines = [f'From our article "{passage.title}": {quoted}']
        if _STAFF_ONLY.search(passage.text):
            lines.append(
                "This is something our support team does for you on request, so there are "
                "no steps to take in the app. If you would like them to do it, say so here "
                "and I will pass your request on."
            )
        return ProviderReply(
            content="\n\n".join(lines), cited_article_ids=[passage.article_id], model=MODEL
        )
