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

from .base import ContextPassage, ProviderError, ProviderReply
from .question_terms import abbreviation_terms, action_terms, related

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


def best_window(passage: ContextPassage, question: str) -> list[str]:
    """Return the run of up to three sentences in one section that covers most question terms.

    A question term counts as covered when a sentence of the run, or the
    heading of its section, contains it or a word derived from it ("pay"
    and "payment"). "Turn on" reads as enable and "turn off" as disable, and
    an abbreviation of the question also matches the words it stands for in
    the passage ("2FA" and "two-factor authentication"). Headings end a
    section and are never quoted. Between runs of equal coverage the one
    whose heading covers more wins, then the earlier one. A passage without
    any matching sentence yields its first sentence.
    """
    question_terms = set(action_terms(question))
    question_terms |= abbreviation_terms(question, passage.text)
    sections: list[tuple[set[str], list[str]]] = [(set(), [])]
    for sentence in dict.fromkeys(split_sentences(passage.text)):
        if _is_heading(sentence, passage.title):
            # The title heads the whole article, so it favours no section.
            is_title = sentence.casefold() == passage.title.casefold()
            heading = set() if is_title else _covered(question_terms, action_terms(sentence))
            sections.append((heading, []))
        elif len(sentence) <= MAX_SENTENCE_CHARS:
            sections[-1][1].append(sentence)

    best: list[str] = []
    # Coverage first, then the heading's share of it, because a section whose
    # heading asks the question answers it more surely than a sentence that
    # shares a word.
    best_score = (0, 0)
    for heading, section in sections:
        covered_by = [_covered(question_terms, action_terms(sentence)) for sentence in section]
        for start in range(len(section)):
            if not covered_by[start] and not (start == 0 and heading):
                continue  # a quote starts at a sentence that matches the question
            window = slice(start, start + MAX_SENTENCES)
            covered = set(heading)
            for sentence_covered in covered_by[window]:
                covered |= sentence_covered
            score = (len(covered), len(heading))
            if score > best_score:
                best, best_score = section[window], score
    if best:
        return best
    first = next((section[0] for _, section in sections if section), None)
    # Only headings or over-long sentences: quote the passage's opening words.
    return [first or passage.text[:MAX_SENTENCE_CHARS].rsplit(" ", 1)[0]]


def _covered(question_terms: set[str], sentence_terms: list[str]) -> set[str]:
    """Return the question terms that ``sentence_terms`` contain or derive from."""
    present = set(sentence_terms)
    return {
        term
        for term in question_terms
        if term in present or any(related(term, other) for other in present)
    }


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
        passage = passages[0]
        chosen = best_window(passage, question)
        quoted = " ".join(chosen)
        lines = [f'From our article "{passage.title}": {quoted}']
        if _STAFF_ONLY.search(quoted):
            lines.append(STAFF_OFFER)
        return ProviderReply(
            content="\n\n".join(lines), cited_article_ids=[passage.article_id], model=MODEL
        )
