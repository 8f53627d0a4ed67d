"""Messages that are nothing but small talk, and the short replies they get.

A greeting ("hi there"), thanks ("thanks!"), an acknowledgement ("ok",
"got it") or a farewell ("bye") needs nothing from the knowledge base, so the
engine answers it with a short reply in the customer's language instead of
searching and handing off. Only a message made entirely of such phrases
counts: "hi, my invoice is wrong" is a question. English, German, French,
Spanish, Portuguese, Italian and Dutch phrases are listed, the languages of
``acknowledgements.py``. "yes" and "no" are left out on purpose, because
they may answer an offer of the AI's earlier reply.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from .language import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES, language_scores

# A longer message is a question or a story, whatever phrases it contains.
MAX_WORDS = 10
# Words that may stand beside a phrase without making the message a question:
# "hi there", "thanks again", "thank you so much", "hello team".
_FILLERS = frozenset(
    "there team everyone all guys folks again so much very a lot really and".split()
)


class SmallTalk(StrEnum):
    GREETING = "greeting"
    THANKS = "thanks"
    ACKNOWLEDGEMENT = "acknowledgement"
    FAREWELL = "farewell"


# When a message mixes kinds, the first of this order decides the reply:
# "ok thanks" is thanks, "hi, bye" a farewell.
_PRECEDENCE = (SmallTalk.THANKS, SmallTalk.FAREWELL, SmallTalk.GREETING, SmallTalk.ACKNOWLEDGEMENT)

# Phrases folded as ``_fold`` folds a message: lower case, no accents, no punctuation.
_PHRASES = {
    "en": {
        SmallTalk.GREETING: """hi | hello | hey | hiya | howdy | greetings | good morning |
            good afternoon | good evening | morning | how are you | how are you doing |
            how is it going | hows it going""",
        SmallTalk.THANKS: """thanks | thank you | thx | ty | many thanks | cheers |
            much appreciated | appreciate it | thanks a lot | for your help | for the help |
            for helping | for that | for the info""",
        SmallTalk.ACKNOWLEDGEMENT: """ok | okay | k | kk | got it | alright | all right | sure |
            cool | great | perfect | understood | i see | sounds good | nice | awesome | fine |
            noted | makes sense | good""",
        SmallTalk.FAREWELL: """bye | goodbye | bye bye | see you | see ya | have a nice day |
            have a good day | take care""",
    },
    "de": {
        SmallTalk.GREETING: """hallo | guten morgen | guten tag | guten abend | moin | servus |
            gruss gott | gruezi | wie geht es ihnen | wie gehts""",
        SmallTalk.THANKS: """danke | danke schon | danke sehr | vielen dank | besten dank |
            herzlichen dank""",
        SmallTalk.ACKNOWLEDGEMENT: """ok | okay | alles klar | verstanden | gut | super | prima |
            in ordnung""",
        SmallTalk.FAREWELL: """tschuss | auf wiedersehen | bis bald | schonen tag noch""",
    },
    "fr": {
        SmallTalk.GREETING: """bonjour | bonsoir | salut | coucou | comment allez vous |
            ca va""",
        SmallTalk.THANKS: """merci | merci beaucoup | merci bien | je vous remercie""",
        SmallTalk.ACKNOWLEDGEMENT: """d accord | ok | parfait | compris | tres bien | entendu |
            super""",
        SmallTalk.FAREWELL: """au revoir | bonne journee | bonne soiree | a bientot""",
    },
    "es": {
        SmallTalk.GREETING: """hola | buenos dias | buenas tardes | buenas noches | buenas |
            que tal | como esta""",
        SmallTalk.THANKS: """gracias | muchas gracias | mil gracias""",
        SmallTalk.ACKNOWLEDGEMENT: """vale | de acuerdo | entendido | perfecto | genial |
            muy bien | ok""",
        SmallTalk.FAREWELL: """adios | hasta luego | chao | hasta pronto""",
    },
    "pt": {
        SmallTalk.GREETING: """ola | oi | bom dia | boa tarde | boa noite | tudo bem""",
        SmallTalk.THANKS: """obrigado | obrigada | muito obrigado | muito obrigada | valeu""",
        SmallTalk.ACKNOWLEDGEMENT: """ok | certo | entendi | perfeito | combinado | beleza |
            esta bem""",
        SmallTalk.FAREWELL: """tchau | ate logo | ate mais | ate breve""",
    },
    "it": {
        SmallTalk.GREETING: """ciao | salve | buongiorno | buonasera | come sta""",
        SmallTalk.THANKS: """grazie | grazie mille | molte grazie""",
        SmallTalk.ACKNOWLEDGEMENT: """va bene | ok | perfetto | capito | d accordo | ottimo""",
        SmallTalk.FAREWELL: """arrivederci | a presto | buona giornata | buona serata""",
    },
    "nl": {
        SmallTalk.GREETING: """hoi | hallo | goedemorgen | goedemiddag | goedenavond | dag""",
        SmallTalk.THANKS: """bedankt | dank je | dank u | dank je wel | dank u wel |
            hartelijk dank""",
        SmallTalk.ACKNOWLEDGEMENT: """oke | ok | prima | begrepen | duidelijk | top""",
        SmallTalk.FAREWELL: """doei | tot ziens | fijne dag""",
    },
}


def _build_lexicon() -> dict[tuple[str, ...], tuple[SmallTalk, frozenset[str]]]:
    """Map each phrase, as a tuple of words, to its kind and the languages that use it."""
    lexicon: dict[tuple[str, ...], tuple[SmallTalk, frozenset[str]]] = {}
    for language, kinds in _PHRASES.items():
        for kind, listed in kinds.items():
            for phrase in listed.split("|"):
                key = tuple(phrase.split())
                known_kind, languages = lexicon.get(key, (kind, frozenset()))
                lexicon[key] = (known_kind, languages | {language})
    return lexicon


_LEXICON = _build_lexicon()
_LONGEST = max(len(key) for key in _LEXICON)

_REPLIES = {
    "en": {
        SmallTalk.GREETING: "Hello! What can I help you with today?",
        SmallTalk.THANKS: "You're welcome! Is there anything else I can help you with?",
        SmallTalk.ACKNOWLEDGEMENT: "All right. If you have a question, just ask.",
        SmallTalk.FAREWELL: "Goodbye, and thanks for getting in touch!",
    },
    "de": {
        SmallTalk.GREETING: "Hallo! Wobei kann ich Ihnen heute helfen?",
        SmallTalk.THANKS: "Gern geschehen! Kann ich Ihnen sonst noch helfen?",
        SmallTalk.ACKNOWLEDGEMENT: "Alles klar. Wenn Sie eine Frage haben, fragen Sie einfach.",
        SmallTalk.FAREWELL: "Auf Wiedersehen, und danke für Ihre Nachricht!",
    },
    "fr": {
        SmallTalk.GREETING: "Bonjour ! Comment puis-je vous aider aujourd'hui ?",
        SmallTalk.THANKS: "Je vous en prie ! Puis-je vous aider pour autre chose ?",
        SmallTalk.ACKNOWLEDGEMENT: "Très bien. Si vous avez une question, n'hésitez pas.",
        SmallTalk.FAREWELL: "Au revoir, et merci de nous avoir contactés !",
    },
    "es": {
        SmallTalk.GREETING: "¡Hola! ¿En qué puedo ayudarle hoy?",
        SmallTalk.THANKS: "¡De nada! ¿Puedo ayudarle con algo más?",
        SmallTalk.ACKNOWLEDGEMENT: "De acuerdo. Si tiene alguna pregunta, no dude en hacerla.",
        SmallTalk.FAREWELL: "¡Adiós, y gracias por escribirnos!",
    },
    "pt": {
        SmallTalk.GREETING: "Olá! Em que posso ajudar hoje?",
        SmallTalk.THANKS: "De nada! Posso ajudar com mais alguma coisa?",
        SmallTalk.ACKNOWLEDGEMENT: "Certo. Se tiver alguma pergunta, é só perguntar.",
        SmallTalk.FAREWELL: "Até logo, e obrigado pelo contacto!",
    },
    "it": {
        SmallTalk.GREETING: "Salve! Come posso aiutarla oggi?",
        SmallTalk.THANKS: "Prego! Posso aiutarla in qualcos'altro?",
        SmallTalk.ACKNOWLEDGEMENT: "Va bene. Se ha una domanda, chieda pure.",
        SmallTalk.FAREWELL: "Arrivederci, e grazie per averci scritto!",
    },
    "nl": {
        SmallTalk.GREETING: "Hallo! Waarmee kan ik u vandaag helpen?",
        SmallTalk.THANKS: "Graag gedaan! Kan ik u nog ergens anders mee helpen?",
        SmallTalk.ACKNOWLEDGEMENT: "Prima. Als u een vraag heeft, stel die gerust.",
        SmallTalk.FAREWELL: "Tot ziens, en bedankt voor uw bericht!",
    },
}
_ALL_REPLIES = frozenset(text for replies in _REPLIES.values() for text in replies.values())

_NOT_WORD = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class SmallTalkMatch:
    """The kind of a small-talk message and the languages its phrases belong to."""

    kind: SmallTalk
    languages: frozenset[str]


def _fold(text: str) -> list[str]:
    """Return the words of ``text``: lower case, accents removed, punctuation and emoji dropped."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return [word for word in _NOT_WORD.split(plain.replace("ß", "ss")) if word]


