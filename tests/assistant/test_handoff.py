import pytest

from campfire_server.assistant import handoff
from campfire_server.assistant.acknowledgements import LANGUAGES, acknowledgement
from campfire_server.assistant.handoff import HandoffReason

HUMAN_REQUESTS = [
    "please get me a human",
    "can I talk to a real person",
    "agent please",
    "this bot isn't helping, escalate",
    "I want to speak with someone from your support team",
    "Connect me to a live agent now",
    "Can you transfer me to customer service?",
    "Quiero hablar con una persona, por favor",
    "¿Puedo hablar con un agente humano?",
    "I'd like a representative",
    "human!",
    "Je voudrais parler à un conseiller",
    "Ich möchte mit einem Mitarbeiter sprechen",
    "Can I speak with a human?",
    "talk to a person",
    "I need to talk to a real person about my invoice.",
    "Is there a real person I can talk to?",
    "Thanks. Agent please",
    "Kann ich bitte mit einem Menschen sprechen?",
    "Verbinden Sie mich mit einem Mitarbeiter",
    "Je veux parler à un humain",
    "Puis-je parler avec une personne ?",
    "Necesito hablar con un agente",
    "Quero falar com um atendente",
    "Posso falar com uma pessoa, por favor?",
    "Vorrei parlare con un operatore",
    "Posso parlare con una persona?",
    "Ik wil met een medewerker spreken",
    "Kan ik een mens spreken?",
    "ok, agente!",
    "Mitarbeiter, bitte",
    "get me a manager now",
    "I want to speak to your supervisor",
    "I demand a manager",
    "speak with the supervisor right now",
    "talk to the manager",
    "I wanna talk to ur manager",
    "can you transfer me",
    "Can you put me through?",
    "transfer me to billing please",
    "connect me please",
    "no bot please",
    "I don't want a bot",
    "I don’t want to talk to a bot",
    "no more bots",
    "stop the bot",
    "enough with the bot, I want a person",
    "not a robot",
    "no AI please",
    "real person",
    "representative",
    "operator",
    "sin bots, por favor",
    "pásame con alguien",
    "pas de robot",
    "transférez-moi",
    "kein Bot bitte",
    "verbinden Sie mich bitte weiter",
    "sem robô, por favor",
    "me transfere",
    "niente bot",
    "trasferiscimi",
    "geen bot",
    "verbind me door",
    "put me through to billing",
    "Me passa por favor",
    "Passez-moi quelqu'un, s'il vous plaît",
    "Kunt u mij doorverbinden?",
    "Thanks, no bot please",
    "I really don't want a bot",
    "Ich will keinen Bot",
]

NOT_REQUESTS = [
    "How do I add an agent to my team?",
    "How do I invite a team member?",
    "Where can I get the Tivoli Monitoring Agent for Sybase?",
    "The queue manager is connecting to the wrong host",
    "I need a manager account for my shop",
    "How do I get a manager role for my assistant?",
    "How do I reset my password?",
    "Can customers book a person for a consultation?",
    "Is there a person limit on the team plan?",
    "How many people can I add to the Team plan?",
    "Is there a limit on persons per booking?",
    "Do staff members get their own booking page?",
    "How much does an extra seat for staff cost?",
    "Can humans and bots share a calendar?",
    "What does the agent status field mean?",
    "Can my customers talk to staff through the widget?",
    "Can clients chat with an agent in the booking page?",
    "Is there a human resources integration?",
    "Gibt es eine Begrenzung der Personen pro Termin?",
    "Wie viele Mitarbeiter kann ich hinzufügen?",
    "Ich möchte weitere Mitarbeiter hinzufügen",
    "¿Cuántas personas puedo añadir a mi plan?",
    "Necesito agregar una persona a mi equipo",
    "Combien de personnes peuvent réserver en même temps ?",
    "Je veux ajouter une personne à mon équipe",
    "Quantas pessoas posso convidar?",
    "Quante persone possono usare il piano Team?",
    "Hoeveel medewerkers kan ik toevoegen?",
    "Agente de viajes",
    "java.lang.Exception at com.ibm.ws.xd.agent.hypervisor.SolarisHypervisor.run",
    "how do I transfer ownership of my workspace",
    "How do I add an agent",
    "How do I stop the bot from replying at night?",
    "I don't want the bot to reply to my customers on weekends",
    "The I'm not a robot checkbox is missing on my form",
    "transfer me the money from my old account",
    "connect me to Slack",
    "Two listeners connect using separate connection factories",
    "Comment changer mon mot de passe ?",
    "J'ai oublié mon mot de passe",
    "O que se passa?",
    "Isso passa?",
    "¿Se puede transferir el saldo?",
    "Passez-moi le lien de la facture",
    "Mi passi il link?",
    "Hoe kan ik gesprekken doorverbinden?",
    "Can you put me through the steps to set up Zoom?",
    "Put me on the waiting list for the new feature",
    "Please put me back on the old plan",
    "Is the license per user, not the machine?",
    "Geht das auch ohne KI?",
    "¿Funciona sin IA?",
    "Funziona senza AI?",
    "Ça marche sans IA ?",
    "Dá para usar sem IA?",
    "Werkt het zonder AI?",
    "The reply came from the agent, not the bot.",
    "I need to stop the bot.",
    "Deleted the test, no more bots.",
]


