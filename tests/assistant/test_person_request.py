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


# Requests the customer denies making, or questions about who made one: none is a request.
DENIED = {
    "en": [
        "I never said I want a human",
        "I never asked for an agent",
        "I didn't say I wanted a person",
        "who said anything about a human?",
        "I didn't ask for a manager",
        "Who asked for a supervisor?",
        "I never said I wanted to talk to a person, I just asked about refunds",
        "I never said I want to speak to your supervisor",
        "Nobody asked for a human",
        "I did not say I need an agent",
        "Who mentioned a real person?",
    ],
    "es": [
        "Nunca dije que quería hablar con una persona",
        "No pedí un agente",
        "Yo no dije que quisiera un humano",
        "¿Quién habló de un humano?",
        "¿Quién dijo algo de un agente?",
        "Nunca pedí hablar con un supervisor",
        "No dije que quiero hablar con el gerente",
        "Nadie pidió una persona",
    ],
    "fr": [
        "Je n'ai jamais dit que je voulais parler à un humain",
        "Je n'ai pas demandé un conseiller",
        "Qui a parlé d'un humain ?",
        "Je n'ai jamais demandé à parler à un responsable",
        "Je n'ai pas dit que je veux un humain",
        "Personne n'a demandé un conseiller",
    ],
    "de": [
        "Ich habe nie gesagt, dass ich mit einem Menschen sprechen will",
        "Ich habe nicht nach einem Mitarbeiter gefragt",
        "Wer hat was von einem Menschen gesagt?",
        "Ich wollte nie mit einem Vorgesetzten sprechen",
        "Ich habe nicht gesagt, dass ich einen Mitarbeiter brauche",
        "Niemand hat nach einem Menschen gefragt",
        "Ich sagte nicht, dass ich mit dem Chef sprechen will",
    ],
    "pt": [
        "Eu nunca disse que queria falar com um atendente",
        "Não pedi um atendente",
        "Quem falou em humano?",
        "Nunca pedi para falar com um gerente",
        "Eu não disse que quero falar com uma pessoa",
        "Ninguém pediu um atendente",
    ],
    "it": [
        "Non ho mai detto che voglio parlare con un operatore",
        "Non ho chiesto un operatore",
        "Chi ha parlato di un umano?",
        "Non ho mai chiesto di parlare con un responsabile",
        "Non ho detto che voglio una persona",
        "Nessuno ha chiesto un operatore",
    ],
    "nl": [
        "Ik heb nooit gezegd dat ik een medewerker wil spreken",
        "Ik heb niet om een medewerker gevraagd",
        "Wie had het over een mens?",
        "Ik heb nooit gevraagd om een manager te spreken",
        "Ik zei niet dat ik met een mens wil praten",
        "Niemand vroeg om een medewerker",
    ],
}

# Requests that report or repeat themselves, or ask for a manager: all are requests.
AFFIRMED = {
    "en": [
        "I said I want a human",
        "get me a manager",
        "talk to the supervisor",
        "I want to talk to a person",
        "I never get answers here, I want a human",
        "Who can I talk to? I want a person",
        "I didn't ask for much. I want a human",
    ],
    "es": [
        "Quiero hablar con el gerente",
        "Pásame con un supervisor",
        "Quiero hablar con un encargado",
        "Necesito un supervisor",
        "Dije que quiero hablar con una persona",
        "Nunca funciona, quiero hablar con una persona",
    ],
    "fr": [
        "Je veux parler au responsable",
        "Passez-moi un superviseur",
        "Je voudrais parler à un manager",
        "Je veux parler à votre supérieur",
        "J'ai dit que je veux parler à un humain",
        "Ça ne marche jamais, je veux parler à un humain",
    ],
    "de": [
        "Ich möchte mit dem Vorgesetzten sprechen",
        "Verbinden Sie mich mit einem Manager",
        "Ich will den Chef sprechen",
        "Ich möchte mit Ihrem Vorgesetzten sprechen",
        "Ich habe gesagt, ich will mit einem Menschen sprechen",
        "Das klappt nie, ich möchte mit einem Mitarbeiter sprechen",
    ],
    "pt": [
        "Quero falar com o gerente",
        "Quero falar com um supervisor",
        "Me passa para o supervisor",
        "Eu disse que quero falar com um atendente",
        "Nunca funciona, quero falar com um atendente",
    ],
    "it": [
        "Voglio parlare con il responsabile",
        "Vorrei parlare con un supervisore",
        "Passatemi il direttore",
        "Ho detto che voglio parlare con un operatore",
        "Non funziona mai, voglio parlare con una persona",
    ],
    "nl": [
        "Ik wil de manager spreken",
        "Ik wil met een leidinggevende spreken",
        "Verbind me met de supervisor",
        "Ik zei dat ik een medewerker wil spreken",
        "Het werkt nooit, ik wil met een medewerker spreken",
    ],
}