def match_small_talk(message: str) -> SmallTalkMatch | None:
    """Return the kind of ``message`` when it is nothing but small talk, else ``None``.

    The message's words are read left to right, each step taking the
    longest listed phrase that starts there or one filler word. A word that
    is neither makes the message a question. At least one phrase is needed,
    so "there" alone is no small talk.
    """
    words = _fold(message)
    if not words or len(words) > MAX_WORDS:
        return None
    kinds: set[SmallTalk] = set()
    language_sets: list[frozenset[str]] = []
    position = 0
    while position < len(words):
        for size in range(min(_LONGEST, len(words) - position), 0, -1):
            entry = _LEXICON.get(tuple(words[position : position + size]))
            if entry is not None:
                kinds.add(entry[0])
                language_sets.append(entry[1])
                position += size
                break
        else:
            if words[position] not in _FILLERS:
                return None
            position += 1
    if not kinds:
        return None
    kind = next(kind for kind in _PRECEDENCE if kind in kinds)
    shared = frozenset.intersection(*language_sets)
    return SmallTalkMatch(kind, shared or frozenset.union(*language_sets))


def reply_language(match: SmallTalkMatch, earlier: Iterable[str] = ()) -> str:
    """Pick the language of the reply among the phrases' languages.

    ``earlier`` contains the customer's previous messages, newest first. The
    first of them whose function words favour one of the phrases' languages
    decides ("ok" after a German question gets German). Otherwise English
    wins when the phrases are English, else the first phrase language in
    the order of ``SUPPORTED_LANGUAGES``.
    """
    for text in earlier:
        scores = language_scores(text)
        best = max(match.languages, key=lambda language: scores[language])
        ranked = sorted(scores.values(), reverse=True)
        if scores[best] > 0 and scores[best] == ranked[0] and scores[best] > ranked[1]:
            return best
    if DEFAULT_LANGUAGE in match.languages:
        return DEFAULT_LANGUAGE
    return next(language for language in SUPPORTED_LANGUAGES if language in match.languages)


def small_talk_reply(kind: SmallTalk, language: str = DEFAULT_LANGUAGE) -> str:
    """Return the reply to small talk of ``kind`` in ``language`` (English when not written)."""
    return _REPLIES.get(language, _REPLIES[DEFAULT_LANGUAGE])[kind]


def is_small_talk(message: str) -> bool:
    """Tell whether ``message`` is nothing but small talk."""
    return match_small_talk(message) is not None


def is_small_talk_reply(content: str) -> bool:
    """Tell whether ``content`` is one of the engine's replies to small talk."""
    return content.strip() in _ALL_REPLIES
