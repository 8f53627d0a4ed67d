from campfire_server.assistant.providers.question_terms import (
    abbreviation_terms,
    action_terms,
    related,
)
from campfire_server.knowledge.text import tokens


def test_turn_on_reads_as_enable():
    assert action_terms("How do I turn on 2FA?") == tokens("enable 2FA")


def test_separated_turn_off_reads_as_disable():
    terms = action_terms("The support team can turn two-factor authentication off.")

    assert "disabl" in terms
    assert "turn" not in terms


def test_activate_reads_as_enable():
    assert action_terms("Activate reminders") == tokens("enable reminders")


def test_abbreviation_matches_passage_phrase():
    passage = "Choose Enable two-factor authentication in Security."

    assert abbreviation_terms("turn on 2FA", passage) == set(tokens("two-factor authentication"))


def test_capital_abbreviation_matches_passage_phrase():
    passage = "Workspaces on Business can use single sign-on with Okta."

    assert abbreviation_terms("Do you have SSO?", passage) == set(tokens("single sign-on"))


def test_ordinary_word_is_no_abbreviation():
    assert abbreviation_terms("can I pay later", "Pay after the appointment.") == set()


def test_derived_word_is_related():
    assert related("pay", "payment")
    assert not related("art", "artifact")
    assert not related("pay", "paid")
