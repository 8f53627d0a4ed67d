"""A cheap, offline guess of the language a customer writes in.

Counts the common function words of each supported language (English,
German, French, Spanish, Portuguese, Italian, Dutch) and a few letters that
only some of them use. A message decides only with enough evidence: at least
``MIN_EVIDENCE`` points and more than any other language. Short or mixed
messages ("no more bots", "nao") fall back to the customer's earlier
messages, then to English, the language of the product's own texts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

DEFAULT_LANGUAGE = "en"
SUPPORTED_LANGUAGES = ("en", "de", "fr", "es", "pt", "it", "nl")
# Points a language needs before a text counts as written in it: two function
# words, or one letter hint. One word alone is too often a loan or a typo.
MIN_EVIDENCE = 2

# Words shared by several of these languages ("de", "la", "a", "e", "no", "do")
# are left out, so every word points to one language.
_FUNCTION_WORDS = {
    "en": """the is are and you my how what can do i to with for this it please not have
        want would could should does don't i'm there your help thanks""",
    "de": """der die das und ist ich nicht mit ein eine einen einem einer wie kann mein meine
        meinen sie bitte mochte habe auf fur zu es was wo warum wird wurde danke hallo
        ihnen konnen mochten nach""",
    "fr": """le les et est je pas avec une des comment mon ma mes vous pour dans qui sur ne
        puis voudrais bonjour merci c'est j'ai mais votre suis est-ce au aux""",
    "es": """el los las y yo con una como mis usted para por favor hola gracias puedo
        quiero necesito esta tengo donde cuando pero mi hay al del estoy""",
    "pt": """os nao com um uma meu minha voce para por favor ola obrigado obrigada posso
        quero preciso estou tenho onde quando mas ao da na sua seu""",
    "it": """il lo gli non con un una mio mia per che sono posso vorrei grazie ciao
        buongiorno della del questo dove perche ho mi come al nel""",
    "nl": """het een en ik niet met hoe kan mijn u je voor dat wat waar waarom graag bedankt
        hallo wil heb van op te er ook maar zijn""",
}
_WORDS = {language: frozenset(words.split()) for language, words in _FUNCTION_WORDS.items()}
# Letters that one language uses and the others seldom do, each worth two words.
_LETTER_HINTS = {
    "es": re.compile(r"[ñ¿¡]"),
    "pt": re.compile(r"[ãõ]"),
    "de": re.compile(r"[ßäöü]"),
    "fr": re.compile(r"[èêëœ]|\bà\b"),
    "it": re.compile(r"\b(?:è|perché|più)\b"),
}
_TOKEN = re.compile(r"[a-z]+(?:['-][a-z]+)?")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def language_scores(text: str) -> dict[str, int]:
    """Return how many function words and letter hints of each language ``text`` contains."""
    scores = dict.fromkeys(SUPPORTED_LANGUAGES, 0)
    lowered = text.lower()
    for word in _TOKEN.findall(_fold(text)):
        for language, words in _WORDS.items():
            if word in words:
                scores[language] += 1
    for language, hint in _LETTER_HINTS.items():
        scores[language] += 2 * len(hint.findall(lowered))
    return scores


def detect_language(message: str, earlier: Iterable[str] = ()) -> str:
    """Return the code of the language of ``message``, or of ``earlier`` customer turns.

    ``earlier`` contains the customer's previous messages, newest first, and they
    decide when ``message`` alone has no clear winner ("ok", "Thanks!", "nao").
    A text has a winner when one language has at least ``MIN_EVIDENCE`` points
    and more than any other. Returns ``DEFAULT_LANGUAGE`` when no text has one.
    """
    for text in (message, *earlier):
        scores = language_scores(text)
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        (best, top), (_, second) = ranked[0], ranked[1]
        if top >= MIN_EVIDENCE and top > second:
            return best
    return DEFAULT_LANGUAGE
