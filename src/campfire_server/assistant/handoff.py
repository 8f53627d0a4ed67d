"""When the AI hands a conversation to a person, and what it tells the customer then.

A pure policy: no I/O, no clock. The engine asks it before retrieval (did the
customer ask for a person, raise a billing dispute or a security incident,
are they upset, has the AI failed them before) and after scoring (is the
confidence under the mailbox threshold). The texts the customer then reads
are in ``acknowledgements.py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from . import complaint_languages
from .complaints import complains_about_help
from .person_request import fold, requested_human
from .sensitive import SensitiveTopic, sensitive_topic
from .small_talk import (
    NEGATIVE_EMOJI,
    SmallTalk,
    emoji_only,
    is_greeting_nudge,
    is_greeting_reply,
    is_nudge,
    is_small_talk,
    is_small_talk_reply,
    match_small_talk,
)

DEFAULT_THRESHOLD = 0.6
_CUSTOMERS = frozenset({"customer", "user"})
# Earlier AI replies in a row that did not help before the AI stops trying.
REPEATED_FAILURE_LIMIT = 2


class HandoffReason(StrEnum):
    LOW_CONFIDENCE = "low_confidence"
    REQUESTED_HUMAN = "requested_human"
    NEGATIVE_SENTIMENT = "negative_sentiment"
    REPEATED_FAILURE = "repeated_failure"
    OUT_OF_SCOPE = "out_of_scope"
    PROVIDER_FAILURE = "provider_failure"


def _patterns(*expressions: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{e})" for e in expressions))


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
    *complaint_languages.FRUSTRATION,
)
# Emphatic punctuation counts as frustration only after a clause that contains more
# than small talk: "this is useless!!!" is, "thanks!!!", "great!!! how do I export?"
# and a bare "!!!" are not.
_EMPHATIC = re.compile(r"!!!|\?\?\?!")
# A clause and the run of punctuation that ends it.
_CLAUSE = re.compile(r"([^.!?;\n]*)([.!?;\n]*)")

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


def negative_sentiment(message: str) -> bool:
    """Tell whether ``message`` shows strong frustration, anger or a complaint.

    A complaint about the help itself ("you are not helping", "that didn't
    work") counts. A problem report about the product ("my webhook is not
    working") does not, as ``complaints.py`` describes. Emphatic punctuation
    ("!!!") counts unless the clause it ends is empty or nothing but small
    talk. A message of nothing but negative emoji ("👎", "😢") counts, and so
    does small talk beside one ("thanks 😡", "ok 👎"), because the emoji
    undoes the words.
    """
    folded = fold(message)
    if _NEGATIVE.search(folded) or complains_about_help(message):
        return True
    emoji = emoji_only(message)
    if emoji is not None and emoji <= NEGATIVE_EMOJI:
        return True
    has_words = any(ch.isalnum() for ch in message)
    if has_words and NEGATIVE_EMOJI & set(message) and is_small_talk(message):
        return True
    return any(
        _EMPHATIC.search(ending) and clause.strip() and not is_small_talk(clause)
        for clause, ending in _CLAUSE.findall(message)
    )


def _since_person(turns: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Return the turns after the last agent message, system message or AI handoff.

    An agent's reply answers the earlier question, a system message marks a
    handoff or a handback, and an AI reply that passes the conversation to
    a person closes it, so no turn before any of them counts.
    """
    start = 0
    for position, (author, content) in enumerate(turns):
        if author in ("agent", "system") or (author == "ai" and promises_person(content)):
            start = position + 1
    return list(turns[start:])


def _is_question(author: str, content: str) -> bool:
    return author in _CUSTOMERS and not is_small_talk(content) and not is_nudge(content)


def reply_failed(content: str) -> bool:
    """Tell whether an AI reply states that it could not help."""
    return bool(_UNHELPFUL_REPLY.search(fold(content)))


def pending_question(history: Sequence[tuple[str, str]]) -> int | None:
    """Return the position in ``history`` of the customer's unanswered question, if any.

    It is the last customer turn that is more than small talk, when no AI
    reply after it answered: every AI turn since is a reply to small talk or
    a reply that could not help. An agent or system message or an AI
    handoff answers or closes it, so only turns after the last of those
    count.
    """
    offset = len(history) - len(_since_person(history))
    recent = history[offset:]
    for position in range(len(recent) - 1, -1, -1):
        author, content = recent[position]
        if author == "ai" and not is_small_talk_reply(content) and not reply_failed(content):
            return None
        if _is_question(author, content):
            return offset + position
    return None


def nudged_question(history: Sequence[tuple[str, str]], message: str) -> int | None:
    """Return the position in ``history`` of the question that ``message`` nudges, if any.

    A bare "?" or "!!!" nudges the customer's last question, answered or
    not, unless an agent's reply, a handoff or a handback came after it. A
    greeting asked as a question ("hello?", "anyone there?") nudges only a
    question that got no answer, because after an answer it opens a new
    exchange.
    """
    if is_nudge(message):
        offset = len(history) - len(_since_person(history))
        return next(
            (
                position
                for position in range(len(history) - 1, offset - 1, -1)
                if _is_question(*history[position])
            ),
            None,
        )
    if is_greeting_nudge(message):
        return pending_question(history)
    return None


def repeated_greetings(history: Sequence[tuple[str, str]], message: str) -> bool:
    """Tell whether ``message`` greets again after ``REPEATED_FAILURE_LIMIT`` greeting replies.

    A customer who greets or nudges again and again without a question
    ("hi", "hello?", "??") is not helped by another greeting, so the
    greeting replies in a row count as failures. Any other turn since the
    last agent or system message ends the row.
    """
    if not _greets(message):
        return False
    greeted = 0
    for author, content in reversed(_since_person(history)):
        if author == "ai" and is_greeting_reply(content):
            greeted += 1
        elif not (author in _CUSTOMERS and _greets(content)):
            break
    return greeted >= REPEATED_FAILURE_LIMIT


def _greets(message: str) -> bool:
    match = match_small_talk(message)
    greeting = match is not None and match.kind is SmallTalk.GREETING
    return greeting or is_nudge(message)


def repeated_failure(history: Sequence[tuple[str, str]], message: str) -> bool:
    """Tell whether the last ``REPEATED_FAILURE_LIMIT`` AI replies in a row failed the customer.

    A failure is an AI reply that said it could not help, or an AI reply
    that the customer's next message (or ``message`` itself) rejected.
    Only turns since the last agent or system message count, so a
    conversation handed back by a person starts afresh. A reply to small
    talk ("hi", "thanks") neither fails nor helps, so it leaves the count
    as it was, and a small-talk message never rejects a reply. A nudge
    ("hello?", "?") that asks again a question whose last reply failed
    counts as one more failure, because the same knowledge would fail the
    same way.
    """
    recent = _since_person(list(history) + [("customer", message)])
    failures = 0
    for position, (author, content) in enumerate(recent):
        if author != "ai" or is_small_talk_reply(content):
            continue
        following = next(
            (
                text
                for who, text in recent[position + 1 :]
                if who in ("customer", "user") and not is_small_talk(text)
            ),
            None,
        )
        if reply_failed(content) or (
            following is not None and _CUSTOMER_DISSATISFIED.search(fold(following))
        ):
            failures += 1
        else:
            failures = 0
    if failures and nudged_question(history, message) is not None:
        failures += 1
    return failures >= REPEATED_FAILURE_LIMIT


@dataclass(frozen=True, slots=True)
class HandoffDecision:
    should_handoff: bool
    reason: HandoffReason | None = None
    # Set when a sensitive topic caused the handoff.
    topic: SensitiveTopic | None = None


def before_answer(history: Sequence[tuple[str, str]], message: str) -> HandoffDecision:
    """Decide from the conversation alone whether to skip answering and hand off.

    A billing dispute or an account-security incident hands off in every
    mailbox with reason ``out_of_scope``, because the public reason codes
    are a fixed list: the topic is outside what the AI may answer, whatever
    the knowledge base contains. ``topic`` tells which one it was.

    When ``message`` nudges an earlier question (see ``nudged_question``),
    that question goes through the same checks with the turns before it,
    and its handoff reason comes first: "?" after an unanswered "I want to
    talk to a person" hands off as ``requested_human``.
    """
    nudged = nudged_question(history, message)
    if nudged is not None:
        decision = _check_message(history[:nudged], history[nudged][1])
        if decision.should_handoff:
            return decision
    return _check_message(history, message)


def _check_message(history: Sequence[tuple[str, str]], message: str) -> HandoffDecision:
    if requested_human(message):
        return HandoffDecision(True, HandoffReason.REQUESTED_HUMAN)
    topic = sensitive_topic(message)
    if topic is not None:
        return HandoffDecision(True, HandoffReason.OUT_OF_SCOPE, topic)
    if negative_sentiment(message):
        return HandoffDecision(True, HandoffReason.NEGATIVE_SENTIMENT)
    if repeated_failure(history, message) or repeated_greetings(history, message):
        return HandoffDecision(True, HandoffReason.REPEATED_FAILURE)
    return HandoffDecision(False)


def after_scoring(confidence: float, threshold: float, *, in_scope: bool) -> HandoffDecision:
    """Decide from the answer's confidence whether a person should take over."""
    if not in_scope:
        return HandoffDecision(True, HandoffReason.OUT_OF_SCOPE)
    if confidence < threshold:
        return HandoffDecision(True, HandoffReason.LOW_CONFIDENCE)
    return HandoffDecision(False)


_PROMISES_PERSON = re.compile(
    r"\b(?:(?:connect|connecting|transfer|transferring) you (?:to|with)\b|"
    r"passing (?:this|your) (?:conversation|question|request)|"
    r"hand(?:ing)? (?:you|this) (?:over|off)|"
    r"a (?:member of|person from) (?:our|the) (?:support )?team will|"
    r"an agent will|someone will (?:reply|contact|be with)|"
    # The same promise in the languages of acknowledgements.py.
    r"(?:gebe|leite) (?:dieses gespräch|ihre frage|sie) an .{0,40}weiter|"
    r"je (?:transmets|transfère) (?:cette conversation|votre question|votre demande)|"
    r"paso (?:esta conversación|su pregunta|su consulta) a|"
    r"vou passar (?:esta conversa|a sua pergunta) para|"
    r"passo (?:questa conversazione|la sua domanda) a|"
    r"ik geef (?:dit gesprek|uw vraag) door aan|"
    r"przekazuję (?:tę rozmowę|twoje pytanie)|"
    r"(?:bu görüşmeyi|sorunuzu) destek ekibimizden bir kişiye aktarıyorum|"
    r"я передаю (?:этот разговор|ваш вопрос)|"
    r"我会把(?:这段对话|您的问题)转给|"
    r"我會把(?:這段對話|您的問題)轉給|"
    r"(?:この会話|ご質問)を.{0,20}引き継ぎます|"
    r"(?:이 대화를|문의하신 내용을) 지원팀 담당자에게 넘겨|"
    r"سأحوّل (?:هذه المحادثة|سؤالك) إلى)",
    re.IGNORECASE,
)


def promises_person(content: str) -> bool:
    """Tell whether a reply tells the customer a person is taking over."""
    return bool(_PROMISES_PERSON.search(content))
