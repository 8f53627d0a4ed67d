"""The cap on answers to short questions that name something the knowledge base never mentions."""

import pytest

from campfire_server.assistant.unmatched_terms import (
    UNMATCHED_MAX_CONFIDENCE,
    unmatched_name,
    unmatched_rare_word,
)
from campfire_server.knowledge.text import tokens

VOCABULARY = frozenset(
    tokens("pay payment method accept card Stripe Zoom connect integrate two-factor app")
)


def check(question, passage=""):
    return unmatched_name(question, tokens(question), VOCABULARY, passage)


def test_unknown_name_in_short_question():
    assert check("Can I pay with PayPal?") == "paypal"


def test_unknown_acronym_in_short_question():
    assert check("Do you integrate with SAP?") == "sap"


def check_word(question):
    return unmatched_rare_word(question, tokens(question), VOCABULARY)


def test_rare_missing_word_beside_common_match():
    assert check_word("Can I pay with bitcoin?") == "bitcoin"


def test_rare_word_check_skips_common_word():
    # "cash" (Zipf 4.9) is under half a point rarer than "pay" (5.4).
    assert check_word("Can I pay with cash?") is None


def test_rare_word_check_without_match():
    assert check_word("Is the coffee free?") is None


def test_rare_word_check_skips_known_words_and_misspellings():
    assert check_word("Can I accept payments?") is None
    assert check_word("Can I pay with a cardd?") is None


def test_rare_word_check_skips_long_questions():
    assert check_word("Can I pay the monthly invoice of my team with bitcoin?") is None


def test_rare_word_check_leaves_names_to_name_check():
    assert check_word("Can I pay with PayPal?") is None


def test_known_name_passes():
    assert check("Can I connect Stripe?") is None


def test_common_word_is_left_to_the_model():
    assert check("Can I pay with cash?") is None


def test_long_question_is_not_checked():
    question = "My card payment through the Zorblax gateway failed twice and the app froze"
    assert check(question) is None


def test_misspelled_name_passes():
    assert check("Can I connect Stripee?") is None


def test_abbreviation_spelled_out_in_passage_passes():
    passage = "Open Profile > Security and choose Enable two-factor authentication."

    assert check("How do I turn on 2FA?", passage) is None
    assert check("How do I turn on 2FA?") == "2fa"


def test_sentence_start_is_no_name():
    assert check("Refunds for card payment?") is None


ASKED_ELSEWHERE = [
    "Can I pay with PayPal?",
    "Do you integrate with Salesforce?",
    "Do you integrate with HubSpot?",
    "Can I sync contacts with Mailchimp?",
]


@pytest.mark.parametrize("question", ASKED_ELSEWHERE)
async def test_demo_question_on_missing_name_hands_off(engine, demo_org, question):
    answer = await engine.answer(
        org_id=demo_org.org_id, mailbox_id=demo_org.mailbox_id, question=question
    )

    assert answer.should_handoff
    assert answer.handoff_reason == "low_confidence"
    assert answer.confidence <= UNMATCHED_MAX_CONFIDENCE


@pytest.mark.parametrize(
    "question",
    [
        "Which payment methods do you accept?",
        "How do I connect Zoom?",
        "How do I turn on 2FA?",
    ],
)
async def test_demo_question_on_known_name_answers(engine, demo_org, question):
    answer = await engine.answer(
        org_id=demo_org.org_id, mailbox_id=demo_org.mailbox_id, question=question
    )

    assert not answer.should_handoff
    assert answer.confidence > UNMATCHED_MAX_CONFIDENCE
