"""A cheap, offline guess of the language a customer writes in.

Scores the common function words of each supported language written in Latin
letters (English, German, French, Spanish, Portuguese, Italian, Dutch,
Polish, Turkish), the words that several of them share, and strong signals:
words and letters that only one of them uses. Russian, Chinese, Japanese,
Korean and Arabic are told by their scripts: each letter of the script is a
strong signal, and kana tell Japanese from Chinese. A message decides only
with enough evidence: at least ``MIN_EVIDENCE`` points and more than any
other language. One strong signal is enough, so is two function words, so
one ordinary sentence ("Puis-je annuler mon abonnement ?", "Come cambio la
password?") decides. Short or mixed messages ("no more bots", "nao") fall
back to the customer's earlier messages, then to English, the language of
the product's own texts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

DEFAULT_LANGUAGE = "en"
SUPPORTED_LANGUAGES = (
    "en",
    "de",
    "fr",
    "es",
    "pt",
    "it",
    "nl",
    "pl",
    "tr",
    "ru",
    "zh",
    "ja",
    "ko",
    "ar",
)
# Points a language needs before a text counts as written in it. A function
# word is worth 2 and a shared word 1, so one function word alone ("nao",
# "merci") is too little, because it is too often a loan or a typo.
MIN_EVIDENCE = 4
_FUNCTION_WORD_POINTS = 2
_SHARED_WORD_POINTS = 1
_STRONG_SIGNAL_POINTS = MIN_EVIDENCE

# Every word here points to one language. Words that several of these
# languages use are in _SHARED_WORDS, and "a", "e" and "do" are left out.
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
        quero preciso estou tenho onde quando mas ao da na sua seu eu""",
    "it": """il lo gli non con un una mio mia per che sono posso vorrei grazie ciao
        buongiorno della del questo dove perche ho mi come al nel""",
    "nl": """het een en ik niet met hoe kan mijn u je voor dat wat waar waarom graag bedankt
        hallo wil heb van op te er ook maar zijn""",
    "pl": """jak czy jest nie mam moje moj moja dlaczego prosze dziekuje chce moge
        jestem ktory gdzie kiedy moim mnie sie juz bardzo tego""",
    "tr": """bir ve ile icin nasil neden degil lutfen tesekkurler merhaba istiyorum
        musteri hesabim bu cok ben ama kez hic daha yok""",
}
_WORDS = {language: frozenset(words.split()) for language, words in _FUNCTION_WORDS.items()}
# Words of one language that are no English word and seldom a loan, each
# enough alone. Accents are folded, so "perche" is "perché".
_STRONG_WORDS_BY_LANGUAGE = {
    "de": "ich nicht warum meine sind ihnen mochte",
    "fr": "pourquoi puis-je est-ce j'ai c'est n'arrive sont quel quelle vous voudrais",
    "es": "donde cuanto cuesta necesito usted estan olvide contrasena puedo",
    "pt": "voce estao minha minhas esqueci senha obrigado obrigada quero custa",
    "it": "perche vorrei sono riesco dimenticato costa",
    "nl": "waarom niet ik mijn wachtwoord",
    "pl": "dlaczego prosze dziekuje czy chce",
    "tr": "nasil lutfen tesekkurler istiyorum degil",
}
_STRONG_WORDS = {
    language: frozenset(words.split()) for language, words in _STRONG_WORDS_BY_LANGUAGE.items()
}
# Words that two or more of these languages use, worth one point to each of
# them. Together with one function word they decide: "come cambio la".
_SHARED_WORDS = {
    "la": ("fr", "es", "it"),
    "de": ("fr", "es", "pt", "nl"),
    "no": ("es", "it", "pt"),
    "se": ("fr", "es", "pt", "it"),
    "cambio": ("es", "it"),
    "quanto": ("pt", "it"),
    "plano": ("es", "pt"),
}
# Letters that one language uses and the others seldom do, each a strong signal.
_LETTER_HINTS = {
    "es": re.compile(r"[ñ¿¡]"),
    "pt": re.compile(r"[ãõ]"),
    "de": re.compile(r"[ßäöü]"),
    "fr": re.compile(r"[èêëœ]|\b(?:à|où)\b"),
    "it": re.compile(r"\b(?:è|perché|più)\b"),
    "pl": re.compile(r"[łąęśźżćń]"),
    # A dotted capital "İ" lowers to "i" and a combining dot, which only Turkish writes.
    "tr": re.compile(r"[ığş\u0307]"),
}
# Scripts that name one supported language, each letter a strong signal.
# NOTE: Cyrillic counts as Russian and Arabic script as Arabic, so
# Ukrainian or Persian text gets Russian or Arabic texts.
_SCRIPTS = {
    "ru": re.compile(r"[\u0400-\u04ff]"),
    "ja": re.compile(r"[\u3040-\u30ff]"),
    "ko": re.compile(r"[\uac00-\ud7af\u1100-\u11ff]"),
    "ar": re.compile(r"[\u0600-\u06ff]"),
}
# Letters that Turkish shares with German and French: they count for Turkish
# too once the text has a letter only Turkish uses, so "görüşebilir" is Turkish.
_TURKISH_SHARED = re.compile(r"[öüç]")
# Chinese characters, which Japanese also writes: they count for Chinese
# only when the text has no kana.
# NOTE: so a Japanese message in kanji alone ("最悪", "了解") reads as Chinese.
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_TOKEN = re.compile(r"[a-z]+(?:['-][a-z]+)?")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def language_scores(text: str) -> dict[str, int]:
    """Return the evidence points of each language in ``text``."""
    scores = dict.fromkeys(SUPPORTED_LANGUAGES, 0)
    lowered = text.lower()
    for word in _TOKEN.findall(_fold(text)):
        for language, words in _WORDS.items():
            if word in words:
                scores[language] += _FUNCTION_WORD_POINTS
        for language, words in _STRONG_WORDS.items():
            if word in words:
                scores[language] += _STRONG_SIGNAL_POINTS
        for language in _SHARED_WORDS.get(word, ()):
            scores[language] += _SHARED_WORD_POINTS
    for language, hint in _LETTER_HINTS.items():
        scores[language] += _STRONG_SIGNAL_POINTS * len(hint.findall(lowered))
    if _LETTER_HINTS["tr"].search(lowered):
        scores["tr"] += _STRONG_SIGNAL_POINTS * len(_TURKISH_SHARED.findall(lowered))
    for language, script in _SCRIPTS.items():
        scores[language] += _STRONG_SIGNAL_POINTS * len(script.findall(text))
    han = len(_HAN.findall(text))
    if scores["ja"]:
        scores["ja"] += _STRONG_SIGNAL_POINTS * han
    else:
        scores["zh"] += _STRONG_SIGNAL_POINTS * han
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
