"""Greetings, thanks, acknowledgements and farewells: a short reply, never a handoff."""

import pytest

from campfire_server.assistant import handoff
from campfire_server.assistant.acknowledgements import LANGUAGES
from campfire_server.assistant.engine import SMALL_TALK_MODEL
from campfire_server.assistant.small_talk import (
    SmallTalk,
    is_small_talk_reply,
    match_small_talk,
    reply_language,
    small_talk_reply,
)
from tests.assistant.test_api import (
    check_contract,
    enable_auto_reply,
    generate,
    wait_for_messages,
    wait_for_reply_skipped,
)
from tests.helpers import create_conversation, send_message

SMALL_TALK = [
    ("hello", SmallTalk.GREETING, "en"),
    ("hi there", SmallTalk.GREETING, "en"),
    ("Good morning!", SmallTalk.GREETING, "en"),
    ("thanks!", SmallTalk.THANKS, "en"),
    ("Thank you so much for your help :)", SmallTalk.THANKS, "en"),
    ("ok", SmallTalk.ACKNOWLEDGEMENT, "en"),
    ("ok thanks", SmallTalk.THANKS, "en"),
    ("got it 👍", SmallTalk.ACKNOWLEDGEMENT, "en"),
    ("bye", SmallTalk.FAREWELL, "en"),
    ("Guten Morgen", SmallTalk.GREETING, "de"),
    ("Danke schön!", SmallTalk.THANKS, "de"),
    ("Bonjour", SmallTalk.GREETING, "fr"),
    ("merci beaucoup", SmallTalk.THANKS, "fr"),
    ("¡Hola!", SmallTalk.GREETING, "es"),
    ("muchas gracias", SmallTalk.THANKS, "es"),
    ("Olá, bom dia", SmallTalk.GREETING, "pt"),
    ("obrigada", SmallTalk.THANKS, "pt"),
    ("Buongiorno", SmallTalk.GREETING, "it"),
    ("grazie mille", SmallTalk.THANKS, "it"),
    ("Goedemorgen", SmallTalk.GREETING, "nl"),
    ("dank je wel", SmallTalk.THANKS, "nl"),
]
QUESTIONS = [
    "hi, my invoice is wrong",
    "thanks, but how do I export my bookings?",
    "hello? can anyone there help with billing?",
    "ok so how much is the Team plan",
    "yes",
    "there",
    "help",
]


@pytest.mark.parametrize(("message", "kind", "language"), SMALL_TALK)
def test_small_talk_recognised(message, kind, language):
    match = match_small_talk(message)
    assert match is not None
    assert match.kind == kind
    assert language in match.languages


@pytest.mark.parametrize("message", QUESTIONS)
def test_question_is_not_small_talk(message):
    assert match_small_talk(message) is None


def test_every_language_has_every_reply():
    texts = {small_talk_reply(kind, language) for kind in SmallTalk for language in LANGUAGES}
    assert len(texts) == len(SmallTalk) * len(LANGUAGES)
    for text in texts:
        assert is_small_talk_reply(text)
        assert not handoff.promises_person(text)


async def ask(engine, tenant, question, history=()):
    return await engine.answer(
        org_id=tenant.org_id, mailbox_id=tenant.mailbox_id, question=question, history=history
    )


@pytest.mark.parametrize(("message", "kind", "language"), SMALL_TALK)
async def test_engine_replies_without_handoff(engine, demo_org, message, kind, language):
    answer = await ask(engine, demo_org, message)
    assert answer.content == small_talk_reply(kind, language)
    assert answer.should_handoff is False
    assert answer.handoff_reason is None
    assert answer.sources == []
    assert answer.confidence == 1.0
    assert answer.model == SMALL_TALK_MODEL


async def test_acknowledgement_follows_earlier_language(engine, demo_org):
    history = [("customer", "Wie kann ich mein Passwort zurücksetzen?"), ("ai", "...")]
    answer = await ask(engine, demo_org, "ok", history)
    assert answer.content == small_talk_reply(SmallTalk.ACKNOWLEDGEMENT, "de")


