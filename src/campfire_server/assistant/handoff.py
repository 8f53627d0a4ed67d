"""When the AI hands a conversation to a person, and what it tells the customer then.

A pure policy: no I/O, no clock. The engine asks it before retrieval (did the
customer ask for a person, are they upset, has the AI failed them before)
and after scoring (is the confidence under the mailbox threshold).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

DEFAULT_THRESHOLD = 0.6
# Earlier AI replies in a row that did not help before the AI stops trying.
REPEATED_FAILURE_LIMIT = 2


class HandoffReason(StrEnum):
    LOW_CONFIDENCE = "low_confidence"
    REQUESTED_HUMAN = "requested_human"
    NEGATIVE_SENTIMENT = "negative_sentiment"
    REPEATED_FAILURE = "repeated_failure"
    OUT_OF_SCOPE = "out_of_scope"
    PROVIDER_FAILURE = "provider_failure"


def _fold(text: str) -> str:
    """Lower-case ``text`` and drop accents, so "habláR" matches "hablar"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _patterns(*expressions: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{e})" for e in expressions))


_PERSON = (
    r"(?:human|human being|person|people|someone|somebody|agent|rep|representative|staff|"
    r"support (?:team|staff|person|agent)|customer (?:service|support)|"
    r"(?:your|a) (?:manager|supervisor)|employee|team member|live chat)"
)
_ARTICLE = r"(?:(?:an?|the|your|some|one of your)\s+)?(?:(?:actual|real|live)\s+)?"

# Requests for a person in English, Spanish, French, German, Portuguese and Italian.
_REQUESTED_HUMAN = _patterns(
    rf"\b(?:talk|speak|chat)\w*\s+(?:to|with)\s+{_ARTICLE}{_PERSON}\b",
    rf"\b(?:get|connect|transfer|put|pass|escalate|send)\w*\s+(?:me|this|us|my \w+)\s+"
    rf"(?:through\s+)?(?:to|with)\s+{_ARTICLE}{_PERSON}\b",
    rf"\b(?:want|need|like|request|prefer|demand|get)\w*\s+(?:me\s+)?"
    rf"(?:to\s+(?:talk|speak|chat)\s+(?:to|with)\s+)?{_ARTICLE}(?:human|person|"
    rf"representative|real agent|live agent|human agent|support agent)\b",
    rf"^\W*{_ARTICLE}(?:human|person|agent|representative|operator)\W*"
    rf"(?:please|pls|now|asap)?\W*$",
    r"\b(?:agent|human|representative|operator)\s*,?\s*(?:please|pls|now|asap)\b",
    r"\bescalate\b(?!\w)",
    r"\b(?:not|never|stop)\b[^.?!]{0,25}\b(?:bot|robot|machine|automated)\b",
    r"\b(?:bot|robot|ai|assistant)\b[^.?!]{0,30}\b(?:not|isn'?t|useless|doesn'?t)\b"
    r"[^.?!]{0,15}\b(?:help|work|understand)",
    r"\bis (?:there|this) a (?:real )?(?:human|person)\b",
    r"\bare you (?:a )?(?:real person|human|bot|robot)\b",
    # Spanish
    r"\b(?:hablar|comunicar\w*|contactar|pasar\w*|transferir\w*|quiero|necesito|deseo)\b"
    r"[^.?!]{0,30}\b(?:humano|persona|agente|asesor|operador|representante|alguien)\b",
    r"\b(?:una persona|un humano|un agente|un asesor) (?:real|por favor)\b",
    # French
    r"\b(?:parler|joindre|contacter|passer|veux|voudrais|besoin)\b[^.?!]{0,30}"
    r"\b(?:humain|personne|agent|conseiller|operateur)\b",
    # German
    r"\b(?:sprechen|reden|verbinden|mochte|will|brauche)\b[^.?!]{0,30}"
    r"\b(?:mensch\w*|mitarbeiter\w*|person|berater\w*)\b",
    r"\b(?:mensch\w*|mitarbeiter\w*)\b[^.?!]{0,30}\b(?:sprechen|reden|verbinden)\b",
    # Portuguese and Italian
    r"\b(?:falar|quero|preciso|parlare|voglio|vorrei)\b[^.?!]{0,30}"
    r"\b(?:humano|pessoa|atendente|agente|umano|persona|operatore)\b",
)

