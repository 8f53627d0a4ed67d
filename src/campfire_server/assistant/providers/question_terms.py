"""Search terms for choosing the sentences that answer a question.

The search terms of ``knowledge.text`` drop particles as stop words, so
"turn on" and "turn off" both become "turn", and they keep an abbreviation
apart from the words it stands for. Choosing a sentence inside an article
needs both: the sentence that tells how to turn two-factor authentication on
answers "How do I turn on 2FA?", the one that tells who can turn it off
does not.
"""

from __future__ import annotations

import re

from ...knowledge.text import tokens

# "turn on", "switch it on", "turn two-factor authentication off": up to
# three words may stand between the verb and its particle.
_TURN_ON = re.compile(r"\b(?:turn|switch)(?:s|ed|ing)?\s+((?:[\w-]+\s+){0,3}?)on\b", re.I)
_TURN_OFF = re.compile(r"\b(?:turn|switch)(?:s|ed|ing)?\s+((?:[\w-]+\s+){0,3}?)off\b", re.I)
_ACTIVATE = re.compile(r"\bactivat(?:e|es|ed|ing)\b", re.I)
_DEACTIVATE = re.compile(r"\bdeactivat(?:e|es|ed|ing)\b", re.I)

# An abbreviation: two to six letters and digits with at least two capitals
# ("SSO", "GDPR") or a digit beside a letter ("2FA", "2fa").
_ABBREVIATION = re.compile(
    r"\b(?=[A-Za-z0-9]*[A-Z][A-Za-z0-9]*[A-Z]|[A-Za-z]*\d[A-Za-z]|[A-Za-z]+\d)[A-Za-z0-9]{2,6}\b"
)
_WORD = re.compile(r"[A-Za-z0-9]+")
_NUMBER_WORDS = {
    "1": "one",
    "2": "two",
    "3": "three",
    "4": "four",
    "5": "five",
    "6": "six",
    "7": "seven",
    "8": "eight",
    "9": "nine",
}
# Derivational endings that the Snowball stemmer keeps: "pay" and "payment".
_DERIVED_ENDINGS = ("ment", "ments", "er", "ers", "or", "ors", "ion", "ions", "ation")


def action_terms(text: str) -> list[str]:
    """Return the search terms of ``text``, with "turn on" as enable and "turn off" as disable."""
    text = _TURN_ON.sub(lambda match: f"enable {match.group(1)}", text)
    text = _TURN_OFF.sub(lambda match: f"disable {match.group(1)}", text)
    text = _DEACTIVATE.sub("disable", text)
    text = _ACTIVATE.sub("enable", text)
    return tokens(text)


def abbreviation_terms(question: str, passage: str) -> set[str]:
    """Return the terms of the passage phrases that the question's abbreviations stand for.

    An abbreviation stands for a run of passage words whose initials spell
    it, a digit standing for its number word: "2FA" for "two-factor
    authentication", "SSO" for "single sign-on". The run is read as it is
    written in the passage, so the article defines what it means.
    """
    words = _WORD.findall(passage)
    lowered = [word.lower() for word in words]
    found: set[str] = set()
    for abbreviation in dict.fromkeys(_ABBREVIATION.findall(question)):
        letters = abbreviation.lower()
        size = len(letters)
        for start in range(len(lowered) - size + 1):
            run = lowered[start : start + size]
            if all(_stands_for(letter, word) for letter, word in zip(letters, run, strict=True)):
                found.update(tokens(" ".join(words[start : start + size])))
                break
    return found


def _stands_for(letter: str, word: str) -> bool:
    if letter.isdigit():
        return word == letter or word == _NUMBER_WORDS.get(letter)
    return word.startswith(letter)


def related(question_term: str, sentence_term: str) -> bool:
    """Tell whether two search terms are the same word or one derives from the other."""
    if question_term == sentence_term:
        return True
    shorter, longer = sorted((question_term, sentence_term), key=len)
    if len(shorter) < 3 or not longer.startswith(shorter):
        return False
    return longer[len(shorter) :] in _DERIVED_ENDINGS