async def test_question_after_greeting_is_answered(engine, demo_org):
    question = "Which payment methods do you accept?"
    alone = await ask(engine, demo_org, question)
    greeting = "Good morning team"
    history = [
        ("customer", greeting),
        ("ai", (await ask(engine, demo_org, greeting)).content),
    ]
    after = await ask(engine, demo_org, question, history)
    assert not after.should_handoff
    assert after.sources[0].title == "Billing FAQ"
    assert after.confidence == alone.confidence
    assert [s.title for s in after.candidates] == [s.title for s in alone.candidates]


async def test_follow_up_after_thanks_keeps_topic(engine, demo_org):
    # "and can it be reissued?" names its subject only in the turn before the thanks.
    first = "How do I download an invoice?"
    history = [
        ("customer", first),
        ("ai", (await ask(engine, demo_org, first)).content),
        ("customer", "thanks!"),
        ("ai", small_talk_reply(SmallTalk.THANKS)),
    ]
    answer = await ask(engine, demo_org, "and can old ones be reissued with a VAT number?", history)
    assert answer.candidates[0].title == "Downloading invoices and receipts"


def test_small_talk_reply_is_not_a_failure():
    history = [
        ("customer", "hi"),
        ("ai", small_talk_reply(SmallTalk.GREETING)),
        ("customer", "ok"),
        ("ai", small_talk_reply(SmallTalk.ACKNOWLEDGEMENT)),
        ("customer", "thanks"),
        ("ai", small_talk_reply(SmallTalk.THANKS)),
    ]
    assert not handoff.repeated_failure(history, "How do I export my bookings?")


def test_small_talk_reply_keeps_failure_count():
    history = [
        ("customer", "How do I export?"),
        ("ai", "I don't know the answer to that."),
        ("customer", "ok"),
        ("ai", small_talk_reply(SmallTalk.ACKNOWLEDGEMENT)),
        ("customer", "How do I export bookings?"),
        ("ai", "I couldn't find anything about that."),
    ]
    assert handoff.repeated_failure(history, "export please")


async def test_api_greeting_shape(client, kb_tenant):
    conversation = await create_conversation(client, kb_tenant)
    response = await generate(client, kb_tenant, conversation["id"], "hi there")
    assert response.status_code == 200, response.text
    body = response.json()
    check_contract(body)
    assert body["content"] == small_talk_reply(SmallTalk.GREETING, "en")
    assert body["shouldHandoff"] is False
    assert body["handoffReason"] is None
    assert body["sources"] == []
    assert body["confidence"] == 1.0
    assert body["model"] == SMALL_TALK_MODEL


async def test_auto_reply_greeting_then_question(client, kb_tenant):
    await enable_auto_reply(client, kb_tenant)
    conversation = await create_conversation(client, kb_tenant)
    conversation_id = conversation["id"]

    sent = await send_message(client, kb_tenant, conversation_id, "hi")
    assert sent.status_code == 201
    messages = await wait_for_messages(client, kb_tenant, conversation_id, 2)
    assert [m["authorType"] for m in messages] == ["customer", "ai"]
    reply = messages[-1]
    assert reply["content"] == small_talk_reply(SmallTalk.GREETING, "en")
    meta = reply["metadata"]["ai"]
    assert meta["inReplyTo"] == sent.json()["id"]
    assert meta["shouldHandoff"] is False
    assert meta["handoffReason"] is None
    assert meta["sources"] == []
    assert meta["model"] == SMALL_TALK_MODEL
    handoff_record = await client.get(
        f"/conversations/{conversation_id}/handoff", headers=kb_tenant.headers
    )
    assert handoff_record.status_code == 404

    await send_message(client, kb_tenant, conversation_id, "How do I reset my password?")
    messages = await wait_for_messages(client, kb_tenant, conversation_id, 4)
    answer = messages[-1]
    assert answer["authorType"] == "ai"
    assert answer["metadata"]["ai"]["shouldHandoff"] is False
    assert answer["metadata"]["ai"]["sources"][0]["title"] == "Resetting your password"

    await send_message(client, kb_tenant, conversation_id, "thanks!")
    messages = await wait_for_messages(client, kb_tenant, conversation_id, 6)
    assert messages[-1]["content"] == small_talk_reply(SmallTalk.THANKS, "en")
    conversation = await client.get(f"/conversations/{conversation_id}", headers=kb_tenant.headers)
    assert conversation.json()["status"] == "open"