# A manager turned down, or named as a topic: none is a request.
MANAGER_NOT_REQUESTED = {
    "en": ["I don't want to talk to a manager", "How do I add a manager to my account?"],
    "es": ["No quiero hablar con el gerente", "¿Cómo creo una cuenta de gerente?"],
    "fr": ["Je ne veux pas parler au responsable", "Le responsable du projet a changé"],
    "de": ["Ich möchte nicht mit dem Vorgesetzten sprechen", "Wie lege ich einen Manager an?"],
    "pt": ["Não quero falar com o gerente", "Como crio uma conta de gerente?"],
    "it": ["Non voglio parlare con il responsabile", "Come aggiungo un responsabile al team?"],
    "nl": ["Ik wil niet met de manager spreken", "Hoe voeg ik een manager toe?"],
}

# Requests that name the person by role or team (representative, operator,
# staff, support team, customer service) or ask a real person to help.
ROLE_REQUESTED = {
    "en": [
        "let me talk to customer service representative",
        "can a real human help me with billing",
        "could someone from your support team call me",
        "I need a representative to look at this",
        "is there a live person who can help me",
        "get me a customer service rep",
        "I'd like to speak with a support agent",
        "can a staff member help me",
        "can I talk to someone from your team",
        "can an operator help me",
        "support team please",
        "a real person please",
        "customer service please",
        "The automatic reply is useless, get me a human",
        "I need a human, I lost my admin rights",
    ],
    "es": [
        "¿Puede ayudarme una persona real?",
        "Quiero hablar con servicio al cliente",
        "¿Un humano me puede ayudar?",
    ],
    "fr": ["Je voudrais parler au service client", "Un vrai conseiller peut m'aider ?"],
    "de": ["Kann mir ein Mitarbeiter helfen?", "Ich möchte mit dem Kundenservice sprechen"],
    "pt": ["Quero falar com o atendimento", "Um atendente pode me ajudar?"],
    "it": ["Vorrei parlare con il servizio clienti", "Un operatore può aiutarmi?"],
    "nl": ["Ik wil met de klantenservice spreken", "Kan een medewerker mij helpen?"],
}

# Questions about the product's agents, staff or support team, and a
# declined role: none is a request.
ROLE_NOT_REQUESTED = [
    "how do I add an agent to my team?",
    "can an agent help a customer in two mailboxes?",
    "How do agents see customer notes?",
    "can agents help me triage faster?",
    "Can the agent help me by suggesting replies?",
    "How does the support team plan work?",
    "how many support agents can I add?",
    "what does a customer service representative see in the inbox?",
    "can my customers talk to a real person in the widget?",
    "I don't want to talk to customer service representative",
    "How to use the LIKE operator, wildcard and special characters in a filter expression?",
    "We need a team member who can only read",
    "Can human agents answer me in the widget while the AI is on?",
    "Can staff members help us tag conversations?",
    "Will a representative check this automatically?",
    "Can a staff member help me set up webhooks, or do I need admin rights?",
    "Can the operator help me export?",
]

# One person asked, as a polite question, to help the customer with anything:
# all are requests, because a customer who asks whether an agent or someone
# could help them wants a person, whatever the task.
HELP_REQUESTED = {
    "en": [
        "could an agent help me understand my bill?",
        "Can an agent help me with my bill?",
        "could someone help me understand my bill?",
        "Would a human help me understand this charge?",
        "could somebody please help me sort out my account?",
        "can someone help me?",
        "Could an agent help me set up reminders?",
        "Could an agent help me with my invoice?",
        "Can an agent help me export my data?",
        "can someone help me reset my password?",
    ],
    "es": [
        "¿Podría un agente ayudarme a entender mi factura?",
        "¿Alguien puede ayudarme a entender mi factura?",
        "¿Alguien me puede ayudar con mi factura?",
        "¿Alguien puede ayudarme a exportar los datos?",
    ],
    "fr": [
        "Un agent pourrait-il m'aider à comprendre ma facture ?",
        "Quelqu'un peut m'aider à comprendre ma facture ?",
    ],
    "de": ["Könnte mir jemand helfen, meine Rechnung zu verstehen?"],
    "pt": ["Alguém pode me ajudar a entender minha fatura?", "Alguém pode me ajudar a exportar?"],
    "it": [
        "Qualcuno può aiutarmi a capire la bolletta?",
        "Qualcuno potrebbe aiutarmi a esportare?",
    ],
    "nl": [
        "Kan iemand mij helpen mijn factuur te begrijpen?",
        "Kan iemand mij helpen?",
        "Kan iemand mij helpen met exporteren?",
    ],
}

# Questions about what agents in general, the agent feature or a role can do,
# and a forum-style "can anyone help me?": none is a request.
HELP_NOT_REQUESTED = [
    "can agents see my order history?",
    "Can agents help me export my data?",
    "Can the agent help me set up reminders?",
    "Can anyone help me? I cannot find the license key.",
    "¿Pueden los agentes ver mi historial de pedidos?",
]

