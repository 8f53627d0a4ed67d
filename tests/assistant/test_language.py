import pytest

from campfire_server.assistant.language import DEFAULT_LANGUAGE, detect_language

MESSAGES = [
    ("en", "How do I change the card that my subscription is billed to?"),
    ("en", "My bookings are not showing up in my calendar"),
    ("de", "Wie kann ich meine Rechnung herunterladen?"),
    ("de", "Ich möchte mein Passwort ändern, aber die E-Mail kommt nicht an."),
    ("fr", "Comment est-ce que je peux changer mon mot de passe ?"),
    ("fr", "Je ne trouve pas la facture de mon abonnement."),
    ("es", "¿Cómo puedo cambiar la tarjeta de mi suscripción?"),
    ("es", "No encuentro mis facturas, necesito ayuda por favor"),
    ("pt", "Não consigo encontrar a minha fatura, você pode ajudar?"),
    ("pt", "Como posso mudar o meu plano?"),
    ("it", "Non riesco a trovare la mia fattura, potete aiutarmi?"),
    ("it", "Vorrei cambiare il mio piano, come posso fare?"),
    ("nl", "Hoe kan ik mijn wachtwoord wijzigen?"),
    ("nl", "Ik wil mijn abonnement opzeggen, maar ik vind de knop niet."),
]


@pytest.mark.parametrize(("language", "message"), MESSAGES)
def test_language_of_message_detected(language, message):
    assert detect_language(message) == language


def test_short_message_uses_earlier_turns():
    earlier = ["Ich habe eine Frage zu meiner Rechnung, bitte."]
    assert detect_language("ok", earlier) == "de"


def test_unclear_message_falls_back_to_english():
    assert detect_language("ok") == DEFAULT_LANGUAGE
    assert detect_language("") == DEFAULT_LANGUAGE
    assert detect_language("SQL0805N 8.5.5.2") == DEFAULT_LANGUAGE


@pytest.mark.parametrize("message", ["no more bots", "no more", "nao", "no", "gracias", "merci"])
def test_one_word_of_evidence_falls_back_to_english(message):
    assert detect_language(message) == "en"


def test_one_word_of_evidence_uses_earlier_turns():
    earlier = ["Ich habe eine Frage zu meiner Rechnung, bitte."]
    assert detect_language("no more bots", earlier) == "de"
    assert detect_language("nao", earlier) == "de"


def test_two_words_of_evidence_decide():
    assert detect_language("Obrigado, não quero") == "pt"
    assert detect_language("ciao, grazie") == "it"
