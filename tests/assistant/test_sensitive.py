"""Billing disputes and account-security incidents go to a person in every mailbox."""

import re

import pytest

from campfire_server.assistant import handoff, sensitive
from campfire_server.assistant.acknowledgements import LANGUAGES, acknowledgement
from campfire_server.assistant.handoff import HandoffReason
from campfire_server.assistant.person_request import fold
from campfire_server.assistant.sensitive import SensitiveTopic, sensitive_topic

BILLING_DISPUTES = [
    "I was charged twice",
    "I got double charged",
    "you charged me two times this month",
    "there is a duplicate charge on my card",
    "there is an unauthorized charge on my card",
    "I didn't authorize this charge",
    "you charged me after I cancelled",
    "I keep getting charged",
    "I will file a chargeback",
    "I want a refund",
    "I need a refund for my order",
    "refund me now",
    "give me my money back",
    "me cobraron dos veces",
    "quiero un reembolso",
    "on m'a débité deux fois",
    "ich möchte mein Geld zurück",
    "fui cobrado duas vezes",
    "addebitato due volte",
    "twee keer afgeschreven",
]

SECURITY_INCIDENTS = [
    "someone hacked my account",
    "my account was hacked",
    "I think my account got hacked",
    "my account has been compromised",
    "my password was stolen",
    "someone logged into my account",
    "unauthorized access to my account",
    "I was hacked",
    "this is fraud",
    "I am a victim of identity theft",
    "me hackearon la cuenta",
    "mon compte a été piraté",
    "mein Konto wurde gehackt",
    "minha conta foi hackeada",
    "il mio account è stato hackerato",
    "mijn account is gehackt",
]

# Questions about refunds, billing and security features are for the knowledge base.
QUESTIONS = [
    "How long does a refund take?",
    "What is your refund policy?",
    "How do I request a refund?",
    "can I get a refund if I cancel?",
    "why was I charged this month?",
    "How do I update my billing information?",
    "I need to track the status of chargeback #1124381935-1.",
    "How do I enable two-factor authentication?",
    "could an attacker compromise the server?",
    "Security Bulletin: a vulnerability could allow a remote attacker to hijack a session",
    "Is there a fraud detection feature?",
    "can you clarify the definition of identity theft?",
    "How do I change my password?",
    "How do I refund a customer who was charged twice?",
    "I think my customer was charged twice, how do I refund them?",
    "How do I report fraud by a customer?",
    "How can I refund my client's duplicate charge?",
    "¿Cómo hago un reembolso a un cliente con un cobro duplicado?",
    "Wie kann ich einem Kunden helfen, der doppelt abgebucht wurde?",
]

# The writer's own incident hands off even next to a question about customers.
OWN_INCIDENTS_WITH_QUESTIONS = [
    ("someone hacked my account, how do I warn my customers?", SensitiveTopic.ACCOUNT_SECURITY),
    ("I was charged twice. How do I tell my clients?", SensitiveTopic.BILLING_DISPUTE),
    (
        "I'm a customer who was charged twice, how do I get a refund?",
        SensitiveTopic.BILLING_DISPUTE,
    ),
    ("My customer was charged twice by your platform", SensitiveTopic.BILLING_DISPUTE),
    (
        "My customers are fine, but I was charged twice, how do I fix it?",
        SensitiveTopic.BILLING_DISPUTE,
    ),
]


@pytest.mark.parametrize("message", BILLING_DISPUTES)
def test_billing_dispute_hands_off(message):
    assert sensitive_topic(message) is SensitiveTopic.BILLING_DISPUTE
    decision = handoff.before_answer([], message)
    assert decision.should_handoff
    assert decision.reason is HandoffReason.OUT_OF_SCOPE
    assert decision.topic is SensitiveTopic.BILLING_DISPUTE


@pytest.mark.parametrize("message", SECURITY_INCIDENTS)
def test_security_incident_hands_off(message):
    assert sensitive_topic(message) is SensitiveTopic.ACCOUNT_SECURITY
    decision = handoff.before_answer([], message)
    assert decision.should_handoff
    assert decision.reason is HandoffReason.OUT_OF_SCOPE
    assert decision.topic is SensitiveTopic.ACCOUNT_SECURITY


@pytest.mark.parametrize("message", QUESTIONS)
def test_question_about_topic_is_not_sensitive(message):
    assert sensitive_topic(message) is None
    assert not handoff.before_answer([], message).should_handoff


@pytest.mark.parametrize(("message", "topic"), OWN_INCIDENTS_WITH_QUESTIONS)
def test_own_incident_beside_question_hands_off(message, topic):
    assert sensitive_topic(message) is topic


def test_request_for_person_keeps_its_reason():
    decision = handoff.before_answer([], "I was charged twice, let me talk to a person")
    assert decision.reason is HandoffReason.REQUESTED_HUMAN


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("topic", list(SensitiveTopic))
def test_topic_acknowledgement_promises_person(topic, language):
    text = acknowledgement(HandoffReason.OUT_OF_SCOPE, language, topic)
    assert handoff.promises_person(text)
    assert text != acknowledgement(HandoffReason.OUT_OF_SCOPE, language)


def test_topic_acknowledgement_does_not_claim_ignorance():
    text = acknowledgement(HandoffReason.OUT_OF_SCOPE, "en", SensitiveTopic.BILLING_DISPUTE)
    assert text.startswith("A person on our team needs to review this charge.")
    assert "don't know" not in text


# ``_own_incident`` skips its clause loop when a topic pattern misses the
# whole message. That is exact only while the patterns have no anchors or
# lookarounds and every clause break is a non-word character.
_ANCHOR_OR_LOOKAROUND = re.compile(r"(?<!\[)\^|\$|\\[AZ]|\(\?(?:=|!|<=|<!)")


@pytest.mark.parametrize("pattern", [sensitive._ACCOUNT_SECURITY, sensitive._BILLING_DISPUTE])
def test_topic_patterns_have_no_anchors(pattern):
    assert _ANCHOR_OR_LOOKAROUND.search(pattern.pattern) is None


def test_clause_breaks_are_not_word_characters():
    breaks = [chr(code) for code in range(0x10000) if sensitive._CLAUSE_BREAK.fullmatch(chr(code))]
    assert breaks
    assert [ch for ch in breaks if re.fullmatch(r"\w", ch)] == []


@pytest.mark.parametrize(
    "message",
    [
        "someone hacked my account, how do I warn my customers?",
        "how do I refund a customer who was charged twice?",
        "wie kann ich einem Kunden helfen, der doppelt abgebucht wurde",
        "Our store. My account was hacked",
    ],
)
def test_whole_text_check_keeps_clause_result(message):
    folded = fold(message)
    for pattern in (sensitive._ACCOUNT_SECURITY, sensitive._BILLING_DISPUTE):
        by_clause = any(pattern.search(c) for c in sensitive._CLAUSE_BREAK.split(folded))
        assert by_clause == bool(pattern.search(folded))
