"""Person-request detection respects negation and refusal in every supported language."""

import pytest

from campfire_server.assistant.handoff import HandoffReason, before_answer
from campfire_server.assistant.person_request import fold, requested_human

# Messages that decline a person, per language: none is a request.
DECLINED = {
    "en": [
        "I don't want to talk to a person, just tell me how to reset my password",
        "I don’t want to talk to a person, just tell me how to reset my password",
        "No human please, how do I download an invoice?",
        "I do not need to speak with a human",
        "I don't need a human agent, just the link",
        "No need to talk to a person, how do I export my data?",
        "no need for a human",
        "I'd rather not talk to a person",
        "Please don't transfer me to customer service",
        "Don't connect me to an agent, I only have a quick question",
        "don't escalate",
        "I never asked to speak with a human",
        "not interested in talking to a human",
        "Talk to a person? No thanks, just tell me the opening hours",
        "An agent? No thank you.",
    ],
    "es": [
        "No quiero hablar con una persona, solo dime cómo cambio mi contraseña",
        "No necesito un agente",
        "No me pases con un agente, por favor",
        "Sin hablar con una persona, ¿cómo descargo la factura?",
        "¿Hablar con un humano? No gracias",
    ],
    "fr": [
        "Je ne veux pas parler à un humain",
        "Je n'ai pas besoin de parler à un conseiller",
        "Pas besoin de parler à un agent, dites-moi juste comment faire",
        "Parler à un conseiller ? Non merci",
    ],
    "de": [
        "Ich möchte nicht mit einem Mitarbeiter sprechen",
        "Ich will nicht mit einem Menschen reden, nur eine Antwort",
        "Mit einem Mitarbeiter sprechen? Nein danke",
    ],
    "pt": [
        "Não quero falar com um atendente",
        "Não preciso de um atendente, só quero saber o preço",
        "Falar com uma pessoa? Não obrigado",
    ],
    "it": [
        "Non voglio parlare con un operatore",
        "Non ho bisogno di un operatore",
        "Parlare con una persona? No grazie",
    ],
    "nl": [
        "Ik wil niet met een medewerker spreken",
        "Ik hoef niet met een mens te spreken, alleen het antwoord",
        "Spreken met een medewerker? Nee dank je",
    ],
}

# Requests that carry a negation the request does not depend on: all stay requests.
STILL_REQUESTED = {
    "en": [
        "I want to talk to a person",
        "not happy, get me a human",
        "I don't want to wait, get me a human",
        "I don't want a bot, I want a real agent",
        "Why can't I talk to a person?",
        "I'm not getting anywhere, can I speak with someone from your support team?",
        "This isn't working. Connect me to a live agent",
        "No, I want to talk to a person",
        "I can't find it, so please get me a human",
        "I wouldn't mind talking to a person",
    ],
    "es": [
        "Quiero hablar con una persona, por favor",
        "¿No puedo hablar con una persona?",
        "No funciona, quiero hablar con un agente",
    ],
    "fr": [
        "Je veux parler à un humain",
        "Ça ne marche pas, je voudrais parler à un conseiller",
    ],
    "de": [
        "Ich möchte mit einem Mitarbeiter sprechen",
        "Kann ich nicht mit einem Menschen sprechen?",
        "Das funktioniert nicht, verbinden Sie mich mit einem Mitarbeiter",
    ],
    "pt": [
        "Quero falar com um atendente",
        "Não funciona, quero falar com uma pessoa",
    ],
    "it": [
        "Vorrei parlare con un operatore",
        "Non funziona, voglio parlare con una persona",
    ],
    "nl": [
        "Ik wil met een medewerker spreken",
        "Kan ik niet met een mens spreken?",
        "Het werkt niet, verbind me met een medewerker",
    ],
}


def cases(table: dict[str, list[str]]) -> list:
    return [
        pytest.param(message, id=f"{language}-{number}")
        for language, messages in table.items()
        for number, message in enumerate(messages)
    ]


def test_tables_cover_every_language() -> None:
    languages = {"en", "es", "fr", "de", "pt", "it", "nl"}
    assert set(DECLINED) == languages
    assert set(STILL_REQUESTED) == languages


@pytest.mark.parametrize("message", cases(DECLINED))
def test_declined_person_is_not_request(message: str) -> None:
    assert not requested_human(message)
    assert before_answer([], message).reason is not HandoffReason.REQUESTED_HUMAN


@pytest.mark.parametrize("message", cases(STILL_REQUESTED))
def test_negation_elsewhere_keeps_request(message: str) -> None:
    assert requested_human(message)
    assert before_answer([], message).reason is HandoffReason.REQUESTED_HUMAN


def test_fold_straightens_apostrophes() -> None:
    assert fold("Don’t") == "don't"
    assert fold("Ça") == "ca"
