"""Messages that are nothing but small talk, and the short replies they get.

A greeting ("hi there"), thanks ("thanks!"), an acknowledgement ("ok", "got
it") or a farewell ("bye") needs nothing from the knowledge base, so the
engine replies with a short text in the customer's language instead of
searching and handing off. Only a message made entirely of such phrases
counts: "hi, my invoice is wrong" is a question. English, German, French,
Spanish, Portuguese, Italian and Dutch phrases are listed here, and Russian,
Polish, Turkish, Chinese, Japanese, Korean and Arabic ones in
``small_talk_languages.py``. The replies are written in every language of
``acknowledgements.py``, so a bare "?" or an emoji after Russian or Chinese
turns gets a Russian or Chinese reply. A bare
"yes" or "no" is left out on purpose, because it may answer an offer of the
AI's earlier reply ("shall I pass this on to the team?"). A "no" beside
thanks or a closing phrase ("no thanks", "nein danke", "no, that's all")
ends the conversation, so it is a farewell. A message of nothing but emoji
("👍", "🙏", "🤔") is small talk too, unless every emoji is negative ("👎",
"😢"). A greeting asked as a question ("hello?", "noch da?", "any update?")
nudges an unanswered question.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from . import small_talk_languages
from .language import (
    DEFAULT_LANGUAGE,
    SUPPORTED_LANGUAGES,
    TRADITIONAL_CHINESE,
    chinese_form,
    language_scores,
    locale_language,
)
from .person_request import fold

# A longer message is a question or a story, whatever phrases it contains.
MAX_WORDS = 10
# The same limit for Chinese, Japanese and Korean, which are read one
# character at a time: "どうもありがとうございました" has 14.
MAX_CHARACTERS = 24
# Words that may stand beside a phrase without making the message a question:
# "hi there", "thanks again", "thank you so much", "hello team".
_FILLERS = frozenset(
    "there team everyone all guys folks again so much very a lot really and".split()
)
# Words that decline the "anything else?" of the reply to thanks. They count only
# beside thanks or a farewell ("no thanks"), mapped to the languages that use them.
_DECLINES = {
    "no": frozenset({"en", "es", "it"}),
    "nope": frozenset({"en"}),
    "nah": frozenset({"en"}),
    "nein": frozenset({"de"}),
    "non": frozenset({"fr", "it"}),
    "nao": frozenset({"pt"}),
    "nee": frozenset({"nl"}),
}


class SmallTalk(StrEnum):
    GREETING = "greeting"
    THANKS = "thanks"
    ACKNOWLEDGEMENT = "acknowledgement"
    FAREWELL = "farewell"


# When a message mixes kinds, the first of this order decides the reply:
# "ok thanks" is thanks, "hi, bye" and "that's all, thanks" a farewell, because
# the reply to thanks asks whether the customer needs anything else.
_PRECEDENCE = (SmallTalk.FAREWELL, SmallTalk.THANKS, SmallTalk.GREETING, SmallTalk.ACKNOWLEDGEMENT)

# Reaction emoji, without skin-tone modifiers and variation selectors, and the
# kind a message made only of them has.
_EMOJI = {
    **dict.fromkeys("👍👌🆗✅👏🙂😊😀😃😄😁🤗😉🥳🎉💯✔", SmallTalk.ACKNOWLEDGEMENT),
    **dict.fromkeys("🙏❤💙💚💛🧡💜🤝😍🥰", SmallTalk.THANKS),
    "👋": SmallTalk.GREETING,
}
# Emoji that show anger, disappointment or sadness: thumbs down, angry and
# cursing faces, steam from the nose, the anger symbol, the middle finger, eye
# rolling, unamused, disappointed, weary, frowning, crying and sobbing faces.
NEGATIVE_EMOJI = frozenset("👎😡😠🤬😤💢🖕🙄😒😞😩😫🙁☹😢😭")
_EMOJI_MODIFIERS = frozenset(chr(code) for code in range(0x1F3FB, 0x1F400)) | {"\ufe0f", "\u200d"}

# Phrases folded as ``_fold`` folds a message: lower case, no accents, no punctuation.
_PHRASES = {
    "en": {
        SmallTalk.GREETING: """hi | hello | hey | hiya | howdy | greetings | good morning |
            good afternoon | good evening | good day | morning | afternoon | evening |
            how are you | how are you doing | how is it going | hows it going | how s it going |
            anyone there | anybody there | is anyone there | is anybody there | someone there |
            is someone there | are you there | are you still there | you there | still there |
            u there | r u there | anyone | anybody | any update | any updates | any news""",
        SmallTalk.THANKS: """thanks | thank you | thank u | thankyou | thanku | thx | thnx |
            thanx | tks | tnx | tx | ty | tysm | many thanks | cheers | much appreciated |
            appreciated | appreciate it | i appreciate it | thanks a lot | thanx a lot |
            thanks a bunch | thanks a million | much obliged | for your help |
            for the help | for helping | for that | for the info""",
        SmallTalk.ACKNOWLEDGEMENT: """ok | okay | k | kk | got it | alright | all right | sure |
            cool | great | perfect | understood | i see | sounds good | nice | awesome | fine |
            noted | makes sense | good""",
        SmallTalk.FAREWELL: """bye | goodbye | good bye | bye bye | see you | see ya |
            see you later | later | good night | goodnight | night | have a nice day |
            have a good day | have a great day | have a nice evening | have a good evening |
            have a great evening | have a nice weekend | have a good weekend |
            have a great weekend | have a good one | take care | you too | same to you |
            and you | that s all | thats all | that is all | that s it | thats it |
            that will be all | nothing else | all good | i m good | im good | i am good |
            i m all set | all set""",
    },
    "de": {
        SmallTalk.GREETING: """hallo | guten morgen | guten tag | guten abend | moin | servus |
            guten nachmittag | gruss gott | gruezi | wie geht es ihnen | wie gehts |
            ist da jemand | jemand da | noch da | sind sie noch da | bist du noch da""",
        SmallTalk.THANKS: """danke | danke schon | danke schoen | dankeschon | dankeschoen |
            danke sehr | dankesehr | vielen dank | vielen lieben dank | besten dank |
            herzlichen dank | tausend dank | danke vielmals""",
        SmallTalk.ACKNOWLEDGEMENT: """ok | okay | alles klar | verstanden | gut | super | prima |
            in ordnung""",
        SmallTalk.FAREWELL: """tschuss | tschuess | auf wiedersehen | bis bald | bis dann |
            schonen tag noch | schonen abend | schones wochenende | gute nacht | ihnen auch |
            dir auch | gleichfalls | ebenfalls | das wars | das war s | das war alles |
            sonst nichts | nichts weiter""",
    },
    "fr": {
        SmallTalk.GREETING: """bonjour | bonsoir | salut | coucou | comment allez vous |
            ca va | il y a quelqu un | y a quelqu un | allo | vous etes la""",
        SmallTalk.THANKS: """merci | merci beaucoup | merci bien | merci mille fois |
            mille mercis | merci infiniment | je vous remercie | je te remercie""",
        SmallTalk.ACKNOWLEDGEMENT: """d accord | ok | parfait | compris | tres bien | entendu |
            super""",
        SmallTalk.FAREWELL: """au revoir | bonne journee | bonne soiree | bonne nuit |
            bon week end | bonne fin de journee | a bientot | a plus | vous aussi | toi aussi |
            pareillement | c est tout | rien d autre""",
    },
    "es": {
        SmallTalk.GREETING: """hola | buenos dias | buenas tardes | buenas noches | buenas |
            que tal | como esta | hay alguien | hay alguien ahi | sigues ahi | sigue ahi |
            estas ahi | esta ahi""",
        SmallTalk.THANKS: """gracias | muchas gracias | muchisimas gracias | mil gracias |
            se lo agradezco | te lo agradezco | le agradezco""",
        SmallTalk.ACKNOWLEDGEMENT: """vale | de acuerdo | entendido | perfecto | genial |
            muy bien | ok""",
        SmallTalk.FAREWELL: """adios | hasta luego | chao | hasta pronto | hasta manana |
            buen dia | buen fin de semana | que tenga un buen dia | igualmente |
            usted tambien | tu tambien | eso es todo | nada mas""",
    },
    "pt": {
        SmallTalk.GREETING: """ola | oi | bom dia | boa tarde | boa noite | tudo bem |
            tem alguem ai | alguem ai | alo | ainda esta ai""",
        SmallTalk.THANKS: """obrigado | obrigada | muito obrigado | muito obrigada | brigado |
            brigada | obg | valeu | agradeco""",
        SmallTalk.ACKNOWLEDGEMENT: """ok | certo | entendi | perfeito | combinado | beleza |
            esta bem | ta bom | ta certo""",
        SmallTalk.FAREWELL: """tchau | ate logo | ate mais | ate breve | ate amanha |
            bom fim de semana | tenha um bom dia | igualmente | voce tambem | e tudo |
            so isso | mais nada""",
    },
    "it": {
        SmallTalk.GREETING: """ciao | salve | buongiorno | buon pomeriggio | buonasera |
            come sta | c e qualcuno | c e nessuno | pronto | ci sei""",
        SmallTalk.THANKS: """grazie | grazie mille | molte grazie | grazie tante |
            grazie infinite | la ringrazio | ti ringrazio""",
        SmallTalk.ACKNOWLEDGEMENT: """va bene | ok | perfetto | capito | d accordo | ottimo""",
        SmallTalk.FAREWELL: """arrivederci | a presto | buona giornata | buona serata |
            buonanotte | buona notte | buon fine settimana | anche a lei | anche a te |
            altrettanto | e tutto | nient altro""",
    },
    "nl": {
        SmallTalk.GREETING: """hoi | hallo | goedemorgen | goeiemorgen | goedemiddag |
            goedenavond | goeienavond | goedendag | dag | is daar iemand | is er iemand |
            iemand daar | ben je daar | bent u daar""",
        SmallTalk.THANKS: """bedankt | dank je | dank u | dank je wel | dank u wel | dankjewel |
            dankuwel | hartelijk dank | hartelijk bedankt""",
        SmallTalk.ACKNOWLEDGEMENT: """oke | ok | prima | begrepen | duidelijk | top""",
        SmallTalk.FAREWELL: """doei | tot ziens | tot later | fijne dag | fijne avond |
            fijn weekend | welterusten | goedenacht | jij ook | u ook | insgelijks |
            dat was het | dat is alles | verder niets""",
    },
}


_PHRASES.update(
    {
        language: {SmallTalk(kind): listed for kind, listed in kinds.items()}
        for language, kinds in small_talk_languages.PHRASES.items()
    }
)


def _build_lexicon() -> dict[tuple[str, ...], tuple[SmallTalk, frozenset[str]]]:
    """Map each phrase, folded into a tuple of words, to its kind and the languages that use it."""
    lexicon: dict[tuple[str, ...], tuple[SmallTalk, frozenset[str]]] = {}
    for language, kinds in _PHRASES.items():
        for kind, listed in kinds.items():
            for phrase in listed.split("|"):
                key = tuple(_fold(phrase))
                known_kind, languages = lexicon.get(key, (kind, frozenset()))
                lexicon[key] = (known_kind, languages | {language})
    return lexicon


def _build_declines() -> dict[tuple[str, ...], frozenset[str]]:
    """Map each declining word, folded into a tuple of words, to the languages that use it."""
    declines = {(word,): languages for word, languages in _DECLINES.items()}
    for language, listed in small_talk_languages.DECLINES.items():
        for phrase in listed.split("|"):
            key = tuple(_fold(phrase))
            declines[key] = declines.get(key, frozenset()) | {language}
    return declines


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
    "pl": {
        SmallTalk.GREETING: "Dzień dobry! W czym mogę dziś pomóc?",
        SmallTalk.THANKS: "Proszę bardzo! Czy mogę pomóc w czymś jeszcze?",
        SmallTalk.ACKNOWLEDGEMENT: "Dobrze. Jeśli masz pytanie, po prostu napisz.",
        SmallTalk.FAREWELL: "Do widzenia i dziękujemy za kontakt!",
    },
    "tr": {
        SmallTalk.GREETING: "Merhaba! Bugün size nasıl yardımcı olabilirim?",
        SmallTalk.THANKS: "Rica ederim! Yardımcı olabileceğim başka bir konu var mı?",
        SmallTalk.ACKNOWLEDGEMENT: "Tamam. Bir sorunuz olursa sormanız yeterli.",
        SmallTalk.FAREWELL: "Hoşça kalın, bize yazdığınız için teşekkürler!",
    },
    "ru": {
        SmallTalk.GREETING: "Здравствуйте! Чем я могу помочь сегодня?",
        SmallTalk.THANKS: "Пожалуйста! Могу ли я помочь чем-нибудь ещё?",
        SmallTalk.ACKNOWLEDGEMENT: "Хорошо. Если у вас есть вопрос, просто задайте его.",
        SmallTalk.FAREWELL: "До свидания, и спасибо, что написали нам!",
    },
    "zh": {
        SmallTalk.GREETING: "您好！今天有什么可以帮您？",
        SmallTalk.THANKS: "不客气！还有其他可以帮您的吗？",
        SmallTalk.ACKNOWLEDGEMENT: "好的。如果有问题，请随时提出。",
        SmallTalk.FAREWELL: "再见，感谢您的联系！",
    },
    TRADITIONAL_CHINESE: {
        SmallTalk.GREETING: "您好！今天有什麼可以幫您？",
        SmallTalk.THANKS: "不客氣！還有其他可以幫您的嗎？",
        SmallTalk.ACKNOWLEDGEMENT: "好的。如果有問題，請隨時提出。",
        SmallTalk.FAREWELL: "再見，感謝您的聯繫！",
    },
    "ja": {
        SmallTalk.GREETING: "こんにちは！今日はどのようなご用件でしょうか？",
        SmallTalk.THANKS: "どういたしまして！ほかにお手伝いできることはありますか？",
        SmallTalk.ACKNOWLEDGEMENT: "承知しました。ご質問があれば、お気軽にどうぞ。",
        SmallTalk.FAREWELL: "ご連絡ありがとうございました。失礼いたします。",
    },
    "ko": {
        SmallTalk.GREETING: "안녕하세요! 오늘 무엇을 도와드릴까요?",
        SmallTalk.THANKS: "천만에요! 더 도와드릴 일이 있을까요?",
        SmallTalk.ACKNOWLEDGEMENT: "알겠습니다. 궁금한 점이 있으면 언제든지 물어보세요.",
        SmallTalk.FAREWELL: "안녕히 계세요. 연락해 주셔서 감사합니다!",
    },
    "ar": {
        SmallTalk.GREETING: "مرحبًا! كيف يمكنني مساعدتك اليوم؟",
        SmallTalk.THANKS: "على الرحب والسعة! هل هناك شيء آخر يمكنني مساعدتك فيه؟",
        SmallTalk.ACKNOWLEDGEMENT: "حسنًا. إذا كان لديك سؤال، فاسألني.",
        SmallTalk.FAREWELL: "مع السلامة، وشكرًا لتواصلك معنا!",
    },
}
_ALL_REPLIES = frozenset(text for replies in _REPLIES.values() for text in replies.values())
_GREETING_REPLIES = frozenset(replies[SmallTalk.GREETING] for replies in _REPLIES.values())

# Words of Latin, Cyrillic and Arabic script, and single characters of
# Chinese, Japanese and Korean, so a phrase of those matches however the
# customer spaces it.
_WORD = re.compile(
    r"[a-z0-9]+|[\u0400-\u04ff]+|[\u0621-\u064a]+|"
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]"
)
_UNSPACED_CHARACTER = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# Latin letters that keep their own shape after accents are dropped.
_LATIN_LETTERS = str.maketrans({"ß": "ss", "ı": "i", "ł": "l"})
# A letter typed three times or more, as in "hellooo", "hiii" or "спасибооо".
_STRETCHED = re.compile(r"([^\W\d_])\1{2,}")


@dataclass(frozen=True, slots=True)
class SmallTalkMatch:
    """The kind of a small-talk message and the languages its phrases belong to."""

    kind: SmallTalk
    languages: frozenset[str]


def _fold(text: str) -> list[str]:
    """Return the words of ``text``: lower case, accents removed, punctuation and emoji dropped.

    Latin letters lose their accents and other scripts keep their marks, as
    ``person_request.fold`` does. Chinese, Japanese and Korean come out one
    character per word. A letter typed three times or more counts once, so
    "hellooo" reads as "hello".
    """
    plain = _STRETCHED.sub(r"\1", fold(text).translate(_LATIN_LETTERS))
    return _WORD.findall(plain)


def _too_long(words: list[str]) -> bool:
    characters = sum(1 for word in words if _UNSPACED_CHARACTER.fullmatch(word))
    return len(words) - characters > MAX_WORDS or characters > MAX_CHARACTERS


_Entry = TypeVar("_Entry")

_LEXICON = _build_lexicon()
_LONGEST = max(len(key) for key in _LEXICON)
_DECLINE_LEXICON = _build_declines()
_LONGEST_DECLINE = max(len(key) for key in _DECLINE_LEXICON)


def _match_emoji(message: str) -> SmallTalkMatch | None:
    """Return the kind of a message made only of emoji, spaces and punctuation.

    Reaction emoji get the kind listed in ``_EMOJI``. Any other emoji, or a
    negative one beside a positive one ("🤔", "😂", "👍👎"), carries nothing the
    reply could act on, so it is a greeting and the reply asks how to help.
    Negative emoji alone are no small talk, because they show frustration.
    """
    emoji = emoji_only(message)
    if emoji is None or emoji <= NEGATIVE_EMOJI:
        return None
    if not emoji <= _EMOJI.keys():
        return SmallTalkMatch(SmallTalk.GREETING, frozenset(SUPPORTED_LANGUAGES))
    kinds = {_EMOJI[ch] for ch in emoji}
    kind = next(kind for kind in _PRECEDENCE if kind in kinds)
    return SmallTalkMatch(kind, frozenset(SUPPORTED_LANGUAGES))


def _longest_match(
    lexicon: dict[tuple[str, ...], _Entry], longest: int, words: list[str], position: int
) -> tuple[_Entry | None, int]:
    """Return the entry of the longest phrase of ``lexicon`` at ``position`` and its length."""
    for size in range(min(longest, len(words) - position), 0, -1):
        entry = lexicon.get(tuple(words[position : position + size]))
        if entry is not None:
            return entry, size
    return None, 0


def match_small_talk(message: str) -> SmallTalkMatch | None:
    """Return the kind of ``message`` when it is nothing but small talk, else ``None``.

    The message's words are read left to right, each step taking the
    longest listed phrase that starts there, one filler word or one
    declining word ("no"). A word that is none of these makes the message a
    question. At least one phrase is needed, so "there" alone is no small
    talk, and a declining word needs thanks or a farewell beside it, so
    "no ok" is none either.
    """
    words = _fold(message)
    if not words:
        return _match_emoji(message)
    if _too_long(words):
        return None
    kinds: set[SmallTalk] = set()
    language_sets: list[frozenset[str]] = []
    declined = False
    position = 0
    while position < len(words):
        entry, size = _longest_match(_LEXICON, _LONGEST, words, position)
        if entry is not None:
            kinds.add(entry[0])
            language_sets.append(entry[1])
            position += size
            continue
        decline, size = _longest_match(_DECLINE_LEXICON, _LONGEST_DECLINE, words, position)
        if decline is not None:
            declined = True
            language_sets.append(decline)
            position += size
        elif words[position] in _FILLERS:
            position += 1
        else:
            return None
    if not kinds:
        return None
    if declined:
        if not kinds & {SmallTalk.THANKS, SmallTalk.FAREWELL}:
            return None
        kinds.add(SmallTalk.FAREWELL)
    kind = next(kind for kind in _PRECEDENCE if kind in kinds)
    shared = frozenset.intersection(*language_sets)
    return SmallTalkMatch(kind, shared or frozenset.union(*language_sets))


def is_nudge(message: str) -> bool:
    """Tell whether ``message`` is nothing but question or exclamation marks ("?", "!!!").

    After an earlier question such a nudge repeats that question, so it is
    no small talk. The engine gives the greeting reply only when no earlier
    question exists.
    """
    stripped = "".join(message.split())
    return bool(stripped) and set(stripped) <= {"?", "¿", "!", "¡"}


def is_greeting_nudge(message: str) -> bool:
    """Tell whether ``message`` is a greeting asked as a question ("hello?", "anyone there?").

    After a question that got no answer, such a greeting asks for that
    answer instead of opening the conversation.
    """
    match = match_small_talk(message)
    return match is not None and match.kind is SmallTalk.GREETING and "?" in message


def emoji_only(message: str) -> frozenset[str] | None:
    """Return the emoji of a message made only of emoji, spaces and punctuation, else ``None``.

    Skin-tone modifiers, variation selectors and joiners are left out of the
    returned set.
    """
    found = set()
    for ch in message:
        if unicodedata.category(ch) == "So":
            found.add(ch)
        elif not (ch in _EMOJI_MODIFIERS or ch.isspace() or unicodedata.category(ch)[0] == "P"):
            return None
    return frozenset(found) or None


def reply_language(
    match: SmallTalkMatch, earlier: Iterable[str] = (), message: str = "", locale: object = None
) -> str:
    """Pick the language of the reply among the phrases' languages.

    ``earlier`` contains the customer's previous messages, newest first. The
    first of them whose function words favour one of the phrases' languages
    decides ("ok" after a German question gets German). Otherwise the
    customer's ``locale`` decides when it is one of them ("了解" is Chinese
    and Japanese), then English when the phrases are English, else the first
    phrase language in the order of ``SUPPORTED_LANGUAGES``. Chinese is
    written in the form of ``message`` or, when it has no form of its own
    ("你好"), of ``earlier``, else of ``locale``.
    """
    earlier = list(earlier)
    language = _phrase_language(match, earlier, locale)
    if language != "zh":
        return language
    form = chinese_form([message, *earlier])
    if form == "zh" and locale_language(locale) == TRADITIONAL_CHINESE:
        return TRADITIONAL_CHINESE
    return form


def _phrase_language(match: SmallTalkMatch, earlier: list[str], locale: object) -> str:
    for text in earlier:
        scores = language_scores(text)
        best = max(match.languages, key=lambda language: scores[language])
        ranked = sorted(scores.values(), reverse=True)
        if scores[best] > 0 and scores[best] == ranked[0] and scores[best] > ranked[1]:
            return best
    hinted = locale_language(locale)
    if hinted == TRADITIONAL_CHINESE:
        hinted = "zh"
    if hinted in match.languages:
        return hinted
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


def is_greeting_reply(content: str) -> bool:
    """Tell whether ``content`` is the engine's reply to a greeting, in any language."""
    return content.strip() in _GREETING_REPLIES
