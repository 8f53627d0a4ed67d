"""Detect a complaint about the assistant or its last reply, in every supported language.

A complaint is feedback on the help itself: "you are not helping", "this
isn't helping", "useless", "not what I asked", "that didn't work", "I
already tried that". A problem report about the product is a question, even
when it says "not working": "my webhook is not working" names the product
as its subject and asks for help.

Two kinds of phrase count:

* Addressed complaints name the assistant or its answer ("you are not
  helping", "your answer is useless", "not what I asked"). They count in a
  message of any length.
* Feedback phrases ("that didn't work", "I already tried that", "useless",
  "still not working") count only in a message of at most
  ``FEEDBACK_MAX_WORDS`` words. In a longer message they are part of a
  problem description ("I tried clearing the cache but that didn't work,
  how do I fix the 500 error?"), which the knowledge base may answer.

A bare "not working" or "it doesn't work" is never a complaint, because
its subject is the product. Russian, Polish, Turkish, Chinese, Japanese,
Korean and Arabic forms are in ``complaint_languages.py``.
"""

from __future__ import annotations

import re

from . import complaint_languages as more
from .person_request import fold

# Maximum length, in words, of a message in which a feedback phrase alone is a complaint.
FEEDBACK_MAX_WORDS = 12


def _patterns(*expressions: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{e})" for e in expressions))


# Words for the assistant and what it sent.
_ASSISTANT = (
    r"(?:you|u|this (?:bot|chat ?bot|assistant|ai|chat|thing)|the (?:bot|chat ?bot|assistant|ai)|"
    r"your (?:bot|ai|assistant|answers?|replies|reply|responses?|suggestions?|articles?))"
)
_UNHELPFUL = (
    r"(?:useless|worthless|pointless|hopeless|no help|not helpful|unhelpful|not useful|stupid|"
    r"dumb|wrong)"
)

_ADDRESSED = _patterns(
    # English: "you are not helping", "you're not listening", "you don't understand".
    r"\b(?:you|u)(?:'re|re| are| r)?\s+(?:still\s+|really\s+|just\s+)?(?:not|n't)\s+"
    r"(?:helping|helpful|listening|understanding|answering)\b",
    r"\b(?:you|u)\s+(?:don'?t|do not|didn'?t|did not|never|aren'?t|are not)\s+"
    r"(?:help(?:ing)?|understand(?:ing)?|listen(?:ing)?|answer(?:ing)?)"
    r"(?:\s+(?:me|my question|anything|at all))?\s*(?:$|[,.;:!?])",
    rf"\b{_ASSISTANT}\s+(?:is|are|'re|'s|re)\s+(?:so\s+|completely\s+|totally\s+|really\s+|"
    rf"absolutely\s+)?{_UNHELPFUL}\b",
    r"\b(?:this|that|it)\s*(?:'s|is|was)?\s*not what i (?:asked|meant|was asking|wanted)\b",
    r"\bnot what i (?:asked|meant|was asking)(?: for)?\b",
    r"\bthat'?s not (?:it|right|what i asked)\s*(?:$|[,.;:!?])",
    r"\b(?:this|that)\s+(?:isn'?t|is not|wasn'?t|was not|doesn'?t|does not|didn'?t|did not)\s+"
    r"(?:help(?:ing|ful)?|answer(?:ing)?)(?:\s+(?:me|my question|at all))?\s*(?:$|[,.;:!?])",
    # Spanish: "no me estás ayudando", "no es lo que pregunté", "no sirves para nada".
    r"\bno me (?:esta|estas|estan)\s+ayudando\b|\bno es lo que (?:pregunte|pedi)\b|"
    r"\bno (?:sirves|sirve) para nada\b|\bno me (?:has|ha) ayudado\b",
    # French: "vous ne m'aidez pas", "ce n'est pas ce que j'ai demandé".
    r"\b(?:vous ne m'aidez|tu ne m'aides) pas\b|\bce n'est pas ce que j'ai demande\b|"
    r"\bca ne m'aide pas\b|\bvous (?:etes|n'etes) (?:nul|inutile|d'aucune aide)\b",
    # German: "Sie helfen mir nicht", "das ist nicht, was ich gefragt habe".
    r"\b(?:sie helfen|du hilfst) mir nicht\b|\bdas hilft (?:mir )?(?:nicht|nichts|gar nicht)\b|"
    r"\bnicht,? was ich gefragt habe\b",
    # Portuguese: "você não está ajudando", "não é isso que eu perguntei".
    r"\b(?:voce|vc) nao (?:esta|ta) (?:ajudando|me ajudando)\b|"
    r"\bnao (?:e|foi) (?:isso|isto) (?:que|o que) eu perguntei\b|\bisso nao ajuda\b",
    # Italian: "non mi stai aiutando", "non è quello che ho chiesto".
    r"\bnon mi (?:sta|stai|state) aiutando\b|\bnon e quello che ho chiesto\b|"
    r"\bnon mi (?:e|sei) (?:stato|stata) d'aiuto\b",
    # Dutch: "je helpt me niet", "dat is niet wat ik vroeg".
    r"\b(?:je|u) helpt (?:me|mij) niet\b|\bdat is niet wat ik (?:vroeg|bedoel)\b|"
    r"\bdit helpt (?:niet|niks)\b",
    # Sarcastic thanks: "thanks for nothing", "danke für nichts", "merci pour rien".
    r"\b(?:thanks?|thank (?:you|u)|thx)(?: a lot| very much)? for nothing\b|"
    r"\bdanke (?:fur|fuer) nichts\b|\bmerci pour rien\b|\bgracias por nada\b|"
    r"\bobrigad[oa] por nada\b|\bgrazie per (?:niente|nulla)\b|"
    r"\b(?:bedankt|dank je|dank u) voor (?:niets|niks)\b",
    *more.ADDRESSED,
)