# Help wanted from a person, often a real, live or actual one: all are
# requests.
HELP_FROM_PERSON_REQUESTED = {
    "en": [
        "Can I get help from a real agent?",
        "is there a live person I can ask",
        "Is there an actual human I can talk to?",
        "I need a human",
        "get me a real person",
        "I'd like help from a human, please",
    ],
    "es": ["¿Puedo tener ayuda de una persona real?", "Necesito ayuda de un agente"],
    "fr": ["Je voudrais l'aide d'un vrai conseiller", "J'ai besoin de l'aide d'une personne"],
    "de": [
        "Ich brauche Hilfe von einem echten Menschen",
        "Kann ich Hilfe von einem Mitarbeiter bekommen?",
    ],
    "pt": ["Quero ajuda de um atendente", "Posso ter ajuda de uma pessoa?"],
    "it": ["Vorrei aiuto da un operatore", "Posso avere aiuto da una persona?"],
    "nl": ["Ik wil hulp van een echte medewerker", "Kan ik hulp van een mens krijgen?"],
}

# Help from a person turned down: none is a request.
HELP_FROM_PERSON_DECLINED = [
    "I don't want help from a human, just the link",
    "No quiero ayuda de un agente",
    "Ich brauche keine Hilfe von einem Mitarbeiter",
]

# Requests for a member of a team, or for the team itself, with no word for a
# person: all are requests.
TEAM_REQUESTED = {
    "en": ["talk to sales", "Get me someone from billing", "can I speak to support please"],
    "es": ["¿Me pasa con soporte?", "Quiero hablar con alguien de ventas"],
    "fr": ["Je voudrais parler à un membre de votre équipe", "Passez-moi le service client"],
    "de": [
        "Ich möchte einen Mitarbeiter sprechen",
        "Bitte verbinden Sie mich mit dem Support",
        "Kann ich mit jemandem vom Support sprechen?",
    ],
    "pt": ["Quero falar com alguém da equipe", "Posso falar com alguém do suporte?"],
    "it": ["Vorrei parlare con qualcuno dell'assistenza", "Passatemi l'assistenza clienti"],
    "nl": ["Mag ik iemand van de klantenservice spreken?", "Ik wil iemand van support spreken"],
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
    assert set(DENIED) == languages
    assert set(AFFIRMED) == languages
    assert set(MANAGER_NOT_REQUESTED) == languages
    assert set(ROLE_REQUESTED) == languages
    assert set(TEAM_REQUESTED) == languages
    assert set(HELP_REQUESTED) == languages
    assert set(HELP_FROM_PERSON_REQUESTED) == languages


@pytest.mark.parametrize("message", cases(DENIED))
def test_denied_request_is_not_request(message: str) -> None:
    assert not requested_human(message)
    assert before_answer([], message).reason is not HandoffReason.REQUESTED_HUMAN


@pytest.mark.parametrize("message", cases(AFFIRMED))
def test_affirmed_request_is_request(message: str) -> None:
    assert requested_human(message)
    assert before_answer([], message).reason is HandoffReason.REQUESTED_HUMAN


@pytest.mark.parametrize("message", cases(MANAGER_NOT_REQUESTED))
def test_manager_without_request_form(message: str) -> None:
    assert not requested_human(message)


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


def test_fold_ascii_and_mixed_text() -> None:
    assert fold("Reset My PASSWORD, don't wait") == "reset my password, don't wait"
    assert fold("Ｒéinitialiser MON mot de passe") == "reinitialiser mon mot de passe"
    assert fold("CAFÉ café") == "cafe cafe"


@pytest.mark.parametrize("message", cases(ROLE_REQUESTED))
def test_role_or_team_is_request(message: str) -> None:
    assert requested_human(message)
    assert before_answer([], message).reason is HandoffReason.REQUESTED_HUMAN


@pytest.mark.parametrize("message", ROLE_NOT_REQUESTED)
def test_question_about_roles_not_request(message: str) -> None:
    assert not requested_human(message)


@pytest.mark.parametrize("message", cases(TEAM_REQUESTED))
def test_team_member_is_request(message: str) -> None:
    assert requested_human(message)
    assert before_answer([], message).reason is HandoffReason.REQUESTED_HUMAN


@pytest.mark.parametrize("message", cases(HELP_REQUESTED))
def test_polite_help_question_is_request(message: str) -> None:
    assert requested_human(message)
    assert before_answer([], message).reason is HandoffReason.REQUESTED_HUMAN


@pytest.mark.parametrize("message", HELP_NOT_REQUESTED)
def test_task_help_question_not_request(message: str) -> None:
    assert not requested_human(message)


@pytest.mark.parametrize("message", cases(HELP_FROM_PERSON_REQUESTED))
def test_help_from_person_is_request(message: str) -> None:
    assert requested_human(message)
    assert before_answer([], message).reason is HandoffReason.REQUESTED_HUMAN


@pytest.mark.parametrize("message", HELP_FROM_PERSON_DECLINED)
def test_help_from_person_declined(message: str) -> None:
    assert not requested_human(message)