EMPHATIC = ["thanks!!!", "ok!!!", "great!!!", "perfect!!!", "hello!!!", "danke!!!", "merci!!!"]


@pytest.mark.parametrize("message", EMPHATIC)
def test_emphatic_small_talk_is_not_frustration(message):
    assert match_small_talk(message) is not None
    assert not handoff.negative_sentiment(message)
    assert not handoff.before_answer([], message).should_handoff


def test_emphatic_small_talk_before_question():
    assert not handoff.negative_sentiment("great!!! now how do I export bookings?")


@pytest.mark.parametrize(
    "message",
    ["this is useless!!!", "why doesn't it work!!!", "no!!!", "thanks. why is it broken???!"],
)
def test_emphatic_question_is_frustration(message):
    decision = handoff.before_answer([], message)
    assert decision.reason == handoff.HandoffReason.NEGATIVE_SENTIMENT


CLOSINGS = [
    ("no thanks", "en"),
    ("nope", None),
    ("no, that is all", "en"),
    ("that's all, thanks", "en"),
    ("nope, I'm good", "en"),
    ("nein danke", "de"),
    ("non merci", "fr"),
    ("no gracias", "es"),
    ("no grazie", "it"),
    ("nee, dank je", "nl"),
    ("não, obrigado", "pt"),
]


@pytest.mark.parametrize(("message", "language"), CLOSINGS)
def test_closing_answer_is_farewell(message, language):
    match = match_small_talk(message)
    if language is None:
        # A bare decline may answer an offer to pass the request on.
        assert match is None
        return
    assert match is not None
    assert match.kind == SmallTalk.FAREWELL
    assert language in match.languages


@pytest.mark.parametrize("message", ["no", "yes", "no ok", "nein", "no, my invoice is wrong"])
def test_bare_decline_is_not_small_talk(message):
    assert match_small_talk(message) is None


FAMILIES = [
    ("👍", SmallTalk.ACKNOWLEDGEMENT),
    ("👍🏽 👌", SmallTalk.ACKNOWLEDGEMENT),
    ("🙏", SmallTalk.THANKS),
    ("❤️", SmallTalk.THANKS),
    ("👋", SmallTalk.GREETING),
    ("good night", SmallTalk.FAREWELL),
    ("buonanotte", SmallTalk.FAREWELL),
    ("Gute Nacht!", SmallTalk.FAREWELL),
    ("good afternoon", SmallTalk.GREETING),
    ("buon pomeriggio", SmallTalk.GREETING),
    ("thank u", SmallTalk.THANKS),
    ("tks", SmallTalk.THANKS),
    ("thanx a lot", SmallTalk.THANKS),
    ("dankjewel", SmallTalk.THANKS),
    ("merci infiniment", SmallTalk.THANKS),
    ("you too", SmallTalk.FAREWELL),
    ("thanks, you too", SmallTalk.FAREWELL),
    ("have a great day", SmallTalk.FAREWELL),
    ("igualmente", SmallTalk.FAREWELL),
    ("Ihnen auch, schönes Wochenende", SmallTalk.FAREWELL),
    ("thanks, bye", SmallTalk.FAREWELL),
    ("hello? anyone there?", SmallTalk.GREETING),
    ("¿Hay alguien ahí?", SmallTalk.GREETING),
]