_FEEDBACK = _patterns(
    # English: "that didn't work", "none of that helped", "the steps don't work".
    r"\b(?:that|this|none of (?:that|this|these|those|it)|your (?:answer|suggestion|fix|"
    r"solution|steps?|article|link)|the (?:answer|suggestion|fix|solution|steps?|article|link))\s+"
    r"(?:still\s+)?(?:didn'?t|did not|doesn'?t|does not|don'?t|do not|won'?t|isn'?t|is not|"
    r"wasn'?t|was not|aren'?t|are not)\s+(?:work(?:ing)?|help(?:ing|ful)?|useful)\b",
    r"\b(?:none of (?:that|this|these|those|it)) (?:worked|helped)\b",
    r"\b(?:i(?:'ve| have)?\s+)?already (?:tried|did|done) (?:that|this|it|those|these|them|all)\b",
    r"\b(?:tried|did|done) (?:that|this|it|those|these) already\b",
    r"\bstill (?:not working|doesn'?t work|broken|not fixed|the same)\b",
    rf"^\W*(?:(?:no|nope|sorry|ugh|well|but|ok|okay|hmm|sigh)\W+)*(?:that'?s\s+|this is\s+|"
    rf"it'?s\s+|so\s+|totally\s+|completely\s+)*(?:{_UNHELPFUL}|not helping|doesn'?t help|"
    rf"didn'?t help|no use)\b",
    # Spanish, French, German, Portuguese, Italian and Dutch.
    r"\b(?:eso no (?:funciono|sirvio|ayudo|ayuda)|ya (?:lo )?(?:probe|intente|hice)|inutil)\b",
    r"\b(?:ca n'a pas (?:marche|fonctionne)|j'ai deja (?:essaye|fait) (?:ca|cela)|inutile)\b",
    r"\b(?:das hat nicht funktioniert|das habe ich (?:schon|bereits) (?:versucht|probiert|"
    r"gemacht)|nutzlos)\b",
    r"\b(?:isso nao funcionou|ja (?:tentei|fiz) (?:isso|isto)|inutil)\b",
    r"\b(?:non ha funzionato|ho gia provato|inutile)\b",
    r"\b(?:dat werkte niet|dat heb ik al (?:geprobeerd|gedaan)|nutteloos)\b",
    *more.FEEDBACK,
)
_WORD = re.compile(r"\w+")
# Chinese and Japanese characters, which stand without spaces: two of them
# count as one word, a rough estimate of a word's length in those languages.
_UNSPACED_CHARACTER = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")
# A clause that opens as a question is a question about the product, even
# when it contains a feedback phrase: "is the price still the same?", "can I undo it
# if I already did it?", "est-il inutile de redemarrer ?".
_QUESTION_OPENING = re.compile(
    r"^\W*(?:is|are|was|were|does|do|did|can|could|will|would|should|how|what|why|where|when|"
    r"which|who|est-ce|est-il|est-elle|comment|pourquoi|puis-je|como|por que|puedo|posso|"
    rf"come|perche|wie|warum|kann|ist|hoe|waarom|kan|is het|{more.QUESTION_OPENINGS})\b"
)
_QUESTION_MARKER = re.compile(more.QUESTION_MARKERS)
_CLAUSE_END = re.compile(r"[.?!;。]+|\n+")


def complains_about_help(message: str) -> bool:
    """Tell whether ``message`` complains that the assistant or its reply did not help."""
    folded = fold(message)
    if _ADDRESSED.search(folded):
        return True
    if _word_count(folded) > FEEDBACK_MAX_WORDS:
        return False
    clauses = _CLAUSE_END.split(folded)
    return any(
        _FEEDBACK.search(clause)
        and not _QUESTION_OPENING.search(clause)
        and not _QUESTION_MARKER.search(clause.strip())
        for clause in clauses
    )


def _word_count(folded: str) -> int:
    unspaced = len(_UNSPACED_CHARACTER.findall(folded))
    spaced = _UNSPACED_CHARACTER.sub(" ", folded)
    return len(_WORD.findall(spaced)) + (unspaced + 1) // 2
