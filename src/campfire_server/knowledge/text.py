"""Plain text from Markdown or HTML, and the tokens that search and confidence compare.

Every token is lower-cased and stemmed with the Snowball English stemmer, and
stop words are dropped. A token that joins digits and letters with dots or
dashes (``4.1.1.2``, ``cve-2018-6551``) is also kept whole, because error
codes, versions and product ids must match exactly. Its parts are indexed
as well, so that ``8.5`` still finds ``8.5.5``.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

import snowballstemmer

# English function words and support-chat filler that carry no topic.
STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are aren as at be because been
    before being below between both but by can cannot could couldn did didn do does doesn
    doing don down during each few for from further had hadn has hasn have haven having he
    her here hers herself him himself his how i if in into is isn it its itself just let
    ll me more most mustn my myself no nor not now of off on once only or other ought our
    ours ourselves out over own re s same shan she should shouldn so some such t than that
    the their theirs them themselves then there these they this those through to too under
    until up ve very was wasn we were weren what when where which while who whom why will
    with won would wouldn you your yours yourself yourselves also may might must shall
    get got getting us via per etc e g ie eg hi hello hey thanks thank please regards dear
    anyone someone something anything using use used
    """.split()
)

_stemmer = snowballstemmer.stemmer("english")

# A compound token: alphanumeric runs joined by ".", "_", "-" or "/" (versions, codes).
_COMPOUND = re.compile(r"[a-z0-9]+(?:[._\-/][a-z0-9]+)*")
_PART = re.compile(r"[a-z0-9]+")
_HAS_DIGIT = re.compile(r"\d")
_HAS_ALPHA = re.compile(r"[a-z]")

_HTML_BLOCK = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_HTML_BREAK = re.compile(r"<\s*(br|/p|/div|/li|/h[1-6]|/tr|p|div|li|h[1-6]|tr)\b[^>]*>", re.I)
_HTML_TAG = re.compile(r"<[^>]+>")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
# Headings, quotes and list bullets at the start of a line, and paired emphasis or
# code marks. A lone "_" or "*" stays, because it is part of names such as
# MQRC_CLUSTER or wildcards, and so does a ">" inside a line ("Settings > Billing").
_MD_LINE_MARKUP = re.compile(r"^[ \t]*(?:#{1,6}|>+|[*+\-]|\d+\.)[ \t]+", re.MULTILINE)
_MD_EMPHASIS = re.compile(r"\*\*|__|~~|`+")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def html_to_text(markup: str) -> str:
    """Strip tags from ``markup``, keeping block boundaries as line breaks."""
    text = _HTML_BLOCK.sub(" ", markup)
    text = _HTML_BREAK.sub("\n", text)
    text = _HTML_TAG.sub(" ", text)
    return normalise_space(html.unescape(text))


def markdown_to_text(markdown: str) -> str:
    """Reduce Markdown to readable plain text: link labels stay, markup goes."""
    text = _MD_LINK.sub(r"\1", markdown)
    text = _MD_LINE_MARKUP.sub("", text)
    text = _MD_EMPHASIS.sub("", text)
    return normalise_space(text)


def normalise_space(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return _stemmer.stemWord(word)


def is_specific(token: str) -> bool:
    """Tell whether a raw token looks like a code, version or id (letters mixed with digits)."""
    return bool(_HAS_DIGIT.search(token)) and (
        bool(_HAS_ALPHA.search(token)) or "." in token or len(token) >= 4
    )


def tokens(text: str) -> list[str]:
    """Return the search terms of ``text`` in order: stemmed words and whole compound codes."""
    terms: list[str] = []
    for match in _COMPOUND.finditer(text.lower()):
        compound = match.group()
        parts = _PART.findall(compound)
        if len(parts) > 1 and _HAS_DIGIT.search(compound):
            terms.append(compound)
        for part in parts:
            if part in STOP_WORDS or (len(part) == 1 and not part.isdigit()):
                continue
            terms.append(part if part.isdigit() else stem(part))
    return terms


def specific_terms(text: str) -> set[str]:
    """Return the codes, versions and ids in ``text`` as they appear in ``tokens``."""
    found: set[str] = set()
    for match in _COMPOUND.finditer(text.lower()):
        compound = match.group()
        if is_specific(compound):
            parts = _PART.findall(compound)
            found.add(compound if len(parts) > 1 else stem(compound))
    return found