# A question about the product's own people or roles is not a request for one.
_ABOUT_NOT_REQUEST = _patterns(
    r"\b(?:add|invite|remove|delete|create|assign|manage|edit)\w*\b[^.?!]{0,20}"
    r"\b(?:agent|team member|staff|employee|user|rep)s?\b",
    r"\bagent (?:role|permission|seat|license|status|capacity|skill)s?\b",
)

_NEGATIVE = _patterns(
    r"\b(?:ridiculous|unacceptable|outrageous|disgusting|pathetic|terrible service|"
    r"worst (?:service|support|company|experience)|furious|livid|fed up|sick of|"
    r"waste of (?:my )?(?:time|money)|rip ?off|sue you|"
    r"never (?:again|buying)|extremely (?:frustrated|disappointed|angry)|"
    r"so (?:frustrated|angry|annoyed|disappointed)|this is (?:a )?joke)\b",
    r"\b(?:wtf|damn|crap|shit\w*|fuck\w*|bullshit)\b",
    r"\b(?:file|filing|make|lodge)\w* (?:a )?(?:formal )?complaint\b",
    r"\b(?:estoy (?:harto|harta|furioso|furiosa|molesto|molesta)|inaceptable|"
    r"una verguenza|pesimo servicio|queja formal)\b",
    r"(?:!!!|\?\?\?!)",
)

# Phrases in an earlier AI reply that mean it could not help.
_UNHELPFUL_REPLY = _patterns(
    r"\bi (?:don'?t|do not) know\b",
    r"\bi (?:couldn'?t|could not|can'?t|cannot) find\b",
    r"\bpassing (?:this|your)",
)

_CUSTOMER_DISSATISFIED = _patterns(
    r"\b(?:that|this|it) (?:didn'?t|did not|doesn'?t|does not|still (?:doesn'?t|does not)) "
    r"(?:help|work|answer)",
    r"\b(?:still|again) (?:not working|broken|doesn'?t work|the same (?:problem|issue))",
    r"\b(?:not|wasn'?t|isn'?t) (?:what i (?:asked|meant|need\w*)|helpful|my question)\b",
    r"\bthat'?s not (?:it|right|what i asked)\b",
)


def requested_human(message: str) -> bool:
    """Tell whether ``message`` asks to talk to a person, in any of several languages."""
    folded = _fold(message)
    if _ABOUT_NOT_REQUEST.search(folded) and not re.search(r"\b(?:talk|speak)\b", folded):
        return False
    return bool(_REQUESTED_HUMAN.search(folded))


def negative_sentiment(message: str) -> bool:
    """Tell whether ``message`` shows strong frustration, anger or a complaint."""
    return bool(_NEGATIVE.search(_fold(message)))


def repeated_failure(history: Sequence[tuple[str, str]], message: str) -> bool:
    """Tell whether the last ``REPEATED_FAILURE_LIMIT`` AI replies in a row failed the customer.

    A failure is an AI reply that said it could not help, or an AI reply
    that the customer's next message (or ``message`` itself) rejected.
    Only turns since the last agent or system message count, so a
    conversation handed back by a person starts afresh.
    """
    turns = list(history) + [("customer", message)]
    start = 0
    for position, (author, _content) in enumerate(turns):
        if author in ("agent", "system"):
            start = position + 1
    failures = 0
    recent = turns[start:]
    for position, (author, content) in enumerate(recent):
        if author != "ai":
            continue
        following = next(
            (text for who, text in recent[position + 1 :] if who in ("customer", "user")), None
        )
        if _UNHELPFUL_REPLY.search(_fold(content)) or (
            following is not None and _CUSTOMER_DISSATISFIED.search(_fold(following))
        ):
            failures += 1
        else:
            failures = 0
    return failures >= REPEATED_FAILURE_LIMIT


