"""The default provider: quotes the passage sentences that best match the question.

It runs offline and states nothing that is not in the passages: every
sentence of its reply is copied from one of them, and it names the article
it quotes. When a quoted sentence states that the support team does an
action, the reply offers to pass the request on, and adds no claim of its
own about the action.
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
# A sentence that states that the support team itself does an action: "done only by the
# support team", "only the support team can turn it off", "the support team can
# add a note". Advice to contact support ("contact support with the booking id")
# or "on request" alone does not say who acts, so it does not count.
_STAFF_ONLY = re.compile(
    r"\b(?:(?:done|made|handled|changed|carried out|processed) (?:only )?by (?:our |the )?"
    r"support(?: team)?|only (?:by )?(?:our |the )?support(?: team)? (?:can|will|does)|"
    r"(?:our |the )?support team (?:can|will|does|handles?) (?!not\b)\w+|"
    r"cannot be done (?:yourself|in the app|from the dashboard))",
    re.IGNORECASE,
)
# The offer added after such a quote. It states nothing the quote does not:
# whether the customer may do the action too is left to the quoted sentences.
STAFF_OFFER = (
    "If you would like our support team to do this for you, say so here and I will pass "
    "your request on."
)


def _is_heading(sentence: str, title: str) -> bool:
    """Tell headings apart from statements: a question, the title, or a short unpunctuated line."""
    if sentence.endswith("?") or sentence.casefold() == title.casefold():
        return True
    return len(sentence.split()) < 6 and not sentence.endswith((".", "!", ":"))


def best_window(passage: ContextPassage, question_terms: set[str]) -> list[str]:
    """Return the run of up to three sentences in one section that covers most question terms.

    Headings end a section and are never quoted. Ties go to the earlier run,
    and a passage without any matching sentence yields its first sentence.
    """
    sections: list[list[str]] = [[]]
    for sentence in dict.fromkeys(split_sentences(passage.text)):
        if _is_heading(sentence, passage.title):
            sections.append([])
        elif len(sentence) <= MAX_SENTENCE_CHARS:
            sections[-1].append(sentence)

    best: list[str] = []
    best_score = 0
    for section in sections:
        terms = [set(tokens(sentence)) for sentence in section]
        for start in range(len(section)):
            if not question_terms & terms[start]:
                continue  # a quote starts at a sentence that matches the question
            window = slice(start, start + MAX_SENTENCES)
            covered: set[str] = set()
            for sentence_terms in terms[window]:
                covered |= question_terms & sentence_terms
            if len(covered) > best_score:
                best, best_score = section[window], len(covered)
    if best:
        return best
    first = next((section[0] for section in sections if section), None)
    # Only headings or over-long sentences: quote the passage's opening words.
    return [first or passage.text[:MAX_SENTENCE_CHARS].rsplit(" ", 1)[0]]


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
        chosen = best_window(passage, question_terms)
        quoted = " ".join(chosen)
        lines = [f'From our article "{passage.title}": {quoted}']
        if _STAFF_ONLY.search(quoted):
            lines.append(STAFF_OFFER)
        return ProviderReply(
            content="\n\n".join(lines), cited_article_ids=[passage.article_id], model=MODEL
        )