@pytest.mark.parametrize(("message", "kind"), FAMILIES)
def test_small_talk_families(message, kind):
    match = match_small_talk(message)
    assert match is not None
    assert match.kind == kind


@pytest.mark.parametrize("message", ["👎", "😡", "👍 but it crashed", "?", "??"])
def test_other_symbols_are_not_small_talk(message):
    assert match_small_talk(message) is None


@pytest.mark.parametrize(
    "message", ["thanks for nothing", "Thanks a lot for nothing!", "danke für nichts"]
)
def test_sarcastic_thanks_hands_off(message):
    assert match_small_talk(message) is None
    decision = handoff.before_answer([], message)
    assert decision.reason == handoff.HandoffReason.NEGATIVE_SENTIMENT


async def test_engine_answers_closing_after_thanks(engine, demo_org):
    question = "Wie kann ich mein Passwort zurücksetzen?"
    history = [
        ("customer", question),
        ("ai", (await ask(engine, demo_org, question)).content),
        ("customer", "danke!!!"),
        ("ai", small_talk_reply(SmallTalk.THANKS, "de")),
    ]
    answer = await ask(engine, demo_org, "nein danke", history)
    assert answer.should_handoff is False
    assert answer.content == small_talk_reply(SmallTalk.FAREWELL, "de")
    assert answer.model == SMALL_TALK_MODEL
    assert not handoff.repeated_failure(history, "nein danke")


async def test_engine_emphatic_thanks_gets_reply(engine, demo_org):
    answer = await ask(engine, demo_org, "thanks!!!")
    assert answer.should_handoff is False
    assert answer.content == small_talk_reply(SmallTalk.THANKS, "en")


async def test_bare_question_mark_invites_question(engine, demo_org):
    answer = await ask(engine, demo_org, "?")
    assert answer.should_handoff is False
    assert answer.content == small_talk_reply(SmallTalk.GREETING, "en")
    assert answer.model == SMALL_TALK_MODEL


async def test_question_mark_after_question_is_nudge(engine, demo_org):
    question = "How do I reset my password?"
    first = await ask(engine, demo_org, question)
    history = [("customer", question), ("ai", first.content)]
    answer = await ask(engine, demo_org, "?", history)
    assert answer.model != SMALL_TALK_MODEL
    assert answer.content != small_talk_reply(SmallTalk.GREETING, "en")


def test_portuguese_ta_is_not_english_thanks():
    assert match_small_talk("tá") is None
    assert match_small_talk("tá bom") == match_small_talk("tá certo")
    assert match_small_talk("tá bom").kind is SmallTalk.ACKNOWLEDGEMENT
    assert match_small_talk("tá bom").languages == frozenset({"pt"})


NEGATIVE_EMOJI_MESSAGES = [
    "👎",
    "😡",
    "👎🏽",
    "😠😠",
    "🤬!",
    "🙄",
    "🙁",
    "☹️",
    "😢",
    "😭",
    "thanks 😡",
    "ok 👎",
    "great 🙄",
    "🤬 hello",
]


@pytest.mark.parametrize("message", NEGATIVE_EMOJI_MESSAGES)
async def test_negative_emoji_hands_off_as_sentiment(engine, demo_org, message):
    decision = handoff.before_answer([], message)
    assert decision.reason == handoff.HandoffReason.NEGATIVE_SENTIMENT
    answer = await ask(engine, demo_org, message)
    assert answer.should_handoff is True
    assert answer.handoff_reason == "negative_sentiment"


@pytest.mark.parametrize("message", ["👍😡", "😡 how do I export bookings?"])
def test_mixed_emoji_is_not_negative_alone(message):
    assert not handoff.negative_sentiment(message)