@pytest.mark.parametrize("message", HUMAN_REQUESTS)
def test_requests_for_a_person_are_detected(message):
    assert handoff.requested_human(message)
    decision = handoff.before_answer([], message)
    assert decision.should_handoff
    assert decision.reason is HandoffReason.REQUESTED_HUMAN


@pytest.mark.parametrize("message", NOT_REQUESTS)
def test_questions_about_people_are_not_requests(message):
    assert not handoff.requested_human(message)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("reason", list(HandoffReason))
def test_every_acknowledgement_promises_a_person(reason, language):
    text = acknowledgement(reason, language)
    assert text.strip()
    assert handoff.promises_person(text)


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_acknowledgements_are_translated(language):
    for reason in HandoffReason:
        assert acknowledgement(reason, language) != acknowledgement(reason, "en")


def test_unknown_language_gets_english():
    english = acknowledgement(HandoffReason.LOW_CONFIDENCE, "en")
    assert acknowledgement(HandoffReason.LOW_CONFIDENCE, "sw") == english
    assert english.startswith("I don't know")


def test_negative_sentiment_detected():
    assert handoff.negative_sentiment("This is ridiculous, I am so frustrated with you")
    assert handoff.negative_sentiment("I want to file a formal complaint")
    assert not handoff.negative_sentiment("Where can people report a scam?")
    assert not handoff.negative_sentiment("Do I need a lawyer for civil cases?")


def test_repeated_failure_needs_consecutive_misses():
    history = [
        ("customer", "How do I export?"),
        ("ai", "I don't know the answer to that."),
        ("customer", "How do I export bookings?"),
        ("ai", "I couldn't find anything about that."),
    ]
    assert handoff.repeated_failure(history, "export please")


def test_helpful_reply_resets_failures():
    history = [
        ("customer", "a"),
        ("ai", "I don't know."),
        ("customer", "b"),
        ("ai", "Open Settings > Data > Export."),
        ("customer", "c"),
        ("ai", "I don't know."),
    ]
    assert not handoff.repeated_failure(history, "d")


def test_customer_rejections_count_as_failures():
    history = [
        ("customer", "How do I export?"),
        ("ai", "Open the Data page."),
        ("customer", "That didn't help"),
        ("ai", "Try the Export button."),
    ]
    assert handoff.repeated_failure(history, "that's not what I asked")


def test_agent_reply_starts_afresh():
    history = [
        ("ai", "I don't know."),
        ("ai", "I don't know."),
        ("agent", "Hi, Sam here. Fixed it for you."),
    ]
    assert not handoff.repeated_failure(history, "thanks, one more question")


def test_threshold_decides_low_confidence():
    assert handoff.after_scoring(0.59, 0.6, in_scope=True).reason is HandoffReason.LOW_CONFIDENCE
    assert not handoff.after_scoring(0.6, 0.6, in_scope=True).should_handoff
    assert handoff.after_scoring(0.9, 0.6, in_scope=False).reason is HandoffReason.OUT_OF_SCOPE


def test_promises_person_ignores_product_text():
    assert not handoff.promises_person("Connect your domain in Settings > Domains.")
    assert handoff.promises_person("I'm connecting you with an agent.")


COMPLAINTS = [
    "you are not helping",
    "You're not helping",
    "this isn't helping",
    "useless",
    "this bot is useless",
    "not what I asked",
    "that is not what I asked for",
    "that didn't work",
    "none of that worked",
    "I already tried that",
    "I already tried that and it still doesn't work",
    "still not working",
    "not helpful",
    "you don't understand",
    "your answer is wrong",
    "no, that's not it",
    "no me estás ayudando",
    "eso no funcionó",
    "ça ne m'aide pas",
    "das hilft nicht",
    "das habe ich schon versucht",
    "você não está ajudando",
    "non mi stai aiutando",
    "ho già provato",
    "je helpt me niet",
]

# Problem reports about the product: "not working" with a product as its
# subject asks for help, and a feedback phrase inside a long description is
# part of the question.
PROBLEM_REPORTS = [
    "my webhook is not working",
    "it doesn't work",
    "not working since yesterday",
    "the calendar sync is not working",
    "How do I fix my webhook if it is not working?",
    "my plugin still does not load after the update, any ideas?",
    "I tried clearing the cache but that didn't work, how do I fix the 500 error on checkout?",
    "If you don't answer the survey what happens?",
    "Is the price still the same?",
    "Is the API still broken?",
    "Can I undo it if I already did it?",
    "Est-il inutile de redémarrer ?",
]


@pytest.mark.parametrize("message", COMPLAINTS)
def test_complaint_about_help_hands_off(message):
    decision = handoff.before_answer([], message)
    assert decision.should_handoff
    assert decision.reason is HandoffReason.NEGATIVE_SENTIMENT


@pytest.mark.parametrize("message", PROBLEM_REPORTS)
def test_problem_report_is_question(message):
    assert not handoff.negative_sentiment(message)
    assert not handoff.before_answer([], message).should_handoff