@dataclass(frozen=True, slots=True)
class HandoffDecision:
    should_handoff: bool
    reason: HandoffReason | None = None


def before_answer(history: Sequence[tuple[str, str]], message: str) -> HandoffDecision:
    """Decide from the conversation alone whether to skip answering and hand off."""
    if requested_human(message):
        return HandoffDecision(True, HandoffReason.REQUESTED_HUMAN)
    if negative_sentiment(message):
        return HandoffDecision(True, HandoffReason.NEGATIVE_SENTIMENT)
    if repeated_failure(history, message):
        return HandoffDecision(True, HandoffReason.REPEATED_FAILURE)
    return HandoffDecision(False)


def after_scoring(confidence: float, threshold: float, *, in_scope: bool) -> HandoffDecision:
    """Decide from the answer's confidence whether a person should take over."""
    if not in_scope:
        return HandoffDecision(True, HandoffReason.OUT_OF_SCOPE)
    if confidence < threshold:
        return HandoffDecision(True, HandoffReason.LOW_CONFIDENCE)
    return HandoffDecision(False)


_ACKNOWLEDGEMENTS = {
    HandoffReason.REQUESTED_HUMAN: (
        "Of course. I'm passing this conversation to a member of our support team, "
        "and they will reply here as soon as they can."
    ),
    HandoffReason.NEGATIVE_SENTIMENT: (
        "I'm sorry this has been frustrating. I'm passing this conversation to a member "
        "of our support team, and they will reply here as soon as they can."
    ),
    HandoffReason.REPEATED_FAILURE: (
        "I'm sorry I haven't been able to help. I'm passing this conversation to a member "
        "of our support team, and they will reply here as soon as they can."
    ),
    HandoffReason.LOW_CONFIDENCE: (
        "I don't know the answer to that for certain, and I'd rather not guess. I'm passing "
        "your question to a member of our support team, and they will reply here."
    ),
    HandoffReason.OUT_OF_SCOPE: (
        "I don't know: our help articles don't cover that. I'm passing your question to a "
        "member of our support team, and they will reply here."
    ),
    HandoffReason.PROVIDER_FAILURE: (
        "I can't answer right now. I'm passing your question to a member of our support "
        "team, and they will reply here."
    ),
}

_SPANISH_ACKNOWLEDGEMENT = (
    "Por supuesto. Paso esta conversación a una persona de nuestro equipo de soporte, "
    "que le responderá aquí lo antes posible."
)
_SPANISH_HINT = re.compile(
    r"\b(?:hablar|persona|humano|agente|quiero|necesito|por favor|ayuda|gracias|usted)\b"
)


def acknowledgement(reason: HandoffReason, message: str = "") -> str:
    """Return the customer-facing text that tells them a person will take over."""
    if reason is HandoffReason.REQUESTED_HUMAN and _SPANISH_HINT.search(_fold(message)):
        return _SPANISH_ACKNOWLEDGEMENT
    return _ACKNOWLEDGEMENTS[reason]


_PROMISES_PERSON = re.compile(
    r"\b(?:(?:connect|connecting|transfer|transferring) you (?:to|with)\b|"
    r"passing (?:this|your) (?:conversation|question|request)|"
    r"hand(?:ing)? (?:you|this) (?:over|off)|"
    r"a (?:member of|person from) (?:our|the) (?:support )?team will|"
    r"an agent will|someone will (?:reply|contact|be with))",
    re.IGNORECASE,
)


def promises_person(content: str) -> bool:
    """Tell whether a reply tells the customer a person is taking over."""
    return bool(_PROMISES_PERSON.search(content))