@pytest.mark.parametrize("message", ["🤔", "😂", "👍👎", "👍😡"])
async def test_neutral_emoji_invites_question(engine, demo_org, message):
    assert not handoff.before_answer([], message).should_handoff
    answer = await ask(engine, demo_org, message)
    assert answer.should_handoff is False
    assert answer.handoff_reason is None
    assert answer.content == small_talk_reply(SmallTalk.GREETING, "en")


@pytest.mark.parametrize("message", ["!!!", "!!!!", " ! ! ! ", "?!?!", "¡¡¡"])
async def test_bare_exclamation_is_not_frustration(engine, demo_org, message):
    assert not handoff.negative_sentiment(message)
    assert not handoff.before_answer([], message).should_handoff
    answer = await ask(engine, demo_org, message)
    assert answer.should_handoff is False
    assert answer.content == small_talk_reply(SmallTalk.GREETING, "en")


async def test_bare_exclamation_after_question_is_nudge(engine, demo_org):
    question = "How do I reset my password?"
    first = await ask(engine, demo_org, question)
    history = [("customer", question), ("ai", first.content)]
    answer = await ask(engine, demo_org, "!!!", history)
    assert answer.handoff_reason != "negative_sentiment"
    assert answer.model != SMALL_TALK_MODEL


PASSWORD_QUESTION = "How do I reset my password?"


NUDGES = [
    "hello?",
    "Hello??",
    "hi? anyone there?",
    "are you still there?",
    "?",
    "!!!",
    "pronto?",
    "c'è nessuno?",
    "allô ?",
    "alô?",
    "¿sigues ahí?",
    "noch da?",
    "iemand daar?",
    "hellooo?",
    "u there?",
    "Hello? Anyone?",
    "any update?",
]


@pytest.mark.parametrize("nudge", NUDGES)
async def test_nudge_after_unanswered_question(engine, demo_org, nudge):
    # The reply to the question was never posted, as when it went stale.
    alone = await ask(engine, demo_org, PASSWORD_QUESTION)
    history = [("customer", PASSWORD_QUESTION)]
    assert handoff.nudged_question(history, nudge) == 0
    answer = await ask(engine, demo_org, nudge, history)
    assert answer.model != SMALL_TALK_MODEL
    assert answer.should_handoff is False
    assert answer.content == alone.content
    assert answer.sources[0].title == "Resetting your password"


async def test_nudge_after_small_talk_reply(engine, demo_org):
    history = [
        ("customer", PASSWORD_QUESTION),
        ("customer", "hi"),
        ("ai", small_talk_reply(SmallTalk.GREETING)),
    ]
    answer = await ask(engine, demo_org, "hello?", history)
    assert answer.model != SMALL_TALK_MODEL
    assert answer.sources[0].title == "Resetting your password"


async def test_greeting_after_answered_question(engine, demo_org):
    answered = await ask(engine, demo_org, PASSWORD_QUESTION)
    assert answered.should_handoff is False
    history = [("customer", PASSWORD_QUESTION), ("ai", answered.content)]
    assert handoff.nudged_question(history, "hello?") is None
    answer = await ask(engine, demo_org, "hello?", history)
    assert answer.content == small_talk_reply(SmallTalk.GREETING, "en")


@pytest.mark.parametrize("nudge", ["hello?", "anyone there?", "?"])
def test_nudge_after_failed_reply_hands_off(nudge):
    history = [
        ("customer", "How do I export bookings to SAP?"),
        ("ai", "I couldn't find anything about that in our help articles."),
    ]
    decision = handoff.before_answer(history, nudge)
    assert decision.reason == handoff.HandoffReason.REPEATED_FAILURE


def test_nudge_after_agent_reply_is_greeting():
    history = [("customer", PASSWORD_QUESTION), ("agent", "Let me check that for you.")]
    assert handoff.pending_question(history) is None
    assert handoff.nudged_question(history, "hello?") is None


