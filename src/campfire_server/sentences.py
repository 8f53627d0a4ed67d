"""Find where the first sentence or clause of a text ends, ignoring abbreviations."""

from __future__ import annotations

import re

# Words that end in a period without ending a sentence, compared in lowercase.
ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "sr",
    "jr",
    "st",
    "vs",
    "etc",
    "e.g",
    "i.e",
    "eg",
    "ie",
    "no",
    "nr",
    "inc",
    "ltd",
    "co",
    "corp",
    "approx",
    "dept",
    "fig",
    "ca",
    "cf",
    "min",
    "max",
}

_SENTENCE_END = re.compile(r"[.!?]+(?=\s)")
_CLAUSE_END = re.compile(r"[.;](?=\s)")


def ends_abbreviation(text: str) -> bool:
    """Tell whether ``text`` ends with an abbreviation such as ``e.g`` or an initial.

    ``text`` is what comes before a period, so a period there ends no sentence.
    """
    words = text.split()
    last_word = words[-1].lower() if words else ""
    return last_word in ABBREVIATIONS or len(last_word) == 1


def first_sentence(text: str) -> str:
    """Return ``text`` up to its first sentence end, which is not an abbreviation or initial."""
    for match in _SENTENCE_END.finditer(text):
        if match.group() == "." and ends_abbreviation(text[: match.start()]):
            continue
        return text[: match.end()]
    return text


def first_clause(text: str) -> str:
    """Return ``text`` before its first period or semicolon that ends a sentence or clause.

    A period after an abbreviation such as ``e.g.`` or an initial ends nothing.
    """
    for match in _CLAUSE_END.finditer(text):
        if match.group() == "." and ends_abbreviation(text[: match.start()]):
            continue
        return text[: match.start()]
    return text