async def test_auto_reply_answers_nudged_question(app, client, kb_tenant):
    conversation = await create_conversation(client, kb_tenant)
    conversation_id = conversation["id"]
    # Sent while automatic replies were off, so the question has no reply.
    sent = await send_message(client, kb_tenant, conversation_id, PASSWORD_QUESTION)
    assert sent.status_code == 201
    await wait_for_reply_skipped(app, kb_tenant)
    await enable_auto_reply(client, kb_tenant)

    nudge = await send_message(client, kb_tenant, conversation_id, "hello?")
    assert nudge.status_code == 201
    messages = await wait_for_messages(client, kb_tenant, conversation_id, 3)

    assert [m["authorType"] for m in messages] == ["customer", "customer", "ai"]
    reply = messages[-1]
    assert reply["content"] != small_talk_reply(SmallTalk.GREETING, "en")
    meta = reply["metadata"]["ai"]
    assert meta["inReplyTo"] == nudge.json()["id"]
    assert meta["shouldHandoff"] is False
    assert meta["sources"][0]["title"] == "Resetting your password"


async def greet_in_turn(engine, tenant, messages):
    """Send ``messages`` one by one and return the history and the answer to the last."""
    history = []
    answer = None
    for message in messages:
        answer = await ask(engine, tenant, message, history)
        history += [("customer", message), ("ai", answer.content)]
    return history, answer


@pytest.mark.parametrize(
    "messages",
    [
        ["hi", "hello?", "hello??"],
        ["hello", "hello", "hello"],
        ["?", "anyone there?", "hi"],
        ["Hallo", "ist da jemand?", "hallo?"],
    ],
)
async def test_repeated_greetings_offer_person(engine, demo_org, messages):
    history, first = await greet_in_turn(engine, demo_org, messages[:2])
    assert first.should_handoff is False
    assert first.model == SMALL_TALK_MODEL

    answer = await ask(engine, demo_org, messages[2], history)

    assert answer.should_handoff is True
    assert answer.handoff_reason == "repeated_failure"


@pytest.mark.parametrize(
    "messages",
    [
        ["hi", "thanks", "ok", "hello"],
        ["hi", "hello?", PASSWORD_QUESTION, "hi"],
        ["thanks", "ok", "thanks", "bye"],
    ],
)
async def test_other_small_talk_never_escalates(engine, demo_org, messages):
    _, answer = await greet_in_turn(engine, demo_org, messages)
    assert answer.should_handoff is False


async def test_auto_reply_repeated_greetings_hand_off(client, kb_tenant):
    await enable_auto_reply(client, kb_tenant)
    conversation = await create_conversation(client, kb_tenant)
    conversation_id = conversation["id"]

    for count, message in enumerate(["hi", "hello?", "hello??"], start=1):
        sent = await send_message(client, kb_tenant, conversation_id, message)
        assert sent.status_code == 201
        messages = await wait_for_messages(client, kb_tenant, conversation_id, 2 * count)

    public = [m for m in messages if not m.get("private")]
    assert [m["authorType"] for m in public] == ["customer", "ai"] * 3
    assert public[1]["content"] == small_talk_reply(SmallTalk.GREETING, "en")
    assert public[3]["content"] == small_talk_reply(SmallTalk.GREETING, "en")
    assert public[5]["metadata"]["ai"]["shouldHandoff"] is True
    assert public[5]["metadata"]["ai"]["handoffReason"] == "repeated_failure"
    record = await client.get(
        f"/conversations/{conversation_id}/handoff", headers=kb_tenant.headers
    )
    assert record.status_code == 200
    assert record.json()["reason"] == "repeated_failure"


def test_shared_phrase_reply_follows_locale():
    match = match_small_talk("了解")
    assert match is not None
    assert reply_language(match, locale="ja") == "ja"
    assert reply_language(match, locale="zh-TW") == "zh-Hant"
    assert reply_language(match, locale="zh-CN") == "zh"
    assert reply_language(match, ["パスワードをリセットするには？"], locale="zh-CN") == "ja"
